//! The session: resuming it at start, signing in with an OTP, signing out and becoming a seller.

use oddxer_shared::api::{UserOut, VerifyOtpIn};
use oddxer_shared::client::ConnectionState;

use super::wallet::refresh_wallet_in_background;
use super::R;
use crate::web::error::{Result, WebError};
use crate::web::http::Call;
use crate::web::session::{self, WebTokens, TRANSPORT_HEADER};
use crate::web::{
    adopt_user, cached_user, changed, ensure_loaded, log_info, set_connection, sync, with,
};

/// At start: the refresh cookie turned into a session, and syncing. When the server cannot be
/// reached, the cached user (offline) and a sync loop that keeps trying.
pub async fn resume() -> R<Option<UserOut>> {
    ensure_loaded().await;
    match session::refresh(None).await {
        Ok(_) => {
            set_connection(ConnectionState::Connecting, None);
            sync::start();
            refresh_wallet_in_background();
            Ok(cached_user())
        }
        Err(WebError::Unauthenticated) => Ok(None),
        Err(e) if e.is_unreachable() => match cached_user() {
            Some(user) => {
                set_connection(
                    ConnectionState::Offline,
                    Some("The server cannot be reached.".into()),
                );
                sync::start();
                Ok(Some(user))
            }
            None => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Exchanges the OTP for a session; the refresh token goes into the backend's HttpOnly cookie.
pub async fn verify_otp(input: &VerifyOtpIn) -> R<UserOut> {
    let body = VerifyOtpIn {
        phone_number: input.phone_number.clone(),
        otp: input.otp.trim().to_owned(),
    };
    let tokens: WebTokens = Call::post("/auth/verify-otp")
        .header(TRANSPORT_HEADER, "cookie")
        .json(&body)
        .fetch()
        .await?;
    let user = tokens.user.ok_or(WebError::Api {
        status: 200,
        code: "PROTOCOL".into(),
        message: "The server did not say who signed in.".into(),
        fields: Default::default(),
    })?;
    session::set_access(tokens.access_token);
    adopt_user(&user);
    set_connection(ConnectionState::Connecting, None);
    sync::start();
    refresh_wallet_in_background();
    Ok(user)
}

/// Ends the session here and, when reachable, on the server (the cookie is revoked and
/// cleared there). The user's data on this device is wiped.
pub async fn sign_out() -> R<()> {
    sync::stop();
    if session::access().is_some() {
        let r: Result<serde_json::Value> = Call::post("/auth/logout")
            .json(&serde_json::json!({}))
            .signed_in()
            .fetch()
            .await;
        if let Err(e) = r {
            // Best effort: offline, the cookie's token simply expires on the server.
            log_info(&format!("server-side logout skipped: {e}"));
        }
    }
    session::clear();
    with(|s| {
        s.doc = Default::default();
        s.sync_progress = None;
    });
    set_connection(ConnectionState::Idle, None);
    changed();
    Ok(())
}

/// `POST /auth/become-seller`; the cached user follows.
pub async fn become_seller() -> R<UserOut> {
    let user: UserOut = Call::post("/auth/become-seller")
        .signed_in()
        .fetch()
        .await?;
    adopt_user(&user);
    Ok(user)
}
