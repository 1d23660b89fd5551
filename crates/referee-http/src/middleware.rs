//! Layers around every request: request ids, tracing, body size and time limits, panics,
//! and JSON bodies for the 404 and 405 responses that axum produces itself.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::RouterLimits;
use crate::error::DetailBody;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Answers routes that do not exist.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(DetailBody {
            detail: "Not found.".into(),
        }),
    )
        .into_response()
}

/// Gives the empty or plain-text 405, 408 and 413 responses of axum and tower-http a JSON body.
async fn json_error_bodies(max_body_bytes: usize, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if is_json {
        return response;
    }

    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut replaced = (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(DetailBody {
                    detail: format!("Method \"{method}\" not allowed."),
                }),
            )
                .into_response();
            if let Some(allow) = allow {
                replaced.headers_mut().insert(header::ALLOW, allow);
            }
            replaced
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(DetailBody {
                detail: format!(
                    "The request body is larger than the server accepts ({max_body_bytes} bytes; see --max-body-bytes)."
                ),
            }),
        )
            .into_response(),
        StatusCode::REQUEST_TIMEOUT => (
            StatusCode::REQUEST_TIMEOUT,
            axum::Json(DetailBody {
                detail: "The request took too long and was stopped. Retry it.".into(),
            }),
        )
            .into_response(),
        _ => response,
    }
}

/// Lets browsers on the listed origins call the API with a token.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};

    let allowed = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            HeaderName::from_static("x-result-count"),
            header::LINK,
            HeaderName::from_static("x-request-id"),
        ])
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(DetailBody {
            detail: "Internal server error.".into(),
        }),
    )
        .into_response()
}

/// Wraps the router in the layers every request passes through.
pub fn apply(router: Router, limits: &RouterLimits) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request| {
        let request_id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = %request_id,
            user.uuid = tracing::field::Empty,
        )
    });

    let max_body_bytes = limits.max_body_bytes;
    let mut router = router
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
        .layer(RequestBodyLimitLayer::new(max_body_bytes));
    if let Some(timeout) = limits.request_timeout {
        router = router.layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    }
    router = router.layer(middleware::from_fn(move |request: Request, next: Next| {
        json_error_bodies(max_body_bytes, request, next)
    }));
    if !limits.cors_allowed_origins.is_empty() {
        router = router.layer(cors(&limits.cors_allowed_origins));
    }
    router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
