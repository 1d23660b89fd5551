//! The `referee` binary as a user runs it: first start on an empty SQLite database, the
//! printed token, graceful shutdown on SIGTERM, and the administrative subcommands.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn referee() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_referee"));
    command
        .env_remove("REFEREE_DATABASE_URL")
        .env_remove("REFEREE_BIND")
        .env("REFEREE_LOG", "info");
    command
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `referee serve` and returns once it logged that the database is ready.
fn start(directory: &std::path::Path, port: u16) -> (Child, String) {
    let mut child = referee()
        .current_dir(directory)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting referee");

    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut log = String::new();
    for line in lines.by_ref() {
        let line = line.expect("reading the log");
        log.push_str(&line);
        log.push('\n');
        if line.contains("database ready") {
            break;
        }
    }
    assert!(
        log.contains("database ready"),
        "referee exited before it was ready:\n{log}"
    );
    // Keep draining the log so that the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, log)
}

fn get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connecting");
    let authorization = token
        .map(|token| format!("Authorization: Token {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, response)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("sending SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "referee did not stop within 20 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn printed_token(child: &mut Child) -> String {
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("reading stdout");
    stdout
        .lines()
        .map(str::trim)
        .find(|line| {
            line.len() == 40 && line.chars().all(|character| character.is_ascii_hexdigit())
        })
        .unwrap_or_else(|| panic!("no token in the output:\n{stdout}"))
        .to_owned()
}

#[test]
fn first_start_prints_token_once() {
    let directory = tempfile::tempdir().unwrap();
    let port = free_port();

    let (mut child, _) = start(directory.path(), port);
    assert!(directory.path().join("referee-data/referee.db").exists());
    let (status, _) = get(port, "/health/ready", None);
    assert_eq!(status, 200);
    let (status, _) = get(port, "/api/users/me/", None);
    assert_eq!(status, 401);
    assert!(terminate(&mut child).success());
    let token = printed_token(&mut child);

    let (mut child, _) = start(directory.path(), port);
    let (status, body) = get(port, "/api/users/me/", Some(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"username\":\"admin\""));
    assert!(body.contains("\"is_staff\":true"));
    assert!(terminate(&mut child).success());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        !stdout.contains("shown only once"),
        "the token was printed again:\n{stdout}"
    );
}

#[test]
fn users_create_prints_token() {
    let directory = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/referee.db", directory.path().display());
    let output = referee()
        .args([
            "--database-url",
            &url,
            "users",
            "create",
            "--username",
            "ada",
            "--email",
            "ada@example.org",
            "--support",
        ])
        .output()
        .expect("running users create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap();
    assert_eq!(token.trim().len(), 40);

    let again = referee()
        .args([
            "--database-url",
            &url,
            "users",
            "create",
            "--username",
            "ada",
        ])
        .output()
        .expect("running users create");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn openapi_subcommand_needs_no_database() {
    let output = referee()
        .args([
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "openapi",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
}

#[test]
fn help_documents_settings() {
    let output = referee().arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for setting in [
        "REFEREE_DATABASE_URL",
        "REFEREE_BIND",
        "REFEREE_POOL_SIZE",
        "REFEREE_MAX_BODY_BYTES",
        "REFEREE_PUBLIC_URL",
    ] {
        assert!(
            help.contains(setting),
            "--help does not mention {setting}:\n{help}"
        );
    }
    assert!(help.contains("[default: 127.0.0.1:8000]"));
}

#[test]
fn unreachable_database_serves_503() {
    let directory = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = referee()
        .current_dir(directory.path())
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
            "--database-retry-secs",
            "1",
            "--pool-timeout-secs",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut log = String::new();
    while let Some(Ok(line)) = lines.next() {
        log.push_str(&line);
        log.push('\n');
        if line.contains("database not ready") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    assert!(
        log.contains("127.0.0.1"),
        "the driver's error should name the host:\n{log}"
    );
    assert_eq!(get(port, "/health/live", None).0, 200);
    assert_eq!(get(port, "/health/ready", None).0, 503);
    let (status, body) = get(port, "/api/users/me/", Some(&"0".repeat(40)));
    assert_eq!(status, 503, "{body}");
    assert!(terminate(&mut child).success());
}

#[test]
fn invalid_database_url_explains_schemes() {
    let output = referee()
        .args(["--database-url", "mysql://x@y/z", "migrate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("postgres://") && stderr.contains("sqlite://"),
        "{stderr}"
    );
}
