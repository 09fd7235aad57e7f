//! A double of the MTN MoMo Open API (Collection and Disbursement) as documented on
//! momodeveloper.mtn.com: `POST /{product}/token/` (Basic API user:key plus
//! `Ocp-Apim-Subscription-Key`), `POST /collection/v1_0/requesttopay` and
//! `POST /disbursement/v1_0/transfer` (Bearer token, `X-Reference-Id` UUID v4,
//! `X-Target-Environment`, optional `X-Callback-Url`; 202, 409 on a duplicated reference), and
//! `GET .../{referenceId}` (the payment resource, 404 for an unknown reference).
//!
//! Outcomes follow the sandbox's test numbers (MTN "Testing" page, mirrored in
//! sparkplug/mtn-momo-api-documentation): 46733123450 failed, 46733123451 rejected,
//! 46733123452 timeout, 46733123453 ongoing (PENDING, then SUCCESSFUL after a while; 30 s in
//! the sandbox, `set_ongoing_for` here), 46733123454 pending (for ever), any other number
//! succeeds. The status vocabulary of the API is PENDING | SUCCESSFUL | FAILED, so "rejected" and
//! "timeout" are FAILED with `reason` APPROVAL_REJECTED and EXPIRED (which is also what people
//! report the live sandbox does for those numbers).

use super::{deliver, header, redirect, reply, serve, Callbacks, Delivery, Tokens};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use oddxer_backend::payments::settings::{MtnProductKeys, MtnSettings};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const API_USER: &str = "7d6f9c1e-2b4a-4c8d-9e0f-1a2b3c4d5e6f";
pub const API_KEY: &str = "f1d2d2f924e986ac86fdf7b36c94bcdf";
pub const SUBSCRIPTION_KEY: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const DISBURSEMENT_SUBSCRIPTION_KEY: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
pub const TARGET: &str = "sandbox";

pub const FAILED: &str = "+46733123450";
pub const REJECTED: &str = "+46733123451";
pub const TIMEOUT: &str = "+46733123452";
pub const ONGOING: &str = "+46733123453";
pub const PENDING: &str = "+46733123454";
/// Any other number succeeds.
pub const SUCCEEDS: &str = "+46733123459";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

struct Payment {
    product: String,
    body: Value,
    party_id: String,
    created: Instant,
}

struct Inner {
    tokens: Tokens,
    payments: HashMap<String, Payment>,
    hang: Option<Duration>,
    failure: Option<u16>,
    callbacks: Callbacks,
    deliver_to: Option<String>,
    ongoing_for: Duration,
    requests: Vec<Recorded>,
}

type Shared = super::Shared<Inner>;

pub struct MtnDouble {
    pub url: String,
    shared: Shared,
}

/// The status, reason and whether it is final, for a payment to `party_id` made `age` ago.
fn outcome(
    party_id: &str,
    age: Duration,
    ongoing_for: Duration,
) -> (&'static str, Option<&'static str>) {
    match party_id {
        "46733123450" => ("FAILED", Some("INTERNAL_PROCESSING_ERROR")),
        "46733123451" => ("FAILED", Some("APPROVAL_REJECTED")),
        "46733123452" => ("FAILED", Some("EXPIRED")),
        "46733123453" if age < ongoing_for => ("PENDING", None),
        "46733123454" => ("PENDING", None),
        _ => ("SUCCESSFUL", None),
    }
}

/// The payment resource as `GET .../{referenceId}` (and the callback) shows it, `age` after creation.
fn resource(
    body: &Value,
    party_id: &str,
    reference: &str,
    age: Duration,
    ongoing_for: Duration,
) -> Value {
    let (status, reason) = outcome(party_id, age, ongoing_for);
    let mut out = body.clone();
    out["status"] = json!(status);
    if let Some(r) = reason {
        out["reason"] = json!(r);
    }
    if status == "SUCCESSFUL" {
        let digits: String = reference
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(10)
            .collect();
        out["financialTransactionId"] = json!(digits);
    }
    out
}

fn subscription_key(product: &str) -> &'static str {
    if product == "disbursement" {
        DISBURSEMENT_SUBSCRIPTION_KEY
    } else {
        SUBSCRIPTION_KEY
    }
}

/// Subscription key, bearer token (issued and not expired) and target environment.
fn authorize(s: &Shared, product: &str, h: &HeaderMap) -> Option<Response> {
    if header(h, "ocp-apim-subscription-key") != Some(subscription_key(product)) {
        return Some(reply(
            StatusCode::UNAUTHORIZED,
            json!({ "statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription." }),
        ));
    }
    if !s.with(|i| i.tokens.accepts(h)) {
        return Some(reply(
            StatusCode::UNAUTHORIZED,
            json!({ "statusCode": 401, "message": "Access denied due to invalid or expired access token." }),
        ));
    }
    if header(h, "x-target-environment") != Some(TARGET) {
        return Some(reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "code": "NOT_ALLOWED_TARGET_ENVIRONMENT", "message": "Access to target environment is forbidden." }),
        ));
    }
    None
}

fn token(s: &Shared, product: &str, h: &HeaderMap) -> Response {
    s.with(|i| i.tokens.requests += 1);
    if header(h, "ocp-apim-subscription-key") != Some(subscription_key(product)) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({ "statusCode": 401, "message": "Access denied due to invalid subscription key." }),
        );
    }
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{API_USER}:{API_KEY}"))
    );
    if header(h, "authorization") != Some(expected.as_str()) {
        return reply(StatusCode::UNAUTHORIZED, json!({ "error": "login_failed" }));
    }
    let (value, expires_in) = s.with(|i| (i.tokens.issue(), i.tokens.expires_in));
    (StatusCode::OK, Json(json!({ "access_token": value, "token_type": "access_token", "expires_in": expires_in }))).into_response()
}

/// The body of `requesttopay` / `transfer`, validated; returns the party id.
fn validate_body(body: &Value, party: &str) -> Result<String, &'static str> {
    let amount = body
        .get("amount")
        .and_then(Value::as_str)
        .ok_or("amount must be a string")?;
    let numeric = !amount.is_empty()
        && amount.split('.').count() <= 2
        && amount.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !numeric {
        return Err("amount must be a decimal string");
    }
    let currency = body
        .get("currency")
        .and_then(Value::as_str)
        .ok_or("currency is required")?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err("currency must be ISO 4217");
    }
    body.get("externalId")
        .and_then(Value::as_str)
        .ok_or("externalId is required")?;
    let p = body.get(party).ok_or("the party is required")?;
    if p.get("partyIdType").and_then(Value::as_str) != Some("MSISDN") {
        return Err("partyIdType must be MSISDN");
    }
    let id = p
        .get("partyId")
        .and_then(Value::as_str)
        .ok_or("partyId is required")?;
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err("partyId must be digits");
    }
    for note in ["payerMessage", "payeeNote"] {
        if body
            .get(note)
            .and_then(Value::as_str)
            .is_some_and(|m| m.contains('&'))
        {
            return Err("messages may not contain special characters");
        }
    }
    Ok(id.to_owned())
}

async fn submit(s: &Shared, product: &str, h: &HeaderMap, raw: &Bytes) -> Response {
    if let Some(denied) = authorize(s, product, h) {
        return denied;
    }
    if let Some(code) = s.with(|i| i.failure) {
        return reply(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({ "code": "INTERNAL_PROCESSING_ERROR", "message": "An internal error occurred while processing." }),
        );
    }
    let reference = header(h, "x-reference-id").unwrap_or_default().to_owned();
    if uuid::Uuid::parse_str(&reference)
        .map(|u| u.get_version_num())
        .ok()
        != Some(4)
    {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "code": "INVALID_REFERENCE_ID", "message": "X-Reference-Id must be a UUID version 4" }),
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(raw) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "code": "BAD_REQUEST", "message": "Request body is not JSON" }),
        );
    };
    let party = if product == "collection" {
        "payer"
    } else {
        "payee"
    };
    let party_id = match validate_body(&body, party) {
        Ok(id) => id,
        Err(why) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({ "code": "BAD_REQUEST", "message": why }),
            )
        }
    };
    let callback_url = header(h, "x-callback-url").map(str::to_owned);
    if callback_url
        .as_deref()
        .is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://")))
    {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "code": "INVALID_CALLBACK_URL_HOST", "message": "Invalid callback URL" }),
        );
    }
    let key = format!("{product}:{reference}");
    let (hang, callbacks, deliver_to, ongoing_for) = {
        let mut i = s.inner.lock().expect("double state");
        if i.payments.contains_key(&key) {
            return reply(
                StatusCode::CONFLICT,
                json!({ "code": "RESOURCE_ALREADY_EXIST", "message": "Duplicated reference id. Creation of resource failed." }),
            );
        }
        i.payments.insert(
            key,
            Payment {
                product: product.to_owned(),
                body: body.clone(),
                party_id: party_id.clone(),
                created: Instant::now(),
            },
        );
        (i.hang, i.callbacks, i.deliver_to.clone(), i.ongoing_for)
    };
    // The payment is committed; its callback goes out once its status is final.
    if let Some(url) = callback_url {
        let final_after = match party_id.as_str() {
            "46733123454" => None,
            "46733123453" => Some(ongoing_for),
            _ => Some(Duration::from_millis(50)),
        };
        if let Some(delay) = final_after {
            let callback_body = resource(&body, &party_id, &reference, Duration::MAX, ongoing_for);
            deliver(
                callbacks,
                redirect(&url, deliver_to.as_deref()),
                callback_body,
                delay,
                s.deliveries.clone(),
            );
        }
    }
    if let Some(d) = hang {
        // "Commit then time out": the caller gives up before this answer comes.
        tokio::time::sleep(d).await;
    }
    StatusCode::ACCEPTED.into_response()
}

fn status(s: &Shared, product: &str, reference: &str, h: &HeaderMap) -> Response {
    if let Some(denied) = authorize(s, product, h) {
        return denied;
    }
    s.with(|i| match i.payments.get(&format!("{product}:{reference}")) {
        Some(p) => (StatusCode::OK, Json(resource(&p.body, &p.party_id, reference, p.created.elapsed(), i.ongoing_for))).into_response(),
        None => reply(StatusCode::NOT_FOUND, json!({ "code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found." })),
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
    let recorded = Recorded {
        method: method.to_string(),
        path: path.clone(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    s.with(|i| i.requests.push(recorded));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (Method::POST, [product @ ("collection" | "disbursement"), "token"]) => {
            token(&s, product, &headers)
        }
        (Method::POST, ["collection", "v1_0", "requesttopay"]) => {
            submit(&s, "collection", &headers, &body).await
        }
        (Method::POST, ["disbursement", "v1_0", "transfer"]) => {
            submit(&s, "disbursement", &headers, &body).await
        }
        (Method::GET, ["collection", "v1_0", "requesttopay", reference]) => {
            status(&s, "collection", reference, &headers)
        }
        (Method::GET, ["disbursement", "v1_0", "transfer", reference]) => {
            status(&s, "disbursement", reference, &headers)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({ "statusCode": 404, "message": "Resource not found" }),
        ),
    }
}

impl MtnDouble {
    pub async fn spawn() -> MtnDouble {
        let shared = Shared::new(Inner {
            tokens: Tokens::new(Duration::from_secs(3600), 3600),
            payments: HashMap::new(),
            hang: None,
            failure: None,
            callbacks: Callbacks::Once,
            deliver_to: None,
            ongoing_for: Duration::from_secs(30),
            requests: vec![],
        });
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        MtnDouble {
            url: serve(router).await,
            shared,
        }
    }

    /// Settings of the real adapter pointing at this double.
    pub fn settings(&self) -> MtnSettings {
        let keys = |sub: &str| MtnProductKeys {
            api_user: API_USER.into(),
            api_key: API_KEY.into(),
            subscription_key: sub.into(),
        };
        MtnSettings {
            base_url: self.url.clone(),
            target_environment: TARGET.into(),
            currency: None,
            collection: keys(SUBSCRIPTION_KEY),
            disbursement: keys(DISBURSEMENT_SUBSCRIPTION_KEY),
        }
    }

    /// The environment of a backend using this double.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MTN_BASE_URL", self.url.clone()),
            ("MTN_API_USER", API_USER.into()),
            ("MTN_API_KEY", API_KEY.into()),
            ("MTN_SUBSCRIPTION_KEY", SUBSCRIPTION_KEY.into()),
            (
                "MTN_DISBURSEMENT_SUBSCRIPTION_KEY",
                DISBURSEMENT_SUBSCRIPTION_KEY.into(),
            ),
            ("MTN_TARGET_ENVIRONMENT", TARGET.into()),
        ]
    }

    /// How long a token is accepted (independently of the `expires_in` it is issued with).
    pub fn set_token_validity(&self, d: Duration) {
        self.shared.with(|i| i.tokens.validity = d);
    }

    pub fn set_expires_in(&self, secs: u64) {
        self.shared.with(|i| i.tokens.expires_in = secs);
    }

    /// Record each payment, then hold the answer this long.
    pub fn set_hang(&self, d: Option<Duration>) {
        self.shared.with(|i| i.hang = d);
    }

    /// Answer submissions with this status (e.g. 500) without recording them.
    pub fn set_failure(&self, code: Option<u16>) {
        self.shared.with(|i| i.failure = code);
    }

    pub fn set_callbacks(&self, mode: Callbacks) {
        self.shared.with(|i| i.callbacks = mode);
    }

    pub fn deliver_callbacks_to(&self, address: &str) {
        self.shared
            .with(|i| i.deliver_to = Some(address.to_owned()));
    }

    pub fn set_ongoing_for(&self, d: Duration) {
        self.shared.with(|i| i.ongoing_for = d);
    }

    pub fn token_requests(&self) -> usize {
        self.shared.with(|i| i.tokens.requests)
    }

    pub fn unauthorized(&self) -> usize {
        self.shared.with(|i| i.tokens.unauthorized)
    }

    pub fn payments(&self, product: &str) -> usize {
        self.shared
            .with(|i| i.payments.values().filter(|p| p.product == product).count())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.with(|i| i.requests.clone())
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.deliveries.lock().expect("deliveries").clone()
    }

    pub async fn wait_for_deliveries(&self, n: usize) -> Vec<Delivery> {
        super::wait_for("MTN callbacks", n, || self.deliveries().len()).await;
        self.deliveries()
    }
}
