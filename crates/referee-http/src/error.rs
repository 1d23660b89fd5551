//! How failures become HTTP responses.
//!
//! Error policy, in one place:
//! - a field that fails validation is a 400 with `{"field": ["message", …]}`;
//! - an action refused by the object's state is a 400 with `{"error": "…", "code": "…"}`;
//! - 401, 403, 404, 405 and 409 carry `{"detail": "…"}`;
//! - a database that cannot be reached is a 503, and the server keeps running and reconnects;
//! - anything else is a 500 whose body says nothing of the cause; the cause is logged once,
//!   inside the request's span, which carries the request id.
//!
//! Every message names the offending value and what to do about it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use referee_domain::{DomainError, FieldErrors};
use referee_store::StoreError;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// Body of 401, 403, 404, 405, 409, 413, 500 and 503 responses.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailBody {
    /// What went wrong and what to do about it.
    pub detail: String,
}

/// Body of a 400 response to an action that the object's current state does not allow.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateErrorBody {
    /// What went wrong and what to do about it.
    pub error: String,
    /// A machine-readable code for the refusal.
    pub code: String,
}

/// Body of a 400 response to invalid input: messages per field, or under `non_field_errors`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": ["This field is required."]}))]
pub struct ValidationErrorBody(pub std::collections::BTreeMap<String, Vec<String>>);

/// Body of any 400 response: messages per field for invalid input, an error with a code when
/// the object's state refuses the action, or a detail when the body is not JSON at all.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BadRequestBody {
    Fields(ValidationErrorBody),
    State(StateErrorBody),
    Detail(DetailBody),
}

/// An error response.
#[derive(Debug)]
pub enum ApiError {
    Domain(DomainError),
    Unauthenticated(String),
    Unavailable(String),
    Internal(String),
    PayloadTooLarge(String),
    UnsupportedMediaType(String),
    /// A 400 with `{"detail": …}`, for bodies that are not JSON at all.
    BadRequest(String),
    /// A 404 with a specific message, such as a page past the last one.
    NotFoundDetail(String),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Domain(DomainError::field(field, message))
    }

    pub fn not_found() -> Self {
        Self::Domain(DomainError::not_found("object"))
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        Self::Domain(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Domain(error) => Self::Domain(error),
            StoreError::Unavailable(cause) => Self::Unavailable(cause),
            StoreError::Database(diesel::result::Error::DatabaseError(kind, info)) => match kind {
                // A racing request won: the check before the write passed, the constraint did not.
                diesel::result::DatabaseErrorKind::UniqueViolation => Self::Domain(DomainError::Conflict(
                    "Another request created the same record at the same time. Retry the request.".into(),
                )),
                diesel::result::DatabaseErrorKind::ForeignKeyViolation => Self::Domain(DomainError::Conflict(
                    "The record is still referenced by other records, or refers to one that no longer exists. \
                     Reload it and retry."
                        .into(),
                )),
                _ => Self::Internal(format!("{kind:?}: {}", info.message())),
            },
            StoreError::Database(error) => Self::Internal(error.to_string()),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::Domain(DomainError::Validation(errors))
    }
}

fn detail(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(DetailBody {
            detail: message.into(),
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Domain(DomainError::NotFound { .. }) => {
                detail(StatusCode::NOT_FOUND, "Not found.")
            }
            Self::Domain(DomainError::PermissionDenied(message)) => {
                detail(StatusCode::FORBIDDEN, message)
            }
            Self::Domain(DomainError::Conflict(message)) => detail(StatusCode::CONFLICT, message),
            Self::Domain(DomainError::InvalidState { code, message }) => (
                StatusCode::BAD_REQUEST,
                Json(StateErrorBody {
                    error: message,
                    code: code.to_owned(),
                }),
            )
                .into_response(),
            Self::Domain(DomainError::Validation(errors)) => {
                let body: Map<String, Value> = errors
                    .0
                    .into_iter()
                    .map(|(field, messages)| (field, json!(messages)))
                    .collect();
                (StatusCode::BAD_REQUEST, Json(Value::Object(body))).into_response()
            }
            Self::Unauthenticated(message) => {
                let mut response = detail(StatusCode::UNAUTHORIZED, message);
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
                response
            }
            Self::Unavailable(cause) => {
                tracing::error!(error = %cause, "database unavailable");
                detail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is unavailable. Retry the request shortly.",
                )
            }
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "request failed with an internal error");
                detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error.")
            }
            Self::PayloadTooLarge(message) => detail(StatusCode::PAYLOAD_TOO_LARGE, message),
            Self::UnsupportedMediaType(message) => {
                detail(StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
            }
            Self::BadRequest(message) => detail(StatusCode::BAD_REQUEST, message),
            Self::NotFoundDetail(message) => detail(StatusCode::NOT_FOUND, message),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
