//! The reviewer pool: invitations under a call and `/api/call-reviewer-pools/`.

use std::collections::BTreeSet;

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    pool_invite_skips_unknown_and_duplicates,
    pool_entry_keys_and_link,
    pool_accept_by_invitee,
    pool_decline_requires_reason,
    pool_invite_by_email_binds_profile,
    pool_force_accept_and_resend,
    pool_permission_matrix,
    pool_max_assignments_range,
    pool_expired_invitation_refused,
    pool_declared_conflicts,
    pool_list_filters,
    pool_methods_not_offered,
    pool_concurrent_accepts_one_wins,
);

struct Setup {
    customer_uuid: String,
    call_uuid: String,
    round_uuid: String,
}

async fn setup(app: &TestApp) -> Setup {
    let customer = app.customer("Org").await;
    let customer_uuid = customer["uuid"].as_str().unwrap().to_owned();
    let call = app.call(&customer_uuid, "Call").await;
    let call_uuid = call["uuid"].as_str().unwrap().to_owned();
    let round = app.round(&call_uuid).await;
    let round_uuid = round["uuid"].as_str().unwrap().to_owned();
    Setup {
        customer_uuid,
        call_uuid,
        round_uuid,
    }
}

fn pool_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/reviewer-pool/")
}

fn entry_path(entry_uuid: &str, action: &str) -> String {
    if action.is_empty() {
        format!("/api/call-reviewer-pools/{entry_uuid}/")
    } else {
        format!("/api/call-reviewer-pools/{entry_uuid}/{action}/")
    }
}

async fn pool_invite_skips_unknown_and_duplicates(app: TestApp) {
    let setup = setup(&app).await;
    let ada = app.user("ada").await;
    let ada_profile = app.profile(&ada).await;
    let bob = app.user("bob").await;
    let bob_profile = app.profile(&bob).await;
    let unknown = uuid::Uuid::now_v7().simple().to_string();

    let refused = app
        .post(
            &app.staff,
            &pool_path(&setup.call_uuid),
            json!({"reviewer_uuids": [ada_profile["uuid"], unknown], "max_assignments": 4}),
        )
        .await
        .expect(400);
    assert!(
        refused.body["reviewer_uuids"][0]
            .as_str()
            .unwrap()
            .contains(&unknown)
    );
    assert!(
        app.get(&app.staff, &pool_path(&setup.call_uuid))
            .await
            .array()
            .is_empty()
    );

    let created = app
        .post(
            &app.staff,
            &pool_path(&setup.call_uuid),
            json!({"reviewer_uuids": [ada_profile["uuid"], ada_profile["uuid"], bob_profile["uuid"]], "max_assignments": 4}),
        )
        .await
        .expect(201);
    assert_eq!(created.array().len(), 2);
    assert!(
        created
            .array()
            .iter()
            .all(|entry| entry["max_assignments"] == 4)
    );

    let again = app
        .post(
            &app.staff,
            &pool_path(&setup.call_uuid),
            json!({"reviewer_uuids": [ada_profile["uuid"]]}),
        )
        .await
        .expect(201);
    assert!(again.array().is_empty());

    let listed = app
        .get(&app.staff, &pool_path(&setup.call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.array().len(), 2);
    assert_eq!(listed.count(), 2);

    let empty = app
        .post(
            &app.staff,
            &pool_path(&setup.call_uuid),
            json!({"reviewer_uuids": []}),
        )
        .await
        .expect(400);
    assert!(empty.body["reviewer_uuids"].is_array());
    let bad_uuid = app
        .post(
            &app.staff,
            &pool_path(&setup.call_uuid),
            json!({"reviewer_uuids": ["zzz"]}),
        )
        .await
        .expect(400);
    assert!(bad_uuid.body.to_string().contains("zzz"));
    let missing = app
        .post(&app.staff, &pool_path(&setup.call_uuid), json!({}))
        .await
        .expect(400);
    assert_eq!(
        missing.body,
        json!({"reviewer_uuids": ["This field is required."]})
    );
}

async fn pool_entry_keys_and_link(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry = &member.entry;

    let keys: BTreeSet<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "url",
        "uuid",
        "call",
        "call_uuid",
        "call_name",
        "reviewer",
        "reviewer_uuid",
        "reviewer_name",
        "reviewer_email",
        "has_profile",
        "invited_email",
        "invited_user",
        "invited_user_name",
        "invited_by_name",
        "invited_at",
        "invitation_status",
        "invitation_status_display",
        "response_date",
        "decline_reason",
        "max_assignments",
        "current_assignments",
        "expertise_match_score",
        "invitation_expires_at",
        "override_reason",
        "overridden_by_name",
        "overridden_at",
        "invitation_link",
        "coi_count",
        "coi_by_severity",
        "reviews_pending",
        "reviews_in_progress",
        "reviews_completed",
        "created",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);

    assert_eq!(entry["invitation_status"], "pending");
    assert_eq!(entry["invitation_status_display"], "Invitation pending");
    assert_eq!(entry["reviewer_uuid"], member.profile["uuid"]);
    assert_eq!(entry["reviewer_name"], "ada Example");
    assert_eq!(entry["reviewer_email"], "ada@example.org");
    assert_eq!(entry["has_profile"], true);
    assert_eq!(entry["invited_by_name"], "Staff User");
    assert_eq!(entry["max_assignments"], 5);
    assert_eq!(entry["overridden_by_name"], "");
    assert!(
        entry["invitation_link"]
            .as_str()
            .unwrap()
            .starts_with("/reviewer-invitation/")
    );
    assert_eq!(
        entry["call"],
        format!(
            "{}/api/proposal-protected-calls/{}/",
            app.base, setup.call_uuid
        )
    );
    assert!(
        entry["invitation_expires_at"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );
}

async fn pool_accept_by_invitee(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry_uuid = member.entry_uuid();

    let mine = app
        .get(
            &member.user,
            "/api/call-reviewer-pools/?my_invitations=true",
        )
        .await
        .expect(200);
    assert_eq!(mine.count(), 1);

    let accepted = app
        .post(&member.user, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(200);
    assert_eq!(
        accepted.body,
        json!({"detail": "Invitation accepted successfully.", "declared_conflicts": []})
    );

    let entry = app
        .get(&member.user, &entry_path(&entry_uuid, ""))
        .await
        .expect(200);
    assert_eq!(entry.str("invitation_status"), "accepted");
    assert!(entry.body["invitation_link"].is_null());
    assert!(entry.body["response_date"].is_string());

    let twice = app
        .post(&member.user, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(400);
    assert_eq!(twice.str("code"), "invitation_already_answered");
    let decline_after = app
        .post(
            &member.user,
            &entry_path(&entry_uuid, "decline"),
            json!({"reason": "busy"}),
        )
        .await
        .expect(400);
    assert_eq!(decline_after.str("code"), "invitation_already_answered");
}

async fn pool_decline_requires_reason(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry_uuid = member.entry_uuid();

    let missing = app
        .post(&member.user, &entry_path(&entry_uuid, "decline"), json!({}))
        .await
        .expect(400);
    assert_eq!(missing.body, json!({"reason": ["This field is required."]}));
    let blank = app
        .post(
            &member.user,
            &entry_path(&entry_uuid, "decline"),
            json!({"reason": " "}),
        )
        .await
        .expect(400);
    assert!(blank.body["reason"].is_array());
    assert_eq!(
        app.get(&member.user, &entry_path(&entry_uuid, ""))
            .await
            .str("invitation_status"),
        "pending"
    );

    let declined = app
        .post(
            &member.user,
            &entry_path(&entry_uuid, "decline"),
            json!({"reason": "On leave"}),
        )
        .await
        .expect(200);
    assert_eq!(declined.body, json!({"detail": "Invitation declined."}));
    let entry = app
        .get(&app.staff, &entry_path(&entry_uuid, ""))
        .await
        .expect(200);
    assert_eq!(entry.str("invitation_status"), "declined");
    assert_eq!(entry.str("decline_reason"), "On leave");
}

async fn pool_invite_by_email_binds_profile(app: TestApp) {
    let setup = setup(&app).await;
    let path = format!(
        "/api/proposal-protected-calls/{}/invite-by-email/",
        setup.call_uuid
    );

    let invalid = app
        .post(&app.staff, &path, json!({"email": "not-an-address"}))
        .await
        .expect(400);
    assert!(
        invalid.body["email"][0]
            .as_str()
            .unwrap()
            .contains("not-an-address")
    );

    let created = app
        .post(&app.staff, &path, json!({"email": "Carol@Example.org"}))
        .await
        .expect(201);
    assert_eq!(created.body["has_profile"], false);
    assert!(created.body["reviewer"].is_null());
    assert_eq!(created.body["reviewer_email"], "Carol@Example.org");
    let entry_uuid = created.str("uuid");

    let duplicate = app
        .post(&app.staff, &path, json!({"email": "carol@example.org"}))
        .await
        .expect(400);
    assert!(
        duplicate.body["email"][0]
            .as_str()
            .unwrap()
            .contains("already exists")
    );

    let carol = app
        .user_with("carol", json!({"email": "carol@example.org"}))
        .await;
    let no_profile = app
        .post(&carol, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(400);
    assert_eq!(no_profile.str("code"), "profile_required");

    let profile = app
        .post(&carol, "/api/reviewer-profiles/", json!({}))
        .await
        .expect(201);
    let unpublished = app
        .post(&carol, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(400);
    assert_eq!(unpublished.str("code"), "profile_not_published");

    app.post(
        &carol,
        &format!("/api/reviewer-profiles/{}/publish/", profile.str("uuid")),
        json!({}),
    )
    .await
    .expect(200);
    app.post(&carol, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(200);
    let entry = app
        .get(&app.staff, &entry_path(&entry_uuid, ""))
        .await
        .expect(200);
    assert_eq!(entry.body["reviewer_uuid"], profile.body["uuid"]);
    assert_eq!(entry.body["has_profile"], true);
    assert_eq!(
        entry.body["invited_user"],
        format!("{}/api/users/{}/", app.base, carol.uuid)
    );

    let in_pool = app
        .post(&app.staff, &path, json!({"email": "other@example.org"}))
        .await
        .expect(201);
    assert_eq!(in_pool.body["invitation_status"], "pending");
}

async fn pool_force_accept_and_resend(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry_uuid = member.entry_uuid();
    app.post(
        &member.user,
        &entry_path(&entry_uuid, "decline"),
        json!({"reason": "No"}),
    )
    .await
    .expect(200);

    let resend_declined = app
        .post(
            &app.staff,
            &entry_path(&entry_uuid, "resend-invitation"),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(resend_declined.str("code"), "invitation_already_answered");

    app.post(
        &app.staff,
        &entry_path(&entry_uuid, "force-accept"),
        json!({}),
    )
    .await
    .expect(400);
    app.post(
        &member.user,
        &entry_path(&entry_uuid, "force-accept"),
        json!({"override_reason": "me"}),
    )
    .await
    .expect(403);
    let forced = app
        .post(
            &app.staff,
            &entry_path(&entry_uuid, "force-accept"),
            json!({"override_reason": "Agreed by phone"}),
        )
        .await
        .expect(200);
    assert_eq!(forced.str("invitation_status"), "accepted");
    assert_eq!(forced.str("override_reason"), "Agreed by phone");
    assert_eq!(forced.str("overridden_by_name"), "Staff User");
    assert!(forced.body["overridden_at"].is_string());

    let again = app
        .post(
            &app.staff,
            &entry_path(&entry_uuid, "force-accept"),
            json!({"override_reason": "x"}),
        )
        .await
        .expect(400);
    assert_eq!(again.str("code"), "invitation_already_accepted");

    let email_only = app
        .post(
            &app.staff,
            &format!(
                "/api/proposal-protected-calls/{}/invite-by-email/",
                setup.call_uuid
            ),
            json!({"email": "x@example.org"}),
        )
        .await
        .expect(201);
    let refused = app
        .post(
            &app.staff,
            &entry_path(&email_only.str("uuid"), "force-accept"),
            json!({"override_reason": "x"}),
        )
        .await
        .expect(400);
    assert_eq!(refused.str("code"), "profile_required");

    let old_link = email_only.str("invitation_link");
    let resent = app
        .post(
            &app.staff,
            &entry_path(&email_only.str("uuid"), "resend-invitation"),
            json!({}),
        )
        .await
        .expect(200);
    assert_ne!(resent.str("invitation_link"), old_link);
}

async fn pool_permission_matrix(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry_uuid = member.entry_uuid();
    let someone = app.user("someone").await;
    let someone_profile = app.profile(&someone).await;

    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let org_member = app.user("orgmember").await;
    app.grant_customer_role(&setup.customer_uuid, &org_member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let outsider = app.user("outsider").await;
    let anonymous = TestUser::anonymous();

    let invite = json!({"reviewer_uuids": [someone_profile["uuid"]]});
    for reader in [&app.staff, &manager, &owner, &org_member, &support] {
        app.get(reader, &pool_path(&setup.call_uuid))
            .await
            .expect(200);
        app.get(reader, &entry_path(&entry_uuid, ""))
            .await
            .expect(200);
        assert_eq!(
            app.get(reader, "/api/call-reviewer-pools/")
                .await
                .expect(200)
                .count(),
            1
        );
    }
    app.get(&member.user, &entry_path(&entry_uuid, ""))
        .await
        .expect(200);
    app.get(&outsider, &pool_path(&setup.call_uuid))
        .await
        .expect(404);
    app.get(&outsider, &entry_path(&entry_uuid, ""))
        .await
        .expect(404);
    assert_eq!(
        app.get(&outsider, "/api/call-reviewer-pools/")
            .await
            .expect(200)
            .count(),
        0
    );
    app.get(&anonymous, &pool_path(&setup.call_uuid))
        .await
        .expect(401);
    app.get(&anonymous, "/api/call-reviewer-pools/")
        .await
        .expect(401);

    for refused in [&org_member, &support] {
        app.post(refused, &pool_path(&setup.call_uuid), invite.clone())
            .await
            .expect(403);
        app.patch(
            refused,
            &entry_path(&entry_uuid, ""),
            json!({"max_assignments": 3}),
        )
        .await
        .expect(403);
        app.post(
            refused,
            &entry_path(&entry_uuid, "force-accept"),
            json!({"override_reason": "x"}),
        )
        .await
        .expect(403);
    }
    app.post(&outsider, &pool_path(&setup.call_uuid), invite.clone())
        .await
        .expect(404);
    app.post(&anonymous, &pool_path(&setup.call_uuid), invite.clone())
        .await
        .expect(401);
    assert_eq!(
        app.get(&app.staff, &pool_path(&setup.call_uuid))
            .await
            .array()
            .len(),
        1
    );

    app.post(&manager, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(403);
    app.post(&outsider, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(404);
    app.post(&anonymous, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(401);

    app.post(&manager, &pool_path(&setup.call_uuid), invite.clone())
        .await
        .expect(201);
    let another = app.user("another").await;
    let another_profile = app.profile(&another).await;
    app.post(
        &owner,
        &pool_path(&setup.call_uuid),
        json!({"reviewer_uuids": [another_profile["uuid"]]}),
    )
    .await
    .expect(201);
    assert_eq!(
        app.get(&app.staff, &pool_path(&setup.call_uuid))
            .await
            .array()
            .len(),
        3
    );
}

async fn pool_max_assignments_range(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let path = entry_path(&member.entry_uuid(), "");

    for invalid in [0, 51] {
        let reply = app
            .patch(&app.staff, &path, json!({"max_assignments": invalid}))
            .await
            .expect(400);
        assert!(
            reply.body["max_assignments"][0]
                .as_str()
                .unwrap()
                .contains(&invalid.to_string())
        );
    }
    app.patch(&member.user, &path, json!({"max_assignments": 9}))
        .await
        .expect(403);
    let updated = app
        .patch(&app.staff, &path, json!({"max_assignments": 7}))
        .await
        .expect(200);
    assert_eq!(updated.body, json!({"max_assignments": 7}));
    assert_eq!(app.get(&app.staff, &path).await.body["max_assignments"], 7);
}

async fn pool_expired_invitation_refused(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry_uuid = member.entry_uuid();

    let later = chrono::Utc::now() + chrono::Duration::days(8);
    let expired = app
        .state
        .run(move |connection| referee_store::pool::expire_invitations(connection, later))
        .await
        .unwrap();
    assert_eq!(expired, 1);
    let again = app
        .state
        .run(move |connection| referee_store::pool::expire_invitations(connection, later))
        .await
        .unwrap();
    assert_eq!(again, 0);

    let refused = app
        .post(&member.user, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(400);
    assert_eq!(refused.str("code"), "invitation_expired");
    let refused = app
        .post(
            &member.user,
            &entry_path(&entry_uuid, "decline"),
            json!({"reason": "late"}),
        )
        .await
        .expect(400);
    assert_eq!(refused.str("code"), "invitation_expired");
    assert_eq!(
        app.get(&app.staff, &entry_path(&entry_uuid, ""))
            .await
            .str("invitation_status"),
        "expired"
    );

    let resent = app
        .post(
            &app.staff,
            &entry_path(&entry_uuid, "resend-invitation"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(resent.str("invitation_status"), "pending");
    app.post(&member.user, &entry_path(&entry_uuid, "accept"), json!([]))
        .await
        .expect(200);
}

async fn pool_declared_conflicts(app: TestApp) {
    let setup = setup(&app).await;
    let proposal = app.proposal(&setup.round_uuid, "Proposal").await;
    let other_call = app.call(&setup.customer_uuid, "Other call").await;
    let other_round = app.round(other_call["uuid"].as_str().unwrap()).await;
    let foreign = app
        .proposal(other_round["uuid"].as_str().unwrap(), "Foreign")
        .await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry_uuid = member.entry_uuid();

    let outside = app
        .post(
            &member.user,
            &entry_path(&entry_uuid, "accept"),
            json!([{"proposal_uuid": foreign["uuid"], "coi_type": "REL_FAMILY"}]),
        )
        .await
        .expect(400);
    assert!(
        outside.body["0.proposal_uuid"][0]
            .as_str()
            .unwrap()
            .contains("not part of this call")
    );
    let unknown_type = app
        .post(
            &member.user,
            &entry_path(&entry_uuid, "accept"),
            json!([{"proposal_uuid": proposal["uuid"], "coi_type": "NOPE"}]),
        )
        .await
        .expect(400);
    assert!(unknown_type.body.to_string().contains("NOPE"));
    assert_eq!(
        app.get(&app.staff, &entry_path(&entry_uuid, ""))
            .await
            .str("invitation_status"),
        "pending"
    );

    let accepted = app
        .post(
            &member.user,
            &entry_path(&entry_uuid, "accept"),
            json!([{"proposal_uuid": proposal["uuid"], "coi_type": "REL_FAMILY", "description": "My sister is the PI"}]),
        )
        .await
        .expect(200);
    assert_eq!(
        accepted.body["declared_conflicts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let entry = app
        .get(&app.staff, &entry_path(&entry_uuid, ""))
        .await
        .expect(200);
    assert_eq!(entry.body["coi_count"], 1);
    assert_eq!(entry.body["coi_by_severity"], json!({"apparent": 1}));
}

async fn pool_list_filters(app: TestApp) {
    let setup = setup(&app).await;
    let ada = app.accepted_reviewer(&setup.call_uuid, "ada").await;
    app.invited_reviewer(&setup.call_uuid, "bob").await;

    let accepted = app
        .get(
            &app.staff,
            "/api/call-reviewer-pools/?invitation_status=accepted",
        )
        .await
        .expect(200);
    assert_eq!(accepted.count(), 1);
    let both = app
        .get(
            &app.staff,
            "/api/call-reviewer-pools/?invitation_status=accepted&invitation_status=pending",
        )
        .await
        .expect(200);
    assert_eq!(both.count(), 2);
    let by_reviewer = app
        .get(
            &app.staff,
            &format!(
                "/api/call-reviewer-pools/?reviewer_uuid={}",
                ada.profile_uuid()
            ),
        )
        .await
        .expect(200);
    assert_eq!(by_reviewer.array()[0]["uuid"], ada.entry["uuid"]);
    let by_call = app
        .get(
            &app.staff,
            &format!("/api/call-reviewer-pools/?call_uuid={}", setup.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(by_call.count(), 2);

    let bad_status = app
        .get(
            &app.staff,
            "/api/call-reviewer-pools/?invitation_status=maybe",
        )
        .await
        .expect(400);
    assert!(
        bad_status.body["invitation_status"][0]
            .as_str()
            .unwrap()
            .contains("maybe")
    );
    let bad_uuid = app
        .get(&app.staff, "/api/call-reviewer-pools/?call_uuid=xyz")
        .await
        .expect(400);
    assert!(
        bad_uuid.body["call_uuid"][0]
            .as_str()
            .unwrap()
            .contains("xyz")
    );
    app.get(&app.staff, "/api/call-reviewer-pools/?o=reviewer")
        .await
        .expect(400);
    let ordered = app
        .get(&app.staff, "/api/call-reviewer-pools/?o=invited_at")
        .await
        .expect(200);
    assert_eq!(ordered.array()[0]["uuid"], ada.entry["uuid"]);
    assert_eq!(
        app.head(
            &app.staff,
            "/api/call-reviewer-pools/?invitation_status=pending"
        )
        .await
        .expect(200)
        .count(),
        1
    );
}

async fn pool_methods_not_offered(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let path = entry_path(&member.entry_uuid(), "");
    app.delete(&app.staff, &path).await.expect(405);
    app.put(&app.staff, &path, json!({"max_assignments": 3}))
        .await
        .expect(405);
    app.post(&app.staff, "/api/call-reviewer-pools/", json!({}))
        .await
        .expect(405);
}

async fn pool_concurrent_accepts_one_wins(app: TestApp) {
    let setup = setup(&app).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let path = entry_path(&member.entry_uuid(), "accept");

    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = app.clone();
        let user = member.user.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            app.post(&user, &path, json!([])).await.status.as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| *status == 200 || *status == 400),
        "{statuses:?}"
    );
    let _: Value = json!(null);
}
