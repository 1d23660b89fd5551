//! Assignment batches: `/api/assignment-batches/`, `/api/my-assignment-batches/`, the call
//! actions that create and send batches, and the batch jobs of the scheduler.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, Utc};
use diesel::Connection;
use diesel::connection::InstrumentationEvent;
use referee_conformance::{CallSetup, TestApp, TestUser, on_both_backends};
use referee_domain::enums::{DisclosureLevel, ItemStatus};
use referee_store::batches::{self, GenerateRequest};
use referee_store::connection::log_statements;
use referee_store::users;
use serde_json::{Value, json};

on_both_backends!(
    batch_keys_list_and_detail,
    batch_list_filters_and_ordering,
    batch_list_refuses_bad_filters,
    batch_permission_matrix,
    batch_update_notes_only,
    batch_delete_cascades_items,
    batch_create_not_allowed,
    batch_send_and_refusals,
    batch_cancel_and_refusals,
    batch_extend_deadline_refusals,
    batch_extend_reopens_expired,
    batch_lifecycle,
    batch_jobs_idempotent,
    my_batches_list_and_detail,
    my_batches_without_profile,
    my_batches_disclosure_levels,
    manual_assignment_creates_and_skips,
    manual_assignment_refusals,
    manual_assignment_workload_override,
    generate_skips_blocked_and_respects_capacity,
    generate_uses_affinity_and_defaults,
    generate_refusals,
    generate_without_reviewers,
    send_all_drafts_and_listed,
    call_actions_permission_matrix,
    one_draft_per_pool_entry,
    generate_statements_independent_of_items,
);

fn batch_path(uuid: &str, action: &str) -> String {
    if action.is_empty() {
        format!("/api/assignment-batches/{uuid}/")
    } else {
        format!("/api/assignment-batches/{uuid}/{action}/")
    }
}

fn call_action(call_uuid: &str, action: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/{action}/")
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

fn key_set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

const BATCH_KEYS: &[&str] = &[
    "url",
    "uuid",
    "call",
    "call_uuid",
    "call_name",
    "reviewer_pool_entry",
    "reviewer_pool_entry_uuid",
    "reviewer_name",
    "reviewer_email",
    "reviewer_uuid",
    "status",
    "status_display",
    "sent_at",
    "expires_at",
    "responded_at",
    "source",
    "source_display",
    "created_by",
    "created_by_name",
    "manager_notes",
    "items_count",
    "items_pending_count",
    "items_accepted_count",
    "items_declined_count",
    "is_expired",
    "created",
];

const ITEM_KEYS: &[&str] = &[
    "url",
    "uuid",
    "batch",
    "proposal",
    "proposal_uuid",
    "proposal_name",
    "proposal_slug",
    "status",
    "status_display",
    "affinity_score",
    "has_coi",
    "coi_count",
    "responded_at",
    "decline_reason",
    "review",
    "review_uuid",
    "reassign_count",
    "override_reason",
    "overridden_by_name",
    "overridden_at",
    "created",
];

/// Everyone the permission matrix names, for one call.
struct Cast {
    manager: TestUser,
    owner: TestUser,
    org_manager: TestUser,
    org_member: TestUser,
    support: TestUser,
    other_reviewer: TestUser,
    applicant: TestUser,
    outsider: TestUser,
    anonymous: TestUser,
}

async fn cast(app: &TestApp, setup: &CallSetup) -> Cast {
    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let org_manager = app.user("orgmanager").await;
    app.grant_customer_role(&setup.customer_uuid, &org_manager, "CUSTOMER.MANAGER")
        .await;
    let org_member = app.user("orgmember").await;
    app.grant_customer_role(&setup.customer_uuid, &org_member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let applicant = app.user("applicant").await;
    app.seed_applicant_proposal(&applicant, &setup.round_uuid, "Applicant's proposal")
        .await;
    let outsider = app.user("outsider").await;
    Cast {
        manager,
        owner,
        org_manager,
        org_member,
        support,
        other_reviewer: setup.reviewers[1].user.clone(),
        applicant,
        outsider,
        anonymous: TestUser::anonymous(),
    }
}

async fn batch_status(app: &TestApp, batch_uuid: &str) -> String {
    app.get(&app.staff, &batch_path(batch_uuid, ""))
        .await
        .expect(200)
        .str("status")
}

async fn batch_keys_list_and_detail(app: TestApp) {
    let setup = app.call_setup(2, 1).await;
    let reviewer = &setup.reviewers[0];
    let first = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let second = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;
    assert_eq!(first.batch_uuid, second.batch_uuid);

    let list = app
        .get(&app.staff, "/api/assignment-batches/")
        .await
        .expect(200);
    assert_eq!(list.count(), 1);
    let row = &list.array()[0];
    assert_eq!(keys(row), key_set(BATCH_KEYS));
    assert_eq!(row["uuid"], first.batch_uuid.as_str());
    assert_eq!(row["status"], "draft");
    assert_eq!(row["status_display"], "Draft - pending approval");
    assert_eq!(row["source"], "manual");
    assert_eq!(row["source_display"], "Manually assigned");
    assert_eq!(row["call_uuid"], setup.call_uuid.as_str());
    assert_eq!(row["call_name"], "Call");
    assert_eq!(
        row["reviewer_pool_entry_uuid"],
        reviewer.entry_uuid().as_str()
    );
    assert_eq!(row["reviewer_uuid"], reviewer.profile_uuid().as_str());
    assert_eq!(row["reviewer_name"], "reviewer0 Example");
    assert_eq!(row["reviewer_email"], "reviewer0@example.org");
    assert_eq!(row["created_by"], Value::Null);
    assert_eq!(row["created_by_name"], Value::Null);
    assert_eq!(row["sent_at"], Value::Null);
    assert_eq!(row["expires_at"], Value::Null);
    assert_eq!(row["is_expired"], false);
    assert_eq!(row["items_count"], 2);
    assert_eq!(row["items_pending_count"], 2);
    assert_eq!(row["items_accepted_count"], 0);
    assert!(
        row["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/assignment-batches/{}/", first.batch_uuid))
    );
    assert!(row["call"].as_str().unwrap().ends_with(&format!(
        "/api/proposal-protected-calls/{}/",
        setup.call_uuid
    )));
    assert!(row.get("items").is_none());

    let detail = app
        .get(&app.staff, &batch_path(&first.batch_uuid, ""))
        .await
        .expect(200);
    let mut expected = key_set(BATCH_KEYS);
    expected.insert("items".into());
    assert_eq!(keys(&detail.body), expected);
    let items = detail.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(keys(&items[0]), key_set(ITEM_KEYS));
    assert_eq!(items[0]["uuid"], first.item_uuid.as_str());
    assert_eq!(items[0]["proposal_uuid"], setup.proposal_uuid(0).as_str());
    assert_eq!(items[0]["proposal_name"], "Proposal 0");
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[0]["status_display"], "Awaiting response");
    assert_eq!(items[0]["review"], Value::Null);
    assert_eq!(items[0]["review_uuid"], Value::Null);
    assert_eq!(items[0]["overridden_by_name"], "");
    assert_eq!(items[0]["coi_count"], 0);

    let review = app.seed_accept_item(&first.item_uuid).await;
    let detail = app
        .get(&app.staff, &batch_path(&first.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(detail.body["items"][0]["review_uuid"], review.as_str());
    assert_eq!(detail.body["items_accepted_count"], 1);
    assert_eq!(detail.body["items_pending_count"], 1);

    app.get(&app.staff, &batch_path("not-a-uuid", ""))
        .await
        .expect(404);
    app.get(
        &app.staff,
        &batch_path(&uuid::Uuid::now_v7().simple().to_string(), ""),
    )
    .await
    .expect(404);
}

async fn batch_list_filters_and_ordering(app: TestApp) {
    let setup = app.call_setup(2, 3).await;
    let [ada, bob, cyd] = [
        &setup.reviewers[0],
        &setup.reviewers[1],
        &setup.reviewers[2],
    ];
    let sent = app
        .sent_item(&setup.call_uuid, ada, &setup.proposal_uuid(0))
        .await;
    let draft = app
        .draft_item(&setup.call_uuid, bob, &setup.proposal_uuid(0))
        .await;
    app.post(
        &app.staff,
        &call_action(&setup.call_uuid, "generate-assignments"),
        json!({"proposal_uuids": [setup.proposal_uuid(1)], "reviewers_per_proposal": 1}),
    )
    .await
    .expect(200);
    let other = app.further_call_setup("other", 1, 1).await;
    app.draft_item(
        &other.call_uuid,
        &other.reviewers[0],
        &other.proposal_uuid(0),
    )
    .await;

    let all = app
        .get(&app.staff, "/api/assignment-batches/")
        .await
        .expect(200);
    assert_eq!(all.count(), 4);
    let by_call = app
        .get(
            &app.staff,
            &format!("/api/assignment-batches/?call_uuid={}", setup.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(by_call.count(), 3);
    let by_reviewer = app
        .get(
            &app.staff,
            &format!(
                "/api/assignment-batches/?reviewer_uuid={}",
                ada.profile_uuid()
            ),
        )
        .await
        .expect(200);
    assert_eq!(by_reviewer.count(), 1);
    assert_eq!(by_reviewer.array()[0]["uuid"], sent.batch_uuid.as_str());
    let by_entry = app
        .get(
            &app.staff,
            &format!(
                "/api/assignment-batches/?reviewer_pool_entry_uuid={}",
                bob.entry_uuid()
            ),
        )
        .await
        .expect(200);
    assert!(
        by_entry
            .array()
            .iter()
            .all(|row| row["reviewer_pool_entry_uuid"] == bob.entry_uuid().as_str())
    );
    assert!(
        by_entry
            .array()
            .iter()
            .any(|row| row["uuid"] == draft.batch_uuid.as_str())
    );
    let statuses = app
        .get(
            &app.staff,
            "/api/assignment-batches/?status=sent&status=cancelled",
        )
        .await
        .expect(200);
    assert_eq!(statuses.count(), 1);
    let drafts = app
        .get(&app.staff, "/api/assignment-batches/?status=draft")
        .await
        .expect(200);
    assert_eq!(drafts.count(), 3);
    let algorithm = app
        .get(&app.staff, "/api/assignment-batches/?source=algorithm")
        .await
        .expect(200);
    assert!(
        algorithm
            .array()
            .iter()
            .all(|row| row["source"] == "algorithm")
    );
    let generated_entry = algorithm.array()[0]["reviewer_pool_entry_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        generated_entry == cyd.entry_uuid()
            || generated_entry == ada.entry_uuid()
            || generated_entry == bob.entry_uuid()
    );
    let both_sources = app
        .get(
            &app.staff,
            "/api/assignment-batches/?source=algorithm&source=manual",
        )
        .await
        .expect(200);
    assert_eq!(both_sources.count(), 4);

    let hour_ago = TestApp::time_from_now(-3_600).replace('+', "%2B");
    let in_hour = TestApp::time_from_now(3_600).replace('+', "%2B");
    let after = app
        .get(
            &app.staff,
            &format!("/api/assignment-batches/?sent_after={hour_ago}"),
        )
        .await
        .expect(200);
    assert_eq!(after.count(), 1);
    let before = app
        .get(
            &app.staff,
            &format!("/api/assignment-batches/?sent_before={hour_ago}"),
        )
        .await
        .expect(200);
    assert_eq!(before.count(), 0);
    let window = app
        .get(
            &app.staff,
            &format!("/api/assignment-batches/?sent_after={hour_ago}&sent_before={in_hour}"),
        )
        .await
        .expect(200);
    assert_eq!(window.count(), 1);

    let newest_first = app
        .get(&app.staff, "/api/assignment-batches/")
        .await
        .expect(200);
    let created: Vec<String> = newest_first
        .array()
        .iter()
        .map(|row| row["created"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|left, right| right.cmp(left));
    assert_eq!(created, sorted);
    let oldest_first = app
        .get(&app.staff, "/api/assignment-batches/?o=created")
        .await
        .expect(200);
    assert_eq!(oldest_first.array()[0]["uuid"], sent.batch_uuid.as_str());

    let sent_desc = app
        .get(&app.staff, "/api/assignment-batches/?o=-sent_at")
        .await
        .expect(200);
    assert_eq!(
        sent_desc.array()[0]["sent_at"],
        Value::Null,
        "missing dates come first in descending order"
    );
    let sent_asc = app
        .get(&app.staff, "/api/assignment-batches/?o=sent_at")
        .await
        .expect(200);
    assert_eq!(
        sent_asc.array()[0]["uuid"],
        sent.batch_uuid.as_str(),
        "missing dates come last in ascending order"
    );
    let expires_asc = app
        .get(&app.staff, "/api/assignment-batches/?o=expires_at")
        .await
        .expect(200);
    assert_eq!(expires_asc.array()[0]["uuid"], sent.batch_uuid.as_str());
    let by_status = app
        .get(&app.staff, "/api/assignment-batches/?o=-status,created")
        .await
        .expect(200);
    assert_eq!(by_status.array()[0]["status"], "sent");

    let page = app
        .get(&app.staff, "/api/assignment-batches/?page_size=1&page=2")
        .await
        .expect(200);
    assert_eq!(page.array().len(), 1);
    assert_eq!(page.count(), 4);
    assert!(page.header("link").contains("rel=\"next\""));
    app.get(&app.staff, "/api/assignment-batches/?page=9")
        .await
        .expect(404);

    let head = app
        .head(
            &app.staff,
            &format!("/api/assignment-batches/?call_uuid={}", setup.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(head.count(), 3);
    assert_eq!(head.body, Value::Null);
}

async fn batch_list_refuses_bad_filters(app: TestApp) {
    let reply = app
        .get(&app.staff, "/api/assignment-batches/?status=archived")
        .await
        .expect(400);
    assert!(reply.body["status"].is_array());
    let reply = app
        .get(&app.staff, "/api/assignment-batches/?source=random")
        .await
        .expect(400);
    assert!(reply.body["source"].is_array());
    let reply = app
        .get(&app.staff, "/api/assignment-batches/?o=name")
        .await
        .expect(400);
    assert!(reply.body["o"].is_array());
    let reply = app
        .get(&app.staff, "/api/assignment-batches/?call_uuid=nope")
        .await
        .expect(400);
    assert!(
        reply.body["call_uuid"][0]
            .as_str()
            .unwrap()
            .contains("nope")
    );
    let reply = app
        .get(&app.staff, "/api/assignment-batches/?reviewer_uuid=nope")
        .await
        .expect(400);
    assert!(reply.body["reviewer_uuid"].is_array());
    let reply = app
        .get(
            &app.staff,
            "/api/assignment-batches/?reviewer_pool_entry_uuid=nope",
        )
        .await
        .expect(400);
    assert!(reply.body["reviewer_pool_entry_uuid"].is_array());
    let reply = app
        .get(&app.staff, "/api/assignment-batches/?sent_after=yesterday")
        .await
        .expect(400);
    assert!(reply.body["sent_after"].is_array());
    let reply = app
        .get(&app.staff, "/api/assignment-batches/?sent_before=tomorrow")
        .await
        .expect(400);
    assert!(reply.body["sent_before"].is_array());
    app.get(&TestUser::anonymous(), "/api/assignment-batches/")
        .await
        .expect(401);
    app.head(&TestUser::anonymous(), "/api/assignment-batches/")
        .await
        .expect(401);
}

async fn batch_permission_matrix(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    let reviewer = &setup.reviewers[0];
    let people = cast(&app, &setup).await;
    let sent = app
        .sent_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let draft_of_other = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[1],
            &setup.proposal_uuid(0),
        )
        .await;
    let path = batch_path(&sent.batch_uuid, "");

    for reader in [
        &app.staff,
        &people.support,
        &people.manager,
        &people.owner,
        &people.org_manager,
    ] {
        app.get(reader, &path).await.expect(200);
        assert_eq!(
            app.get(reader, "/api/assignment-batches/")
                .await
                .expect(200)
                .count(),
            2
        );
    }
    app.get(&reviewer.user, &path).await.expect(200);
    assert_eq!(
        app.get(&reviewer.user, "/api/assignment-batches/")
            .await
            .expect(200)
            .count(),
        1
    );
    app.get(&people.other_reviewer, &path).await.expect(404);
    app.get(
        &people.other_reviewer,
        &batch_path(&draft_of_other.batch_uuid, ""),
    )
    .await
    .expect(404);
    for stranger in [&people.org_member, &people.applicant, &people.outsider] {
        app.get(stranger, &path).await.expect(404);
        assert_eq!(
            app.get(stranger, "/api/assignment-batches/")
                .await
                .expect(200)
                .count(),
            0
        );
    }
    app.get(&people.anonymous, &path).await.expect(401);

    let future = TestApp::time_from_now(10 * 86_400);
    for refused in [&people.support, &reviewer.user] {
        app.patch(refused, &path, json!({"manager_notes": "x"}))
            .await
            .expect(403);
        app.put(refused, &path, json!({"manager_notes": "x"}))
            .await
            .expect(403);
        app.post(refused, &batch_path(&sent.batch_uuid, "cancel"), json!({}))
            .await
            .expect(403);
        app.post(
            refused,
            &batch_path(&sent.batch_uuid, "extend-deadline"),
            json!({"expires_at": future}),
        )
        .await
        .expect(403);
        app.delete(refused, &path).await.expect(403);
    }
    app.post(
        &people.support,
        &batch_path(&draft_of_other.batch_uuid, "send"),
        json!({}),
    )
    .await
    .expect(403);
    for stranger in [
        &people.other_reviewer,
        &people.org_member,
        &people.applicant,
        &people.outsider,
    ] {
        app.patch(stranger, &path, json!({"manager_notes": "x"}))
            .await
            .expect(404);
        app.post(stranger, &batch_path(&sent.batch_uuid, "cancel"), json!({}))
            .await
            .expect(404);
        app.post(
            stranger,
            &batch_path(&draft_of_other.batch_uuid, "send"),
            json!({}),
        )
        .await
        .expect(404);
        app.post(
            stranger,
            &batch_path(&sent.batch_uuid, "extend-deadline"),
            json!({"expires_at": future}),
        )
        .await
        .expect(404);
        app.delete(stranger, &path).await.expect(404);
    }
    app.patch(&people.anonymous, &path, json!({"manager_notes": "x"}))
        .await
        .expect(401);
    app.post(
        &people.anonymous,
        &batch_path(&sent.batch_uuid, "cancel"),
        json!({}),
    )
    .await
    .expect(401);
    app.delete(&people.anonymous, &path).await.expect(401);

    let unchanged = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(unchanged.body["status"], "sent");
    assert_eq!(unchanged.body["manager_notes"], "");

    for (index, writer) in [
        &people.manager,
        &people.owner,
        &people.org_manager,
        &app.staff,
    ]
    .into_iter()
    .enumerate()
    {
        let notes = format!("notes {index}");
        let reply = app
            .patch(writer, &path, json!({"manager_notes": notes}))
            .await
            .expect(200);
        assert_eq!(reply.body["manager_notes"], notes.as_str());
        app.post(
            writer,
            &batch_path(&sent.batch_uuid, "extend-deadline"),
            json!({"expires_at": future}),
        )
        .await
        .expect(200);
    }
    app.post(
        &people.owner,
        &batch_path(&draft_of_other.batch_uuid, "send"),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &people.org_manager,
        &batch_path(&draft_of_other.batch_uuid, "cancel"),
        json!({}),
    )
    .await
    .expect(200);
    app.delete(&people.manager, &batch_path(&draft_of_other.batch_uuid, ""))
        .await
        .expect(204);
    app.post(
        &people.manager,
        &batch_path(&sent.batch_uuid, "cancel"),
        json!({}),
    )
    .await
    .expect(200);
}

async fn batch_update_notes_only(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let item = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    let path = batch_path(&item.batch_uuid, "");

    let reply = app
        .patch(&app.staff, &path, json!({"manager_notes": "Please start with the budget.", "status": "sent", "source": "algorithm"}))
        .await
        .expect(200);
    assert_eq!(reply.body["manager_notes"], "Please start with the budget.");
    assert_eq!(reply.body["status"], "draft");
    assert_eq!(reply.body["source"], "manual");
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 1);

    let reply = app.patch(&app.staff, &path, json!({})).await.expect(200);
    assert_eq!(reply.body["manager_notes"], "Please start with the budget.");
    let reply = app
        .put(&app.staff, &path, json!({"manager_notes": ""}))
        .await
        .expect(200);
    assert_eq!(reply.body["manager_notes"], "");

    let refused = app
        .patch(&app.staff, &path, json!({"manager_notes": 5}))
        .await
        .expect(400);
    assert!(refused.body["manager_notes"].is_array());
    assert_eq!(
        app.get(&app.staff, &path).await.expect(200).body["manager_notes"],
        ""
    );

    let events = app.call_audit_events(&setup.call_uuid).await;
    assert_eq!(
        events
            .iter()
            .filter(|event| event.action == "batch.notes_updated")
            .count(),
        2
    );
}

async fn batch_delete_cascades_items(app: TestApp) {
    let setup = app.call_setup(2, 1).await;
    let item = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    app.seed_accept_item(&item.item_uuid).await;

    app.delete(&app.staff, &batch_path(&item.batch_uuid, ""))
        .await
        .expect(204);
    app.get(&app.staff, &batch_path(&item.batch_uuid, ""))
        .await
        .expect(404);
    app.delete(&app.staff, &batch_path(&item.batch_uuid, ""))
        .await
        .expect(404);

    let again = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    assert_ne!(again.batch_uuid, item.batch_uuid);

    let events = app.call_audit_events(&setup.call_uuid).await;
    let deleted = events
        .iter()
        .find(|event| event.action == "batch.deleted")
        .expect("a deletion event");
    assert_eq!(deleted.object_uuid.simple().to_string(), item.batch_uuid);
    assert!(
        deleted
            .before_state
            .as_deref()
            .unwrap()
            .contains("\"items_count\":1")
    );
    assert!(
        deleted
            .before_state
            .as_deref()
            .unwrap()
            .contains("responded")
    );
}

async fn batch_create_not_allowed(app: TestApp) {
    let reply = app
        .post(&app.staff, "/api/assignment-batches/", json!({}))
        .await
        .expect(405);
    assert!(reply.body["detail"].is_string());
    app.post(&app.staff, "/api/my-assignment-batches/", json!({}))
        .await
        .expect(405);
    let setup = app.call_setup(1, 1).await;
    let item = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    app.get(&app.staff, &batch_path(&item.batch_uuid, "send"))
        .await
        .expect(405);
    app.delete(
        &app.staff,
        &format!("/api/my-assignment-batches/{}/", item.batch_uuid),
    )
    .await
    .expect(405);
}

async fn batch_send_and_refusals(app: TestApp) {
    let setup = app.call_setup(2, 1).await;
    let item = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    app.patch(
        &app.staff,
        &batch_path(&item.batch_uuid, ""),
        json!({"manager_notes": "old"}),
    )
    .await
    .expect(200);

    let refused = app
        .post(
            &app.staff,
            &batch_path(&item.batch_uuid, "send"),
            json!({"manager_notes": 3}),
        )
        .await
        .expect(400);
    assert!(refused.body["manager_notes"].is_array());
    assert_eq!(batch_status(&app, &item.batch_uuid).await, "draft");

    let before = Utc::now();
    let reply = app
        .post(
            &app.staff,
            &batch_path(&item.batch_uuid, "send"),
            json!({"manager_notes": "Due soon"}),
        )
        .await
        .expect(200);
    assert_eq!(
        reply.str("detail"),
        "Assignment batch invitation sent successfully."
    );
    let expires = chrono::DateTime::parse_from_rfc3339(&reply.str("expires_at")).unwrap();
    let days = (expires.with_timezone(&Utc) - before).num_hours();
    assert!(
        (167..=168).contains(&days),
        "deadline is 7 days after sending, was {days} hours"
    );

    let batch = app
        .get(&app.staff, &batch_path(&item.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(batch.body["status"], "sent");
    assert_eq!(batch.body["manager_notes"], "Due soon");
    assert_eq!(batch.body["expires_at"], reply.body["expires_at"]);
    assert!(batch.body["sent_at"].is_string());

    let again = app
        .post(&app.staff, &batch_path(&item.batch_uuid, "send"), json!({}))
        .await
        .expect(400);
    assert_eq!(again.str("code"), "batch_not_draft");
    assert!(again.str("error").contains("draft"));

    let messages = app.call_outbox(&setup.call_uuid).await;
    let sent: Vec<_> = messages
        .iter()
        .filter(|message| message.template == "assignment_batch_sent")
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipient_email, "reviewer0@example.org");
    let events = app.call_audit_events(&setup.call_uuid).await;
    let event = events
        .iter()
        .find(|event| event.action == "batch.sent")
        .expect("a send event");
    assert_eq!(event.actor_name, "Staff User");

    let empty_notes = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(1),
        )
        .await;
    app.patch(
        &app.staff,
        &batch_path(&empty_notes.batch_uuid, ""),
        json!({"manager_notes": "keep"}),
    )
    .await
    .expect(200);
    app.post(
        &app.staff,
        &batch_path(&empty_notes.batch_uuid, "send"),
        json!({"manager_notes": ""}),
    )
    .await
    .expect(200);
    let kept = app
        .get(&app.staff, &batch_path(&empty_notes.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(kept.body["manager_notes"], "keep");
}

async fn batch_cancel_and_refusals(app: TestApp) {
    let setup = app.call_setup(3, 1).await;
    let reviewer = &setup.reviewers[0];
    let draft = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let reply = app
        .post(
            &app.staff,
            &batch_path(&draft.batch_uuid, "cancel"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(
        reply.body,
        json!({"message": "Assignment batch cancelled."})
    );
    let cancelled = app
        .get(&app.staff, &batch_path(&draft.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(
        cancelled.body["items"][0]["status"], "pending",
        "items keep their status"
    );

    let again = app
        .post(
            &app.staff,
            &batch_path(&draft.batch_uuid, "cancel"),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(again.str("code"), "batch_not_cancellable");
    assert!(again.str("error").contains("cancelled"));

    let sent = app
        .sent_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;
    app.post(
        &app.staff,
        &batch_path(&sent.batch_uuid, "cancel"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(batch_status(&app, &sent.batch_uuid).await, "cancelled");

    let responded = app
        .sent_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(2))
        .await;
    app.seed_item_status(&responded.item_uuid, ItemStatus::Declined)
        .await;
    assert_eq!(batch_status(&app, &responded.batch_uuid).await, "responded");
    let refused = app
        .post(
            &app.staff,
            &batch_path(&responded.batch_uuid, "cancel"),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(refused.str("code"), "batch_not_cancellable");
    assert_eq!(batch_status(&app, &responded.batch_uuid).await, "responded");

    let events = app.call_audit_events(&setup.call_uuid).await;
    assert_eq!(
        events
            .iter()
            .filter(|event| event.action == "batch.cancelled")
            .count(),
        2
    );
}

async fn batch_extend_deadline_refusals(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let draft = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    let path = batch_path(&draft.batch_uuid, "extend-deadline");

    let missing = app.post(&app.staff, &path, json!({})).await.expect(400);
    assert_eq!(
        missing.body,
        json!({"expires_at": ["This field is required."]})
    );
    let invalid = app
        .post(&app.staff, &path, json!({"expires_at": "next week"}))
        .await
        .expect(400);
    assert!(invalid.body["expires_at"].is_array());

    let past = TestApp::time_from_now(-3_600);
    let draft_refused = app
        .post(&app.staff, &path, json!({"expires_at": past}))
        .await
        .expect(400);
    assert_eq!(
        draft_refused.str("code"),
        "batch_not_extendable",
        "the status is checked before the date"
    );

    app.send_batch_directly(&draft.batch_uuid).await;
    let before = app
        .get(&app.staff, &batch_path(&draft.batch_uuid, ""))
        .await
        .expect(200);
    let past_refused = app
        .post(&app.staff, &path, json!({"expires_at": past}))
        .await
        .expect(400);
    assert!(
        past_refused.body["expires_at"][0]
            .as_str()
            .unwrap()
            .contains("future")
    );
    let now_refused = app
        .post(
            &app.staff,
            &path,
            json!({"expires_at": TestApp::time_from_now(0)}),
        )
        .await
        .expect(400);
    assert!(now_refused.body["expires_at"].is_array());
    let after = app
        .get(&app.staff, &batch_path(&draft.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(before.body["expires_at"], after.body["expires_at"]);

    app.post(
        &app.staff,
        &batch_path(&draft.batch_uuid, "cancel"),
        json!({}),
    )
    .await
    .expect(200);
    let cancelled = app
        .post(
            &app.staff,
            &path,
            json!({"expires_at": TestApp::time_from_now(86_400)}),
        )
        .await
        .expect(400);
    assert_eq!(cancelled.str("code"), "batch_not_extendable");
}

async fn batch_extend_reopens_expired(app: TestApp) {
    let setup = app.call_setup(3, 1).await;
    let reviewer = &setup.reviewers[0];
    let first = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let second = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;
    app.draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(2))
        .await;
    app.send_batch_directly(&first.batch_uuid).await;
    let review = app.seed_accept_item(&first.item_uuid).await;

    app.seed_batch_deadline(&first.batch_uuid, Utc::now() - Duration::hours(1))
        .await;
    let (expired, _, notified) = app.run_batch_jobs(Utc::now()).await;
    assert_eq!((expired, notified), (1, 1));
    let batch = app
        .get(&app.staff, &batch_path(&first.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(batch.body["status"], "expired");
    assert_eq!(batch.body["is_expired"], true);
    let statuses: Vec<&str> = batch.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["accepted", "expired", "expired"]);

    let deadline = Utc::now() + Duration::days(30);
    let text = deadline.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let reply = app
        .post(
            &app.staff,
            &batch_path(&first.batch_uuid, "extend-deadline"),
            json!({"expires_at": text}),
        )
        .await
        .expect(200);
    assert_eq!(reply.str("status"), "sent");
    let returned = chrono::DateTime::parse_from_rfc3339(&reply.str("expires_at")).unwrap();
    assert_eq!(returned.timestamp(), deadline.timestamp());

    let batch = app
        .get(&app.staff, &batch_path(&first.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(batch.body["status"], "sent");
    assert_eq!(batch.body["is_expired"], false);
    let items = batch.body["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], "accepted");
    assert_eq!(items[1]["uuid"], second.item_uuid.as_str());
    assert_eq!(items[1]["status"], "pending");
    assert_eq!(items[2]["status"], "pending");

    let events = app.call_audit_events(&setup.call_uuid).await;
    assert_eq!(
        events
            .iter()
            .filter(|event| event.action == "item.reopened")
            .count(),
        2
    );
    let extended = events
        .iter()
        .find(|event| event.action == "review.deadline_extended")
        .expect("the review got the new deadline");
    assert_eq!(extended.object_uuid.simple().to_string(), review);
    assert!(
        extended
            .after_state
            .as_deref()
            .unwrap()
            .contains(&deadline.format("%Y-%m-%dT%H:%M:%S").to_string())
    );

    let (expired, _, notified) = app.run_batch_jobs(deadline + Duration::hours(1)).await;
    assert_eq!(
        (expired, notified),
        (1, 1),
        "the batch expires and managers are told again"
    );
}

async fn batch_lifecycle(app: TestApp) {
    let setup = app.call_setup(2, 1).await;
    let reviewer = &setup.reviewers[0];
    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let first = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let second = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;

    app.post(&manager, &batch_path(&first.batch_uuid, "send"), json!({}))
        .await
        .expect(200);
    assert_eq!(
        app.get(&reviewer.user, "/api/my-assignment-batches/")
            .await
            .expect(200)
            .count(),
        1
    );

    app.post(
        &reviewer.user,
        &format!("/api/assignment-items/{}/accept/", first.item_uuid),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(batch_status(&app, &first.batch_uuid).await, "sent");
    app.post(
        &reviewer.user,
        &format!("/api/assignment-items/{}/decline/", second.item_uuid),
        json!({"reason": "Busy"}),
    )
    .await
    .expect(200);
    let responded = app
        .get(&app.staff, &batch_path(&first.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(responded.body["status"], "responded");
    assert!(responded.body["responded_at"].is_string());
    assert_eq!(responded.body["items_accepted_count"], 1);
    assert_eq!(responded.body["items_declined_count"], 1);
    assert_eq!(
        app.get(&reviewer.user, "/api/my-assignment-batches/")
            .await
            .expect(200)
            .count(),
        0
    );
    app.get(
        &reviewer.user,
        &format!("/api/my-assignment-batches/{}/", first.batch_uuid),
    )
    .await
    .expect(200);

    let (expired, _, _) = app.run_batch_jobs(Utc::now() + Duration::days(30)).await;
    assert_eq!(expired, 0, "a responded batch does not expire");

    let other = app.further_call_setup("other", 1, 1).await;
    let late = app
        .sent_item(
            &other.call_uuid,
            &other.reviewers[0],
            &other.proposal_uuid(0),
        )
        .await;
    let (expired, _, _) = app.run_batch_jobs(Utc::now() + Duration::days(8)).await;
    assert_eq!(expired, 1);
    assert_eq!(batch_status(&app, &late.batch_uuid).await, "expired");
    app.post(
        &app.staff,
        &batch_path(&late.batch_uuid, "extend-deadline"),
        json!({"expires_at": TestApp::time_from_now(3 * 86_400)}),
    )
    .await
    .expect(200);
    assert_eq!(batch_status(&app, &late.batch_uuid).await, "sent");
    app.post(
        &app.staff,
        &batch_path(&late.batch_uuid, "cancel"),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(batch_status(&app, &late.batch_uuid).await, "cancelled");
    app.get(
        &other.reviewers[0].user,
        &format!("/api/my-assignment-batches/{}/", late.batch_uuid),
    )
    .await
    .expect(404);
    app.get(&other.reviewers[0].user, &batch_path(&late.batch_uuid, ""))
        .await
        .expect(404);
}

async fn batch_jobs_idempotent(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let soon = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    let later = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[1],
            &setup.proposal_uuid(1),
        )
        .await;
    app.seed_batch_deadline(&later.batch_uuid, Utc::now() + Duration::days(20))
        .await;

    assert_eq!(
        app.run_batch_jobs(Utc::now()).await,
        (0, 0, 0),
        "no deadline is near yet"
    );

    let near = Utc::now() + Duration::days(6);
    assert_eq!(app.run_batch_jobs(near).await, (0, 1, 0));
    assert_eq!(app.run_batch_jobs(near).await, (0, 0, 0));
    let reminders: Vec<_> = app
        .call_outbox(&setup.call_uuid)
        .await
        .into_iter()
        .filter(|message| message.template == "assignment_expiry_reminder")
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].recipient_email, "reviewer0@example.org");

    let past = Utc::now() + Duration::days(8);
    assert_eq!(app.run_batch_jobs(past).await, (1, 0, 1));
    assert_eq!(app.run_batch_jobs(past).await, (0, 0, 0));
    let batch = app
        .get(&app.staff, &batch_path(&soon.batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(batch.body["status"], "expired");
    assert_eq!(batch.body["items"][0]["status"], "expired");
    assert_eq!(batch_status(&app, &later.batch_uuid).await, "sent");

    let notices: Vec<_> = app
        .call_outbox(&setup.call_uuid)
        .await
        .into_iter()
        .filter(|message| message.template == "assignment_batch_expired")
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].recipient_email, "manager@example.org");

    let events = app.call_audit_events(&setup.call_uuid).await;
    let expiry = events
        .iter()
        .find(|event| event.action == "batch.expired")
        .expect("an expiry event");
    assert_eq!(expiry.actor_uuid, None);
    assert_eq!(
        events
            .iter()
            .filter(|event| event.action == "item.expired")
            .count(),
        1
    );

    let unmanaged = app.further_call_setup("unmanaged", 1, 1).await;
    let alone = app
        .sent_item(
            &unmanaged.call_uuid,
            &unmanaged.reviewers[0],
            &unmanaged.proposal_uuid(0),
        )
        .await;
    assert_eq!(
        app.run_batch_jobs(past).await,
        (1, 0, 1),
        "a call without managers is still marked"
    );
    assert_eq!(batch_status(&app, &alone.batch_uuid).await, "expired");
    assert!(
        app.call_outbox(&unmanaged.call_uuid)
            .await
            .iter()
            .all(|message| message.template != "assignment_batch_expired")
    );
    assert_eq!(app.run_batch_jobs(past).await, (0, 0, 0));
}

async fn my_batches_list_and_detail(app: TestApp) {
    let setup = app.call_setup(3, 2).await;
    let reviewer = &setup.reviewers[0];
    let draft = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let my_path = |uuid: &str| format!("/api/my-assignment-batches/{uuid}/");

    let empty = app
        .get(&reviewer.user, "/api/my-assignment-batches/")
        .await
        .expect(200);
    assert!(empty.array().is_empty());
    assert_eq!(empty.count(), 0);
    app.get(&reviewer.user, &my_path(&draft.batch_uuid))
        .await
        .expect(404);

    app.send_batch_directly(&draft.batch_uuid).await;
    let second = app
        .sent_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;
    let list = app
        .get(&reviewer.user, "/api/my-assignment-batches/")
        .await
        .expect(200);
    assert_eq!(list.count(), 2);
    assert!(list.header("link").is_empty(), "the list is not paginated");
    assert_eq!(
        list.array()[0]["uuid"],
        second.batch_uuid.as_str(),
        "most recently sent first"
    );
    let row = &list.array()[1];
    assert_eq!(
        keys(row),
        key_set(&[
            "uuid",
            "call_uuid",
            "call_name",
            "status",
            "status_display",
            "sent_at",
            "expires_at",
            "is_expired",
            "items_count",
            "items_pending_count",
            "manager_notes",
        ])
    );
    assert_eq!(row["status"], "sent");
    assert_eq!(row["items_count"], 1);
    assert_eq!(
        app.head(&reviewer.user, "/api/my-assignment-batches/")
            .await
            .expect(200)
            .count(),
        2
    );

    let detail = app
        .get(&reviewer.user, &my_path(&draft.batch_uuid))
        .await
        .expect(200);
    let item = &detail.body["items"][0];
    assert_eq!(
        keys(item),
        key_set(&[
            "uuid",
            "proposal_uuid",
            "proposal_name",
            "proposal_slug",
            "proposal_summary",
            "status",
            "status_display",
            "affinity_score",
            "has_coi",
        ])
    );
    assert_eq!(item["proposal_name"], "Proposal 0");

    app.seed_item_status(&draft.item_uuid, ItemStatus::Declined)
        .await;
    app.get(&reviewer.user, &my_path(&draft.batch_uuid))
        .await
        .expect(200);
    assert_eq!(
        app.get(&reviewer.user, "/api/my-assignment-batches/")
            .await
            .expect(200)
            .count(),
        1
    );

    app.seed_batch_deadline(&second.batch_uuid, Utc::now() - Duration::minutes(1))
        .await;
    app.run_batch_jobs(Utc::now()).await;
    let expired = app
        .get(&reviewer.user, &my_path(&second.batch_uuid))
        .await
        .expect(200);
    assert_eq!(expired.body["status"], "expired");
    assert_eq!(expired.body["is_expired"], true);
    assert_eq!(
        app.get(&reviewer.user, "/api/my-assignment-batches/")
            .await
            .expect(200)
            .count(),
        0
    );

    let cancelled = app
        .sent_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(2))
        .await;
    app.post(
        &app.staff,
        &batch_path(&cancelled.batch_uuid, "cancel"),
        json!({}),
    )
    .await
    .expect(200);
    app.get(&reviewer.user, &my_path(&cancelled.batch_uuid))
        .await
        .expect(404);

    let other = &setup.reviewers[1];
    let reply = app
        .get(&other.user, &my_path(&draft.batch_uuid))
        .await
        .expect(404);
    assert_eq!(reply.str("detail"), "Not found.");
    assert_eq!(
        app.get(&app.staff, "/api/my-assignment-batches/")
            .await
            .expect(200)
            .count(),
        0
    );
    app.get(&app.staff, &my_path(&draft.batch_uuid))
        .await
        .expect(404);
    app.get(&TestUser::anonymous(), "/api/my-assignment-batches/")
        .await
        .expect(401);
    app.head(&TestUser::anonymous(), "/api/my-assignment-batches/")
        .await
        .expect(401);
    app.get(&TestUser::anonymous(), &my_path(&draft.batch_uuid))
        .await
        .expect(401);
    app.get(&reviewer.user, &my_path("nope")).await.expect(404);
}

async fn my_batches_without_profile(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let item = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    let nobody = app.user("nobody").await;
    let list = app
        .get(&nobody, "/api/my-assignment-batches/")
        .await
        .expect(200);
    assert_eq!(list.body, json!([]));
    assert_eq!(list.count(), 0);
    let reply = app
        .get(
            &nobody,
            &format!("/api/my-assignment-batches/{}/", item.batch_uuid),
        )
        .await
        .expect(404);
    assert_eq!(reply.body, json!({"detail": "Reviewer profile not found."}));
}

async fn my_batches_disclosure_levels(app: TestApp) {
    let setup = app.call_setup(2, 0).await;
    let proposal = setup.proposal_uuid(0);
    let summary = "Folding proteins at scale.";
    app.patch(
        &app.staff,
        &format!("/api/proposal-proposals/{proposal}/"),
        json!({"project_summary": summary}),
    )
    .await
    .expect(200);
    app.patch(
        &app.staff,
        &format!("/api/proposal-proposals/{}/", setup.proposal_uuid(1)),
        json!({"project_summary": "Secret."}),
    )
    .await
    .expect(200);
    let reviewer = app
        .reviewer_with_conflicts(&setup.call_uuid, "ada", &[setup.proposal_uuid(1)])
        .await;
    let open = app.draft_item(&setup.call_uuid, &reviewer, &proposal).await;
    let blocked = app
        .draft_item(&setup.call_uuid, &reviewer, &setup.proposal_uuid(1))
        .await;
    app.send_batch_directly(&open.batch_uuid).await;
    let path = format!("/api/my-assignment-batches/{}/", open.batch_uuid);

    let summaries = |body: &Value| -> Vec<(String, String)> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                (
                    item["uuid"].as_str().unwrap().to_owned(),
                    item["proposal_summary"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    let default = app.get(&reviewer.user, &path).await.expect(200);
    assert_eq!(
        summaries(&default.body),
        vec![
            (open.item_uuid.clone(), String::new()),
            (blocked.item_uuid.clone(), String::new())
        ]
    );
    assert_eq!(default.body["items"][1]["status"], "coi_blocked");
    assert_eq!(default.body["items"][1]["has_coi"], true);

    for level in [
        DisclosureLevel::TitlesAndSummaries,
        DisclosureLevel::FullDetails,
    ] {
        app.seed_disclosure(&setup.call_uuid, level).await;
        let shown = app.get(&reviewer.user, &path).await.expect(200);
        assert_eq!(
            summaries(&shown.body),
            vec![
                (open.item_uuid.clone(), summary.to_owned()),
                (blocked.item_uuid.clone(), String::new())
            ],
            "level {level:?}"
        );
    }
    app.seed_disclosure(&setup.call_uuid, DisclosureLevel::TitlesOnly)
        .await;
    let hidden = app.get(&reviewer.user, &path).await.expect(200);
    assert_eq!(summaries(&hidden.body)[0].1, "");
}

async fn manual_assignment_creates_and_skips(app: TestApp) {
    let setup = app.call_setup(3, 0).await;
    let reviewer = app
        .reviewer_with_conflicts(&setup.call_uuid, "ada", &[setup.proposal_uuid(2)])
        .await;
    let path = call_action(&setup.call_uuid, "create-manual-assignment");

    let reply = app
        .post(
            &app.staff,
            &path,
            json!({
                "reviewer_pool_entry_uuid": reviewer.entry_uuid(),
                "proposal_uuids": [setup.proposal_uuid(0), setup.proposal_uuid(0), setup.proposal_uuid(2)],
                "manager_notes": "First round",
            }),
        )
        .await
        .expect(200);
    assert_eq!(
        keys(&reply.body),
        key_set(&[
            "batch_uuid",
            "items_created",
            "items_blocked",
            "skipped_proposals"
        ])
    );
    assert_eq!(reply.body["items_created"], 2);
    assert_eq!(reply.body["items_blocked"], 1);
    assert_eq!(reply.body["skipped_proposals"], json!([]));
    let batch_uuid = reply.str("batch_uuid");
    let batch = app
        .get(&app.staff, &batch_path(&batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(batch.body["source"], "manual");
    assert_eq!(batch.body["status"], "draft");
    assert_eq!(batch.body["manager_notes"], "First round");
    assert_eq!(batch.body["created_by_name"], "Staff User");
    assert!(
        batch.body["created_by"]
            .as_str()
            .unwrap()
            .contains(&app.staff.uuid)
    );
    let items = batch.body["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], "pending");
    assert_eq!(items[0]["affinity_score"], Value::Null);
    assert_eq!(items[1]["status"], "coi_blocked");
    assert_eq!(items[1]["has_coi"], true);
    assert_eq!(items[1]["coi_count"], 1);

    let again = app
        .post(
            &app.staff,
            &path,
            json!({
                "reviewer_pool_entry_uuid": reviewer.entry_uuid(),
                "proposal_uuids": [setup.proposal_uuid(0), setup.proposal_uuid(1)],
                "manager_notes": "Second round",
            }),
        )
        .await
        .expect(200);
    assert_eq!(
        again.str("batch_uuid"),
        batch_uuid,
        "the draft batch is reused"
    );
    assert_eq!(again.body["items_created"], 1);
    assert_eq!(
        again.body["skipped_proposals"],
        json!([{"proposal_uuid": setup.proposal_uuid(0), "proposal_name": "Proposal 0", "reason": "Assignment already exists for this reviewer"}])
    );
    let batch = app
        .get(&app.staff, &batch_path(&batch_uuid, ""))
        .await
        .expect(200);
    assert_eq!(batch.body["manager_notes"], "Second round");
    assert_eq!(batch.body["items_count"], 3);

    app.send_batch_directly(&batch_uuid).await;
    let declined_item = batch.body["items"][0]["uuid"].as_str().unwrap().to_owned();
    app.seed_item_status(&declined_item, ItemStatus::Declined)
        .await;
    let after_send = app
        .post(&app.staff, &path, json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [setup.proposal_uuid(0)]}))
        .await
        .expect(200);
    assert_ne!(
        after_send.str("batch_uuid"),
        batch_uuid,
        "a new draft batch once the old one was sent"
    );
    assert_eq!(
        after_send.body["items_created"], 0,
        "a declined proposal is not offered again"
    );
    assert_eq!(
        after_send.body["skipped_proposals"][0]["reason"],
        "Assignment already exists for this reviewer"
    );
    let new_batch = app
        .get(&app.staff, &batch_path(&after_send.str("batch_uuid"), ""))
        .await
        .expect(200);
    assert_eq!(new_batch.body["items_count"], 0);
    assert_eq!(new_batch.body["manager_notes"], "");

    let draft_proposal = app
        .post(
            &app.staff,
            "/api/proposal-proposals/",
            json!({"round": setup.round_uuid, "name": "Draft proposal"}),
        )
        .await
        .expect(201);
    let any_state = app
        .post(&app.staff, &path, json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [draft_proposal.str("uuid")]}))
        .await
        .expect(200);
    assert_eq!(
        any_state.body["items_created"], 1,
        "proposals of any state can be assigned by hand"
    );
}

async fn manual_assignment_refusals(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let reviewer = &setup.reviewers[0];
    let invited = app.invited_reviewer(&setup.call_uuid, "pending").await;
    let other = app.further_call_setup("other", 1, 1).await;
    let path = call_action(&setup.call_uuid, "create-manual-assignment");
    let proposal = setup.proposal_uuid(0);

    let missing = app.post(&app.staff, &path, json!({})).await.expect(400);
    assert!(
        missing.body["reviewer_pool_entry_uuid"].is_array()
            || missing.body["proposal_uuids"].is_array()
    );
    let no_proposals = app
        .post(
            &app.staff,
            &path,
            json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid()}),
        )
        .await
        .expect(400);
    assert_eq!(
        no_proposals.body,
        json!({"proposal_uuids": ["This field is required."]})
    );
    let empty = app
        .post(
            &app.staff,
            &path,
            json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": []}),
        )
        .await
        .expect(400);
    assert!(empty.body["proposal_uuids"].is_array());
    let bad_uuid = app
        .post(
            &app.staff,
            &path,
            json!({"reviewer_pool_entry_uuid": "zzz", "proposal_uuids": [proposal]}),
        )
        .await
        .expect(400);
    assert!(bad_uuid.body.to_string().contains("zzz"));
    let bad_flag = app
        .post(
            &app.staff,
            &path,
            json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [proposal], "override_workload_limit": "maybe"}),
        )
        .await
        .expect(400);
    assert!(bad_flag.body["override_workload_limit"].is_array());

    for entry in [
        invited.entry_uuid(),
        other.reviewers[0].entry_uuid(),
        uuid::Uuid::now_v7().simple().to_string(),
    ] {
        let refused = app
            .post(
                &app.staff,
                &path,
                json!({"reviewer_pool_entry_uuid": entry, "proposal_uuids": [proposal]}),
            )
            .await
            .expect(400);
        assert!(
            refused.body["reviewer_pool_entry_uuid"][0]
                .as_str()
                .unwrap()
                .contains(&entry)
        );
    }
    let foreign = app
        .post(
            &app.staff,
            &path,
            json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [other.proposal_uuid(0), uuid::Uuid::now_v7()]}),
        )
        .await
        .expect(400);
    assert!(
        foreign.body["proposal_uuids"][0]
            .as_str()
            .unwrap()
            .contains("No valid proposals")
    );

    assert_eq!(
        app.get(&app.staff, "/api/assignment-batches/")
            .await
            .expect(200)
            .count(),
        0,
        "refusals create nothing"
    );
    app.post(
        &app.staff,
        &call_action(
            &uuid::Uuid::now_v7().simple().to_string(),
            "create-manual-assignment",
        ),
        json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [proposal]}),
    )
    .await
    .expect(404);
}

async fn manual_assignment_workload_override(app: TestApp) {
    let setup = app.call_setup(4, 1).await;
    let reviewer = &setup.reviewers[0];
    app.patch(
        &app.staff,
        &format!("/api/call-reviewer-pools/{}/", reviewer.entry_uuid()),
        json!({"max_assignments": 2}),
    )
    .await
    .expect(200);
    let path = call_action(&setup.call_uuid, "create-manual-assignment");
    app.post(&app.staff, &path, json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [setup.proposal_uuid(0)]}))
        .await
        .expect(200);

    let body = json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [setup.proposal_uuid(1), setup.proposal_uuid(2)]});
    let refused = app.post(&app.staff, &path, body.clone()).await.expect(400);
    assert_eq!(refused.str("code"), "workload_limit_exceeded");
    let message = refused.str("error");
    assert!(message.contains("reviewer0 Example"), "{message}");
    assert!(message.contains("1 open"), "{message}");
    assert!(message.contains("limit of 2"), "{message}");
    assert!(message.contains("2 more"), "{message}");
    assert!(message.contains("override_workload_limit"), "{message}");
    let batches = app
        .get(&app.staff, "/api/assignment-batches/")
        .await
        .expect(200);
    assert_eq!(
        batches.array()[0]["items_count"],
        1,
        "a refused assignment creates nothing"
    );

    let mut with_override = body.clone();
    with_override["override_workload_limit"] = json!(true);
    let reply = app.post(&app.staff, &path, with_override).await.expect(200);
    assert_eq!(reply.body["items_created"], 2);
    let events = app.call_audit_events(&setup.call_uuid).await;
    let overridden = events
        .iter()
        .find(|event| event.action == "pool_entry.workload_limit_overridden")
        .expect("the override is audited");
    assert_eq!(
        overridden.object_uuid.simple().to_string(),
        reviewer.entry_uuid()
    );
    assert_eq!(overridden.actor_name, "Staff User");
    assert!(overridden.reason.contains("override_workload_limit"));

    let pool = app
        .get(
            &app.staff,
            &format!("/api/call-reviewer-pools/{}/", reviewer.entry_uuid()),
        )
        .await
        .expect(200);
    assert_eq!(pool.body["current_assignments"], 3);

    let blocked_only = app.further_call_setup("blocked", 1, 0).await;
    let conflicted = app
        .reviewer_with_conflicts(
            &blocked_only.call_uuid,
            "cyd",
            &[blocked_only.proposal_uuid(0)],
        )
        .await;
    app.patch(
        &app.staff,
        &format!("/api/call-reviewer-pools/{}/", conflicted.entry_uuid()),
        json!({"max_assignments": 1}),
    )
    .await
    .expect(200);
    app.draft_item(
        &blocked_only.call_uuid,
        &conflicted,
        &blocked_only.proposal_uuid(0),
    )
    .await;
    let second_proposal = app.proposal(&blocked_only.round_uuid, "Another").await;
    app.post(
        &app.staff,
        &call_action(&blocked_only.call_uuid, "create-manual-assignment"),
        json!({"reviewer_pool_entry_uuid": conflicted.entry_uuid(), "proposal_uuids": [second_proposal["uuid"]]}),
    )
    .await
    .expect(200);
}

async fn generate_skips_blocked_and_respects_capacity(app: TestApp) {
    let setup = app.call_setup(4, 0).await;
    let proposals: Vec<String> = (0..4).map(|index| setup.proposal_uuid(index)).collect();
    let blocked = app
        .reviewer_with_conflicts(&setup.call_uuid, "blocked", &proposals[0..2])
        .await;
    let busy = app.accepted_reviewer(&setup.call_uuid, "busy").await;
    let free = app.accepted_reviewer(&setup.call_uuid, "free").await;
    for (member, limit) in [(&blocked, 5), (&busy, 1), (&free, 2)] {
        app.patch(
            &app.staff,
            &format!("/api/call-reviewer-pools/{}/", member.entry_uuid()),
            json!({"max_assignments": limit}),
        )
        .await
        .expect(200);
    }
    app.draft_item(&setup.call_uuid, &busy, &proposals[3]).await;

    let reply = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({"reviewers_per_proposal": 2}),
        )
        .await
        .expect(200);
    assert_eq!(
        keys(&reply.body),
        key_set(&[
            "batches_created",
            "items_created",
            "proposals_processed",
            "skipped_proposals",
            "algorithm",
            "objective_value",
            "min_proposal_affinity",
            "mean_proposal_affinity",
            "load_histogram",
            "unfilled_proposals",
            "infeasibility",
            "coi_detection_job_uuid"
        ])
    );

    let items: Vec<Value> = {
        let mut all = Vec::new();
        for batch in app
            .get(
                &app.staff,
                &format!("/api/assignment-batches/?call_uuid={}", setup.call_uuid),
            )
            .await
            .expect(200)
            .array()
        {
            let detail = app
                .get(&app.staff, &batch_path(batch["uuid"].as_str().unwrap(), ""))
                .await
                .expect(200);
            for item in detail.body["items"].as_array().unwrap() {
                let mut item = item.clone();
                item["reviewer_uuid"] = batch["reviewer_uuid"].clone();
                all.push(item);
            }
        }
        all
    };
    for item in &items {
        let pair_blocked = item["reviewer_uuid"] == blocked.profile_uuid().as_str()
            && proposals[0..2].contains(&item["proposal_uuid"].as_str().unwrap().to_owned());
        assert!(!pair_blocked, "a blocked pair was assigned: {item}");
        assert_ne!(item["status"], "coi_blocked");
    }
    let count_for = |member: &referee_conformance::PoolMember| {
        items
            .iter()
            .filter(|item| item["reviewer_uuid"] == member.profile_uuid().as_str())
            .count()
    };
    assert_eq!(count_for(&busy), 1, "busy already had its one assignment");
    assert_eq!(count_for(&free), 2, "free takes at most two");
    assert_eq!(
        count_for(&blocked),
        2,
        "blocked can only take the two unconflicted proposals"
    );
    assert_eq!(reply.body["items_created"], 4);
    assert_eq!(
        reply.body["batches_created"], 2,
        "busy's draft batch is reused"
    );
    let processed = reply.body["proposals_processed"].as_u64().unwrap();
    let skipped = reply.body["skipped_proposals"].as_array().unwrap();
    assert_eq!(processed as usize + skipped.len(), 4);
    for entry in skipped {
        assert!(entry["proposal_uuid"].is_string());
        assert!(entry["proposal_name"].is_string());
        assert!(!entry["reason"].as_str().unwrap().is_empty());
    }

    let pool = app
        .get(
            &app.staff,
            &format!("/api/call-reviewer-pools/{}/", free.entry_uuid()),
        )
        .await
        .expect(200);
    assert_eq!(pool.body["current_assignments"], 2);

    let rerun = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({"reviewers_per_proposal": 2}),
        )
        .await
        .expect(200);
    assert_eq!(
        rerun.body["items_created"], 0,
        "everyone is at capacity or already has the proposal"
    );
    assert_eq!(rerun.body["batches_created"], 0);
}

async fn generate_uses_affinity_and_defaults(app: TestApp) {
    let setup = app.call_setup(2, 3).await;
    let proposal = setup.proposal_uuid(0);
    app.seed_affinity(
        &setup.call_uuid,
        &setup.reviewers[2].profile_uuid(),
        &proposal,
        0.9,
    )
    .await;
    app.seed_affinity(
        &setup.call_uuid,
        &setup.reviewers[0].profile_uuid(),
        &proposal,
        0.4,
    )
    .await;

    let reply = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({"proposal_uuids": [proposal, uuid::Uuid::now_v7()]}),
        )
        .await
        .expect(200);
    assert_eq!(
        reply.body["items_created"], 2,
        "two reviewers per proposal without a matching configuration"
    );
    assert_eq!(reply.body["proposals_processed"], 1);
    let batches = app
        .get(&app.staff, "/api/assignment-batches/?source=algorithm")
        .await
        .expect(200);
    let mut chosen: Vec<(String, Value)> = Vec::new();
    for batch in batches.array() {
        assert_eq!(batch["created_by_name"], "Staff User");
        let detail = app
            .get(&app.staff, &batch_path(batch["uuid"].as_str().unwrap(), ""))
            .await
            .expect(200);
        for item in detail.body["items"].as_array().unwrap() {
            chosen.push((
                batch["reviewer_uuid"].as_str().unwrap().to_owned(),
                item["affinity_score"].clone(),
            ));
        }
    }
    chosen.sort_by(|left, right| left.0.cmp(&right.0));
    let mut expected = vec![
        (setup.reviewers[2].profile_uuid(), json!(0.9)),
        (setup.reviewers[0].profile_uuid(), json!(0.4)),
    ];
    expected.sort_by(|left, right| left.0.cmp(&right.0));
    assert_eq!(chosen, expected, "the highest affinities win");

    let configured = app.further_call_setup("configured", 1, 4).await;
    app.seed_min_reviewers(&configured.call_uuid, 3).await;
    let reply = app
        .post(
            &app.staff,
            &call_action(&configured.call_uuid, "generate-assignments"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(
        reply.body["items_created"], 3,
        "the matching configuration sets three reviewers"
    );
    let batch = app
        .get(
            &app.staff,
            &format!(
                "/api/assignment-batches/?call_uuid={}",
                configured.call_uuid
            ),
        )
        .await
        .expect(200);
    let detail = app
        .get(
            &app.staff,
            &batch_path(batch.array()[0]["uuid"].as_str().unwrap(), ""),
        )
        .await
        .expect(200);
    assert_eq!(
        detail.body["items"][0]["affinity_score"],
        Value::Null,
        "no affinity was computed"
    );
}

async fn generate_refusals(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let path = call_action(&setup.call_uuid, "generate-assignments");
    for count in [0, 21, -1] {
        let refused = app
            .post(&app.staff, &path, json!({"reviewers_per_proposal": count}))
            .await
            .expect(400);
        assert!(
            refused.body["reviewers_per_proposal"][0]
                .as_str()
                .unwrap()
                .contains(&count.to_string())
        );
    }
    let refused = app
        .post(&app.staff, &path, json!({"reviewers_per_proposal": "two"}))
        .await
        .expect(400);
    assert!(refused.body["reviewers_per_proposal"].is_array());
    let refused = app
        .post(&app.staff, &path, json!({"proposal_uuids": ["nope"]}))
        .await
        .expect(400);
    assert!(refused.body.to_string().contains("nope"));
    let refused = app
        .post(&app.staff, &path, json!({"proposal_uuids": "all"}))
        .await
        .expect(400);
    assert!(refused.body["proposal_uuids"].is_array());
    assert_eq!(
        app.get(&app.staff, "/api/assignment-batches/")
            .await
            .expect(200)
            .count(),
        0
    );
    app.post(
        &app.staff,
        &call_action(
            &uuid::Uuid::now_v7().simple().to_string(),
            "generate-assignments",
        ),
        json!({}),
    )
    .await
    .expect(404);

    let draft = app
        .post(
            &app.staff,
            "/api/proposal-proposals/",
            json!({"round": setup.round_uuid, "name": "Draft"}),
        )
        .await
        .expect(201);
    let reply = app
        .post(
            &app.staff,
            &path,
            json!({"proposal_uuids": [draft.str("uuid")]}),
        )
        .await
        .expect(200);
    let mut body = reply.body.clone();
    let job = body
        .as_object_mut()
        .expect("an object")
        .remove("coi_detection_job_uuid");
    // The draft proposal's pair with the reviewer was never evaluated.
    assert!(job.is_some_and(|job| job.is_string()));
    assert_eq!(
        body,
        json!({
            "batches_created": 0,
            "items_created": 0,
            "proposals_processed": 0,
            "skipped_proposals": [],
            "algorithm": "minmax",
            "objective_value": 0.0,
            "min_proposal_affinity": null,
            "mean_proposal_affinity": null,
            "load_histogram": {"0": 1},
            "unfilled_proposals": [],
            "infeasibility": null,
        })
    );
}

async fn generate_without_reviewers(app: TestApp) {
    let setup = app.call_setup(2, 0).await;
    app.invited_reviewer(&setup.call_uuid, "undecided").await;
    let reply = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(
        reply.body,
        json!({
            "batches_created": 0,
            "items_created": 0,
            "proposals_processed": 0,
            "skipped_proposals": [{"proposal_uuid": null, "proposal_name": null, "reason": "No accepted reviewers in pool"}],
            "algorithm": "minmax",
            "objective_value": 0.0,
            "min_proposal_affinity": null,
            "mean_proposal_affinity": null,
            "load_histogram": {},
            "unfilled_proposals": [],
            "infeasibility": null,
            "coi_detection_job_uuid": null,
        })
    );

    let blocked = app
        .reviewer_with_conflicts(&setup.call_uuid, "blocked", &[setup.proposal_uuid(0)])
        .await;
    let reply = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({"reviewers_per_proposal": 1}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["items_created"], 1);
    assert_eq!(
        reply.body["skipped_proposals"],
        json!([{"proposal_uuid": setup.proposal_uuid(0), "proposal_name": "Proposal 0", "reason": "No eligible reviewers available"}])
    );
    let batches = app
        .get(&app.staff, "/api/assignment-batches/")
        .await
        .expect(200);
    assert_eq!(
        batches.array()[0]["reviewer_uuid"],
        blocked.profile_uuid().as_str()
    );
}

async fn send_all_drafts_and_listed(app: TestApp) {
    let setup = app.call_setup(1, 3).await;
    let drafts: Vec<String> = {
        let mut uuids = Vec::new();
        for reviewer in &setup.reviewers {
            uuids.push(
                app.draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
                    .await
                    .batch_uuid,
            );
        }
        uuids
    };
    let other = app.further_call_setup("other", 1, 1).await;
    let foreign = app
        .draft_item(
            &other.call_uuid,
            &other.reviewers[0],
            &other.proposal_uuid(0),
        )
        .await;
    let path = call_action(&setup.call_uuid, "send-all-assignments");

    let refused = app
        .post(&app.staff, &path, json!({"batch_uuids": ["nope"]}))
        .await
        .expect(400);
    assert!(refused.body.to_string().contains("nope"));

    let listed = app
        .post(
            &app.staff,
            &path,
            json!({"batch_uuids": [drafts[0], foreign.batch_uuid, uuid::Uuid::now_v7()]}),
        )
        .await
        .expect(200);
    assert_eq!(listed.body, json!({"batches_sent": 1, "skipped": 2}));
    assert_eq!(batch_status(&app, &drafts[0]).await, "sent");
    assert_eq!(batch_status(&app, &drafts[1]).await, "draft");
    assert_eq!(batch_status(&app, &foreign.batch_uuid).await, "draft");

    let again = app
        .post(&app.staff, &path, json!({"batch_uuids": [drafts[0]]}))
        .await
        .expect(200);
    assert_eq!(again.body, json!({"batches_sent": 0, "skipped": 1}));

    let all = app.post(&app.staff, &path, json!({})).await.expect(200);
    assert_eq!(all.body, json!({"batches_sent": 2, "skipped": 0}));
    for uuid in &drafts {
        assert_eq!(batch_status(&app, uuid).await, "sent");
    }
    assert_eq!(batch_status(&app, &foreign.batch_uuid).await, "draft");
    let sent_messages = app
        .call_outbox(&setup.call_uuid)
        .await
        .into_iter()
        .filter(|message| message.template == "assignment_batch_sent")
        .count();
    assert_eq!(sent_messages, 3);
    let none_left = app.post(&app.staff, &path, json!({})).await.expect(200);
    assert_eq!(none_left.body, json!({"batches_sent": 0, "skipped": 0}));
}

async fn call_actions_permission_matrix(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    let people = cast(&app, &setup).await;
    let reviewer = &setup.reviewers[0];
    let manual = json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [setup.proposal_uuid(0)]});
    let generate = json!({"reviewers_per_proposal": 1});
    let actions = [
        ("create-manual-assignment", manual.clone()),
        ("generate-assignments", generate.clone()),
        ("send-all-assignments", json!({})),
    ];

    for (action, body) in &actions {
        let path = call_action(&setup.call_uuid, action);
        for refused in [&people.support, &people.org_member] {
            app.post(refused, &path, body.clone()).await.expect(403);
        }
        for stranger in [
            &reviewer.user,
            &people.other_reviewer,
            &people.applicant,
            &people.outsider,
        ] {
            app.post(stranger, &path, body.clone()).await.expect(404);
        }
        app.post(&people.anonymous, &path, body.clone())
            .await
            .expect(401);
        app.get(&app.staff, &path).await.expect(405);
    }
    assert_eq!(
        app.get(&app.staff, "/api/assignment-batches/")
            .await
            .expect(200)
            .count(),
        0,
        "refusals create nothing"
    );

    app.post(
        &people.manager,
        &call_action(&setup.call_uuid, "create-manual-assignment"),
        manual.clone(),
    )
    .await
    .expect(200);
    let second = json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [setup.proposal_uuid(1)]});
    app.post(
        &people.owner,
        &call_action(&setup.call_uuid, "create-manual-assignment"),
        second,
    )
    .await
    .expect(200);
    app.post(
        &people.org_manager,
        &call_action(&setup.call_uuid, "generate-assignments"),
        generate.clone(),
    )
    .await
    .expect(200);
    app.post(
        &app.staff,
        &call_action(&setup.call_uuid, "generate-assignments"),
        generate,
    )
    .await
    .expect(200);
    let sent = app
        .post(
            &people.manager,
            &call_action(&setup.call_uuid, "send-all-assignments"),
            json!({}),
        )
        .await
        .expect(200);
    // The second generation fills no slot: the first one filled them all.
    assert_eq!(sent.body["batches_sent"], 1);
}

async fn one_draft_per_pool_entry(app: TestApp) {
    let setup = app.call_setup(3, 1).await;
    let reviewer = &setup.reviewers[0];
    let manual = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "create-manual-assignment"),
            json!({"reviewer_pool_entry_uuid": reviewer.entry_uuid(), "proposal_uuids": [setup.proposal_uuid(0)]}),
        )
        .await
        .expect(200);
    let generated = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({"reviewers_per_proposal": 1}),
        )
        .await
        .expect(200);
    assert_eq!(
        generated.body["batches_created"], 0,
        "generation reuses the manual draft"
    );
    assert_eq!(generated.body["items_created"], 2);
    let drafts = app
        .get(
            &app.staff,
            &format!(
                "/api/assignment-batches/?reviewer_pool_entry_uuid={}&status=draft",
                reviewer.entry_uuid()
            ),
        )
        .await
        .expect(200);
    assert_eq!(drafts.count(), 1);
    assert_eq!(drafts.array()[0]["uuid"], manual.body["batch_uuid"]);
    assert_eq!(drafts.array()[0]["items_count"], 3);
    assert_eq!(drafts.array()[0]["source"], "manual");

    let extra = app.proposal(&setup.round_uuid, "Extra").await;
    let fixture = app
        .draft_item(&setup.call_uuid, reviewer, extra["uuid"].as_str().unwrap())
        .await;
    assert_eq!(fixture.batch_uuid, manual.str("batch_uuid"));
}

/// Generates assignments for the call through the store, two reviewers per proposal, on a
/// connection that counts the SQL statements it sends (BEGIN and COMMIT included). Returns
/// the number of items created and of statements.
async fn counted_generation(app: &TestApp, call_uuid: &str) -> (usize, usize) {
    let call_uuid = uuid::Uuid::try_parse(call_uuid).expect("a call UUID");
    let staff_uuid = uuid::Uuid::try_parse(&app.staff.uuid).expect("the staff user's UUID");
    app.state
        .run(move |connection| {
            let staff = users::get_user(connection, staff_uuid)?;
            let actor = users::actor_for(connection, staff)?;
            let statements = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&statements);
            connection.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::StartQuery { .. } = event {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
            let request = GenerateRequest {
                reviewers_per_proposal: Some(2),
                ..GenerateRequest::default()
            };
            let outcome = batches::generate_assignments(connection, &actor, call_uuid, &request);
            log_statements(connection);
            Ok((outcome?.items_created, statements.load(Ordering::Relaxed)))
        })
        .await
        .expect("generating assignments")
}

/// Creates a call with four accepted reviewers and `proposals` submitted proposals whose team
/// names the first reviewer, so that detection finds one conflict per proposal.
async fn call_naming_first_reviewer(app: &TestApp, prefix: &str, proposals: usize) -> CallSetup {
    let mut setup = app.further_call_setup(prefix, 0, 4).await;
    for index in 0..proposals {
        let created = app
            .post(
                &app.staff,
                "/api/proposal-proposals/",
                json!({
                    "round": setup.round_uuid,
                    "name": format!("{prefix} proposal {index}"),
                    "team_members": [{
                        "full_name": "Named Reviewer",
                        "email": format!("{prefix}0@example.org"),
                        "role": "principal_investigator",
                    }],
                }),
            )
            .await
            .expect(201);
        let submitted = app
            .post(
                &app.staff,
                &format!("/api/proposal-proposals/{}/submit/", created.str("uuid")),
                json!({}),
            )
            .await
            .expect(200);
        setup.proposals.push(submitted.body);
    }
    setup
}

async fn generate_statements_independent_of_items(app: TestApp) {
    let small = call_naming_first_reviewer(&app, "small", 2).await;
    let large = call_naming_first_reviewer(&app, "large", 6).await;

    let (small_items, small_statements) = counted_generation(&app, &small.call_uuid).await;
    let (large_items, large_statements) = counted_generation(&app, &large.call_uuid).await;
    assert_eq!(small_items, 4);
    assert_eq!(large_items, 12);
    assert_eq!(
        large_statements, small_statements,
        "generation sent {small_statements} statements for {small_items} items and \
         {large_statements} for {large_items}, with the same 4 reviewers"
    );

    let events = app.call_audit_events(&large.call_uuid).await;
    let count = |action: &str| events.iter().filter(|event| event.action == action).count();
    assert_eq!(count("conflict.detected"), 6);
    assert_eq!(count("batch.created"), 3);
    assert_eq!(count("item.created"), 12);
    assert_eq!(count("call.assignments_generated"), 1);
    assert_eq!(
        events[0].action, "call.assignments_generated",
        "the summary is the newest event"
    );
    let times: BTreeSet<_> = events.iter().map(|event| event.created).collect();
    assert_eq!(times.len(), events.len(), "every event has its own time");

    let items = app
        .get(
            &app.staff,
            &format!(
                "/api/assignment-items/?call_uuid={}&page_size=100",
                large.call_uuid
            ),
        )
        .await
        .expect(200);
    let created: BTreeSet<&str> = items
        .array()
        .iter()
        .map(|item| item["created"].as_str().expect("created"))
        .collect();
    assert_eq!(created.len(), 12, "every item has its own creation time");
}
