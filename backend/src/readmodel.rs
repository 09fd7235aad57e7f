//! In-process read models refreshed incrementally from the database (the market cache behind
//! `GET /codes`, the leaderboard rows behind `GET /leaderboard`): when to refresh, written once.
//!
//! Readers never wait for a refresh, which runs in the background at most once per TTL per
//! process, except before the first load and after a quiet spell (no refresh for [`IDLE_TTLS`]
//! TTLs), when the first reader waits rather than be answered from a snapshot that old.

use crate::db::Db;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A snapshot older than this many TTLs is refreshed before answering.
pub const IDLE_TTLS: u32 = 3;

/// What a read model provides to be kept fresh.
pub trait ReadModel: Clone + Send + Sync + 'static {
    /// Named in logs.
    const NAME: &'static str;

    /// When its last refresh ended; `None` before the first load.
    fn refreshed_at(&self) -> impl Future<Output = Option<Instant>> + Send;

    /// Reads what changed since the last refresh (everything on the first one).
    fn load(&self, db: &Db) -> impl Future<Output = mongodb::error::Result<()>> + Send;
}

/// Refreshes `model` as the module documentation says; `refreshing` is held by the one refresh
/// under way.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ensure_fresh<M: ReadModel>(
    model: &M,
    db: &Db,
    ttl: Duration,
    refreshing: &Arc<Mutex<()>>,
) -> mongodb::error::Result<()> {
    let age = model.refreshed_at().await.map(|t| t.elapsed());
    let too_old = |age: Option<Duration>| age.is_none_or(|a| a >= ttl * IDLE_TTLS);
    if too_old(age) {
        let _first = refreshing.lock().await;
        // Another reader may have refreshed it while we waited for the lock.
        if too_old(model.refreshed_at().await.map(|t| t.elapsed())) {
            model.load(db).await?;
        }
    } else if let Some(guard) = age
        .is_none_or(|a| a >= ttl)
        .then(|| refreshing.clone().try_lock_owned().ok())
        .flatten()
    {
        let (model, db) = (model.clone(), db.clone());
        tokio::spawn(async move {
            let _guard = guard;
            if let Err(e) = model.load(&db).await {
                tracing::warn!(read_model = M::NAME, error = %e, "read model refresh failed; serving the previous state");
            }
        });
    }
    Ok(())
}
