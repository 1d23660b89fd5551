//! `/api/proposal-proposals/`: proposals, their state changes and their team members.

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    proposal_create_and_retrieve,
    proposal_response_keys,
    proposal_slugs_number_per_call,
    proposal_concurrent_creates_distinct_slugs,
    proposal_racing_submits_one_wins,
    proposal_list_filters,
    proposal_list_ordering_and_pages,
    proposal_list_invalid_parameters,
    proposal_visibility_matrix,
    proposal_create_validation,
    proposal_create_needs_active_call,
    proposal_update_permissions,
    proposal_update_validation,
    proposal_delete_permissions,
    proposal_submit_transitions,
    proposal_approve_transitions,
    proposal_reject_transitions,
    proposal_decision_permissions,
    proposal_methods_not_allowed,
    team_member_crud,
    team_member_user_defaults,
    team_member_validation,
    team_member_permissions,
    team_member_grants_visibility,
    team_member_of_other_proposal_not_found,
);

const PROPOSALS: &str = "/api/proposal-proposals/";

fn proposal_path(uuid: &str) -> String {
    format!("{PROPOSALS}{uuid}/")
}

fn action_path(uuid: &str, action: &str) -> String {
    format!("{PROPOSALS}{uuid}/{action}/")
}

fn members_path(uuid: &str) -> String {
    format!("{PROPOSALS}{uuid}/team-members/")
}

fn member_path(uuid: &str, member_uuid: &str) -> String {
    format!("{PROPOSALS}{uuid}/team-members/{member_uuid}/")
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
        .to_owned()
}

/// Returns the first message of `field` in a 400 body.
#[track_caller]
fn message(body: &Value, field: &str) -> String {
    body[field][0]
        .as_str()
        .unwrap_or_else(|| panic!("no message for {field:?} in {body}"))
        .to_owned()
}

/// One user per place in the permission matrix, around one organisation, one of its calls
/// and one round of that call.
struct Cast {
    customer_uuid: String,
    call_uuid: String,
    call_slug: String,
    round_uuid: String,
    support: TestUser,
    call_manager: TestUser,
    owner: TestUser,
    member: TestUser,
    applicant: TestUser,
    teammate: TestUser,
    outsider: TestUser,
}

async fn cast(app: &TestApp) -> Cast {
    let customer = app.customer("Observatory").await;
    let customer_uuid = text(&customer["uuid"]);
    let call = app.call(&customer_uuid, "Telescope Time").await;
    let call_uuid = text(&call["uuid"]);
    let call_slug = text(&call["slug"]);
    let round = app.round(&call_uuid).await;
    let round_uuid = text(&round["uuid"]);

    let support = app.user_with("support", json!({"is_support": true})).await;
    let call_manager = app.user("call-manager").await;
    app.grant_call_role(&call_uuid, &call_manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let applicant = app.user("applicant").await;
    let teammate = app.user("teammate").await;
    let outsider = app.user("outsider").await;

    Cast {
        customer_uuid,
        call_uuid,
        call_slug,
        round_uuid,
        support,
        call_manager,
        owner,
        member,
        applicant,
        teammate,
        outsider,
    }
}

/// Creates a draft proposal as the applicant with the teammate on its team; returns its uuid.
async fn draft(app: &TestApp, cast: &Cast, name: &str) -> String {
    let created = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({
                "round": cast.round_uuid,
                "name": name,
                "team_members": [{"user": cast.teammate.uuid, "role": "co_investigator"}],
            }),
        )
        .await
        .expect(201);
    created.str("uuid")
}

/// Creates a draft as the applicant and submits it; returns its uuid.
async fn submitted(app: &TestApp, cast: &Cast, name: &str) -> String {
    let uuid = draft(app, cast, name).await;
    app.post(&cast.applicant, &action_path(&uuid, "submit"), json!({}))
        .await
        .expect(200);
    uuid
}

async fn state_of(app: &TestApp, uuid: &str) -> String {
    app.get(&app.staff, &proposal_path(uuid))
        .await
        .expect(200)
        .str("state")
}

async fn proposal_create_and_retrieve(app: TestApp) {
    let cast = cast(&app).await;
    let created = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({
                "round": cast.round_uuid,
                "name": "  Dark matter survey ",
                "project_summary": "Map the halo.",
                "description": "Three nights of observation.",
                "team_members": [
                    {"full_name": "Ada Lovelace", "email": "ada@example.org", "orcid": "0000-0002-1825-0097",
                     "organization": "Analytical Society", "role": "principal_investigator"},
                    {"user": cast.teammate.uuid},
                ],
            }),
        )
        .await
        .expect(201);
    let uuid = created.str("uuid");
    assert_eq!(uuid.len(), 32);
    assert_eq!(
        created.str("url"),
        format!("{}{PROPOSALS}{uuid}/", app.base)
    );
    assert_eq!(created.str("name"), "Dark matter survey");
    assert_eq!(created.str("state"), "draft");
    assert_eq!(created.str("project_summary"), "Map the halo.");
    assert_eq!(created.str("description"), "Three nights of observation.");
    assert_eq!(created.str("created_by_uuid"), cast.applicant.uuid);
    assert_eq!(
        created.str("created_by"),
        format!("{}/api/users/{}/", app.base, cast.applicant.uuid)
    );
    assert_eq!(created.str("created_by_name"), "applicant Example");

    let team = created.body["team_members"].as_array().unwrap();
    assert_eq!(team.len(), 2);
    assert_eq!(team[0]["full_name"], "Ada Lovelace");
    assert_eq!(team[0]["orcid"], "0000-0002-1825-0097");
    assert_eq!(team[0]["role"], "principal_investigator");
    assert_eq!(team[0]["user"], Value::Null);
    assert_eq!(team[0]["user_uuid"], Value::Null);
    assert_eq!(team[1]["user_uuid"], cast.teammate.uuid.as_str());
    assert_eq!(team[1]["role"], "member");

    let fetched = app
        .get(&cast.applicant, &proposal_path(&uuid))
        .await
        .expect(200);
    assert_eq!(fetched.body, created.body);

    let dashed = uuid::Uuid::parse_str(&uuid)
        .unwrap()
        .hyphenated()
        .to_string();
    let by_dashed = app
        .get(&cast.applicant, &proposal_path(&dashed))
        .await
        .expect(200);
    assert_eq!(by_dashed.str("uuid"), uuid);
}

async fn proposal_response_keys(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Keys").await;
    let body = app
        .get(&app.staff, &proposal_path(&uuid))
        .await
        .expect(200)
        .body;

    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "call",
            "call_name",
            "call_uuid",
            "created",
            "created_by",
            "created_by_name",
            "created_by_uuid",
            "description",
            "modified",
            "name",
            "project_summary",
            "round",
            "round_name",
            "round_uuid",
            "slug",
            "state",
            "team_members",
            "url",
            "uuid",
        ]
    );
    assert_eq!(
        body["call"],
        format!(
            "{}/api/proposal-protected-calls/{}/",
            app.base, cast.call_uuid
        )
        .as_str()
    );
    assert_eq!(body["call_uuid"], cast.call_uuid.as_str());
    assert_eq!(body["call_name"], "Telescope Time");
    assert_eq!(
        body["round"],
        format!(
            "{}/api/proposal-protected-calls/{}/rounds/{}/",
            app.base, cast.call_uuid, cast.round_uuid
        )
        .as_str()
    );
    assert_eq!(body["round_uuid"], cast.round_uuid.as_str());
    assert!(text(&body["round_name"]).starts_with("Round "));
    assert!(text(&body["created"]).ends_with("+00:00"));
    assert!(text(&body["modified"]).ends_with("+00:00"));

    let member = &body["team_members"][0];
    let mut member_keys: Vec<&str> = member
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    member_keys.sort_unstable();
    assert_eq!(
        member_keys,
        [
            "created",
            "email",
            "full_name",
            "orcid",
            "organization",
            "role",
            "user",
            "user_uuid",
            "uuid"
        ]
    );
    assert_eq!(
        member["user"],
        format!("{}/api/users/{}/", app.base, cast.teammate.uuid).as_str()
    );
    assert_eq!(member["orcid"], Value::Null);
}

async fn proposal_slugs_number_per_call(app: TestApp) {
    let cast = cast(&app).await;
    let prefix = cast.call_slug.to_uppercase();
    let first = draft(&app, &cast, "First").await;
    let second = draft(&app, &cast, "Second").await;
    assert_eq!(
        app.get(&app.staff, &proposal_path(&first))
            .await
            .str("slug"),
        format!("{prefix}-001")
    );
    assert_eq!(
        app.get(&app.staff, &proposal_path(&second))
            .await
            .str("slug"),
        format!("{prefix}-002")
    );

    // A deleted number is not reused while a higher one exists.
    app.delete(&cast.applicant, &proposal_path(&first))
        .await
        .expect(204);
    let third = draft(&app, &cast, "Third").await;
    assert_eq!(
        app.get(&app.staff, &proposal_path(&third))
            .await
            .str("slug"),
        format!("{prefix}-003")
    );

    let other_call = app.call(&cast.customer_uuid, "Radio Time").await;
    let other_round = app.round(&text(&other_call["uuid"])).await;
    let other = app.proposal(&text(&other_round["uuid"]), "Elsewhere").await;
    assert_eq!(
        text(&other["slug"]),
        format!("{}-001", text(&other_call["slug"]).to_uppercase())
    );
}

async fn proposal_concurrent_creates_distinct_slugs(app: TestApp) {
    let cast = cast(&app).await;
    let create = |name: &'static str| {
        app.post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": cast.round_uuid, "name": name}),
        )
    };
    let (first, second, third, fourth) = tokio::join!(
        create("One"),
        create("Two"),
        create("Three"),
        create("Four")
    );

    let mut slugs: Vec<String> = [first, second, third, fourth]
        .into_iter()
        .map(|reply| reply.expect(201).str("slug"))
        .collect();
    slugs.sort_unstable();
    let prefix = cast.call_slug.to_uppercase();
    let expected: Vec<String> = (1..=4)
        .map(|number| format!("{prefix}-{number:03}"))
        .collect();
    assert_eq!(slugs, expected);
}

async fn proposal_racing_submits_one_wins(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Race").await;
    let submit = action_path(&uuid, "submit");
    let (by_creator, by_manager) = tokio::join!(
        app.post(&cast.applicant, &submit, json!({})),
        app.post(&cast.call_manager, &submit, json!({}))
    );

    let mut statuses = [by_creator.status.as_u16(), by_manager.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [200, 400],
        "creator: {}, manager: {}",
        by_creator.body,
        by_manager.body
    );
    assert_eq!(state_of(&app, &uuid).await, "submitted");
}

async fn proposal_list_filters(app: TestApp) {
    let cast = cast(&app).await;
    let alpha = draft(&app, &cast, "Alpha Survey").await;
    let beta = submitted(&app, &cast, "Beta survey").await;
    let gamma = submitted(&app, &cast, "Gamma").await;
    app.post(
        &cast.call_manager,
        &action_path(&gamma, "approve"),
        json!({}),
    )
    .await
    .expect(200);

    let other_call = app.call(&cast.customer_uuid, "Radio Time").await;
    let other_call_uuid = text(&other_call["uuid"]);
    let other_round = app.round(&other_call_uuid).await;
    let other_round_uuid = text(&other_round["uuid"]);
    app.proposal(&other_round_uuid, "Elsewhere").await;

    let uuids = |reply: &referee_conformance::Reply| -> Vec<String> {
        reply.array().iter().map(|row| text(&row["uuid"])).collect()
    };

    let all = app.get(&app.staff, PROPOSALS).await.expect(200);
    assert_eq!(all.count(), 4);

    let by_call = app
        .get(
            &app.staff,
            &format!("{PROPOSALS}?call_uuid={}", cast.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(by_call.count(), 3);
    let by_round = app
        .get(
            &app.staff,
            &format!("{PROPOSALS}?round_uuid={other_round_uuid}"),
        )
        .await
        .expect(200);
    assert_eq!(by_round.count(), 1);
    assert_eq!(by_round.array()[0]["name"], "Elsewhere");

    let drafts = app
        .get(&app.staff, &format!("{PROPOSALS}?state=draft"))
        .await
        .expect(200);
    assert_eq!(uuids(&drafts), std::slice::from_ref(&alpha));
    let decided = app
        .get(
            &app.staff,
            &format!(
                "{PROPOSALS}?call_uuid={}&state=submitted&state=accepted&o=name",
                cast.call_uuid
            ),
        )
        .await
        .expect(200);
    assert_eq!(uuids(&decided), [beta.clone(), gamma.clone()]);

    let named = app
        .get(&app.staff, &format!("{PROPOSALS}?name=SURVEY&o=name"))
        .await
        .expect(200);
    assert_eq!(uuids(&named), [alpha.clone(), beta.clone()]);
    let percent = app
        .get(&app.staff, &format!("{PROPOSALS}?name=%25"))
        .await
        .expect(200);
    assert_eq!(percent.count(), 0);

    let by_creator = app
        .get(
            &app.staff,
            &format!("{PROPOSALS}?created_by_uuid={}", cast.applicant.uuid),
        )
        .await
        .expect(200);
    assert_eq!(by_creator.count(), 3);

    let head = app
        .head(
            &app.staff,
            &format!("{PROPOSALS}?state=submitted&state=draft"),
        )
        .await
        .expect(200);
    assert_eq!(head.count(), 3);
    assert_eq!(head.body, Value::Null);
}

async fn proposal_list_ordering_and_pages(app: TestApp) {
    let cast = cast(&app).await;
    draft(&app, &cast, "Charlie").await;
    submitted(&app, &cast, "Alpha").await;
    draft(&app, &cast, "Bravo").await;

    let names = |reply: &referee_conformance::Reply| -> Vec<String> {
        reply.array().iter().map(|row| text(&row["name"])).collect()
    };

    let default = app.get(&app.staff, PROPOSALS).await.expect(200);
    assert_eq!(names(&default), ["Charlie", "Alpha", "Bravo"]);
    let by_name = app
        .get(&app.staff, &format!("{PROPOSALS}?o=name"))
        .await
        .expect(200);
    assert_eq!(names(&by_name), ["Alpha", "Bravo", "Charlie"]);
    let by_name_descending = app
        .get(&app.staff, &format!("{PROPOSALS}?o=-name"))
        .await
        .expect(200);
    assert_eq!(names(&by_name_descending), ["Charlie", "Bravo", "Alpha"]);
    let by_created_descending = app
        .get(&app.staff, &format!("{PROPOSALS}?o=-created"))
        .await
        .expect(200);
    assert_eq!(names(&by_created_descending), ["Bravo", "Alpha", "Charlie"]);
    let by_state = app
        .get(&app.staff, &format!("{PROPOSALS}?o=-state,name"))
        .await
        .expect(200);
    assert_eq!(names(&by_state), ["Alpha", "Bravo", "Charlie"]);

    let second = app
        .get(
            &app.staff,
            &format!("{PROPOSALS}?o=name&page_size=2&page=2"),
        )
        .await
        .expect(200);
    assert_eq!(second.count(), 3);
    assert_eq!(names(&second), ["Charlie"]);
    assert!(second.header("link").contains("rel=\"prev\""));
    app.get(&app.staff, &format!("{PROPOSALS}?page=3&page_size=2"))
        .await
        .expect(404);

    // Team members are loaded for every row of the page.
    let page = app
        .get(&app.staff, &format!("{PROPOSALS}?o=name"))
        .await
        .expect(200);
    for row in page.array() {
        assert_eq!(
            row["team_members"].as_array().unwrap().len(),
            1,
            "team of {}",
            row["name"]
        );
    }
}

async fn proposal_list_invalid_parameters(app: TestApp) {
    let cast = cast(&app).await;
    draft(&app, &cast, "Only").await;

    let state = app
        .get(&app.staff, &format!("{PROPOSALS}?state=approved"))
        .await
        .expect(400);
    assert!(message(&state.body, "state").contains("approved"));
    let order = app
        .get(&app.staff, &format!("{PROPOSALS}?o=slug"))
        .await
        .expect(400);
    assert!(message(&order.body, "o").contains("slug"));
    let call = app
        .get(&app.staff, &format!("{PROPOSALS}?call_uuid=nope"))
        .await
        .expect(400);
    assert!(message(&call.body, "call_uuid").contains("nope"));
    let round = app
        .get(&app.staff, &format!("{PROPOSALS}?round_uuid=12"))
        .await
        .expect(400);
    assert!(message(&round.body, "round_uuid").contains("12"));

    app.get(&TestUser::anonymous(), PROPOSALS).await.expect(401);
    app.head(&TestUser::anonymous(), PROPOSALS)
        .await
        .expect(401);
}

async fn proposal_visibility_matrix(app: TestApp) {
    let cast = cast(&app).await;
    let mine = draft(&app, &cast, "Mine").await;
    let staff_made = app.proposal(&cast.round_uuid, "Staff made").await;
    let staff_made = text(&staff_made["uuid"]);

    // A proposal of another organisation's call: only staff and support see it.
    let elsewhere_customer = app.customer("Elsewhere").await;
    let elsewhere_call = app
        .call(&text(&elsewhere_customer["uuid"]), "Elsewhere call")
        .await;
    let elsewhere_round = app.round(&text(&elsewhere_call["uuid"])).await;
    let elsewhere = app
        .proposal(&text(&elsewhere_round["uuid"]), "Elsewhere")
        .await;
    let elsewhere = text(&elsewhere["uuid"]);

    let expectations: [(&str, &TestUser, i64, [u16; 3]); 9] = [
        ("staff", &app.staff, 3, [200, 200, 200]),
        ("support", &cast.support, 3, [200, 200, 200]),
        ("call manager", &cast.call_manager, 2, [200, 200, 404]),
        ("organisation owner", &cast.owner, 2, [200, 200, 404]),
        ("organisation member", &cast.member, 2, [200, 200, 404]),
        ("creator", &cast.applicant, 1, [200, 404, 404]),
        ("team member", &cast.teammate, 1, [200, 404, 404]),
        ("unrelated user", &cast.outsider, 0, [404, 404, 404]),
        ("anonymous", &TestUser::anonymous(), -1, [401, 401, 401]),
    ];
    for (label, user, count, statuses) in expectations {
        let listed = app.get(user, PROPOSALS).await;
        if count < 0 {
            listed.expect(401);
        } else {
            assert_eq!(listed.expect(200).count(), count, "{label} lists");
            assert_eq!(
                app.head(user, PROPOSALS).await.expect(200).count(),
                count,
                "{label} counts"
            );
        }
        for (uuid, status) in [
            (&mine, statuses[0]),
            (&staff_made, statuses[1]),
            (&elsewhere, statuses[2]),
        ] {
            let reply = app.get(user, &proposal_path(uuid)).await;
            assert_eq!(
                reply.status.as_u16(),
                status,
                "{label} retrieves {uuid}: {}",
                reply.body
            );
        }
    }

    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.get(&app.staff, &proposal_path(&unknown))
        .await
        .expect(404);
    assert_eq!(
        app.get(&app.staff, &proposal_path("not-a-uuid"))
            .await
            .expect(404)
            .str("detail"),
        "Not found."
    );
}

async fn proposal_create_validation(app: TestApp) {
    let cast = cast(&app).await;

    let missing = app
        .post(&cast.applicant, PROPOSALS, json!({}))
        .await
        .expect(400);
    assert_eq!(message(&missing.body, "round"), "This field is required.");
    let no_name = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": cast.round_uuid}),
        )
        .await
        .expect(400);
    assert_eq!(no_name.body, json!({"name": ["This field is required."]}));
    let blank = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": cast.round_uuid, "name": "  "}),
        )
        .await
        .expect(400);
    assert!(message(&blank.body, "name").contains("blank"));
    let bad_reference = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": "round-1", "name": "X"}),
        )
        .await
        .expect(400);
    assert!(message(&bad_reference.body, "round").contains("round-1"));

    let unknown = uuid::Uuid::now_v7().simple().to_string();
    let unknown_round = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": unknown, "name": "X"}),
        )
        .await
        .expect(400);
    assert!(message(&unknown_round.body, "round").contains(&unknown));

    let team = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({
                "round": cast.round_uuid,
                "name": "X",
                "team_members": [
                    {"full_name": "Ada", "email": "ada-at-example"},
                    {"full_name": "Bob", "orcid": "1234"},
                    {"full_name": "Cy", "role": "boss"},
                    {"email": "dee@example.org"},
                ],
            }),
        )
        .await
        .expect(400);
    assert!(message(&team.body, "team_members[0].email").contains("ada-at-example"));
    assert!(message(&team.body, "team_members[1].orcid").contains("1234"));
    assert!(message(&team.body, "team_members[2].role").contains("boss"));
    assert!(message(&team.body, "team_members[3].full_name").contains("required"));

    let unknown_user = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": cast.round_uuid, "name": "X", "team_members": [{"user": unknown}]}),
        )
        .await
        .expect(400);
    assert!(message(&unknown_user.body, "team_members[0].user").contains(&unknown));

    let twice = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": cast.round_uuid, "name": "X",
                   "team_members": [{"user": cast.teammate.uuid}, {"user": cast.teammate.uuid}]}),
        )
        .await
        .expect(400);
    assert!(message(&twice.body, "team_members[1].user").contains("already"));

    app.post(
        &TestUser::anonymous(),
        PROPOSALS,
        json!({"round": cast.round_uuid, "name": "X"}),
    )
    .await
    .expect(401);

    // Nothing was written by the refused requests, not even a partial team.
    assert_eq!(app.get(&app.staff, PROPOSALS).await.expect(200).count(), 0);

    let by_link = format!(
        "{}/api/proposal-protected-calls/{}/rounds/{}/",
        app.base, cast.call_uuid, cast.round_uuid
    );
    let linked = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": by_link, "name": "Linked"}),
        )
        .await
        .expect(201);
    assert_eq!(linked.str("round_uuid"), cast.round_uuid);
    assert_eq!(linked.body["team_members"], json!([]));
}

async fn proposal_create_needs_active_call(app: TestApp) {
    let cast = cast(&app).await;
    let draft_call = app
        .post(
            &app.staff,
            "/api/proposal-protected-calls/",
            json!({"name": "Not yet open", "customer": cast.customer_uuid, "state": "draft"}),
        )
        .await
        .expect(201);
    let draft_call_uuid = draft_call.str("uuid");
    app.grant_call_role(&draft_call_uuid, &cast.call_manager, "CALL.MANAGER")
        .await;
    let round = app.round(&draft_call_uuid).await;
    let round_uuid = text(&round["uuid"]);

    let refused = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": round_uuid, "name": "Early"}),
        )
        .await
        .expect(400);
    let reason = message(&refused.body, "round");
    assert!(reason.contains("draft"), "{reason}");
    assert!(reason.contains(&round_uuid), "{reason}");
    app.post(
        &cast.member,
        PROPOSALS,
        json!({"round": round_uuid, "name": "Early"}),
    )
    .await
    .expect(400);
    assert_eq!(app.get(&app.staff, PROPOSALS).await.expect(200).count(), 0);

    let by_manager = app
        .post(
            &cast.call_manager,
            PROPOSALS,
            json!({"round": round_uuid, "name": "Pilot"}),
        )
        .await
        .expect(201);
    assert_eq!(by_manager.str("state"), "draft");
    app.post(
        &cast.owner,
        PROPOSALS,
        json!({"round": round_uuid, "name": "Pilot 2"}),
    )
    .await
    .expect(201);
    app.post(
        &app.staff,
        PROPOSALS,
        json!({"round": round_uuid, "name": "Pilot 3"}),
    )
    .await
    .expect(201);

    app.patch(
        &app.staff,
        &format!("/api/proposal-protected-calls/{draft_call_uuid}/"),
        json!({"state": "archived"}),
    )
    .await
    .expect(200);
    let archived = app
        .post(
            &cast.applicant,
            PROPOSALS,
            json!({"round": round_uuid, "name": "Late"}),
        )
        .await
        .expect(400);
    assert!(message(&archived.body, "round").contains("archived"));
}

async fn proposal_update_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Original").await;
    let path = proposal_path(&uuid);

    let patched = app
        .patch(
            &cast.applicant,
            &path,
            json!({"project_summary": "New summary"}),
        )
        .await
        .expect(200);
    assert_eq!(patched.str("project_summary"), "New summary");
    assert_eq!(patched.str("name"), "Original");
    let put = app
        .put(
            &cast.applicant,
            &path,
            json!({"name": "Renamed", "description": "Full text"}),
        )
        .await
        .expect(200);
    assert_eq!(put.str("name"), "Renamed");
    assert_eq!(put.str("description"), "Full text");
    assert_eq!(put.str("project_summary"), "New summary");

    for (label, user, status) in [
        ("organisation member", &cast.member, 403),
        ("support", &cast.support, 403),
        ("team member", &cast.teammate, 403),
        ("unrelated user", &cast.outsider, 404),
        ("anonymous", &TestUser::anonymous(), 401),
    ] {
        let reply = app.patch(user, &path, json!({"name": "Hijacked"})).await;
        assert_eq!(reply.status.as_u16(), status, "{label}: {}", reply.body);
        let reply = app.put(user, &path, json!({"name": "Hijacked"})).await;
        assert_eq!(reply.status.as_u16(), status, "{label} PUT: {}", reply.body);
    }

    app.post(&cast.applicant, &action_path(&uuid, "submit"), json!({}))
        .await
        .expect(200);
    let late = app
        .patch(&cast.applicant, &path, json!({"name": "Too late"}))
        .await
        .expect(403);
    assert!(late.str("detail").contains("submitted"), "{}", late.body);
    app.put(&cast.applicant, &path, json!({"name": "Too late"}))
        .await
        .expect(403);
    assert_eq!(app.get(&app.staff, &path).await.str("name"), "Renamed");

    let by_manager = app
        .patch(
            &cast.call_manager,
            &path,
            json!({"name": "Edited by manager"}),
        )
        .await
        .expect(200);
    assert_eq!(by_manager.str("state"), "submitted");
    app.patch(&cast.owner, &path, json!({"name": "Edited by owner"}))
        .await
        .expect(200);
    app.put(&app.staff, &path, json!({"name": "Edited by staff"}))
        .await
        .expect(200);
    assert_eq!(
        app.get(&app.staff, &path).await.str("name"),
        "Edited by staff"
    );
}

async fn proposal_update_validation(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Kept").await;
    let path = proposal_path(&uuid);
    let before = app.get(&app.staff, &path).await.expect(200).body;

    let blank = app
        .patch(&cast.applicant, &path, json!({"name": " "}))
        .await
        .expect(400);
    assert!(message(&blank.body, "name").contains("blank"));
    let wrong_type = app
        .patch(&cast.applicant, &path, json!({"description": 7}))
        .await
        .expect(400);
    assert!(wrong_type.body["description"].is_array());
    let put_without_name = app
        .put(&cast.applicant, &path, json!({"description": "x"}))
        .await
        .expect(400);
    assert_eq!(
        put_without_name.body,
        json!({"name": ["This field is required."]})
    );

    assert_eq!(app.get(&app.staff, &path).await.expect(200).body, before);

    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.patch(&app.staff, &proposal_path(&unknown), json!({"name": "X"}))
        .await
        .expect(404);
}

async fn proposal_delete_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Draft").await;
    let path = proposal_path(&uuid);

    for (label, user, status) in [
        ("organisation member", &cast.member, 403),
        ("support", &cast.support, 403),
        ("team member", &cast.teammate, 403),
        ("unrelated user", &cast.outsider, 404),
        ("anonymous", &TestUser::anonymous(), 401),
    ] {
        let reply = app.delete(user, &path).await;
        assert_eq!(reply.status.as_u16(), status, "{label}: {}", reply.body);
    }
    app.get(&app.staff, &path).await.expect(200);

    app.delete(&cast.applicant, &path).await.expect(204);
    app.get(&app.staff, &path).await.expect(404);
    app.get(&app.staff, &members_path(&uuid)).await.expect(404);
    app.delete(&cast.applicant, &path).await.expect(404);

    let sent = submitted(&app, &cast, "Sent").await;
    let sent_path = proposal_path(&sent);
    app.delete(&cast.applicant, &sent_path).await.expect(403);
    app.get(&app.staff, &sent_path).await.expect(200);
    app.delete(&cast.call_manager, &sent_path).await.expect(204);

    let by_owner = submitted(&app, &cast, "Owner deletes").await;
    app.delete(&cast.owner, &proposal_path(&by_owner))
        .await
        .expect(204);
    let by_staff = submitted(&app, &cast, "Staff deletes").await;
    app.delete(&app.staff, &proposal_path(&by_staff))
        .await
        .expect(204);
    assert_eq!(app.get(&app.staff, PROPOSALS).await.expect(200).count(), 0);
}

async fn proposal_submit_transitions(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Submit me").await;
    let submit = action_path(&uuid, "submit");

    for (label, user, status) in [
        ("team member", &cast.teammate, 403),
        ("organisation member", &cast.member, 403),
        ("support", &cast.support, 403),
        ("unrelated user", &cast.outsider, 404),
        ("anonymous", &TestUser::anonymous(), 401),
    ] {
        let reply = app.post(user, &submit, json!({})).await;
        assert_eq!(reply.status.as_u16(), status, "{label}: {}", reply.body);
    }
    assert_eq!(state_of(&app, &uuid).await, "draft");

    let done = app
        .post(&cast.applicant, &submit, json!({}))
        .await
        .expect(200);
    assert_eq!(done.str("state"), "submitted");
    assert_eq!(done.str("uuid"), uuid);

    let again = app
        .post(&cast.applicant, &submit, json!({}))
        .await
        .expect(400);
    assert_eq!(again.str("code"), "proposal_not_draft");
    assert!(again.str("error").contains("submitted"), "{}", again.body);

    let by_manager = draft(&app, &cast, "Manager submits").await;
    let submitted_by_manager = app
        .post(
            &cast.call_manager,
            &action_path(&by_manager, "submit"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(submitted_by_manager.str("state"), "submitted");

    let by_owner = draft(&app, &cast, "Owner submits").await;
    app.post(&cast.owner, &action_path(&by_owner, "submit"), json!({}))
        .await
        .expect(200);

    app.post(
        &cast.call_manager,
        &action_path(&uuid, "approve"),
        json!({}),
    )
    .await
    .expect(200);
    let after_decision = app
        .post(&cast.call_manager, &submit, json!({}))
        .await
        .expect(400);
    assert!(
        after_decision.str("error").contains("accepted"),
        "{}",
        after_decision.body
    );
    assert_eq!(state_of(&app, &uuid).await, "accepted");
}

async fn proposal_approve_transitions(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = submitted(&app, &cast, "Approve me").await;
    let approve = action_path(&uuid, "approve");

    let approved = app
        .post(&cast.call_manager, &approve, json!({}))
        .await
        .expect(200);
    assert_eq!(approved.str("state"), "accepted");

    let again = app
        .post(&cast.call_manager, &approve, json!({}))
        .await
        .expect(400);
    assert_eq!(again.str("code"), "proposal_not_under_review");
    assert!(again.str("error").contains("accepted"), "{}", again.body);
    let reject_after = app
        .post(&cast.call_manager, &action_path(&uuid, "reject"), json!({}))
        .await
        .expect(400);
    assert!(
        reject_after.str("error").contains("accepted"),
        "{}",
        reject_after.body
    );
    assert_eq!(state_of(&app, &uuid).await, "accepted");

    let still_draft = draft(&app, &cast, "Still a draft").await;
    let refused = app
        .post(
            &cast.call_manager,
            &action_path(&still_draft, "approve"),
            json!({}),
        )
        .await
        .expect(400);
    assert_eq!(refused.str("code"), "proposal_not_under_review");
    assert!(refused.str("error").contains("draft"), "{}", refused.body);
    assert_eq!(state_of(&app, &still_draft).await, "draft");

    let by_owner = submitted(&app, &cast, "Owner approves").await;
    app.post(&cast.owner, &action_path(&by_owner, "approve"), json!({}))
        .await
        .expect(200);
    let by_staff = submitted(&app, &cast, "Staff approves").await;
    app.post(&app.staff, &action_path(&by_staff, "approve"), json!({}))
        .await
        .expect(200);
    assert_eq!(state_of(&app, &by_staff).await, "accepted");
}

async fn proposal_reject_transitions(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = submitted(&app, &cast, "Reject me").await;
    let reject = action_path(&uuid, "reject");

    let rejected = app.post(&cast.owner, &reject, json!({})).await.expect(200);
    assert_eq!(rejected.str("state"), "rejected");

    let again = app
        .post(&cast.call_manager, &reject, json!({}))
        .await
        .expect(400);
    assert_eq!(again.str("code"), "proposal_not_under_review");
    assert!(again.str("error").contains("rejected"), "{}", again.body);
    let approve_after = app
        .post(
            &cast.call_manager,
            &action_path(&uuid, "approve"),
            json!({}),
        )
        .await
        .expect(400);
    assert!(
        approve_after.str("error").contains("rejected"),
        "{}",
        approve_after.body
    );
    let submit_after = app
        .post(&cast.applicant, &action_path(&uuid, "submit"), json!({}))
        .await
        .expect(400);
    assert!(
        submit_after.str("error").contains("rejected"),
        "{}",
        submit_after.body
    );
    assert_eq!(state_of(&app, &uuid).await, "rejected");

    let still_draft = draft(&app, &cast, "Still a draft").await;
    let refused = app
        .post(&app.staff, &action_path(&still_draft, "reject"), json!({}))
        .await
        .expect(400);
    assert!(refused.str("error").contains("draft"), "{}", refused.body);
    assert_eq!(state_of(&app, &still_draft).await, "draft");
}

async fn proposal_decision_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = submitted(&app, &cast, "Decide").await;

    for action in ["approve", "reject"] {
        let path = action_path(&uuid, action);
        for (label, user, status) in [
            ("creator", &cast.applicant, 403),
            ("team member", &cast.teammate, 403),
            ("organisation member", &cast.member, 403),
            ("support", &cast.support, 403),
            ("unrelated user", &cast.outsider, 404),
            ("anonymous", &TestUser::anonymous(), 401),
        ] {
            let reply = app.post(user, &path, json!({})).await;
            assert_eq!(
                reply.status.as_u16(),
                status,
                "{label} {action}: {}",
                reply.body
            );
        }
    }
    assert_eq!(state_of(&app, &uuid).await, "submitted");

    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.post(&app.staff, &action_path(&unknown, "approve"), json!({}))
        .await
        .expect(404);
    app.post(&app.staff, &action_path(&unknown, "submit"), json!({}))
        .await
        .expect(404);
}

async fn proposal_methods_not_allowed(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Methods").await;
    app.delete(&app.staff, PROPOSALS).await.expect(405);
    app.put(&app.staff, PROPOSALS, json!({})).await.expect(405);
    app.post(&app.staff, &proposal_path(&uuid), json!({}))
        .await
        .expect(405);
    app.get(&app.staff, &action_path(&uuid, "submit"))
        .await
        .expect(405);
    app.get(&app.staff, &action_path(&uuid, "approve"))
        .await
        .expect(405);
    let members = app.get(&app.staff, &members_path(&uuid)).await.expect(200);
    let member_uuid = text(&members.array()[0]["uuid"]);
    app.put(
        &app.staff,
        &member_path(&uuid, &member_uuid),
        json!({"full_name": "X"}),
    )
    .await
    .expect(405);
    app.delete(&app.staff, &members_path(&uuid))
        .await
        .expect(405);
}

async fn team_member_crud(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Team").await;
    let members = members_path(&uuid);

    let listed = app.get(&cast.applicant, &members).await.expect(200);
    assert_eq!(listed.count(), 1);
    assert_eq!(listed.array()[0]["user_uuid"], cast.teammate.uuid.as_str());

    let added = app
        .post(
            &cast.applicant,
            &members,
            json!({"full_name": "Grace Hopper", "email": "grace@example.org", "orcid": "0000-0002-1694-233X",
                   "organization": "Navy", "role": "principal_investigator"}),
        )
        .await
        .expect(201);
    let member_uuid = added.str("uuid");
    assert_eq!(added.str("full_name"), "Grace Hopper");
    assert_eq!(added.str("orcid"), "0000-0002-1694-233X");
    assert_eq!(added.str("role"), "principal_investigator");
    assert_eq!(added.body["user"], Value::Null);
    assert!(added.str("created").ends_with("+00:00"));

    let path = member_path(&uuid, &member_uuid);
    let fetched = app.get(&cast.teammate, &path).await.expect(200);
    assert_eq!(fetched.body, added.body);

    let patched = app
        .patch(
            &cast.applicant,
            &path,
            json!({"organization": "US Navy", "role": "co_investigator", "orcid": null}),
        )
        .await
        .expect(200);
    assert_eq!(patched.str("organization"), "US Navy");
    assert_eq!(patched.str("role"), "co_investigator");
    assert_eq!(patched.body["orcid"], Value::Null);
    assert_eq!(patched.str("full_name"), "Grace Hopper");
    assert_eq!(patched.str("email"), "grace@example.org");

    let proposal = app.get(&app.staff, &proposal_path(&uuid)).await.expect(200);
    assert_eq!(proposal.body["team_members"].as_array().unwrap().len(), 2);
    assert_eq!(proposal.body["team_members"][1]["organization"], "US Navy");

    app.delete(&cast.applicant, &path).await.expect(204);
    app.get(&cast.applicant, &path).await.expect(404);
    app.delete(&cast.applicant, &path).await.expect(404);
    assert_eq!(
        app.get(&cast.applicant, &members).await.expect(200).count(),
        1
    );

    let unknown = uuid::Uuid::now_v7().simple().to_string();
    app.get(&app.staff, &member_path(&uuid, &unknown))
        .await
        .expect(404);
    app.get(&app.staff, &members_path(&unknown))
        .await
        .expect(404);
    app.post(
        &app.staff,
        &members_path(&unknown),
        json!({"full_name": "X"}),
    )
    .await
    .expect(404);
}

async fn team_member_user_defaults(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Defaults").await;
    let members = members_path(&uuid);
    let colleague = app
        .user_with(
            "colleague",
            json!({"full_name": "Carl Colleague", "email": "carl@example.org"}),
        )
        .await;

    let by_link = format!("{}/api/users/{}/", app.base, colleague.uuid);
    let linked = app
        .post(&cast.applicant, &members, json!({"user": by_link}))
        .await
        .expect(201);
    assert_eq!(linked.str("full_name"), "Carl Colleague");
    assert_eq!(linked.str("email"), "carl@example.org");
    assert_eq!(linked.str("user_uuid"), colleague.uuid);
    assert_eq!(linked.str("user"), by_link);
    assert_eq!(linked.str("role"), "member");

    let own_words = app
        .post(&cast.applicant, &members, json!({"user": cast.outsider.uuid, "full_name": "Olivia Outsider", "email": "o@example.org"}))
        .await
        .expect(201);
    assert_eq!(own_words.str("full_name"), "Olivia Outsider");
    assert_eq!(own_words.str("email"), "o@example.org");

    let duplicate = app
        .post(&cast.applicant, &members, json!({"user": colleague.uuid}))
        .await
        .expect(400);
    assert!(message(&duplicate.body, "user").contains(&colleague.uuid));

    // Linking a user by PATCH fills the name and e-mail from the account; unlinking keeps them.
    let named = app
        .post(&cast.applicant, &members, json!({"full_name": "Someone"}))
        .await
        .expect(201);
    let named_path = member_path(&uuid, &named.str("uuid"));
    let third = app
        .user_with(
            "third",
            json!({"full_name": "Thea Third", "email": "thea@example.org"}),
        )
        .await;
    let relinked = app
        .patch(&cast.applicant, &named_path, json!({"user": third.uuid}))
        .await
        .expect(200);
    assert_eq!(relinked.str("full_name"), "Thea Third");
    assert_eq!(relinked.str("email"), "thea@example.org");
    let clash = app
        .patch(
            &cast.applicant,
            &named_path,
            json!({"user": colleague.uuid}),
        )
        .await
        .expect(400);
    assert!(message(&clash.body, "user").contains("already"));
    let unlinked = app
        .patch(&cast.applicant, &named_path, json!({"user": null}))
        .await
        .expect(200);
    assert_eq!(unlinked.body["user"], Value::Null);
    assert_eq!(unlinked.body["user_uuid"], Value::Null);
    assert_eq!(unlinked.str("full_name"), "Thea Third");
}

async fn team_member_validation(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Validation").await;
    let members = members_path(&uuid);
    let existing = app.get(&cast.applicant, &members).await.expect(200);
    let member_uuid = text(&existing.array()[0]["uuid"]);
    let path = member_path(&uuid, &member_uuid);
    let before = app.get(&app.staff, &path).await.expect(200).body;

    let nameless = app
        .post(&cast.applicant, &members, json!({"email": "x@example.org"}))
        .await
        .expect(400);
    assert!(message(&nameless.body, "full_name").contains("required"));
    let email = app
        .post(
            &cast.applicant,
            &members,
            json!({"full_name": "X", "email": "x@@example"}),
        )
        .await
        .expect(400);
    assert!(message(&email.body, "email").contains("x@@example"));
    let orcid = app
        .post(
            &cast.applicant,
            &members,
            json!({"full_name": "X", "orcid": "0000-0002-1825-009x"}),
        )
        .await
        .expect(400);
    assert!(message(&orcid.body, "orcid").contains("0000-0002-1825-009x"));
    let role = app
        .post(
            &cast.applicant,
            &members,
            json!({"full_name": "X", "role": "chair"}),
        )
        .await
        .expect(400);
    assert!(message(&role.body, "role").contains("chair"));
    let unknown = uuid::Uuid::now_v7().simple().to_string();
    let user = app
        .post(&cast.applicant, &members, json!({"user": unknown}))
        .await
        .expect(400);
    assert!(message(&user.body, "user").contains(&unknown));
    let reference = app
        .post(&cast.applicant, &members, json!({"user": "someone"}))
        .await
        .expect(400);
    assert!(message(&reference.body, "user").contains("someone"));
    assert_eq!(
        app.get(&cast.applicant, &members).await.expect(200).count(),
        1
    );

    let blank = app
        .patch(&cast.applicant, &path, json!({"full_name": " "}))
        .await
        .expect(400);
    assert!(message(&blank.body, "full_name").contains("blank"));
    let bad_email = app
        .patch(&cast.applicant, &path, json!({"email": "nope"}))
        .await
        .expect(400);
    assert!(message(&bad_email.body, "email").contains("nope"));
    let bad_orcid = app
        .patch(&cast.applicant, &path, json!({"orcid": "12345"}))
        .await
        .expect(400);
    assert!(message(&bad_orcid.body, "orcid").contains("12345"));
    let bad_role = app
        .patch(&cast.applicant, &path, json!({"role": "lead"}))
        .await
        .expect(400);
    assert!(message(&bad_role.body, "role").contains("lead"));
    let bad_user = app
        .patch(&cast.applicant, &path, json!({"user": unknown}))
        .await
        .expect(400);
    assert!(message(&bad_user.body, "user").contains(&unknown));
    assert_eq!(app.get(&app.staff, &path).await.expect(200).body, before);
}

async fn team_member_permissions(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = draft(&app, &cast, "Guarded").await;
    let members = members_path(&uuid);
    let member_uuid = text(&app.get(&app.staff, &members).await.expect(200).array()[0]["uuid"]);
    let path = member_path(&uuid, &member_uuid);

    for (label, user, read) in [
        ("staff", &app.staff, 200),
        ("support", &cast.support, 200),
        ("call manager", &cast.call_manager, 200),
        ("organisation owner", &cast.owner, 200),
        ("organisation member", &cast.member, 200),
        ("creator", &cast.applicant, 200),
        ("team member", &cast.teammate, 200),
        ("unrelated user", &cast.outsider, 404),
        ("anonymous", &TestUser::anonymous(), 401),
    ] {
        let listed = app.get(user, &members).await;
        assert_eq!(
            listed.status.as_u16(),
            read,
            "{label} lists: {}",
            listed.body
        );
        let fetched = app.get(user, &path).await;
        assert_eq!(
            fetched.status.as_u16(),
            read,
            "{label} retrieves: {}",
            fetched.body
        );
    }

    for (label, user, status) in [
        ("support", &cast.support, 403),
        ("organisation member", &cast.member, 403),
        ("team member", &cast.teammate, 403),
        ("unrelated user", &cast.outsider, 404),
        ("anonymous", &TestUser::anonymous(), 401),
    ] {
        let added = app
            .post(user, &members, json!({"full_name": "Intruder"}))
            .await;
        assert_eq!(
            added.status.as_u16(),
            status,
            "{label} adds: {}",
            added.body
        );
        let patched = app
            .patch(user, &path, json!({"full_name": "Intruder"}))
            .await;
        assert_eq!(
            patched.status.as_u16(),
            status,
            "{label} changes: {}",
            patched.body
        );
        let deleted = app.delete(user, &path).await;
        assert_eq!(
            deleted.status.as_u16(),
            status,
            "{label} removes: {}",
            deleted.body
        );
    }
    assert_eq!(app.get(&app.staff, &members).await.expect(200).count(), 1);
    assert_eq!(
        app.get(&app.staff, &path).await.str("full_name"),
        "teammate Example"
    );

    app.post(&cast.applicant, &action_path(&uuid, "submit"), json!({}))
        .await
        .expect(200);
    let late = app
        .post(&cast.applicant, &members, json!({"full_name": "Latecomer"}))
        .await
        .expect(403);
    assert!(late.str("detail").contains("submitted"), "{}", late.body);
    app.patch(&cast.applicant, &path, json!({"full_name": "Renamed"}))
        .await
        .expect(403);
    app.delete(&cast.applicant, &path).await.expect(403);
    assert_eq!(app.get(&app.staff, &members).await.expect(200).count(), 1);

    let by_manager = app
        .post(
            &cast.call_manager,
            &members,
            json!({"full_name": "Added late"}),
        )
        .await
        .expect(201);
    app.patch(
        &cast.owner,
        &member_path(&uuid, &by_manager.str("uuid")),
        json!({"organization": "Lab"}),
    )
    .await
    .expect(200);
    app.delete(&app.staff, &member_path(&uuid, &by_manager.str("uuid")))
        .await
        .expect(204);
}

async fn team_member_grants_visibility(app: TestApp) {
    let cast = cast(&app).await;
    let uuid = submitted(&app, &cast, "Shared").await;
    let path = proposal_path(&uuid);
    let colleague = app.user("colleague").await;

    app.get(&colleague, &path).await.expect(404);
    let added = app
        .post(
            &cast.call_manager,
            &members_path(&uuid),
            json!({"user": colleague.uuid}),
        )
        .await
        .expect(201);
    app.get(&colleague, &path).await.expect(200);
    assert_eq!(app.get(&colleague, PROPOSALS).await.expect(200).count(), 1);

    // A named team member reads but does not act on the proposal.
    app.post(&colleague, &action_path(&uuid, "approve"), json!({}))
        .await
        .expect(403);
    app.patch(&colleague, &path, json!({"name": "Mine now"}))
        .await
        .expect(403);

    app.patch(
        &cast.call_manager,
        &member_path(&uuid, &added.str("uuid")),
        json!({"user": null}),
    )
    .await
    .expect(200);
    app.get(&colleague, &path).await.expect(404);
    assert_eq!(app.get(&colleague, PROPOSALS).await.expect(200).count(), 0);
}

async fn team_member_of_other_proposal_not_found(app: TestApp) {
    let cast = cast(&app).await;
    let first = draft(&app, &cast, "First").await;
    let second = draft(&app, &cast, "Second").await;
    let members = app.get(&app.staff, &members_path(&first)).await.expect(200);
    let member_uuid = text(&members.array()[0]["uuid"]);

    app.get(&app.staff, &member_path(&second, &member_uuid))
        .await
        .expect(404);
    app.patch(
        &app.staff,
        &member_path(&second, &member_uuid),
        json!({"full_name": "Moved"}),
    )
    .await
    .expect(404);
    app.delete(&app.staff, &member_path(&second, &member_uuid))
        .await
        .expect(404);
    assert_eq!(
        app.get(&app.staff, &member_path(&first, &member_uuid))
            .await
            .str("full_name"),
        "teammate Example"
    );
}
