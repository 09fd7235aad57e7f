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
        LeaderboardCache {
            ttl,
            inner: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    /// Every seller's row in rank order ([`super::service::rank_order`]), or `None` when the
    /// cache is off.
    pub async fn rows(&self, db: &Db) -> mongodb::error::Result<Option<Arc<Vec<(Row, DateTime)>>>> {
        if self.ttl.is_zero() {
            return Ok(None);
        }
        crate::readmodel::ensure_fresh(self, db, self.ttl, &self.refreshing).await?;
        Ok(Some(self.inner.read().await.snapshot.clone()))
    }

    async fn load_changes(&self, db: &Db) -> mongodb::error::Result<()> {
        let since = self.inner.read().await.since;
        let started = clock::now();
        let found = match since {
            None => store::find_rows(db, doc! {}, doc! {}, None, None).await?,
            Some(t) => {
                let mut found = Vec::new();
                for bucket in
                    store::update_bucket(clock::before(t, OVERLAP))..=store::update_bucket(started)
                {
                    found.extend(
                        store::find_rows(db, doc! { "updatedBucket": bucket }, doc! {}, None, None)
                            .await?,
                    );
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

impl crate::readmodel::ReadModel for LeaderboardCache {
    const NAME: &'static str = "leaderboard";

    async fn refreshed_at(&self) -> Option<Instant> {
        self.inner.read().await.refreshed_at
    }

    async fn load(&self, db: &Db) -> mongodb::error::Result<()> {
        self.load_changes(db).await
    }
}
