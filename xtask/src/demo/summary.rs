//! The demo's summary: final item states, conflict-of-interest violations, loads, affinities,
//! the detected conflicts against the independent count, and the time of each step.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Result, bail};
use serde_json::Value;

use super::client::{Api, text};
use super::count::{self, DetectedConflicts, ExpectedConflicts, Pair};
use super::data::Dataset;
use super::workflow::{Results, export_assignments};
use super::{Outcome, Timings};

/// Differing pairs and similar names listed at most in the summary.
const LISTED: usize = 20;

/// Statuses of a conflict that keep a reviewer off a proposal.
const BLOCKING_STATUSES: [&str; 2] = ["pending", "recused"];

/// Item statuses that count towards a reviewer's load.
const OPEN_STATUSES: [&str; 2] = ["pending", "accepted"];

/// State of the call on the server after the workflow.
#[derive(Debug, Default)]
pub struct Report {
    pub items_by_status: BTreeMap<String, usize>,
    pub conflicts_by_type: BTreeMap<String, usize>,
    /// Items and suggestions checked for conflicts.
    pub checked_items: usize,
    pub checked_suggestions: usize,
    /// Items and suggestions of a reviewer and proposal with a blocking conflict.
    pub violations: Vec<String>,
    /// Number of pool reviewers by their number of open items.
    pub load_histogram: BTreeMap<usize, usize>,
    pub open_items: usize,
    pub open_items_without_score: usize,
    pub mean_affinity: Option<f64>,
    pub min_affinity: Option<f64>,
    pub detected: DetectedConflicts,
    /// Conflicts whose reviewer or proposal is not in the dataset.
    pub unmapped_conflicts: usize,
}

/// Reads the items, conflicts, pool and proposals of the call.
pub fn collect(api: &Api, dataset: &Dataset, results: &Results) -> Result<Report> {
    let call = format!("/api/proposal-protected-calls/{}", results.call_uuid);
    let items = export_assignments(api, &call)?;
    let Value::Array(conflicts) = api.get(&format!("{call}/conflicts/"))? else {
        bail!("the call's conflict list returned no JSON array");
    };
    let Value::Array(pool) = api.get(&format!("{call}/reviewer-pool/"))? else {
        bail!("the reviewer pool list returned no JSON array");
    };
    let proposals = api.get_all(&format!(
        "/api/proposal-proposals/?call_uuid={}",
        results.call_uuid
    ))?;

    let person_by_email: HashMap<&str, usize> = dataset
        .people
        .iter()
        .enumerate()
        .map(|(index, person)| (person.email.as_str(), index))
        .collect();
    let mut person_by_profile: HashMap<String, usize> = HashMap::new();
    for entry in &pool {
        if let (Some(profile), Some(person)) = (
            entry["reviewer_uuid"].as_str(),
            person_by_email.get(text(entry, "reviewer_email")?),
        ) {
            person_by_profile.insert(profile.to_owned(), *person);
        }
    }
    let submission_by_title: HashMap<&str, usize> = dataset
        .submissions
        .iter()
        .enumerate()
        .map(|(index, submission)| (submission.title.as_str(), index))
        .collect();
    let mut submission_by_proposal: HashMap<String, usize> = HashMap::new();
    for proposal in &proposals {
        if let Some(index) = submission_by_title.get(text(proposal, "name")?) {
            submission_by_proposal.insert(text(proposal, "uuid")?.to_owned(), *index);
        }
    }

    let mut report = Report::default();
    let mut blocked: HashSet<(String, Option<String>)> = HashSet::new();
    for conflict in &conflicts {
        let kind = text(conflict, "coi_type")?;
        *report.conflicts_by_type.entry(kind.to_owned()).or_default() += 1;
        let reviewer = text(conflict, "reviewer_uuid")?.to_owned();
        let proposal = conflict["proposal_uuid"].as_str().map(str::to_owned);
        if BLOCKING_STATUSES.contains(&text(conflict, "status")?) {
            blocked.insert((reviewer.clone(), proposal.clone()));
        }

        let pair: Option<Pair> = match (person_by_profile.get(&reviewer), &proposal) {
            (Some(person), Some(proposal)) => submission_by_proposal
                .get(proposal)
                .map(|submission| (*person, *submission)),
            _ => None,
        };
        let Some(pair) = pair else {
            report.unmapped_conflicts += 1;
            continue;
        };
        match kind {
            "ROLE_NAMED" => {
                report.detected.named.insert(pair);
            }
            "COAUTH_RECENT" | "COAUTH_OLD" => {
                report.detected.coauthorship.insert(pair);
            }
            _ => {}
        }
    }
    let is_blocked = |reviewer: &str, proposal: &str| {
        blocked.contains(&(reviewer.to_owned(), Some(proposal.to_owned())))
            || blocked.contains(&(reviewer.to_owned(), None))
    };

    let mut loads: HashMap<&str, usize> = HashMap::new();
    let mut scores: Vec<f64> = Vec::new();
    for item in &items {
        let status = text(item, "status")?;
        *report.items_by_status.entry(status.to_owned()).or_default() += 1;
        let reviewer = text(item, "reviewer_uuid")?;
        let proposal = text(item, "proposal_uuid")?;
        report.checked_items += 1;
        if is_blocked(reviewer, proposal) {
            report.violations.push(format!(
                "item {} ({status}): reviewer {} on \"{}\"",
                text(item, "item_uuid")?,
                text(item, "reviewer_username")?,
                text(item, "proposal_name")?
            ));
        }
        if OPEN_STATUSES.contains(&status) {
            *loads.entry(reviewer).or_default() += 1;
            report.open_items += 1;
            match item["affinity_score"].as_f64() {
                Some(score) => scores.push(score),
                None => report.open_items_without_score += 1,
            }
        }
    }
    for (reviewer, proposal) in &results.reassignment.suggested_pairs {
        report.checked_suggestions += 1;
        if is_blocked(reviewer, proposal) {
            report.violations.push(format!(
                "suggestion of reviewer profile {reviewer} for proposal {proposal}"
            ));
        }
    }

    for entry in &pool {
        let load = entry["reviewer_uuid"]
            .as_str()
            .and_then(|reviewer| loads.get(reviewer))
            .copied()
            .unwrap_or(0);
        *report.load_histogram.entry(load).or_default() += 1;
    }
    if !scores.is_empty() {
        report.mean_affinity = Some(scores.iter().sum::<f64>() / scores.len() as f64);
        report.min_affinity = scores.iter().copied().reduce(f64::min);
    }
    Ok(report)
}

/// Prints the summary and returns the outcome: passed when no item or suggestion crosses a
/// blocking conflict and the detected own-paper and co-author conflicts equal the count.
pub fn print(
    report: &Report,
    dataset: &Dataset,
    expected: &ExpectedConflicts,
    results: &Results,
    timings: &Timings,
) -> Outcome {
    let counted = |key: &str| results.imported.get(key).copied().unwrap_or(0);
    println!(
        "  import: {} documents; {} proposals with {} team members, {} reviewers ({} new users) with {} affiliations and {} publications, {} pool entries",
        results.import_documents,
        counted("proposals"),
        counted("team_members"),
        counted("reviewers"),
        counted("users_created"),
        counted("affiliations"),
        counted("publications"),
        counted("pool_entries")
    );
    println!("  affinities computed: {}", results.affinities_computed);
    println!(
        "  detection job: {} pairs, {} conflicts",
        results.job["processed_pairs"], results.job["conflicts_found"]
    );
    let generation = &results.generation;
    let unfilled = generation["unfilled_proposals"]
        .as_array()
        .map_or(0, Vec::len);
    println!(
        "  generation ({}): {} items for {} proposals, {} proposals short of reviewers, mean proposal affinity {}, lowest {}",
        generation["algorithm"].as_str().unwrap_or("?"),
        generation["items_created"],
        generation["proposals_processed"],
        unfilled,
        decimal(&generation["mean_proposal_affinity"]),
        decimal(&generation["min_proposal_affinity"])
    );
    if let Some(message) = generation["infeasibility"]["message"].as_str() {
        println!("    infeasible: {message}");
    }
    println!("  batches sent: {}", results.batches_sent);

    let answers = &results.answers;
    println!(
        "  reviewers with sent items: {}; {} accepted {} items, {} declined {} items, {} did not answer ({} tokens issued through POST /api/users/{{uuid}}/token/)",
        answers.reviewers_with_items,
        answers.accepting_reviewers,
        answers.accepted_items,
        answers.declining_reviewers,
        answers.declined_items.len(),
        answers
            .reviewers_with_items
            .saturating_sub(answers.accepting_reviewers + answers.declining_reviewers),
        answers.tokens_issued
    );
    let reassignment = &results.reassignment;
    println!(
        "  reassignment: {} of {} declined items reassigned, {} without a suggested reviewer with capacity, {} new items blocked, {} batches sent",
        reassignment.reassigned,
        answers.declined_items.len(),
        reassignment.without_candidate,
        reassignment.blocked_new_items,
        reassignment.batches_sent
    );
    println!(
        "    time in suggest_alternatives {:.1} s, in reassign {:.1} s",
        reassignment.suggest_time.as_secs_f64(),
        reassignment.reassign_time.as_secs_f64()
    );

    println!(
        "  items by status: {}",
        join_counts(&report.items_by_status)
    );
    println!(
        "  COI violations: {} (checked {} items and {} suggestions against the blocking conflicts of /conflicts/)",
        report.violations.len(),
        report.checked_items,
        report.checked_suggestions
    );
    for violation in report.violations.iter().take(LISTED) {
        println!("    {violation}");
    }
    println!(
        "  load (open items: pool reviewers): {}",
        join_counts(&report.load_histogram)
    );
    match (report.mean_affinity, report.min_affinity) {
        (Some(mean), Some(minimum)) => println!(
            "  affinity of the {} open items: mean {mean:.4}, minimum {minimum:.4} ({} without a score)",
            report.open_items, report.open_items_without_score
        ),
        _ => println!("  affinity: no open item has a score"),
    }
    println!(
        "  conflicts by type: {}",
        join_counts(&report.conflicts_by_type)
    );
    if report.unmapped_conflicts > 0 {
        println!(
            "  conflicts not matched to a reviewer and submission of the file: {}",
            report.unmapped_conflicts
        );
    }

    let comparison = count::compare(expected, &report.detected);
    count::print_comparison(dataset, expected, &comparison, LISTED);

    println!("  wall time per step:");
    for (name, elapsed) in &timings.steps {
        println!("    {:<36} {:>8.1} s", name, elapsed.as_secs_f64());
    }
    println!("    {:<36} {:>8.1} s", "total", timings.total.as_secs_f64());

    let counts_match = comparison.iter().all(count::KindComparison::matches);
    let passed = report.violations.is_empty() && counts_match;
    let [named, coauthor] = &comparison;
    let summary = format!(
        "{} items, {} COI violations; detected/expected own-paper {}/{}, co-author {}/{}",
        report.checked_items,
        report.violations.len(),
        named.detected,
        named.from_authors + named.from_similar_names,
        coauthor.detected,
        coauthor.from_authors + coauthor.from_similar_names
    );
    println!(
        "  result: {}: {summary}",
        if passed { "passed" } else { "FAILED" }
    );
    Outcome { passed, summary }
}

/// Formats a JSON number with four decimals; anything else as JSON.
fn decimal(value: &Value) -> String {
    match value.as_f64() {
        Some(number) => format!("{number:.4}"),
        None => value.to_string(),
    }
}

fn join_counts<K: std::fmt::Display>(counts: &BTreeMap<K, usize>) -> String {
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts
        .iter()
        .map(|(key, count)| format!("{key}: {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}
