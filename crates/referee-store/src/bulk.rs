//! Limits and times for statements that insert many rows at once.

use chrono::{DateTime, Duration, Utc};

use crate::sql_types::DbTime;

/// Maximum bind parameters in one statement on both backends. SQLite's limit
/// (`SQLITE_MAX_VARIABLE_NUMBER`, 32,766 by default since SQLite 3.32, and the bundled
/// build does not raise it) is below PostgreSQL's 65,535.
pub(crate) const MAX_BIND_PARAMETERS: usize = 32_766;

/// Maximum rows in one INSERT into a table with `columns` bound values per row.
pub(crate) const fn rows_per_insert(columns: usize) -> usize {
    MAX_BIND_PARAMETERS / columns
}

/// Runs `diesel::insert_into(table).values(rows)` for a `Vec` of rows as one multi-row
/// INSERT. It matches on the concrete connection because Diesel 2.4's `MultiConnection`
/// does not build batch inserts for SQLite. Evaluates to a `QueryResult` of the rows
/// inserted.
macro_rules! insert_rows {
    ($connection:expr, $table:expr, $rows:expr) => {
        match $connection {
            $crate::connection::AnyConnection::Postgresql(connection) => {
                diesel::insert_into($table)
                    .values($rows)
                    .execute(connection)
            }
            $crate::connection::AnyConnection::Sqlite(connection) => diesel::insert_into($table)
                .values($rows)
                .execute(connection),
        }
    };
}
pub(crate) use insert_rows;

/// Hands out `created` times that increase strictly, in microsecond steps, from the current
/// time. Rows inserted together by one statement then keep the order in which they were
/// planned in every list sorted by creation time, as rows inserted one by one do.
#[derive(Debug, Default)]
pub struct CreationClock {
    last: Option<DateTime<Utc>>,
}

impl CreationClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the current time truncated to microseconds, or one microsecond after the
    /// previous time when the clock has not moved past it.
    pub fn next(&mut self) -> DateTime<Utc> {
        let now = DbTime::from(Utc::now()).0;
        let at = match self.last {
            Some(last) if now <= last => last + Duration::microseconds(1),
            _ => now,
        };
        self.last = Some(at);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_increase_strictly() {
        let mut clock = CreationClock::new();
        let times: Vec<DateTime<Utc>> = (0..1_000).map(|_| clock.next()).collect();
        for pair in times.windows(2) {
            assert!(pair[0] < pair[1], "{} is not before {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn clock_times_have_microsecond_resolution() {
        let mut clock = CreationClock::new();
        let at = clock.next();
        assert_eq!(DbTime::from(at).0, at);
    }

    #[test]
    fn rows_fit_bind_limit() {
        for columns in [2, 11, 14, 15] {
            let rows = rows_per_insert(columns);
            assert!(rows * columns <= MAX_BIND_PARAMETERS);
            assert!((rows + 1) * columns > MAX_BIND_PARAMETERS);
        }
    }
}
