use crate::helpers::{unique_phone, unique_username, TestApp};
use serde_json::json;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6380".into())
}

#[tokio::test]
async fn auth_routes_are_limited_per_ip_with_retry_after() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_AUTH_IP", "5/1m")]).await;
    for _ in 0..5 {
        let r = app.post("/auth/login", None, &json!({ "phoneNumber": unique_phone() })).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    let refused = app.post("/auth/login", None, &json!({ "phoneNumber": unique_phone() })).await;
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
    assert_eq!(app.register(&unique_phone(), &unique_username()).await.status.as_u16(), 201);
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
    let overrides = [("REDIS_URL", redis_url()), ("RATE_LIMIT_AUTH_PHONE", window)];
    let overrides: Vec<(&str, &str)> = overrides.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = TestApp::spawn_with(&overrides).await;
    let b = TestApp::spawn_with(&overrides).await;
    let phone = unique_phone();
    // Four hits spread over both instances use up the shared allowance of this phone.
    for app in [&a, &b, &a, &b] {
        let r = app.post("/auth/login", None, &json!({ "phoneNumber": phone })).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    }
    a.post("/auth/login", None, &json!({ "phoneNumber": phone })).await.assert_error(429);
    b.post("/auth/login", None, &json!({ "phoneNumber": phone })).await.assert_error(429);
}
