//! Helpers for the unit tests beside the code.

use std::path::{Path, PathBuf};

use oddxer_shared::api::{LedgerEntryOut, UserOut};
use oddxer_shared::{Currency, Money, Role, TransactionType};

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
    }
}
