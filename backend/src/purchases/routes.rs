//! `POST /codes/{id}/purchase`, `GET /purchases`, `GET /seller/sales`.

use super::{sales, service};
use crate::auth::extract::{AuthUser, MoneyCaller, SellerUser};
use crate::error::Result;
use crate::http::{ok, ApiResult, PageQuery, PathId, Query};
use crate::idempotency::{self, IdempotencyKey};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use oddxer_shared::api::{ErrorEnvelope, Page, PurchaseOut, PurchaseResultOut, SalesSummaryOut};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(purchase))
        .routes(routes!(my_purchases))
        .routes(routes!(seller_sales))
}

#[utoipa::path(post, path = "/codes/{id}/purchase", tag = "purchases", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "Required; up to 255 visible ASCII characters")),
    responses((status = 200, description = "Bought: the price is in escrow and the code is revealed", body = PurchaseResultOut),
        (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 402, description = "Balance too low", body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Own code, sold out, expired, already bought, or changed by its seller while buying (CODE_CHANGED)", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id, code = %code))]
async fn purchase(
    State(state): State<AppState>,
    MoneyCaller(user): MoneyCaller,
    headers: HeaderMap,
    PathId(code): PathId,
) -> Result<Response> {
    let key = IdempotencyKey::from_headers(&headers, user.id)?;
    let body = serde_json::json!({ "code": code.to_hex() });
    idempotency::run_then(
        &state.db,
        &key,
        "POST /codes/{id}/purchase",
        &body,
        StatusCode::OK,
        service::purchase_code(&state, &user, &key, code),
    )
    .await
}

#[utoipa::path(get, path = "/purchases", tag = "purchases", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "My paid purchases with their codes revealed, newest first", body = Page<PurchaseOut>),
        (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn my_purchases(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Page<PurchaseOut>> {
    Ok(ok(service::purchases_of(
        &state,
        user.id,
        q.cursor.as_deref(),
        q.limit()?,
    )
    .await?))
}

#[utoipa::path(get, path = "/seller/sales", tag = "purchases", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "My sales: held in escrow, paid out, fees", body = SalesSummaryOut),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %seller.id))]
async fn seller_sales(
    State(state): State<AppState>,
    SellerUser(seller): SellerUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<SalesSummaryOut> {
    Ok(ok(sales::summary(&state, seller.id, &q).await?))
}
