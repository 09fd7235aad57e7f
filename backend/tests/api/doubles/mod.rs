//! Local HTTP doubles of the mobile-money providers' published APIs: small axum servers on
//! 127.0.0.1:0 that validate requests the way the providers do and can be told to misbehave
//! (lose or repeat callbacks, commit and then time out, fail with 5xx, expire tokens early).

pub mod airtel;
pub mod mtn;

use std::sync::{Arc, Mutex};
use std::time::Duration;

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
