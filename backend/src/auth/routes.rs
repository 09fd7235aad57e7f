//! `/auth/*` handlers: thin wrappers over `service`.

use super::extract::AuthUser;
use super::service;
use crate::http::{created, ok, ApiResult, Json};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use oddxer_shared::api::{AuthTokensOut, LoginIn, OtpSentOut, RefreshIn, RegisterIn, UserOut, VerifyOtpIn};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/verify-otp", post(verify_otp))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/become-seller", post(become_seller))
}

async fn register(State(state): State<AppState>, Json(input): Json<RegisterIn>) -> ApiResult<OtpSentOut> {
    Ok(created(service::register(&state, input).await?).message("Verification code sent"))
}

async fn login(State(state): State<AppState>, Json(input): Json<LoginIn>) -> ApiResult<OtpSentOut> {
    Ok(ok(service::login(&state, &input.phone_number).await?).message("If this number is registered, a code was sent"))
}

async fn verify_otp(State(state): State<AppState>, Json(input): Json<VerifyOtpIn>) -> ApiResult<AuthTokensOut> {
    Ok(ok(service::verify_otp(&state, &input.phone_number, &input.otp).await?))
}

async fn refresh(State(state): State<AppState>, Json(input): Json<RefreshIn>) -> ApiResult<AuthTokensOut> {
    Ok(ok(service::refresh(&state, &input.refresh_token).await?))
}

async fn logout(State(state): State<AppState>, AuthUser(user): AuthUser, Json(input): Json<RefreshIn>) -> ApiResult<()> {
    service::logout(&state, &user.to_out(), &input.refresh_token).await?;
    Ok(ok(()).message("Signed out"))
}

async fn me(AuthUser(user): AuthUser) -> ApiResult<UserOut> {
    Ok(ok(user.to_out()))
}

async fn become_seller(State(state): State<AppState>, AuthUser(user): AuthUser) -> ApiResult<UserOut> {
    Ok(ok(service::become_seller(&state, &user).await?))
}
