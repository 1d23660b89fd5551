//! Generated data of the API benchmark: the import documents of the large call and of the
//! fresh call, and the set-based SQL that adds batches, items, reviews and reviewer tokens.
//!
//! Every generated row that the load driver or pgbench addresses has a UUID derived from a
//! number, so both can compute it without reading the database. An item's UUID is `a1`
//! followed by its number in 30 hexadecimal digits, a batch's `b1…` and a review's `c1…`.
//!
//! Reviewer `r` (username `bench-r00000` and on) gets four batches of 50 items, numbered
//! `r * 200 + batch * 50 + position`, for proposal `number % proposals`:
//!
//! | batch | status | items |
//! |---|---|---|
//! | 0 | sent | 0..30 pending, 30..40 accepted, 40..50 declined |
//! | 1 | responded | 0..25 accepted, 25..40 declined, 40..50 reassigned |
//! | 2 | expired | all expired |
//! | 3 | draft | 0..45 pending, 45..50 coi_blocked (with an imported conflict) |
//!
//! Every accepted item has exactly one review. Items at positions 24 and 49 have no
//! affinity score, so that list ordering meets NULL scores.

use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// Items per batch and batches per reviewer.
pub const ITEMS_PER_BATCH: u64 = 50;
pub const BATCHES_PER_REVIEWER: u64 = 4;
pub const ITEMS_PER_REVIEWER: u64 = ITEMS_PER_BATCH * BATCHES_PER_REVIEWER;

/// Pending positions of the sent batch 0 that reviewers accept or decline over the API: accepted
/// positions, declined positions, and positions kept for counting statements.
pub const ACCEPT_POSITIONS: std::ops::Range<u64> = 0..13;
pub const DECLINE_POSITIONS: std::ops::Range<u64> = 13..26;
pub const COUNTING_POSITIONS: std::ops::Range<u64> = 26..30;

/// Declined positions of the responded batch 1, used by suggest_alternatives.
pub const DECLINED_POSITIONS: std::ops::Range<u64> = 25..40;

/// Sizes of one benchmark run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub proposals: u64,
    pub reviewers: u64,
    /// Reviewers with an API token who accept and decline their own items.
    pub answering_reviewers: u64,
    pub fresh_proposals: u64,
    pub fresh_reviewers: u64,
    /// Requests of each read workload.
    pub read_requests: u64,
    /// Requests of suggest_alternatives, which reads the whole pool per request.
    pub suggest_requests: u64,
}

impl Sizes {
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                proposals: 2_000,
                reviewers: 500,
                answering_reviewers: 64,
                fresh_proposals: 200,
                fresh_reviewers: 60,
                read_requests: 1_000,
                suggest_requests: 64,
            }
        } else {
            Self {
                proposals: 20_000,
                reviewers: 5_000,
                answering_reviewers: 256,
                fresh_proposals: 2_000,
                fresh_reviewers: 600,
                // Each list and count request counts 375,000 pending items, so more requests
                // would make the run last longer than its value warrants.
                read_requests: 800,
                suggest_requests: 64,
            }
        }
    }

    pub fn items(&self) -> u64 {
        self.reviewers * ITEMS_PER_REVIEWER
    }
}

/// Returns the generated UUID with a two-digit hexadecimal prefix and a number.
pub fn numbered_uuid(prefix: &str, number: u64) -> Uuid {
    Uuid::parse_str(&format!("{prefix}{number:030x}")).expect("32 hexadecimal digits")
}

pub fn item_uuid(reviewer: u64, batch: u64, position: u64) -> Uuid {
    numbered_uuid(
        "a1",
        reviewer * ITEMS_PER_REVIEWER + batch * ITEMS_PER_BATCH + position,
    )
}

/// Returns the API token of reviewer number `reviewer` (40 characters, as referee issues them).
pub fn reviewer_token(reviewer: u64) -> String {
    format!("bench{reviewer:035x}")
}

/// Returns the SHA-256 hex digest referee stores for a token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Returns the affinity of reviewer and proposal numbers, a multiple of 1/1,000,003 in
/// `0..1`; the SQL below computes the same value.
fn affinity(reviewer: u64, proposal: u64) -> f64 {
    ((reviewer * 7_919 + proposal * 1_009) % 1_000_003) as f64 / 1_000_003.0
}

/// Returns the e-mail domain of institution `number`. Reviewers come from 40 institutions and
/// applicants from 97, so about one pair in a hundred shares an institution, which detection
/// reports as a conflict, and the rest can be assigned.
fn institution(number: u64) -> String {
    format!("university{number}.example")
}

fn reviewer_username(prefix: &str, reviewer: u64) -> String {
    format!("{prefix}{reviewer:05}")
}

/// Builds an import document of one call with `proposals` proposals (one team member each)
/// and `reviewers` reviewers who all accepted the pool invitation.
fn call_document(
    name: &str,
    username_prefix: &str,
    proposals: u64,
    reviewers: u64,
    max_assignments: u64,
    affinities: Vec<Value>,
    conflicts: Vec<Value>,
) -> Value {
    let proposal_rows: Vec<Value> = (0..proposals)
        .map(|proposal| {
            json!({
                "key": format!("p{proposal}"),
                "round": "main",
                "name": format!("Proposal {proposal:05}"),
                "project_summary": "Generated for the API benchmark.",
                "team_members": [{
                    "full_name": format!("Applicant {proposal}"),
                    "email": format!(
                        "{username_prefix}applicant{proposal}@{}",
                        institution(proposal % 97)
                    ),
                    "role": "principal_investigator"
                }]
            })
        })
        .collect();
    let reviewer_rows: Vec<Value> = (0..reviewers)
        .map(|reviewer| {
            let username = reviewer_username(username_prefix, reviewer);
            json!({
                "username": username,
                "email": format!("{username}@{}", institution(reviewer % 40)),
                "full_name": format!("Reviewer {username_prefix}{reviewer}"),
            })
        })
        .collect();
    let pool_rows: Vec<Value> = (0..reviewers)
        .map(|reviewer| {
            json!({
                "reviewer": reviewer_username(username_prefix, reviewer),
                "invitation_status": "accepted",
                "max_assignments": max_assignments,
            })
        })
        .collect();
    json!({
        "format": "referee-import/1",
        "organisations": [{"key": "org", "name": format!("{name} organisation")}],
        "call": {
            "name": name,
            "organisation": "org",
            "state": "active",
            "rounds": [{
                "key": "main",
                "start_time": "2026-01-01T00:00:00Z",
                "cutoff_time": "2030-01-01T00:00:00Z",
                "review_duration_in_days": 30
            }]
        },
        "proposals": proposal_rows,
        "reviewers": reviewer_rows,
        "pool": pool_rows,
        "affinities": affinities,
        "conflicts": conflicts,
    })
}

/// Builds the import document of the large call: affinities for the first 10 positions of
/// every batch and a conflict for every COI-blocked item.
pub fn large_call_document(sizes: &Sizes) -> Value {
    let mut affinities = Vec::new();
    let mut conflicts = Vec::new();
    for reviewer in 0..sizes.reviewers {
        for batch in 0..BATCHES_PER_REVIEWER {
            for position in 0..ITEMS_PER_BATCH {
                let number = reviewer * ITEMS_PER_REVIEWER + batch * ITEMS_PER_BATCH + position;
                let proposal = number % sizes.proposals;
                if position < 10 {
                    affinities.push(json!({
                        "reviewer": reviewer_username("bench-r", reviewer),
                        "proposal": format!("p{proposal}"),
                        "affinity_score": affinity(reviewer, proposal),
                    }));
                }
                if batch == 3 && position >= 45 {
                    conflicts.push(json!({
                        "reviewer": reviewer_username("bench-r", reviewer),
                        "proposal": format!("p{proposal}"),
                        "coi_type": "COAUTH_RECENT",
                        "evidence_description": "Generated for the API benchmark.",
                    }));
                }
            }
        }
    }
    call_document(
        "Bench large call",
        "bench-r",
        sizes.proposals,
        sizes.reviewers,
        50,
        affinities,
        conflicts,
    )
}

/// Builds the import document of the call that generate-assignments fills: 30 affinities per
/// proposal, spread over the reviewers, and capacity for 3 reviewers per proposal.
pub fn fresh_call_document(sizes: &Sizes, name: &str, username_prefix: &str) -> Value {
    let mut affinities = Vec::new();
    for proposal in 0..sizes.fresh_proposals {
        for offset in 0..30 {
            let reviewer = (proposal * 7 + offset * 13) % sizes.fresh_reviewers;
            affinities.push(json!({
                "reviewer": reviewer_username(username_prefix, reviewer),
                "proposal": format!("p{proposal}"),
                "affinity_score": affinity(reviewer, proposal),
            }));
        }
    }
    let needed = sizes.fresh_proposals * 3;
    let max_assignments = needed.div_ceil(sizes.fresh_reviewers) + 2;
    let mut document = call_document(
        name,
        username_prefix,
        sizes.fresh_proposals,
        sizes.fresh_reviewers,
        max_assignments.min(50),
        affinities,
        Vec::new(),
    );
    // Each affinity pair must be unique; drop the repeats the spreading formula makes.
    if let Some(rows) = document["affinities"].as_array_mut() {
        let mut seen = std::collections::HashSet::new();
        rows.retain(|row| seen.insert(format!("{}/{}", row["reviewer"], row["proposal"])));
    }
    document
}

/// The SQL dialect of the generation script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// Returns an expression of the generated UUID with `prefix` and the integer `number`.
    fn numbered_uuid(self, prefix: &str, number: &str) -> String {
        match self {
            Self::Postgres => {
                format!("CAST('{prefix}' || lpad(to_hex({number}), 30, '0') AS uuid)")
            }
            Self::Sqlite => format!("('{prefix}' || printf('%030x', {number}))"),
        }
    }

    fn uuid(self, uuid: Uuid) -> String {
        match self {
            Self::Postgres => format!("CAST('{}' AS uuid)", uuid.hyphenated()),
            Self::Sqlite => format!("'{}'", uuid.simple()),
        }
    }

    /// Returns a timestamp literal, on SQLite in the fixed-width text form that referee writes.
    fn time(self, text: &str) -> String {
        match self {
            Self::Postgres => format!("CAST('{text}' AS timestamptz)"),
            Self::Sqlite => format!("'{text}'"),
        }
    }
}

const CREATED: &str = "2026-06-01T00:00:00.000000Z";
const SENT: &str = "2026-06-02T00:00:00.000000Z";
const RESPONDED: &str = "2026-06-03T00:00:00.000000Z";
const EXPIRED: &str = "2026-06-09T00:00:00.000000Z";
const FAR_DEADLINE: &str = "2099-01-01T00:00:00.000000Z";

/// Returns the script that adds batches, items, reviews, item conflicts and the answering
/// reviewers' tokens to the imported large call, in one transaction.
pub fn generation_script(dialect: Dialect, call_uuid: Uuid, sizes: &Sizes) -> String {
    let call = dialect.uuid(call_uuid);
    let created = dialect.time(CREATED);
    let sent = dialect.time(SENT);
    let responded = dialect.time(RESPONDED);
    let expired = dialect.time(EXPIRED);
    let far = dialect.time(FAR_DEADLINE);
    let batch_uuid = dialect.numbered_uuid("b1", "g.r * 4 + g.n / 50");
    let item_uuid = dialect.numbered_uuid("a1", "g.r * 200 + g.n");
    let review_uuid = dialect.numbered_uuid("c1", "g.r * 200 + g.n");
    let proposals = sizes.proposals;

    let mut script = String::from("BEGIN;\n");
    script.push_str(
        "CREATE TEMPORARY TABLE bench_numbers (n integer PRIMARY KEY);\n\
         INSERT INTO bench_numbers (n) WITH RECURSIVE seq(n) AS \
         (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < 199) SELECT n FROM seq;\n",
    );
    let _ = writeln!(
        script,
        "CREATE TEMPORARY TABLE bench_reviewers AS \
         SELECT CAST(substr(u.username, 8) AS integer) AS r, e.uuid AS entry_uuid, \
         p.uuid AS profile_uuid, u.uuid AS user_uuid \
         FROM call_reviewer_pools e JOIN reviewer_profiles p ON p.uuid = e.reviewer_uuid \
         JOIN users u ON u.uuid = p.user_uuid WHERE e.call_uuid = {call};\n\
         CREATE TEMPORARY TABLE bench_proposals AS \
         SELECT CAST(substr(name, 10) AS integer) AS p, uuid FROM proposals WHERE call_uuid = {call};\n\
         CREATE INDEX bench_proposals_p ON bench_proposals (p);"
    );
    // One row per reviewer and item number, with the item's status.
    let _ = writeln!(
        script,
        "CREATE TEMPORARY TABLE bench_items AS \
         SELECT r.r, r.entry_uuid, r.profile_uuid, r.user_uuid, n.n, n.n / 50 AS b, n.n % 50 AS j, \
         CASE \
           WHEN n.n < 30 THEN 'pending' WHEN n.n < 40 THEN 'accepted' WHEN n.n < 50 THEN 'declined' \
           WHEN n.n < 75 THEN 'accepted' WHEN n.n < 90 THEN 'declined' WHEN n.n < 100 THEN 'reassigned' \
           WHEN n.n < 150 THEN 'expired' WHEN n.n < 195 THEN 'pending' ELSE 'coi_blocked' END AS status, \
         (r.r * 200 + n.n) % {proposals} AS p \
         FROM bench_reviewers r CROSS JOIN bench_numbers n;"
    );
    let _ = writeln!(
        script,
        "INSERT INTO assignment_batches (uuid, call_uuid, pool_entry_uuid, status, sent_at, expires_at, \
         responded_at, source, created_by_uuid, manager_notes, reminder_sent, manager_notified, created, modified) \
         SELECT {batch_uuid}, {call}, g.entry_uuid, \
         CASE g.b WHEN 0 THEN 'sent' WHEN 1 THEN 'responded' WHEN 2 THEN 'expired' ELSE 'draft' END, \
         CASE WHEN g.b < 3 THEN {sent} END, \
         CASE g.b WHEN 0 THEN {far} WHEN 1 THEN {far} WHEN 2 THEN {expired} END, \
         CASE WHEN g.b = 1 THEN {responded} END, \
         'algorithm', NULL, '', false, false, {created}, {created} \
         FROM bench_items g WHERE g.j = 0;"
    );
    let _ = writeln!(
        script,
        "INSERT INTO proposal_reviews (uuid, proposal_uuid, call_uuid, reviewer_user_uuid, state, \
         summary_score, summary_public_comment, summary_private_comment, coi_confirmed, created, modified) \
         SELECT {review_uuid}, p.uuid, {call}, g.user_uuid, 'in_review', 0, '', '', false, {responded}, {responded} \
         FROM bench_items g JOIN bench_proposals p ON p.p = g.p WHERE g.status = 'accepted';"
    );
    let _ = writeln!(
        script,
        "INSERT INTO assignment_items (uuid, batch_uuid, proposal_uuid, call_uuid, pool_entry_uuid, \
         reviewer_uuid, status, affinity_score, has_coi, responded_at, decline_reason, review_uuid, \
         reassigned_from_uuid, reassign_count, override_reason, overridden_by_uuid, overridden_at, created, modified) \
         SELECT {item_uuid}, {batch_uuid}, p.uuid, {call}, g.entry_uuid, g.profile_uuid, g.status, \
         CASE WHEN g.j % 25 = 24 THEN NULL ELSE ((g.r * 7919 + g.p * 1009) % 1000003) / 1000003.0 END, \
         g.status = 'coi_blocked', \
         CASE WHEN g.status IN ('accepted', 'declined', 'reassigned') THEN {responded} END, \
         CASE WHEN g.status = 'declined' THEN 'Generated decline.' ELSE '' END, \
         CASE WHEN g.status = 'accepted' THEN {review_uuid} END, \
         NULL, 0, '', NULL, NULL, {created}, {created} \
         FROM bench_items g JOIN bench_proposals p ON p.p = g.p;"
    );
    let _ = writeln!(
        script,
        "INSERT INTO assignment_item_conflicts (item_uuid, conflict_uuid) \
         SELECT i.uuid, c.uuid FROM assignment_items i JOIN conflicts_of_interest c \
         ON c.reviewer_uuid = i.reviewer_uuid AND c.proposal_uuid = i.proposal_uuid \
         WHERE i.call_uuid = {call} AND i.status = 'coi_blocked';"
    );

    let tokens: Vec<String> = (0..sizes.answering_reviewers)
        .map(|reviewer| {
            format!(
                "SELECT {reviewer} AS r, '{}' AS digest",
                token_digest(&reviewer_token(reviewer))
            )
        })
        .collect();
    let _ = writeln!(
        script,
        "INSERT INTO api_tokens (digest, user_uuid, created) \
         SELECT t.digest, r.user_uuid, {created} FROM ({}) AS t JOIN bench_reviewers r ON r.r = t.r;",
        tokens.join(" UNION ALL ")
    );
    script.push_str(
        "DROP TABLE bench_items;\nDROP TABLE bench_proposals;\nDROP TABLE bench_reviewers;\n\
         DROP TABLE bench_numbers;\nCOMMIT;\nANALYZE;\n",
    );
    script
}
