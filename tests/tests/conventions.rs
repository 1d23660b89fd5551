//! Wire conventions shared by every endpoint: authentication, pagination headers, ordering,
//! UUID forms, error bodies for unknown routes and methods.

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::json;

on_both_backends!(
    authentication_failures,
    token_in_query_parameter,
    pagination_headers_and_pages,
    page_size_limits,
    ordering_by_several_fields,
    dashed_uuid_accepted,
    unknown_route_and_method,
    users_endpoint_rules,
    inactive_user_rejected,
);

async fn authentication_failures(app: TestApp) {
    let anonymous = app
        .get(&TestUser::anonymous(), "/api/users/")
        .await
        .expect(401);
    assert!(anonymous.str("detail").contains("not provided"));
    assert_eq!(anonymous.header("www-authenticate"), "Token");

    let wrong = TestUser {
        token: "0".repeat(40),
        ..TestUser::anonymous()
    };
    assert_eq!(
        app.get(&wrong, "/api/users/")
            .await
            .expect(401)
            .str("detail"),
        "Invalid token."
    );

    let spaced = app
        .client_request_with_header("/api/users/", "Token a b")
        .await
        .expect(401);
    assert!(spaced.str("detail").contains("spaces"));

    let lower = app
        .client_request_with_header("/api/users/", &format!("token {}", app.staff.token))
        .await;
    lower.expect(200);
}

async fn token_in_query_parameter(app: TestApp) {
    let reply = app
        .get(
            &TestUser::anonymous(),
            &format!("/api/users/me/?x-auth-token={}", app.staff.token),
        )
        .await
        .expect(200);
    assert_eq!(reply.str("username"), "staff");
}

async fn pagination_headers_and_pages(app: TestApp) {
    for index in 0..25 {
        app.customer(&format!("Org {index:02}")).await;
    }
    let first = app
        .get(&app.staff, "/api/customers/?o=name")
        .await
        .expect(200);
    assert_eq!(first.count(), 25);
    assert_eq!(first.array().len(), 10);
    let base = format!("{}/api/customers/", app.base);
    assert_eq!(
        first.header("link"),
        format!(
            "<{base}?o=name>; rel=\"first\", <{base}?o=name&page=2>; rel=\"next\", <{base}?o=name&page=3>; rel=\"last\""
        )
    );

    let last = app
        .get(&app.staff, "/api/customers/?o=name&page=last")
        .await
        .expect(200);
    assert_eq!(last.array().len(), 5);
    assert_eq!(last.array()[4]["name"], "Org 24");

    let second = app
        .get(&app.staff, "/api/customers/?page=2&o=name")
        .await
        .expect(200);
    assert_eq!(second.array()[0]["name"], "Org 10");
    assert!(
        second
            .header("link")
            .contains(&format!("<{base}?o=name>; rel=\"prev\""))
    );

    app.get(&app.staff, "/api/customers/?page=4")
        .await
        .expect(404);
    app.get(&app.staff, "/api/customers/?page=abc")
        .await
        .expect(404);
    app.get(&app.staff, "/api/customers/?page=0")
        .await
        .expect(404);

    let head = app
        .head(&app.staff, "/api/customers/?name=org%202")
        .await
        .expect(200);
    assert_eq!(head.count(), 5);
    assert!(head.body.is_null());
}

async fn page_size_limits(app: TestApp) {
    for index in 0..12 {
        app.customer(&format!("Org {index:02}")).await;
    }
    assert_eq!(
        app.get(&app.staff, "/api/customers/?page_size=5")
            .await
            .expect(200)
            .array()
            .len(),
        5
    );
    assert_eq!(
        app.get(&app.staff, "/api/customers/?page_size=1000")
            .await
            .expect(200)
            .array()
            .len(),
        12
    );
    assert_eq!(
        app.get(&app.staff, "/api/customers/?page_size=-3")
            .await
            .expect(200)
            .array()
            .len(),
        10
    );
    assert_eq!(
        app.get(&app.staff, "/api/customers/?page_size=x")
            .await
            .expect(200)
            .array()
            .len(),
        10
    );
}

async fn ordering_by_several_fields(app: TestApp) {
    app.post(
        &app.staff,
        "/api/customers/",
        json!({"name": "B", "abbreviation": "2"}),
    )
    .await
    .expect(201);
    app.post(
        &app.staff,
        "/api/customers/",
        json!({"name": "A", "abbreviation": "2"}),
    )
    .await
    .expect(201);
    app.post(
        &app.staff,
        "/api/customers/",
        json!({"name": "C", "abbreviation": "1"}),
    )
    .await
    .expect(201);

    let names = |reply: &referee_conformance::Reply| -> Vec<String> {
        reply
            .array()
            .iter()
            .map(|row| row["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let ordered = app
        .get(&app.staff, "/api/customers/?o=-abbreviation,name")
        .await
        .expect(200);
    assert_eq!(names(&ordered), ["A", "B", "C"]);
    let last_wins = app
        .get(&app.staff, "/api/customers/?o=name&o=-name")
        .await
        .expect(200);
    assert_eq!(names(&last_wins), ["C", "B", "A"]);
}

async fn dashed_uuid_accepted(app: TestApp) {
    let customer = app.customer("Org").await;
    let hex = customer["uuid"].as_str().unwrap();
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    let reply = app
        .get(&app.staff, &format!("/api/customers/{dashed}/"))
        .await
        .expect(200);
    assert_eq!(reply.str("uuid"), hex);
    app.get(&app.staff, "/api/customers/not-a-uuid/")
        .await
        .expect(404);
}

async fn unknown_route_and_method(app: TestApp) {
    let missing = app.get(&app.staff, "/api/nothing-here/").await.expect(404);
    assert_eq!(missing.body, json!({"detail": "Not found."}));
    let method = app
        .post(&app.staff, "/api/users/me/", json!({}))
        .await
        .expect(405);
    assert_eq!(
        method.body,
        json!({"detail": "Method \"POST\" not allowed."})
    );
}

async fn users_endpoint_rules(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let own = app.get(&alice, "/api/users/").await.expect(200);
    assert_eq!(own.count(), 1);
    app.get(&alice, &format!("/api/users/{}/", bob.uuid))
        .await
        .expect(404);
    app.post(&alice, "/api/users/", json!({"username": "eve"}))
        .await
        .expect(403);
    app.patch(
        &alice,
        &format!("/api/users/{}/", alice.uuid),
        json!({"full_name": "Alice A"}),
    )
    .await
    .expect(200);
    app.patch(
        &alice,
        &format!("/api/users/{}/", alice.uuid),
        json!({"is_staff": true}),
    )
    .await
    .expect(403);

    let taken = app
        .post(&app.staff, "/api/users/", json!({"username": "alice"}))
        .await
        .expect(400);
    assert!(
        taken.body["username"][0]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    let invalid = app
        .post(&app.staff, "/api/users/", json!({"username": "a b"}))
        .await
        .expect(400);
    assert!(
        invalid.body["username"][0]
            .as_str()
            .unwrap()
            .contains("\"a b\"")
    );

    let token = app
        .post(
            &alice,
            &format!("/api/users/{}/token/", alice.uuid),
            json!({}),
        )
        .await
        .expect(201);
    assert_eq!(token.str("token").len(), 40);
    app.get(&alice, "/api/users/me/").await.expect(401);
    let alice = TestUser {
        token: token.str("token"),
        ..alice
    };
    app.get(&alice, "/api/users/me/").await.expect(200);
    app.post(
        &alice,
        &format!("/api/users/{}/token/", bob.uuid),
        json!({}),
    )
    .await
    .expect(404);
    assert_eq!(
        app.head(&app.staff, "/api/users/")
            .await
            .expect(200)
            .count(),
        3
    );
}

async fn inactive_user_rejected(app: TestApp) {
    let alice = app.user("alice").await;
    app.patch(
        &app.staff,
        &format!("/api/users/{}/", alice.uuid),
        json!({"is_active": false}),
    )
    .await
    .expect(200);
    let reply = app.get(&alice, "/api/users/me/").await.expect(401);
    assert_eq!(reply.str("detail"), "User inactive or deleted.");
}
