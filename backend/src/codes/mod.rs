//! Betting codes: listing, browsing, editing, the status machine and the stored resolution (issue 4).
//! Deciding a code and what follows (settlement, leaderboard) live above, in `crate::resolution`.

pub mod cache;
pub mod query;
pub mod resolutions;
pub mod routes;
pub mod rules;
pub mod sales;
pub mod service;
pub mod store;

pub use store::Code;

use crate::auth::extract::{authenticate, bearer};
use crate::auth::store::User;
use crate::error::AppError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The caller when a valid bearer token came with the request; anonymous otherwise (a public route
/// answers a bad or expired token as it answers no token).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(&parts.headers) else {
            return Ok(MaybeUser(None));
        };
        match authenticate(state, token).await {
            Ok(user) => Ok(MaybeUser(Some(user))),
            Err(AppError::Database(e)) => Err(AppError::Database(e)),
            Err(_) => Ok(MaybeUser(None)),
        }
    }
}
