//! What a server frame means for the local copy of each stream (wallet and purchases).
//!
//! The sync contract (DESIGN.md section 6): entries are upserted by id; the cursor advances only
//! over contiguous positions; each catch-up ends with a checkpoint (head position and, for the
//! wallet, the balance there) and a mismatch makes the client re-sync that stream, or rebuild it
//! from position 0 when its history disagrees with the server's. [`Syncer`] holds that logic for
//! one connection; the storage is whatever implements [`SyncStore`].

use oddxer_shared::api::{CodeOut, LedgerEntryOut, PaymentOut};
use oddxer_shared::client::{NotificationOut, StreamProgress, SyncProgress};
use oddxer_shared::sync::{
    Checkpoint, ClientFrame, LiveEvent, PurchaseStreamEntry, ServerFrame, StreamEntries,
    SyncCursors,
};
use oddxer_shared::Money;

use crate::live::{is_followed, live_code, public_copy, SaleEvent};
use crate::notice;

/// Re-syncs in a row that did not bring a stream in step before the connection gives up (and is
/// retried after a backoff): a server contradicting itself must not be hammered in a tight loop.
pub const MAX_RESYNCS_IN_A_ROW: u32 = 5;

/// The streams a client syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Wallet,
    Purchases,
}

impl Stream {
    /// The stream's name on the wire and in local storage (`wallet`, `purchases`).
    pub fn name(self) -> &'static str {
        match self {
            Stream::Wallet => "wallet",
            Stream::Purchases => "purchases",
        }
    }

    /// A sync request for this stream alone, from position `from` (the server leaves the other
    /// stream as it is).
    pub fn resync_frame(self, from: i64) -> ClientFrame {
        let mut streams = SyncCursors::default();
        match self {
            Stream::Wallet => streams.wallet = Some(from),
            Stream::Purchases => streams.purchases = Some(from),
        }
        ClientFrame::Sync { streams }
    }
}

/// The sport subscriptions a client sends after its first frame: every sport, so the kept
/// marketplace hears of every new listing (`code:created`) and every change to one
/// (`code:updated`: places left, sold out, edited, cancelled). Followed tipsters' listings come
/// whatever the subscriptions.
pub fn market_subscriptions() -> Vec<ClientFrame> {
    oddxer_shared::Sport::ALL
        .iter()
        .map(|s| ClientFrame::Subscribe {
            sport: s.as_str().to_owned(),
        })
        .collect()
}

/// The first frame of a connection: both streams from their stored cursors.
pub fn sync_frame(wallet_cursor: i64, purchases_cursor: i64) -> ClientFrame {
    ClientFrame::Sync {
        streams: SyncCursors {
            wallet: Some(wallet_cursor),
            purchases: Some(purchases_cursor),
        },
    }
}

/// What applying a run of stream entries did to the local copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Some row changed (the UI should re-read the snapshot).
    pub changed: bool,
    /// The stream's cursor after the batch: the last position of the contiguous run from 1.
    pub cursor: i64,
    /// `balanceAfter.amount` (minor units) of the wallet entry at `cursor`, when there is one.
    pub balance_at_cursor: Option<i64>,
    /// Entries were stored beyond a hole (seq > cursor + 1): something is missing.
    pub saw_gap: bool,
}

/// Walks forward from the stored cursor `before` over `positions` (the positions held locally
/// above `before`, ascending): the last position of the contiguous run, and whether a position
/// beyond a hole was seen. Entries stored earlier beyond a hole are picked up once it is filled.
pub fn contiguous_from(before: i64, positions: impl IntoIterator<Item = i64>) -> (i64, bool) {
    let mut cursor = before;
    for seq in positions {
        if seq <= cursor {
            continue;
        }
        if seq == cursor + 1 {
            cursor = seq;
        } else {
            return (cursor, true);
        }
    }
    (cursor, false)
}

/// How a finished catch-up's checkpoint compares with the local copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    InStep,
    /// The server has positions we lack (a hole, or entries still to come): ask again from our cursor.
    Behind,
    /// The server's head is below ours: confirm once, then rebuild from 0.
    AheadOfServer,
    /// Same head, different balance: our history is not the server's. Rebuild from 0.
    Diverged,
}

/// Compares the local copy after a batch with the batch's checkpoint.
pub fn judge(applied: &Applied, cp: &Checkpoint) -> Verdict {
    use std::cmp::Ordering::*;
    match cp.head.cmp(&applied.cursor) {
        Greater => Verdict::Behind,
        Less => Verdict::AheadOfServer,
        Equal => match (cp.balance, applied.balance_at_cursor) {
            (Some(server), Some(local)) if server != local => Verdict::Diverged,
            _ => Verdict::InStep,
        },
    }
}

/// The local copy of the streams, as each core stores it (SQLite natively, IndexedDB-backed
/// memory in the browser). Each method is one atomic change of the local copy.
pub trait SyncStore {
    type Error;
    /// The stored cursor of `stream` (0 when never synced).
    fn cursor(&self, stream: Stream) -> Result<i64, Self::Error>;
    /// Upserts wallet ledger entries by id, advances the cursor over the contiguous run and moves
    /// the cached balance with it.
    fn apply_wallet_entries(&mut self, entries: &[LedgerEntryOut]) -> Result<Applied, Self::Error>;
    /// Upserts purchase rows by purchase id (highest version wins) and advances the cursor over
    /// the contiguous run.
    fn apply_purchase_entries(
        &mut self,
        entries: &[PurchaseStreamEntry],
    ) -> Result<Applied, Self::Error>;
    /// A live `wallet:updated {balance}`: sets the balance only. Answers whether it changed.
    fn apply_wallet_balance(&mut self, balance: &Money) -> Result<bool, Self::Error>;
    /// Forgets a stream's local copy so it is rebuilt from position 0.
    fn reset_stream(&mut self, stream: Stream) -> Result<(), Self::Error>;
    /// Records that a catch-up of both streams just finished in step (the "last synced" time).
    fn mark_synced(&mut self) -> Result<(), Self::Error>;

    // ---- live events (crate::live) ----
    //
    // A store that keeps no marketplace copy or notifications (the stream-only
    // `MemoryStreams`) keeps these defaults: the events then change nothing there.

    /// The signed-in user's id, when known (to tell my own listings from a followed tipster's).
    fn my_user_id(&self) -> Result<Option<String>, Self::Error> {
        Ok(None)
    }
    /// The current time, RFC 3339 (stamped on new notifications).
    fn now_rfc3339(&self) -> String {
        String::new()
    }
    /// A public copy of a code (live event or refetch) replaces the kept marketplace copy of it;
    /// a new ACTIVE code joins the kept first pages it matches. Answers whether anything changed.
    fn apply_live_code(&mut self, _code: &CodeOut) -> Result<bool, Self::Error> {
        Ok(false)
    }
    /// A code's new state (kick-off, result) shown on the purchase rows that hold it. Answers
    /// whether a row changed.
    fn apply_code_to_purchases(&mut self, _code: &CodeOut) -> Result<bool, Self::Error> {
        Ok(false)
    }
    /// The kept title of code `id`, if this device holds a copy.
    fn code_title(&self, _id: &str) -> Result<Option<String>, Self::Error> {
        Ok(None)
    }
    /// Stores a notification unless one with its id exists. Answers whether it is new.
    fn add_notification(&mut self, _n: &NotificationOut) -> Result<bool, Self::Error> {
        Ok(false)
    }
}

/// Why handling a frame ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncError<E> {
    /// The local store failed.
    Store(E),
    /// A stream did not come in step after [`MAX_RESYNCS_IN_A_ROW`] re-syncs: reconnect later.
    OutOfStep,
    /// The server ended the session for good (logout elsewhere, refresh token reuse, deactivated
    /// account): no refresh can help, sign in again.
    SessionEnded { code: String },
    /// The access token was refused or expired: refresh it and reconnect at once.
    Auth { code: String, message: String },
    /// The server could not serve the sync now: reconnect after a backoff.
    Unavailable { code: String, message: String },
}

/// What handling one frame asks of the connection.
#[derive(Debug, Default, PartialEq)]
pub struct Step {
    /// Local data changed: tell the UI.
    pub changed: bool,
    /// A frame to send (a re-sync request).
    pub send: Option<ClientFrame>,
    /// The catch-up of every stream just finished in step: the connection is now Online.
    pub caught_up: bool,
    /// A `sync:batch` was handled: where the catch-up stands now.
    pub progress: Option<SyncProgress>,
    /// This stream's local copy disagreed with the server and is being rebuilt from 0 (worth a
    /// warning in the log).
    pub rebuilt: Option<Stream>,
    /// An error frame that does not end the connection: `(code, message)`, for the log.
    pub server_error: Option<(String, String)>,
    /// A live event changed the kept marketplace (the marketplace screen reloads).
    pub market_changed: bool,
    /// A live event changed the seller's listings or sales (the dashboard reloads).
    pub seller_changed: bool,
    /// A code whose public copy is stale (it sold): fetch it and apply it with
    /// [`SyncStore::apply_live_code`].
    pub refetch_code: Option<String>,
    /// Notifications stored for the first time by this frame (for the OS notification centre).
    pub notified: Vec<NotificationOut>,
    /// A deposit or withdrawal of mine was decided (`payment:updated`): the payments list reloads.
    pub payments_changed: bool,
}

impl Step {
    /// Stores `n` and, when it is new, hands it on for the OS notification centre.
    fn notify<S: SyncStore>(&mut self, store: &mut S, n: NotificationOut) -> Result<(), S::Error> {
        if store.add_notification(&n)? {
            self.changed = true;
            self.notified.push(n);
        }
        Ok(())
    }
}

/// Per-connection state of one stream.
#[derive(Debug, Default)]
struct StreamSync {
    resyncs_in_a_row: u32,
    suspect_ahead: bool,
    in_step: bool,
}

impl StreamSync {
    fn resync<E>(&mut self, stream: Stream, from: i64) -> Result<ClientFrame, SyncError<E>> {
        self.resyncs_in_a_row += 1;
        if self.resyncs_in_a_row > MAX_RESYNCS_IN_A_ROW {
            return Err(SyncError::OutOfStep);
        }
        Ok(stream.resync_frame(from))
    }
}

/// Per-connection state of every stream. Make a new one for each connection.
#[derive(Debug, Default)]
pub struct Syncer {
    wallet: StreamSync,
    purchases: StreamSync,
    online: bool,
    progress: SyncProgress,
}

/// Error codes with which the server refuses or expires an access token.
pub fn is_auth_error(code: &str) -> bool {
    matches!(
        code,
        "UNAUTHENTICATED" | "UNAUTHORIZED" | "TOKEN_EXPIRED" | "INVALID_TOKEN"
    )
}

/// Error codes with which the server closes a socket whose session is over for good.
pub fn ends_session(code: &str) -> bool {
    matches!(code, "SESSION_REVOKED" | "ACCOUNT_DEACTIVATED")
}

impl Syncer {
    /// The first frame after connecting: everything after the stored cursors.
    pub fn start<S: SyncStore>(&mut self, store: &S) -> Result<ClientFrame, S::Error> {
        Ok(sync_frame(
            store.cursor(Stream::Wallet)?,
            store.cursor(Stream::Purchases)?,
        ))
    }

    /// Whether both streams reached their checkpoints in step on this connection.
    pub fn is_online(&self) -> bool {
        self.online
    }

    fn stream_progress(&mut self, stream: Stream) -> &mut StreamProgress {
        match stream {
            Stream::Wallet => &mut self.progress.wallet,
            Stream::Purchases => &mut self.progress.purchases,
        }
    }

    fn state(&mut self, stream: Stream) -> &mut StreamSync {
        match stream {
            Stream::Wallet => &mut self.wallet,
            Stream::Purchases => &mut self.purchases,
        }
    }

    /// Applies one server frame to `store` and says what the connection should do next.
    pub fn on_frame<S: SyncStore>(
        &mut self,
        store: &mut S,
        frame: ServerFrame,
    ) -> Result<Step, SyncError<S::Error>> {
        match frame {
            ServerFrame::SyncBatch(batch) => {
                let mut step = Step::default();
                let (stream, applied, received) = match &batch.entries {
                    StreamEntries::Wallet(entries) => {
                        let before = store.cursor(Stream::Wallet).map_err(SyncError::Store)?;
                        let applied = store
                            .apply_wallet_entries(entries)
                            .map_err(SyncError::Store)?;
                        // A first sync from position 0 is history, not news: only entries
                        // arriving after this device already held some (or live) notify.
                        if before > 0 || self.online {
                            let now = store.now_rfc3339();
                            for e in entries.iter().filter(|e| e.seq > before) {
                                if let Some(n) = notice::payment(e, &now) {
                                    step.notify(store, n).map_err(SyncError::Store)?;
                                }
                            }
                        }
                        (Stream::Wallet, applied, entries.len() as u64)
                    }
                    StreamEntries::Purchases(entries) => {
                        let applied = store
                            .apply_purchase_entries(entries)
                            .map_err(SyncError::Store)?;
                        if self.online {
                            // A live purchase (mine, maybe from another device): its code's copy
                            // shows the place taken on the marketplace's cards. Not during a
                            // catch-up, which may hold a long history.
                            for e in entries {
                                store
                                    .apply_live_code(&public_copy(e.purchase.code.clone()))
                                    .map_err(SyncError::Store)?;
                                step.market_changed = true;
                            }
                        }
                        (Stream::Purchases, applied, entries.len() as u64)
                    }
                };
                let progress = self.stream_progress(stream);
                progress.received += received;
                progress.cursor = applied.cursor;
                progress.head = batch.checkpoint.head;
                step.changed |= applied.changed;
                step.progress = Some(self.progress);
                if !batch.done {
                    // Mid catch-up: the checkpoint is judged once the run is complete.
                    return Ok(step);
                }
                let verdict = judge(&applied, &batch.checkpoint);
                let st = self.state(stream);
                match verdict {
                    Verdict::InStep => {
                        st.resyncs_in_a_row = 0;
                        st.suspect_ahead = false;
                        st.in_step = true;
                        if self.wallet.in_step && self.purchases.in_step {
                            self.progress.caught_up = true;
                            step.progress = Some(self.progress);
                            store.mark_synced().map_err(SyncError::Store)?;
                            step.changed = true;
                            step.caught_up = !self.online;
                            self.online = true;
                        }
                    }
                    Verdict::Behind => {
                        step.send = Some(st.resync(stream, applied.cursor)?);
                    }
                    Verdict::AheadOfServer if !st.suspect_ahead => {
                        // Could be a checkpoint read just before a live push we already applied:
                        // ask once more before believing the server lost entries.
                        st.suspect_ahead = true;
                        step.send = Some(st.resync(stream, applied.cursor)?);
                    }
                    Verdict::AheadOfServer | Verdict::Diverged => {
                        st.suspect_ahead = false;
                        st.in_step = false;
                        step.send = Some(st.resync(stream, 0)?);
                        store.reset_stream(stream).map_err(SyncError::Store)?;
                        self.stream_progress(stream).cursor = 0;
                        self.progress.caught_up = false;
                        step.progress = Some(self.progress);
                        step.changed = true;
                        step.rebuilt = Some(stream);
                    }
                }
                Ok(step)
            }
            ServerFrame::Event(LiveEvent::WalletUpdated { balance }) => Ok(Step {
                changed: store
                    .apply_wallet_balance(&balance)
                    .map_err(SyncError::Store)?,
                ..Step::default()
            }),
            ServerFrame::Event(LiveEvent::CodeCreated(data)) => {
                let followed = is_followed(&data);
                let Some(code) = live_code(data) else {
                    return Ok(Step::default());
                };
                store.apply_live_code(&code).map_err(SyncError::Store)?;
                // The shown marketplace reloads on any listing, kept page or not.
                let mut step = Step {
                    changed: true,
                    market_changed: true,
                    ..Step::default()
                };
                let me = store.my_user_id().map_err(SyncError::Store)?;
                if me.as_deref() == Some(code.seller_id.as_str()) {
                    // My own listing (another device of mine): the dashboard, not a notification.
                    step.seller_changed = true;
                } else if followed {
                    // Only a followed tipster's listing is news; the rest just joins the market.
                    let n = notice::new_code(&code, &store.now_rfc3339());
                    step.notify(store, n).map_err(SyncError::Store)?;
                }
                Ok(step)
            }
            ServerFrame::Event(LiveEvent::CodeUpdated(data)) => {
                let Some(code) = live_code(data) else {
                    return Ok(Step::default());
                };
                // Places left, SOLD_OUT, an edit or a cancellation: the kept pages follow.
                store.apply_live_code(&code).map_err(SyncError::Store)?;
                let me = store.my_user_id().map_err(SyncError::Store)?;
                Ok(Step {
                    changed: true,
                    market_changed: true,
                    seller_changed: me.as_deref() == Some(code.seller_id.as_str()),
                    ..Step::default()
                })
            }
            ServerFrame::Event(LiveEvent::PaymentUpdated(data)) => {
                let Ok(payment) = serde_json::from_value::<PaymentOut>(data) else {
                    return Ok(Step::default());
                };
                let mut step = Step {
                    changed: true,
                    payments_changed: true,
                    ..Step::default()
                };
                if let Some(n) = notice::payment_update(&payment, &store.now_rfc3339()) {
                    step.notify(store, n).map_err(SyncError::Store)?;
                }
                Ok(step)
            }
            ServerFrame::Event(LiveEvent::CodePurchased(data)) => {
                let Ok(sale) = serde_json::from_value::<SaleEvent>(data) else {
                    return Ok(Step::default());
                };
                let title = match sale.title.clone() {
                    Some(title) => Some(title),
                    None => store.code_title(&sale.code_id).map_err(SyncError::Store)?,
                };
                let mut step = Step {
                    changed: true,
                    seller_changed: true,
                    refetch_code: Some(sale.code_id.clone()),
                    ..Step::default()
                };
                let n = notice::sale(&sale, title.as_deref(), &store.now_rfc3339());
                step.notify(store, n).map_err(SyncError::Store)?;
                Ok(step)
            }
            ServerFrame::Event(LiveEvent::CodeFinalized(data)) => {
                let Some(code) = live_code(data) else {
                    return Ok(Step::default());
                };
                store.apply_live_code(&code).map_err(SyncError::Store)?;
                store
                    .apply_code_to_purchases(&code)
                    .map_err(SyncError::Store)?;
                let me = store.my_user_id().map_err(SyncError::Store)?;
                let mine = me.as_deref() == Some(code.seller_id.as_str());
                let mut step = Step {
                    changed: true,
                    market_changed: true,
                    seller_changed: mine,
                    ..Step::default()
                };
                if let Some(n) = notice::result(&code, mine, &store.now_rfc3339()) {
                    step.notify(store, n).map_err(SyncError::Store)?;
                }
                Ok(step)
            }
            ServerFrame::Event(LiveEvent::VoteCast(_)) => Ok(Step {
                seller_changed: true,
                changed: true,
                ..Step::default()
            }),
            ServerFrame::Pong => Ok(Step::default()),
            ServerFrame::Error { code, message } => {
                if ends_session(&code) {
                    return Err(SyncError::SessionEnded { code });
                }
                if is_auth_error(&code) {
                    return Err(SyncError::Auth { code, message });
                }
                if code == "SYNC_UNAVAILABLE" {
                    return Err(SyncError::Unavailable { code, message });
                }
                Ok(Step {
                    server_error: Some((code, message)),
                    ..Step::default()
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
