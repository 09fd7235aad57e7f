//! The Africa's Talking adapter against a local double of `POST /version1/messaging`.

use crate::helpers::{unique_phone, unique_username, TestApp};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use oddxer_backend::auth::sms::{AfricasTalkingSms, SmsSender};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const API_KEY: &str = "atsk_test_key";

#[derive(Clone, Default)]
struct Double {
    received: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

/// Follows the published API: `apiKey` header, form fields, JSON answer with per-recipient status
/// codes (101 Sent, 403 InvalidPhoneNumber), 401 plain text for a bad key.
async fn messaging(
    State(d): State<Double>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if headers.get("apiKey").and_then(|v| v.to_str().ok()) != Some(API_KEY) {
        return (
            StatusCode::UNAUTHORIZED,
            "The supplied authentication is invalid",
        )
            .into_response();
    }
    if !form.contains_key("username") || !form.contains_key("message") {
        return (StatusCode::BAD_REQUEST, "Missing parameters").into_response();
    }
    let to = form.get("to").cloned().unwrap_or_default();
    d.received.lock().expect("lock").push(form);
    let (code, status) = if to.starts_with("+999") {
        (403, "InvalidPhoneNumber")
    } else {
        (101, "Success")
    };
    axum::Json(serde_json::json!({
        "SMSMessageData": {
            "Message": "Sent to 1/1 Total Cost: UGX 30.0000",
            "Recipients": [{ "statusCode": code, "number": to, "status": status, "cost": "UGX 30.0000", "messageId": "ATXid_1" }]
        }
    }))
    .into_response()
}

async fn spawn_double() -> (String, Double) {
    let double = Double::default();
    let app = Router::new()
        .route("/version1/messaging", post(messaging))
        .with_state(double.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/version1/messaging",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, double)
}

fn adapter(url: &str, key: &str) -> AfricasTalkingSms {
    AfricasTalkingSms {
        http: reqwest::Client::new(),
        url: url.to_owned(),
        username: "sandbox".into(),
        api_key: key.into(),
        sender_id: Some("ODDXER".into()),
    }
}

#[tokio::test]
async fn the_adapter_sends_the_documented_form_and_reads_the_answer() {
    let (url, double) = spawn_double().await;
    adapter(&url, API_KEY)
        .send("+256700000123", "hello")
        .await
        .expect("sent");
    let got = double.received.lock().expect("lock")[0].clone();
    assert_eq!(got["username"], "sandbox");
    assert_eq!(got["to"], "+256700000123");
    assert_eq!(got["message"], "hello");
    assert_eq!(got["from"], "ODDXER");
}

#[tokio::test]
async fn the_adapter_reports_a_bad_key_and_a_refused_recipient() {
    let (url, _) = spawn_double().await;
    assert!(adapter(&url, "wrong")
        .send("+256700000123", "x")
        .await
        .is_err());
    assert!(adapter(&url, API_KEY)
        .send("+9990001112", "x")
        .await
        .is_err());
    assert!(adapter("http://127.0.0.1:9/unreachable", API_KEY)
        .send("+256700000123", "x")
        .await
        .is_err());
}

#[tokio::test]
async fn registration_sends_the_otp_through_africas_talking() {
    let (url, double) = spawn_double().await;
    let app = TestApp::spawn_with(&[
        ("SMS_PROVIDER", "africastalking"),
        ("SMS_API_URL", &url),
        ("SMS_API_KEY", API_KEY),
    ])
    .await;
    let phone = unique_phone();
    assert_eq!(
        app.register(&phone, &unique_username())
            .await
            .status
            .as_u16(),
        201
    );
    let sent = double.received.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["to"], phone);
    let otp: String = sent[0]["message"]
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("code")
        .to_owned();
    assert_eq!(app.verify(&phone, &otp).await.status.as_u16(), 200);
    assert_eq!(
        app.count("sms_outbox").await,
        0,
        "nothing goes to the development outbox"
    );
}
