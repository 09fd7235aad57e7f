//! Stream rows for the unit tests.

use oddxer_shared::api::{CodeOut, LedgerEntryOut, PurchaseOut, PurchaseStatus, Settlement};
use oddxer_shared::sync::{Checkpoint, PurchaseStreamEntry, ServerFrame, StreamEntries, SyncBatch};
use oddxer_shared::{CodeStatus, Currency, Money, Sport, TransactionType};

pub fn ugx() -> Currency {
    Currency("UGX".into())
}

pub fn entry(seq: i64, amount: i64, balance_after: i64) -> LedgerEntryOut {
    LedgerEntryOut {
        id: format!("wallet:u1:{seq}"),
        seq,
        transfer_id: format!("t{seq}"),
        kind: TransactionType::Deposit,
        amount: Money::new(amount, &ugx()),
        balance_after: Money::new(balance_after, &ugx()),
        description: "Deposit".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        reference: None,
        payment_method: None,
    }
}

pub fn purchase(id: &str, code_id: &str, settled: bool, created_at: &str) -> PurchaseOut {
    PurchaseOut {
        id: id.into(),
        code_id: code_id.into(),
        buyer_id: "u1".into(),
        price: Money::new(1_000, &ugx()),
        status: PurchaseStatus::Completed,
        settlement: settled.then_some(Settlement::PaidOut),
        code: CodeOut {
            id: code_id.into(),
            seller_id: "s1".into(),
            seller_username: "tipster".into(),
            sport: Sport::Football,
            title: format!("Code {code_id}"),
            description: String::new(),
            odds: 2.5,
            bookmaker: "SportPesa".into(),
            price: Money::new(1_000, &ugx()),
            status: CodeStatus::Active,
            code: Some(format!("SECRET-{code_id}")),
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
            updated_at: "2026-01-01T00:00:00Z".into(),
        },
        created_at: created_at.into(),
    }
}

/// Purchase `id` (of code `c{id}`) at stream position `seq` and `version` (2+ is settled).
pub fn purchase_row(seq: i64, id: &str, version: i64) -> PurchaseStreamEntry {
    PurchaseStreamEntry {
        seq,
        version,
        purchase: purchase(id, &format!("c{id}"), version > 1, "2026-01-01T00:00:00Z"),
    }
}

pub fn wallet_batch(
    entries: Vec<LedgerEntryOut>,
    done: bool,
    head: i64,
    balance: Option<i64>,
) -> ServerFrame {
    let cursor = entries.last().map(|e| e.seq).unwrap_or(0);
    ServerFrame::SyncBatch(SyncBatch {
        entries: StreamEntries::Wallet(entries),
        cursor,
        done,
        checkpoint: Checkpoint { head, balance },
    })
}

pub fn purchases_batch(entries: Vec<PurchaseStreamEntry>, done: bool, head: i64) -> ServerFrame {
    let cursor = entries.last().map(|e| e.seq).unwrap_or(0);
    ServerFrame::SyncBatch(SyncBatch {
        entries: StreamEntries::Purchases(entries),
        cursor,
        done,
        checkpoint: Checkpoint {
            head,
            balance: None,
        },
    })
}
