//! `/wallet/*` handlers.

use super::service;
use crate::auth::extract::AuthUser;
use crate::error::Result;
use crate::http::{ok, ApiResult, Json, PageQuery, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use oddxer_shared::api::{LedgerEntryOut, Page, PaymentIn, WalletOut};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/wallet", get(wallet))
        .route("/wallet/transactions", get(transactions))
        .route("/wallet/deposits", post(deposit))
}

async fn wallet(State(state): State<AppState>, AuthUser(user): AuthUser) -> ApiResult<WalletOut> {
    Ok(ok(service::wallet(&state, user.id).await?))
}

async fn transactions(State(state): State<AppState>, AuthUser(user): AuthUser, Query(q): Query<PageQuery>) -> ApiResult<Page<LedgerEntryOut>> {
    let (items, next_cursor) = service::history(&state, user.id, q.seq_cursor()?, q.limit()?).await?;
    Ok(ok(Page { items, next_cursor }))
}

async fn deposit(State(state): State<AppState>, AuthUser(user): AuthUser, headers: HeaderMap, Json(input): Json<PaymentIn>) -> Result<Response> {
    let key = IdempotencyKey::from_headers(&headers, user.id)?;
    idempotency::run(&state.db, &key, "POST /wallet/deposits", &input, StatusCode::ACCEPTED, service::request_deposit(&state, &user, &key, &input)).await
}
