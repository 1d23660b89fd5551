//! Command line and environment configuration. Every setting has a flag and a
//! `REFEREE_*` environment variable; `referee --help` lists them with units and defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Default database: an SQLite file under `./referee-data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./referee-data/referee.db";

/// Reviewer assignment for calls for proposals, behind a Waldur-compatible REST API.
///
/// Without a subcommand, `referee` serves the API (the same as `referee serve`).
#[derive(Debug, Parser)]
#[command(name = "referee", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeOptions,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Database URL: sqlite://PATH (the file and its directory are created) or
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.
    #[arg(long, env = "REFEREE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Log filter in tracing's EnvFilter syntax, for example "info" or "referee=debug,info".
    #[arg(long, env = "REFEREE_LOG", default_value = "info", global = true)]
    pub log: String,

    /// Log line format.
    #[arg(long, env = "REFEREE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default when no subcommand is given).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as JSON and exit; needs no database.
    Openapi,
    /// Import a referee-import/1 document (see docs/import-format.md), all or nothing, and
    /// print the counts of what was created.
    Import {
        /// Path of the JSON document.
        path: PathBuf,
        /// UUID of an existing call to import into; without it the document creates a call.
        #[arg(long)]
        call: Option<String>,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user and print a new API token for it (shown once).
    Create(CreateUserOptions),
    /// Print a new API token for an existing user (shown once).
    Token {
        /// Username of the existing user.
        username: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct CreateUserOptions {
    /// Unique login name.
    #[arg(long)]
    pub username: String,
    /// E-mail address.
    #[arg(long, default_value = "")]
    pub email: String,
    /// Full name shown in responses.
    #[arg(long, default_value = "")]
    pub full_name: String,
    /// Make the user staff: full access to everything.
    #[arg(long)]
    pub staff: bool,
    /// Make the user support: read access to everything, no writes.
    #[arg(long)]
    pub support: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeOptions {
    /// Address and port to listen on.
    #[arg(long, env = "REFEREE_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Origin used in hyperlinks instead of the request's Host header, for example
    /// https://referee.example.org (no trailing path). Unset: taken from each request.
    #[arg(long, env = "REFEREE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Maximum number of database connections in the pool.
    #[arg(long, env = "REFEREE_POOL_SIZE", default_value_t = 10)]
    pub pool_size: u32,

    /// Seconds a request waits for a free database connection before it is answered with 503.
    #[arg(long, env = "REFEREE_POOL_TIMEOUT_SECS", default_value_t = 5)]
    pub pool_timeout_secs: u64,

    /// Largest accepted request body, in bytes; larger bodies are answered with 413.
    #[arg(long, env = "REFEREE_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds after which a request is stopped and answered with 408; 0 disables the limit.
    #[arg(long, env = "REFEREE_REQUEST_TIMEOUT_SECS", default_value_t = 60)]
    pub request_timeout_secs: u64,

    /// Seconds that in-flight requests get to finish after SIGINT or SIGTERM.
    #[arg(long, env = "REFEREE_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,

    /// Seconds between attempts to reach and migrate the database while it is down at start.
    #[arg(long, env = "REFEREE_DATABASE_RETRY_SECS", default_value_t = 5)]
    pub database_retry_secs: u64,

    /// Origins whose browsers may call the API (CORS), comma-separated, for example
    /// https://waldur.example.org; "*" allows any origin. Unset: no CORS headers.
    #[arg(long, env = "REFEREE_CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,

    /// Seconds between runs of the background jobs (batch and invitation expiry, reminders,
    /// review expiry); 0 disables them.
    #[arg(long, env = "REFEREE_SCHEDULER_INTERVAL_SECS", default_value_t = 60)]
    pub scheduler_interval_secs: u64,

    /// Do not create a staff user on an empty database.
    #[arg(long, env = "REFEREE_NO_BOOTSTRAP_USER")]
    pub no_bootstrap_user: bool,
}

/// Creates the directory of an SQLite file when it does not exist yet.
pub fn ensure_sqlite_directory(path: &str) -> std::io::Result<()> {
    let parent = PathBuf::from(path)
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    if parent.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(parent)
}
