//! The browser's sync connection: one WebSocket to `/api/v1/ws`, catch-up from the stored
//! cursors, live changes into the local copy, reconnect with full-jitter backoff. The frame logic
//! is `oddxer_sync::Syncer`, the same as the native core's; only the socket and timers are here.
//!
//! A browser cannot set headers on a WebSocket upgrade, so the first frame is
//! `{"type":"auth","token":...}`; a fresh one is sent before the token expires.

use std::cell::Cell;
use std::pin::pin;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::Message;
use oddxer_shared::client::ConnectionState;
use oddxer_shared::sync::{ClientFrame, ServerFrame};
use oddxer_sync::{full_jitter_ms, renew_after, SyncError, Syncer};

use super::error::{Result, WebError};
use super::live::WebStore;
use super::session::{self, AccessToken};
use super::{changed, commands, http, set_connection, set_sync_progress, with};
use crate::browser::{now_ms, sleep_ms};

/// How often the client pings; the server answers `pong`, which proves the path is alive.
const PING_EVERY_MS: f64 = 20_000.0;
/// No frame at all for this long means the connection is dead.
const SILENCE_LIMIT_MS: f64 = 45_000.0;
/// How often the connection's timers are looked at.
const TICK_MS: i32 = 1_000;
/// The socket must open within this long.
const CONNECT_TIMEOUT_MS: i32 = 10_000;

thread_local! {
    /// Bumped to stop the running loop (sign-out, a new session): a loop runs while its
    /// generation is current.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

fn current(generation: u64) -> bool {
    GENERATION.with(|g| g.get()) == generation
}

/// Starts (or restarts) the sync loop.
pub fn start() {
    let generation = GENERATION.with(|g| {
        g.set(g.get() + 1);
        g.get()
    });
    wasm_bindgen_futures::spawn_local(run(generation));
}

/// Stops the sync loop (its socket closes within a tick).
pub fn stop() {
    GENERATION.with(|g| g.set(g.get() + 1));
}

/// How one connection ended.
enum Ended {
    Stopped,
    /// The server closed, went silent or the socket broke.
    Dropped,
    /// The token was refused and has been refreshed: try again at once.
    Reauthenticated,
}

async fn run(generation: u64) {
    let mut attempt: u32 = 0;
    let mut reauth_in_a_row = 0u32;
    loop {
        if !current(generation) {
            return;
        }
        let mut reached_online = false;
        let ended = connect_and_sync(generation, &mut reached_online).await;
        if !current(generation) {
            return;
        }
        if reached_online {
            attempt = 0;
        }
        match ended {
            Ok(Ended::Stopped) => return,
            Ok(Ended::Reauthenticated) if reauth_in_a_row < 2 => {
                reauth_in_a_row += 1;
                continue;
            }
            Ok(Ended::Reauthenticated) | Ok(Ended::Dropped) => set_connection(
                ConnectionState::Offline,
                Some("Connection to the server lost.".into()),
            ),
            Err(WebError::Unauthenticated) => {
                // The cookie is dead: nothing to sync until the user signs in again.
                return;
            }
            Err(e) => {
                super::log_info(&format!("sync connection failed: {e}"));
                let msg = if e.is_unreachable() {
                    "The server cannot be reached."
                } else {
                    "Sync failed."
                };
                set_connection(ConnectionState::Offline, Some(msg.into()));
            }
        }
        reauth_in_a_row = 0;
        let delay = full_jitter_ms(attempt, js_sys::Math::random());
        attempt = attempt.saturating_add(1);
        sleep_ms(i32::try_from(delay).unwrap_or(i32::MAX)).await;
    }
}

/// One event of a connection: a socket message, its end, or a timer tick.
enum Event {
    Message(std::result::Result<Message, gloo_net::websocket::WebSocketError>),
    Closed,
    Tick,
}

fn text(frame: &ClientFrame) -> Result<Message> {
    serde_json::to_string(frame)
        .map(Message::Text)
        .map_err(|source| WebError::Protocol {
            context: "client frame",
            source,
        })
}

/// When to renew `token` (epoch ms); `None` when its expiry cannot be read.
fn renewal(token: &str) -> Option<f64> {
    let now = now_ms();
    let wait = renew_after(token, (now / 1000.0) as i64)?;
    Some(now + (wait.as_millis() as f64).max(1000.0))
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;
type Source = futures_util::stream::SplitStream<WebSocket>;

async fn connect_and_sync(generation: u64, reached_online: &mut bool) -> Result<Ended> {
    let token: AccessToken = session::access_token().await?;
    let ws = WebSocket::open(&http::ws_url()).map_err(|e| WebError::Offline(e.to_string()))?;
    let (mut sink, mut stream) = ws.split();
    // A ticker drives the timers; it stops when `ticks` is dropped.
    let (tick_tx, mut ticks) = mpsc::unbounded::<()>();
    wasm_bindgen_futures::spawn_local(async move {
        loop {
            sleep_ms(TICK_MS).await;
            if tick_tx.unbounded_send(()).is_err() {
                return;
            }
        }
    });
    let ended = drive(
        generation,
        token,
        reached_online,
        &mut sink,
        &mut stream,
        &mut ticks,
    )
    .await;
    // However the connection ended, the socket is closed here (dropping its halves does not).
    if let Ok(ws) = stream.reunite(sink) {
        let _ = ws.close(None, None);
    }
    ended
}

async fn drive(
    generation: u64,
    mut token: AccessToken,
    reached_online: &mut bool,
    sink: &mut Sink,
    stream: &mut Source,
    ticks: &mut mpsc::UnboundedReceiver<()>,
) -> Result<Ended> {
    let mut syncer = Syncer::default();
    // The sink waits for the socket to open; a socket that never opens counts as offline.
    {
        let first = with(|s| syncer.start(&s.doc.streams)).unwrap_or_else(|e| match e {});
        let mut greeting = vec![
            text(&ClientFrame::Auth {
                token: token.token.clone(),
            })?,
            text(&first)?,
        ];
        for subscribe in oddxer_sync::market_subscriptions() {
            greeting.push(text(&subscribe)?);
        }
        let send_all = async {
            for m in greeting {
                sink.send(m).await?;
            }
            Ok::<(), gloo_net::websocket::WebSocketError>(())
        };
        let timeout = sleep_ms(CONNECT_TIMEOUT_MS);
        match select(pin!(send_all), pin!(timeout)).await {
            Either::Left((Ok(()), _)) => {}
            Either::Left((Err(e), _)) => return Err(WebError::Offline(e.to_string())),
            Either::Right(_) => return Err(WebError::Offline("the socket did not open".into())),
        }
    }
    set_sync_progress(None);
    let mut last_heard = now_ms();
    let mut next_ping = now_ms() + PING_EVERY_MS;
    let mut renew_at = renewal(&token.token);

    loop {
        let event = match select(stream.next(), ticks.next()).await {
            Either::Left((Some(m), _)) => Event::Message(m),
            Either::Left((None, _)) | Either::Right((None, _)) => Event::Closed,
            Either::Right((Some(()), _)) => Event::Tick,
        };
        if !current(generation) {
            return Ok(Ended::Stopped);
        }
        match event {
            Event::Tick => {
                let now = now_ms();
                if renew_at.is_some_and(|at| now >= at) {
                    let fresh = session::refresh(Some(token.generation)).await?;
                    sink.send(text(&ClientFrame::Auth {
                        token: fresh.token.clone(),
                    })?)
                    .await
                    .map_err(|e| WebError::Offline(e.to_string()))?;
                    renew_at = renewal(&fresh.token);
                    token = fresh;
                }
                if now >= next_ping {
                    if now - last_heard > SILENCE_LIMIT_MS {
                        return Ok(Ended::Dropped);
                    }
                    next_ping = now + PING_EVERY_MS;
                    sink.send(text(&ClientFrame::Ping)?)
                        .await
                        .map_err(|e| WebError::Offline(e.to_string()))?;
                    if *reached_online && commands::outbox_pending() {
                        // A vote whose HTTP call failed alone is retried while the socket is up.
                        wasm_bindgen_futures::spawn_local(commands::replay_outbox());
                    }
                }
            }
            Event::Closed | Event::Message(Err(_)) => return Ok(Ended::Dropped),
            Event::Message(Ok(Message::Bytes(_))) => {}
            Event::Message(Ok(Message::Text(body))) => {
                last_heard = now_ms();
                let Ok(frame) = serde_json::from_str::<ServerFrame>(&body) else {
                    // A newer server may send frames this version does not know.
                    continue;
                };
                let step = match with(|s| {
                    let mut store = WebStore {
                        doc: &mut s.doc,
                        market: &mut s.market,
                    };
                    syncer.on_frame(&mut store, frame)
                }) {
                    Ok(step) => step,
                    Err(SyncError::Auth { .. }) => {
                        session::refresh(Some(token.generation)).await?;
                        return Ok(Ended::Reauthenticated);
                    }
                    Err(SyncError::SessionEnded { .. }) => {
                        super::session_expired();
                        return Err(WebError::Unauthenticated);
                    }
                    Err(SyncError::OutOfStep) => return Err(WebError::OutOfStep),
                    Err(SyncError::Unavailable { code, message }) => {
                        return Err(WebError::Api {
                            status: 503,
                            code,
                            message,
                            fields: Default::default(),
                        })
                    }
                    Err(SyncError::Store(never)) => match never {},
                };
                if let Some(stream) = step.rebuilt {
                    super::log_warn(&format!(
                        "local {} history disagrees with the server; rebuilding it from 0",
                        stream.name()
                    ));
                }
                if let Some(progress) = step.progress {
                    set_sync_progress(Some(progress));
                }
                live_step(&step);
                if step.progress.is_some_and(|p| p.caught_up) {
                    // Both streams in step with the server's checkpoints (`mark_synced`).
                    with(|s| s.doc.last_synced_at = Some(super::now_rfc3339()));
                }
                if step.caught_up {
                    *reached_online = true;
                    set_connection(ConnectionState::Online, None);
                    if commands::outbox_pending() {
                        wasm_bindgen_futures::spawn_local(commands::replay_outbox());
                    }
                }
                if step.changed || step.progress.is_some() {
                    changed();
                }
                if let Some(f) = step.send {
                    sink.send(text(&f)?)
                        .await
                        .map_err(|e| WebError::Offline(e.to_string()))?;
                }
            }
        }
    }
}

/// After a frame: moves the screens' live revisions and fetches a code that sold (its places
/// left), as the native core does. (OS notifications are the native shells'; the browser shows
/// the in-app list.)
fn live_step(step: &oddxer_sync::Step) {
    if step.market_changed || step.seller_changed || step.payments_changed {
        with(|s| {
            if step.market_changed {
                s.live.market += 1;
            }
            if step.seller_changed {
                s.live.seller += 1;
            }
            if step.payments_changed {
                s.live.payments += 1;
            }
        });
    }
    if let Some(id) = step.refetch_code.clone() {
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(id) = super::path_id(&id).map(str::to_owned) else {
                return;
            };
            let Ok(code) = http::Call::get(&format!("/codes/{id}"))
                .fetch_anonymous::<oddxer_shared::api::CodeOut>()
                .await
            else {
                return;
            };
            with(|s| {
                super::live::apply_live_code(&mut s.market, &code);
                s.live.market += 1;
                s.live.seller += 1;
            });
            changed();
        });
    }
}
