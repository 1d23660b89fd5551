//! Item counts: the SQLite counters per (call, status) stay equal to the items after every
//! kind of change, `X-Result-Count` of the item list is right for every role, and HEAD
//! returns the count of GET without a body.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use referee_conformance::{DatabaseBackend, TestApp, TestUser, on_both_backends};
use referee_domain::enums::ItemStatus;
use referee_store::AnyConnection;
use serde_json::{Value, json};

on_both_backends!(
    counters_follow_item_changes,
    counters_follow_cascade_deletes,
    item_count_by_role,
    item_head_matches_get,
    head_count_on_other_lists,
);

const ITEMS: &str = "/api/assignment-items/";

fn action_path(uuid: &str, action: &str) -> String {
    format!("{ITEMS}{uuid}/{action}/")
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    call_uuid: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    items: i64,
}

type Counts = BTreeMap<(String, String), i64>;

fn load_counts(connection: &mut AnyConnection, sql: &str) -> QueryResult<Counts> {
    Ok(diesel::sql_query(sql)
        .load::<CountRow>(connection)?
        .into_iter()
        .map(|row| ((row.call_uuid, row.status), row.items))
        .collect())
}

/// Checks on SQLite that the counter table has one row per (call, status) with items and
/// that each row contains `count(*)` of those items, and returns the counts. PostgreSQL
/// keeps no counters, so there it returns `None`.
async fn assert_counters_exact(app: &TestApp, step: &str) -> Option<Counts> {
    if app.backend != DatabaseBackend::Sqlite {
        return None;
    }
    let (counted, counters) = app
        .state
        .run(|connection| {
            let counted = load_counts(
                connection,
                "SELECT call_uuid, status, count(*) AS items FROM assignment_items \
                 GROUP BY call_uuid, status",
            )?;
            let counters = load_counts(
                connection,
                "SELECT call_uuid, status, item_count AS items FROM assignment_item_counts",
            )?;
            Ok((counted, counters))
        })
        .await
        .expect("reading the item counts");
    assert_eq!(counters, counted, "item counters after {step}");
    Some(counted)
}

/// Returns the number of items of a call with a status, as counted from the items.
fn items_with(counts: &Counts, call_uuid: &str, status: &str) -> i64 {
    counts
        .get(&(call_uuid.to_owned(), status.to_owned()))
        .copied()
        .unwrap_or(0)
}

async fn item_status(app: &TestApp, item_uuid: &str) -> String {
    app.get(&app.staff, &format!("{ITEMS}{item_uuid}/"))
        .await
        .expect(200)
        .str("status")
}

async fn counters_follow_item_changes(app: TestApp) {
    let setup = app.call_setup(4, 4).await;
    let call = setup.call_uuid.clone();
    let reviewers = &setup.reviewers;
    assert_counters_exact(&app, "the call setup").await;

    // Insert: the store's draft item and a manager's POST.
    let first = app
        .sent_item(&call, &reviewers[0], &setup.proposal_uuid(0))
        .await;
    let second = app
        .sent_item(&call, &reviewers[1], &setup.proposal_uuid(0))
        .await;
    let draft = app
        .draft_item(&call, &reviewers[2], &setup.proposal_uuid(1))
        .await;
    let created = app
        .post(
            &app.staff,
            ITEMS,
            json!({"batch": draft.batch_uuid, "proposal": setup.proposal_uuid(2)}),
        )
        .await
        .expect(201);
    let counts = assert_counters_exact(&app, "item create").await;
    if let Some(counts) = counts {
        assert_eq!(items_with(&counts, &call, "pending"), 4);
    }

    // Update of the status: accept, decline, reassign.
    app.post(
        &reviewers[0].user,
        &action_path(&first.item_uuid, "accept"),
        json!({}),
    )
    .await
    .expect(200);
    assert_counters_exact(&app, "accept").await;
    app.post(
        &reviewers[1].user,
        &action_path(&second.item_uuid, "decline"),
        json!({"reason": "No time"}),
    )
    .await
    .expect(200);
    assert_counters_exact(&app, "decline").await;
    app.post(
        &app.staff,
        &action_path(&second.item_uuid, "reassign"),
        json!({"reviewer_pool_entry_uuid": reviewers[3].entry_uuid()}),
    )
    .await
    .expect(200);
    assert_eq!(item_status(&app, &second.item_uuid).await, "reassigned");
    let counts = assert_counters_exact(&app, "reassign").await;
    if let Some(counts) = counts {
        assert_eq!(items_with(&counts, &call, "accepted"), 1);
        assert_eq!(items_with(&counts, &call, "reassigned"), 1);
        assert_eq!(items_with(&counts, &call, "declined"), 0);
    }

    // Force-unblock turns a COI-blocked item into a pending one.
    let conflicted = app
        .conflicted_reviewer(&call, "conflicted", &setup.proposal_uuid(3))
        .await;
    let blocked = app
        .sent_item(&call, &conflicted, &setup.proposal_uuid(3))
        .await;
    assert_eq!(item_status(&app, &blocked.item_uuid).await, "coi_blocked");
    assert_counters_exact(&app, "a COI-blocked item").await;
    app.post(
        &app.staff,
        &action_path(&blocked.item_uuid, "force-unblock"),
        json!({"override_reason": "The collaboration ended years ago"}),
    )
    .await
    .expect(200);
    assert_counters_exact(&app, "force-unblock").await;

    // A status change that the batch expiry makes directly.
    app.force_item_status(&created.str("uuid"), ItemStatus::Expired)
        .await;
    assert_counters_exact(&app, "expiry").await;

    // Delete: one item, then a whole batch.
    app.delete(&app.staff, &format!("{ITEMS}{}/", created.str("uuid")))
        .await
        .expect(204);
    assert_counters_exact(&app, "item delete").await;
    app.delete(
        &app.staff,
        &format!("/api/assignment-batches/{}/", first.batch_uuid),
    )
    .await
    .expect(204);
    assert_counters_exact(&app, "batch delete").await;

    // Bulk generation inserts many items at once.
    let generated = app
        .post(
            &app.staff,
            &format!("/api/proposal-protected-calls/{call}/generate-assignments/"),
            json!({"reviewers_per_proposal": 2}),
        )
        .await
        .expect(200);
    assert!(
        generated.body["items_created"].as_i64().unwrap_or(0) > 0,
        "generation created no items: {}",
        generated.body
    );
    assert_counters_exact(&app, "generation").await;

    // Every call-wide count agrees with the items on both backends.
    for status in ["", "pending", "accepted", "reassigned", "expired"] {
        let filter = if status.is_empty() {
            String::new()
        } else {
            format!("&status={status}")
        };
        let path = format!("{ITEMS}?call_uuid={call}{filter}&page_size=300");
        let reply = app.get(&app.staff, &path).await.expect(200);
        assert_eq!(
            reply.count(),
            reply.array().len() as i64,
            "X-Result-Count of {path}"
        );
    }
}

async fn counters_follow_cascade_deletes(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    let other = app.further_call_setup("other", 1, 1).await;
    for (index, reviewer) in setup.reviewers.iter().enumerate() {
        app.sent_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(index))
            .await;
    }
    app.sent_item(
        &setup.call_uuid,
        &setup.reviewers[0],
        &setup.proposal_uuid(1),
    )
    .await;
    app.sent_item(
        &other.call_uuid,
        &other.reviewers[0],
        &other.proposal_uuid(0),
    )
    .await;
    assert_counters_exact(&app, "the items of two calls").await;

    // Deleting a proposal deletes its items through ON DELETE CASCADE.
    app.delete(
        &app.staff,
        &format!("/api/proposal-proposals/{}/", setup.proposal_uuid(1)),
    )
    .await
    .expect(204);
    let counts = assert_counters_exact(&app, "a proposal delete").await;
    if let Some(counts) = counts {
        assert_eq!(items_with(&counts, &setup.call_uuid, "pending"), 1);
    }

    // Proposals restrict the deletion of their call, so a call loses its items through the
    // cascades from its proposals before it can be deleted.
    app.delete(
        &app.staff,
        &format!("/api/proposal-proposals/{}/", setup.proposal_uuid(0)),
    )
    .await
    .expect(204);
    app.delete(
        &app.staff,
        &format!("/api/proposal-protected-calls/{}/", setup.call_uuid),
    )
    .await
    .expect(204);
    let counts = assert_counters_exact(&app, "a call delete").await;
    if let Some(counts) = counts {
        assert_eq!(items_with(&counts, &setup.call_uuid, "pending"), 0);
        assert_eq!(items_with(&counts, &other.call_uuid, "pending"), 1);
    }
    let remaining = app
        .get(
            &app.staff,
            &format!("{ITEMS}?call_uuid={}", other.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(remaining.count(), 1);
}

/// `X-Result-Count` of GET and HEAD for `path`, after checking that both agree.
async fn count_as(app: &TestApp, user: &TestUser, path: &str) -> i64 {
    let listed = app.get(user, path).await.expect(200);
    let counted = app.head(user, path).await.expect(200);
    assert_eq!(counted.count(), listed.count(), "HEAD and GET of {path}");
    listed.count()
}

async fn item_count_by_role(app: TestApp) {
    let setup = app.call_setup(3, 3).await;
    let call = setup.call_uuid.clone();
    let reviewers = &setup.reviewers;
    // reviewer0: two sent items and one in a draft batch, which they do not see.
    app.sent_item(&call, &reviewers[0], &setup.proposal_uuid(0))
        .await;
    app.sent_item(&call, &reviewers[0], &setup.proposal_uuid(1))
        .await;
    let accepted = app
        .sent_item(&call, &reviewers[1], &setup.proposal_uuid(0))
        .await;
    app.post(
        &reviewers[1].user,
        &action_path(&accepted.item_uuid, "accept"),
        json!({}),
    )
    .await
    .expect(200);
    app.sent_item(&call, &reviewers[2], &setup.proposal_uuid(2))
        .await;
    let other = app.further_call_setup("other", 1, 1).await;
    app.sent_item(
        &other.call_uuid,
        &other.reviewers[0],
        &other.proposal_uuid(0),
    )
    .await;
    app.draft_item(&call, &reviewers[0], &setup.proposal_uuid(2))
        .await;
    assert_counters_exact(&app, "the role setup").await;

    let manager = app.user("manager").await;
    app.grant_call_role(&call, &manager, "CALL.MANAGER").await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;

    let pending = format!("{ITEMS}?call_uuid={call}&status=pending");
    let all = format!("{ITEMS}?call_uuid={call}");
    let answered = format!("{ITEMS}?call_uuid={call}&status=pending&status=accepted");
    // (caller, pending items, all items, pending or accepted items)
    let expected: [(&str, &TestUser, i64, i64, i64); 7] = [
        ("staff", &app.staff, 4, 5, 5),
        ("support", &support, 4, 5, 5),
        ("call manager", &manager, 4, 5, 5),
        ("organisation owner", &owner, 4, 5, 5),
        ("organisation member", &member, 0, 0, 0),
        ("reviewer with a hidden draft", &reviewers[0].user, 2, 2, 2),
        ("reviewer who accepted", &reviewers[1].user, 0, 1, 1),
    ];
    for (name, user, pending_count, all_count, answered_count) in expected {
        assert_eq!(
            count_as(&app, user, &pending).await,
            pending_count,
            "pending items counted for the {name}"
        );
        assert_eq!(
            count_as(&app, user, &all).await,
            all_count,
            "all items counted for the {name}"
        );
        assert_eq!(
            count_as(&app, user, &answered).await,
            answered_count,
            "pending or accepted items counted for the {name}"
        );
    }

    // Filters other than the call and the status count the items themselves.
    let by_reviewer = format!(
        "{ITEMS}?call_uuid={call}&status=pending&reviewer_uuid={}",
        reviewers[0].profile_uuid()
    );
    assert_eq!(count_as(&app, &manager, &by_reviewer).await, 3);
    let without_coi = format!("{ITEMS}?call_uuid={call}&has_coi=false");
    assert_eq!(count_as(&app, &manager, &without_coi).await, 5);
    // The manager of one call counts none of the other call's items.
    let other_call = format!("{ITEMS}?call_uuid={}", other.call_uuid);
    assert_eq!(count_as(&app, &manager, &other_call).await, 0);
    assert_eq!(count_as(&app, &app.staff, &other_call).await, 1);
}

async fn item_head_matches_get(app: TestApp) {
    let setup = app.call_setup(3, 2).await;
    let call = setup.call_uuid.clone();
    for proposal in 0..3 {
        for reviewer in &setup.reviewers {
            app.sent_item(&call, reviewer, &setup.proposal_uuid(proposal))
                .await;
        }
    }

    for query in [
        format!("?call_uuid={call}&status=pending"),
        format!("?call_uuid={call}&page_size=4&page=2&o=-affinity_score"),
        format!("?call_uuid={call}&page_size=4&page=last"),
        format!("?reviewer_uuid={}", setup.reviewers[0].profile_uuid()),
        "?page_size=5".to_owned(),
    ] {
        let path = format!("{ITEMS}{query}");
        let listed = app.get(&app.staff, &path).await.expect(200);
        let counted = app.head(&app.staff, &path).await.expect(200);
        assert_eq!(counted.count(), listed.count(), "X-Result-Count of {path}");
        assert_eq!(
            counted.header("link"),
            listed.header("link"),
            "Link of {path}"
        );
        assert_eq!(counted.body, Value::Null, "HEAD body of {path}");
        assert_eq!(
            counted.header("content-type"),
            "application/json",
            "Content-Type of HEAD {path}"
        );
        assert_eq!(
            counted.header("content-length"),
            "",
            "HEAD {path} must not claim the length of an empty body"
        );
    }

    // HEAD rejects what GET rejects, with the same status.
    for query in [
        "?status=unknown",
        "?call_uuid=not-a-uuid",
        "?o=proposal_name",
        "?min_affinity_score=high",
        "?page=0",
        "?page=9",
    ] {
        let path = format!("{ITEMS}{query}");
        let listed = app.get(&app.staff, &path).await;
        let counted = app.head(&app.staff, &path).await;
        assert!(
            listed.status.is_client_error(),
            "GET {path} returned {}",
            listed.status
        );
        assert_eq!(counted.status, listed.status, "HEAD {path}");
        assert_eq!(counted.body, Value::Null, "HEAD body of {path}");
    }
}

async fn head_count_on_other_lists(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    app.sent_item(
        &setup.call_uuid,
        &setup.reviewers[0],
        &setup.proposal_uuid(0),
    )
    .await;
    for path in [
        "/api/customers/".to_owned(),
        "/api/proposal-protected-calls/".to_owned(),
        "/api/proposal-proposals/?page_size=1".to_owned(),
        "/api/call-reviewer-pools/".to_owned(),
        "/api/assignment-batches/".to_owned(),
        "/api/users/?page_size=2&page=last".to_owned(),
    ] {
        let listed = app.get(&app.staff, &path).await.expect(200);
        let counted = app.head(&app.staff, &path).await.expect(200);
        assert!(listed.count() > 0, "GET {path} counted nothing");
        assert_eq!(counted.count(), listed.count(), "X-Result-Count of {path}");
        assert_eq!(
            counted.header("link"),
            listed.header("link"),
            "Link of {path}"
        );
        assert_eq!(counted.body, Value::Null, "HEAD body of {path}");
    }
    app.head(&app.staff, "/api/users/?page=5").await.expect(404);
}
