//! `ResultVerifier`: where a bookmaker's results API plugs in to settle a code without waiting for
//! votes. The sandbox verifier ships for development: results are set through
//! `POST /dev/codes/{id}/result` and read back from `sandbox_results`.

use super::store::Code;
use super::{service, worker};
use crate::clock;
use crate::db::Db;
use crate::http::{ok, ApiResult, Json, PathId};
use crate::state::AppState;
use axum::extract::State;
use futures_util::future::BoxFuture;
use mongodb::bson::doc;
use oddxer_shared::api::{ErrorEnvelope, ResolutionOut, ResolveIn};
use oddxer_shared::Outcome;
use utoipa_axum::{router::OpenApiRouter, routes};

pub const SANDBOX_RESULTS: &str = "sandbox_results";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Known(Outcome),
    /// Not settled at the bookmaker yet (or unknown to it): voting decides.
    Unknown,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    #[error("verifier unreachable: {0}")]
    Upstream(String),
    #[error("database: {0}")]
    Db(#[from] mongodb::error::Error),
}

pub trait ResultVerifier: Send + Sync {
    fn name(&self) -> &'static str;
    /// The outcome of the code's bet slip at its bookmaker, if known.
    fn verify<'a>(&'a self, code: &'a Code) -> BoxFuture<'a, Result<Verdict, VerifierError>>;
}

/// Development: the outcome an operator set with `POST /dev/codes/{id}/result`.
pub struct SandboxVerifier {
    pub db: Db,
}

impl ResultVerifier for SandboxVerifier {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn verify<'a>(&'a self, code: &'a Code) -> BoxFuture<'a, Result<Verdict, VerifierError>> {
        Box::pin(async move {
            let found = self.db.col(SANDBOX_RESULTS).find_one(doc! { "_id": code.id }).await?;
            Ok(found.and_then(|d| d.get_str("outcome").ok().and_then(Outcome::parse)).map_or(Verdict::Unknown, Verdict::Known))
        })
    }
}

/// Production until a bookmaker adapter exists: results come from votes and admins.
pub struct NoVerifier;

impl ResultVerifier for NoVerifier {
    fn name(&self) -> &'static str {
        "none"
    }

    fn verify<'a>(&'a self, _code: &'a Code) -> BoxFuture<'a, Result<Verdict, VerifierError>> {
        Box::pin(async { Ok(Verdict::Unknown) })
    }
}

/// The verifier of this deployment: the sandbox wherever development routes are served.
pub fn for_state(state: &AppState) -> Box<dyn ResultVerifier> {
    if state.config.dev_routes_enabled() {
        Box::new(SandboxVerifier { db: state.db.clone() })
    } else {
        Box::new(NoVerifier)
    }
}

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
        (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
async fn set_result(State(state): State<AppState>, PathId(id): PathId, Json(input): Json<ResolveIn>) -> ApiResult<SandboxResultOut> {
    let code = service::load(&state, id).await?;
    state
        .db
        .col(SANDBOX_RESULTS)
        .replace_one(doc! { "_id": code.id }, doc! { "_id": code.id, "outcome": input.outcome.as_str(), "createdAt": clock::now() })
        .upsert(true)
        .await?;
    let now = clock::now();
    let resolution = if code.listing.expires_at <= now {
        let verifier = SandboxVerifier { db: state.db.clone() };
        worker::settle_one(&state, &verifier, &code, now).await?;
        super::finalize::find_resolution(&state.db, code.id).await?.map(|r| r.to_out())
    } else {
        None
    };
    Ok(ok(SandboxResultOut { code_id: code.id.to_hex(), outcome: input.outcome, resolution }))
}
