//! A double of the Airtel Money Open API as documented on developers.airtel.africa:
//! `POST /auth/oauth2/token` (JSON `{client_id, client_secret, grant_type: client_credentials}`,
//! `expires_in` as a string), `POST /merchant/v1/payments/` (USSD push collection),
//! `POST /standard/v1/disbursements/` (with the encrypted PIN), and the enquiries
//! `GET /standard/v1/payments/{id}` and `GET /standard/v1/disbursements/{id}`. Every call but the
//! token needs `Authorization: Bearer`, `X-Country` and `X-Currency`; msisdns come without the
//! country code; errors are mostly HTTP 200 with `status.success: false` and a `response_code`.
//! Callbacks go to the URL registered in the partner portal (`register_callback`), as
//! `{"transaction": {"id", "message", "status_code", "airtel_money_id"}}`.
//!
//! Not confirmed from Airtel's documentation, so chosen here: the code of a duplicate collection
//! id (DP00800001009 "Do not honor"), and how an unknown id is answered (HTTP 404 with
//! DP00800001025 for payments, HTTP 200 with DP00900001015 for disbursements). The adapter
//! handles all of these without relying on which one is real.

use super::{deliver, header, reply, serve, Callbacks, Delivery, Tokens};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use oddxer_backend::payments::settings::AirtelSettings;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const CLIENT_ID: &str = "3c1f0b9e-airtel-client";
pub const CLIENT_SECRET: &str = "airtel-client-secret-for-tests";
pub const COUNTRY: &str = "UG";
pub const CURRENCY: &str = "UGX";
/// Stands for the PIN encrypted with Airtel's RSA key (opaque to us and to the double).
pub const ENCRYPTED_PIN: &str =
    "KYJExln8rZwb14G1K7UE5ZoYU4ybR0y8QgqlF4BD8bZcgp8Tq0Qx2Zj8QDp6Ac5ZxZ4M+6Ox2SvQ==";

struct Txn {
    kind: &'static str,
    msisdn: String,
    created: Instant,
}

struct Inner {
    tokens: Tokens,
    txns: HashMap<String, Txn>,
    /// Final status per msisdn: `TS` (default), `TF`, or `TIP` (never final).
    outcomes: HashMap<String, &'static str>,
    approve_after: Duration,
    hang: Option<Duration>,
    failure: Option<u16>,
    callbacks: Callbacks,
    callback_url: Option<String>,
    requests: Vec<(String, String, HashMap<String, String>, Value)>,
}

type Shared = super::Shared<Inner>;

pub struct AirtelDouble {
    pub url: String,
    shared: Shared,
}

fn refused(code: &str, message: &str) -> Response {
    reply(
        StatusCode::OK,
        json!({ "status": { "code": "400", "message": message, "result_code": "ESB000001", "response_code": code, "success": false } }),
    )
}

fn token(s: &Shared, body: &Bytes) -> Response {
    s.with(|i| i.tokens.requests += 1);
    let b: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let ok = b.get("client_id").and_then(Value::as_str) == Some(CLIENT_ID)
        && b.get("client_secret").and_then(Value::as_str) == Some(CLIENT_SECRET)
        && b.get("grant_type").and_then(Value::as_str) == Some("client_credentials");
    if !ok {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "error_description": "Invalid client authentication", "error": "invalid_client" }),
        );
    }
    let (value, expires_in) = s.with(|i| (i.tokens.issue(), i.tokens.expires_in));
    reply(
        StatusCode::OK,
        json!({ "access_token": value, "expires_in": expires_in.to_string(), "token_type": "bearer" }),
    )
}

fn authorize(s: &Shared, h: &HeaderMap) -> Option<Response> {
    if !s.with(|i| i.tokens.accepts(h)) {
        return Some(reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error_description": "The access token is invalid or has expired", "error": "invalid_token" }),
        ));
    }
    match header(h, "x-country") {
        None | Some("") => {
            return Some(reply(
                StatusCode::BAD_REQUEST,
                json!({ "status_message": "Partner not found", "status_code": "ROUTER110" }),
            ))
        }
        Some(c) if c != COUNTRY => return Some(refused("DP00800001008", "Invalid Country Code")),
        _ => {}
    }
    if header(h, "x-currency") != Some(CURRENCY) {
        return Some(reply(
            StatusCode::OK,
            json!({ "status": { "code": "400", "success": false, "result_code": "ESB000008", "message": "Invalid/Missing Currency" } }),
        ));
    }
    None
}

fn valid_msisdn(m: Option<&str>) -> Option<String> {
    m.filter(|m| m.len() == 9 && m.chars().all(|c| c.is_ascii_digit()) && !m.starts_with("256"))
        .map(str::to_owned)
}

fn valid_amount(v: Option<&Value>) -> bool {
    v.and_then(Value::as_f64).is_some_and(|a| a > 0.0)
}

/// The transaction status now: `TIP` until approved, then the msisdn's outcome.
fn status_of(i: &Inner, t: &Txn) -> &'static str {
    if t.kind == "disbursement" {
        return "TS";
    }
    let outcome = i.outcomes.get(&t.msisdn).copied().unwrap_or("TS");
    if outcome == "TIP" || t.created.elapsed() < i.approve_after {
        "TIP"
    } else {
        outcome
    }
}

async fn collect(s: &Shared, h: &HeaderMap, raw: &Bytes) -> Response {
    if let Some(denied) = authorize(s, h) {
        return denied;
    }
    if let Some(code) = s.with(|i| i.failure) {
        return reply(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({ "message": "Internal Server Error" }),
        );
    }
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let Some(msisdn) = valid_msisdn(body.pointer("/subscriber/msisdn").and_then(Value::as_str))
    else {
        return refused(
            "DP00800001008",
            "Invalid Msisdn Length. Msisdn Length should be 9",
        );
    };
    if !valid_amount(body.pointer("/transaction/amount")) {
        return refused("DP00800001004", "Invalid Amount");
    }
    let (Some(id), Some(_)) = (
        body.pointer("/transaction/id").and_then(Value::as_str),
        body.get("reference").and_then(Value::as_str),
    ) else {
        return refused("DP00800001008", "Missing header/body params");
    };
    let id = id.to_owned();
    let (hang, mode, url, approve_after, outcome) = {
        let mut i = s.inner.lock().expect("double state");
        if i.txns.contains_key(&id) {
            return refused("DP00800001009", "Duplicate Transaction Id");
        }
        i.txns.insert(
            id.clone(),
            Txn {
                kind: "collection",
                msisdn: msisdn.clone(),
                created: Instant::now(),
            },
        );
        let outcome = i.outcomes.get(&msisdn).copied().unwrap_or("TS");
        (
            i.hang,
            i.callbacks,
            i.callback_url.clone(),
            i.approve_after,
            outcome,
        )
    };
    if let (Some(url), true) = (url, outcome != "TIP") {
        let message = if outcome == "TS" {
            "Paid UGX to ODDXER"
        } else {
            "Transaction failed"
        };
        let callback = json!({ "transaction": { "id": id, "message": message, "status_code": outcome, "airtel_money_id": format!("MP{}", &id[..8]) } });
        deliver(
            mode,
            url,
            callback,
            approve_after + Duration::from_millis(50),
            s.deliveries.clone(),
        );
    }
    if let Some(d) = hang {
        tokio::time::sleep(d).await;
    }
    reply(
        StatusCode::OK,
        json!({ "data": { "transaction": { "id": id, "status": "SUCCESS" } },
                "status": { "code": "200", "message": "SUCCESS", "result_code": "ESB000010", "response_code": "DP00800001006", "success": true } }),
    )
}

async fn disburse(s: &Shared, h: &HeaderMap, raw: &Bytes) -> Response {
    if let Some(denied) = authorize(s, h) {
        return denied;
    }
    if let Some(code) = s.with(|i| i.failure) {
        return reply(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({ "message": "Internal Server Error" }),
        );
    }
    let body: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    if body.get("pin").and_then(Value::as_str) != Some(ENCRYPTED_PIN) {
        return refused("DP00900001013", "Incorrect Encrypted Pin");
    }
    let Some(msisdn) = valid_msisdn(body.pointer("/payee/msisdn").and_then(Value::as_str)) else {
        return refused(
            "DP00900001013",
            "Invalid Msisdn Length. Msisdn Length should be 9",
        );
    };
    if !valid_amount(body.pointer("/transaction/amount")) {
        return refused("DP00900001004", "Invalid Amount");
    }
    let Some(id) = body
        .pointer("/transaction/id")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return refused("DP00900001013", "Missing header/body params");
    };
    let hang = {
        let mut i = s.inner.lock().expect("double state");
        if i.outcomes.get(&msisdn) == Some(&"TF") {
            return refused("DP00900001007", "Insufficient Funds");
        }
        if i.txns.contains_key(&id) {
            return refused("DP00900001017", "Duplicate Transaction Id");
        }
        i.txns.insert(
            id.clone(),
            Txn {
                kind: "disbursement",
                msisdn,
                created: Instant::now(),
            },
        );
        i.hang
    };
    if let Some(d) = hang {
        tokio::time::sleep(d).await;
    }
    reply(
        StatusCode::OK,
        json!({ "data": { "transaction": { "reference_id": "CI250506.1824.H00006", "airtel_money_id": format!("disbursement-{id}"), "id": id, "status": "TS" } },
                "status": { "response_code": "DP00900001001", "code": "200", "success": true, "result_code": "ESB000010", "message": "You have sent money" } }),
    )
}

fn enquiry(s: &Shared, kind: &str, id: &str, h: &HeaderMap) -> Response {
    if let Some(denied) = authorize(s, h) {
        return denied;
    }
    s.with(|i| match i.txns.get(id).filter(|t| t.kind == kind) {
        Some(t) => {
            let status = status_of(i, t);
            let code = match (kind, status) {
                ("collection", "TS") => "DP00800001001",
                ("collection", "TIP") => "DP00800001006",
                ("collection", _) => "DP00800001002",
                (_, _) => "DP00900001001",
            };
            reply(
                StatusCode::OK,
                json!({ "data": { "transaction": { "airtel_money_id": format!("MP{}", &id[..8.min(id.len())]), "id": id, "message": status, "status": status } },
                        "status": { "code": "200", "message": "SUCCESS", "result_code": "ESB000010", "response_code": code, "success": true } }),
            )
        }
        None if kind == "collection" => reply(
            StatusCode::NOT_FOUND,
            json!({ "status": { "code": "404", "message": "Transaction Not Found", "response_code": "DP00800001025", "success": false } }),
        ),
        None => refused("DP00900001015", "Transaction Not Found"),
    })
}

async fn handle(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let hs = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    s.with(|i| {
        i.requests.push((
            method.to_string(),
            path.clone(),
            hs,
            serde_json::from_slice(&body).unwrap_or(Value::Null),
        ))
    });
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (Method::POST, ["auth", "oauth2", "token"]) => token(&s, &body),
        (Method::POST, ["merchant", "v1", "payments"]) => collect(&s, &headers, &body).await,
        (Method::POST, ["standard", "v1", "disbursements"]) => disburse(&s, &headers, &body).await,
        (Method::GET, ["standard", "v1", "payments", id]) => {
            enquiry(&s, "collection", id, &headers)
        }
        (Method::GET, ["standard", "v1", "disbursements", id]) => {
            enquiry(&s, "disbursement", id, &headers)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({ "status_message": "No route", "status_code": "ROUTER404" }),
        ),
    }
}

impl AirtelDouble {
    pub async fn spawn() -> AirtelDouble {
        let shared = Shared::new(Inner {
            tokens: Tokens::new(Duration::from_secs(180), 180),
            txns: HashMap::new(),
            outcomes: HashMap::new(),
            approve_after: Duration::ZERO,
            hang: None,
            failure: None,
            callbacks: Callbacks::Once,
            callback_url: None,
            requests: vec![],
        });
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        AirtelDouble {
            url: serve(router).await,
            shared,
        }
    }

    pub fn settings(&self) -> AirtelSettings {
        AirtelSettings {
            base_url: self.url.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            country: COUNTRY.into(),
            dial_code: "256",
            disbursement_pin: Some(ENCRYPTED_PIN.into()),
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AIRTEL_BASE_URL", self.url.clone()),
            ("AIRTEL_CLIENT_ID", CLIENT_ID.into()),
            ("AIRTEL_API_KEY", CLIENT_SECRET.into()),
            ("AIRTEL_COUNTRY", COUNTRY.into()),
            ("AIRTEL_DISBURSEMENT_PIN", ENCRYPTED_PIN.into()),
        ]
    }

    /// The callback URL as registered in Airtel's partner portal.
    pub fn register_callback(&self, url: &str) {
        self.shared.with(|i| i.callback_url = Some(url.to_owned()));
    }

    /// Final status for payments from this msisdn (without country code): `TS`, `TF` or `TIP`.
    pub fn set_outcome(&self, msisdn: &str, status: &'static str) {
        self.shared
            .with(|i| i.outcomes.insert(msisdn.to_owned(), status));
    }

    pub fn set_approve_after(&self, d: Duration) {
        self.shared.with(|i| i.approve_after = d);
    }

    pub fn set_token_validity(&self, d: Duration) {
        self.shared.with(|i| i.tokens.validity = d);
    }

    pub fn set_hang(&self, d: Option<Duration>) {
        self.shared.with(|i| i.hang = d);
    }

    pub fn set_failure(&self, code: Option<u16>) {
        self.shared.with(|i| i.failure = code);
    }

    pub fn set_callbacks(&self, mode: Callbacks) {
        self.shared.with(|i| i.callbacks = mode);
    }

    pub fn token_requests(&self) -> usize {
        self.shared.with(|i| i.tokens.requests)
    }

    pub fn unauthorized(&self) -> usize {
        self.shared.with(|i| i.tokens.unauthorized)
    }

    pub fn transactions(&self, kind: &str) -> usize {
        self.shared
            .with(|i| i.txns.values().filter(|t| t.kind == kind).count())
    }

    /// (method, path, headers, JSON body) of every request received.
    pub fn requests(&self) -> Vec<(String, String, HashMap<String, String>, Value)> {
        self.shared.with(|i| i.requests.clone())
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.deliveries.lock().expect("deliveries").clone()
    }

    pub async fn wait_for_deliveries(&self, n: usize) -> Vec<Delivery> {
        super::wait_for("Airtel callbacks", n, || self.deliveries().len()).await;
        self.deliveries()
    }
}
