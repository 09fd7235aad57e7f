//! `GET /health`: liveness plus a database ping.

use crate::error::AppError;
use crate::http::{ok, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use oddxer_shared::api::{ErrorEnvelope, HealthOut};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

#[utoipa::path(get, path = "/health", tag = "ops", responses(
    (status = 200, description = "Up, database answering", body = HealthOut),
    (status = 503, description = "Database unavailable", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn health(State(state): State<AppState>) -> ApiResult<HealthOut> {
    state.db.ping().await.map_err(AppError::Database)?;
    Ok(ok(HealthOut {
        status: "ok".into(),
        database: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
