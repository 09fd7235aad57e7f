//! Helpers for the unit tests beside the code.

use std::path::{Path, PathBuf};

use oddxer_shared::api::{
    CodeOut, LedgerEntryOut, PerformancePointOut, PurchaseOut, PurchaseStatus, SellerProfileOut,
    SellerStatsOut, Settlement, SportRecordOut, UserOut,
};
use oddxer_shared::client::SellerProfileView;
use oddxer_shared::sync::PurchaseStreamEntry;
use oddxer_shared::{CodeStatus, Currency, Money, Outcome, Role, Sport, TransactionType};

/// A directory removed when dropped (no `tempfile` dependency for this alone).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("oddxer-client-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn user(id: &str) -> UserOut {
    UserOut {
        id: id.into(),
        phone_number: "+256700000009".into(),
        username: format!("user_{id}"),
        role: Role::Buyer,
        is_verified: true,
        is_active: true,
        created_at: "2026-01-01T00:00:00Z".into(),
    }
}

pub fn entry(seq: i64, amount: i64, balance_after: i64) -> LedgerEntryOut {
    let ugx = Currency("UGX".into());
    LedgerEntryOut {
        id: format!("wallet:u1:{seq}"),
        seq,
        transfer_id: format!("t{seq}"),
        kind: TransactionType::Deposit,
        amount: Money::new(amount, &ugx),
        balance_after: Money::new(balance_after, &ugx),
        description: "Deposit".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        reference: None,
        payment_method: None,
    }
}

/// A listing as `GET /codes` shows it (no secret), updated at `updated_at`.
pub fn code(id: &str, updated_at: &str) -> CodeOut {
    let ugx = Currency("UGX".into());
    CodeOut {
        id: id.into(),
        seller_id: "s1".into(),
        seller_username: "tipster".into(),
        sport: Sport::Football,
        title: format!("Code {id}"),
        description: String::new(),
        odds: 2.5,
        bookmaker: "SportPesa".into(),
        price: Money::new(1_000, &ugx),
        status: CodeStatus::Active,
        code: None,
        expires_at: "2030-01-01T12:00:00Z".into(),
        voting_ends_at: "2030-01-02T12:00:00Z".into(),
        max_buyers: 1,
        sales_count: 0,
        win_votes: 0,
        loss_votes: 0,
        total_votes: 0,
        outcome: None,
        needs_review: false,
        sold_at: None,
        finalized_at: None,
        my_vote: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: updated_at.into(),
    }
}

/// A purchase of `code_id` with its secret revealed; `settled` gives it a settlement.
pub fn purchase(id: &str, code_id: &str, settled: bool) -> PurchaseOut {
    let ugx = Currency("UGX".into());
    let mut c = code(code_id, "2026-01-01T00:00:00Z");
    c.code = Some(format!("SECRET-{code_id}"));
    PurchaseOut {
        id: id.into(),
        code_id: code_id.into(),
        buyer_id: "u1".into(),
        price: Money::new(1_000, &ugx),
        status: PurchaseStatus::Completed,
        settlement: settled.then_some(Settlement::PaidOut),
        code: c,
        created_at: "2026-01-01T00:00:00Z".into(),
    }
}

/// A purchases-stream row at `seq`: `purchase_id` (of code `c{purchase_id}`) at `version`
/// (1 bought, 2 settled).
pub fn purchase_row(seq: i64, purchase_id: &str, version: i64) -> PurchaseStreamEntry {
    PurchaseStreamEntry {
        seq,
        version,
        purchase: purchase(purchase_id, &format!("c{purchase_id}"), version > 1),
    }
}

/// An unsigned JWT with these `iat` and `exp` (Unix seconds): enough for the client, which reads
/// the claims only to renew in time.
pub fn fake_jwt(iat: i64, exp: i64) -> String {
    fn b64url(bytes: &[u8]) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = b64url(format!(r#"{{"sub":"u1","iat":{iat},"exp":{exp}}}"#).as_bytes());
    format!("{header}.{claims}.c2ln")
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A tipster `id` with one WON code at 12.45, one LOST and one VOID (profit +10.45 units, yield
/// 5.225) and the WON code in the record with its booking code `BW-12345`.
pub fn seller_profile_view(id: &str) -> SellerProfileView {
    let ugx = Currency("UGX".into());
    let mut won = code("c1", "2026-11-03T10:00:00Z");
    won.seller_id = id.into();
    won.odds = 12.45;
    won.status = CodeStatus::Won;
    won.outcome = Some(Outcome::Won);
    won.code = Some("BW-12345".into());
    won.finalized_at = Some("2026-11-03T10:00:00Z".into());
    SellerProfileView {
        profile: SellerProfileOut {
            id: id.into(),
            username: "tipster".into(),
            joined_at: "2026-11-01T10:00:00Z".into(),
            stats: SellerStatsOut {
                total_sales: 4,
                total_wins: 1,
                total_losses: 1,
                total_voids: 1,
                win_rate: 50.0,
                average_roi: 522.5,
                yield_ratio: 5.225,
                profit_units: 10.45,
                current_streak: 0,
                longest_streak: 1,
                total_revenue: Money::new(40_000, &ugx),
                rank: None,
            },
            by_sport: vec![SportRecordOut {
                sport: Sport::Football,
                wins: 1,
                losses: 1,
                voids: 1,
                profit_units: 10.45,
                yield_ratio: 5.225,
            }],
            record_size: 3,
            live_listings: 1,
            followers: 2,
            following: false,
        },
        record: vec![won],
        record_next_cursor: None,
        performance: vec![PerformancePointOut {
            code_id: "c1".into(),
            finalized_at: "2026-11-03T10:00:00Z".into(),
            outcome: Outcome::Won,
            odds: 12.45,
            cumulative_profit_units: 11.45,
            cumulative_yield: 11.45,
        }],
        from_cache: false,
        cached_at: None,
    }
}
