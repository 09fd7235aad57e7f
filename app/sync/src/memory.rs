//! The local copy of the streams held in memory, with exactly the SQLite store's rules: entries
//! upserted by id, purchases keeping their highest version, cursors advancing over contiguous
//! positions only, the cached balance following the ledger head unless a newer `GET /wallet`
//! answer is held. The browser core keeps its copy here and writes the whole value (it is
//! `Serialize`) to IndexedDB in one transaction, so cursors and entries are always stored
//! together.

use std::collections::BTreeMap;
use std::convert::Infallible;

use oddxer_shared::api::{LedgerEntryOut, PurchaseOut, WalletOut};
use oddxer_shared::sync::PurchaseStreamEntry;
use oddxer_shared::{Money, VoteType};
use serde::{Deserialize, Serialize};

use crate::streams::{contiguous_from, Applied, Stream, SyncStore};

/// Version given to a purchase taken from a purchase answer rather than from the stream: lower
/// than any stream row, so the stream's copy always replaces it.
pub const DIRECT_VERSION: i64 = 0;

/// Wallet, ledger, purchases and their cursors (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryStreams {
    wallet: Option<WalletOut>,
    /// Ledger entries by id.
    ledger: BTreeMap<String, LedgerEntryOut>,
    wallet_cursor: i64,
    /// Purchases by id, with the stream version they were stored at.
    purchases: BTreeMap<String, (i64, PurchaseOut)>,
    /// Which purchase row arrived at each position of the purchases stream (for contiguity).
    purchase_positions: BTreeMap<i64, (String, i64)>,
    purchases_cursor: i64,
    /// My delivered votes by code id, shown on purchases whose row does not carry one yet.
    my_votes: BTreeMap<String, VoteType>,
    /// How many times a catch-up finished in step (`mark_synced`); the caller stamps the time.
    #[serde(default)]
    pub synced_marks: u64,
}

impl MemoryStreams {
    /// The cached wallet, if any.
    pub fn wallet(&self) -> Option<&WalletOut> {
        self.wallet.as_ref()
    }

    /// Stores a `GET /wallet` answer unless the local copy already belongs to a later position.
    /// Answers whether anything changed.
    pub fn put_wallet(&mut self, w: &WalletOut) -> bool {
        match &self.wallet {
            Some(old) if old.seq > w.seq || old == w => false,
            _ => {
                self.wallet = Some(w.clone());
                true
            }
        }
    }

    /// Ledger entries, newest first, at most `limit`.
    pub fn ledger(&self, limit: usize) -> Vec<LedgerEntryOut> {
        let mut entries: Vec<&LedgerEntryOut> = self.ledger.values().collect();
        entries.sort_by(|a, b| b.seq.cmp(&a.seq).then_with(|| b.id.cmp(&a.id)));
        entries.into_iter().take(limit).cloned().collect()
    }

    /// Number of ledger entries held.
    pub fn ledger_len(&self) -> usize {
        self.ledger.len()
    }

    /// My purchases, newest first (all when `limit` is `None`), with my delivered vote filled in
    /// where the row does not carry one.
    pub fn purchases(&self, limit: Option<usize>) -> Vec<PurchaseOut> {
        let mut rows: Vec<&PurchaseOut> = self.purchases.values().map(|(_, p)| p).collect();
        rows.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        rows.into_iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(|p| self.with_vote(p.clone()))
            .collect()
    }

    /// My purchase of a code, if I bought it.
    pub fn purchase_of_code(&self, code_id: &str) -> Option<PurchaseOut> {
        self.purchases
            .values()
            .filter(|(_, p)| p.code_id == code_id)
            .max_by_key(|(version, _)| *version)
            .map(|(_, p)| self.with_vote(p.clone()))
    }

    /// Keeps a purchase from the purchase call's answer until its stream row arrives. Answers
    /// whether it was new here.
    pub fn put_purchase_if_absent(&mut self, p: &PurchaseOut) -> bool {
        self.upsert_purchase(p, DIRECT_VERSION)
    }

    /// A vote the server accepted (or already had). Answers whether it changed anything.
    pub fn record_my_vote(&mut self, code_id: &str, vote: VoteType) -> bool {
        self.my_votes.insert(code_id.to_owned(), vote) != Some(vote)
    }

    fn with_vote(&self, mut p: PurchaseOut) -> PurchaseOut {
        if p.code.my_vote.is_none() {
            p.code.my_vote = self.my_votes.get(&p.code_id).copied();
        }
        p
    }

    /// Upserts by purchase id, replacing the stored row only with a higher version.
    fn upsert_purchase(&mut self, p: &PurchaseOut, version: i64) -> bool {
        match self.purchases.get(&p.id) {
            Some((stored, _)) if *stored >= version => false,
            _ => {
                self.purchases.insert(p.id.clone(), (version, p.clone()));
                true
            }
        }
    }
}

impl SyncStore for MemoryStreams {
    type Error = Infallible;

    fn cursor(&self, stream: Stream) -> Result<i64, Infallible> {
        Ok(match stream {
            Stream::Wallet => self.wallet_cursor,
            Stream::Purchases => self.purchases_cursor,
        })
    }

    fn apply_wallet_entries(&mut self, entries: &[LedgerEntryOut]) -> Result<Applied, Infallible> {
        let before = self.wallet_cursor;
        let mut changed = false;
        for e in entries {
            if self.ledger.get(&e.id) != Some(e) {
                self.ledger.insert(e.id.clone(), e.clone());
                changed = true;
            }
        }
        let mut positions: Vec<i64> = self
            .ledger
            .values()
            .map(|e| e.seq)
            .filter(|seq| *seq > before)
            .collect();
        positions.sort_unstable();
        let (cursor, saw_gap) = contiguous_from(before, positions);

        let head = self.ledger.values().find(|e| e.seq == cursor && cursor > 0);
        let balance_at_cursor = head.map(|e| e.balance_after.amount);
        if let Some(head) = head {
            if cursor != before || changed {
                // The ledger head is the balance, unless a newer `GET /wallet` answer is held.
                let balance = head.balance_after.clone();
                let next = match &self.wallet {
                    Some(w) if w.seq > cursor => None,
                    Some(w) => Some(WalletOut {
                        balance: balance.clone(),
                        currency: balance.currency.0.clone(),
                        held: w.held.clone(),
                        seq: cursor,
                    }),
                    None => Some(WalletOut {
                        held: Money::new(0, &balance.currency),
                        currency: balance.currency.0.clone(),
                        balance,
                        seq: cursor,
                    }),
                };
                if let Some(next) = next {
                    if self.wallet.as_ref() != Some(&next) {
                        self.wallet = Some(next);
                        changed = true;
                    }
                }
            }
        }
        if cursor != before {
            self.wallet_cursor = cursor;
            changed = true;
        }
        Ok(Applied {
            changed,
            cursor,
            balance_at_cursor,
            saw_gap,
        })
    }

    fn apply_purchase_entries(
        &mut self,
        entries: &[PurchaseStreamEntry],
    ) -> Result<Applied, Infallible> {
        let before = self.purchases_cursor;
        let mut changed = false;
        for e in entries {
            self.purchase_positions
                .insert(e.seq, (e.purchase.id.clone(), e.version));
            changed |= self.upsert_purchase(&e.purchase, e.version);
        }
        let (cursor, saw_gap) = contiguous_from(
            before,
            self.purchase_positions
                .range(before.saturating_add(1)..)
                .map(|(seq, _)| *seq),
        );
        if cursor != before {
            self.purchases_cursor = cursor;
            changed = true;
        }
        Ok(Applied {
            changed,
            cursor,
            balance_at_cursor: None,
            saw_gap,
        })
    }

    fn apply_wallet_balance(&mut self, balance: &Money) -> Result<bool, Infallible> {
        Ok(match &mut self.wallet {
            Some(w) if w.balance == *balance => false,
            Some(w) => {
                w.balance = balance.clone();
                w.currency = balance.currency.0.clone();
                true
            }
            None => {
                self.wallet = Some(WalletOut {
                    balance: balance.clone(),
                    currency: balance.currency.0.clone(),
                    held: Money::new(0, &balance.currency),
                    seq: 0,
                });
                true
            }
        })
    }

    fn reset_stream(&mut self, stream: Stream) -> Result<(), Infallible> {
        match stream {
            Stream::Wallet => {
                self.ledger.clear();
                self.wallet_cursor = 0;
                // The balance stays on screen until the rebuild replaces it.
                if let Some(w) = &mut self.wallet {
                    w.seq = 0;
                }
            }
            Stream::Purchases => {
                self.purchases.clear();
                self.purchase_positions.clear();
                self.purchases_cursor = 0;
            }
        }
        Ok(())
    }

    fn mark_synced(&mut self) -> Result<(), Infallible> {
        self.synced_marks += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
