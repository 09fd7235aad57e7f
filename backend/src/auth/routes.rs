//! `/auth/*` handlers: thin wrappers over `service`.

use super::extract::{AuthUser, IpLimited};
use super::service;
use super::web_session::SessionTransport;
use crate::error::AppError;
use crate::http::{created, ok, ApiResult, Json};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use oddxer_shared::api::{
    AuthTokensOut, ErrorEnvelope, LoginIn, OtpSentOut, RegisterIn, UserOut, VerifyOtpIn,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(verify_otp))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(become_seller))
}

#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterIn, responses(
    (status = 201, description = "Account created, OTP sent", body = OtpSentOut),
    (status = 409, description = "Phone number or username taken", body = ErrorEnvelope),
    (status = 422, description = "Invalid phone, username or role", body = ErrorEnvelope),
    (status = 429, description = "Rate limited", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn register(
    State(state): State<AppState>,
    _: IpLimited,
    Json(input): Json<RegisterIn>,
) -> ApiResult<OtpSentOut> {
    Ok(created(service::register(&state, input).await?).message("Verification code sent"))
}

#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginIn, responses(
    (status = 200, description = "OTP sent if the number is registered (same answer either way)", body = OtpSentOut),
    (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    _: IpLimited,
    Json(input): Json<LoginIn>,
) -> ApiResult<OtpSentOut> {
    Ok(ok(service::login(&state, &input.phone_number).await?)
        .message("If this number is registered, a code was sent"))
}

/// The body of `/auth/refresh` and `/auth/logout`: the refresh token, or nothing when it travels in
/// the `oddxer_refresh` cookie (the web app, `auth::web_session`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshBodyIn {
    /// The refresh token; omit it when it is in the `oddxer_refresh` cookie.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// A sign-in or refresh answered with the cookie transport: the refresh token is in the
/// `oddxer_refresh` cookie, never in the body.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
// `additionalProperties: false` in the document: a body with `refreshToken` is `AuthTokensOut`, never
// both (`SessionOut` is a `oneOf`).
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebSessionOut {
    pub access_token: String,
    pub user: UserOut,
}

/// The answer of a sign-in or refresh: with the token in the body (desktop, mobile), or with the
/// token in the cookie (`X-Session-Transport: cookie`, the web app).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum SessionOut {
    Tokens(AuthTokensOut),
    Cookie(WebSessionOut),
}

/// Builds the 200 answer of a sign-in or refresh in the transport the request asked for (or the
/// cookie's, when the token came from it: a token read from the cookie never lands in a body).
fn session_reply(
    state: &AppState,
    transport: &SessionTransport,
    cookie_mode: bool,
    tokens: AuthTokensOut,
) -> Response {
    if !cookie_mode {
        return ok(SessionOut::Tokens(tokens)).into_response();
    }
    let set_cookie = transport.set_cookie(state, &tokens.refresh_token);
    let mut response = ok(SessionOut::Cookie(WebSessionOut {
        access_token: tokens.access_token,
        user: tokens.user,
    }))
    .into_response();
    match set_cookie {
        Some(value) => {
            response.headers_mut().insert(SET_COOKIE, value);
            response
        }
        None => AppError::internal("the session cookie could not be built").into_response(),
    }
}

#[utoipa::path(post, path = "/auth/verify-otp", tag = "auth", request_body = VerifyOtpIn,
    params(("X-Session-Transport" = Option<String>, Header, description = "`cookie`: the refresh token is set as the HttpOnly `oddxer_refresh` cookie (path `/api/v1/auth`, SameSite=Strict) and left out of the body (the web app)")),
    responses(
    (status = 200, description = "Signed in; with `X-Session-Transport: cookie` the body has no `refreshToken` and `Set-Cookie` carries it", body = SessionOut,
        headers(("Set-Cookie" = String, description = "`oddxer_refresh=<token>; HttpOnly; SameSite=Strict; Path=/api/v1/auth; Max-Age=<s>` (cookie transport only)"))),
    (status = 401, description = "Wrong, expired or exhausted code", body = ErrorEnvelope),
    (status = 403, description = "Account deactivated", body = ErrorEnvelope),
    (status = 422, description = "Invalid phone number or code, or an `X-Session-Transport` other than `cookie`", body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn verify_otp(
    State(state): State<AppState>,
    _: IpLimited,
    transport: SessionTransport,
    Json(input): Json<VerifyOtpIn>,
) -> Result<Response, AppError> {
    let tokens = service::verify_otp(&state, &input.phone_number, &input.otp).await?;
    Ok(session_reply(
        &state,
        &transport,
        transport.cookie_requested,
        tokens,
    ))
}

#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshBodyIn,
    params(
        ("X-Session-Transport" = Option<String>, Header, description = "`cookie`: answer with the new refresh token in the `oddxer_refresh` cookie, not in the body"),
        ("oddxer_refresh" = Option<String>, Cookie, description = "The refresh token of the web app, read when the body has no `refreshToken`")),
    responses(
    (status = 200, description = "New token pair; the presented token is dead. In the cookie transport (asked for, or the token came from the cookie) the new refresh token is only in `Set-Cookie`", body = SessionOut,
        headers(("Set-Cookie" = String, description = "The new `oddxer_refresh` cookie (cookie transport only)"))),
    (status = 401, description = "Unknown, expired, revoked or reused token, or none at all (no `refreshToken` in the body and no `oddxer_refresh` cookie), or a cookie this server did not set", body = ErrorEnvelope),
    (status = 403, description = "Account deactivated", body = ErrorEnvelope),
    (status = 422, description = "An `X-Session-Transport` other than `cookie`, or a body of the wrong shape", body = ErrorEnvelope),
    (status = 429, description = "Rate limited (per IP)", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn refresh(
    State(state): State<AppState>,
    _: IpLimited,
    transport: SessionTransport,
    Json(input): Json<RefreshBodyIn>,
) -> Result<Response, AppError> {
    let (raw, from_cookie) = presented_token(&transport, input)?;
    let cookie_mode = transport.cookie_requested || from_cookie;
    match service::refresh(&state, &raw).await {
        Ok(tokens) => Ok(session_reply(&state, &transport, cookie_mode, tokens)),
        // A dead cookie is of no further use: the browser drops it.
        Err(e) if cookie_mode && matches!(e, AppError::Unauthenticated(_)) => {
            let mut response = e.into_response();
            if let Some(clear) = transport.clear_cookie(&state) {
                response.headers_mut().insert(SET_COOKIE, clear);
            }
            Ok(response)
        }
        Err(e) => Err(e),
    }
}

/// The refresh token a request presents: the body's, else the cookie's (and whether it came from
/// the cookie). None at all is 401: the caller has no session to go on with (a body of `{}` is a
/// well-formed request, so not a 422), and the message names both places a token may be. A cookie
/// this server could not have set is refused (401) even beside a body token: nothing that comes
/// with a forged credential is acted on.
fn presented_token(
    transport: &SessionTransport,
    input: RefreshBodyIn,
) -> Result<(String, bool), AppError> {
    if transport.bad_cookie {
        return Err(bad_cookie());
    }
    match (input.refresh_token, &transport.cookie) {
        (Some(token), _) => Ok((token, false)),
        (None, Some(cookie)) => Ok((cookie.clone(), true)),
        (None, None) => Err(AppError::Unauthenticated(
            "No refresh token: neither refreshToken in the body nor the oddxer_refresh cookie; sign in again",
        )),
    }
}

fn bad_cookie() -> AppError {
    AppError::Unauthenticated("The oddxer_refresh cookie is not one this server set; sign in again")
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshBodyIn, security(("bearer" = [])),
    params(
        ("X-Session-Transport" = Option<String>, Header, description = "`cookie`: a web session; the `oddxer_refresh` cookie is cleared"),
        ("oddxer_refresh" = Option<String>, Cookie, description = "The refresh token of the web app, read when the body has no `refreshToken`")),
    responses(
    (status = 200, description = "Session ended (with no token in the body or cookie there is nothing to revoke, and the answer is the same); in the cookie transport `Set-Cookie` clears `oddxer_refresh` (Max-Age=0)",
        headers(("Set-Cookie" = String, description = "`oddxer_refresh=; Max-Age=0; ...` (cookie transport only)"))),
    (status = 401, description = "Bad bearer token, or an `oddxer_refresh` cookie this server did not set", body = ErrorEnvelope),
    (status = 422, description = "An `X-Session-Transport` other than `cookie`, or a body of the wrong shape", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn logout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    transport: SessionTransport,
    Json(input): Json<RefreshBodyIn>,
) -> Result<Response, AppError> {
    let cookie_mode =
        transport.cookie_requested || (input.refresh_token.is_none() && transport.cookie.is_some());
    if transport.bad_cookie {
        return Err(bad_cookie());
    }
    match presented_token(&transport, input) {
        Ok((raw, _)) => service::logout(&state, &user.to_out(), &raw).await?,
        // No token anywhere (a web session whose cookie is already gone): nothing left to revoke.
        Err(AppError::Unauthenticated(_)) => {}
        Err(e) => return Err(e),
    }
    let mut response = ok(()).message("Signed out").into_response();
    if cookie_mode {
        if let Some(clear) = transport.clear_cookie(&state) {
            response.headers_mut().insert(SET_COOKIE, clear);
        }
    }
    Ok(response)
}

#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = UserOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn me(AuthUser(user): AuthUser) -> ApiResult<UserOut> {
    Ok(ok(user.to_out()))
}

#[utoipa::path(post, path = "/auth/become-seller", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = UserOut), (status = 401, body = ErrorEnvelope), (status = 409, description = "Already a seller", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn become_seller(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<UserOut> {
    Ok(ok(service::become_seller(&state, &user).await?))
}
