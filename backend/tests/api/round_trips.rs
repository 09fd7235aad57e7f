//! Sequential database round trips per request (DESIGN.md section 9: verify-otp 4, refresh 3,
//! vote 4), counted by the driver's command events for the request alone (`TestApp::count_commands`
//! serves it in-process). Budgets, not timings: a regression that adds a query fails here.

use crate::codes::{id_of, list_code};
use crate::helpers::{unique_phone, unique_username, TestApp};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn signing_in_with_a_code_takes_at_most_four_database_round_trips() {
    let app = TestApp::spawn().await;
    let phone = unique_phone();
    assert_eq!(app.register(&phone, &unique_username()).await.status.as_u16(), 201);
    let otp = app.last_otp(&phone).await;
    // The first sign-in of an account also marks it verified, in the same command as the read.
    let (first, r) = app.count_commands("POST", "/auth/verify-otp", None, Some(&json!({ "phoneNumber": phone, "otp": otp }))).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.data()["user"]["isVerified"], true);
    assert!((1..=4).contains(&first), "first verify-otp sent {first} database commands");

    app.post("/auth/login", None, &json!({ "phoneNumber": phone })).await;
    let otp = app.last_otp(&phone).await;
    let (again, r) = app.count_commands("POST", "/auth/verify-otp", None, Some(&json!({ "phoneNumber": phone, "otp": otp }))).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!((1..=4).contains(&again), "verify-otp sent {again} database commands");
}

#[tokio::test]
async fn refreshing_a_session_takes_at_most_three_database_round_trips_even_with_a_cold_user_cache() {
    // USER_CACHE_TTL=0s: the user is read from the database, the worst case.
    let app = TestApp::spawn_with(&[("USER_CACHE_TTL", "0s")]).await;
    let s = app.signed_in_user("BUYER").await;
    let (n, r) = app.count_commands("POST", "/auth/refresh", None, Some(&json!({ "refreshToken": s.refresh }))).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!((1..=3).contains(&n), "refresh sent {n} database commands");
}

#[tokio::test]
async fn a_vote_takes_at_most_four_database_round_trips() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let other = app.signed_in_user("BUYER").await;
    let code = id_of(&list_code(&app, &seller, json!({ "maxBuyers": 2 })).await);
    app.buy(&buyer, &code).await;
    app.buy(&other, &code).await;
    app.expire_code(&code, Duration::from_secs(60)).await;
    // A voter who used the app within the last second (USER_CACHE_TTL): their account check is
    // served by the user cache. A cold cache adds one `_id` read.
    assert_eq!(app.get("/auth/me", Some(&buyer.access)).await.status.as_u16(), 200);
    let (n, r) = app.count_commands("POST", &format!("/codes/{code}/votes"), Some(&buyer.access), Some(&json!({ "voteType": "WIN" }))).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(r.data()["winVotes"], 1);
    assert!((1..=4).contains(&n), "vote sent {n} database commands");
}
