//! The sync engine: one WebSocket to `/api/v1/ws`, catch-up from the stored cursor, live changes
//! into SQLite, reconnect with jittered backoff.
//!
//! Split in two: [`Syncer`] decides what a server frame means for the local copy of each stream
//! (wallet and purchases: the rules of `oddxer_sync`, shared with the browser core, over the
//! SQLite `Store`; tested here in `sync/tests.rs`) and [`run`] owns the socket, the timers and the
//! retries. Reaching Online also replays the outbox.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oddxer_shared::client::ConnectionState;
use oddxer_shared::sync::{ClientFrame, ServerFrame};
use oddxer_sync::{Step, SyncError};
use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::client::Inner;
use crate::error::{ClientError, ErrorChain, Result};
use crate::store::Store;

/// How often the client pings; the server answers `pong`, which proves the path is alive.
const PING_EVERY: Duration = Duration::from_secs(20);
/// No frame at all for this long means the connection is dead even if TCP has not noticed.
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Delay before reconnect attempt `attempt` (0-based): the shared full-jitter rule
/// (`oddxer_sync::backoff`) fed with this thread's random numbers.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(oddxer_sync::full_jitter_ms(
        attempt,
        rand::thread_rng().gen_range(0.0..=1.0),
    ))
}

// ---- frame logic ---------------------------------------------------------------------------

#[cfg(test)]
pub(crate) use oddxer_sync::{sync_frame, Stream};

/// The shared sync rules (`oddxer_sync::Syncer`) over the SQLite store, with their outcomes in
/// this crate's error type and log.
#[derive(Debug, Default)]
pub(crate) struct Syncer(oddxer_sync::Syncer);

impl Syncer {
    /// The first frame after connecting: everything after the stored cursors.
    pub(crate) fn start(&mut self, store: &Store) -> Result<ClientFrame> {
        self.0.start(store)
    }

    pub(crate) fn on_frame(&mut self, store: &mut Store, frame: ServerFrame) -> Result<Step> {
        let mut step = self.0.on_frame(store, frame).map_err(|e| match e {
            SyncError::Store(e) => e,
            SyncError::OutOfStep => ClientError::OutOfStep,
            SyncError::SessionEnded { code } => {
                // Logged out elsewhere or deactivated: no refresh can help, sign in again.
                tracing::info!(%code, "the server ended this session");
                ClientError::Unauthenticated
            }
            // The loop refreshes the access token and reconnects.
            SyncError::Auth { code, message } => ClientError::Api {
                status: 401,
                code,
                message,
                fields: Default::default(),
            },
            // The server could not read a stream: reconnect after a backoff rather than
            // re-asking in a tight loop.
            SyncError::Unavailable { code, message } => ClientError::Api {
                status: 503,
                code,
                message,
                fields: Default::default(),
            },
        })?;
        if let Some(stream) = step.rebuilt {
            tracing::warn!(
                stream = stream.name(),
                "local history disagrees with the server; rebuilding it from position 0"
            );
        } else if let Some(ClientFrame::Sync { streams }) = &step.send {
            tracing::debug!(?streams, "stream behind; re-syncing");
        }
        // Handled by logging it: the connection carries on.
        if let Some((code, message)) = step.server_error.take() {
            tracing::warn!(%code, %message, "sync error frame from the server");
        }
        Ok(step)
    }
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
    for subscribe in oddxer_sync::market_subscriptions() {
        sink.send(to_message(&subscribe)?).await.map_err(ws_error)?;
    }

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
                inner.live_step(&step);
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
