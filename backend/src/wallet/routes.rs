//! `/wallet/*` handlers.

use super::service;
use crate::auth::extract::{AuthUser, MoneyCaller};
use crate::error::Result;
use crate::http::{ok, ApiResult, Json, PageQuery, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use oddxer_shared::api::{
    ErrorEnvelope, LedgerEntryOut, Page, PaymentIn, PaymentOut, TransactionOut, WalletOut,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wallet))
        .routes(routes!(transactions))
        .routes(routes!(payments))
        .routes(routes!(deposit))
        .routes(routes!(withdraw))
}

/// The payer's number in E.164 (422 naming `phoneNumber` if invalid), before the idempotency record
/// compares bodies: `0700 123 456` and `+256700123456` are one request, and the provider gets E.164.
fn normalize_phone(state: &AppState, input: &mut PaymentIn) -> Result<()> {
    input.phone_number = crate::phone::PhoneNumber::parse_field(
        &input.phone_number,
        state.config.default_region,
        "phoneNumber",
    )?
    .into_string();
    Ok(())
}

#[utoipa::path(get, path = "/wallet", tag = "wallet", security(("bearer" = [])), responses(
    (status = 200, description = "Balance, held amount and stream position", body = WalletOut), (status = 401, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn wallet(State(state): State<AppState>, AuthUser(user): AuthUser) -> ApiResult<WalletOut> {
    Ok(ok(service::wallet(&state, user.id).await?))
}

#[utoipa::path(get, path = "/wallet/transactions", tag = "wallet", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query, description = "1 to 100, default 20"), ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, description = "Ledger entries of my wallet, newest first", body = Page<LedgerEntryOut>),
        (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn transactions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Page<LedgerEntryOut>> {
    let (items, next_cursor) =
        service::history(&state, user.id, q.seq_cursor()?, q.limit()?).await?;
    Ok(ok(Page { items, next_cursor }))
}

#[utoipa::path(get, path = "/wallet/payments", tag = "wallet", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query, description = "1 to 100, default 20"), ("cursor" = Option<String>, Query, description = "nextCursor of the previous page")),
    responses((status = 200, description = "My deposits and withdrawals, newest first, with their status and failure reason", body = Page<PaymentOut>),
        (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn payments(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Page<PaymentOut>> {
    let (items, next_cursor) =
        service::payments(&state, user.id, q.cursor.as_deref(), q.limit()?).await?;
    Ok(ok(Page { items, next_cursor }))
}

#[utoipa::path(post, path = "/wallet/deposits", tag = "wallet", request_body = PaymentIn, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required; up to 255 visible ASCII characters")),
    responses((status = 202, description = "Deposit requested; credited when the provider confirms", body = TransactionOut),
        (status = 401, body = ErrorEnvelope), (status = 422, description = "Invalid body, missing key, or key reused with another body", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn deposit(
    State(state): State<AppState>,
    MoneyCaller(user): MoneyCaller,
    headers: HeaderMap,
    Json(mut input): Json<PaymentIn>,
) -> Result<Response> {
    normalize_phone(&state, &mut input)?;
    let key = IdempotencyKey::from_headers(&headers, user.id)?;
    idempotency::run(
        &state.db,
        &key,
        "POST /wallet/deposits",
        &input,
        StatusCode::ACCEPTED,
        service::request_deposit(&state, &user, &key, &input),
    )
    .await
}

#[utoipa::path(post, path = "/wallet/withdrawals", tag = "wallet", request_body = PaymentIn, security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "Required; up to 255 visible ASCII characters")),
    responses((status = 202, description = "Debited now into a hold; paid out when the provider confirms, returned if it fails", body = TransactionOut),
        (status = 401, body = ErrorEnvelope), (status = 402, description = "Balance too low", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn withdraw(
    State(state): State<AppState>,
    MoneyCaller(user): MoneyCaller,
    headers: HeaderMap,
    Json(mut input): Json<PaymentIn>,
) -> Result<Response> {
    normalize_phone(&state, &mut input)?;
    let key = IdempotencyKey::from_headers(&headers, user.id)?;
    let work = super::withdrawals::request_withdrawal(&state, &user, &key, &input);
    idempotency::run(
        &state.db,
        &key,
        "POST /wallet/withdrawals",
        &input,
        StatusCode::ACCEPTED,
        work,
    )
    .await
}
