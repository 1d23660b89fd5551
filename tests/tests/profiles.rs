//! `/api/reviewer-profiles/`: reviewer profiles and their nested affiliations, expertise and
//! publications.

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    profile_crud_as_owner,
    profile_keys_and_links,
    profile_list_filters_and_paging,
    profile_create_rejections,
    profile_staff_creates_for_user,
    profile_orcid_format_and_uniqueness,
    profile_visibility_matrix,
    profile_writes_matrix,
    profile_publish_and_unpublish,
    profile_me_endpoints,
    profile_unknown_and_methods,
    affiliation_crud,
    affiliation_organization_link,
    affiliation_rejections,
    expertise_crud,
    expertise_duplicate_keyword,
    expertise_rejections,
    publication_crud,
    publication_rejections,
    nested_permission_matrix,
    nested_lists_in_profile,
    profile_fixture_publishes,
);

fn profiles_path(uuid: &str) -> String {
    format!("/api/reviewer-profiles/{uuid}/")
}

/// First message of a field error.
fn message(body: &Value, field: &str) -> String {
    body[field][0]
        .as_str()
        .unwrap_or_else(|| panic!("no error on {field:?} in {body}"))
        .to_owned()
}

async fn own_profile(app: &TestApp, user: &TestUser) -> String {
    app.post(user, "/api/reviewer-profiles/", json!({}))
        .await
        .expect(201)
        .str("uuid")
}

async fn profile_crud_as_owner(app: TestApp) {
    let ada = app.user("ada").await;
    let created = app
        .post(
            &ada,
            "/api/reviewer-profiles/",
            json!({"orcid_id": "0000-0002-1825-0097", "biography": "Plasma physics.", "alternative_names": ["A. Lovelace"]}),
        )
        .await
        .expect(201);
    let uuid = created.str("uuid");
    assert_eq!(created.str("user_uuid"), ada.uuid);
    assert_eq!(created.body["is_published"], json!(false));
    assert_eq!(created.body["published_at"], Value::Null);
    assert_eq!(created.body["available_for_reviews"], json!(true));
    assert_eq!(created.body["alternative_names"], json!(["A. Lovelace"]));

    let fetched = app.get(&ada, &profiles_path(&uuid)).await.expect(200);
    assert_eq!(fetched.body, created.body);

    let patched = app
        .patch(&ada, &profiles_path(&uuid), json!({"biography": "Fusion."}))
        .await
        .expect(200);
    assert_eq!(patched.str("biography"), "Fusion.");
    assert_eq!(patched.str("orcid_id"), "0000-0002-1825-0097");

    let put = app
        .put(
            &ada,
            &profiles_path(&uuid),
            json!({"available_for_reviews": false}),
        )
        .await
        .expect(200);
    assert_eq!(put.body["orcid_id"], Value::Null);
    assert_eq!(put.str("biography"), "");
    assert_eq!(put.body["alternative_names"], json!([]));
    assert_eq!(put.body["available_for_reviews"], json!(false));

    app.delete(&ada, &profiles_path(&uuid)).await.expect(204);
    app.get(&ada, &profiles_path(&uuid)).await.expect(404);
    app.get(&app.staff, &profiles_path(&uuid)).await.expect(404);
}

async fn profile_keys_and_links(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let body = app.get(&ada, &profiles_path(&uuid)).await.expect(200).body;

    let keys = [
        "url",
        "uuid",
        "user",
        "user_uuid",
        "user_full_name",
        "user_email",
        "orcid_id",
        "orcid_connected",
        "orcid_last_sync",
        "biography",
        "alternative_names",
        "is_published",
        "published_at",
        "available_for_reviews",
        "affiliations",
        "expertise_set",
        "publications",
        "created",
        "modified",
    ];
    for key in keys {
        assert!(body.get(key).is_some(), "key {key} missing from {body}");
    }
    assert_eq!(
        body["url"],
        json!(format!("{}/api/reviewer-profiles/{uuid}/", app.base))
    );
    assert_eq!(
        body["user"],
        json!(format!("{}/api/users/{}/", app.base, ada.uuid))
    );
    assert_eq!(body["user_full_name"], json!("ada Example"));
    assert_eq!(body["user_email"], json!("ada@example.org"));
    assert_eq!(body["orcid_id"], Value::Null);
    assert_eq!(body["orcid_connected"], json!(false));
    assert!(body["created"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(body["affiliations"], json!([]));
}

async fn profile_list_filters_and_paging(app: TestApp) {
    let mut users = Vec::new();
    for name in ["ada", "bob", "cyd"] {
        let user = app.user(name).await;
        own_profile(&app, &user).await;
        users.push(user);
    }
    let bob_profile = app
        .get(&users[1], "/api/reviewer-profiles/me/")
        .await
        .expect(200)
        .str("uuid");
    app.post(
        &users[1],
        &format!("/api/reviewer-profiles/{bob_profile}/publish/"),
        json!({}),
    )
    .await
    .expect(200);
    app.patch(
        &users[2],
        "/api/reviewer-profiles/me/",
        json!({"available_for_reviews": false}),
    )
    .await
    .expect(200);

    let all = app
        .get(&app.staff, "/api/reviewer-profiles/")
        .await
        .expect(200);
    assert_eq!(all.count(), 3);
    assert_eq!(
        app.head(&app.staff, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        3
    );

    let by_user = app
        .get(
            &app.staff,
            &format!("/api/reviewer-profiles/?user_uuid={}", users[0].uuid),
        )
        .await
        .expect(200);
    assert_eq!(by_user.count(), 1);
    assert_eq!(by_user.array()[0]["user_uuid"], json!(users[0].uuid));

    let published = app
        .get(&app.staff, "/api/reviewer-profiles/?is_published=true")
        .await
        .expect(200);
    assert_eq!(published.count(), 1);
    assert_eq!(published.array()[0]["uuid"], json!(bob_profile));
    assert_eq!(
        app.head(&app.staff, "/api/reviewer-profiles/?is_published=false")
            .await
            .expect(200)
            .count(),
        2
    );

    let unavailable = app
        .get(
            &app.staff,
            "/api/reviewer-profiles/?available_for_reviews=false",
        )
        .await
        .expect(200);
    assert_eq!(unavailable.count(), 1);
    assert_eq!(unavailable.array()[0]["user_uuid"], json!(users[2].uuid));

    let ascending = app
        .get(&app.staff, "/api/reviewer-profiles/?o=created")
        .await
        .expect(200);
    let descending = app
        .get(&app.staff, "/api/reviewer-profiles/?o=-created")
        .await
        .expect(200);
    let first_up: Vec<&Value> = ascending.array().iter().map(|row| &row["uuid"]).collect();
    let mut first_down: Vec<&Value> = descending.array().iter().map(|row| &row["uuid"]).collect();
    first_down.reverse();
    assert_eq!(first_up, first_down);

    let page = app
        .get(&app.staff, "/api/reviewer-profiles/?page=2&page_size=2")
        .await
        .expect(200);
    assert_eq!(page.array().len(), 1);
    assert_eq!(page.count(), 3);
    assert!(page.header("link").contains("rel=\"prev\""));

    let bad_order = app
        .get(&app.staff, "/api/reviewer-profiles/?o=name")
        .await
        .expect(400);
    assert!(message(&bad_order.body, "o").contains("name"));
    let bad_user = app
        .get(&app.staff, "/api/reviewer-profiles/?user_uuid=nope")
        .await
        .expect(400);
    assert!(message(&bad_user.body, "user_uuid").contains("\"nope\""));
}

async fn profile_create_rejections(app: TestApp) {
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    own_profile(&app, &ada).await;

    let again = app
        .post(&ada, "/api/reviewer-profiles/", json!({}))
        .await
        .expect(400);
    assert!(message(&again.body, "user").contains(&ada.uuid));

    let for_other = app
        .post(&ada, "/api/reviewer-profiles/", json!({"user": bob.uuid}))
        .await
        .expect(403);
    assert!(for_other.str("detail").contains("staff"));

    let bad_names = app
        .post(
            &bob,
            "/api/reviewer-profiles/",
            json!({"alternative_names": "B. Example"}),
        )
        .await
        .expect(400);
    assert!(bad_names.body["alternative_names"].is_array());

    let blank_name = app
        .post(
            &bob,
            "/api/reviewer-profiles/",
            json!({"alternative_names": ["  "]}),
        )
        .await
        .expect(400);
    assert!(message(&blank_name.body, "alternative_names").contains("blank"));

    app.post(&TestUser::anonymous(), "/api/reviewer-profiles/", json!({}))
        .await
        .expect(401);

    assert_eq!(
        app.get(&bob, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        0
    );
    assert_eq!(
        app.get(&app.staff, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        1
    );
}

async fn profile_staff_creates_for_user(app: TestApp) {
    let ada = app.user("ada").await;
    let created = app
        .post(
            &app.staff,
            "/api/reviewer-profiles/",
            json!({"user": format!("{}/api/users/{}/", app.base, ada.uuid)}),
        )
        .await
        .expect(201);
    assert_eq!(created.str("user_uuid"), ada.uuid);
    assert_eq!(
        app.get(&ada, "/api/reviewer-profiles/me/")
            .await
            .expect(200)
            .str("uuid"),
        created.str("uuid")
    );

    let unknown = "0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69";
    let missing = app
        .post(
            &app.staff,
            "/api/reviewer-profiles/",
            json!({"user": unknown}),
        )
        .await
        .expect(400);
    assert!(message(&missing.body, "user").contains(unknown));

    let malformed = app
        .post(
            &app.staff,
            "/api/reviewer-profiles/",
            json!({"user": "nobody"}),
        )
        .await
        .expect(400);
    assert!(message(&malformed.body, "user").contains("nobody"));

    let twice = app
        .post(
            &app.staff,
            "/api/reviewer-profiles/",
            json!({"user": ada.uuid}),
        )
        .await
        .expect(400);
    assert!(message(&twice.body, "user").contains("already"));

    let staff_own = app
        .post(&app.staff, "/api/reviewer-profiles/", json!({}))
        .await
        .expect(201);
    assert_eq!(staff_own.str("user_uuid"), app.staff.uuid);
}

async fn profile_orcid_format_and_uniqueness(app: TestApp) {
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;

    for invalid in [
        "0000-0002-1825-009",
        "0000_0002-1825-0097",
        "0000-0002-1825-009x",
        "orcid",
    ] {
        let refused = app
            .post(
                &ada,
                "/api/reviewer-profiles/",
                json!({"orcid_id": invalid}),
            )
            .await
            .expect(400);
        assert!(
            message(&refused.body, "orcid_id").contains(invalid),
            "{}",
            refused.body
        );
    }
    assert_eq!(
        app.get(&app.staff, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        0
    );

    let ada_profile = app
        .post(
            &ada,
            "/api/reviewer-profiles/",
            json!({"orcid_id": "0000-0002-1694-233X"}),
        )
        .await
        .expect(201)
        .str("uuid");

    let taken = app
        .post(
            &bob,
            "/api/reviewer-profiles/",
            json!({"orcid_id": "0000-0002-1694-233X"}),
        )
        .await
        .expect(400);
    assert!(message(&taken.body, "orcid_id").contains("0000-0002-1694-233X"));
    assert_eq!(
        app.get(&app.staff, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        1
    );

    let bob_profile = own_profile(&app, &bob).await;
    let patch_taken = app
        .patch(
            &bob,
            &profiles_path(&bob_profile),
            json!({"orcid_id": "0000-0002-1694-233X"}),
        )
        .await
        .expect(400);
    assert!(message(&patch_taken.body, "orcid_id").contains("0000-0002-1694-233X"));
    assert_eq!(
        app.get(&bob, &profiles_path(&bob_profile))
            .await
            .expect(200)
            .body["orcid_id"],
        Value::Null
    );

    let bad_patch = app
        .patch(
            &bob,
            &profiles_path(&bob_profile),
            json!({"orcid_id": "1234"}),
        )
        .await
        .expect(400);
    assert!(message(&bad_patch.body, "orcid_id").contains("1234"));

    let same_again = app
        .patch(
            &ada,
            &profiles_path(&ada_profile),
            json!({"orcid_id": "0000-0002-1694-233X"}),
        )
        .await
        .expect(200);
    assert_eq!(same_again.str("orcid_id"), "0000-0002-1694-233X");

    let cleared = app
        .patch(
            &ada,
            &profiles_path(&ada_profile),
            json!({"orcid_id": null}),
        )
        .await
        .expect(200);
    assert_eq!(cleared.body["orcid_id"], Value::Null);
    let reused = app
        .patch(
            &bob,
            &profiles_path(&bob_profile),
            json!({"orcid_id": "0000-0002-1694-233X"}),
        )
        .await
        .expect(200);
    assert_eq!(reused.str("orcid_id"), "0000-0002-1694-233X");
}

async fn profile_visibility_matrix(app: TestApp) {
    let owner = app.user("owner").await;
    let outsider = app.user("outsider").await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let uuid = own_profile(&app, &owner).await;
    let outsider_profile = own_profile(&app, &outsider).await;

    app.get(&owner, &profiles_path(&uuid)).await.expect(200);
    app.get(&app.staff, &profiles_path(&uuid)).await.expect(200);
    app.get(&support, &profiles_path(&uuid)).await.expect(200);
    app.get(&outsider, &profiles_path(&uuid)).await.expect(404);
    app.get(&TestUser::anonymous(), &profiles_path(&uuid))
        .await
        .expect(401);

    assert_eq!(
        app.get(&owner, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        1
    );
    let outsider_list = app
        .get(&outsider, "/api/reviewer-profiles/")
        .await
        .expect(200);
    assert_eq!(outsider_list.count(), 1);
    assert_eq!(outsider_list.array()[0]["uuid"], json!(outsider_profile));
    assert_eq!(
        app.get(&support, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        2
    );
    assert_eq!(
        app.head(&app.staff, "/api/reviewer-profiles/")
            .await
            .expect(200)
            .count(),
        2
    );
    app.get(&TestUser::anonymous(), "/api/reviewer-profiles/")
        .await
        .expect(401);
    app.head(&TestUser::anonymous(), "/api/reviewer-profiles/")
        .await
        .expect(401);

    // Publishing does not widen visibility to unrelated users.
    app.post(
        &owner,
        &format!("/api/reviewer-profiles/{uuid}/publish/"),
        json!({}),
    )
    .await
    .expect(200);
    app.get(&outsider, &profiles_path(&uuid)).await.expect(404);
}

async fn profile_writes_matrix(app: TestApp) {
    let owner = app.user("owner").await;
    let outsider = app.user("outsider").await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let uuid = own_profile(&app, &owner).await;
    let path = profiles_path(&uuid);
    let before = app.get(&owner, &path).await.expect(200).body;

    let refused = app
        .patch(&support, &path, json!({"biography": "Support was here."}))
        .await
        .expect(403);
    assert!(refused.str("detail").contains("owner"));
    app.put(&support, &path, json!({})).await.expect(403);
    app.delete(&support, &path).await.expect(403);
    app.post(&support, &format!("{path}publish/"), json!({}))
        .await
        .expect(403);

    app.patch(&outsider, &path, json!({"biography": "x"}))
        .await
        .expect(404);
    app.put(&outsider, &path, json!({})).await.expect(404);
    app.delete(&outsider, &path).await.expect(404);
    app.post(&outsider, &format!("{path}publish/"), json!({}))
        .await
        .expect(404);

    app.patch(&TestUser::anonymous(), &path, json!({"biography": "x"}))
        .await
        .expect(401);
    app.delete(&TestUser::anonymous(), &path).await.expect(401);

    assert_eq!(app.get(&owner, &path).await.expect(200).body, before);

    let by_staff = app
        .patch(&app.staff, &path, json!({"biography": "Edited by staff."}))
        .await
        .expect(200);
    assert_eq!(by_staff.str("biography"), "Edited by staff.");
    app.delete(&app.staff, &path).await.expect(204);
}

async fn profile_publish_and_unpublish(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;

    let published = app
        .post(
            &ada,
            &format!("/api/reviewer-profiles/{uuid}/publish/"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(published.body["is_published"], json!(true));
    let published_at = published.str("published_at");
    assert!(published_at.ends_with("+00:00"));

    let again = app
        .post(
            &ada,
            &format!("/api/reviewer-profiles/{uuid}/publish/"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(again.str("published_at"), published_at);

    let unpublished = app
        .post(
            &ada,
            &format!("/api/reviewer-profiles/{uuid}/unpublish/"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(unpublished.body["is_published"], json!(false));
    assert_eq!(unpublished.body["published_at"], Value::Null);

    let by_staff = app
        .post(
            &app.staff,
            &format!("/api/reviewer-profiles/{uuid}/publish/"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(by_staff.body["is_published"], json!(true));

    // is_published is read-only in updates.
    let patched = app
        .patch(&ada, &profiles_path(&uuid), json!({"is_published": false}))
        .await
        .expect(200);
    assert_eq!(patched.body["is_published"], json!(true));

    app.post(
        &TestUser::anonymous(),
        &format!("/api/reviewer-profiles/{uuid}/unpublish/"),
        json!({}),
    )
    .await
    .expect(401);
    app.get(&ada, &format!("/api/reviewer-profiles/{uuid}/publish/"))
        .await
        .expect(405);
}

async fn profile_me_endpoints(app: TestApp) {
    let ada = app.user("ada").await;

    let missing = app
        .get(&ada, "/api/reviewer-profiles/me/")
        .await
        .expect(404);
    assert_eq!(
        missing.body,
        json!({"detail": "Reviewer profile not found."})
    );
    let patch_missing = app
        .patch(
            &ada,
            "/api/reviewer-profiles/me/",
            json!({"biography": "x"}),
        )
        .await
        .expect(404);
    assert_eq!(
        patch_missing.body,
        json!({"detail": "Reviewer profile not found."})
    );

    let created = app
        .post(
            &ada,
            "/api/reviewer-profiles/me/",
            json!({"biography": "First."}),
        )
        .await
        .expect(200);
    assert_eq!(created.str("biography"), "First.");
    let existing = app
        .post(
            &ada,
            "/api/reviewer-profiles/me/",
            json!({"biography": "Ignored."}),
        )
        .await
        .expect(200);
    assert_eq!(existing.str("uuid"), created.str("uuid"));
    assert_eq!(existing.str("biography"), "First.");

    let patched = app
        .patch(
            &ada,
            "/api/reviewer-profiles/me/",
            json!({"biography": "Second."}),
        )
        .await
        .expect(200);
    assert_eq!(patched.str("biography"), "Second.");
    let fetched = app
        .get(&ada, "/api/reviewer-profiles/me/")
        .await
        .expect(200);
    assert_eq!(fetched.body, patched.body);

    let invalid = app
        .patch(
            &ada,
            "/api/reviewer-profiles/me/",
            json!({"orcid_id": "bad"}),
        )
        .await
        .expect(400);
    assert!(message(&invalid.body, "orcid_id").contains("bad"));
    assert_eq!(
        app.get(&ada, "/api/reviewer-profiles/me/")
            .await
            .expect(200)
            .body["orcid_id"],
        Value::Null
    );

    app.get(&TestUser::anonymous(), "/api/reviewer-profiles/me/")
        .await
        .expect(401);
    app.delete(&ada, "/api/reviewer-profiles/me/")
        .await
        .expect(405);
}

async fn profile_unknown_and_methods(app: TestApp) {
    let ada = app.user("ada").await;
    let unknown = "0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69";
    for path in [
        profiles_path(unknown),
        "/api/reviewer-profiles/not-a-uuid/".to_owned(),
        format!("/api/reviewer-profiles/{unknown}/affiliations/"),
        format!("/api/reviewer-profiles/{unknown}/expertise/"),
        format!("/api/reviewer-profiles/{unknown}/publications/"),
    ] {
        let reply = app.get(&app.staff, &path).await.expect(404);
        assert_eq!(reply.body, json!({"detail": "Not found."}));
    }
    app.patch(&app.staff, &profiles_path(unknown), json!({}))
        .await
        .expect(404);
    app.delete(&app.staff, &profiles_path(unknown))
        .await
        .expect(404);
    app.post(
        &app.staff,
        &format!("/api/reviewer-profiles/{unknown}/publish/"),
        json!({}),
    )
    .await
    .expect(404);

    let uuid = own_profile(&app, &ada).await;
    app.post(&ada, &profiles_path(&uuid), json!({}))
        .await
        .expect(405);
    app.delete(&ada, "/api/reviewer-profiles/")
        .await
        .expect(405);
    app.put(
        &ada,
        &format!("/api/reviewer-profiles/{uuid}/affiliations/"),
        json!({}),
    )
    .await
    .expect(405);
    app.delete(&ada, &format!("/api/reviewer-profiles/{uuid}/expertise/"))
        .await
        .expect(405);
    app.patch(
        &ada,
        &format!("/api/reviewer-profiles/{uuid}/publications/"),
        json!({}),
    )
    .await
    .expect(405);
}

async fn affiliation_crud(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/affiliations/");

    let created = app
        .post(
            &ada,
            &collection,
            json!({"organization_name": "Example University", "department": "Physics", "position_title": "Professor",
                   "start_date": "2015-09-01", "is_primary": true}),
        )
        .await
        .expect(201);
    let item = created.str("uuid");
    assert_eq!(created.str("organization_name"), "Example University");
    assert_eq!(
        created.str("organization_name_display"),
        "Example University"
    );
    assert_eq!(created.body["organization"], Value::Null);
    assert_eq!(created.str("affiliation_type"), "employment");
    assert_eq!(created.str("start_date"), "2015-09-01");
    assert_eq!(created.body["end_date"], Value::Null);
    assert_eq!(created.str("organization_identifier"), "");
    assert_eq!(created.body["is_primary"], json!(true));

    let listed = app.get(&ada, &collection).await.expect(200);
    assert_eq!(listed.count(), 1);
    assert_eq!(listed.array()[0], created.body);
    assert_eq!(app.head(&ada, &collection).await.expect(200).count(), 1);

    let path = format!("{collection}{item}/");
    assert_eq!(app.get(&ada, &path).await.expect(200).body, created.body);

    let patched = app
        .patch(
            &ada,
            &path,
            json!({"end_date": "2020-06-30", "affiliation_type": "visiting"}),
        )
        .await
        .expect(200);
    assert_eq!(patched.str("end_date"), "2020-06-30");
    assert_eq!(patched.str("affiliation_type"), "visiting");
    assert_eq!(patched.str("department"), "Physics");

    let put = app
        .put(&ada, &path, json!({"organization_name": "Other Institute"}))
        .await
        .expect(200);
    assert_eq!(put.str("organization_name"), "Other Institute");
    assert_eq!(put.str("department"), "");
    assert_eq!(put.body["start_date"], Value::Null);
    assert_eq!(put.str("affiliation_type"), "employment");

    let profile = app.get(&ada, &profiles_path(&uuid)).await.expect(200);
    assert_eq!(
        profile.body["affiliations"][0]["organization_name"],
        json!("Other Institute")
    );

    app.delete(&ada, &path).await.expect(204);
    app.get(&ada, &path).await.expect(404);
    assert_eq!(app.get(&ada, &collection).await.expect(200).count(), 0);
}

async fn affiliation_organization_link(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/affiliations/");
    let customer = app.customer("Space Agency").await;
    let customer_uuid = customer["uuid"].as_str().unwrap();

    let linked = app
        .post(
            &ada,
            &collection,
            json!({"organization": format!("{}/api/customers/{customer_uuid}/", app.base)}),
        )
        .await
        .expect(201);
    assert_eq!(linked.str("organization"), customer_uuid);
    assert_eq!(linked.str("organization_name"), "Space Agency");
    assert_eq!(linked.str("organization_name_display"), "Space Agency");

    let named = app
        .post(
            &ada,
            &collection,
            json!({"organization": customer_uuid, "organization_name": "SA Research Lab"}),
        )
        .await
        .expect(201);
    assert_eq!(named.str("organization_name"), "SA Research Lab");
    assert_eq!(named.str("organization_name_display"), "Space Agency");

    let unlinked = app
        .patch(
            &ada,
            &format!("{collection}{}/", named.str("uuid")),
            json!({"organization": null}),
        )
        .await
        .expect(200);
    assert_eq!(unlinked.body["organization"], Value::Null);
    assert_eq!(unlinked.str("organization_name_display"), "SA Research Lab");

    let unknown = "0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69";
    let missing = app
        .post(&ada, &collection, json!({"organization": unknown}))
        .await
        .expect(400);
    assert!(message(&missing.body, "organization").contains(unknown));
    assert_eq!(app.get(&ada, &collection).await.expect(200).count(), 2);
}

async fn affiliation_rejections(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/affiliations/");

    let nameless = app.post(&ada, &collection, json!({})).await.expect(400);
    assert!(message(&nameless.body, "organization_name").contains("required"));

    let reversed = app
        .post(
            &ada,
            &collection,
            json!({"organization_name": "U", "start_date": "2020-01-01", "end_date": "2019-12-31"}),
        )
        .await
        .expect(400);
    let reversed_message = message(&reversed.body, "end_date");
    assert!(reversed_message.contains("2019-12-31"));
    assert!(reversed_message.contains("2020-01-01"));

    let bad_date = app
        .post(
            &ada,
            &collection,
            json!({"organization_name": "U", "start_date": "01/02/2020"}),
        )
        .await
        .expect(400);
    assert!(message(&bad_date.body, "start_date").contains("01/02/2020"));

    let bad_type = app
        .post(
            &ada,
            &collection,
            json!({"organization_name": "U", "affiliation_type": "volunteer"}),
        )
        .await
        .expect(400);
    assert!(message(&bad_type.body, "affiliation_type").contains("volunteer"));

    let long_name = "x".repeat(256);
    let too_long = app
        .post(&ada, &collection, json!({"organization_name": long_name}))
        .await
        .expect(400);
    assert!(message(&too_long.body, "organization_name").contains("255"));

    let long_identifier = app
        .post(
            &ada,
            &collection,
            json!({"organization_name": "U", "organization_identifier": "i".repeat(101)}),
        )
        .await
        .expect(400);
    assert!(message(&long_identifier.body, "organization_identifier").contains("100"));

    assert_eq!(app.get(&ada, &collection).await.expect(200).count(), 0);

    let item = app
        .post(
            &ada,
            &collection,
            json!({"organization_name": "U", "start_date": "2020-01-01"}),
        )
        .await
        .expect(201)
        .str("uuid");
    let path = format!("{collection}{item}/");
    let before = app.get(&ada, &path).await.expect(200).body;

    let patch_reversed = app
        .patch(&ada, &path, json!({"end_date": "2019-01-01"}))
        .await
        .expect(400);
    assert!(message(&patch_reversed.body, "end_date").contains("2019-01-01"));
    let blank_name = app
        .patch(&ada, &path, json!({"organization_name": " "}))
        .await
        .expect(400);
    assert!(message(&blank_name.body, "organization_name").contains("required"));
    assert_eq!(app.get(&ada, &path).await.expect(200).body, before);

    let unknown = "0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69";
    app.get(&ada, &format!("{collection}{unknown}/"))
        .await
        .expect(404);
    app.patch(&ada, &format!("{collection}{unknown}/"), json!({}))
        .await
        .expect(404);
    app.delete(&ada, &format!("{collection}{unknown}/"))
        .await
        .expect(404);
    app.post(&ada, &path, json!({})).await.expect(405);
}

async fn expertise_crud(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/expertise/");

    let created = app
        .post(
            &ada,
            &collection,
            json!({"expertise_keyword": "plasma physics"}),
        )
        .await
        .expect(201);
    let item = created.str("uuid");
    assert_eq!(created.str("proficiency_level"), "familiar");
    assert_eq!(created.body["expertise_category"], Value::Null);
    assert_eq!(created.str("expertise_category_name"), "");
    assert_eq!(created.body["years_experience"], Value::Null);
    assert_eq!(created.body["last_active_date"], Value::Null);

    let path = format!("{collection}{item}/");
    assert_eq!(app.get(&ada, &path).await.expect(200).body, created.body);
    assert_eq!(app.get(&ada, &collection).await.expect(200).count(), 1);
    assert_eq!(app.head(&ada, &collection).await.expect(200).count(), 1);

    let patched = app
        .patch(&ada, &path, json!({"proficiency_level": "expert", "years_experience": 12, "expertise_category": "Physics", "last_active_date": "2024-05-01"}))
        .await
        .expect(200);
    assert_eq!(patched.str("proficiency_level"), "expert");
    assert_eq!(patched.body["years_experience"], json!(12));
    assert_eq!(patched.str("expertise_category_name"), "Physics");
    assert_eq!(patched.str("last_active_date"), "2024-05-01");

    let renamed = app
        .put(
            &ada,
            &path,
            json!({"expertise_keyword": "fusion", "years_experience": 0}),
        )
        .await
        .expect(200);
    assert_eq!(renamed.str("expertise_keyword"), "fusion");
    assert_eq!(renamed.str("proficiency_level"), "familiar");
    assert_eq!(renamed.body["years_experience"], json!(0));
    assert_eq!(renamed.body["expertise_category"], Value::Null);

    let profile = app.get(&ada, &profiles_path(&uuid)).await.expect(200);
    assert_eq!(
        profile.body["expertise_set"][0]["expertise_keyword"],
        json!("fusion")
    );

    app.delete(&ada, &path).await.expect(204);
    app.get(&ada, &path).await.expect(404);
}

async fn expertise_duplicate_keyword(app: TestApp) {
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let uuid = own_profile(&app, &ada).await;
    let bob_uuid = own_profile(&app, &bob).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/expertise/");

    app.post(&ada, &collection, json!({"expertise_keyword": "optics"}))
        .await
        .expect(201);
    let second = app
        .post(&ada, &collection, json!({"expertise_keyword": "lasers"}))
        .await
        .expect(201)
        .str("uuid");

    let duplicate = app
        .post(&ada, &collection, json!({"expertise_keyword": "optics"}))
        .await
        .expect(400);
    assert!(message(&duplicate.body, "expertise_keyword").contains("optics"));
    assert_eq!(app.get(&ada, &collection).await.expect(200).count(), 2);

    let renamed = app
        .patch(
            &ada,
            &format!("{collection}{second}/"),
            json!({"expertise_keyword": "optics"}),
        )
        .await
        .expect(400);
    assert!(message(&renamed.body, "expertise_keyword").contains("optics"));
    assert_eq!(
        app.get(&ada, &format!("{collection}{second}/"))
            .await
            .expect(200)
            .str("expertise_keyword"),
        "lasers"
    );

    // The same keyword on another profile is fine, and so is saving an entry unchanged.
    app.post(
        &bob,
        &format!("/api/reviewer-profiles/{bob_uuid}/expertise/"),
        json!({"expertise_keyword": "optics"}),
    )
    .await
    .expect(201);
    app.patch(
        &ada,
        &format!("{collection}{second}/"),
        json!({"expertise_keyword": "lasers"}),
    )
    .await
    .expect(200);
}

async fn expertise_rejections(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/expertise/");

    let missing = app.post(&ada, &collection, json!({})).await.expect(400);
    assert_eq!(
        missing.body,
        json!({"expertise_keyword": ["This field is required."]})
    );

    let blank = app
        .post(&ada, &collection, json!({"expertise_keyword": "  "}))
        .await
        .expect(400);
    assert!(message(&blank.body, "expertise_keyword").contains("blank"));

    let long = app
        .post(
            &ada,
            &collection,
            json!({"expertise_keyword": "k".repeat(101)}),
        )
        .await
        .expect(400);
    assert!(message(&long.body, "expertise_keyword").contains("100"));

    let negative = app
        .post(
            &ada,
            &collection,
            json!({"expertise_keyword": "a", "years_experience": -1}),
        )
        .await
        .expect(400);
    assert!(message(&negative.body, "years_experience").contains("-1"));

    let level = app
        .post(
            &ada,
            &collection,
            json!({"expertise_keyword": "a", "proficiency_level": "guru"}),
        )
        .await
        .expect(400);
    assert!(message(&level.body, "proficiency_level").contains("guru"));

    let date = app
        .post(
            &ada,
            &collection,
            json!({"expertise_keyword": "a", "last_active_date": "yesterday"}),
        )
        .await
        .expect(400);
    assert!(message(&date.body, "last_active_date").contains("yesterday"));

    assert_eq!(app.get(&ada, &collection).await.expect(200).count(), 0);
}

async fn publication_crud(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/publications/");

    let created = app
        .post(
            &ada,
            &collection,
            json!({"title": "Confinement in tokamaks", "publication_year": 2021, "venue": "Nuclear Fusion",
                   "doi": "10.1000/xyz123", "abstract": "We study confinement.",
                   "coauthors": [{"name": "Bob Example", "orcid": "0000-0002-1825-0097"}, "Cyd Example"],
                   "external_ids": {"pubmed": "12345"}}),
        )
        .await
        .expect(201);
    let item = created.str("uuid");
    assert_eq!(created.str("venue_type"), "other");
    assert_eq!(created.str("abstract"), "We study confinement.");
    assert_eq!(created.body["coauthors"][1], json!("Cyd Example"));
    assert_eq!(created.body["external_ids"], json!({"pubmed": "12345"}));
    assert_eq!(created.body["is_excluded_from_matching"], json!(false));
    assert_eq!(created.body["publication_year"], json!(2021));

    let path = format!("{collection}{item}/");
    assert_eq!(app.get(&ada, &path).await.expect(200).body, created.body);
    assert_eq!(app.head(&ada, &collection).await.expect(200).count(), 1);

    let patched = app
        .patch(
            &ada,
            &path,
            json!({"venue_type": "journal", "is_excluded_from_matching": true, "doi": null}),
        )
        .await
        .expect(200);
    assert_eq!(patched.str("venue_type"), "journal");
    assert_eq!(patched.body["is_excluded_from_matching"], json!(true));
    assert_eq!(patched.body["doi"], Value::Null);
    assert_eq!(patched.body["coauthors"], created.body["coauthors"]);

    let put = app
        .put(
            &ada,
            &path,
            json!({"title": "Retitled", "publication_year": 2022}),
        )
        .await
        .expect(200);
    assert_eq!(put.str("title"), "Retitled");
    assert_eq!(put.body["coauthors"], json!([]));
    assert_eq!(put.body["external_ids"], json!({}));
    assert_eq!(put.str("venue"), "");

    let profile = app.get(&ada, &profiles_path(&uuid)).await.expect(200);
    assert_eq!(profile.body["publications"][0]["title"], json!("Retitled"));

    app.delete(&ada, &path).await.expect(204);
    app.get(&ada, &path).await.expect(404);
}

async fn publication_rejections(app: TestApp) {
    let ada = app.user("ada").await;
    let uuid = own_profile(&app, &ada).await;
    let collection = format!("/api/reviewer-profiles/{uuid}/publications/");

    let missing = app
        .post(&ada, &collection, json!({"publication_year": 2020}))
        .await
        .expect(400);
    assert_eq!(missing.body, json!({"title": ["This field is required."]}));

    let long_title = app
        .post(
            &ada,
            &collection,
            json!({"title": "t".repeat(501), "publication_year": 2020}),
        )
        .await
        .expect(400);
    assert!(message(&long_title.body, "title").contains("500"));

    for year in [1899, 3000] {
        let refused = app
            .post(
                &ada,
                &collection,
                json!({"title": "T", "publication_year": year}),
            )
            .await
            .expect(400);
        assert!(message(&refused.body, "publication_year").contains(&year.to_string()));
    }

    let long_doi = app
        .post(
            &ada,
            &collection,
            json!({"title": "T", "publication_year": 2020, "doi": "d".repeat(101)}),
        )
        .await
        .expect(400);
    assert!(message(&long_doi.body, "doi").contains("100"));

    let venue_type = app
        .post(
            &ada,
            &collection,
            json!({"title": "T", "publication_year": 2020, "venue_type": "blog"}),
        )
        .await
        .expect(400);
    assert!(message(&venue_type.body, "venue_type").contains("blog"));

    let coauthors = app
        .post(&ada, &collection, json!({"title": "T", "publication_year": 2020, "coauthors": [{"orcid": "0000-0002-1825-0097"}]}))
        .await
        .expect(400);
    assert!(message(&coauthors.body, "coauthors").contains("0000-0002-1825-0097"));

    let bad_orcid = app
        .post(&ada, &collection, json!({"title": "T", "publication_year": 2020, "coauthors": [{"name": "B", "orcid": "12"}]}))
        .await
        .expect(400);
    assert!(message(&bad_orcid.body, "coauthors").contains("12"));

    let not_list = app
        .post(
            &ada,
            &collection,
            json!({"title": "T", "publication_year": 2020, "coauthors": "Bob"}),
        )
        .await
        .expect(400);
    assert!(message(&not_list.body, "coauthors").contains("Bob"));

    let ids = app
        .post(
            &ada,
            &collection,
            json!({"title": "T", "publication_year": 2020, "external_ids": ["pubmed"]}),
        )
        .await
        .expect(400);
    assert!(message(&ids.body, "external_ids").contains("pubmed"));

    assert_eq!(app.get(&ada, &collection).await.expect(200).count(), 0);

    let item = app
        .post(
            &ada,
            &collection,
            json!({"title": "T", "publication_year": 2020}),
        )
        .await
        .expect(201)
        .str("uuid");
    let path = format!("{collection}{item}/");
    let before = app.get(&ada, &path).await.expect(200).body;
    app.patch(&ada, &path, json!({"title": " "}))
        .await
        .expect(400);
    app.patch(&ada, &path, json!({"publication_year": 1800}))
        .await
        .expect(400);
    assert_eq!(app.get(&ada, &path).await.expect(200).body, before);
}

async fn nested_permission_matrix(app: TestApp) {
    let owner = app.user("owner").await;
    let outsider = app.user("outsider").await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let uuid = own_profile(&app, &owner).await;

    let bodies = [
        ("affiliations", json!({"organization_name": "U"})),
        ("expertise", json!({"expertise_keyword": "optics"})),
        (
            "publications",
            json!({"title": "T", "publication_year": 2020}),
        ),
    ];
    for (kind, body) in bodies {
        let collection = format!("/api/reviewer-profiles/{uuid}/{kind}/");
        let item = app
            .post(&owner, &collection, body.clone())
            .await
            .expect(201)
            .str("uuid");
        let path = format!("{collection}{item}/");

        app.post(
            &app.staff,
            &collection,
            if kind == "expertise" {
                json!({"expertise_keyword": "lasers"})
            } else {
                body.clone()
            },
        )
        .await
        .expect(201);

        app.get(&support, &collection).await.expect(200);
        app.get(&support, &path).await.expect(200);
        app.post(&support, &collection, body.clone())
            .await
            .expect(403);
        app.patch(&support, &path, json!({})).await.expect(403);
        app.put(&support, &path, body.clone()).await.expect(403);
        app.delete(&support, &path).await.expect(403);

        app.get(&outsider, &collection).await.expect(404);
        app.head(&outsider, &collection).await.expect(404);
        app.get(&outsider, &path).await.expect(404);
        app.post(&outsider, &collection, body.clone())
            .await
            .expect(404);
        app.patch(&outsider, &path, json!({})).await.expect(404);
        app.delete(&outsider, &path).await.expect(404);

        app.get(&TestUser::anonymous(), &collection)
            .await
            .expect(401);
        app.get(&TestUser::anonymous(), &path).await.expect(401);
        app.post(&TestUser::anonymous(), &collection, body.clone())
            .await
            .expect(401);
        app.delete(&TestUser::anonymous(), &path).await.expect(401);

        assert_eq!(
            app.get(&owner, &collection).await.expect(200).count(),
            2,
            "{kind}"
        );
        app.patch(&app.staff, &path, json!({})).await.expect(200);
        app.delete(&app.staff, &path).await.expect(204);
        assert_eq!(
            app.get(&owner, &collection).await.expect(200).count(),
            1,
            "{kind}"
        );
    }
}

async fn nested_lists_in_profile(app: TestApp) {
    let users = [app.user("ada").await, app.user("bob").await];
    for user in &users {
        let uuid = own_profile(&app, user).await;
        for keyword in ["optics", "lasers"] {
            app.post(
                user,
                &format!("/api/reviewer-profiles/{uuid}/expertise/"),
                json!({"expertise_keyword": format!("{keyword} {}", user.username)}),
            )
            .await
            .expect(201);
        }
        app.post(
            user,
            &format!("/api/reviewer-profiles/{uuid}/affiliations/"),
            json!({"organization_name": format!("{} Lab", user.username)}),
        )
        .await
        .expect(201);
    }

    let listed = app
        .get(&app.staff, "/api/reviewer-profiles/")
        .await
        .expect(200);
    for row in listed.array() {
        let owner = if row["user_uuid"] == json!(users[0].uuid) {
            "ada"
        } else {
            "bob"
        };
        let keywords: Vec<&str> = row["expertise_set"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["expertise_keyword"].as_str().unwrap())
            .collect();
        assert_eq!(
            keywords,
            vec![format!("optics {owner}"), format!("lasers {owner}")]
        );
        assert_eq!(
            row["affiliations"][0]["organization_name"],
            json!(format!("{owner} Lab"))
        );
        assert_eq!(row["publications"], json!([]));
    }

    let expertise_page = app
        .get(
            &app.staff,
            &format!(
                "/api/reviewer-profiles/{}/expertise/?page_size=1&page=2",
                listed.array()[0]["uuid"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    assert_eq!(expertise_page.count(), 2);
    assert_eq!(expertise_page.array().len(), 1);
}

async fn profile_fixture_publishes(app: TestApp) {
    let ada = app.user("ada").await;
    let profile = app.profile(&ada).await;
    assert_eq!(profile["is_published"], json!(true));
    assert_eq!(profile["user_uuid"], json!(ada.uuid));
}
