//! The schemathesis step of `cargo xtask conformance`: property-based requests against a live
//! server, checked against the OpenAPI document that the server publishes at `/api/schema/`.
//!
//! The step builds the debug `referee` binary and runs schemathesis in three passes: as the
//! reviewer on the paths a reviewer uses, as staff on every operation but DELETE, and as
//! staff on DELETE. Before each pass it serves the binary on a free loopback port with a new
//! SQLite database and no background jobs, creates a staff user, and seeds one object of
//! every kind with xtask/scripts/schemathesis_seed.py. Each pass checks that no response is
//! a 5xx, that every status is documented for its operation and that every body matches its
//! schema. Logs and reports go to `<target dir>/conformance/schemathesis/`.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::interrupt::{self, CleanupGuard};
use crate::python::VirtualEnv;
use crate::workspace::Workspace;

/// Pinned schemathesis version, relative to the workspace root.
const REQUIREMENTS: &str = "xtask/scripts/requirements-schemathesis.txt";
const SEED_SCRIPT: &str = "xtask/scripts/schemathesis_seed.py";

/// Checks that every run applies. The other checks of schemathesis test behaviour the API does
/// not promise, such as rejecting every request that violates the schema.
const CHECKS: &str = "not_a_server_error,status_code_conformance,response_schema_conformance";

/// Paths a reviewer works with; the reviewer's run covers only these.
const REVIEWER_PATHS: &str = "^/api/(my-assignment-batches|assignment-items|proposal-reviews|reviewer-profiles|call-reviewer-pools|users/me)/";

/// How long the server gets to accept connections after it starts.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Options {
    pub max_examples: u32,
    pub seed: u64,
}

/// Result of one schemathesis run.
pub struct RunResult {
    /// Name of the pass, such as `staff-delete`.
    pub pass: &'static str,
    pub passed: bool,
    /// The summary lines schemathesis printed at the end of the run.
    pub summary: Vec<String>,
    pub log: PathBuf,
}

/// Runs the step and returns the result of each run. `output_dir` is
/// `<target dir>/conformance`; the virtual environment and the reports go below it.
pub fn run(workspace: &Workspace, output_dir: &Path, options: &Options) -> Result<Vec<RunResult>> {
    let env = VirtualEnv::ensure(&output_dir.join("venv"), &workspace.root.join(REQUIREMENTS))?;
    let report_dir = output_dir.join("schemathesis");
    if report_dir.exists() {
        std::fs::remove_dir_all(&report_dir)
            .with_context(|| format!("failed to remove the old {}", report_dir.display()))?;
    }
    std::fs::create_dir_all(&report_dir)
        .with_context(|| format!("failed to create {}", report_dir.display()))?;

    let binary = build_server(workspace)?;
    let mut results = Vec::new();
    for pass in &PASSES {
        // Each pass gets a new database, because the requests of a pass change and delete
        // the seeded objects.
        let scratch = tempfile::Builder::new()
            .prefix("xtask-schemathesis-")
            .tempdir()
            .context("failed to create a temporary directory")?;
        let server =
            start_seeded_server(&binary, &env, workspace, scratch.path(), &report_dir, pass)?;

        let mut command = Command::new(env.program("st"));
        command
            .arg("--config-file")
            .arg(scratch.path().join(format!("{}.toml", pass.caller)))
            .args(["run", &format!("{}/api/schema/", server.base_url())])
            .args(["--checks", CHECKS])
            .args(["--max-examples", &options.max_examples.to_string()])
            .args(["--seed", &options.seed.to_string()])
            .args(["--workers", "2"])
            .args(["--report", "junit,ndjson"])
            .arg("--report-dir")
            .arg(report_dir.join(pass.name))
            .args(["--output-truncate", "false"])
            .args(pass.filter)
            // schemathesis keeps its cache in `.schemathesis/` of the working directory.
            .current_dir(&report_dir)
            // No colour codes, because the output goes to a log file.
            .env("NO_COLOR", "1");
        results.push(run_schemathesis(pass.name, &mut command, &report_dir)?);
    }
    Ok(results)
}

/// One schemathesis run: who sends the requests and which operations it covers.
struct Pass {
    pub name: &'static str,
    /// `staff` or `reviewer`: the configuration file, and so the token, the run uses.
    caller: &'static str,
    filter: &'static [&'static str],
}

/// The runs of the step. DELETE gets a run of its own, last, because deleting the seeded
/// objects leaves the other operations of a run nothing but 404 responses.
const PASSES: [Pass; 3] = [
    Pass {
        name: "reviewer",
        caller: "reviewer",
        filter: &[
            "--include-path-regex",
            REVIEWER_PATHS,
            "--exclude-method",
            "DELETE",
        ],
    },
    Pass {
        name: "staff",
        caller: "staff",
        filter: &["--exclude-method", "DELETE"],
    },
    Pass {
        name: "staff-delete",
        caller: "staff",
        filter: &["--include-method", "DELETE"],
    },
];

/// Migrates a new SQLite database in `scratch`, creates a staff user, starts the server and
/// seeds it. The configuration files land in `scratch`.
fn start_seeded_server(
    binary: &Path,
    env: &VirtualEnv,
    workspace: &Workspace,
    scratch: &Path,
    report_dir: &Path,
    pass: &Pass,
) -> Result<Server> {
    let log = report_dir.join(format!("server-{}.log", pass.name));
    let (server, staff_token) = start_fresh_server(binary, scratch, &log)?;
    run_checked(
        Command::new(env.python())
            .arg(workspace.root.join(SEED_SCRIPT))
            .arg("--base-url")
            .arg(server.base_url())
            .arg("--output-dir")
            .arg(scratch)
            .env("REFEREE_STAFF_TOKEN", &staff_token),
    )?;
    Ok(server)
}

/// Migrates a new SQLite database in `scratch`, creates a staff user and starts the server
/// with its log in `log`. Returns the server and the staff user's token.
pub fn start_fresh_server(binary: &Path, scratch: &Path, log: &Path) -> Result<(Server, String)> {
    let database_url = format!("sqlite://{}", scratch.join("referee.db").display());
    migrate(binary, &database_url)?;
    let staff_token = create_staff_user(binary, &database_url, "staff")?;
    let server = Server::start(binary, &database_url, log, &[])?;
    Ok((server, staff_token))
}

/// Applies the migrations to the database with `referee migrate`.
pub fn migrate(binary: &Path, database_url: &str) -> Result<()> {
    run_checked(
        Command::new(binary)
            .arg("migrate")
            .env("REFEREE_DATABASE_URL", database_url)
            .env("REFEREE_LOG", "warn"),
    )
}

/// Builds the debug server binary and returns its path.
pub fn build_server(workspace: &Workspace) -> Result<PathBuf> {
    build_referee(workspace, false)
}

/// Builds the server binary, with the release profile when `release` is set, and returns its
/// path.
pub fn build_referee(workspace: &Workspace, release: bool) -> Result<PathBuf> {
    let mut command = workspace.cargo();
    command.args(["build", "--locked", "--quiet", "-p", "referee-server"]);
    if release {
        command.arg("--release");
    }
    let status = interrupt::run(&mut command)?;
    if !status.success() {
        bail!("`{}` failed with {status}", interrupt::describe(&command));
    }
    let target_dir = workspace
        .nextest_store_dir()
        .parent()
        .context("the nextest store directory has no parent")?
        .to_path_buf();
    let profile = if release { "release" } else { "debug" };
    Ok(target_dir.join(profile).join("referee"))
}

fn run_checked(command: &mut Command) -> Result<()> {
    let status = interrupt::run(command)?;
    if !status.success() {
        bail!("`{}` failed with {status}", interrupt::describe(command));
    }
    Ok(())
}

/// Creates a staff user and returns its token, which `referee users create` prints alone on
/// stdout.
pub fn create_staff_user(binary: &Path, database_url: &str, username: &str) -> Result<String> {
    let mut command = Command::new(binary);
    command
        .args(["users", "create", "--username", username, "--staff"])
        .env("REFEREE_DATABASE_URL", database_url)
        .env("REFEREE_LOG", "warn");
    let output = interrupt::stdout_of(&mut command)?;
    if !output.status.success() {
        bail!(
            "`{}` failed with {}",
            interrupt::describe(&command),
            output.status
        );
    }
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if token.is_empty() || token.contains(char::is_whitespace) {
        bail!(
            "`{}` printed no single token",
            interrupt::describe(&command)
        );
    }
    Ok(token)
}

fn run_schemathesis(
    pass: &'static str,
    command: &mut Command,
    report_dir: &Path,
) -> Result<RunResult> {
    let log = report_dir.join(format!("{pass}.log"));
    let log_file =
        File::create(&log).with_context(|| format!("failed to create {}", log.display()))?;
    let stderr = log_file
        .try_clone()
        .with_context(|| format!("failed to reopen {}", log.display()))?;
    command.stdout(log_file).stderr(stderr);

    eprintln!(
        "running schemathesis pass {pass} (output in {})",
        log.display()
    );
    let status = interrupt::run(command)?;
    interrupt::check()?;

    let output = std::fs::read_to_string(&log)
        .with_context(|| format!("failed to read {}", log.display()))?;
    Ok(RunResult {
        pass,
        passed: status.success(),
        summary: summary_lines(&output),
        log,
    })
}

/// Returns the lines from schemathesis's SUMMARY banner to the end, without blank lines.
fn summary_lines(output: &str) -> Vec<String> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .rposition(|line| line.contains(" SUMMARY "))
        .unwrap_or(lines.len().saturating_sub(20));
    lines[start..]
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| (*line).to_owned())
        .collect()
}

/// The `referee` server process, stopped when dropped (also after an error or a signal).
pub struct Server {
    address: SocketAddr,
    _stop: CleanupGuard,
}

impl Server {
    /// `http://HOST:PORT` of the server.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Starts the binary on a free loopback port without a bootstrap user or background jobs,
    /// with `extra_args` added to its command line, and waits until it accepts connections.
    pub fn start(
        binary: &Path,
        database_url: &str,
        log: &Path,
        extra_args: &[&str],
    ) -> Result<Server> {
        let address = free_loopback_address()?;
        let log_file =
            File::create(log).with_context(|| format!("failed to create {}", log.display()))?;
        let stderr = log_file
            .try_clone()
            .with_context(|| format!("failed to reopen {}", log.display()))?;

        let mut command = Command::new(binary);
        command
            .arg("--bind")
            .arg(address.to_string())
            .args(["--no-bootstrap-user", "--scheduler-interval-secs", "0"])
            .args(extra_args)
            .env("REFEREE_DATABASE_URL", database_url)
            .env("REFEREE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(stderr);
        let child = command
            .spawn()
            .with_context(|| format!("failed to start {}", interrupt::describe(&command)))?;
        eprintln!(
            "started the referee server on {address} (log in {})",
            log.display()
        );

        let child = Arc::new(Mutex::new(Some(child)));
        let stop = CleanupGuard::new({
            let child = Arc::clone(&child);
            move || stop_server(&child)
        });
        wait_until_listening(address, &child, log)?;
        Ok(Server {
            address,
            _stop: stop,
        })
    }
}

fn stop_server(child: &Mutex<Option<Child>>) {
    let mut child = child.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(mut child) = child.take() {
        if let Err(error) = child.kill() {
            eprintln!(
                "xtask: failed to stop the referee server (pid {}): {error}",
                child.id()
            );
        }
        let _ = child.wait();
    }
}

/// Returns a loopback address with a port that was free a moment ago. Another process could
/// take the port before the server binds it; the server then fails to start with a clear error.
fn free_loopback_address() -> Result<SocketAddr> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("failed to find a free loopback port")?;
    listener
        .local_addr()
        .context("failed to read the address of a loopback listener")
}

fn wait_until_listening(
    address: SocketAddr,
    child: &Mutex<Option<Child>>,
    log: &Path,
) -> Result<()> {
    let started = Instant::now();
    loop {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        {
            let mut child = child.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(child) = child.as_mut()
                && let Some(status) = child.try_wait().context("failed to poll the server")?
            {
                bail!(
                    "the referee server exited with {status} before accepting connections; see {}",
                    log.display()
                );
            }
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            bail!(
                "the referee server did not accept connections on {address} within {} s; see {}",
                STARTUP_TIMEOUT.as_secs(),
                log.display()
            );
        }
        interrupt::check()?;
        std::thread::sleep(Duration::from_millis(100));
    }
}
