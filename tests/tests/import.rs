//! Bulk import (`POST /api/proposal-protected-calls/{uuid}/import/`) and the exports
//! (`GET /api/proposal-protected-calls/{uuid}/export/{kind}/`).

use referee_conformance::{TestApp, TestUser, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    import_full_then_get,
    import_errors_change_nothing,
    import_reimport_clashes,
    import_invalid_json_rejected,
    export_json_and_csv,
    export_assignments_rows,
    import_export_permissions,
    import_large_in_chunks,
);

const EXAMPLE: &str = include_str!("../../docs/examples/import-example.json");

/// Returns the documented example, changed to import into the existing call `call_uuid`.
fn document_for(call_uuid: &str) -> Value {
    let mut document: Value = serde_json::from_str(EXAMPLE).expect("the example is JSON");
    let rounds = document["call"]["rounds"].clone();
    let object = document.as_object_mut().expect("an object");
    object.remove("organisations");
    object.insert("call".into(), json!({"uuid": call_uuid, "rounds": rounds}));
    document
}

struct Setup {
    customer_uuid: String,
    call_uuid: String,
}

async fn setup(app: &TestApp) -> Setup {
    let customer = app.customer("Agency").await;
    let customer_uuid = customer["uuid"].as_str().expect("uuid").to_owned();
    let call = app.call(&customer_uuid, "Call").await;
    Setup {
        customer_uuid,
        call_uuid: call["uuid"].as_str().expect("uuid").to_owned(),
    }
}

fn import_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/import/")
}

fn export_path(call_uuid: &str, kind: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/export/{kind}/")
}

/// Collects what the API returns about the call and its users, to compare before and after
/// a rejected import.
async fn state_of(app: &TestApp, call_uuid: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        format!("/api/proposal-proposals/?call_uuid={call_uuid}"),
        format!("/api/proposal-protected-calls/{call_uuid}/reviewer-pool/"),
        format!("/api/proposal-protected-calls/{call_uuid}/conflicts/"),
        format!("/api/proposal-protected-calls/{call_uuid}/"),
        "/api/users/?page_size=300".to_owned(),
        "/api/reviewer-profiles/?page_size=300".to_owned(),
        "/api/customers/".to_owned(),
        export_path(call_uuid, "affinities"),
    ] {
        seen.push(app.get(&app.staff, &path).await.expect(200).body);
    }
    seen
}

fn pointers(reply: &referee_conformance::Reply) -> Vec<String> {
    reply.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {}", reply.body))
        .iter()
        .map(|error| {
            assert!(
                !error["message"].as_str().unwrap_or_default().is_empty(),
                "an error without a message: {error}"
            );
            error["pointer"].as_str().expect("pointer").to_owned()
        })
        .collect()
}

async fn import_full_then_get(app: TestApp) {
    let setup = setup(&app).await;
    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let counts = app
        .post(
            &manager,
            &import_path(&setup.call_uuid),
            document_for(&setup.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(
        counts.body,
        json!({
            "call_uuid": setup.call_uuid,
            "call_created": false,
            "organisations": 0,
            "rounds": 1,
            "proposals": 2,
            "team_members": 3,
            "users_created": 2,
            "reviewers": 2,
            "affiliations": 1,
            "expertise": 3,
            "publications": 1,
            "pool_entries": 2,
            "affinities": 3,
            "conflicts": 1,
        })
    );

    let proposals = app
        .get(
            &manager,
            &format!(
                "/api/proposal-proposals/?call_uuid={}&o=name",
                setup.call_uuid
            ),
        )
        .await
        .expect(200);
    assert_eq!(proposals.count(), 2);
    let names: Vec<&str> = proposals
        .array()
        .iter()
        .map(|proposal| proposal["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Protein crystals under pressure",
            "Spin waves in layered magnets"
        ]
    );
    let crystals = &proposals.array()[0];
    assert_eq!(crystals["state"], "submitted");
    let members = app
        .get(
            &manager,
            &format!(
                "/api/proposal-proposals/{}/team-members/",
                crystals["uuid"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    let emails: Vec<&str> = members
        .array()
        .iter()
        .map(|member| member["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"ada.quill@uni.example.org"));
    assert!(emails.contains(&"ben.ross@uni.example.org"));

    let pool = app
        .get(
            &manager,
            &format!(
                "/api/proposal-protected-calls/{}/reviewer-pool/",
                setup.call_uuid
            ),
        )
        .await
        .expect(200);
    let mut statuses: Vec<(String, String)> = pool
        .array()
        .iter()
        .map(|entry| {
            (
                entry["reviewer_email"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                entry["invitation_status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            (
                "dora.vale@review.example.org".to_owned(),
                "accepted".to_owned()
            ),
            (
                "evan.stone@review.example.org".to_owned(),
                "pending".to_owned()
            ),
        ]
    );

    let users = app
        .get(&app.staff, "/api/users/?username=dora.vale")
        .await
        .expect(200);
    assert_eq!(users.count(), 1);
    let user_uuid = users.array()[0]["uuid"].as_str().unwrap().to_owned();
    let profiles = app
        .get(
            &app.staff,
            &format!("/api/reviewer-profiles/?user_uuid={user_uuid}"),
        )
        .await
        .expect(200);
    assert_eq!(profiles.count(), 1);
    let profile = &profiles.array()[0];
    assert_eq!(profile["orcid_id"], "0000-0001-5109-3700");

    let conflicts = app
        .get(
            &manager,
            &format!(
                "/api/proposal-protected-calls/{}/conflicts/",
                setup.call_uuid
            ),
        )
        .await
        .expect(200);
    assert_eq!(conflicts.array().len(), 1);
    assert_eq!(conflicts.array()[0]["coi_type"], "COAUTH_RECENT");
    assert_eq!(conflicts.array()[0]["severity"], "apparent");
    assert_eq!(conflicts.array()[0]["status"], "pending");

    for action in ["pool_entry.imported", "conflict.imported"] {
        let audit = app
            .get(
                &app.staff,
                &format!(
                    "/api/proposal-protected-calls/{}/audit-log/?action={action}",
                    setup.call_uuid
                ),
            )
            .await
            .expect(200);
        let expected = if action == "conflict.imported" { 1 } else { 2 };
        assert_eq!(audit.count(), expected, "{}", audit.body);
    }
}

async fn import_errors_change_nothing(app: TestApp) {
    let setup = setup(&app).await;
    let before = state_of(&app, &setup.call_uuid).await;

    let mut document = document_for(&setup.call_uuid);
    document["proposals"][1]["team_members"][0]["email"] = json!("chen.li@");
    document["proposals"][0]["round"] = json!("autumn");
    document["reviewers"][1]["username"] = json!("dora.vale");
    document["reviewers"][0]["expertise"][0]["proficiency_level"] = json!("guru");
    document["pool"][1]["max_assignments"] = json!(0);
    document["affinities"][2]["affinity_score"] = json!(1.5);
    document["conflicts"][0]["coi_type"] = json!("GRUDGE");
    let reply = app
        .post(&app.staff, &import_path(&setup.call_uuid), document)
        .await
        .expect(400);
    assert_eq!(
        pointers(&reply),
        [
            "/proposals/1/team_members/0/email",
            "/reviewers/0/expertise/0/proficiency_level",
            "/reviewers/1/username",
            "/pool/1/max_assignments",
            "/affinities/2/affinity_score",
            "/conflicts/0/coi_type",
        ]
    );
    assert_eq!(state_of(&app, &setup.call_uuid).await, before);

    // References checked against stored data, reported together.
    let mut document = document_for(&setup.call_uuid);
    document["proposals"][0]["round"] = json!("autumn");
    document["pool"][1]["reviewer"] = json!("nobody");
    document["affinities"][0]["proposal"] = json!("CALL-999");
    document["call"]["name"] = json!("Another call");
    let reply = app
        .post(&app.staff, &import_path(&setup.call_uuid), document)
        .await
        .expect(400);
    assert_eq!(
        pointers(&reply),
        [
            "/call/name",
            "/proposals/0/round",
            "/pool/1/reviewer",
            "/affinities/0/proposal",
        ]
    );
    assert_eq!(state_of(&app, &setup.call_uuid).await, before);

    // Format, unknown keys and wrong types.
    let reply = app
        .post(
            &app.staff,
            &import_path(&setup.call_uuid),
            json!({"format": "referee-import/9", "reviewers": {}, "extra": 1}),
        )
        .await
        .expect(400);
    assert_eq!(pointers(&reply), ["/extra", "/format", "/reviewers"]);
    assert_eq!(state_of(&app, &setup.call_uuid).await, before);
}

async fn import_reimport_clashes(app: TestApp) {
    let setup = setup(&app).await;
    let path = import_path(&setup.call_uuid);
    app.post(&app.staff, &path, document_for(&setup.call_uuid))
        .await
        .expect(200);
    let before = state_of(&app, &setup.call_uuid).await;

    let reply = app
        .post(&app.staff, &path, document_for(&setup.call_uuid))
        .await
        .expect(400);
    let found = pointers(&reply);
    for expected in [
        "/proposals/0/name",
        "/proposals/1/name",
        "/reviewers/0/username",
        "/reviewers/0/orcid_id",
        "/reviewers/1/username",
    ] {
        assert!(
            found.contains(&expected.to_owned()),
            "{expected} missing in {found:?}"
        );
    }
    assert_eq!(state_of(&app, &setup.call_uuid).await, before);

    // Stored reviewers referenced by username: a pool entry and a score that already exist.
    let reply = app
        .post(
            &app.staff,
            &path,
            json!({
                "format": "referee-import/1",
                "pool": [{"reviewer": "dora.vale"}],
                "affinities": [{"reviewer": "evan.stone", "proposal": "CALL-002", "affinity_score": 0.2}],
                "conflicts": [{"reviewer": "dora.vale", "proposal": "CALL-001", "coi_type": "COAUTH_RECENT"}],
            }),
        )
        .await
        .expect(400);
    assert_eq!(
        pointers(&reply),
        ["/pool/0/reviewer", "/affinities/0", "/conflicts/0"]
    );
    assert_eq!(state_of(&app, &setup.call_uuid).await, before);

    // An existing user whose e-mail differs, and a call section for another call.
    app.user("frank").await;
    let reply = app
        .post(
            &app.staff,
            &path,
            json!({
                "format": "referee-import/1",
                "call": {"uuid": setup.customer_uuid},
                "reviewers": [{"username": "frank", "email": "frank@elsewhere.example.org"}],
            }),
        )
        .await
        .expect(400);
    assert_eq!(pointers(&reply), ["/call/uuid", "/reviewers/0/email"]);

    // The same references are accepted when they name new rows.
    let counts = app
        .post(
            &app.staff,
            &path,
            json!({
                "format": "referee-import/1",
                "affinities": [{"reviewer": "evan.stone", "proposal": "CALL-001", "affinity_score": 0.3}],
                "reviewers": [{"username": "frank", "email": "FRANK@example.org"}],
                "pool": [{"reviewer": "frank", "invitation_status": "declined"}],
            }),
        )
        .await
        .expect(200);
    assert_eq!(counts.body["users_created"], 0);
    assert_eq!(counts.body["reviewers"], 1);
    assert_eq!(counts.body["affinities"], 1);
}

async fn import_invalid_json_rejected(app: TestApp) {
    let setup = setup(&app).await;
    let before = state_of(&app, &setup.call_uuid).await;
    let response = reqwest::Client::new()
        .post(format!("{}{}", app.base, import_path(&setup.call_uuid)))
        .header("Authorization", format!("Token {}", app.staff.token))
        .header("Content-Type", "application/json")
        .body("{\"format\": ")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["pointer"], "");
    assert_eq!(state_of(&app, &setup.call_uuid).await, before);
}

/// GETs an export with a raw client: a CSV body is not JSON.
async fn get_text(app: &TestApp, user: &TestUser, path: &str) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .get(format!("{}{}", app.base, path))
        .header("Authorization", format!("Token {}", user.token))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("text"))
}

async fn export_json_and_csv(app: TestApp) {
    let setup = setup(&app).await;
    app.post(
        &app.staff,
        &import_path(&setup.call_uuid),
        document_for(&setup.call_uuid),
    )
    .await
    .expect(200);

    let affinities = app
        .get(&app.staff, &export_path(&setup.call_uuid, "affinities"))
        .await
        .expect(200);
    let rows: Vec<(String, String, f64)> = affinities
        .array()
        .iter()
        .map(|row| {
            (
                row["proposal_slug"].as_str().unwrap().to_owned(),
                row["reviewer_username"].as_str().unwrap().to_owned(),
                row["affinity_score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("CALL-001".to_owned(), "dora.vale".to_owned(), 0.92),
            ("CALL-002".to_owned(), "evan.stone".to_owned(), 0.81),
            ("CALL-002".to_owned(), "dora.vale".to_owned(), 0.1),
        ]
    );
    assert_eq!(affinities.array()[0]["keyword_score"], 0.95);
    assert_eq!(affinities.array()[1]["keyword_score"], Value::Null);
    assert_eq!(
        affinities.array()[0]["proposal_name"],
        "Protein crystals under pressure"
    );

    let (status, content_type, csv) = get_text(
        &app,
        &app.staff,
        &format!("{}?format=csv", export_path(&setup.call_uuid, "affinities")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "reviewer_uuid,reviewer_username,reviewer_email,proposal_uuid,proposal_slug,proposal_name,affinity_score,keyword_score,text_score"
    );
    assert_eq!(lines.len(), 5, "{csv}");
    assert_eq!(lines[4], "");
    assert!(lines[1].contains(",dora.vale,dora.vale@review.example.org,"));
    assert!(lines[1].ends_with(",CALL-001,Protein crystals under pressure,0.92,0.95,0.88"));
    assert!(lines[3].ends_with(",0.1,,"), "{}", lines[3]);

    let (status, _, csv) = get_text(
        &app,
        &app.staff,
        &format!("{}?format=csv", export_path(&setup.call_uuid, "conflicts")),
    )
    .await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(lines[0].starts_with("conflict_uuid,reviewer_uuid,reviewer_username,"));
    assert!(
        lines[1].ends_with(
            ",COAUTH_RECENT,apparent,pending,manager_identified,\"Co-authored a 2024 paper with the principal investigator, \"\"Ada Quill\"\".\""
        ),
        "{}",
        lines[1]
    );

    let conflicts = app
        .get(
            &app.staff,
            &format!("{}?format=json", export_path(&setup.call_uuid, "conflicts")),
        )
        .await
        .expect(200);
    assert_eq!(conflicts.array().len(), 1);
    assert_eq!(conflicts.array()[0]["reviewer_username"], "dora.vale");
    assert_eq!(conflicts.array()[0]["proposal_slug"], "CALL-001");

    let assignments = app
        .get(&app.staff, &export_path(&setup.call_uuid, "assignments"))
        .await
        .expect(200);
    assert!(assignments.array().is_empty());
    let (_, _, csv) = get_text(
        &app,
        &app.staff,
        &format!(
            "{}?format=csv",
            export_path(&setup.call_uuid, "assignments")
        ),
    )
    .await;
    assert_eq!(
        csv,
        "item_uuid,batch_uuid,proposal_uuid,proposal_slug,proposal_name,reviewer_uuid,reviewer_username,reviewer_email,status,affinity_score,has_coi\r\n"
    );

    let reply = app
        .get(
            &app.staff,
            &format!("{}?format=xml", export_path(&setup.call_uuid, "conflicts")),
        )
        .await
        .expect(400);
    assert!(reply.body["format"][0].as_str().unwrap().contains("xml"));
    app.get(&app.staff, &export_path(&setup.call_uuid, "reviews"))
        .await
        .expect(404);
}

async fn export_assignments_rows(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let item = app
        .draft_item(
            &setup.call_uuid,
            &setup.reviewers[0],
            &setup.proposal_uuid(0),
        )
        .await;
    let rows = app
        .get(&app.staff, &export_path(&setup.call_uuid, "assignments"))
        .await
        .expect(200);
    assert_eq!(rows.array().len(), 1);
    let row = &rows.array()[0];
    assert_eq!(row["item_uuid"], item.item_uuid.as_str());
    assert_eq!(row["batch_uuid"], item.batch_uuid.as_str());
    assert_eq!(row["proposal_uuid"], setup.proposal_uuid(0).as_str());
    assert_eq!(row["reviewer_username"], "reviewer0");
    assert_eq!(row["status"], "pending");
    assert_eq!(row["has_coi"], false);
}

async fn import_export_permissions(app: TestApp) {
    let setup = setup(&app).await;
    let call = &setup.call_uuid;
    let manager = app.user("manager").await;
    app.grant_call_role(call, &manager, "CALL.MANAGER").await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let stranger = app.user("stranger").await;
    let anonymous = TestUser::anonymous();

    // Someone who reviews for another call of the organisation.
    let other = app.call_setup(1, 1).await;
    let reviewer = other.reviewers[0].user.clone();

    let before = state_of(&app, call).await;
    let small = json!({"format": "referee-import/1"});
    for (user, status) in [
        (&support, 403),
        (&member, 403),
        (&reviewer, 404),
        (&stranger, 404),
        (&anonymous, 401),
    ] {
        app.post(user, &import_path(call), small.clone())
            .await
            .expect(status);
    }
    app.post(
        &stranger,
        &import_path("0123456789abcdef0123456789abcdef"),
        small.clone(),
    )
    .await
    .expect(404);
    assert_eq!(state_of(&app, call).await, before);

    for user in [&manager, &owner] {
        app.post(user, &import_path(call), small.clone())
            .await
            .expect(200);
    }

    for kind in ["assignments", "affinities", "conflicts"] {
        for (user, status) in [
            (&app.staff, 200),
            (&manager, 200),
            (&owner, 200),
            (&support, 200),
            (&member, 403),
            (&reviewer, 404),
            (&stranger, 404),
            (&anonymous, 401),
        ] {
            app.get(user, &export_path(call, kind)).await.expect(status);
        }
    }
}

async fn import_large_in_chunks(app: TestApp) {
    let setup = setup(&app).await;
    let proposals: Vec<Value> = (0..25)
        .map(|index| {
            json!({
                "key": format!("p{index}"),
                "round": "spring",
                "name": format!("Proposal {index}"),
                "team_members": (0..25)
                    .map(|member| json!({"full_name": format!("Member {member}"), "email": format!("m{member}@p{index}.example.org")}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let reviewers: Vec<Value> = (0..30)
        .map(|index| json!({"username": format!("bulk{index}"), "email": format!("bulk{index}@example.org")}))
        .collect();
    let mut affinities = Vec::new();
    for reviewer in 0..30 {
        for proposal in 0..25 {
            affinities.push(json!({
                "reviewer": format!("bulk{reviewer}"),
                "proposal": format!("p{proposal}"),
                "affinity_score": f64::from(reviewer * 25 + proposal) / 1000.0,
            }));
        }
    }
    let document = json!({
        "format": "referee-import/1",
        "call": {"uuid": setup.call_uuid, "rounds": [{"key": "spring", "start_time": "2027-01-01T00:00:00Z", "cutoff_time": "2027-02-01T00:00:00Z"}]},
        "proposals": proposals,
        "reviewers": reviewers,
        "pool": (0..30).map(|index| json!({"reviewer": format!("bulk{index}")})).collect::<Vec<_>>(),
        "affinities": affinities,
    });
    let counts = app
        .post(&app.staff, &import_path(&setup.call_uuid), document)
        .await
        .expect(200);
    assert_eq!(counts.body["team_members"], 625);
    assert_eq!(counts.body["affinities"], 750);
    let exported = app
        .get(&app.staff, &export_path(&setup.call_uuid, "affinities"))
        .await
        .expect(200);
    assert_eq!(exported.array().len(), 750);
    let proposals = app
        .get(
            &app.staff,
            &format!("/api/proposal-proposals/?call_uuid={}", setup.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(proposals.count(), 25);
}
