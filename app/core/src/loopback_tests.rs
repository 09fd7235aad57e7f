//! The sync loop against an in-process WebSocket server that plays the backend's part frame by
//! frame: authentication header, resume from the stored cursor, Online/Offline, reconnect.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oddxer_shared::client::ConnectionState;
use oddxer_shared::sync::{
    Checkpoint, ClientFrame, PurchaseStreamEntry, ServerFrame, StreamEntries, SyncBatch,
    SyncCursors,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::testutil::{entry, purchase_row, seller_profile_view, user, TempDir};
use crate::{ClientConfig, MemorySecretStore, OddxerClient};

const PATIENCE: Duration = Duration::from_secs(10);

struct FakeBackend {
    port: u16,
    conns: mpsc::Receiver<FakeConn>,
    /// HTTP requests received, in order.
    requests: mpsc::UnboundedReceiver<HttpRequest>,
    /// Answers to give to the next HTTP requests (status, JSON body); 404 when empty.
    answers: Arc<Mutex<VecDeque<(u16, String)>>>,
}

struct FakeConn {
    authorization: Option<String>,
    path: String,
    ws: WebSocketStream<TcpStream>,
    /// Sports the client subscribed to on this socket (`subscribe` frames are taken aside).
    subscribed: Vec<String>,
}

#[derive(Debug, Clone)]
struct HttpRequest {
    method: String,
    path: String,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    body: String,
}

impl FakeBackend {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, conns) = mpsc::channel(8);
        let (req_tx, requests) = mpsc::unbounded_channel();
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let scripted = answers.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                // One port for both, like the backend: a WebSocket upgrade or a plain request.
                let mut head = [0u8; 2048];
                let n = tcp.peek(&mut head).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&head[..n]).to_ascii_lowercase();
                if !head.contains("upgrade: websocket") {
                    tokio::spawn(answer_http(tcp, scripted.clone(), req_tx.clone()));
                    continue;
                }
                let seen = Arc::new(Mutex::new((None, String::new())));
                let seen2 = seen.clone();
                // The callback's signature is tungstenite's; its large error type is not ours.
                #[allow(clippy::result_large_err)]
                let cb = move |req: &Request, resp: Response| {
                    let auth = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    *seen2.lock().unwrap() = (auth, req.uri().path().to_owned());
                    Ok(resp)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await else {
                    continue;
                };
                let (authorization, path) = seen.lock().unwrap().clone();
                if tx
                    .send(FakeConn {
                        authorization,
                        path,
                        ws,
                        subscribed: Vec::new(),
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        FakeBackend {
            port,
            conns,
            requests,
            answers,
        }
    }

    /// Queues the answer to the next HTTP request.
    fn answer_next(&self, status: u16, body: serde_json::Value) {
        self.answers
            .lock()
            .unwrap()
            .push_back((status, body.to_string()));
    }

    async fn next_request(&mut self) -> HttpRequest {
        tokio::time::timeout(PATIENCE, self.requests.recv())
            .await
            .expect("no HTTP request")
            .unwrap()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn next_connection(&mut self) -> FakeConn {
        tokio::time::timeout(PATIENCE, self.conns.recv())
            .await
            .expect("the client did not connect")
            .unwrap()
    }
}

/// Reads frames until the client has subscribed to every one of `sports`.
async fn until_subscribed(conn: &mut FakeConn, sports: &[String]) {
    tokio::time::timeout(PATIENCE, async {
        while !sports.iter().all(|s| conn.subscribed.contains(s)) {
            let msg = conn.ws.next().await.unwrap().unwrap();
            if let Message::Text(t) = msg {
                if let Ok(ClientFrame::Subscribe { sport }) = serde_json::from_str(t.as_str()) {
                    conn.subscribed.push(sport);
                }
            }
        }
    })
    .await
    .expect("the client did not subscribe to every sport");
}

impl FakeConn {
    /// The next frame other than `ping` and `subscribe` (kept in `subscribed`).
    async fn receive(&mut self) -> ClientFrame {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("no frame")
                .unwrap()
                .unwrap();
            if let Message::Text(t) = msg {
                match serde_json::from_str(t.as_str()).unwrap() {
                    ClientFrame::Ping => {}
                    ClientFrame::Subscribe { sport } => self.subscribed.push(sport),
                    f => return f,
                }
            }
        }
    }

    async fn send(&mut self, frame: ServerFrame) {
        self.ws
            .send(Message::text(serde_json::to_string(&frame).unwrap()))
            .await
            .unwrap();
    }

    /// True once the client closed the socket.
    async fn closed_by_client(&mut self) -> bool {
        loop {
            match tokio::time::timeout(PATIENCE, self.ws.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}

/// Reads one HTTP/1.1 request, records it and writes the next scripted answer.
async fn answer_http(
    mut tcp: TcpStream,
    answers: Arc<Mutex<VecDeque<(u16, String)>>>,
    seen: mpsc::UnboundedSender<HttpRequest>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = seen.send(HttpRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        body: String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string(),
    });
    let (status, body) = answers.lock().unwrap().pop_front().unwrap_or((
        404,
        r#"{"success":false,"error":{"code":"NOT_FOUND","message":"nothing scripted"}}"#.into(),
    ));
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tcp.write_all(response.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

fn wallet_batch(seqs: &[(i64, i64, i64)], head: i64, balance: i64) -> ServerFrame {
    let entries: Vec<_> = seqs.iter().map(|&(s, a, b)| entry(s, a, b)).collect();
    ServerFrame::SyncBatch(SyncBatch {
        cursor: entries.last().map(|e| e.seq).unwrap_or(0),
        entries: StreamEntries::Wallet(entries),
        done: true,
        checkpoint: Checkpoint {
            head,
            balance: Some(balance),
        },
    })
}

/// The first frame of a connection: both streams from their cursors.
fn sync_from(wallet: i64, purchases: i64) -> ClientFrame {
    ClientFrame::Sync {
        streams: SyncCursors {
            wallet: Some(wallet),
            purchases: Some(purchases),
        },
    }
}

/// A re-sync of the wallet stream alone.
fn wallet_from(cursor: i64) -> ClientFrame {
    ClientFrame::Sync {
        streams: SyncCursors {
            wallet: Some(cursor),
            purchases: None,
        },
    }
}

fn purchases_batch(rows: Vec<PurchaseStreamEntry>, head: i64) -> ServerFrame {
    ServerFrame::SyncBatch(SyncBatch {
        cursor: rows.last().map(|e| e.seq).unwrap_or(0),
        entries: StreamEntries::Purchases(rows),
        done: true,
        checkpoint: Checkpoint {
            head,
            balance: None,
        },
    })
}

async fn open_client(api_url: String, dir: &TempDir) -> OddxerClient {
    OddxerClient::open(ClientConfig {
        api_url,
        data_dir: dir.path().to_owned(),
        secrets: Arc::new(MemorySecretStore::new()),
    })
    .await
    .unwrap()
}

async fn wait_for_connection(client: &OddxerClient, want: ConnectionState) {
    let mut events = client.subscribe();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if client.snapshot().unwrap().connection == want {
            return;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "connection never became {want:?}");
        let _ = tokio::time::timeout(left, events.recv()).await;
    }
}

#[tokio::test]
async fn the_client_syncs_goes_offline_and_resumes_from_its_cursor() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback");
    let client = open_client(backend.url(), &dir).await;
    client
        .start_with_access_token("access-1", &user("u1"))
        .unwrap();

    let mut conn = backend.next_connection().await;
    assert_eq!(conn.authorization.as_deref(), Some("Bearer access-1"));
    assert_eq!(conn.path, "/api/v1/ws");
    assert_eq!(conn.receive().await, sync_from(0, 0));
    conn.send(wallet_batch(&[(1, 500, 500), (2, 250, 750)], 2, 750))
        .await;
    conn.send(purchases_batch(vec![purchase_row(1, "p1", 1)], 1))
        .await;
    wait_for_connection(&client, ConnectionState::Online).await;
    // Every sport, so the kept marketplace hears of every listing and every place sold.
    let every: Vec<String> = oddxer_shared::Sport::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    until_subscribed(&mut conn, &every).await;
    let snap = client.snapshot().unwrap();
    assert_eq!(snap.wallet.unwrap().balance.amount, 750);
    assert_eq!(
        snap.ledger.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert!(snap.last_synced_at.is_some());

    // The server goes away: Offline, then a reconnect that asks only for what is new.
    drop(conn);
    wait_for_connection(&client, ConnectionState::Offline).await;
    let mut conn = backend.next_connection().await;
    assert_eq!(conn.receive().await, sync_from(2, 1));
    // A replay of 2 plus the new 3 lands once each; the purchase is settled meanwhile.
    conn.send(wallet_batch(&[(2, 250, 750), (3, 50, 800)], 3, 800))
        .await;
    conn.send(purchases_batch(vec![purchase_row(2, "p1", 2)], 2))
        .await;
    wait_for_connection(&client, ConnectionState::Online).await;
    let snap = client.snapshot().unwrap();
    assert_eq!(
        snap.ledger.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3, 2, 1]
    );
    assert_eq!(snap.wallet.unwrap().balance.amount, 800);
    assert_eq!(
        snap.purchases.len(),
        1,
        "one purchase, at its latest version"
    );
    assert!(snap.purchases[0].settlement.is_some());

    client.shutdown().await;
    assert!(conn.closed_by_client().await);
    assert_eq!(client.snapshot().unwrap().connection, ConnectionState::Idle);
}

#[tokio::test]
async fn a_hole_in_a_live_batch_triggers_a_resync_from_the_cursor() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-gap");
    let client = open_client(backend.url(), &dir).await;
    client
        .start_with_access_token("access-1", &user("u1"))
        .unwrap();
    let mut conn = backend.next_connection().await;
    assert_eq!(conn.receive().await, sync_from(0, 0));
    conn.send(wallet_batch(&[(1, 500, 500)], 1, 500)).await;
    conn.send(purchases_batch(vec![], 0)).await;
    wait_for_connection(&client, ConnectionState::Online).await;

    conn.send(wallet_batch(&[(3, 100, 700)], 3, 700)).await;
    assert_eq!(conn.receive().await, wallet_from(1));
    conn.send(wallet_batch(&[(2, 100, 600), (3, 100, 700)], 3, 700))
        .await;
    let mut events = client.subscribe();
    tokio::time::timeout(PATIENCE, async {
        while client.snapshot().unwrap().wallet.map(|w| w.seq) != Some(3) {
            let _ = events.recv().await;
        }
    })
    .await
    .expect("the hole was never filled");
    assert_eq!(
        client.snapshot().unwrap().wallet.unwrap().balance.amount,
        700
    );
}

#[tokio::test]
async fn dropping_the_last_client_closes_the_socket() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-drop");
    let client = open_client(backend.url(), &dir).await;
    client
        .start_with_access_token("access-1", &user("u1"))
        .unwrap();
    let mut conn = backend.next_connection().await;
    assert_eq!(conn.receive().await, sync_from(0, 0));
    let clone = client.clone();
    drop(client);
    conn.send(wallet_batch(&[], 0, 0)).await;
    conn.send(purchases_batch(vec![], 0)).await;
    wait_for_connection(&clone, ConnectionState::Online).await;
    drop(clone);
    assert!(conn.closed_by_client().await);
}

#[tokio::test]
async fn the_cache_is_readable_offline_after_a_restart() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-offline");
    let client = open_client(backend.url(), &dir).await;
    client
        .start_with_access_token("access-1", &user("u1"))
        .unwrap();
    let mut conn = backend.next_connection().await;
    conn.receive().await;
    conn.send(wallet_batch(&[(1, 500, 500)], 1, 500)).await;
    conn.send(purchases_batch(vec![purchase_row(1, "p1", 1)], 1))
        .await;
    wait_for_connection(&client, ConnectionState::Online).await;
    client.shutdown().await;
    drop(client);

    // Nothing listens on this address: the reopened client must not need the network.
    let reopened = open_client("http://127.0.0.1:9".into(), &dir).await;
    let snap = reopened.snapshot().unwrap();
    assert_eq!(snap.user.unwrap().id, "u1");
    assert_eq!(snap.wallet.unwrap().balance.amount, 500);
    assert_eq!(snap.ledger.len(), 1);
    assert_eq!(snap.purchases.len(), 1);
    assert_eq!(
        snap.purchases[0].code.code.as_deref(),
        Some("SECRET-cp1"),
        "the bought code is readable offline"
    );
    assert_eq!(reopened.my_purchases().unwrap(), snap.purchases);
    assert_eq!(snap.connection, ConnectionState::Idle);
}

#[tokio::test]
async fn a_profile_seen_once_reads_offline_and_one_never_seen_says_offline() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-profile");
    let seller = "5f0c0ffee0000000000000aa";
    let view = seller_profile_view(seller);
    let data = |v: serde_json::Value| serde_json::json!({"success": true, "data": v});
    backend.answer_next(200, data(serde_json::to_value(&view.profile).unwrap()));
    backend.answer_next(
        200,
        data(serde_json::json!({"items": view.record, "nextCursor": null})),
    );
    backend.answer_next(200, data(serde_json::to_value(&view.performance).unwrap()));
    let client = open_client(backend.url(), &dir).await;
    let live = client.seller_profile(seller).await.unwrap();
    assert_eq!(
        live, view,
        "the live answer is the three routes put together"
    );
    for route in ["", "/codes", "/performance"] {
        let req = backend.next_request().await;
        assert_eq!(req.method, "GET");
        assert!(
            req.path.ends_with(&format!("/sellers/{seller}{route}")),
            "{}",
            req.path
        );
    }
    client.shutdown().await;
    drop(client);

    // Nothing listens on this address: the profile comes from the device, marked as such.
    let reopened = open_client("http://127.0.0.1:9".into(), &dir).await;
    let kept = reopened.seller_profile(seller).await.unwrap();
    assert!(kept.from_cache && kept.cached_at.is_some());
    assert_eq!(kept.profile.stats.profit_units, 10.45);
    assert_eq!(kept.record[0].code.as_deref(), Some("BW-12345"));
    assert_eq!(kept.performance, view.performance);
    // A code's page asks for the figures alone; offline they come from the kept profile too.
    assert_eq!(reopened.seller_summary(seller).await.unwrap(), view.profile);
    let never_seen = reopened
        .seller_profile("5f0c0ffee0000000000000bb")
        .await
        .unwrap_err();
    assert!(never_seen.is_unreachable(), "{never_seen:?}");
}

mod outbox;
mod renewal;
