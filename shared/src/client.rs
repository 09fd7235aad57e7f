//! What the native client core shows the UI over Tauri IPC: one definition for both sides.
//!
//! Commands take one `input` argument (`invoke("cmd", { input: {...} })`) of the `XIn` types here
//! or in [`crate::api`], and answer the `XOut` types or a [`CommandError`].

use crate::api::{
    CodeOut, LedgerEntryOut, PerformancePointOut, PurchaseOut, SellerProfileOut, UserOut, VoteOut,
    WalletOut,
};
use crate::{CodeStatus, Outcome, Role, Sport, VoteType};
use serde::{Deserialize, Serialize};

/// State of the one WebSocket the client keeps to the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionState {
    /// Not signed in, or signed out: nothing to sync.
    Idle,
    Connecting,
    /// Socket open and the catch-up sync finished.
    Online,
    /// The backend cannot be reached; cached data is shown and a reconnect is scheduled.
    Offline,
}

/// Everything the screens need, read from the local SQLite cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSnapshot {
    pub user: Option<UserOut>,
    pub wallet: Option<WalletOut>,
    /// Wallet ledger entries, newest first.
    pub ledger: Vec<LedgerEntryOut>,
    /// My purchases with their secret codes (readable offline), newest first.
    #[serde(default)]
    pub purchases: Vec<PurchaseOut>,
    /// Actions taken offline waiting to be delivered (votes), oldest first, and the ones the
    /// server refused when they were replayed.
    #[serde(default)]
    pub outbox: Vec<OutboxItemOut>,
    pub connection: ConnectionState,
    /// RFC 3339 time of the last finished sync, if any.
    pub last_synced_at: Option<String>,
    /// Last error worth showing (for example "backend unreachable"), if any.
    pub last_error: Option<String>,
    /// How far the current connection's catch-up has come; `None` before the first `sync:batch`
    /// of a connection (and when signed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_progress: Option<SyncProgress>,
    /// The newest in-app notifications (at most 50), newest first.
    #[serde(default)]
    pub notifications: Vec<NotificationOut>,
    /// Notifications not yet marked read (all of them, not only the ones listed).
    #[serde(default)]
    pub unread_notifications: i64,
    /// Counters bumped when a live event changed what a screen shows, so screens that load
    /// their own data (the marketplace, the seller dashboard) reload without a refresh button.
    #[serde(default)]
    pub live: LiveRevisions,
    /// A one-line notice about where the sign-in is kept, when it is not the OS keyring the
    /// person would expect (the keyring failed and a private file is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_notice: Option<String>,
}

/// How many times live events changed each screen's data since the app started (in memory
/// only: a screen reloads when its counter moves, the value itself means nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveRevisions {
    /// Marketplace codes changed (`code:created`, `code:finalized`, a sale's new places left).
    pub market: u64,
    /// The seller's listings, sales, escrow or earnings changed (`code:purchased`, `vote:cast`,
    /// `code:finalized` of an own code).
    pub seller: u64,
    /// The user's deposits or withdrawals changed (`payment:updated`): the payments list reloads.
    #[serde(default)]
    pub payments: u64,
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationKind {
    /// A followed tipster listed a code.
    NewCode,
    /// One of my codes sold (to the seller).
    Sale,
    /// A code I bought or sold got its result (and its money was settled).
    Result,
    /// A deposit completed, a withdrawal was paid back, a refund or payout arrived.
    Payment,
}

/// One in-app notification, kept on the device (SQLite) so it survives a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationOut {
    /// Stable per cause (`code:<id>`, `sale:<purchaseId>`, ...): the same event never makes two.
    pub id: String,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// The code it is about, opened when the notification is clicked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<String>,
    /// The tipster it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub read: bool,
}

/// `mark_notifications_read`: one notification, or all of them when `id` is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkReadIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One stream's catch-up on the current connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamProgress {
    /// Entries received on this connection (re-sent ones included).
    pub received: u64,
    /// Position the local copy holds now (contiguous from 1).
    pub cursor: i64,
    /// The last checkpoint's head position: the stream is complete when `cursor == head`.
    pub head: i64,
}

/// Progress of the catch-up sync of both streams, shown on a cold start ("entries received of
/// the checkpoint's head").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    pub wallet: StreamProgress,
    pub purchases: StreamProgress,
    /// Both streams reached their checkpoints in step: live from here on.
    pub caught_up: bool,
}

impl SyncProgress {
    /// Positions held of positions to hold, over both streams: `(done, total)`.
    pub fn totals(&self) -> (i64, i64) {
        let done = self.wallet.cursor.min(self.wallet.head)
            + self.purchases.cursor.min(self.purchases.head);
        (done.max(0), (self.wallet.head + self.purchases.head).max(0))
    }
}

/// Error returned by a client command, serialisable across IPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandError {
    /// The backend's error code (e.g. `INVALID_OTP`) or a client one (`OFFLINE`, `STORAGE`).
    pub code: String,
    pub message: String,
    /// For a refused form (422): each invalid field (the API's camelCase name, e.g. `amount`,
    /// `expiresAt`) with what is wrong with it, from the error's `details.fields`. Forms show
    /// each message beside its field. Empty otherwise.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub fields: std::collections::BTreeMap<String, String>,
}

impl CommandError {
    /// An error without field messages.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        CommandError {
            code: code.into(),
            message: message.into(),
            fields: Default::default(),
        }
    }

    /// The message for the field `name`, if the server named it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

// ---- marketplace ---------------------------------------------------------------------------

pub use crate::api::CodeSort;

/// `browse_codes`: the filters of `GET /codes` (all optional; status defaults to ACTIVE).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sport: Option<Sport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmaker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_odds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_odds: Option<f64>,
    /// Minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<i64>,
    /// One tipster's listings (`seller` of `GET /codes`, a seller id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    /// Words searched in titles and tipster names (`q` of `GET /codes`, [`crate::search`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only tipsters with at least this win rate (percent, 0 to 100; ranked tipsters only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_win_rate: Option<f64>,
    /// Only tipsters with at least this yield (percent; ranked tipsters only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_yield: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CodeStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<CodeSort>,
    /// `nextCursor` of the previous page (same filters and sort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `browse_codes`: a page of the marketplace, live or, offline, from the device's cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrowseOut {
    pub items: Vec<CodeOut>,
    pub next_cursor: Option<String>,
    /// True when the server could not be reached and the page was read from the local cache.
    pub from_cache: bool,
    /// When a cached page was fetched from the server (RFC 3339); `None` for a live page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_at: Option<String>,
}

/// `code_detail`, `purchase_code`, `cancel_code`: one code by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeIdIn {
    pub id: String,
}

/// `seller_codes`, `seller_sales`: a page cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CursorIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

// ---- votes ---------------------------------------------------------------------------------

/// `cast_vote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CastVoteIn {
    pub code_id: String,
    pub vote_type: VoteType,
}

/// `cast_vote`: the server's answer, or `queued: true` when offline (delivered on reconnect).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteResultOut {
    pub vote: Option<VoteOut>,
    pub queued: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboxState {
    /// Waiting for the server (retried on every reconnect).
    Pending,
    /// The server refused it on replay (e.g. voting closed); kept so the UI can say so.
    Failed,
}

/// One action taken offline (today only votes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItemOut {
    pub id: String,
    /// `VOTE`.
    pub kind: String,
    pub code_id: String,
    pub vote_type: VoteType,
    pub state: OutboxState,
    pub attempts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: String,
}

// ---- leaderboard ---------------------------------------------------------------------------

/// Sorts of `GET /leaderboard` (one definition, in `api`).
pub use crate::api::LeaderSort as LeaderboardSort;

/// `period` of `GET /leaderboard`: which finalized codes count (one definition, in `api`).
pub use crate::api::Period as LeaderboardPeriod;

/// `leaderboard`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaderboardIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<LeaderboardSort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<LeaderboardPeriod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sport: Option<Sport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

// ---- tipster profiles ----------------------------------------------------------------------

/// `seller_profile`: a tipster's profile screen, by seller id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SellerIdIn {
    pub id: String,
}

/// `seller_record`: a later page of a tipster's record (`GET /sellers/{id}/codes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SellerRecordIn {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `follow_seller`: `follow: true` follows (`PUT`), `false` unfollows (`DELETE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowIn {
    pub id: String,
    pub follow: bool,
}

/// `seller_profile`: everything the profile screen shows, fetched together so it can be kept on
/// the device and read offline as one piece.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SellerProfileView {
    pub profile: SellerProfileOut,
    /// First page of the record, newest first (booking codes only on finalized codes).
    pub record: Vec<CodeOut>,
    pub record_next_cursor: Option<String>,
    /// All-time performance points, oldest first (the profit chart).
    pub performance: Vec<PerformancePointOut>,
    /// True when the server could not be reached and this copy was read from the device.
    pub from_cache: bool,
    /// When the kept copy was fetched (RFC 3339); `None` for a live answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_at: Option<String>,
}

// ---- admin ---------------------------------------------------------------------------------

/// `admin_users`: filters of `GET /admin/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminUsersIn {
    /// A phone number or a username (a prefix of 3 or more characters matches too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `admin_update_user`: the user's id and the `UserPatch` fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminUpdateUserIn {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Why (recorded with the change; 1 to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `admin_user`: one user's detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdIn {
    pub id: String,
}

/// `admin_payments`: filters of `GET /admin/payments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminPaymentsIn {
    /// PENDING, COMPLETED, FAILED or REVERSED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::TransactionStatus>,
    /// A provider reference (exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// A user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `wallet_payments`: my deposits and withdrawals, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletPaymentsOut {
    pub items: Vec<crate::api::PaymentOut>,
    /// The server could not be reached: this is the list as last fetched on this device.
    pub from_cache: bool,
}

/// `update_code`: `PATCH /codes/{id}` of my listing (only while ACTIVE with no sales).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCodeIn {
    pub id: String,
    pub patch: crate::api::CodePatch,
}

/// `admin_resolve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminResolveIn {
    pub id: String,
    pub outcome: Outcome,
    /// Why (recorded with the resolution; 1 to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browse_filters_use_the_query_names_of_get_codes() {
        let q = BrowseIn {
            sport: Some(Sport::Football),
            min_odds: Some(1.5),
            sort: Some(CodeSort::PriceDesc),
            ..BrowseIn::default()
        };
        let v = serde_json::to_value(&q).expect("ser");
        assert_eq!(
            v,
            serde_json::json!({"sport": "FOOTBALL", "minOdds": 1.5, "sort": "-price"})
        );
        let back: BrowseIn = serde_json::from_value(v).expect("de");
        assert_eq!(back, q);
        let empty: BrowseIn = serde_json::from_str("{}").expect("empty input");
        assert_eq!(empty, BrowseIn::default());
    }

    #[test]
    fn vote_inputs_and_results_are_camel_case() {
        let v: CastVoteIn =
            serde_json::from_str(r#"{"codeId":"abc","voteType":"WIN"}"#).expect("de");
        assert_eq!(v.vote_type, VoteType::Win);
        let out = VoteResultOut {
            vote: None,
            queued: true,
        };
        assert_eq!(
            serde_json::to_string(&out).expect("ser"),
            r#"{"vote":null,"queued":true}"#
        );
    }

    #[test]
    fn old_snapshots_without_purchases_still_parse() {
        let s: AppSnapshot = serde_json::from_str(
            r#"{"user":null,"wallet":null,"ledger":[],"connection":"IDLE","lastSyncedAt":null,"lastError":null}"#,
        )
        .expect("de");
        assert!(s.purchases.is_empty() && s.outbox.is_empty());
    }
}
