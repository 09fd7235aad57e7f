//! The real MTN MoMo and Airtel Money adapters against their local doubles, without a backend.

use crate::doubles::airtel::{self as airtel_double, AirtelDouble};
use crate::doubles::mtn::{self as mtn_double, MtnDouble};
use oddxer_backend::payments::airtel::AirtelMoney;
use oddxer_backend::payments::callback::{self, CallbackError, CallbackTarget};
use oddxer_backend::payments::mobile_money::MobileMoney;
use oddxer_backend::payments::mtn::MtnMomo;
use oddxer_backend::payments::{PaymentProvider, PaymentRequest, ProviderError, ProviderStatus};
use oddxer_shared::{Currency, PaymentMethod};
use std::time::Duration;

const SECRET: &str = "adapter-test-callback-secret-0123456789";
const CALLBACKS: &str = "http://127.0.0.1:9/api/v1/payments/callbacks";

fn http(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client")
}

fn mtn_with(d: &MtnDouble, timeout: Duration) -> MtnMomo {
    MtnMomo::new(
        http(timeout),
        &d.settings(),
        Some(CallbackTarget {
            base_url: CALLBACKS.into(),
            secret: SECRET.into(),
        }),
    )
}

fn mtn(d: &MtnDouble) -> MtnMomo {
    mtn_with(d, Duration::from_secs(5))
}

fn airtel_with(d: &AirtelDouble, timeout: Duration) -> AirtelMoney {
    AirtelMoney::new(http(timeout), &d.settings(), &Currency("UGX".into()))
}

fn airtel(d: &AirtelDouble) -> AirtelMoney {
    airtel_with(d, Duration::from_secs(5))
}

fn request(method: PaymentMethod, phone: &str, amount: i64) -> PaymentRequest {
    PaymentRequest {
        reference: uuid::Uuid::new_v4().to_string(),
        method,
        amount,
        currency: Currency("UGX".into()),
        phone_number: phone.to_owned(),
    }
}

fn status(r: Result<ProviderStatus, ProviderError>) -> ProviderStatus {
    r.unwrap_or_else(|e| panic!("expected a status, got {e}"))
}

fn is_refused(r: &Result<ProviderStatus, ProviderError>) -> bool {
    matches!(r, Err(ProviderError::Refused(_)))
}

fn is_unknown_outcome(r: &Result<ProviderStatus, ProviderError>) -> bool {
    matches!(r, Err(ProviderError::Transport(_)))
}

#[tokio::test]
async fn mtn_request_to_pay_carries_the_documented_headers_and_body() {
    let d = MtnDouble::spawn().await;
    let a = mtn(&d);
    let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 15_000);
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Pending
    );

    let requests = d.requests();
    let token = requests
        .iter()
        .find(|r| r.path == "/collection/token/")
        .expect("token request");
    assert_eq!(token.method, "POST");
    assert!(token.headers["authorization"].starts_with("Basic "));
    assert_eq!(
        token.headers["ocp-apim-subscription-key"],
        mtn_double::SUBSCRIPTION_KEY
    );
    let post = requests
        .iter()
        .find(|r| r.path == "/collection/v1_0/requesttopay")
        .expect("requesttopay");
    assert!(post.headers["authorization"].starts_with("Bearer "));
    assert_eq!(post.headers["x-reference-id"], req.reference);
    assert_eq!(post.headers["x-target-environment"], "sandbox");
    assert_eq!(
        post.headers["ocp-apim-subscription-key"],
        mtn_double::SUBSCRIPTION_KEY
    );
    let expected_callback = format!(
        "{CALLBACKS}/mtn?token={}",
        callback::token(SECRET, callback::MTN, &req.reference)
    );
    assert_eq!(post.headers["x-callback-url"], expected_callback);
    assert_eq!(post.body["amount"], "15000");
    assert_eq!(post.body["currency"], "UGX");
    assert_eq!(post.body["externalId"], req.reference.as_str());
    assert_eq!(
        post.body["payer"],
        serde_json::json!({ "partyIdType": "MSISDN", "partyId": "46733123459" })
    );

    assert_eq!(
        status(
            a.payment_status(PaymentMethod::MtnMomo, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
}

#[tokio::test]
async fn mtn_sandbox_test_numbers_give_their_documented_outcomes() {
    let d = MtnDouble::spawn().await;
    d.set_ongoing_for(Duration::from_millis(600));
    let a = mtn(&d);
    let cases = [
        (mtn_double::FAILED, ProviderStatus::Failed),
        (mtn_double::REJECTED, ProviderStatus::Failed),
        (mtn_double::TIMEOUT, ProviderStatus::Failed),
        (mtn_double::ONGOING, ProviderStatus::Pending),
        (mtn_double::PENDING, ProviderStatus::Pending),
        (mtn_double::SUCCEEDS, ProviderStatus::Succeeded),
    ];
    let mut refs = vec![];
    for (phone, expected) in cases {
        let req = request(PaymentMethod::MtnMomo, phone, 1_000);
        assert_eq!(
            status(a.request_payment(&req).await),
            ProviderStatus::Pending,
            "{phone}"
        );
        assert_eq!(
            status(
                a.payment_status(PaymentMethod::MtnMomo, &req.reference)
                    .await
            ),
            expected,
            "{phone}"
        );
        refs.push((phone, req.reference));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    // "Ongoing" answers pending first and success later; "pending" stays pending.
    let later = |phone: &str| {
        refs.iter()
            .find(|(p, _)| *p == phone)
            .map(|(_, r)| r.clone())
            .expect("ref")
    };
    assert_eq!(
        status(
            a.payment_status(PaymentMethod::MtnMomo, &later(mtn_double::ONGOING))
                .await
        ),
        ProviderStatus::Succeeded
    );
    assert_eq!(
        status(
            a.payment_status(PaymentMethod::MtnMomo, &later(mtn_double::PENDING))
                .await
        ),
        ProviderStatus::Pending
    );
}

#[tokio::test]
async fn mtn_a_resubmitted_reference_is_the_same_payment() {
    let d = MtnDouble::spawn().await;
    let a = mtn(&d);
    let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 2_000);
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Pending
    );
    // 409 RESOURCE_ALREADY_EXIST: the adapter reads the existing payment instead of failing.
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Succeeded
    );
    assert_eq!(d.payments("collection"), 1);
}

#[tokio::test]
async fn mtn_an_unknown_reference_is_unknown_never_failed() {
    let d = MtnDouble::spawn().await;
    let a = mtn(&d);
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        status(a.payment_status(PaymentMethod::MtnMomo, &unknown).await),
        ProviderStatus::Unknown
    );
    assert_eq!(
        status(a.payout_status(PaymentMethod::MtnMomo, &unknown).await),
        ProviderStatus::Unknown
    );
    assert_eq!(
        status(a.payment_status(PaymentMethod::MtnMomo, "../../etc").await),
        ProviderStatus::Unknown
    );
}

#[tokio::test]
async fn mtn_tokens_are_cached_and_refreshed_on_expiry_and_on_401() {
    let d = MtnDouble::spawn().await;
    let a = mtn(&d);
    for _ in 0..3 {
        let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 1_000);
        status(a.request_payment(&req).await);
        status(
            a.payment_status(PaymentMethod::MtnMomo, &req.reference)
                .await,
        );
    }
    assert_eq!(d.token_requests(), 1, "one token for six calls");

    // MTN stops accepting the token before its advertised expiry: 401, one refresh, success.
    d.set_token_validity(Duration::from_millis(300));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 1_000);
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Pending
    );
    assert_eq!((d.token_requests(), d.unauthorized()), (2, 1));
    assert_eq!(d.payments("collection"), 4);

    // A short `expires_in` is honoured: the adapter refreshes before using an expired token.
    let d = MtnDouble::spawn().await;
    d.set_expires_in(1);
    let a = mtn(&d);
    status(
        a.request_payment(&request(
            PaymentMethod::MtnMomo,
            mtn_double::SUCCEEDS,
            1_000,
        ))
        .await,
    );
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    status(
        a.request_payment(&request(
            PaymentMethod::MtnMomo,
            mtn_double::SUCCEEDS,
            1_000,
        ))
        .await,
    );
    assert_eq!((d.token_requests(), d.unauthorized()), (2, 0));
}

#[tokio::test]
async fn mtn_refusals_are_told_apart_from_unknown_outcomes() {
    let d = MtnDouble::spawn().await;

    let mut wrong_key = d.settings();
    wrong_key.collection.api_key = "wrong".into();
    let a = MtnMomo::new(http(Duration::from_secs(5)), &wrong_key, None);
    let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 1_000);
    assert!(is_refused(&a.request_payment(&req).await));
    // A refused *status query* is not a refused payment.
    assert!(is_unknown_outcome(
        &a.payment_status(PaymentMethod::MtnMomo, &req.reference)
            .await
    ));

    let a = mtn(&d);
    assert!(
        is_refused(
            &a.request_payment(&request(PaymentMethod::MtnMomo, "46733123459", 1_000))
                .await
        ),
        "not E.164"
    );
    assert!(is_refused(
        &a.request_payment(&request(
            PaymentMethod::AirtelMoney,
            mtn_double::SUCCEEDS,
            1_000
        ))
        .await
    ));
    // A server error may have committed the payment (unknown: poll it); a 400 did not (refused).
    for (failure, unknown) in [(500, true), (503, true), (400, false)] {
        d.set_failure(Some(failure));
        let r = a
            .request_payment(&request(
                PaymentMethod::MtnMomo,
                mtn_double::SUCCEEDS,
                1_000,
            ))
            .await;
        let expected = if unknown {
            "an unknown outcome"
        } else {
            "a refusal"
        };
        assert_eq!(
            is_unknown_outcome(&r),
            unknown,
            "{failure}: {r:?}, expected {expected}"
        );
        assert_eq!(
            is_refused(&r),
            !unknown,
            "{failure}: {r:?}, expected {expected}"
        );
    }
    d.set_failure(None);
    assert_eq!(d.payments("collection"), 0, "nothing was taken");

    let mut nowhere = d.settings();
    nowhere.base_url = "http://127.0.0.1:9".into();
    let a = MtnMomo::new(http(Duration::from_secs(2)), &nowhere, None);
    assert!(is_unknown_outcome(
        &a.request_payment(&request(
            PaymentMethod::MtnMomo,
            mtn_double::SUCCEEDS,
            1_000
        ))
        .await
    ));
}

#[tokio::test]
async fn mtn_a_timeout_after_commit_is_an_unknown_outcome_that_the_poll_resolves() {
    let d = MtnDouble::spawn().await;
    let a = mtn_with(&d, Duration::from_millis(300));
    d.set_hang(Some(Duration::from_secs(2)));
    let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 5_000);
    assert!(
        is_unknown_outcome(&a.request_payment(&req).await),
        "never guessed as failed"
    );
    d.set_hang(None);
    assert_eq!(d.payments("collection"), 1, "MTN did take it");
    assert_eq!(
        status(
            a.payment_status(PaymentMethod::MtnMomo, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
    // Re-sending the same reference is safe: it is the same payment.
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Succeeded
    );
    assert_eq!(d.payments("collection"), 1);
}

#[tokio::test]
async fn mtn_payouts_go_through_the_disbursement_product() {
    let d = MtnDouble::spawn().await;
    let a = mtn(&d);
    let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 7_000);
    assert_eq!(status(a.payout(&req).await), ProviderStatus::Pending);
    let requests = d.requests();
    assert!(requests.iter().any(|r| r.path == "/disbursement/token/"));
    let post = requests
        .iter()
        .find(|r| r.path == "/disbursement/v1_0/transfer")
        .expect("transfer");
    assert_eq!(
        post.headers["ocp-apim-subscription-key"],
        mtn_double::DISBURSEMENT_SUBSCRIPTION_KEY
    );
    assert_eq!(post.body["payee"]["partyId"], "46733123459");
    assert!(post.body.get("payer").is_none());
    assert_eq!(
        status(
            a.payout_status(PaymentMethod::MtnMomo, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
    // A collection status query does not see a transfer.
    assert_eq!(
        status(
            a.payment_status(PaymentMethod::MtnMomo, &req.reference)
                .await
        ),
        ProviderStatus::Unknown
    );

    let failing = request(PaymentMethod::MtnMomo, mtn_double::FAILED, 7_000);
    assert_eq!(status(a.payout(&failing).await), ProviderStatus::Pending);
    assert_eq!(
        status(
            a.payout_status(PaymentMethod::MtnMomo, &failing.reference)
                .await
        ),
        ProviderStatus::Failed
    );
}

#[tokio::test]
async fn airtel_collection_sends_the_documented_request() {
    let d = AirtelDouble::spawn().await;
    let a = airtel(&d);
    let req = request(PaymentMethod::AirtelMoney, "+256701234567", 15_000);
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Pending
    );

    let requests = d.requests();
    let (_, _, _, token_body) = requests
        .iter()
        .find(|r| r.1 == "/auth/oauth2/token")
        .expect("token");
    assert_eq!(token_body["grant_type"], "client_credentials");
    assert_eq!(token_body["client_id"], airtel_double::CLIENT_ID);
    let (_, _, headers, body) = requests
        .iter()
        .find(|r| r.1 == "/merchant/v1/payments/")
        .expect("payment");
    assert!(headers["authorization"].starts_with("Bearer "));
    assert_eq!(headers["x-country"], "UG");
    assert_eq!(headers["x-currency"], "UGX");
    assert_eq!(
        body["subscriber"]["msisdn"], "701234567",
        "without the country code"
    );
    assert_eq!(body["subscriber"]["country"], "UG");
    assert_eq!(body["transaction"]["id"], req.reference.as_str());
    assert_eq!(body["transaction"]["amount"], 15_000);
    assert_eq!(body["transaction"]["currency"], "UGX");

    assert_eq!(
        status(
            a.payment_status(PaymentMethod::AirtelMoney, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
}

#[tokio::test]
async fn airtel_transaction_statuses_map_to_ours() {
    let d = AirtelDouble::spawn().await;
    d.set_outcome("701111111", "TF");
    d.set_outcome("701222222", "TIP");
    let a = airtel(&d);
    for (phone, expected) in [
        ("+256701111111", ProviderStatus::Failed),
        ("+256701222222", ProviderStatus::Pending),
    ] {
        let req = request(PaymentMethod::AirtelMoney, phone, 1_000);
        assert_eq!(
            status(a.request_payment(&req).await),
            ProviderStatus::Pending
        );
        assert_eq!(
            status(
                a.payment_status(PaymentMethod::AirtelMoney, &req.reference)
                    .await
            ),
            expected,
            "{phone}"
        );
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        status(a.payment_status(PaymentMethod::AirtelMoney, &unknown).await),
        ProviderStatus::Unknown
    );
    assert_eq!(
        status(a.payout_status(PaymentMethod::AirtelMoney, &unknown).await),
        ProviderStatus::Unknown
    );

    d.set_approve_after(Duration::from_millis(300));
    let req = request(PaymentMethod::AirtelMoney, "+256701333333", 1_000);
    status(a.request_payment(&req).await);
    assert_eq!(
        status(
            a.payment_status(PaymentMethod::AirtelMoney, &req.reference)
                .await
        ),
        ProviderStatus::Pending,
        "TIP"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        status(
            a.payment_status(PaymentMethod::AirtelMoney, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
}

#[tokio::test]
async fn airtel_tokens_are_refreshed_when_airtel_stops_accepting_them() {
    let d = AirtelDouble::spawn().await;
    let a = airtel(&d);
    status(
        a.request_payment(&request(PaymentMethod::AirtelMoney, "+256701234567", 1_000))
            .await,
    );
    status(
        a.request_payment(&request(PaymentMethod::AirtelMoney, "+256701234568", 1_000))
            .await,
    );
    assert_eq!(d.token_requests(), 1);
    d.set_token_validity(Duration::from_millis(200));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let req = request(PaymentMethod::AirtelMoney, "+256701234569", 1_000);
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Pending
    );
    assert_eq!((d.token_requests(), d.unauthorized()), (2, 1));
    assert_eq!(d.transactions("collection"), 3);
}

#[tokio::test]
async fn airtel_a_duplicate_id_reads_the_existing_payment_instead_of_failing_it() {
    let d = AirtelDouble::spawn().await;
    let a = airtel(&d);
    let req = request(PaymentMethod::AirtelMoney, "+256701234567", 3_000);
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Pending
    );
    assert_eq!(
        status(a.request_payment(&req).await),
        ProviderStatus::Succeeded
    );
    assert_eq!(d.transactions("collection"), 1);
}

#[tokio::test]
async fn airtel_refusals_are_told_apart_from_unknown_outcomes() {
    let d = AirtelDouble::spawn().await;
    let a = airtel(&d);
    assert!(
        is_refused(
            &a.request_payment(&request(PaymentMethod::AirtelMoney, "+254712345678", 1_000))
                .await
        ),
        "not a UG number"
    );
    assert!(
        is_refused(
            &a.request_payment(&request(PaymentMethod::AirtelMoney, "+2567012345", 1_000))
                .await
        ),
        "msisdn too short"
    );
    d.set_failure(Some(500));
    assert!(is_unknown_outcome(
        &a.request_payment(&request(PaymentMethod::AirtelMoney, "+256701234567", 1_000))
            .await
    ));
    d.set_failure(None);
    assert_eq!(d.transactions("collection"), 0);

    let mut wrong = d.settings();
    wrong.client_secret = "wrong".into();
    let a = AirtelMoney::new(
        http(Duration::from_secs(5)),
        &wrong,
        &Currency("UGX".into()),
    );
    let req = request(PaymentMethod::AirtelMoney, "+256701234567", 1_000);
    assert!(is_refused(&a.request_payment(&req).await));
    assert!(is_unknown_outcome(
        &a.payment_status(PaymentMethod::AirtelMoney, &req.reference)
            .await
    ));
}

#[tokio::test]
async fn airtel_a_timeout_after_commit_is_an_unknown_outcome_that_the_poll_resolves() {
    let d = AirtelDouble::spawn().await;
    let a = airtel_with(&d, Duration::from_millis(300));
    d.set_hang(Some(Duration::from_secs(2)));
    let req = request(PaymentMethod::AirtelMoney, "+256701234567", 5_000);
    assert!(is_unknown_outcome(&a.request_payment(&req).await));
    d.set_hang(None);
    assert_eq!(
        status(
            a.payment_status(PaymentMethod::AirtelMoney, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
}

#[tokio::test]
async fn airtel_disbursements_carry_the_encrypted_pin() {
    let d = AirtelDouble::spawn().await;
    let a = airtel(&d);
    let req = request(PaymentMethod::AirtelMoney, "+256701234567", 9_000);
    assert_eq!(status(a.payout(&req).await), ProviderStatus::Succeeded);
    let requests = d.requests();
    let (_, _, _, body) = requests
        .iter()
        .find(|r| r.1 == "/standard/v1/disbursements/")
        .expect("disbursement");
    assert_eq!(body["pin"], airtel_double::ENCRYPTED_PIN);
    assert_eq!(body["payee"]["msisdn"], "701234567");
    assert_eq!(body["transaction"]["id"], req.reference.as_str());
    assert_eq!(
        status(
            a.payout_status(PaymentMethod::AirtelMoney, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
    // Duplicate id (DP00900001017): the existing payout is read, not paid again.
    assert_eq!(status(a.payout(&req).await), ProviderStatus::Succeeded);
    assert_eq!(d.transactions("disbursement"), 1);

    d.set_outcome("701999999", "TF");
    assert!(
        is_refused(
            &a.payout(&request(PaymentMethod::AirtelMoney, "+256701999999", 9_000))
                .await
        ),
        "insufficient funds"
    );

    let mut no_pin = d.settings();
    no_pin.disbursement_pin = None;
    let a = AirtelMoney::new(
        http(Duration::from_secs(5)),
        &no_pin,
        &Currency("UGX".into()),
    );
    assert!(is_refused(
        &a.payout(&request(PaymentMethod::AirtelMoney, "+256701234567", 9_000))
            .await
    ));
}

#[tokio::test]
async fn the_dispatcher_routes_by_method_and_refuses_a_rail_it_does_not_have() {
    let d = MtnDouble::spawn().await;
    let both = MobileMoney {
        mtn: Some(mtn(&d)),
        airtel: None,
    };
    let req = request(PaymentMethod::MtnMomo, mtn_double::SUCCEEDS, 1_000);
    assert_eq!(
        status(both.request_payment(&req).await),
        ProviderStatus::Pending
    );
    assert_eq!(
        status(
            both.payment_status(PaymentMethod::MtnMomo, &req.reference)
                .await
        ),
        ProviderStatus::Succeeded
    );
    let airtel_req = request(PaymentMethod::AirtelMoney, "+256701234567", 1_000);
    assert!(is_refused(&both.request_payment(&airtel_req).await));
    assert!(is_unknown_outcome(
        &both
            .payment_status(PaymentMethod::AirtelMoney, &airtel_req.reference)
            .await
    ));
    let body = format!(r#"{{"externalId":"{}"}}"#, req.reference);
    assert_eq!(
        both.parse_callback("mtn", body.as_bytes())
            .expect("mtn callback")
            .reference,
        req.reference
    );
    assert!(matches!(
        both.parse_callback("airtel", b"{}"),
        Err(CallbackError::UnknownProvider)
    ));
    assert!(matches!(
        both.parse_callback("orange", b"{}"),
        Err(CallbackError::UnknownProvider)
    ));
}
