//! The append-only ledger of DESIGN.md section 4: accounts, entries, transfers.

pub mod accounts;
pub mod entries;
pub mod transfer;

use crate::db::Db;
pub use entries::{Entries, Entry, Head};
pub use transfer::{derived_id, Leg, Outcome, TransferError, TransferSpec, Transfers};

#[derive(Clone)]
pub struct Ledger {
    pub db: Db,
    pub entries: Entries,
}

impl Ledger {
    pub fn new(db: Db) -> Self {
        Ledger {
            entries: Entries::new(db.clone()),
            db,
        }
    }

    pub fn transfers(&self) -> Transfers<'_> {
        Transfers {
            db: &self.db,
            entries: &self.entries,
        }
    }
}
