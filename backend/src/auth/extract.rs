//! Authentication and role checks as extractors: a handler that takes `AuthUser` cannot run
//! for an anonymous, expired, forged or deactivated caller.

use super::store::{self, User};
use crate::error::AppError;
use crate::ratelimit::Bucket;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use mongodb::bson::oid::ObjectId;
use oddxer_shared::Role;

/// A signed-in, active user. The user is re-read from the database at most `USER_CACHE_TTL` (1 s)
/// after the last read on this process (`auth::cache`): a deactivation or role change made here takes
/// effect at once, one made by another process within a second.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Resolves an access token to an active user (also used by the WebSocket's `auth` frame).
pub async fn authenticate(state: &AppState, token: &str) -> Result<User, AppError> {
    let claims = state
        .jwt
        .verify(token)
        .ok_or(AppError::Unauthenticated("Invalid or expired access token"))?;
    if claims
        .sid
        .as_deref()
        .is_some_and(|session| state.sessions.is_revoked(session))
    {
        return Err(AppError::Unauthenticated(
            "This session was signed out; sign in again",
        ));
    }
    let id = ObjectId::parse_str(&claims.sub)
        .map_err(|_| AppError::Unauthenticated("Invalid access token"))?;
    active_user(state, id)
        .await?
        .ok_or(AppError::Unauthenticated("Unknown user"))
}

/// The user with this id, from the in-process cache when read less than `USER_CACHE_TTL` ago,
/// else from the database (and cached); `None` if there is no such user, 403 if deactivated.
pub async fn active_user(state: &AppState, id: ObjectId) -> Result<Option<User>, AppError> {
    let user = match state.users.get(id) {
        Some(user) => user,
        None => {
            let read_at = std::time::Instant::now();
            match store::find_by_id(&state.db, id).await? {
                Some(user) => {
                    state.users.put_read_at(&user, read_at);
                    user
                }
                None => return Ok(None),
            }
        }
    };
    if !user.is_active {
        return Err(AppError::Forbidden("This account is deactivated"));
    }
    Ok(Some(user))
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token =
            bearer(&parts.headers).ok_or(AppError::Unauthenticated("Missing bearer token"))?;
        authenticate(state, token).await.map(AuthUser)
    }
}

/// The signed-in user when `allowed` admits their role; 403 with `refusal` otherwise.
async fn with_role(
    parts: &mut Parts,
    state: &AppState,
    allowed: &[Role],
    refusal: &'static str,
) -> Result<User, AppError> {
    let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
    if allowed.contains(&user.role) {
        Ok(user)
    } else {
        Err(AppError::Forbidden(refusal))
    }
}

/// A user whose role is SELLER (or ADMIN, who may do anything a seller may).
#[derive(Debug, Clone)]
pub struct SellerUser(pub User);

impl FromRequestParts<AppState> for SellerUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let refusal = "Only sellers can do this; become a seller first";
        with_role(parts, state, &[Role::Seller, Role::Admin], refusal)
            .await
            .map(SellerUser)
    }
}

/// A user whose role is ADMIN.
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        with_role(parts, state, &[Role::Admin], "Administrators only")
            .await
            .map(AdminUser)
    }
}

/// Counts the request against the per-IP auth limit before the handler runs; the client IP is the
/// TCP peer, or what a trusted proxy forwarded (`crate::client_ip`).
pub struct IpLimited;

impl FromRequestParts<AppState> for IpLimited {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let ip = match peer {
            Some(peer) => {
                let forwarded = parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok());
                state
                    .config
                    .trusted_proxies
                    .client_ip(peer, forwarded)
                    .to_string()
            }
            // Served without a socket (in-process tests): one shared bucket.
            None => "unknown".into(),
        };
        state.limits.check(Bucket::AuthIp, &ip).await?;
        Ok(IpLimited)
    }
}

/// A signed-in user calling a money route, counted against the per-user money limit.
pub struct MoneyCaller(pub User);

impl FromRequestParts<AppState> for MoneyCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        state
            .limits
            .check(Bucket::MoneyUser, &user.id.to_hex())
            .await?;
        Ok(MoneyCaller(user))
    }
}
