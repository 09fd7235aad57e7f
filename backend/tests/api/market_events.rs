//! Live marketplace events on the WebSocket: `code:created` and `code:updated` to the sport's
//! subscribers (without the secret), `vote:cast` to the seller, `code:finalized` to buyers and
//! seller only, `payment:updated` to the payment's owner only.

use crate::codes::{id_of, list_code};
use crate::helpers::TestApp;
use futures_util::{SinkExt, StreamExt};
use oddxer_shared::sync::{ClientFrame, LiveEvent, ServerFrame};
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(app: &TestApp, token: &str) -> Ws {
    let mut req = format!("ws://127.0.0.1:{}/api/v1/ws", app.port)
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(req)
        .await
        .expect("connect")
        .0
}

pub(crate) async fn send(ws: &mut Ws, frame: &ClientFrame) {
    ws.send(Message::Text(
        serde_json::to_string(frame).expect("json").into(),
    ))
    .await
    .expect("send");
}

/// The next live event, skipping other frames; `None` if nothing comes within `wait`.
pub(crate) async fn next_event(ws: &mut Ws, wait: Duration) -> Option<LiveEvent> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(t) = msg {
            if let Ok(ServerFrame::Event(e)) = serde_json::from_str::<ServerFrame>(&t) {
                return Some(e);
            }
        }
    }
}

/// The data of the next event of this kind, skipping others (e.g. `wallet:updated` from settlement).
async fn expect_event(ws: &mut Ws, kind: &str) -> serde_json::Value {
    loop {
        let e = next_event(ws, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no {kind} event"));
        let (name, data) = match e {
            LiveEvent::VoteCast(d) => ("vote:cast", d),
            LiveEvent::CodeFinalized(d) => ("code:finalized", d),
            LiveEvent::CodeCreated(d) => ("code:created", d),
            LiveEvent::CodeUpdated(d) => ("code:updated", d),
            LiveEvent::PaymentUpdated(d) => ("payment:updated", d),
            _ => continue,
        };
        assert_eq!(name, kind, "unexpected {name}: {data}");
        return data;
    }
}

/// Round trip a ping so that earlier frames (subscriptions) are processed before we act.
pub(crate) async fn settle(ws: &mut Ws) {
    send(ws, &ClientFrame::Ping).await;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("pong")
            .expect("open")
            .expect("ok");
        if let Message::Text(t) = msg {
            if serde_json::from_str::<ServerFrame>(&t).ok() == Some(ServerFrame::Pong) {
                return;
            }
        }
    }
}

#[tokio::test]
async fn new_codes_reach_the_sports_subscribers_without_their_secret() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let watcher = app.signed_in_user("BUYER").await;
    let mut ws = connect(&app, &watcher.access).await;
    send(
        &mut ws,
        &ClientFrame::Subscribe {
            sport: "football".into(),
        },
    )
    .await;
    settle(&mut ws).await;

    list_code(&app, &seller, json!({ "sport": "TENNIS" })).await;
    let football = list_code(
        &app,
        &seller,
        json!({ "sport": "FOOTBALL", "code": "TOP-SECRET-1" }),
    )
    .await;
    match next_event(&mut ws, Duration::from_secs(10)).await {
        Some(LiveEvent::CodeCreated(data)) => {
            assert_eq!(
                data["id"], football["id"],
                "the tennis code is not sent to a football subscriber"
            );
            assert!(data.get("code").is_none(), "never the secret: {data}");
            assert!(!data.to_string().contains("TOP-SECRET-1"));
        }
        other => panic!("expected code:created, got {other:?}"),
    }

    send(
        &mut ws,
        &ClientFrame::Unsubscribe {
            sport: "FOOTBALL".into(),
        },
    )
    .await;
    settle(&mut ws).await;
    list_code(&app, &seller, json!({ "sport": "FOOTBALL" })).await;
    assert!(
        next_event(&mut ws, Duration::from_millis(700))
            .await
            .is_none(),
        "unsubscribed"
    );
}

#[tokio::test]
async fn votes_reach_the_seller_and_the_finalization_reaches_buyers_and_seller_only() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let stranger = app.signed_in_user("BUYER").await;
    let code = id_of(&list_code(&app, &seller, json!({ "code": "HIDDEN-77" })).await);
    app.buy(&buyer, &code).await;
    app.expire_code(&code, Duration::from_secs(60)).await;

    let mut seller_ws = connect(&app, &seller.access).await;
    let mut buyer_ws = connect(&app, &buyer.access).await;
    let mut stranger_ws = connect(&app, &stranger.access).await;
    for ws in [&mut seller_ws, &mut buyer_ws, &mut stranger_ws] {
        settle(ws).await;
    }
    let r = app
        .post(
            &format!("/codes/{code}/votes"),
            Some(&buyer.access),
            &json!({ "voteType": "WIN" }),
        )
        .await;
    assert_eq!(
        r.data()["outcome"],
        "WON",
        "the only buyer voted: decided at once ({})",
        r.body
    );

    let data = expect_event(&mut seller_ws, "vote:cast").await;
    assert_eq!(
        (data["codeId"].as_str(), data["winVotes"].as_i64()),
        (Some(code.as_str()), Some(1))
    );
    assert!(data.get("voter").is_none());
    for ws in [&mut seller_ws, &mut buyer_ws] {
        let data = expect_event(ws, "code:finalized").await;
        assert_eq!(
            (data["id"].as_str(), data["outcome"].as_str()),
            (Some(code.as_str()), Some("WON"))
        );
        assert_eq!(data["resolution"]["decidedBy"], "ALL_VOTED");
        assert!(!data.to_string().contains("HIDDEN-77"));
    }
    assert!(
        next_event(&mut stranger_ws, Duration::from_millis(700))
            .await
            .is_none(),
        "nothing for others"
    );
}

#[tokio::test]
async fn a_sale_an_edit_and_a_cancellation_reach_the_sports_subscribers_as_code_updated() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let watcher = app.signed_in_user("BUYER").await;
    let three = id_of(
        &list_code(
            &app,
            &seller,
            json!({ "sport": "FOOTBALL", "maxBuyers": 3, "code": "PLACES-SECRET" }),
        )
        .await,
    );
    let other = id_of(&list_code(&app, &seller, json!({ "sport": "FOOTBALL" })).await);
    let mut ws = connect(&app, &watcher.access).await;
    send(
        &mut ws,
        &ClientFrame::Subscribe {
            sport: "FOOTBALL".into(),
        },
    )
    .await;
    settle(&mut ws).await;

    app.buy(&buyer, &three).await;
    let data = expect_event(&mut ws, "code:updated").await;
    assert_eq!(
        (
            data["id"].as_str(),
            data["salesCount"].as_i64(),
            data["maxBuyers"].as_i64()
        ),
        (Some(three.as_str()), Some(1), Some(3)),
        "the card can say 2 of 3 left: {data}"
    );
    assert!(
        !data.to_string().contains("PLACES-SECRET"),
        "never the secret"
    );

    let r = app
        .patch(
            &format!("/codes/{other}"),
            Some(&seller.access),
            &json!({ "title": "Renamed in the open" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let data = expect_event(&mut ws, "code:updated").await;
    assert_eq!(
        (data["id"].as_str(), data["title"].as_str()),
        (Some(other.as_str()), Some("Renamed in the open"))
    );

    let r = app
        .delete(&format!("/codes/{other}"), Some(&seller.access))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let data = expect_event(&mut ws, "code:updated").await;
    assert_eq!(
        (data["id"].as_str(), data["status"].as_str()),
        (Some(other.as_str()), Some("CANCELLED"))
    );
}

#[tokio::test]
async fn a_declined_deposit_reaches_its_owner_as_payment_updated_and_nobody_else() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in_user("BUYER").await;
    let other = app.signed_in_user("BUYER").await;
    let mut owner_ws = connect(&app, &owner.access).await;
    let mut other_ws = connect(&app, &other.access).await;
    for ws in [&mut owner_ws, &mut other_ws] {
        settle(ws).await;
    }
    let r = app.deposit(&owner, 7_000, "dep-declined-live").await;
    let reference = r.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let failed = app
        .post(&format!("/dev/payments/{reference}/fail"), None, &json!({}))
        .await;
    assert_eq!(failed.status.as_u16(), 200, "{}", failed.body);

    let data = expect_event(&mut owner_ws, "payment:updated").await;
    assert_eq!(
        (
            data["reference"].as_str(),
            data["type"].as_str(),
            data["status"].as_str()
        ),
        (Some(reference.as_str()), Some("DEPOSIT"), Some("FAILED"))
    );
    assert_eq!(data["amount"]["amount"], 7_000);
    assert!(
        data["failureReason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{data}"
    );
    assert!(
        next_event(&mut other_ws, Duration::from_millis(700))
            .await
            .is_none(),
        "nobody else hears of it"
    );
}
