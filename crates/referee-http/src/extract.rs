//! Request extractors shared by every endpoint: the authenticated actor, list parameters
//! (filters, ordering, paging) and JSON bodies with field-level errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use referee_domain::enums::WireEnum;
use referee_domain::{Actor, FieldErrors};
use referee_store::users::TokenRejection;
use referee_store::{PageRequest, SortKey};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::{invalid_time_message, invalid_uuid_message, parse_time, parse_uuid};

/// Name of the query parameter that may carry the token instead of the header.
pub const TOKEN_QUERY_PARAMETER: &str = "x-auth-token";

/// Default rows per page.
pub const DEFAULT_PAGE_SIZE: i64 = 10;
/// Largest accepted `page_size`; larger values are clamped to it.
pub const MAX_PAGE_SIZE: i64 = 300;

/// The authenticated user of a request. Rejects with 401 when credentials are missing or wrong.
#[derive(Debug, Clone)]
pub struct Auth(pub Actor);

/// Extracts the token from `Authorization: Token <key>` or the `x-auth-token` query parameter.
fn token_from(parts: &Parts) -> Result<Option<String>, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let text = value.to_str().map_err(|_| {
            ApiError::Unauthenticated(
                "Invalid token header. The header contains invalid characters.".into(),
            )
        })?;
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            [keyword, token] if keyword.eq_ignore_ascii_case("token") => {
                return Ok(Some((*token).to_owned()));
            }
            [keyword] if keyword.eq_ignore_ascii_case("token") => {
                return Err(ApiError::Unauthenticated(
                    "Invalid token header. No credentials provided. Send \"Authorization: Token <key>\".".into(),
                ));
            }
            [keyword, ..] if keyword.eq_ignore_ascii_case("token") => {
                return Err(ApiError::Unauthenticated(
                    "Invalid token header. Token string should not contain spaces.".into(),
                ));
            }
            // Other schemes (Basic, Bearer) are not ours; fall through to the query parameter.
            _ => {}
        }
    }

    let from_query = parts.uri.query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == TOKEN_QUERY_PARAMETER)
            .map(|(_, value)| value.into_owned())
    });
    Ok(from_query)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(Auth(actor)) = parts.extensions.get::<Auth>() {
            return Ok(Auth(actor.clone()));
        }

        let Some(token) = token_from(parts)? else {
            return Err(ApiError::Unauthenticated(
                "Authentication credentials were not provided. Send \"Authorization: Token <key>\".".into(),
            ));
        };

        let outcome = state
            .run(move |connection| referee_store::users::authenticate(connection, &token))
            .await?;
        match outcome {
            Ok(actor) => {
                tracing::Span::current().record(
                    "user.uuid",
                    tracing::field::display(actor.user_uuid.simple()),
                );
                parts.extensions.insert(Auth(actor.clone()));
                Ok(Auth(actor))
            }
            Err(TokenRejection::Unknown) => Err(ApiError::Unauthenticated("Invalid token.".into())),
            Err(TokenRejection::Inactive) => Err(ApiError::Unauthenticated(
                "User inactive or deleted.".into(),
            )),
        }
    }
}

/// Query parameters of a request, with repeated keys kept in order.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = parts
            .uri
            .query()
            .map(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self(pairs))
    }
}

impl Params {
    /// The last value given for `key`, as Django's `QueryDict.get` does.
    pub fn single(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// Every value given for `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// A UUID filter; an empty value counts as not given, an invalid one is a 400 on `key`.
    pub fn uuid(&self, key: &str, errors: &mut FieldErrors) -> Option<Uuid> {
        let value = self.single(key).filter(|value| !value.is_empty())?;
        match parse_uuid(value) {
            Some(uuid) => Some(uuid),
            None => {
                errors.add(key, invalid_uuid_message(value));
                None
            }
        }
    }

    /// A boolean filter: `true`/`false`/`1`/`0` in any case; anything else counts as not given.
    pub fn boolean(&self, key: &str) -> Option<bool> {
        match self.single(key)?.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// A free-text filter; an empty value counts as not given.
    pub fn text(&self, key: &str) -> Option<String> {
        self.single(key)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    }

    /// A number filter; a value that is not a number is a 400 on `key`.
    pub fn number(&self, key: &str, errors: &mut FieldErrors) -> Option<f64> {
        let value = self.single(key).filter(|value| !value.is_empty())?;
        match value.parse::<f64>() {
            Ok(number) if number.is_finite() => Some(number),
            _ => {
                errors.add(
                    key,
                    format!("{value:?} is not a number. Enter a number such as 0.5."),
                );
                None
            }
        }
    }

    /// A date-time filter; an invalid value is a 400 on `key`.
    pub fn time(
        &self,
        key: &str,
        errors: &mut FieldErrors,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let value = self.single(key).filter(|value| !value.is_empty())?;
        let parsed = parse_time(value);
        if parsed.is_none() {
            errors.add(key, invalid_time_message(value));
        }
        parsed
    }

    /// A multi-valued choice filter (`?status=a&status=b`); an unknown value is a 400 on `key`.
    pub fn choices<E: WireEnum>(&self, key: &str, errors: &mut FieldErrors) -> Vec<E> {
        let mut chosen = Vec::new();
        for value in self.all(key).into_iter().filter(|value| !value.is_empty()) {
            match value.parse::<E>() {
                Ok(choice) => chosen.push(choice),
                Err(unknown) => errors.add(
                    key,
                    format!(
                        "Select a valid choice. {value} is not one of the available choices: {}.",
                        unknown.expected.join(", ")
                    ),
                ),
            }
        }
        chosen
    }

    /// The page requested with `page` and `page_size`. `page_size` falls back to the default
    /// when it is not a positive integer and is clamped to the maximum. `page` must be a
    /// positive integer or `last`; anything else is a 404, as for a page past the end.
    pub fn page(&self) -> Result<PageSpec, ApiError> {
        let page_size = self
            .single("page_size")
            .and_then(|value| value.parse::<i64>().ok())
            .filter(|size| *size > 0)
            .map_or(DEFAULT_PAGE_SIZE, |size| size.min(MAX_PAGE_SIZE));

        match self.single("page") {
            None | Some("") => Ok(PageSpec::Number(PageRequest { page: 1, page_size })),
            Some("last") => Ok(PageSpec::Last { page_size }),
            Some(value) => match value.parse::<i64>() {
                Ok(page) if page >= 1 => Ok(PageSpec::Number(PageRequest { page, page_size })),
                _ => Err(ApiError::NotFoundDetail(format!(
                    "Invalid page {value:?}: use a page number from 1, or last."
                ))),
            },
        }
    }

    /// The `o` ordering: a comma-separated list of allowed names, each optionally prefixed by
    /// `-` for descending. Only the last `o` counts. An unknown name is a 400 on `o`.
    pub fn ordering<F: Copy>(
        &self,
        allowed: &[(&str, F)],
        errors: &mut FieldErrors,
    ) -> Vec<SortKey<F>> {
        let Some(value) = self.single("o") else {
            return Vec::new();
        };
        let mut keys = Vec::new();
        for name in value
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            let (descending, bare) = match name.strip_prefix('-') {
                Some(bare) => (true, bare),
                None => (false, name),
            };
            match allowed.iter().find(|(candidate, _)| *candidate == bare) {
                Some((_, field)) => keys.push(SortKey {
                    field: *field,
                    descending,
                }),
                None => {
                    let names: Vec<&str> =
                        allowed.iter().map(|(candidate, _)| *candidate).collect();
                    errors.add(
                        "o",
                        format!(
                            "Select a valid choice. {name} is not one of the available choices: {} (prefix with - for descending order).",
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        keys
    }
}

/// A requested page: a number, or the last page whatever its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSpec {
    Number(PageRequest),
    Last { page_size: i64 },
}

impl PageSpec {
    pub fn page_size(&self) -> i64 {
        match self {
            Self::Number(request) => request.page_size,
            Self::Last { page_size } => *page_size,
        }
    }
}

/// The 404 for a page past the last one.
pub fn invalid_page(page: i64, last_page: i64) -> ApiError {
    ApiError::NotFoundDetail(format!(
        "Invalid page {page}: the last page is {last_page}."
    ))
}

/// A JSON request body whose deserialisation errors name the failing field.
///
/// An empty body counts as `{}`. A body that is not JSON at all is a 400 with `detail`; a
/// field of the wrong type or a missing required field is a 400 on that field.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge(
                        "The request body is larger than the server accepts.".into(),
                    )
                } else {
                    ApiError::BadRequest(format!(
                        "The request body could not be read: {rejection}."
                    ))
                }
            })?;

        if let Some(content_type) = content_type.as_deref()
            && !bytes.is_empty()
            && !content_type.starts_with("application/json")
            && !content_type.contains("+json")
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Unsupported media type \"{content_type}\" in request. Send JSON with Content-Type: application/json."
            )));
        }

        parse_json(&bytes).map(JsonBody)
    }
}

/// Longest string accepted in any field of a JSON body, in characters.
pub const MAX_STRING_CHARS: usize = 65_536;

/// Parses a JSON body into `T`, turning errors into field errors where a field is at fault.
///
/// Before deserialising, every string in the body is checked: longer than
/// [`MAX_STRING_CHARS`] or containing a NUL character (which PostgreSQL cannot store) is a
/// 400 on that field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    let value: serde_json::Value = serde_json::from_slice(text).map_err(|error| {
        ApiError::BadRequest(format!(
            "JSON parse error: {error}. Send a valid JSON document."
        ))
    })?;

    let mut errors = FieldErrors::new();
    check_strings(&value, "", &mut errors);
    if !errors.is_empty() {
        return Err(errors.into());
    }

    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        field_error(&path, &inner)
    })
}

fn check_strings(value: &serde_json::Value, path: &str, errors: &mut FieldErrors) {
    let field = if path.is_empty() {
        "non_field_errors"
    } else {
        path
    };
    match value {
        serde_json::Value::String(text) => {
            if text.chars().count() > MAX_STRING_CHARS {
                errors.add(
                    field,
                    format!("Ensure this field has no more than {MAX_STRING_CHARS} characters."),
                );
            }
            if text.contains('\0') {
                errors.add(
                    field,
                    "Remove the NUL character (\\u0000): text fields cannot store it.",
                );
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let child = if path.is_empty() {
                    index.to_string()
                } else {
                    format!("{path}[{index}]")
                };
                check_strings(item, &child, errors);
            }
        }
        serde_json::Value::Object(members) => {
            for (key, item) in members {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                check_strings(item, &child, errors);
            }
        }
        _ => {}
    }
}

/// Rewrites a serde message in the words of the API: what was expected and what came.
fn friendly(message: &str) -> String {
    let message = message.trim_end_matches('.');
    let mismatch = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    if let Some((got, expected)) = mismatch {
        return format!(
            "Expected {} but got {}.",
            expected_words(expected),
            got_words(got, expected)
        );
    }
    if message.starts_with("invalid length") {
        return "Expected a JSON object with the documented fields.".to_owned();
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return format!(
            "{} is not a valid choice.",
            rest.split(',').next().unwrap_or(rest)
        );
    }
    format!("{message}.")
}

fn expected_words(expected: &str) -> String {
    let expected = expected.trim();
    match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
            "a whole number".to_owned()
        }
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" | "a string" | "a sequence" | "a map" => expected
            .replace("a sequence", "a list")
            .replace("a map", "a JSON object"),
        _ if expected.starts_with("struct ") || expected.starts_with("a map") => {
            "a JSON object".to_owned()
        }
        _ if expected.starts_with("a sequence") => "a list".to_owned(),
        _ => expected.to_owned(),
    }
}

fn got_words(got: &str, expected: &str) -> String {
    if got.starts_with("floating point") || got.starts_with("integer") {
        // Only a numeric field can reject a number for its range or its kind.
        let numeric = matches!(
            expected.trim(),
            "i8" | "i16"
                | "i32"
                | "i64"
                | "u8"
                | "u16"
                | "u32"
                | "u64"
                | "usize"
                | "isize"
                | "f32"
                | "f64"
        );
        return if numeric {
            "a number out of range or of the wrong kind".to_owned()
        } else {
            "a number".to_owned()
        };
    }
    match got {
        "sequence" => "a list".to_owned(),
        "map" => "a JSON object".to_owned(),
        "null" => "null".to_owned(),
        _ => got.to_owned(),
    }
}

/// Turns a serde message at `path` into a field error.
fn field_error(path: &str, message: &str) -> ApiError {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        let field = if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return ApiError::field(&field, "This field is required.");
    }
    if path == "." || path.is_empty() {
        return ApiError::field(
            "non_field_errors",
            format!(
                "{} Send a JSON object with the documented fields.",
                friendly(message)
            ),
        );
    }
    ApiError::field(path, friendly(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Sample {
        #[expect(dead_code, reason = "only deserialised")]
        count: i32,
    }

    fn message(body: &str) -> String {
        match parse_json::<Sample>(body.as_bytes()) {
            Err(ApiError::Domain(referee_domain::DomainError::Validation(errors))) => {
                format!("{:?}", errors.0)
            }
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn type_errors_name_field_in_plain_words() {
        assert!(message(r#"{"count": "x"}"#).contains("Expected a whole number but got string"));
        assert!(message(r#"{"count": 1.5}"#).contains("Expected a whole number"));
        assert!(message("[]").contains("JSON object"));
    }

    #[test]
    fn number_for_string_field_named_plainly() {
        #[derive(Debug, serde::Deserialize)]
        struct Reason {
            #[expect(dead_code, reason = "only deserialised")]
            reason: String,
        }
        let Err(ApiError::Domain(referee_domain::DomainError::Validation(errors))) =
            parse_json::<Reason>(br#"{"reason": 5}"#)
        else {
            panic!("a number for a string field must be rejected");
        };
        let text = format!("{:?}", errors.0);
        assert!(
            text.contains("Expected a string but got a number."),
            "{text}"
        );
        assert!(!text.contains("out of range"), "{text}");
        assert!(message("{}").contains("This field is required."));
    }

    #[test]
    fn long_and_nul_strings_rejected() {
        let long = format!(
            r#"{{"count": 1, "name": "{}"}}"#,
            "a".repeat(MAX_STRING_CHARS + 1)
        );
        assert!(message(&long).contains("no more than"));
        assert!(message(r#"{"count": 1, "tags": ["ok", "bad\u0000"]}"#).contains("tags[1]"));
    }
}
