use crate::helpers::{unique_phone, unique_username, Session, TestApp};
use serde_json::json;

async fn admin_app() -> (TestApp, Session) {
    let admin_phone = unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    app.register(&admin_phone, &unique_username()).await;
    let admin = app.sign_in(&admin_phone).await;
    (app, admin)
}

async fn patch(
    app: &TestApp,
    token: &str,
    id: &str,
    body: serde_json::Value,
) -> crate::helpers::Resp {
    app.patch(&format!("/admin/users/{id}"), Some(token), &body)
        .await
}

#[tokio::test]
async fn an_admin_lists_users_in_stable_pages_and_filters_by_role_and_activity() {
    let (app, admin) = admin_app().await;
    for _ in 0..5 {
        app.signed_in_user("BUYER").await;
    }
    for _ in 0..2 {
        app.signed_in_user("SELLER").await;
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/admin/users?limit=3&cursor={c}"),
            None => "/admin/users?limit=3".to_owned(),
        };
        let page = app.get(&path, Some(&admin.access)).await;
        for u in page.data()["items"].as_array().expect("items") {
            seen.push(u["id"].as_str().expect("id").to_owned());
        }
        cursor = page.data()["nextCursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(seen.len(), 8, "admin + 5 buyers + 2 sellers, each once");
    assert_eq!(unique.len(), seen.len());

    let sellers = app
        .get("/admin/users?role=SELLER", Some(&admin.access))
        .await;
    assert_eq!(sellers.data()["items"].as_array().map(Vec::len), Some(2));
    app.get("/admin/users?role=KING", Some(&admin.access))
        .await
        .assert_error(422);
    app.get("/admin/users?limit=500", Some(&admin.access))
        .await
        .assert_error(422);
    app.get("/admin/users?cursor=nope", Some(&admin.access))
        .await
        .assert_error(422);
}

#[tokio::test]
async fn an_admin_changes_a_role_and_deactivates_a_user_who_is_then_refused() {
    let (app, admin) = admin_app().await;
    let user = app.signed_in_user("BUYER").await;
    let r = patch(
        &app,
        &admin.access,
        &user.user_id,
        json!({ "role": "SELLER" }),
    )
    .await;
    assert_eq!(r.data()["role"], "SELLER", "{}", r.body);
    assert_eq!(
        app.get("/auth/me", Some(&user.access)).await.data()["role"],
        "SELLER",
        "takes effect at once"
    );

    let r = patch(
        &app,
        &admin.access,
        &user.user_id,
        json!({ "isActive": false }),
    )
    .await;
    assert_eq!(r.data()["isActive"], false);
    app.get("/wallet", Some(&user.access))
        .await
        .assert_error(403);
    let inactive = app
        .get("/admin/users?active=false", Some(&admin.access))
        .await;
    assert_eq!(inactive.data()["items"][0]["id"], user.user_id.as_str());

    patch(
        &app,
        &admin.access,
        &user.user_id,
        json!({ "isActive": true }),
    )
    .await;
    assert_eq!(
        app.get("/wallet", Some(&user.access)).await.status.as_u16(),
        200
    );
}

#[tokio::test]
async fn bad_admin_patches_are_refused_and_change_nothing() {
    let (app, admin) = admin_app().await;
    let user = app.signed_in_user("BUYER").await;
    patch(&app, &admin.access, &user.user_id, json!({}))
        .await
        .assert_error(422);
    patch(
        &app,
        &admin.access,
        &user.user_id,
        json!({ "role": "EMPEROR" }),
    )
    .await
    .assert_error(422);
    patch(&app, &admin.access, "123", json!({ "role": "SELLER" }))
        .await
        .assert_error(400);
    patch(
        &app,
        &admin.access,
        &mongodb::bson::oid::ObjectId::new().to_hex(),
        json!({ "role": "SELLER" }),
    )
    .await
    .assert_error(404);
    let own = patch(
        &app,
        &admin.access,
        &admin.user_id,
        json!({ "isActive": false }),
    )
    .await;
    own.assert_error(409);
    assert_eq!(
        app.get("/auth/me", Some(&user.access)).await.data()["role"],
        "BUYER"
    );
}

#[tokio::test]
async fn responses_carry_request_ids_security_headers_and_cors_only_for_allowed_origins() {
    let app = TestApp::spawn_with(&[("SOCKET_CORS_ORIGIN", "https://app.oddxer.example")]).await;
    let r = app
        .http
        .get(app.url("/health"))
        .header("Origin", "https://app.oddxer.example")
        .send()
        .await
        .expect("send");
    assert!(r
        .headers()
        .get("x-request-id")
        .is_some_and(|v| !v.is_empty()));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.oddxer.example"
    );
    let other = app
        .http
        .get(app.url("/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("send");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // A request id sent by a proxy is kept.
    let given = app
        .http
        .get(app.url("/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("send");
    assert_eq!(given.headers()["x-request-id"], "abc-123");
}

/// An admin looks up a stuck or failed deposit by its provider reference, a user's payments, or
/// everything in one status; nobody else may.
#[tokio::test]
async fn an_admin_finds_a_payment_by_reference_by_user_or_by_status() {
    let admin_phone = crate::helpers::unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let admin = app.admin(&admin_phone).await;
    let (a, b) = (
        app.signed_in_user("BUYER").await,
        app.signed_in_user("BUYER").await,
    );
    let failed = app.deposit(&a, 7_000, "admin-failed").await;
    let reference = failed.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let r = app
        .post(&format!("/dev/payments/{reference}/fail"), None, &json!({}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    app.funded(&a, 3_000).await;
    app.funded(&b, 4_000).await;
    let pending = app.deposit(&b, 9_000, "admin-pending").await;
    let pending_ref = pending.data()["reference"]
        .as_str()
        .expect("reference")
        .to_owned();

    let get = |query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let r = app
                .get(&format!("/admin/payments{query}"), Some(&admin.access))
                .await;
            assert_eq!(r.status.as_u16(), 200, "{query}: {}", r.body);
            r.data()["items"].as_array().expect("items").clone()
        }
    };
    let by_ref = get(format!("?reference={reference}")).await;
    assert_eq!(by_ref.len(), 1);
    assert_eq!(
        (
            by_ref[0]["status"].clone(),
            by_ref[0]["amount"]["amount"].clone()
        ),
        (json!("FAILED"), json!(7_000))
    );
    assert!(by_ref[0]["failureReason"].is_string());
    assert_eq!(get("?reference=NO-SUCH-REF".into()).await.len(), 0);

    let of_a = get(format!("?user={}", a.user_id)).await;
    assert_eq!(
        of_a.iter().map(|p| p["status"].clone()).collect::<Vec<_>>(),
        vec![json!("COMPLETED"), json!("FAILED")],
        "newest first"
    );
    assert_eq!(
        get(format!("?user={}&status=FAILED", a.user_id))
            .await
            .len(),
        1
    );
    let stuck = get("?status=PENDING".into()).await;
    assert_eq!(
        stuck
            .iter()
            .map(|p| p["reference"].clone())
            .collect::<Vec<_>>(),
        vec![json!(pending_ref)]
    );
    assert_eq!(
        get(String::new()).await.len(),
        4,
        "every deposit, newest first"
    );

    // A control character is refused naming the parameter (it never reaches the database as a 500).
    let nul = app
        .get("/admin/payments?reference=REF%00X", Some(&admin.access))
        .await;
    nul.assert_error(422);
    assert!(
        nul.body["error"]["details"]["fields"]["reference"].is_string(),
        "{}",
        nul.body
    );
    app.get("/admin/payments?user=abc", Some(&admin.access))
        .await
        .assert_error(422);
    app.get("/admin/payments?status=LOST", Some(&admin.access))
        .await
        .assert_error(422);
    app.get("/admin/payments", Some(&a.access))
        .await
        .assert_error(403);
    app.get("/admin/payments", None).await.assert_error(401);
}

/// An admin finds a user by phone number (any spelling) or username (or its prefix), opens their
/// detail (wallet, purchases, payments) and deactivates them with a recorded reason.
#[tokio::test]
async fn an_admin_finds_a_user_opens_their_detail_and_deactivates_with_a_reason() {
    let (app, admin) = admin_app().await;
    let seller = app.signed_in_user("SELLER").await;
    let code = app.create_code(&seller, 2_000, 3).await;
    let name = format!("zed{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let phone = unique_phone();
    let r = app
        .post(
            "/auth/register",
            None,
            &json!({ "phoneNumber": phone, "username": name }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let user = app.sign_in(&phone).await;
    app.funded(&user, 10_000).await;
    app.buy(&user, &code).await;

    // "+256 7xx xxx xxx" spelled the national way.
    let national = format!("0{} {} {}", &phone[4..7], &phone[7..10], &phone[10..]);
    for q in [national.as_str(), name.as_str(), &name[..5]] {
        let found = app
            .get(
                &format!("/admin/users?q={}", urlencode(q)),
                Some(&admin.access),
            )
            .await;
        assert_eq!(found.status.as_u16(), 200, "{q}: {}", found.body);
        let ids: Vec<&str> = found.data()["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|u| u["id"].as_str())
            .collect();
        assert_eq!(ids, vec![user.user_id.as_str()], "q={q}");
    }

    // `buy` tops the wallet up with the price first: 10,000 + 2,000 - 2,000.
    let balance_before = app.balance(&user).await;
    assert_eq!(balance_before, 10_000);
    let r = app
        .patch(
            &format!("/admin/users/{}", user.user_id),
            Some(&admin.access),
            &json!({ "isActive": false, "reason": "x".repeat(501) }),
        )
        .await;
    r.assert_error(422);
    assert!(
        r.body["error"]["details"]["fields"]["reason"].is_string(),
        "{}",
        r.body
    );
    for bad in ["   ", "bad\u{0}reason"] {
        let r = app
            .patch(
                &format!("/admin/users/{}", user.user_id),
                Some(&admin.access),
                &json!({ "isActive": false, "reason": bad }),
            )
            .await;
        r.assert_error(422);
    }
    app.get("/admin/users?q=zed%00", Some(&admin.access))
        .await
        .assert_error(422);
    let r = app
        .patch(
            &format!("/admin/users/{}", user.user_id),
            Some(&admin.access),
            &json!({ "isActive": false, "reason": "chargeback fraud report #12" }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    let d = app
        .get(
            &format!("/admin/users/{}", user.user_id),
            Some(&admin.access),
        )
        .await;
    assert_eq!(d.status.as_u16(), 200, "{}", d.body);
    let d = d.data();
    assert_eq!(
        (d["username"].clone(), d["isActive"].clone()),
        (json!(name), json!(false))
    );
    assert_eq!(
        d["wallet"]["balance"]["amount"],
        json!(balance_before),
        "{d}"
    );
    assert_eq!(d["purchases"][0]["codeId"], code.as_str());
    assert_eq!(d["payments"][0]["status"], "COMPLETED");
    assert_eq!(
        d["lastAdminChange"]["reason"],
        "chargeback fraud report #12"
    );
    assert_eq!(d["lastAdminChange"]["by"], admin.user_id.as_str());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_user_search_longer_than_100_characters_is_422_naming_q() {
    let (app, admin) = admin_app().await;
    let r = app
        .get(
            &format!("/admin/users?q={}", "0".repeat(101)),
            Some(&admin.access),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    assert!(
        r.body["error"]["details"]["fields"]["q"].is_string(),
        "{}",
        r.body
    );
    let r = app
        .get(
            &format!("/admin/users?q={}", "0".repeat(100)),
            Some(&admin.access),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
}
