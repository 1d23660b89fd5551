//! One tick of the background scheduler: the periodic jobs of the assignment workflow.
//!
//! Every job is idempotent: a second tick at the same time changes nothing. On PostgreSQL a
//! tick runs in one transaction that first takes a transaction-level advisory lock. When
//! several servers share a database, only the server holding the lock runs the tick and the
//! others skip it.
//! On SQLite each job takes the database's write lock in turn.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use crate::connection::AnyConnection;
use crate::error::StoreResult;

/// Advisory lock key of the scheduler (the ASCII bytes of "referee1").
pub const ADVISORY_LOCK_KEY: i64 = 0x7265_6665_7265_6531;

/// Counts of the changes one tick made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Another server held the lock, so this one ran nothing.
    pub skipped: bool,
    pub invitations_expired: usize,
    pub batches_expired: usize,
    pub reminders_sent: usize,
    pub managers_notified: usize,
    pub reviews_expired: usize,
}

impl TickReport {
    pub fn changed_anything(&self) -> bool {
        self.invitations_expired
            + self.batches_expired
            + self.reminders_sent
            + self.managers_notified
            + self.reviews_expired
            > 0
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

fn run_jobs(connection: &mut AnyConnection, now: DateTime<Utc>) -> StoreResult<TickReport> {
    Ok(TickReport {
        skipped: false,
        invitations_expired: crate::pool::expire_invitations(connection, now)?,
        batches_expired: crate::batches::expire_batches(connection, now)?,
        reminders_sent: crate::batches::send_expiry_reminders(connection, now)?,
        managers_notified: crate::batches::notify_managers_of_expired_batches(connection, now)?,
        reviews_expired: crate::reviews::expire_reviews(connection, now)?,
    })
}

/// Runs every periodic job once, as of `now`.
pub fn run_tick(connection: &mut AnyConnection, now: DateTime<Utc>) -> StoreResult<TickReport> {
    match connection {
        AnyConnection::Postgresql(_) => connection.transaction(|connection| {
            let lock = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                .bind::<BigInt, _>(ADVISORY_LOCK_KEY)
                .get_result::<Locked>(connection)?;
            if !lock.locked {
                tracing::debug!("another server runs this scheduler tick");
                return Ok(TickReport {
                    skipped: true,
                    ..TickReport::default()
                });
            }
            run_jobs(connection, now)
        }),
        AnyConnection::Sqlite(_) => run_jobs(connection, now),
    }
}
