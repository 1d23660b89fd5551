//! `referee import FILE [--call UUID]` through the built binary, on SQLite.

use std::path::Path;
use std::process::{Command, Output};

fn referee(directory: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_referee"));
    command
        .current_dir(directory)
        .env_remove("REFEREE_BIND")
        .env("REFEREE_DATABASE_URL", "sqlite://./data/referee.db")
        .env("REFEREE_LOG", "warn");
    command
}

fn example() -> String {
    format!(
        "{}/../../docs/examples/import-example.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn run(directory: &Path, args: &[&str]) -> Output {
    referee(directory)
        .args(args)
        .output()
        .expect("running referee")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn import_cli_example_then_clash_then_into_call() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let dir = directory.path();

    let output = run(dir, &["import", &example()]);
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let counts: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("counts as JSON on stdout");
    assert_eq!(counts["call_created"], true);
    assert_eq!(counts["organisations"], 1);
    assert_eq!(counts["rounds"], 1);
    assert_eq!(counts["proposals"], 2);
    assert_eq!(counts["users_created"], 2);
    assert_eq!(counts["pool_entries"], 2);
    assert_eq!(counts["affinities"], 3);
    assert_eq!(counts["conflicts"], 1);
    let call_uuid = counts["call_uuid"].as_str().expect("call uuid").to_owned();

    // The same file again: every clash is listed and nothing is written.
    let output = run(dir, &["import", &example()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    for pointer in [
        "/organisations/0/name: ",
        "/call/name: ",
        "/reviewers/0/username: ",
        "/reviewers/1/username: ",
    ] {
        assert!(stderr.contains(pointer), "{pointer} missing in:\n{stderr}");
    }
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(output.stdout.is_empty());

    // Into the existing call, referring to stored reviewers and proposals.
    let document = dir.join("more.json");
    std::fs::write(
        &document,
        r#"{"format": "referee-import/1",
            "affinities": [{"reviewer": "evan.stone", "proposal": "BEAM-TIME-2027-001", "affinity_score": 0.4}]}"#,
    )
    .unwrap();
    let output = run(
        dir,
        &["import", document.to_str().unwrap(), "--call", &call_uuid],
    );
    assert!(output.status.success(), "stderr: {}", text(&output.stderr));
    let counts: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(counts["call_created"], false);
    assert_eq!(counts["call_uuid"], call_uuid.as_str());
    assert_eq!(counts["affinities"], 1);

    // Same pair again: a clash with stored data.
    let output = run(
        dir,
        &["import", document.to_str().unwrap(), "--call", &call_uuid],
    );
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("/affinities/0: "));
}

#[test]
fn import_cli_refuses_bad_arguments() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let dir = directory.path();

    let output = run(dir, &["import", "missing.json"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("missing.json"));

    let output = run(dir, &["import", &example(), "--call", "not-a-uuid"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("not-a-uuid"));

    let output = run(
        dir,
        &[
            "import",
            &example(),
            "--call",
            "0123456789abcdef0123456789abcdef",
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).to_lowercase().contains("not found"),
        "{}",
        text(&output.stderr)
    );

    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"format\": ").unwrap();
    let output = run(dir, &["import", broken.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("is not JSON"));
}
