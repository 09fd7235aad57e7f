use crate::helpers::{Session, TestApp};
use futures_util::{SinkExt, StreamExt};
use oddxer_shared::sync::{ClientFrame, LiveEvent, ServerFrame, StreamEntries, SyncCursors};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(
    app: &TestApp,
    token: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://127.0.0.1:{}/api/v1/ws", app.port).into_client_request()?;
    if let Some(t) = token {
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("header"),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

pub(crate) async fn send(ws: &mut Ws, frame: &ClientFrame) {
    ws.send(Message::Text(
        serde_json::to_string(frame).expect("json").into(),
    ))
    .await
    .expect("send");
}

pub(crate) async fn next_frame(ws: &mut Ws) -> ServerFrame {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open")
            .expect("ok");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("server frame");
        }
    }
}

/// Reads `sync:batch` frames until one says done; returns (seqs received, final cursor, checkpoint balance).
pub(crate) async fn wallet_batches_until_done(ws: &mut Ws) -> (Vec<i64>, i64, Option<i64>) {
    let mut seqs = vec![];
    loop {
        if let ServerFrame::SyncBatch(b) = next_frame(ws).await {
            if let StreamEntries::Wallet(entries) = b.entries {
                seqs.extend(entries.iter().map(|e| e.seq));
            }
            if b.done {
                return (seqs, b.cursor, b.checkpoint.balance);
            }
        }
    }
}

async fn signed_in_with_deposits(app: &TestApp, amounts: &[i64]) -> Session {
    let s = app.signed_in_user("BUYER").await;
    for a in amounts {
        app.funded(&s, *a).await;
    }
    s
}

#[tokio::test]
async fn sync_sends_the_entries_after_the_cursor_then_live_updates() {
    let app = TestApp::spawn().await;
    let s = signed_in_with_deposits(&app, &[1_000, 2_000, 3_000]).await;
    let mut ws = connect(&app, Some(&s.access)).await.expect("connect");

    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: Some(1),
                purchases: None,
            },
        },
    )
    .await;
    let (seqs, cursor, balance) = wallet_batches_until_done(&mut ws).await;
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(cursor, 3);
    assert_eq!(balance, Some(6_000));

    // A deposit completes while connected: the balance event, the new entry and the payment's
    // outcome arrive.
    app.funded(&s, 4_000).await;
    let (mut got_event, mut got_payment) = (false, false);
    let mut new_seqs = vec![];
    while !got_event || !got_payment || new_seqs.is_empty() {
        match next_frame(&mut ws).await {
            ServerFrame::Event(LiveEvent::WalletUpdated { balance }) => {
                assert_eq!(balance.amount, 10_000);
                got_event = true;
            }
            ServerFrame::Event(LiveEvent::PaymentUpdated(p)) => {
                assert_eq!(
                    (p["type"].as_str(), p["status"].as_str()),
                    (Some("DEPOSIT"), Some("COMPLETED")),
                    "{p}"
                );
                assert_eq!(p["amount"]["amount"], 4_000);
                got_payment = true;
            }
            ServerFrame::SyncBatch(b) => {
                if let StreamEntries::Wallet(e) = b.entries {
                    new_seqs.extend(e.iter().map(|e| e.seq));
                }
                assert_eq!(b.checkpoint.balance, Some(10_000));
            }
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert_eq!(new_seqs, vec![4]);

    send(&mut ws, &ClientFrame::Ping).await;
    assert_eq!(next_frame(&mut ws).await, ServerFrame::Pong);
}

#[tokio::test]
async fn a_first_auth_frame_also_authenticates() {
    let app = TestApp::spawn().await;
    let s = signed_in_with_deposits(&app, &[1_500]).await;
    let mut ws = connect(&app, None).await.expect("connect");
    send(
        &mut ws,
        &ClientFrame::Auth {
            token: s.access.clone(),
        },
    )
    .await;
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: Some(0),
                purchases: None,
            },
        },
    )
    .await;
    let (seqs, _, balance) = wallet_batches_until_done(&mut ws).await;
    assert_eq!(seqs, vec![1]);
    assert_eq!(balance, Some(1_500));
}

#[tokio::test]
async fn the_socket_refuses_bad_tokens() {
    let app = TestApp::spawn().await;
    let refused = connect(&app, Some("forged.token.here")).await;
    assert!(
        refused.is_err(),
        "upgrade with a bad bearer must be refused"
    );

    let mut ws = connect(&app, None).await.expect("connect");
    ws.send(Message::Text(
        json!({ "type": "auth", "token": "nope" })
            .to_string()
            .into(),
    ))
    .await
    .expect("send");
    match next_frame(&mut ws).await {
        ServerFrame::Error { code, .. } => assert_eq!(code, "UNAUTHENTICATED"),
        other => panic!("expected an error frame, got {other:?}"),
    }
}

#[tokio::test]
async fn syncing_from_zero_while_deposits_land_misses_nothing_and_duplicates_nothing() {
    let app = TestApp::spawn().await;
    let s = signed_in_with_deposits(&app, &[1_000]).await;
    let mut ws = connect(&app, Some(&s.access)).await.expect("connect");
    let writer = {
        let app_http = app.http.clone();
        let base = app.url("");
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..15 {
                let body = json!({ "amount": 1_000 + i, "paymentMethod": "AIRTEL_MONEY", "phoneNumber": s.phone });
                let r: serde_json::Value = app_http
                    .post(format!("{base}/wallet/deposits"))
                    .bearer_auth(&s.access)
                    .header("Idempotency-Key", format!("race-{i}"))
                    .json(&body)
                    .send()
                    .await
                    .expect("send")
                    .json()
                    .await
                    .expect("json");
                let reference = r["data"]["reference"]
                    .as_str()
                    .expect("reference")
                    .to_owned();
                app_http
                    .post(format!("{base}/dev/payments/{reference}/complete"))
                    .send()
                    .await
                    .expect("complete");
            }
        })
    };
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: Some(0),
                purchases: None,
            },
        },
    )
    .await;
    let mut seen = vec![];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < 16 && tokio::time::Instant::now() < deadline {
        if let ServerFrame::SyncBatch(b) = next_frame(&mut ws).await {
            if let StreamEntries::Wallet(e) = b.entries {
                seen.extend(e.iter().map(|e| e.seq));
            }
        }
    }
    writer.await.expect("writer");
    assert_eq!(
        seen,
        (1..=16).collect::<Vec<i64>>(),
        "every entry once, in order"
    );
}

/// Reads `sync:batch` frames of the purchases stream until one says done; returns the rows.
async fn purchase_rows_until_done(ws: &mut Ws) -> Vec<oddxer_shared::sync::PurchaseStreamEntry> {
    let mut rows = vec![];
    loop {
        if let ServerFrame::SyncBatch(b) = next_frame(ws).await {
            if let StreamEntries::Purchases(entries) = b.entries {
                rows.extend(entries);
                if b.done {
                    return rows;
                }
            }
        }
    }
}

#[tokio::test]
async fn the_purchases_stream_carries_bought_codes_with_their_secret_then_their_settlement() {
    let admin_phone = crate::helpers::unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 3_000, 2).await;
    let buyer = signed_in_with_deposits(&app, &[5_000]).await;
    let bought = app.purchase(&buyer, &code).await;
    assert_eq!(bought.status.as_u16(), 200, "{}", bought.body);

    let mut ws = connect(&app, Some(&buyer.access)).await.expect("connect");
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: None,
                purchases: Some(0),
            },
        },
    )
    .await;
    let rows = purchase_rows_until_done(&mut ws).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].seq, 1);
    assert_eq!(
        rows[0].purchase.code.code.as_deref(),
        bought.data()["code"].as_str()
    );

    // An admin voids the code: the refund lands and a new version of the row follows live.
    app.register(&admin_phone, &crate::helpers::unique_username())
        .await;
    let admin = app.sign_in(&admin_phone).await;
    let r = app
        .post(
            &format!("/admin/codes/{code}/resolve"),
            Some(&admin.access),
            &json!({ "outcome": "VOID" }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let live = loop {
        if let ServerFrame::SyncBatch(b) = next_frame(&mut ws).await {
            if let StreamEntries::Purchases(entries) = b.entries {
                if !entries.is_empty() {
                    break entries;
                }
            }
        }
    };
    assert_eq!(live[0].seq, 2);
    assert_eq!(
        live[0].version, 3,
        "settled rows outrank bought and kicked-off rows"
    );
    assert_eq!(
        live[0].purchase.settlement,
        Some(oddxer_shared::api::Settlement::Refunded)
    );
    assert_eq!(
        live[0].purchase.code.status,
        oddxer_shared::CodeStatus::Void
    );
    assert_eq!(app.balance(&buyer).await, 5_000);
    app.assert_reconciled().await;
}

/// A bought code's row follows its code: at kick-off a newer version says AWAITING_RESULT (the
/// device stops counting down and opens voting), and the settled row carries the final status.
#[tokio::test]
async fn a_synced_purchase_shows_its_code_kicked_off_and_then_decided() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 3_000, 2).await;
    let buyers = [
        signed_in_with_deposits(&app, &[5_000]).await,
        signed_in_with_deposits(&app, &[5_000]).await,
    ];
    for b in &buyers {
        app.buy(b, &code).await;
    }
    let mut ws = connect(&app, Some(&buyers[0].access))
        .await
        .expect("connect");
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: None,
                purchases: Some(0),
            },
        },
    )
    .await;
    let rows = purchase_rows_until_done(&mut ws).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].purchase.code.status,
        oddxer_shared::CodeStatus::Active
    );

    app.expire_code(&code, Duration::from_secs(60)).await;
    app.market_pass().await;
    let kicked_off = next_purchase_rows(&mut ws).await;
    assert_eq!(kicked_off.len(), 1, "{kicked_off:?}");
    assert_eq!((kicked_off[0].seq, kicked_off[0].version), (2, 2));
    assert_eq!(
        kicked_off[0].purchase.code.status,
        oddxer_shared::CodeStatus::AwaitingResult
    );
    assert_eq!(kicked_off[0].purchase.settlement, None);
    // Another pass re-versions nothing twice.
    app.market_pass().await;

    for b in &buyers {
        let r = app
            .post(
                &format!("/codes/{code}/votes"),
                Some(&b.access),
                &json!({ "voteType": "WIN" }),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    app.market_pass().await;
    let settled = next_purchase_rows(&mut ws).await;
    assert_eq!((settled[0].seq, settled[0].version), (3, 3), "{settled:?}");
    assert_eq!(
        settled[0].purchase.code.status,
        oddxer_shared::CodeStatus::Won
    );
    assert_eq!(
        settled[0].purchase.settlement,
        Some(oddxer_shared::api::Settlement::PaidOut)
    );

    // A device syncing from scratch ends with the same rows, in order.
    let mut fresh = connect(&app, Some(&buyers[1].access))
        .await
        .expect("connect");
    send(
        &mut fresh,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: None,
                purchases: Some(0),
            },
        },
    )
    .await;
    let all = purchase_rows_until_done(&mut fresh).await;
    assert_eq!(
        all.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

/// The next non-empty purchases batch (a live change).
async fn next_purchase_rows(ws: &mut Ws) -> Vec<oddxer_shared::sync::PurchaseStreamEntry> {
    loop {
        if let ServerFrame::SyncBatch(b) = next_frame(ws).await {
            if let StreamEntries::Purchases(entries) = b.entries {
                if !entries.is_empty() {
                    return entries;
                }
            }
        }
    }
}

#[tokio::test]
async fn with_redis_a_deposit_confirmed_by_one_instance_reaches_a_socket_on_another() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6380".into());
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let shared = [
        ("REDIS_URL", redis.as_str()),
        ("DB_NAME", db_name.as_str()),
        ("JWT_SECRET", "shared-secret-for-two-instances-0123456789"),
    ];
    let a = TestApp::spawn_with(&shared).await;
    let b = TestApp::spawn_with(&shared).await;
    let s = a.signed_in_user("BUYER").await;
    let mut ws = connect(&b, Some(&s.access))
        .await
        .expect("connect to instance B");
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: Some(0),
                purchases: None,
            },
        },
    )
    .await;
    wallet_batches_until_done(&mut ws).await;

    a.funded(&s, 2_500).await; // confirmed by instance A
    loop {
        match next_frame(&mut ws).await {
            ServerFrame::Event(LiveEvent::WalletUpdated { balance }) => {
                assert_eq!(balance.amount, 2_500);
                break;
            }
            ServerFrame::SyncBatch(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// A purchase as the stream carries it, for rows bulk-inserted by a test.
fn stream_purchase(buyer: &str, i: i64) -> oddxer_shared::api::PurchaseOut {
    let id = mongodb::bson::oid::ObjectId::new().to_hex();
    let price = json!({ "amount": 1_000 + i, "currency": "UGX" });
    serde_json::from_value(json!({
        "id": id, "codeId": id, "buyerId": buyer, "price": price, "status": "COMPLETED",
        "createdAt": "2026-11-30T12:00:00Z",
        "code": {
            "id": id, "sellerId": id, "sellerUsername": "seller", "sport": "FOOTBALL",
            "title": format!("Code {i}"), "description": "", "odds": 2.5, "bookmaker": "Betway",
            "price": price, "status": "ACTIVE", "code": format!("BW{i}"),
            "expiresAt": "2026-12-30T12:00:00Z", "votingEndsAt": "2027-01-01T12:00:00Z",
            "maxBuyers": 10, "salesCount": 1, "winVotes": 0, "lossVotes": 0, "totalVotes": 0,
            "needsReview": false, "createdAt": "2026-11-30T12:00:00Z", "updatedAt": "2026-11-30T12:00:00Z"
        }
    }))
    .expect("a purchase row")
}

/// A history of many buckets arrives over the socket in whole-bucket batches (at most 256 entries
/// each), contiguous, in order, once, with the checkpoint of the head; the purchases stream too,
/// including rows written before rows carried their `bucket` (read by the older range query).
#[tokio::test]
async fn a_long_history_arrives_in_bounded_batches_contiguous_and_exact() {
    use oddxer_backend::ledger::{accounts, entries::entry_doc};
    use oddxer_backend::purchases::stream as purchase_stream;
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let user = mongodb::bson::oid::ObjectId::parse_str(&s.user_id).expect("user id");
    let account = accounts::wallet(user);
    let (mut docs, mut balance) = (vec![], 0i64);
    for seq in 1..=700i64 {
        let amount = if seq % 3 == 0 { -100 } else { 1_000 };
        balance += amount;
        docs.push(entry_doc(
            &account,
            seq,
            &format!("t{seq}"),
            amount,
            balance,
            "DEPOSIT",
            "Deposit",
            mongodb::bson::DateTime::now(),
        ));
    }
    app.db
        .col("ledger_entries")
        .insert_many(docs)
        .await
        .expect("entries");
    let stream = purchase_stream::stream_of(user);
    let rows: Vec<_> = (1..=150)
        .map(|seq| {
            purchase_stream::row_doc(&stream, seq, 1, &stream_purchase(&s.user_id, seq))
                .expect("row")
        })
        .collect();
    app.db
        .col(purchase_stream::COLLECTION)
        .insert_many(rows)
        .await
        .expect("rows");

    let mut ws = connect(&app, Some(&s.access)).await.expect("connect");
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: Some(0),
                purchases: Some(0),
            },
        },
    )
    .await;
    let mut wallet_seqs = vec![];
    let mut batches = 0;
    let checkpoint = loop {
        if let ServerFrame::SyncBatch(b) = next_frame(&mut ws).await {
            if let StreamEntries::Wallet(entries) = &b.entries {
                assert!(entries.len() <= 256, "a batch of {} entries", entries.len());
                wallet_seqs.extend(entries.iter().map(|e| e.seq));
                batches += 1;
                if b.done {
                    break b.checkpoint;
                }
            }
        }
    };
    assert_eq!(wallet_seqs, (1..=700).collect::<Vec<_>>());
    assert_eq!((checkpoint.head, checkpoint.balance), (700, Some(balance)));
    assert!(batches >= 3, "700 entries in {batches} batches");
    let purchases: Vec<i64> = purchase_rows_until_done(&mut ws)
        .await
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(purchases, (1..=150).collect::<Vec<_>>());

    // Rows written without a `bucket` (before it existed) still sync, through the range query.
    let legacy: Vec<_> = (151..=160)
        .map(|seq| {
            let mut d =
                purchase_stream::row_doc(&stream, seq, 1, &stream_purchase(&s.user_id, seq))
                    .expect("row");
            d.remove("bucket");
            d
        })
        .collect();
    app.db
        .col(purchase_stream::COLLECTION)
        .insert_many(legacy)
        .await
        .expect("legacy rows");
    send(
        &mut ws,
        &ClientFrame::Sync {
            streams: SyncCursors {
                wallet: None,
                purchases: Some(150),
            },
        },
    )
    .await;
    let purchases: Vec<i64> = purchase_rows_until_done(&mut ws)
        .await
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(purchases, (151..=160).collect::<Vec<_>>());
}

/// CORS does not cover WebSocket upgrades: a page of another site is refused (cross-site
/// WebSocket hijacking); the served web app's origin and native clients (no `Origin`) are not.
#[tokio::test]
async fn only_allowed_origins_may_open_the_socket_from_a_browser() {
    let app = TestApp::spawn_with(&[("API_URL", "https://app.oddxer.test")]).await;
    let s = app.signed_in_user("BUYER").await;
    let own = format!("http://127.0.0.1:{}", app.port);
    let with_origin = |origin: &str| {
        let mut req = format!("ws://127.0.0.1:{}/api/v1/ws", app.port)
            .into_client_request()
            .expect("request");
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {}", s.access).parse().expect("header"),
        );
        req.headers_mut()
            .insert("origin", origin.parse().expect("origin"));
        tokio_tungstenite::connect_async(req)
    };
    match with_origin("https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status().as_u16(), 403);
            let body = String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()).to_string();
            assert!(body.contains("FORBIDDEN"), "{body}");
        }
        other => panic!(
            "a foreign origin opened the socket: {:?}",
            other.map(|_| ())
        ),
    }
    assert!(
        with_origin("https://app.oddxer.test").await.is_ok(),
        "the served web app's origin"
    );
    assert!(
        with_origin(&own).await.is_ok(),
        "the page this backend served, at the address it was opened"
    );
    assert!(
        with_origin("tauri://localhost").await.is_ok(),
        "a configured origin"
    );
    assert!(
        connect(&app, Some(&s.access)).await.is_ok(),
        "a native client sends no Origin"
    );
}
