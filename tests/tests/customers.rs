//! `/api/customers/`: organisations and their role grants.

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::json;

on_both_backends!(
    customer_crud_as_staff,
    customer_visibility_follows_roles,
    customer_writes_need_rights,
    customer_validation_errors,
    customer_roles_grant_and_revoke,
    customer_delete_with_calls_conflicts,
);

async fn customer_crud_as_staff(app: TestApp) {
    let created = app
        .post(
            &app.staff,
            "/api/customers/",
            json!({"name": "Space Agency", "abbreviation": "SA", "email": "office@space.example"}),
        )
        .await
        .expect(201);
    let uuid = created.str("uuid");
    assert_eq!(uuid.len(), 32);
    assert_eq!(
        created.str("url"),
        format!("{}/api/customers/{uuid}/", app.base)
    );
    assert!(created.str("created").ends_with("+00:00"));

    let fetched = app
        .get(&app.staff, &format!("/api/customers/{uuid}/"))
        .await
        .expect(200);
    assert_eq!(fetched.body, created.body);

    let patched = app
        .patch(
            &app.staff,
            &format!("/api/customers/{uuid}/"),
            json!({"name": "Space Agency II"}),
        )
        .await
        .expect(200);
    assert_eq!(patched.str("name"), "Space Agency II");
    assert_eq!(patched.str("abbreviation"), "SA");

    let put = app
        .put(
            &app.staff,
            &format!("/api/customers/{uuid}/"),
            json!({"name": "Agency"}),
        )
        .await
        .expect(200);
    assert_eq!(put.str("abbreviation"), "");

    app.delete(&app.staff, &format!("/api/customers/{uuid}/"))
        .await
        .expect(204);
    app.get(&app.staff, &format!("/api/customers/{uuid}/"))
        .await
        .expect(404);
}

async fn customer_visibility_follows_roles(app: TestApp) {
    let visible = app.customer("Visible").await;
    let hidden = app.customer("Hidden").await;
    let visible_uuid = visible["uuid"].as_str().unwrap();
    let hidden_uuid = hidden["uuid"].as_str().unwrap();

    let member = app.user("member").await;
    app.grant_customer_role(visible_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let outsider = app.user("outsider").await;
    let support = app.user_with("support", json!({"is_support": true})).await;

    let listed = app.get(&member, "/api/customers/").await.expect(200);
    assert_eq!(listed.count(), 1);
    assert_eq!(listed.array()[0]["uuid"], visible["uuid"]);
    app.get(&member, &format!("/api/customers/{hidden_uuid}/"))
        .await
        .expect(404);

    assert_eq!(
        app.get(&outsider, "/api/customers/")
            .await
            .expect(200)
            .count(),
        0
    );
    assert_eq!(
        app.get(&support, "/api/customers/")
            .await
            .expect(200)
            .count(),
        2
    );
    assert_eq!(
        app.head(&app.staff, "/api/customers/")
            .await
            .expect(200)
            .count(),
        2
    );

    app.get(&TestUser::anonymous(), "/api/customers/")
        .await
        .expect(401);
}

async fn customer_writes_need_rights(app: TestApp) {
    let customer = app.customer("Org").await;
    let uuid = customer["uuid"].as_str().unwrap();
    let member = app.user("member").await;
    app.grant_customer_role(uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;

    app.post(&member, "/api/customers/", json!({"name": "Mine"}))
        .await
        .expect(403);
    app.patch(
        &member,
        &format!("/api/customers/{uuid}/"),
        json!({"name": "X"}),
    )
    .await
    .expect(403);
    app.patch(
        &support,
        &format!("/api/customers/{uuid}/"),
        json!({"name": "X"}),
    )
    .await
    .expect(403);
    app.delete(&owner, &format!("/api/customers/{uuid}/"))
        .await
        .expect(403);
    app.patch(
        &owner,
        &format!("/api/customers/{uuid}/"),
        json!({"name": "Renamed"}),
    )
    .await
    .expect(200);
    app.post(
        &TestUser::anonymous(),
        "/api/customers/",
        json!({"name": "X"}),
    )
    .await
    .expect(401);
}

async fn customer_validation_errors(app: TestApp) {
    let missing = app
        .post(&app.staff, "/api/customers/", json!({}))
        .await
        .expect(400);
    assert_eq!(missing.body, json!({"name": ["This field is required."]}));

    let blank = app
        .post(&app.staff, "/api/customers/", json!({"name": "  "}))
        .await
        .expect(400);
    assert!(blank.body["name"][0].as_str().unwrap().contains("blank"));

    let email = app
        .post(
            &app.staff,
            "/api/customers/",
            json!({"name": "A", "email": "nope"}),
        )
        .await
        .expect(400);
    assert!(
        email.body["email"][0]
            .as_str()
            .unwrap()
            .contains("\"nope\"")
    );

    let wrong_type = app
        .post(&app.staff, "/api/customers/", json!({"name": 5}))
        .await
        .expect(400);
    assert!(wrong_type.body["name"].is_array());

    let order = app
        .get(&app.staff, "/api/customers/?o=nope")
        .await
        .expect(400);
    assert!(order.body["o"][0].as_str().unwrap().contains("nope"));

    assert_eq!(
        app.get(&app.staff, "/api/customers/")
            .await
            .expect(200)
            .count(),
        0
    );
}

async fn customer_roles_grant_and_revoke(app: TestApp) {
    let customer = app.customer("Org").await;
    let uuid = customer["uuid"].as_str().unwrap();
    let user = app.user("manager").await;

    let granted = app
        .post(&app.staff, &format!("/api/customers/{uuid}/add_user/"), json!({"user": format!("{}/api/users/{}/", app.base, user.uuid), "role": "CUSTOMER.MANAGER"}))
        .await
        .expect(201);
    assert_eq!(granted.str("role"), "CUSTOMER.MANAGER");
    assert_eq!(granted.str("user_uuid"), user.uuid);

    let listed = app
        .get(&user, &format!("/api/customers/{uuid}/list_users/"))
        .await
        .expect(200);
    assert_eq!(listed.array().len(), 1);

    let bad_role = app
        .post(
            &app.staff,
            &format!("/api/customers/{uuid}/add_user/"),
            json!({"user": user.uuid, "role": "BOSS"}),
        )
        .await
        .expect(400);
    assert!(bad_role.body["role"][0].as_str().unwrap().contains("BOSS"));

    app.post(
        &user,
        &format!("/api/customers/{uuid}/add_user/"),
        json!({"user": user.uuid, "role": "CUSTOMER.OWNER"}),
    )
    .await
    .expect(403);

    app.post(
        &app.staff,
        &format!("/api/customers/{uuid}/delete_user/"),
        json!({"user": user.uuid, "role": "CUSTOMER.MANAGER"}),
    )
    .await
    .expect(200);
    app.get(&user, &format!("/api/customers/{uuid}/"))
        .await
        .expect(404);
    app.post(
        &app.staff,
        &format!("/api/customers/{uuid}/delete_user/"),
        json!({"user": user.uuid, "role": "CUSTOMER.MANAGER"}),
    )
    .await
    .expect(400);
}

async fn customer_delete_with_calls_conflicts(app: TestApp) {
    let customer = app.customer("Org").await;
    let uuid = customer["uuid"].as_str().unwrap();
    app.call(uuid, "Call").await;
    let refused = app
        .delete(&app.staff, &format!("/api/customers/{uuid}/"))
        .await
        .expect(409);
    assert!(refused.str("detail").contains("1 call"));
}
