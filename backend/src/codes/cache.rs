//! The market cache: an in-process read model of the live codes (ACTIVE, SOLD_OUT,
//! AWAITING_RESULT) that `GET /codes` filters, sorts and pages in memory.
//!
//! Why: FerretDB filters and sorts by scanning the whole collection in Go (DESIGN.md section 2), so
//! one browse over 10,000 codes costs a full scan, and concurrent browses queue behind each other
//! (the marketplace benchmark measured tens of seconds at 32 clients). The cache turns that into
//! one incremental read per `MARKET_CACHE_TTL` per process, in the background, whatever the
//! request rate.
//!
//! Consistency: eventually consistent within about `MARKET_CACHE_TTL` (plus one refresh) across
//! processes, immediate for writes made through this process's code service. Every write to a code
//! sets `updatedAt` and its 5-second `updatedBucket`; a refresh reads the buckets from the last
//! refresh minus `OVERLAP` to now, by equality (the overlap covers writes that commit a little
//! after the time they carry), and upserts the codes by id,
//! dropping codes that left the live set. Browses of final statuses (WON, LOST, VOID, CANCELLED)
//! and a seller's own list go to the database. `MARKET_CACHE_TTL=0` turns the cache off.

use super::query::Browse;
use super::store::{update_bucket, Code, CODES};
use crate::clock;
use crate::db::Db;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::CodeStatus;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// Re-read window behind the last refresh: a write whose `updatedAt` is older than its commit.
const OVERLAP: Duration = Duration::from_secs(5);
const LIVE: [CodeStatus; 3] = [
    CodeStatus::Active,
    CodeStatus::SoldOut,
    CodeStatus::AwaitingResult,
];

#[derive(Default)]
struct Inner {
    codes: HashMap<ObjectId, Code>,
    /// Time (database clock of this process) the last refresh started; `None` before the first load.
    since: Option<DateTime>,
    refreshed_at: Option<Instant>,
}

#[derive(Clone)]
pub struct MarketCache {
    ttl: Duration,
    inner: Arc<RwLock<Inner>>,
    refreshing: Arc<Mutex<()>>,
}

impl MarketCache {
    pub fn new(ttl: Duration) -> MarketCache {
        MarketCache {
            ttl,
            inner: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    fn is_live(status: CodeStatus) -> bool {
        LIVE.contains(&status)
    }

    /// Whether a browse can be answered from the cache.
    pub fn serves(&self, b: &Browse) -> bool {
        self.enabled() && b.seller.is_none() && b.status.is_some_and(Self::is_live)
    }

    /// Puts a code this process just wrote (or drops it if it left the live set).
    pub async fn upsert(&self, code: &Code) {
        if !self.enabled() {
            return;
        }
        let mut inner = self.inner.write().await;
        if inner.since.is_none() {
            return; // not loaded yet: the first load will read it
        }
        if Self::is_live(code.status) {
            inner.codes.insert(code.id, code.clone());
        } else {
            inner.codes.remove(&code.id);
        }
    }

    /// Reads what changed since the last refresh (everything live on the first one).
    pub async fn refresh(&self, db: &Db) -> mongodb::error::Result<usize> {
        let _guard = self.refreshing.lock().await;
        self.load_changes(db).await
    }

    /// The refresh itself; the caller holds `refreshing`.
    async fn load_changes(&self, db: &Db) -> mongodb::error::Result<usize> {
        let since = self.inner.read().await.since;
        let started = clock::now();
        // Equality reads only (index-served, DESIGN.md section 2): the live statuses on the first
        // load, then the update buckets since the last refresh (minus the overlap).
        let filters: Vec<Document> = match since {
            None => LIVE.iter().map(|s| doc! { "status": s.as_str() }).collect(),
            Some(t) => (update_bucket(clock::before(t, OVERLAP))..=update_bucket(started))
                .map(|b| doc! { "updatedBucket": b })
                .collect(),
        };
        let mut docs: Vec<Document> = Vec::new();
        for filter in filters {
            let found: Vec<Document> = db.col(CODES).find(filter).await?.try_collect().await?;
            docs.extend(found);
        }
        let read = docs.len();
        let mut inner = self.inner.write().await;
        for code in db.rows::<Code>(CODES, docs) {
            if Self::is_live(code.status) {
                inner.codes.insert(code.id, code);
            } else {
                inner.codes.remove(&code.id);
            }
        }
        inner.since = Some(started);
        inner.refreshed_at = Some(Instant::now());
        Ok(read)
    }

    /// One page (`limit + 1` codes, for the caller to detect a next page) of a browse it serves.
    pub async fn browse(
        &self,
        db: &Db,
        b: &Browse,
        now: DateTime,
    ) -> mongodb::error::Result<Vec<Code>> {
        crate::readmodel::ensure_fresh(self, db, self.ttl, &self.refreshing).await?;
        let inner = self.inner.read().await;
        let mut hits: Vec<&Code> = inner.codes.values().filter(|c| b.matches(c, now)).collect();
        let take = (b.limit + 1) as usize;
        if hits.len() > take {
            hits.select_nth_unstable_by(take - 1, |x, y| b.order(x, y));
            hits.truncate(take);
        }
        hits.sort_by(|x, y| b.order(x, y));
        Ok(hits.into_iter().cloned().collect())
    }

    /// Codes held (for tests and metrics).
    pub async fn size(&self) -> usize {
        self.inner.read().await.codes.len()
    }
}

impl crate::readmodel::ReadModel for MarketCache {
    const NAME: &'static str = "market";

    async fn refreshed_at(&self) -> Option<Instant> {
        self.inner.read().await.refreshed_at
    }

    async fn load(&self, db: &Db) -> mongodb::error::Result<()> {
        self.load_changes(db).await.map(|_| ())
    }
}
