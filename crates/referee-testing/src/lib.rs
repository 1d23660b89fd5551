//! Per-test databases for the referee test suites.
//!
//! A [`TestDatabase`] belongs to one test and is removed when the value is dropped. On SQLite it
//! is a file in its own temporary directory. On PostgreSQL it is a database cloned from the
//! migrated template named by `TEST_DATABASE_URL`, which `cargo xtask conformance` sets up.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use tempfile::TempDir;
use url::Url;

/// Environment variable with the URL of the migrated PostgreSQL template database.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Environment variable that makes a missing `TEST_DATABASE_URL` fail the test when set to `1`.
pub const REQUIRE_POSTGRES: &str = "REFEREE_REQUIRE_POSTGRES";

/// File name of the SQLite database inside its temporary directory.
const SQLITE_FILE_NAME: &str = "referee.db";

/// Database on the same server that the clones are created from and dropped from.
const MAINTENANCE_DATABASE: &str = "postgres";

/// Attempts at `CREATE DATABASE … TEMPLATE …` before the test fails. PostgreSQL rejects the
/// statement when another session stays connected to the template for about 5 s, which can
/// happen when a tool inspects the template during a run. Connection errors are not retried.
const CLONE_ATTEMPTS: u32 = 5;

/// Delay before the first retry. It doubles after every failed attempt (0.1 s to 0.8 s).
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Clones made by this process so far. Together with the process id and a random suffix it
/// makes every clone name unique, also across test processes that share a server.
static CLONE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Database backend of a [`TestDatabase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Lower-case name, the same word that ends the names of backend tests (`…::sqlite`).
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Database owned by one test, removed when the value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    location: Location,
}

#[derive(Debug)]
enum Location {
    /// The directory contains the database file and its `-wal`/`-shm` companions.
    Sqlite { _dir: TempDir },
    /// A clone on a PostgreSQL server, dropped through the maintenance database.
    Postgres { maintenance_url: Url, name: String },
}

impl TestDatabase {
    /// Creates a SQLite database location in a new temporary directory.
    ///
    /// The URL is `sqlite://<absolute path>/referee.db`. The file itself does not exist yet,
    /// because the server creates it and runs the migrations when it starts.
    ///
    /// # Panics
    ///
    /// Panics if the temporary directory cannot be created.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::Builder::new()
            .prefix("referee-test-")
            .tempdir()
            .unwrap_or_else(|error| {
                panic!("failed to create a temporary directory for a SQLite test database: {error}")
            });

        // The temporary directory comes from TMPDIR, which may be relative or contain symlinks.
        let dir_path = dir.path().canonicalize().unwrap_or_else(|error| {
            panic!(
                "failed to resolve the temporary directory {}: {error}",
                dir.path().display()
            )
        });
        let file_path = dir_path.join(SQLITE_FILE_NAME);
        let Some(file_path) = file_path.to_str() else {
            panic!(
                "the temporary directory {} is not valid UTF-8, so it cannot go into a database URL; set TMPDIR to a UTF-8 path",
                dir_path.display()
            );
        };

        TestDatabase {
            url: format!("sqlite://{file_path}"),
            location: Location::Sqlite { _dir: dir },
        }
    }

    /// Clones the template database named by `TEST_DATABASE_URL` into a new database.
    ///
    /// Returns `None`, after printing a warning to stderr, when `TEST_DATABASE_URL` is not set,
    /// so that a plain `cargo test` still runs the SQLite tests. Dropping the value runs
    /// `DROP DATABASE … WITH (FORCE)`, which also ends the sessions still connected to the clone.
    ///
    /// # Panics
    ///
    /// Panics when `TEST_DATABASE_URL` is missing and `REFEREE_REQUIRE_POSTGRES` is `1`, when the
    /// URL is not a valid `postgres://` URL, when the server cannot be reached, and when the clone
    /// still fails after the retries. The message contains the driver's error.
    pub fn postgres() -> Option<TestDatabase> {
        let template_url = match std::env::var(TEST_DATABASE_URL) {
            Ok(value) if !value.trim().is_empty() => Some(value),
            Ok(_) | Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                panic!("{TEST_DATABASE_URL} is not valid UTF-8")
            }
        };
        let require = std::env::var(REQUIRE_POSTGRES).is_ok_and(|value| value == "1");

        postgres_from(template_url.as_deref(), require)
    }

    /// Creates a database on the given backend: [`TestDatabase::sqlite`] or
    /// [`TestDatabase::postgres`], so `None` means the PostgreSQL test is skipped.
    pub fn for_backend(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => Some(TestDatabase::sqlite()),
            Backend::Postgres => TestDatabase::postgres(),
        }
    }

    /// Connection URL in the form the server's `REFEREE_DATABASE_URL` accepts.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Backend the database lives on.
    pub fn backend(&self) -> Backend {
        match self.location {
            Location::Sqlite { .. } => Backend::Sqlite,
            Location::Postgres { .. } => Backend::Postgres,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Location::Postgres {
            maintenance_url,
            name,
        } = &self.location
        else {
            return;
        };

        let statement = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(name)
        );
        let result = PgConnection::establish(maintenance_url.as_str())
            .map_err(|error| error.to_string())
            .and_then(|mut connection| {
                connection
                    .batch_execute(&statement)
                    .map_err(|error| error.to_string())
            });

        // A panic here would abort the process while a failing test is already unwinding, so a
        // failed drop only leaves the clone behind. The whole server goes away after the run.
        if let Err(error) = result {
            eprintln!(
                "warning: failed to drop the test database {name} on {}: {error}",
                redact(maintenance_url)
            );
        }
    }
}

/// Implements [`TestDatabase::postgres`] once the environment has been read.
fn postgres_from(template_url: Option<&str>, require: bool) -> Option<TestDatabase> {
    let Some(template_url) = template_url else {
        if require {
            panic!(
                "{TEST_DATABASE_URL} is not set but {REQUIRE_POSTGRES}=1 requires the PostgreSQL tests to run; \
                 run `cargo xtask conformance`, or set {TEST_DATABASE_URL} to the URL of a migrated template database"
            );
        }
        eprintln!(
            "WARNING: PostgreSQL test SKIPPED because {TEST_DATABASE_URL} is not set; run `cargo xtask conformance` to include it"
        );
        return None;
    };

    let template = TemplateUrl::parse(template_url);
    let name = unique_clone_name();
    create_clone(&template, &name);

    let mut clone_url = template.url.clone();
    clone_url.set_path(&format!("/{name}"));

    Some(TestDatabase {
        url: clone_url.to_string(),
        location: Location::Postgres {
            maintenance_url: template.maintenance_url,
            name,
        },
    })
}

/// Parsed `TEST_DATABASE_URL`.
struct TemplateUrl {
    url: Url,
    template_name: String,
    maintenance_url: Url,
}

impl TemplateUrl {
    fn parse(raw: &str) -> TemplateUrl {
        let url = Url::parse(raw).unwrap_or_else(|error| {
            panic!("{TEST_DATABASE_URL} is not a valid URL ({error}); expected postgres://user@host:port/template")
        });
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            panic!(
                "{TEST_DATABASE_URL} must be a postgres:// URL, but its scheme is `{}`",
                url.scheme()
            );
        }

        let template_name = url.path().trim_start_matches('/').to_owned();
        if template_name.is_empty() {
            panic!(
                "{TEST_DATABASE_URL} ({}) names no database; expected postgres://user@host:port/template",
                redact(&url)
            );
        }
        // NOTE: the name is used as written, so a percent-encoded database name is rejected
        // instead of being decoded.
        if template_name.contains(['%', '/']) {
            panic!(
                "{TEST_DATABASE_URL} names the database `{template_name}`; use a template name without `%` or `/`"
            );
        }

        let mut maintenance_url = url.clone();
        maintenance_url.set_path(&format!("/{MAINTENANCE_DATABASE}"));

        TemplateUrl {
            url,
            template_name,
            maintenance_url,
        }
    }
}

/// Returns a database name that no other clone in this or another test process uses.
fn unique_clone_name() -> String {
    let counter = CLONE_COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix: u32 = rand::random();
    format!("referee_test_{}_{counter}_{suffix:08x}", std::process::id())
}

/// Runs `CREATE DATABASE <name> TEMPLATE <template>`, retrying while the statement fails.
fn create_clone(template: &TemplateUrl, name: &str) {
    let maintenance = redact(&template.maintenance_url);
    let mut connection =
        PgConnection::establish(template.maintenance_url.as_str()).unwrap_or_else(|error| {
            panic!(
                "failed to connect to the PostgreSQL maintenance database {maintenance}: {error}"
            )
        });

    let statement = format!(
        "CREATE DATABASE {} TEMPLATE {}",
        quote_identifier(name),
        quote_identifier(&template.template_name)
    );
    let mut delay = FIRST_RETRY_DELAY;
    for attempt in 1..=CLONE_ATTEMPTS {
        let error = match connection.batch_execute(&statement) {
            Ok(()) => return,
            Err(error) => error,
        };
        if attempt == CLONE_ATTEMPTS {
            panic!(
                "failed to clone the template database {} into {name} on {maintenance} after {CLONE_ATTEMPTS} attempts: {error}",
                template.template_name
            );
        }
        eprintln!(
            "retrying in {} ms: attempt {attempt} of {CLONE_ATTEMPTS} to clone the template database {} failed: {error}",
            delay.as_millis(),
            template.template_name
        );
        thread::sleep(delay);
        delay *= 2;
    }
}

/// Quotes a PostgreSQL identifier, doubling any embedded double quote.
fn quote_identifier(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Returns the URL without its password, for messages.
fn redact(url: &Url) -> String {
    let mut redacted = url.clone();
    if redacted.password().is_some() {
        // set_password fails only for URLs without a host, and such a URL has no password.
        let _ = redacted.set_password(Some("***"));
    }
    redacted.to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use diesel::sql_types::{BigInt, Text};
    use diesel::{RunQueryDsl, SqliteConnection};

    use super::*;

    fn sqlite_path(database: &TestDatabase) -> &Path {
        let path = database
            .url()
            .strip_prefix("sqlite://")
            .unwrap_or_else(|| panic!("unexpected SQLite URL {}", database.url()));
        Path::new(path)
    }

    #[test]
    fn sqlite_url_is_absolute_file_path() {
        let database = TestDatabase::sqlite();
        let path = sqlite_path(&database);

        assert_eq!(database.backend(), Backend::Sqlite);
        assert!(path.is_absolute(), "{} is not absolute", path.display());
        assert_eq!(
            path.file_name().and_then(|name| name.to_str()),
            Some("referee.db")
        );
        assert!(!path.exists(), "{} exists before first use", path.display());
        assert!(path.parent().is_some_and(Path::is_dir));
    }

    #[test]
    fn sqlite_databases_are_distinct() {
        let first = TestDatabase::sqlite();
        let second = TestDatabase::sqlite();

        assert_ne!(first.url(), second.url());
    }

    #[test]
    fn sqlite_directory_removed_on_drop() {
        let database = TestDatabase::sqlite();
        let dir = sqlite_path(&database)
            .parent()
            .expect("database file has a parent directory")
            .to_path_buf();
        std::fs::write(dir.join("referee.db-wal"), b"leftover").expect("write into the directory");

        drop(database);

        assert!(!dir.exists(), "{} still exists after drop", dir.display());
    }

    mod sqlite_file_accepts_connections {
        use super::*;

        #[test]
        fn sqlite() {
            let database = TestDatabase::sqlite();
            let path = sqlite_path(&database).to_str().expect("UTF-8 path");

            let mut connection = SqliteConnection::establish(path).expect("open the SQLite file");
            connection
                .batch_execute(
                    "CREATE TABLE probe (id INTEGER PRIMARY KEY); INSERT INTO probe VALUES (1);",
                )
                .expect("write to the SQLite file");
            let count: i64 =
                diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM probe)"))
                    .get_result(&mut connection)
                    .expect("read from the SQLite file");

            assert_eq!(count, 1);
        }
    }

    #[test]
    fn backend_names_match_test_suffixes() {
        assert_eq!(Backend::Sqlite.to_string(), "sqlite");
        assert_eq!(Backend::Postgres.to_string(), "postgres");
    }

    #[test]
    fn for_backend_sqlite_returns_sqlite() {
        let database =
            TestDatabase::for_backend(Backend::Sqlite).expect("SQLite is always available");

        assert_eq!(database.backend(), Backend::Sqlite);
    }

    #[test]
    fn missing_template_url_skips() {
        assert!(postgres_from(None, false).is_none());
    }

    #[test]
    #[should_panic(expected = "run `cargo xtask conformance`")]
    fn missing_template_url_panics_when_required() {
        postgres_from(None, true);
    }

    #[test]
    fn quote_identifier_doubles_quotes() {
        assert_eq!(quote_identifier("plain"), "\"plain\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn clone_names_are_unique_identifiers() {
        let names: HashSet<String> = (0..100).map(|_| unique_clone_name()).collect();

        assert_eq!(names.len(), 100);
        for name in &names {
            assert!(
                name.len() <= 63,
                "{name} is longer than PostgreSQL's 63-byte limit"
            );
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name} needs quoting"
            );
        }
    }

    #[test]
    fn template_url_parts() {
        let template = TemplateUrl::parse(
            "postgres://postgres:secret@127.0.0.1:5433/referee_template?sslmode=disable",
        );

        assert_eq!(template.template_name, "referee_template");
        assert_eq!(
            template.maintenance_url.as_str(),
            "postgres://postgres:secret@127.0.0.1:5433/postgres?sslmode=disable"
        );
        assert_eq!(
            redact(&template.maintenance_url),
            "postgres://postgres:***@127.0.0.1:5433/postgres?sslmode=disable"
        );
    }

    #[test]
    #[should_panic(expected = "names no database")]
    fn template_url_without_database_panics() {
        TemplateUrl::parse("postgres://postgres@127.0.0.1:5433");
    }

    #[test]
    #[should_panic(expected = "must be a postgres:// URL")]
    fn template_url_with_other_scheme_panics() {
        TemplateUrl::parse("sqlite:///tmp/referee.db");
    }

    /// Runs only where `TEST_DATABASE_URL` is set, as under `cargo xtask conformance`.
    mod template_clone_lifecycle {
        use super::*;

        fn database_count(maintenance: &mut PgConnection, name: &str) -> i64 {
            let query = format!("(SELECT count(*) FROM pg_database WHERE datname = '{name}')");
            diesel::select(diesel::dsl::sql::<BigInt>(&query))
                .get_result(maintenance)
                .expect("query pg_database")
        }

        #[test]
        fn postgres() {
            let Some(database) = TestDatabase::postgres() else {
                return;
            };
            let Location::Postgres {
                maintenance_url,
                name,
            } = &database.location
            else {
                panic!(
                    "TestDatabase::postgres returned a {} database",
                    database.backend()
                );
            };
            let name = name.clone();
            let mut maintenance = PgConnection::establish(maintenance_url.as_str())
                .expect("connect to the maintenance database");

            assert_eq!(database.backend(), Backend::Postgres);
            assert!(database.url().starts_with("postgres"), "{}", database.url());

            let mut connection =
                PgConnection::establish(database.url()).expect("connect to the clone");
            let current: String = diesel::select(diesel::dsl::sql::<Text>("current_database()"))
                .get_result(&mut connection)
                .expect("query current_database()");
            assert_eq!(current, name);

            let other = TestDatabase::postgres().expect("second clone");
            assert_ne!(other.url(), database.url());

            // The open session must not prevent the drop.
            drop(database);
            assert_eq!(
                database_count(&mut maintenance, &name),
                0,
                "{name} still exists after drop"
            );
            drop(connection);
        }
    }
}
