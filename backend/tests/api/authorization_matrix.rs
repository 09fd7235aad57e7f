//! Every documented route × every kind of caller, with the answer each must get. Routes come from
//! the OpenAPI document, so a new route without a row here fails this test until it is classified.

use crate::helpers::{Session, TestApp};
use mongodb::bson::{doc, oid::ObjectId};
use reqwest::Method;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Access {
    Anyone,
    User,
    Seller,
    Admin,
    /// Gated by a refresh token (body or the web app's cookie), whatever the bearer: the matrix
    /// sends none, so every caller gets 401.
    RefreshToken,
}

fn access(method: &str, path: &str) -> Access {
    use Access::*;
    match (method, path) {
        (_, p) if p.starts_with("/dev/") => Anyone,
        ("post", "/auth/register" | "/auth/login" | "/auth/verify-otp") => Anyone,
        ("post", "/auth/refresh") => RefreshToken,
        ("get", "/health" | "/openapi.json" | "/metrics") => Anyone,
        (
            "get",
            "/codes"
            | "/codes/options"
            | "/codes/{id}"
            | "/leaderboard"
            | "/leaderboard/{sellerId}",
        ) => Anyone,
        ("get", "/sellers/{id}" | "/sellers/{id}/codes" | "/sellers/{id}/performance") => Anyone,
        ("put" | "delete", "/sellers/{id}/follow") | ("get", "/me/following") => User,
        ("post" | "put", "/payments/callbacks/{provider}") => Anyone,
        ("post", "/auth/logout" | "/auth/become-seller") | ("get", "/auth/me") => User,
        (_, p) if p.starts_with("/wallet") => User,
        ("get", "/purchases") => User,
        ("post", "/codes/{id}/purchase" | "/codes/{id}/votes") => User,
        ("post", "/codes") | ("patch" | "delete", "/codes/{id}") => Seller,
        ("get", "/seller/codes" | "/seller/sales") => Seller,
        (_, p) if p.starts_with("/admin/") => Admin,
        (m, p) => panic!("{m} {p} is not classified in the authorization matrix: add it"),
    }
}

#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    Buyer,
    Seller,
    Admin,
    Deactivated,
    Expired,
    OtherKey,
    AlgNone,
    EditedPayload,
}

const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::Buyer,
    Caller::Seller,
    Caller::Admin,
    Caller::Deactivated,
    Caller::Expired,
    Caller::OtherKey,
    Caller::AlgNone,
    Caller::EditedPayload,
];

/// Which statuses a caller may get: `None` means "anything but 401/403" (the call got past the
/// gate; its body may still be invalid).
fn expected(access: Access, caller: Caller) -> Option<u16> {
    use Caller::*;
    match (access, caller) {
        (Access::Anyone, _) => None,
        (Access::RefreshToken, _) => Some(401),
        (_, Anonymous | Expired | OtherKey | AlgNone | EditedPayload) => Some(401),
        (_, Deactivated) => Some(403),
        (Access::User, Buyer | Seller | Admin) => None,
        (Access::Seller, Buyer) => Some(403),
        (Access::Seller, Seller | Admin) => None,
        (Access::Admin, Admin) => None,
        (Access::Admin, Buyer | Seller) => Some(403),
    }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn forge(app: &TestApp, s: &Session, caller: Caller) -> Option<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let sign = |secret: &[u8], iat: i64, exp: i64, role: &str| {
        let claims = serde_json::json!({ "sub": s.user_id, "role": role, "iat": iat, "exp": exp, "jti": "m" });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .expect("sign")
    };
    match caller {
        Caller::Expired => Some(sign(
            app.config.jwt_secret.as_bytes(),
            now - 7200,
            now - 3600,
            "ADMIN",
        )),
        Caller::OtherKey => Some(sign(
            b"not-the-server-secret-not-the-server",
            now,
            now + 600,
            "ADMIN",
        )),
        Caller::AlgNone => {
            let payload = serde_json::json!({ "sub": s.user_id, "role": "ADMIN", "iat": now, "exp": now + 600, "jti": "n" });
            Some(format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"JWT"}"#),
                b64(&payload.to_string())
            ))
        }
        Caller::EditedPayload => {
            let parts: Vec<&str> = s.access.split('.').collect();
            let payload = serde_json::json!({ "sub": s.user_id, "role": "ADMIN", "iat": now, "exp": now + 600, "jti": "e" });
            Some(format!(
                "{}.{}.{}",
                parts[0],
                b64(&payload.to_string()),
                parts[2]
            ))
        }
        _ => None,
    }
}

#[tokio::test]
async fn every_route_answers_every_kind_of_caller_as_designed() {
    let admin_phone = crate::helpers::unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    let buyer = app.signed_in_user("BUYER").await;
    let seller = app.signed_in_user("SELLER").await;
    app.register(&admin_phone, &crate::helpers::unique_username())
        .await;
    let admin = app.sign_in(&admin_phone).await;
    let deactivated = app.signed_in_user("SELLER").await;
    let id = ObjectId::parse_str(&deactivated.user_id).expect("oid");
    app.db
        .col("users")
        .update_one(doc! { "_id": id }, doc! { "$set": { "isActive": false } })
        .await
        .expect("deactivate");
    // Written behind the app's back, as another process would: seen within USER_CACHE_TTL (1 s);
    // drop the cached copy instead of waiting.
    app.state.users.forget(id);

    let doc = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("send")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if path == "/ws" {
            continue; // authenticated on upgrade; see websocket tests
        }
        for method in item
            .as_object()
            .expect("item")
            .keys()
            .filter(|m| ["get", "post", "patch", "put", "delete"].contains(&m.as_str()))
        {
            let route_access = access(method, path);
            let concrete = path
                .replace("{id}", &ObjectId::new().to_hex())
                .replace("{sellerId}", &seller.user_id)
                .replace("{reference}", "no-such-reference")
                .replace("{provider}", "mtn");
            for caller in CALLERS {
                let token = match caller {
                    Caller::Anonymous => None,
                    // Becoming a seller changes the caller: spend a throwaway buyer on it.
                    Caller::Buyer if path == "/auth/become-seller" => {
                        Some(app.signed_in_user("BUYER").await.access)
                    }
                    Caller::Buyer => Some(buyer.access.clone()),
                    Caller::Seller => Some(seller.access.clone()),
                    Caller::Admin => Some(admin.access.clone()),
                    Caller::Deactivated => Some(deactivated.access.clone()),
                    other => forge(&app, &buyer, other),
                };
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let mut req = app
                    .http
                    .request(m, app.url(&concrete))
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string());
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                if method != "get" {
                    req = req.json(&serde_json::json!({}));
                }
                let status = req.send().await.expect("send").status().as_u16();
                match expected(route_access, caller) {
                    Some(want) => assert_eq!(status, want, "{method} {path} as {caller:?}"),
                    None => assert!(
                        status != 401 && status != 403,
                        "{method} {path} as {caller:?} got {status}"
                    ),
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 9 * 15, "only {checked} cells checked");
}
