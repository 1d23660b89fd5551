//! insta JSON snapshots of one representative reply per resource and of every error shape,
//! stored in tests/snapshots/. Each snapshot holds the status and the redacted body, and its
//! header names the request. Both backends compare against the same file, so a reply that
//! differs between SQLite and PostgreSQL fails on one of them.
//!
//! Redaction keeps the snapshots stable between runs and backends: each distinct UUID becomes
//! `[uuid-N]`, numbered in order of first appearance in the request path and then the body (so
//! a snapshot still shows which keys refer to the same object), and timestamps, dates, the
//! server's address, API tokens and invitation tokens become placeholders, also inside longer
//! strings such as hyperlinks, round names and messages.
//!
//! To accept a change, run the tests with `INSTA_UPDATE=always` (or `cargo insta review`) and
//! read every changed `.snap` file before committing it. With `CI` set, insta writes nothing
//! and a changed snapshot fails.

use std::collections::HashMap;
use std::sync::OnceLock;

use referee_conformance::{PoolMember, Reply, TestApp, TestUser, on_both_backends};
use regex::Regex;
use serde_json::{Map, Value, json};

on_both_backends!(
    snapshot_customer_and_user,
    snapshot_call_and_proposal,
    snapshot_profile_and_pool_entry,
    snapshot_batch_item_and_review,
    snapshot_conflict_and_configurations,
    snapshot_generate_assignments,
    snapshot_reviewer_suggestion,
    snapshot_error_shapes,
);

/// Replaces the values that change between runs with placeholders.
struct Redactor {
    base: String,
    uuids: HashMap<String, usize>,
}

fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |pattern: &str| Regex::new(pattern).expect("valid redaction pattern");
        vec![
            (
                compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"),
                "[timestamp]",
            ),
            (compile(r"\b\d{4}-\d{2}-\d{2}\b"), "[date]"),
            // Round names carry their dates as DD.MM.YYYY.
            (compile(r"\b\d{2}\.\d{2}\.\d{4}\b"), "[date]"),
            (compile(r"\b[0-9a-f]{40}\b"), "[token]"),
            (
                compile(r"/reviewer-invitation/[A-Za-z0-9_-]+/"),
                "/reviewer-invitation/[token]/",
            ),
        ]
    })
}

fn uuid_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(
            r"\b([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
        )
        .expect("valid UUID pattern")
    })
}

impl Redactor {
    fn new(app: &TestApp) -> Self {
        Self {
            base: app.base.clone(),
            uuids: HashMap::new(),
        }
    }

    fn value(&mut self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(text)),
            Value::Array(values) => Value::Array(values.iter().map(|v| self.value(v)).collect()),
            Value::Object(object) => {
                let mut redacted = Map::new();
                for (key, value) in object {
                    let key = self.text(key);
                    let value = self.value(value);
                    redacted.insert(key, value);
                }
                Value::Object(redacted)
            }
            other => other.clone(),
        }
    }

    fn text(&mut self, text: &str) -> String {
        let mut text = text.replace(&self.base, "http://[host]");
        for (pattern, placeholder) in patterns() {
            text = pattern.replace_all(&text, *placeholder).into_owned();
        }

        let mut redacted = String::with_capacity(text.len());
        let mut last = 0;
        for found in uuid_pattern().find_iter(&text) {
            redacted.push_str(&text[last..found.start()]);
            let canonical = found.as_str().replace('-', "");
            let next = self.uuids.len() + 1;
            let number = *self.uuids.entry(canonical).or_insert(next);
            redacted.push_str(&format!("[uuid-{number}]"));
            last = found.end();
        }
        redacted.push_str(&text[last..]);
        redacted
    }
}

/// Compares the reply's status and redacted body with the snapshot `tests/snapshots/NAME.snap`.
#[track_caller]
fn assert_reply_snapshot(app: &TestApp, name: &str, reply: &Reply) {
    let mut redactor = Redactor::new(app);
    let request = format!("{} {}", reply.method, redactor.text(&reply.path));
    let snapshot = json!({
        "status": reply.status.as_u16(),
        "body": redactor.value(&reply.body),
    });

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(request);
    settings.bind(|| insta::assert_json_snapshot!(name, snapshot));
}

async fn snapshot_customer_and_user(app: TestApp) {
    let customer = app.customer("Space Agency").await;
    let customer_uuid = customer["uuid"].as_str().expect("customer uuid");
    let ada = app.user("ada").await;
    app.grant_customer_role(customer_uuid, &ada, "CUSTOMER.OWNER")
        .await;

    let retrieved = app
        .get(&app.staff, &format!("/api/customers/{customer_uuid}/"))
        .await
        .expect(200);
    assert_reply_snapshot(&app, "customer", &retrieved);

    let users = app
        .get(
            &app.staff,
            &format!("/api/customers/{customer_uuid}/list_users/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "customer_users", &users);

    let me = app.get(&ada, "/api/users/me/").await.expect(200);
    assert_reply_snapshot(&app, "user", &me);

    let token = app
        .post(&ada, &format!("/api/users/{}/token/", ada.uuid), json!({}))
        .await
        .expect(201);
    assert_reply_snapshot(&app, "user_token", &token);
}

async fn snapshot_call_and_proposal(app: TestApp) {
    let setup = app.call_setup(1, 0).await;
    let call = app
        .get(
            &app.staff,
            &format!("/api/proposal-protected-calls/{}/", setup.call_uuid),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "call", &call);

    let rounds = app
        .get(
            &app.staff,
            &format!("/api/proposal-protected-calls/{}/rounds/", setup.call_uuid),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "call_rounds", &rounds);

    let proposal_uuid = setup.proposal_uuid(0);
    app.post(
        &app.staff,
        &format!("/api/proposal-proposals/{proposal_uuid}/team-members/"),
        json!({"full_name": "Grace Hopper", "email": "grace@example.org", "orcid": "0000-0002-1694-233X",
               "organization": "Navy", "role": "principal_investigator"}),
    )
    .await
    .expect(201);
    let proposal = app
        .get(
            &app.staff,
            &format!("/api/proposal-proposals/{proposal_uuid}/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "proposal", &proposal);

    let team = app
        .get(
            &app.staff,
            &format!("/api/proposal-proposals/{proposal_uuid}/team-members/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "proposal_team", &team);
}

async fn snapshot_profile_and_pool_entry(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let ada = app.user("ada").await;
    let profile = app
        .post(
            &ada,
            "/api/reviewer-profiles/",
            json!({"orcid_id": "0000-0002-1825-0097", "biography": "Plasma physics.",
                   "alternative_names": ["A. Lovelace"]}),
        )
        .await
        .expect(201);
    let profile_uuid = profile.str("uuid");
    let nested = format!("/api/reviewer-profiles/{profile_uuid}/");
    app.post(
        &ada,
        &format!("{nested}affiliations/"),
        json!({"organization_name": "Example University", "department": "Physics",
               "position_title": "Professor", "start_date": "2015-09-01", "is_primary": true}),
    )
    .await
    .expect(201);
    app.post(
        &ada,
        &format!("{nested}expertise/"),
        json!({"expertise_keyword": "plasma physics", "proficiency_level": "expert", "years_experience": 12}),
    )
    .await
    .expect(201);
    app.post(
        &ada,
        &format!("{nested}publications/"),
        json!({"title": "Confinement in tokamaks", "publication_year": 2021, "venue": "Nuclear Fusion",
               "doi": "10.1000/xyz123", "coauthors": [{"name": "Bob Example", "orcid": "0000-0002-1825-0097"}]}),
    )
    .await
    .expect(201);
    app.post(&ada, &format!("{nested}publish/"), json!({}))
        .await
        .expect(200);

    let retrieved = app.get(&ada, &nested).await.expect(200);
    assert_reply_snapshot(&app, "reviewer_profile", &retrieved);

    let entry = app.invite(&setup.call_uuid, &profile_uuid).await;
    let entry_uuid = entry["uuid"].as_str().expect("entry uuid");
    let invited = app
        .get(
            &app.staff,
            &format!("/api/call-reviewer-pools/{entry_uuid}/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "pool_entry_invited", &invited);

    app.post(
        &ada,
        &format!("/api/call-reviewer-pools/{entry_uuid}/accept/"),
        json!({}),
    )
    .await
    .expect(200);
    let accepted = app
        .get(
            &app.staff,
            &format!("/api/call-reviewer-pools/{entry_uuid}/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "pool_entry_accepted", &accepted);
}

async fn snapshot_batch_item_and_review(app: TestApp) {
    let setup = app.call_setup(3, 3).await;
    let reviewer = &setup.reviewers[0];
    let first = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let second = app
        .draft_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(1))
        .await;
    assert_eq!(first.batch_uuid, second.batch_uuid);
    app.send_batch_directly(&first.batch_uuid).await;

    let batch = app
        .get(
            &app.staff,
            &format!("/api/assignment-batches/{}/", first.batch_uuid),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "batch_detail", &batch);

    let my_batch = app
        .get(
            &reviewer.user,
            &format!("/api/my-assignment-batches/{}/", first.batch_uuid),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "my_assignment_batch", &my_batch);

    let item_path = format!("/api/assignment-items/{}/", first.item_uuid);
    let pending = app.get(&app.staff, &item_path).await.expect(200);
    assert_reply_snapshot(&app, "item_pending", &pending);

    let accept = app
        .post(&reviewer.user, &format!("{item_path}accept/"), json!({}))
        .await
        .expect(200);
    assert_reply_snapshot(&app, "item_accept", &accept);

    let accepted = app.get(&app.staff, &item_path).await.expect(200);
    assert_reply_snapshot(&app, "item_accepted", &accepted);

    let second_path = format!("/api/assignment-items/{}/", second.item_uuid);
    let declined = app
        .post(
            &reviewer.user,
            &format!("{second_path}decline/"),
            json!({"reason": "Too busy this month"}),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "item_decline", &declined);

    let suggestions = app
        .get(&app.staff, &format!("{second_path}suggest_alternatives/"))
        .await
        .expect(200);
    assert_reply_snapshot(&app, "item_suggest_alternatives", &suggestions);

    let review_uuid = accepted.str("review_uuid");
    let review = app
        .get(
            &reviewer.user,
            &format!("/api/proposal-reviews/{review_uuid}/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "review", &review);

    let audit = app
        .get(
            &app.staff,
            &format!(
                "/api/proposal-protected-calls/{}/audit-log/?page_size=2",
                setup.call_uuid
            ),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "audit_log", &audit);
}

async fn snapshot_conflict_and_configurations(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let member: &PoolMember = &setup.reviewers[0];
    let conflict = app
        .conflict(
            &setup.call_uuid,
            member,
            Some(&setup.proposal_uuid(0)),
            "COAUTH_RECENT",
        )
        .await;
    let conflict_uuid = conflict["uuid"].as_str().expect("conflict uuid");
    let retrieved = app
        .get(
            &app.staff,
            &format!("/api/conflicts-of-interest/{conflict_uuid}/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "conflict_of_interest", &retrieved);

    let call_path = format!("/api/proposal-protected-calls/{}/", setup.call_uuid);
    let summary = app
        .get(&app.staff, &format!("{call_path}conflict-summary/"))
        .await
        .expect(200);
    assert_reply_snapshot(&app, "conflict_summary", &summary);

    for (name, action) in [
        ("assignment_configuration", "assignment-configuration"),
        ("coi_configuration", "coi-configuration"),
        ("matching_configuration", "matching-configuration"),
    ] {
        let configuration = app
            .get(&app.staff, &format!("{call_path}{action}/"))
            .await
            .expect(200);
        assert_reply_snapshot(&app, name, &configuration);
    }

    let listed = app
        .get(&app.staff, "/api/call-assignment-configurations/")
        .await
        .expect(200);
    assert_reply_snapshot(&app, "call_assignment_configurations", &listed);
}

async fn snapshot_generate_assignments(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    let generated = app
        .post(
            &app.staff,
            &format!(
                "/api/proposal-protected-calls/{}/generate-assignments/",
                setup.call_uuid
            ),
            json!({"reviewers_per_proposal": 1}),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "generate_assignments", &generated);
}

async fn snapshot_reviewer_suggestion(app: TestApp) {
    let setup = app.call_setup(1, 0).await;
    let ada = app.user("ada").await;
    let profile = app.profile(&ada).await;
    let profile_uuid = profile["uuid"].as_str().expect("profile uuid");
    app.post(
        &app.staff,
        &format!("/api/reviewer-profiles/{profile_uuid}/expertise/"),
        json!({"expertise_keyword": "Proposal", "proficiency_level": "expert"}),
    )
    .await
    .expect(201);

    let generated = app
        .post(
            &app.staff,
            &format!(
                "/api/proposal-protected-calls/{}/generate-suggestions/",
                setup.call_uuid
            ),
            json!({}),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "generate_suggestions", &generated);

    let suggestion_uuid = generated.body["suggestions"][0]["uuid"]
        .as_str()
        .expect("suggestion uuid");
    let retrieved = app
        .get(
            &app.staff,
            &format!("/api/reviewer-suggestions/{suggestion_uuid}/"),
        )
        .await
        .expect(200);
    assert_reply_snapshot(&app, "reviewer_suggestion", &retrieved);
}

async fn snapshot_error_shapes(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let reviewer = &setup.reviewers[0];
    let item = app
        .sent_item(&setup.call_uuid, reviewer, &setup.proposal_uuid(0))
        .await;
    let customer_path = format!("/api/customers/{}/", setup.customer_uuid);
    let support = app.user_with("sam", json!({"is_support": true})).await;

    let field = app
        .post(&app.staff, "/api/customers/", json!({"abbreviation": "SA"}))
        .await
        .expect(400);
    assert_reply_snapshot(&app, "error_400_field", &field);

    let state = app
        .post(
            &app.staff,
            &format!("/api/assignment-batches/{}/send/", item.batch_uuid),
            json!({}),
        )
        .await
        .expect(400);
    assert_reply_snapshot(&app, "error_400_state", &state);

    let anonymous = app
        .get(&TestUser::anonymous(), "/api/users/me/")
        .await
        .expect(401);
    assert_reply_snapshot(&app, "error_401_anonymous", &anonymous);

    let invalid_token = app
        .client_request_with_header(
            "/api/users/me/",
            "Token 0000000000000000000000000000000000000000",
        )
        .await
        .expect(401);
    assert_reply_snapshot(&app, "error_401_invalid_token", &invalid_token);

    let forbidden = app
        .patch(&support, &customer_path, json!({"name": "Renamed"}))
        .await
        .expect(403);
    assert_reply_snapshot(&app, "error_403", &forbidden);

    let manager_accept = app
        .post(
            &app.staff,
            &format!("/api/assignment-items/{}/accept/", item.item_uuid),
            json!({}),
        )
        .await
        .expect(403);
    assert_reply_snapshot(&app, "error_403_accept_by_manager", &manager_accept);

    let not_found = app
        .get(
            &app.staff,
            "/api/assignment-items/0190a0b0c0d0e0f00000000000000000/",
        )
        .await
        .expect(404);
    assert_reply_snapshot(&app, "error_404", &not_found);

    let not_allowed = app.delete(&app.staff, "/api/customers/").await.expect(405);
    assert_reply_snapshot(&app, "error_405", &not_allowed);

    let conflict = app.delete(&app.staff, &customer_path).await.expect(409);
    assert_reply_snapshot(&app, "error_409", &conflict);

    // The test server keeps the default limit of 2 MiB per request body.
    let oversized = json!({"name": "x".repeat(3 * 1024 * 1024)});
    let too_large = app
        .post(&app.staff, "/api/customers/", oversized)
        .await
        .expect(413);
    assert_reply_snapshot(&app, "error_413", &too_large);
}
