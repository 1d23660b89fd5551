//! The committed `openapi/openapi.json` matches the document the code builds.
//!
//! Regenerate it with `UPDATE_OPENAPI=1 cargo test -p referee-http --test openapi` (or
//! `cargo xtask openapi`).

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json")
}

#[test]
fn committed_document_is_current() {
    let generated = format!(
        "{}\n",
        serde_json::to_string_pretty(&referee_http::openapi()).expect("serialising")
    );
    let path = committed_path();

    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("writing openapi/openapi.json");
        return;
    }

    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale. Regenerate it with:\n\n    UPDATE_OPENAPI=1 cargo test -p referee-http --test openapi\n"
    );
}

#[test]
fn every_operation_documents_its_responses() {
    let document = serde_json::to_value(referee_http::openapi()).expect("serialising");
    let paths = document["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    for (path, item) in paths {
        assert!(
            path.starts_with("/api/") && path.ends_with('/'),
            "{path} must start with /api/ and end with a slash"
        );
        for (method, operation) in item.as_object().expect("path item") {
            let responses = operation["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{method} {path} has no responses"));
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} has no success response"
            );
            if path != "/api/schema/" {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} does not document 401"
                );
            }
        }
    }
}
