//! Local HTTP doubles of the mobile-money providers' published APIs: small axum servers on
//! 127.0.0.1:0 that validate requests the way the providers do and can be told to misbehave
//! (lose or repeat callbacks, commit and then time out, fail with 5xx, expire tokens early).

pub mod airtel;
pub mod mtn;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A double's state behind its routes (`I`: the provider's own) and the callbacks it sent.
pub struct Shared<I> {
    pub inner: Arc<Mutex<I>>,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
}

impl<I> Clone for Shared<I> {
    fn clone(&self) -> Self {
        Shared {
            inner: self.inner.clone(),
            deliveries: self.deliveries.clone(),
        }
    }
}

impl<I> Shared<I> {
    pub fn new(inner: I) -> Self {
        Shared {
            inner: Arc::new(Mutex::new(inner)),
            deliveries: Arc::new(Mutex::new(vec![])),
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut I) -> T) -> T {
        f(&mut self.inner.lock().expect("double state"))
    }
}

/// The OAuth 2 access tokens a double issued (both providers use client credentials): how long
/// one is accepted, the `expires_in` it is announced with, and how often tokens were asked for
/// and refused.
pub struct Tokens {
    /// How long a token is accepted, independently of the `expires_in` it is issued with.
    pub validity: Duration,
    /// Seconds, as the token answer says.
    pub expires_in: u64,
    issued: HashMap<String, Instant>,
    pub requests: usize,
    pub unauthorized: usize,
}

impl Tokens {
    pub fn new(validity: Duration, expires_in: u64) -> Tokens {
        Tokens {
            validity,
            expires_in,
            issued: HashMap::new(),
            requests: 0,
            unauthorized: 0,
        }
    }

    /// A new random token, accepted for `validity` from now.
    pub fn issue(&mut self) -> String {
        let value = uuid::Uuid::new_v4().simple().to_string();
        self.issued.insert(value.clone(), Instant::now());
        value
    }

    /// Whether `Authorization: Bearer` carries a token issued here and still accepted; a refusal
    /// is counted in `unauthorized`.
    pub fn accepts(&mut self, h: &HeaderMap) -> bool {
        let token = header(h, "authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or_default();
        let ok = self
            .issued
            .get(token)
            .is_some_and(|at| at.elapsed() < self.validity);
        if !ok {
            self.unauthorized += 1;
        }
        ok
    }
}

/// A JSON answer with this status.
pub fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// A request header as text, if present and readable.
pub fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// How a double delivers the callback of a payment that reached a final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callbacks {
    Once,
    /// Never delivered: only a status poll can tell.
    Lost,
    /// Delivered this many times.
    Repeated(usize),
}

/// One callback the double sent, and how our backend answered it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: String,
    pub body: serde_json::Value,
    pub status: u16,
}

pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind double");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

/// `to` with the path and query of `url`: the doubles deliver callbacks to the test's backend,
/// whose `API_URL` (and so the callback URL it registers) does not know its random port.
pub fn redirect(url: &str, to: Option<&str>) -> String {
    let Some(to) = to else { return url.to_owned() };
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = url[after_scheme..]
        .find('/')
        .map(|i| i + after_scheme)
        .unwrap_or(url.len());
    format!("{}{}", to.trim_end_matches('/'), &url[path_start..])
}

/// Sends the callback `mode` times (or never) after `delay`, recording every answer.
pub fn deliver(
    mode: Callbacks,
    url: String,
    body: serde_json::Value,
    delay: Duration,
    log: Arc<Mutex<Vec<Delivery>>>,
) {
    let times = match mode {
        Callbacks::Once => 1,
        Callbacks::Lost => 0,
        Callbacks::Repeated(n) => n,
    };
    if times == 0 {
        return;
    }
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let http = reqwest::Client::new();
        for _ in 0..times {
            let status = match http.post(&url).json(&body).send().await {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            };
            log.lock().expect("log").push(Delivery {
                url: url.clone(),
                body: body.clone(),
                status,
            });
        }
    });
}

/// Waits until `count()` reaches `n` (or fails the test after 10 s).
pub async fn wait_for(what: &str, n: usize, count: impl Fn() -> usize) {
    for _ in 0..200 {
        if count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {n} {what} (have {})", count());
}

#[test]
fn redirect_keeps_path_and_query() {
    assert_eq!(
        redirect(
            "http://127.0.0.1:0/api/v1/payments/callbacks/mtn?token=ab",
            Some("http://127.0.0.1:4567")
        ),
        "http://127.0.0.1:4567/api/v1/payments/callbacks/mtn?token=ab"
    );
    assert_eq!(redirect("http://x/y", None), "http://x/y");
}
