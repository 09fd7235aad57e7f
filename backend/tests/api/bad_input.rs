use crate::helpers::{unique_phone, TestApp};
use serde_json::json;

#[tokio::test]
async fn malformed_bodies_get_the_error_envelope_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, &str, String, u16)> = vec![
        (
            "malformed JSON",
            "application/json",
            "{\"phoneNumber\": ".into(),
            400,
        ),
        ("not JSON at all", "application/json", "hello".into(), 400),
        ("wrong content type", "text/plain", "{}".into(), 415),
        (
            "missing username",
            "application/json",
            json!({ "phoneNumber": unique_phone() }).to_string(),
            422,
        ),
        (
            "wrong type",
            "application/json",
            json!({ "phoneNumber": 256_700_000_000u64, "username": "abc" }).to_string(),
            422,
        ),
        (
            "unknown role",
            "application/json",
            json!({ "phoneNumber": unique_phone(), "username": "abcd", "role": "KING" })
                .to_string(),
            422,
        ),
        (
            "admin role",
            "application/json",
            json!({ "phoneNumber": unique_phone(), "username": "abcd", "role": "ADMIN" })
                .to_string(),
            422,
        ),
        (
            "phone not a valid number",
            "application/json",
            json!({ "phoneNumber": "077212345", "username": "abcd" }).to_string(),
            422,
        ),
        (
            "username with capitals",
            "application/json",
            json!({ "phoneNumber": unique_phone(), "username": "Abcd" }).to_string(),
            422,
        ),
        (
            "username with control char",
            "application/json",
            json!({ "phoneNumber": unique_phone(), "username": "ab\u{0007}cd" }).to_string(),
            422,
        ),
        (
            "username with unicode",
            "application/json",
            json!({ "phoneNumber": unique_phone(), "username": "émile" }).to_string(),
            422,
        ),
        (
            "username too short",
            "application/json",
            json!({ "phoneNumber": unique_phone(), "username": "ab" }).to_string(),
            422,
        ),
        (
            "unknown field",
            "application/json",
            json!({ "phoneNumber": unique_phone(), "username": "abcd", "isAdmin": true })
                .to_string(),
            422,
        ),
        (
            "huge body",
            "application/json",
            format!(
                "{{\"phoneNumber\":\"+256700000000\",\"username\":\"{}\"}}",
                "a".repeat(200_000)
            ),
            413,
        ),
    ];
    for (name, content_type, body, status) in cases {
        let r = app.post_raw("/auth/register", content_type, body).await;
        assert_eq!(r.status.as_u16(), status, "{name}: {}", r.body);
        r.assert_error(status);
        if status == 415 {
            assert_eq!(
                r.body["error"]["code"], "UNSUPPORTED_CONTENT_TYPE",
                "{name}: {}",
                r.body
            );
        }
    }
    assert_eq!(app.count("users").await, 0);
    assert_eq!(app.count("sms_outbox").await, 0);
}

#[tokio::test]
async fn private_routes_refuse_missing_expired_tampered_and_foreign_tokens() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    app.get("/wallet", None).await.assert_error(401);
    app.get("/wallet", Some("not-a-jwt"))
        .await
        .assert_error(401);

    // Payload edited after signing: role upgraded, signature kept.
    let parts: Vec<&str> = s.access.split('.').collect();
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    let encode = |s: &str| B64.encode(s);
    let payload = String::from_utf8(B64.decode(parts[1]).expect("base64")).expect("utf8");
    let edited = payload.replace("\"BUYER\"", "\"ADMIN\"");
    let tampered = format!("{}.{}.{}", parts[0], encode(&edited), parts[2]);
    app.get("/wallet", Some(&tampered)).await.assert_error(401);

    // alg: none
    let none = format!(
        "{}.{}.",
        encode("{\"alg\":\"none\",\"typ\":\"JWT\"}"),
        parts[1]
    );
    app.get("/wallet", Some(&none)).await.assert_error(401);

    // Signed with another key, and expired.
    let other = jsonwebtoken::EncodingKey::from_secret(b"some-other-secret-some-other-secret");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let claims =
        json!({ "sub": s.user_id, "role": "BUYER", "iat": now, "exp": now + 600, "jti": "x" });
    let foreign =
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &other).expect("encode");
    app.get("/wallet", Some(&foreign)).await.assert_error(401);
    let own = jsonwebtoken::EncodingKey::from_secret(app.config.jwt_secret.as_bytes());
    let expired_claims = json!({ "sub": s.user_id, "role": "BUYER", "iat": now - 7200, "exp": now - 3600, "jti": "y" });
    let expired = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &expired_claims, &own)
        .expect("encode");
    app.get("/wallet", Some(&expired)).await.assert_error(401);

    // The genuine token still works.
    assert_eq!(
        app.get("/wallet", Some(&s.access)).await.status.as_u16(),
        200
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_envelope() {
    let app = TestApp::spawn().await;
    app.get("/nope", None).await.assert_error(404);
    app.get("/auth/register", None).await.assert_error(405);
    let r = app.get("/wallet/transactions?limit=0", None).await;
    assert!(r.status.is_client_error());
}

/// A control character in any query parameter (NUL reached the database before: 500) is a 422
/// naming the parameter, on every route that takes a query.
#[tokio::test]
async fn a_control_character_in_a_query_parameter_is_422_naming_it() {
    let app = TestApp::spawn().await;
    let seller = app.signed_in_user("SELLER").await;
    for (path, param) in [
        ("/codes?bookmaker=Sporty%00Bet", "bookmaker"),
        ("/seller/codes?bookmaker=%00%17", "bookmaker"),
        ("/leaderboard?cursor=abc%01", "cursor"),
        ("/purchases?cursor=%00", "cursor"),
    ] {
        let r = app.get(path, Some(&seller.access)).await;
        r.assert_error(422);
        assert!(
            r.body["error"]["details"]["fields"][param].is_string(),
            "{path}: {}",
            r.body
        );
    }
}

/// A query parameter of the wrong type or value is a 422 naming it, like a body's field.
#[tokio::test]
async fn a_bad_query_parameter_is_422_naming_it() {
    let app = TestApp::spawn().await;
    for (path, param) in [
        ("/codes?limit=abc", "limit"),
        ("/leaderboard?sort=YIELD", "sort"),
        ("/leaderboard?period=1y", "period"),
        ("/codes?foo=bar", "foo"),
    ] {
        let r = app.get(path, None).await;
        r.assert_error(422);
        assert!(
            r.body["error"]["details"]["fields"][param].is_string(),
            "{path}: {}",
            r.body
        );
    }
}
