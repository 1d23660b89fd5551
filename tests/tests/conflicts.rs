//! Conflicts of interest: `/api/conflicts-of-interest/`, the call's conflict views, and how
//! decisions block and unblock assignment items.

use std::collections::BTreeSet;

use referee_conformance::{CallSetup, TestApp, TestUser, on_both_backends};
use referee_domain::enums::ItemStatus;
use serde_json::{Value, json};

on_both_backends!(
    coi_create_keys_and_defaults,
    coi_create_refusals,
    coi_permission_matrix,
    coi_list_filters_and_ordering,
    coi_recuse_blocks_items_and_reviews,
    coi_recuse_blocks_accepted_item,
    coi_dismiss_unblocks_and_reopens_batch,
    coi_waive_keeps_block_while_other_blocks,
    coi_decision_refusals,
    coi_patch_status_has_side_effects,
    coi_delete_not_allowed,
    coi_call_views,
    coi_concurrent_decisions_one_wins,
);

const COLLECTION: &str = "/api/conflicts-of-interest/";

fn path(uuid: &str) -> String {
    format!("{COLLECTION}{uuid}/")
}

fn action(uuid: &str, name: &str) -> String {
    format!("{COLLECTION}{uuid}/{name}/")
}

fn uuid_of(value: &Value) -> String {
    value["uuid"].as_str().expect("uuid").to_owned()
}

/// A call with two proposals and two reviewers, and one user per role of the matrix.
struct Cast {
    setup: CallSetup,
    manager: TestUser,
    owner: TestUser,
    member: TestUser,
    support: TestUser,
    applicant: TestUser,
    unrelated: TestUser,
}

async fn cast(app: &TestApp) -> Cast {
    let setup = app.call_setup(2, 2).await;
    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let applicant = app.user("applicant").await;
    app.proposal_as(&applicant, &setup.round_uuid, "Own proposal")
        .await;
    let unrelated = app.user("unrelated").await;
    Cast {
        setup,
        manager,
        owner,
        member,
        support,
        applicant,
        unrelated,
    }
}

async fn coi_create_keys_and_defaults(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);

    let created = app
        .post(
            &cast.manager,
            COLLECTION,
            json!({
                "reviewer": format!("{}/api/reviewer-profiles/{}/", app.base, reviewer.profile_uuid()),
                "proposal": proposal,
                "coi_type": "COAUTH_RECENT",
                "evidence_description": "Two joint papers in 2025.",
                "evidence_data": {"papers": 2},
            }),
        )
        .await
        .expect(201);
    let keys: BTreeSet<&str> = created
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "url",
        "uuid",
        "reviewer",
        "reviewer_uuid",
        "reviewer_name",
        "proposal",
        "proposal_uuid",
        "proposal_name",
        "round_uuid",
        "round_name",
        "call",
        "call_uuid",
        "call_name",
        "conflicting_user",
        "conflicting_user_name",
        "conflicting_organization",
        "conflicting_organization_name",
        "coi_type",
        "coi_type_display",
        "severity",
        "severity_display",
        "detection_method",
        "detected_at",
        "evidence_description",
        "evidence_data",
        "status",
        "status_display",
        "reviewed_by",
        "reviewed_by_name",
        "reviewed_at",
        "review_notes",
        "management_plan",
        "created",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    let body = &created.body;
    assert_eq!(body["call_uuid"], setup.call_uuid.as_str());
    assert_eq!(body["proposal_uuid"], proposal.as_str());
    assert_eq!(body["round_uuid"], setup.round_uuid.as_str());
    assert!(body["round_name"].as_str().unwrap().starts_with("Round "));
    assert_eq!(body["reviewer_name"], "reviewer0 Example");
    assert_eq!(body["severity"], "apparent");
    assert_eq!(
        body["severity_display"],
        "Apparent conflict - requires management"
    );
    assert_eq!(body["detection_method"], "manager_identified");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["evidence_data"], json!({"papers": 2}));
    assert_eq!(body["reviewed_by"], Value::Null);
    assert_eq!(body["reviewed_by_name"], Value::Null);
    assert_eq!(body["conflicting_user_name"], Value::Null);
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/conflicts-of-interest/{}/", uuid_of(body)))
    );

    let whole_call = app
        .post(
            &app.staff,
            COLLECTION,
            json!({
                "reviewer": reviewer.profile_uuid(),
                "call": setup.call_uuid,
                "coi_type": "FIN_DIRECT",
                "severity": "potential",
                "evidence_description": "Shares in the applicant's company.",
                "conflicting_organization": setup.customer_uuid,
                "conflicting_user": cast.applicant.uuid,
            }),
        )
        .await
        .expect(201);
    assert_eq!(whole_call.body["proposal"], Value::Null);
    assert_eq!(whole_call.body["proposal_uuid"], Value::Null);
    assert_eq!(whole_call.body["round_name"], Value::Null);
    assert_eq!(whole_call.body["severity"], "potential");
    assert_eq!(whole_call.body["conflicting_organization_name"], "Agency");
    assert_eq!(
        whole_call.body["conflicting_user_name"],
        "applicant Example"
    );
    assert_eq!(whole_call.body["evidence_data"], json!({}));

    let actions = app.audit_actions(&uuid_of(&created.body)).await;
    assert_eq!(actions[0].0, "conflict.created");
}

async fn coi_create_refusals(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = setup.reviewers[0].profile_uuid();
    let valid = json!({
        "reviewer": reviewer,
        "call": setup.call_uuid,
        "proposal": setup.proposal_uuid(0),
        "coi_type": "REL_FAMILY",
        "evidence_description": "Sibling of the applicant.",
    });
    let with = |key: &str, value: Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };

    let blank = app
        .post(
            &app.staff,
            COLLECTION,
            with("evidence_description", json!("  ")),
        )
        .await
        .expect(400);
    assert!(blank.body["evidence_description"].is_array());
    let missing = app
        .post(&app.staff, COLLECTION, without("evidence_description"))
        .await
        .expect(400);
    assert_eq!(
        missing.body,
        json!({"evidence_description": ["This field is required."]})
    );
    let bad_type = app
        .post(&app.staff, COLLECTION, with("coi_type", json!("NOPE")))
        .await
        .expect(400);
    assert!(bad_type.body["coi_type"].is_array());
    let bad_data = app
        .post(&app.staff, COLLECTION, with("evidence_data", json!([1])))
        .await
        .expect(400);
    assert!(bad_data.body["evidence_data"].is_array());

    let outsider = app.user("outsider").await;
    let outsider_profile = app.profile(&outsider).await;
    let not_in_pool = app
        .post(
            &app.staff,
            COLLECTION,
            with("reviewer", outsider_profile["uuid"].clone()),
        )
        .await
        .expect(400);
    assert!(
        not_in_pool.body["reviewer"][0]
            .as_str()
            .unwrap()
            .contains("pool")
    );

    let other = app.customer("Other").await;
    let other_call = app
        .call(other["uuid"].as_str().unwrap(), "Other call")
        .await;
    let other_round = app.round(other_call["uuid"].as_str().unwrap()).await;
    let foreign = app
        .proposal(other_round["uuid"].as_str().unwrap(), "Foreign")
        .await;
    let wrong_call = app
        .post(
            &app.staff,
            COLLECTION,
            with("proposal", foreign["uuid"].clone()),
        )
        .await
        .expect(400);
    assert!(
        wrong_call.body["proposal"][0]
            .as_str()
            .unwrap()
            .contains("does not belong")
    );

    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.post(&app.staff, COLLECTION, with("proposal", json!(unknown)))
        .await
        .expect(400);
    let mut neither = without("call");
    neither.as_object_mut().unwrap().remove("proposal");
    let neither = app.post(&app.staff, COLLECTION, neither).await.expect(400);
    assert!(neither.body["call"].is_array());

    app.post(&TestUser::anonymous(), COLLECTION, valid.clone())
        .await
        .expect(401);
    app.post(&cast.member, COLLECTION, valid.clone())
        .await
        .expect(403);
    app.post(&cast.support, COLLECTION, valid.clone())
        .await
        .expect(403);
    let invisible = app
        .post(&cast.unrelated, COLLECTION, valid.clone())
        .await
        .expect(400);
    assert!(invisible.body["proposal"].is_array() || invisible.body["call"].is_array());
    app.post(&setup.reviewers[0].user, COLLECTION, valid.clone())
        .await
        .expect(400);

    let listed = app.get(&app.staff, COLLECTION).await.expect(200);
    assert_eq!(listed.count(), 0, "refused requests created nothing");

    app.post(&cast.owner, COLLECTION, valid.clone())
        .await
        .expect(201);
    app.post(&cast.manager, COLLECTION, valid).await.expect(201);
}

async fn coi_permission_matrix(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let conflict = app
        .conflict(
            &setup.call_uuid,
            &setup.reviewers[0],
            Some(&setup.proposal_uuid(0)),
            "INST_SAME",
        )
        .await;
    let uuid = uuid_of(&conflict);

    let readers = [
        (&app.staff, 200),
        (&cast.support, 200),
        (&cast.manager, 200),
        (&cast.owner, 200),
        (&cast.member, 200),
        (&setup.reviewers[0].user, 200),
        (&setup.reviewers[1].user, 404),
        (&cast.applicant, 404),
        (&cast.unrelated, 404),
        (&TestUser::anonymous(), 401),
    ];
    for (user, status) in readers {
        app.get(user, &path(&uuid)).await.expect(status);
        let listed = app.get(user, COLLECTION).await;
        if status == 401 {
            listed.expect(401);
        } else {
            let expected = if status == 200 { 1 } else { 0 };
            assert_eq!(
                listed.expect(200).count(),
                expected,
                "list as {}",
                user.username
            );
        }
    }

    let writers = [
        (&cast.support, 403),
        (&cast.member, 403),
        (&setup.reviewers[0].user, 403),
        (&setup.reviewers[1].user, 404),
        (&cast.applicant, 404),
        (&cast.unrelated, 404),
        (&TestUser::anonymous(), 401),
        (&app.staff, 200),
        (&cast.manager, 200),
        (&cast.owner, 200),
    ];
    for (user, status) in writers {
        let note = format!("note by {}", user.username);
        app.patch(user, &path(&uuid), json!({"review_notes": note}))
            .await
            .expect(status);
        let body = json!({"status": "dismissed"});
        app.post(user, &action(&uuid, "dismiss"), body)
            .await
            .expect(status);
    }
    let after = app.get(&app.staff, &path(&uuid)).await.expect(200);
    assert_eq!(after.body["status"], "dismissed");
    assert_eq!(after.body["reviewed_by_name"], "owner Example");
}

async fn coi_list_filters_and_ordering(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let first = app
        .conflict(
            &setup.call_uuid,
            &setup.reviewers[0],
            Some(&setup.proposal_uuid(0)),
            "INST_SAME",
        )
        .await;
    let second = app
        .conflict(
            &setup.call_uuid,
            &setup.reviewers[1],
            Some(&setup.proposal_uuid(1)),
            "COAUTH_OLD",
        )
        .await;
    let third = app
        .conflict(&setup.call_uuid, &setup.reviewers[1], None, "COMPET")
        .await;
    app.post(
        &app.staff,
        &action(&uuid_of(&third), "recuse"),
        json!({"status": "recused"}),
    )
    .await
    .expect(200);

    let query = |suffix: &str| format!("{COLLECTION}?{suffix}");
    let uuids = |reply: &referee_conformance::Reply| -> Vec<String> {
        reply.array().iter().map(uuid_of).collect()
    };

    let default = app.get(&app.staff, COLLECTION).await.expect(200);
    assert_eq!(
        uuids(&default),
        vec![uuid_of(&third), uuid_of(&second), uuid_of(&first)]
    );
    let oldest = app
        .get(&app.staff, &query("o=detected_at"))
        .await
        .expect(200);
    assert_eq!(
        uuids(&oldest),
        vec![uuid_of(&first), uuid_of(&second), uuid_of(&third)]
    );
    let by_severity = app
        .get(&app.staff, &query("o=-severity,created"))
        .await
        .expect(200);
    assert_eq!(by_severity.array()[0]["severity"], "real");

    let cases = [
        (format!("call_uuid={}", setup.call_uuid), 3),
        (format!("proposal_uuid={}", setup.proposal_uuid(0)), 1),
        (format!("round_uuid={}", setup.round_uuid), 2),
        (
            format!("reviewer_uuid={}", setup.reviewers[1].profile_uuid()),
            2,
        ),
        ("reviewer_name=REVIEWER1".to_owned(), 2),
        ("coi_type=INST_SAME&coi_type=COMPET".to_owned(), 2),
        ("severity=potential".to_owned(), 1),
        ("status=pending".to_owned(), 2),
        ("status=pending&status=recused".to_owned(), 3),
        ("detection_method=manager_identified".to_owned(), 3),
        ("detection_method=automated".to_owned(), 0),
    ];
    for (filter, expected) in cases {
        let reply = app.get(&app.staff, &query(&filter)).await.expect(200);
        assert_eq!(reply.count(), expected, "filter {filter}");
        let head = app.head(&app.staff, &query(&filter)).await.expect(200);
        assert_eq!(head.count(), expected, "HEAD filter {filter}");
    }

    for bad in [
        "status=open",
        "coi_type=NOPE",
        "severity=huge",
        "detection_method=x",
        "o=name",
        "call_uuid=zzz",
    ] {
        app.get(&app.staff, &query(bad)).await.expect(400);
    }
}

async fn coi_recuse_blocks_items_and_reviews(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);
    let item = app.sent_item(&setup.call_uuid, reviewer, &proposal).await;
    let other_item = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;
    let review = app
        .review_in_review(&setup.call_uuid, reviewer, &proposal)
        .await;
    let other_review = app
        .review_in_review(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;
    let conflict = app
        .conflict(&setup.call_uuid, reviewer, Some(&proposal), "REL_MENTOR")
        .await;
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true),
        "a new conflict blocks the pending item of its proposal"
    );

    let recused = app
        .post(
            &cast.manager,
            &action(&uuid_of(&conflict), "recuse"),
            json!({"status": "recused", "review_notes": "Mentor of the PI."}),
        )
        .await
        .expect(200);
    assert_eq!(recused.body["status"], "recused");
    assert_eq!(recused.body["review_notes"], "Mentor of the PI.");
    assert_eq!(recused.body["reviewed_by_name"], "manager Example");
    assert!(recused.body["reviewed_at"].is_string());

    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );
    assert_eq!(
        app.item_state(&other_item.item_uuid).await,
        ("pending".to_owned(), false)
    );
    assert_eq!(
        app.batch_status(&item.batch_uuid).await,
        "responded",
        "no pending item is left in the sent batch"
    );
    let rejected = app
        .get(&app.staff, &format!("/api/proposal-reviews/{review}/"))
        .await
        .expect(200);
    assert_eq!(rejected.body["state"], "rejected");
    let untouched = app
        .get(
            &app.staff,
            &format!("/api/proposal-reviews/{other_review}/"),
        )
        .await
        .expect(200);
    assert_eq!(untouched.body["state"], "in_review");

    let conflict_actions: Vec<String> = app
        .audit_actions(&uuid_of(&conflict))
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(
        conflict_actions,
        vec!["conflict.created", "conflict.recused"]
    );
    let item_actions: Vec<String> = app
        .audit_actions(&item.item_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(item_actions.contains(&"item.coi_blocked".to_owned()));
    let review_actions: Vec<String> = app
        .audit_actions(&review)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(review_actions.contains(&"review.rejected".to_owned()));

    let again = app
        .post(
            &cast.manager,
            &action(&uuid_of(&conflict), "recuse"),
            json!({"status": "recused"}),
        )
        .await
        .expect(200);
    assert_eq!(again.body["status"], "recused");
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );
}

async fn coi_recuse_blocks_accepted_item(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);
    let item = app.sent_item(&setup.call_uuid, reviewer, &proposal).await;
    app.force_item_status(&item.item_uuid, ItemStatus::Accepted)
        .await;
    let review = app
        .review_in_review(&setup.call_uuid, reviewer, &proposal)
        .await;
    let conflict = app
        .conflict(&setup.call_uuid, reviewer, Some(&proposal), "ROLE_NAMED")
        .await;

    app.post(
        &cast.owner,
        &action(&uuid_of(&conflict), "recuse"),
        json!({"status": "recused"}),
    )
    .await
    .expect(200);

    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );
    let rejected = app
        .get(&app.staff, &format!("/api/proposal-reviews/{review}/"))
        .await
        .expect(200);
    assert_eq!(rejected.body["state"], "rejected");
}

async fn coi_dismiss_unblocks_and_reopens_batch(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);
    let item = app.sent_item(&setup.call_uuid, reviewer, &proposal).await;
    let conflict = app
        .conflict(&setup.call_uuid, reviewer, Some(&proposal), "INST_FORMER")
        .await;
    let uuid = uuid_of(&conflict);
    // Recording the conflict blocks the pending item, so the batch has nothing left to answer.
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );
    assert_eq!(app.batch_status(&item.batch_uuid).await, "responded");

    let dismissed = app
        .post(
            &cast.manager,
            &action(&uuid, "dismiss"),
            json!({"status": "dismissed", "review_notes": "Left in 2010."}),
        )
        .await
        .expect(200);
    assert_eq!(dismissed.body["status"], "dismissed");
    assert_eq!(
        dismissed.body["status_display"],
        "Dismissed - not a conflict"
    );
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("pending".to_owned(), false)
    );
    assert_eq!(
        app.batch_status(&item.batch_uuid).await,
        "sent",
        "a responded batch reopens"
    );

    let batch_actions: Vec<String> = app
        .audit_actions(&item.batch_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(batch_actions.contains(&"batch.responded".to_owned()));
    assert!(batch_actions.contains(&"batch.reopened".to_owned()));
    let item_actions: Vec<String> = app
        .audit_actions(&item.item_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(item_actions.contains(&"item.unblocked".to_owned()));
}

async fn coi_waive_keeps_block_while_other_blocks(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);
    let pair_conflict = app
        .conflict(&setup.call_uuid, reviewer, Some(&proposal), "COLLAB_GRANT")
        .await;
    let call_conflict = app
        .conflict(&setup.call_uuid, reviewer, None, "COMPET")
        .await;
    let item = app.sent_item(&setup.call_uuid, reviewer, &proposal).await;
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );
    assert_eq!(app.batch_status(&item.batch_uuid).await, "sent");

    let waived = app
        .post(
            &cast.manager,
            &action(&uuid_of(&pair_conflict), "waive"),
            json!({"status": "waived", "management_plan": "Second reader checks the review."}),
        )
        .await
        .expect(200);
    assert_eq!(waived.body["status"], "waived");
    assert_eq!(
        waived.body["management_plan"],
        "Second reader checks the review."
    );
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true),
        "the call-wide conflict still blocks"
    );

    app.post(
        &cast.manager,
        &action(&uuid_of(&call_conflict), "dismiss"),
        json!({"status": "dismissed"}),
    )
    .await
    .expect(200);
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("pending".to_owned(), false)
    );
}

async fn coi_decision_refusals(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);
    let item = app.sent_item(&setup.call_uuid, reviewer, &proposal).await;
    let conflict = app
        .conflict(&setup.call_uuid, reviewer, Some(&proposal), "REL_EDITORIAL")
        .await;
    let uuid = uuid_of(&conflict);

    let no_plan = app
        .post(
            &cast.manager,
            &action(&uuid, "waive"),
            json!({"status": "waived"}),
        )
        .await
        .expect(400);
    assert!(
        no_plan.body["management_plan"][0]
            .as_str()
            .unwrap()
            .contains("Management plan is required")
    );
    app.post(
        &cast.manager,
        &action(&uuid, "waive"),
        json!({"status": "dismissed", "management_plan": "  "}),
    )
    .await
    .expect(400);
    let plan_for_waived = app
        .post(
            &cast.manager,
            &action(&uuid, "dismiss"),
            json!({"status": "waived"}),
        )
        .await
        .expect(400);
    assert!(plan_for_waived.body["management_plan"].is_array());
    let missing = app
        .post(&cast.manager, &action(&uuid, "recuse"), json!({}))
        .await
        .expect(400);
    assert_eq!(missing.body, json!({"status": ["This field is required."]}));
    let invalid = app
        .post(
            &cast.manager,
            &action(&uuid, "recuse"),
            json!({"status": "blocked"}),
        )
        .await
        .expect(400);
    assert!(invalid.body["status"].is_array());
    let pending = app
        .post(
            &cast.manager,
            &action(&uuid, "recuse"),
            json!({"status": "pending"}),
        )
        .await
        .expect(400);
    assert!(pending.body["status"].is_array());
    app.post(
        &cast.manager,
        &action("not-a-uuid", "recuse"),
        json!({"status": "recused"}),
    )
    .await
    .expect(404);
    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.post(
        &cast.manager,
        &action(&unknown, "recuse"),
        json!({"status": "recused"}),
    )
    .await
    .expect(404);
    app.post(
        &TestUser::anonymous(),
        &action(&uuid, "recuse"),
        json!({"status": "recused"}),
    )
    .await
    .expect(401);
    app.post(
        &cast.support,
        &action(&uuid, "recuse"),
        json!({"status": "recused"}),
    )
    .await
    .expect(403);
    app.post(
        &cast.unrelated,
        &action(&uuid, "recuse"),
        json!({"status": "recused"}),
    )
    .await
    .expect(404);

    let unchanged = app.get(&app.staff, &path(&uuid)).await.expect(200);
    assert_eq!(unchanged.body["status"], "pending");
    assert_eq!(unchanged.body["reviewed_by"], Value::Null);
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true),
        "refused decisions leave the block of the new conflict in place"
    );

    let recused_by_dismiss_body = app
        .post(
            &cast.manager,
            &action(&uuid, "recuse"),
            json!({"status": "dismissed"}),
        )
        .await
        .expect(200);
    assert_eq!(
        recused_by_dismiss_body.body["status"], "recused",
        "the action decides the status"
    );
}

async fn coi_patch_status_has_side_effects(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);
    let item = app.sent_item(&setup.call_uuid, reviewer, &proposal).await;
    let conflict = app
        .conflict(&setup.call_uuid, reviewer, Some(&proposal), "SOC_MEMBER")
        .await;
    let uuid = uuid_of(&conflict);

    let notes = app
        .patch(
            &cast.manager,
            &path(&uuid),
            json!({"review_notes": "Looking into it."}),
        )
        .await
        .expect(200);
    assert_eq!(notes.body["review_notes"], "Looking into it.");
    assert_eq!(notes.body["status"], "pending");
    assert_eq!(notes.body["reviewed_by"], Value::Null);

    let recused = app
        .patch(&cast.manager, &path(&uuid), json!({"status": "recused"}))
        .await
        .expect(200);
    assert_eq!(recused.body["status"], "recused");
    assert_eq!(recused.body["review_notes"], "Looking into it.");
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );

    let back = app
        .patch(&cast.manager, &path(&uuid), json!({"status": "pending"}))
        .await
        .expect(400);
    assert!(back.body["status"].is_array());
    let waive_no_plan = app
        .patch(&cast.manager, &path(&uuid), json!({"status": "waived"}))
        .await
        .expect(400);
    assert!(waive_no_plan.body["management_plan"].is_array());
    let bad_status = app
        .patch(&cast.manager, &path(&uuid), json!({"status": "open"}))
        .await
        .expect(400);
    assert!(bad_status.body["status"].is_array());
    assert_eq!(
        app.get(&app.staff, &path(&uuid)).await.body["status"],
        "recused"
    );

    let final_recusal = app
        .put(
            &cast.manager,
            &path(&uuid),
            json!({"status": "waived", "management_plan": "Chair reads it too."}),
        )
        .await
        .expect(400);
    assert_eq!(
        final_recusal.body["code"], "conflict_recused",
        "a recusal is final"
    );
    assert_eq!(
        app.item_state(&item.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );

    let other = app
        .conflict(
            &setup.call_uuid,
            &setup.reviewers[1],
            Some(&setup.proposal_uuid(0)),
            "COMPET",
        )
        .await;
    let other_uuid = uuid_of(&other);
    let waived = app
        .put(
            &cast.manager,
            &path(&other_uuid),
            json!({"status": "waived", "management_plan": "Chair reads it too."}),
        )
        .await
        .expect(200);
    assert_eq!(waived.body["status"], "waived");
    assert_eq!(waived.body["review_notes"], "", "PUT replaces the notes");

    let cleared_plan = app
        .patch(
            &cast.manager,
            &path(&other_uuid),
            json!({"management_plan": ""}),
        )
        .await
        .expect(400);
    assert!(
        cleared_plan.body["management_plan"].is_array(),
        "a waived conflict keeps a plan"
    );
}

async fn coi_delete_not_allowed(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let conflict = app
        .conflict(&setup.call_uuid, &setup.reviewers[0], None, "CONF_ATTEND")
        .await;
    let reply = app
        .delete(&app.staff, &path(&uuid_of(&conflict)))
        .await
        .expect(405);
    assert!(reply.body["detail"].is_string());
    app.get(&app.staff, &path(&uuid_of(&conflict)))
        .await
        .expect(200);
}

async fn coi_call_views(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let conflicts_path = format!(
        "/api/proposal-protected-calls/{}/conflicts/",
        setup.call_uuid
    );
    let summary_path = format!(
        "/api/proposal-protected-calls/{}/conflict-summary/",
        setup.call_uuid
    );

    let empty = app.get(&app.staff, &summary_path).await.expect(200);
    assert_eq!(
        empty.body,
        json!({"total": 0, "by_status": {}, "by_severity": {}, "by_type": {}})
    );

    let first = app
        .conflict(
            &setup.call_uuid,
            &setup.reviewers[0],
            Some(&setup.proposal_uuid(0)),
            "INST_SAME",
        )
        .await;
    app.conflict(
        &setup.call_uuid,
        &setup.reviewers[1],
        Some(&setup.proposal_uuid(1)),
        "INST_SAME",
    )
    .await;
    let third = app
        .conflict(&setup.call_uuid, &setup.reviewers[1], None, "COAUTH_OLD")
        .await;
    app.post(
        &app.staff,
        &action(&uuid_of(&first), "dismiss"),
        json!({"status": "dismissed"}),
    )
    .await
    .expect(200);

    let all = app.get(&cast.member, &conflicts_path).await.expect(200);
    assert_eq!(all.count(), 3);
    assert_eq!(
        all.array()[0]["uuid"],
        third["uuid"],
        "most recently detected first"
    );
    let pending = app
        .get(&app.staff, &format!("{conflicts_path}?status=pending"))
        .await
        .expect(200);
    assert_eq!(pending.array().len(), 2);
    let filtered = app
        .get(
            &app.staff,
            &format!("{conflicts_path}?status=pending&status=dismissed&severity=real"),
        )
        .await
        .expect(200);
    assert_eq!(filtered.array().len(), 2);
    app.get(&app.staff, &format!("{conflicts_path}?status=nope"))
        .await
        .expect(400);

    let summary = app.get(&cast.support, &summary_path).await.expect(200);
    assert_eq!(
        summary.body,
        json!({
            "total": 3,
            "by_status": {"pending": 2, "dismissed": 1},
            "by_severity": {"real": 2, "potential": 1},
            "by_type": {"INST_SAME": 2, "COAUTH_OLD": 1},
        })
    );

    for (user, status) in [
        (&app.staff, 200),
        (&cast.support, 200),
        (&cast.manager, 200),
        (&cast.owner, 200),
        (&cast.member, 200),
        (&setup.reviewers[0].user, 404),
        (&cast.applicant, 404),
        (&cast.unrelated, 404),
        (&TestUser::anonymous(), 401),
    ] {
        app.get(user, &conflicts_path).await.expect(status);
        app.get(user, &summary_path).await.expect(status);
    }
    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.get(
        &app.staff,
        &format!("/api/proposal-protected-calls/{unknown}/conflicts/"),
    )
    .await
    .expect(404);
}

async fn coi_concurrent_decisions_one_wins(app: TestApp) {
    let cast = cast(&app).await;
    let setup = &cast.setup;
    let reviewer = &setup.reviewers[0];
    let proposal = setup.proposal_uuid(0);
    let item = app.sent_item(&setup.call_uuid, reviewer, &proposal).await;
    let conflict = app
        .conflict(
            &setup.call_uuid,
            reviewer,
            Some(&proposal),
            "REL_SUPERVISOR",
        )
        .await;
    let uuid = uuid_of(&conflict);

    let recuse_path = action(&uuid, "recuse");
    let dismiss_path = action(&uuid, "dismiss");
    let (recused, dismissed) = tokio::join!(
        app.post(&cast.manager, &recuse_path, json!({"status": "recused"})),
        app.post(&cast.owner, &dismiss_path, json!({"status": "dismissed"})),
    );
    let statuses = [recused.status.as_u16(), dismissed.status.as_u16()];
    assert!(
        statuses.contains(&200),
        "one decision succeeds: {statuses:?}"
    );

    let final_status = app.get(&app.staff, &path(&uuid)).await.body["status"].clone();
    let (item_status, _) = app.item_state(&item.item_uuid).await;
    if final_status == "recused" {
        assert_eq!(item_status, "coi_blocked");
    } else {
        assert_eq!(final_status, "dismissed");
        assert_eq!(item_status, "pending");
    }
}
