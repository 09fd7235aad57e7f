use crate::helpers::{unique_phone, unique_username, TestApp};
use mongodb::bson::doc;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn register_sends_an_otp_and_verifying_it_returns_tokens_and_the_user() {
    let app = TestApp::spawn().await;
    let phone = unique_phone();
    let r = app.register(&phone, "ace_tipster").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["success"], true);
    let otp = app.last_otp(&phone).await;
    let v = app.verify(&phone, &otp).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert_eq!(v.data()["user"]["username"], "ace_tipster");
    assert_eq!(v.data()["user"]["role"], "BUYER");
    assert_eq!(v.data()["user"]["isVerified"], true);
    let access = v.data()["accessToken"].as_str().expect("access");
    let me = app.get("/auth/me", Some(access)).await;
    assert_eq!(me.data()["phoneNumber"], phone.as_str());
    assert_eq!(me.data()["id"].as_str().map(str::len), Some(24));
}

#[tokio::test]
async fn otps_are_stored_only_as_keyed_hashes() {
    let app = TestApp::spawn().await;
    let phone = unique_phone();
    app.register(&phone, &unique_username()).await;
    let otp = app.last_otp(&phone).await;
    let stored = app
        .db
        .col("otps")
        .find_one(doc! { "_id": &phone })
        .await
        .expect("db")
        .expect("otp doc");
    let text = stored.to_string();
    assert!(
        !text.contains(&format!("\"{otp}\"")),
        "the code itself is stored: {text}"
    );
    assert_eq!(stored.get_str("hash").expect("hash").len(), 64);
}

#[tokio::test]
async fn a_wrong_otp_is_refused_and_the_sixth_try_fails_even_with_the_right_code() {
    let app = TestApp::spawn().await;
    let phone = unique_phone();
    app.register(&phone, &unique_username()).await;
    let otp = app.last_otp(&phone).await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        app.verify(&phone, wrong).await.assert_error(401);
    }
    app.verify(&phone, &otp).await.assert_error(401);
    assert_eq!(app.count("refresh_tokens").await, 0);
}

#[tokio::test]
async fn an_otp_works_once_and_expires() {
    let app = TestApp::spawn_with(&[("OTP_EXPIRY", "1s")]).await;
    let phone = unique_phone();
    app.register(&phone, &unique_username()).await;
    let otp = app.last_otp(&phone).await;
    assert_eq!(app.verify(&phone, &otp).await.status, StatusCode::OK);
    app.verify(&phone, &otp).await.assert_error(401);

    app.post("/auth/login", None, &json!({ "phoneNumber": phone }))
        .await;
    let otp = app.last_otp(&phone).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    app.verify(&phone, &otp).await.assert_error(401);
}

#[tokio::test]
async fn resending_an_otp_too_soon_is_throttled_with_retry_after() {
    let app = TestApp::spawn_with(&[("OTP_RESEND_INTERVAL", "60s")]).await;
    let phone = unique_phone();
    app.register(&phone, &unique_username()).await;
    let again = app
        .post("/auth/login", None, &json!({ "phoneNumber": phone }))
        .await;
    again.assert_error(429);
    let retry: u64 = again.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
    assert_eq!(app.count("sms_outbox").await, 1);
}

#[tokio::test]
async fn two_quick_logins_answer_200_then_429_whether_or_not_the_number_is_registered() {
    let app = TestApp::spawn_with(&[("OTP_RESEND_INTERVAL", "60s")]).await;
    // The account is made earlier, by another process on the same database without the throttle.
    let setup = TestApp::spawn_with(&[
        ("DB_NAME", &app.config.db_name),
        ("OTP_RESEND_INTERVAL", "0s"),
    ])
    .await;
    let known = unique_phone();
    assert_eq!(
        setup.register(&known, &unique_username()).await.status,
        StatusCode::CREATED
    );
    let unknown = unique_phone();
    let mut answers = Vec::new();
    for phone in [&known, &unknown] {
        let first = app
            .post("/auth/login", None, &json!({ "phoneNumber": phone }))
            .await;
        let second = app
            .post("/auth/login", None, &json!({ "phoneNumber": phone }))
            .await;
        answers.push((first, second));
    }
    let [(k1, k2), (u1, u2)] = &answers[..] else {
        unreachable!()
    };
    assert_eq!(
        (k1.status.as_u16(), k2.status.as_u16()),
        (200, 429),
        "registered: {} / {}",
        k1.body,
        k2.body
    );
    assert_eq!(
        (u1.status.as_u16(), u2.status.as_u16()),
        (200, 429),
        "unknown: {} / {}",
        u1.body,
        u2.body
    );
    assert_eq!(k1.body["message"], u1.body["message"]);
    assert_eq!(k2.body["error"], u2.body["error"]);
    assert!(k2.headers.contains_key("retry-after") && u2.headers.contains_key("retry-after"));
    // The registered number got one code (plus the one from registering); the unknown one none.
    assert_eq!(
        app.db
            .col("sms_outbox")
            .count_documents(doc! { "phoneNumber": &known })
            .await
            .expect("count"),
        2
    );
    assert_eq!(
        app.db
            .col("sms_outbox")
            .count_documents(doc! { "phoneNumber": &unknown })
            .await
            .expect("count"),
        0
    );
}

#[tokio::test]
async fn login_answers_the_same_for_unknown_numbers_without_sending_anything() {
    let app = TestApp::spawn().await;
    let known = unique_phone();
    app.register(&known, &unique_username()).await;
    let a = app
        .post("/auth/login", None, &json!({ "phoneNumber": known }))
        .await;
    let unknown = unique_phone();
    let b = app
        .post("/auth/login", None, &json!({ "phoneNumber": unknown }))
        .await;
    assert_eq!(a.status, b.status);
    assert_eq!(a.body["message"], b.body["message"]);
    assert_eq!(
        a.data().as_object().map(|o| o.keys().collect::<Vec<_>>()),
        b.data().as_object().map(|o| o.keys().collect::<Vec<_>>())
    );
    assert_eq!(
        app.db
            .col("sms_outbox")
            .count_documents(doc! { "phoneNumber": &unknown })
            .await
            .expect("count"),
        0
    );
}

/// Registering a number that has an account answers like a new registration (nobody learns who
/// is registered); the owner gets a code that signs into the account they have. Usernames are
/// public: a taken one is a conflict.
#[tokio::test]
async fn registering_a_registered_number_tells_nothing_and_signs_its_owner_in() {
    let app = TestApp::spawn_with(&[("OTP_RESEND_INTERVAL", "0s")]).await;
    let phone = unique_phone();
    let first = app.register(&phone, "taken_name").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let fresh = app.register(&unique_phone(), &unique_username()).await;
    let again = app.register(&phone, "other_name").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let keys = |r: &crate::helpers::Resp| {
        r.data()
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
    };
    assert_eq!(
        keys(&again),
        keys(&fresh),
        "the same answer as a new registration"
    );
    let signed_in = app.verify(&phone, &app.last_otp(&phone).await).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert_eq!(
        signed_in.data()["user"]["username"],
        "taken_name",
        "the account they already have"
    );
    assert_eq!(app.count("users").await, 2);
}

#[tokio::test]
async fn a_taken_username_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.register(&unique_phone(), "taken_name").await;
    let same_name = app.register(&unique_phone(), "taken_name").await;
    same_name.assert_error(409);
    assert_eq!(same_name.error_code(), "USERNAME_TAKEN");
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn refresh_rotates_and_reusing_an_old_token_revokes_the_family() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let first = app
        .post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let rotated = first.data()["refreshToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_ne!(rotated, s.refresh);

    // The old token is presented again: someone copied it. The whole family dies.
    app.post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await
        .assert_error(401);
    app.post("/auth/refresh", None, &json!({ "refreshToken": rotated }))
        .await
        .assert_error(401);
}

#[tokio::test]
async fn two_concurrent_refreshes_of_one_token_yield_exactly_one_new_session() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let http = app.http.clone();
            let url = app.url("/auth/refresh");
            let token = s.refresh.clone();
            tokio::spawn(async move {
                http.post(url)
                    .json(&json!({ "refreshToken": token }))
                    .send()
                    .await
                    .expect("send")
                    .status()
            })
        })
        .collect();
    let mut ok = 0;
    for h in handles {
        if h.await.expect("join") == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "exactly one of the concurrent refreshes must win");
}

#[tokio::test]
async fn logout_kills_the_refresh_token() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let out = app
        .post(
            "/auth/logout",
            Some(&s.access),
            &json!({ "refreshToken": s.refresh }),
        )
        .await;
    assert_eq!(out.status, StatusCode::OK);
    app.post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await
        .assert_error(401);
}

#[tokio::test]
async fn after_logout_the_sessions_access_token_is_refused_at_once_and_other_sessions_go_on() {
    let app = TestApp::spawn_with(&[("OTP_RESEND_INTERVAL", "0s")]).await;
    let s = app.signed_in_user("BUYER").await;
    // The same user signs in on a second device: another session.
    let login = app
        .post("/auth/login", None, &json!({ "phoneNumber": s.phone }))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let other = app.sign_in(&s.phone).await;
    assert_eq!(
        app.get("/wallet", Some(&s.access)).await.status,
        StatusCode::OK
    );
    let out = app
        .post(
            "/auth/logout",
            Some(&s.access),
            &json!({ "refreshToken": s.refresh }),
        )
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    app.get("/wallet", Some(&s.access)).await.assert_error(401);
    app.deposit(&s, 1_000, "after-logout")
        .await
        .assert_error(401);
    assert_eq!(
        app.get("/wallet", Some(&other.access)).await.status,
        StatusCode::OK,
        "the other device stays signed in"
    );
}

#[tokio::test]
async fn a_session_signed_out_on_one_instance_is_refused_on_another_within_a_second() {
    let Some((a, b)) = TestApp::spawn_pair("logout", &[]).await else {
        return;
    };
    let s = a.signed_in_user("BUYER").await;
    assert_eq!(
        b.get("/wallet", Some(&s.access)).await.status,
        StatusCode::OK
    );
    let out = a
        .post(
            "/auth/logout",
            Some(&s.access),
            &json!({ "refreshToken": s.refresh }),
        )
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let mut status = StatusCode::OK;
    for _ in 0..20 {
        status = b.get("/wallet", Some(&s.access)).await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "instance B still serves the signed-out session after a second"
    );
}

#[tokio::test]
async fn a_user_deactivated_by_an_admin_is_refused_at_once_even_with_a_live_token() {
    let admin_phone = unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    app.register(&admin_phone, &unique_username()).await;
    let admin = app.sign_in(&admin_phone).await;
    let s = app.signed_in_user("BUYER").await;
    assert_eq!(
        app.get("/wallet", Some(&s.access)).await.status,
        StatusCode::OK
    );
    let r = app
        .patch(
            &format!("/admin/users/{}", s.user_id),
            Some(&admin.access),
            &json!({ "isActive": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.get("/wallet", Some(&s.access)).await.assert_error(403);
    app.post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await
        .assert_error(403);
}

#[tokio::test]
async fn a_deactivated_account_gets_no_code_and_login_answers_as_for_any_number() {
    let admin_phone = unique_phone();
    let app = TestApp::spawn_with(&[
        ("ADMIN_PHONE_NUMBERS", &admin_phone),
        ("OTP_RESEND_INTERVAL", "0s"),
    ])
    .await;
    let admin = app.admin(&admin_phone).await;
    let s = app.signed_in_user("BUYER").await;
    let r = app
        .patch(
            &format!("/admin/users/{}", s.user_id),
            Some(&admin.access),
            &json!({ "isActive": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sms = |phone: String| {
        let app = &app;
        async move {
            app.get(
                &format!("/dev/sms?phoneNumber={}", phone.replace('+', "%2B")),
                None,
            )
            .await
            .data()
            .as_array()
            .map_or(0, Vec::len)
        }
    };
    let before = sms(s.phone.clone()).await;
    let deactivated = app
        .post("/auth/login", None, &json!({ "phoneNumber": s.phone }))
        .await;
    let unknown_phone = unique_phone();
    let unknown = app
        .post(
            "/auth/login",
            None,
            &json!({ "phoneNumber": unknown_phone }),
        )
        .await;
    assert_eq!(
        (deactivated.status, unknown.status),
        (StatusCode::OK, StatusCode::OK),
        "{} / {}",
        deactivated.body,
        unknown.body
    );
    let keys = |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(
        keys(deactivated.data()),
        keys(unknown.data()),
        "the same answer shape"
    );
    assert_eq!(
        sms(s.phone.clone()).await,
        before,
        "no SMS goes to a deactivated account"
    );
}

#[tokio::test]
async fn a_user_deactivated_by_another_process_is_refused_within_a_second() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    assert_eq!(
        app.get("/wallet", Some(&s.access)).await.status,
        StatusCode::OK
    );
    // Another backend process (or an operator) deactivates the account in the database.
    let id = mongodb::bson::oid::ObjectId::parse_str(&s.user_id).expect("oid");
    app.db
        .col("users")
        .update_one(doc! { "_id": id }, doc! { "$set": { "isActive": false } })
        .await
        .expect("update");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // USER_CACHE_TTL is 1 s
    app.get("/wallet", Some(&s.access)).await.assert_error(403);
    app.post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await
        .assert_error(403);
}

#[tokio::test]
async fn a_refresh_token_of_another_shape_or_a_forged_secret_is_refused() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let (family_and_generation, secret) = s.refresh.rsplit_once('.').expect("token shape");
    let forged = format!(
        "{family_and_generation}.{}",
        if secret.starts_with('0') {
            secret.replacen('0', "1", 1)
        } else {
            format!("0{}", &secret[1..])
        }
    );
    for bad in [forged.as_str(), "not-a-token", &"a".repeat(64)] {
        app.post("/auth/refresh", None, &json!({ "refreshToken": bad }))
            .await
            .assert_error(401);
    }
    // The real token still works: a forgery does not count as a reuse.
    assert_eq!(
        app.post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn after_logout_no_token_of_the_session_can_be_refreshed() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let rotated = app
        .post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await;
    let rotated = rotated.data()["refreshToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let out = app
        .post(
            "/auth/logout",
            Some(&s.access),
            &json!({ "refreshToken": rotated }),
        )
        .await;
    assert_eq!(out.status, StatusCode::OK);
    app.post("/auth/refresh", None, &json!({ "refreshToken": rotated }))
        .await
        .assert_error(401);
    app.post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await
        .assert_error(401);
}

#[tokio::test]
async fn a_buyer_becomes_a_seller_and_admins_come_from_configuration() {
    let admin_phone = unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let s = app.signed_in_user("BUYER").await;
    let r = app
        .post("/auth/become-seller", Some(&s.access), &json!({}))
        .await;
    assert_eq!(r.data()["role"], "SELLER");
    app.post("/auth/become-seller", Some(&s.access), &json!({}))
        .await
        .assert_error(409);

    app.register(&admin_phone, &unique_username()).await;
    let admin = app.sign_in(&admin_phone).await;
    assert_eq!(
        app.get("/auth/me", Some(&admin.access)).await.data()["role"],
        "ADMIN"
    );
}
