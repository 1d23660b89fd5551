//! The background scheduler: one tick expires what is due, a second changes nothing, and on
//! PostgreSQL only the server holding the advisory lock runs a tick.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use referee_conformance::{DatabaseBackend, TestApp, on_both_backends};
use referee_store::scheduler::{self, ADVISORY_LOCK_KEY};

on_both_backends!(scheduler_tick_is_idempotent, scheduler_skips_while_locked);

async fn scheduler_tick_is_idempotent(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let item = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    app.invited_reviewer(&setup.call_uuid, "late").await;

    let later = Utc::now() + Duration::days(8);
    let first = app
        .state
        .run(move |connection| scheduler::run_tick(connection, later))
        .await
        .unwrap();
    assert!(!first.skipped);
    assert_eq!(first.invitations_expired, 1);
    assert_eq!(first.batches_expired, 1);

    let second = app
        .state
        .run(move |connection| scheduler::run_tick(connection, later))
        .await
        .unwrap();
    assert!(!second.changed_anything(), "{second:?}");

    let batch = app
        .get(
            &app.staff,
            &format!("/api/assignment-batches/{}/", item.batch_uuid),
        )
        .await
        .expect(200);
    assert_eq!(batch.str("status"), "expired");
    let item = app
        .get(
            &app.staff,
            &format!("/api/assignment-items/{}/", item.item_uuid),
        )
        .await
        .expect(200);
    assert_eq!(item.str("status"), "expired");
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

async fn scheduler_skips_while_locked(app: TestApp) {
    let backend = app.backend;
    let pool = app.state.pool().clone();
    let report = tokio::task::spawn_blocking(move || {
        let mut holder = pool.get().unwrap();
        let mut runner = pool.get().unwrap();
        holder
            .transaction::<_, diesel::result::Error, _>(|holder| {
                if backend == DatabaseBackend::Postgres {
                    let lock = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
                        .bind::<BigInt, _>(ADVISORY_LOCK_KEY)
                        .get_result::<Locked>(holder)?;
                    assert!(lock.locked);
                }
                Ok(scheduler::run_tick(&mut runner, Utc::now()).unwrap())
            })
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(report.skipped, backend == DatabaseBackend::Postgres);
}
