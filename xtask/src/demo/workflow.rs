//! The steps of the demo, each a few requests to the API: the call and its round, the
//! import, affinities, conflict detection, generation, sending, the reviewers' accepts and
//! declines, and the reassignment of declined items.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

use super::Timings;
use super::client::{Api, integer, text};
use super::data::Dataset;
use super::document;
use crate::interrupt;

/// Time between two reads of a running detection job.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Reason that declining reviewers give.
const DECLINE_REASON: &str = "Not available during the review period.";

/// Settings of the workflow.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Appended to the names of the organisation and the call when set.
    pub tag: Option<String>,
    pub lookback_years: i32,
    pub seed: u64,
    pub accept_share: f64,
    pub decline_share: f64,
    pub reviewers_per_proposal: u32,
    pub max_assignments: u32,
}

/// Replies of the steps, for the summary.
#[derive(Debug, Default)]
pub struct Results {
    pub call_uuid: String,
    /// Sums of the counts of every import document.
    pub imported: BTreeMap<String, i64>,
    pub import_documents: usize,
    pub affinities_computed: i64,
    /// The finished detection job.
    pub job: Value,
    /// The reply of generate-assignments.
    pub generation: Value,
    pub batches_sent: i64,
    pub answers: Answers,
    pub reassignment: Reassignment,
}

/// Accepts and declines of the reviewers with sent items.
#[derive(Debug, Default)]
pub struct Answers {
    pub reviewers_with_items: usize,
    pub accepting_reviewers: usize,
    pub declining_reviewers: usize,
    pub tokens_issued: usize,
    pub accepted_items: usize,
    /// Declined items as (item UUID, proposal UUID).
    pub declined_items: Vec<(String, String)>,
}

/// Outcome of reassigning the declined items.
#[derive(Debug, Default)]
pub struct Reassignment {
    pub reassigned: usize,
    /// Declined items without a suggested reviewer with free capacity.
    pub without_candidate: usize,
    /// Reassignments whose new item the server reported as blocked by a conflict.
    pub blocked_new_items: usize,
    /// Every suggestion returned, as (reviewer profile UUID, proposal UUID).
    pub suggested_pairs: Vec<(String, String)>,
    pub batches_sent: i64,
    /// Wall time spent in `suggest_alternatives` and in `reassign` requests.
    pub suggest_time: Duration,
    pub reassign_time: Duration,
}

pub fn run(
    api: &Api,
    dataset: &Dataset,
    settings: &Settings,
    timings: &mut Timings,
) -> Result<Results> {
    let (call_uuid, round_slug) = timings.step("create the call", || create_call(api, settings))?;
    let call = format!("/api/proposal-protected-calls/{call_uuid}");
    timings.step("configure conflicts and matching", || {
        configure(api, &call, settings)
    })?;

    let mut results = Results {
        call_uuid: call_uuid.clone(),
        ..Results::default()
    };
    timings.step("import proposals and reviewers", || {
        import(api, &call, dataset, &round_slug, settings, &mut results)
    })?;
    results.affinities_computed = timings.step("compute-affinities", || {
        let reply = api.post_empty(&format!("{call}/compute-affinities/"))?;
        integer(&reply, "computed_count")
    })?;
    results.job = timings.step("detect-conflicts", || detect(api, &call))?;
    results.generation = timings.step("generate-assignments", || {
        api.post(
            &format!("{call}/generate-assignments/"),
            &json!({"reviewers_per_proposal": settings.reviewers_per_proposal}),
        )
    })?;
    results.batches_sent = timings.step("send-all-assignments", || {
        let reply = api.post(&format!("{call}/send-all-assignments/"), &json!({}))?;
        integer(&reply, "batches_sent")
    })?;
    results.answers = timings.step("reviewers accept and decline", || {
        answer(api, &call, settings)
    })?;
    results.reassignment = timings.step("reassign declined items", || {
        reassign(api, &call, &results.answers.declined_items)
    })?;
    Ok(results)
}

/// Creates the organisation, the call and its round; returns the call UUID and round slug.
fn create_call(api: &Api, settings: &Settings) -> Result<(String, String)> {
    let suffix = settings
        .tag
        .as_ref()
        .map(|tag| format!(" (run {tag})"))
        .unwrap_or_default();
    let organisation = api.post(
        "/api/customers/",
        &json!({"name": format!("ICLR{suffix}"), "abbreviation": "ICLR"}),
    )?;
    let call = api.post(
        "/api/proposal-protected-calls/",
        &json!({
            "name": format!("ICLR 2018{suffix}"),
            "description": "Submissions to the International Conference on Learning Representations 2018.",
            "customer": text(&organisation, "uuid")?,
            "state": "active",
        }),
    )?;
    let call_uuid = text(&call, "uuid")?.to_owned();
    // The submission period of ICLR 2018 on OpenReview.
    let round = api.post(
        &format!("/api/proposal-protected-calls/{call_uuid}/rounds/"),
        &json!({
            "start_time": "2017-09-01T00:00:00+00:00",
            "cutoff_time": "2017-10-27T23:59:59+00:00",
            "review_duration_in_days": 30,
        }),
    )?;
    Ok((call_uuid, text(&round, "slug")?.to_owned()))
}

/// Lets co-authorship reach back to the oldest papers, scores affinity by text alone (the
/// profiles have no expertise keywords), and sets the reviewers per proposal and the
/// workload limit.
fn configure(api: &Api, call: &str, settings: &Settings) -> Result<()> {
    api.patch(
        &format!("{call}/coi-configuration/"),
        &json!({"coauthorship_lookback_years": settings.lookback_years}),
    )?;
    api.patch(
        &format!("{call}/matching-configuration/"),
        &json!({
            "affinity_method": "tfidf",
            "min_reviewers_per_proposal": settings.reviewers_per_proposal,
            "max_reviewers_per_proposal": settings.reviewers_per_proposal,
            "max_proposals_per_reviewer": settings.max_assignments,
        }),
    )?;
    Ok(())
}

fn import(
    api: &Api,
    call: &str,
    dataset: &Dataset,
    round_slug: &str,
    settings: &Settings,
    results: &mut Results,
) -> Result<()> {
    let mut documents = document::proposal_documents(dataset, round_slug);
    documents.extend(document::reviewer_documents(
        dataset,
        settings.max_assignments,
    ));
    let count = documents.len();
    for (index, document) in documents.iter().enumerate() {
        interrupt::check()?;
        let counts = api
            .post(&format!("{call}/import/"), document)
            .with_context(|| format!("import document {} of {count} was rejected", index + 1))?;
        let Value::Object(counts) = counts else {
            bail!("the import returned no object of counts");
        };
        for (key, value) in counts {
            if let Some(number) = value.as_i64() {
                *results.imported.entry(key).or_default() += number;
            }
        }
        eprintln!("demo:   imported document {} of {count}", index + 1);
    }
    results.import_documents = count;
    Ok(())
}

/// Starts a full detection job and polls it until it ends, printing its progress.
fn detect(api: &Api, call: &str) -> Result<Value> {
    let job = api.post(
        &format!("{call}/detect-conflicts/"),
        &json!({"job_type": "full_call"}),
    )?;
    let path = format!("/api/coi-detection-jobs/{}/", text(&job, "uuid")?);
    let mut last_report = Instant::now();
    loop {
        interrupt::check()?;
        let job = api.get(&path)?;
        let state = text(&job, "state")?;
        match state {
            "completed" => return Ok(job),
            "failed" | "cancelled" => bail!(
                "the detection job ended {state}: {}",
                job["error_message"].as_str().unwrap_or_default()
            ),
            _ => {}
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            eprintln!(
                "demo:   detection {state}: {} of {} pairs ({}%), {} conflicts",
                job["processed_pairs"],
                job["total_pairs"],
                job["progress_percentage"],
                job["conflicts_found"]
            );
            last_report = Instant::now();
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Lets a seeded random share of the reviewers with pending items decline them all and
/// another share accept them all, each with a token issued for that reviewer by staff.
fn answer(api: &Api, call: &str, settings: &Settings) -> Result<Answers> {
    let rows = export_assignments(api, call)?;
    let mut pending: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in &rows {
        if text(row, "status")? == "pending" {
            pending
                .entry(text(row, "reviewer_email")?.to_owned())
                .or_default()
                .push((
                    text(row, "item_uuid")?.to_owned(),
                    text(row, "proposal_uuid")?.to_owned(),
                ));
        }
    }
    let users = pool_users(api, call)?;

    let mut reviewers: Vec<&String> = pending.keys().collect();
    reviewers.shuffle(&mut StdRng::seed_from_u64(settings.seed));
    let share = |fraction: f64| (reviewers.len() as f64 * fraction).round() as usize;
    let declining = share(settings.decline_share).min(reviewers.len());
    let accepting = share(settings.accept_share).min(reviewers.len() - declining);

    let mut answers = Answers {
        reviewers_with_items: reviewers.len(),
        accepting_reviewers: accepting,
        declining_reviewers: declining,
        ..Answers::default()
    };
    for (position, email) in reviewers.iter().take(declining + accepting).enumerate() {
        interrupt::check()?;
        let user = users
            .get(*email)
            .with_context(|| format!("the pool has no user for the reviewer {email}"))?;
        let token = api.post_empty(&format!("/api/users/{user}/token/"))?;
        let reviewer = api.with_token(text(&token, "token")?);
        answers.tokens_issued += 1;
        for (item, proposal) in &pending[*email] {
            if position < declining {
                reviewer.post(
                    &format!("/api/assignment-items/{item}/decline/"),
                    &json!({"reason": DECLINE_REASON}),
                )?;
                answers
                    .declined_items
                    .push((item.clone(), proposal.clone()));
            } else {
                reviewer.post_empty(&format!("/api/assignment-items/{item}/accept/"))?;
                answers.accepted_items += 1;
            }
        }
    }
    Ok(answers)
}

/// Reassigns each declined item to the first suggested reviewer with free capacity, then
/// sends the new batches.
fn reassign(api: &Api, call: &str, declined: &[(String, String)]) -> Result<Reassignment> {
    let mut reassignment = Reassignment::default();
    for (item, proposal) in declined {
        interrupt::check()?;
        let started = Instant::now();
        let reply = api.get(&format!(
            "/api/assignment-items/{item}/suggest_alternatives/"
        ))?;
        reassignment.suggest_time += started.elapsed();
        let suggestions = reply["suggestions"]
            .as_array()
            .context("suggest_alternatives returned no `suggestions` array")?;
        for suggestion in suggestions {
            if let Some(reviewer) = suggestion["reviewer_uuid"].as_str() {
                reassignment
                    .suggested_pairs
                    .push((reviewer.to_owned(), proposal.clone()));
            }
        }
        let Some(target) = suggestions
            .iter()
            .find(|suggestion| suggestion["has_capacity"].as_bool() == Some(true))
        else {
            reassignment.without_candidate += 1;
            continue;
        };
        let started = Instant::now();
        let outcome = api.post(
            &format!("/api/assignment-items/{item}/reassign/"),
            &json!({"reviewer_pool_entry_uuid": text(target, "pool_entry_uuid")?}),
        )?;
        reassignment.reassign_time += started.elapsed();
        reassignment.reassigned += 1;
        if outcome["has_coi"].as_bool() == Some(true) {
            reassignment.blocked_new_items += 1;
        }
    }
    let reply = api.post(&format!("{call}/send-all-assignments/"), &json!({}))?;
    reassignment.batches_sent = integer(&reply, "batches_sent")?;
    Ok(reassignment)
}

/// Reads every item of the call, one export row each.
pub fn export_assignments(api: &Api, call: &str) -> Result<Vec<Value>> {
    match api.get(&format!("{call}/export/assignments/?format=json"))? {
        Value::Array(rows) => Ok(rows),
        _ => bail!("the assignments export returned no JSON array"),
    }
}

/// User UUIDs of the call's pool reviewers by e-mail address, read from the `invited_user`
/// hyperlink of each pool entry.
fn pool_users(api: &Api, call: &str) -> Result<HashMap<String, String>> {
    let Value::Array(entries) = api.get(&format!("{call}/reviewer-pool/"))? else {
        bail!("the reviewer pool list returned no JSON array");
    };
    let mut users = HashMap::new();
    for entry in &entries {
        let Some(link) = entry["invited_user"].as_str() else {
            continue;
        };
        let uuid = link
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        users.insert(text(entry, "reviewer_email")?.to_owned(), uuid.to_owned());
    }
    Ok(users)
}
