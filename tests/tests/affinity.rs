//! Computing a call's affinities and reading its affinity matrix.

use std::collections::HashMap;

use chrono::{Datelike, Utc};
use referee_conformance::{CallSetup, PoolMember, Reply, TestApp, TestUser, on_both_backends};
use serde_json::{Value, json};
use uuid::Uuid;

on_both_backends!(
    compute_stores_every_pair,
    compute_permissions,
    compute_refusal_changes_nothing,
    compute_rejects_get,
    compute_unknown_call,
    recompute_replaces_scores,
    matrix_permissions,
    matrix_sorted_and_paginated,
    matrix_page_past_end,
    matrix_conflict_status,
    matrix_scope_without_suggestions,
    iclr_authors_score_own_papers,
);

fn compute_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/compute-affinities/")
}

fn matrix_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/affinity-matrix/")
}

async fn add_expertise(app: &TestApp, member: &PoolMember, keyword: &str, level: &str) {
    let profile = member.profile_uuid();
    app.post(
        &app.staff,
        &format!("/api/reviewer-profiles/{profile}/expertise/"),
        json!({"expertise_keyword": keyword, "proficiency_level": level}),
    )
    .await
    .expect(201);
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

async fn matrix(app: &TestApp, user: &TestUser, call_uuid: &str) -> Value {
    app.get(user, &format!("{}?page_size=300", matrix_path(call_uuid)))
        .await
        .expect(200)
        .body
}

/// Finds the matrix entry of a pair.
fn entry<'a>(matrix: &'a Value, reviewer_uuid: &str, proposal_uuid: &str) -> &'a Value {
    matrix["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|row| row["reviewer_uuid"] == reviewer_uuid && row["proposal_uuid"] == proposal_uuid)
        .unwrap_or_else(|| panic!("no matrix entry for {reviewer_uuid} / {proposal_uuid}"))
}

/// A call with two reviewers: reviewer0 an expert in graph theory, reviewer1 in protein
/// folding, and one proposal on each topic besides the two plain ones of the setup.
struct TopicCall {
    setup: CallSetup,
    graphs: String,
    proteins: String,
}

async fn topic_call(app: &TestApp) -> TopicCall {
    let setup = app.call_setup(2, 2).await;
    add_expertise(app, &setup.reviewers[0], "graph theory", "expert").await;
    add_expertise(app, &setup.reviewers[1], "protein folding", "expert").await;
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
    TopicCall {
        setup,
        graphs,
        proteins,
    }
}

async fn compute_stores_every_pair(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = &call.setup.call_uuid;

    let reply = app
        .post(&app.staff, &compute_path(call_uuid), json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["computed_count"], 8);
    assert_eq!(reply.body["message"], "Computed 8 affinity scores.");

    let matrix = matrix(&app, &app.staff, call_uuid).await;
    assert_eq!(matrix["count"], 8);
    let graph_expert = call.setup.reviewers[0].profile_uuid();
    let protein_expert = call.setup.reviewers[1].profile_uuid();

    let best = entry(&matrix, &graph_expert, &call.graphs);
    assert_eq!(best["keyword_score"], 1.0);
    assert!(best["text_score"].as_f64().expect("a text score") > 0.0);
    assert_eq!(best["reviewer_name"], "reviewer0 Example");
    assert_eq!(best["proposal_name"], "Spectral graph theory");
    assert_eq!(best["source"], "pool");
    assert_eq!(best["has_conflict"], false);
    assert_eq!(best["coi_type"], Value::Null);
    assert_eq!(best["coi_severity"], Value::Null);
    assert_eq!(best["coi_status"], "unknown");

    let mismatch = entry(&matrix, &graph_expert, &call.proteins);
    assert_eq!(mismatch["keyword_score"], Value::Null);
    let protein_match = entry(&matrix, &protein_expert, &call.proteins);
    assert_eq!(protein_match["keyword_score"], 1.0);
    assert!(
        protein_match["affinity_score"].as_f64() > mismatch["affinity_score"].as_f64(),
        "the protein expert should score the protein proposal above the graph expert"
    );
}

async fn compute_permissions(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let path = compute_path(&setup.call_uuid);

    let call_manager = app.user("call-manager").await;
    app.grant_call_role(&setup.call_uuid, &call_manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let organisation_manager = app.user("org-manager").await;
    app.grant_customer_role(
        &setup.customer_uuid,
        &organisation_manager,
        "CUSTOMER.MANAGER",
    )
    .await;
    let member = app.user("member").await;
    app.grant_customer_role(&setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let outsider = app.user("outsider").await;
    let reviewer = &setup.reviewers[0].user;

    for user in [&app.staff, &call_manager, &owner, &organisation_manager] {
        let reply = app.post(user, &path, json!({})).await.expect(200);
        assert_eq!(reply.body["computed_count"], 1, "{}", user.username);
    }
    app.post(&support, &path, json!({})).await.expect(403);
    app.post(&member, &path, json!({})).await.expect(403);
    // A pool reviewer has no role on the call, so the call is invisible to them.
    app.post(reviewer, &path, json!({})).await.expect(404);
    app.post(&outsider, &path, json!({})).await.expect(404);
    app.post(&TestUser::anonymous(), &path, json!({}))
        .await
        .expect(401);
}

async fn compute_refusal_changes_nothing(app: TestApp) {
    let setup = app.call_setup(2, 2).await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    app.post(&support, &compute_path(&setup.call_uuid), json!({}))
        .await
        .expect(403);
    let matrix = matrix(&app, &support, &setup.call_uuid).await;
    assert_eq!(matrix["count"], 0);
    assert_eq!(matrix["results"], json!([]));
}

async fn compute_rejects_get(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    app.get(&app.staff, &compute_path(&setup.call_uuid))
        .await
        .expect(405);
}

async fn compute_unknown_call(app: TestApp) {
    let unknown = Uuid::new_v4().simple().to_string();
    app.post(&app.staff, &compute_path(&unknown), json!({}))
        .await
        .expect(404);
    app.post(&app.staff, &compute_path("not-a-uuid"), json!({}))
        .await
        .expect(404);
    app.get(&app.staff, &matrix_path(&unknown))
        .await
        .expect(404);
}

async fn recompute_replaces_scores(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = &call.setup.call_uuid;
    let protein_expert = &call.setup.reviewers[1];
    app.post(&app.staff, &compute_path(call_uuid), json!({}))
        .await
        .expect(200);
    let before = matrix(&app, &app.staff, call_uuid).await;
    let before_entry = entry(&before, &protein_expert.profile_uuid(), &call.graphs).clone();
    assert_eq!(before_entry["keyword_score"], Value::Null);

    add_expertise(&app, protein_expert, "expander graphs", "expert").await;
    let reply = app
        .post(&app.staff, &compute_path(call_uuid), json!({}))
        .await
        .expect(200);
    assert_eq!(reply.body["computed_count"], 8);

    let after = matrix(&app, &app.staff, call_uuid).await;
    assert_eq!(after["count"], 8);
    let after_entry = entry(&after, &protein_expert.profile_uuid(), &call.graphs);
    assert_eq!(after_entry["uuid"], before_entry["uuid"]);
    assert_eq!(after_entry["keyword_score"], 0.5);
    assert!(after_entry["affinity_score"].as_f64() > before_entry["affinity_score"].as_f64());
}

async fn matrix_permissions(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    app.post(&app.staff, &compute_path(&setup.call_uuid), json!({}))
        .await
        .expect(200);
    let path = matrix_path(&setup.call_uuid);

    let call_manager = app.user("call-manager").await;
    app.grant_call_role(&setup.call_uuid, &call_manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let outsider = app.user("outsider").await;
    let reviewer = &setup.reviewers[0].user;

    for user in [&app.staff, &support, &call_manager, &owner, &member] {
        let reply = app.get(user, &path).await.expect(200);
        assert_eq!(reply.body["count"], 1, "{}", user.username);
        assert_eq!(results(&reply).len(), 1, "{}", user.username);
    }
    app.get(reviewer, &path).await.expect(404);
    app.get(&outsider, &path).await.expect(404);
    app.get(&TestUser::anonymous(), &path).await.expect(401);
}

async fn matrix_sorted_and_paginated(app: TestApp) {
    let call = topic_call(&app).await;
    let call_uuid = &call.setup.call_uuid;
    app.post(&app.staff, &compute_path(call_uuid), json!({}))
        .await
        .expect(200);

    let mut scores = Vec::new();
    for page in 1..=3 {
        let reply = app
            .get(
                &app.staff,
                &format!("{}?page={page}&page_size=3", matrix_path(call_uuid)),
            )
            .await
            .expect(200);
        assert_eq!(reply.body["count"], 8);
        let rows = results(&reply);
        assert_eq!(rows.len(), if page == 3 { 2 } else { 3 });
        scores.extend(
            rows.iter()
                .map(|row| row["affinity_score"].as_f64().expect("score")),
        );
    }
    assert_eq!(scores.len(), 8);
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "scores not descending: {scores:?}"
    );

    let last = app
        .get(
            &app.staff,
            &format!("{}?page=last&page_size=3", matrix_path(call_uuid)),
        )
        .await
        .expect(200);
    assert_eq!(results(&last).len(), 2);

    let capped = app
        .get(
            &app.staff,
            &format!("{}?page_size=1000", matrix_path(call_uuid)),
        )
        .await
        .expect(200);
    assert_eq!(results(&capped).len(), 8);
}

async fn matrix_page_past_end(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    app.post(&app.staff, &compute_path(&setup.call_uuid), json!({}))
        .await
        .expect(200);
    app.get(
        &app.staff,
        &format!("{}?page=2", matrix_path(&setup.call_uuid)),
    )
    .await
    .expect(404);
    app.get(
        &app.staff,
        &format!("{}?page=zero", matrix_path(&setup.call_uuid)),
    )
    .await
    .expect(404);
}

fn results(reply: &Reply) -> &Vec<Value> {
    reply.body["results"].as_array().expect("a results array")
}

async fn matrix_conflict_status(app: TestApp) {
    let setup = app.call_setup(3, 1).await;
    let call_uuid = &setup.call_uuid;
    let member = &setup.reviewers[0];
    let reviewer = member.profile_uuid();
    let (conflicted, evaluated, unevaluated) = (
        setup.proposal_uuid(0),
        setup.proposal_uuid(1),
        setup.proposal_uuid(2),
    );
    app.conflict(call_uuid, member, Some(&conflicted), "COLLAB_ACTIVE")
        .await;
    app.mark_evaluated(call_uuid, &reviewer, &conflicted).await;
    app.mark_evaluated(call_uuid, &reviewer, &evaluated).await;
    app.post(&app.staff, &compute_path(call_uuid), json!({}))
        .await
        .expect(200);

    let matrix = matrix(&app, &app.staff, call_uuid).await;
    assert_eq!(matrix["count"], 3);

    let with_conflict = entry(&matrix, &reviewer, &conflicted);
    assert_eq!(with_conflict["has_conflict"], true);
    assert_eq!(with_conflict["coi_type"], "COLLAB_ACTIVE");
    assert!(with_conflict["coi_severity"].is_string());
    assert_eq!(with_conflict["coi_status"], "pending");

    let clean = entry(&matrix, &reviewer, &evaluated);
    assert_eq!(clean["has_conflict"], false);
    assert_eq!(clean["coi_type"], Value::Null);
    assert_eq!(clean["coi_status"], "none");

    let never = entry(&matrix, &reviewer, &unevaluated);
    assert_eq!(never["has_conflict"], false);
    assert_eq!(never["coi_severity"], Value::Null);
    assert_eq!(never["coi_status"], "unknown");
    // Once the oldest conflict is dismissed, a newer pending one still blocks the pair and is
    // the one reported.
    let newer = app
        .conflict(call_uuid, member, Some(&conflicted), "FIN_DIRECT")
        .await;
    let oldest = app
        .get(
            &app.staff,
            &format!("/api/conflicts-of-interest/?call_uuid={call_uuid}&coi_type=COLLAB_ACTIVE"),
        )
        .await
        .expect(200)
        .array()[0]["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned();
    app.post(
        &app.staff,
        &format!("/api/conflicts-of-interest/{oldest}/dismiss/"),
        json!({"status": "dismissed", "review_notes": "Ended years ago."}),
    )
    .await
    .expect(200);
    let matrix = self::matrix(&app, &app.staff, call_uuid).await;
    let still_blocked = entry(&matrix, &reviewer, &conflicted);
    assert_eq!(still_blocked["coi_type"], "FIN_DIRECT");
    assert_eq!(still_blocked["coi_status"], "pending");
    assert_eq!(newer["status"], "pending");
}

async fn matrix_scope_without_suggestions(app: TestApp) {
    let setup = app.call_setup(2, 1).await;
    app.post(&app.staff, &compute_path(&setup.call_uuid), json!({}))
        .await
        .expect(200);
    for (scope, count) in [("pool", 2), ("all", 2), ("other", 2), ("suggestions", 0)] {
        let reply = app
            .get(
                &app.staff,
                &format!("{}?scope={scope}", matrix_path(&setup.call_uuid)),
            )
            .await
            .expect(200);
        assert_eq!(reply.body["count"], count, "scope {scope}");
        for row in results(&reply) {
            assert_eq!(row["source"], "pool", "scope {scope}");
        }
    }
}

/// One ICLR 2018 submission.
struct Paper {
    title: String,
    abstract_text: String,
    authors: Vec<String>,
}

fn load_iclr() -> Option<Vec<Paper>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/iclr2018.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        println!("skipping: {path} is missing");
        return None;
    };
    let documents: Vec<Value> = serde_json::from_str(&text).expect("iclr2018.json is JSON");
    Some(
        documents
            .iter()
            .map(|document| Paper {
                title: document["title"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                abstract_text: document["abstract"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                authors: document["authors"]
                    .as_array()
                    .map(|authors| {
                        authors
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
    )
}

/// The first author of each of the first 50 submissions reviews for the call and lists every
/// submission they wrote as a publication. Each paper's own author must score it above the
/// median score of the paper.
async fn iclr_authors_score_own_papers(app: TestApp) {
    const PAPERS: usize = 50;
    let Some(papers) = load_iclr() else {
        return;
    };
    let setup = app.call_setup(0, 0).await;
    let call_uuid = setup.call_uuid.clone();
    let current_year = Utc::now().year();

    let mut proposal_uuids = Vec::new();
    for paper in &papers[..PAPERS] {
        proposal_uuids
            .push(proposal_with_text(&app, &setup, &paper.title, &paper.abstract_text).await);
    }

    let mut reviewer_of_author: HashMap<String, String> = HashMap::new();
    for paper in &papers[..PAPERS] {
        let author = paper.authors[0].clone();
        if reviewer_of_author.contains_key(&author) {
            continue;
        }
        let username = format!("author{}", reviewer_of_author.len());
        let member = app.accepted_reviewer(&call_uuid, &username).await;
        let profile = member.profile_uuid();
        for written in papers
            .iter()
            .filter(|other| other.authors.contains(&author))
        {
            app.post(
                &app.staff,
                &format!("/api/reviewer-profiles/{profile}/publications/"),
                json!({
                    "title": written.title,
                    "abstract": written.abstract_text,
                    "publication_year": current_year,
                    "venue": "ICLR",
                }),
            )
            .await
            .expect(201);
        }
        reviewer_of_author.insert(author, profile);
    }

    let reply = app
        .post(&app.staff, &compute_path(&call_uuid), json!({}))
        .await
        .expect(200);
    let pairs = reviewer_of_author.len() * PAPERS;
    assert_eq!(reply.body["computed_count"], pairs);

    let mut scores: HashMap<(String, String), f64> = HashMap::new();
    let mut page = 1;
    loop {
        let reply = app
            .get(
                &app.staff,
                &format!("{}?page={page}&page_size=300", matrix_path(&call_uuid)),
            )
            .await
            .expect(200);
        for row in results(&reply) {
            scores.insert(
                (
                    row["reviewer_uuid"].as_str().expect("reviewer").to_owned(),
                    row["proposal_uuid"].as_str().expect("proposal").to_owned(),
                ),
                row["affinity_score"].as_f64().expect("score"),
            );
        }
        if scores.len() >= pairs {
            break;
        }
        page += 1;
    }
    assert_eq!(scores.len(), pairs);

    for (paper, proposal_uuid) in papers[..PAPERS].iter().zip(&proposal_uuids) {
        let mut column: Vec<f64> = reviewer_of_author
            .values()
            .map(|reviewer| scores[&(reviewer.clone(), proposal_uuid.clone())])
            .collect();
        column.sort_by(f64::total_cmp);
        let median = column[column.len() / 2];
        let own = scores[&(
            reviewer_of_author[&paper.authors[0]].clone(),
            proposal_uuid.clone(),
        )];
        assert!(
            own > median,
            "{:?}: own author scored {own}, median {median}",
            paper.title
        );
    }
}
