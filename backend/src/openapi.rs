//! The OpenAPI 3 document, generated from the route annotations: each module's router registers a
//! handler and its documentation together (`utoipa_axum::routes!`), so the two cannot drift.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Oddxer API", description = "Marketplace for betting codes. Every response uses the envelope `{success, data | error}`; the schemas below describe `data`."),
    modifiers(&BearerAuth),
    tags((name = "auth"), (name = "admin"), (name = "wallet"), (name = "purchases"), (name = "realtime"), (name = "ops"), (name = "development"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}
