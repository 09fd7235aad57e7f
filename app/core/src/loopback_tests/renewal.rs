//! The socket's life against the fake backend: the client renews its access token on the open
//! socket before it expires (the server closes it with TOKEN_EXPIRED otherwise), and stops for good
//! when the server ends the session.

use super::*;
use crate::secrets::SecretStore;
use crate::testutil::{fake_jwt, unix_now};

/// A client holding a refresh token, as after a sign-in.
async fn signed_in_client(api_url: String, dir: &TempDir) -> OddxerClient {
    let secrets = Arc::new(MemorySecretStore::new());
    secrets.save("refresh-1").unwrap();
    OddxerClient::open(ClientConfig {
        api_url,
        data_dir: dir.path().to_owned(),
        secrets,
    })
    .await
    .unwrap()
}

fn tokens(access: &str, refresh: &str) -> serde_json::Value {
    serde_json::json!({"success": true, "data": {
        "accessToken": access, "refreshToken": refresh, "user": user("u1")}})
}

#[tokio::test]
async fn the_client_renews_its_token_on_the_open_socket_before_it_expires() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-renewal");
    let client = signed_in_client(backend.url(), &dir).await;
    let now = unix_now();
    // A token with 3 s to live: renewed a second before expiry.
    client
        .start_with_access_token(&fake_jwt(now, now + 3), &user("u1"))
        .unwrap();
    let mut conn = backend.next_connection().await;
    assert_eq!(conn.receive().await, sync_from(0, 0));
    conn.send(wallet_batch(&[], 0, 0)).await;
    conn.send(purchases_batch(vec![], 0)).await;
    wait_for_connection(&client, ConnectionState::Online).await;

    let fresh = fake_jwt(now, now + 900);
    backend.answer_next(200, tokens(&fresh, "refresh-2"));
    let refresh = backend.next_request().await;
    assert_eq!(
        (refresh.method.as_str(), refresh.path.as_str()),
        ("POST", "/api/v1/auth/refresh")
    );
    assert!(refresh.body.contains("refresh-1"), "{}", refresh.body);
    // On the same socket, no reconnect.
    assert_eq!(conn.receive().await, ClientFrame::Auth { token: fresh });
    assert_eq!(
        client.snapshot().unwrap().connection,
        ConnectionState::Online
    );
    client.shutdown().await;
    assert!(conn.closed_by_client().await);
}

#[tokio::test]
async fn an_expired_socket_is_reopened_with_a_refreshed_token() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-expired");
    let client = signed_in_client(backend.url(), &dir).await;
    client
        .start_with_access_token("access-1", &user("u1"))
        .unwrap();
    let mut conn = backend.next_connection().await;
    conn.receive().await;
    backend.answer_next(200, tokens("access-2", "refresh-2"));
    conn.send(ServerFrame::Error {
        code: "TOKEN_EXPIRED".into(),
        message: "expired".into(),
    })
    .await;
    let refresh = backend.next_request().await;
    assert_eq!(refresh.path, "/api/v1/auth/refresh");
    let again = backend.next_connection().await;
    assert_eq!(again.authorization.as_deref(), Some("Bearer access-2"));
    client.shutdown().await;
}

#[tokio::test]
async fn a_revoked_session_signs_the_client_out_without_reconnecting() {
    let mut backend = FakeBackend::start().await;
    let dir = TempDir::new("loopback-revoked");
    let client = signed_in_client(backend.url(), &dir).await;
    client
        .start_with_access_token("access-1", &user("u1"))
        .unwrap();
    let mut conn = backend.next_connection().await;
    conn.receive().await;
    conn.send(ServerFrame::Error {
        code: "SESSION_REVOKED".into(),
        message: "This session has ended; sign in again".into(),
    })
    .await;
    wait_for_connection(&client, ConnectionState::Idle).await;
    assert!(conn.closed_by_client().await);
    let reconnect = tokio::time::timeout(Duration::from_secs(2), backend.conns.recv()).await;
    assert!(
        reconnect.is_err(),
        "the client reconnected after its session was revoked"
    );
    client.shutdown().await;
}
