//! The sync engine: one WebSocket to `/api/v1/ws`, catch-up from the stored cursor, live changes
//! into SQLite, reconnect with jittered backoff.
//!
//! Split in two: [`Syncer`] decides what a server frame means for the local copy of each stream
//! (wallet and purchases; pure logic over a `Store`, unit-tested in `sync/tests.rs`) and [`run`]
//! owns the socket, the timers and the retries. Reaching Online also replays the outbox.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oddxer_shared::client::{ConnectionState, StreamProgress, SyncProgress};
use oddxer_shared::sync::{
    Checkpoint, ClientFrame, LiveEvent, ServerFrame, StreamEntries, SyncCursors,
};
use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::client::Inner;
use crate::error::{ClientError, ErrorChain, Result};
use crate::store::{Applied, Store, PURCHASES_STREAM, WALLET_STREAM};

/// How often the client pings; the server answers `pong`, which proves the path is alive.
const PING_EVERY: Duration = Duration::from_secs(20);
/// No frame at all for this long means the connection is dead even if TCP has not noticed.
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Re-syncs in a row that did not bring the stream in step before the connection is dropped
/// and retried later (a server contradicting itself must not be hammered in a tight loop).
const MAX_RESYNCS_IN_A_ROW: u32 = 5;
const BACKOFF_FIRST_MS: u64 = 300;
const BACKOFF_CAP_MS: u64 = 10_000;

/// Delay before reconnect attempt `attempt` (0-based): a ceiling of 300 ms doubling up to 10 s,
/// and "full jitter" (a uniformly random point between 0 and the ceiling), so that the thousands
/// of clients dropped by one server restart spread over the whole window instead of coming back
/// in waves at its upper half.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_FIRST_MS
        .saturating_mul(1u64 << attempt.min(16))
        .min(BACKOFF_CAP_MS);
    Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling))
}

// ---- frame logic ---------------------------------------------------------------------------

/// How a finished batch's checkpoint compares with the local copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    InStep,
    /// The server has positions we lack (a hole, or entries still to come): ask again from our cursor.
    Behind,
    /// The server's head is below ours: confirm once, then rebuild from 0.
    AheadOfServer,
    /// Same head, different balance: our history is not the server's. Rebuild from 0.
    Diverged,
}

fn judge(applied: &Applied, cp: &Checkpoint) -> Verdict {
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

/// What handling one frame asks of the connection.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Step {
    /// Local data changed: tell the UI.
    pub(crate) changed: bool,
    /// A frame to send (a re-sync request).
    pub(crate) send: Option<ClientFrame>,
    /// The catch-up of every stream just finished in step: the connection is now Online.
    pub(crate) caught_up: bool,
    /// A `sync:batch` was handled: where the catch-up stands now.
    pub(crate) progress: Option<SyncProgress>,
}

/// The streams this client syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Wallet,
    Purchases,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Wallet => WALLET_STREAM,
            Stream::Purchases => PURCHASES_STREAM,
        }
    }

    /// A sync request for this stream alone (the server leaves the other one as it is).
    fn resync_frame(self, from: i64) -> ClientFrame {
        let mut streams = SyncCursors::default();
        match self {
            Stream::Wallet => streams.wallet = Some(from),
            Stream::Purchases => streams.purchases = Some(from),
        }
        ClientFrame::Sync { streams }
    }
}

/// Per-connection state of one stream.
#[derive(Debug, Default)]
struct StreamSync {
    resyncs_in_a_row: u32,
    suspect_ahead: bool,
    in_step: bool,
}

/// Per-connection state of every stream: what a server frame means for the local copy.
#[derive(Debug, Default)]
pub(crate) struct Syncer {
    wallet: StreamSync,
    purchases: StreamSync,
    online: bool,
    progress: SyncProgress,
}

/// The first frame of a connection: both streams from their stored cursors.
pub(crate) fn sync_frame(wallet_cursor: i64, purchases_cursor: i64) -> ClientFrame {
    ClientFrame::Sync {
        streams: SyncCursors {
            wallet: Some(wallet_cursor),
            purchases: Some(purchases_cursor),
        },
    }
}

impl Syncer {
    /// The first frame after connecting: everything after the stored cursors.
    pub(crate) fn start(&mut self, store: &Store) -> Result<ClientFrame> {
        Ok(sync_frame(
            store.cursor(WALLET_STREAM)?,
            store.cursor(PURCHASES_STREAM)?,
        ))
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

    pub(crate) fn on_frame(&mut self, store: &mut Store, frame: ServerFrame) -> Result<Step> {
        match frame {
            ServerFrame::SyncBatch(batch) => {
                let (stream, applied) = match &batch.entries {
                    StreamEntries::Wallet(entries) => {
                        (Stream::Wallet, store.apply_wallet_entries(entries)?)
                    }
                    StreamEntries::Purchases(entries) => {
                        (Stream::Purchases, store.apply_purchase_entries(entries)?)
                    }
                };
                let received = match &batch.entries {
                    StreamEntries::Wallet(e) => e.len(),
                    StreamEntries::Purchases(e) => e.len(),
                } as u64;
                let progress = self.stream_progress(stream);
                progress.received += received;
                progress.cursor = applied.cursor;
                progress.head = batch.checkpoint.head;
                let mut step = Step {
                    changed: applied.changed,
                    progress: Some(self.progress),
                    ..Step::default()
                };
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
                            store.mark_synced()?;
                            step.changed = true;
                            step.caught_up = !self.online;
                            self.online = true;
                        }
                    }
                    Verdict::Behind => {
                        tracing::debug!(
                            stream = stream.name(),
                            cursor = applied.cursor,
                            head = batch.checkpoint.head,
                            "stream behind; re-syncing"
                        );
                        step.send = Some(st.resync(stream, applied.cursor)?);
                    }
                    Verdict::AheadOfServer if !st.suspect_ahead => {
                        // Could be a checkpoint read just before a live push we already applied:
                        // ask once more before believing the server lost entries.
                        st.suspect_ahead = true;
                        step.send = Some(st.resync(stream, applied.cursor)?);
                    }
                    Verdict::AheadOfServer | Verdict::Diverged => {
                        tracing::warn!(
                            stream = stream.name(),
                            cursor = applied.cursor,
                            head = batch.checkpoint.head,
                            "local history disagrees with the server; rebuilding it from position 0"
                        );
                        st.suspect_ahead = false;
                        st.in_step = false;
                        step.send = Some(st.resync(stream, 0)?);
                        match stream {
                            Stream::Wallet => store.reset_wallet_stream()?,
                            Stream::Purchases => store.reset_purchases_stream()?,
                        }
                        self.stream_progress(stream).cursor = 0;
                        self.progress.caught_up = false;
                        step.progress = Some(self.progress);
                        step.changed = true;
                    }
                }
                Ok(step)
            }
            ServerFrame::Event(LiveEvent::WalletUpdated { balance }) => Ok(Step {
                changed: store.apply_wallet_balance(&balance)?,
                ..Step::default()
            }),
            ServerFrame::Event(other) => {
                tracing::trace!(?other, "live event not cached by this client version");
                Ok(Step::default())
            }
            ServerFrame::Error { code, message } => {
                if ends_session(&code) {
                    // Logged out elsewhere or deactivated: no refresh can help, sign in again.
                    tracing::info!(%code, "the server ended this session");
                    return Err(ClientError::Unauthenticated);
                }
                if is_auth_error(&code) {
                    // The loop refreshes the access token and reconnects.
                    return Err(ClientError::Api {
                        status: 401,
                        code,
                        message,
                        fields: Default::default(),
                    });
                }
                if code == "SYNC_UNAVAILABLE" {
                    // The server could not read a stream: reconnect after a backoff rather
                    // than re-asking in a tight loop.
                    return Err(ClientError::Api {
                        status: 503,
                        code,
                        message,
                        fields: Default::default(),
                    });
                }
                tracing::warn!(%code, %message, "sync error frame from the server");
                Ok(Step::default())
            }
            ServerFrame::Pong => Ok(Step::default()),
        }
    }
}

impl StreamSync {
    fn resync(&mut self, stream: Stream, from: i64) -> Result<ClientFrame> {
        self.resyncs_in_a_row += 1;
        if self.resyncs_in_a_row > MAX_RESYNCS_IN_A_ROW {
            return Err(ClientError::OutOfStep);
        }
        Ok(stream.resync_frame(from))
    }
}

fn is_auth_error(code: &str) -> bool {
    matches!(
        code,
        "UNAUTHENTICATED" | "UNAUTHORIZED" | "TOKEN_EXPIRED" | "INVALID_TOKEN"
    )
}

/// Codes with which the server closes a socket whose session is over for good (logout, refresh
/// token reuse, deactivated account).
fn ends_session(code: &str) -> bool {
    matches!(code, "SESSION_REVOKED" | "ACCOUNT_DEACTIVATED")
}

/// When to send the next `auth` frame for `token`: before it expires, never sooner than a second
/// from now (a token whose claims say it is already stale must not cause a renewal loop). `None`
/// when the token's expiry cannot be read.
fn renewal(token: &str) -> Option<Instant> {
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let wait = crate::session::renew_after(token, now_unix)?;
    Some(Instant::now() + wait.max(Duration::from_secs(1)))
}

/// Sleeps until `at`; forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

// ---- connection loop -------------------------------------------------------------------------

/// Handle of the running sync task.
pub(crate) struct SyncTask {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl SyncTask {
    pub(crate) fn spawn(inner: Arc<Inner>) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let handle = tokio::spawn(run(inner, stop_rx));
        SyncTask { stop, handle }
    }

    /// Asks the task to close its socket politely, then waits a little for it.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        let mut handle = self.handle;
        if tokio::time::timeout(Duration::from_secs(3), &mut handle)
            .await
            .is_err()
        {
            handle.abort();
        }
    }

    /// For `Drop`: no waiting possible there.
    pub(crate) fn abort(self) {
        let _ = self.stop.send(true);
        self.handle.abort();
    }
}

/// How one connection ended.
enum Ended {
    Stopped,
    /// The server closed, went silent or the socket broke.
    Dropped,
    /// The upgrade was refused with 401 and the token was refreshed: try again at once.
    Reauthenticated,
}

async fn run(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    let mut attempt: u32 = 0;
    let mut reauth_in_a_row = 0u32;
    loop {
        let mut reached_online = false;
        let ended = connect_and_sync(&inner, &mut stop, &mut reached_online).await;
        if reached_online {
            attempt = 0;
        }
        match ended {
            Ok(Ended::Stopped) => return,
            Ok(Ended::Reauthenticated) if reauth_in_a_row < 2 => {
                reauth_in_a_row += 1;
                continue;
            }
            Ok(Ended::Reauthenticated) | Ok(Ended::Dropped) => {
                inner.set_connection(
                    ConnectionState::Offline,
                    Some("Connection to the server lost.".into()),
                );
            }
            Err(ClientError::Unauthenticated) => {
                // The refresh token is dead: nothing to sync until the user signs in again.
                inner.session_expired();
                return;
            }
            Err(e) => {
                tracing::info!(error = %ErrorChain(&e), "sync connection failed");
                let msg = if e.is_offline() {
                    "The server cannot be reached."
                } else {
                    "Sync failed."
                };
                inner.set_connection(ConnectionState::Offline, Some(msg.into()));
            }
        }
        reauth_in_a_row = 0;
        let delay = backoff(attempt);
        attempt = attempt.saturating_add(1);
        tracing::debug!(?delay, attempt, "reconnecting later");
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

async fn connect_and_sync(
    inner: &Arc<Inner>,
    stop: &mut watch::Receiver<bool>,
    reached_online: &mut bool,
) -> Result<Ended> {
    if *stop.borrow() {
        return Ok(Ended::Stopped);
    }
    let mut token = inner.access_token().await?;
    let mut req = inner.api.ws_url().into_client_request().map_err(ws_error)?;
    let bearer = HeaderValue::from_str(&format!("Bearer {}", token.token))
        .map_err(|_| ClientError::Config("access token is not a valid header value"))?;
    req.headers_mut().insert(header::AUTHORIZATION, bearer);

    let connecting = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(req));
    let ws = tokio::select! {
        _ = stop.changed() => return Ok(Ended::Stopped),
        r = connecting => match r {
            Err(_elapsed) => return Err(ws_error(tungstenite::Error::Io(std::io::ErrorKind::TimedOut.into()))),
            Ok(Err(tungstenite::Error::Http(resp))) if resp.status() == StatusCode::UNAUTHORIZED => {
                inner.refresh(Some(token.generation)).await?;
                return Ok(Ended::Reauthenticated);
            }
            Ok(Err(e)) => return Err(ws_error(e)),
            Ok(Ok((ws, _resp))) => ws,
        }
    };
    tracing::debug!("sync socket open");
    // Progress counts this connection's catch-up.
    inner.set_sync_progress(None);
    let (mut sink, mut stream) = ws.split();

    let mut syncer = Syncer::default();
    let first = inner.with_store(|s| syncer.start(s))?;
    sink.send(to_message(&first)?).await.map_err(ws_error)?;

    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_heard = Instant::now();
    // The server closes the socket when its access token expires (TOKEN_EXPIRED): renew it on
    // the open socket before then.
    let mut renew_at = renewal(&token.token);
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return Ok(Ended::Stopped);
            }
            _ = sleep_until_some(renew_at) => {
                let fresh = inner.refresh(Some(token.generation)).await?;
                sink.send(to_message(&ClientFrame::Auth { token: fresh.token.clone() })?)
                    .await
                    .map_err(ws_error)?;
                tracing::debug!("sync socket's access token renewed");
                renew_at = renewal(&fresh.token);
                token = fresh;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    tracing::info!("sync socket silent for too long; reconnecting");
                    return Ok(Ended::Dropped);
                }
                sink.send(to_message(&ClientFrame::Ping)?).await.map_err(ws_error)?;
                if *reached_online {
                    // A vote queued while the socket stayed up (the HTTP call failed alone)
                    // is retried here rather than waiting for the next reconnect.
                    Inner::spawn_outbox_replay(inner);
                }
            }
            msg = stream.next() => {
                let msg = match msg {
                    None => return Ok(Ended::Dropped),
                    Some(Err(e)) => return Err(ws_error(e)),
                    Some(Ok(m)) => m,
                };
                last_heard = Instant::now();
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => return Ok(Ended::Dropped),
                    // Pings are answered by tungstenite itself; binary frames are not part of the protocol.
                    _ => continue,
                };
                let frame: ServerFrame = match serde_json::from_str(text.as_str()) {
                    Ok(f) => f,
                    Err(e) => {
                        // A newer server may send frames this version does not know: skip them.
                        tracing::debug!(error = %e, "ignoring an unknown sync frame");
                        continue;
                    }
                };
                let step = match inner.with_store(|s| syncer.on_frame(s, frame)) {
                    Ok(step) => step,
                    Err(ClientError::Api { status: 401, .. }) => {
                        inner.refresh(Some(token.generation)).await?;
                        return Ok(Ended::Reauthenticated);
                    }
                    Err(e) => return Err(e),
                };
                if let Some(progress) = step.progress {
                    inner.set_sync_progress(Some(progress));
                }
                if step.caught_up {
                    *reached_online = true;
                    inner.set_connection(ConnectionState::Online, None);
                    Inner::spawn_outbox_replay(inner);
                } else if step.changed {
                    inner.notify();
                }
                if let Some(f) = step.send {
                    sink.send(to_message(&f)?).await.map_err(ws_error)?;
                }
            }
        }
    }
}

fn to_message(frame: &ClientFrame) -> Result<Message> {
    let text = serde_json::to_string(frame).map_err(|source| ClientError::Protocol {
        context: "client frame",
        source,
    })?;
    Ok(Message::text(text))
}

fn ws_error(e: tungstenite::Error) -> ClientError {
    ClientError::WebSocket(Box::new(e))
}

#[cfg(test)]
mod tests;
