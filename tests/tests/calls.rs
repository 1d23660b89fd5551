//! `/api/proposal-protected-calls/`: calls, their rounds and their role grants.

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    call_crud_as_staff,
    call_response_keys,
    call_list_filters,
    call_list_ordering_and_pages,
    call_visibility_matrix,
    call_create_permissions,
    call_update_permissions,
    call_move_needs_both_organisations,
    call_validation_errors,
    call_slug_uniqueness,
    call_delete_permissions,
    call_delete_with_proposals_conflicts,
    call_methods_not_allowed,
    round_crud,
    round_validation_errors,
    round_permissions,
    round_of_other_call_not_found,
    round_delete_with_proposals_conflicts,
    call_roles_grant_and_revoke,
    call_roles_permissions,
);

const CALLS: &str = "/api/proposal-protected-calls/";
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

fn call_path(uuid: &str) -> String {
    format!("{CALLS}{uuid}/")
}

fn rounds_path(call_uuid: &str) -> String {
    format!("{CALLS}{call_uuid}/rounds/")
}

fn round_path(call_uuid: &str, round_uuid: &str) -> String {
    format!("{CALLS}{call_uuid}/rounds/{round_uuid}/")
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
        .to_owned()
}

/// One user per place in the permission matrix, around one organisation and one of its calls.
struct Cast {
    customer_uuid: String,
    call_uuid: String,
    support: TestUser,
    call_manager: TestUser,
    owner: TestUser,
    organisation_manager: TestUser,
    member: TestUser,
    outsider: TestUser,
}

async fn cast(app: &TestApp) -> Cast {
    let customer = app.customer("Observatory").await;
    let customer_uuid = text(&customer["uuid"]);
    let call = app.call(&customer_uuid, "Telescope Time").await;
    let call_uuid = text(&call["uuid"]);

    let support = app.user_with("support", json!({"is_support": true})).await;
    let call_manager = app.user("call-manager").await;
    app.grant_call_role(&call_uuid, &call_manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let organisation_manager = app.user("org-manager").await;
    app.grant_customer_role(&customer_uuid, &organisation_manager, "CUSTOMER.MANAGER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let outsider = app.user("outsider").await;

    Cast {
        customer_uuid,
        call_uuid,
        support,
        call_manager,
        owner,
        organisation_manager,
        member,
        outsider,
    }
}

async fn call_crud_as_staff(app: TestApp) {
    let customer = app.customer("Space Agency").await;
    let customer_uuid = text(&customer["uuid"]);

    let created = app
        .post(
            &app.staff,
            CALLS,
            json!({"name": "Deep Field 2027", "customer": customer_uuid, "description": "Survey time"}),
        )
        .await
        .expect(201);
    let uuid = created.str("uuid");
    assert_eq!(uuid.len(), 32);
    assert_eq!(created.str("state"), "draft");
    assert_eq!(created.str("slug"), "DEEP-FIELD-2027");
    assert_eq!(
        created.body["reviewer_identity_visible_to_submitters"],
        json!(false)
    );
    assert_eq!(created.body["reviews_visible_to_submitters"], json!(true));
    assert_eq!(created.body["rounds"], json!([]));

    let fetched = app.get(&app.staff, &call_path(&uuid)).await.expect(200);
    assert_eq!(fetched.body, created.body);

    let patched = app
        .patch(
            &app.staff,
            &call_path(&uuid),
            json!({"state": "active", "reviews_visible_to_submitters": false}),
        )
        .await
        .expect(200);
    assert_eq!(patched.str("state"), "active");
    assert_eq!(patched.body["reviews_visible_to_submitters"], json!(false));
    assert_eq!(patched.str("description"), "Survey time");

    let put = app
        .put(
            &app.staff,
            &call_path(&uuid),
            json!({"name": "Deep Field", "customer": customer_uuid}),
        )
        .await
        .expect(200);
    assert_eq!(put.str("name"), "Deep Field");
    assert_eq!(put.str("slug"), "DEEP-FIELD-2027");
    assert_eq!(put.str("state"), "active");
    assert_eq!(put.str("description"), "Survey time");

    app.delete(&app.staff, &call_path(&uuid)).await.expect(204);
    app.get(&app.staff, &call_path(&uuid)).await.expect(404);
    assert_eq!(app.get(&app.staff, CALLS).await.expect(200).count(), 0);
}

async fn call_response_keys(app: TestApp) {
    let customer = app.customer("Space Agency").await;
    let customer_uuid = text(&customer["uuid"]);
    let call = app.call(&customer_uuid, "Deep Field").await;
    let call_uuid = text(&call["uuid"]);
    let round = app.round(&call_uuid).await;
    let round_uuid = text(&round["uuid"]);

    let fetched = app
        .get(&app.staff, &call_path(&call_uuid))
        .await
        .expect(200);
    let mut keys: Vec<&str> = fetched
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created",
            "customer",
            "customer_name",
            "customer_uuid",
            "description",
            "name",
            "reviewer_identity_visible_to_submitters",
            "reviews_visible_to_submitters",
            "rounds",
            "slug",
            "state",
            "url",
            "uuid",
        ]
    );
    assert_eq!(
        fetched.str("url"),
        format!("{}{}", app.base, call_path(&call_uuid))
    );
    assert_eq!(
        fetched.str("customer"),
        format!("{}/api/customers/{customer_uuid}/", app.base)
    );
    assert_eq!(fetched.str("customer_uuid"), customer_uuid);
    assert_eq!(fetched.str("customer_name"), "Space Agency");
    assert!(fetched.str("created").ends_with("+00:00"));

    let rounds = fetched.body["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 1);
    assert_eq!(rounds[0], round);
    let mut round_keys: Vec<&str> = round
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    round_keys.sort_unstable();
    assert_eq!(
        round_keys,
        [
            "cutoff_time",
            "name",
            "review_duration_in_days",
            "slug",
            "start_time",
            "url",
            "uuid"
        ]
    );
    assert_eq!(
        text(&round["url"]),
        format!("{}{}", app.base, round_path(&call_uuid, &round_uuid))
    );
    assert_eq!(round["review_duration_in_days"], json!(14));
    assert!(text(&round["name"]).starts_with("Round "));
}

async fn call_list_filters(app: TestApp) {
    let first = app.customer("First").await;
    let first_uuid = text(&first["uuid"]);
    let second = app.customer("Second").await;
    let second_uuid = text(&second["uuid"]);

    app.call(&first_uuid, "Radio Astronomy").await;
    let draft = app
        .post(
            &app.staff,
            CALLS,
            json!({"name": "Optical Nights", "customer": first_uuid}),
        )
        .await
        .expect(201);
    let archived = app
        .post(
            &app.staff,
            CALLS,
            json!({"name": "Old Radio", "customer": second_uuid, "state": "archived"}),
        )
        .await
        .expect(201);

    let by_customer = app
        .get(&app.staff, &format!("{CALLS}?customer_uuid={first_uuid}"))
        .await
        .expect(200);
    assert_eq!(by_customer.count(), 2);

    let drafts = app
        .get(&app.staff, &format!("{CALLS}?state=draft"))
        .await
        .expect(200);
    assert_eq!(drafts.count(), 1);
    assert_eq!(drafts.array()[0]["uuid"], draft.body["uuid"]);

    let several = app
        .get(&app.staff, &format!("{CALLS}?state=draft&state=archived"))
        .await
        .expect(200);
    assert_eq!(several.count(), 2);

    let named = app
        .get(&app.staff, &format!("{CALLS}?name=RADIO"))
        .await
        .expect(200);
    assert_eq!(named.count(), 2);
    let combined = app
        .get(
            &app.staff,
            &format!("{CALLS}?name=radio&customer_uuid={second_uuid}"),
        )
        .await
        .expect(200);
    assert_eq!(combined.count(), 1);
    assert_eq!(combined.array()[0]["uuid"], archived.body["uuid"]);

    let percent = app
        .get(&app.staff, &format!("{CALLS}?name=%25"))
        .await
        .expect(200);
    assert_eq!(percent.count(), 0);

    let counted = app
        .head(&app.staff, &format!("{CALLS}?state=active&state=archived"))
        .await
        .expect(200);
    assert_eq!(counted.count(), 2);
    assert_eq!(counted.body, Value::Null);

    let bad_state = app
        .get(&app.staff, &format!("{CALLS}?state=open"))
        .await
        .expect(400);
    assert!(text(&bad_state.body["state"][0]).contains("open"));
    let bad_customer = app
        .get(&app.staff, &format!("{CALLS}?customer_uuid=nope"))
        .await
        .expect(400);
    assert!(text(&bad_customer.body["customer_uuid"][0]).contains("\"nope\""));
    let bad_order = app
        .get(&app.staff, &format!("{CALLS}?o=budget"))
        .await
        .expect(400);
    assert!(text(&bad_order.body["o"][0]).contains("budget"));
    app.head(&app.staff, &format!("{CALLS}?state=open"))
        .await
        .expect(400);
}

async fn call_list_ordering_and_pages(app: TestApp) {
    let customer = app.customer("Org").await;
    let customer_uuid = text(&customer["uuid"]);
    for name in ["Bravo", "alpha", "Charlie"] {
        app.call(&customer_uuid, name).await;
    }
    app.post(
        &app.staff,
        CALLS,
        json!({"name": "Delta", "customer": customer_uuid}),
    )
    .await
    .expect(201);

    let names = |reply: &referee_conformance::Reply| -> Vec<String> {
        reply
            .array()
            .iter()
            .map(|call| text(&call["name"]))
            .collect()
    };

    let newest_first = app.get(&app.staff, CALLS).await.expect(200);
    assert_eq!(names(&newest_first), ["Delta", "Charlie", "alpha", "Bravo"]);

    let by_name = app
        .get(&app.staff, &format!("{CALLS}?o=-name"))
        .await
        .expect(200);
    assert_eq!(names(&by_name), ["alpha", "Delta", "Charlie", "Bravo"]);

    let by_state = app
        .get(&app.staff, &format!("{CALLS}?o=-state,name"))
        .await
        .expect(200);
    assert_eq!(names(&by_state), ["Delta", "Bravo", "Charlie", "alpha"]);

    let oldest_first = app
        .get(&app.staff, &format!("{CALLS}?o=created"))
        .await
        .expect(200);
    assert_eq!(names(&oldest_first), ["Bravo", "alpha", "Charlie", "Delta"]);

    let second_page = app
        .get(&app.staff, &format!("{CALLS}?o=created&page_size=3&page=2"))
        .await
        .expect(200);
    assert_eq!(second_page.count(), 4);
    assert_eq!(names(&second_page), ["Delta"]);
    assert!(second_page.header("link").contains("rel=\"prev\""));
    app.get(&app.staff, &format!("{CALLS}?page_size=3&page=3"))
        .await
        .expect(404);
}

async fn call_visibility_matrix(app: TestApp) {
    let cast = cast(&app).await;
    let other_customer = app.customer("Elsewhere").await;
    let other_call = app
        .call(&text(&other_customer["uuid"]), "Hidden Call")
        .await;
    let other_uuid = text(&other_call["uuid"]);
    let path = call_path(&cast.call_uuid);

    for (who, user, count) in [
        ("staff", &app.staff, 2),
        ("support", &cast.support, 2),
        ("call manager", &cast.call_manager, 1),
        ("owner", &cast.owner, 1),
        ("organisation manager", &cast.organisation_manager, 1),
        ("member", &cast.member, 1),
        ("outsider", &cast.outsider, 0),
    ] {
        let listed = app.get(user, CALLS).await.expect(200);
        assert_eq!(listed.count(), count, "{who} list count");
        assert_eq!(
            app.head(user, CALLS).await.expect(200).count(),
            count,
            "{who} HEAD count"
        );
        if count > 0 {
            app.get(user, &path).await.expect(200);
        } else {
            app.get(user, &path).await.expect(404);
        }
    }
    for user in [
        &cast.call_manager,
        &cast.owner,
        &cast.organisation_manager,
        &cast.member,
        &cast.outsider,
    ] {
        app.get(user, &call_path(&other_uuid)).await.expect(404);
    }
    app.get(&cast.support, &call_path(&other_uuid))
        .await
        .expect(200);

    app.get(&TestUser::anonymous(), CALLS).await.expect(401);
    app.head(&TestUser::anonymous(), CALLS).await.expect(401);
    app.get(&TestUser::anonymous(), &path).await.expect(401);
    app.get(&app.staff, &call_path("0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69"))
        .await
        .expect(404);
    app.get(&app.staff, &call_path("not-a-uuid"))
        .await
        .expect(404);
}

async fn call_create_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let body = |name: &str| json!({"name": name, "customer": cast.customer_uuid});

    for (who, user) in [
        ("support", &cast.support),
        ("call manager", &cast.call_manager),
        ("member", &cast.member),
        ("outsider", &cast.outsider),
    ] {
        let refused = app.post(user, CALLS, body("Refused")).await.expect(403);
        assert!(
            text(&refused.body["detail"]).contains(&cast.customer_uuid),
            "{who}: {}",
            refused.body
        );
    }
    app.post(&TestUser::anonymous(), CALLS, body("Refused"))
        .await
        .expect(401);
    assert_eq!(
        app.get(&app.staff, &format!("{CALLS}?name=Refused"))
            .await
            .expect(200)
            .count(),
        0
    );

    let by_owner = app
        .post(&cast.owner, CALLS, body("By Owner"))
        .await
        .expect(201);
    assert_eq!(by_owner.str("customer_uuid"), cast.customer_uuid);
    app.post(&cast.organisation_manager, CALLS, body("By Manager"))
        .await
        .expect(201);
    app.post(&app.staff, CALLS, body("By Staff"))
        .await
        .expect(201);
    assert_eq!(app.get(&app.staff, CALLS).await.expect(200).count(), 4);
}

async fn call_update_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast.call_uuid);

    for (who, user, status) in [
        ("support", &cast.support, 403),
        ("member", &cast.member, 403),
        ("outsider", &cast.outsider, 404),
        ("anonymous", &TestUser::anonymous(), 401),
    ] {
        app.patch(user, &path, json!({"name": "Hijacked"}))
            .await
            .expect(status);
        app.put(
            user,
            &path,
            json!({"name": "Hijacked", "customer": cast.customer_uuid}),
        )
        .await
        .expect(status);
        let unchanged = app.get(&app.staff, &path).await.expect(200);
        assert_eq!(
            unchanged.str("name"),
            "Telescope Time",
            "after a refused write by {who}"
        );
    }

    for (name, user) in [
        ("By Staff", &app.staff),
        ("By Call Manager", &cast.call_manager),
        ("By Owner", &cast.owner),
        ("By Organisation Manager", &cast.organisation_manager),
    ] {
        let patched = app
            .patch(user, &path, json!({"name": name}))
            .await
            .expect(200);
        assert_eq!(patched.str("name"), name);
        let put = app
            .put(
                user,
                &path,
                json!({"name": format!("{name} again"), "customer": cast.customer_uuid}),
            )
            .await
            .expect(200);
        assert_eq!(put.str("name"), format!("{name} again"));
    }
}

async fn call_move_needs_both_organisations(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast.call_uuid);
    let target = app.customer("Target").await;
    let target_uuid = text(&target["uuid"]);

    let refused = app
        .patch(&cast.owner, &path, json!({"customer": target_uuid}))
        .await
        .expect(403);
    assert!(text(&refused.body["detail"]).contains(&target_uuid));
    assert_eq!(
        app.get(&app.staff, &path)
            .await
            .expect(200)
            .str("customer_uuid"),
        cast.customer_uuid
    );

    let missing = app
        .patch(
            &cast.owner,
            &path,
            json!({"customer": "0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69"}),
        )
        .await
        .expect(400);
    assert!(text(&missing.body["customer"][0]).contains("0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69"));

    app.grant_customer_role(&target_uuid, &cast.owner, "CUSTOMER.MANAGER")
        .await;
    let moved = app
        .patch(
            &cast.owner,
            &path,
            json!({"customer": format!("{}/api/customers/{target_uuid}/", app.base)}),
        )
        .await
        .expect(200);
    assert_eq!(moved.str("customer_uuid"), target_uuid);
    assert_eq!(moved.str("customer_name"), "Target");
    app.get(&cast.member, &path).await.expect(404);
}

async fn call_validation_errors(app: TestApp) {
    let customer = app.customer("Org").await;
    let customer_uuid = text(&customer["uuid"]);

    let missing = app
        .post(&app.staff, CALLS, json!({"customer": customer_uuid}))
        .await
        .expect(400);
    assert_eq!(missing.body, json!({"name": ["This field is required."]}));

    let no_customer = app
        .post(&app.staff, CALLS, json!({"name": "Call"}))
        .await
        .expect(400);
    assert_eq!(
        no_customer.body,
        json!({"customer": ["This field is required."]})
    );

    let blank = app
        .post(
            &app.staff,
            CALLS,
            json!({"name": "   ", "customer": customer_uuid}),
        )
        .await
        .expect(400);
    assert!(text(&blank.body["name"][0]).contains("blank"));

    let bad_reference = app
        .post(
            &app.staff,
            CALLS,
            json!({"name": "Call", "customer": "nope"}),
        )
        .await
        .expect(400);
    assert!(text(&bad_reference.body["customer"][0]).contains("\"nope\""));

    let unknown = app
        .post(
            &app.staff,
            CALLS,
            json!({"name": "Call", "customer": "0b5c9f7e-2d4a-4c4e-9a3f-1e2d3c4b5a69"}),
        )
        .await
        .expect(400);
    assert!(text(&unknown.body["customer"][0]).contains("0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69"));

    let bad_state = app
        .post(
            &app.staff,
            CALLS,
            json!({"name": "Call", "customer": customer_uuid, "state": "open"}),
        )
        .await
        .expect(400);
    assert!(text(&bad_state.body["state"][0]).contains("\"open\""));
    assert!(text(&bad_state.body["state"][0]).contains("draft, active, archived"));

    let wrong_type = app
        .post(&app.staff, CALLS, json!({"name": "Call", "customer": customer_uuid, "reviews_visible_to_submitters": "yes"}))
        .await
        .expect(400);
    assert!(wrong_type.body["reviews_visible_to_submitters"].is_array());

    assert_eq!(app.get(&app.staff, CALLS).await.expect(200).count(), 0);

    let call = app.call(&customer_uuid, "Kept").await;
    let path = call_path(&text(&call["uuid"]));
    app.patch(&app.staff, &path, json!({"name": ""}))
        .await
        .expect(400);
    app.patch(&app.staff, &path, json!({"state": "closed"}))
        .await
        .expect(400);
    app.put(&app.staff, &path, json!({"name": "No Customer"}))
        .await
        .expect(400);
    let unchanged = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(unchanged.body, call);
}

async fn call_slug_uniqueness(app: TestApp) {
    let customer = app.customer("Org").await;
    let customer_uuid = text(&customer["uuid"]);

    let first = app.call(&customer_uuid, "Space telescope time, 2027").await;
    let second = app.call(&customer_uuid, "Space Telescope Time 2027").await;
    let third = app.call(&customer_uuid, "space-telescope-time-2027").await;
    assert_eq!(text(&first["slug"]), "SPACE-TELESCOPE-TIME-2027");
    assert_eq!(text(&second["slug"]), "SPACE-TELESCOPE-TIME-2027-2");
    assert_eq!(text(&third["slug"]), "SPACE-TELESCOPE-TIME-2027-3");

    let punctuation = app.call(&customer_uuid, "!!!").await;
    assert_eq!(text(&punctuation["slug"]), "CALL");

    let second_path = call_path(&text(&second["uuid"]));
    app.delete(&app.staff, &second_path).await.expect(204);
    let reused = app.call(&customer_uuid, "Space Telescope Time 2027").await;
    assert_eq!(text(&reused["slug"]), "SPACE-TELESCOPE-TIME-2027-2");

    let renamed = app
        .patch(
            &app.staff,
            &call_path(&text(&first["uuid"])),
            json!({"name": "Other"}),
        )
        .await
        .expect(200);
    assert_eq!(renamed.str("slug"), "SPACE-TELESCOPE-TIME-2027");
}

async fn call_delete_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let path = call_path(&cast.call_uuid);

    for (user, status) in [
        (&cast.support, 403),
        (&cast.member, 403),
        (&cast.outsider, 404),
        (&TestUser::anonymous(), 401),
    ] {
        app.delete(user, &path).await.expect(status);
        app.get(&app.staff, &path).await.expect(200);
    }
    app.delete(&cast.call_manager, &path).await.expect(204);
    app.get(&app.staff, &path).await.expect(404);
    app.delete(&app.staff, &path).await.expect(404);

    for user in [&cast.owner, &cast.organisation_manager] {
        let call = app.call(&cast.customer_uuid, "Disposable").await;
        app.delete(user, &call_path(&text(&call["uuid"])))
            .await
            .expect(204);
    }
    app.delete(&app.staff, &call_path("not-a-uuid"))
        .await
        .expect(404);
}

async fn call_delete_with_proposals_conflicts(app: TestApp) {
    let customer = app.customer("Org").await;
    let call = app.call(&text(&customer["uuid"]), "Busy Call").await;
    let call_uuid = text(&call["uuid"]);
    let round = app.round(&call_uuid).await;
    app.proposal(&text(&round["uuid"]), "Proposal").await;

    let refused = app
        .delete(&app.staff, &call_path(&call_uuid))
        .await
        .expect(409);
    assert!(text(&refused.body["detail"]).contains("1 proposal"));
    assert!(text(&refused.body["detail"]).contains("BUSY-CALL"));
    let kept = app
        .get(&app.staff, &call_path(&call_uuid))
        .await
        .expect(200);
    assert_eq!(kept.body["rounds"].as_array().unwrap().len(), 1);
}

async fn call_methods_not_allowed(app: TestApp) {
    let customer = app.customer("Org").await;
    let call = app.call(&text(&customer["uuid"]), "Call").await;
    let call_uuid = text(&call["uuid"]);

    app.put(&app.staff, CALLS, json!({})).await.expect(405);
    app.delete(&app.staff, CALLS).await.expect(405);
    app.post(&app.staff, &call_path(&call_uuid), json!({}))
        .await
        .expect(405);
    app.delete(&app.staff, &rounds_path(&call_uuid))
        .await
        .expect(405);
    app.get(&app.staff, &format!("{CALLS}{call_uuid}/add_user/"))
        .await
        .expect(405);
}

async fn round_crud(app: TestApp) {
    let customer = app.customer("Org").await;
    let call = app.call(&text(&customer["uuid"]), "Deep Field").await;
    let call_uuid = text(&call["uuid"]);

    let later = app
        .post(
            &app.staff,
            &rounds_path(&call_uuid),
            json!({
                "start_time": "2031-03-01T00:00:00Z",
                "cutoff_time": "2031-04-15T12:30:00+02:00",
            }),
        )
        .await
        .expect(201);
    assert_eq!(later.str("slug"), "DEEP-FIELD-R1");
    assert_eq!(later.str("name"), "Round 01.03.2031-15.04.2031");
    assert_eq!(later.str("start_time"), "2031-03-01T00:00:00+00:00");
    assert_eq!(later.str("cutoff_time"), "2031-04-15T10:30:00+00:00");
    assert_eq!(later.body["review_duration_in_days"], Value::Null);

    let earlier = app.round(&call_uuid).await;
    assert_eq!(text(&earlier["slug"]), "DEEP-FIELD-R2");

    let listed = app
        .get(&app.staff, &rounds_path(&call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.count(), 2);
    assert_eq!(listed.array()[0], earlier);
    assert_eq!(listed.array()[1], later.body);
    let paged = app
        .get(
            &app.staff,
            &format!("{}?page_size=1&page=2", rounds_path(&call_uuid)),
        )
        .await
        .expect(200);
    assert_eq!(paged.array().len(), 1);
    assert_eq!(paged.array()[0], later.body);

    let fetched_call = app
        .get(&app.staff, &call_path(&call_uuid))
        .await
        .expect(200);
    assert_eq!(fetched_call.body["rounds"], json!([earlier, later.body]));

    let later_path = round_path(&call_uuid, &later.str("uuid"));
    assert_eq!(
        app.get(&app.staff, &later_path).await.expect(200).body,
        later.body
    );

    let patched = app
        .patch(
            &app.staff,
            &later_path,
            json!({"review_duration_in_days": 30}),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["review_duration_in_days"], json!(30));
    assert_eq!(patched.str("cutoff_time"), "2031-04-15T10:30:00+00:00");
    let cleared = app
        .patch(
            &app.staff,
            &later_path,
            json!({"review_duration_in_days": null}),
        )
        .await
        .expect(200);
    assert_eq!(cleared.body["review_duration_in_days"], Value::Null);

    let put = app
        .put(
            &app.staff,
            &later_path,
            json!({"start_time": "2031-05-01T00:00:00Z", "cutoff_time": "2031-06-01T00:00:00Z", "review_duration_in_days": 7}),
        )
        .await
        .expect(200);
    assert_eq!(put.str("name"), "Round 01.05.2031-01.06.2031");
    assert_eq!(put.str("slug"), "DEEP-FIELD-R1");
    assert_eq!(put.body["review_duration_in_days"], json!(7));

    app.delete(&app.staff, &later_path).await.expect(204);
    app.get(&app.staff, &later_path).await.expect(404);
    assert_eq!(
        app.get(&app.staff, &rounds_path(&call_uuid))
            .await
            .expect(200)
            .count(),
        1
    );

    let third = app.round(&call_uuid).await;
    assert_eq!(text(&third["slug"]), "DEEP-FIELD-R3");
}

async fn round_validation_errors(app: TestApp) {
    let customer = app.customer("Org").await;
    let call = app.call(&text(&customer["uuid"]), "Call").await;
    let call_uuid = text(&call["uuid"]);
    let path = rounds_path(&call_uuid);
    let start = TestApp::time_from_now(DAY);
    let before_start = TestApp::time_from_now(-HOUR);

    let reversed = app
        .post(
            &app.staff,
            &path,
            json!({"start_time": start, "cutoff_time": before_start}),
        )
        .await
        .expect(400);
    let message = text(&reversed.body["cutoff_time"][0]);
    assert!(message.contains(&before_start[..19]), "{message}");
    assert!(message.contains(&start[..19]), "{message}");

    app.post(
        &app.staff,
        &path,
        json!({"start_time": start, "cutoff_time": start}),
    )
    .await
    .expect(400);

    let missing = app
        .post(&app.staff, &path, json!({"start_time": start}))
        .await
        .expect(400);
    assert_eq!(
        missing.body,
        json!({"cutoff_time": ["This field is required."]})
    );

    let bad_time = app
        .post(
            &app.staff,
            &path,
            json!({"start_time": "tomorrow", "cutoff_time": start}),
        )
        .await
        .expect(400);
    assert!(text(&bad_time.body["start_time"][0]).contains("\"tomorrow\""));

    let cutoff = TestApp::time_from_now(30 * DAY);
    for days in [0, 366, -1] {
        let refused = app
            .post(&app.staff, &path, json!({"start_time": start, "cutoff_time": cutoff, "review_duration_in_days": days}))
            .await
            .expect(400);
        assert!(text(&refused.body["review_duration_in_days"][0]).contains(&days.to_string()));
    }
    let not_integer = app
        .post(
            &app.staff,
            &path,
            json!({"start_time": start, "cutoff_time": cutoff, "review_duration_in_days": "ten"}),
        )
        .await
        .expect(400);
    assert!(not_integer.body["review_duration_in_days"].is_array());

    assert_eq!(app.get(&app.staff, &path).await.expect(200).count(), 0);

    let round = app.round(&call_uuid).await;
    let detail = round_path(&call_uuid, &text(&round["uuid"]));
    let early = TestApp::time_from_now(-2 * HOUR);
    let moved_before = app
        .patch(&app.staff, &detail, json!({"cutoff_time": early}))
        .await
        .expect(400);
    assert!(text(&moved_before.body["cutoff_time"][0]).contains(&early[..19]));
    app.patch(&app.staff, &detail, json!({"review_duration_in_days": 400}))
        .await
        .expect(400);
    app.put(&app.staff, &detail, json!({"start_time": start}))
        .await
        .expect(400);
    assert_eq!(app.get(&app.staff, &detail).await.expect(200).body, round);
}

async fn round_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let list = rounds_path(&cast.call_uuid);
    let round = app.round(&cast.call_uuid).await;
    let detail = round_path(&cast.call_uuid, &text(&round["uuid"]));
    let body = json!({
        "start_time": TestApp::time_from_now(DAY),
        "cutoff_time": TestApp::time_from_now(40 * DAY),
    });

    for user in [
        &cast.support,
        &cast.call_manager,
        &cast.owner,
        &cast.organisation_manager,
        &cast.member,
    ] {
        assert_eq!(app.get(user, &list).await.expect(200).count(), 1);
        app.get(user, &detail).await.expect(200);
    }
    app.get(&cast.outsider, &list).await.expect(404);
    app.get(&cast.outsider, &detail).await.expect(404);
    app.get(&TestUser::anonymous(), &list).await.expect(401);
    app.get(&TestUser::anonymous(), &detail).await.expect(401);

    for (user, status) in [
        (&cast.support, 403),
        (&cast.member, 403),
        (&cast.outsider, 404),
        (&TestUser::anonymous(), 401),
    ] {
        app.post(user, &list, body.clone()).await.expect(status);
        app.patch(user, &detail, json!({"review_duration_in_days": 2}))
            .await
            .expect(status);
        app.put(user, &detail, body.clone()).await.expect(status);
        app.delete(user, &detail).await.expect(status);
    }
    assert_eq!(app.get(&app.staff, &list).await.expect(200).count(), 1);
    assert_eq!(app.get(&app.staff, &detail).await.expect(200).body, round);

    for user in [
        &app.staff,
        &cast.call_manager,
        &cast.owner,
        &cast.organisation_manager,
    ] {
        let created = app.post(user, &list, body.clone()).await.expect(201);
        let created_path = round_path(&cast.call_uuid, &created.str("uuid"));
        app.patch(user, &created_path, json!({"review_duration_in_days": 3}))
            .await
            .expect(200);
        app.put(user, &created_path, body.clone()).await.expect(200);
        app.delete(user, &created_path).await.expect(204);
    }
    assert_eq!(app.get(&app.staff, &list).await.expect(200).count(), 1);
}

async fn round_of_other_call_not_found(app: TestApp) {
    let customer = app.customer("Org").await;
    let customer_uuid = text(&customer["uuid"]);
    let first = app.call(&customer_uuid, "First").await;
    let second = app.call(&customer_uuid, "Second").await;
    let round = app.round(&text(&first["uuid"])).await;
    let wrong = round_path(&text(&second["uuid"]), &text(&round["uuid"]));

    app.get(&app.staff, &wrong).await.expect(404);
    app.patch(&app.staff, &wrong, json!({"review_duration_in_days": 2}))
        .await
        .expect(404);
    app.delete(&app.staff, &wrong).await.expect(404);
    app.get(&app.staff, &round_path(&text(&first["uuid"]), "not-a-uuid"))
        .await
        .expect(404);
    app.get(&app.staff, &rounds_path("0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69"))
        .await
        .expect(404);
    app.get(
        &app.staff,
        &round_path(&text(&first["uuid"]), &text(&round["uuid"])),
    )
    .await
    .expect(200);
}

async fn round_delete_with_proposals_conflicts(app: TestApp) {
    let customer = app.customer("Org").await;
    let call = app.call(&text(&customer["uuid"]), "Busy Call").await;
    let call_uuid = text(&call["uuid"]);
    let round = app.round(&call_uuid).await;
    let round_uuid = text(&round["uuid"]);
    app.proposal(&round_uuid, "First").await;
    app.proposal(&round_uuid, "Second").await;

    let refused = app
        .delete(&app.staff, &round_path(&call_uuid, &round_uuid))
        .await
        .expect(409);
    assert!(text(&refused.body["detail"]).contains("2 proposal"));
    assert!(text(&refused.body["detail"]).contains("BUSY-CALL-R1"));
    app.get(&app.staff, &round_path(&call_uuid, &round_uuid))
        .await
        .expect(200);
}

async fn call_roles_grant_and_revoke(app: TestApp) {
    let customer = app.customer("Org").await;
    let call = app.call(&text(&customer["uuid"]), "Call").await;
    let call_uuid = text(&call["uuid"]);
    let user = app.user("reviewer-lead").await;
    let add = format!("{CALLS}{call_uuid}/add_user/");
    let remove = format!("{CALLS}{call_uuid}/delete_user/");
    let list = format!("{CALLS}{call_uuid}/list_users/");

    app.get(&user, &call_path(&call_uuid)).await.expect(404);
    let granted = app
        .post(&app.staff, &add, json!({"user": format!("{}/api/users/{}/", app.base, user.uuid), "role": "CALL.MANAGER"}))
        .await
        .expect(201);
    assert_eq!(granted.str("role"), "CALL.MANAGER");
    assert_eq!(granted.str("user_uuid"), user.uuid);
    assert_eq!(granted.str("user_username"), "reviewer-lead");
    assert_eq!(granted.body["expiration_time"], Value::Null);

    app.get(&user, &call_path(&call_uuid)).await.expect(200);
    let listed = app.get(&user, &list).await.expect(200);
    assert_eq!(listed.array().len(), 1);
    assert_eq!(listed.array()[0], granted.body);

    let again = app
        .post(
            &app.staff,
            &add,
            json!({"user": user.uuid, "role": "CALL.MANAGER"}),
        )
        .await
        .expect(201);
    assert_eq!(again.body, granted.body);
    assert_eq!(
        app.get(&app.staff, &list).await.expect(200).array().len(),
        1
    );

    let bad_role = app
        .post(
            &app.staff,
            &add,
            json!({"user": user.uuid, "role": "CALL.BOSS"}),
        )
        .await
        .expect(400);
    assert!(text(&bad_role.body["role"][0]).contains("CALL.BOSS"));
    let unknown_user = app
        .post(
            &app.staff,
            &add,
            json!({"user": "0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69", "role": "CALL.MANAGER"}),
        )
        .await
        .expect(400);
    assert!(text(&unknown_user.body["user"][0]).contains("0b5c9f7e2d4a4c4e9a3f1e2d3c4b5a69"));
    let bad_user = app
        .post(
            &app.staff,
            &add,
            json!({"user": "someone", "role": "CALL.MANAGER"}),
        )
        .await
        .expect(400);
    assert!(text(&bad_user.body["user"][0]).contains("\"someone\""));
    let missing = app
        .post(&app.staff, &add, json!({"role": "CALL.MANAGER"}))
        .await
        .expect(400);
    assert_eq!(missing.body, json!({"user": ["This field is required."]}));
    assert_eq!(
        app.get(&app.staff, &list).await.expect(200).array().len(),
        1
    );

    app.post(
        &app.staff,
        &remove,
        json!({"user": user.uuid, "role": "CALL.MANAGER"}),
    )
    .await
    .expect(200);
    app.get(&user, &call_path(&call_uuid)).await.expect(404);
    assert_eq!(
        app.get(&app.staff, &list).await.expect(200).array().len(),
        0
    );
    let not_held = app
        .post(
            &app.staff,
            &remove,
            json!({"user": user.uuid, "role": "CALL.MANAGER"}),
        )
        .await
        .expect(400);
    assert!(text(&not_held.body["user"][0]).contains(&user.uuid));
}

async fn call_roles_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let add = format!("{CALLS}{}/add_user/", cast.call_uuid);
    let remove = format!("{CALLS}{}/delete_user/", cast.call_uuid);
    let list = format!("{CALLS}{}/list_users/", cast.call_uuid);
    let candidate = app.user("candidate").await;
    let grant = json!({"user": candidate.uuid, "role": "CALL.MANAGER"});

    for user in [
        &cast.support,
        &cast.call_manager,
        &cast.owner,
        &cast.organisation_manager,
        &cast.member,
    ] {
        assert_eq!(app.get(user, &list).await.expect(200).array().len(), 1);
    }
    app.get(&cast.outsider, &list).await.expect(404);
    app.get(&TestUser::anonymous(), &list).await.expect(401);

    for (user, status) in [
        (&cast.support, 403),
        (&cast.member, 403),
        (&cast.outsider, 404),
        (&TestUser::anonymous(), 401),
    ] {
        app.post(user, &add, grant.clone()).await.expect(status);
        app.post(
            user,
            &remove,
            json!({"user": cast.call_manager.uuid, "role": "CALL.MANAGER"}),
        )
        .await
        .expect(status);
    }
    assert_eq!(
        app.get(&app.staff, &list).await.expect(200).array().len(),
        1
    );

    for user in [&cast.call_manager, &cast.owner, &cast.organisation_manager] {
        app.post(user, &add, grant.clone()).await.expect(201);
        assert_eq!(
            app.get(&app.staff, &list).await.expect(200).array().len(),
            2
        );
        app.post(user, &remove, grant.clone()).await.expect(200);
        assert_eq!(
            app.get(&app.staff, &list).await.expect(200).array().len(),
            1
        );
    }
}
