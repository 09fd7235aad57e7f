//! Votes: only a buyer, once, between expiry and finalization; counters equal the stored votes.

use crate::codes::{id_of, list_code};
use crate::helpers::{Session, TestApp};
use mongodb::bson::{doc, oid::ObjectId};
use serde_json::json;
use std::time::Duration;

async fn vote(app: &TestApp, who: &Session, code: &str, vote_type: &str) -> crate::helpers::Resp {
    app.post(
        &format!("/codes/{code}/votes"),
        Some(&who.access),
        &json!({ "voteType": vote_type }),
    )
    .await
}

#[tokio::test]
async fn a_buyer_votes_once_between_expiry_and_the_end_of_voting() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    let buyer2 = app.signed_in_user("BUYER").await;
    let stranger = app.signed_in_user("BUYER").await;
    let code = id_of(&list_code(&app, &seller, json!({ "maxBuyers": 3 })).await);
    app.buy(&buyer, &code).await;
    app.buy(&buyer2, &code).await;

    let early = vote(&app, &buyer, &code, "WIN").await;
    early.assert_error(409);
    assert_eq!(early.error_code(), "VOTING_NOT_OPEN");

    app.expire_code(&code, Duration::from_secs(60)).await;
    vote(&app, &stranger, &code, "WIN").await.assert_error(403);
    vote(&app, &seller, &code, "WIN").await.assert_error(403);
    app.post(
        &format!("/codes/{code}/votes"),
        None,
        &json!({ "voteType": "WIN" }),
    )
    .await
    .assert_error(401);
    vote(&app, &buyer, &code, "DRAW").await.assert_error(422);
    vote(&app, &buyer, &ObjectId::new().to_hex(), "WIN")
        .await
        .assert_error(404);

    let ok = vote(&app, &buyer, &code, "WIN").await;
    assert_eq!(ok.status.as_u16(), 201, "{}", ok.body);
    assert_eq!(
        (
            ok.data()["winVotes"].clone(),
            ok.data()["totalVotes"].clone()
        ),
        (json!(1), json!(1))
    );
    assert!(
        ok.data().get("outcome").is_none(),
        "one of two buyers voted: voting goes on"
    );
    let twice = vote(&app, &buyer, &code, "LOSS").await;
    twice.assert_error(409);
    assert_eq!(twice.error_code(), "ALREADY_VOTED");
    let detail = app
        .get(&format!("/codes/{code}"), Some(&buyer.access))
        .await;
    assert_eq!(detail.data()["myVote"], "WIN");
    assert_eq!(detail.data()["status"], "AWAITING_RESULT");

    // The window closes 24 h after expiry: a late vote is refused even before the worker ran.
    app.expire_code(&code, Duration::from_secs(25 * 3600)).await;
    let late = vote(&app, &buyer2, &code, "LOSS").await;
    late.assert_error(409);
    assert_eq!(late.error_code(), "VOTING_CLOSED");
    assert_eq!(app.count("votes").await, 1);
}

#[tokio::test]
async fn no_vote_after_finalization() {
    let admin_phone = crate::helpers::unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = app.signed_in_user("BUYER").await;
    app.register(&admin_phone, &crate::helpers::unique_username())
        .await;
    let admin = app.sign_in(&admin_phone).await;
    let code = id_of(&list_code(&app, &seller, json!({})).await);
    app.buy(&buyer, &code).await;
    app.expire_code(&code, Duration::from_secs(60)).await;
    let r = app
        .post(
            &format!("/admin/codes/{code}/resolve"),
            Some(&admin.access),
            &json!({ "outcome": "VOID" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let closed = vote(&app, &buyer, &code, "WIN").await;
    closed.assert_error(409);
    assert_eq!(closed.error_code(), "VOTING_CLOSED");
}

#[tokio::test]
async fn concurrent_votes_keep_the_counters_equal_to_the_stored_votes() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = id_of(&list_code(&app, &seller, json!({ "maxBuyers": 24 })).await);
    let mut buyers = vec![];
    for _ in 0..24 {
        let b = app.signed_in_user("BUYER").await;
        app.buy(&b, &code).await;
        buyers.push(b);
    }
    // One buyer never votes, so the voting stays open and only the counters are under test.
    buyers.pop();
    app.expire_code(&code, Duration::from_secs(60)).await;
    let votes = buyers.iter().enumerate().map(|(i, b)| {
        let app = &app;
        let code = code.clone();
        async move { vote(app, b, &code, if i % 3 == 0 { "LOSS" } else { "WIN" }).await }
    });
    let answers = futures_util::future::join_all(votes).await;
    assert!(
        answers.iter().all(|r| r.status.as_u16() == 201),
        "{:?}",
        answers.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );

    let oid = ObjectId::parse_str(&code).expect("oid");
    let win = app
        .db
        .col("votes")
        .count_documents(doc! { "bettingCode": oid, "voteType": "WIN" })
        .await
        .expect("count") as i64;
    let loss = app
        .db
        .col("votes")
        .count_documents(doc! { "bettingCode": oid, "voteType": "LOSS" })
        .await
        .expect("count") as i64;
    assert_eq!((win, loss), (15, 8));
    // The counters on the code are rewritten after each answer; they settle on the stored votes.
    let mut shown = (None, None, None);
    for _ in 0..50 {
        let c = app.get(&format!("/codes/{code}"), None).await;
        shown = (
            c.data()["winVotes"].as_i64(),
            c.data()["lossVotes"].as_i64(),
            c.data()["totalVotes"].as_i64(),
        );
        if shown == (Some(win), Some(loss), Some(23)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown, (Some(win), Some(loss), Some(23)));
}

#[tokio::test]
async fn the_last_buyers_vote_decides_by_majority_and_a_tie_goes_to_review() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let (b1, b2, b3) = (
        app.signed_in_user("BUYER").await,
        app.signed_in_user("BUYER").await,
        app.signed_in_user("BUYER").await,
    );

    let decided = id_of(&list_code(&app, &seller, json!({ "maxBuyers": 3 })).await);
    for b in [&b1, &b2, &b3] {
        app.buy(b, &decided).await;
    }
    app.expire_code(&decided, Duration::from_secs(60)).await;
    vote(&app, &b1, &decided, "LOSS").await;
    vote(&app, &b2, &decided, "WIN").await;
    let last = vote(&app, &b3, &decided, "LOSS").await;
    assert_eq!(last.data()["outcome"], "LOST", "{}", last.body);
    let c = app.get(&format!("/codes/{decided}"), None).await;
    assert_eq!(
        (c.data()["status"].clone(), c.data()["outcome"].clone()),
        (json!("LOST"), json!("LOST"))
    );
    assert!(c.data()["finalizedAt"].is_string());
    let res = app
        .db
        .col("code_resolutions")
        .find_one(doc! { "_id": ObjectId::parse_str(&decided).expect("oid") })
        .await
        .expect("read")
        .expect("resolution");
    assert_eq!(res.get_str("decidedBy").expect("by"), "ALL_VOTED");

    let tied = id_of(&list_code(&app, &seller, json!({ "maxBuyers": 2 })).await);
    app.buy(&b1, &tied).await;
    app.buy(&b2, &tied).await;
    app.expire_code(&tied, Duration::from_secs(60)).await;
    vote(&app, &b1, &tied, "WIN").await;
    let last = vote(&app, &b2, &tied, "LOSS").await;
    assert!(last.data().get("outcome").is_none());
    let c = app.get(&format!("/codes/{tied}"), None).await;
    assert_eq!(
        (c.data()["status"].clone(), c.data()["needsReview"].clone()),
        (json!("AWAITING_RESULT"), json!(true))
    );
}
