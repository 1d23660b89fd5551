//! Obtains the PostgreSQL server for a conformance run and creates the template database on it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use url::Url;

use crate::interrupt::{self, CleanupGuard};
use crate::local_cluster::{self, LocalCluster};

/// Name of the migrated database that every PostgreSQL test clones.
pub const TEMPLATE_DATABASE: &str = "referee_template";

/// Choices for obtaining the PostgreSQL server.
pub struct ServerOptions {
    /// Server URL given by the developer; its database is used for maintenance statements.
    pub database_url: Option<String>,
    /// Directory with initdb, pg_ctl and psql, instead of `pg_config --bindir`.
    pub pg_bindir: Option<PathBuf>,
    /// Leave the server and the template running after the run.
    pub keep: bool,
}

/// PostgreSQL server for one run. Dropping it stops what this run started.
pub struct Server {
    /// URL of a database on the server to run `CREATE DATABASE` from, as a superuser.
    pub maintenance_url: Url,
    /// Server name for the closing report, without any password.
    pub description: String,
    /// psql binary to run the maintenance statements with.
    pub psql: PathBuf,
    /// Lines printed after the report when `--keep-database` left the server running.
    pub kept_notes: Vec<String>,
    _cleanup: Option<CleanupGuard>,
}

/// Returns the first server available, in this order: the explicit URL, a testcontainers
/// PostgreSQL (xtask feature `docker` and a Docker endpoint), a local throwaway cluster.
pub fn obtain_server(options: &ServerOptions) -> Result<Server> {
    if let Some(raw) = &options.database_url {
        let maintenance_url = parse_postgres_url(raw)?;
        return Ok(Server {
            description: redact(&maintenance_url),
            maintenance_url,
            psql: find_psql(options.pg_bindir.as_deref()),
            kept_notes: Vec::new(),
            _cleanup: None,
        });
    }

    if docker_endpoint_exists()
        && let Some(server) = try_docker(options)
    {
        return Ok(server);
    }

    start_local_cluster(options)
}

/// Reports a plausible Docker endpoint: DOCKER_HOST is set or the default socket exists.
fn docker_endpoint_exists() -> bool {
    std::env::var_os("DOCKER_HOST").is_some_and(|value| !value.is_empty())
        || Path::new("/var/run/docker.sock").exists()
}

#[cfg(feature = "docker")]
fn try_docker(options: &ServerOptions) -> Option<Server> {
    match crate::docker::start(options.keep) {
        Ok((maintenance_url, cleanup, kept_notes)) => Some(Server {
            maintenance_url,
            description: crate::docker::DESCRIPTION.to_owned(),
            psql: find_psql(options.pg_bindir.as_deref()),
            kept_notes,
            _cleanup: cleanup,
        }),
        Err(error) => {
            eprintln!(
                "warning: testcontainers PostgreSQL failed, falling back to a local cluster: {error:#}"
            );
            None
        }
    }
}

#[cfg(not(feature = "docker"))]
fn try_docker(_options: &ServerOptions) -> Option<Server> {
    eprintln!(
        "note: a Docker endpoint exists, but xtask was built without its `docker` feature; using a local cluster"
    );
    None
}

fn start_local_cluster(options: &ServerOptions) -> Result<Server> {
    let bindir = local_cluster::find_bindir(options.pg_bindir.as_deref())?;
    eprintln!(
        "starting a local PostgreSQL cluster from {}",
        bindir.display()
    );
    let cluster = LocalCluster::start(&bindir)?;

    let maintenance_url = parse_postgres_url(&cluster.url())?;
    let description = format!(
        "local cluster {} on 127.0.0.1:{}",
        cluster.bindir().display(),
        cluster.port()
    );
    let psql = find_psql(Some(&bindir));

    if options.keep {
        let stop_command = cluster.stop_command();
        let dir = cluster.keep();
        let kept_notes = vec![
            format!("kept the local cluster in {}", dir.display()),
            format!("stop it with: {stop_command} && rm -rf {}", dir.display()),
        ];
        return Ok(Server {
            maintenance_url,
            description,
            psql,
            kept_notes,
            _cleanup: None,
        });
    }

    Ok(Server {
        maintenance_url,
        description,
        psql,
        kept_notes: Vec::new(),
        _cleanup: Some(CleanupGuard::new(move || cluster.stop())),
    })
}

/// Template database on a server, dropped again when it was created on the developer's server.
pub struct Template {
    pub url: Url,
    _cleanup: Option<CleanupGuard>,
}

/// Creates an empty template database, dropping a stale one left by an earlier run first.
///
/// NOTE: the name is fixed, so two runs against the same `--database-url` server at once
/// drop each other's template.
pub fn create_template(server: &Server, drop_afterwards: bool) -> Result<Template> {
    let name = TEMPLATE_DATABASE;
    let url = create_database(server, name)?;

    let cleanup = drop_afterwards.then(|| {
        let psql = server.psql.clone();
        let maintenance_url = server.maintenance_url.clone();
        CleanupGuard::new(move || {
            let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            if let Err(error) = psql_execute(&psql, &maintenance_url, &statement) {
                eprintln!("warning: failed to drop the template database {name}: {error:#}");
            }
        })
    });

    Ok(Template {
        url,
        _cleanup: cleanup,
    })
}

/// Creates an empty database on the server, dropping an old one of that name first, and
/// returns its URL. Nothing drops it afterwards.
pub fn create_database(server: &Server, name: &str) -> Result<Url> {
    drop_database(server, name)?;
    run_sql(server, &format!("CREATE DATABASE \"{name}\""))?;
    let mut url = server.maintenance_url.clone();
    url.set_path(&format!("/{name}"));
    Ok(url)
}

/// Drops a database of the server if it exists.
pub fn drop_database(server: &Server, name: &str) -> Result<()> {
    run_sql(
        server,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
}

fn run_sql(server: &Server, statement: &str) -> Result<()> {
    psql_execute(&server.psql, &server.maintenance_url, statement)
}

fn psql_execute(psql: &Path, url: &Url, statement: &str) -> Result<()> {
    let mut command = Command::new(psql);
    command
        .args(["--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(url.as_str())
        .args(["-c", statement]);
    let output = interrupt::output(&mut command)
        .with_context(|| format!("failed to run {} for `{statement}`", psql.display()))?;
    if !output.status.success() {
        bail!(
            "`{statement}` on {} failed ({}): {}",
            redact(url),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Finds psql next to the server binaries, else relies on PATH.
fn find_psql(bindir: Option<&Path>) -> PathBuf {
    let bindir = bindir
        .map(Path::to_path_buf)
        .or_else(|| local_cluster::find_bindir(None).ok());
    match bindir.map(|dir| dir.join("psql")) {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("psql"),
    }
}

fn parse_postgres_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw).with_context(|| "the database URL is not a valid URL".to_owned())?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        bail!(
            "the database URL must start with postgres:// or postgresql://, but its scheme is `{}`",
            url.scheme()
        );
    }
    Ok(url)
}

/// Returns the URL without its password, for messages and the report.
pub fn redact(url: &Url) -> String {
    let mut redacted = url.clone();
    if redacted.password().is_some() {
        // set_password fails only for URLs without a host, and such a URL has no password.
        let _ = redacted.set_password(None);
    }
    redacted.to_string()
}
