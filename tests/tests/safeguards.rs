//! Safeguards across resources: the exact solver behind generate-assignments with its
//! explanation of infeasible demand, repair runs, and conflicts of interest that keep
//! reviewers off proposals whatever order things happen in.

use referee_conformance::{CallSetup, TestApp, on_both_backends};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    generation_explains_infeasible_demand,
    generation_finds_exact_optimum,
    generation_repair_fills_open_slots,
    conflict_recorded_later_blocks_item,
    recused_conflict_is_final,
    recusal_required_type_cannot_be_waived,
    force_unblock_applies_workload_limit,
    cancelled_batch_item_can_be_reassigned,
);

fn call_action(call_uuid: &str, action: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/{action}/")
}

async fn set_limit(app: &TestApp, setup: &CallSetup, limit: i64) {
    for reviewer in &setup.reviewers {
        app.patch(
            &app.staff,
            &format!("/api/call-reviewer-pools/{}/", reviewer.entry_uuid()),
            json!({"max_assignments": limit}),
        )
        .await
        .expect(200);
    }
}

async fn record_conflict(
    app: &TestApp,
    setup: &CallSetup,
    reviewer: usize,
    proposal: usize,
    coi_type: &str,
) -> Value {
    app.post(
        &app.staff,
        "/api/conflicts-of-interest/",
        json!({
            "reviewer": setup.reviewers[reviewer].profile_uuid(),
            "proposal": setup.proposal_uuid(proposal),
            "coi_type": coi_type,
            "evidence_description": "Declared by the call office",
        }),
    )
    .await
    .expect(201)
    .body
}

async fn generation_explains_infeasible_demand(app: TestApp) {
    let setup = app.call_setup(3, 2).await;
    set_limit(&app, &setup, 4).await;

    let reply = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({"reviewers_per_proposal": 3}),
        )
        .await
        .expect(200);
    let infeasibility = &reply.body["infeasibility"];
    assert_eq!(infeasibility["demand"], 9);
    assert_eq!(infeasibility["capacity"], 8);
    let message = infeasibility["message"].as_str().unwrap();
    for name in [
        "Proposal 0",
        "Proposal 1",
        "Proposal 2",
        "reviewer0 Example",
        "reviewer1 Example",
    ] {
        assert!(message.contains(name), "{name} missing from: {message}");
    }
    assert_eq!(infeasibility["proposal_uuids"].as_array().unwrap().len(), 3);
    assert_eq!(
        infeasibility["pool_entry_uuids"].as_array().unwrap().len(),
        2
    );
    let suggestion = infeasibility["suggestion"].as_str().unwrap();
    // The explanation names the limits as the API does.
    assert!(suggestion.contains("max_assignments"), "{suggestion}");
    assert!(
        suggestion.contains("reviewers_per_proposal"),
        "{suggestion}"
    );
    assert!(!message.contains("max_proposals"), "{message}");

    assert_eq!(reply.body["items_created"], 6);
    assert_eq!(
        reply.body["unfilled_proposals"].as_array().unwrap().len(),
        3
    );
    assert_eq!(reply.body["load_histogram"], json!({"3": 2}));
}

async fn generation_finds_exact_optimum(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    set_limit(&app, &setup, 1).await;
    let scores = [[0.9, 0.8], [0.7, 0.1]];
    for (reviewer, row) in scores.iter().enumerate() {
        for (proposal, score) in row.iter().enumerate() {
            let call = Uuid::try_parse(&setup.call_uuid).unwrap();
            let profile = Uuid::try_parse(&setup.reviewers[reviewer].profile_uuid()).unwrap();
            let proposal = Uuid::try_parse(&setup.proposal_uuid(proposal)).unwrap();
            let score = *score;
            app.state
                .run(move |connection| {
                    referee_conformance::seed::set_affinity(
                        connection, call, profile, proposal, score,
                    )
                })
                .await
                .unwrap();
        }
    }

    let reply = app
        .post(
            &app.staff,
            &call_action(&setup.call_uuid, "generate-assignments"),
            json!({"reviewers_per_proposal": 1}),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["algorithm"], "minmax");
    let objective = reply.body["objective_value"].as_f64().unwrap();
    assert!(
        (objective - 1.5).abs() < 1e-9,
        "greedy would give 1.0; got {objective}"
    );
    assert!(reply.body["infeasibility"].is_null());

    let first_reviewer = app
        .get(
            &app.staff,
            &format!(
                "/api/assignment-items/?reviewer_uuid={}",
                setup.reviewers[0].profile_uuid()
            ),
        )
        .await
        .expect(200);
    assert_eq!(
        first_reviewer.array()[0]["proposal_uuid"],
        setup.proposal_uuid(1)
    );
}

async fn generation_repair_fills_open_slots(app: TestApp) {
    let setup = app.call_setup(2, 3).await;
    let path = call_action(&setup.call_uuid, "generate-assignments");
    let first = app
        .post(&app.staff, &path, json!({"reviewers_per_proposal": 2}))
        .await
        .expect(200);
    assert_eq!(first.body["items_created"], 4);
    let second = app
        .post(&app.staff, &path, json!({"reviewers_per_proposal": 2}))
        .await
        .expect(200);
    assert_eq!(second.body["items_created"], 0);
    let third = app
        .post(&app.staff, &path, json!({"reviewers_per_proposal": 3}))
        .await
        .expect(200);
    assert_eq!(third.body["items_created"], 2);
}

async fn conflict_recorded_later_blocks_item(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let item = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    record_conflict(&app, &setup, 0, 0, "REL_FAMILY").await;

    let blocked = app
        .get(
            &app.staff,
            &format!("/api/assignment-items/{}/", item.item_uuid),
        )
        .await
        .expect(200);
    assert_eq!(blocked.str("status"), "coi_blocked");
    assert_eq!(blocked.body["has_coi"], true);
    assert_eq!(blocked.body["coi_count"], 1);
    app.post(
        &setup.reviewers[0].user,
        &format!("/api/assignment-items/{}/accept/", item.item_uuid),
        json!({}),
    )
    .await
    .expect(400);
    let reviews = app
        .get(&app.staff, "/api/proposal-reviews/")
        .await
        .expect(200);
    assert_eq!(reviews.count(), 0);
}

async fn recused_conflict_is_final(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let item = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    let conflict = record_conflict(&app, &setup, 0, 0, "COLLAB_ACTIVE").await;
    let conflict_uuid = conflict["uuid"].as_str().unwrap();
    app.post(
        &app.staff,
        &format!("/api/conflicts-of-interest/{conflict_uuid}/recuse/"),
        json!({"status": "recused"}),
    )
    .await
    .expect(200);

    let dismissed = app
        .post(
            &app.staff,
            &format!("/api/conflicts-of-interest/{conflict_uuid}/dismiss/"),
            json!({"status": "dismissed"}),
        )
        .await
        .expect(400);
    assert_eq!(dismissed.str("code"), "conflict_recused");
    let unblocked = app
        .post(
            &app.staff,
            &format!("/api/assignment-items/{}/force-unblock/", item.item_uuid),
            json!({"override_reason": "Fine"}),
        )
        .await
        .expect(400);
    assert_eq!(unblocked.str("code"), "conflict_recused");
    let item = app
        .get(
            &app.staff,
            &format!("/api/assignment-items/{}/", item.item_uuid),
        )
        .await
        .expect(200);
    assert_eq!(item.str("status"), "coi_blocked");
}

async fn recusal_required_type_cannot_be_waived(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    app.patch(
        &app.staff,
        &call_action(&setup.call_uuid, "coi-configuration"),
        json!({"recusal_required_types": ["REL_FAMILY"]}),
    )
    .await
    .expect(200);
    let conflict = record_conflict(&app, &setup, 0, 0, "REL_FAMILY").await;
    let conflict_uuid = conflict["uuid"].as_str().unwrap();

    let waived = app
        .post(
            &app.staff,
            &format!("/api/conflicts-of-interest/{conflict_uuid}/waive/"),
            json!({"status": "waived", "management_plan": "Another reviewer checks the score"}),
        )
        .await
        .expect(400);
    assert_eq!(waived.str("code"), "recusal_required");
    assert!(waived.str("error").contains("REL_FAMILY"));
    let stored = app
        .get(
            &app.staff,
            &format!("/api/conflicts-of-interest/{conflict_uuid}/"),
        )
        .await
        .expect(200);
    assert_eq!(stored.str("status"), "pending");
}

async fn force_unblock_applies_workload_limit(app: TestApp) {
    let setup = app.call_setup(2, 1).await;
    set_limit(&app, &setup, 1).await;
    app.sent_item(
        &setup.call_uuid,
        &setup.reviewers[0],
        &setup.proposal_uuid(0),
    )
    .await;
    record_conflict(&app, &setup, 0, 1, "COMPET").await;
    let blocked = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(1),
        )
        .await;
    let path = format!("/api/assignment-items/{}/force-unblock/", blocked.item_uuid);

    let refused = app
        .post(
            &app.staff,
            &path,
            json!({"override_reason": "Not a real competitor"}),
        )
        .await
        .expect(400);
    assert_eq!(refused.str("code"), "workload_limit_exceeded");
    let unblocked = app
        .post(
            &app.staff,
            &path,
            json!({"override_reason": "Not a real competitor", "override_workload_limit": true}),
        )
        .await
        .expect(200);
    assert_eq!(unblocked.str("status"), "pending");
}

async fn cancelled_batch_item_can_be_reassigned(app: TestApp) {
    let setup = app.call_setup(1, 2).await;
    let item = app
        .sent_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    app.post(
        &app.staff,
        &format!("/api/assignment-batches/{}/cancel/", item.batch_uuid),
        json!({}),
    )
    .await
    .expect(200);

    let reassigned = app
        .post(
            &app.staff,
            &format!("/api/assignment-items/{}/reassign/", item.item_uuid),
            json!({"reviewer_pool_entry_uuid": setup.reviewers[1].entry_uuid()}),
        )
        .await
        .expect(200);
    assert!(reassigned.body["new_item_uuid"].is_string());
    let old = app
        .get(
            &app.staff,
            &format!("/api/assignment-items/{}/", item.item_uuid),
        )
        .await
        .expect(200);
    assert_eq!(old.str("status"), "reassigned");
}
