//! Idle WebSocket memory (issue 8 item 5; DESIGN.md section 9: an idle socket costs at most 20 KiB
//! of server memory, so 50,000 fit in 1 GiB).
//!
//! `cargo bench -p oddxer-backend --bench sockets`
//!
//! Spawns the real backend binary (so its resident memory is the server's alone, read from
//! `/proc/PID/status` VmRSS), creates `BENCH_SOCKETS` users (default 5000) directly in the database and
//! mints their access tokens with the server's JWT secret (signing 5000 users in through the OTP flow
//! would measure FerretDB, not sockets), opens one authenticated `/api/v1/ws` per user with a bearer
//! header, proves every socket is live and authenticated with a `ping` answered by `pong`, waits,
//! and prints RSS before and after, KiB per socket and whether the targets are met.
//!
//! The per-socket figure is taken against a baseline measured after a warm-up (200 sockets opened,
//! pinged and closed), so one-time costs (allocator arenas, database pool, tokio workers) are not
//! charged to the sockets.
//!
//! Environment: `MONGODB_URI` (default the dev FerretDB), `BENCH_SOCKETS` (5000), `BENCH_IDLE_SECS`
//! (seconds the sockets stay idle before the measurement, default 5). The bench and the server it
//! spawns each hold N sockets, so the open-files limit (`ulimit -n`, inherited by the server) must be
//! above N + 1000; the bench stops and says so when it is not (the workspace forbids `unsafe`, so
//! it does not call setrlimit itself).
//!
//! Prints figures, asserts nothing about them (DESIGN.md section 9).

mod common;

use common::process::{mib, open_files_limit, status_field, status_kib, Server};
use common::{mongodb_uri, unique_phone, unique_username, Table};
use futures_util::{SinkExt, StreamExt};
use oddxer_backend::auth::jwt::JwtKeys;
use oddxer_backend::auth::store::{insert_user, InsertUser};
use oddxer_backend::db::Db;
use oddxer_shared::Role;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WARM_UP_SOCKETS: usize = 200;
/// Sockets opened at once by the bench client.
const OPEN_PARALLEL: usize = 64;
const TARGET_KIB_PER_SOCKET: f64 = 20.0;
const TARGET_TOTAL_KIB: u64 = 1024 * 1024;

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

async fn connect(port: u16, token: &str) -> Result<Ws, String> {
    let mut req = format!("ws://127.0.0.1:{port}/api/v1/ws")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().map_err(|_| "header")?,
    );
    // Small client buffers: the bench process holds N sockets too and shares the machine.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(req, Some(config), true)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// Sends `ping` and waits for `pong`: the socket is open and authenticated.
async fn ping(ws: &mut Ws) -> Result<(), String> {
    ws.send(Message::Text(r#"{"type":"ping"}"#.into()))
        .await
        .map_err(|e| e.to_string())?;
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(msg) = ws.next().await {
            if let Ok(Message::Text(t)) = msg {
                return t.contains("pong");
            }
        }
        false
    })
    .await;
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err("closed before pong".into()),
        Err(_) => Err("no pong within 30 s".into()),
    }
}

/// How often each bench socket pings, as the client does (`app/core` pings every 20 s): the server
/// closes a socket that says nothing for 90 s, and opening thousands takes longer than that here.
const CLIENT_PING_EVERY: Duration = Duration::from_secs(20);

/// Sockets held open by their own tasks, each pinging like a real client until `stop`.
struct Clients {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<bool>>,
    alive: Arc<std::sync::atomic::AtomicUsize>,
}

impl Clients {
    /// Sockets open now (each proved live by its last ping).
    fn alive(&self) -> usize {
        self.alive.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Closes every socket; returns how many were still open (none dropped by the server).
    async fn close(self) -> usize {
        let _ = self.stop.send(true);
        let mut open = 0;
        for t in self.tasks {
            if t.await.unwrap_or(false) {
                open += 1;
            }
        }
        open
    }
}

/// Opens one socket per token, `OPEN_PARALLEL` at a time, each proven live with a ping, then kept
/// open by a task of its own. Returns the clients and the errors of the sockets that failed.
async fn open_all(port: u16, tokens: &[String]) -> (Clients, Vec<String>) {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let alive = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let permits = Arc::new(tokio::sync::Semaphore::new(OPEN_PARALLEL));
    let (err_tx, mut err_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut tasks = Vec::new();
    for token in tokens {
        let (token, alive, permits, err_tx, mut stop_rx) = (
            token.clone(),
            alive.clone(),
            permits.clone(),
            err_tx.clone(),
            stop_rx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let opened = {
                let _permit = permits.acquire().await;
                match connect(port, &token).await {
                    Ok(mut ws) => ping(&mut ws).await.map(|()| ws),
                    Err(e) => Err(e),
                }
            };
            let mut ws = match opened {
                Ok(ws) => ws,
                Err(e) => {
                    let _ = err_tx.send(e);
                    return false;
                }
            };
            alive.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let open = loop {
                tokio::select! {
                    _ = stop_rx.changed() => break true,
                    () = tokio::time::sleep(CLIENT_PING_EVERY) => {
                        if ping(&mut ws).await.is_err() {
                            break false;
                        }
                    }
                }
            };
            alive.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            let _ = ws.close(None).await;
            open
        }));
    }
    drop(err_tx);
    // Wait until every socket is open or failed.
    let mut errors = Vec::new();
    loop {
        let settled = alive.load(std::sync::atomic::Ordering::Relaxed) + errors.len();
        if settled >= tokens.len() {
            break;
        }
        if let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(200), err_rx.recv()).await {
            errors.push(e);
        }
    }
    (Clients { stop, tasks, alive }, errors)
}

/// Creates `n` users straight in the database and mints an access token for each.
async fn users_with_tokens(db: &Db, secret: &str, n: usize) -> Vec<String> {
    let keys = JwtKeys::new(secret, Duration::from_secs(3600));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (db, next, keys) = (db.clone(), next.clone(), keys.clone());
        workers.push(tokio::spawn(async move {
            let mut tokens = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                let created = insert_user(&db, &unique_phone(), &unique_username(), Role::Buyer)
                    .await
                    .expect("insert user");
                let InsertUser::Created(user) = created else {
                    continue;
                };
                tokens.push(
                    keys.issue(&user.id.to_hex(), Role::Buyer, now)
                        .expect("mint token"),
                );
            }
            tokens
        }));
    }
    let mut tokens = Vec::new();
    for w in workers {
        tokens.extend(w.await.expect("worker"));
    }
    tokens
}

#[tokio::main]
async fn main() {
    let n = env_num("BENCH_SOCKETS", 5000) as usize;
    let idle = Duration::from_secs(env_num("BENCH_IDLE_SECS", 5));
    let limit = open_files_limit();
    // Both ends live on this machine: N client fds here, N server fds in the child, plus slack.
    if limit < (n as u64) + 1000 {
        println!("open-files limit {limit} is too low for {n} sockets: run `ulimit -n {}` first, or set BENCH_SOCKETS", n + 1000);
        std::process::exit(2);
    }
    let db_name = format!(
        "bench_sockets_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let secret = format!("bench-secret-{}", uuid::Uuid::new_v4());
    let server = Server::spawn(&db_name, &secret);
    let started_rss = server.rss();
    println!(
        "sockets bench: backend pid {} on port {}, database {db_name}, open-files limit {limit}",
        server.pid(),
        server.port
    );

    let db = Db::connect(&mongodb_uri(), &db_name)
        .await
        .expect("database");
    let t = Instant::now();
    let tokens = users_with_tokens(&db, &secret, n + WARM_UP_SOCKETS).await;
    println!(
        "created {} users and tokens in {:.1} s",
        tokens.len(),
        t.elapsed().as_secs_f64()
    );
    let (warm_tokens, tokens) = tokens.split_at(WARM_UP_SOCKETS.min(tokens.len()));

    let (warm, warm_errors) = open_all(server.port, warm_tokens).await;
    println!(
        "warm-up: {} sockets opened, pinged and closed ({} errors)",
        warm.alive(),
        warm_errors.len()
    );
    warm.close().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = server.rss();

    let t = Instant::now();
    let (clients, errors) = open_all(server.port, tokens).await;
    let opened_in = t.elapsed();
    let opened = clients.alive();
    if let Some(e) = errors.first() {
        println!("{} sockets failed; first error: {e}", errors.len());
    }
    tokio::time::sleep(idle).await;
    let with_sockets = server.rss();
    let peak = status_kib(server.pid(), "VmHWM");
    let threads = status_field(server.pid(), "Threads");
    let still_open = clients.close().await;

    let sockets = opened.max(1) as f64;
    let per_socket = with_sockets.saturating_sub(baseline) as f64 / sockets;
    let at_50k = baseline as f64 + per_socket * 50_000.0;
    let mut table = Table::new(
        "Idle authenticated WebSockets, one backend process (VmRSS of the server)",
        &["figure", "value", "target", "met"],
    );
    table.row(vec![
        "sockets open (ping answered)".into(),
        format!(
            "{opened} of {} ({still_open} still open after {} s idle)",
            tokens.len(),
            idle.as_secs()
        ),
        "".into(),
        "".into(),
    ]);
    table.row(vec![
        "opened in".into(),
        format!("{:.1} s", opened_in.as_secs_f64()),
        "".into(),
        "".into(),
    ]);
    table.row(vec![
        "RSS at start".into(),
        mib(started_rss),
        "".into(),
        "".into(),
    ]);
    table.row(vec![
        format!("RSS baseline (after {WARM_UP_SOCKETS} warm-up sockets closed)"),
        mib(baseline),
        "".into(),
        "".into(),
    ]);
    table.row(vec![
        format!("RSS with {opened} idle sockets"),
        mib(with_sockets),
        "< 1024 MiB".into(),
        yes(with_sockets < TARGET_TOTAL_KIB),
    ]);
    table.row(vec![
        "peak RSS (VmHWM)".into(),
        mib(peak),
        "".into(),
        "".into(),
    ]);
    table.row(vec![
        "server memory per idle socket".into(),
        format!("{per_socket:.1} KiB"),
        format!("<= {TARGET_KIB_PER_SOCKET} KiB"),
        yes(per_socket <= TARGET_KIB_PER_SOCKET),
    ]);
    table.row(vec![
        "projected RSS at 50,000 sockets".into(),
        mib(at_50k as u64),
        "< 1024 MiB".into(),
        yes((at_50k as u64) < TARGET_TOTAL_KIB),
    ]);
    table.row(vec!["server threads".into(), threads, "".into(), "".into()]);
    table.print();

    server.stop();
    if let Err(e) = db.db.drop().await {
        println!("could not drop {db_name}: {e}");
    }
}

fn yes(ok: bool) -> String {
    if ok { "yes" } else { "NO" }.into()
}
