//! Operations that the resource suites exercise only with error replies. `cargo xtask
//! conformance` fails when an operation of the OpenAPI document has no 2xx reply in the suite,
//! so each test here gives one such operation its success case and the refusals beside it.

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::json;

on_both_backends!(user_retrieve_permissions, publication_count_and_replace,);

async fn user_retrieve_permissions(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let support = app.user_with("sam", json!({"is_support": true})).await;
    let path = format!("/api/users/{}/", alice.uuid);

    let own = app.get(&alice, &path).await.expect(200);
    assert_eq!(own.str("uuid"), alice.uuid);
    assert_eq!(own.str("username"), "alice");
    assert_eq!(own.str("url"), format!("{}{path}", app.base));

    let by_staff = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(by_staff.body, own.body);
    let by_support = app.get(&support, &path).await.expect(200);
    assert_eq!(by_support.body, own.body);

    let hidden = app.get(&bob, &path).await.expect(404);
    assert_eq!(hidden.body, json!({"detail": "Not found."}));
    app.get(&TestUser::anonymous(), &path).await.expect(401);
    app.get(&app.staff, "/api/users/0190a0b0c0d0e0f00000000000000000/")
        .await
        .expect(404);
}

async fn publication_count_and_replace(app: TestApp) {
    let ada = app.user("ada").await;
    let bob = app.user("bob").await;
    let support = app.user_with("sam", json!({"is_support": true})).await;
    let profile = app.profile(&ada).await;
    let collection = format!(
        "/api/reviewer-profiles/{}/publications/",
        profile["uuid"].as_str().expect("profile uuid")
    );

    assert_eq!(app.head(&ada, &collection).await.expect(200).count(), 0);
    let created = app
        .post(
            &ada,
            &collection,
            json!({"title": "Plasma edge transport", "publication_year": 2019,
                   "coauthors": [{"name": "Bob Example", "orcid": "0000-0002-1825-0097"}]}),
        )
        .await
        .expect(201);
    assert_eq!(app.head(&ada, &collection).await.expect(200).count(), 1);
    assert_eq!(app.head(&support, &collection).await.expect(200).count(), 1);
    assert_eq!(
        app.head(&ada, &format!("{collection}?page_size=1"))
            .await
            .expect(200)
            .count(),
        1
    );

    let path = format!("{collection}{}/", created.str("uuid"));
    let replaced = app
        .put(
            &ada,
            &path,
            json!({"title": "Edge transport revisited", "publication_year": 2020,
                   "venue": "Physics of Plasmas", "venue_type": "journal"}),
        )
        .await
        .expect(200);
    assert_eq!(replaced.str("uuid"), created.str("uuid"));
    assert_eq!(replaced.str("title"), "Edge transport revisited");
    assert_eq!(replaced.body["publication_year"], json!(2020));
    assert_eq!(replaced.str("venue_type"), "journal");
    assert_eq!(replaced.body["coauthors"], json!([]));

    let invalid = app
        .put(&ada, &path, json!({"publication_year": 2020}))
        .await
        .expect(400);
    assert!(invalid.body["title"].is_array());
    let takeover = json!({"title": "Taken over", "publication_year": 2020});
    app.put(&support, &path, takeover.clone()).await.expect(403);
    app.put(&bob, &path, takeover.clone()).await.expect(404);
    app.put(&TestUser::anonymous(), &path, takeover)
        .await
        .expect(401);

    let unchanged = app.get(&ada, &path).await.expect(200);
    assert_eq!(unchanged.body, replaced.body);
}
