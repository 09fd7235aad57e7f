//! One subscriber, one account: however a number is written, it is one E.164 number; invalid
//! numbers are refused with 422 naming `phoneNumber` wherever a number enters.

use crate::helpers::{unique_phone, unique_username, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// The ways a Ugandan would write `+256 7xx xxx xxx`.
fn spellings(e164: &str) -> Vec<String> {
    let n = &e164[4..]; // 9 digits after +256
    vec![
        format!("0{} {} {}", &n[..3], &n[3..6], &n[6..]),
        format!("+256 {} {} {}", &n[..3], &n[3..6], &n[6..]),
        format!("+256-{}-{}-{}", &n[..3], &n[3..6], &n[6..]),
        format!("+2560{n}"),
    ]
}

#[tokio::test]
async fn a_number_written_four_ways_is_one_account() {
    let app = TestApp::spawn().await;
    let phone = unique_phone();
    let ways = spellings(&phone);
    let r = app.register(&ways[0], &unique_username()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.data()["phoneNumber"], phone.as_str());
    for other in &ways[1..] {
        let again = app.register(other, &unique_username()).await;
        // Answered like any registration (registering does not tell who has an account).
        assert_eq!(again.status, StatusCode::CREATED, "{other}: {}", again.body);
        assert_eq!(again.data()["phoneNumber"], phone.as_str(), "{other}");
    }
    // Signing in with yet another spelling reaches the same account.
    let otp = app.last_otp(&phone).await;
    let v = app.verify(&ways[3], &otp).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert_eq!(v.data()["user"]["phoneNumber"], phone.as_str());
    let login = app
        .post("/auth/login", None, &json!({ "phoneNumber": ways[2] }))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.data()["phoneNumber"], phone.as_str());
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn an_invalid_number_is_refused_naming_the_phone_number_field_everywhere() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    for bad in [
        "12345",
        "+25670012",
        "0700 123 4567",
        "phone",
        "+999 700 123 456",
    ] {
        let answers = [
            app.register(bad, &unique_username()).await,
            app.post("/auth/login", None, &json!({ "phoneNumber": bad }))
                .await,
            app.verify(bad, "123456").await,
            app.post_with(
                "/wallet/deposits",
                Some(&s.access),
                &json!({ "amount": 5_000, "paymentMethod": "MTN_MOMO", "phoneNumber": bad }),
                Some(&uuid::Uuid::new_v4().to_string()),
            )
            .await,
            app.post_with(
                "/wallet/withdrawals",
                Some(&s.access),
                &json!({ "amount": 5_000, "paymentMethod": "MTN_MOMO", "phoneNumber": bad }),
                Some(&uuid::Uuid::new_v4().to_string()),
            )
            .await,
        ];
        for r in &answers {
            r.assert_error(422);
            assert_eq!(r.error_code(), "VALIDATION_ERROR", "{bad}: {}", r.body);
            assert!(
                r.body["error"]["details"]["fields"]["phoneNumber"].is_string(),
                "{bad}: {}",
                r.body
            );
        }
    }
}

#[tokio::test]
async fn a_deposit_from_a_nationally_written_number_is_accepted() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let national = spellings(&s.phone).remove(0);
    let body = json!({ "amount": 5_000, "paymentMethod": "MTN_MOMO", "phoneNumber": national });
    let r = app
        .post_with(
            "/wallet/deposits",
            Some(&s.access),
            &body,
            Some(&uuid::Uuid::new_v4().to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
}

#[tokio::test]
async fn an_admin_number_configured_in_national_form_signs_in_as_admin() {
    let phone = unique_phone();
    let national = spellings(&phone).remove(0);
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &national)]).await;
    app.register(&phone, &unique_username()).await;
    let admin = app.sign_in(&phone).await;
    assert_eq!(
        app.get("/auth/me", Some(&admin.access)).await.data()["role"],
        "ADMIN"
    );
}
