//! The benchmark's own database: `referee_bench_api` on a PostgreSQL server, or a SQLite file
//! under the target directory, recreated empty on every run. Scripts and queries go through
//! the `psql` and `sqlite3` command-line clients.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use url::Url;
use uuid::Uuid;

/// Name of the PostgreSQL database that the benchmark creates and drops.
const POSTGRES_DATABASE: &str = "referee_bench_api";

pub enum BenchDatabase {
    Postgres { url: String },
    Sqlite { path: PathBuf, url: String },
}

impl BenchDatabase {
    /// Drops and creates `referee_bench_api` on the server of `admin_url`.
    pub fn postgres(admin_url: &str) -> Result<Self> {
        let mut url = Url::parse(admin_url)
            .with_context(|| format!("invalid PostgreSQL URL {admin_url:?}"))?;
        for statement in [
            format!("DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)"),
            format!("CREATE DATABASE {POSTGRES_DATABASE}"),
        ] {
            psql(admin_url, &["--command", &statement])?;
        }
        url.set_path(POSTGRES_DATABASE);
        Ok(Self::Postgres {
            url: url.to_string(),
        })
    }

    /// Removes the SQLite file at `path` with its WAL files.
    pub fn sqlite(path: &Path) -> Result<Self> {
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file)
                    .with_context(|| format!("failed to remove {}", file.display()))?;
            }
        }
        Ok(Self::Sqlite {
            path: path.to_path_buf(),
            url: format!("sqlite://{}", path.display()),
        })
    }

    /// Returns the URL that referee connects to.
    pub fn url(&self) -> &str {
        match self {
            Self::Postgres { url } | Self::Sqlite { url, .. } => url,
        }
    }

    /// Returns a UUID literal as the backend stores it.
    pub fn uuid_literal(&self, uuid: Uuid) -> String {
        match self {
            Self::Postgres { .. } => format!("CAST('{}' AS uuid)", uuid.hyphenated()),
            Self::Sqlite { .. } => format!("'{}'", uuid.simple()),
        }
    }

    /// Writes the script to `path` and runs it, stopping at the first error.
    pub fn run_script(&self, script: &str, path: &Path) -> Result<()> {
        std::fs::write(path, script)
            .with_context(|| format!("failed to write {}", path.display()))?;
        let path_text = path.to_string_lossy().into_owned();
        match self {
            Self::Postgres { url } => {
                psql(url, &["--quiet", "--file", &path_text])?;
            }
            Self::Sqlite { path: database, .. } => {
                let script_file = std::fs::File::open(path)
                    .with_context(|| format!("failed to open {}", path.display()))?;
                let output = Command::new("sqlite3")
                    .arg("-bail")
                    .arg(database)
                    .stdin(Stdio::from(script_file))
                    .output()
                    .context("failed to run sqlite3")?;
                if !output.status.success() {
                    bail!(
                        "sqlite3 {} < {} failed with {}: {}",
                        database.display(),
                        path.display(),
                        output.status,
                        String::from_utf8_lossy(&output.stderr).trim()
                    );
                }
            }
        }
        Ok(())
    }

    /// Runs a query and returns the first column of every row as text.
    pub fn query_column(&self, sql: &str) -> Result<Vec<String>> {
        let output = match self {
            Self::Postgres { url } => {
                psql(url, &["--tuples-only", "--no-align", "--command", sql])?
            }
            Self::Sqlite { path, .. } => {
                let output = Command::new("sqlite3")
                    .args(["-bail", "-noheader", "-list"])
                    .arg(path)
                    .arg(sql)
                    .output()
                    .context("failed to run sqlite3")?;
                if !output.status.success() {
                    bail!(
                        "sqlite3 query failed with {}: {sql}: {}",
                        output.status,
                        String::from_utf8_lossy(&output.stderr).trim()
                    );
                }
                String::from_utf8_lossy(&output.stdout).into_owned()
            }
        };
        Ok(output
            .lines()
            .map(|line| line.split('|').next().unwrap_or_default().trim().to_owned())
            .filter(|line| !line.is_empty())
            .collect())
    }

    pub fn query_number(&self, sql: &str) -> Result<u64> {
        let rows = self.query_column(sql)?;
        let first = rows
            .first()
            .with_context(|| format!("{sql} returned no row"))?;
        first
            .parse()
            .with_context(|| format!("{sql} returned {first:?}, not a number"))
    }
}

/// Runs psql with ON_ERROR_STOP and returns its standard output.
fn psql(url: &str, arguments: &[&str]) -> Result<String> {
    let output = Command::new("psql")
        .args(["--no-psqlrc", "--set", "ON_ERROR_STOP=1"])
        .args(arguments)
        .arg(url)
        .output()
        .context("failed to run psql; install the PostgreSQL client")?;
    if !output.status.success() {
        bail!(
            "psql {} failed with {}: {}",
            arguments.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
