//! Both backends end up with the same tables, columns and nullability after migrating.

use std::collections::BTreeSet;
use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_migrations::MigrationHarness;
use referee_store::{AnyConnection, DatabaseUrl, run_migrations};
use referee_testing::TestDatabase;

#[derive(QueryableByName, Debug)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

type Columns = BTreeSet<(String, String, bool)>;

/// The item counters per (call, status), which only SQLite keeps.
const SQLITE_ONLY_TABLE: &str = "assignment_item_counts";

fn columns(connection: &mut AnyConnection) -> Columns {
    let query = match connection {
        AnyConnection::Postgresql(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
        }
        AnyConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"
        }
    };
    diesel::sql_query(query)
        .load::<ColumnRow>(connection)
        .expect("reading the catalogue")
        .into_iter()
        .map(|row| (row.table_name, row.column_name, row.nullable))
        .collect()
}

fn migrated(database: &TestDatabase) -> AnyConnection {
    let mut connection = DatabaseUrl::parse(database.url())
        .unwrap()
        .establish()
        .expect("connecting");
    run_migrations(&mut connection).expect("migrating");
    connection
}

fn migration_versions(backend: &str) -> Vec<String> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<String> = std::fs::read_dir(directory)
        .expect("reading the migrations directory")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    versions.sort();
    versions
}

#[test]
fn migration_folders_have_same_versions() {
    assert_eq!(migration_versions("postgres"), migration_versions("sqlite"));
}

#[test]
fn backends_have_same_columns() {
    let sqlite_database = TestDatabase::sqlite();
    let sqlite_columns = columns(&mut migrated(&sqlite_database));
    assert!(
        sqlite_columns
            .iter()
            .any(|(table, _, _)| table == "call_reviewer_pools")
    );

    let Some(postgres_database) = TestDatabase::postgres() else {
        return;
    };
    let postgres_columns = columns(&mut migrated(&postgres_database));
    let sqlite_columns: Columns = sqlite_columns
        .into_iter()
        .filter(|(table, _, _)| table != SQLITE_ONLY_TABLE)
        .collect();

    let only_sqlite: Vec<_> = sqlite_columns.difference(&postgres_columns).collect();
    let only_postgres: Vec<_> = postgres_columns.difference(&sqlite_columns).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "columns differ (table, column, nullable):\nonly on SQLite: {only_sqlite:#?}\nonly on PostgreSQL: {only_postgres:#?}"
    );
}

#[test]
fn migrations_are_idempotent() {
    let database = TestDatabase::sqlite();
    let mut connection = migrated(&database);
    assert!(
        run_migrations(&mut connection)
            .expect("second run")
            .is_empty()
    );
}

/// Version of the migration that creates the SQLite item counters, as diesel prints it.
const ITEM_COUNTS_VERSION: &str = "20261205010000";

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct CountRow {
    #[diesel(sql_type = Text)]
    call_uuid: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    items: i64,
}

#[test]
fn item_counts_back_filled() {
    let database = TestDatabase::sqlite();
    let mut connection = migrated(&database);
    let AnyConnection::Sqlite(sqlite) = &mut connection else {
        panic!("TestDatabase::sqlite opened another backend");
    };
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let migrations = diesel_migrations::FileBasedMigrations::from_path(directory)
        .expect("reading the SQLite migrations");
    while sqlite
        .applied_migrations()
        .expect("listing applied migrations")
        .iter()
        .any(|version| version.to_string() == ITEM_COUNTS_VERSION)
    {
        sqlite
            .revert_last_migration(migrations.clone())
            .expect("reverting a migration");
    }

    // Items of two calls, written before the counters exist. Foreign keys are off, so the
    // rows need no calls, batches or proposals.
    sqlite
        .batch_execute(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO assignment_items (uuid, batch_uuid, proposal_uuid, call_uuid, pool_entry_uuid, status, created, modified) VALUES
                 ('i1', 'b', 'p1', 'c1', 'e', 'pending', '', ''),
                 ('i2', 'b', 'p2', 'c1', 'e', 'pending', '', ''),
                 ('i3', 'b', 'p3', 'c1', 'e', 'accepted', '', ''),
                 ('i4', 'b', 'p4', 'c2', 'e', 'pending', '', '');",
        )
        .expect("inserting items");
    sqlite
        .run_pending_migrations(migrations)
        .expect("migrating again");

    let count_rows = |sqlite: &mut SqliteConnection, sql: &str| {
        let mut rows = diesel::sql_query(sql)
            .load::<CountRow>(sqlite)
            .expect("reading counts");
        rows.sort();
        rows
    };
    let counters = count_rows(
        sqlite,
        "SELECT call_uuid, status, item_count AS items FROM assignment_item_counts",
    );
    assert_eq!(
        counters,
        count_rows(
            sqlite,
            "SELECT call_uuid, status, count(*) AS items FROM assignment_items GROUP BY call_uuid, status",
        )
    );
    assert_eq!(counters.len(), 3, "counter rows: {counters:?}");
}
