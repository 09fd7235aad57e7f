//! Appending one leg to an account: the insert of `{account}:{N+1}` is the decision (DESIGN.md
//! section 4). Commit order equals `seq` order, so `seq` is also the sync cursor.

use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, Document};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A `ledger_entries` document: one leg of a transfer on one account, `{account}:{seq}`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    #[serde(rename = "_id")]
    pub id: String,
    pub account: String,
    pub seq: i64,
    pub transfer_id: String,
    /// Signed minor units: negative for a debit.
    pub amount: i64,
    /// The account's balance after this entry, minor units.
    pub balance_after: i64,
    /// The transfer's type (`DEPOSIT`, `PURCHASE`, ...).
    #[serde(rename = "type", default = "adjustment")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "crate::db::de::earliest")]
    pub created_at: mongodb::bson::DateTime,
    /// The payment reference copied from the transfer (`reference`), so the journal names it
    /// without a lookup per row.
    pub reference: Option<String>,
    /// The payment method copied from the transfer (`paymentMethod`), for deposits and withdrawals.
    pub payment_method: Option<String>,
}

/// The type an entry written before `type` was copied onto entries reads as.
fn adjustment() -> String {
    "ADJUSTMENT".to_owned()
}

/// The last entry of an account: position and balance. `(0, 0)` for an account with no entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    pub seq: i64,
    pub balance: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum LegError {
    #[error("insufficient funds")]
    InsufficientFunds,
    #[error("too much contention on account {0}")]
    Contention(String),
    #[error(transparent)]
    Db(#[from] mongodb::error::Error),
}

/// What a leg writes, besides the amount.
pub struct LegSpec<'a> {
    pub account: &'a str,
    pub transfer_id: &'a str,
    pub amount: i64,
    pub kind: &'a str,
    pub description: &'a str,
    /// The transfer's payment reference and method, copied onto the entry.
    pub reference: Option<&'a str>,
    pub payment_method: Option<&'a str>,
    /// Refuse when the balance would go below zero.
    pub enforce_no_overdraft: bool,
}

/// Appends legs to account streams. Holds a per-process cache of heads so the common case is one
/// insert; a stale cache (another process appended) costs a duplicate-key error and a forward probe.
#[derive(Clone)]
pub struct Entries {
    db: Db,
    heads: Arc<Mutex<HashMap<String, Head>>>,
}

const MAX_CACHED_HEADS: usize = 100_000;
const MAX_APPEND_TRIES: usize = 64;

impl Entries {
    pub fn new(db: Db) -> Self {
        Entries {
            db,
            heads: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn cached(&self, account: &str) -> Option<Head> {
        self.heads.lock().ok().and_then(|m| m.get(account).copied())
    }

    /// The balance (minor units) at the last head this process saw, without a round trip; only a
    /// hint (another process may have appended since).
    pub fn cached_balance(&self, account: &str) -> Option<i64> {
        self.cached(account).map(|h| h.balance)
    }

    fn remember(&self, account: &str, head: Head) {
        if let Ok(mut m) = self.heads.lock() {
            if m.len() >= MAX_CACHED_HEADS {
                m.clear();
            }
            // Heads only move forward; never let a slow reader move the cache back.
            let slot = m.entry(account.to_owned()).or_default();
            if head.seq >= slot.seq {
                *slot = head;
            }
        }
    }

    async fn entry_by_id(&self, id: &str) -> mongodb::error::Result<Option<Entry>> {
        self.db.find_row("ledger_entries", doc! { "_id": id }).await
    }

    /// The head as the database has it now, found by `_id` lookups only (the one shape every
    /// MongoDB-compatible server serves from an index): entries of an account exist for exactly the
    /// positions `1..=N` (append-only, each insert of `N+1` follows a read of `N`), so existence is
    /// monotone in `seq` and the head is found by galloping forward from the cached head (one probe
    /// when the cache is current) and then bisecting: O(log N) probes for an account seen the first
    /// time, never a read of the account's whole history.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn head(&self, account: &str) -> mongodb::error::Result<Head> {
        let known = self.cached(account).unwrap_or_default();
        let head = self.gallop(account, known).await?;
        self.remember(account, head);
        Ok(head)
    }

    /// The head of an account known to have no entries yet (a brand-new escrow or hold): nothing
    /// to read. Appends still insert under the unique `_id`, so a wrong guess costs one retry.
    pub fn assume_new(&self, account: &str) {
        self.remember(account, Head::default());
    }

    async fn gallop(&self, account: &str, known: Head) -> mongodb::error::Result<Head> {
        // `lo` is a position known to exist (or 0), `hi` one known to be free.
        let mut lo = known;
        let mut step = 1i64;
        let hi = loop {
            match self
                .entry_by_id(&format!("{account}:{}", lo.seq + step))
                .await?
            {
                Some(e) => {
                    lo = Head {
                        seq: e.seq,
                        balance: e.balance_after,
                    };
                    step = step.saturating_mul(2);
                }
                None => break lo.seq + step,
            }
        };
        let (mut lo, mut hi) = (lo, hi);
        while hi - lo.seq > 1 {
            let mid = lo.seq + (hi - lo.seq) / 2;
            match self.entry_by_id(&format!("{account}:{mid}")).await? {
                Some(e) => {
                    lo = Head {
                        seq: e.seq,
                        balance: e.balance_after,
                    }
                }
                None => hi = mid,
            }
        }
        Ok(lo)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn find_leg(
        &self,
        transfer_id: &str,
        account: &str,
    ) -> mongodb::error::Result<Option<Entry>> {
        self.db
            .find_row(
                "ledger_entries",
                doc! { "transferId": transfer_id, "account": account },
            )
            .await
    }

    /// Applies one leg exactly once: a second call with the same transfer and account returns the
    /// entry the first one wrote.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn apply(&self, leg: &LegSpec<'_>) -> Result<Entry, LegError> {
        let mut head = match self.cached(leg.account) {
            Some(h) => h,
            None => self.head(leg.account).await?,
        };
        for _ in 0..MAX_APPEND_TRIES {
            let balance_after = head.balance + leg.amount;
            if leg.enforce_no_overdraft && leg.amount < 0 && balance_after < 0 {
                // Refresh before refusing: the cache may be behind, or this leg may already be applied.
                let fresh = self.head(leg.account).await?;
                if fresh != head {
                    head = fresh;
                    continue;
                }
                if let Some(done) = self.find_leg(leg.transfer_id, leg.account).await? {
                    return Ok(done);
                }
                return Err(LegError::InsufficientFunds);
            }
            let seq = head.seq + 1;
            let id = format!("{}:{seq}", leg.account);
            let now = clock::now();
            let d = doc! {
                "_id": &id, "account": leg.account, "seq": seq, "transferId": leg.transfer_id,
                "amount": leg.amount, "balanceAfter": balance_after, "type": leg.kind,
                "description": leg.description, "createdAt": now, "bucket": bucket_of(leg.account, seq),
            };
            let mut d = d;
            if let Some(r) = leg.reference {
                d.insert("reference", r);
            }
            if let Some(m) = leg.payment_method {
                d.insert("paymentMethod", m);
            }
            match self.db.col("ledger_entries").insert_one(d).await {
                Ok(_) => {
                    let entry = Entry {
                        id,
                        account: leg.account.to_owned(),
                        seq,
                        transfer_id: leg.transfer_id.to_owned(),
                        amount: leg.amount,
                        balance_after,
                        kind: leg.kind.to_owned(),
                        description: leg.description.to_owned(),
                        created_at: now,
                        reference: leg.reference.map(str::to_owned),
                        payment_method: leg.payment_method.map(str::to_owned),
                    };
                    self.remember(
                        leg.account,
                        Head {
                            seq,
                            balance: balance_after,
                        },
                    );
                    return Ok(entry);
                }
                Err(e) if is_duplicate_key(&e) => {
                    // Either the position is taken (someone appended first) or this leg exists already.
                    match self.entry_by_id(&id).await? {
                        Some(other) if other.transfer_id == leg.transfer_id => return Ok(other),
                        Some(_) => head = self.head(leg.account).await?,
                        None => {
                            if let Some(done) = self.find_leg(leg.transfer_id, leg.account).await? {
                                return Ok(done);
                            }
                            head = self.head(leg.account).await?;
                        }
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(LegError::Contention(leg.account.to_owned()))
    }

    /// The entries of one bucket (at most [`BUCKET_SIZE`]), in position order.
    async fn bucket(&self, account: &str, bucket: i64) -> mongodb::error::Result<Vec<Entry>> {
        let docs: Vec<Document> = self
            .db
            .col("ledger_entries")
            .find(doc! { "bucket": format!("{account}#{bucket}") })
            .await?
            .try_collect()
            .await?;
        let mut entries: Vec<Entry> = self.db.rows("ledger_entries", docs);
        entries.sort_by_key(|e| e.seq);
        Ok(entries)
    }

    /// Entries of an account after `cursor`, in position order, at most `limit` (bucket by bucket:
    /// each read is an equality match on an indexed field returning at most [`BUCKET_SIZE`] entries,
    /// so a page costs the same however long the account's history or the whole ledger is).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn after(
        &self,
        account: &str,
        cursor: i64,
        limit: i64,
    ) -> mongodb::error::Result<Vec<Entry>> {
        let limit = limit.max(0) as usize;
        let mut out = Vec::with_capacity(limit);
        let mut bucket = (cursor + 1) / BUCKET_SIZE;
        while out.len() < limit {
            let entries = self.bucket(account, bucket).await?;
            let full = entries.len() as i64 == BUCKET_SIZE
                || (bucket == 0 && entries.len() as i64 == BUCKET_SIZE - 1);
            out.extend(
                entries
                    .into_iter()
                    .filter(|e| e.seq > cursor)
                    .take(limit - out.len()),
            );
            if !full {
                break;
            }
            bucket += 1;
        }
        Ok(out)
    }

    /// Entries of an account after `cursor` and at most `upto`, in position order, from the next
    /// `buckets` buckets at most (whole buckets, read at once: each read is an equality match on
    /// the indexed `bucket` returning at most [`BUCKET_SIZE`] entries). This is how sync streams a
    /// history: memory per call is bounded by `buckets * BUCKET_SIZE` entries whatever the history's
    /// length, and no bucket is read twice by consecutive calls (the next call starts after the
    /// last entry returned, in the following bucket). Empty when `cursor >= upto`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn run_after(
        &self,
        account: &str,
        cursor: i64,
        upto: i64,
        buckets: i64,
    ) -> mongodb::error::Result<Vec<Entry>> {
        if cursor >= upto || buckets < 1 {
            return Ok(Vec::new());
        }
        if upto - cursor <= FEW_BY_ID {
            // A live update is one or two new entries: read them by `_id`, at once, rather than
            // their whole bucket (a bucket read costs several `_id` reads on the dev database).
            let reads = (cursor.max(0) + 1..=upto)
                .map(|seq| async move { self.entry_by_id(&format!("{account}:{seq}")).await });
            let found = futures_util::future::try_join_all(reads).await?;
            return Ok(found.into_iter().flatten().collect());
        }
        let first = (cursor.max(0) + 1) / BUCKET_SIZE;
        let last = (upto / BUCKET_SIZE).min(first + buckets - 1);
        let reads = (first..=last).map(|b| self.bucket(account, b));
        let read = futures_util::future::try_join_all(reads).await?;
        Ok(read
            .into_iter()
            .flatten()
            .filter(|e| e.seq > cursor && e.seq <= upto)
            .collect())
    }

    /// Entries of an account before `before` (exclusive; `None` = from the head), newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn newest_first(
        &self,
        account: &str,
        before: Option<i64>,
        limit: i64,
    ) -> mongodb::error::Result<Vec<Entry>> {
        let limit = limit.max(0) as usize;
        let top = match before {
            Some(b) => b - 1,
            None => self.head(account).await?.seq,
        };
        let mut out = Vec::with_capacity(limit);
        let mut bucket = top / BUCKET_SIZE;
        while out.len() < limit && top >= 1 && bucket >= 0 {
            let entries = self.bucket(account, bucket).await?;
            out.extend(
                entries
                    .into_iter()
                    .rev()
                    .filter(|e| e.seq <= top)
                    .take(limit - out.len()),
            );
            bucket -= 1;
        }
        Ok(out)
    }
}

/// Up to this many positions are read by `_id` rather than by bucket (see [`Entries::run_after`]).
const FEW_BY_ID: i64 = 4;

/// Entries per bucket: a page of history is one or two equality reads of at most this many.
pub const BUCKET_SIZE: i64 = 64;

/// The bucket an entry is filed under, `{account}#{seq / BUCKET_SIZE}` (indexed): FerretDB and
/// MongoDB serve an equality match from an index, while a range or a sort over one account's
/// entries would read that account's whole history first.
pub fn bucket_of(account: &str, seq: i64) -> String {
    format!("{account}#{}", seq / BUCKET_SIZE)
}

/// For bulk loading (benchmarks): the document [`Entries::apply`] inserts for position `seq` of
/// `account`, with its `bucket` (keep the two in step), so a loader writes exactly the shape the
/// backend writes. The caller is responsible for contiguous `seq` and a `balanceAfter` chain that adds up.
#[allow(clippy::too_many_arguments)]
pub fn entry_doc(
    account: &str,
    seq: i64,
    transfer_id: &str,
    amount: i64,
    balance_after: i64,
    kind: &str,
    description: &str,
    created_at: mongodb::bson::DateTime,
) -> Document {
    doc! {
        "_id": format!("{account}:{seq}"), "account": account, "seq": seq, "transferId": transfer_id,
        "amount": amount, "balanceAfter": balance_after, "type": kind,
        "description": description, "createdAt": created_at, "bucket": bucket_of(account, seq),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_consecutive_positions() {
        assert_eq!(bucket_of("wallet:a", 1), "wallet:a#0");
        assert_eq!(bucket_of("wallet:a", 63), "wallet:a#0");
        assert_eq!(bucket_of("wallet:a", 64), "wallet:a#1");
        assert_ne!(bucket_of("wallet:a", 64), bucket_of("wallet:b", 64));
    }

    #[test]
    fn bulk_entry_doc_reads_back_as_the_entry() {
        let at = mongodb::bson::DateTime::from_millis(1_700_000_000_000);
        let d = entry_doc("wallet:a", 65, "t1", -500, 1_500, "PURCHASE", "Bought", at);
        let e: Entry = mongodb::bson::from_document(d.clone()).expect("entry");
        assert_eq!(
            (
                e.id.as_str(),
                e.seq,
                e.amount,
                e.balance_after,
                e.kind.as_str()
            ),
            ("wallet:a:65", 65, -500, 1_500, "PURCHASE")
        );
        assert_eq!(d.get_str("bucket").ok(), Some("wallet:a#1"));
    }
}
