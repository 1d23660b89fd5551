//! The HTTP API of referee.
//!
//! [`router`] builds the complete axum router (API, OpenAPI document, Swagger UI, health
//! checks) for a server or for embedding in another program; [`openapi`] builds the
//! document alone, without a database. Every API route is registered through
//! `utoipa_axum::routes!`, so a handler without an OpenAPI description does not compile.

pub mod api;
pub mod error;
pub mod extract;
pub mod health;
pub mod links;
pub mod middleware;
pub mod state;
pub mod wire;

use axum::Router;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, HttpSettings};

/// Limits applied to every request.
#[derive(Debug, Clone)]
pub struct RouterLimits {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Time after which a request is answered with 408 (`None`: no limit).
    pub request_timeout: Option<std::time::Duration>,
    /// Origins whose browsers may call the API (CORS), for example `https://waldur.example.org`;
    /// `*` allows any origin; empty sends no CORS headers.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for RouterLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout: Some(std::time::Duration::from_secs(60)),
            cors_allowed_origins: Vec::new(),
        }
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(api::ApiDoc::openapi()).merge(api::routes())
}

/// Builds the OpenAPI document from the routes, without state or database.
pub fn openapi() -> OpenApi {
    let (_, mut document) = api_router().split_for_parts();
    document_shared_errors(&mut document);
    document
}

/// Adds the error responses that the shared extractors give every operation of a kind, so
/// that no handler repeats them. Every GET and HEAD gets a 404 (a `page` past the last one
/// or not a positive number), and every HEAD count a 400 (an invalid filter).
fn document_shared_errors(document: &mut OpenApi) {
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr};

    let detail = ResponseBuilder::new()
        .description("Not found, or a page number past the last page")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("DetailBody")))
                .build(),
        )
        .build();
    let bad_request = ResponseBuilder::new()
        .description("Invalid filter")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("BadRequestBody")))
                .build(),
        )
        .build();
    for item in document.paths.paths.values_mut() {
        for operation in [item.get.as_mut(), item.head.as_mut()]
            .into_iter()
            .flatten()
        {
            operation
                .responses
                .responses
                .entry("404".to_owned())
                .or_insert_with(|| RefOr::T(detail.clone()));
        }
        if let Some(head) = item.head.as_mut() {
            head.responses
                .responses
                .entry("400".to_owned())
                .or_insert_with(|| RefOr::T(bad_request.clone()));
        }
    }
}

/// Builds the complete router: the API, `/api/schema/`, Swagger UI at `/api/docs/`, and
/// `/health/live` and `/health/ready`.
pub fn router(state: AppState, limits: &RouterLimits) -> Router {
    let (api, mut document) = api_router().split_for_parts();
    document_shared_errors(&mut document);

    // The document is serialized once and shared. While the handler owned the document, valgrind
    // massif showed a clone of about 10 MB per request in flight on every route, because axum
    // clones route services while it routes a request.
    let schema_json = axum::body::Bytes::from(
        serde_json::to_vec(&document).expect("the OpenAPI document serializes to JSON"),
    );
    let service = api
        .merge(SwaggerUi::new("/api/docs").url("/api/docs/openapi.json", document))
        .route(
            "/api/schema/",
            axum::routing::get(move || {
                let body = schema_json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .merge(health::routes())
        .fallback(middleware::not_found)
        .with_state(state);

    middleware::apply(service, limits)
}
