//! `POST /payments/callbacks/{provider}`: provider callbacks, authenticated by the token in the
//! URL we registered (see `callback`). A callback is only a hint: the payment's status is asked of
//! the provider and the ledger moves money once, so replays and duplicates move nothing again.
//! Deposits are settled by `wallet::service::confirm_deposit`, payouts by
//! `wallet::withdrawals::confirm_withdrawal`.

use super::{service, store};
use crate::error::AppError;
use crate::http::{ok, ApiResult, Path, Query};
use crate::payments::callback::{self, CallbackError};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use oddxer_shared::api::ErrorEnvelope;
use oddxer_shared::{TransactionStatus, TransactionType};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(callback_post, callback_put))
}

#[derive(Deserialize)]
struct CallbackQuery {
    token: Option<String>,
}

/// What a provider gets back: the payment and how it stands after the status check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackAckOut {
    pub reference: String,
    pub status: TransactionStatus,
}

#[utoipa::path(post, path = "/payments/callbacks/{provider}", tag = "payments",
    params(("provider" = String, Path, description = "`mtn` or `airtel`"),
        ("token" = Option<String>, Query, description = "The token of the callback URL we registered with the provider")),
    request_body(content = serde_json::Value, description = "The provider's callback body: MTN's payment resource (with our `externalId`) or Airtel's `{transaction: {id, status_code, ...}}`"),
    responses((status = 200, description = "Status re-checked with the provider; credited once if it succeeded", body = CallbackAckOut),
        (status = 400, description = "Malformed callback body", body = ErrorEnvelope),
        (status = 401, description = "Missing or wrong callback token", body = ErrorEnvelope),
        (status = 404, description = "Unknown provider or payment", body = ErrorEnvelope),
        (status = 502, description = "The provider could not be asked; the recovery worker will poll", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn callback_post(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<CallbackAckOut> {
    handle(&state, &provider, q.token.as_deref(), &raw_body(body)?).await
}

/// The same callback sent with PUT (some MTN environments call the callback URL with PUT).
#[utoipa::path(put, path = "/payments/callbacks/{provider}", tag = "payments",
    params(("provider" = String, Path, description = "`mtn` or `airtel`"),
        ("token" = Option<String>, Query, description = "The token of the callback URL we registered with the provider")),
    request_body(content = serde_json::Value, description = "As for POST"),
    responses((status = 200, body = CallbackAckOut), (status = 400, body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 502, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn callback_put(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<CallbackAckOut> {
    handle(&state, &provider, q.token.as_deref(), &raw_body(body)?).await
}

/// The callback body as sent, or the envelope's 413 / 400 (axum's own rejection is plain text).
fn raw_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|r| match r.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        _ => AppError::BadRequest {
            code: "BODY_UNREADABLE",
            message: "The request body could not be read".into(),
        },
    })
}

#[tracing::instrument(skip_all, fields(provider = %provider))]
async fn handle(
    state: &AppState,
    provider: &str,
    token: Option<&str>,
    body: &[u8],
) -> ApiResult<CallbackAckOut> {
    let hint = state
        .payments
        .parse_callback(provider, body)
        .map_err(|e| match e {
            CallbackError::UnknownProvider => AppError::NotFound("payment provider"),
            CallbackError::Malformed(why) => AppError::BadRequest {
                code: "MALFORMED_CALLBACK",
                message: format!("Malformed callback: {why}"),
            },
        })?;
    let secret = &state.config.mobile_money.callback_secret;
    if !token.is_some_and(|t| callback::verify(secret, provider, &hint.token_subject, t)) {
        tracing::warn!(reference = %hint.reference, "callback refused: missing or wrong token");
        return Err(AppError::Unauthenticated(
            "The callback token is missing or wrong",
        ));
    }
    let tx = store::find_by_reference(&state.db, &hint.reference)
        .await?
        .filter(|tx| tx.payment_method == Some(hint.method))
        .ok_or(AppError::NotFound("payment"))?;
    tracing::info!(reference = %hint.reference, kind = tx.kind.as_str(), "provider callback; re-checking the status");
    let out = match tx.kind {
        TransactionType::Deposit => service::confirm_deposit_tx(state, tx).await?,
        TransactionType::Withdrawal => {
            super::withdrawals::confirm_withdrawal(state, &hint.reference)
                .await?
                .ok_or(AppError::NotFound("payment"))?
        }
        _ => return Err(AppError::NotFound("payment")),
    };
    Ok(ok(CallbackAckOut {
        reference: out.reference,
        status: out.status,
    }))
}
