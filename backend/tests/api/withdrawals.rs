use crate::helpers::{Session, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn withdraw(app: &TestApp, s: &Session, amount: i64, key: &str) -> crate::helpers::Resp {
    let body = json!({ "amount": amount, "paymentMethod": "AIRTEL_MONEY", "phoneNumber": s.phone });
    app.post_with("/wallet/withdrawals", Some(&s.access), &body, Some(key))
        .await
}

async fn wallet(app: &TestApp, s: &Session) -> serde_json::Value {
    app.get("/wallet", Some(&s.access)).await.data().clone()
}

/// Withdrawals of `amount` by MTN MoMo, one per Idempotency-Key of `keys`, all sent at once;
/// their statuses and bodies in the order of `keys`.
async fn withdrawals_at_once(
    app: &TestApp,
    s: &Session,
    amount: i64,
    keys: impl IntoIterator<Item = String>,
) -> Vec<(StatusCode, serde_json::Value)> {
    let body = json!({ "amount": amount, "paymentMethod": "MTN_MOMO", "phoneNumber": s.phone });
    let requests = keys
        .into_iter()
        .map(|key| {
            (
                "/wallet/withdrawals".to_owned(),
                s.access.clone(),
                body.clone(),
                key,
            )
        })
        .collect();
    let answers = app.posts_at_once(requests).await;
    answers.into_iter().map(|r| (r.status, r.body)).collect()
}

#[tokio::test]
async fn a_withdrawal_is_debited_at_once_held_and_paid_out_when_the_provider_confirms() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    app.funded(&s, 30_000).await;
    let w = withdraw(&app, &s, 12_000, "w1").await;
    assert_eq!(w.status, StatusCode::ACCEPTED, "{}", w.body);
    assert_eq!(w.data()["status"], "PENDING");
    let now = wallet(&app, &s).await;
    assert_eq!(now["balance"]["amount"], 18_000);
    assert_eq!(now["held"]["amount"], 12_000);

    let reference = w.data()["reference"].as_str().expect("reference");
    let done = app
        .post(
            &format!("/dev/payments/{reference}/complete"),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(done.data()["status"], "COMPLETED", "{}", done.body);
    let after = wallet(&app, &s).await;
    assert_eq!(after["balance"]["amount"], 18_000);
    assert_eq!(after["held"]["amount"], 0);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn a_failed_payout_returns_the_money_once() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    app.funded(&s, 30_000).await;
    let w = withdraw(&app, &s, 10_000, "w-fail").await;
    let reference = w.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let failed = app
        .post(&format!("/dev/payments/{reference}/fail"), None, &json!({}))
        .await;
    assert_eq!(failed.data()["status"], "REVERSED", "{}", failed.body);
    // The failure reported again changes nothing.
    app.post(&format!("/dev/payments/{reference}/fail"), None, &json!({}))
        .await;
    app.post(
        &format!("/dev/payments/{reference}/complete"),
        None,
        &json!({}),
    )
    .await;
    let after = wallet(&app, &s).await;
    assert_eq!(after["balance"]["amount"], 30_000);
    assert_eq!(after["held"]["amount"], 0);
    let history = app.get("/wallet/transactions", Some(&s.access)).await;
    let kinds: Vec<&str> = history.data()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(kinds, vec!["REVERSAL", "WITHDRAWAL", "DEPOSIT"]);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn a_withdrawal_beyond_the_balance_is_refused_and_moves_nothing() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    app.funded(&s, 5_000).await;
    withdraw(&app, &s, 5_001, "too-much")
        .await
        .assert_error(402);
    // The same key answers the same, even after money arrives.
    app.funded(&s, 5_000).await;
    withdraw(&app, &s, 5_001, "too-much")
        .await
        .assert_error(402);
    assert_eq!(wallet(&app, &s).await["balance"]["amount"], 10_000);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn parallel_withdrawals_never_overdraw_the_wallet() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    app.funded(&s, 10_000).await;
    let answers = withdrawals_at_once(&app, &s, 3_000, (0..10).map(|i| format!("par-{i}"))).await;
    let mut accepted = 0;
    for (status, body) in answers {
        match status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::PAYMENT_REQUIRED => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        accepted, 3,
        "10 000 covers exactly three withdrawals of 3 000"
    );
    let w = wallet(&app, &s).await;
    assert_eq!(w["balance"]["amount"], 1_000);
    assert_eq!(w["held"]["amount"], 9_000);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn the_same_withdrawal_retried_with_one_key_debits_once() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    app.funded(&s, 20_000).await;
    let answers = withdrawals_at_once(&app, &s, 4_000, (0..10).map(|_| "once".to_owned())).await;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    assert_eq!(wallet(&app, &s).await["balance"]["amount"], 16_000);
    app.assert_reconciled().await;
}

/// Issue 9, item 1: six concurrent withdrawals of 5 000 000 against a 10 000 000 daily limit with
/// 15 000 000 in the wallet used to let three through.
#[tokio::test]
async fn concurrent_withdrawals_never_pass_the_daily_limit() {
    let app = TestApp::spawn_with(&[
        ("WITHDRAWAL_DAILY_LIMIT", "10000000"),
        ("DEPOSIT_MAX", "5000000"),
    ])
    .await;
    let s = app.signed_in_user("BUYER").await;
    for _ in 0..3 {
        app.funded(&s, 5_000_000).await;
    }
    let answers =
        withdrawals_at_once(&app, &s, 5_000_000, (0..6).map(|i| format!("limit-{i}"))).await;
    let mut accepted = 0;
    for (status, body) in answers {
        match status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::UNPROCESSABLE_ENTITY => assert!(
                body["error"]["details"]["fields"]["amount"].is_string(),
                "422 must name amount: {body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        accepted, 2,
        "a 10 000 000 daily limit allows exactly two withdrawals of 5 000 000"
    );
    let w = wallet(&app, &s).await;
    assert_eq!(w["balance"]["amount"], 5_000_000);
    assert_eq!(w["held"]["amount"], 10_000_000);
    app.assert_reconciled().await;
}

#[tokio::test]
async fn a_failed_withdrawal_gives_its_daily_allowance_back() {
    let app = TestApp::spawn_with(&[
        ("WITHDRAWAL_DAILY_LIMIT", "10000000"),
        ("DEPOSIT_MAX", "5000000"),
    ])
    .await;
    let s = app.signed_in_user("BUYER").await;
    for _ in 0..3 {
        app.funded(&s, 5_000_000).await;
    }
    let first = withdraw(&app, &s, 5_000_000, "a1").await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    withdraw(&app, &s, 5_000_000, "a2").await;
    withdraw(&app, &s, 5_000_000, "a3").await.assert_error(422);
    let reference = first.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let failed = app
        .post(&format!("/dev/payments/{reference}/fail"), None, &json!({}))
        .await;
    assert_eq!(failed.data()["status"], "REVERSED", "{}", failed.body);
    let again = withdraw(&app, &s, 5_000_000, "a4").await;
    assert_eq!(
        again.status,
        StatusCode::ACCEPTED,
        "the reversed withdrawal's allowance is free again: {}",
        again.body
    );
    app.assert_reconciled().await;
}
