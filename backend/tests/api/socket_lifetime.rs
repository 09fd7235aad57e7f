//! A socket lives no longer than the right to hold it (DESIGN.md section 6): its access token (unless
//! renewed with an `auth` frame), its account (deactivation) and its session (logout), on every
//! instance.

use crate::helpers::{unique_phone, Session, TestApp};
use crate::websocket::{connect, next_frame, send, Ws};
use futures_util::StreamExt;
use oddxer_shared::sync::{ClientFrame, ServerFrame};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Reads frames until an `error` frame; returns its code.
async fn error_code(ws: &mut Ws) -> String {
    loop {
        if let ServerFrame::Error { code, .. } = next_frame(ws).await {
            return code;
        }
    }
}

/// The close the server ends the socket with, within 10 s: (code, reason) of its close frame,
/// `(1005, "")` (RFC 6455: no status) when it closed without one; `None` if it stays open.
async fn close_frame(ws: &mut Ws) -> Option<(u16, String)> {
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (u16::from(frame.code), frame.reason.to_string())
                }
                None | Some(Err(_)) | Some(Ok(Message::Close(None))) => {
                    return (1005, String::new())
                }
                Some(Ok(_)) => continue,
            }
        }
    });
    closed.await.ok()
}

/// Closed by the server with the policy code (1008) and the error code as its reason.
fn policy(reason: &str) -> Option<(u16, String)> {
    Some((1008, reason.to_owned()))
}

/// Pings and expects `pong` (skipping anything else that arrives first).
async fn answers_ping(ws: &mut Ws) -> bool {
    send(ws, &ClientFrame::Ping).await;
    loop {
        match next_frame(ws).await {
            ServerFrame::Pong => return true,
            ServerFrame::Error { .. } => return false,
            _ => continue,
        }
    }
}

async fn second_session(app: &TestApp, phone: &str) -> Session {
    let r = app
        .post("/auth/login", None, &json!({ "phoneNumber": phone }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.sign_in(phone).await
}

#[tokio::test]
async fn deactivating_a_user_closes_their_sockets_on_every_instance() {
    let admin_phone = unique_phone();
    let Some((a, b)) =
        TestApp::spawn_pair("deactivation", &[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await
    else {
        return;
    };
    let admin = a.admin(&admin_phone).await;
    let user = a.signed_in_user("BUYER").await;
    let bystander = a.signed_in_user("BUYER").await;
    let mut on_a = connect(&a, Some(&user.access)).await.expect("socket on A");
    let mut on_b = connect(&b, Some(&user.access)).await.expect("socket on B");
    let mut other = connect(&b, Some(&bystander.access))
        .await
        .expect("bystander's socket on B");
    assert!(answers_ping(&mut on_a).await && answers_ping(&mut on_b).await);

    let r = a
        .patch(
            &format!("/admin/users/{}", user.user_id),
            Some(&admin.access),
            &json!({ "isActive": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    assert_eq!(error_code(&mut on_a).await, "ACCOUNT_DEACTIVATED");
    assert_eq!(
        close_frame(&mut on_a).await,
        policy("ACCOUNT_DEACTIVATED"),
        "the socket on A stays open"
    );
    assert_eq!(error_code(&mut on_b).await, "ACCOUNT_DEACTIVATED");
    assert_eq!(
        close_frame(&mut on_b).await,
        policy("ACCOUNT_DEACTIVATED"),
        "the socket on B stays open"
    );
    // Nobody else's socket is touched, and the deactivated user cannot come back with the token.
    assert!(answers_ping(&mut other).await);
    assert!(
        connect(&b, Some(&user.access)).await.is_err(),
        "a deactivated user's token still opens a socket"
    );
}

#[tokio::test]
async fn logging_out_closes_that_sessions_sockets_and_no_other() {
    let app = TestApp::spawn().await;
    let first = app.signed_in_user("BUYER").await;
    let second = second_session(&app, &first.phone).await;
    let mut ended = connect(&app, Some(&first.access))
        .await
        .expect("socket of the first session");
    let mut kept = connect(&app, Some(&second.access))
        .await
        .expect("socket of the second session");
    assert!(answers_ping(&mut ended).await && answers_ping(&mut kept).await);

    let r = app
        .post(
            "/auth/logout",
            Some(&first.access),
            &json!({ "refreshToken": first.refresh }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);

    assert_eq!(error_code(&mut ended).await, "SESSION_REVOKED");
    assert_eq!(
        close_frame(&mut ended).await,
        policy("SESSION_REVOKED"),
        "the logged-out session's socket stays open"
    );
    assert!(
        answers_ping(&mut kept).await,
        "the other session's socket was closed too"
    );
    // The ended session's access token (still unexpired) no longer opens a socket.
    let refused = connect(&app, Some(&first.access)).await;
    assert!(
        refused.is_err(),
        "a logged-out session's access token still opens a socket"
    );
}

#[tokio::test]
async fn a_replayed_refresh_token_closes_the_sessions_sockets() {
    let app = TestApp::spawn().await;
    let s = app.signed_in_user("BUYER").await;
    let mut ws = connect(&app, Some(&s.access)).await.expect("connect");
    assert!(answers_ping(&mut ws).await);
    let rotated = app
        .post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    // The old refresh token again: reuse, the whole family is revoked.
    let replayed = app
        .post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
        .await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        replayed.body
    );
    assert_eq!(error_code(&mut ws).await, "SESSION_REVOKED");
    assert_eq!(close_frame(&mut ws).await, policy("SESSION_REVOKED"));
}

#[tokio::test]
async fn a_socket_closes_when_its_access_token_expires() {
    let app = TestApp::spawn_with(&[("JWT_ACCESS_EXPIRY", "2s")]).await;
    let s = app.signed_in_user("BUYER").await;
    let mut ws = connect(&app, Some(&s.access)).await.expect("connect");
    assert!(answers_ping(&mut ws).await);
    assert_eq!(error_code(&mut ws).await, "TOKEN_EXPIRED");
    assert_eq!(
        close_frame(&mut ws).await,
        policy("TOKEN_EXPIRED"),
        "an expired socket stays open"
    );
}

#[tokio::test]
async fn a_fresh_auth_frame_keeps_the_socket_open_past_the_first_tokens_expiry() {
    let app = TestApp::spawn_with(&[("JWT_ACCESS_EXPIRY", "3s")]).await;
    let mut s = app.signed_in_user("BUYER").await;
    let mut ws = connect(&app, Some(&s.access)).await.expect("connect");
    let opened = tokio::time::Instant::now();
    // Renew every second, as the client does before expiry, well past the first token's 3 s.
    while opened.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let r = app
            .post("/auth/refresh", None, &json!({ "refreshToken": s.refresh }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        s.access = r.data()["accessToken"].as_str().expect("access").to_owned();
        s.refresh = r.data()["refreshToken"]
            .as_str()
            .expect("refresh")
            .to_owned();
        send(
            &mut ws,
            &ClientFrame::Auth {
                token: s.access.clone(),
            },
        )
        .await;
        assert!(
            answers_ping(&mut ws).await,
            "the socket closed while being renewed"
        );
    }
    // Renewal stops: the last token's expiry ends the socket.
    assert_eq!(error_code(&mut ws).await, "TOKEN_EXPIRED");
    assert_eq!(close_frame(&mut ws).await, policy("TOKEN_EXPIRED"));
}

#[tokio::test]
async fn an_auth_frame_with_another_users_token_ends_the_socket() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in_user("BUYER").await;
    let intruder = app.signed_in_user("BUYER").await;
    let mut ws = connect(&app, Some(&owner.access)).await.expect("connect");
    send(
        &mut ws,
        &ClientFrame::Auth {
            token: intruder.access.clone(),
        },
    )
    .await;
    assert_eq!(error_code(&mut ws).await, "UNAUTHENTICATED");
    assert_eq!(close_frame(&mut ws).await, policy("UNAUTHENTICATED"));
}
