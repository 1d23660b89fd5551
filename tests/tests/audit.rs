//! `/api/proposal-protected-calls/{uuid}/audit-log/`: every state change is recorded with
//! actor, reason, before and after.

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::json;

on_both_backends!(
    audit_log_records_pool_changes,
    audit_log_permissions,
    audit_log_filters
);

async fn audit_log_records_pool_changes(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let member = app.invited_reviewer(&setup.call_uuid, "ada").await;
    let entry_uuid = member.entry_uuid();
    app.post(
        &member.user,
        &format!("/api/call-reviewer-pools/{entry_uuid}/decline/"),
        json!({"reason": "Too busy"}),
    )
    .await
    .expect(200);
    app.post(
        &app.staff,
        &format!("/api/call-reviewer-pools/{entry_uuid}/force-accept/"),
        json!({"override_reason": "Agreed by phone"}),
    )
    .await
    .expect(200);

    let log = app
        .get(
            &app.staff,
            &format!(
                "/api/proposal-protected-calls/{}/audit-log/",
                setup.call_uuid
            ),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = log
        .array()
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "pool_entry.force_accepted",
            "pool_entry.declined",
            "pool_entry.invited"
        ]
    );

    let forced = &log.array()[0];
    assert_eq!(forced["actor_name"], "Staff User");
    assert_eq!(forced["reason"], "Agreed by phone");
    assert_eq!(forced["before"], json!({"invitation_status": "declined"}));
    assert_eq!(forced["after"], json!({"invitation_status": "accepted"}));
    assert_eq!(forced["object_uuid"], entry_uuid);
    let declined = &log.array()[1];
    assert_eq!(declined["actor_uuid"], member.user.uuid);
    assert_eq!(declined["reason"], "Too busy");
}

async fn audit_log_permissions(app: TestApp) {
    let setup = app.call_setup(0, 1).await;
    let path = format!(
        "/api/proposal-protected-calls/{}/audit-log/",
        setup.call_uuid
    );
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

    for reader in [&app.staff, &manager, &owner, &support] {
        assert!(app.get(reader, &path).await.expect(200).count() >= 2);
    }
    app.get(&org_member, &path).await.expect(403);
    app.get(&setup.reviewers[0].user, &path).await.expect(404);
    app.get(&outsider, &path).await.expect(404);
    app.get(&TestUser::anonymous(), &path).await.expect(401);
    app.post(&app.staff, &path, json!({})).await.expect(405);
}

async fn audit_log_filters(app: TestApp) {
    let setup = app.call_setup(0, 2).await;
    let path = format!(
        "/api/proposal-protected-calls/{}/audit-log/",
        setup.call_uuid
    );
    let first = setup.reviewers[0].entry_uuid();

    let by_object = app
        .get(&app.staff, &format!("{path}?object_uuid={first}"))
        .await
        .expect(200);
    assert_eq!(by_object.count(), 2);
    assert!(
        by_object
            .array()
            .iter()
            .all(|event| event["object_uuid"] == first)
    );

    let by_action = app
        .get(&app.staff, &format!("{path}?action=pool_entry.accepted"))
        .await
        .expect(200);
    assert_eq!(by_action.count(), 2);
    let by_type = app
        .head(&app.staff, &format!("{path}?object_type=pool_entry"))
        .await
        .expect(200);
    assert_eq!(by_type.count(), 4);

    let invalid = app
        .get(&app.staff, &format!("{path}?object_uuid=nope"))
        .await
        .expect(400);
    assert!(
        invalid.body["object_uuid"][0]
            .as_str()
            .unwrap()
            .contains("nope")
    );
}
