//! `POST /dev/codes/{id}/result`: sets the sandbox verifier's answer for a code and, when the code
//! already kicked off, settles it at once (development routes only, never mounted in production).

use super::verifier::{SandboxVerifier, SANDBOX_RESULTS};
use super::worker;
use crate::clock;
use crate::codes::resolutions::find_resolution;
use crate::codes::service;
use crate::http::{ok, ApiResult, Json, PathId};
use crate::state::AppState;
use axum::extract::State;
use mongodb::bson::doc;
use oddxer_shared::api::{ErrorEnvelope, ResolutionOut, ResolveIn};
use oddxer_shared::Outcome;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Development routes of the sandbox verifier (never mounted in production).
pub fn dev_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_result))
}

/// Answer of `POST /dev/codes/{id}/result`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxResultOut {
    pub code_id: String,
    pub outcome: Outcome,
    /// The resolution, when the code's games already started and the verifier settled it at once.
    pub resolution: Option<ResolutionOut>,
}

#[utoipa::path(post, path = "/dev/codes/{id}/result", tag = "development", params(("id" = String, Path)), request_body = ResolveIn,
    responses((status = 200, description = "Result stored for the sandbox verifier; applied now if the code expired", body = SandboxResultOut),
        (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 422, description = "A reason that is blank, longer than 500 characters or holds control characters", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(id = %id))]
async fn set_result(
    State(state): State<AppState>,
    PathId(id): PathId,
    Json(input): Json<ResolveIn>,
) -> ApiResult<SandboxResultOut> {
    // The same reason rule as an admin's decision: the body is the same `ResolveIn`.
    crate::codes::resolutions::check_reason(input.reason.as_deref())?;
    let code = service::load(&state, id).await?;
    state
        .db
        .col(SANDBOX_RESULTS)
        .replace_one(
            doc! { "_id": code.id },
            doc! { "_id": code.id, "outcome": input.outcome.as_str(), "createdAt": clock::now() },
        )
        .upsert(true)
        .await?;
    let now = clock::now();
    let resolution = if code.listing.expires_at <= now {
        let verifier = SandboxVerifier {
            db: state.db.clone(),
        };
        worker::settle_one(&state, &verifier, &code, now).await?;
        find_resolution(&state.db, code.id)
            .await?
            .map(|r| r.to_out())
    } else {
        None
    };
    Ok(ok(SandboxResultOut {
        code_id: code.id.to_hex(),
        outcome: input.outcome,
        resolution,
    }))
}
