//! Conflict-of-interest detection jobs (`/api/coi-detection-jobs/` and the call's
//! `detect-conflicts` action): creating a job, running it over the call's reviewer ×
//! proposal pairs with the rules of `referee_domain::detection`, and reading jobs back.
//!
//! A run claims a `pending` job, evaluates its pairs in chunks (one write transaction per
//! chunk, progress saved after each), records every evaluated pair in `coi_evaluated_pairs`,
//! and ends `completed`, or `failed` with the error message. New conflicts are `automated`
//! and `pending`, are audited, and block the pending items of their pair. A conflict with the
//! same reviewer, proposal, type and conflicting user is never created twice.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::upsert::excluded;
use referee_domain::detection::{
    self, AffiliationFacts, CoauthorFacts, DetectionSettings, Finding, PreparedReviewer,
    PreparedTeam, PublicationFacts, ReviewerFacts, TeamMemberFacts,
};
use referee_domain::enums::{
    CoiJobState, CoiJobType, CoiStatus, CoiType, DetectionMethod, InvitationStatus, ItemStatus,
};
use referee_domain::{Actor, DomainError};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, AuditEntry};
use crate::bulk::CreationClock;
use crate::calls;
use crate::configs;
use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{
    assignment_items, call_reviewer_pools, calls as calls_table, coi_detection_jobs,
    coi_evaluated_pairs, conflicts_of_interest, proposal_team_members, proposals,
    reviewer_affiliations, reviewer_profiles, reviewer_publications, users,
};
use crate::sql_types::{DbTime, DbUuid, MaybeTime, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;

/// Pairs evaluated per write transaction; progress is saved after each chunk.
const PAIRS_PER_CHUNK: usize = 5_000;

/// A detection job.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Job {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    #[diesel(deserialize_as = Stored<CoiJobType>)]
    pub job_type: CoiJobType,
    #[diesel(deserialize_as = Stored<CoiJobState>)]
    pub state: CoiJobState,
    pub total_pairs: i32,
    pub processed_pairs: i32,
    pub conflicts_found: i32,
    #[diesel(deserialize_as = MaybeTime)]
    pub started_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = MaybeTime)]
    pub completed_at: Option<DateTime<Utc>>,
    pub error_message: String,
    #[diesel(deserialize_as = MaybeUuid)]
    pub created_by_uuid: Option<Uuid>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl Job {
    /// Processed pairs as a percentage of all pairs, rounded to one decimal; 0 without pairs.
    pub fn progress_percentage(&self) -> f64 {
        if self.total_pairs <= 0 {
            return 0.0;
        }
        let percentage = f64::from(self.processed_pairs) / f64::from(self.total_pairs) * 100.0;
        (percentage * 10.0).round() / 10.0
    }
}

/// A job with the name of its call.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    pub job: Job,
    pub call_name: String,
}

/// Fields a job list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOrder {
    Created,
    StartedAt,
    CompletedAt,
    State,
}

/// Filters of the job list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub call_uuid: Option<Uuid>,
    pub job_types: Vec<CoiJobType>,
    pub states: Vec<CoiJobState>,
}

/// Jobs of calls the actor manages or whose organisation the actor belongs to; staff and
/// support see every job.
fn visible(actor: &Actor) -> coi_detection_jobs::BoxedQuery<'static, MultiBackend> {
    let query = coi_detection_jobs::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }
    let managed: Vec<DbUuid> = actor.managed_call_uuids().into_iter().map(DbUuid).collect();
    let customers: Vec<DbUuid> = actor.customer_uuids().into_iter().map(DbUuid).collect();
    let organisation_calls = calls_table::table
        .filter(calls_table::customer_uuid.eq_any(customers))
        .select(calls_table::uuid);
    query.filter(
        coi_detection_jobs::call_uuid
            .eq_any(managed)
            .or(coi_detection_jobs::call_uuid.eq_any(organisation_calls)),
    )
}

fn filtered(
    actor: &Actor,
    filter: &JobFilter,
) -> coi_detection_jobs::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(actor);
    if let Some(call_uuid) = filter.call_uuid {
        query = query.filter(coi_detection_jobs::call_uuid.eq(DbUuid(call_uuid)));
    }
    if !filter.job_types.is_empty() {
        let types: Vec<&'static str> = filter.job_types.iter().map(|kind| kind.as_str()).collect();
        query = query.filter(coi_detection_jobs::job_type.eq_any(types));
    }
    if !filter.states.is_empty() {
        let states: Vec<&'static str> = filter.states.iter().map(|state| state.as_str()).collect();
        query = query.filter(coi_detection_jobs::state.eq_any(states));
    }
    query
}

fn views(connection: &mut AnyConnection, jobs: Vec<Job>) -> StoreResult<Vec<JobView>> {
    let call_uuids: BTreeSet<DbUuid> = jobs.iter().map(|job| DbUuid(job.call_uuid)).collect();
    let names: HashMap<Uuid, String> = calls_table::table
        .filter(calls_table::uuid.eq_any(call_uuids))
        .select((calls_table::uuid, calls_table::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();
    Ok(jobs
        .into_iter()
        .map(|job| JobView {
            call_name: names.get(&job.call_uuid).cloned().unwrap_or_default(),
            job,
        })
        .collect())
}

/// Lists jobs visible to the actor, newest first unless ordered otherwise.
pub fn list_jobs(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &JobFilter,
    order: &[SortKey<JobOrder>],
    page: PageRequest,
) -> StoreResult<Page<JobView>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(coi_detection_jobs::created.desc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (JobOrder::Created, false) => query.then_order_by(coi_detection_jobs::created.asc()),
            (JobOrder::Created, true) => query.then_order_by(coi_detection_jobs::created.desc()),
            (JobOrder::StartedAt, false) => {
                query.then_order_by(coi_detection_jobs::started_at.asc())
            }
            (JobOrder::StartedAt, true) => {
                query.then_order_by(coi_detection_jobs::started_at.desc())
            }
            (JobOrder::CompletedAt, false) => {
                query.then_order_by(coi_detection_jobs::completed_at.asc())
            }
            (JobOrder::CompletedAt, true) => {
                query.then_order_by(coi_detection_jobs::completed_at.desc())
            }
            (JobOrder::State, false) => query.then_order_by(coi_detection_jobs::state.asc()),
            (JobOrder::State, true) => query.then_order_by(coi_detection_jobs::state.desc()),
        };
    }
    let rows = query
        .then_order_by(coi_detection_jobs::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Job>(connection)?;
    Ok(Page {
        rows: views(connection, rows)?,
        total,
    })
}

/// Finds a job visible to the actor; others are reported as not found.
pub fn find_visible_job(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<JobView> {
    let job = visible(actor)
        .filter(coi_detection_jobs::uuid.eq(DbUuid(uuid)))
        .first::<Job>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("COI detection job"))?;
    Ok(views(connection, vec![job])?.remove(0))
}

pub fn get_job(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<JobView> {
    let job = coi_detection_jobs::table
        .find(DbUuid(uuid))
        .first::<Job>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("COI detection job"))?;
    Ok(views(connection, vec![job])?.remove(0))
}

/// Creates a `pending` job for a call the actor manages. [`run_job`] does the work.
pub fn create_job(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    job_type: CoiJobType,
) -> StoreResult<JobView> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    call.require_manager(actor)?;
    if job_type == CoiJobType::SinglePair {
        return Err(DomainError::field(
            "job_type",
            "\"single_pair\" cannot be started for a whole call. Send \"full_call\" or \"incremental\".",
        )
        .into());
    }

    let uuid = insert_job(connection, actor, call.uuid, job_type, CoiJobState::Pending)?;
    tracing::info!(job.uuid = %uuid.simple(), call.uuid = %call.uuid.simple(), job.job_type = job_type.as_str(), "COI detection job created");
    get_job(connection, uuid)
}

/// Inserts a job row with no pairs counted yet and returns its UUID.
fn insert_job(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    job_type: CoiJobType,
    state: CoiJobState,
) -> StoreResult<Uuid> {
    let uuid = Uuid::now_v7();
    let at = DbTime::from(Utc::now());
    diesel::insert_into(coi_detection_jobs::table)
        .values((
            coi_detection_jobs::uuid.eq(DbUuid(uuid)),
            coi_detection_jobs::call_uuid.eq(DbUuid(call_uuid)),
            coi_detection_jobs::job_type.eq(job_type.as_str()),
            coi_detection_jobs::state.eq(state.as_str()),
            coi_detection_jobs::total_pairs.eq(0),
            coi_detection_jobs::processed_pairs.eq(0),
            coi_detection_jobs::conflicts_found.eq(0),
            coi_detection_jobs::error_message.eq(""),
            coi_detection_jobs::created_by_uuid.eq(Some(DbUuid(actor.user_uuid))),
            coi_detection_jobs::created.eq(at),
            coi_detection_jobs::modified.eq(at),
        ))
        .execute(connection)?;
    Ok(uuid)
}

/// Evaluates one (reviewer profile, proposal) pair of the call inside the caller's
/// transaction unless detection evaluated it before, and records the run as a completed
/// `single_pair` job. Conflicts found are saved, audited and block the pair's pending items
/// like those of any job. Returns whether the pair was evaluated now.
pub fn evaluate_pair_if_needed(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    reviewer_uuid: Uuid,
    proposal_uuid: Uuid,
) -> StoreResult<bool> {
    let evaluated = coi_evaluated_pairs::table
        .find((
            DbUuid(call_uuid),
            DbUuid(reviewer_uuid),
            DbUuid(proposal_uuid),
        ))
        .count()
        .get_result::<i64>(connection)?;
    if evaluated > 0 {
        return Ok(false);
    }
    lock_call(connection, call_uuid)?;

    let settings = settings_of(connection, call_uuid)?;
    let reviewers = reviewer_facts(connection, call_uuid, Some(reviewer_uuid))?;
    let teams = team_facts(connection, call_uuid, Some(proposal_uuid))?;
    let (Some(reviewer), Some(team)) = (reviewers.get(&reviewer_uuid), teams.get(&proposal_uuid))
    else {
        // Not a pair of this call's accepted pool and proposals, so there is nothing to evaluate.
        return Ok(false);
    };
    let findings = detection::detect_conflicts(reviewer, team, &settings, Utc::now().date_naive());

    let uuid = insert_job(
        connection,
        actor,
        call_uuid,
        CoiJobType::SinglePair,
        CoiJobState::Running,
    )?;
    let job = get_job(connection, uuid)?.job;
    let created = record_findings(
        connection,
        actor,
        &job,
        &[(reviewer_uuid, proposal_uuid)],
        std::slice::from_ref(&findings),
    )?;
    let at = DbTime::from(Utc::now());
    diesel::update(coi_detection_jobs::table.find(DbUuid(uuid)))
        .set((
            coi_detection_jobs::state.eq(CoiJobState::Completed.as_str()),
            coi_detection_jobs::total_pairs.eq(1),
            coi_detection_jobs::processed_pairs.eq(1),
            coi_detection_jobs::conflicts_found.eq(created),
            coi_detection_jobs::started_at.eq(Some(at)),
            coi_detection_jobs::completed_at.eq(Some(at)),
            coi_detection_jobs::modified.eq(at),
        ))
        .execute(connection)?;
    tracing::info!(
        job.uuid = %uuid.simple(),
        call.uuid = %call_uuid.simple(),
        reviewer.uuid = %reviewer_uuid.simple(),
        proposal.uuid = %proposal_uuid.simple(),
        job.conflicts_found = created,
        "COI detection evaluated a pair before assigning it"
    );
    Ok(true)
}

/// Creates a job and runs it to the end on this connection; for callers without a
/// background runner (tests, the command line).
pub fn detect_now(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    job_type: CoiJobType,
) -> StoreResult<JobView> {
    let job = create_job(connection, actor, call_uuid, job_type)?;
    run_job(connection, actor, job.job.uuid)
}

/// Runs a `pending` job: claims it, evaluates its pairs, and marks it `completed` or
/// `failed`. A job in any other state is returned unchanged. `actor` is recorded as the one
/// who caused the new conflicts and the item changes.
pub fn run_job(
    connection: &mut AnyConnection,
    actor: &Actor,
    job_uuid: Uuid,
) -> StoreResult<JobView> {
    let claimed = diesel::update(
        coi_detection_jobs::table
            .filter(coi_detection_jobs::uuid.eq(DbUuid(job_uuid)))
            .filter(coi_detection_jobs::state.eq(CoiJobState::Pending.as_str())),
    )
    .set((
        coi_detection_jobs::state.eq(CoiJobState::Running.as_str()),
        coi_detection_jobs::started_at.eq(Some(DbTime::from(Utc::now()))),
        coi_detection_jobs::modified.eq(DbTime::from(Utc::now())),
    ))
    .execute(connection)?;
    if claimed != 1 {
        return get_job(connection, job_uuid);
    }

    let job = get_job(connection, job_uuid)?.job;
    let started = std::time::Instant::now();
    let outcome = evaluate_job(connection, actor, &job);
    let finished = DbTime::from(Utc::now());
    match outcome {
        Ok(()) => {
            diesel::update(coi_detection_jobs::table.find(DbUuid(job_uuid)))
                .set((
                    coi_detection_jobs::state.eq(CoiJobState::Completed.as_str()),
                    coi_detection_jobs::completed_at.eq(Some(finished)),
                    coi_detection_jobs::modified.eq(finished),
                ))
                .execute(connection)?;
            let done = get_job(connection, job_uuid)?;
            tracing::info!(
                job.uuid = %job_uuid.simple(),
                call.uuid = %job.call_uuid.simple(),
                job.processed_pairs = done.job.processed_pairs,
                job.conflicts_found = done.job.conflicts_found,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "COI detection job completed"
            );
            Ok(done)
        }
        Err(error) => {
            tracing::error!(job.uuid = %job_uuid.simple(), call.uuid = %job.call_uuid.simple(), %error, "COI detection job failed");
            diesel::update(coi_detection_jobs::table.find(DbUuid(job_uuid)))
                .set((
                    coi_detection_jobs::state.eq(CoiJobState::Failed.as_str()),
                    coi_detection_jobs::completed_at.eq(Some(finished)),
                    coi_detection_jobs::error_message.eq(error.to_string()),
                    coi_detection_jobs::modified.eq(finished),
                ))
                .execute(connection)?;
            get_job(connection, job_uuid)
        }
    }
}

/// Marks a job `failed` with a message, for a runner that could not start it (for example
/// when no database connection was available). A finished job is left as it is.
pub fn fail_job(connection: &mut AnyConnection, job_uuid: Uuid, message: &str) -> StoreResult<()> {
    let at = DbTime::from(Utc::now());
    diesel::update(
        coi_detection_jobs::table
            .filter(coi_detection_jobs::uuid.eq(DbUuid(job_uuid)))
            .filter(
                coi_detection_jobs::state
                    .eq_any([CoiJobState::Pending.as_str(), CoiJobState::Running.as_str()]),
            ),
    )
    .set((
        coi_detection_jobs::state.eq(CoiJobState::Failed.as_str()),
        coi_detection_jobs::completed_at.eq(Some(at)),
        coi_detection_jobs::error_message.eq(message),
        coi_detection_jobs::modified.eq(at),
    ))
    .execute(connection)?;
    Ok(())
}

/// Reads the detection settings from a call's COI configuration (defaults without a row).
fn settings_of(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<DetectionSettings> {
    let config = configs::coi_config(connection, call_uuid)?;
    Ok(DetectionSettings {
        named_personnel: config.auto_detect_named_personnel,
        institutional: config.auto_detect_institutional && config.include_same_institution,
        coauthorship: config.auto_detect_coauthorship,
        institutional_lookback_years: config.institutional_lookback_years,
        coauthorship_lookback_years: config.coauthorship_lookback_years,
        coauthorship_threshold_papers: config.coauthorship_threshold_papers,
    })
}

fn evaluate_job(connection: &mut AnyConnection, actor: &Actor, job: &Job) -> StoreResult<()> {
    let settings = settings_of(connection, job.call_uuid)?;
    let reviewers = reviewer_facts(connection, job.call_uuid, None)?;
    let teams = team_facts(connection, job.call_uuid, None)?;

    let prepared_reviewers: Vec<(Uuid, PreparedReviewer<'_>)> = reviewers
        .iter()
        .map(|(uuid, facts)| (*uuid, PreparedReviewer::new(facts)))
        .collect();
    let prepared_teams: Vec<(Uuid, PreparedTeam<'_>)> = teams
        .iter()
        .map(|(uuid, team)| (*uuid, PreparedTeam::new(team)))
        .collect();
    let pairs: Vec<(usize, usize)> = if job.job_type == CoiJobType::Incremental {
        let reviewer_index: HashMap<Uuid, usize> = prepared_reviewers
            .iter()
            .enumerate()
            .map(|(index, (uuid, _))| (*uuid, index))
            .collect();
        let team_index: HashMap<Uuid, usize> = prepared_teams
            .iter()
            .enumerate()
            .map(|(index, (uuid, _))| (*uuid, index))
            .collect();
        // Pairs added after the facts were read have no index and wait for the next run.
        unevaluated_pairs(connection, job.call_uuid)?
            .into_iter()
            .filter_map(|(reviewer, proposal)| {
                Some((*reviewer_index.get(&reviewer)?, *team_index.get(&proposal)?))
            })
            .collect()
    } else {
        (0..prepared_reviewers.len())
            .flat_map(|reviewer| (0..prepared_teams.len()).map(move |team| (reviewer, team)))
            .collect()
    };

    diesel::update(coi_detection_jobs::table.find(DbUuid(job.uuid)))
        .set(coi_detection_jobs::total_pairs.eq(i32::try_from(pairs.len()).unwrap_or(i32::MAX)))
        .execute(connection)?;

    let today = Utc::now().date_naive();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    for chunk in pairs.chunks(PAIRS_PER_CHUNK) {
        // The rules are pure, so a chunk is evaluated on every core before its single write
        // transaction.
        let findings = evaluate_in_parallel(chunk, threads, |(reviewer, team)| {
            detection::detect_prepared(
                &prepared_reviewers[*reviewer].1,
                &prepared_teams[*team].1,
                &settings,
                today,
            )
        });
        let chunk_pairs: Vec<(Uuid, Uuid)> = chunk
            .iter()
            .map(|(reviewer, team)| (prepared_reviewers[*reviewer].0, prepared_teams[*team].0))
            .collect();

        write_transaction(connection, |connection| {
            lock_call(connection, job.call_uuid)?;
            let created = record_findings(connection, actor, job, &chunk_pairs, &findings)?;
            let processed = i32::try_from(chunk.len()).unwrap_or(i32::MAX);
            diesel::update(coi_detection_jobs::table.find(DbUuid(job.uuid)))
                .set((
                    coi_detection_jobs::processed_pairs
                        .eq(coi_detection_jobs::processed_pairs + processed),
                    coi_detection_jobs::conflicts_found
                        .eq(coi_detection_jobs::conflicts_found + created),
                    coi_detection_jobs::modified.eq(DbTime::from(Utc::now())),
                ))
                .execute(connection)?;
            Ok(())
        })?;
    }
    Ok(())
}

/// Saves the findings of evaluated pairs that no conflict records yet, and marks the pairs
/// evaluated. `findings[i]` belongs to `pairs[i]`. Returns how many conflicts it created.
fn record_findings(
    connection: &mut AnyConnection,
    actor: &Actor,
    job: &Job,
    pairs: &[(Uuid, Uuid)],
    findings: &[Vec<Finding>],
) -> StoreResult<i32> {
    let reviewers: BTreeSet<Uuid> = pairs.iter().map(|(reviewer, _)| *reviewer).collect();
    let mut known = conflict_keys(connection, job.call_uuid, &reviewers)?;
    let mut clock = CreationClock::new();
    let mut new_conflicts = Vec::new();
    for (&(reviewer_uuid, proposal_uuid), pair_findings) in pairs.iter().zip(findings) {
        for finding in pair_findings {
            let key = ConflictKey {
                reviewer_uuid,
                proposal_uuid,
                coi_type: finding.coi_type.as_str(),
                conflicting_user_uuid: finding.conflicting_user_uuid,
            };
            if known.insert(key) {
                new_conflicts.push(NewConflict {
                    uuid: Uuid::now_v7(),
                    reviewer_uuid,
                    proposal_uuid,
                    finding,
                    detected_at: clock.next(),
                });
            }
        }
    }
    save_findings(connection, actor, job, &new_conflicts)?;
    mark_evaluated(connection, job.call_uuid, pairs)?;
    Ok(i32::try_from(new_conflicts.len()).unwrap_or(i32::MAX))
}

/// Applies `evaluate` to every item on up to `threads` threads and returns the results in the
/// order of `items`.
fn evaluate_in_parallel<T, R, F>(items: &[T], threads: usize, evaluate: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let part = items.len().div_ceil(threads.max(1)).max(1);
    if items.len() <= part {
        return items.iter().map(&evaluate).collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(part)
            .map(|slice| {
                let evaluate = &evaluate;
                scope.spawn(move || slice.iter().map(evaluate).collect::<Vec<R>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("a COI detection thread panicked"))
            .collect()
    })
}

/// Lists the (reviewer profile, proposal) pairs of the call that detection never evaluated: accepted
/// pool entries with a profile against every proposal of the call, without a row in
/// `coi_evaluated_pairs`. Ordered by reviewer, then proposal.
pub fn unevaluated_pairs(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<Vec<(Uuid, Uuid)>> {
    load_unevaluated_pairs(connection, call_uuid, false)
}

/// Lists the pairs that [`unevaluated_pairs`] lists, or with `first_only` at most one of them
/// in no particular order. Without DISTINCT and ORDER BY, PostgreSQL can stop at the first
/// row it finds instead of sorting every pair of the call.
fn load_unevaluated_pairs(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    first_only: bool,
) -> StoreResult<Vec<(Uuid, Uuid)>> {
    let query = call_reviewer_pools::table
        .inner_join(proposals::table.on(proposals::call_uuid.eq(call_reviewer_pools::call_uuid)))
        .left_join(
            coi_evaluated_pairs::table.on(coi_evaluated_pairs::call_uuid
                .eq(call_reviewer_pools::call_uuid)
                .and(
                    coi_evaluated_pairs::reviewer_uuid
                        .nullable()
                        .eq(call_reviewer_pools::reviewer_uuid),
                )
                .and(coi_evaluated_pairs::proposal_uuid.eq(proposals::uuid))),
        )
        .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
        .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Accepted.as_str()))
        .filter(call_reviewer_pools::reviewer_uuid.is_not_null())
        .filter(coi_evaluated_pairs::call_uuid.nullable().is_null())
        .select((
            call_reviewer_pools::reviewer_uuid.assume_not_null(),
            proposals::uuid,
        ));
    let pairs: Vec<(DbUuid, DbUuid)> = if first_only {
        query.limit(1).load(connection)?
    } else {
        query
            .distinct()
            .order((
                call_reviewer_pools::reviewer_uuid.asc(),
                proposals::uuid.asc(),
            ))
            .load(connection)?
    };
    Ok(pairs
        .into_iter()
        .map(|(reviewer, proposal)| (reviewer.0, proposal.0))
        .collect())
}

/// Evaluates the call's never-evaluated pairs with an `incremental` job that runs to the end on
/// this connection, so that its conflicts exist before assignments are made. Returns the job,
/// or `None` when every pair was evaluated already.
pub fn evaluate_missing_pairs(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<Option<JobView>> {
    if load_unevaluated_pairs(connection, call_uuid, true)?.is_empty() {
        return Ok(None);
    }
    let job = detect_now(connection, actor, call_uuid, CoiJobType::Incremental)?;
    if job.job.state == CoiJobState::Failed {
        return Err(DomainError::Conflict(format!(
            "Conflict-of-interest detection of the pairs never evaluated failed: {} Run detect-conflicts and retry.",
            job.job.error_message
        ))
        .into());
    }
    Ok(Some(job))
}

/// Forgets that detection evaluated the pairs of a proposal, in every call, because its team
/// changed. Generation, reassignment, manual assignment and `incremental` jobs then evaluate
/// them again.
pub(crate) fn forget_proposal_evaluations(
    connection: &mut AnyConnection,
    proposal_uuid: Uuid,
) -> StoreResult<()> {
    diesel::delete(
        coi_evaluated_pairs::table
            .filter(coi_evaluated_pairs::proposal_uuid.eq(DbUuid(proposal_uuid))),
    )
    .execute(connection)?;
    Ok(())
}

/// Forgets that detection evaluated the pairs of a reviewer profile, in every call, because
/// facts that detection reads (name, e-mail, ORCID iD, alternative names, affiliations or
/// publications) changed.
pub(crate) fn forget_profile_evaluations(
    connection: &mut AnyConnection,
    profile_uuid: Uuid,
) -> StoreResult<()> {
    diesel::delete(
        coi_evaluated_pairs::table
            .filter(coi_evaluated_pairs::reviewer_uuid.eq(DbUuid(profile_uuid))),
    )
    .execute(connection)?;
    Ok(())
}

/// What makes a conflict a duplicate of another: detection never creates two conflicts with
/// the same reviewer, proposal, type and conflicting user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ConflictKey {
    reviewer_uuid: Uuid,
    proposal_uuid: Uuid,
    coi_type: &'static str,
    conflicting_user_uuid: Option<Uuid>,
}

/// The keys of the call's proposal conflicts (any status) of the given reviewers.
fn conflict_keys(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    reviewer_uuids: &BTreeSet<Uuid>,
) -> StoreResult<HashSet<ConflictKey>> {
    let reviewers: Vec<DbUuid> = reviewer_uuids.iter().copied().map(DbUuid).collect();
    let rows = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call_uuid)))
        .filter(conflicts_of_interest::reviewer_uuid.eq_any(reviewers))
        .filter(conflicts_of_interest::proposal_uuid.is_not_null())
        .select((
            conflicts_of_interest::reviewer_uuid,
            conflicts_of_interest::proposal_uuid.assume_not_null(),
            conflicts_of_interest::coi_type,
            conflicts_of_interest::conflicting_user_uuid,
        ))
        .load::<(DbUuid, DbUuid, Stored<CoiType>, Option<DbUuid>)>(connection)?;
    Ok(rows
        .into_iter()
        .map(|(reviewer, proposal, coi_type, user)| ConflictKey {
            reviewer_uuid: reviewer.0,
            proposal_uuid: proposal.0,
            coi_type: coi_type.0.as_str(),
            conflicting_user_uuid: user.map(|uuid| uuid.0),
        })
        .collect())
}

/// On PostgreSQL, takes a transaction-level advisory lock keyed on the call, so that two jobs
/// of one call check for and insert conflicts one after the other. SQLite's write lock,
/// taken when the transaction begins, already serialises them.
fn lock_call(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<()> {
    if let AnyConnection::Postgresql(_) = connection {
        let bytes = call_uuid.as_bytes();
        let key = i64::from_be_bytes(bytes[8..16].try_into().unwrap_or([0; 8]));
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(key)
            .execute(connection)?;
    }
    Ok(())
}

/// A finding to save as a conflict of one (reviewer profile, proposal) pair.
struct NewConflict<'a> {
    uuid: Uuid,
    reviewer_uuid: Uuid,
    proposal_uuid: Uuid,
    finding: &'a Finding,
    detected_at: DateTime<Utc>,
}

/// Bound values per row of `conflicts_of_interest` in [`save_findings`].
const CONFLICT_COLUMNS: usize = 17;

/// Inserts findings as `pending` automated conflicts, audits them and blocks the pending
/// items of their pairs. The caller checks first that no such conflicts exist. Conflicts and
/// audit rows go in multi-row INSERTs. Only a conflict whose pair has pending items costs
/// more statements, because [`crate::conflicts::block_pending_items`] handles it alone.
fn save_findings(
    connection: &mut AnyConnection,
    actor: &Actor,
    job: &Job,
    conflicts: &[NewConflict<'_>],
) -> StoreResult<()> {
    if conflicts.is_empty() {
        return Ok(());
    }
    for part in conflicts.chunks(crate::bulk::rows_per_insert(CONFLICT_COLUMNS)) {
        let rows: Vec<_> = part
            .iter()
            .map(|conflict| {
                let finding = conflict.finding;
                let at = DbTime::from(conflict.detected_at);
                let evidence = serde_json::to_value(&finding.evidence)
                    .unwrap_or_else(|_| json!({}))
                    .to_string();
                (
                    conflicts_of_interest::uuid.eq(DbUuid(conflict.uuid)),
                    conflicts_of_interest::call_uuid.eq(DbUuid(job.call_uuid)),
                    conflicts_of_interest::reviewer_uuid.eq(DbUuid(conflict.reviewer_uuid)),
                    conflicts_of_interest::proposal_uuid.eq(Some(DbUuid(conflict.proposal_uuid))),
                    conflicts_of_interest::conflicting_user_uuid
                        .eq(finding.conflicting_user_uuid.map(DbUuid)),
                    conflicts_of_interest::conflicting_organization_uuid
                        .eq(finding.conflicting_organization_uuid.map(DbUuid)),
                    conflicts_of_interest::coi_type.eq(finding.coi_type.as_str()),
                    conflicts_of_interest::severity.eq(finding.severity.as_str()),
                    conflicts_of_interest::detection_method.eq(DetectionMethod::Automated.as_str()),
                    conflicts_of_interest::detected_at.eq(at),
                    conflicts_of_interest::evidence_description.eq(&finding.description),
                    conflicts_of_interest::evidence_data.eq(evidence),
                    conflicts_of_interest::status.eq(CoiStatus::Pending.as_str()),
                    conflicts_of_interest::review_notes.eq(""),
                    conflicts_of_interest::management_plan.eq(""),
                    conflicts_of_interest::created.eq(at),
                    conflicts_of_interest::modified.eq(at),
                )
            })
            .collect();
        crate::bulk::insert_rows!(connection, conflicts_of_interest::table, rows)?;
    }

    let reason = format!("Found by COI detection job {}.", job.uuid.simple());
    let events: Vec<(DateTime<Utc>, AuditEntry<'_>)> = conflicts
        .iter()
        .map(|conflict| {
            let finding = conflict.finding;
            let entry = AuditEntry {
                call_uuid: Some(job.call_uuid),
                object_type: "conflict",
                object_uuid: conflict.uuid,
                action: "conflict.detected",
                actor: Some(actor),
                reason: &reason,
                before: None,
                after: Some(json!({
                    "status": "pending",
                    "coi_type": finding.coi_type.as_str(),
                    "severity": finding.severity.as_str(),
                    "detection_method": "automated",
                    "reviewer_uuid": conflict.reviewer_uuid.simple().to_string(),
                    "proposal_uuid": conflict.proposal_uuid.simple().to_string(),
                    "job_uuid": job.uuid.simple().to_string(),
                })),
            };
            (conflict.detected_at, entry)
        })
        .collect();
    audit::record_all(connection, &events)?;

    let reviewers: Vec<Option<DbUuid>> = conflicts
        .iter()
        .map(|conflict| conflict.reviewer_uuid)
        .collect::<BTreeSet<Uuid>>()
        .into_iter()
        .map(|reviewer| Some(DbUuid(reviewer)))
        .collect();
    let pending: HashSet<(Uuid, Uuid)> = assignment_items::table
        .filter(assignment_items::call_uuid.eq(DbUuid(job.call_uuid)))
        .filter(assignment_items::status.eq(ItemStatus::Pending.as_str()))
        .filter(assignment_items::reviewer_uuid.eq_any(reviewers))
        .select((
            assignment_items::reviewer_uuid.assume_not_null(),
            assignment_items::proposal_uuid,
        ))
        .load::<(DbUuid, DbUuid)>(connection)?
        .into_iter()
        .map(|(reviewer, proposal)| (reviewer.0, proposal.0))
        .collect();
    for conflict in conflicts {
        if pending.contains(&(conflict.reviewer_uuid, conflict.proposal_uuid)) {
            crate::conflicts::block_pending_items(connection, actor, conflict.uuid)?;
        }
    }
    Ok(())
}

/// Rows per statement when recording evaluated pairs: four bound values each, far below the
/// bind-parameter limits of SQLite (32,766) and PostgreSQL (65,535).
const EVALUATED_ROWS_PER_STATEMENT: usize = 1_000;

/// Records that the pairs were evaluated now. The upsert is written per backend because the
/// conflict target needs the concrete connection type.
fn mark_evaluated(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    pairs: &[(Uuid, Uuid)],
) -> StoreResult<()> {
    let now = DbTime::from(Utc::now());
    for part in pairs.chunks(EVALUATED_ROWS_PER_STATEMENT) {
        let rows: Vec<_> = part
            .iter()
            .map(|(reviewer_uuid, proposal_uuid)| {
                (
                    coi_evaluated_pairs::call_uuid.eq(DbUuid(call_uuid)),
                    coi_evaluated_pairs::reviewer_uuid.eq(DbUuid(*reviewer_uuid)),
                    coi_evaluated_pairs::proposal_uuid.eq(DbUuid(*proposal_uuid)),
                    coi_evaluated_pairs::evaluated_at.eq(now),
                )
            })
            .collect();
        let target = (
            coi_evaluated_pairs::call_uuid,
            coi_evaluated_pairs::reviewer_uuid,
            coi_evaluated_pairs::proposal_uuid,
        );
        match connection {
            AnyConnection::Postgresql(postgres) => {
                diesel::insert_into(coi_evaluated_pairs::table)
                    .values(rows)
                    .on_conflict(target)
                    .do_update()
                    .set(
                        coi_evaluated_pairs::evaluated_at
                            .eq(excluded(coi_evaluated_pairs::evaluated_at)),
                    )
                    .execute(postgres)?;
            }
            AnyConnection::Sqlite(sqlite) => {
                diesel::insert_into(coi_evaluated_pairs::table)
                    .values(rows)
                    .on_conflict(target)
                    .do_update()
                    .set(
                        coi_evaluated_pairs::evaluated_at
                            .eq(excluded(coi_evaluated_pairs::evaluated_at)),
                    )
                    .execute(sqlite)?;
            }
        }
    }
    Ok(())
}

/// Reviewer profiles of the call's accepted pool entries (or only the profile `only`), with
/// their user's name and e-mail, affiliations and publications, keyed by profile UUID.
fn reviewer_facts(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    only: Option<Uuid>,
) -> StoreResult<std::collections::BTreeMap<Uuid, ReviewerFacts>> {
    let mut query = call_reviewer_pools::table
        .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
        .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Accepted.as_str()))
        .filter(call_reviewer_pools::reviewer_uuid.is_not_null())
        .into_boxed();
    if let Some(profile_uuid) = only {
        query = query.filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(profile_uuid)));
    }
    let profile_uuids: Vec<DbUuid> = query
        .select(call_reviewer_pools::reviewer_uuid.assume_not_null())
        .distinct()
        .load::<DbUuid>(connection)?;

    let profiles = reviewer_profiles::table
        .inner_join(users::table)
        .filter(reviewer_profiles::uuid.eq_any(&profile_uuids))
        .select((
            reviewer_profiles::uuid,
            reviewer_profiles::user_uuid,
            reviewer_profiles::orcid_id,
            reviewer_profiles::alternative_names,
            users::full_name,
            users::email,
        ))
        .load::<(DbUuid, DbUuid, Option<String>, String, String, String)>(connection)?;
    let mut facts: std::collections::BTreeMap<Uuid, ReviewerFacts> = profiles
        .into_iter()
        .map(
            |(uuid, user_uuid, orcid, alternative_names, full_name, email)| {
                let reviewer = ReviewerFacts {
                    user_uuid: Some(user_uuid.0),
                    full_name,
                    email,
                    orcid,
                    alternative_names: serde_json::from_str(&alternative_names).unwrap_or_default(),
                    affiliations: Vec::new(),
                    publications: Vec::new(),
                };
                (uuid.0, reviewer)
            },
        )
        .collect();

    let affiliations = reviewer_affiliations::table
        .filter(reviewer_affiliations::profile_uuid.eq_any(&profile_uuids))
        .order(reviewer_affiliations::uuid.asc())
        .select((
            reviewer_affiliations::profile_uuid,
            reviewer_affiliations::organization_uuid,
            reviewer_affiliations::organization_name,
            reviewer_affiliations::organization_identifier,
            reviewer_affiliations::department,
            reviewer_affiliations::position_title,
            reviewer_affiliations::affiliation_type,
            reviewer_affiliations::start_date,
            reviewer_affiliations::end_date,
        ))
        .load::<AffiliationRow>(connection)?;
    for row in affiliations {
        if let Some(reviewer) = facts.get_mut(&row.0.0) {
            reviewer.affiliations.push(AffiliationFacts {
                organization_uuid: row.1.map(|uuid| uuid.0),
                organization_name: row.2,
                organization_identifier: row.3,
                department: row.4,
                position_title: row.5,
                affiliation_type: row.6,
                start_date: row.7,
                end_date: row.8,
            });
        }
    }

    let publications = reviewer_publications::table
        .filter(reviewer_publications::profile_uuid.eq_any(&profile_uuids))
        .order(reviewer_publications::uuid.asc())
        .select((
            reviewer_publications::profile_uuid,
            reviewer_publications::title,
            reviewer_publications::doi,
            reviewer_publications::publication_year,
            reviewer_publications::coauthors,
        ))
        .load::<(DbUuid, String, Option<String>, Option<i32>, String)>(connection)?;
    for (profile_uuid, title, doi, year, coauthors) in publications {
        if let Some(reviewer) = facts.get_mut(&profile_uuid.0) {
            reviewer.publications.push(PublicationFacts {
                title,
                doi,
                year,
                coauthors: parse_coauthors(&coauthors),
            });
        }
    }
    Ok(facts)
}

type AffiliationRow = (
    DbUuid,
    Option<DbUuid>,
    String,
    String,
    String,
    String,
    String,
    Option<chrono::NaiveDate>,
    Option<chrono::NaiveDate>,
);

/// Reads stored co-authors: a JSON array of `{"name", "orcid"}` objects or plain names.
/// Entries of any other shape are skipped.
fn parse_coauthors(text: &str) -> Vec<CoauthorFacts> {
    let Ok(serde_json::Value::Array(entries)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|entry| match entry {
            serde_json::Value::String(name) => Some(CoauthorFacts { name, orcid: None }),
            serde_json::Value::Object(fields) => Some(CoauthorFacts {
                name: fields
                    .get("name")
                    .and_then(|name| name.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                orcid: fields
                    .get("orcid")
                    .and_then(|orcid| orcid.as_str())
                    .map(str::to_owned),
            }),
            _ => None,
        })
        .collect()
}

/// Loads the team of every proposal of the call (any state), or only of the proposal `only`,
/// keyed by proposal UUID. A proposal without members has an empty team.
fn team_facts(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    only: Option<Uuid>,
) -> StoreResult<std::collections::BTreeMap<Uuid, Vec<TeamMemberFacts>>> {
    let mut proposal_query = proposals::table
        .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
        .into_boxed();
    if let Some(proposal_uuid) = only {
        proposal_query = proposal_query.filter(proposals::uuid.eq(DbUuid(proposal_uuid)));
    }
    let mut teams: std::collections::BTreeMap<Uuid, Vec<TeamMemberFacts>> = proposal_query
        .select(proposals::uuid)
        .load::<DbUuid>(connection)?
        .into_iter()
        .map(|uuid| (uuid.0, Vec::new()))
        .collect();

    let mut member_query = proposal_team_members::table
        .inner_join(proposals::table)
        .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
        .into_boxed();
    if let Some(proposal_uuid) = only {
        member_query = member_query.filter(proposals::uuid.eq(DbUuid(proposal_uuid)));
    }
    let members = member_query
        .order((
            proposal_team_members::created.asc(),
            proposal_team_members::uuid.asc(),
        ))
        .select((
            proposal_team_members::proposal_uuid,
            proposal_team_members::user_uuid,
            proposal_team_members::full_name,
            proposal_team_members::email,
            proposal_team_members::orcid,
            proposal_team_members::organization,
            proposal_team_members::role,
        ))
        .load::<(
            DbUuid,
            Option<DbUuid>,
            String,
            String,
            Option<String>,
            String,
            String,
        )>(connection)?;
    for (proposal_uuid, user_uuid, full_name, email, orcid, organization, role) in members {
        if let Some(team) = teams.get_mut(&proposal_uuid.0) {
            team.push(TeamMemberFacts {
                user_uuid: user_uuid.map(|uuid| uuid.0),
                full_name,
                email,
                orcid,
                organization,
                role,
            });
        }
    }
    Ok(teams)
}
