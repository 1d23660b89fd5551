//! One module per resource. Each exposes `routes()`; this module merges them and declares
//! the document's info and security scheme.

use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod affinity;
pub mod audit;
pub mod batches;
pub mod calls;
pub mod common;
pub mod configurations;
pub mod conflicts;
pub mod customers;
pub mod detection;
pub mod import;
pub mod items;
pub mod pool;
pub mod profiles;
pub mod proposals;
pub mod reviews;
pub mod roles;
pub mod suggestions;
pub mod users;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "referee",
        version = "0.1.0",
        description = "Reviewer assignment for calls for proposals: reviewer pools, assignment batches \
and items, conflicts of interest and reviews, behind a Waldur-compatible REST API.\n\n\
Authenticate with `Authorization: Token <key>`. Lists are paginated with `page` and `page_size` \
(default 10, maximum 300), report the total in `X-Result-Count` and link pages in `Link`; \
`HEAD` on a list returns the count alone. Order with `o` (comma-separated, `-` for descending). \
UUIDs are sent as 32 lowercase hex characters and accepted with or without dashes. Date-times are \
RFC 3339 in UTC with a `+00:00` offset.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&TokenSecurity),
    security(("token" = []))
)]
pub struct ApiDoc;

/// Declares the `Authorization: Token <key>` scheme.
struct TokenSecurity;

impl Modify for TokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <key>`: the word Token, a space, and the API token.",
            ))),
        );
    }
}

/// Every API route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(users::routes())
        .merge(customers::routes())
        .merge(calls::routes())
        .merge(proposals::routes())
        .merge(profiles::routes())
        .merge(pool::routes())
        .merge(items::routes())
        .merge(batches::routes())
        .merge(conflicts::routes())
        .merge(reviews::routes())
        .merge(configurations::routes())
        .merge(audit::routes())
        .merge(affinity::routes())
        .merge(detection::routes())
        .merge(suggestions::routes())
        .merge(import::routes())
}
