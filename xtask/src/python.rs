//! The conformance steps that drive a live server with Python tools: a virtual environment
//! under the target directory with the pinned packages of a requirements file, and the
//! scenario of the published client `waldur-api-client`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::interrupt;
use crate::schemathesis::{build_server, start_fresh_server};
use crate::workspace::Workspace;

/// Pinned client version and the scenario script, relative to the workspace root.
const CLIENT_REQUIREMENTS: &str = "xtask/scripts/requirements-waldur-client.txt";
const CLIENT_SCENARIO: &str = "xtask/scripts/waldur_client_scenario.py";

/// Copy of the requirements file that was last installed, kept inside the environment.
const INSTALLED_REQUIREMENTS: &str = "requirements.installed.txt";

pub struct VirtualEnv {
    dir: PathBuf,
}

impl VirtualEnv {
    /// Creates the environment in `dir` with `python3 -m venv` when it does not exist, and
    /// installs `requirements` with pip unless exactly that file was installed before.
    pub fn ensure(dir: &Path, requirements: &Path) -> Result<VirtualEnv> {
        let env = VirtualEnv {
            dir: dir.to_path_buf(),
        };
        if !env.python().exists() {
            eprintln!("creating the Python virtual environment {}", dir.display());
            let mut command = Command::new("python3");
            command.args(["-m", "venv"]).arg(dir);
            let status = interrupt::run(&mut command)?;
            if !status.success() {
                bail!(
                    "`{}` failed with {status}; install Python 3 with its venv module",
                    interrupt::describe(&command)
                );
            }
        }

        let expected = std::fs::read_to_string(requirements)
            .with_context(|| format!("failed to read {}", requirements.display()))?;
        let marker = dir.join(INSTALLED_REQUIREMENTS);
        let installed = std::fs::read_to_string(&marker).unwrap_or_default();
        if installed != expected {
            eprintln!(
                "installing {} into {}",
                requirements.display(),
                dir.display()
            );
            let mut command = Command::new(env.python());
            command
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .arg("--requirement")
                .arg(requirements);
            let status = interrupt::run(&mut command)?;
            if !status.success() {
                bail!("`{}` failed with {status}", interrupt::describe(&command));
            }
            std::fs::write(&marker, expected)
                .with_context(|| format!("failed to write {}", marker.display()))?;
        }
        Ok(env)
    }

    /// Returns the path of the environment's Python interpreter.
    pub fn python(&self) -> PathBuf {
        self.program("python")
    }

    /// Returns the path of a console script that a package installed into the environment,
    /// such as `st`.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }
}

/// Result of the client scenario.
pub struct ClientResult {
    pub passed: bool,
    /// The closing line of the scenario, `N steps passed, M failed`.
    pub summary: String,
    pub log: PathBuf,
    pub report: PathBuf,
}

/// Runs xtask/scripts/waldur_client_scenario.py against a new server on a loopback port with
/// a new SQLite database. The client gets a virtual environment of its own, because its pinned
/// dependencies need not agree with those of schemathesis. Output goes to
/// `<output_dir>/waldur-client/`.
pub fn run_client_scenario(workspace: &Workspace, output_dir: &Path) -> Result<ClientResult> {
    let env = VirtualEnv::ensure(
        &output_dir.join("venv-client"),
        &workspace.root.join(CLIENT_REQUIREMENTS),
    )?;
    let report_dir = output_dir.join("waldur-client");
    std::fs::create_dir_all(&report_dir)
        .with_context(|| format!("failed to create {}", report_dir.display()))?;

    let binary = build_server(workspace)?;
    let scratch = tempfile::Builder::new()
        .prefix("xtask-waldur-client-")
        .tempdir()
        .context("failed to create a temporary directory")?;
    let (server, staff_token) =
        start_fresh_server(&binary, scratch.path(), &report_dir.join("server.log"))?;

    let log = report_dir.join("scenario.log");
    let report = report_dir.join("findings.json");
    let log_file = std::fs::File::create(&log)
        .with_context(|| format!("failed to create {}", log.display()))?;
    let stderr = log_file
        .try_clone()
        .with_context(|| format!("failed to reopen {}", log.display()))?;
    let mut command = Command::new(env.python());
    command
        .arg(workspace.root.join(CLIENT_SCENARIO))
        .arg("--base-url")
        .arg(server.base_url())
        .arg("--report")
        .arg(&report)
        .env("REFEREE_STAFF_TOKEN", &staff_token)
        .stdout(log_file)
        .stderr(stderr);
    eprintln!(
        "running the waldur-api-client scenario (output in {})",
        log.display()
    );
    let status = interrupt::run(&mut command)?;
    interrupt::check()?;
    drop(server);

    let output = std::fs::read_to_string(&log)
        .with_context(|| format!("failed to read {}", log.display()))?;
    let summary = output
        .lines()
        .rev()
        .find(|line| line.contains("steps passed"))
        .unwrap_or("the scenario printed no summary line")
        .to_owned();
    Ok(ClientResult {
        passed: status.success(),
        summary,
        log,
        report,
    })
}
