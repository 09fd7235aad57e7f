//! `/auth/*` handlers: thin wrappers over `service`.

use super::extract::{AuthUser, IpLimited};
use super::service;
use crate::http::{created, ok, ApiResult, Json};
use crate::state::AppState;
use axum::extract::State;
use oddxer_shared::api::{AuthTokensOut, ErrorEnvelope, LoginIn, OtpSentOut, RefreshIn, RegisterIn, UserOut, VerifyOtpIn};
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
async fn register(State(state): State<AppState>, _: IpLimited, Json(input): Json<RegisterIn>) -> ApiResult<OtpSentOut> {
    Ok(created(service::register(&state, input).await?).message("Verification code sent"))
}

#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginIn, responses(
    (status = 200, description = "OTP sent if the number is registered (same answer either way)", body = OtpSentOut),
    (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn login(State(state): State<AppState>, _: IpLimited, Json(input): Json<LoginIn>) -> ApiResult<OtpSentOut> {
    Ok(ok(service::login(&state, &input.phone_number).await?).message("If this number is registered, a code was sent"))
}

#[utoipa::path(post, path = "/auth/verify-otp", tag = "auth", request_body = VerifyOtpIn, responses(
    (status = 200, description = "Signed in", body = AuthTokensOut),
    (status = 401, description = "Wrong, expired or exhausted code", body = ErrorEnvelope),
    (status = 403, description = "Account deactivated", body = ErrorEnvelope),
    (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn verify_otp(State(state): State<AppState>, _: IpLimited, Json(input): Json<VerifyOtpIn>) -> ApiResult<AuthTokensOut> {
    Ok(ok(service::verify_otp(&state, &input.phone_number, &input.otp).await?))
}

#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshIn, responses(
    (status = 200, description = "New token pair; the presented token is dead", body = AuthTokensOut),
    (status = 401, description = "Unknown, expired, revoked or reused token", body = ErrorEnvelope),
    (status = 403, description = "Account deactivated", body = ErrorEnvelope), (status = 429, description = "Rate limited (per IP)", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn refresh(State(state): State<AppState>, _: IpLimited, Json(input): Json<RefreshIn>) -> ApiResult<AuthTokensOut> {
    Ok(ok(service::refresh(&state, &input.refresh_token).await?))
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshIn, security(("bearer" = [])), responses(
    (status = 200, description = "Session ended"), (status = 401, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn logout(State(state): State<AppState>, AuthUser(user): AuthUser, Json(input): Json<RefreshIn>) -> ApiResult<()> {
    service::logout(&state, &user.to_out(), &input.refresh_token).await?;
    Ok(ok(()).message("Signed out"))
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
async fn become_seller(State(state): State<AppState>, AuthUser(user): AuthUser) -> ApiResult<UserOut> {
    Ok(ok(service::become_seller(&state, &user).await?))
}
