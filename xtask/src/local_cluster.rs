//! Throwaway PostgreSQL cluster started from the local server binaries.
//!
//! `initdb` and `postgres` refuse to run as root, so under euid 0 every server command runs as
//! the `postgres` system user through `runuser`, and the cluster directory is chowned to it.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::interrupt;

/// System user that owns the cluster when xtask runs as root. Debian's postgresql package
/// creates it.
const POSTGRES_USER: &str = "postgres";

/// Seconds `pg_ctl start -w` waits for the server to accept connections.
const START_TIMEOUT_SECONDS: &str = "60";

/// Server settings for a disposable cluster. Durability is off because the data is thrown away,
/// and max_connections leaves room for parallel tests that each hold a small pool.
const SERVER_SETTINGS: &[&str] = &[
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=300",
];

/// Running cluster. Call [`LocalCluster::stop`] or hand it to a cleanup guard.
pub struct LocalCluster {
    bindir: PathBuf,
    /// Parent of the data directory, the Unix socket and the server log.
    dir: TempDir,
    port: u16,
    run_as_postgres: bool,
}

impl LocalCluster {
    /// Runs initdb in a new temporary directory and starts the server on a free loopback port.
    pub fn start(bindir: &Path) -> Result<LocalCluster> {
        for program in ["initdb", "pg_ctl"] {
            let path = bindir.join(program);
            if !path.is_file() {
                bail!(
                    "{} not found; install the PostgreSQL server (Debian: apt-get install postgresql) or set PG_BINDIR to the directory that contains initdb and pg_ctl",
                    path.display()
                );
            }
        }

        let run_as_postgres = running_as_root()?;
        let dir = tempfile::Builder::new()
            .prefix("referee-conformance-pg-")
            .tempdir()
            .context("failed to create a temporary directory for the PostgreSQL cluster")?;
        let dir_path = dir.path();
        if dir_path.to_string_lossy().contains('\'') {
            bail!(
                "the temporary directory {} contains a single quote, which pg_ctl's -o option cannot pass; set TMPDIR to another directory",
                dir_path.display()
            );
        }
        if run_as_postgres {
            let mut chown = Command::new("chown");
            chown
                .arg(format!("{POSTGRES_USER}:{POSTGRES_USER}"))
                .arg(dir_path);
            run_checked(&mut chown)?;
        }

        let cluster = LocalCluster {
            bindir: bindir.to_path_buf(),
            dir,
            port: free_port()?,
            run_as_postgres,
        };
        cluster.init()?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// URL of the `postgres` maintenance database, as the trusted superuser.
    pub fn url(&self) -> String {
        format!(
            "postgres://{POSTGRES_USER}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Command that stops the server, for the message printed by `--keep-database`.
    pub fn stop_command(&self) -> String {
        interrupt::describe(&self.pg_ctl_stop())
    }

    /// Leaves the cluster running and its directory in place.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }

    /// Stops the server immediately and deletes the cluster directory. Failures are printed,
    /// not returned, because this runs during cleanup.
    pub fn stop(self) {
        let mut stop = self.pg_ctl_stop();
        match stop.output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => eprintln!(
                "warning: `{}` failed with {}: {}",
                interrupt::describe(&stop),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            Err(error) => eprintln!(
                "warning: failed to run `{}`: {error}",
                interrupt::describe(&stop)
            ),
        }

        // A server that survived the stop shuts itself down once its postmaster.pid is gone.
        let path = self.dir.path().to_path_buf();
        if let Err(error) = self.dir.close() {
            eprintln!(
                "warning: failed to delete the cluster directory {}: {error}",
                path.display()
            );
        }
        eprintln!(
            "stopped the local PostgreSQL cluster on 127.0.0.1:{}",
            self.port
        );
    }

    fn init(&self) -> Result<()> {
        let mut initdb = self.server_command("initdb");
        initdb.arg("-D").arg(self.data_dir()).args([
            "-A",
            "trust",
            "-U",
            POSTGRES_USER,
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]);
        run_checked(&mut initdb)
    }

    fn start_server(&self) -> Result<()> {
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k '{}'",
            self.port,
            self.dir.path().display()
        );
        for setting in SERVER_SETTINGS {
            options.push_str(" -c ");
            options.push_str(setting);
        }

        let log = self.dir.path().join("server.log");
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", START_TIMEOUT_SECONDS, "-o", &options, "start"]);

        if let Err(error) = run_checked(&mut pg_ctl) {
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("{error:#}\nserver log {}:\n{log_text}", log.display());
        }
        Ok(())
    }

    fn pg_ctl_stop(&self) -> Command {
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"]);
        pg_ctl
    }

    /// Builds a command for a program in the bindir, wrapped in runuser when running as root.
    fn server_command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", POSTGRES_USER, "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }
}

/// Finds the PostgreSQL server binaries: the given directory, else `pg_config --bindir`.
pub fn find_bindir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path.to_path_buf());
    }

    let output = Command::new("pg_config").arg("--bindir").output().context(
        "failed to run pg_config; install libpq-dev and postgresql, or set PG_BINDIR to the directory that contains initdb and pg_ctl",
    )?;
    if !output.status.success() {
        bail!(
            "pg_config --bindir failed with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let bindir =
        String::from_utf8(output.stdout).context("pg_config --bindir printed invalid UTF-8")?;
    Ok(PathBuf::from(bindir.trim()))
}

/// Reads the effective user id through `id -u`, which needs no unsafe libc call.
fn running_as_root() -> Result<bool> {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .context("failed to run `id -u`")?;
    if !output.status.success() {
        bail!("`id -u` failed with {}", output.status);
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// Asks the kernel for a free loopback port. Another process could take it before the server
/// binds it, in which case pg_ctl start fails and reports the bind error.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("failed to find a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// Runs a command with captured output and fails with that output when it exits non-zero.
fn run_checked(command: &mut Command) -> Result<()> {
    let output = interrupt::output(command)?;
    if !output.status.success() {
        bail!(
            "`{}` failed with {}\n{}{}",
            interrupt::describe(command),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}
