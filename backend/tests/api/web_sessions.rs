//! Web sessions (auth::web_session): the refresh token in an HttpOnly cookie scoped to the auth
//! routes, never in a body a script could read; the desktop's body tokens unchanged.

use crate::helpers::{unique_phone, unique_username, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const TRANSPORT: (&str, &str) = ("X-Session-Transport", "cookie");

struct Answer {
    status: StatusCode,
    body: Value,
    /// The `Set-Cookie` header, if any.
    set_cookie: Option<String>,
}

impl Answer {
    /// The cookie's value (what a browser would send back), if the answer set a live one.
    fn cookie_value(&self) -> Option<String> {
        let c = self.set_cookie.as_deref()?;
        let value = c.split(';').next()?.strip_prefix("oddxer_refresh=")?;
        (!value.is_empty() && !c.contains("Max-Age=0")).then(|| value.to_owned())
    }
}

async fn send(req: reqwest::RequestBuilder) -> Answer {
    let r = req.send().await.expect("send");
    let status = r.status();
    let set_cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = r.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        body,
        set_cookie,
    }
}

/// Registers a user and signs in as the web app does (`X-Session-Transport: cookie`).
async fn web_sign_in(app: &TestApp) -> Answer {
    let phone = unique_phone();
    assert_eq!(app.register(&phone, &unique_username()).await.status, 201);
    let otp = app.last_otp(&phone).await;
    send(
        app.http
            .post(app.url("/auth/verify-otp"))
            .header(TRANSPORT.0, TRANSPORT.1)
            .json(&json!({ "phoneNumber": phone, "otp": otp })),
    )
    .await
}

/// `POST /auth/refresh` with `{}` and the cookie, as the browser sends it.
async fn refresh_with_cookie(app: &TestApp, cookie: &str) -> Answer {
    send(
        app.http
            .post(app.url("/auth/refresh"))
            .header(TRANSPORT.0, TRANSPORT.1)
            .header("Cookie", format!("oddxer_refresh={cookie}"))
            .json(&json!({})),
    )
    .await
}

#[tokio::test]
async fn a_web_sign_in_puts_the_refresh_token_in_an_http_only_cookie_and_not_in_the_body() {
    let app = TestApp::spawn().await;
    let signed_in = web_sign_in(&app).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let data = &signed_in.body["data"];
    assert!(
        data["accessToken"].is_string() && data["user"]["id"].is_string(),
        "{data}"
    );
    assert!(
        data.get("refreshToken").is_none(),
        "the token must stay out of script reach: {data}"
    );
    let cookie = signed_in.set_cookie.clone().expect("Set-Cookie");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=604800",
    ] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http: a Secure cookie would be dropped: {cookie}"
    );
    let access = data["accessToken"].as_str().expect("access");
    assert_eq!(app.get("/auth/me", Some(access)).await.status, 200);
}

#[tokio::test]
async fn the_cookie_refreshes_the_session_rotates_and_logout_clears_it() {
    let app = TestApp::spawn().await;
    let first = web_sign_in(&app).await.cookie_value().expect("cookie");
    let refreshed = refresh_with_cookie(&app, &first).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(
        refreshed.body["data"].get("refreshToken").is_none(),
        "{}",
        refreshed.body
    );
    let second = refreshed.cookie_value().expect("a new cookie");
    assert_ne!(second, first, "rotated");
    let access = refreshed.body["data"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    assert_eq!(app.get("/auth/me", Some(&access)).await.status, 200);

    // A body of `{}` and the cookie, without the transport header, is the web app too: the new
    // token still goes only into the cookie.
    let plain = send(
        app.http
            .post(app.url("/auth/refresh"))
            .header("Cookie", format!("oddxer_refresh={second}"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert!(plain.body["data"].get("refreshToken").is_none());
    let third = plain.cookie_value().expect("cookie");
    let access = plain.body["data"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();

    let out = send(
        app.http
            .post(app.url("/auth/logout"))
            .bearer_auth(&access)
            .header(TRANSPORT.0, TRANSPORT.1)
            .header("Cookie", format!("oddxer_refresh={third}"))
            .json(&json!({})),
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    let cleared = out.set_cookie.expect("Set-Cookie clearing the cookie");
    assert!(
        cleared.starts_with("oddxer_refresh=;")
            && cleared.contains("Max-Age=0")
            && cleared.contains("Path=/api/v1/auth"),
        "{cleared}"
    );
    let after = refresh_with_cookie(&app, &third).await;
    assert_eq!(after.status, 401, "the session ended: {}", after.body);
    assert_eq!(
        app.get("/auth/me", Some(&access)).await.status,
        401,
        "its access token dies with it"
    );
}

#[tokio::test]
async fn a_replayed_dead_cookie_revokes_the_whole_session() {
    let app = TestApp::spawn().await;
    let stolen = web_sign_in(&app).await.cookie_value().expect("cookie");
    let current = refresh_with_cookie(&app, &stolen)
        .await
        .cookie_value()
        .expect("rotated cookie");
    let replay = refresh_with_cookie(&app, &stolen).await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(replay.body["error"]["code"], "UNAUTHENTICATED");
    assert!(
        replay
            .set_cookie
            .as_deref()
            .is_some_and(|c| c.contains("Max-Age=0")),
        "a dead cookie is dropped: {:?}",
        replay.set_cookie
    );
    // The reuse revoked the family: the owner's newer cookie is dead too.
    let owner = refresh_with_cookie(&app, &current).await;
    assert_eq!(owner.status, 401, "{}", owner.body);
}

#[tokio::test]
async fn the_desktop_body_token_flow_is_unchanged() {
    let app = TestApp::spawn().await;
    let user = app.signed_in_user("BUYER").await;
    let r = send(
        app.http
            .post(app.url("/auth/refresh"))
            .json(&json!({ "refreshToken": user.refresh })),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["data"]["refreshToken"].is_string() && r.body["data"]["accessToken"].is_string(),
        "{}",
        r.body
    );
    assert_eq!(r.set_cookie, None, "no cookie for the desktop");
    let newest = r.body["data"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let access = r.body["data"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    // A replay of the old one still revokes the family.
    assert_eq!(
        app.post(
            "/auth/refresh",
            None,
            &json!({ "refreshToken": user.refresh })
        )
        .await
        .status,
        401
    );
    assert_eq!(
        app.post("/auth/refresh", None, &json!({ "refreshToken": newest }))
            .await
            .status,
        401
    );
    let out = send(
        app.http
            .post(app.url("/auth/logout"))
            .bearer_auth(&access)
            .json(&json!({ "refreshToken": newest })),
    )
    .await;
    assert_eq!(out.set_cookie, None);
}

#[tokio::test]
async fn no_token_anywhere_is_refused_naming_where_one_belongs_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let web = send(
        app.http
            .post(app.url("/auth/refresh"))
            .header(TRANSPORT.0, TRANSPORT.1)
            .json(&json!({})),
    )
    .await;
    let desktop = send(app.http.post(app.url("/auth/refresh")).json(&json!({}))).await;
    for r in [&web, &desktop] {
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.body["error"]["code"], "UNAUTHENTICATED");
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("oddxer_refresh") && message.contains("refreshToken"),
            "{message}"
        );
    }
    let odd = send(
        app.http
            .post(app.url("/auth/refresh"))
            .header("X-Session-Transport", "carrier-pigeon")
            .json(&json!({})),
    )
    .await;
    assert_eq!(odd.status, 422, "{}", odd.body);
    assert!(
        odd.body["error"]["details"]["fields"]["X-Session-Transport"].is_string(),
        "{}",
        odd.body
    );
    assert_eq!(app.count("refresh_tokens").await, 0, "nothing was issued");
}

#[tokio::test]
async fn a_cookie_this_server_did_not_set_is_refused_not_ignored() {
    let app = TestApp::spawn().await;
    let user = app.signed_in_user("BUYER").await;
    for path in ["/auth/refresh", "/auth/logout"] {
        let r = send(
            app.http
                .post(app.url(path))
                .bearer_auth(&user.access)
                .header("Cookie", "oddxer_refresh=not%20a%20token")
                .json(&json!({})),
        )
        .await;
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("oddxer_refresh")),
            "{}",
            r.body
        );
    }
    // The desktop's session was not touched by either.
    assert_eq!(
        app.post(
            "/auth/refresh",
            None,
            &json!({ "refreshToken": user.refresh })
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn the_cookie_is_secure_over_https_as_a_trusted_proxy_says_or_as_configured() {
    let app = TestApp::spawn_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let phone = unique_phone();
    app.register(&phone, &unique_username()).await;
    let verify = |proto: &'static str, phone: String, otp: String| {
        let app = &app;
        async move {
            send(
                app.http
                    .post(app.url("/auth/verify-otp"))
                    .header(TRANSPORT.0, TRANSPORT.1)
                    .header("X-Forwarded-Proto", proto)
                    .json(&json!({ "phoneNumber": phone, "otp": otp })),
            )
            .await
        }
    };
    let otp = app.last_otp(&phone).await;
    let over_https = verify("https", phone.clone(), otp).await;
    assert!(
        over_https
            .set_cookie
            .as_deref()
            .is_some_and(|c| c.contains("Secure")),
        "{:?}",
        over_https.set_cookie
    );

    // The same header from a peer that is not a trusted proxy is not believed.
    let untrusted = TestApp::spawn().await;
    let phone = unique_phone();
    untrusted.register(&phone, &unique_username()).await;
    let otp = untrusted.last_otp(&phone).await;
    let r = send(
        untrusted
            .http
            .post(untrusted.url("/auth/verify-otp"))
            .header(TRANSPORT.0, TRANSPORT.1)
            .header("X-Forwarded-Proto", "https")
            .json(&json!({ "phoneNumber": phone, "otp": otp })),
    )
    .await;
    assert!(
        r.set_cookie
            .as_deref()
            .is_some_and(|c| !c.contains("Secure")),
        "{:?}",
        r.set_cookie
    );

    let forced = TestApp::spawn_with(&[("COOKIE_SECURE", "true")]).await;
    let answer = web_sign_in(&forced).await;
    assert!(
        answer
            .set_cookie
            .as_deref()
            .is_some_and(|c| c.contains("Secure")),
        "{:?}",
        answer.set_cookie
    );
}
