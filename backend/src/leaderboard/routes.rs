//! `GET /leaderboard`, `GET /leaderboard/{sellerId}`.

use super::service::{self, LeaderboardQuery};
use crate::http::{ok, ApiResult, PathId, Query};
use crate::state::AppState;
use axum::extract::State;
use oddxer_shared::api::{ErrorEnvelope, LeaderboardEntryOut, Page};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one))
}

#[utoipa::path(get, path = "/leaderboard", tag = "leaderboard", params(LeaderboardQuery), responses(
    (status = 200, description = "Sellers in the requested order; `rank` only for ranked sellers", body = Page<LeaderboardEntryOut>),
    (status = 422, description = "Invalid sort, limit or cursor", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    Query(q): Query<LeaderboardQuery>,
) -> ApiResult<Page<LeaderboardEntryOut>> {
    Ok(ok(service::page(&state, &q).await?))
}

#[utoipa::path(get, path = "/leaderboard/{sellerId}", tag = "leaderboard", params(("sellerId" = String, Path)), responses(
    (status = 200, description = "One seller's stats (zeros before their first finalized code)", body = LeaderboardEntryOut),
    (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 404, description = "No such user", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(seller_id = %seller_id))]
async fn one(
    State(state): State<AppState>,
    PathId(seller_id): PathId,
) -> ApiResult<LeaderboardEntryOut> {
    Ok(ok(service::one(&state, seller_id).await?))
}
