//! Deposits through `PAYMENT_PROVIDER=mobile_money` against the MTN MoMo and Airtel Money doubles,
//! end to end: the backend calls the double, the double calls back, the callback is
//! authenticated and only triggers a status check, and money moves once.

mod adapters;

use crate::doubles::airtel::AirtelDouble;
use crate::doubles::mtn::{self as mtn_double, MtnDouble};
use crate::doubles::Callbacks;
use crate::helpers::{Resp, Session, TestApp};
use mongodb::bson::doc;
use oddxer_backend::payments::callback;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "test-callback-secret-0123456789abcdef";

struct Rails {
    app: TestApp,
    mtn: MtnDouble,
    airtel: AirtelDouble,
}

async fn spawn_rails() -> Rails {
    let mtn = MtnDouble::spawn().await;
    let airtel = AirtelDouble::spawn().await;
    let mut env: Vec<(&str, String)> = vec![
        ("PAYMENT_PROVIDER", "mobile_money".into()),
        ("PAYMENT_CALLBACK_SECRET", SECRET.into()),
        ("PAYMENT_TIMEOUT", "1s".into()),
        ("RECOVERY_AFTER", "0s".into()),
    ];
    env.extend(mtn.env());
    env.extend(airtel.env());
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::spawn_with(&pairs).await;
    mtn.deliver_callbacks_to(&app.address);
    let airtel_token = callback::token(SECRET, callback::AIRTEL, callback::ANY_PAYMENT);
    airtel.register_callback(&format!(
        "{}/api/v1/payments/callbacks/airtel?token={airtel_token}",
        app.address
    ));
    Rails { app, mtn, airtel }
}

async fn deposit(app: &TestApp, s: &Session, method: &str, phone: &str, amount: i64) -> Resp {
    let body = json!({ "amount": amount, "paymentMethod": method, "phoneNumber": phone });
    let r = app
        .post_with(
            "/wallet/deposits",
            Some(&s.access),
            &body,
            Some(&uuid::Uuid::new_v4().to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    r
}

fn reference(r: &Resp) -> String {
    r.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned()
}

async fn stored_status(app: &TestApp, reference: &str) -> String {
    let tx = app
        .db
        .col("transactions")
        .find_one(doc! { "reference": reference })
        .await
        .expect("find")
        .expect("transaction");
    tx.get_str("status").expect("status").to_owned()
}

/// One pass of the recovery worker, as the backend runs it every `RECOVERY_INTERVAL`.
async fn recovery_pass(app: &TestApp) {
    let state = oddxer_backend::startup::build_state(app.config.clone(), app.db.clone())
        .await
        .expect("state");
    oddxer_backend::recovery::run_once(&state)
        .await
        .expect("recovery pass");
}

async fn wallet_history_len(app: &TestApp, s: &Session) -> usize {
    app.get("/wallet/transactions", Some(&s.access))
        .await
        .data()["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0)
}

async fn send_callback(app: &TestApp, provider: &str, token: Option<&str>, body: &Value) -> Resp {
    let mut url = app.url(&format!("/payments/callbacks/{provider}"));
    if let Some(t) = token {
        url = format!("{url}?token={t}");
    }
    let resp = app.http.post(url).json(body).send().await.expect("send");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Resp {
        status,
        body,
        headers,
    }
}

/// The callback MTN sends: the payment resource as its status query shows it.
fn mtn_callback(reference: &str, status: &str) -> Value {
    json!({ "financialTransactionId": "2107591836", "externalId": reference, "amount": "20000", "currency": "UGX",
            "payer": { "partyIdType": "MSISDN", "partyId": "46733123459" }, "payerMessage": "Oddxer", "payeeNote": "Oddxer", "status": status })
}

#[tokio::test]
async fn a_deposit_confirmed_by_repeated_callbacks_is_credited_once() {
    let r = spawn_rails().await;
    r.mtn.set_callbacks(Callbacks::Repeated(3));
    let buyer = r.app.signed_in_user("BUYER").await;
    let pending = deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 20_000).await;
    let reference = reference(&pending);

    let deliveries = r.mtn.wait_for_deliveries(3).await;
    for d in &deliveries {
        assert_eq!(d.status, 200, "{deliveries:?}");
        assert_eq!(d.body["externalId"], reference.as_str());
        assert!(
            d.url.contains("/api/v1/payments/callbacks/mtn?token="),
            "{}",
            d.url
        );
    }
    assert_eq!(r.app.balance(&buyer).await, 20_000);
    assert_eq!(stored_status(&r.app, &reference).await, "COMPLETED");

    // Replays, some at once, with the genuine token: harmless by construction.
    let token = callback::token(SECRET, callback::MTN, &reference);
    let body = mtn_callback(&reference, "SUCCESSFUL");
    let replays = (0..5).map(|_| send_callback(&r.app, "mtn", Some(&token), &body));
    for resp in futures_util::future::join_all(replays).await {
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
        assert_eq!(resp.data()["status"], "COMPLETED");
    }
    assert_eq!(r.app.balance(&buyer).await, 20_000);
    assert_eq!(wallet_history_len(&r.app, &buyer).await, 1);
    assert_eq!(r.mtn.payments("collection"), 1);
}

#[tokio::test]
async fn a_lost_callback_is_made_up_by_the_recovery_poll() {
    let r = spawn_rails().await;
    r.mtn.set_callbacks(Callbacks::Lost);
    let buyer = r.app.signed_in_user("BUYER").await;
    let reference =
        reference(&deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 12_000).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        r.app.balance(&buyer).await,
        0,
        "nothing without a confirmation"
    );
    assert!(r.mtn.deliveries().is_empty());

    recovery_pass(&r.app).await;
    assert_eq!(r.app.balance(&buyer).await, 12_000);
    assert_eq!(stored_status(&r.app, &reference).await, "COMPLETED");
    recovery_pass(&r.app).await;
    assert_eq!(r.app.balance(&buyer).await, 12_000);
    assert_eq!(wallet_history_len(&r.app, &buyer).await, 1);
}

#[tokio::test]
async fn an_ongoing_payment_is_credited_only_when_mtn_says_it_succeeded() {
    let r = spawn_rails().await;
    r.mtn.set_ongoing_for(Duration::from_millis(800));
    let buyer = r.app.signed_in_user("BUYER").await;
    let reference =
        reference(&deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::ONGOING, 8_000).await);
    recovery_pass(&r.app).await;
    assert_eq!(stored_status(&r.app, &reference).await, "PENDING");
    assert_eq!(r.app.balance(&buyer).await, 0);
    // The callback comes once the payment is final.
    r.mtn.wait_for_deliveries(1).await;
    assert_eq!(r.app.balance(&buyer).await, 8_000);
}

#[tokio::test]
async fn a_forged_callback_moves_nothing() {
    let r = spawn_rails().await;
    r.mtn.set_callbacks(Callbacks::Lost);
    let buyer = r.app.signed_in_user("BUYER").await;
    let reference =
        reference(&deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 30_000).await);
    let body = mtn_callback(&reference, "SUCCESSFUL");
    let other = callback::token(SECRET, callback::MTN, &uuid::Uuid::new_v4().to_string());
    let wrong_secret = callback::token("not-our-secret", callback::MTN, &reference);
    let airtels = callback::token(SECRET, callback::AIRTEL, callback::ANY_PAYMENT);
    let zeros = "0".repeat(64);
    for token in [
        None,
        Some(zeros.as_str()),
        Some(other.as_str()),
        Some(wrong_secret.as_str()),
        Some(airtels.as_str()),
    ] {
        let resp = send_callback(&r.app, "mtn", token, &body).await;
        resp.assert_error(401);
    }
    // The token of the MTN URL does not open the Airtel one either.
    let mtn_token = callback::token(SECRET, callback::MTN, &reference);
    let airtel_body = json!({ "transaction": { "id": reference, "status_code": "TS", "message": "Paid", "airtel_money_id": "MP1" } });
    send_callback(&r.app, "airtel", Some(&mtn_token), &airtel_body)
        .await
        .assert_error(401);
    assert_eq!(r.app.balance(&buyer).await, 0);
    assert_eq!(r.app.count("ledger_entries").await, 0);
    assert_eq!(stored_status(&r.app, &reference).await, "PENDING");

    // The genuine callback goes through; it is the provider's status that credits.
    let ok = send_callback(&r.app, "mtn", Some(&mtn_token), &body).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(r.app.balance(&buyer).await, 30_000);
}

#[tokio::test]
async fn a_genuine_callback_claiming_success_cannot_credit_a_payment_mtn_failed() {
    let r = spawn_rails().await;
    r.mtn.set_callbacks(Callbacks::Lost);
    let buyer = r.app.signed_in_user("BUYER").await;
    let reference =
        reference(&deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::FAILED, 30_000).await);
    let token = callback::token(SECRET, callback::MTN, &reference);
    let resp = send_callback(
        &r.app,
        "mtn",
        Some(&token),
        &mtn_callback(&reference, "SUCCESSFUL"),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert_eq!(
        resp.data()["status"],
        "FAILED",
        "the status comes from MTN, not from the callback"
    );
    assert_eq!(r.app.balance(&buyer).await, 0);
}

#[tokio::test]
async fn callbacks_for_unknown_payments_unknown_providers_or_malformed_bodies_are_refused() {
    let r = spawn_rails().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let token = callback::token(SECRET, callback::MTN, &unknown);
    let resp = send_callback(
        &r.app,
        "mtn",
        Some(&token),
        &mtn_callback(&unknown, "SUCCESSFUL"),
    )
    .await;
    resp.assert_error(404);
    let airtel_token = callback::token(SECRET, callback::AIRTEL, callback::ANY_PAYMENT);
    let airtel_body = json!({ "transaction": { "id": unknown, "status_code": "TS" } });
    send_callback(&r.app, "airtel", Some(&airtel_token), &airtel_body)
        .await
        .assert_error(404);

    send_callback(
        &r.app,
        "mtn",
        Some(&token),
        &json!({ "status": "SUCCESSFUL" }),
    )
    .await
    .assert_error(400);
    send_callback(&r.app, "mtn", Some(&token), &json!("SUCCESSFUL"))
        .await
        .assert_error(400);
    let raw = r
        .app
        .post_raw(
            &format!("/payments/callbacks/mtn?token={token}"),
            "application/json",
            "{not json",
        )
        .await;
    assert_eq!(raw.error_code(), "MALFORMED_CALLBACK");
    raw.assert_error(400);
    let orange = send_callback(
        &r.app,
        "orange",
        Some(&token),
        &mtn_callback(&unknown, "SUCCESSFUL"),
    )
    .await;
    orange.assert_error(404);
    assert_ne!(orange.body["error"]["message"], "No such route");
    assert_eq!(r.app.count("ledger_entries").await, 0);
}

#[tokio::test]
async fn payers_who_fail_reject_or_let_it_expire_are_not_credited() {
    let r = spawn_rails().await;
    let buyer = r.app.signed_in_user("BUYER").await;
    let mut refs = vec![];
    for phone in [
        mtn_double::FAILED,
        mtn_double::REJECTED,
        mtn_double::TIMEOUT,
    ] {
        refs.push(reference(
            &deposit(&r.app, &buyer, "MTN_MOMO", phone, 5_000).await,
        ));
    }
    r.mtn.wait_for_deliveries(3).await;
    for reference in &refs {
        assert_eq!(stored_status(&r.app, reference).await, "FAILED");
    }
    recovery_pass(&r.app).await;
    assert_eq!(r.app.balance(&buyer).await, 0);
    assert_eq!(r.app.count("ledger_entries").await, 0);
}

#[tokio::test]
async fn a_timeout_after_mtn_committed_stays_pending_until_the_poll_credits_it() {
    let r = spawn_rails().await;
    r.mtn.set_callbacks(Callbacks::Lost);
    r.mtn.set_hang(Some(Duration::from_secs(3)));
    let buyer = r.app.signed_in_user("BUYER").await;
    let pending = deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 40_000).await;
    assert_eq!(
        pending.data()["status"],
        "PENDING",
        "an unknown outcome is never guessed as failed"
    );
    r.mtn.set_hang(None);
    assert_eq!(r.mtn.payments("collection"), 1);
    assert_eq!(r.app.balance(&buyer).await, 0);

    recovery_pass(&r.app).await;
    assert_eq!(r.app.balance(&buyer).await, 40_000);
    assert_eq!(
        stored_status(&r.app, &reference(&pending)).await,
        "COMPLETED"
    );
}

#[tokio::test]
async fn an_mtn_outage_leaves_the_deposit_pending_not_failed() {
    let r = spawn_rails().await;
    r.mtn.set_failure(Some(503));
    let buyer = r.app.signed_in_user("BUYER").await;
    let pending = deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 4_000).await;
    assert_eq!(pending.data()["status"], "PENDING");
    recovery_pass(&r.app).await;
    // MTN never took it (GET answers 404): still nothing credited, nothing failed by guess.
    assert_eq!(stored_status(&r.app, &reference(&pending)).await, "PENDING");
    assert_eq!(r.app.balance(&buyer).await, 0);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_mid_run() {
    let r = spawn_rails().await;
    r.mtn.set_token_validity(Duration::from_millis(500));
    let buyer = r.app.signed_in_user("BUYER").await;
    deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 1_000).await;
    r.mtn.wait_for_deliveries(1).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 2_000).await;
    let deliveries = r.mtn.wait_for_deliveries(2).await;
    assert!(deliveries.iter().all(|d| d.status == 200), "{deliveries:?}");
    assert_eq!(r.app.balance(&buyer).await, 3_000);
    assert!(
        r.mtn.unauthorized() >= 1,
        "the double did refuse the old token"
    );
    assert!(r.mtn.token_requests() >= 2);
}

#[tokio::test]
async fn an_mtn_callback_sent_with_put_is_taken_too() {
    let r = spawn_rails().await;
    r.mtn.set_callbacks(Callbacks::Lost);
    let buyer = r.app.signed_in_user("BUYER").await;
    let reference =
        reference(&deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 6_000).await);
    let token = callback::token(SECRET, callback::MTN, &reference);
    let url = format!("{}?token={token}", r.app.url("/payments/callbacks/mtn"));
    let resp = r
        .app
        .http
        .put(url)
        .json(&mtn_callback(&reference, "SUCCESSFUL"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(r.app.balance(&buyer).await, 6_000);
}

#[tokio::test]
async fn airtel_deposits_are_confirmed_through_the_registered_callback_once() {
    let r = spawn_rails().await;
    r.airtel.set_callbacks(Callbacks::Repeated(2));
    r.airtel.set_outcome("701000002", "TF");
    let buyer = r.app.signed_in_user("BUYER").await;
    let paid = reference(&deposit(&r.app, &buyer, "AIRTEL_MONEY", "+256701000001", 25_000).await);
    let failed = reference(&deposit(&r.app, &buyer, "AIRTEL_MONEY", "+256701000002", 25_000).await);
    let deliveries = r.airtel.wait_for_deliveries(4).await;
    assert!(deliveries.iter().all(|d| d.status == 200), "{deliveries:?}");
    assert_eq!(r.app.balance(&buyer).await, 25_000);
    assert_eq!(stored_status(&r.app, &paid).await, "COMPLETED");
    assert_eq!(stored_status(&r.app, &failed).await, "FAILED");
    assert_eq!(wallet_history_len(&r.app, &buyer).await, 1);
    // Airtel's URL token is per deployment, so an MTN payment cannot be poked through it.
    let mtn_ref = reference(&deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::PENDING, 1_000).await);
    let token = callback::token(SECRET, callback::AIRTEL, callback::ANY_PAYMENT);
    let body = json!({ "transaction": { "id": mtn_ref, "status_code": "TS" } });
    send_callback(&r.app, "airtel", Some(&token), &body)
        .await
        .assert_error(404);
}

#[tokio::test]
async fn a_deposit_to_a_number_outside_airtels_country_fails_at_once() {
    let r = spawn_rails().await;
    let buyer = r.app.signed_in_user("BUYER").await;
    let refused = deposit(&r.app, &buyer, "AIRTEL_MONEY", "+254712345678", 5_000).await;
    assert_eq!(refused.data()["status"], "FAILED");
    assert_eq!(r.airtel.transactions("collection"), 0);
}

#[tokio::test]
async fn a_sandbox_deployment_takes_no_provider_callbacks() {
    let app = TestApp::spawn().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let token = callback::token(SECRET, callback::MTN, &unknown);
    let resp = send_callback(
        &app,
        "mtn",
        Some(&token),
        &mtn_callback(&unknown, "SUCCESSFUL"),
    )
    .await;
    resp.assert_error(404);
}

async fn withdraw(app: &TestApp, s: &Session, method: &str, phone: &str, amount: i64) -> Resp {
    let body = json!({ "amount": amount, "paymentMethod": method, "phoneNumber": phone });
    let r = app
        .post_with(
            "/wallet/withdrawals",
            Some(&s.access),
            &body,
            Some(&uuid::Uuid::new_v4().to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    r
}

#[tokio::test]
async fn mtn_payouts_are_settled_by_their_callback_and_a_failed_one_is_reversed() {
    let r = spawn_rails().await;
    let buyer = r.app.signed_in_user("BUYER").await;
    deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 50_000).await;
    r.mtn.wait_for_deliveries(1).await;
    assert_eq!(r.app.balance(&buyer).await, 50_000);

    let paid = reference(&withdraw(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 20_000).await);
    r.mtn.wait_for_deliveries(2).await;
    assert_eq!(stored_status(&r.app, &paid).await, "COMPLETED");
    assert_eq!(r.app.balance(&buyer).await, 30_000);

    let failed = reference(&withdraw(&r.app, &buyer, "MTN_MOMO", mtn_double::FAILED, 10_000).await);
    let deliveries = r.mtn.wait_for_deliveries(3).await;
    assert!(deliveries.iter().all(|d| d.status == 200), "{deliveries:?}");
    assert_eq!(stored_status(&r.app, &failed).await, "REVERSED");
    assert_eq!(
        r.app.balance(&buyer).await,
        30_000,
        "the failed payout came back"
    );
    assert_eq!(r.mtn.payments("disbursement"), 2);
}

#[tokio::test]
async fn a_payout_whose_answer_timed_out_keeps_holding_until_the_poll_settles_it() {
    let r = spawn_rails().await;
    let buyer = r.app.signed_in_user("BUYER").await;
    deposit(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 50_000).await;
    r.mtn.wait_for_deliveries(1).await;
    r.mtn.set_callbacks(Callbacks::Lost);
    r.mtn.set_hang(Some(Duration::from_secs(3)));
    let held = withdraw(&r.app, &buyer, "MTN_MOMO", mtn_double::SUCCEEDS, 15_000).await;
    assert_eq!(
        held.data()["status"],
        "PENDING",
        "an unknown outcome is neither paid nor reversed"
    );
    r.mtn.set_hang(None);
    assert_eq!(r.app.balance(&buyer).await, 35_000, "held, not returned");

    recovery_pass(&r.app).await;
    assert_eq!(stored_status(&r.app, &reference(&held)).await, "COMPLETED");
    assert_eq!(r.app.balance(&buyer).await, 35_000);
    assert_eq!(
        r.mtn.payments("disbursement"),
        1,
        "polled, never paid twice"
    );
}

#[tokio::test]
async fn airtel_payouts_settle_on_the_spot_and_a_refused_one_is_reversed() {
    let r = spawn_rails().await;
    r.airtel.set_outcome("701000009", "TF");
    let buyer = r.app.signed_in_user("BUYER").await;
    deposit(&r.app, &buyer, "AIRTEL_MONEY", "+256701000001", 30_000).await;
    r.airtel.wait_for_deliveries(1).await;
    assert_eq!(r.app.balance(&buyer).await, 30_000);

    let paid = withdraw(&r.app, &buyer, "AIRTEL_MONEY", "+256701000001", 10_000).await;
    assert_eq!(paid.data()["status"], "COMPLETED", "{}", paid.body);
    let refused = withdraw(&r.app, &buyer, "AIRTEL_MONEY", "+256701000009", 5_000).await;
    assert_eq!(refused.data()["status"], "REVERSED", "{}", refused.body);
    assert_eq!(r.app.balance(&buyer).await, 20_000);
    assert_eq!(r.airtel.transactions("disbursement"), 1);
}
