//! Round-trip budgets (DESIGN.md section 9): the database round trips a request waits for one after
//! the other, read from the `x-db-round-trips` header the backend sends outside production. The
//! figures are taken on a warm process (a second request of the same kind), as a user meets them.

use crate::helpers::{round_trips, TestApp};
use serde_json::json;

/// Workers that would share the database while we measure are slowed down.
async fn quiet_app() -> TestApp {
    TestApp::spawn_with(&[("MARKET_WORKER_INTERVAL", "1h"), ("RECOVERY_INTERVAL", "1h")]).await
}

#[tokio::test]
async fn a_purchase_waits_for_at_most_eight_round_trips() {
    let app = quiet_app().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    app.funded(&buyer, 50_000).await;
    // A first purchase warms the process (the buyer's wallet head), as any earlier request would.
    let first = app.create_code(&seller, 1_000, 1).await;
    assert_eq!(app.purchase(&buyer, &first).await.status.as_u16(), 200);
    let code = app.create_code(&seller, 1_000, 5).await;
    let r = app.purchase(&buyer, &code).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!(r.data()["code"].as_str().is_some_and(|c| !c.is_empty()), "the code is revealed: {}", r.body);
    let trips = round_trips(&r);
    println!("purchase: {trips} sequential round trips");
    assert!(trips <= 8, "a purchase took {trips} sequential round trips (budget 8)");
    app.assert_reconciled().await;
    // The labels written after the answer are there when the buyer looks.
    let mine = app.get("/purchases", Some(&buyer.access)).await;
    assert_eq!(mine.data()["items"].as_array().map(Vec::len), Some(2), "{}", mine.body);
}

#[tokio::test]
async fn the_wallet_answers_in_at_most_two_round_trips() {
    let app = quiet_app().await;
    let buyer = app.signed_in_user("BUYER").await;
    app.funded(&buyer, 5_000).await;
    app.get("/wallet", Some(&buyer.access)).await;
    let r = app.get("/wallet", Some(&buyer.access)).await;
    assert_eq!(r.data()["balance"]["amount"], json!(5_000));
    let trips = round_trips(&r);
    println!("GET /wallet: {trips} sequential round trips");
    assert!(trips <= 2, "GET /wallet took {trips} sequential round trips (budget 2)");
}

#[tokio::test]
async fn a_deposit_confirmation_takes_at_most_six_round_trips() {
    let app = quiet_app().await;
    let buyer = app.signed_in_user("BUYER").await;
    app.funded(&buyer, 1_000).await;
    let r = app.deposit(&buyer, 2_000, &uuid::Uuid::new_v4().to_string()).await;
    let reference = r.data()["reference"].as_str().expect("reference").to_owned();
    let done = app.post(&format!("/dev/payments/{reference}/complete"), None, &json!({})).await;
    assert_eq!(done.data()["status"], json!("COMPLETED"), "{}", done.body);
    // The development route counts only our side (the sandbox provider stands for the provider).
    let trips = round_trips(&done);
    println!("deposit confirmation: {trips} sequential round trips");
    assert!(trips <= 6, "a deposit confirmation took {trips} sequential round trips (budget 6)");
    assert_eq!(app.balance(&buyer).await, 3_000);
}

#[tokio::test]
async fn browsing_is_served_from_the_market_cache_without_a_round_trip() {
    let app = TestApp::spawn_with(&[("MARKET_WORKER_INTERVAL", "1h"), ("RECOVERY_INTERVAL", "1h"), ("MARKET_CACHE_TTL", "60s")]).await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 1_000, 3).await;
    // The first browse loads the cache (one equality read per live status).
    app.get("/codes", None).await;
    let r = app.get("/codes?sort=price", None).await;
    let ids: Vec<&str> = r.data()["items"].as_array().expect("items").iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, vec![code.as_str()], "{}", r.body);
    let trips = round_trips(&r);
    println!("GET /codes: {trips} sequential round trips");
    assert_eq!(trips, 0, "a browse served from the cache waits for no database round trip (budget 1)");
}
