//! Administration: users, and (with the marketplace) code resolutions and reconciliation.

pub mod payments;
pub mod recent;
pub mod reconcile;
pub mod resolutions;
pub mod store;
pub mod users;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::router())
        .merge(payments::router())
        .merge(reconcile::router())
        .merge(resolutions::router())
}
