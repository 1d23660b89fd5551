//! The error every operation returns when it refuses a request.

use std::collections::BTreeMap;

/// Messages per request field, rendered as `{"field": ["message", …]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `message` to the messages of `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Returns `Ok(())` when no field has a message, else the errors as a validation failure.
    pub fn into_result(self) -> Result<(), DomainError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self))
        }
    }
}

/// Why an operation was refused. Each variant has one HTTP status in `referee-http`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The object does not exist or lies outside the actor's visibility (404).
    #[error("{resource} not found")]
    NotFound { resource: &'static str },

    /// The object is visible but the actor may not perform the operation (403).
    #[error("permission denied: {0}")]
    PermissionDenied(String),

    /// One or more request fields are invalid (400 with field messages).
    #[error("invalid request: {0:?}")]
    Validation(FieldErrors),

    /// The object's current state does not allow the operation (400 with a code).
    #[error("{message}")]
    InvalidState { code: &'static str, message: String },

    /// The request conflicts with existing data, such as a duplicate unique value (409).
    #[error("conflict: {0}")]
    Conflict(String),
}

impl DomainError {
    /// Builds a validation error with one message on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        Self::Validation(errors)
    }

    pub fn not_found(resource: &'static str) -> Self {
        Self::NotFound { resource }
    }

    pub fn invalid_state(code: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidState {
            code,
            message: message.into(),
        }
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::PermissionDenied(message.into())
    }
}
