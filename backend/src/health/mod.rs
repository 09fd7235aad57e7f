//! `GET /health`: liveness plus a database ping.

use crate::error::AppError;
use crate::http::{ok, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use oddxer_shared::api::HealthOut;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> ApiResult<HealthOut> {
    state.db.ping().await.map_err(AppError::Database)?;
    Ok(ok(HealthOut { status: "ok".into(), database: "ok".into(), version: env!("CARGO_PKG_VERSION").into() }))
}
