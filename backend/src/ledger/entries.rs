//! Appending one leg to an account: the insert of `{account}:{N+1}` is the decision (DESIGN.md
//! section 4). Commit order equals `seq` order, so `seq` is also the sync cursor.

use crate::clock;
use crate::db::Db;
use crate::error::is_duplicate_key;
use mongodb::bson::{doc, Document};
use mongodb::options::{FindOneOptions, FindOptions};
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub account: String,
    pub seq: i64,
    pub transfer_id: String,
    pub amount: i64,
    pub balance_after: i64,
    pub kind: String,
    pub description: String,
    pub created_at: mongodb::bson::DateTime,
}

impl Entry {
    pub fn from_doc(d: &Document) -> Option<Entry> {
        Some(Entry {
            id: d.get_str("_id").ok()?.to_owned(),
            account: d.get_str("account").ok()?.to_owned(),
            seq: d.get_i64("seq").ok()?,
            transfer_id: d.get_str("transferId").ok()?.to_owned(),
            amount: d.get_i64("amount").ok()?,
            balance_after: d.get_i64("balanceAfter").ok()?,
            kind: d.get_str("type").unwrap_or("ADJUSTMENT").to_owned(),
            description: d.get_str("description").unwrap_or_default().to_owned(),
            created_at: d.get_datetime("createdAt").copied().unwrap_or(mongodb::bson::DateTime::MIN),
        })
    }
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
        Entries { db, heads: Arc::new(Mutex::new(HashMap::new())) }
    }

    fn cached(&self, account: &str) -> Option<Head> {
        self.heads.lock().ok().and_then(|m| m.get(account).copied())
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
        Ok(self.db.col("ledger_entries").find_one(doc! { "_id": id }).await?.as_ref().and_then(Entry::from_doc))
    }

    /// The head as the database has it now: from the cached head, probe forward by `_id` (the one
    /// lookup FerretDB serves without a scan) until the next position is free.
    pub async fn head(&self, account: &str) -> mongodb::error::Result<Head> {
        let mut head = match self.cached(account) {
            Some(h) => h,
            None => self.head_by_query(account).await?,
        };
        while let Some(next) = self.entry_by_id(&format!("{account}:{}", head.seq + 1)).await? {
            head = Head { seq: next.seq, balance: next.balance_after };
        }
        self.remember(account, head);
        Ok(head)
    }

    async fn head_by_query(&self, account: &str) -> mongodb::error::Result<Head> {
        let options = FindOneOptions::builder().sort(doc! { "seq": -1 }).build();
        let last = self.db.col("ledger_entries").find_one(doc! { "account": account }).with_options(options).await?;
        Ok(last.as_ref().and_then(Entry::from_doc).map(|e| Head { seq: e.seq, balance: e.balance_after }).unwrap_or_default())
    }

    pub async fn find_leg(&self, transfer_id: &str, account: &str) -> mongodb::error::Result<Option<Entry>> {
        let found = self.db.col("ledger_entries").find_one(doc! { "transferId": transfer_id, "account": account }).await?;
        Ok(found.as_ref().and_then(Entry::from_doc))
    }

    /// Applies one leg exactly once: a second call with the same transfer and account returns the
    /// entry the first one wrote.
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
                "description": leg.description, "createdAt": now,
            };
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
                    };
                    self.remember(leg.account, Head { seq, balance: balance_after });
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

    /// Entries of an account after `cursor`, in position order.
    pub async fn after(&self, account: &str, cursor: i64, limit: i64) -> mongodb::error::Result<Vec<Entry>> {
        let options = FindOptions::builder().sort(doc! { "seq": 1 }).limit(limit).build();
        let cursor = self
            .db
            .col("ledger_entries")
            .find(doc! { "account": account, "seq": { "$gt": cursor } })
            .with_options(options)
            .await?;
        let docs: Vec<Document> = cursor.try_collect().await?;
        Ok(docs.iter().filter_map(Entry::from_doc).collect())
    }

    /// Entries of an account before `before` (exclusive), newest first.
    pub async fn newest_first(&self, account: &str, before: Option<i64>, limit: i64) -> mongodb::error::Result<Vec<Entry>> {
        let mut filter = doc! { "account": account };
        if let Some(b) = before {
            filter.insert("seq", doc! { "$lt": b });
        }
        let options = FindOptions::builder().sort(doc! { "seq": -1 }).limit(limit).build();
        let docs: Vec<Document> = self.db.col("ledger_entries").find(filter).with_options(options).await?.try_collect().await?;
        Ok(docs.iter().filter_map(Entry::from_doc).collect())
    }
}
