//! Per-call configurations: conflict of interest, matching, and assignment (under the call and
//! at `/api/call-assignment-configurations/`).

use referee_conformance::{CallSetup, TestApp, TestUser, on_both_backends};
use serde_json::json;

on_both_backends!(
    coi_configuration_defaults_and_patch,
    coi_configuration_overlap_refused,
    coi_configuration_permissions,
    coi_configuration_concurrent_overlap,
    matching_configuration_validation,
    matching_configuration_permissions,
    assignment_configuration_lifecycle,
    assignment_configuration_validation,
    assignment_configuration_permissions,
);

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
    let setup = app.call_setup(1, 1).await;
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

fn call_path(cast: &Cast, suffix: &str) -> String {
    format!(
        "/api/proposal-protected-calls/{}/{suffix}/",
        cast.setup.call_uuid
    )
}

async fn coi_configuration_defaults_and_patch(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast, "coi-configuration");

    let created = app.get(&cast.member, &path).await.expect(200);
    let body = &created.body;
    assert_eq!(body["call_uuid"], cast.setup.call_uuid.as_str());
    assert_eq!(body["call_name"], "Call");
    assert_eq!(body["coauthorship_lookback_years"], 3);
    assert_eq!(body["coauthorship_threshold_papers"], 1);
    assert_eq!(body["institutional_lookback_years"], 2);
    assert_eq!(body["recusal_required_types"], json!([]));
    assert_eq!(body["invitation_proposal_disclosure"], "titles_only");
    assert_eq!(body["include_same_institution"], true);
    let again = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(again.body["uuid"], body["uuid"], "the row is created once");

    let patched = app
        .patch(
            &cast.manager,
            &path,
            json!({
                "coauthorship_lookback_years": 5,
                "recusal_required_types": ["INST_SAME", "REL_FAMILY", "INST_SAME"],
                "disclosure_only_types": ["SOC_MEMBER"],
                "invitation_proposal_disclosure": "titles_and_summaries",
                "auto_detect_coauthorship": false,
            }),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["coauthorship_lookback_years"], 5);
    assert_eq!(
        patched.body["recusal_required_types"],
        json!(["INST_SAME", "REL_FAMILY"])
    );
    assert_eq!(patched.body["disclosure_only_types"], json!(["SOC_MEMBER"]));
    assert_eq!(patched.body["management_allowed_types"], json!([]));
    assert_eq!(
        patched.body["invitation_proposal_disclosure"],
        "titles_and_summaries"
    );
    assert_eq!(patched.body["auto_detect_coauthorship"], false);
    assert_eq!(
        patched.body["coauthorship_threshold_papers"], 1,
        "absent fields stay"
    );

    let refusals = [
        (
            json!({"recusal_required_types": ["INST_SAME", "NOPE"]}),
            "recusal_required_types",
        ),
        (
            json!({"coauthorship_lookback_years": -1}),
            "coauthorship_lookback_years",
        ),
        (
            json!({"institutional_lookback_years": -2}),
            "institutional_lookback_years",
        ),
        (
            json!({"coauthorship_threshold_papers": 0}),
            "coauthorship_threshold_papers",
        ),
        (
            json!({"invitation_proposal_disclosure": "everything"}),
            "invitation_proposal_disclosure",
        ),
        (
            json!({"disclosure_only_types": "SOC_MEMBER"}),
            "disclosure_only_types",
        ),
    ];
    for (body, field) in refusals {
        let reply = app
            .patch(&cast.manager, &path, body.clone())
            .await
            .expect(400);
        assert!(
            reply.body[field].is_array(),
            "{body} is refused on {field}: {}",
            reply.body
        );
    }
    let unknown_code = app
        .patch(
            &cast.manager,
            &path,
            json!({"management_allowed_types": ["NOPE"]}),
        )
        .await
        .expect(400);
    assert!(unknown_code.body.to_string().contains("NOPE"));

    let unchanged = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(unchanged.body["coauthorship_lookback_years"], 5);
    assert_eq!(
        unchanged.body["recusal_required_types"],
        json!(["INST_SAME", "REL_FAMILY"])
    );
}

async fn coi_configuration_overlap_refused(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast, "coi-configuration");
    app.patch(
        &cast.manager,
        &path,
        json!({"recusal_required_types": ["INST_SAME", "COMPET"]}),
    )
    .await
    .expect(200);

    let overlap = app
        .patch(
            &cast.manager,
            &path,
            json!({"management_allowed_types": ["COMPET", "SOC_MEMBER"]}),
        )
        .await
        .expect(400);
    let message = overlap.body["non_field_errors"][0].as_str().unwrap();
    assert!(message.contains("Each conflict type may only be assigned to one rule"));
    assert!(message.contains("COMPET (recusal_required_types, management_allowed_types)"));
    assert!(!message.contains("SOC_MEMBER"));

    let within_one_write = app
        .patch(
            &cast.manager,
            &path,
            json!({"recusal_required_types": ["REL_FAMILY"], "disclosure_only_types": ["REL_FAMILY"]}),
        )
        .await
        .expect(400);
    assert!(
        within_one_write.body["non_field_errors"][0]
            .as_str()
            .unwrap()
            .contains("REL_FAMILY")
    );

    let unchanged = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(
        unchanged.body["recusal_required_types"],
        json!(["INST_SAME", "COMPET"])
    );
    assert_eq!(unchanged.body["management_allowed_types"], json!([]));

    let moved = app
        .patch(
            &cast.manager,
            &path,
            json!({"recusal_required_types": ["INST_SAME"], "management_allowed_types": ["COMPET"]}),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["management_allowed_types"], json!(["COMPET"]));
    let resent = app
        .patch(
            &cast.manager,
            &path,
            json!({"recusal_required_types": ["INST_SAME"], "auto_detect_institutional": false}),
        )
        .await
        .expect(200);
    assert_eq!(resent.body["auto_detect_institutional"], false);
}

async fn coi_configuration_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast, "coi-configuration");
    for (user, read, write) in [
        (&app.staff, 200, 200),
        (&cast.manager, 200, 200),
        (&cast.owner, 200, 200),
        (&cast.support, 200, 403),
        (&cast.member, 200, 403),
        (&cast.setup.reviewers[0].user, 404, 404),
        (&cast.applicant, 404, 404),
        (&cast.unrelated, 404, 404),
        (&TestUser::anonymous(), 401, 401),
    ] {
        app.get(user, &path).await.expect(read);
        let lookback = if write == 200 { 4 } else { 9 };
        app.patch(
            user,
            &path,
            json!({"coauthorship_lookback_years": lookback}),
        )
        .await
        .expect(write);
    }
    assert_eq!(
        app.get(&app.staff, &path).await.body["coauthorship_lookback_years"],
        4
    );
    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.get(
        &app.staff,
        &format!("/api/proposal-protected-calls/{unknown}/coi-configuration/"),
    )
    .await
    .expect(404);
    app.put(&app.staff, &path, json!({})).await.expect(405);
}

async fn coi_configuration_concurrent_overlap(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast, "coi-configuration");
    app.get(&app.staff, &path).await.expect(200);

    let (recusal, disclosure) = tokio::join!(
        app.patch(
            &cast.manager,
            &path,
            json!({"recusal_required_types": ["FIN_DIRECT"]})
        ),
        app.patch(
            &cast.owner,
            &path,
            json!({"disclosure_only_types": ["FIN_DIRECT"]})
        ),
    );
    let mut statuses = [recusal.status.as_u16(), disclosure.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400], "exactly one write may add the type");

    let stored = app.get(&app.staff, &path).await.expect(200);
    let holders = [
        "recusal_required_types",
        "management_allowed_types",
        "disclosure_only_types",
    ]
    .iter()
    .filter(|field| {
        stored.body[**field]
            .as_array()
            .unwrap()
            .contains(&json!("FIN_DIRECT"))
    })
    .count();
    assert_eq!(holders, 1);
}

async fn matching_configuration_validation(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast, "matching-configuration");

    let defaults = app.get(&cast.manager, &path).await.expect(200);
    assert_eq!(defaults.body["affinity_method"], "combined");
    assert_eq!(defaults.body["keyword_weight"], 0.4);
    assert_eq!(defaults.body["text_weight"], 0.6);
    assert_eq!(defaults.body["min_reviewers_per_proposal"], 3);
    assert_eq!(defaults.body["max_reviewers_per_proposal"], 5);
    assert_eq!(defaults.body["algorithm"], "minmax");
    assert_eq!(defaults.body["min_affinity_threshold"], 0.1);
    assert_eq!(defaults.body["call_name"], "Call");

    let changed = app
        .patch(
            &cast.manager,
            &path,
            json!({"keyword_weight": 0.7, "text_weight": 0.3, "algorithm": "hungarian", "affinity_method": "keyword", "min_reviewers_per_proposal": 2}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["keyword_weight"], 0.7);
    assert_eq!(changed.body["algorithm"], "hungarian");
    assert_eq!(changed.body["min_reviewers_per_proposal"], 2);
    app.patch(
        &cast.manager,
        &path,
        json!({"keyword_weight": 0.6995, "text_weight": 0.3}),
    )
    .await
    .expect(200);

    let sum = app
        .patch(&cast.manager, &path, json!({"keyword_weight": 0.5}))
        .await
        .expect(400);
    assert!(
        sum.body["non_field_errors"][0]
            .as_str()
            .unwrap()
            .contains("sum to 1.0")
    );
    let min_max = app
        .patch(
            &cast.manager,
            &path,
            json!({"min_reviewers_per_proposal": 6}),
        )
        .await
        .expect(400);
    assert!(min_max.body["max_reviewers_per_proposal"].is_array());
    let proposals = app
        .patch(
            &cast.manager,
            &path,
            json!({"max_proposals_per_reviewer": 2}),
        )
        .await
        .expect(400);
    assert!(proposals.body["max_proposals_per_reviewer"].is_array());
    for (body, field) in [
        (
            json!({"keyword_weight": -0.1, "text_weight": 1.1}),
            "keyword_weight",
        ),
        (
            json!({"min_affinity_threshold": 1.5}),
            "min_affinity_threshold",
        ),
        (
            json!({"min_affinity_threshold": -0.1}),
            "min_affinity_threshold",
        ),
        (json!({"bid_weight": 2.0}), "bid_weight"),
        (
            json!({"min_reviewers_per_proposal": 0}),
            "min_reviewers_per_proposal",
        ),
        (json!({"algorithm": "random"}), "algorithm"),
        (json!({"affinity_method": "magic"}), "affinity_method"),
    ] {
        let reply = app
            .patch(&cast.manager, &path, body.clone())
            .await
            .expect(400);
        assert!(
            reply.body[field].is_array(),
            "{body} is refused on {field}: {}",
            reply.body
        );
    }
    let unchanged = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(unchanged.body["keyword_weight"], 0.6995);
    assert_eq!(unchanged.body["min_reviewers_per_proposal"], 2);
}

async fn matching_configuration_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast, "matching-configuration");
    for (user, read, write) in [
        (&app.staff, 200, 200),
        (&cast.manager, 200, 200),
        (&cast.owner, 200, 200),
        (&cast.support, 200, 403),
        (&cast.member, 200, 403),
        (&cast.setup.reviewers[0].user, 404, 404),
        (&cast.applicant, 404, 404),
        (&cast.unrelated, 404, 404),
        (&TestUser::anonymous(), 401, 401),
    ] {
        app.get(user, &path).await.expect(read);
        app.patch(user, &path, json!({"use_reviewer_bids": false}))
            .await
            .expect(write);
    }
}

async fn assignment_configuration_lifecycle(app: TestApp) {
    let cast = cast(&app).await;
    let call_route = call_path(&cast, "assignment-configuration");
    let collection = "/api/call-assignment-configurations/";

    assert_eq!(
        app.get(&app.staff, collection).await.expect(200).count(),
        0,
        "no row before first access"
    );
    let created = app.get(&cast.manager, &call_route).await.expect(200);
    let uuid = created.str("uuid");
    assert_eq!(created.body["auto_reassign_on_decline"], false);
    assert_eq!(created.body["max_auto_reassign_attempts"], 3);
    assert_eq!(created.body["assignment_expiration_days"], 7);
    assert_eq!(created.body["send_reminder_before_expiry_days"], 2);
    assert_eq!(created.body["call_name"], "Call");
    assert!(
        created
            .str("url")
            .ends_with(&format!("/api/call-assignment-configurations/{uuid}/"))
    );
    for key in [
        "uuid",
        "url",
        "call",
        "call_uuid",
        "call_name",
        "created",
        "modified",
    ] {
        assert!(created.body.get(key).is_some(), "key {key}");
    }

    let listed = app.get(&cast.member, collection).await.expect(200);
    assert_eq!(listed.count(), 1);
    assert_eq!(listed.array()[0]["uuid"], uuid.as_str());
    assert_eq!(
        app.head(&cast.member, collection).await.expect(200).count(),
        1
    );
    let item = format!("{collection}{uuid}/");
    app.get(&cast.support, &item).await.expect(200);

    let patched = app
        .patch(
            &cast.manager,
            &call_route,
            json!({"auto_reassign_on_decline": true, "assignment_expiration_days": 14}),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["auto_reassign_on_decline"], true);
    assert_eq!(patched.body["assignment_expiration_days"], 14);
    let patched_by_uuid = app
        .patch(
            &cast.owner,
            &item,
            json!({"send_reminder_before_expiry_days": 5}),
        )
        .await
        .expect(200);
    assert_eq!(patched_by_uuid.body["send_reminder_before_expiry_days"], 5);
    assert_eq!(patched_by_uuid.body["assignment_expiration_days"], 14);

    let replaced = app
        .put(
            &cast.manager,
            &item,
            json!({"max_auto_reassign_attempts": 1}),
        )
        .await
        .expect(200);
    assert_eq!(replaced.body["max_auto_reassign_attempts"], 1);
    assert_eq!(
        replaced.body["auto_reassign_on_decline"], false,
        "PUT restores absent fields to defaults"
    );
    assert_eq!(replaced.body["assignment_expiration_days"], 7);

    app.post(
        &app.staff,
        collection,
        json!({"call": cast.setup.call_uuid}),
    )
    .await
    .expect(405);
    app.delete(&cast.manager, &item).await.expect(204);
    app.get(&app.staff, &item).await.expect(404);
    app.delete(&cast.manager, &item).await.expect(404);
    assert_eq!(app.get(&app.staff, collection).await.expect(200).count(), 0);
    let recreated = app.get(&cast.manager, &call_route).await.expect(200);
    assert_ne!(recreated.str("uuid"), uuid);
    assert_eq!(recreated.body["assignment_expiration_days"], 7);
}

async fn assignment_configuration_validation(app: TestApp) {
    let cast = cast(&app).await;
    let call_route = call_path(&cast, "assignment-configuration");
    app.get(&app.staff, &call_route).await.expect(200);

    for (body, field) in [
        (
            json!({"max_auto_reassign_attempts": 11}),
            "max_auto_reassign_attempts",
        ),
        (
            json!({"max_auto_reassign_attempts": -1}),
            "max_auto_reassign_attempts",
        ),
        (
            json!({"assignment_expiration_days": 0}),
            "assignment_expiration_days",
        ),
        (
            json!({"assignment_expiration_days": 366}),
            "assignment_expiration_days",
        ),
        (
            json!({"send_reminder_before_expiry_days": 31}),
            "send_reminder_before_expiry_days",
        ),
        (
            json!({"send_reminder_before_expiry_days": 7}),
            "send_reminder_before_expiry_days",
        ),
        (
            json!({"assignment_expiration_days": 2}),
            "send_reminder_before_expiry_days",
        ),
        (
            json!({"auto_reassign_on_decline": "yes"}),
            "auto_reassign_on_decline",
        ),
    ] {
        let reply = app
            .patch(&cast.manager, &call_route, body.clone())
            .await
            .expect(400);
        assert!(
            reply.body[field].is_array(),
            "{body} is refused on {field}: {}",
            reply.body
        );
    }
    let unchanged = app.get(&app.staff, &call_route).await.expect(200);
    assert_eq!(unchanged.body["assignment_expiration_days"], 7);
    assert_eq!(unchanged.body["send_reminder_before_expiry_days"], 2);
    assert_eq!(unchanged.body["max_auto_reassign_attempts"], 3);

    app.patch(
        &cast.manager,
        &call_route,
        json!({"assignment_expiration_days": 3, "send_reminder_before_expiry_days": 0}),
    )
    .await
    .expect(200);
}

async fn assignment_configuration_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let call_route = call_path(&cast, "assignment-configuration");
    let uuid = app
        .get(&app.staff, &call_route)
        .await
        .expect(200)
        .str("uuid");
    let item = format!("/api/call-assignment-configurations/{uuid}/");

    for (user, read, write) in [
        (&app.staff, 200, 200),
        (&cast.manager, 200, 200),
        (&cast.owner, 200, 200),
        (&cast.support, 200, 403),
        (&cast.member, 200, 403),
        (&cast.setup.reviewers[0].user, 404, 404),
        (&cast.applicant, 404, 404),
        (&cast.unrelated, 404, 404),
        (&TestUser::anonymous(), 401, 401),
    ] {
        app.get(user, &call_route).await.expect(read);
        app.get(user, &item).await.expect(read);
        app.patch(user, &call_route, json!({"max_auto_reassign_attempts": 4}))
            .await
            .expect(write);
        app.patch(user, &item, json!({"max_auto_reassign_attempts": 4}))
            .await
            .expect(write);
        app.put(user, &item, json!({"max_auto_reassign_attempts": 4}))
            .await
            .expect(write);
        if write != 200 {
            app.delete(user, &item).await.expect(write);
        }
        let listed = app.get(user, "/api/call-assignment-configurations/").await;
        if read == 401 {
            listed.expect(401);
        } else {
            let expected = if read == 200 { 1 } else { 0 };
            assert_eq!(
                listed.expect(200).count(),
                expected,
                "list as {}",
                user.username
            );
        }
    }
    app.get(&app.staff, &item).await.expect(200);
    app.delete(&cast.owner, &item).await.expect(204);
}
