//! Development routes are off by default: production (what an unset `APP_ENV` means) serves none.

use crate::helpers::TestApp;

#[tokio::test]
async fn with_production_settings_the_development_routes_are_404() {
    let secret = "p".repeat(48);
    let app = TestApp::spawn_with(&[
        ("APP_ENV", "production"),
        ("SMS_PROVIDER", "africastalking"),
        ("SMS_API_KEY", "at-key"),
        ("SMS_API_URL", "http://127.0.0.1:9/unused"),
        ("PAYMENT_PROVIDER", "mobile_money"),
        ("MTN_API_USER", "user"),
        ("MTN_API_KEY", "key"),
        ("MTN_SUBSCRIPTION_KEY", "sub"),
        ("MTN_BASE_URL", "https://mtn.invalid"),
        ("MTN_TARGET_ENVIRONMENT", "mtnuganda"),
        ("PAYMENT_CALLBACK_SECRET", &secret),
        ("API_URL", "https://api.oddxer.invalid"),
    ])
    .await;
    assert!(!app.config.dev_routes_enabled());
    let id = mongodb::bson::oid::ObjectId::new().to_hex();
    for (method, path) in [
        ("GET", "/dev/sms?phoneNumber=%2B256700000001".to_owned()),
        ("POST", "/dev/payments/some-reference/complete".to_owned()),
        ("POST", "/dev/payments/some-reference/fail".to_owned()),
        ("POST", format!("/dev/codes/{id}/result")),
    ] {
        let r = app
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                app.url(&path),
            )
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 404, "{method} {path}");
    }
}
