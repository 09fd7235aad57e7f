//! `ResultVerifier`: where a bookmaker's results API plugs in to settle a code without waiting for
//! votes. The sandbox verifier ships for development: results are set through
//! `POST /dev/codes/{id}/result` ([`super::sandbox`]) and read back from `sandbox_results`.

use crate::codes::store::Code;
use crate::db::Db;
use crate::state::AppState;
use futures_util::future::BoxFuture;
use mongodb::bson::doc;
use oddxer_shared::Outcome;

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
            let found = self
                .db
                .col(SANDBOX_RESULTS)
                .find_one(doc! { "_id": code.id })
                .await?;
            Ok(found
                .and_then(|d| d.get_str("outcome").ok().and_then(Outcome::parse))
                .map_or(Verdict::Unknown, Verdict::Known))
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
        Box::new(SandboxVerifier {
            db: state.db.clone(),
        })
    } else {
        Box::new(NoVerifier)
    }
}
