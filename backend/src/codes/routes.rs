//! `/codes`, `/codes/{id}`, `/seller/codes` handlers: thin wrappers over `service`.

use super::query::CodeQuery;
use super::{service, MaybeUser};
use crate::auth::extract::SellerUser;
use crate::http::{created, ok, ApiResult, Json, PathId, Query};
use crate::state::AppState;
use axum::extract::State;
use oddxer_shared::api::{CodeIn, CodeOptionsOut, CodeOut, CodePatch, ErrorEnvelope, Page};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(options))
        .routes(routes!(detail, update, cancel))
        .routes(routes!(seller_codes))
}

#[utoipa::path(get, path = "/codes", tag = "codes", params(CodeQuery), responses(
    (status = 200, description = "A page of codes, never with the secret `code`", body = Page<CodeOut>),
    (status = 422, description = "Invalid filter, sort, limit or cursor", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    Query(q): Query<CodeQuery>,
) -> ApiResult<Page<CodeOut>> {
    Ok(ok(service::list(&state, &q).await?))
}

#[utoipa::path(post, path = "/codes", tag = "codes", request_body = CodeIn, security(("bearer" = [])), responses(
    (status = 201, description = "Listed; the answer shows the secret code to its seller", body = CodeOut),
    (status = 401, body = ErrorEnvelope), (status = 403, description = "Not a seller", body = ErrorEnvelope),
    (status = 422, description = "Invalid fields, with details per field", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn create(
    State(state): State<AppState>,
    SellerUser(user): SellerUser,
    Json(input): Json<CodeIn>,
) -> ApiResult<CodeOut> {
    Ok(created(service::create(&state, &user, &input).await?))
}

#[utoipa::path(get, path = "/codes/options", tag = "codes", responses(
    (status = 200, description = "Sports, bookmakers and bounds a code may be listed with", body = CodeOptionsOut)))]
#[tracing::instrument(skip_all)]
async fn options(State(state): State<AppState>) -> ApiResult<CodeOptionsOut> {
    Ok(ok(service::options(&state)))
}

#[utoipa::path(get, path = "/codes/{id}", tag = "codes", params(("id" = String, Path)), security((), ("bearer" = [])), responses(
    (status = 200, description = "The code; `code` only for its seller, its buyers and admins (a bearer token is optional; a bad one reads as signed out)", body = CodeOut),
    (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(id = %id))]
async fn detail(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    PathId(id): PathId,
) -> ApiResult<CodeOut> {
    Ok(ok(service::detail(&state, viewer.as_ref(), id).await?))
}

#[utoipa::path(patch, path = "/codes/{id}", tag = "codes", params(("id" = String, Path)), request_body = CodePatch,
    security(("bearer" = [])), responses(
    (status = 200, body = CodeOut), (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
    (status = 403, description = "Not a seller, or not this code's seller", body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
    (status = 409, description = "No longer ACTIVE, already sold (HAS_SALES), or changed meanwhile (CODE_CHANGED)", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id, id = %id))]
async fn update(
    State(state): State<AppState>,
    SellerUser(user): SellerUser,
    PathId(id): PathId,
    Json(patch): Json<CodePatch>,
) -> ApiResult<CodeOut> {
    Ok(ok(service::update(&state, &user, id, &patch).await?))
}

#[utoipa::path(delete, path = "/codes/{id}", tag = "codes", params(("id" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "Cancelled (status CANCELLED)", body = CodeOut), (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope),
    (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
    (status = 409, description = "No longer ACTIVE, or already sold", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id, id = %id))]
async fn cancel(
    State(state): State<AppState>,
    SellerUser(user): SellerUser,
    PathId(id): PathId,
) -> ApiResult<CodeOut> {
    Ok(ok(service::cancel(&state, &user, id).await?).message("Code cancelled"))
}

#[utoipa::path(get, path = "/seller/codes", tag = "codes", params(CodeQuery), security(("bearer" = [])), responses(
    (status = 200, description = "My listings in every status (all unless `status` is given), newest first, with their codes", body = Page<CodeOut>),
    (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn seller_codes(
    State(state): State<AppState>,
    SellerUser(user): SellerUser,
    Query(q): Query<CodeQuery>,
) -> ApiResult<Page<CodeOut>> {
    Ok(ok(service::seller_list(&state, &user, &q).await?))
}
