//! `GET /api/v1/ws` (DESIGN.md section 6): authentication, stream sync, live events.

use super::HubEvent;
use crate::auth::extract::{authenticate, bearer};
use crate::auth::store::User;
use crate::error::AppError;
use crate::ledger::accounts;
use crate::purchases::stream as purchase_stream;
use crate::state::AppState;
use crate::wallet::service::entry_out;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use oddxer_shared::sync::{Checkpoint, ClientFrame, LiveEvent, ServerFrame, StreamEntries, SyncBatch};
use oddxer_shared::Money;
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
const BATCH_SIZE: i64 = 200;
/// Frames queued for one client. A client that lets this fill up is disconnected rather than
/// allowed to grow server memory.
const OUTBOX_CAPACITY: usize = 256;
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The WebSocket of DESIGN.md section 6 (frames in `oddxer_shared::sync`).
#[utoipa::path(get, path = "/ws", tag = "realtime", security(("bearer" = [])), responses(
    (status = 101, description = "Switching protocols; or authenticate with a first `auth` frame within 5 s"),
    (status = 401, description = "Bad bearer token", body = oddxer_shared::api::ErrorEnvelope)))]
pub async fn handler(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Result<Response, AppError> {
    // With a bearer header the token is checked before the upgrade, so a bad one gets a plain 401.
    let pre_authenticated = match bearer(&headers) {
        Some(token) => Some(authenticate(&state, token).await?),
        None => None,
    };
    Ok(ws.max_message_size(64 * 1024).on_upgrade(move |socket| serve(state, socket, pre_authenticated)).into_response())
}

async fn serve(state: AppState, socket: WebSocket, pre_authenticated: Option<User>) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<ServerFrame>(OUTBOX_CAPACITY);
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            let Ok(text) = serde_json::to_string(&frame) else { continue };
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut conn = Connection { state, out: out_tx, wallet_cursor: None, purchases_cursor: None, sports: HashSet::new() };
    let user = match pre_authenticated {
        Some(u) => Some(u),
        None => conn.await_auth_frame(&mut stream).await,
    };
    if let Some(user) = user {
        tracing::info!(user = %user.id, "websocket connected");
        conn.run(user, &mut stream).await;
    }
    drop(conn);
    let _ = writer.await;
}

struct Connection {
    state: AppState,
    out: mpsc::Sender<ServerFrame>,
    wallet_cursor: Option<i64>,
    purchases_cursor: Option<i64>,
    sports: HashSet<String>,
}

#[derive(Debug)]
struct SlowConsumer;

impl Connection {
    fn send(&self, frame: ServerFrame) -> Result<(), SlowConsumer> {
        self.out.try_send(frame).map_err(|_| SlowConsumer)
    }

    fn error(&self, code: &str, message: &str) -> Result<(), SlowConsumer> {
        self.send(ServerFrame::Error { code: code.into(), message: message.into() })
    }

    async fn await_auth_frame(&mut self, stream: &mut futures_util::stream::SplitStream<WebSocket>) -> Option<User> {
        let first = tokio::time::timeout(AUTH_TIMEOUT, stream.next()).await;
        let token = match first {
            Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<ClientFrame>(&text) {
                Ok(ClientFrame::Auth { token }) => token,
                _ => {
                    let _ = self.error("UNAUTHENTICATED", "The first frame must be {\"type\":\"auth\",\"token\":...}");
                    return None;
                }
            },
            Err(_) => {
                let _ = self.error("UNAUTHENTICATED", "No auth frame within 5 seconds");
                return None;
            }
            _ => return None,
        };
        match authenticate(&self.state, &token).await {
            Ok(user) => Some(user),
            Err(_) => {
                let _ = self.error("UNAUTHENTICATED", "Invalid or expired access token");
                None
            }
        }
    }

    async fn run(&mut self, user: User, stream: &mut futures_util::stream::SplitStream<WebSocket>) {
        let mut hub = self.state.hub.subscribe();
        let me = user.id.to_hex();
        loop {
            let step = tokio::select! {
                incoming = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => match incoming {
                    Ok(Some(Ok(Message::Text(text)))) => self.on_frame(&user, &text).await,
                    Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => break,
                    Ok(Some(Ok(_))) => Ok(()),
                    Err(_) => break, // idle: the client stopped pinging
                },
                event = hub.recv() => match event {
                    Ok(HubEvent::WalletChanged { user: u }) if u == me => self.on_wallet_changed(&user).await,
                    Ok(HubEvent::PurchasesChanged { user: u }) if u == me => self.send_purchases_since(&user).await,
                    Ok(HubEvent::ToUser { user: u, event }) if u == me => self.send(ServerFrame::Event(event)),
                    Ok(HubEvent::ToUsers { users, event }) if users.contains(&me) => self.send(ServerFrame::Event(event)),
                    Ok(HubEvent::ToSport { sport, event }) if self.sports.contains(&sport) => self.send(ServerFrame::Event(event)),
                    Ok(_) => Ok(()),
                    // Missed notifications: re-read from the cursor, which loses nothing.
                    Err(broadcast::error::RecvError::Lagged(_)) => match self.on_wallet_changed(&user).await {
                        Ok(()) => self.send_purchases_since(&user).await,
                        Err(e) => Err(e),
                    },
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            };
            if step.is_err() {
                tracing::warn!(user = %user.id, "slow websocket consumer disconnected");
                break;
            }
        }
    }

    async fn on_frame(&mut self, user: &User, text: &str) -> Result<(), SlowConsumer> {
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(f) => f,
            Err(_) => return self.error("BAD_FRAME", "Unrecognised frame"),
        };
        match frame {
            ClientFrame::Ping => self.send(ServerFrame::Pong),
            ClientFrame::Auth { .. } => Ok(()),
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
                    self.send_wallet_since(user).await?;
                }
                if let Some(cursor) = streams.purchases {
                    self.purchases_cursor = Some(cursor.max(0));
                    self.send_purchases_since(user).await?;
                }
                Ok(())
            }
        }
    }

    async fn on_wallet_changed(&mut self, user: &User) -> Result<(), SlowConsumer> {
        let currency = &self.state.config.currency;
        match self.state.ledger.entries.head(&accounts::wallet(user.id)).await {
            Ok(head) => self.send(ServerFrame::Event(LiveEvent::WalletUpdated { balance: Money::new(head.balance, currency) }))?,
            Err(e) => tracing::warn!(error = %e, "wallet head read failed"),
        }
        if self.wallet_cursor.is_some() {
            self.send_wallet_since(user).await?;
        }
        Ok(())
    }

    /// Sends every wallet entry after the cursor up to the head read first, so the final checkpoint
    /// (head position and balance) is exactly what the client must hold after applying the batches.
    async fn send_wallet_since(&mut self, user: &User) -> Result<(), SlowConsumer> {
        let account = accounts::wallet(user.id);
        let currency = self.state.config.currency.clone();
        let entries = &self.state.ledger.entries;
        let Some(mut cursor) = self.wallet_cursor else { return Ok(()) };
        let head = match entries.head(&account).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "sync head read failed");
                return self.error("SYNC_UNAVAILABLE", "The wallet could not be read; retry the sync");
            }
        };
        let checkpoint = Checkpoint { head: head.seq, balance: Some(head.balance) };
        loop {
            let batch = match entries.after(&account, cursor, BATCH_SIZE).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "sync read failed");
                    return self.error("SYNC_UNAVAILABLE", "The wallet could not be read; retry the sync");
                }
            };
            let batch: Vec<_> = batch.into_iter().filter(|e| e.seq <= head.seq).collect();
            if let Some(last) = batch.last() {
                cursor = last.seq;
            }
            let done = cursor >= head.seq || batch.is_empty();
            self.send(ServerFrame::SyncBatch(SyncBatch {
                entries: StreamEntries::Wallet(batch.iter().map(|e| entry_out(e, &currency)).collect()),
                cursor,
                done,
                checkpoint,
            }))?;
            if done {
                break;
            }
        }
        self.wallet_cursor = Some(cursor);
        Ok(())
    }
}

impl Connection {
    /// Sends the purchases stream after the cursor up to the head read first (same contract as the
    /// wallet stream; the checkpoint carries no balance).
    async fn send_purchases_since(&mut self, user: &User) -> Result<(), SlowConsumer> {
        let Some(mut cursor) = self.purchases_cursor else { return Ok(()) };
        let db = &self.state.db;
        let stream = purchase_stream::stream_of(user.id);
        let head = match purchase_stream::head(db, &stream).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "purchases head read failed");
                return self.error("SYNC_UNAVAILABLE", "Purchases could not be read; retry the sync");
            }
        };
        let checkpoint = Checkpoint { head, balance: None };
        loop {
            let batch = match purchase_stream::after(db, &stream, cursor, head, BATCH_SIZE).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "purchases read failed");
                    return self.error("SYNC_UNAVAILABLE", "Purchases could not be read; retry the sync");
                }
            };
            if let Some(last) = batch.last() {
                cursor = last.seq;
            }
            let done = cursor >= head || batch.is_empty();
            self.send(ServerFrame::SyncBatch(SyncBatch { entries: StreamEntries::Purchases(batch), cursor, done, checkpoint }))?;
            if done {
                break;
            }
        }
        self.purchases_cursor = Some(cursor);
        Ok(())
    }
}
