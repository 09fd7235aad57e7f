//! `POST /codes/{id}/votes`.

use super::voting;
use crate::auth::extract::AuthUser;
use crate::http::{created, ApiResult, Json, PathId};
use crate::state::AppState;
use axum::extract::State;
use oddxer_shared::api::{ErrorEnvelope, VoteIn, VoteOut};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(vote))
}

#[utoipa::path(post, path = "/codes/{id}/votes", tag = "votes", params(("id" = String, Path)), request_body = VoteIn,
    security(("bearer" = [])), responses(
    (status = 201, description = "Vote stored; counters recomputed; `outcome` set when this vote completed the voting", body = VoteOut),
    (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, description = "Not a buyer of this code", body = ErrorEnvelope),
    (status = 404, body = ErrorEnvelope),
    (status = 409, description = "VOTING_NOT_OPEN (before expiresAt), VOTING_CLOSED (finalized or window over), ALREADY_VOTED", body = ErrorEnvelope),
    (status = 422, description = "voteType is not WIN or LOSS", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %user.id, id = %id))]
async fn vote(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    PathId(id): PathId,
    Json(input): Json<VoteIn>,
) -> ApiResult<VoteOut> {
    Ok(created(
        voting::cast(&state, &user, id, input.vote_type).await?,
    ))
}
