//! Checks every reply of the test suite against the OpenAPI document the server publishes:
//! a documented success status must be listed for the operation, and every JSON body must
//! validate against the operation's schema for that status. A key the schema declares can
//! therefore never be missing, mistyped or wrongly nullable in any tested response.
//!
//! When the environment variable `REFEREE_COVERAGE_FILE` names a file, every reply that
//! matches a documented operation appends the line `METHOD /path/template STATUS` to it.
//! nextest runs each test in its own process, so the file (opened in append mode, one write
//! per line) is how `cargo xtask conformance` learns which operations the suite exercised.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};

use crate::Reply;

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = serde_json::to_value(referee_http::openapi())
            .expect("serialising the OpenAPI document");
        require_declared_keys(&mut document);
        document
    })
}

/// Marks every declared property of every object schema as required. referee never omits a
/// key that its schema declares (a key without a value is `null`), so a response that leaves
/// one out fails validation even where the generated schema lists it as optional.
fn require_declared_keys(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = object.get("properties") {
                let keys: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
                object.insert("required".to_owned(), Value::Array(keys));
            }
            for child in object.values_mut() {
                require_declared_keys(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(require_declared_keys),
        _ => {}
    }
}

/// Finds the path template of the document that matches `path`, preferring the one with the
/// most literal segments (`/api/users/me/` over `/api/users/{uuid}/`).
fn template_for(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths
        .keys()
        .filter(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| part.starts_with('{') || part == segment)
        })
        .max_by_key(|template| {
            template
                .split('/')
                .filter(|part| !part.starts_with('{'))
                .count()
        })
        .map(String::as_str)
}

fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let mut cache = cache.lock().expect("validator cache");
    cache
        .entry(key.to_owned())
        .or_insert_with(|| {
            let mut rooted = schema.clone();
            if let Some(object) = rooted.as_object_mut() {
                object.insert("components".into(), document()["components"].clone());
            } else {
                rooted = json!({"allOf": [schema], "components": document()["components"]});
            }
            Arc::new(
                jsonschema::validator_for(&rooted)
                    .unwrap_or_else(|error| panic!("schema of {key} does not compile: {error}")),
            )
        })
        .clone()
}

/// Panics when the reply contradicts the document.
pub fn check(reply: &Reply) {
    let path = reply.path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("http://").map_or(path, |rest| {
        rest.find('/').map_or("/", |index| &rest[index..])
    });
    let Some(template) = template_for(path) else {
        return;
    };
    let method = reply.method.as_str().to_lowercase();
    let Some(operation) = document()["paths"][template].get(&method) else {
        return;
    };
    let status = reply.status.as_u16().to_string();
    let operation_name = format!("{} {template}", reply.method);
    record_coverage(&operation_name, &status);

    let Some(response) = operation["responses"].get(&status) else {
        assert!(
            !reply.status.is_success(),
            "{operation_name} returned {status}, which the OpenAPI document does not list for it"
        );
        // NOTE: error statuses missing from an operation's description are not reported yet.
        return;
    };
    if let Some(headers) = response["headers"].as_object() {
        for name in headers.keys() {
            assert!(
                reply.headers.contains_key(name.to_lowercase().as_str()),
                "{operation_name} returned {status} without the {name} header that the OpenAPI document declares"
            );
        }
    }
    if method == "head" || reply.body.is_null() {
        return;
    }
    let Some(schema) = response["content"]["application/json"].get("schema") else {
        return;
    };
    let content_type = reply.header("content-type");
    assert!(
        content_type.starts_with("application/json"),
        "{operation_name} returned {status} with Content-Type {content_type:?}; the OpenAPI document declares application/json"
    );

    let validator = validator(&format!("{operation_name} {status}"), schema);
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|error| format!("  at {}: {}", error.instance_path(), error))
        .collect();
    assert!(
        errors.is_empty(),
        "{operation_name} returned {status} with a body that violates its schema:\n{}\nbody: {}",
        errors.join("\n"),
        reply.body
    );
}

/// Environment variable naming the file that collects the exercised operations.
pub const COVERAGE_FILE_VARIABLE: &str = "REFEREE_COVERAGE_FILE";

/// Appends `operation status` to the coverage file, when one is configured.
fn record_coverage(operation: &str, status: &str) {
    let Some(path) = std::env::var_os(COVERAGE_FILE_VARIABLE) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let line = format!("{operation} {status}\n");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|error| {
            panic!(
                "failed to open the coverage file {}: {error}",
                path.display()
            )
        });
    // One write per line, so that with O_APPEND the lines of concurrent test processes do not
    // interleave on a local file system.
    file.write_all(line.as_bytes()).unwrap_or_else(|error| {
        panic!(
            "failed to append to the coverage file {}: {error}",
            path.display()
        )
    });
}
