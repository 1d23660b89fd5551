//! Conflict-of-interest detection: `POST /api/proposal-protected-calls/{uuid}/detect-conflicts/`,
//! `/api/coi-detection-jobs/`, and the conflicts the named-personnel, institutional and
//! co-authorship rules create from proposal teams and reviewer profiles.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{Datelike, Days, Utc};
use referee_conformance::{CallSetup, PoolMember, TestApp, TestUser, on_both_backends};
use referee_domain::detection::{COAUTHOR_SIMILARITY, NAMED_SIMILARITY, name_similarity};
use serde_json::{Value, json};

on_both_backends!(
    detect_named_personnel,
    detect_institutional,
    detect_coauthorship,
    detect_config_toggles,
    detect_incremental_and_full,
    detect_blocks_pending_items,
    detect_permission_matrix,
    detect_job_list_filters,
    detect_refusals,
    detect_iclr_sample,
    generate_detects_unevaluated_pairs,
    reassign_and_manual_evaluate_pair,
    auto_reassign_skips_new_conflict,
    changed_facts_evaluated_again,
);

const JOBS: &str = "/api/coi-detection-jobs/";

fn detect_path(call_uuid: &str) -> String {
    format!("/api/proposal-protected-calls/{call_uuid}/detect-conflicts/")
}

fn uuid_of(value: &Value) -> String {
    value["uuid"].as_str().expect("uuid").to_owned()
}

/// Creates a user with the given name and e-mail, a published profile (fields from
/// `profile`) and an accepted invitation to the call's pool.
async fn reviewer(
    app: &TestApp,
    call_uuid: &str,
    username: &str,
    full_name: &str,
    email: &str,
    profile: Value,
) -> PoolMember {
    let user = app
        .user_with(username, json!({"full_name": full_name, "email": email}))
        .await;
    let mut body = json!({"biography": "Reviewer."});
    for (key, value) in profile.as_object().expect("profile fields") {
        body[key] = value.clone();
    }
    let created = app
        .post(&user, "/api/reviewer-profiles/", body)
        .await
        .expect(201);
    let profile_uuid = created.str("uuid");
    let profile = app
        .post(
            &user,
            &format!("/api/reviewer-profiles/{profile_uuid}/publish/"),
            json!({}),
        )
        .await
        .expect(200)
        .body;
    let entry = app.invite(call_uuid, &profile_uuid).await;
    let entry_uuid = uuid_of(&entry);
    app.post(
        &user,
        &format!("/api/call-reviewer-pools/{entry_uuid}/accept/"),
        json!([]),
    )
    .await
    .expect(200);
    PoolMember {
        user,
        profile,
        entry,
    }
}

async fn add_affiliation(app: &TestApp, member: &PoolMember, body: Value) {
    app.post(
        &member.user,
        &format!(
            "/api/reviewer-profiles/{}/affiliations/",
            member.profile_uuid()
        ),
        body,
    )
    .await
    .expect(201);
}

async fn add_publication(
    app: &TestApp,
    member: &PoolMember,
    title: &str,
    year: i32,
    coauthors: Value,
) {
    app.post(
        &member.user,
        &format!(
            "/api/reviewer-profiles/{}/publications/",
            member.profile_uuid()
        ),
        json!({"title": title, "publication_year": year, "coauthors": coauthors}),
    )
    .await
    .expect(201);
}

/// Creates and submits a proposal with the given team and returns its UUID.
async fn team_proposal(app: &TestApp, round_uuid: &str, name: &str, team: Value) -> String {
    let created = app
        .post(
            &app.staff,
            "/api/proposal-proposals/",
            json!({"round": round_uuid, "name": name, "team_members": team}),
        )
        .await
        .expect(201);
    let uuid = created.str("uuid");
    app.post(
        &app.staff,
        &format!("/api/proposal-proposals/{uuid}/submit/"),
        json!({}),
    )
    .await
    .expect(200);
    uuid
}

/// Waits for a job to leave `pending` and `running`, polling every 50 ms for at most 5 s.
async fn wait_for(app: &TestApp, job_uuid: &str) -> Value {
    for _ in 0..100 {
        let job = app
            .get(&app.staff, &format!("{JOBS}{job_uuid}/"))
            .await
            .expect(200)
            .body;
        if job["state"] != "pending" && job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("COI detection job {job_uuid} did not finish within 5 s");
}

/// Starts detection as `user` and returns the finished job, which must be `completed`.
async fn detect(app: &TestApp, user: &TestUser, call_uuid: &str, job_type: &str) -> Value {
    let started = app
        .post(user, &detect_path(call_uuid), json!({"job_type": job_type}))
        .await
        .expect(202);
    assert_eq!(started.str("job_type"), job_type);
    let job = wait_for(app, &started.str("uuid")).await;
    assert_eq!(job["state"], "completed", "job: {job}");
    assert_eq!(job["processed_pairs"], job["total_pairs"]);
    assert_eq!(job["error_message"], "");
    assert!(job["started_at"].is_string());
    assert!(job["completed_at"].is_string());
    job
}

/// Automated conflicts of the call, read as staff.
async fn automated(app: &TestApp, call_uuid: &str) -> Vec<Value> {
    app.get(
        &app.staff,
        &format!(
            "/api/conflicts-of-interest/?call_uuid={call_uuid}&detection_method=automated&page_size=300"
        ),
    )
    .await
    .expect(200)
    .array()
    .clone()
}

/// (reviewer profile, proposal) pairs of the conflicts of one type.
fn pairs(conflicts: &[Value], coi_type: &str) -> BTreeSet<(String, String)> {
    conflicts
        .iter()
        .filter(|conflict| conflict["coi_type"] == coi_type)
        .map(|conflict| {
            (
                conflict["reviewer_uuid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                conflict["proposal_uuid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

fn find<'a>(
    conflicts: &'a [Value],
    coi_type: &str,
    reviewer: &PoolMember,
    proposal: &str,
) -> &'a Value {
    conflicts
        .iter()
        .find(|conflict| {
            conflict["coi_type"] == coi_type
                && conflict["reviewer_uuid"] == reviewer.profile_uuid().as_str()
                && conflict["proposal_uuid"] == proposal
        })
        .unwrap_or_else(|| panic!("no {coi_type} conflict for the pair in {conflicts:#?}"))
}

fn pair(reviewer: &PoolMember, proposal: &str) -> (String, String) {
    (reviewer.profile_uuid(), proposal.to_owned())
}

fn days_ago(days: u64) -> String {
    Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(days))
        .expect("a date")
        .to_string()
}

async fn detect_named_personnel(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let orcid = "0000-0002-1825-0097";

    let by_user = reviewer(
        &app,
        call,
        "byuser",
        "Quinn Account",
        "quinn@lab-q.test",
        json!({}),
    )
    .await;
    let by_orcid = reviewer(
        &app,
        call,
        "byorcid",
        "Rita Orcid",
        "rita@lab-r.test",
        json!({"orcid_id": orcid}),
    )
    .await;
    let by_email = reviewer(
        &app,
        call,
        "byemail",
        "Sam Mail",
        "Sam.Mail@Lab-S.test",
        json!({}),
    )
    .await;
    let by_name = reviewer(
        &app,
        call,
        "byname",
        "José Núñez-García",
        "jose@lab-t.test",
        json!({}),
    )
    .await;
    let by_alias = reviewer(
        &app,
        call,
        "byalias",
        "Ursula Married",
        "ursula@lab-u.test",
        json!({"alternative_names": ["Ursula Maiden"]}),
    )
    .await;
    let ana = reviewer(&app, call, "ana", "Ana Lee", "ana@lab-v.test", json!({})).await;

    let round = &setup.round_uuid;
    let p_user = team_proposal(&app, round, "User", json!([{"user": by_user.user.uuid, "full_name": "Q. Someone", "role": "principal_investigator"}])).await;
    let p_orcid = team_proposal(
        &app,
        round,
        "Orcid",
        json!([{"full_name": "R. O.", "orcid": orcid}]),
    )
    .await;
    let p_email = team_proposal(
        &app,
        round,
        "Email",
        json!([{"full_name": "S. M.", "email": "sam.mail@lab-s.test"}]),
    )
    .await;
    let p_name = team_proposal(
        &app,
        round,
        "Name",
        json!([{"full_name": "jose nunez garcia", "role": "co_investigator"}]),
    )
    .await;
    let p_alias = team_proposal(
        &app,
        round,
        "Alias",
        json!([{"full_name": "Ursula  Maiden"}]),
    )
    .await;
    let p_other = team_proposal(
        &app,
        round,
        "Other",
        json!([{"full_name": "Dana Leeds"}, {"full_name": "Anna Leeson"}]),
    )
    .await;

    let job = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(job["total_pairs"], 36);
    assert_eq!(job["progress_percentage"], 100.0);

    let conflicts = automated(&app, call).await;
    let expected: BTreeSet<_> = [
        pair(&by_user, &p_user),
        pair(&by_orcid, &p_orcid),
        pair(&by_email, &p_email),
        pair(&by_name, &p_name),
        pair(&by_alias, &p_alias),
    ]
    .into_iter()
    .collect();
    assert_eq!(pairs(&conflicts, "ROLE_NAMED"), expected);
    assert!(
        !pairs(&conflicts, "ROLE_NAMED")
            .iter()
            .any(|(reviewer, _)| *reviewer == ana.profile_uuid())
    );
    assert!(
        !pairs(&conflicts, "ROLE_NAMED")
            .iter()
            .any(|(_, proposal)| *proposal == p_other)
    );

    let reasons = [
        (&by_user, &p_user, "user_account"),
        (&by_orcid, &p_orcid, "orcid"),
        (&by_email, &p_email, "email"),
        (&by_name, &p_name, "full_name"),
        (&by_alias, &p_alias, "alternative_name"),
    ];
    for (member, proposal, reason) in reasons {
        let conflict = find(&conflicts, "ROLE_NAMED", member, proposal);
        assert_eq!(conflict["evidence_data"]["match_reason"], reason);
        assert_eq!(conflict["severity"], "real");
        assert_eq!(conflict["status"], "pending");
        assert_eq!(conflict["detection_method"], "automated");
        assert!(conflict["evidence_data"]["role_in_proposal"].is_string());
        assert!(
            !conflict["evidence_description"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    let by_user_conflict = find(&conflicts, "ROLE_NAMED", &by_user, &p_user);
    assert_eq!(
        by_user_conflict["evidence_data"]["role_in_proposal"],
        "principal_investigator"
    );
    assert!(
        by_user_conflict["conflicting_user"]
            .as_str()
            .unwrap_or_default()
            .contains(&by_user.user.uuid)
    );
    assert_eq!(
        job["conflicts_found"].as_i64(),
        Some(conflicts.len() as i64)
    );
}

async fn detect_institutional(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let round = &setup.round_uuid;

    let current = reviewer(
        &app,
        call,
        "current",
        "Carl Current",
        "carl@home-a.test",
        json!({}),
    )
    .await;
    add_affiliation(&app, &current, json!({"organization_name": "Université de Genève", "position_title": "Professor", "start_date": "2015-01-01"})).await;
    let former = reviewer(
        &app,
        call,
        "former",
        "Fay Former",
        "fay@home-b.test",
        json!({}),
    )
    .await;
    add_affiliation(&app, &former, json!({"organization_name": "Old Lab", "start_date": "2010-01-01", "end_date": days_ago(365)})).await;
    let expired = reviewer(
        &app,
        call,
        "expired",
        "Eve Expired",
        "eve@home-c.test",
        json!({}),
    )
    .await;
    add_affiliation(&app, &expired, json!({"organization_name": "Ancient Institute", "start_date": "2001-01-01", "end_date": days_ago(5 * 365)})).await;
    let by_domain = reviewer(
        &app,
        call,
        "bydomain",
        "Dom Domain",
        "dom@home-d.test",
        json!({}),
    )
    .await;
    add_affiliation(
        &app,
        &by_domain,
        json!({"organization_name": "University D", "organization_identifier": "uni-d.edu"}),
    )
    .await;
    let by_email = reviewer(&app, call, "byemail", "Ed Email", "ed@uni-e.edu", json!({})).await;
    let public = reviewer(
        &app,
        call,
        "public",
        "Pat Public",
        "pat@gmail.com",
        json!({}),
    )
    .await;

    let p_current = team_proposal(
        &app,
        round,
        "Current",
        json!([{"full_name": "M One", "organization": "universite de geneve"}]),
    )
    .await;
    let p_former = team_proposal(
        &app,
        round,
        "Former",
        json!([{"full_name": "M Two", "organization": "Old  Lab"}]),
    )
    .await;
    let p_expired = team_proposal(
        &app,
        round,
        "Expired",
        json!([{"full_name": "M Three", "organization": "Ancient Institute"}]),
    )
    .await;
    let p_domain = team_proposal(
        &app,
        round,
        "Domain",
        json!([{"full_name": "M Four", "email": "four@cs.uni-d.edu"}]),
    )
    .await;
    let p_email = team_proposal(
        &app,
        round,
        "Email",
        json!([{"full_name": "M Five", "email": "five@uni-e.edu"}]),
    )
    .await;
    let p_public = team_proposal(
        &app,
        round,
        "Public",
        json!([{"full_name": "M Six", "email": "six@gmail.com"}]),
    )
    .await;

    detect(&app, &app.staff, call, "full_call").await;
    let conflicts = automated(&app, call).await;

    let same: BTreeSet<_> = [
        pair(&current, &p_current),
        pair(&by_domain, &p_domain),
        pair(&by_email, &p_email),
    ]
    .into_iter()
    .collect();
    assert_eq!(pairs(&conflicts, "INST_SAME"), same);
    let former_pairs: BTreeSet<_> = [pair(&former, &p_former)].into_iter().collect();
    assert_eq!(pairs(&conflicts, "INST_FORMER"), former_pairs);
    assert!(
        pairs(&conflicts, "INST_SAME")
            .iter()
            .chain(pairs(&conflicts, "INST_FORMER").iter())
            .all(|(_, proposal)| *proposal != p_expired && *proposal != p_public)
    );
    assert!(
        !pairs(&conflicts, "INST_SAME")
            .iter()
            .any(|(reviewer, _)| *reviewer == expired.profile_uuid()
                || *reviewer == public.profile_uuid())
    );

    let same_conflict = find(&conflicts, "INST_SAME", &current, &p_current);
    assert_eq!(same_conflict["severity"], "real");
    assert_eq!(
        same_conflict["evidence_data"]["match_reason"],
        "organization_name"
    );
    assert_eq!(same_conflict["evidence_data"]["position"], "Professor");
    assert_eq!(same_conflict["evidence_data"]["is_current"], true);
    let former_conflict = find(&conflicts, "INST_FORMER", &former, &p_former);
    assert_eq!(former_conflict["severity"], "apparent");
    assert_eq!(former_conflict["evidence_data"]["is_current"], false);
    assert_eq!(
        find(&conflicts, "INST_SAME", &by_domain, &p_domain)["evidence_data"]["match_reason"],
        "organization_domain"
    );
    assert_eq!(
        find(&conflicts, "INST_SAME", &by_email, &p_email)["evidence_data"]["match_reason"],
        "reviewer_email_domain"
    );
}

async fn detect_coauthorship(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let round = &setup.round_uuid;
    let year = Utc::now().year();

    let author = reviewer(
        &app,
        call,
        "author",
        "Ann Author",
        "ann@home-a.test",
        json!({}),
    )
    .await;
    add_publication(&app, &author, "Recent work", year, json!(["Bo Chen"])).await;
    add_publication(
        &app,
        &author,
        "Older work",
        year - 2,
        json!([{"name": "Cy Dorn"}]),
    )
    .await;
    add_publication(&app, &author, "Ancient work", year - 5, json!(["Ed Fu"])).await;
    for index in 0..3 {
        add_publication(
            &app,
            &author,
            &format!("Series {index}"),
            year - 1,
            json!(["Gil Ho", "Someone Else"]),
        )
        .await;
    }
    add_publication(
        &app,
        &author,
        "Orcid work",
        year,
        json!([{"name": "H. I.", "orcid": "0000-0002-1825-0097"}]),
    )
    .await;
    add_publication(&app, &author, "Near names", year, json!(["Dana Leeds"])).await;

    let p_recent = team_proposal(&app, round, "Recent", json!([{"full_name": "Bo  Chen"}])).await;
    let p_old = team_proposal(&app, round, "Old", json!([{"full_name": "Cy Dorn"}])).await;
    let p_ancient = team_proposal(&app, round, "Ancient", json!([{"full_name": "Ed Fu"}])).await;
    let p_series = team_proposal(
        &app,
        round,
        "Series",
        json!([{"full_name": "Gil Ho", "role": "principal_investigator"}]),
    )
    .await;
    let p_orcid = team_proposal(
        &app,
        round,
        "Orcid",
        json!([{"full_name": "Hana Ito", "orcid": "0000-0002-1825-0097"}]),
    )
    .await;
    let p_near = team_proposal(&app, round, "Near", json!([{"full_name": "Ana Lee"}])).await;

    detect(&app, &app.staff, call, "full_call").await;
    let conflicts = automated(&app, call).await;

    let recent: BTreeSet<_> = [
        pair(&author, &p_recent),
        pair(&author, &p_series),
        pair(&author, &p_orcid),
    ]
    .into_iter()
    .collect();
    assert_eq!(pairs(&conflicts, "COAUTH_RECENT"), recent);
    let old: BTreeSet<_> = [pair(&author, &p_old)].into_iter().collect();
    assert_eq!(pairs(&conflicts, "COAUTH_OLD"), old);
    for proposal in [&p_ancient, &p_near] {
        assert!(
            conflicts
                .iter()
                .all(|conflict| conflict["proposal_uuid"] != proposal.as_str())
        );
    }

    let series = find(&conflicts, "COAUTH_RECENT", &author, &p_series);
    assert_eq!(series["severity"], "real");
    assert_eq!(series["evidence_data"]["paper_count"], 3);
    assert_eq!(
        series["evidence_data"]["team_member_role"],
        "principal_investigator"
    );
    assert_eq!(
        series["evidence_data"]["shared_publications"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(
        find(&conflicts, "COAUTH_RECENT", &author, &p_recent)["severity"],
        "apparent"
    );
    assert_eq!(
        find(&conflicts, "COAUTH_OLD", &author, &p_old)["severity"],
        "apparent"
    );
    let by_orcid = find(&conflicts, "COAUTH_RECENT", &author, &p_orcid);
    assert_eq!(
        by_orcid["evidence_data"]["shared_publications"][0]["match_type"],
        "orcid"
    );
    assert_eq!(by_orcid["evidence_data"]["lookback_years"], 3);
}

async fn detect_config_toggles(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let year = Utc::now().year();
    let member = reviewer(
        &app,
        call,
        "toggle",
        "Tia Toggle",
        "tia@home.test",
        json!({}),
    )
    .await;
    add_affiliation(
        &app,
        &member,
        json!({"organization_name": "Shared Institute"}),
    )
    .await;
    add_publication(&app, &member, "Joint", year, json!(["Uma Partner"])).await;
    team_proposal(
        &app,
        &setup.round_uuid,
        "Everything",
        json!([
            {"full_name": "Tia Toggle", "organization": "Shared Institute"},
            {"full_name": "Uma Partner"}
        ]),
    )
    .await;
    let configuration = format!("/api/proposal-protected-calls/{call}/coi-configuration/");

    app.patch(
        &app.staff,
        &configuration,
        json!({"auto_detect_named_personnel": false, "auto_detect_institutional": false, "auto_detect_coauthorship": false}),
    )
    .await
    .expect(200);
    let job = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(job["total_pairs"], 1);
    assert_eq!(job["conflicts_found"], 0);
    assert!(automated(&app, call).await.is_empty());

    app.patch(
        &app.staff,
        &configuration,
        json!({"auto_detect_institutional": true, "include_same_institution": false}),
    )
    .await
    .expect(200);
    detect(&app, &app.staff, call, "full_call").await;
    assert!(automated(&app, call).await.is_empty());

    app.patch(
        &app.staff,
        &configuration,
        json!({"auto_detect_named_personnel": true}),
    )
    .await
    .expect(200);
    detect(&app, &app.staff, call, "full_call").await;
    let types: BTreeSet<String> = automated(&app, call)
        .await
        .iter()
        .map(|c| c["coi_type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(types, BTreeSet::from(["ROLE_NAMED".to_owned()]));

    app.patch(
        &app.staff,
        &configuration,
        json!({"include_same_institution": true, "auto_detect_coauthorship": true}),
    )
    .await
    .expect(200);
    let job = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(job["conflicts_found"], 2);
    let types: BTreeSet<String> = automated(&app, call)
        .await
        .iter()
        .map(|c| c["coi_type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from([
            "ROLE_NAMED".to_owned(),
            "INST_SAME".to_owned(),
            "COAUTH_RECENT".to_owned()
        ])
    );
}

async fn detect_incremental_and_full(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let round = &setup.round_uuid;
    let named = reviewer(&app, call, "named", "Nia Named", "nia@home.test", json!({})).await;
    reviewer(&app, call, "plain", "Pia Plain", "pia@home.test", json!({})).await;
    let first = team_proposal(&app, round, "First", json!([{"full_name": "Nia Named"}])).await;
    team_proposal(&app, round, "Second", json!([{"full_name": "Nobody Here"}])).await;

    let full = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(full["total_pairs"], 4);
    assert_eq!(full["conflicts_found"], 1);

    let incremental = detect(&app, &app.staff, call, "incremental").await;
    assert_eq!(incremental["total_pairs"], 0);
    assert_eq!(incremental["processed_pairs"], 0);
    assert_eq!(incremental["progress_percentage"], 0.0);
    assert_eq!(incremental["conflicts_found"], 0);

    let third = team_proposal(&app, round, "Third", json!([{"full_name": "Nia Named"}])).await;
    let incremental = detect(&app, &app.staff, call, "incremental").await;
    assert_eq!(incremental["total_pairs"], 2);
    assert_eq!(incremental["conflicts_found"], 1);

    let conflicts = automated(&app, call).await;
    let expected: BTreeSet<_> = [pair(&named, &first), pair(&named, &third)]
        .into_iter()
        .collect();
    assert_eq!(pairs(&conflicts, "ROLE_NAMED"), expected);

    let dismissed = find(&conflicts, "ROLE_NAMED", &named, &first);
    app.post(
        &app.staff,
        &format!("/api/conflicts-of-interest/{}/dismiss/", uuid_of(dismissed)),
        json!({"status": "dismissed", "review_notes": "Same name, different person."}),
    )
    .await
    .expect(200);

    let rerun = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(rerun["total_pairs"], 6);
    assert_eq!(rerun["conflicts_found"], 0);
    let after = automated(&app, call).await;
    assert_eq!(after.len(), conflicts.len());
    assert_eq!(
        find(&after, "ROLE_NAMED", &named, &first)["status"],
        "dismissed"
    );
}

async fn detect_blocks_pending_items(app: TestApp) {
    let setup = app.call_setup(1, 0).await;
    let call = &setup.call_uuid;
    let named = reviewer(&app, call, "named", "Nia Named", "nia@home.test", json!({})).await;
    let proposal = team_proposal(
        &app,
        &setup.round_uuid,
        "Named",
        json!([{"full_name": "Nia Named"}]),
    )
    .await;
    let blocked = app.draft_item(call, &named, &proposal).await;
    let free = app.draft_item(call, &named, &setup.proposal_uuid(0)).await;
    assert_eq!(
        app.item_state(&blocked.item_uuid).await,
        ("pending".to_owned(), false)
    );

    detect(&app, &app.staff, call, "full_call").await;

    assert_eq!(
        app.item_state(&blocked.item_uuid).await,
        ("coi_blocked".to_owned(), true)
    );
    assert_eq!(
        app.item_state(&free.item_uuid).await,
        ("pending".to_owned(), false)
    );
    let conflicts = automated(&app, call).await;
    let conflict = find(&conflicts, "ROLE_NAMED", &named, &proposal);
    let actions: Vec<String> = app
        .audit_actions(&uuid_of(conflict))
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(
        actions.contains(&"conflict.detected".to_owned()),
        "{actions:?}"
    );
    let item_actions: Vec<String> = app
        .audit_actions(&blocked.item_uuid)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert!(
        item_actions.contains(&"item.coi_blocked".to_owned()),
        "{item_actions:?}"
    );
}

/// A call with one named reviewer and one user per role of the matrix.
struct Cast {
    setup: CallSetup,
    manager: TestUser,
    owner: TestUser,
    member: TestUser,
    support: TestUser,
    reviewer: PoolMember,
    unrelated: TestUser,
}

async fn cast(app: &TestApp) -> Cast {
    let setup = app.call_setup(1, 1).await;
    let manager = app.user("manager").await;
    app.grant_call_role(&setup.call_uuid, &manager, "CALL.MANAGER")
        .await;
    let owner = app.user("owner").await;
    app.grant_customer_role(&setup.customer_uuid, &owner, "CUSTOMER.OWNER")
        .await;
    let member = app.user("member").await;
    app.grant_customer_role(&setup.customer_uuid, &member, "CUSTOMER.MEMBER")
        .await;
    let support = app.user_with("support", json!({"is_support": true})).await;
    let unrelated = app.user("unrelated").await;
    let reviewer = setup.reviewers[0].clone();
    Cast {
        setup,
        manager,
        owner,
        member,
        support,
        reviewer,
        unrelated,
    }
}

async fn job_count(app: &TestApp) -> i64 {
    app.head(&app.staff, JOBS).await.expect(200).count()
}

async fn detect_permission_matrix(app: TestApp) {
    let cast = cast(&app).await;
    let call = &cast.setup.call_uuid;

    let by_manager = detect(&app, &cast.manager, call, "full_call").await;
    let keys: BTreeSet<&str> = by_manager
        .as_object()
        .expect("job")
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "url",
        "uuid",
        "call",
        "call_uuid",
        "call_name",
        "job_type",
        "state",
        "total_pairs",
        "processed_pairs",
        "progress_percentage",
        "conflicts_found",
        "started_at",
        "completed_at",
        "error_message",
        "created",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    let job_uuid = uuid_of(&by_manager);
    assert_eq!(by_manager["url"], format!("{}{JOBS}{job_uuid}/", app.base));
    assert_eq!(by_manager["call_uuid"], call.as_str());
    assert_eq!(by_manager["call_name"], "Call");
    assert!(
        by_manager["call"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!("/api/proposal-protected-calls/{call}/"))
    );
    detect(&app, &cast.owner, call, "incremental").await;
    detect(&app, &app.staff, call, "full_call").await;

    let before = job_count(&app).await;
    assert_eq!(before, 3);
    let refused = app
        .post(&cast.support, &detect_path(call), json!({}))
        .await
        .expect(403);
    assert!(refused.body["detail"].is_string());
    app.post(&cast.member, &detect_path(call), json!({}))
        .await
        .expect(403);
    app.post(&cast.reviewer.user, &detect_path(call), json!({}))
        .await
        .expect(404);
    app.post(&cast.unrelated, &detect_path(call), json!({}))
        .await
        .expect(404);
    app.post(&TestUser::anonymous(), &detect_path(call), json!({}))
        .await
        .expect(401);
    assert_eq!(job_count(&app).await, before);

    let path = format!("{JOBS}{job_uuid}/");
    for reader in [
        &app.staff,
        &cast.support,
        &cast.manager,
        &cast.owner,
        &cast.member,
    ] {
        let job = app.get(reader, &path).await.expect(200);
        assert_eq!(job.str("uuid"), job_uuid);
        assert_eq!(app.get(reader, JOBS).await.expect(200).count(), 3);
        assert_eq!(app.head(reader, JOBS).await.expect(200).count(), 3);
    }
    for outsider in [&cast.reviewer.user, &cast.unrelated] {
        let hidden = app.get(outsider, &path).await.expect(404);
        assert_eq!(hidden.body, json!({"detail": "Not found."}));
        assert_eq!(app.get(outsider, JOBS).await.expect(200).count(), 0);
    }
    app.get(&TestUser::anonymous(), &path).await.expect(401);
    app.get(&TestUser::anonymous(), JOBS).await.expect(401);
    app.delete(&app.staff, &path).await.expect(405);
    app.post(&app.staff, JOBS, json!({})).await.expect(405);
}

async fn detect_job_list_filters(app: TestApp) {
    let first = app.call_setup(0, 0).await;
    let full = detect(&app, &app.staff, &first.call_uuid, "full_call").await;
    let incremental = detect(&app, &app.staff, &first.call_uuid, "incremental").await;
    let other_call = app.call(&first.customer_uuid, "Other call").await;
    let other_call_uuid = uuid_of(&other_call);
    let other = detect(&app, &app.staff, &other_call_uuid, "full_call").await;

    let list = |query: String| {
        let app = &app;
        async move {
            app.get(&app.staff, &format!("{JOBS}?{query}"))
                .await
                .expect(200)
                .array()
                .iter()
                .map(uuid_of)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(String::new()).await,
        vec![uuid_of(&other), uuid_of(&incremental), uuid_of(&full)]
    );
    assert_eq!(
        list("o=created".into()).await,
        vec![uuid_of(&full), uuid_of(&incremental), uuid_of(&other)]
    );
    assert_eq!(
        list(format!("call_uuid={}", first.call_uuid)).await.len(),
        2
    );
    assert_eq!(
        list("job_type=incremental".into()).await,
        vec![uuid_of(&incremental)]
    );
    assert_eq!(
        list("job_type=incremental&job_type=full_call".into())
            .await
            .len(),
        3
    );
    assert_eq!(list("state=completed".into()).await.len(), 3);
    assert_eq!(list("state=pending&state=failed".into()).await.len(), 0);
    assert_eq!(list("o=-started_at".into()).await.len(), 3);
    assert_eq!(list("o=completed_at,state".into()).await.len(), 3);
    assert_eq!(
        app.head(&app.staff, &format!("{JOBS}?job_type=full_call"))
            .await
            .expect(200)
            .count(),
        2
    );

    let bad_state = app
        .get(&app.staff, &format!("{JOBS}?state=done"))
        .await
        .expect(400);
    assert!(bad_state.body["state"].is_array());
    let bad_order = app
        .get(&app.staff, &format!("{JOBS}?o=name"))
        .await
        .expect(400);
    assert!(bad_order.body["o"].is_array());
    let bad_call = app
        .get(&app.staff, &format!("{JOBS}?call_uuid=nope"))
        .await
        .expect(400);
    assert!(bad_call.body["call_uuid"].is_array());
}

async fn detect_refusals(app: TestApp) {
    let setup = app.call_setup(1, 1).await;
    let call = &setup.call_uuid;

    let invalid = app
        .post(
            &app.staff,
            &detect_path(call),
            json!({"job_type": "single_pair"}),
        )
        .await
        .expect(400);
    assert!(
        invalid.body["job_type"][0]
            .as_str()
            .unwrap_or_default()
            .contains("single_pair")
    );
    let wrong_type = app
        .post(&app.staff, &detect_path(call), json!({"job_type": 3}))
        .await
        .expect(400);
    assert!(wrong_type.body["job_type"].is_array());
    assert_eq!(job_count(&app).await, 0);

    app.post(
        &app.staff,
        &detect_path("0190a0b0c0d0e0f00000000000000000"),
        json!({}),
    )
    .await
    .expect(404);
    app.post(&app.staff, &detect_path("not-a-uuid"), json!({}))
        .await
        .expect(404);
    app.get(
        &app.staff,
        &format!("{JOBS}0190a0b0c0d0e0f00000000000000000/"),
    )
    .await
    .expect(404);
    app.get(&app.staff, &detect_path(call)).await.expect(405);

    let started = app
        .request(&app.staff, reqwest::Method::POST, &detect_path(call), None)
        .await
        .expect(202);
    assert_eq!(started.str("job_type"), "full_call");
    let job = wait_for(&app, &started.str("uuid")).await;
    assert_eq!(job["state"], "completed");
    assert_eq!(job["total_pairs"], 1);
}

/// Reads up to `count` submissions from the ICLR 2018 sample, or `None` when the file is
/// not next to the repository.
fn iclr_sample(count: usize) -> Option<Vec<(String, Vec<String>)>> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/iclr2018.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!(
            "skipping the ICLR sample: {} is not readable",
            path.display()
        );
        return None;
    };
    let papers: Vec<Value> = serde_json::from_str(&text).expect("iclr2018.json is a JSON array");
    Some(
        papers
            .iter()
            .filter(|paper| {
                paper["authors"]
                    .as_array()
                    .is_some_and(|authors| !authors.is_empty())
            })
            .take(count)
            .map(|paper| {
                let title = paper["title"]
                    .as_str()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                let authors = paper["authors"]
                    .as_array()
                    .map(|authors| {
                        authors
                            .iter()
                            .filter_map(|author| author.as_str().map(|name| name.trim().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                (title, authors)
            })
            .collect(),
    )
}

async fn detect_iclr_sample(app: TestApp) {
    let Some(papers) = iclr_sample(30) else {
        return;
    };
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let year = Utc::now().year();

    let mut proposals = Vec::new();
    for (title, authors) in &papers {
        let team: Vec<Value> = authors
            .iter()
            .map(|name| json!({"full_name": name}))
            .collect();
        proposals.push(team_proposal(&app, &setup.round_uuid, title, json!(team)).await);
    }

    // Each paper's first author reviews; its publications are the sample papers it wrote,
    // with the other authors as co-authors.
    let mut reviewers: Vec<(String, PoolMember)> = Vec::new();
    for (_, authors) in &papers {
        let name = &authors[0];
        if reviewers.iter().any(|(known, _)| known == name) {
            continue;
        }
        let username = format!("author{}", reviewers.len());
        let member = reviewer(
            &app,
            call,
            &username,
            name,
            &format!("{username}@example.org"),
            json!({}),
        )
        .await;
        for (other_title, other_authors) in &papers {
            if other_authors.contains(name) {
                let coauthors: Vec<&String> = other_authors
                    .iter()
                    .filter(|author| *author != name)
                    .collect();
                add_publication(&app, &member, other_title, year, json!(coauthors)).await;
            }
        }
        reviewers.push((name.clone(), member));
    }

    let job = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(
        job["total_pairs"].as_u64(),
        Some((reviewers.len() * papers.len()) as u64)
    );
    let conflicts = automated(&app, call).await;

    let mut named = BTreeSet::new();
    let mut coauthored = BTreeSet::new();
    for (name, member) in &reviewers {
        let own_papers: Vec<&Vec<String>> = papers
            .iter()
            .filter(|(_, authors)| authors.contains(name))
            .map(|(_, authors)| authors)
            .collect();
        for ((_, authors), proposal) in papers.iter().zip(&proposals) {
            if authors
                .iter()
                .any(|author| name_similarity(author, name) >= NAMED_SIMILARITY)
            {
                named.insert(pair(member, proposal));
            }
            let shares_paper = authors.iter().any(|author| {
                own_papers.iter().any(|own| {
                    own.iter()
                        .filter(|coauthor| *coauthor != name)
                        .any(|coauthor| name_similarity(coauthor, author) >= COAUTHOR_SIMILARITY)
                })
            });
            if shares_paper {
                coauthored.insert(pair(member, proposal));
            }
        }
    }

    let found_named = pairs(&conflicts, "ROLE_NAMED");
    assert_eq!(found_named, named);
    for (name, member) in &reviewers {
        for ((_, authors), proposal) in papers.iter().zip(&proposals) {
            if authors.contains(name) {
                assert!(
                    found_named.contains(&pair(member, proposal)),
                    "{name} is not named on own paper"
                );
                if authors.len() > 1 {
                    assert!(
                        pairs(&conflicts, "COAUTH_RECENT").contains(&pair(member, proposal)),
                        "{name} has no co-authorship conflict on own paper"
                    );
                }
            }
        }
    }
    assert_eq!(pairs(&conflicts, "COAUTH_RECENT"), coauthored);
    assert!(pairs(&conflicts, "COAUTH_OLD").is_empty());
    assert!(pairs(&conflicts, "INST_SAME").is_empty());
    assert_eq!(
        job["conflicts_found"].as_u64(),
        Some(conflicts.len() as u64)
    );

    let rerun = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(rerun["conflicts_found"], 0);
}

/// Proposal UUIDs of the call's items assigned to a reviewer profile.
async fn assigned_proposals(app: &TestApp, call_uuid: &str, reviewer: &PoolMember) -> Vec<String> {
    item_statuses(app, call_uuid, reviewer)
        .await
        .into_keys()
        .collect()
}

/// Reads a detection job as staff.
async fn read_job(app: &TestApp, job_uuid: &str) -> Value {
    app.get(&app.staff, &format!("{JOBS}{job_uuid}/"))
        .await
        .expect(200)
        .body
}

async fn generate(app: &TestApp, call_uuid: &str) -> Value {
    app.post(
        &app.staff,
        &format!("/api/proposal-protected-calls/{call_uuid}/generate-assignments/"),
        json!({"reviewers_per_proposal": 1}),
    )
    .await
    .expect(200)
    .body
}

async fn generate_detects_unevaluated_pairs(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let round = &setup.round_uuid;
    let named = reviewer(&app, call, "named", "Nia Named", "nia@home.test", json!({})).await;
    let plain = reviewer(&app, call, "plain", "Pia Plain", "pia@home.test", json!({})).await;
    let first = team_proposal(&app, round, "First", json!([{"full_name": "Nia Named"}])).await;
    team_proposal(&app, round, "Second", json!([{"full_name": "Nobody Here"}])).await;

    // No detection ran yet, so generation evaluates all four pairs first.
    let outcome = generate(&app, call).await;
    let job_uuid = outcome["coi_detection_job_uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("no detection job in {outcome}"))
        .to_owned();
    let job = read_job(&app, &job_uuid).await;
    assert_eq!(job["job_type"], "incremental");
    assert_eq!(job["state"], "completed");
    assert_eq!(job["total_pairs"], 4);
    assert_eq!(job["conflicts_found"], 1);
    assert_eq!(outcome["items_created"], 2);

    let conflicts = automated(&app, call).await;
    assert_eq!(
        pairs(&conflicts, "ROLE_NAMED"),
        BTreeSet::from([pair(&named, &first)])
    );
    assert!(
        !assigned_proposals(&app, call, &named)
            .await
            .contains(&first)
    );
    assert!(
        assigned_proposals(&app, call, &plain)
            .await
            .contains(&first)
    );

    // Every pair is evaluated now: a second run starts no job.
    let jobs_before = job_count(&app).await;
    let repeat = generate(&app, call).await;
    assert_eq!(repeat["coi_detection_job_uuid"], Value::Null);
    assert_eq!(job_count(&app).await, jobs_before);

    // A proposal added later is evaluated against both reviewers before it is assigned.
    let third = team_proposal(&app, round, "Third", json!([{"full_name": "Nia Named"}])).await;
    let later = generate(&app, call).await;
    let later_job = later["coi_detection_job_uuid"]
        .as_str()
        .expect("a job")
        .to_owned();
    let job = read_job(&app, &later_job).await;
    assert_eq!(job["total_pairs"], 2);
    assert_eq!(job["conflicts_found"], 1);
    assert!(
        !assigned_proposals(&app, call, &named)
            .await
            .contains(&third)
    );
    assert!(
        assigned_proposals(&app, call, &plain)
            .await
            .contains(&third)
    );
}

/// Statuses of a reviewer's items in the call, by proposal UUID.
async fn item_statuses(
    app: &TestApp,
    call_uuid: &str,
    reviewer: &PoolMember,
) -> std::collections::BTreeMap<String, String> {
    app.get(
        &app.staff,
        &format!(
            "/api/assignment-items/?call_uuid={call_uuid}&reviewer_uuid={}&page_size=300",
            reviewer.profile_uuid()
        ),
    )
    .await
    .expect(200)
    .array()
    .iter()
    .map(|item| {
        (
            item["proposal_uuid"]
                .as_str()
                .expect("proposal_uuid")
                .to_owned(),
            item["status"].as_str().expect("status").to_owned(),
        )
    })
    .collect()
}

/// Completed `single_pair` jobs of the call.
async fn single_pair_jobs(app: &TestApp, call_uuid: &str) -> Vec<Value> {
    app.get(
        &app.staff,
        &format!("{JOBS}?call_uuid={call_uuid}&page_size=300"),
    )
    .await
    .expect(200)
    .array()
    .iter()
    .filter(|job| job["job_type"] == "single_pair")
    .cloned()
    .collect()
}

async fn reassign_and_manual_evaluate_pair(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let round = &setup.round_uuid;
    let plain = reviewer(&app, call, "plain", "Pia Plain", "pia@home.test", json!({})).await;
    let first = team_proposal(&app, round, "First", json!([{"full_name": "Nia Named"}])).await;
    let item = app.sent_item(call, &plain, &first).await;
    app.post(
        &plain.user,
        &format!("/api/assignment-items/{}/decline/", item.item_uuid),
        json!({"reason": "Away"}),
    )
    .await
    .expect(200);

    // Oda's pairs are evaluated; Nia joins after the last detection run, so hers are not.
    let other = reviewer(&app, call, "other", "Oda Other", "oda@home.test", json!({})).await;
    detect(&app, &app.staff, call, "incremental").await;
    let named = reviewer(&app, call, "named", "Nia Named", "nia@home.test", json!({})).await;
    let suggestions = app
        .get(
            &app.staff,
            &format!(
                "/api/assignment-items/{}/suggest_alternatives/",
                item.item_uuid
            ),
        )
        .await
        .expect(200)
        .body;
    let status_of = |member: &PoolMember| {
        suggestions["suggestions"]
            .as_array()
            .expect("suggestions")
            .iter()
            .find(|suggestion| suggestion["pool_entry_uuid"] == member.entry_uuid().as_str())
            .map(|suggestion| suggestion["coi_status"].clone())
    };
    assert_eq!(status_of(&other), Some(json!("none")));
    assert_eq!(status_of(&named), Some(json!("unknown")));

    let reassigned = app
        .post(
            &app.staff,
            &format!("/api/assignment-items/{}/reassign/", item.item_uuid),
            json!({"reviewer_pool_entry_uuid": named.entry_uuid()}),
        )
        .await
        .expect(200);
    assert_eq!(reassigned.body["has_coi"], true);
    assert_eq!(
        item_statuses(&app, call, &named)
            .await
            .get(&first)
            .map(String::as_str),
        Some("coi_blocked")
    );
    let conflicts = automated(&app, call).await;
    assert_eq!(
        pairs(&conflicts, "ROLE_NAMED"),
        BTreeSet::from([pair(&named, &first)])
    );
    let jobs = single_pair_jobs(&app, call).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["state"], "completed");
    assert_eq!(jobs[0]["total_pairs"], 1);
    assert_eq!(jobs[0]["conflicts_found"], 1);

    // Manual assignment evaluates its never-evaluated pairs the same way.
    let second = team_proposal(&app, round, "Second", json!([{"full_name": "Nia Named"}])).await;
    let manual = app
        .post(
            &app.staff,
            &format!("/api/proposal-protected-calls/{call}/create-manual-assignment/"),
            json!({"reviewer_pool_entry_uuid": named.entry_uuid(), "proposal_uuids": [second]}),
        )
        .await
        .expect(200);
    assert_eq!(manual.body["items_created"], 1);
    assert_eq!(manual.body["items_blocked"], 1);
    assert_eq!(
        item_statuses(&app, call, &named)
            .await
            .get(&second)
            .map(String::as_str),
        Some("coi_blocked")
    );
    assert_eq!(single_pair_jobs(&app, call).await.len(), 2);

    // An evaluated pair is not evaluated again.
    let third = team_proposal(&app, round, "Third", json!([{"full_name": "Nobody Here"}])).await;
    detect(&app, &app.staff, call, "incremental").await;
    app.post(
        &app.staff,
        &format!("/api/proposal-protected-calls/{call}/create-manual-assignment/"),
        json!({"reviewer_pool_entry_uuid": named.entry_uuid(), "proposal_uuids": [third]}),
    )
    .await
    .expect(200);
    assert_eq!(
        item_statuses(&app, call, &named)
            .await
            .get(&third)
            .map(String::as_str),
        Some("pending")
    );
    assert_eq!(single_pair_jobs(&app, call).await.len(), 2);
}

async fn auto_reassign_skips_new_conflict(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let round = &setup.round_uuid;
    let plain = reviewer(&app, call, "plain", "Pia Plain", "pia@home.test", json!({})).await;
    let proposal = team_proposal(&app, round, "Named", json!([{"full_name": "Kai Named"}])).await;
    let item = app.sent_item(call, &plain, &proposal).await;
    app.set_auto_reassign(call, true, 3).await;

    // Kai ranks first by affinity, but is named on the proposal; nobody evaluated his pair.
    let named = reviewer(&app, call, "named", "Kai Named", "kai@home.test", json!({})).await;
    let other = reviewer(&app, call, "other", "Lou Other", "lou@home.test", json!({})).await;
    app.cache_affinity(call, &named, &proposal, 0.9).await;
    app.cache_affinity(call, &other, &proposal, 0.1).await;

    app.post(
        &plain.user,
        &format!("/api/assignment-items/{}/decline/", item.item_uuid),
        json!({"reason": "Away"}),
    )
    .await
    .expect(200);
    assert!(item_statuses(&app, call, &named).await.is_empty());
    assert_eq!(
        item_statuses(&app, call, &other)
            .await
            .get(&proposal)
            .map(String::as_str),
        Some("pending")
    );
    let conflicts = automated(&app, call).await;
    assert_eq!(
        pairs(&conflicts, "ROLE_NAMED"),
        BTreeSet::from([pair(&named, &proposal)])
    );
}

async fn changed_facts_evaluated_again(app: TestApp) {
    let setup = app.call_setup(0, 0).await;
    let call = &setup.call_uuid;
    let round = &setup.round_uuid;
    let john = reviewer(
        &app,
        call,
        "john",
        "John Reviewer",
        "john@home.test",
        json!({}),
    )
    .await;
    let named = team_proposal(&app, round, "Named", json!([{"full_name": "Nobody Here"}])).await;
    let coauthored = team_proposal(
        &app,
        round,
        "Coauthored",
        json!([{"full_name": "Cora Author"}]),
    )
    .await;
    let first = detect(&app, &app.staff, call, "full_call").await;
    assert_eq!(first["conflicts_found"], 0);

    // A new team member makes the proposal's pairs unevaluated again.
    app.post(
        &app.staff,
        &format!("/api/proposal-proposals/{named}/team-members/"),
        json!({"full_name": "John Reviewer", "role": "co_investigator"}),
    )
    .await
    .expect(201);
    let after_team = detect(&app, &app.staff, call, "incremental").await;
    assert_eq!(after_team["total_pairs"], 1);
    assert_eq!(after_team["conflicts_found"], 1);
    let conflicts = automated(&app, call).await;
    assert_eq!(
        pairs(&conflicts, "ROLE_NAMED"),
        BTreeSet::from([pair(&john, &named)])
    );

    // So does a new publication of the reviewer, for every proposal of the call.
    let year = Utc::now().year();
    add_publication(&app, &john, "Shared work", year, json!(["Cora Author"])).await;
    let after_publication = detect(&app, &app.staff, call, "incremental").await;
    assert_eq!(after_publication["total_pairs"], 2);
    assert_eq!(after_publication["conflicts_found"], 1);
    let conflicts = automated(&app, call).await;
    assert_eq!(
        pairs(&conflicts, "COAUTH_RECENT"),
        BTreeSet::from([pair(&john, &coauthored)])
    );

    // And a change of the reviewer's account name.
    app.patch(
        &app.staff,
        &format!("/api/users/{}/", john.user.uuid),
        json!({"full_name": "John R. Reviewer"}),
    )
    .await
    .expect(200);
    let after_rename = detect(&app, &app.staff, call, "incremental").await;
    assert_eq!(after_rename["total_pairs"], 2);

    // Changes that detection does not read leave the evaluations alone.
    app.patch(
        &app.staff,
        &format!("/api/users/{}/", john.user.uuid),
        json!({"full_name": "John R. Reviewer"}),
    )
    .await
    .expect(200);
    let unchanged = detect(&app, &app.staff, call, "incremental").await;
    assert_eq!(unchanged["total_pairs"], 0);
}
