//! Reviewer suggestions of a call (`/api/reviewer-suggestions/` and the call's
//! `generate-suggestions`, `suggestions` and `send-invitations` actions): generating them from
//! affinity scores, reviewing them, and turning confirmed ones into pool invitations.
//!
//! Candidates are published reviewer profiles of active users that are available for reviews,
//! have no entry in the call's pool (whatever its status, e-mail invitations of the profile's
//! user included) and were not suggested for the call before. Each call suggests a reviewer at
//! most once. The table's unique (call, reviewer) index enforces this under concurrent
//! generation, and the losing insert is skipped. Every status change is written to the audit
//! log.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::num::NonZeroUsize;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::affinity::proposal_text;
use referee_domain::enums::{CallRole, KeywordSearchMode, SuggestionSource, SuggestionStatus};
use referee_domain::suggestion::{self, Candidate, CandidateScore, Target};
use referee_domain::{Actor, DomainError};
use serde_json::json;
use uuid::Uuid;

use crate::affinity::{self, PairConflict};
use crate::audit::{self, AuditEntry};
use crate::calls::{self, Call};
use crate::configs;
use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::pool;
use crate::profiles;
use crate::schema::{
    call_reviewer_pools, calls as calls_table, proposals, reviewer_profiles, reviewer_suggestions,
    users,
};
use crate::sql_functions::lower;
use crate::sql_types::{DbTime, DbUuid, MaybeTime, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;

/// A reviewer suggested for a call.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Suggestion {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    /// The reviewer profile.
    #[diesel(deserialize_as = DbUuid)]
    pub reviewer_uuid: Uuid,
    pub affinity_score: f64,
    pub keyword_score: Option<f64>,
    pub text_score: Option<f64>,
    #[diesel(deserialize_as = Stored<SuggestionStatus>)]
    pub status: SuggestionStatus,
    #[diesel(deserialize_as = MaybeUuid)]
    pub reviewed_by_uuid: Option<Uuid>,
    #[diesel(deserialize_as = MaybeTime)]
    pub reviewed_at: Option<DateTime<Utc>>,
    pub rejection_reason: String,
    /// JSON array of strings.
    pub matched_keywords: String,
    /// JSON array of [`StoredProposal`] objects.
    pub top_matching_proposals: String,
    #[diesel(deserialize_as = Stored<SuggestionSource>)]
    pub source_type: SuggestionSource,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// One best-matching proposal as stored with a suggestion: a snapshot taken at generation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct StoredProposal {
    uuid: Uuid,
    name: String,
    slug: String,
    affinity: f64,
    keyword_score: Option<f64>,
    text_score: Option<f64>,
}

/// One best-matching proposal of a suggestion with the current conflict state of the pair.
#[derive(Debug, Clone, PartialEq)]
pub struct TopProposal {
    pub uuid: Uuid,
    pub name: String,
    pub slug: String,
    pub affinity: f64,
    pub keyword_score: Option<f64>,
    pub text_score: Option<f64>,
    pub conflict: PairConflict,
}

/// A suggestion with the names and details its representation shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestionView {
    pub suggestion: Suggestion,
    pub call_name: String,
    pub reviewer_name: String,
    pub reviewer_email: String,
    pub reviewer_biography: String,
    /// Full name of the user who confirmed or rejected it.
    pub reviewed_by_name: Option<String>,
    pub matched_keywords: Vec<String>,
    /// Best first.
    pub top_matching_proposals: Vec<TopProposal>,
}

/// Fields a suggestion list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionOrder {
    AffinityScore,
    Created,
    Status,
    ReviewedAt,
}

/// Filters of the suggestion list.
#[derive(Debug, Clone, Default)]
pub struct SuggestionFilter {
    pub call_uuid: Option<Uuid>,
    /// The reviewer profile.
    pub reviewer_uuid: Option<Uuid>,
    /// Any of these statuses, or every status when empty.
    pub statuses: Vec<SuggestionStatus>,
    /// Only suggestions whose affinity is at least this.
    pub min_affinity_score: Option<f64>,
}

/// Source and threshold of one generation run.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateRequest {
    pub source: SuggestionSource,
    /// Proposals of the call for `selected_proposals`; others are ignored.
    pub proposal_uuids: Vec<Uuid>,
    /// Keywords for `custom_keywords`.
    pub keywords: Vec<String>,
    pub keyword_search_mode: KeywordSearchMode,
    /// Minimum affinity from 0 to 1; the call's matching configuration decides when `None`.
    pub min_affinity_threshold: Option<f64>,
}

impl Default for GenerateRequest {
    fn default() -> Self {
        Self {
            source: SuggestionSource::AllProposals,
            proposal_uuids: Vec::new(),
            keywords: Vec::new(),
            keyword_search_mode: KeywordSearchMode::ExpertiseOnly,
            min_affinity_threshold: None,
        }
    }
}

/// Outcome of generating suggestions.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub suggestions_created: usize,
    /// Candidates scored; 0 when there was nothing to score them against.
    pub reviewers_evaluated: usize,
    /// The source scored against: `call_description` when `all_proposals` found no proposal.
    pub source_used: SuggestionSource,
    /// The created suggestions, highest affinity first.
    pub suggestions: Vec<SuggestionView>,
}

/// Suggestions of calls on which the actor has a role or whose organisation the actor belongs
/// to. Staff and support see every suggestion. Being suggested gives a reviewer no access.
fn visible(actor: &Actor) -> reviewer_suggestions::BoxedQuery<'static, MultiBackend> {
    let query = reviewer_suggestions::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }
    let call_uuids: Vec<DbUuid> = actor.call_uuids().into_iter().map(DbUuid).collect();
    let customer_uuids: Vec<DbUuid> = actor.customer_uuids().into_iter().map(DbUuid).collect();
    let readable_calls = calls_table::table
        .filter(
            calls_table::uuid
                .eq_any(call_uuids)
                .or(calls_table::customer_uuid.eq_any(customer_uuids)),
        )
        .select(calls_table::uuid);
    query.filter(reviewer_suggestions::call_uuid.eq_any(readable_calls))
}

fn filtered(
    actor: &Actor,
    filter: &SuggestionFilter,
) -> reviewer_suggestions::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(actor);
    if let Some(call_uuid) = filter.call_uuid {
        query = query.filter(reviewer_suggestions::call_uuid.eq(DbUuid(call_uuid)));
    }
    if let Some(reviewer_uuid) = filter.reviewer_uuid {
        query = query.filter(reviewer_suggestions::reviewer_uuid.eq(DbUuid(reviewer_uuid)));
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&'static str> = filter
            .statuses
            .iter()
            .map(|status| status.as_str())
            .collect();
        query = query.filter(reviewer_suggestions::status.eq_any(statuses));
    }
    if let Some(minimum) = filter.min_affinity_score {
        query = query.filter(reviewer_suggestions::affinity_score.ge(minimum));
    }
    query
}

/// Lists suggestions visible to the actor, highest affinity first unless ordered otherwise.
pub fn list_suggestions(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &SuggestionFilter,
    order: &[SortKey<SuggestionOrder>],
    page: PageRequest,
) -> StoreResult<Page<SuggestionView>> {
    use reviewer_suggestions as table;

    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(table::affinity_score.desc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (SuggestionOrder::AffinityScore, false) => {
                query.then_order_by(table::affinity_score.asc())
            }
            (SuggestionOrder::AffinityScore, true) => {
                query.then_order_by(table::affinity_score.desc())
            }
            (SuggestionOrder::Created, false) => query.then_order_by(table::created.asc()),
            (SuggestionOrder::Created, true) => query.then_order_by(table::created.desc()),
            (SuggestionOrder::Status, false) => query.then_order_by(table::status.asc()),
            (SuggestionOrder::Status, true) => query.then_order_by(table::status.desc()),
            // Unreviewed suggestions come last ascending and first descending on both backends.
            (SuggestionOrder::ReviewedAt, false) => query
                .then_order_by(table::reviewed_at.is_null().asc())
                .then_order_by(table::reviewed_at.asc()),
            (SuggestionOrder::ReviewedAt, true) => query
                .then_order_by(table::reviewed_at.is_null().desc())
                .then_order_by(table::reviewed_at.desc()),
        };
    }
    let rows = query
        .then_order_by(table::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Suggestion>(connection)?;
    Ok(Page {
        rows: views(connection, rows)?,
        total,
    })
}

/// Finds a suggestion visible to the actor; others are reported as not found.
fn find_visible(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Suggestion> {
    visible(actor)
        .filter(reviewer_suggestions::uuid.eq(DbUuid(uuid)))
        .first::<Suggestion>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("reviewer suggestion").into())
}

/// Finds a suggestion visible to the actor with its details.
pub fn find_visible_suggestion_view(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<SuggestionView> {
    let suggestion = find_visible(connection, actor, uuid)?;
    view(connection, suggestion)
}

fn get_suggestion(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Suggestion> {
    reviewer_suggestions::table
        .find(DbUuid(uuid))
        .first::<Suggestion>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("reviewer suggestion").into())
}

/// Lists every suggestion of a call, highest affinity first (not paginated); the actor must
/// read the call's management data.
pub fn list_call_suggestions(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    statuses: &[SuggestionStatus],
) -> StoreResult<Vec<SuggestionView>> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    if !call.readable_by(actor) {
        return Err(DomainError::permission_denied(
            "Only staff, support, the call's managers and members of its organisation can read its reviewer suggestions.",
        )
        .into());
    }
    let mut query = reviewer_suggestions::table
        .filter(reviewer_suggestions::call_uuid.eq(DbUuid(call_uuid)))
        .into_boxed();
    if !statuses.is_empty() {
        let statuses: Vec<&'static str> = statuses.iter().map(|status| status.as_str()).collect();
        query = query.filter(reviewer_suggestions::status.eq_any(statuses));
    }
    let rows = query
        .order((
            reviewer_suggestions::affinity_score.desc(),
            reviewer_suggestions::uuid.asc(),
        ))
        .load::<Suggestion>(connection)?;
    views(connection, rows)
}

fn view(connection: &mut AnyConnection, suggestion: Suggestion) -> StoreResult<SuggestionView> {
    Ok(views(connection, vec![suggestion])?.remove(0))
}

/// Loads the names, profile details and conflict states of a page of suggestions with a fixed
/// number of queries per call on the page.
fn views(
    connection: &mut AnyConnection,
    suggestions: Vec<Suggestion>,
) -> StoreResult<Vec<SuggestionView>> {
    if suggestions.is_empty() {
        return Ok(Vec::new());
    }

    let call_uuids: BTreeSet<Uuid> = suggestions.iter().map(|row| row.call_uuid).collect();
    let call_names: HashMap<Uuid, String> = calls_table::table
        .filter(
            calls_table::uuid.eq_any(call_uuids.iter().copied().map(DbUuid).collect::<Vec<_>>()),
        )
        .select((calls_table::uuid, calls_table::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    let profile_uuids: Vec<DbUuid> = suggestions
        .iter()
        .map(|row| DbUuid(row.reviewer_uuid))
        .collect();
    let reviewers: HashMap<Uuid, (String, String, String)> = reviewer_profiles::table
        .inner_join(users::table)
        .filter(reviewer_profiles::uuid.eq_any(&profile_uuids))
        .select((
            reviewer_profiles::uuid,
            users::full_name,
            users::email,
            reviewer_profiles::biography,
        ))
        .load::<(DbUuid, String, String, String)>(connection)?
        .into_iter()
        .map(|(uuid, name, email, biography)| (uuid.0, (name, email, biography)))
        .collect();

    let reviewer_users: Vec<DbUuid> = suggestions
        .iter()
        .filter_map(|row| row.reviewed_by_uuid.map(DbUuid))
        .collect();
    let reviewed_by: HashMap<Uuid, String> = users::table
        .filter(users::uuid.eq_any(reviewer_users))
        .select((users::uuid, users::full_name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    let stored: Vec<Vec<StoredProposal>> = suggestions
        .iter()
        .map(|row| serde_json::from_str(&row.top_matching_proposals).unwrap_or_default())
        .collect();
    let mut conflicts: HashMap<Uuid, HashMap<(Uuid, Uuid), PairConflict>> = HashMap::new();
    for call_uuid in &call_uuids {
        let pairs: Vec<(Uuid, Uuid)> = suggestions
            .iter()
            .zip(&stored)
            .filter(|(row, _)| row.call_uuid == *call_uuid)
            .flat_map(|(row, top)| {
                top.iter()
                    .map(|proposal| (row.reviewer_uuid, proposal.uuid))
            })
            .collect();
        conflicts.insert(
            *call_uuid,
            affinity::pair_conflicts(connection, *call_uuid, &pairs)?,
        );
    }

    Ok(suggestions
        .into_iter()
        .zip(stored)
        .map(|(suggestion, top)| {
            let (reviewer_name, reviewer_email, reviewer_biography) = reviewers
                .get(&suggestion.reviewer_uuid)
                .cloned()
                .unwrap_or_default();
            let call_conflicts = conflicts.get(&suggestion.call_uuid);
            let top_matching_proposals = top
                .into_iter()
                .map(|proposal| TopProposal {
                    conflict: call_conflicts
                        .and_then(|states| states.get(&(suggestion.reviewer_uuid, proposal.uuid)))
                        .copied()
                        .unwrap_or(PairConflict::Unknown),
                    uuid: proposal.uuid,
                    name: proposal.name,
                    slug: proposal.slug,
                    affinity: proposal.affinity,
                    keyword_score: proposal.keyword_score,
                    text_score: proposal.text_score,
                })
                .collect();
            SuggestionView {
                call_name: call_names
                    .get(&suggestion.call_uuid)
                    .cloned()
                    .unwrap_or_default(),
                reviewer_name,
                reviewer_email,
                reviewer_biography,
                reviewed_by_name: suggestion
                    .reviewed_by_uuid
                    .and_then(|uuid| reviewed_by.get(&uuid).cloned()),
                matched_keywords: serde_json::from_str(&suggestion.matched_keywords)
                    .unwrap_or_default(),
                top_matching_proposals,
                suggestion,
            }
        })
        .collect())
}

/// Returns whether the actor may confirm or reject the call's suggestions: staff, a manager of
/// the call, or anyone with a role on the organisation that manages it.
fn reviews_suggestions(actor: &Actor, call: &Call) -> bool {
    actor.is_staff
        || actor.has_call_role(call.uuid, CallRole::Manager)
        || actor.customer_role(call.customer_uuid).is_some()
}

/// Records a suggestion's state change in the audit log.
fn audit_suggestion(
    connection: &mut AnyConnection,
    suggestion: &Suggestion,
    action: &'static str,
    actor: &Actor,
    reason: &str,
    before: Option<SuggestionStatus>,
    after: Option<SuggestionStatus>,
) -> StoreResult<()> {
    let state = |status: SuggestionStatus| {
        json!({
            "status": status.as_str(),
            "reviewer_uuid": suggestion.reviewer_uuid.simple().to_string(),
            "affinity_score": suggestion.affinity_score,
        })
    };
    audit::record(
        connection,
        AuditEntry {
            call_uuid: Some(suggestion.call_uuid),
            object_type: "suggestion",
            object_uuid: suggestion.uuid,
            action,
            actor: Some(actor),
            reason,
            before: before.map(state),
            after: after.map(state),
        },
    )
}

/// Moves a pending suggestion to `confirmed` or `rejected`, stamping the reviewer and time.
fn decide(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    status: SuggestionStatus,
    reason: &str,
) -> StoreResult<SuggestionView> {
    let (verb, action) = match status {
        SuggestionStatus::Confirmed => ("confirmed", "suggestion.confirmed"),
        _ => ("rejected", "suggestion.rejected"),
    };
    write_transaction(connection, |connection| {
        let suggestion = find_visible(connection, actor, uuid)?;
        let call = calls::get_call(connection, suggestion.call_uuid)?;
        if !reviews_suggestions(actor, &call) {
            return Err(DomainError::permission_denied(
                "Only staff, the call's managers and members of its organisation can confirm or reject its reviewer suggestions.",
            )
            .into());
        }
        let not_pending = |current: SuggestionStatus| {
            DomainError::invalid_state(
                "suggestion_not_pending",
                format!(
                    "Only pending suggestions can be {verb}; this suggestion is already {current}. Delete it and generate suggestions again to review the reviewer anew."
                ),
            )
        };
        if suggestion.status != SuggestionStatus::Pending {
            return Err(not_pending(suggestion.status).into());
        }

        let at = DbTime::from(Utc::now());
        let updated = diesel::update(
            reviewer_suggestions::table
                .filter(reviewer_suggestions::uuid.eq(DbUuid(uuid)))
                .filter(reviewer_suggestions::status.eq(SuggestionStatus::Pending.as_str())),
        )
        .set((
            reviewer_suggestions::status.eq(status.as_str()),
            reviewer_suggestions::reviewed_by_uuid.eq(Some(DbUuid(actor.user_uuid))),
            reviewer_suggestions::reviewed_at.eq(Some(at)),
            reviewer_suggestions::rejection_reason.eq(reason),
            reviewer_suggestions::modified.eq(at),
        ))
        .execute(connection)?;
        if updated != 1 {
            let current = get_suggestion(connection, uuid)?;
            return Err(not_pending(current.status).into());
        }

        let changed = get_suggestion(connection, uuid)?;
        audit_suggestion(
            connection,
            &changed,
            action,
            actor,
            reason,
            Some(SuggestionStatus::Pending),
            Some(status),
        )?;
        tracing::info!(suggestion.uuid = %uuid.simple(), suggestion.status = status.as_str(), "reviewer suggestion reviewed");
        view(connection, changed)
    })
}

/// Confirms a pending suggestion, so that `send-invitations` invites the reviewer.
pub fn confirm_suggestion(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<SuggestionView> {
    decide(connection, actor, uuid, SuggestionStatus::Confirmed, "")
}

/// Rejects a pending suggestion with an optional reason.
pub fn reject_suggestion(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    reason: &str,
) -> StoreResult<SuggestionView> {
    decide(connection, actor, uuid, SuggestionStatus::Rejected, reason)
}

/// Deletes a suggestion in any status (managers of the call). The reviewer can then be
/// suggested for the call again.
pub fn delete_suggestion(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let suggestion = find_visible(connection, actor, uuid)?;
        let call = calls::get_call(connection, suggestion.call_uuid)?;
        call.require_manager(actor)?;
        let deleted =
            diesel::delete(reviewer_suggestions::table.find(DbUuid(uuid))).execute(connection)?;
        if deleted != 1 {
            return Err(DomainError::not_found("reviewer suggestion").into());
        }
        audit_suggestion(
            connection,
            &suggestion,
            "suggestion.deleted",
            actor,
            "",
            Some(suggestion.status),
            None,
        )?;
        tracing::info!(suggestion.uuid = %uuid.simple(), "reviewer suggestion deleted");
        Ok(())
    })
}

/// A proposal of the call with its text.
struct ProposalInput {
    uuid: Uuid,
    name: String,
    slug: String,
    text: String,
}

fn load_proposals(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    only: Option<&[Uuid]>,
) -> StoreResult<Vec<ProposalInput>> {
    let mut query = proposals::table
        .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
        .select((
            proposals::uuid,
            proposals::name,
            proposals::slug,
            proposals::project_summary,
            proposals::description,
        ))
        .order(proposals::uuid.asc())
        .into_boxed();
    if let Some(uuids) = only {
        let keys: Vec<DbUuid> = uuids.iter().copied().map(DbUuid).collect();
        query = query.filter(proposals::uuid.eq_any(keys));
    }
    Ok(query
        .load::<(DbUuid, String, String, String, String)>(connection)?
        .into_iter()
        .map(|(uuid, name, slug, summary, description)| ProposalInput {
            text: proposal_text(&name, &summary, &description),
            uuid: uuid.0,
            name,
            slug,
        })
        .collect())
}

/// Profiles the call may not be suggested again: those with a pool entry of the call (bound to
/// the profile, or an e-mail invitation of its user) and those already suggested.
fn excluded_profiles(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<HashSet<Uuid>> {
    let entries: Vec<(Option<DbUuid>, Option<DbUuid>, String)> = call_reviewer_pools::table
        .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
        .select((
            call_reviewer_pools::reviewer_uuid,
            call_reviewer_pools::invited_user_uuid,
            lower(call_reviewer_pools::invited_email),
        ))
        .load(connection)?;
    let mut excluded: HashSet<Uuid> = entries
        .iter()
        .filter_map(|(profile, _, _)| profile.map(|uuid| uuid.0))
        .collect();

    let invited_users: Vec<DbUuid> = entries.iter().filter_map(|(_, user, _)| *user).collect();
    let invited_emails: Vec<String> = entries
        .iter()
        .map(|(_, _, email)| email.clone())
        .filter(|email| !email.is_empty())
        .collect();
    if !invited_users.is_empty() || !invited_emails.is_empty() {
        let by_user_or_email: Vec<DbUuid> = reviewer_profiles::table
            .inner_join(users::table)
            .filter(
                users::uuid
                    .eq_any(invited_users)
                    .or(lower(users::email).eq_any(invited_emails)),
            )
            .select(reviewer_profiles::uuid)
            .load(connection)?;
        excluded.extend(by_user_or_email.into_iter().map(|uuid| uuid.0));
    }

    let suggested: Vec<DbUuid> = reviewer_suggestions::table
        .filter(reviewer_suggestions::call_uuid.eq(DbUuid(call_uuid)))
        .select(reviewer_suggestions::reviewer_uuid)
        .load(connection)?;
    excluded.extend(suggested.into_iter().map(|uuid| uuid.0));
    Ok(excluded)
}

/// Published profiles of active users that are available for reviews and not excluded for the
/// call, ordered by profile UUID.
fn candidate_profiles(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<Vec<Uuid>> {
    let excluded = excluded_profiles(connection, call_uuid)?;
    let available: Vec<DbUuid> = reviewer_profiles::table
        .inner_join(users::table)
        .filter(reviewer_profiles::is_published.eq(true))
        .filter(reviewer_profiles::available_for_reviews.eq(true))
        .filter(users::is_active.eq(true))
        .select(reviewer_profiles::uuid)
        .order(reviewer_profiles::uuid.asc())
        .load(connection)?;
    Ok(available
        .into_iter()
        .map(|uuid| uuid.0)
        .filter(|uuid| !excluded.contains(uuid))
        .collect())
}

/// Inserts a pending suggestion unless the call already suggests the reviewer; returns whether
/// it inserted one. The statement runs on the driver's own connection, because the
/// multi-backend connection has no `ON CONFLICT`.
fn insert_suggestion(
    connection: &mut AnyConnection,
    uuid: Uuid,
    call_uuid: Uuid,
    reviewer_uuid: Uuid,
    score: &CandidateScore,
    top: &[StoredProposal],
    source: SuggestionSource,
) -> StoreResult<bool> {
    use reviewer_suggestions as table;

    let at = DbTime::from(Utc::now());
    let matched = serde_json::to_string(&score.matched_keywords).unwrap_or_else(|_| "[]".into());
    let top = serde_json::to_string(top).unwrap_or_else(|_| "[]".into());
    let statement = diesel::insert_into(table::table)
        .values((
            table::uuid.eq(DbUuid(uuid)),
            table::call_uuid.eq(DbUuid(call_uuid)),
            table::reviewer_uuid.eq(DbUuid(reviewer_uuid)),
            table::affinity_score.eq(score.affinity),
            table::keyword_score.eq(score.keyword),
            table::text_score.eq(score.text),
            table::status.eq(SuggestionStatus::Pending.as_str()),
            table::rejection_reason.eq(""),
            table::matched_keywords.eq(matched),
            table::top_matching_proposals.eq(top),
            table::source_type.eq(source.as_str()),
            table::created.eq(at),
            table::modified.eq(at),
        ))
        .on_conflict((table::call_uuid, table::reviewer_uuid))
        .do_nothing();
    let inserted = match connection {
        AnyConnection::Postgresql(postgres) => statement.execute(postgres)?,
        AnyConnection::Sqlite(sqlite) => statement.execute(sqlite)?,
    };
    Ok(inserted == 1)
}

/// Scores the call's candidates against the requested source and stores a pending suggestion
/// for each candidate at or above the threshold (managers of the call).
///
/// The threshold is the request's, else the call's `min_affinity_threshold`, else 0.1. The
/// call's matching configuration sets how keyword and text scores combine. Scoring runs
/// outside the write transaction; the transaction checks the exclusions again, so a reviewer
/// who joined the pool or was suggested meanwhile is skipped.
pub fn generate_suggestions(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    request: &GenerateRequest,
) -> StoreResult<Generated> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    call.require_manager(actor)?;

    let threshold = match request.min_affinity_threshold {
        Some(threshold) => threshold,
        None => configs::matching_config(connection, call_uuid)?
            .map_or(suggestion::DEFAULT_THRESHOLD, |config| {
                config.min_affinity_threshold
            }),
    };
    let combination = affinity::combination_of(connection, call_uuid)?;

    let mut source = request.source;
    let proposals = match source {
        SuggestionSource::AllProposals => load_proposals(connection, call_uuid, None)?,
        SuggestionSource::SelectedProposals => {
            load_proposals(connection, call_uuid, Some(&request.proposal_uuids))?
        }
        SuggestionSource::CallDescription | SuggestionSource::CustomKeywords => Vec::new(),
    };
    if source == SuggestionSource::AllProposals && proposals.is_empty() {
        source = SuggestionSource::CallDescription;
    }
    let proposal_texts: Vec<String> = proposals
        .iter()
        .map(|proposal| proposal.text.clone())
        .collect();
    let call_text = format!("{} {}", call.name, call.description);
    let keyword_text = request.keywords.join(" ");
    let target = match (source, request.keyword_search_mode) {
        (SuggestionSource::AllProposals | SuggestionSource::SelectedProposals, _) => {
            Target::Proposals(&proposal_texts)
        }
        (SuggestionSource::CallDescription, _) => Target::Text(&call_text),
        (SuggestionSource::CustomKeywords, KeywordSearchMode::ExpertiseOnly) => {
            Target::ExpertiseKeywords(&request.keywords)
        }
        (SuggestionSource::CustomKeywords, KeywordSearchMode::FullText) => {
            Target::Text(&keyword_text)
        }
    };
    let nothing_to_score = match target {
        Target::Proposals(texts) => texts.is_empty(),
        Target::Text(text) => referee_domain::affinity::tokenize(text).is_empty(),
        Target::ExpertiseKeywords(keywords) => keywords.is_empty(),
    };

    let candidate_uuids = if nothing_to_score {
        Vec::new()
    } else {
        candidate_profiles(connection, call_uuid)?
    };
    let inputs = affinity::load_reviewer_inputs(connection, &candidate_uuids)?;
    let candidates: Vec<Candidate> = inputs
        .iter()
        .map(|input| Candidate {
            document: input.document.clone(),
            expertise: input.expertise.clone(),
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let started = std::time::Instant::now();
    let scores = suggestion::suggest(&candidates, target, combination, threshold, threads);
    tracing::info!(
        call.uuid = %call_uuid.simple(),
        source = source.as_str(),
        candidates = candidates.len(),
        suggested = scores.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "scored reviewer suggestion candidates"
    );

    let created = write_transaction(connection, |connection| {
        let excluded = excluded_profiles(connection, call_uuid)?;
        let mut created = Vec::new();
        for score in &scores {
            let reviewer_uuid = inputs[score.candidate].uuid;
            if excluded.contains(&reviewer_uuid) {
                continue;
            }
            let top: Vec<StoredProposal> = score
                .top_proposals
                .iter()
                .map(|found| {
                    let proposal = &proposals[found.proposal];
                    StoredProposal {
                        uuid: proposal.uuid,
                        name: proposal.name.clone(),
                        slug: proposal.slug.clone(),
                        affinity: found.affinity,
                        keyword_score: found.keyword,
                        text_score: found.text,
                    }
                })
                .collect();
            let uuid = Uuid::now_v7();
            if !insert_suggestion(
                connection,
                uuid,
                call_uuid,
                reviewer_uuid,
                score,
                &top,
                source,
            )? {
                continue;
            }
            let suggestion = get_suggestion(connection, uuid)?;
            audit_suggestion(
                connection,
                &suggestion,
                "suggestion.created",
                actor,
                &format!("Generated from source {}.", source.as_str()),
                None,
                Some(SuggestionStatus::Pending),
            )?;
            created.push(suggestion);
        }
        Ok(created)
    })?;
    tracing::info!(call.uuid = %call_uuid.simple(), created = created.len(), "reviewer suggestions generated");

    Ok(Generated {
        suggestions_created: created.len(),
        reviewers_evaluated: candidates.len(),
        source_used: source,
        suggestions: views(connection, created)?,
    })
}

/// Invites the reviewer of every confirmed suggestion of the call to its pool and marks the
/// suggestions `invited` (managers of the call). Returns the number of pool invitations
/// created.
///
/// Each new pending pool entry gets the suggestion's affinity as `expertise_match_score` and
/// the default workload limit, and the reviewer gets the usual invitation e-mail. A reviewer
/// already in the pool is not invited again, but the suggestion still becomes `invited`. Each
/// suggestion moves from `confirmed` to `invited` with a conditional update before its
/// invitation is created, so a repeated or concurrent call never invites twice.
pub fn send_invitations(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<usize> {
    write_transaction(connection, |connection| {
        let call = calls::find_visible_call(connection, actor, call_uuid)?;
        call.require_manager(actor)?;

        let confirmed: Vec<Suggestion> = reviewer_suggestions::table
            .filter(reviewer_suggestions::call_uuid.eq(DbUuid(call_uuid)))
            .filter(reviewer_suggestions::status.eq(SuggestionStatus::Confirmed.as_str()))
            .order((
                reviewer_suggestions::affinity_score.desc(),
                reviewer_suggestions::uuid.asc(),
            ))
            .load(connection)?;

        let mut sent = 0;
        for suggestion in confirmed {
            // A reviewer who unpublished the profile or stopped taking reviews after the
            // confirmation is not invited; the suggestion stays confirmed for a later run.
            let profile = profiles::get_profile(connection, suggestion.reviewer_uuid)?;
            if !(profile.is_published && profile.available_for_reviews) {
                tracing::info!(
                    suggestion.uuid = %suggestion.uuid.simple(),
                    reviewer.uuid = %suggestion.reviewer_uuid.simple(),
                    "confirmed suggestion not invited: the profile is unpublished or unavailable"
                );
                continue;
            }
            let claimed = diesel::update(
                reviewer_suggestions::table
                    .filter(reviewer_suggestions::uuid.eq(DbUuid(suggestion.uuid)))
                    .filter(reviewer_suggestions::status.eq(SuggestionStatus::Confirmed.as_str())),
            )
            .set((
                reviewer_suggestions::status.eq(SuggestionStatus::Invited.as_str()),
                reviewer_suggestions::modified.eq(DbTime::from(Utc::now())),
            ))
            .execute(connection)?;
            if claimed != 1 {
                continue;
            }

            let invited = pool::invite_profile(
                connection,
                actor,
                call_uuid,
                &profile,
                pool::DEFAULT_MAX_ASSIGNMENTS,
                Some(suggestion.affinity_score),
                &format!(
                    "Invited from reviewer suggestion {}.",
                    suggestion.uuid.simple()
                ),
            )?;
            let reason = match &invited {
                Some(entry) => format!("Pool invitation {} created.", entry.uuid.simple()),
                None => "The reviewer is already in the call's pool; no invitation was created."
                    .to_owned(),
            };
            if invited.is_some() {
                sent += 1;
            }
            audit_suggestion(
                connection,
                &suggestion,
                "suggestion.invited",
                actor,
                &reason,
                Some(SuggestionStatus::Confirmed),
                Some(SuggestionStatus::Invited),
            )?;
        }
        tracing::info!(call.uuid = %call_uuid.simple(), invitations = sent, "reviewer suggestions invited");
        Ok(sent)
    })
}
