//! Reviewer suggestions: generating them from every source, reviewing them, turning confirmed
//! ones into pool invitations, listing them, and their rows in the affinity matrix.

use chrono::Utc;
use diesel::prelude::*;
use referee_conformance::{CallSetup, Reply, TestApp, TestUser, on_both_backends};
use referee_store::schema::conflicts_of_interest;
use referee_store::sql_types::{DbTime, DbUuid};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    generate_from_all_proposals,
    generate_falls_back_to_call_description,
    generate_from_selected_proposals,
    generate_from_call_description,
    generate_from_expertise_keywords,
    generate_from_full_text_keywords,
    generate_threshold_rules,
    generate_excludes_ineligible_profiles,
    generate_validation_changes_nothing,
    generate_permissions,
    generate_concurrent_requests,
    call_suggestions_filter_and_permissions,
    confirm_and_reject,
    review_wrong_status,
    review_permissions,
    delete_suggestion,
    send_invitations_creates_entries,
    send_invitations_concurrent,
    send_invitations_skips_unpublished,
    list_filters_and_ordering,
    list_pagination_and_count,
    list_visibility,
    top_proposals_report_conflicts,
    matrix_suggestion_scopes,
);

fn generate_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/generate-suggestions/")
}

fn call_suggestions_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/suggestions/")
}

fn send_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/send-invitations/")
}

fn suggestion_path(uuid: &str, action: &str) -> String {
    if action.is_empty() {
        format!("/api/reviewer-suggestions/{uuid}/")
    } else {
        format!("/api/reviewer-suggestions/{uuid}/{action}/")
    }
}

fn matrix_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/affinity-matrix/")
}

fn parse(uuid: &str) -> Uuid {
    Uuid::try_parse(uuid).expect("a UUID")
}

/// A user with a published reviewer profile outside any pool.
struct Candidate {
    user: TestUser,
    profile_uuid: String,
}

/// Creates a user with a published profile and the given (keyword, proficiency) expertise.
async fn candidate(app: &TestApp, username: &str, expertise: &[(&str, &str)]) -> Candidate {
    let user = app.user(username).await;
    let profile = app.profile(&user).await;
    let profile_uuid = profile["uuid"].as_str().expect("profile uuid").to_owned();
    for (keyword, level) in expertise {
        app.post(
            &app.staff,
            &format!("/api/reviewer-profiles/{profile_uuid}/expertise/"),
            json!({"expertise_keyword": keyword, "proficiency_level": level}),
        )
        .await
        .expect(201);
    }
    Candidate { user, profile_uuid }
}

async fn proposal_with_text(app: &TestApp, setup: &CallSetup, name: &str, summary: &str) -> String {
    app.post(
        &app.staff,
        "/api/proposal-proposals/",
        json!({"round": setup.round_uuid, "name": name, "project_summary": summary}),
    )
    .await
    .expect(201)
    .str("uuid")
}

/// A call with one accepted pool reviewer (`reviewer0`, a graph theorist), a proposal on graph
/// theory and one on protein folding, and three candidates outside the pool: `ada` (graph
/// theory), `bob` (protein folding) and `cyd` (no expertise).
struct TopicCall {
    setup: CallSetup,
    graphs: String,
    proteins: String,
    ada: Candidate,
    bob: Candidate,
    cyd: Candidate,
}

async fn topic_call(app: &TestApp) -> TopicCall {
    let setup = app.call_setup(0, 1).await;

    let pooled = setup.reviewers[0].profile_uuid();
    app.post(
        &app.staff,
        &format!("/api/reviewer-profiles/{pooled}/expertise/"),
        json!({"expertise_keyword": "graph theory", "proficiency_level": "expert"}),
    )
    .await
    .expect(201);

    let graphs = proposal_with_text(
        app,
        &setup,
        "Spectral graph theory",
        "Eigenvalues of graph Laplacians and expander graphs.",
    )
    .await;
    let proteins = proposal_with_text(
        app,
        &setup,
        "Folding dynamics",
        "Simulating protein folding with coarse-grained models.",
    )
    .await;

    let ada = candidate(app, "ada", &[("graph theory", "expert")]).await;
    let bob = candidate(app, "bob", &[("protein folding", "expert")]).await;
    let cyd = candidate(app, "cyd", &[]).await;
    TopicCall {
        setup,
        graphs,
        proteins,
        ada,
        bob,
        cyd,
    }
}

async fn generate(app: &TestApp, call_uuid: &str, body: Value) -> Reply {
    app.post(&app.staff, &generate_path(call_uuid), body)
        .await
        .expect(200)
}

/// Finds the suggestion of a reviewer profile in a `generate-suggestions` reply.
fn suggestion_of<'a>(reply: &'a Reply, profile_uuid: &str) -> Option<&'a Value> {
    reply.body["suggestions"]
        .as_array()
        .expect("a suggestions array")
        .iter()
        .find(|suggestion| suggestion["reviewer_uuid"] == profile_uuid)
}

fn suggested_reviewers(reply: &Reply) -> Vec<String> {
    let mut reviewers: Vec<String> = reply.body["suggestions"]
        .as_array()
        .expect("a suggestions array")
        .iter()
        .map(|suggestion| {
            suggestion["reviewer_uuid"]
                .as_str()
                .expect("uuid")
                .to_owned()
        })
        .collect();
    reviewers.sort();
    reviewers
}

fn sorted(mut uuids: Vec<String>) -> Vec<String> {
    uuids.sort();
    uuids
}

/// Generates with threshold 0 and returns the suggestion UUID of each candidate by username.
async fn generate_all(app: &TestApp, call: &TopicCall) -> (String, String, String) {
    let reply = generate(
        app,
        &call.setup.call_uuid,
        json!({"min_affinity_threshold": 0}),
    )
    .await;
    let uuid_of = |candidate: &Candidate| {
        suggestion_of(&reply, &candidate.profile_uuid)
            .unwrap_or_else(|| panic!("{} was not suggested", candidate.user.username))["uuid"]
            .as_str()
            .expect("suggestion uuid")
            .to_owned()
    };
    (uuid_of(&call.ada), uuid_of(&call.bob), uuid_of(&call.cyd))
}

async fn generate_from_all_proposals(app: TestApp) {
    let call = topic_call(&app).await;
    let reply = generate(&app, &call.setup.call_uuid, json!({})).await;

    assert_eq!(reply.body["source_used"], "all_proposals");
    assert_eq!(reply.body["reviewers_evaluated"], 3);
    assert_eq!(reply.body["suggestions_created"], 2);
    assert_eq!(
        suggested_reviewers(&reply),
        sorted(vec![
            call.ada.profile_uuid.clone(),
            call.bob.profile_uuid.clone()
        ])
    );

    let ada = suggestion_of(&reply, &call.ada.profile_uuid).expect("ada is suggested");
    assert_eq!(ada["reviewer_name"], "ada Example");
    assert_eq!(ada["keyword_score"], 0.5, "one of two proposals matches");
    assert_eq!(ada["matched_keywords"], json!(["graph theory"]));
    let top = ada["top_matching_proposals"].as_array().expect("top list");
    assert_eq!(top.len(), 2);
    assert_eq!(top[0]["uuid"], call.graphs.as_str());
    assert_eq!(top[0]["name"], "Spectral graph theory");
    assert!(top[0]["slug"].is_string());
    assert_eq!(top[0]["keyword_score"], 1.0);
    assert_eq!(top[0]["has_coi"], false);
    assert_eq!(top[0]["coi_status"], "unknown");
    assert_eq!(top[1]["uuid"], call.proteins.as_str());
    let mean = (top[0]["affinity"].as_f64().expect("affinity")
        + top[1]["affinity"].as_f64().expect("affinity"))
        / 2.0;
    let score = ada["affinity_score"].as_f64().expect("score");
    assert!(
        (score - mean).abs() < 0.0002,
        "{score} is not the mean {mean}"
    );

    let listed = app
        .get(&app.staff, &call_suggestions_path(&call.setup.call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.array().len(), 2);
    for suggestion in listed.array() {
        assert_eq!(suggestion["status"], "pending");
        assert_eq!(suggestion["status_display"], "Awaiting manager review");
        assert_eq!(suggestion["source_type"], "all_proposals");
        assert_eq!(suggestion["source_type_display"], "All proposals");
        assert_eq!(suggestion["reviewed_by_name"], Value::Null);
    }
    let created: Vec<_> = app
        .call_audit_events(&call.setup.call_uuid)
        .await
        .into_iter()
        .filter(|event| event.action == "suggestion.created")
        .collect();
    assert_eq!(created.len(), 2);
}

async fn generate_falls_back_to_call_description(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    app.patch(
        &app.staff,
        &format!("/api/proposal-protected-calls/{}/", setup.call_uuid),
        json!({"description": "Observing time for radio astronomy surveys."}),
    )
    .await
    .expect(200);
    let astronomer = candidate(&app, "ada", &[("radio astronomy", "expert")]).await;
    candidate(&app, "bob", &[("protein folding", "expert")]).await;

    let reply = generate(&app, &setup.call_uuid, json!({})).await;
    assert_eq!(reply.body["source_used"], "call_description");
    assert_eq!(reply.body["suggestions_created"], 1);
    let suggestion = suggestion_of(&reply, &astronomer.profile_uuid).expect("suggested");
    assert_eq!(suggestion["matched_keywords"], json!(["radio astronomy"]));
    assert_eq!(suggestion["top_matching_proposals"], json!([]));

    let listed = app
        .get(&app.staff, &call_suggestions_path(&setup.call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.array()[0]["source_type"], "call_description");
}

async fn generate_from_selected_proposals(app: TestApp) {
    let call = topic_call(&app).await;
    let other = app.call_setup(1, 0).await;
    let reply = generate(
        &app,
        &call.setup.call_uuid,
        json!({"source": "selected_proposals", "proposal_uuids": [call.proteins, other.proposal_uuid(0)]}),
    )
    .await;
    assert_eq!(reply.body["source_used"], "selected_proposals");
    assert_eq!(
        suggested_reviewers(&reply),
        vec![call.bob.profile_uuid.clone()],
        "only the protein proposal counts"
    );
    let bob = suggestion_of(&reply, &call.bob.profile_uuid).expect("bob");
    let top = bob["top_matching_proposals"].as_array().expect("top list");
    assert_eq!(top.len(), 1);
    assert_eq!(top[0]["uuid"], call.proteins.as_str());
    assert_eq!(bob["keyword_score"], 1.0);

    let foreign_only = generate(
        &app,
        &call.setup.call_uuid,
        json!({"source": "selected_proposals", "proposal_uuids": [other.proposal_uuid(0)], "min_affinity_threshold": 0}),
    )
    .await;
    assert_eq!(foreign_only.body["suggestions_created"], 0);
    assert_eq!(foreign_only.body["reviewers_evaluated"], 0);
    assert_eq!(foreign_only.body["suggestions"], json!([]));

    let missing = app
        .post(
            &app.staff,
            &generate_path(&call.setup.call_uuid),
            json!({"source": "selected_proposals"}),
        )
        .await
        .expect(400);
    assert!(
        missing.body["proposal_uuids"][0]
            .as_str()
            .expect("a message")
            .contains("required")
    );
}

async fn generate_from_call_description(app: TestApp) {
    let call = topic_call(&app).await;
    app.patch(
        &app.staff,
        &format!("/api/proposal-protected-calls/{}/", call.setup.call_uuid),
        json!({"description": "Protein folding simulations on supercomputers."}),
    )
    .await
    .expect(200);
    let reply = generate(
        &app,
        &call.setup.call_uuid,
        json!({"source": "call_description"}),
    )
    .await;
    assert_eq!(reply.body["source_used"], "call_description");
    assert_eq!(
        suggested_reviewers(&reply),
        vec![call.bob.profile_uuid.clone()]
    );
    let bob = suggestion_of(&reply, &call.bob.profile_uuid).expect("bob");
    assert_eq!(bob["keyword_score"], 1.0);
    assert!(bob["text_score"].as_f64().expect("a text score") > 0.0);
    assert_eq!(bob["top_matching_proposals"], json!([]));
}

async fn generate_from_expertise_keywords(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let basic = candidate(
        &app,
        "ada",
        &[("Machine-Learning", "basic"), ("optics", "expert")],
    )
    .await;
    let both = candidate(
        &app,
        "bob",
        &[("machine learning", "familiar"), ("lasers", "expert")],
    )
    .await;
    candidate(&app, "cyd", &[("astronomy", "expert")]).await;

    let reply = generate(
        &app,
        &setup.call_uuid,
        json!({"source": "custom_keywords", "keywords": ["machine learning", "Lasers"]}),
    )
    .await;
    assert_eq!(reply.body["source_used"], "custom_keywords");
    assert_eq!(reply.body["reviewers_evaluated"], 3);
    assert_eq!(reply.body["suggestions_created"], 2);

    let first = suggestion_of(&reply, &basic.profile_uuid).expect("basic proficiency counts");
    assert_eq!(first["affinity_score"], 0.5);
    assert_eq!(first["keyword_score"], 0.5);
    assert_eq!(first["text_score"], Value::Null);
    assert_eq!(first["matched_keywords"], json!(["machine learning"]));
    let second = suggestion_of(&reply, &both.profile_uuid).expect("both keywords");
    assert_eq!(second["affinity_score"], 1.0);
    assert_eq!(
        second["matched_keywords"],
        json!(["lasers", "machine learning"])
    );
    assert_eq!(
        reply.body["suggestions"][0]["reviewer_uuid"],
        both.profile_uuid.as_str(),
        "highest affinity first"
    );
}

async fn generate_from_full_text_keywords(app: TestApp) {
    let call = topic_call(&app).await;
    let reply = generate(
        &app,
        &call.setup.call_uuid,
        json!({"source": "custom_keywords", "keyword_search_mode": "full_text",
               "keywords": ["graph theory", "spectral methods"]}),
    )
    .await;
    assert_eq!(reply.body["source_used"], "custom_keywords");
    assert_eq!(
        suggested_reviewers(&reply),
        vec![call.ada.profile_uuid.clone()]
    );
    let ada = suggestion_of(&reply, &call.ada.profile_uuid).expect("ada");
    assert_eq!(ada["keyword_score"], 1.0);
    assert!(ada["text_score"].as_f64().expect("a text score") > 0.0);
}

async fn generate_threshold_rules(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = &call.setup.call_uuid;

    let strict = generate(&app, call_uuid, json!({"min_affinity_threshold": 1})).await;
    assert_eq!(strict.body["suggestions_created"], 0);
    assert_eq!(strict.body["reviewers_evaluated"], 3);

    app.patch(
        &app.staff,
        &format!("/api/proposal-protected-calls/{call_uuid}/matching-configuration/"),
        json!({"min_affinity_threshold": 0}),
    )
    .await
    .expect(200);
    let configured = generate(&app, call_uuid, json!({})).await;
    assert_eq!(
        configured.body["suggestions_created"], 3,
        "the call's threshold 0 admits the candidate without a match"
    );
    let cyd = suggestion_of(&configured, &call.cyd.profile_uuid).expect("cyd");
    assert_eq!(cyd["affinity_score"], 0.0);
    assert_eq!(cyd["keyword_score"], Value::Null);
    assert_eq!(cyd["text_score"], Value::Null);
    assert_eq!(cyd["matched_keywords"], json!([]));
}

async fn generate_excludes_ineligible_profiles(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = call.setup.call_uuid.clone();

    let pending = app.invited_reviewer(&call_uuid, "pending").await;
    let declined = app.invited_reviewer(&call_uuid, "declined").await;
    app.post(
        &declined.user,
        &format!(
            "/api/call-reviewer-pools/{}/decline/",
            declined.entry_uuid()
        ),
        json!({"reason": "Busy"}),
    )
    .await
    .expect(200);
    app.post(
        &app.staff,
        &format!("/api/proposal-protected-calls/{call_uuid}/invite-by-email/"),
        json!({"email": "LATER@Example.org"}),
    )
    .await
    .expect(201);
    let by_email = candidate(&app, "later", &[("graph theory", "expert")]).await;

    let unpublished_user = app.user("unpublished").await;
    let unpublished = app
        .post(
            &unpublished_user,
            "/api/reviewer-profiles/",
            json!({"biography": "Graph theory."}),
        )
        .await
        .expect(201)
        .str("uuid");
    let unavailable = candidate(&app, "unavailable", &[("graph theory", "expert")]).await;
    app.patch(
        &app.staff,
        &format!("/api/reviewer-profiles/{}/", unavailable.profile_uuid),
        json!({"available_for_reviews": false}),
    )
    .await
    .expect(200);

    let first = generate(&app, &call_uuid, json!({"min_affinity_threshold": 0})).await;
    assert_eq!(first.body["reviewers_evaluated"], 3);
    assert_eq!(
        suggested_reviewers(&first),
        sorted(vec![
            call.ada.profile_uuid.clone(),
            call.bob.profile_uuid.clone(),
            call.cyd.profile_uuid.clone(),
        ])
    );
    for excluded in [
        call.setup.reviewers[0].profile_uuid(),
        pending.profile_uuid(),
        declined.profile_uuid(),
        by_email.profile_uuid.clone(),
        unpublished.clone(),
        unavailable.profile_uuid.clone(),
    ] {
        assert!(
            suggestion_of(&first, &excluded).is_none(),
            "{excluded} must not be suggested"
        );
    }

    let again = generate(&app, &call_uuid, json!({"min_affinity_threshold": 0})).await;
    assert_eq!(
        again.body["reviewers_evaluated"], 0,
        "all were suggested already"
    );
    assert_eq!(again.body["suggestions_created"], 0);
    let listed = app
        .get(&app.staff, &call_suggestions_path(&call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.array().len(), 3);
}

async fn generate_validation_changes_nothing(app: TestApp) {
    let call = topic_call(&app).await;
    let path = generate_path(&call.setup.call_uuid);
    let cases = [
        (json!({"source": "everything"}), "source", "everything"),
        (json!({"source": "custom_keywords"}), "keywords", "required"),
        (
            json!({"source": "custom_keywords", "keywords": []}),
            "keywords",
            "required",
        ),
        (
            json!({"source": "custom_keywords", "keywords": ["  "]}),
            "keywords",
            "blank",
        ),
        (
            json!({"source": "custom_keywords", "keywords": ["x".repeat(101)]}),
            "keywords",
            "101 characters",
        ),
        (
            json!({"source": "custom_keywords", "keywords": ["optics"], "keyword_search_mode": "fuzzy"}),
            "keyword_search_mode",
            "fuzzy",
        ),
        (
            json!({"source": "selected_proposals", "proposal_uuids": []}),
            "proposal_uuids",
            "required",
        ),
        (
            json!({"source": "selected_proposals", "proposal_uuids": ["nope"]}),
            "proposal_uuids[0]",
            "nope",
        ),
        (
            json!({"min_affinity_threshold": 1.5}),
            "min_affinity_threshold",
            "1.5",
        ),
        (
            json!({"min_affinity_threshold": -0.1}),
            "min_affinity_threshold",
            "between 0 and 1",
        ),
    ];
    for (body, field, fragment) in cases {
        let reply = app.post(&app.staff, &path, body.clone()).await.expect(400);
        let message = reply.body[field][0]
            .as_str()
            .unwrap_or_else(|| panic!("no message on {field} for {body}: {}", reply.body));
        assert!(
            message.contains(fragment),
            "{field} message {message:?} lacks {fragment:?}"
        );
    }

    let accepted_keyword = "k".repeat(100);
    let longest = app
        .post(
            &app.staff,
            &path,
            json!({"source": "custom_keywords", "keywords": [accepted_keyword]}),
        )
        .await
        .expect(200);
    assert_eq!(longest.body["suggestions_created"], 0);

    let listed = app
        .get(&app.staff, &call_suggestions_path(&call.setup.call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.array().len(), 0, "refused requests create nothing");
}

async fn generate_permissions(app: TestApp) {
    let call = topic_call(&app).await;
    let path = generate_path(&call.setup.call_uuid);
    let body = json!({"source": "custom_keywords", "keywords": ["graph theory"]});

    let call_manager = app.user("call-manager").await;
    app.grant_call_role(&call.setup.call_uuid, &call_manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&call.setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&call.setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let outsider = app.user("outsider").await;

    app.post(&TestUser::anonymous(), &path, body.clone())
        .await
        .expect(401);
    app.post(&call.setup.reviewers[0].user, &path, body.clone())
        .await
        .expect(404);
    app.post(&call.ada.user, &path, body.clone())
        .await
        .expect(404);
    app.post(&outsider, &path, body.clone()).await.expect(404);
    app.post(&member, &path, body.clone()).await.expect(403);
    app.post(&support, &path, body.clone()).await.expect(403);
    let listed = app
        .get(&app.staff, &call_suggestions_path(&call.setup.call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.array().len(), 0, "refusals create nothing");

    let by_manager = app
        .post(&call_manager, &path, body.clone())
        .await
        .expect(200);
    assert_eq!(by_manager.body["suggestions_created"], 1);
    let by_owner = app.post(&owner, &path, body).await.expect(200);
    assert_eq!(by_owner.body["suggestions_created"], 0);
    app.post(
        &app.staff,
        &generate_path(&Uuid::new_v4().simple().to_string()),
        json!({}),
    )
    .await
    .expect(404);
    app.get(&app.staff, &path).await.expect(405);
}

async fn generate_concurrent_requests(app: TestApp) {
    let call = topic_call(&app).await;
    let path = generate_path(&call.setup.call_uuid);
    let body = json!({"min_affinity_threshold": 0});
    let (first, second) = tokio::join!(
        app.post(&app.staff, &path, body.clone()),
        app.post(&app.staff, &path, body.clone()),
    );
    let first = first.expect(200);
    let second = second.expect(200);
    let created = first.body["suggestions_created"].as_u64().expect("count")
        + second.body["suggestions_created"].as_u64().expect("count");
    assert_eq!(created, 3, "each candidate is suggested once");

    let listed = app
        .get(&app.staff, &call_suggestions_path(&call.setup.call_uuid))
        .await
        .expect(200);
    assert_eq!(listed.array().len(), 3);
}

async fn call_suggestions_filter_and_permissions(app: TestApp) {
    let call = topic_call(&app).await;
    let (ada, bob, _cyd) = generate_all(&app, &call).await;
    app.post(&app.staff, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(200);
    app.post(&app.staff, &suggestion_path(&bob, "reject"), json!({}))
        .await
        .expect(200);
    let path = call_suggestions_path(&call.setup.call_uuid);

    let all = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(all.array().len(), 3);
    assert_eq!(all.count(), 3);
    assert_eq!(all.header("link"), "", "the call's list is not paginated");
    let scores: Vec<f64> = all
        .array()
        .iter()
        .map(|row| row["affinity_score"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );

    let confirmed = app
        .get(&app.staff, &format!("{path}?status=confirmed"))
        .await
        .expect(200);
    assert_eq!(confirmed.array().len(), 1);
    assert_eq!(confirmed.array()[0]["uuid"], ada.as_str());
    let two = app
        .get(
            &app.staff,
            &format!("{path}?status=confirmed&status=rejected"),
        )
        .await
        .expect(200);
    assert_eq!(two.array().len(), 2);
    let invalid = app
        .get(&app.staff, &format!("{path}?status=maybe"))
        .await
        .expect(400);
    assert!(
        invalid.body["status"][0]
            .as_str()
            .expect("message")
            .contains("maybe")
    );

    let member = app.user("member").await;
    app.grant_customer_role(&call.setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    for user in [&member, &support] {
        let reply = app.get(user, &path).await.expect(200);
        assert_eq!(reply.array().len(), 3, "{}", user.username);
    }
    app.get(&call.setup.reviewers[0].user, &path)
        .await
        .expect(404);
    app.get(&call.ada.user, &path).await.expect(404);
    app.get(&TestUser::anonymous(), &path).await.expect(401);
}

async fn confirm_and_reject(app: TestApp) {
    let call = topic_call(&app).await;
    let (ada, bob, _cyd) = generate_all(&app, &call).await;

    let confirmed = app
        .post(
            &app.staff,
            &suggestion_path(&ada, "confirm"),
            json!({"ignored": true}),
        )
        .await
        .expect(200);
    assert_eq!(confirmed.str("status"), "confirmed");
    assert_eq!(confirmed.str("status_display"), "Manager approved");
    assert_eq!(confirmed.str("reviewed_by_name"), "Staff User");
    assert_eq!(
        confirmed.str("reviewed_by"),
        format!("{}/api/users/{}/", app.base, app.staff.uuid)
    );
    assert!(confirmed.body["reviewed_at"].is_string());
    assert_eq!(confirmed.str("rejection_reason"), "");

    let rejected = app
        .post(
            &app.staff,
            &suggestion_path(&bob, "reject"),
            json!({"reason": "Reviews for a competing group."}),
        )
        .await
        .expect(200);
    assert_eq!(rejected.str("status"), "rejected");
    assert_eq!(rejected.str("status_display"), "Manager rejected");
    assert_eq!(
        rejected.str("rejection_reason"),
        "Reviews for a competing group."
    );

    let retrieved = app
        .get(&app.staff, &suggestion_path(&bob, ""))
        .await
        .expect(200);
    assert_eq!(retrieved.body, rejected.body);
    assert_eq!(retrieved.str("reviewer_uuid"), call.bob.profile_uuid);
    assert_eq!(retrieved.str("reviewer_email"), "bob@example.org");
    assert_eq!(retrieved.str("reviewer_biography"), "Reviewer bob.");
    assert_eq!(retrieved.str("call_uuid"), call.setup.call_uuid);
    assert_eq!(retrieved.str("call_name"), "Call");
    assert_eq!(
        retrieved.str("url"),
        format!("{}/api/reviewer-suggestions/{bob}/", app.base)
    );

    let events = app.call_audit_events(&call.setup.call_uuid).await;
    let confirm_event = events
        .iter()
        .find(|event| event.action == "suggestion.confirmed")
        .expect("a confirm event");
    assert_eq!(confirm_event.object_type, "suggestion");
    assert_eq!(confirm_event.object_uuid, parse(&ada));
    assert_eq!(confirm_event.actor_name, "Staff User");
    let reject_event = events
        .iter()
        .find(|event| event.action == "suggestion.rejected")
        .expect("a reject event");
    assert_eq!(reject_event.reason, "Reviews for a competing group.");
    assert!(
        reject_event
            .after_state
            .as_deref()
            .expect("an after state")
            .contains("\"rejected\"")
    );
}

async fn review_wrong_status(app: TestApp) {
    let call = topic_call(&app).await;
    let (ada, bob, _cyd) = generate_all(&app, &call).await;
    app.post(&app.staff, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(200);
    app.post(&app.staff, &suggestion_path(&bob, "reject"), json!({}))
        .await
        .expect(200);

    for (uuid, action, current) in [
        (&ada, "confirm", "confirmed"),
        (&ada, "reject", "confirmed"),
        (&bob, "confirm", "rejected"),
        (&bob, "reject", "rejected"),
    ] {
        let reply = app
            .post(&app.staff, &suggestion_path(uuid, action), json!({}))
            .await
            .expect(400);
        assert_eq!(reply.str("code"), "suggestion_not_pending");
        assert!(
            reply.str("error").contains(current),
            "{action}: {}",
            reply.body
        );
    }
    let unchanged = app
        .get(&app.staff, &suggestion_path(&bob, ""))
        .await
        .expect(200);
    assert_eq!(unchanged.str("status"), "rejected");

    let invalid = app
        .post(
            &app.staff,
            &suggestion_path(&ada, "reject"),
            json!({"reason": 5}),
        )
        .await
        .expect(400);
    assert!(invalid.body["reason"].is_array());
}

async fn review_permissions(app: TestApp) {
    let call = topic_call(&app).await;
    let (ada, bob, cyd) = generate_all(&app, &call).await;

    let call_manager = app.user("call-manager").await;
    app.grant_call_role(&call.setup.call_uuid, &call_manager, "CALL.MANAGER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&call.setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let outsider = app.user("outsider").await;

    app.post(&support, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(403);
    app.post(&support, &suggestion_path(&ada, "reject"), json!({}))
        .await
        .expect(403);
    app.delete(&support, &suggestion_path(&ada, ""))
        .await
        .expect(403);
    for user in [&outsider, &call.setup.reviewers[0].user, &call.ada.user] {
        app.get(user, &suggestion_path(&ada, "")).await.expect(404);
        app.post(user, &suggestion_path(&ada, "confirm"), json!({}))
            .await
            .expect(404);
        app.delete(user, &suggestion_path(&ada, ""))
            .await
            .expect(404);
    }
    let anonymous = TestUser::anonymous();
    app.get(&anonymous, &suggestion_path(&ada, ""))
        .await
        .expect(401);
    app.post(&anonymous, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(401);
    app.delete(&anonymous, &suggestion_path(&ada, ""))
        .await
        .expect(401);
    assert_eq!(
        app.get(&app.staff, &suggestion_path(&ada, ""))
            .await
            .expect(200)
            .str("status"),
        "pending",
        "refusals change nothing"
    );

    let by_member = app
        .post(&member, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(200);
    assert_eq!(by_member.str("reviewed_by_name"), "member Example");
    app.delete(&member, &suggestion_path(&bob, ""))
        .await
        .expect(403);
    let by_manager = app
        .post(&call_manager, &suggestion_path(&bob, "reject"), json!({}))
        .await
        .expect(200);
    assert_eq!(by_manager.str("status"), "rejected");
    app.delete(&call_manager, &suggestion_path(&cyd, ""))
        .await
        .expect(204);
    for user in [&support, &member] {
        app.get(user, &suggestion_path(&ada, "")).await.expect(200);
    }
}

async fn delete_suggestion(app: TestApp) {
    let call = topic_call(&app).await;
    let (ada, _bob, _cyd) = generate_all(&app, &call).await;
    app.post(&app.staff, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(200);

    let deleted = app
        .delete(&app.staff, &suggestion_path(&ada, ""))
        .await
        .expect(204);
    assert_eq!(deleted.body, Value::Null);
    app.get(&app.staff, &suggestion_path(&ada, ""))
        .await
        .expect(404);
    app.delete(&app.staff, &suggestion_path(&ada, ""))
        .await
        .expect(404);
    app.delete(&app.staff, &suggestion_path("not-a-uuid", ""))
        .await
        .expect(404);

    let event = app
        .call_audit_events(&call.setup.call_uuid)
        .await
        .into_iter()
        .find(|event| event.action == "suggestion.deleted")
        .expect("a delete event");
    assert!(
        event
            .before_state
            .expect("a before state")
            .contains("confirmed")
    );
    assert_eq!(event.after_state, None);

    let again = generate(
        &app,
        &call.setup.call_uuid,
        json!({"min_affinity_threshold": 0}),
    )
    .await;
    assert_eq!(
        suggested_reviewers(&again),
        vec![call.ada.profile_uuid.clone()],
        "a deleted suggestion can be generated again"
    );
}

async fn send_invitations_creates_entries(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = call.setup.call_uuid.clone();
    let (ada, bob, cyd) = generate_all(&app, &call).await;
    let extra = candidate(&app, "dee", &[]).await;
    let dee = generate(&app, &call_uuid, json!({"min_affinity_threshold": 0}))
        .await
        .body["suggestions"][0]["uuid"]
        .as_str()
        .expect("dee's suggestion")
        .to_owned();
    for uuid in [&ada, &cyd, &dee] {
        app.post(&app.staff, &suggestion_path(uuid, "confirm"), json!({}))
            .await
            .expect(200);
    }
    app.post(&app.staff, &suggestion_path(&bob, "reject"), json!({}))
        .await
        .expect(200);
    // Invited by hand after confirmation: send-invitations must not invite again.
    app.invite(&call_uuid, &extra.profile_uuid).await;
    let ada_score = app
        .get(&app.staff, &suggestion_path(&ada, ""))
        .await
        .expect(200)
        .body["affinity_score"]
        .as_f64()
        .expect("score");

    let sent = app
        .post(&app.staff, &send_path(&call_uuid), json!({}))
        .await
        .expect(200);
    assert_eq!(sent.body, json!({"invitations_sent": 2}));

    for (uuid, status) in [
        (&ada, "invited"),
        (&cyd, "invited"),
        (&dee, "invited"),
        (&bob, "rejected"),
    ] {
        let reply = app
            .get(&app.staff, &suggestion_path(uuid, ""))
            .await
            .expect(200);
        assert_eq!(reply.str("status"), status, "{uuid}");
    }
    let invited = app
        .get(&app.staff, &suggestion_path(&ada, ""))
        .await
        .expect(200);
    assert_eq!(invited.str("status_display"), "Invitation sent");

    let pool = app
        .get(
            &app.staff,
            &format!("/api/proposal-protected-calls/{call_uuid}/reviewer-pool/"),
        )
        .await
        .expect(200);
    let entry_of = |profile: &str| {
        pool.array()
            .iter()
            .filter(|entry| entry["reviewer_uuid"] == profile)
            .cloned()
            .collect::<Vec<Value>>()
    };
    let ada_entries = entry_of(&call.ada.profile_uuid);
    assert_eq!(ada_entries.len(), 1);
    assert_eq!(ada_entries[0]["invitation_status"], "pending");
    assert_eq!(ada_entries[0]["expertise_match_score"], json!(ada_score));
    assert_eq!(ada_entries[0]["max_assignments"], 5);
    assert_eq!(ada_entries[0]["invited_by_name"], "Staff User");
    assert_eq!(entry_of(&call.cyd.profile_uuid).len(), 1);
    assert_eq!(entry_of(&extra.profile_uuid).len(), 1);
    assert_eq!(
        entry_of(&extra.profile_uuid)[0]["expertise_match_score"],
        Value::Null,
        "the hand-made invitation is left as it was"
    );
    assert!(entry_of(&call.bob.profile_uuid).is_empty());

    let mut invitations: Vec<String> = app
        .call_outbox(&call_uuid)
        .await
        .into_iter()
        .filter(|message| message.template == "pool_invitation")
        .map(|message| message.recipient_email)
        .collect();
    invitations.sort();
    assert_eq!(
        invitations,
        [
            "ada@example.org",
            "cyd@example.org",
            "dee@example.org",
            "reviewer0@example.org"
        ],
        "one e-mail per invitation, as for invitations made by hand"
    );
    let events = app.call_audit_events(&call_uuid).await;
    assert_eq!(
        events
            .iter()
            .filter(|event| event.action == "suggestion.invited")
            .count(),
        3
    );
    let pool_event = events
        .iter()
        .find(|event| {
            event.action == "pool_entry.invited"
                && event.object_uuid == parse(ada_entries[0]["uuid"].as_str().expect("uuid"))
        })
        .expect("the pool invitation is audited");
    assert!(
        pool_event
            .reason
            .contains(&Uuid::try_parse(&ada).expect("uuid").simple().to_string())
    );

    let repeated = app
        .post(&app.staff, &send_path(&call_uuid), json!({}))
        .await
        .expect(200);
    assert_eq!(repeated.body, json!({"invitations_sent": 0}));
    let pool_again = app
        .get(
            &app.staff,
            &format!("/api/proposal-protected-calls/{call_uuid}/reviewer-pool/"),
        )
        .await
        .expect(200);
    assert_eq!(pool_again.array().len(), pool.array().len());

    let member = app.user("member").await;
    app.grant_customer_role(&call.setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    app.post(&member, &send_path(&call_uuid), json!({}))
        .await
        .expect(403);
    app.post(&call.ada.user, &send_path(&call_uuid), json!({}))
        .await
        .expect(404);
    app.post(&TestUser::anonymous(), &send_path(&call_uuid), json!({}))
        .await
        .expect(401);
}

async fn send_invitations_concurrent(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = call.setup.call_uuid.clone();
    let (ada, bob, cyd) = generate_all(&app, &call).await;
    for uuid in [&ada, &bob, &cyd] {
        app.post(&app.staff, &suggestion_path(uuid, "confirm"), json!({}))
            .await
            .expect(200);
    }
    let path = send_path(&call_uuid);
    let (first, second) = tokio::join!(
        app.post(&app.staff, &path, json!({})),
        app.post(&app.staff, &path, json!({})),
    );
    let total = first.expect(200).body["invitations_sent"]
        .as_u64()
        .expect("count")
        + second.expect(200).body["invitations_sent"]
            .as_u64()
            .expect("count");
    assert_eq!(total, 3, "each confirmed reviewer is invited once");

    let pool = app
        .get(
            &app.staff,
            &format!("/api/proposal-protected-calls/{call_uuid}/reviewer-pool/"),
        )
        .await
        .expect(200);
    assert_eq!(pool.array().len(), 4, "reviewer0 and the three invited");
    let invitations = app
        .call_outbox(&call_uuid)
        .await
        .into_iter()
        .filter(|message| message.template == "pool_invitation")
        .count();
    assert_eq!(invitations, 4);
}

/// Builds the topic call with its three suggestions: ada confirmed, bob rejected, cyd pending.
/// A second call of another organisation suggests bob, and the function returns the UUID of
/// that suggestion too.
async fn two_calls(app: &TestApp) -> (TopicCall, CallSetup, String) {
    let call = topic_call(app).await;
    let (ada, bob, _cyd) = generate_all(app, &call).await;
    app.post(&app.staff, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(200);
    app.post(&app.staff, &suggestion_path(&bob, "reject"), json!({}))
        .await
        .expect(200);

    let other = app.call_setup(0, 0).await;
    let reply = generate(
        app,
        &other.call_uuid,
        json!({"source": "custom_keywords", "keywords": ["protein folding"]}),
    )
    .await;
    let other_suggestion = reply.body["suggestions"][0]["uuid"]
        .as_str()
        .expect("a suggestion in the other call")
        .to_owned();
    (call, other, other_suggestion)
}

fn uuids(reply: &Reply) -> Vec<String> {
    reply
        .array()
        .iter()
        .map(|row| row["uuid"].as_str().expect("uuid").to_owned())
        .collect()
}

async fn list_filters_and_ordering(app: TestApp) {
    let (call, other, other_suggestion) = two_calls(&app).await;
    let list = "/api/reviewer-suggestions/";

    let all = app.get(&app.staff, list).await.expect(200);
    assert_eq!(all.count(), 4);
    let scores: Vec<f64> = all
        .array()
        .iter()
        .map(|row| row["affinity_score"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );

    let by_call = app
        .get(&app.staff, &format!("{list}?call_uuid={}", other.call_uuid))
        .await
        .expect(200);
    assert_eq!(uuids(&by_call), vec![other_suggestion.clone()]);
    let by_reviewer = app
        .get(
            &app.staff,
            &format!("{list}?reviewer_uuid={}", call.bob.profile_uuid),
        )
        .await
        .expect(200);
    assert_eq!(by_reviewer.count(), 2, "bob is suggested in both calls");
    let by_status = app
        .get(&app.staff, &format!("{list}?status=pending"))
        .await
        .expect(200);
    assert_eq!(by_status.count(), 2);
    let by_statuses = app
        .get(
            &app.staff,
            &format!("{list}?status=confirmed&status=rejected"),
        )
        .await
        .expect(200);
    assert_eq!(by_statuses.count(), 2);
    let strong = app
        .get(&app.staff, &format!("{list}?min_affinity_score=0.9"))
        .await
        .expect(200);
    assert_eq!(
        uuids(&strong),
        vec![other_suggestion.clone()],
        "only the keyword match scores 1"
    );

    let by_status_order = app
        .get(&app.staff, &format!("{list}?o=status,-affinity_score"))
        .await
        .expect(200);
    let statuses: Vec<&str> = by_status_order
        .array()
        .iter()
        .map(|row| row["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["confirmed", "pending", "pending", "rejected"]);
    let ascending = app
        .get(&app.staff, &format!("{list}?o=affinity_score"))
        .await
        .expect(200);
    assert_eq!(uuids(&ascending).last(), uuids(&all).first());
    let reviewed = app
        .get(&app.staff, &format!("{list}?o=reviewed_at"))
        .await
        .expect(200);
    let reviewed_first: Vec<bool> = reviewed
        .array()
        .iter()
        .map(|row| row["reviewed_at"].is_string())
        .collect();
    assert_eq!(
        reviewed_first,
        [true, true, false, false],
        "unreviewed last"
    );
    let newest = app
        .get(&app.staff, &format!("{list}?o=-created"))
        .await
        .expect(200);
    assert_eq!(uuids(&newest)[0], other_suggestion);

    for (query, field) in [
        ("o=name", "o"),
        ("status=maybe", "status"),
        ("call_uuid=nope", "call_uuid"),
        ("reviewer_uuid=nope", "reviewer_uuid"),
        ("min_affinity_score=high", "min_affinity_score"),
    ] {
        let reply = app
            .get(&app.staff, &format!("{list}?{query}"))
            .await
            .expect(400);
        assert!(reply.body[field].is_array(), "{query}: {}", reply.body);
    }
}

async fn list_pagination_and_count(app: TestApp) {
    let (_call, other, _other_suggestion) = two_calls(&app).await;
    let list = "/api/reviewer-suggestions/";

    let first = app
        .get(&app.staff, &format!("{list}?page_size=3"))
        .await
        .expect(200);
    assert_eq!(first.array().len(), 3);
    assert_eq!(first.count(), 4);
    assert!(first.header("link").contains("rel=\"next\""));
    let second = app
        .get(&app.staff, &format!("{list}?page_size=3&page=2"))
        .await
        .expect(200);
    assert_eq!(second.array().len(), 1);
    let mut seen = uuids(&first);
    seen.extend(uuids(&second));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4);
    app.get(&app.staff, &format!("{list}?page_size=3&page=3"))
        .await
        .expect(404);

    let head = app.head(&app.staff, list).await.expect(200);
    assert_eq!(head.count(), 4);
    assert_eq!(head.body, Value::Null);
    let head_filtered = app
        .head(
            &app.staff,
            &format!("{list}?call_uuid={}&status=pending", other.call_uuid),
        )
        .await
        .expect(200);
    assert_eq!(head_filtered.count(), 1);
}

async fn list_visibility(app: TestApp) {
    let (call, other, _other_suggestion) = two_calls(&app).await;
    let list = "/api/reviewer-suggestions/";

    let call_manager = app.user("call-manager").await;
    app.grant_call_role(&call.setup.call_uuid, &call_manager, "CALL.MANAGER")
        .await;
    let other_member = app.user("other-member").await;
    app.grant_customer_role(&other.customer_uuid, &other_member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;

    assert_eq!(app.head(&call_manager, list).await.expect(200).count(), 3);
    assert_eq!(app.head(&other_member, list).await.expect(200).count(), 1);
    assert_eq!(app.head(&support, list).await.expect(200).count(), 4);
    for user in [&call.ada.user, &call.setup.reviewers[0].user] {
        let reply = app.get(user, list).await.expect(200);
        assert_eq!(
            reply.array().len(),
            0,
            "{} sees no suggestion",
            user.username
        );
    }
    app.get(&TestUser::anonymous(), list).await.expect(401);
    app.head(&TestUser::anonymous(), list).await.expect(401);
}

/// Records a pending conflict of interest for a pair, as detection would.
async fn record_conflict(app: &TestApp, call_uuid: &str, profile_uuid: &str, proposal_uuid: &str) {
    let at = DbTime(Utc::now());
    let values = (
        conflicts_of_interest::uuid.eq(DbUuid(Uuid::now_v7())),
        conflicts_of_interest::call_uuid.eq(DbUuid(parse(call_uuid))),
        conflicts_of_interest::reviewer_uuid.eq(DbUuid(parse(profile_uuid))),
        conflicts_of_interest::proposal_uuid.eq(Some(DbUuid(parse(proposal_uuid)))),
        conflicts_of_interest::coi_type.eq("COAUTH_RECENT"),
        conflicts_of_interest::severity.eq("apparent"),
        conflicts_of_interest::detection_method.eq("automated"),
        conflicts_of_interest::detected_at.eq(at),
        conflicts_of_interest::evidence_description.eq("Co-authored a paper in 2025."),
        conflicts_of_interest::evidence_data.eq("{}"),
        conflicts_of_interest::status.eq("pending"),
        conflicts_of_interest::review_notes.eq(""),
        conflicts_of_interest::management_plan.eq(""),
        conflicts_of_interest::created.eq(at),
        conflicts_of_interest::modified.eq(at),
    );
    app.state
        .run(move |connection| {
            diesel::insert_into(conflicts_of_interest::table)
                .values(values)
                .execute(connection)?;
            Ok(())
        })
        .await
        .expect("recording a conflict");
}

async fn top_proposals_report_conflicts(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = &call.setup.call_uuid;
    record_conflict(&app, call_uuid, &call.ada.profile_uuid, &call.graphs).await;
    app.mark_evaluated(call_uuid, &call.ada.profile_uuid, &call.proteins)
        .await;

    let reply = generate(&app, call_uuid, json!({})).await;
    let ada = suggestion_of(&reply, &call.ada.profile_uuid).expect("a conflict does not hide ada");
    let top = ada["top_matching_proposals"].as_array().expect("top list");
    assert_eq!(top[0]["uuid"], call.graphs.as_str());
    assert_eq!(top[0]["has_coi"], true);
    assert_eq!(top[0]["coi_type"], "COAUTH_RECENT");
    assert_eq!(top[0]["coi_severity"], "apparent");
    assert_eq!(top[0]["coi_status"], "pending");
    assert_eq!(top[1]["has_coi"], false);
    assert_eq!(top[1]["coi_type"], Value::Null);
    assert_eq!(top[1]["coi_status"], "none");

    let bob = suggestion_of(&reply, &call.bob.profile_uuid).expect("bob");
    assert_eq!(bob["top_matching_proposals"][0]["coi_status"], "unknown");

    let uuid = ada["uuid"].as_str().expect("uuid");
    let retrieved = app
        .get(&app.staff, &suggestion_path(uuid, ""))
        .await
        .expect(200);
    assert_eq!(
        retrieved.body["top_matching_proposals"][0]["coi_status"],
        "pending"
    );
}

fn matrix_rows(reply: &Reply) -> &Vec<Value> {
    reply.body["results"].as_array().expect("a results array")
}

async fn matrix(app: &TestApp, call_uuid: &str, scope: &str) -> Reply {
    app.get(
        &app.staff,
        &format!("{}?scope={scope}&page_size=300", matrix_path(call_uuid)),
    )
    .await
    .expect(200)
}

async fn matrix_suggestion_scopes(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = call.setup.call_uuid.clone();
    app.post(
        &app.staff,
        &format!("/api/proposal-protected-calls/{call_uuid}/compute-affinities/"),
        json!({}),
    )
    .await
    .expect(200);
    let (ada, _bob, cyd) = generate_all(&app, &call).await;
    app.post(&app.staff, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(200);
    app.post(&app.staff, &suggestion_path(&cyd, "reject"), json!({}))
        .await
        .expect(200);
    record_conflict(&app, &call_uuid, &call.bob.profile_uuid, &call.proteins).await;

    let pool = matrix(&app, &call_uuid, "pool").await;
    assert_eq!(pool.body["count"], 2);
    let unknown = matrix(&app, &call_uuid, "other").await;
    assert_eq!(unknown.body["count"], 2);
    for row in matrix_rows(&unknown) {
        assert_eq!(row["source"], "pool");
    }

    let suggested = matrix(&app, &call_uuid, "suggestions").await;
    assert_eq!(
        suggested.body["count"], 4,
        "ada and bob, not the rejected cyd"
    );
    let rows = matrix_rows(&suggested);
    for row in rows {
        assert_eq!(row["source"], "suggestion");
        let uuid = row["uuid"].as_str().expect("uuid");
        assert_eq!(uuid.len(), 32, "hex UUID {uuid}");
        assert_ne!(row["reviewer_uuid"], call.cyd.profile_uuid.as_str());
    }
    let scores: Vec<f64> = rows
        .iter()
        .map(|row| row["affinity_score"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );
    let pair = |reviewer: &str, proposal: &str| {
        rows.iter()
            .find(|row| row["reviewer_uuid"] == reviewer && row["proposal_uuid"] == proposal)
            .unwrap_or_else(|| panic!("no row for {reviewer} / {proposal}"))
            .clone()
    };
    let ada_graphs = pair(&call.ada.profile_uuid, &call.graphs);
    assert_eq!(ada_graphs["keyword_score"], 1.0);
    assert_eq!(ada_graphs["reviewer_name"], "ada Example");
    assert_eq!(ada_graphs["proposal_name"], "Spectral graph theory");
    assert_eq!(ada_graphs["has_conflict"], false);
    assert_eq!(ada_graphs["coi_status"], "unknown");
    let bob_proteins = pair(&call.bob.profile_uuid, &call.proteins);
    assert_eq!(bob_proteins["has_conflict"], true);
    assert_eq!(bob_proteins["coi_type"], "COAUTH_RECENT");
    assert_eq!(bob_proteins["coi_status"], "pending");

    let all = matrix(&app, &call_uuid, "all").await;
    assert_eq!(all.body["count"], 6);
    let sources: Vec<&str> = matrix_rows(&all)
        .iter()
        .map(|row| row["source"].as_str().expect("source"))
        .collect();
    assert_eq!(
        sources.iter().filter(|source| **source == "pool").count(),
        2
    );
    let paged = app
        .get(
            &app.staff,
            &format!("{}?scope=all&page=2&page_size=4", matrix_path(&call_uuid)),
        )
        .await
        .expect(200);
    assert_eq!(paged.body["count"], 6);
    assert_eq!(matrix_rows(&paged).len(), 2);

    app.post(&app.staff, &send_path(&call_uuid), json!({}))
        .await
        .expect(200);
    let after = matrix(&app, &call_uuid, "suggestions").await;
    assert_eq!(
        after.body["count"], 2,
        "invited ada leaves the suggestion rows"
    );
    for row in matrix_rows(&after) {
        assert_eq!(row["reviewer_uuid"], call.bob.profile_uuid.as_str());
    }
}

async fn send_invitations_skips_unpublished(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = call.setup.call_uuid.clone();
    let (ada, _bob, _cyd) = generate_all(&app, &call).await;
    app.post(&app.staff, &suggestion_path(&ada, "confirm"), json!({}))
        .await
        .expect(200);
    let profile_action =
        |action: &str| format!("/api/reviewer-profiles/{}/{action}/", call.ada.profile_uuid);
    app.post(&call.ada.user, &profile_action("unpublish"), json!({}))
        .await
        .expect(200);

    let sent = app
        .post(&app.staff, &send_path(&call_uuid), json!({}))
        .await
        .expect(200);
    assert_eq!(sent.body, json!({"invitations_sent": 0}));
    let kept = app
        .get(&app.staff, &suggestion_path(&ada, ""))
        .await
        .expect(200);
    assert_eq!(kept.str("status"), "confirmed");

    // Published again, the reviewer is invited by the next run.
    app.post(&call.ada.user, &profile_action("publish"), json!({}))
        .await
        .expect(200);
    let sent = app
        .post(&app.staff, &send_path(&call_uuid), json!({}))
        .await
        .expect(200);
    assert_eq!(sent.body, json!({"invitations_sent": 1}));
}
