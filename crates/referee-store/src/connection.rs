//! The connection enum over both backends and the r2d2 pool that hands it out.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::{Connection, ConnectionError, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to PostgreSQL or SQLite; the URL scheme chooses which.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// The database product behind a URL or a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Postgres,
    Sqlite,
}

impl AnyConnection {
    pub fn kind(&self) -> BackendKind {
        match self {
            Self::Postgresql(_) => BackendKind::Postgres,
            Self::Sqlite(_) => BackendKind::Sqlite,
        }
    }
}

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// How long SQLite waits for another writer's lock before it reports the database busy.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A database URL that names a backend and where to find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    kind: BackendKind,
    /// What the driver receives: the URL itself for PostgreSQL, the file path for SQLite.
    target: String,
}

impl DatabaseUrl {
    /// Parses `postgres://…`, `postgresql://…` or `sqlite://PATH` (also `sqlite:PATH`).
    pub fn parse(url: &str) -> Result<Self, ConnectionError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                kind: BackendKind::Postgres,
                target: url.to_owned(),
            });
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(ConnectionError::InvalidConnectionUrl(format!(
                    "the SQLite URL {url:?} names no file; use sqlite://PATH, for example sqlite://./referee-data/referee.db"
                )));
            }
            return Ok(Self {
                kind: BackendKind::Sqlite,
                target: path.to_owned(),
            });
        }
        Err(ConnectionError::InvalidConnectionUrl(format!(
            "unsupported database URL {:?}; use postgres://USER@HOST:PORT/DATABASE or sqlite://PATH",
            redact(url)
        )))
    }

    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// The SQLite file path, or `None` for PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&str> {
        match self.kind {
            BackendKind::Sqlite => Some(&self.target),
            BackendKind::Postgres => None,
        }
    }

    /// Opens one connection and prepares it (SQLite pragmas), reporting the driver's own error.
    /// Every statement the connection runs afterwards emits a [`SQL_LOG_TARGET`] debug event.
    pub fn establish(&self) -> Result<AnyConnection, ConnectionError> {
        let mut connection = self.establish_plain()?;
        log_statements(&mut connection);
        Ok(connection)
    }

    fn establish_plain(&self) -> Result<AnyConnection, ConnectionError> {
        match self.kind {
            BackendKind::Postgres => {
                PgConnection::establish(&self.target).map(AnyConnection::Postgresql)
            }
            BackendKind::Sqlite => {
                let mut connection = SqliteConnection::establish(&self.target)?;
                let pragmas = format!(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                    SQLITE_BUSY_TIMEOUT.as_millis()
                );
                connection.batch_execute(&pragmas).map_err(|error| {
                    ConnectionError::BadConnection(format!(
                        "setting SQLite pragmas failed: {error}"
                    ))
                })?;
                Ok(AnyConnection::Sqlite(connection))
            }
        }
    }
}

/// Tracing target of the debug event that every SQL statement emits when it starts, with the
/// statement and its bind values. `REFEREE_LOG=info,referee_store::sql=debug` logs them, which
/// is how `cargo xtask bench api` counts the statements per request. Diesel sends BEGIN,
/// COMMIT and the pool's check-out ping (`SELECT 1`) as statements too, so they are logged.
pub const SQL_LOG_TARGET: &str = "referee_store::sql";

/// Makes every statement that the connection runs emit a [`SQL_LOG_TARGET`] debug event,
/// replacing the connection's instrumentation. Connections from [`DatabaseUrl::establish`]
/// have it already.
pub fn log_statements(connection: &mut AnyConnection) {
    connection.set_instrumentation(log_statement);
}

fn log_statement(event: InstrumentationEvent<'_>) {
    if let InstrumentationEvent::StartQuery { query, .. } = event {
        tracing::debug!(target: SQL_LOG_TARGET, %query, "statement started");
    }
}

/// Replaces the password of a URL with `***` so that it can be logged.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Runs every pending migration of the connection's backend.
pub fn run_migrations(connection: &mut AnyConnection) -> Result<Vec<String>, String> {
    let applied = match connection {
        AnyConnection::Postgresql(connection) => {
            connection.run_pending_migrations(POSTGRES_MIGRATIONS)
        }
        AnyConnection::Sqlite(connection) => connection.run_pending_migrations(SQLITE_MIGRATIONS),
    };
    applied
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|error| format!("running migrations failed: {error}"))
}

/// Runs a trivial query to check that the connection works.
pub fn ping(connection: &mut AnyConnection) -> crate::error::StoreResult<()> {
    connection.batch_execute("SELECT 1")?;
    Ok(())
}

/// How long after a connection went back to the pool it is handed out again without the
/// `SELECT 1` check. A connection in steady use is checked by its last statement. One that
/// sat idle longer may have been cut by a database restart or a network failure, so it is
/// checked first. A connection that fails within the window reports `ClosedConnection`,
/// so that request gets a 503, and the pool then drops the connection as broken.
pub const CHECK_BYPASS_WINDOW: Duration = Duration::from_millis(500);

/// A connection owned by the pool, with the time it last went back to the pool.
pub struct PooledAny {
    connection: AnyConnection,
    released_at: Instant,
}

impl Deref for PooledAny {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.connection
    }
}

impl DerefMut for PooledAny {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.connection
    }
}

/// The r2d2 manager: opens connections through [`DatabaseUrl::establish`], so a refused
/// connection reports the driver's message instead of a generic one, and checks a connection
/// on check-out only when it sat idle longer than [`CHECK_BYPASS_WINDOW`].
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = PooledAny;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Self::Connection, Self::Error> {
        Ok(PooledAny {
            connection: self.url.establish()?,
            released_at: Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Self::Connection) -> Result<(), Self::Error> {
        if pooled.released_at.elapsed() < CHECK_BYPASS_WINDOW {
            return Ok(());
        }
        pooled
            .connection
            .ping()
            .map_err(|error| ConnectionError::BadConnection(error.to_string()))
    }

    /// r2d2 calls this whenever a connection goes back to the pool.
    fn has_broken(&self, pooled: &mut Self::Connection) -> bool {
        pooled.released_at = Instant::now();
        pooled.connection.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Maximum number of open connections.
    pub max_size: u32,
    /// How long a request waits for a free connection before it fails.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 10,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// Builds a pool without opening a connection first, so that a server can start while its
/// database is down and serve 503 until it comes back.
pub fn build_pool(url: &DatabaseUrl, options: &PoolOptions) -> Pool {
    r2d2::Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(0))
        .connection_timeout(options.connection_timeout)
        .test_on_check_out(true)
        .error_handler(Box::new(r2d2::LoggingErrorHandler))
        .build_unchecked(ConnectionManager::new(url.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_picks_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/d").unwrap().kind(),
            BackendKind::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/d").unwrap().kind(),
            BackendKind::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/r.db")
                .unwrap()
                .sqlite_path(),
            Some("data/r.db")
        );
        assert!(DatabaseUrl::parse("mysql://u@h/d").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn redact_hides_password() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/d"),
            "postgres://u:***@h:5432/d"
        );
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
    }

    #[test]
    fn refused_postgres_reports_driver_error() {
        let url = DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").unwrap();
        let Err(error) = url.establish() else {
            panic!("port 1 accepted a connection")
        };
        let message = error.to_string();
        assert!(
            message.contains("127.0.0.1") || message.contains("refused"),
            "{message}"
        );
    }
}
