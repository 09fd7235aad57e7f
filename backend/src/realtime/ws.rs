//! `GET /api/v1/ws` (DESIGN.md section 6): authentication, stream sync, live events, and the end of
//! a socket's life: its access token's expiry (unless a fresh `auth` frame renewed it), the
//! account's deactivation, or the end of its session (both announced through the hub, so they
//! reach the sockets of every instance).
//!
//! Memory: an idle socket is one task (this connection), one small writer task, a bounded outbox
//! of serialized frames and tungstenite's buffers, sized below for small client frames. The bench
//! `sockets` measures it (DESIGN.md section 9: at most 20 KiB per idle socket).

mod access;
mod catch_up;
mod outbox;

use super::HubEvent;
use crate::auth::extract::bearer;
use crate::auth::store::{self, User};
use crate::error::AppError;
use crate::metrics::SyncStream;
use crate::state::AppState;
use access::{deadline, grant, Grant, Refused, CLOSE_POLICY, CLOSE_TRY_AGAIN_LATER};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use oddxer_shared::sync::{ClientFrame, LiveEvent, ServerFrame, StreamEntries, SyncBatch};
use outbox::{CloseReason, End, Outbox, Outgoing};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, Semaphore};
use tokio::time::Instant;

const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// Per-connection send window: `sync:batch` frames queued or being written to one client at once.
/// The next batch is read from the database only when a slot is free, so a catch-up of any length
/// holds at most this many batches (plus the one being read) in server memory, and the database
/// reads of the next batch overlap the writing of the previous ones.
const SYNC_WINDOW: usize = 3;
/// Frames queued for one client. A client that lets this fill up is disconnected rather than
/// allowed to grow server memory. Frames are queued serialized (a `String` per slot), so the
/// channel's first block of slots costs under 1 KiB per socket.
const OUTBOX_CAPACITY: usize = 256;
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a closing connection waits for its last frames to be written before dropping the socket.
const WRITER_DRAIN: Duration = Duration::from_secs(10);
/// Largest client frame accepted, in bytes (client frames are small JSON commands).
const MAX_CLIENT_MESSAGE_BYTES: usize = 64 * 1024;
/// tungstenite's read buffer per socket, in bytes. Its default, 128 KiB allocated and zeroed per
/// socket, was most of the 141 KiB an idle socket used to cost; client frames are a few hundred
/// bytes, and a bigger one still fits (the buffer grows up to `MAX_CLIENT_MESSAGE_BYTES`).
const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Every frame is written and flushed by itself (the writer awaits each `send`), so tungstenite
/// need not gather writes: 0 writes at once.
const WRITE_BUFFER_BYTES: usize = 0;
/// Bytes tungstenite may hold unsent before a write fails: one sync batch fits many times over;
/// a socket that cannot take that much is stuck and the write error ends it.
const MAX_WRITE_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// The WebSocket of DESIGN.md section 6 (frames in `oddxer_shared::sync`).
#[utoipa::path(get, path = "/ws", tag = "realtime", security((), ("bearer" = [])), responses(
    (status = 101, description = "Switching protocols. Without a bearer header, authenticate with a first `auth` frame within 5 s"),
    (status = 400, description = "UPGRADE_REQUIRED: not a WebSocket upgrade request", body = oddxer_shared::api::ErrorEnvelope),
    (status = 401, description = "Bad bearer token, or its session has ended", body = oddxer_shared::api::ErrorEnvelope),
    (status = 403, description = "Account deactivated, or a browser page of an origin not allowed (`SOCKET_CORS_ORIGIN`, `API_URL`)", body = oddxer_shared::api::ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
pub async fn handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    // A plain GET gets the error envelope like every other bad request, not axum's text.
    let ws = ws.map_err(|rejection| AppError::BadRequest {
        code: "UPGRADE_REQUIRED",
        message: format!("Not a WebSocket upgrade: {}", rejection.body_text()),
    })?;
    // CORS does not cover WebSocket upgrades: a page of any site could open this socket with a
    // token it got hold of. Browsers always send `Origin`, so a page must be one this backend
    // served (its origin names the host the request came to: the web app opened at any of the
    // backend's addresses, e.g. a LAN address from a phone) or come from an allowed origin;
    // native clients send none.
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok());
        let allowed = crate::web::allowed_origins(&state.config);
        if !origin
            .to_str()
            .is_ok_and(|o| crate::web::is_same_origin(o, host) || allowed.iter().any(|a| a == o))
        {
            return Err(AppError::Forbidden(
                "This origin may not open the socket (see SOCKET_CORS_ORIGIN)",
            ));
        }
    }
    // Subscribed before the checks below, so a deactivation or logout that lands between the check
    // and the upgrade still reaches this socket.
    let hub = state.hub.subscribe();
    // With a bearer header the token is checked before the upgrade, so a bad one gets a plain 401.
    let pre_authenticated = match bearer(&headers) {
        Some(token) => Some(
            grant(&state, token)
                .await
                .map_err(Refused::into_app_error)?,
        ),
        None => None,
    };
    Ok(ws
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| serve(state, socket, hub, pre_authenticated))
        .into_response())
}

async fn serve(
    state: AppState,
    socket: WebSocket,
    hub: broadcast::Receiver<HubEvent>,
    pre_authenticated: Option<Grant>,
) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(OUTBOX_CAPACITY);
    let close_with: CloseReason = Default::default();
    let closing = close_with.clone();
    let writer = tokio::spawn(async move {
        while let Some(Outgoing { text, window_slot }) = out_rx.recv().await {
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
            // Written and flushed: the send window has room for the next batch.
            drop(window_slot);
        }
        // The close frame says why, as RFC 6455 section 7.4 codes (the `error` frame before it
        // has the details): clients and proxies that only see the close still know.
        let reason = closing.lock().ok().and_then(|r| *r);
        match reason {
            Some((code, why)) => {
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code,
                        reason: why.into(),
                    })))
                    .await;
            }
            None => {
                let _ = sink.close().await;
            }
        }
    });
    let out = Outbox {
        tx: out_tx,
        window: std::sync::Arc::new(Semaphore::new(SYNC_WINDOW)),
        close_with,
    };
    let grant = match pre_authenticated {
        Some(g) => Some(g),
        None => await_auth_frame(&state, &out, &mut stream).await,
    };
    if let Some(grant) = grant {
        tracing::info!(user = %grant.user.id, "websocket connected");
        // Counted while authenticated, however the socket ends (the guard drops with this task).
        let _counted = state.db.metrics.ws_connected();
        let mut conn = Connection {
            state,
            out,
            me: grant.user.id.to_hex(),
            expires: deadline(grant.expires_at),
            user: grant.user,
            session: grant.session,
            wallet_cursor: None,
            purchases_cursor: None,
            sports: HashSet::new(),
        };
        // Boxed: the future holds the sync paths' database calls, which an idle socket never needs
        // inline in its task.
        Box::pin(conn.run(hub, &mut stream)).await;
    } else {
        drop(out);
    }
    // The outbox's last sender is gone: the writer sends what is queued (an error frame), then
    // closes. A client that does not read would keep it waiting on a full TCP window forever (the
    // slow consumer case): after WRITER_DRAIN it is aborted, which drops the socket.
    let mut writer = writer;
    if tokio::time::timeout(WRITER_DRAIN, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

async fn await_auth_frame(
    state: &AppState,
    out: &Outbox,
    stream: &mut SplitStream<WebSocket>,
) -> Option<Grant> {
    let first = tokio::time::timeout(AUTH_TIMEOUT, stream.next()).await;
    let token = match first {
        Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<ClientFrame>(&text) {
            Ok(ClientFrame::Auth { token }) => token,
            _ => {
                out.closing(CLOSE_POLICY, "UNAUTHENTICATED");
                let _ = out.error(
                    "UNAUTHENTICATED",
                    "The first frame must be {\"type\":\"auth\",\"token\":...}",
                );
                return None;
            }
        },
        Err(_) => {
            out.closing(CLOSE_POLICY, "UNAUTHENTICATED");
            let _ = out.error("UNAUTHENTICATED", "No auth frame within 5 seconds");
            return None;
        }
        _ => return None,
    };
    match grant(state, &token).await {
        Ok(g) => Some(g),
        Err(refused) => {
            out.refuse(&refused);
            None
        }
    }
}

struct Connection {
    state: AppState,
    out: Outbox,
    user: User,
    /// `user.id` as hex, the form hub events address users by.
    me: String,
    session: Option<String>,
    /// When the current access token expires; an `auth` frame with a fresh token moves it.
    expires: Instant,
    wallet_cursor: Option<i64>,
    purchases_cursor: Option<i64>,
    sports: HashSet<String>,
}

impl Connection {
    fn send(&self, frame: ServerFrame) -> Result<(), End> {
        self.out.send(&frame)?;
        self.count_sent(&frame);
        Ok(())
    }

    fn count_sent(&self, frame: &ServerFrame) {
        let metrics = &self.state.db.metrics;
        match frame {
            ServerFrame::Event(event) => metrics.ws_event_sent(event),
            ServerFrame::SyncBatch(SyncBatch {
                entries: StreamEntries::Wallet(e),
                ..
            }) => metrics.sync_entries_sent(SyncStream::Wallet, e.len()),
            ServerFrame::SyncBatch(SyncBatch {
                entries: StreamEntries::Purchases(e),
                ..
            }) => metrics.sync_entries_sent(SyncStream::Purchases, e.len()),
            _ => {}
        }
    }

    fn error(&self, code: &str, message: &str) -> Result<(), End> {
        self.out.error(code, message)
    }

    async fn run(
        &mut self,
        mut hub: broadcast::Receiver<HubEvent>,
        stream: &mut SplitStream<WebSocket>,
    ) {
        let end = loop {
            let step = tokio::select! {
                incoming = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => match incoming {
                    Ok(Some(Ok(Message::Text(text)))) => Box::pin(self.on_frame(&text)).await,
                    Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => Err(End::Gone),
                    Ok(Some(Ok(_))) => Ok(()),
                    Err(_) => Err(End::Gone), // idle: the client stopped pinging
                },
                () = tokio::time::sleep_until(self.expires) => Err(End::Expired),
                event = hub.recv() => match event {
                    Ok(event) => Box::pin(self.on_event(event)).await,
                    // Missed notifications: re-read from the cursors, which loses nothing, and
                    // check the account and session, whose end may have been among them.
                    Err(broadcast::error::RecvError::Lagged(_)) => Box::pin(self.on_lagged()).await,
                    Err(broadcast::error::RecvError::Closed) => Err(End::Gone),
                },
            };
            if let Err(end) = step {
                break end;
            }
        };
        let user = self.user.id;
        match end {
            End::Gone => {}
            End::SlowConsumer => {
                tracing::warn!(%user, "slow websocket consumer disconnected");
                self.out.closing(CLOSE_TRY_AGAIN_LATER, "SLOW_CONSUMER");
            }
            End::Expired => {
                tracing::info!(%user, "websocket closed: access token expired");
                self.out.closing(CLOSE_POLICY, "TOKEN_EXPIRED");
                let _ = self.error(
                    "TOKEN_EXPIRED",
                    "The access token expired; send a fresh auth frame before it does",
                );
            }
            End::Refused(refused) => {
                tracing::info!(%user, ?refused, "websocket closed");
                self.out.refuse(&refused);
            }
        }
    }

    async fn on_event(&mut self, event: HubEvent) -> Result<(), End> {
        let me = self.me.as_str();
        match event {
            HubEvent::WalletChanged { user } if user == me => self.on_wallet_changed().await,
            HubEvent::PurchasesChanged { user } if user == me => self.send_purchases_since().await,
            HubEvent::ToUser { user, event } if user == me => self.send(ServerFrame::Event(event)),
            HubEvent::ToUsers { users, event } if users.iter().any(|u| u == me) => {
                self.send(ServerFrame::Event(event))
            }
            HubEvent::ToSport { sport, event } if self.sports.contains(&sport) => {
                self.send(ServerFrame::Event(event))
            }
            HubEvent::ToFollowers {
                users,
                sport,
                event,
            } => {
                if users.iter().any(|u| u == me) {
                    self.send(ServerFrame::Event(followed(event)))
                } else if self.sports.contains(&sport) {
                    self.send(ServerFrame::Event(event))
                } else {
                    Ok(())
                }
            }
            HubEvent::UserDeactivated { user } if user == me => {
                Err(End::Refused(Refused::Deactivated))
            }
            HubEvent::SessionRevoked { user, session }
                if user == me && self.session.as_deref() == Some(session.as_str()) =>
            {
                Err(End::Refused(Refused::Revoked))
            }
            _ => Ok(()),
        }
    }

    async fn on_lagged(&mut self) -> Result<(), End> {
        match store::find_by_id(&self.state.db, self.user.id).await {
            Ok(Some(user)) if user.is_active => {}
            Ok(_) => return Err(End::Refused(Refused::Deactivated)),
            Err(e) => tracing::warn!(error = %e, "user re-read after hub lag failed"),
        }
        if let Some(session) = &self.session {
            if let Ok(true) = store::family_revoked(&self.state.db, session).await {
                return Err(End::Refused(Refused::Revoked));
            }
        }
        self.on_wallet_changed().await?;
        self.send_purchases_since().await
    }

    async fn on_frame(&mut self, text: &str) -> Result<(), End> {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(f) => f,
            Err(_) => return self.error("BAD_FRAME", "Unrecognised frame"),
        };
        match frame {
            ClientFrame::Ping => self.send(ServerFrame::Pong),
            ClientFrame::Auth { token } => self.renew(&token).await,
            ClientFrame::Subscribe { sport } => {
                if self.sports.len() < 32 {
                    self.sports.insert(sport.to_ascii_uppercase());
                }
                Ok(())
            }
            ClientFrame::Unsubscribe { sport } => {
                self.sports.remove(&sport.to_ascii_uppercase());
                Ok(())
            }
            ClientFrame::Sync { streams } => {
                if let Some(cursor) = streams.wallet {
                    self.wallet_cursor = Some(cursor.max(0));
                    self.send_wallet_since(None).await?;
                }
                if let Some(cursor) = streams.purchases {
                    self.purchases_cursor = Some(cursor.max(0));
                    self.send_purchases_since().await?;
                }
                Ok(())
            }
        }
    }

    /// A fresh access token for the same user moves the socket's deadline to its expiry (and its
    /// session to the token's). Any other token ends the socket: it is not this user's to extend.
    async fn renew(&mut self, token: &str) -> Result<(), End> {
        let grant = grant(&self.state, token).await.map_err(End::Refused)?;
        if grant.user.id != self.user.id {
            return Err(End::Refused(Refused::Invalid));
        }
        self.expires = deadline(grant.expires_at);
        self.session = grant.session;
        self.user = grant.user;
        Ok(())
    }
}

/// The copy of a followed seller's event a follower receives: its data marked `"followed": true`.
fn followed(event: LiveEvent) -> LiveEvent {
    match event {
        LiveEvent::CodeCreated(mut data) => {
            if let Some(obj) = data.as_object_mut() {
                obj.insert("followed".to_owned(), serde_json::Value::Bool(true));
            }
            LiveEvent::CodeCreated(data)
        }
        other => other,
    }
}
