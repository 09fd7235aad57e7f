use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_new_user_signs_up_deposits_and_sees_the_money_in_wallet_and_history() {
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;

    let wallet = app.get("/wallet", Some(&buyer.access)).await;
    assert_eq!(wallet.status, StatusCode::OK);
    assert_eq!(
        wallet.data()["balance"],
        json!({ "amount": 0, "currency": "UGX" })
    );
    assert_eq!(wallet.data()["held"]["amount"], 0);

    let pending = app.deposit(&buyer, 50_000, "dep-1").await;
    assert_eq!(pending.status, StatusCode::ACCEPTED, "{}", pending.body);
    assert_eq!(pending.data()["status"], "PENDING");
    assert_eq!(
        app.balance(&buyer).await,
        0,
        "nothing is credited before the provider confirms"
    );

    let reference = pending.data()["reference"].as_str().expect("reference");
    let done = app
        .post(
            &format!("/dev/payments/{reference}/complete"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(done.data()["status"], "COMPLETED", "{}", done.body);
    assert_eq!(app.balance(&buyer).await, 50_000);

    let history = app.get("/wallet/transactions", Some(&buyer.access)).await;
    let items = history.data()["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["type"], "DEPOSIT");
    assert_eq!(items[0]["amount"]["amount"], 50_000);
    assert_eq!(items[0]["balanceAfter"]["amount"], 50_000);
    assert_eq!(items[0]["seq"], 1);
}

#[tokio::test]
async fn a_completed_deposit_confirmed_again_credits_once() {
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;
    let tx = app.funded(&buyer, 10_000).await;
    let reference = tx["reference"].as_str().expect("reference");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let url = app.url(&format!("/dev/payments/{reference}/complete"));
            let http = app.http.clone();
            tokio::spawn(async move { http.post(url).send().await.map(|r| r.status()) })
        })
        .collect();
    for h in handles {
        assert_eq!(h.await.expect("join").expect("send"), StatusCode::OK);
    }
    assert_eq!(app.balance(&buyer).await, 10_000);
    let history = app.get("/wallet/transactions", Some(&buyer.access)).await;
    assert_eq!(history.data()["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_failed_deposit_credits_nothing() {
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;
    let pending = app.deposit(&buyer, 7_000, "dep-fail").await;
    let reference = pending.data()["reference"].as_str().expect("reference");
    let failed = app
        .post(&format!("/dev/payments/{reference}/fail"), None, &json!({}))
        .await;
    assert_eq!(failed.data()["status"], "FAILED", "{}", failed.body);
    // A late "success" for the same payment changes nothing: the sandbox settles once.
    app.post(
        &format!("/dev/payments/{reference}/complete"),
        None,
        &json!({}),
    )
    .await;
    assert_eq!(app.balance(&buyer).await, 0);
    assert_eq!(app.count("ledger_entries").await, 0);
}

#[tokio::test]
async fn a_deposit_retried_with_one_key_happens_once_and_a_changed_body_is_refused() {
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;
    let first = app.deposit(&buyer, 20_000, "same-key").await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let handles: Vec<_> = (0..9)
        .map(|_| {
            let http = app.http.clone();
            let url = app.url("/wallet/deposits");
            let token = buyer.access.clone();
            let body = json!({ "amount": 20_000, "paymentMethod": "MTN_MOMO", "phoneNumber": buyer.phone });
            tokio::spawn(async move {
                let r = http.post(url).bearer_auth(token).header("Idempotency-Key", "same-key").json(&body).send().await.expect("send");
                (r.status(), r.json::<serde_json::Value>().await.expect("json"))
            })
        })
        .collect();
    for h in handles {
        let (status, body) = h.await.expect("join");
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(body["data"]["id"], first.data()["id"]);
        assert_eq!(body["data"]["reference"], first.data()["reference"]);
    }
    assert_eq!(app.count("transactions").await, 1);

    let changed = app.deposit(&buyer, 20_001, "same-key").await;
    changed.assert_error(422);
    // Keys are scoped per user: another user may use the same key for their own deposit.
    let other = app.signed_in_user("BUYER").await;
    let theirs = app.deposit(&other, 20_000, "same-key").await;
    assert_eq!(theirs.status, StatusCode::ACCEPTED);
    assert_ne!(theirs.data()["id"], first.data()["id"]);
}

#[tokio::test]
async fn money_calls_without_an_idempotency_key_or_with_bad_amounts_are_refused() {
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;
    let body = json!({ "amount": 5_000, "paymentMethod": "MTN_MOMO", "phoneNumber": buyer.phone });
    app.post("/wallet/deposits", Some(&buyer.access), &body)
        .await
        .assert_error(422);
    for (amount, method) in [
        (json!(0), json!("MTN_MOMO")),
        (json!(-5), json!("MTN_MOMO")),
        (json!(10.5), json!("MTN_MOMO")),
        (json!(5000), json!("PAYPAL")),
    ] {
        let body = json!({ "amount": amount, "paymentMethod": method, "phoneNumber": buyer.phone });
        app.post_with(
            "/wallet/deposits",
            Some(&buyer.access),
            &body,
            Some(&uuid::Uuid::new_v4().to_string()),
        )
        .await
        .assert_error(422);
    }
    assert_eq!(app.count("transactions").await, 0);
}

#[tokio::test]
async fn a_deposit_the_provider_never_received_is_asked_again_by_recovery_and_credited_once() {
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;
    let pending = app.deposit(&buyer, 8_000, "lost-request").await;
    let reference = pending.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    // The request died on the way: the provider has no record of it.
    app.db
        .col("sandbox_payments")
        .delete_one(mongodb::bson::doc! { "_id": &reference })
        .await
        .expect("delete");
    oddxer_backend::recovery::run_pass(&app.state, mongodb::bson::DateTime::now())
        .await
        .expect("recovery");
    assert_eq!(
        app.count("sandbox_payments").await,
        1,
        "the same reference was submitted again"
    );
    let done = app
        .post(
            &format!("/dev/payments/{reference}/complete"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(done.data()["status"], "COMPLETED", "{}", done.body);
    assert_eq!(app.balance(&buyer).await, 8_000);
    app.assert_reconciled().await;
}

/// Issue 9, item 9: a deposit that failed showed nowhere.
#[tokio::test]
async fn a_failed_deposit_appears_in_my_payments_as_failed_with_its_reference() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let r = app.deposit(&s, 7_000, "dep-fails").await;
    let reference = r.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let failed = app
        .post(
            &format!("/dev/payments/{reference}/fail"),
            None,
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(failed.status.as_u16(), 200, "{}", failed.body);
    app.funded(&s, 3_000).await;

    let page = app.get("/wallet/payments", Some(&s.access)).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    let items = page.data()["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    // Newest first: the completed deposit, then the failed one.
    assert_eq!(items[0]["status"], "COMPLETED");
    let f = &items[1];
    assert_eq!(f["reference"], reference.as_str());
    assert_eq!(f["type"], "DEPOSIT");
    assert_eq!(f["status"], "FAILED");
    assert_eq!(f["amount"]["amount"], 7_000);
    assert_eq!(f["paymentMethod"], "MTN_MOMO");
    assert!(f["failureReason"].as_str().is_some_and(|r| !r.is_empty()));
    let masked = f["phoneNumber"].as_str().expect("masked phone");
    assert_ne!(masked, s.phone, "the number is masked");
    assert!(masked.ends_with(&s.phone[s.phone.len() - 2..]));

    // Pages of one.
    let first = app.get("/wallet/payments?limit=1", Some(&s.access)).await;
    let cursor = first.data()["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(
            &format!("/wallet/payments?limit=1&cursor={cursor}"),
            Some(&s.access),
        )
        .await;
    assert_eq!(second.data()["items"][0]["reference"], reference.as_str());
}

#[tokio::test]
async fn a_reversed_withdrawal_shows_reversed_and_its_journal_entries_name_the_payment() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let deposit = app.funded(&s, 20_000).await;
    let body = serde_json::json!({ "amount": 8_000, "paymentMethod": "AIRTEL_MONEY", "phoneNumber": s.phone });
    let w = app
        .post_with("/wallet/withdrawals", Some(&s.access), &body, Some("w-rev"))
        .await;
    let reference = w.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    app.post(
        &format!("/dev/payments/{reference}/fail"),
        None,
        &serde_json::json!({}),
    )
    .await;

    let page = app.get("/wallet/payments", Some(&s.access)).await;
    let items = page.data()["items"].as_array().expect("items");
    assert_eq!(
        items.len(),
        2,
        "the reversal is a step of the withdrawal, not a payment of its own: {}",
        page.body
    );
    assert_eq!(items[0]["reference"], reference.as_str());
    assert_eq!(items[0]["type"], "WITHDRAWAL");
    assert_eq!(items[0]["status"], "REVERSED");
    assert!(items[0]["failureReason"].is_string());

    let journal = app.get("/wallet/transactions", Some(&s.access)).await;
    let entries = journal.data()["items"].as_array().expect("items");
    let named: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or(""),
                e["reference"].as_str().unwrap_or(""),
                e["paymentMethod"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let deposit_ref = deposit["reference"].as_str().expect("deposit reference");
    assert_eq!(
        named,
        vec![
            ("REVERSAL", reference.as_str(), "AIRTEL_MONEY"),
            ("WITHDRAWAL", reference.as_str(), "AIRTEL_MONEY"),
            ("DEPOSIT", deposit_ref, "MTN_MOMO")
        ]
    );
    app.assert_reconciled().await;
}

/// A debit whose write was still in flight when its transfer was decided FAILED (its driver slow,
/// then killed) lands after every driver looked: the buyer's money is gone for a purchase that
/// failed. Recovery's second look at FAILED transfers gives it back, once.
#[tokio::test]
async fn a_debit_landing_after_its_transfer_failed_is_given_back_by_recovery() {
    use mongodb::bson::{oid::ObjectId, DateTime};
    use oddxer_backend::ledger::{
        accounts,
        entries::LegSpec,
        transfer::{Leg, Outcome, TransferSpec},
    };
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;
    app.funded(&buyer, 10_000).await;
    let wallet = accounts::wallet(ObjectId::parse_str(&buyer.user_id).expect("user id"));
    let escrow = accounts::escrow(ObjectId::new());
    accounts::ensure(&app.db, &escrow, None, &app.state.config.currency)
        .await
        .expect("escrow account");
    let spec = TransferSpec {
        id: ObjectId::new(),
        kind: oddxer_shared::TransactionType::Purchase,
        legs: vec![
            Leg {
                account: wallet.clone(),
                amount: -3_000,
            },
            Leg {
                account: escrow.clone(),
                amount: 3_000,
            },
        ],
        description: "Purchase".into(),
        label_on_complete: None,
        reference: None,
        payment_method: None,
    };
    let transfers = app.state.ledger.transfers();
    // Recovery saw nothing applied and decided FAILED; then the slow driver's debit landed.
    assert_eq!(
        transfers.fail(&spec, "PURCHASE").await.expect("fail"),
        Outcome::Failed
    );
    let late = LegSpec {
        account: &wallet,
        transfer_id: &spec.id.to_hex(),
        amount: -3_000,
        kind: "PURCHASE",
        description: "Purchase",
        reference: None,
        payment_method: None,
        enforce_no_overdraft: true,
    };
    app.state
        .ledger
        .entries
        .apply(&late)
        .await
        .expect("late debit");
    assert_eq!(
        app.balance(&buyer).await,
        7_000,
        "the late debit took the money"
    );

    // Not before the recovery window: a write may still be in flight.
    oddxer_backend::recovery::run_pass(
        &app.state,
        DateTime::from_millis(DateTime::now().timestamp_millis() - 60_000),
    )
    .await
    .expect("early pass");
    assert_eq!(app.balance(&buyer).await, 7_000);
    let later = DateTime::from_millis(DateTime::now().timestamp_millis() + 1_000);
    oddxer_backend::recovery::run_pass(&app.state, later)
        .await
        .expect("recovery");
    assert_eq!(
        app.balance(&buyer).await,
        10_000,
        "the failed purchase's debit is given back"
    );
    oddxer_backend::recovery::run_pass(&app.state, later)
        .await
        .expect("second pass");
    assert_eq!(app.balance(&buyer).await, 10_000, "given back once");
    let history = app.get("/wallet/transactions", Some(&buyer.access)).await;
    let voids: Vec<_> = history.data()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["transferId"] == format!("{}:void", spec.id.to_hex()))
        .collect();
    assert_eq!(voids.len(), 1, "{voids:?}");
    app.assert_reconciled().await;
}

#[tokio::test]
async fn an_amount_out_of_range_is_explained_in_money_beside_the_field() {
    let app = TestApp::spawn().await;
    let buyer = app.signed_in_user("BUYER").await;
    for amount in [100, 5_000_001] {
        let r = app
            .deposit(&buyer, amount, &format!("range-{amount}"))
            .await;
        r.assert_error(422);
        let err = &r.body["error"];
        assert_eq!(
            err["details"]["fields"]["amount"], "must be between UGX 500 and UGX 5,000,000",
            "{err}"
        );
        assert_eq!(
            err["message"], "The amount must be between UGX 500 and UGX 5,000,000",
            "{err}"
        );
    }
    assert_eq!(app.balance(&buyer).await, 0);
}
