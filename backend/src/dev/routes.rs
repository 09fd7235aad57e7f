//! Development-only routes (never mounted when `APP_ENV=production`): the SMS outbox and the
//! sandbox payment provider's controls.

use crate::clock;
use crate::error::AppError;
use crate::http::{ok, ApiResult, Path, Query};
use crate::payments::sandbox::SandboxProvider;
use crate::state::AppState;
use crate::wallet::service::confirm_deposit_tx;
use crate::wallet::withdrawals::confirm_withdrawal;
use axum::extract::State;
use oddxer_shared::api::{ErrorEnvelope, SmsOut, TransactionOut};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sms))
        .routes(routes!(complete))
        .routes(routes!(fail))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SmsQuery {
    phone_number: String,
}

#[utoipa::path(get, path = "/dev/sms", tag = "development",
    params(("phoneNumber" = String, Query, description = "Phone number, normalized like sign-in numbers")),
    responses((status = 200, description = "Messages sent to the number, newest first (development only)", body = Vec<SmsOut>),
        (status = 422, description = "VALIDATION_ERROR: phoneNumber missing or not a phone number", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn sms(State(state): State<AppState>, Query(q): Query<SmsQuery>) -> ApiResult<Vec<SmsOut>> {
    // Messages are stored under the normalized number; accept it however it is written, and
    // refuse what is no phone number (422 naming it) rather than look it up.
    let phone = crate::phone::PhoneNumber::parse_field(
        &q.phone_number,
        state.config.default_region,
        "phoneNumber",
    )?
    .into_string();
    let items = crate::auth::sms::outbox(&state.db, &phone, 50)
        .await?
        .into_iter()
        .map(|m| SmsOut {
            phone_number: m.phone_number,
            body: m.body,
            created_at: clock::rfc3339(m.created_at),
        })
        .collect();
    Ok(ok(items))
}

#[tracing::instrument(skip(state))]
async fn settle(state: &AppState, reference: &str, succeeded: bool) -> ApiResult<TransactionOut> {
    // References are UUIDs (`wallet::service`); anything else names no payment (and never
    // reaches the database, which cannot hold every string: NUL).
    if uuid::Uuid::parse_str(reference).is_err() {
        return Err(AppError::NotFound("payment"));
    }
    // The provider's side (counted apart: it stands in for the provider's own systems).
    if !crate::db::uncounted(SandboxProvider::settle(&state.db, reference, succeeded)).await? {
        return Err(AppError::NotFound("payment"));
    }
    // The same path a provider callback takes: a hint that triggers a status check.
    let tx = crate::wallet::store::find_by_reference(&state.db, reference)
        .await?
        .ok_or(AppError::NotFound("payment"))?;
    let out = if tx.kind == oddxer_shared::TransactionType::Withdrawal {
        confirm_withdrawal(state, reference)
            .await?
            .ok_or(AppError::NotFound("payment"))?
    } else {
        confirm_deposit_tx(state, tx).await?
    };
    Ok(ok(out))
}

#[utoipa::path(post, path = "/dev/payments/{reference}/complete", tag = "development",
    params(("reference" = String, Path, description = "The payment's reference (a UUID)")), responses((status = 200, body = TransactionOut), (status = 404, description = "No such payment", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn complete(
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> ApiResult<TransactionOut> {
    settle(&state, &reference, true).await
}

#[utoipa::path(post, path = "/dev/payments/{reference}/fail", tag = "development",
    params(("reference" = String, Path, description = "The payment's reference (a UUID)")), responses((status = 200, body = TransactionOut), (status = 404, description = "No such payment", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn fail(
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> ApiResult<TransactionOut> {
    settle(&state, &reference, false).await
}
