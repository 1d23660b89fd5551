//! pgbench scripts: per workload, the SQL that a hand-written implementation of the same
//! request would send to PostgreSQL, run with the same client count and request count as the
//! API run. Every script starts with the token lookup that authenticates the request.
//!
//! pgbench accepts and declines pending items of the draft batches (positions `0..40` and
//! `40..45`), which the API run leaves alone, handed out by a sequence so that no two
//! transactions touch the same item.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use uuid::Uuid;

use super::data::{ITEMS_PER_REVIEWER, Sizes};
use super::load::percentile_ms;

/// Path of pgbench in Debian's PostgreSQL 15 packages, used when `pgbench` is not on PATH.
const DEBIAN_PGBENCH: &str = "/usr/lib/postgresql/15/bin/pgbench";

/// Result of one pgbench run.
#[derive(Debug, Clone)]
pub struct PgbenchResult {
    pub transactions: usize,
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Values the scripts refer to.
pub struct ScriptContext<'a> {
    pub call_uuid: Uuid,
    pub staff_digest: &'a str,
    pub sizes: &'a Sizes,
}

fn item(number: &str) -> String {
    format!("CAST('a1' || lpad(to_hex({number}), 30, '0') AS uuid)")
}

fn auth(context: &ScriptContext<'_>) -> String {
    format!(
        "SELECT u.uuid, u.is_staff, u.is_support, u.is_active FROM api_tokens t \
         JOIN users u ON u.uuid = t.user_uuid WHERE t.digest = '{}';\n",
        context.staff_digest
    )
}

/// Columns of an item's representation: the row, the proposal's name and slug and the number
/// of linked conflicts.
const ITEM_COLUMNS: &str = "i.*, p.name, p.slug, \
    (SELECT count(*) FROM assignment_item_conflicts c WHERE c.item_uuid = i.uuid) AS coi_count";

/// Returns the script of a workload, or `None` when the workload has no SQL equivalent.
pub fn script(workload: &str, context: &ScriptContext<'_>) -> Option<String> {
    let call = format!("CAST('{}' AS uuid)", context.call_uuid);
    let reviewers = context.sizes.reviewers;
    let per_reviewer = ITEMS_PER_REVIEWER;
    let auth = auth(context);
    let script = match workload {
        "list_call_status" => format!(
            "\\set page random(1, 10)\n{auth}\
             SELECT count(*) FROM assignment_items WHERE call_uuid = {call} AND status = 'pending';\n\
             SELECT {ITEM_COLUMNS} FROM assignment_items i JOIN proposals p ON p.uuid = i.proposal_uuid \
             WHERE i.call_uuid = {call} AND i.status = 'pending' \
             ORDER BY (i.affinity_score IS NULL) DESC, i.affinity_score DESC, i.uuid LIMIT 100 OFFSET (:page - 1) * 100;\n"
        ),
        "list_reviewer" => format!(
            "\\set r random(0, {last})\n{auth}\
             SELECT count(*) FROM assignment_items WHERE reviewer_uuid = (SELECT uuid FROM bench_profiles WHERE r = :r);\n\
             SELECT {ITEM_COLUMNS} FROM assignment_items i JOIN proposals p ON p.uuid = i.proposal_uuid \
             WHERE i.reviewer_uuid = (SELECT uuid FROM bench_profiles WHERE r = :r) \
             ORDER BY i.created DESC, i.uuid LIMIT 100;\n",
            last = reviewers - 1
        ),
        "head_count" => format!(
            "{auth}SELECT count(*) FROM assignment_items WHERE call_uuid = {call} AND status = 'pending';\n"
        ),
        "retrieve" => format!(
            "\\set r random(0, {last})\n\\set j random(0, 44)\n\\set n :r * {per_reviewer} + 150 + :j\n{auth}\
             SELECT {ITEM_COLUMNS} FROM assignment_items i JOIN proposals p ON p.uuid = i.proposal_uuid \
             WHERE i.uuid = {item};\n",
            last = reviewers - 1,
            item = item(":n")
        ),
        "accept" => format!(
            "SELECT nextval('bench_accept_sequence') - 1 AS k \\gset\n\
             \\set n (:k / 40) * {per_reviewer} + 150 + (:k % 40)\n\
             BEGIN;\n{auth}\
             INSERT INTO proposal_reviews (uuid, proposal_uuid, call_uuid, reviewer_user_uuid, state, \
             summary_score, summary_public_comment, summary_private_comment, coi_confirmed, created, modified) \
             SELECT {review}, i.proposal_uuid, i.call_uuid, p.user_uuid, 'in_review', 0, '', '', false, now(), now() \
             FROM assignment_items i JOIN reviewer_profiles p ON p.uuid = i.reviewer_uuid \
             WHERE i.uuid = {item} AND i.status = 'pending' AND NOT i.has_coi;\n\
             UPDATE assignment_items SET status = 'accepted', responded_at = now(), modified = now(), \
             review_uuid = {review} WHERE uuid = {item} AND status = 'pending' AND NOT has_coi RETURNING batch_uuid;\n\
             {audit}{refresh}COMMIT;\n",
            item = item(":n"),
            review = "CAST('d1' || lpad(to_hex(:k), 30, '0') AS uuid)",
            audit = audit("item.accepted", &item(":n")),
            refresh = refresh_batch(&item(":n")),
        ),
        "decline" => format!(
            "SELECT nextval('bench_decline_sequence') - 1 AS k \\gset\n\
             \\set n (:k / 5) * {per_reviewer} + 190 + (:k % 5)\n\
             BEGIN;\n{auth}\
             UPDATE assignment_items SET status = 'declined', responded_at = now(), modified = now(), \
             decline_reason = 'No time.' WHERE uuid = {item} AND status = 'pending' RETURNING batch_uuid;\n\
             {audit}{refresh}COMMIT;\n",
            item = item(":n"),
            audit = audit("item.declined", &item(":n")),
            refresh = refresh_batch(&item(":n")),
        ),
        "suggest_alternatives" => format!(
            "\\set r random(0, {last})\n\\set j random(25, 39)\n\\set n :r * {per_reviewer} + 50 + :j\n{auth}\
             SELECT {ITEM_COLUMNS} FROM assignment_items i JOIN proposals p ON p.uuid = i.proposal_uuid \
             WHERE i.uuid = {item};\n\
             WITH target AS (SELECT proposal_uuid, call_uuid FROM assignment_items WHERE uuid = {item}), \
             candidates AS (SELECT e.uuid, e.reviewer_uuid, e.max_assignments, e.invited_at, a.affinity_score, \
             (SELECT count(*) FROM assignment_items o WHERE o.pool_entry_uuid = e.uuid \
             AND o.status IN ('pending', 'accepted')) AS open \
             FROM call_reviewer_pools e CROSS JOIN target t \
             LEFT JOIN reviewer_proposal_affinities a ON a.call_uuid = t.call_uuid \
             AND a.reviewer_uuid = e.reviewer_uuid AND a.proposal_uuid = t.proposal_uuid \
             WHERE e.call_uuid = t.call_uuid AND e.invitation_status = 'accepted' AND e.reviewer_uuid IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM assignment_items x WHERE x.proposal_uuid = t.proposal_uuid \
             AND x.pool_entry_uuid = e.uuid) \
             AND NOT EXISTS (SELECT 1 FROM conflicts_of_interest c WHERE c.reviewer_uuid = e.reviewer_uuid \
             AND (c.proposal_uuid = t.proposal_uuid OR c.proposal_uuid IS NULL) AND c.status IN ('pending', 'recused'))) \
             SELECT c.*, r.user_uuid FROM candidates c JOIN reviewer_profiles r ON r.uuid = c.reviewer_uuid \
             ORDER BY (c.open < c.max_assignments) DESC, coalesce(c.affinity_score, 0) DESC, c.open, \
             c.invited_at DESC, c.uuid LIMIT 10;\n",
            last = reviewers - 1,
            item = item(":n"),
        ),
        _ => return None,
    };
    Some(script)
}

fn audit(action: &str, item: &str) -> String {
    format!(
        "INSERT INTO audit_events (uuid, call_uuid, object_type, object_uuid, action, actor_name, reason, \
         after_state, created) SELECT gen_random_uuid(), call_uuid, 'item', uuid, '{action}', 'pgbench', '', \
         '{{}}', now() FROM assignment_items WHERE uuid = {item};\n"
    )
}

fn refresh_batch(item: &str) -> String {
    format!(
        "UPDATE assignment_batches b SET status = 'responded', responded_at = now(), modified = now() \
         WHERE b.uuid = (SELECT batch_uuid FROM assignment_items WHERE uuid = {item}) AND b.status = 'sent' \
         AND NOT EXISTS (SELECT 1 FROM assignment_items o WHERE o.batch_uuid = b.uuid AND o.status = 'pending');\n"
    )
}

/// Returns the SQL that prepares the database for the scripts: the reviewer lookup table and
/// the sequences that hand out distinct items to accept and decline.
pub fn setup_sql(call_uuid: Uuid) -> String {
    format!(
        "DROP TABLE IF EXISTS bench_profiles;\n\
         CREATE TABLE bench_profiles AS SELECT CAST(substr(u.username, 8) AS integer) AS r, p.uuid \
         FROM call_reviewer_pools e JOIN reviewer_profiles p ON p.uuid = e.reviewer_uuid \
         JOIN users u ON u.uuid = p.user_uuid WHERE e.call_uuid = '{call_uuid}';\n\
         ALTER TABLE bench_profiles ADD PRIMARY KEY (r);\n\
         DROP SEQUENCE IF EXISTS bench_accept_sequence;\nCREATE SEQUENCE bench_accept_sequence;\n\
         DROP SEQUENCE IF EXISTS bench_decline_sequence;\nCREATE SEQUENCE bench_decline_sequence;\n\
         ANALYZE bench_profiles;\n"
    )
}

/// Runs one script with `clients` clients and `transactions` transactions in all, logging each
/// transaction's latency to `log_dir` and computing the percentiles from those logs.
pub fn run(
    database_url: &str,
    script_text: &str,
    name: &str,
    clients: usize,
    transactions: usize,
    log_dir: &Path,
) -> Result<PgbenchResult> {
    let script_path = log_dir.join(format!("{name}.sql"));
    std::fs::write(&script_path, script_text)
        .with_context(|| format!("failed to write {}", script_path.display()))?;
    let per_client = transactions.div_ceil(clients).max(1);
    let prefix = log_dir.join(format!("{name}-log"));
    let program = if Path::new(DEBIAN_PGBENCH).exists() {
        DEBIAN_PGBENCH
    } else {
        "pgbench"
    };
    let output = Command::new(program)
        .arg("--no-vacuum")
        .arg("--file")
        .arg(&script_path)
        .args(["--client", &clients.to_string()])
        .args(["--jobs", "2"])
        .args(["--transactions", &per_client.to_string()])
        .arg("--log")
        .arg(format!("--log-prefix={}", prefix.display()))
        .arg(database_url)
        .current_dir(log_dir)
        .output()
        .with_context(|| format!("failed to run {program}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench {name} failed with {}: {}{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let throughput = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse::<f64>().ok())
        .with_context(|| format!("pgbench {name} printed no tps line: {stdout}"))?;

    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(log_dir)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|file| file.to_str())
            .is_some_and(|file| file.starts_with(&format!("{name}-log.")));
        if !is_log {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        for line in text.lines() {
            // client_id transaction_no time script_no time_epoch time_us: time is the latency
            // in microseconds.
            if let Some(micros) = line
                .split_whitespace()
                .nth(2)
                .and_then(|field| field.parse::<u64>().ok())
            {
                latencies.push(Duration::from_micros(micros));
            }
        }
        std::fs::remove_file(&path)?;
    }
    latencies.sort_unstable();
    Ok(PgbenchResult {
        transactions: latencies.len(),
        throughput,
        p50_ms: percentile_ms(&latencies, 50.0),
        p99_ms: percentile_ms(&latencies, 99.0),
    })
}
