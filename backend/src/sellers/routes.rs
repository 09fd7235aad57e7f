//! `/sellers/{id}`, `/sellers/{id}/codes`, `/sellers/{id}/performance`, `/sellers/{id}/follow`,
//! `/me/following`: thin wrappers over `service`.

use super::service::{self, Period};
use crate::auth::extract::AuthUser;
use crate::codes::MaybeUser;
use crate::http::{ok, ApiResult, PageQuery, PathId, Query};
use crate::state::AppState;
use axum::extract::State;
use oddxer_shared::api::{
    CodeOut, ErrorEnvelope, FollowOut, FollowedSellerOut, Page, PerformancePointOut,
    SellerProfileOut,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(profile))
        .routes(routes!(record))
        .routes(routes!(performance))
        .routes(routes!(follow, unfollow))
        .routes(routes!(my_following))
}

#[utoipa::path(get, path = "/sellers/{id}", tag = "sellers", params(("id" = String, Path)), responses(
    (status = 200, description = "The tipster's public profile; `following` for a signed-in caller", body = SellerProfileOut),
    (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope),
    (status = 404, description = "No seller with this id", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(id = %id))]
async fn profile(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    PathId(id): PathId,
) -> ApiResult<SellerProfileOut> {
    Ok(ok(service::profile(&state, id, viewer.as_ref()).await?))
}

#[utoipa::path(get, path = "/sellers/{id}/codes", tag = "sellers", params(("id" = String, Path), ("limit" = Option<i64>, Query, minimum = 1, maximum = 100), ("cursor" = Option<String>, Query)), responses(
    (status = 200, description = "The record newest first: finalized codes with their booking code, live ones without", body = Page<CodeOut>),
    (status = 400, description = "INVALID_ID", body = ErrorEnvelope),
    (status = 404, description = "No seller with this id", body = ErrorEnvelope),
    (status = 422, description = "Invalid limit or cursor", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(id = %id))]
async fn record(
    State(state): State<AppState>,
    PathId(id): PathId,
    Query(q): Query<PageQuery>,
) -> ApiResult<Page<CodeOut>> {
    let limit = q.limit()?;
    Ok(ok(
        service::record(&state, id, limit, q.cursor.as_deref()).await?
    ))
}

/// `?period=all|30d|7d` (default all).
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct PerformanceQuery {
    period: Option<Period>,
}

#[utoipa::path(get, path = "/sellers/{id}/performance", tag = "sellers", params(("id" = String, Path), PerformanceQuery), responses(
    (status = 200, description = "One point per finalized code of the period, in finalization order", body = Vec<PerformancePointOut>),
    (status = 400, description = "INVALID_ID", body = ErrorEnvelope),
    (status = 404, description = "No seller with this id", body = ErrorEnvelope),
    (status = 422, description = "Invalid period", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(id = %id))]
async fn performance(
    State(state): State<AppState>,
    PathId(id): PathId,
    Query(q): Query<PerformanceQuery>,
) -> ApiResult<Vec<PerformancePointOut>> {
    Ok(ok(service::performance(
        &state,
        id,
        q.period.unwrap_or_default(),
    )
    .await?))
}

#[utoipa::path(put, path = "/sellers/{id}/follow", tag = "sellers", params(("id" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "Following (idempotent)", body = FollowOut),
    (status = 400, description = "INVALID_ID", body = ErrorEnvelope),
    (status = 401, body = ErrorEnvelope),
    (status = 404, description = "No seller with this id", body = ErrorEnvelope),
    (status = 409, description = "CANNOT_FOLLOW_YOURSELF", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id, id = %id))]
async fn follow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<FollowOut> {
    Ok(ok(service::set_following(&state, &user, id, true).await?))
}

#[utoipa::path(delete, path = "/sellers/{id}/follow", tag = "sellers", params(("id" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "Not following (idempotent)", body = FollowOut),
    (status = 400, description = "INVALID_ID", body = ErrorEnvelope),
    (status = 401, body = ErrorEnvelope),
    (status = 404, description = "No seller with this id", body = ErrorEnvelope),
    (status = 409, description = "CANNOT_FOLLOW_YOURSELF", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id, id = %id))]
async fn unfollow(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
) -> ApiResult<FollowOut> {
    Ok(ok(service::set_following(&state, &user, id, false).await?))
}

#[utoipa::path(get, path = "/me/following", tag = "sellers", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query, description = "1 to 100, default 20"), ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page")),
    responses(
    (status = 200, description = "Sellers I follow, most recently followed first, a page at a time", body = Page<FollowedSellerOut>),
    (status = 401, body = ErrorEnvelope), (status = 422, description = "limit out of range or a cursor this server did not issue", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id))]
async fn my_following(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Page<FollowedSellerOut>> {
    Ok(ok(service::following(
        &state,
        user.id,
        q.cursor.as_deref(),
        q.limit()?,
    )
    .await?))
}
