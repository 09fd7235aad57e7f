//! `POST /admin/codes/{id}/resolve` and the review queue: codes whose voting ended in a tie or with
//! no votes wait here (AWAITING_RESULT with `needsReview: true`) for an admin's decision.

use crate::auth::extract::AdminUser;
use crate::clock;
use crate::codes::query::{cursor_of, decode_cursor, encode_cursor, CodeSort};
use crate::codes::{service, store};
use crate::error::{AppError, Result};
use crate::http::{ok, ApiResult, Json, PageQuery, PathId, Query};
use crate::resolution::finalize::{self, DecidedBy, Resolved};
use crate::state::AppState;
use axum::extract::State;
use mongodb::bson::doc;
use oddxer_shared::api::{CodeOut, ErrorEnvelope, Page, ResolutionOut, ResolveIn};
use oddxer_shared::{CodeStatus, Outcome};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resolve))
        .routes(routes!(review_queue))
}

pub use crate::codes::resolutions::check_reason;

/// The admin's decision, through the same insert as every other finalization: if a vote, the
/// worker or another admin decided first, their decision stands (same outcome: 200; another: 409).
pub async fn resolve_code(
    state: &AppState,
    admin: &AdminUser,
    id: mongodb::bson::oid::ObjectId,
    outcome: Outcome,
    reason: Option<&str>,
) -> Result<ResolutionOut> {
    let reason = check_reason(reason)?;
    let code = service::load(state, id).await?;
    if code.status == CodeStatus::Cancelled || store::is_cancelled(&state.db, id).await? {
        return Err(AppError::conflict(
            "CODE_CANCELLED",
            "This code was cancelled by its seller",
        ));
    }
    if outcome != Outcome::Void && clock::now() < code.listing.expires_at {
        return Err(AppError::conflict(
            "TOO_EARLY",
            "WON or LOST can be decided only once the code's games have started; VOID any time",
        ));
    }
    match finalize::resolve(state, &code, outcome, DecidedBy::Admin, Some(admin.0.id)).await? {
        Resolved::Decided(res) => {
            // Only the admin whose insert decided writes the reason: a label on the decision, not
            // a decision itself, so no race can put another admin's reason on it.
            if let Some(reason) = reason {
                crate::codes::resolutions::set_reason(&state.db, id, &reason).await?;
                return Ok(crate::codes::resolutions::Resolution {
                    reason: Some(reason),
                    ..res
                }
                .to_out());
            }
            Ok(res.to_out())
        }
        Resolved::AlreadyDecided(res) if res.outcome == outcome => Ok(res.to_out()),
        Resolved::AlreadyDecided(res) => Err(AppError::conflict(
            "ALREADY_RESOLVED",
            format!(
                "This code was already resolved {} ({})",
                res.outcome.as_str(),
                res.decided_by
            ),
        )),
    }
}

#[utoipa::path(post, path = "/admin/codes/{id}/resolve", tag = "admin", params(("id" = String, Path)), request_body = ResolveIn,
    security(("bearer" = [])), responses(
    (status = 200, description = "Resolved (or already resolved the same way)", body = ResolutionOut),
    (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
    (status = 409, description = "ALREADY_RESOLVED with another outcome, CODE_CANCELLED, or TOO_EARLY for WON/LOST before expiresAt", body = ErrorEnvelope),
    (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(id = %id))]
async fn resolve(
    State(state): State<AppState>,
    admin: AdminUser,
    PathId(id): PathId,
    Json(input): Json<ResolveIn>,
) -> ApiResult<ResolutionOut> {
    Ok(ok(resolve_code(
        &state,
        &admin,
        id,
        input.outcome,
        input.reason.as_deref(),
    )
    .await?))
}

#[utoipa::path(get, path = "/admin/codes/review", tag = "admin", security(("bearer" = [])),
    params(("limit" = Option<i64>, Query, description = "1 to 100, default 20"), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "Codes waiting for an admin decision, oldest first, with their codes", body = Page<CodeOut>),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn review_queue(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<PageQuery>,
) -> ApiResult<Page<CodeOut>> {
    let limit = q.limit()?;
    let sort = CodeSort::ExpiresAt;
    let after = q
        .cursor
        .as_deref()
        .map(|raw| decode_cursor(sort, raw))
        .transpose()?
        .map(|c| (mongodb::bson::DateTime::from_millis(c.key), c.id));
    let mut codes = store::review_queue(&state.db, after, limit + 1).await?;
    let next_cursor = if codes.len() as i64 > limit {
        codes.truncate(limit as usize);
        codes
            .last()
            .map(|c| encode_cursor(sort, cursor_of(sort, c)))
    } else {
        None
    };
    let now = clock::now();
    Ok(ok(Page {
        items: codes
            .iter()
            .map(|c| service::view(&state, c, now, true))
            .collect(),
        next_cursor,
    }))
}
