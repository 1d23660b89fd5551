//! Conflicts of interest (`/api/conflicts-of-interest/` and the call's conflict views): who
//! sees them, how managers record and review them, and how a decision blocks or unblocks the
//! reviewer's assignment items.
//!
//! A conflict with status `pending` or `recused` blocks its reviewer on its proposal, or on
//! every proposal of the call when it names no proposal. Recusing blocks the reviewer's
//! pending and accepted items and rejects their reviews; dismissing or waiving returns the
//! blocked items to `pending` unless another linked conflict still blocks them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::enums::{
    CoiSeverity, CoiStatus, CoiType, DetectionMethod, ItemStatus, ReviewState,
};
use referee_domain::{Actor, DomainError};
use serde_json::json;
use uuid::Uuid;

use crate::assignments::{self, Item, Review};
use crate::audit::{self, AuditEntry};
use crate::calls::{self, Call};
use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{
    assignment_item_conflicts, assignment_items, call_reviewer_pools, calls as calls_table,
    conflicts_of_interest, customers, proposal_reviews, proposals, reviewer_profiles, rounds,
    users,
};
use crate::sql_functions::{contains_pattern, lower};
use crate::sql_types::{DbTime, DbUuid, MaybeTime, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;

/// A conflict of interest between a reviewer and a proposal, or the whole call.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Conflict {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    /// The reviewer profile.
    #[diesel(deserialize_as = DbUuid)]
    pub reviewer_uuid: Uuid,
    /// `None` for a conflict with the whole call.
    #[diesel(deserialize_as = MaybeUuid)]
    pub proposal_uuid: Option<Uuid>,
    #[diesel(deserialize_as = MaybeUuid)]
    pub conflicting_user_uuid: Option<Uuid>,
    #[diesel(deserialize_as = MaybeUuid)]
    pub conflicting_organization_uuid: Option<Uuid>,
    #[diesel(deserialize_as = Stored<CoiType>)]
    pub coi_type: CoiType,
    #[diesel(deserialize_as = Stored<CoiSeverity>)]
    pub severity: CoiSeverity,
    #[diesel(deserialize_as = Stored<DetectionMethod>)]
    pub detection_method: DetectionMethod,
    #[diesel(deserialize_as = DbTime)]
    pub detected_at: DateTime<Utc>,
    pub evidence_description: String,
    /// A JSON object.
    pub evidence_data: String,
    #[diesel(deserialize_as = Stored<CoiStatus>)]
    pub status: CoiStatus,
    #[diesel(deserialize_as = MaybeUuid)]
    pub reviewed_by_uuid: Option<Uuid>,
    #[diesel(deserialize_as = MaybeTime)]
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_notes: String,
    pub management_plan: String,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// A conflict with the names its representation shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictView {
    pub conflict: Conflict,
    pub reviewer_name: Option<String>,
    pub proposal_name: Option<String>,
    pub round_uuid: Option<Uuid>,
    pub round_name: Option<String>,
    pub call_name: String,
    pub conflicting_user_name: Option<String>,
    pub conflicting_organization_name: Option<String>,
    pub reviewed_by_name: Option<String>,
}

/// Fields a conflict list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictOrder {
    DetectedAt,
    Severity,
    Status,
    Created,
}

/// Filters of the conflict list.
#[derive(Debug, Clone, Default)]
pub struct ConflictFilter {
    pub call_uuid: Option<Uuid>,
    pub proposal_uuid: Option<Uuid>,
    pub round_uuid: Option<Uuid>,
    /// The reviewer profile.
    pub reviewer_uuid: Option<Uuid>,
    /// Case-insensitive substring of the reviewer's full name.
    pub reviewer_name: Option<String>,
    pub coi_types: Vec<CoiType>,
    pub severity: Option<CoiSeverity>,
    pub statuses: Vec<CoiStatus>,
    pub detection_methods: Vec<DetectionMethod>,
}

/// A conflict a manager records.
#[derive(Debug, Clone)]
pub struct NewConflict {
    pub reviewer_uuid: Uuid,
    /// The call; may be left out when `proposal_uuid` is given.
    pub call_uuid: Option<Uuid>,
    pub proposal_uuid: Option<Uuid>,
    pub coi_type: CoiType,
    /// Defaults to the type's default severity.
    pub severity: Option<CoiSeverity>,
    pub evidence_description: String,
    /// A JSON object.
    pub evidence_data: serde_json::Value,
    pub conflicting_user_uuid: Option<Uuid>,
    pub conflicting_organization_uuid: Option<Uuid>,
}

/// Changes to a conflict; `None` keeps a field. A new `status` goes through the same rules and
/// side effects as the dismiss, waive and recuse actions.
#[derive(Debug, Clone, Default)]
pub struct ConflictChanges {
    pub review_notes: Option<String>,
    pub management_plan: Option<String>,
    pub status: Option<CoiStatus>,
}

/// A manager's decision on a conflict through one of the actions.
#[derive(Debug, Clone)]
pub struct Decision {
    /// `dismissed`, `waived` or `recused`, chosen by the action.
    pub status: CoiStatus,
    /// Replaces the stored notes; empty when not given.
    pub review_notes: String,
    /// Replaces the stored plan when given.
    pub management_plan: Option<String>,
}

/// Counts of a call's conflicts; only non-zero keys are present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConflictSummary {
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_severity: BTreeMap<String, i64>,
    pub by_type: BTreeMap<String, i64>,
}

const BLOCKING: [&str; 2] = ["pending", "recused"];

/// Conflicts the actor may see: staff and support see all; managers and organisation members
/// see their calls' conflicts; a reviewer sees the conflicts recorded against them.
fn visible(actor: &Actor) -> conflicts_of_interest::BoxedQuery<'static, MultiBackend> {
    let query = conflicts_of_interest::table.into_boxed();
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
    let own_profiles = reviewer_profiles::table
        .filter(reviewer_profiles::user_uuid.eq(DbUuid(actor.user_uuid)))
        .select(reviewer_profiles::uuid);
    query.filter(
        conflicts_of_interest::call_uuid
            .eq_any(readable_calls)
            .or(conflicts_of_interest::reviewer_uuid.eq_any(own_profiles)),
    )
}

fn filtered(
    actor: &Actor,
    filter: &ConflictFilter,
) -> conflicts_of_interest::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(actor);
    if let Some(call_uuid) = filter.call_uuid {
        query = query.filter(conflicts_of_interest::call_uuid.eq(DbUuid(call_uuid)));
    }
    if let Some(proposal_uuid) = filter.proposal_uuid {
        query = query.filter(conflicts_of_interest::proposal_uuid.eq(DbUuid(proposal_uuid)));
    }
    if let Some(round_uuid) = filter.round_uuid {
        query = query.filter(
            conflicts_of_interest::proposal_uuid.eq_any(
                proposals::table
                    .filter(proposals::round_uuid.eq(DbUuid(round_uuid)))
                    .select(proposals::uuid.nullable()),
            ),
        );
    }
    if let Some(reviewer_uuid) = filter.reviewer_uuid {
        query = query.filter(conflicts_of_interest::reviewer_uuid.eq(DbUuid(reviewer_uuid)));
    }
    if let Some(name) = &filter.reviewer_name {
        query = query.filter(
            conflicts_of_interest::reviewer_uuid.eq_any(
                reviewer_profiles::table
                    .inner_join(users::table)
                    .filter(
                        lower(users::full_name)
                            .like(contains_pattern(name))
                            .escape('\\'),
                    )
                    .select(reviewer_profiles::uuid),
            ),
        );
    }
    if !filter.coi_types.is_empty() {
        let types: Vec<&'static str> = filter.coi_types.iter().map(|kind| kind.as_str()).collect();
        query = query.filter(conflicts_of_interest::coi_type.eq_any(types));
    }
    if let Some(severity) = filter.severity {
        query = query.filter(conflicts_of_interest::severity.eq(severity.as_str()));
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&'static str> = filter
            .statuses
            .iter()
            .map(|status| status.as_str())
            .collect();
        query = query.filter(conflicts_of_interest::status.eq_any(statuses));
    }
    if !filter.detection_methods.is_empty() {
        let methods: Vec<&'static str> = filter
            .detection_methods
            .iter()
            .map(|method| method.as_str())
            .collect();
        query = query.filter(conflicts_of_interest::detection_method.eq_any(methods));
    }
    query
}

fn names_by_uuid(rows: Vec<(DbUuid, String)>) -> HashMap<Uuid, String> {
    rows.into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect()
}

/// Loads the names of a list of conflicts with a fixed number of queries. Each query binds
/// every distinct key once, because SQLite accepts at most 32766 bind parameters in one
/// statement and a call may have more conflicts than that (PostgreSQL gets one array).
pub fn views(
    connection: &mut AnyConnection,
    conflicts: Vec<Conflict>,
) -> StoreResult<Vec<ConflictView>> {
    if conflicts.is_empty() {
        return Ok(Vec::new());
    }

    let profile_keys: BTreeSet<DbUuid> =
        conflicts.iter().map(|c| DbUuid(c.reviewer_uuid)).collect();
    let reviewer_names = names_by_uuid(
        reviewer_profiles::table
            .inner_join(users::table)
            .filter(reviewer_profiles::uuid.eq_any(profile_keys))
            .select((reviewer_profiles::uuid, users::full_name))
            .load(connection)?,
    );

    let proposal_keys: BTreeSet<DbUuid> = conflicts
        .iter()
        .filter_map(|c| c.proposal_uuid.map(DbUuid))
        .collect();
    let proposal_rows: Vec<(DbUuid, String, DbUuid)> = proposals::table
        .filter(proposals::uuid.eq_any(proposal_keys))
        .select((proposals::uuid, proposals::name, proposals::round_uuid))
        .load(connection)?;
    let round_keys: BTreeSet<DbUuid> = proposal_rows.iter().map(|row| row.2).collect();
    let round_names: HashMap<Uuid, String> = rounds::table
        .filter(rounds::uuid.eq_any(round_keys))
        .load::<calls::Round>(connection)?
        .into_iter()
        .map(|round| (round.uuid, round.name()))
        .collect();
    let proposals_by_uuid: HashMap<Uuid, (String, Uuid)> = proposal_rows
        .into_iter()
        .map(|(uuid, name, round)| (uuid.0, (name, round.0)))
        .collect();

    let call_keys: BTreeSet<DbUuid> = conflicts.iter().map(|c| DbUuid(c.call_uuid)).collect();
    let call_names = names_by_uuid(
        calls_table::table
            .filter(calls_table::uuid.eq_any(call_keys))
            .select((calls_table::uuid, calls_table::name))
            .load(connection)?,
    );

    let user_keys: BTreeSet<DbUuid> = conflicts
        .iter()
        .flat_map(|c| [c.conflicting_user_uuid, c.reviewed_by_uuid])
        .flatten()
        .map(DbUuid)
        .collect();
    let user_names = names_by_uuid(
        users::table
            .filter(users::uuid.eq_any(user_keys))
            .select((users::uuid, users::full_name))
            .load(connection)?,
    );

    let organization_keys: BTreeSet<DbUuid> = conflicts
        .iter()
        .filter_map(|c| c.conflicting_organization_uuid.map(DbUuid))
        .collect();
    let organization_names = names_by_uuid(
        customers::table
            .filter(customers::uuid.eq_any(organization_keys))
            .select((customers::uuid, customers::name))
            .load(connection)?,
    );

    Ok(conflicts
        .into_iter()
        .map(|conflict| {
            let proposal = conflict
                .proposal_uuid
                .and_then(|uuid| proposals_by_uuid.get(&uuid).cloned());
            let name_of = |uuid: Option<Uuid>| uuid.and_then(|uuid| user_names.get(&uuid).cloned());
            ConflictView {
                reviewer_name: reviewer_names.get(&conflict.reviewer_uuid).cloned(),
                proposal_name: proposal.as_ref().map(|(name, _)| name.clone()),
                round_uuid: proposal.as_ref().map(|(_, round)| *round),
                round_name: proposal
                    .as_ref()
                    .and_then(|(_, round)| round_names.get(round).cloned()),
                call_name: call_names
                    .get(&conflict.call_uuid)
                    .cloned()
                    .unwrap_or_default(),
                conflicting_user_name: name_of(conflict.conflicting_user_uuid),
                conflicting_organization_name: conflict
                    .conflicting_organization_uuid
                    .and_then(|uuid| organization_names.get(&uuid).cloned()),
                reviewed_by_name: name_of(conflict.reviewed_by_uuid),
                conflict,
            }
        })
        .collect())
}

/// Lists conflicts visible to the actor, most recently detected first unless ordered otherwise.
pub fn list_conflicts(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &ConflictFilter,
    order: &[SortKey<ConflictOrder>],
    page: PageRequest,
) -> StoreResult<Page<ConflictView>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(conflicts_of_interest::detected_at.desc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (ConflictOrder::DetectedAt, false) => {
                query.then_order_by(conflicts_of_interest::detected_at.asc())
            }
            (ConflictOrder::DetectedAt, true) => {
                query.then_order_by(conflicts_of_interest::detected_at.desc())
            }
            (ConflictOrder::Severity, false) => {
                query.then_order_by(conflicts_of_interest::severity.asc())
            }
            (ConflictOrder::Severity, true) => {
                query.then_order_by(conflicts_of_interest::severity.desc())
            }
            (ConflictOrder::Status, false) => {
                query.then_order_by(conflicts_of_interest::status.asc())
            }
            (ConflictOrder::Status, true) => {
                query.then_order_by(conflicts_of_interest::status.desc())
            }
            (ConflictOrder::Created, false) => {
                query.then_order_by(conflicts_of_interest::created.asc())
            }
            (ConflictOrder::Created, true) => {
                query.then_order_by(conflicts_of_interest::created.desc())
            }
        };
    }
    let rows = query
        .then_order_by(conflicts_of_interest::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Conflict>(connection)?;
    Ok(Page {
        rows: views(connection, rows)?,
        total,
    })
}

/// Finds a conflict visible to the actor; others are reported as not found.
pub fn find_visible_conflict(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Conflict> {
    visible(actor)
        .filter(conflicts_of_interest::uuid.eq(DbUuid(uuid)))
        .first::<Conflict>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("conflict of interest").into())
}

pub fn find_visible_conflict_view(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<ConflictView> {
    let conflict = find_visible_conflict(connection, actor, uuid)?;
    Ok(views(connection, vec![conflict])?.remove(0))
}

fn view_of(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<ConflictView> {
    let conflict = get_conflict(connection, uuid)?;
    Ok(views(connection, vec![conflict])?.remove(0))
}

fn get_conflict(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Conflict> {
    conflicts_of_interest::table
        .find(DbUuid(uuid))
        .first::<Conflict>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("conflict of interest").into())
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
            "Only staff, support, the call's managers and members of its organisation can read its conflicts of interest.",
        )
        .into());
    }
    Ok(call)
}

/// Lists every conflict of a call, most recently detected first (not paginated).
pub fn list_call_conflicts(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    statuses: &[CoiStatus],
    severity: Option<CoiSeverity>,
) -> StoreResult<Vec<ConflictView>> {
    readable_call(connection, actor, call_uuid)?;
    let mut query = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call_uuid)))
        .into_boxed();
    if !statuses.is_empty() {
        let statuses: Vec<&'static str> = statuses.iter().map(|status| status.as_str()).collect();
        query = query.filter(conflicts_of_interest::status.eq_any(statuses));
    }
    if let Some(severity) = severity {
        query = query.filter(conflicts_of_interest::severity.eq(severity.as_str()));
    }
    let rows = query
        .order((
            conflicts_of_interest::detected_at.desc(),
            conflicts_of_interest::uuid.asc(),
        ))
        .load::<Conflict>(connection)?;
    views(connection, rows)
}

/// Counts a call's conflicts by status, severity and type.
pub fn conflict_summary(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<ConflictSummary> {
    readable_call(connection, actor, call_uuid)?;
    let rows: Vec<(String, String, String, i64)> = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call_uuid)))
        .group_by((
            conflicts_of_interest::status,
            conflicts_of_interest::severity,
            conflicts_of_interest::coi_type,
        ))
        .select((
            conflicts_of_interest::status,
            conflicts_of_interest::severity,
            conflicts_of_interest::coi_type,
            diesel::dsl::count_star(),
        ))
        .load(connection)?;
    let mut summary = ConflictSummary::default();
    for (status, severity, coi_type, count) in rows {
        summary.total += count;
        *summary.by_status.entry(status).or_default() += count;
        *summary.by_severity.entry(severity).or_default() += count;
        *summary.by_type.entry(coi_type).or_default() += count;
    }
    Ok(summary)
}

/// Records a conflict identified by a manager of the call, with status `pending`. It blocks
/// later assignments of the pair but leaves existing items as they are.
pub fn create_conflict(
    connection: &mut AnyConnection,
    actor: &Actor,
    new: &NewConflict,
) -> StoreResult<ConflictView> {
    write_transaction(connection, |connection| {
        let call = conflict_call(connection, actor, new)?;
        call.require_manager(actor)?;

        let in_pool = call_reviewer_pools::table
            .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call.uuid)))
            .filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(new.reviewer_uuid)))
            .count()
            .get_result::<i64>(connection)?;
        if in_pool == 0 {
            return Err(DomainError::field(
                "reviewer",
                format!(
                    "Reviewer profile {} is not in the reviewer pool of call {}. Invite the reviewer first, or name a pool member.",
                    new.reviewer_uuid.simple(),
                    call.uuid.simple()
                ),
            )
            .into());
        }
        if let Some(user_uuid) = new.conflicting_user_uuid
            && crate::users::get_user(connection, user_uuid).is_err()
        {
            return Err(DomainError::field(
                "conflicting_user",
                format!(
                    "No user has UUID {}. Send an existing user's uuid or url.",
                    user_uuid.simple()
                ),
            )
            .into());
        }
        if let Some(organization_uuid) = new.conflicting_organization_uuid
            && crate::customers::get_customer(connection, organization_uuid).is_err()
        {
            return Err(DomainError::field(
                "conflicting_organization",
                format!(
                    "No organisation has UUID {}. Send an existing organisation's uuid or url.",
                    organization_uuid.simple()
                ),
            )
            .into());
        }

        let uuid = Uuid::now_v7();
        let at = assignments::now();
        let severity = new
            .severity
            .unwrap_or_else(|| new.coi_type.default_severity());
        diesel::insert_into(conflicts_of_interest::table)
            .values((
                conflicts_of_interest::uuid.eq(DbUuid(uuid)),
                conflicts_of_interest::call_uuid.eq(DbUuid(call.uuid)),
                conflicts_of_interest::reviewer_uuid.eq(DbUuid(new.reviewer_uuid)),
                conflicts_of_interest::proposal_uuid.eq(new.proposal_uuid.map(DbUuid)),
                conflicts_of_interest::conflicting_user_uuid
                    .eq(new.conflicting_user_uuid.map(DbUuid)),
                conflicts_of_interest::conflicting_organization_uuid
                    .eq(new.conflicting_organization_uuid.map(DbUuid)),
                conflicts_of_interest::coi_type.eq(new.coi_type.as_str()),
                conflicts_of_interest::severity.eq(severity.as_str()),
                conflicts_of_interest::detection_method
                    .eq(DetectionMethod::ManagerIdentified.as_str()),
                conflicts_of_interest::detected_at.eq(DbTime(at)),
                conflicts_of_interest::evidence_description.eq(&new.evidence_description),
                conflicts_of_interest::evidence_data.eq(new.evidence_data.to_string()),
                conflicts_of_interest::status.eq(CoiStatus::Pending.as_str()),
                conflicts_of_interest::review_notes.eq(""),
                conflicts_of_interest::management_plan.eq(""),
                conflicts_of_interest::created.eq(DbTime(at)),
                conflicts_of_interest::modified.eq(DbTime(at)),
            ))
            .execute(connection)?;
        audit::record(
            connection,
            AuditEntry {
                call_uuid: Some(call.uuid),
                object_type: "conflict",
                object_uuid: uuid,
                action: "conflict.created",
                actor: Some(actor),
                reason: &new.evidence_description,
                before: None,
                after: Some(json!({
                    "status": "pending",
                    "coi_type": new.coi_type.as_str(),
                    "severity": severity.as_str(),
                    "reviewer_uuid": new.reviewer_uuid.simple().to_string(),
                    "proposal_uuid": new.proposal_uuid.map(|uuid| uuid.simple().to_string()),
                })),
            },
        )?;
        tracing::info!(conflict.uuid = %uuid.simple(), call.uuid = %call.uuid.simple(), "conflict of interest recorded");
        block_pending_items(connection, actor, uuid)?;
        view_of(connection, uuid)
    })
}

/// Finds the call of a new conflict from its `call` and `proposal` references. A reference
/// the actor cannot see is reported like an unknown one, as a 400 on its field.
fn conflict_call(
    connection: &mut AnyConnection,
    actor: &Actor,
    new: &NewConflict,
) -> StoreResult<Call> {
    let proposal_call = match new.proposal_uuid {
        Some(proposal_uuid) => {
            let call_uuid: Option<DbUuid> = proposals::table
                .find(DbUuid(proposal_uuid))
                .select(proposals::call_uuid)
                .first(connection)
                .optional()?;
            let unknown = || {
                DomainError::field(
                    "proposal",
                    format!(
                        "No proposal has UUID {}. Send the uuid or url of a proposal of the call.",
                        proposal_uuid.simple()
                    ),
                )
            };
            let call_uuid = call_uuid.ok_or_else(unknown)?.0;
            if calls::find_visible_call(connection, actor, call_uuid).is_err() {
                return Err(unknown().into());
            }
            Some(call_uuid)
        }
        None => None,
    };

    match (new.call_uuid, proposal_call) {
        (Some(call_uuid), proposal_call) => {
            let call = calls::find_visible_call(connection, actor, call_uuid).map_err(|_| {
                DomainError::field(
                    "call",
                    format!(
                        "No call has UUID {}. Send the uuid or url of a call you manage.",
                        call_uuid.simple()
                    ),
                )
            })?;
            if let Some(proposal_call) = proposal_call
                && proposal_call != call_uuid
            {
                return Err(DomainError::field(
                    "proposal",
                    format!(
                        "Proposal {} does not belong to call {}. Name a proposal of that call.",
                        new.proposal_uuid.unwrap_or_default().simple(),
                        call_uuid.simple()
                    ),
                )
                .into());
            }
            Ok(call)
        }
        (None, Some(proposal_call)) => calls::get_call(connection, proposal_call),
        (None, None) => Err(DomainError::field(
            "call",
            "This field is required when no proposal is given. Send the call, the proposal, or both.",
        )
        .into()),
    }
}

/// Changes the notes and plan of a conflict. A new status goes through the matching action,
/// with the same side effects on items and reviews.
pub fn update_conflict(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    changes: &ConflictChanges,
) -> StoreResult<ConflictView> {
    write_transaction(connection, |connection| {
        let conflict = managed_conflict(connection, actor, uuid)?;
        let review_notes = changes
            .review_notes
            .clone()
            .unwrap_or_else(|| conflict.review_notes.clone());
        let management_plan = changes
            .management_plan
            .clone()
            .unwrap_or_else(|| conflict.management_plan.clone());

        match changes.status {
            Some(status) if status != conflict.status => {
                if status == CoiStatus::Pending {
                    return Err(DomainError::field(
                        "status",
                        format!(
                            "A conflict that is {} cannot return to pending. Send dismissed, waived or recused.",
                            conflict.status
                        ),
                    )
                    .into());
                }
                decide_locked(
                    connection,
                    actor,
                    &conflict,
                    status,
                    review_notes,
                    management_plan,
                )?;
            }
            _ => {
                if status_needs_plan(conflict.status) && management_plan.trim().is_empty() {
                    return Err(plan_required().into());
                }
                let updated = diesel::update(
                    conflicts_of_interest::table
                        .filter(conflicts_of_interest::uuid.eq(DbUuid(uuid)))
                        .filter(conflicts_of_interest::status.eq(conflict.status.as_str())),
                )
                .set((
                    conflicts_of_interest::review_notes.eq(&review_notes),
                    conflicts_of_interest::management_plan.eq(&management_plan),
                    conflicts_of_interest::modified.eq(DbTime(assignments::now())),
                ))
                .execute(connection)?;
                if updated != 1 {
                    return Err(changed_meanwhile().into());
                }
            }
        }
        view_of(connection, uuid)
    })
}

/// Dismisses, waives or recuses a conflict (managers of the call), from any status.
pub fn decide_conflict(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    decision: &Decision,
) -> StoreResult<ConflictView> {
    write_transaction(connection, |connection| {
        let conflict = managed_conflict(connection, actor, uuid)?;
        let management_plan = decision
            .management_plan
            .clone()
            .unwrap_or_else(|| conflict.management_plan.clone());
        decide_locked(
            connection,
            actor,
            &conflict,
            decision.status,
            decision.review_notes.clone(),
            management_plan,
        )?;
        view_of(connection, uuid)
    })
}

fn managed_conflict(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Conflict> {
    let conflict = find_visible_conflict(connection, actor, uuid)?;
    let call = calls::get_call(connection, conflict.call_uuid)?;
    call.require_manager(actor)?;
    Ok(conflict)
}

fn status_needs_plan(status: CoiStatus) -> bool {
    status == CoiStatus::Waived
}

fn plan_required() -> DomainError {
    DomainError::field(
        "management_plan",
        "Management plan is required when waiving a conflict. Describe how the conflict is managed.",
    )
}

fn changed_meanwhile() -> DomainError {
    DomainError::invalid_state(
        "conflict_changed",
        "The conflict of interest changed while this request ran. Reload it and retry.",
    )
}

/// Sets the decided status with the reviewer's stamp, records it, and blocks or unblocks the
/// reviewer's items.
fn decide_locked(
    connection: &mut AnyConnection,
    actor: &Actor,
    conflict: &Conflict,
    status: CoiStatus,
    review_notes: String,
    management_plan: String,
) -> StoreResult<()> {
    if status_needs_plan(status) && management_plan.trim().is_empty() {
        return Err(plan_required().into());
    }
    if conflict.status == CoiStatus::Recused && status != CoiStatus::Recused {
        return Err(DomainError::invalid_state(
            "conflict_recused",
            format!(
                "Conflict {} is recused, which is final: the reviewer withdrew from the proposal. \
                 Reassign the proposal instead of changing the conflict.",
                conflict.uuid.simple()
            ),
        )
        .into());
    }
    if matches!(status, CoiStatus::Dismissed | CoiStatus::Waived) {
        let config = crate::configs::coi_config(connection, conflict.call_uuid)?;
        let recusal_required: Vec<String> =
            serde_json::from_str(&config.recusal_required_types).unwrap_or_default();
        if recusal_required
            .iter()
            .any(|code| code == conflict.coi_type.as_str())
        {
            return Err(DomainError::invalid_state(
                "recusal_required",
                format!(
                    "Conflicts of type {} require recusal in this call's COI configuration \
                     (recusal_required_types), so they cannot be dismissed or waived. Recuse the reviewer, \
                     or change the configuration first.",
                    conflict.coi_type.as_str()
                ),
            )
            .into());
        }
    }
    let at = assignments::now();
    let updated = diesel::update(
        conflicts_of_interest::table
            .filter(conflicts_of_interest::uuid.eq(DbUuid(conflict.uuid)))
            .filter(conflicts_of_interest::status.eq(conflict.status.as_str())),
    )
    .set((
        conflicts_of_interest::status.eq(status.as_str()),
        conflicts_of_interest::reviewed_by_uuid.eq(Some(DbUuid(actor.user_uuid))),
        conflicts_of_interest::reviewed_at.eq(Some(DbTime(at))),
        conflicts_of_interest::review_notes.eq(&review_notes),
        conflicts_of_interest::management_plan.eq(&management_plan),
        conflicts_of_interest::modified.eq(DbTime(at)),
    ))
    .execute(connection)?;
    if updated != 1 {
        return Err(changed_meanwhile().into());
    }
    audit::record(
        connection,
        AuditEntry {
            call_uuid: Some(conflict.call_uuid),
            object_type: "conflict",
            object_uuid: conflict.uuid,
            action: match status {
                CoiStatus::Dismissed => "conflict.dismissed",
                CoiStatus::Waived => "conflict.waived",
                CoiStatus::Recused => "conflict.recused",
                CoiStatus::Pending => "conflict.reopened",
            },
            actor: Some(actor),
            reason: &review_notes,
            before: Some(json!({"status": conflict.status.as_str()})),
            after: Some(json!({"status": status.as_str()})),
        },
    )?;

    let touched_batches = if status.is_blocking() {
        block_items(connection, actor, conflict)?
    } else {
        unblock_items(connection, actor, conflict)?
    };
    for batch_uuid in touched_batches {
        assignments::refresh_batch_status(connection, batch_uuid, Some(actor))?;
    }
    Ok(())
}

/// Items of the conflict's reviewer on its proposal (or on the whole call) in `statuses`.
fn items_of_pair(
    connection: &mut AnyConnection,
    conflict: &Conflict,
    statuses: &[ItemStatus],
) -> StoreResult<Vec<Item>> {
    let statuses: Vec<&'static str> = statuses.iter().map(|status| status.as_str()).collect();
    let mut query = assignment_items::table
        .filter(assignment_items::call_uuid.eq(DbUuid(conflict.call_uuid)))
        .filter(assignment_items::reviewer_uuid.eq(DbUuid(conflict.reviewer_uuid)))
        .filter(assignment_items::status.eq_any(statuses))
        .into_boxed();
    if let Some(proposal_uuid) = conflict.proposal_uuid {
        query = query.filter(assignment_items::proposal_uuid.eq(DbUuid(proposal_uuid)));
    }
    Ok(query
        .order(assignment_items::uuid.asc())
        .load::<Item>(connection)?)
}

fn record_item_change(
    connection: &mut AnyConnection,
    actor: &Actor,
    conflict: &Conflict,
    item: &Item,
    action: &'static str,
    new_status: ItemStatus,
) -> StoreResult<()> {
    audit::record(
        connection,
        AuditEntry {
            call_uuid: Some(item.call_uuid),
            object_type: "item",
            object_uuid: item.uuid,
            action,
            actor: Some(actor),
            reason: "",
            before: Some(json!({"status": item.status.as_str(), "has_coi": item.has_coi})),
            after: Some(json!({
                "status": new_status.as_str(),
                "has_coi": new_status == ItemStatus::CoiBlocked,
                "conflict_uuid": conflict.uuid.simple().to_string(),
            })),
        },
    )
}

/// Recusal: blocks the reviewer's pending and accepted items, links the conflict to them,
/// and rejects their reviews and every review in review by the reviewer on the proposal.
/// Returns the batches whose items changed.
fn block_items(
    connection: &mut AnyConnection,
    actor: &Actor,
    conflict: &Conflict,
) -> StoreResult<BTreeSet<Uuid>> {
    let reason = format!("Conflict of interest {} recused.", conflict.uuid.simple());
    let mut batches = BTreeSet::new();
    for item in items_of_pair(
        connection,
        conflict,
        &[ItemStatus::Pending, ItemStatus::Accepted],
    )? {
        let updated = diesel::update(
            assignment_items::table
                .filter(assignment_items::uuid.eq(DbUuid(item.uuid)))
                .filter(assignment_items::status.eq(item.status.as_str())),
        )
        .set((
            assignment_items::status.eq(ItemStatus::CoiBlocked.as_str()),
            assignment_items::has_coi.eq(true),
            assignment_items::modified.eq(DbTime(assignments::now())),
        ))
        .execute(connection)?;
        if updated != 1 {
            continue;
        }
        link(connection, item.uuid, conflict.uuid)?;
        record_item_change(
            connection,
            actor,
            conflict,
            &item,
            "item.coi_blocked",
            ItemStatus::CoiBlocked,
        )?;
        batches.insert(item.batch_uuid);

        if let Some(review_uuid) = item.review_uuid
            && let Some(review) = assignments::get_review(connection, review_uuid)?
        {
            crate::reviews::reject_locked(connection, &review, Some(actor), &reason)?;
        }
    }

    let reviewer_user: DbUuid = reviewer_profiles::table
        .find(DbUuid(conflict.reviewer_uuid))
        .select(reviewer_profiles::user_uuid)
        .first(connection)?;
    let mut reviews = proposal_reviews::table
        .filter(proposal_reviews::reviewer_user_uuid.eq(reviewer_user))
        .filter(proposal_reviews::call_uuid.eq(DbUuid(conflict.call_uuid)))
        .filter(proposal_reviews::state.eq(ReviewState::InReview.as_str()))
        .into_boxed();
    if let Some(proposal_uuid) = conflict.proposal_uuid {
        reviews = reviews.filter(proposal_reviews::proposal_uuid.eq(DbUuid(proposal_uuid)));
    }
    let in_review: Vec<Review> = reviews
        .order(proposal_reviews::uuid.asc())
        .load(connection)?;
    for review in &in_review {
        crate::reviews::reject_locked(connection, review, Some(actor), &reason)?;
    }
    Ok(batches)
}

/// Blocks the pending items of a new conflict's reviewer on its proposal (or on the whole
/// call), so that a conflict recorded after an item was offered keeps the reviewer from
/// accepting it. Accepted items and reviews stay; recusal is what rejects them.
pub fn block_pending_items(
    connection: &mut AnyConnection,
    actor: &Actor,
    conflict_uuid: Uuid,
) -> StoreResult<()> {
    let conflict = get_conflict(connection, conflict_uuid)?;
    if !conflict.status.is_blocking() {
        return Ok(());
    }
    let mut batches = BTreeSet::new();
    for item in items_of_pair(connection, &conflict, &[ItemStatus::Pending])? {
        let updated = diesel::update(
            assignment_items::table
                .filter(assignment_items::uuid.eq(DbUuid(item.uuid)))
                .filter(assignment_items::status.eq(ItemStatus::Pending.as_str())),
        )
        .set((
            assignment_items::status.eq(ItemStatus::CoiBlocked.as_str()),
            assignment_items::has_coi.eq(true),
            assignment_items::modified.eq(DbTime(assignments::now())),
        ))
        .execute(connection)?;
        if updated != 1 {
            continue;
        }
        link(connection, item.uuid, conflict.uuid)?;
        record_item_change(
            connection,
            actor,
            &conflict,
            &item,
            "item.coi_blocked",
            ItemStatus::CoiBlocked,
        )?;
        batches.insert(item.batch_uuid);
    }
    for batch_uuid in batches {
        assignments::refresh_batch_status(connection, batch_uuid, Some(actor))?;
    }
    Ok(())
}

/// Links a conflict to an item unless the link exists.
fn link(connection: &mut AnyConnection, item_uuid: Uuid, conflict_uuid: Uuid) -> StoreResult<()> {
    let existing = assignment_item_conflicts::table
        .filter(assignment_item_conflicts::item_uuid.eq(DbUuid(item_uuid)))
        .filter(assignment_item_conflicts::conflict_uuid.eq(DbUuid(conflict_uuid)))
        .count()
        .get_result::<i64>(connection)?;
    if existing == 0 {
        diesel::insert_into(assignment_item_conflicts::table)
            .values((
                assignment_item_conflicts::item_uuid.eq(DbUuid(item_uuid)),
                assignment_item_conflicts::conflict_uuid.eq(DbUuid(conflict_uuid)),
            ))
            .execute(connection)?;
    }
    Ok(())
}

/// Dismissal or waiver: returns the reviewer's blocked items to `pending` and unlinks the
/// conflict, except items that another linked conflict still blocks. Returns the batches
/// whose items changed.
fn unblock_items(
    connection: &mut AnyConnection,
    actor: &Actor,
    conflict: &Conflict,
) -> StoreResult<BTreeSet<Uuid>> {
    let mut batches = BTreeSet::new();
    for item in items_of_pair(connection, conflict, &[ItemStatus::CoiBlocked])? {
        let other_blocking = assignment_item_conflicts::table
            .inner_join(conflicts_of_interest::table)
            .filter(assignment_item_conflicts::item_uuid.eq(DbUuid(item.uuid)))
            .filter(assignment_item_conflicts::conflict_uuid.ne(DbUuid(conflict.uuid)))
            .filter(conflicts_of_interest::status.eq_any(BLOCKING))
            .count()
            .get_result::<i64>(connection)?;
        if other_blocking > 0 {
            continue;
        }
        let updated = diesel::update(
            assignment_items::table
                .filter(assignment_items::uuid.eq(DbUuid(item.uuid)))
                .filter(assignment_items::status.eq(ItemStatus::CoiBlocked.as_str())),
        )
        .set((
            assignment_items::status.eq(ItemStatus::Pending.as_str()),
            assignment_items::has_coi.eq(false),
            assignment_items::modified.eq(DbTime(assignments::now())),
        ))
        .execute(connection)?;
        if updated != 1 {
            continue;
        }
        diesel::delete(
            assignment_item_conflicts::table
                .filter(assignment_item_conflicts::item_uuid.eq(DbUuid(item.uuid)))
                .filter(assignment_item_conflicts::conflict_uuid.eq(DbUuid(conflict.uuid))),
        )
        .execute(connection)?;
        record_item_change(
            connection,
            actor,
            conflict,
            &item,
            "item.unblocked",
            ItemStatus::Pending,
        )?;
        batches.insert(item.batch_uuid);
    }
    Ok(batches)
}
