//! The one application state shared by every handler and worker.

use crate::auth::jwt::JwtKeys;
use crate::auth::sms::SmsSender;
use crate::config::Config;
use crate::db::Db;
use crate::ledger::Ledger;
use crate::payments::PaymentProvider;
use crate::ratelimit::RateLimiter;
use crate::realtime::Hub;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub jwt: JwtKeys,
    pub sms: Arc<dyn SmsSender>,
    pub payments: Arc<dyn PaymentProvider>,
    pub ledger: Ledger,
    pub hub: Hub,
    pub limits: RateLimiter,
    /// Read model of the live codes for `GET /codes` (issue 4; `MARKET_CACHE_TTL`).
    pub market: crate::codes::cache::MarketCache,
    /// Read model of the leaderboard rows for `GET /leaderboard` (`MARKET_CACHE_TTL` too).
    pub leaderboard: crate::leaderboard::cache::LeaderboardCache,
    /// Who passes the marketplace's record filters (`leaderboard::cache::RecordFloors`).
    pub seller_records: Arc<dyn crate::codes::query::SellerRecords>,
    /// Purchases answered whose labels this process is still writing (read-your-writes).
    pub pending: crate::purchases::pending::PendingPurchases,
    /// Users recently read for the per-request active/role check (`auth::cache`, `USER_CACHE_TTL`).
    pub users: crate::auth::cache::UserCache,
    /// Sessions ended recently (logout, refresh-token reuse), heard of through the hub.
    pub sessions: crate::auth::cache::RevokedSessions,
    /// Reconcile violations not yet cleared by a full run (`oddxer_reconcile_violations`).
    pub findings: crate::admin::recent::Findings,
}
