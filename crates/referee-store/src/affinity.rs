//! Affinity scores of a call's reviewers for its proposals: computing them for the whole call
//! and reading them back as the call's affinity matrix.
//!
//! Scores of the pool are a cache in `reviewer_proposal_affinities`. Computing upserts one row
//! per (reviewer, proposal) pair and leaves rows of pairs that left the call in place, as the
//! matrix shows every cached row of the call. Scores of suggested reviewers are never cached:
//! the matrix computes them on each request.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;

use chrono::{Datelike, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use referee_domain::affinity::{
    self, Combination, ExpertiseEntry, PairScore, PublicationEntry, ReviewerDocument,
};
use referee_domain::enums::{
    CoiSeverity, CoiStatus, CoiType, InvitationStatus, ProficiencyLevel, SuggestionStatus,
};
use referee_domain::{Actor, DomainError};
use uuid::Uuid;

use crate::assignments;
use crate::calls::{self, Call};
use crate::configs;
use crate::connection::AnyConnection;
use crate::error::StoreResult;
use crate::list::{Page, PageRequest};
use crate::schema::{
    call_reviewer_pools, coi_evaluated_pairs, conflicts_of_interest, proposals, reviewer_expertise,
    reviewer_profiles, reviewer_proposal_affinities, reviewer_publications, reviewer_suggestions,
    users,
};
use crate::sql_types::{DbTime, DbUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;

/// Rows per upsert statement: 9 parameters per row keeps a statement far below the bind
/// parameter limits of SQLite (32766) and PostgreSQL (65535).
const UPSERT_CHUNK_ROWS: usize = 500;

/// Computes and stores the affinity of every reviewer of the call's pool for every proposal
/// of the call, and returns the number of pairs stored.
///
/// Reviewers are the accepted pool entries with a profile; proposals are all proposals of
/// the call whatever their state. The call's matching configuration (or the defaults)
/// chooses how the keyword and text scores combine. Only the call's managers may compute.
pub fn compute_affinities(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<usize> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    call.require_manager(actor)?;

    let combination = combination_of(connection, call_uuid)?;
    let (reviewer_uuids, reviewers) = load_reviewers(connection, call_uuid)?;
    let (proposal_uuids, proposal_texts) = load_proposals(connection, call_uuid)?;

    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let started = std::time::Instant::now();
    let scores = affinity::score_all(&reviewers, &proposal_texts, combination, threads);
    tracing::info!(
        call.uuid = %call_uuid,
        reviewers = reviewers.len(),
        proposals = proposal_texts.len(),
        elapsed_ms = started.elapsed().as_millis(),
        "computed affinity scores"
    );

    write_transaction(connection, |connection| {
        store_scores(
            connection,
            call_uuid,
            &reviewer_uuids,
            &proposal_uuids,
            &scores,
        )
    })?;
    Ok(scores.len())
}

/// Loads the scoring input of each reviewer profile with an accepted pool entry in the call,
/// ordered by profile UUID.
fn load_reviewers(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<(Vec<Uuid>, Vec<ReviewerDocument>)> {
    let pool_profiles: Vec<DbUuid> = call_reviewer_pools::table
        .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
        .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Accepted.as_str()))
        .filter(call_reviewer_pools::reviewer_uuid.is_not_null())
        .select(call_reviewer_pools::reviewer_uuid.assume_not_null())
        .load(connection)?;
    let profiles: Vec<Uuid> = pool_profiles.into_iter().map(|uuid| uuid.0).collect();
    let inputs = load_reviewer_inputs(connection, &profiles)?;
    let uuids = inputs.iter().map(|input| input.uuid).collect();
    let documents = inputs.into_iter().map(|input| input.document).collect();
    Ok((uuids, documents))
}

/// The scoring input of one reviewer profile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReviewerInput {
    pub uuid: Uuid,
    pub document: ReviewerDocument,
    /// Every expertise entry of the profile, `basic` ones included.
    pub expertise: Vec<ExpertiseEntry>,
}

/// Profiles per query when loading reviewer inputs, far below the bind parameter limits of
/// SQLite (32766) and PostgreSQL (65535).
const PROFILES_PER_QUERY: usize = 1_000;

/// Loads the scoring input of the given reviewer profiles, ordered by profile UUID. Unknown
/// UUIDs are left out.
pub(crate) fn load_reviewer_inputs(
    connection: &mut AnyConnection,
    profile_uuids: &[Uuid],
) -> StoreResult<Vec<ReviewerInput>> {
    let mut sorted: Vec<Uuid> = profile_uuids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();

    let current_year = Utc::now().year();
    let mut inputs = Vec::with_capacity(sorted.len());
    for chunk in sorted.chunks(PROFILES_PER_QUERY) {
        let keys: Vec<DbUuid> = chunk.iter().copied().map(DbUuid).collect();
        let profiles: Vec<(DbUuid, String)> = reviewer_profiles::table
            .filter(reviewer_profiles::uuid.eq_any(&keys))
            .select((reviewer_profiles::uuid, reviewer_profiles::biography))
            .order(reviewer_profiles::uuid.asc())
            .load(connection)?;

        let expertise_rows: Vec<(DbUuid, String, Stored<ProficiencyLevel>)> =
            reviewer_expertise::table
                .filter(reviewer_expertise::profile_uuid.eq_any(&keys))
                .select((
                    reviewer_expertise::profile_uuid,
                    reviewer_expertise::expertise_keyword,
                    reviewer_expertise::proficiency_level,
                ))
                .order((
                    reviewer_expertise::profile_uuid.asc(),
                    reviewer_expertise::expertise_keyword.asc(),
                ))
                .load(connection)?;
        let mut expertise: HashMap<Uuid, Vec<ExpertiseEntry>> = HashMap::new();
        for (profile, keyword, proficiency) in expertise_rows {
            expertise
                .entry(profile.0)
                .or_default()
                .push(ExpertiseEntry {
                    keyword,
                    proficiency: proficiency.0,
                });
        }

        let publication_rows: Vec<(DbUuid, String, String, Option<i32>, bool)> =
            reviewer_publications::table
                .filter(reviewer_publications::profile_uuid.eq_any(&keys))
                .select((
                    reviewer_publications::profile_uuid,
                    reviewer_publications::title,
                    reviewer_publications::abstract_text,
                    reviewer_publications::publication_year,
                    reviewer_publications::is_excluded_from_matching,
                ))
                .order((
                    reviewer_publications::profile_uuid.asc(),
                    reviewer_publications::uuid.asc(),
                ))
                .load(connection)?;
        let mut publications: HashMap<Uuid, Vec<PublicationEntry>> = HashMap::new();
        for (profile, title, abstract_text, year, excluded_from_matching) in publication_rows {
            publications
                .entry(profile.0)
                .or_default()
                .push(PublicationEntry {
                    title,
                    abstract_text,
                    year,
                    excluded_from_matching,
                });
        }

        for (uuid, biography) in profiles {
            let own_expertise = expertise.remove(&uuid.0).unwrap_or_default();
            let document = ReviewerDocument::new(
                &own_expertise,
                publications.get(&uuid.0).map_or(&[], Vec::as_slice),
                &biography,
                current_year,
            );
            inputs.push(ReviewerInput {
                uuid: uuid.0,
                document,
                expertise: own_expertise,
            });
        }
    }
    Ok(inputs)
}

/// Loads the text of every proposal of the call, ordered by proposal UUID.
fn load_proposals(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<(Vec<Uuid>, Vec<String>)> {
    let rows: Vec<(DbUuid, String, String, String)> = proposals::table
        .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
        .select((
            proposals::uuid,
            proposals::name,
            proposals::project_summary,
            proposals::description,
        ))
        .order(proposals::uuid.asc())
        .load(connection)?;
    let uuids = rows.iter().map(|(uuid, ..)| uuid.0).collect();
    let texts = rows
        .iter()
        .map(|(_, name, summary, description)| affinity::proposal_text(name, summary, description))
        .collect();
    Ok((uuids, texts))
}

/// Upserts the scores in chunks; a pair that already has a row keeps its UUID and creation
/// time and gets the new scores.
fn store_scores(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    reviewer_uuids: &[Uuid],
    proposal_uuids: &[Uuid],
    scores: &[PairScore],
) -> StoreResult<()> {
    use reviewer_proposal_affinities as table;

    let at = DbTime(assignments::now());
    for chunk in scores.chunks(UPSERT_CHUNK_ROWS) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|score| {
                (
                    table::uuid.eq(DbUuid(Uuid::now_v7())),
                    table::call_uuid.eq(DbUuid(call_uuid)),
                    table::reviewer_uuid.eq(DbUuid(reviewer_uuids[score.reviewer])),
                    table::proposal_uuid.eq(DbUuid(proposal_uuids[score.proposal])),
                    table::affinity_score.eq(score.affinity),
                    table::keyword_score.eq(score.keyword),
                    table::text_score.eq(score.text),
                    table::created.eq(at),
                    table::modified.eq(at),
                )
            })
            .collect();
        let statement = diesel::insert_into(table::table)
            .values(rows)
            .on_conflict((table::call_uuid, table::reviewer_uuid, table::proposal_uuid))
            .do_update()
            .set((
                table::affinity_score.eq(excluded(table::affinity_score)),
                table::keyword_score.eq(excluded(table::keyword_score)),
                table::text_score.eq(excluded(table::text_score)),
                table::modified.eq(excluded(table::modified)),
            ));
        // The multi-backend connection has no upsert, so the statement runs on the driver's
        // own connection. Both PostgreSQL and SQLite accept INSERT … ON CONFLICT … DO UPDATE.
        match connection {
            AnyConnection::Postgresql(postgres) => statement.execute(postgres)?,
            AnyConnection::Sqlite(sqlite) => statement.execute(sqlite)?,
        };
    }
    Ok(())
}

/// Origin of a matrix row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixSource {
    /// A cached score of a reviewer of the call's pool.
    Pool,
    /// A score computed on request for a pending or confirmed suggestion.
    Suggestion,
}

/// Selection of rows in the affinity matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixScope {
    /// The cached scores of the call.
    Pool,
    /// Scores of the reviewers of the call's pending and confirmed suggestions for every
    /// proposal of the call, computed on request.
    Suggestions,
    /// Both.
    All,
}

/// Conflict-of-interest state of a (reviewer, proposal) pair in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairConflict {
    /// The oldest blocking (`pending` or `recused`) conflict recorded for the pair, by
    /// detection time, else its oldest conflict.
    Conflict {
        coi_type: CoiType,
        severity: CoiSeverity,
        status: CoiStatus,
    },
    /// Conflict detection evaluated the pair and found nothing.
    None,
    /// Conflict detection never evaluated the pair.
    Unknown,
}

/// One affinity with the names and the conflict state of its pair.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixRow {
    /// The cached score's UUID, or a random one for a computed score.
    pub uuid: Uuid,
    pub reviewer_uuid: Uuid,
    pub reviewer_name: String,
    pub proposal_uuid: Uuid,
    pub proposal_name: String,
    pub affinity_score: f64,
    pub keyword_score: Option<f64>,
    pub text_score: Option<f64>,
    pub conflict: PairConflict,
    pub source: MatrixSource,
}

/// An affinity joined with the reviewer's and the proposal's names, before its conflict state
/// is known.
#[derive(Queryable)]
struct ScoredPair {
    #[diesel(deserialize_as = DbUuid)]
    uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    reviewer_uuid: Uuid,
    reviewer_name: String,
    #[diesel(deserialize_as = DbUuid)]
    proposal_uuid: Uuid,
    proposal_name: String,
    affinity_score: f64,
    keyword_score: Option<f64>,
    text_score: Option<f64>,
}

/// Loads a visible call and checks that the actor reads its management data.
fn readable_call(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<Call> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    if !call.readable_by(actor) {
        return Err(DomainError::permission_denied(
            "Only staff, support, the call's managers and members of its organisation can read its affinity matrix.",
        )
        .into());
    }
    Ok(call)
}

/// Lists one page of the call's affinity matrix, highest affinity first, with the conflict
/// state of each pair.
///
/// The `Pool` scope pages the cached scores in SQL: a page costs the same five queries
/// whatever its size. The other scopes compute the suggestion scores for the whole call on
/// every request and page in memory. There, rows of equal affinity come pool rows first, then
/// by reviewer and proposal UUID.
///
/// Only conflicts recorded for the proposal count; a conflict with the whole call (no
/// proposal) does not mark the call's pairs.
pub fn affinity_matrix(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    scope: MatrixScope,
    page: PageRequest,
) -> StoreResult<Page<MatrixRow>> {
    readable_call(connection, actor, call_uuid)?;

    let (rows, total): (Vec<(ScoredPair, MatrixSource)>, i64) = match scope {
        MatrixScope::Pool => {
            let total = cached_count(connection, call_uuid)?;
            let rows = cached_rows(connection, call_uuid, Some(page))?
                .into_iter()
                .map(|row| (row, MatrixSource::Pool))
                .collect();
            (rows, total)
        }
        MatrixScope::Suggestions | MatrixScope::All => {
            let mut rows: Vec<(ScoredPair, MatrixSource)> = Vec::new();
            if scope == MatrixScope::All {
                rows.extend(
                    cached_rows(connection, call_uuid, None)?
                        .into_iter()
                        .map(|row| (row, MatrixSource::Pool)),
                );
            }
            rows.extend(
                suggestion_rows(connection, call_uuid)?
                    .into_iter()
                    .map(|row| (row, MatrixSource::Suggestion)),
            );
            rows.sort_by(|(left, left_source), (right, right_source)| {
                right
                    .affinity_score
                    .total_cmp(&left.affinity_score)
                    .then(
                        (*left_source == MatrixSource::Suggestion)
                            .cmp(&(*right_source == MatrixSource::Suggestion)),
                    )
                    .then(left.reviewer_uuid.cmp(&right.reviewer_uuid))
                    .then(left.proposal_uuid.cmp(&right.proposal_uuid))
            });
            let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
            let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
            let size = usize::try_from(page.page_size).unwrap_or(usize::MAX);
            let rows = rows.into_iter().skip(offset).take(size).collect();
            (rows, total)
        }
    };

    let pairs: Vec<(Uuid, Uuid)> = rows
        .iter()
        .map(|(row, _)| (row.reviewer_uuid, row.proposal_uuid))
        .collect();
    let conflicts = pair_conflicts(connection, call_uuid, &pairs)?;
    let rows = rows
        .into_iter()
        .map(|(row, source)| {
            let conflict = conflicts
                .get(&(row.reviewer_uuid, row.proposal_uuid))
                .copied()
                .unwrap_or(PairConflict::Unknown);
            MatrixRow {
                uuid: row.uuid,
                reviewer_uuid: row.reviewer_uuid,
                reviewer_name: row.reviewer_name,
                proposal_uuid: row.proposal_uuid,
                proposal_name: row.proposal_name,
                affinity_score: row.affinity_score,
                keyword_score: row.keyword_score,
                text_score: row.text_score,
                conflict,
                source,
            }
        })
        .collect();
    Ok(Page { rows, total })
}

fn cached_count(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<i64> {
    use reviewer_proposal_affinities as table;

    Ok(table::table
        .filter(table::call_uuid.eq(DbUuid(call_uuid)))
        .count()
        .get_result::<i64>(connection)?)
}

/// Loads the call's cached scores, highest first, one page of them or all.
fn cached_rows(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    page: Option<PageRequest>,
) -> StoreResult<Vec<ScoredPair>> {
    use reviewer_proposal_affinities as table;

    // NOTE: no index covers (call_uuid, affinity_score), so each page sorts the call's rows.
    let mut query = table::table
        .inner_join(reviewer_profiles::table.on(reviewer_profiles::uuid.eq(table::reviewer_uuid)))
        .inner_join(users::table.on(users::uuid.eq(reviewer_profiles::user_uuid)))
        .inner_join(proposals::table.on(proposals::uuid.eq(table::proposal_uuid)))
        .filter(table::call_uuid.eq(DbUuid(call_uuid)))
        .select((
            table::uuid,
            table::reviewer_uuid,
            users::full_name,
            table::proposal_uuid,
            proposals::name,
            table::affinity_score,
            table::keyword_score,
            table::text_score,
        ))
        .order((table::affinity_score.desc(), table::uuid.asc()))
        .into_boxed();
    if let Some(page) = page {
        query = query.offset(page.offset()).limit(page.page_size);
    }
    Ok(query.load(connection)?)
}

/// Scores the reviewers of the call's pending and confirmed suggestions against every proposal
/// of the call. The TF-IDF corpus is those reviewers and proposals; each row gets a random UUID.
fn suggestion_rows(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<Vec<ScoredPair>> {
    let suggested: Vec<(DbUuid, String)> = reviewer_suggestions::table
        .inner_join(
            reviewer_profiles::table
                .on(reviewer_profiles::uuid.eq(reviewer_suggestions::reviewer_uuid)),
        )
        .inner_join(users::table.on(users::uuid.eq(reviewer_profiles::user_uuid)))
        .filter(reviewer_suggestions::call_uuid.eq(DbUuid(call_uuid)))
        .filter(reviewer_suggestions::status.eq_any([
            SuggestionStatus::Pending.as_str(),
            SuggestionStatus::Confirmed.as_str(),
        ]))
        .select((reviewer_suggestions::reviewer_uuid, users::full_name))
        .load(connection)?;
    if suggested.is_empty() {
        return Ok(Vec::new());
    }
    let names: HashMap<Uuid, String> = suggested
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();
    let profile_uuids: Vec<Uuid> = names.keys().copied().collect();
    let reviewers = load_reviewer_inputs(connection, &profile_uuids)?;
    let (proposal_uuids, proposal_texts) = load_proposals(connection, call_uuid)?;
    let proposal_names: HashMap<Uuid, String> = proposals::table
        .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
        .select((proposals::uuid, proposals::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    let combination = combination_of(connection, call_uuid)?;
    let documents: Vec<ReviewerDocument> = reviewers
        .iter()
        .map(|reviewer| reviewer.document.clone())
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let scores = affinity::score_all(&documents, &proposal_texts, combination, threads);
    Ok(scores
        .into_iter()
        .map(|score| {
            let reviewer_uuid = reviewers[score.reviewer].uuid;
            let proposal_uuid = proposal_uuids[score.proposal];
            ScoredPair {
                uuid: Uuid::new_v4(),
                reviewer_uuid,
                reviewer_name: names.get(&reviewer_uuid).cloned().unwrap_or_default(),
                proposal_uuid,
                proposal_name: proposal_names
                    .get(&proposal_uuid)
                    .cloned()
                    .unwrap_or_default(),
                affinity_score: score.affinity,
                keyword_score: score.keyword,
                text_score: score.text,
            }
        })
        .collect())
}

/// Returns the call's rule for combining keyword and text scores: its matching configuration,
/// or the defaults without one.
pub(crate) fn combination_of(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<Combination> {
    Ok(match configs::matching_config(connection, call_uuid)? {
        Some(config) => Combination {
            method: config.affinity_method,
            keyword_weight: config.keyword_weight,
            text_weight: config.text_weight,
        },
        None => Combination::default(),
    })
}

/// Loads the conflict state of each (reviewer, proposal) pair that has a conflict or an
/// evaluation record. Pairs missing from the map were never evaluated.
pub(crate) fn pair_conflicts(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    pairs: &[(Uuid, Uuid)],
) -> StoreResult<HashMap<(Uuid, Uuid), PairConflict>> {
    let mut states = HashMap::new();
    if pairs.is_empty() {
        return Ok(states);
    }
    let wanted: HashSet<(Uuid, Uuid)> = pairs.iter().copied().collect();
    let reviewers: Vec<DbUuid> = unique(pairs.iter().map(|pair| pair.0));
    let proposal_keys: Vec<DbUuid> = unique(pairs.iter().map(|pair| pair.1));

    // The filter covers every combination of the given reviewers and proposals; only the
    // requested pairs are kept.
    let evaluated: Vec<(DbUuid, DbUuid)> = coi_evaluated_pairs::table
        .filter(coi_evaluated_pairs::call_uuid.eq(DbUuid(call_uuid)))
        .filter(coi_evaluated_pairs::reviewer_uuid.eq_any(&reviewers))
        .filter(coi_evaluated_pairs::proposal_uuid.eq_any(&proposal_keys))
        .select((
            coi_evaluated_pairs::reviewer_uuid,
            coi_evaluated_pairs::proposal_uuid,
        ))
        .load(connection)?;
    for (reviewer, proposal) in evaluated {
        let pair = (reviewer.0, proposal.0);
        if wanted.contains(&pair) {
            states.insert(pair, PairConflict::None);
        }
    }

    type ConflictRow = (
        DbUuid,
        DbUuid,
        Stored<CoiType>,
        Stored<CoiSeverity>,
        Stored<CoiStatus>,
    );
    let conflicts: Vec<ConflictRow> = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call_uuid)))
        .filter(conflicts_of_interest::reviewer_uuid.eq_any(&reviewers))
        .filter(conflicts_of_interest::proposal_uuid.eq_any(&proposal_keys))
        .select((
            conflicts_of_interest::reviewer_uuid,
            conflicts_of_interest::proposal_uuid.assume_not_null(),
            conflicts_of_interest::coi_type,
            conflicts_of_interest::severity,
            conflicts_of_interest::status,
        ))
        .order((
            conflicts_of_interest::detected_at.desc(),
            conflicts_of_interest::uuid.desc(),
        ))
        .load(connection)?;
    // Newest first, so a later row of the same kind is older. A blocking conflict wins over a
    // resolved one, because the pair must not read as cleared while one still blocks it.
    for (reviewer, proposal, coi_type, severity, status) in conflicts {
        let pair = (reviewer.0, proposal.0);
        if !wanted.contains(&pair) {
            continue;
        }
        let keeps_blocking = matches!(
            states.get(&pair),
            Some(PairConflict::Conflict { status: kept, .. }) if kept.is_blocking()
        );
        if keeps_blocking && !status.0.is_blocking() {
            continue;
        }
        states.insert(
            pair,
            PairConflict::Conflict {
                coi_type: coi_type.0,
                severity: severity.0,
                status: status.0,
            },
        );
    }
    Ok(states)
}

fn unique(uuids: impl Iterator<Item = Uuid>) -> Vec<DbUuid> {
    let set: HashSet<Uuid> = uuids.collect();
    set.into_iter().map(DbUuid).collect()
}
