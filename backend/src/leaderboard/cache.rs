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
use crate::codes::query::{RecordFloor, SellerRecords};
use crate::db::Db;
use crate::error::AppError;
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

    /// Every seller's row in rank order ([`super::cursor::rank_order`]), or `None` when the
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
        snapshot.sort_by_key(|(r, _)| super::cursor::rank_order(r));
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

/// The marketplace's record filters (`GET /codes?minWinRate=&minYield=`), answered from the
/// all-time rows: the leaderboard cache when it is on, else one indexed read of the rows with
/// enough results. Only ranked tipsters (at least `LEADERBOARD_MIN_FINALIZED` results) pass: a
/// 100 % win rate over one code says nothing.
pub struct RecordFloors {
    pub db: Db,
    pub cache: LeaderboardCache,
    pub min_finalized: u32,
}

impl RecordFloors {
    fn passes(&self, r: &Row, floor: RecordFloor) -> bool {
        r.ranked(self.min_finalized)
            && floor.min_win_rate_bps.is_none_or(|m| r.win_rate_bps() >= m)
            && floor.min_yield_bps.is_none_or(|m| r.average_roi_bps() >= m)
    }
}

impl SellerRecords for RecordFloors {
    fn passing(
        &self,
        floor: RecordFloor,
    ) -> futures_util::future::BoxFuture<'_, Result<Vec<ObjectId>, AppError>> {
        Box::pin(async move {
            let passing = |rows: &mut dyn Iterator<Item = &Row>| -> Vec<ObjectId> {
                rows.filter(|r| self.passes(r, floor))
                    .map(|r| r.seller)
                    .collect()
            };
            Ok(match self.cache.rows(&self.db).await? {
                Some(all) => passing(&mut all.iter().map(|(r, _)| r)),
                None => {
                    let mut filter = doc! { "results": { "$gte": i64::from(self.min_finalized) } };
                    if let Some(m) = floor.min_win_rate_bps {
                        filter.insert("winRate", doc! { "$gte": m });
                    }
                    if let Some(m) = floor.min_yield_bps {
                        filter.insert("averageROI", doc! { "$gte": m });
                    }
                    let rows = store::find_rows(&self.db, filter, doc! {}, None, None).await?;
                    passing(&mut rows.iter().map(|(r, _)| r))
                }
            })
        })
    }
}
