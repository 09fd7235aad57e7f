use crate::helpers::{unique_phone, unique_username, TestApp};
use serde_json::json;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6380".into())
}

#[tokio::test]
async fn auth_routes_are_limited_per_ip_with_retry_after() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_AUTH_IP", "5/1m")]).await;
    for _ in 0..5 {
        let r = app
            .post(
                "/auth/login",
                None,
                &json!({ "phoneNumber": unique_phone() }),
            )
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    let refused = app
        .post(
            "/auth/login",
            None,
            &json!({ "phoneNumber": unique_phone() }),
        )
        .await;
    refused.assert_error(429);
    assert!(refused.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn otp_sends_and_checks_are_limited_per_phone() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_AUTH_PHONE", "3/10m")]).await;
    let phone = unique_phone();
    app.register(&phone, &unique_username()).await; // 1
    app.verify(&phone, "000001").await; // 2
    app.verify(&phone, "000002").await; // 3
    let otp = app.last_otp(&phone).await;
    app.verify(&phone, &otp).await.assert_error(429);
    // Another phone from the same address is not affected.
    assert_eq!(
        app.register(&unique_phone(), &unique_username())
            .await
            .status
            .as_u16(),
        201
    );
}

#[tokio::test]
async fn money_routes_are_limited_per_user() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_MONEY_USER", "2/1m")]).await;
    let s = app.signed_in_user("BUYER").await;
    assert_eq!(app.deposit(&s, 1_000, "a").await.status.as_u16(), 202);
    assert_eq!(app.deposit(&s, 1_000, "b").await.status.as_u16(), 202);
    app.deposit(&s, 1_000, "c").await.assert_error(429);
    let other = app.signed_in_user("BUYER").await;
    assert_eq!(app.deposit(&other, 1_000, "a").await.status.as_u16(), 202);
}

#[tokio::test]
async fn two_backend_instances_sharing_redis_share_the_limit() {
    // A fresh limit key space per run: the window is per IP, so use a unique, tiny window budget.
    let window = format!("4/{}s", 50 + rand::random::<u64>() % 9);
    // Two processes of one deployment: the same database (limits are per deployment).
    let db_name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let overrides = [
        ("REDIS_URL", redis_url()),
        ("RATE_LIMIT_AUTH_PHONE", window),
        ("DB_NAME", db_name),
    ];
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = TestApp::spawn_with(&overrides).await;
    let b = TestApp::spawn_with(&overrides).await;
    let phone = unique_phone();
    // Four hits spread over both instances use up the shared allowance of this phone.
    for app in [&a, &b, &a, &b] {
        let r = app
            .post("/auth/login", None, &json!({ "phoneNumber": phone }))
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    a.post("/auth/login", None, &json!({ "phoneNumber": phone }))
        .await
        .assert_error(429);
    b.post("/auth/login", None, &json!({ "phoneNumber": phone }))
        .await
        .assert_error(429);
    // Another deployment on the same Redis counts on its own.
    let other = TestApp::spawn_with(&[("REDIS_URL", redis_url().as_str())]).await;
    let r = other
        .post("/auth/login", None, &json!({ "phoneNumber": phone }))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
}

async fn login_from(app: &TestApp, forwarded_for: &str) -> u16 {
    let r = app
        .http
        .post(app.url("/auth/login"))
        .header("X-Forwarded-For", forwarded_for)
        .json(&json!({ "phoneNumber": unique_phone() }))
        .send()
        .await
        .expect("send");
    r.status().as_u16()
}

#[tokio::test]
async fn two_clients_behind_a_trusted_proxy_get_separate_buckets() {
    // The test client connects from 127.0.0.1: here, the load balancer.
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_AUTH_IP", "2/1m"),
        ("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
    ])
    .await;
    assert_eq!(login_from(&app, "203.0.113.1").await, 200);
    assert_eq!(login_from(&app, "203.0.113.1").await, 200);
    assert_eq!(
        login_from(&app, "203.0.113.1").await,
        429,
        "the first client used up its own allowance"
    );
    assert_eq!(
        login_from(&app, "203.0.113.2").await,
        200,
        "the second client behind the same proxy is not affected"
    );
    // A client cannot escape its bucket by forging an entry left of what the proxy appended.
    assert_eq!(login_from(&app, "198.51.100.7, 203.0.113.1").await, 429);
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_AUTH_IP", "2/1m"),
        ("TRUSTED_PROXIES", "10.0.0.0/8"),
    ])
    .await;
    assert_eq!(login_from(&app, "203.0.113.1").await, 200);
    assert_eq!(login_from(&app, "203.0.113.2").await, 200);
    assert_eq!(
        login_from(&app, "203.0.113.3").await,
        429,
        "a new header each time does not make a new client"
    );
}

/// A throwaway Redis that the test can take down.
struct OwnRedis {
    child: std::process::Child,
    port: u16,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        // Ready when it accepts a connection.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        OwnRedis { child, port }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn with_redis_down_sign_in_and_money_routes_refuse_with_503_rate_limiter_unavailable() {
    let mut redis = OwnRedis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let app = TestApp::spawn_with(&[("REDIS_URL", url.as_str())]).await;
    let s = app.signed_in_user("BUYER").await;
    redis.stop();
    let login = app
        .post(
            "/auth/login",
            None,
            &json!({ "phoneNumber": unique_phone() }),
        )
        .await;
    login.assert_error(503);
    assert_eq!(login.error_code(), "RATE_LIMITER_UNAVAILABLE");
    assert!(login.headers.contains_key("retry-after"));
    let deposit = app.deposit(&s, 1_000, "while-redis-is-down").await;
    deposit.assert_error(503);
    assert_eq!(deposit.error_code(), "RATE_LIMITER_UNAVAILABLE");
    // Routes without a limit go on: reading the wallet does not need the limiter.
    assert_eq!(
        app.get("/wallet", Some(&s.access)).await.status.as_u16(),
        200
    );
}
