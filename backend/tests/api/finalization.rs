//! Finalization: the worker, admin review and resolution, the sandbox verifier, races between
//! workers, and the recovery re-drive.

use crate::codes::{id_of, list_code};
use crate::helpers::{unique_phone, unique_username, Session, TestApp};
use mongodb::bson::{doc, oid::ObjectId};
use oddxer_backend::resolution::worker;
use serde_json::json;
use std::time::Duration;

const HOUR: u64 = 3600;

async fn vote(app: &TestApp, who: &Session, code: &str, vote_type: &str) {
    let r = app
        .post(
            &format!("/codes/{code}/votes"),
            Some(&who.access),
            &json!({ "voteType": vote_type }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
}

async fn with_admin(overrides: &[(&str, &str)]) -> (TestApp, Session) {
    let phone = unique_phone();
    let mut all = vec![("ADMIN_PHONE_NUMBERS", phone.as_str())];
    all.extend_from_slice(overrides);
    let app = TestApp::spawn_with(&all).await;
    app.register(&phone, &unique_username()).await;
    let admin = app.sign_in(&phone).await;
    (app, admin)
}

async fn code_doc(app: &TestApp, id: &str) -> mongodb::bson::Document {
    app.db
        .col("bettingcodes")
        .find_one(doc! { "_id": ObjectId::parse_str(id).expect("oid") })
        .await
        .expect("read")
        .expect("code")
}

#[tokio::test]
async fn the_worker_moves_expired_codes_and_decides_by_majority_when_voting_closes() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyers = [
        app.signed_in_user("BUYER").await,
        app.signed_in_user("BUYER").await,
        app.signed_in_user("BUYER").await,
    ];
    let code = id_of(&list_code(&app, &seller, json!({ "maxBuyers": 3 })).await);
    for b in &buyers {
        app.buy(b, &code).await;
    }
    assert_eq!(
        code_doc(&app, &code)
            .await
            .get_str("status")
            .expect("status"),
        "SOLD_OUT"
    );
    app.expire_code(&code, Duration::from_secs(60)).await;
    app.market_pass().await;
    assert_eq!(
        code_doc(&app, &code)
            .await
            .get_str("status")
            .expect("status"),
        "AWAITING_RESULT",
        "moved by the worker"
    );

    vote(&app, &buyers[0], &code, "WIN").await;
    vote(&app, &buyers[1], &code, "WIN").await;
    app.market_pass().await;
    assert_eq!(
        code_doc(&app, &code)
            .await
            .get_str("status")
            .expect("status"),
        "AWAITING_RESULT",
        "one buyer may still vote"
    );

    app.expire_code(&code, Duration::from_secs(25 * HOUR)).await;
    let report = app.market_pass().await;
    assert!(
        report.finalized >= 1 || app.count("code_resolutions").await == 1,
        "{report:?}"
    );
    let d = code_doc(&app, &code).await;
    assert_eq!(
        (
            d.get_str("status").expect("s"),
            d.get_str("outcome").expect("o")
        ),
        ("WON", "WON")
    );
    let res = app
        .db
        .col("code_resolutions")
        .find_one(doc! {})
        .await
        .expect("read")
        .expect("resolution");
    assert_eq!(res.get_str("decidedBy").expect("by"), "MAJORITY");
    assert!(res.get_bool("applied").expect("applied"));
    assert_eq!(app.count("leaderboard_contributions").await, 1);
    let row = app
        .get(&format!("/leaderboard/{}", seller.user_id), None)
        .await;
    assert_eq!(
        (
            row.data()["totalWins"].clone(),
            row.data()["totalSales"].clone()
        ),
        (json!(1), json!(3))
    );
    assert_eq!(row.data()["totalRevenue"]["amount"], 3 * (2000 - 200));
}

#[tokio::test]
async fn a_tie_or_no_votes_goes_to_admin_review_and_an_admin_decides_once() {
    let (app, admin) = with_admin(&[]).await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let silent = id_of(&list_code(&app, &seller, json!({})).await);
    app.buy(&buyer, &silent).await;
    app.expire_code(&silent, Duration::from_secs(25 * HOUR))
        .await;
    app.market_pass().await;
    let d = code_doc(&app, &silent).await;
    assert_eq!(
        (
            d.get_str("status").expect("s"),
            d.get_bool("needsReview").expect("r")
        ),
        ("AWAITING_RESULT", true)
    );
    assert_eq!(app.count("code_resolutions").await, 0);

    let queue = app.get("/admin/codes/review", Some(&admin.access)).await;
    assert_eq!(queue.status.as_u16(), 200, "{}", queue.body);
    let items = queue.data()["items"].as_array().expect("items");
    assert_eq!(
        items.iter().map(id_of).collect::<Vec<_>>(),
        vec![silent.clone()]
    );
    assert!(items[0]["code"].is_string(), "admins see the secret");
    app.get("/admin/codes/review", Some(&seller.access))
        .await
        .assert_error(403);

    let path = format!("/admin/codes/{silent}/resolve");
    app.post(&path, Some(&seller.access), &json!({ "outcome": "WON" }))
        .await
        .assert_error(403);
    app.post(&path, None, &json!({ "outcome": "WON" }))
        .await
        .assert_error(401);
    app.post(&path, Some(&admin.access), &json!({ "outcome": "MAYBE" }))
        .await
        .assert_error(422);
    let r = app
        .post(&path, Some(&admin.access), &json!({ "outcome": "LOST" }))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(
        (r.data()["outcome"].clone(), r.data()["decidedBy"].clone()),
        (json!("LOST"), json!("ADMIN"))
    );
    let again = app
        .post(&path, Some(&admin.access), &json!({ "outcome": "LOST" }))
        .await;
    assert_eq!(
        again.status.as_u16(),
        200,
        "the same decision again is answered, not repeated"
    );
    let other = app
        .post(&path, Some(&admin.access), &json!({ "outcome": "WON" }))
        .await;
    other.assert_error(409);
    assert_eq!(other.error_code(), "ALREADY_RESOLVED");
    let d = code_doc(&app, &silent).await;
    assert_eq!(
        (
            d.get_str("status").expect("s"),
            d.get_bool("needsReview").expect("r")
        ),
        ("LOST", false)
    );
    assert!(app
        .get("/admin/codes/review", Some(&admin.access))
        .await
        .data()["items"]
        .as_array()
        .expect("items")
        .is_empty());
    app.post(
        &format!("/admin/codes/{}/resolve", ObjectId::new().to_hex()),
        Some(&admin.access),
        &json!({ "outcome": "VOID" }),
    )
    .await
    .assert_error(404);
}

#[tokio::test]
async fn an_admin_may_void_at_any_time_but_decide_a_result_only_after_kick_off() {
    let (app, admin) = with_admin(&[]).await;
    let seller = app.signed_in_user("SELLER").await;
    let code = id_of(&list_code(&app, &seller, json!({})).await);
    let early = app
        .post(
            &format!("/admin/codes/{code}/resolve"),
            Some(&admin.access),
            &json!({ "outcome": "WON" }),
        )
        .await;
    early.assert_error(409);
    assert_eq!(early.error_code(), "TOO_EARLY");
    let void = app
        .post(
            &format!("/admin/codes/{code}/resolve"),
            Some(&admin.access),
            &json!({ "outcome": "VOID" }),
        )
        .await;
    assert_eq!(void.status.as_u16(), 200, "{}", void.body);
    assert_eq!(
        app.get(&format!("/codes/{code}"), None).await.data()["status"],
        "VOID"
    );

    let cancelled = id_of(&list_code(&app, &seller, json!({})).await);
    app.delete(&format!("/codes/{cancelled}"), Some(&seller.access))
        .await;
    let r = app
        .post(
            &format!("/admin/codes/{cancelled}/resolve"),
            Some(&admin.access),
            &json!({ "outcome": "VOID" }),
        )
        .await;
    r.assert_error(409);
    assert_eq!(r.error_code(), "CODE_CANCELLED");
}

#[tokio::test]
async fn a_code_nobody_bought_is_void_when_voting_closes() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = id_of(&list_code(&app, &seller, json!({})).await);
    app.expire_code(&code, Duration::from_secs(25 * HOUR)).await;
    app.market_pass().await;
    let d = code_doc(&app, &code).await;
    assert_eq!(d.get_str("status").expect("s"), "VOID");
    let res = app
        .db
        .col("code_resolutions")
        .find_one(doc! {})
        .await
        .expect("read")
        .expect("resolution");
    assert_eq!(res.get_str("decidedBy").expect("by"), "UNSOLD");
}

#[tokio::test]
async fn the_sandbox_verifier_settles_an_expired_code_without_votes() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let future = id_of(&list_code(&app, &seller, json!({})).await);
    let r = app
        .post(
            &format!("/dev/codes/{future}/result"),
            None,
            &json!({ "outcome": "WON" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert!(
        r.data()["resolution"].is_null(),
        "not kicked off yet: stored for later"
    );
    app.buy(&buyer, &future).await;
    app.expire_code(&future, Duration::from_secs(60)).await;
    app.market_pass().await;
    let d = code_doc(&app, &future).await;
    assert_eq!(d.get_str("status").expect("s"), "WON");

    let now = id_of(&list_code(&app, &seller, json!({})).await);
    app.expire_code(&now, Duration::from_secs(60)).await;
    let r = app
        .post(
            &format!("/dev/codes/{now}/result"),
            None,
            &json!({ "outcome": "LOST" }),
        )
        .await;
    assert_eq!(
        (
            r.data()["resolution"]["outcome"].clone(),
            r.data()["resolution"]["decidedBy"].clone()
        ),
        (json!("LOST"), json!("VERIFIER"))
    );
}

#[tokio::test]
async fn two_workers_racing_finalize_every_code_exactly_once() {
    let app = TestApp::spawn_with(&[("MARKET_WORKER_INTERVAL", "1h")]).await;
    let seller = app.signed_in_user("SELLER").await;
    let buyers = [
        app.signed_in_user("BUYER").await,
        app.signed_in_user("BUYER").await,
    ];
    let mut codes = vec![];
    for i in 0..12 {
        let code = id_of(
            &list_code(
                &app,
                &seller,
                json!({ "maxBuyers": 2, "odds": 1.5 + i as f64 }),
            )
            .await,
        );
        for b in &buyers {
            app.buy(b, &code).await;
        }
        app.expire_code(&code, Duration::from_secs(60)).await;
        vote(
            &app,
            &buyers[0],
            &code,
            if i % 2 == 0 { "WIN" } else { "LOSS" },
        )
        .await;
        app.expire_code(&code, Duration::from_secs(25 * HOUR)).await;
        codes.push(code);
    }
    // Two more "processes": their own state over the same database.
    let db = oddxer_backend::db::Db::connect(&crate::helpers::mongodb_uri(), &app.config.db_name)
        .await
        .expect("db");
    let other_a = oddxer_backend::startup::build_state(app.config.clone(), db.clone())
        .await
        .expect("state");
    let other_b = oddxer_backend::startup::build_state(app.config.clone(), db)
        .await
        .expect("state");
    let now = mongodb::bson::DateTime::now();
    let (a, b, c) = tokio::join!(
        worker::run_once(&other_a, now),
        worker::run_once(&other_b, now),
        worker::run_once(&app.state, now)
    );
    let finalized = a.expect("a").finalized + b.expect("b").finalized + c.expect("c").finalized;
    assert!(finalized >= 12, "{finalized}");
    assert_eq!(
        app.count("code_resolutions").await,
        12,
        "one resolution per code"
    );
    assert_eq!(
        app.count("leaderboard_contributions").await,
        12,
        "one leaderboard contribution per code"
    );
    // Labels are written after the decision and may be overwritten once by a racing pass's stale
    // write (FerretDB writes whole documents back); the next pass puts them right.
    app.market_pass().await;
    for (i, code) in codes.iter().enumerate() {
        let d = code_doc(&app, code).await;
        assert_eq!(
            d.get_str("status").expect("s"),
            if i % 2 == 0 { "WON" } else { "LOST" }
        );
    }
    let stored = oddxer_backend::leaderboard::service::stored_rows(&app.state)
        .await
        .expect("rows");
    let recomputed = oddxer_backend::leaderboard::service::recompute_all(&app.state)
        .await
        .expect("recompute");
    assert_eq!(stored, recomputed);
    assert_eq!(
        (stored[0].wins, stored[0].losses, stored[0].total_sales),
        (6, 6, 24)
    );
}

#[tokio::test]
async fn recovery_finishes_a_resolution_whose_follow_up_was_cut_short() {
    let app = TestApp::spawn_with(&[("MARKET_WORKER_INTERVAL", "1h")]).await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let code = id_of(&list_code(&app, &seller, json!({})).await);
    app.buy(&buyer, &code).await;
    app.expire_code(&code, Duration::from_secs(2 * HOUR)).await;
    // A process inserted the decision and died before anything else.
    let oid = ObjectId::parse_str(&code).expect("oid");
    let long_ago = mongodb::bson::DateTime::from_millis(
        mongodb::bson::DateTime::now().timestamp_millis() - 3_600_000,
    );
    app.db
        .col("code_resolutions")
        .insert_one(doc! {
            "_id": oid, "seller": ObjectId::parse_str(&seller.user_id).expect("oid"), "outcome": "WON", "decidedBy": "ADMIN",
            "admin": null, "winVotes": 0i64, "lossVotes": 0i64, "applied": false, "createdAt": long_ago,
        })
        .await
        .expect("insert");
    assert_eq!(
        code_doc(&app, &code).await.get_str("status").expect("s"),
        "SOLD_OUT"
    );
    oddxer_backend::recovery::run_once(&app.state)
        .await
        .expect("recovery");
    let d = code_doc(&app, &code).await;
    assert_eq!(d.get_str("status").expect("s"), "WON");
    assert_eq!(app.count("leaderboard_contributions").await, 1);
    let res = app
        .db
        .col("code_resolutions")
        .find_one(doc! { "_id": oid })
        .await
        .expect("read")
        .expect("res");
    assert!(res.get_bool("applied").expect("applied"));
    // Running it again changes nothing.
    oddxer_backend::recovery::run_once(&app.state)
        .await
        .expect("recovery");
    assert_eq!(app.count("leaderboard_contributions").await, 1);
}

#[tokio::test]
async fn an_admins_reason_is_recorded_with_the_resolution_and_a_blank_one_is_refused() {
    let (app, admin) = with_admin(&[]).await;
    let seller = app.signed_in_user("SELLER").await;
    let code = id_of(&list_code(&app, &seller, json!({})).await);
    let path = format!("/admin/codes/{code}/resolve");
    let blank = app
        .post(
            &path,
            Some(&admin.access),
            &json!({ "outcome": "VOID", "reason": "  " }),
        )
        .await;
    blank.assert_error(422);
    assert!(
        blank.body["error"]["details"]["fields"]
            .get("reason")
            .is_some(),
        "{}",
        blank.body
    );
    assert_eq!(
        app.get(&format!("/codes/{code}"), None).await.data()["status"],
        "ACTIVE",
        "nothing decided"
    );

    let r = app
        .post(
            &path,
            Some(&admin.access),
            &json!({ "outcome": "VOID", "reason": "Fake booking code" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.data()["reason"], "Fake booking code");
    let stored = app.db.col("code_resolutions").find_one(mongodb::bson::doc! { "_id": mongodb::bson::oid::ObjectId::parse_str(&code).expect("id") }).await.expect("read").expect("stored");
    assert_eq!(
        stored.get_str("reason").expect("reason"),
        "Fake booking code"
    );
}
