//! The browser core: the command set of [`crate::ipc`] implemented in wasm for a page with no
//! Tauri around it, against the page's own origin (`/api/v1` over `fetch`, `/api/v1/ws` over a
//! browser WebSocket).
//!
//! Shared with the native core (`app/core`): the command and wire types (`oddxer-shared`) and the
//! sync rules (`oddxer-sync`: the frame logic of [`oddxer_sync::Syncer`], contiguity, checkpoint
//! verdicts, re-sync and rebuild, the in-memory stream store with the SQLite store's rules, outbox
//! replay verdicts, backoff and token renewal). Its own: the I/O (fetch, WebSocket, IndexedDB in
//! [`idb`]), the session (refresh token in an HttpOnly cookie instead of the OS keyring) and the
//! single-threaded state below.
//!
//! State lives in this thread's memory and is written to IndexedDB (debounced, whole documents)
//! after every change: the user's data (`user`) and the public marketplace cache (`market`).

mod commands;
mod error;
mod http;
mod idb;
mod live;
mod session;
mod sync;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use futures_channel::mpsc::UnboundedSender;
use oddxer_shared::api::{
    CodeOut, FollowedSellerOut, LeaderboardEntryOut, Page, PaymentOut, UserOut,
};
use oddxer_shared::client::{
    AppSnapshot, ConnectionState, LiveRevisions, NotificationOut, OutboxItemOut, SellerProfileView,
    SyncProgress,
};
use oddxer_shared::Role;
use oddxer_sync::MemoryStreams;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

pub use commands::{
    become_seller, browse_codes, cast_vote, code_detail, follow_seller, leaderboard,
    mark_notifications_read, my_following, my_purchases, payment, purchase_code, resume,
    seller_profile, seller_summary, sign_out, verify_otp, wallet_payments,
};
pub use http::Call;

/// Ledger entries in a snapshot (newest first), as the native core.
const SNAPSHOT_LEDGER_LIMIT: usize = 200;
/// Purchases in a snapshot (newest first); `my_purchases` answers them all.
const SNAPSHOT_PURCHASES_LIMIT: usize = 200;
/// Marketplace queries whose first page is kept for offline reading.
const MARKET_PAGES_KEPT: usize = 20;
/// IndexedDB keys of the two documents.
const USER_DOC: &str = "user";
const MARKET_DOC: &str = "market";
/// How long changes are gathered before one write to IndexedDB.
const SAVE_DEBOUNCE_MS: i32 = 150;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = info)]
    fn console_info(message: &str);
}

pub(crate) fn log_warn(message: &str) {
    console_warn(message);
}

pub(crate) fn log_info(message: &str) {
    console_info(message);
}

/// Everything of the signed-in user kept on the device (one IndexedDB document).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserDoc {
    user: Option<UserOut>,
    /// Whose data this is: a different user signing in starts from nothing.
    owner: Option<String>,
    streams: MemoryStreams,
    outbox: Vec<OutboxItemOut>,
    /// `Idempotency-Key` per money action whose outcome is unknown (reused on retry).
    money_keys: BTreeMap<String, String>,
    last_synced_at: Option<String>,
    profiles: BTreeMap<String, SellerProfileView>,
    /// In-app notifications, newest first (`live::NOTIFICATIONS_KEPT` at most).
    #[serde(default)]
    notifications: Vec<NotificationOut>,
    /// The tipsters I follow, as last read, for offline reading.
    #[serde(default)]
    following: Option<Vec<FollowedSellerOut>>,
    /// My deposits and withdrawals, as last read, for offline reading.
    #[serde(default)]
    payments: Vec<PaymentOut>,
}

/// A marketplace page kept for offline reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachedPage {
    items: Vec<CodeOut>,
    next_cursor: Option<String>,
    cached_at: String,
}

/// The public marketplace cache (one IndexedDB document; kept across sign-outs).
#[derive(Debug, Default, Serialize, Deserialize)]
struct MarketDoc {
    /// First pages by query (the query's JSON), oldest first for eviction.
    pages: Vec<(String, CachedPage)>,
    /// Codes seen by id (pages and details), for a code's page offline.
    codes: BTreeMap<String, CodeOut>,
    /// First leaderboard pages by query (the query's JSON), oldest first, for reading offline.
    #[serde(default)]
    boards: Vec<(String, Page<LeaderboardEntryOut>)>,
}

#[derive(Default)]
struct State {
    doc: UserDoc,
    market: MarketDoc,
    connection: Option<ConnectionState>,
    last_error: Option<String>,
    sync_progress: Option<SyncProgress>,
    /// Bumped when a live event changed what a screen loads for itself.
    live: LiveRevisions,
    listeners: Vec<UnboundedSender<AppSnapshot>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
    static LOADED: Cell<bool> = const { Cell::new(false) };
    static SAVE_PENDING: Cell<bool> = const { Cell::new(false) };
}

fn with<T>(f: impl FnOnce(&mut State) -> T) -> T {
    STATE.with(|s| f(&mut s.borrow_mut()))
}

/// Reads the documents kept in IndexedDB, once per page load.
async fn ensure_loaded() {
    if LOADED.with(|l| l.replace(true)) {
        return;
    }
    let started = js_sys::Date::now();
    let user = idb::get(USER_DOC).await;
    let market = idb::get(MARKET_DOC).await;
    with(|s| {
        match user {
            Ok(Some(text)) => match serde_json::from_str::<UserDoc>(&text) {
                Ok(doc) => s.doc = doc,
                Err(e) => log_warn(&format!("ignored an unreadable stored copy: {e}")),
            },
            Ok(None) => {}
            Err(e) => log_warn(&format!("could not read the stored copy: {e}")),
        }
        if let Ok(Some(text)) = market {
            if let Ok(doc) = serde_json::from_str::<MarketDoc>(&text) {
                s.market = doc;
            }
        }
    });
    log_info(&format!(
        "oddxer web core: stored copy read in {:.1} ms",
        js_sys::Date::now() - started
    ));
}

/// Writes both documents soon (changes within the debounce window share one write).
fn schedule_save() {
    if SAVE_PENDING.with(|p| p.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        crate::browser::sleep_ms(SAVE_DEBOUNCE_MS).await;
        SAVE_PENDING.with(|p| p.set(false));
        let started = js_sys::Date::now();
        let texts = with(|s| {
            (
                serde_json::to_string(&s.doc),
                serde_json::to_string(&s.market),
            )
        });
        let (Ok(user), Ok(market)) = texts else {
            log_warn("could not encode the offline copy");
            return;
        };
        let bytes = user.len() + market.len();
        if let Err(e) = idb::put(USER_DOC, &user).await {
            log_warn(&format!("could not keep the offline copy: {e}"));
        }
        if let Err(e) = idb::put(MARKET_DOC, &market).await {
            log_warn(&format!("could not keep the marketplace copy: {e}"));
        }
        // A figure for the storage choice: encode + write of the whole copy.
        let ms = js_sys::Date::now() - started;
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &JsValue::from_str("__oddxerLastSave"),
            &JsValue::from_str(&format!("{bytes} bytes in {ms:.1} ms")),
        );
    });
}

/// The state changed: tell the screens and keep it.
fn changed() {
    notify();
    schedule_save();
}

/// Sends a fresh snapshot to every listener (dropping the ones whose screen is gone).
fn notify() {
    let snap = snapshot();
    with(|s| {
        s.listeners
            .retain(|tx| tx.unbounded_send(snap.clone()).is_ok())
    });
}

/// Everything the screens show, from memory.
pub fn snapshot() -> AppSnapshot {
    with(|s| {
        let signed_in = s.doc.user.is_some();
        AppSnapshot {
            user: s.doc.user.clone(),
            wallet: s.doc.streams.wallet().cloned().filter(|_| signed_in),
            ledger: s.doc.streams.ledger(SNAPSHOT_LEDGER_LIMIT),
            purchases: s.doc.streams.purchases(Some(SNAPSHOT_PURCHASES_LIMIT)),
            outbox: s.doc.outbox.clone(),
            connection: s.connection.unwrap_or(ConnectionState::Idle),
            last_synced_at: s.doc.last_synced_at.clone(),
            last_error: s.last_error.clone(),
            sync_progress: s.sync_progress,
            notifications: s.doc.notifications.iter().take(50).cloned().collect(),
            unread_notifications: s.doc.notifications.iter().filter(|n| !n.read).count() as i64,
            live: s.live,
            // The refresh token is an HttpOnly cookie: no keyring to fall back from.
            credential_notice: None,
        }
    })
}

/// Registers a listener for change snapshots.
pub fn listen_changes(tx: UnboundedSender<AppSnapshot>) {
    with(|s| s.listeners.push(tx));
}

/// The role a new account starts with: BUYER on a phone-sized screen (bettors), SELLER on a
/// wider one (sellers mostly work on desktop), as the two native shells choose.
pub fn preferred_role() -> Role {
    let width = web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    if width >= 900.0 {
        Role::Seller
    } else {
        Role::Buyer
    }
}

fn cached_user() -> Option<UserOut> {
    with(|s| s.doc.user.clone())
}

/// Keeps `user` as the signed-in user; another user's data is dropped first.
fn adopt_user(user: &UserOut) {
    with(|s| {
        if s.doc.owner.as_deref().is_some_and(|o| o != user.id) {
            let market = std::mem::take(&mut s.market);
            s.doc = UserDoc::default();
            s.market = market;
        }
        s.doc.owner = Some(user.id.clone());
        s.doc.user = Some(user.clone());
    });
    changed();
}

fn set_connection(connection: ConnectionState, last_error: Option<String>) {
    let same = with(|s| {
        let same = s.connection == Some(connection) && s.last_error == last_error;
        s.connection = Some(connection);
        s.last_error = last_error;
        same
    });
    if !same {
        notify();
    }
}

fn set_sync_progress(progress: Option<SyncProgress>) {
    with(|s| s.sync_progress = progress);
}

/// The refresh cookie was refused (or there is none): sign in again. The data stays for when
/// they do. Only a user who was signed in is told their session expired; a first visit (no
/// cookie yet) just shows the sign-in screen.
fn session_expired() {
    session::clear();
    sync::stop();
    let was_signed_in = with(|s| s.doc.user.take().is_some());
    if was_signed_in {
        set_connection(
            ConnectionState::Idle,
            Some("Your session has expired. Please sign in again.".into()),
        );
        changed();
    } else {
        set_connection(ConnectionState::Idle, None);
    }
}

/// Now as RFC 3339 UTC (`2026-05-01T15:00:00Z`).
fn now_rfc3339() -> String {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    match iso.split_once('.') {
        Some((whole, _)) => format!("{whole}Z"),
        None => iso,
    }
}

/// A random version-4 UUID for an `Idempotency-Key`. `Math.random` rather than
/// `crypto.randomUUID`: the latter exists only on https and localhost, and a phone on the same
/// network opens plain http. The key needs to be unique, not secret.
fn new_key() -> String {
    let mut b = [0u8; 16];
    for byte in &mut b {
        *byte = (js_sys::Math::random() * 256.0) as u8;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An id that goes into a URL path: the backend's ids are hex, so anything else is refused
/// here rather than sent (no `/`, `?` or `..` can reach the path).
pub fn path_id(id: &str) -> Result<&str, oddxer_shared::client::CommandError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(error::WebError::InvalidInput("not a valid id").into());
    }
    Ok(id)
}
