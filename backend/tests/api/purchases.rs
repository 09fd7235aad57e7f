use crate::helpers::{Session, TestApp};
use mongodb::bson::{doc, oid::ObjectId};
use reqwest::StatusCode;
use serde_json::json;

async fn buyers(app: &TestApp, n: usize, funds: i64) -> Vec<Session> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let s = app.signed_in_user("BUYER").await;
        if funds > 0 {
            app.funded(&s, funds).await;
        }
        out.push(s);
    }
    out
}

/// Purchases sent all at once, one per `(buyer, code, Idempotency-Key)` of `requests`; their
/// statuses and bodies in the order of `requests`.
async fn purchases_at_once(
    app: &TestApp,
    requests: impl IntoIterator<Item = (&Session, String, String)>,
) -> Vec<(StatusCode, serde_json::Value)> {
    let requests = requests
        .into_iter()
        .map(|(buyer, code, key)| {
            let path = format!("/codes/{code}/purchase");
            (path, buyer.access.clone(), json!({}), key)
        })
        .collect();
    let answers = app.posts_at_once(requests).await;
    answers.into_iter().map(|r| (r.status, r.body)).collect()
}

/// A fresh Idempotency-Key.
fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_buyer_pays_into_escrow_and_sees_the_secret_code() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 5_000, 1).await;
    let buyer = &buyers(&app, 1, 12_000).await[0];

    let listed = app
        .get(&format!("/codes/{code}"), Some(&buyer.access))
        .await;
    assert!(
        listed.data().get("code").is_none(),
        "the secret is hidden before paying"
    );

    let r = app.purchase(buyer, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.data()["code"].as_str().expect("secret");
    assert!(secret.starts_with("SB-"));
    assert_eq!(r.data()["purchase"]["code"]["code"], secret);
    assert_eq!(r.data()["purchase"]["status"], "COMPLETED");
    assert_eq!(r.data()["wallet"]["balance"]["amount"], 7_000);
    assert_eq!(
        app.balance(&seller).await,
        0,
        "the seller is paid at finalization, not before"
    );

    let mine = app.get("/purchases", Some(&buyer.access)).await;
    assert_eq!(mine.data()["items"][0]["code"]["code"], secret);
    let detail = app
        .get(&format!("/codes/{code}"), Some(&buyer.access))
        .await;
    assert_eq!(
        detail.data()["code"],
        secret,
        "a buyer sees the secret in the detail view"
    );
    assert_eq!(detail.data()["status"], "SOLD_OUT");

    let sales = app.get("/seller/sales", Some(&seller.access)).await;
    assert_eq!(sales.data()["totalSales"], 1);
    assert_eq!(sales.data()["totalHeld"]["amount"], 5_000);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn refusals_own_code_already_bought_unknown_and_short_of_money() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    app.funded(&seller, 50_000).await;
    let code = app.create_code(&seller, 5_000, 3).await;
    let r = app.purchase(&seller, &code).await;
    r.assert_error(409);
    assert_eq!(r.error_code(), "OWN_CODE");

    let buyer = &buyers(&app, 1, 6_000).await[0];
    assert_eq!(app.purchase(buyer, &code).await.status, StatusCode::OK);
    let again = app.purchase(buyer, &code).await;
    again.assert_error(409);
    assert_eq!(again.error_code(), "ALREADY_BOUGHT");

    app.purchase(buyer, &ObjectId::new().to_hex())
        .await
        .assert_error(404);
    app.purchase(buyer, "not-an-id").await.assert_error(400);

    let poor = &buyers(&app, 1, 1_000).await[0];
    let short = app.purchase(poor, &code).await;
    short.assert_error(402);
    assert_eq!(app.balance(poor).await, 1_000);
    // The slot went back: someone with money can still buy.
    let rich = &buyers(&app, 1, 9_000).await[0];
    assert_eq!(app.purchase(rich, &code).await.status, StatusCode::OK);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn an_expired_code_cannot_be_bought() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 5_000, 1).await;
    let past = mongodb::bson::DateTime::from_millis(
        mongodb::bson::DateTime::now().timestamp_millis() - 60_000,
    );
    let oid = ObjectId::parse_str(&code).expect("oid");
    app.db
        .col("bettingcodes")
        .update_one(doc! { "_id": oid }, doc! { "$set": { "expiresAt": past } })
        .await
        .expect("update");
    let buyer = &buyers(&app, 1, 9_000).await[0];
    let r = app.purchase(buyer, &code).await;
    r.assert_error(409);
    assert_eq!(app.balance(buyer).await, 9_000);
}

#[tokio::test]
async fn a_hundred_buyers_race_for_one_exclusive_code_and_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 4_000, 1).await;
    let racers = buyers(&app, 100, 4_000).await;
    let answers =
        purchases_at_once(&app, racers.iter().map(|b| (b, code.clone(), new_key()))).await;
    let mut won = 0;
    for (status, body) in answers {
        match status {
            StatusCode::OK => won += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert_eq!(won, 1);
    let mut total = 0;
    for b in &racers {
        total += app.balance(b).await;
    }
    assert_eq!(total, 99 * 4_000, "exactly one price left the buyers");
    assert_eq!(
        app.db
            .col("purchases")
            .count_documents(doc! { "status": "COMPLETED" })
            .await
            .expect("count"),
        1
    );
    app.assert_reconciled().await;
}

#[tokio::test]
async fn one_buyer_with_money_for_one_code_fires_fifty_purchases_and_gets_one() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let mut codes = vec![];
    for _ in 0..50 {
        codes.push(app.create_code(&seller, 3_000, 1).await);
    }
    let buyer = &buyers(&app, 1, 3_000).await[0];
    let answers =
        purchases_at_once(&app, codes.iter().map(|c| (buyer, c.clone(), new_key()))).await;
    let mut ok = 0;
    for (status, body) in answers {
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::PAYMENT_REQUIRED => {}
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(app.balance(buyer).await, 0);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn a_purchase_retried_ten_times_with_one_key_happens_once() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 2_500, 5).await;
    let buyer = &buyers(&app, 1, 10_000).await[0];
    let retries = (0..10).map(|_| (buyer, code.clone(), "one-purchase".to_owned()));
    let answers = purchases_at_once(&app, retries).await;
    let mut ids = std::collections::HashSet::new();
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.insert(
            body["data"]["purchase"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.balance(buyer).await, 7_500);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn a_refusal_is_replayed_for_the_same_key_even_after_things_change() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 5_000, 1).await;
    let first = &buyers(&app, 1, 5_000).await[0];
    assert_eq!(app.purchase(first, &code).await.status, StatusCode::OK);

    let late = &buyers(&app, 1, 5_000).await[0];
    let url = format!("/codes/{code}/purchase");
    let sold_out = app
        .post_with(&url, Some(&late.access), &json!({}), Some("late-key"))
        .await;
    sold_out.assert_error(409);
    let again = app
        .post_with(&url, Some(&late.access), &json!({}), Some("late-key"))
        .await;
    again.assert_error(409);
    assert_eq!(again.error_code(), sold_out.error_code());
    assert_eq!(app.balance(late).await, 5_000);
}

/// Issue 9, item 5: a buyer without money held one of two places for a moment, and buyers who could
/// pay were told SOLD_OUT while that place was about to be given back.
#[tokio::test]
async fn a_buyer_who_cannot_pay_never_makes_a_paying_buyer_hear_sold_out() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    for round in 0..4 {
        let code = app.create_code(&seller, 4_000, 2).await;
        let mut racers = buyers(&app, 5, 4_000).await;
        // Listed first so that it tends to take a place first.
        racers.insert(0, app.signed_in_user("BUYER").await);
        let answers =
            purchases_at_once(&app, racers.iter().map(|b| (b, code.clone(), new_key()))).await;
        let mut bought = 0;
        for (i, (status, body)) in answers.into_iter().enumerate() {
            match (i, status, body["error"]["code"].as_str()) {
                (0, StatusCode::PAYMENT_REQUIRED, _)
                | (0, StatusCode::CONFLICT, Some("SOLD_OUT")) => {}
                (1.., StatusCode::OK, _) => bought += 1,
                (1.., StatusCode::CONFLICT, Some("SOLD_OUT")) => {}
                other => panic!("round {round}: unexpected {other:?}: {body}"),
            }
        }
        assert_eq!(
            bought, 2,
            "round {round}: both places go to buyers who can pay"
        );
    }
    app.assert_reconciled().await;
}

/// Issue 9: `PATCH /codes/{id}` checked for sales and then wrote, so a sale could land between and
/// its buyer pay the old price for the new code (or the reverse).
#[tokio::test]
async fn a_buyer_racing_an_edit_pays_the_price_of_the_code_they_receive() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    for round in 0..8 {
        let code = app.create_code(&seller, 4_000, 1).await;
        let before = app
            .get(&format!("/codes/{code}"), Some(&seller.access))
            .await;
        let old_secret = before.data()["code"].as_str().expect("secret").to_owned();
        let buyer = buyers(&app, 1, 10_000).await.remove(0);
        let new_secret = format!("EDITED-{round}");
        let edit = {
            let (http, url, token) = (
                app.http.clone(),
                app.url(&format!("/codes/{code}")),
                seller.access.clone(),
            );
            let body = json!({ "price": 6_000, "code": new_secret });
            tokio::spawn(async move {
                let r = http
                    .patch(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("send");
                (
                    r.status(),
                    r.json::<serde_json::Value>().await.expect("json"),
                )
            })
        };
        let bought = app.purchase(&buyer, &code).await;
        let (edit_status, edit_body) = edit.await.expect("join");
        let paid = 10_000 - app.balance(&buyer).await;
        match bought.status {
            // The edit landed whole before the purchase read the code: the new price for the new code.
            StatusCode::OK if edit_status == StatusCode::OK => {
                assert_eq!(
                    paid, 6_000,
                    "round {round}: the buyer paid the edited price"
                );
                assert_eq!(
                    bought.data()["code"],
                    new_secret.as_str(),
                    "round {round}: and received the edited code"
                );
            }
            StatusCode::OK => {
                assert_eq!(
                    edit_status,
                    StatusCode::CONFLICT,
                    "round {round}: an edit after a sale must be refused: {edit_body}"
                );
                assert_eq!(
                    paid, 4_000,
                    "round {round}: the buyer paid the listed price"
                );
                assert_eq!(
                    bought.data()["code"],
                    old_secret.as_str(),
                    "round {round}: and received the code listed at that price"
                );
            }
            StatusCode::CONFLICT => {
                assert_eq!(paid, 0, "round {round}: a refused buyer pays nothing");
                assert!(
                    matches!(bought.error_code(), "CODE_CHANGED" | "SOLD_OUT"),
                    "round {round}: {}",
                    bought.body
                );
                // Both may be refused (each saw the other's marker): retrying is safe either way.
            }
            other => panic!("round {round}: unexpected {other}: {}", bought.body),
        }
        let after = app
            .get(&format!("/codes/{code}"), Some(&seller.access))
            .await;
        if edit_status == StatusCode::OK {
            assert_eq!(after.data()["price"]["amount"], 6_000);
            assert_eq!(after.data()["code"], new_secret.as_str());
        } else {
            assert_eq!(
                after.data()["price"]["amount"],
                4_000,
                "round {round}: a refused edit changes nothing"
            );
            assert_eq!(after.data()["code"], old_secret.as_str());
        }
    }
    app.assert_reconciled().await;
}

/// A phone that loses signal mid-purchase (the request is cut at some point of its steps) and
/// whose app forgot the key buys again with a new key: the first request ran to its end on the
/// server whatever the moment of the cut, so the second is told ALREADY_BOUGHT of a purchase
/// the buyer really has, or buys; never a purchase left half-done that locks the buyer out.
#[tokio::test]
async fn a_purchase_cut_off_by_the_client_still_finishes_and_a_new_key_sees_its_fate() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = buyers(&app, 1, 200_000).await.remove(0);
    let impatient = reqwest::Client::new();
    for cut_ms in [1u64, 2, 3, 5, 8, 12, 20, 35] {
        let code = app.create_code(&seller, 1_000, 3).await;
        let path = app.url(&format!("/codes/{code}/purchase"));
        let first = impatient
            .post(&path)
            .bearer_auth(&buyer.access)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&json!({}))
            .timeout(std::time::Duration::from_millis(cut_ms))
            .send()
            .await;
        let again = app.purchase(&buyer, &code).await;
        let bought = match (again.status.as_u16(), again.error_code()) {
            (200, _) => true,
            (409, "ALREADY_BOUGHT") => true,
            other => panic!(
                "cut after {cut_ms} ms (first answered: {}): the new key got {other:?} {}",
                first.is_ok(),
                again.body
            ),
        };
        assert!(bought);
        let mine = app.get("/purchases?limit=100", Some(&buyer.access)).await;
        let of_code: Vec<_> = mine.data()["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|p| p["codeId"] == code.as_str())
            .cloned()
            .collect();
        assert_eq!(of_code.len(), 1, "cut after {cut_ms} ms: {of_code:?}");
        assert_eq!(of_code[0]["status"], "COMPLETED", "cut after {cut_ms} ms");
    }
    assert_eq!(
        app.balance(&buyer).await,
        200_000 - 8 * 1_000,
        "each code paid once"
    );
    app.assert_reconciled().await;
}

/// A seller an admin deactivated sells nothing more: their live code is refused with 409
/// NOT_FOR_SALE and the buyer pays nothing.
#[tokio::test]
async fn a_deactivated_sellers_code_cannot_be_bought() {
    let admin_phone = crate::helpers::unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let admin = app.admin(&admin_phone).await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 2_000, 3).await;
    let buyer = buyers(&app, 1, 10_000).await.remove(0);
    let r = app
        .patch(
            &format!("/admin/users/{}", seller.user_id),
            Some(&admin.access),
            &json!({ "isActive": false, "reason": "fraud report" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let refused = app.purchase(&buyer, &code).await;
    assert_eq!(
        (refused.status.as_u16(), refused.error_code()),
        (409, "NOT_FOR_SALE"),
        "{}",
        refused.body
    );
    assert_eq!(app.balance(&buyer).await, 10_000, "nothing paid");
    app.assert_reconciled().await;
}

#[tokio::test]
async fn a_sellers_sales_are_listed_newest_first_across_pages() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    let buyer = &buyers(&app, 1, 20_000).await[0];
    let mut bought = Vec::new();
    for _ in 0..4 {
        let code = app.create_code(&seller, 1_000, 1).await;
        assert_eq!(app.purchase(buyer, &code).await.status, StatusCode::OK);
        bought.push(code);
    }
    bought.reverse();
    let first = app.get("/seller/sales?limit=2", Some(&seller.access)).await;
    let cursor = first.data()["nextCursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second = app
        .get(
            &format!("/seller/sales?limit=2&cursor={cursor}"),
            Some(&seller.access),
        )
        .await;
    let listed: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|r| r.data()["items"].as_array().into_iter().flatten())
        .filter_map(|s| s["codeId"].as_str())
        .collect();
    assert_eq!(listed, bought, "sales newest first");
    let times: Vec<&str> = first.data()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["soldAt"].as_str())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
}
