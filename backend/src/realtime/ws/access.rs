//! Who a socket speaks for and until when: the access check at connect and at each renewal
//! (signature, expiry, active account, open session), and how a refusal ends the socket.

use crate::auth::extract::authenticate;
use crate::auth::store::{self, User};
use crate::error::AppError;
use crate::state::AppState;
use oddxer_shared::sync::ServerFrame;
use std::time::Duration;
use tokio::time::Instant;

/// 1008: the connection breaks a rule the client can fix (no or a dead token, account or session
/// ended): sign in again.
pub(super) const CLOSE_POLICY: u16 = 1008;
/// 1013: the server cannot serve it now (could not check the session, or the client read too
/// slowly): reconnect later.
pub(super) const CLOSE_TRY_AGAIN_LATER: u16 = 1013;

/// Who a socket speaks for, and until when.
#[derive(Debug)]
pub(super) struct Grant {
    pub(super) user: User,
    /// The session (refresh-token family) the access token was issued in; tokens minted before
    /// sessions were recorded in them carry none.
    pub(super) session: Option<String>,
    /// The access token's `exp`, in Unix seconds.
    pub(super) expires_at: i64,
}

/// Why a token does not (or no longer does) entitle a socket to stay open.
#[derive(Debug)]
pub(super) enum Refused {
    Invalid,
    Deactivated,
    Revoked,
    /// The database could not be asked: the socket ends, the client retries later.
    Unavailable(AppError),
}

impl Refused {
    pub(super) fn from_app_error(e: AppError) -> Refused {
        match e {
            AppError::Unauthenticated(_) => Refused::Invalid,
            AppError::Forbidden(_) => Refused::Deactivated,
            other => Refused::Unavailable(other),
        }
    }

    pub(super) fn into_app_error(self) -> AppError {
        match self {
            Refused::Invalid => AppError::Unauthenticated("Invalid or expired access token"),
            Refused::Deactivated => AppError::Forbidden("This account is deactivated"),
            Refused::Revoked => AppError::Unauthenticated("This session has ended; sign in again"),
            Refused::Unavailable(e) => e,
        }
    }

    /// The close code and reason that follow the `error` frame.
    pub(super) fn close(&self) -> (u16, &'static str) {
        match self {
            Refused::Invalid => (CLOSE_POLICY, "UNAUTHENTICATED"),
            Refused::Deactivated => (CLOSE_POLICY, "ACCOUNT_DEACTIVATED"),
            Refused::Revoked => (CLOSE_POLICY, "SESSION_REVOKED"),
            Refused::Unavailable(_) => (CLOSE_TRY_AGAIN_LATER, "SERVICE_UNAVAILABLE"),
        }
    }

    /// The `error` frame sent before the socket closes.
    pub(super) fn frame(&self) -> ServerFrame {
        let (code, message) = match self {
            Refused::Invalid => ("UNAUTHENTICATED", "Invalid or expired access token"),
            Refused::Deactivated => ("ACCOUNT_DEACTIVATED", "This account is deactivated"),
            Refused::Revoked => ("SESSION_REVOKED", "This session has ended; sign in again"),
            Refused::Unavailable(_) => (
                "SERVICE_UNAVAILABLE",
                "The server could not check the session; reconnect later",
            ),
        };
        ServerFrame::Error {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Checks an access token the way every route does (signature, expiry, active user) plus what a
/// long-lived socket needs: its session still open, and its expiry.
pub(super) async fn grant(state: &AppState, token: &str) -> Result<Grant, Refused> {
    let claims = state.jwt.verify(token).ok_or(Refused::Invalid)?;
    // A socket lives long: its account is read fresh, not from the per-request user cache (a
    // deactivation on another instance must not let a socket in during the cache's second).
    if let Ok(id) = mongodb::bson::oid::ObjectId::parse_str(&claims.sub) {
        state.users.forget(id);
    }
    let user = authenticate(state, token)
        .await
        .map_err(Refused::from_app_error)?;
    if let Some(session) = &claims.sid {
        // One read per connect or renewal: a client whose session ended must not come back on
        // the access token it still holds.
        let revoked = store::family_revoked(&state.db, session).await;
        if revoked.map_err(|e| Refused::Unavailable(e.into()))? {
            return Err(Refused::Revoked);
        }
    }
    Ok(Grant {
        user,
        session: claims.sid,
        expires_at: claims.exp,
    })
}

pub(super) fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The instant a token with `exp` (Unix seconds) stops being valid, on the tokio clock (to the
/// millisecond: a 2-second token must not live a third second).
pub(super) fn deadline(exp: i64) -> Instant {
    let left_ms = exp
        .saturating_mul(1000)
        .saturating_sub(unix_now_ms())
        .max(0);
    Instant::now() + Duration::from_millis(left_ms as u64)
}
