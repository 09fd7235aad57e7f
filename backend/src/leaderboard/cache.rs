//! The leaderboard's read model: every seller's row in memory, refreshed incrementally.
//!
//! Why: ranking and sorting are done in FerretDB's Go code over every row (DESIGN.md section 2),
//! so each `GET /leaderboard` read and sorted all sellers' rows (measured: 0.95 ms with a handful
//! of sellers, 162 ms with 2,000, 5.3 s p50 under 32 clients). Here a page is cut from rows held in
//! memory; the rows are refreshed at most once per `MARKET_CACHE_TTL`, in the background, by the
//! 5-second `updatedBucket`s written since the last refresh (equality reads, index-served). The
//! first load reads all rows once per process. `MARKET_CACHE_TTL=0` turns the cache off (tests).

use super::rules::Row;
use super::store;
use crate::clock;
use crate::db::Db;
use mongodb::bson::{doc, oid::ObjectId, DateTime};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// A snapshot older than this many TTLs is refreshed before answering (see `rows`/`browse`).
const IDLE_TTLS: u32 = 3;

/// Re-read window behind the last refresh: a write whose `updatedAt` is older than its commit.
const OVERLAP: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Inner {
    rows: HashMap<ObjectId, (Row, DateTime)>,
    snapshot: Arc<Vec<(Row, DateTime)>>,
    since: Option<DateTime>,
    refreshed_at: Option<Instant>,
}

#[derive(Clone)]
pub struct LeaderboardCache {
    ttl: Duration,
    inner: Arc<RwLock<Inner>>,
    refreshing: Arc<Mutex<()>>,
}

impl LeaderboardCache {
    pub fn new(ttl: Duration) -> LeaderboardCache {
        LeaderboardCache { ttl, inner: Arc::default(), refreshing: Arc::default() }
    }

    /// Every seller's row in rank order ([`super::service::rank_order`]), or `None` when the
    /// cache is off.
    pub async fn rows(&self, db: &Db) -> mongodb::error::Result<Option<Arc<Vec<(Row, DateTime)>>>> {
        if self.ttl.is_zero() {
            return Ok(None);
        }
        let (loaded, stale, idle) = {
            let inner = self.inner.read().await;
            let age = inner.refreshed_at.map(|t| t.elapsed());
            (inner.since.is_some(), age.is_none_or(|a| a >= self.ttl), age.is_none_or(|a| a >= self.ttl * IDLE_TTLS))
        };
        // After a quiet spell (no request refreshed it for several TTLs) the first reader waits for
        // the refresh rather than being answered from a snapshot that old; otherwise readers never
        // wait and the refresh runs in the background.
        if !loaded || idle {
            let _first = self.refreshing.lock().await;
            let still_old = {
                let inner = self.inner.read().await;
                inner.since.is_none() || inner.refreshed_at.is_none_or(|t| t.elapsed() >= self.ttl * IDLE_TTLS)
            };
            if still_old {
                self.load(db).await?;
            }
        } else if let Some(guard) = stale.then(|| self.refreshing.clone().try_lock_owned().ok()).flatten() {
            let (cache, db) = (self.clone(), db.clone());
            tokio::spawn(async move {
                let _guard = guard;
                if let Err(e) = cache.load(&db).await {
                    tracing::warn!(error = %e, "leaderboard cache refresh failed; serving the previous rows");
                }
            });
        }
        Ok(Some(self.inner.read().await.snapshot.clone()))
    }

    async fn load(&self, db: &Db) -> mongodb::error::Result<()> {
        let since = self.inner.read().await.since;
        let started = clock::now();
        let found = match since {
            None => store::find_rows(db, doc! {}, doc! {}, None, None).await?,
            Some(t) => {
                let mut found = Vec::new();
                for bucket in store::update_bucket(clock::before(t, OVERLAP))..=store::update_bucket(started) {
                    found.extend(store::find_rows(db, doc! { "updatedBucket": bucket }, doc! {}, None, None).await?);
                }
                found
            }
        };
        let mut inner = self.inner.write().await;
        for (row, updated) in found {
            inner.rows.insert(row.seller, (row, updated));
        }
        // Kept in rank order, so a page of the default sort stops after `limit` rows.
        let mut snapshot: Vec<(Row, DateTime)> = inner.rows.values().cloned().collect();
        snapshot.sort_by_key(|(r, _)| super::service::rank_order(r));
        inner.snapshot = Arc::new(snapshot);
        inner.since = Some(started);
        inner.refreshed_at = Some(Instant::now());
        Ok(())
    }
}
