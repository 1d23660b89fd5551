//! Assignment items: one proposal offered to the reviewer of a batch. Listing and reading
//! them, the manager's edits (decline reason, delete, add to a draft, reassign, force-unblock,
//! alternatives) and the reviewer's answers (accept, decline).
//!
//! Every state change is a conditional update on the item's current status inside
//! [`write_transaction`], so two racing requests never both succeed.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::dsl::not;
use diesel::prelude::*;
use referee_domain::enums::{
    AssignmentSource, BatchStatus, CoiStatus, InvitationStatus, ItemStatus,
};
use referee_domain::{Actor, DomainError};
use serde_json::json;
use uuid::Uuid;

use crate::assignments::{self, Batch, Item, NewItem, now};
use crate::audit::{self, AuditEntry};
use crate::calls::{self, Call};
use crate::connection::{AnyConnection, BackendKind, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::pool::{self, PoolEntry, PoolEntryView};
use crate::schema::{
    assignment_batches, assignment_item_conflicts, assignment_item_counts, assignment_items,
    call_reviewer_pools, calls as calls_table, coi_evaluated_pairs, conflicts_of_interest,
    proposals, reviewer_profiles, reviewer_proposal_affinities, rounds, users,
};
use crate::sql_types::{DbTime, DbUuid};
use crate::transaction::write_transaction;

/// An item with what its representation needs besides its own row.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub item: Item,
    pub proposal_name: String,
    pub proposal_slug: String,
    /// Conflicts of interest linked to the item, any status.
    pub coi_count: i64,
    /// Full name of the manager who force-unblocked the item; empty when nobody did.
    pub overridden_by_name: String,
}

/// Fields an item list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemOrder {
    Created,
    AffinityScore,
    Status,
    RespondedAt,
}

/// Filters of the item list; every given filter must match.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub batch_uuid: Option<Uuid>,
    pub call_uuid: Option<Uuid>,
    pub proposal_uuid: Option<Uuid>,
    /// The reviewer profile of the batch's pool entry.
    pub reviewer_uuid: Option<Uuid>,
    /// Any of these statuses, or every status when empty.
    pub statuses: Vec<ItemStatus>,
    pub has_coi: Option<bool>,
    /// Minimum affinity score; items without a score never match.
    pub min_affinity_score: Option<f64>,
}

/// Items without joins, so that counting matching items reads the item index alone.
type ItemQuery<'a> = diesel::dsl::IntoBoxed<'a, assignment_items::table, MultiBackend>;

/// Items the actor may see: staff and support see all; whoever manages a call (call manager,
/// owner or manager of its organisation) sees the items of its batches; a reviewer sees their
/// own items in batches that were sent to them (sent, responded or expired).
fn visible(actor: &Actor) -> ItemQuery<'static> {
    let query = assignment_items::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }

    let managed_calls: Vec<DbUuid> = actor.managed_call_uuids().into_iter().map(DbUuid).collect();
    let managed_customers: Vec<DbUuid> = actor
        .managed_customer_uuids()
        .into_iter()
        .map(DbUuid)
        .collect();
    let calls_of_managed_customers = calls_table::table
        .filter(calls_table::customer_uuid.eq_any(managed_customers))
        .select(calls_table::uuid);
    let own_profiles = reviewer_profiles::table
        .filter(reviewer_profiles::user_uuid.eq(DbUuid(actor.user_uuid)))
        .select(reviewer_profiles::uuid.nullable());
    let shown: Vec<&'static str> = BatchStatus::SHOWN_TO_REVIEWER
        .iter()
        .map(|status| status.as_str())
        .collect();
    let shown_batches = assignment_batches::table
        .filter(assignment_batches::status.eq_any(shown))
        .select(assignment_batches::uuid);

    let own_items = assignment_items::reviewer_uuid
        .eq_any(own_profiles)
        .and(assignment_items::batch_uuid.eq_any(shown_batches))
        .assume_not_null();
    query.filter(
        assignment_items::call_uuid
            .eq_any(managed_calls)
            .or(assignment_items::call_uuid.eq_any(calls_of_managed_customers))
            .or(own_items),
    )
}

/// The items a list starts from before its filters are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Every item. Used when the actor may read all items of the call that the filter names,
    /// so that the call's filter reads the (call_uuid, status, …) indexes without the
    /// subqueries of [`visible`].
    WholeCall,
    /// The items [`visible`] to the actor.
    Visible,
}

/// Chooses [`Scope::WholeCall`] when the filter names a call whose items the actor may all
/// read. Those actors are staff and support users, the call's managers, and owners and
/// managers of its organisation. Loads the call's organisation only for an actor who manages
/// some organisation.
fn scope(connection: &mut AnyConnection, actor: &Actor, filter: &ItemFilter) -> StoreResult<Scope> {
    let Some(call_uuid) = filter.call_uuid else {
        return Ok(Scope::Visible);
    };
    if actor.reads_everything() || actor.managed_call_uuids().contains(&call_uuid) {
        return Ok(Scope::WholeCall);
    }
    if actor.managed_customer_uuids().is_empty() {
        return Ok(Scope::Visible);
    }
    let customer_uuid = calls_table::table
        .filter(calls_table::uuid.eq(DbUuid(call_uuid)))
        .select(calls_table::customer_uuid)
        .first::<DbUuid>(connection)
        .optional()?;
    Ok(match customer_uuid {
        Some(customer_uuid) if actor.manages_call(call_uuid, customer_uuid.0) => Scope::WholeCall,
        _ => Scope::Visible,
    })
}

fn filtered<'a>(actor: &Actor, scope: Scope, filter: &'a ItemFilter) -> ItemQuery<'a> {
    let mut query = match scope {
        Scope::WholeCall => assignment_items::table.into_boxed(),
        Scope::Visible => visible(actor),
    };
    if let Some(batch_uuid) = filter.batch_uuid {
        query = query.filter(assignment_items::batch_uuid.eq(DbUuid(batch_uuid)));
    }
    if let Some(call_uuid) = filter.call_uuid {
        query = query.filter(assignment_items::call_uuid.eq(DbUuid(call_uuid)));
    }
    if let Some(proposal_uuid) = filter.proposal_uuid {
        query = query.filter(assignment_items::proposal_uuid.eq(DbUuid(proposal_uuid)));
    }
    if let Some(reviewer_uuid) = filter.reviewer_uuid {
        query = query.filter(assignment_items::reviewer_uuid.eq(DbUuid(reviewer_uuid)));
    }
    // One status is an equality, so that PostgreSQL reads a page in the order of an index on
    // (call_uuid, status, …); `= ANY(array)` does not give it that order.
    if let [status] = filter.statuses.as_slice() {
        query = query.filter(assignment_items::status.eq(status.as_str()));
    } else if !filter.statuses.is_empty() {
        let statuses: Vec<&'static str> = filter
            .statuses
            .iter()
            .map(|status| status.as_str())
            .collect();
        query = query.filter(assignment_items::status.eq_any(statuses));
    }
    if let Some(has_coi) = filter.has_coi {
        query = query.filter(assignment_items::has_coi.eq(has_coi));
    }
    if let Some(minimum) = filter.min_affinity_score {
        query = query.filter(assignment_items::affinity_score.ge(minimum));
    }
    query
}

/// Adds the proposals' names and slugs to a page of items (one query) and then its details
/// (see [`with_details`]).
fn with_proposals(connection: &mut AnyConnection, items: Vec<Item>) -> StoreResult<Vec<ItemView>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let proposal_uuids: Vec<DbUuid> = items
        .iter()
        .map(|item| DbUuid(item.proposal_uuid))
        .collect();
    let names: HashMap<Uuid, (String, String)> = proposals::table
        .filter(proposals::uuid.eq_any(proposal_uuids))
        .select((proposals::uuid, proposals::name, proposals::slug))
        .load::<(DbUuid, String, String)>(connection)?
        .into_iter()
        .map(|(uuid, name, slug)| (uuid.0, (name, slug)))
        .collect();
    let rows = items
        .into_iter()
        .map(|item| {
            let (name, slug) = names.get(&item.proposal_uuid).cloned().unwrap_or_default();
            (item, name, slug)
        })
        .collect();
    with_details(connection, rows)
}

/// Adds coi counts and the names of overriding managers to a page of items: one query for
/// the counts, and one for the names when any item of the page was force-unblocked.
fn with_details(
    connection: &mut AnyConnection,
    rows: Vec<(Item, String, String)>,
) -> StoreResult<Vec<ItemView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let item_uuids: Vec<DbUuid> = rows.iter().map(|(item, _, _)| DbUuid(item.uuid)).collect();
    let counts: HashMap<Uuid, i64> = assignment_item_conflicts::table
        .filter(assignment_item_conflicts::item_uuid.eq_any(item_uuids))
        .group_by(assignment_item_conflicts::item_uuid)
        .select((
            assignment_item_conflicts::item_uuid,
            diesel::dsl::count_star(),
        ))
        .load::<(DbUuid, i64)>(connection)?
        .into_iter()
        .map(|(uuid, count)| (uuid.0, count))
        .collect();

    let overriders: Vec<DbUuid> = rows
        .iter()
        .filter_map(|(item, _, _)| item.overridden_by_uuid.map(DbUuid))
        .collect();
    let names: HashMap<Uuid, String> = if overriders.is_empty() {
        HashMap::new()
    } else {
        users::table
            .filter(users::uuid.eq_any(overriders))
            .select((users::uuid, users::full_name))
            .load::<(DbUuid, String)>(connection)?
            .into_iter()
            .map(|(uuid, name)| (uuid.0, name))
            .collect()
    };

    Ok(rows
        .into_iter()
        .map(|(item, proposal_name, proposal_slug)| ItemView {
            coi_count: counts.get(&item.uuid).copied().unwrap_or(0),
            overridden_by_name: item
                .overridden_by_uuid
                .and_then(|uuid| names.get(&uuid).cloned())
                .unwrap_or_default(),
            item,
            proposal_name,
            proposal_slug,
        })
        .collect())
}

/// Lists the items visible to the actor, newest first unless `order` says otherwise.
pub fn list_items(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &ItemFilter,
    order: &[SortKey<ItemOrder>],
    page: PageRequest,
) -> StoreResult<Page<ItemView>> {
    let scope = scope(connection, actor, filter)?;
    let total = count_in_scope(connection, actor, scope, filter)?;

    let mut query = filtered(actor, scope, filter);
    if order.is_empty() {
        query = query.then_order_by(assignment_items::created.desc());
    }
    for key in order {
        // Scores sort as PostgreSQL sorts NULL on both backends: last when ascending, first
        // when descending.
        query = match (key.field, key.descending) {
            (ItemOrder::Created, false) => query.then_order_by(assignment_items::created.asc()),
            (ItemOrder::Created, true) => query.then_order_by(assignment_items::created.desc()),
            (ItemOrder::AffinityScore, false) => query
                .then_order_by(assignment_items::affinity_score.is_null().asc())
                .then_order_by(assignment_items::affinity_score.asc()),
            (ItemOrder::AffinityScore, true) => query
                .then_order_by(assignment_items::affinity_score.is_null().desc())
                .then_order_by(assignment_items::affinity_score.desc()),
            (ItemOrder::Status, false) => query.then_order_by(assignment_items::status.asc()),
            (ItemOrder::Status, true) => query.then_order_by(assignment_items::status.desc()),
            (ItemOrder::RespondedAt, false) => query
                .then_order_by(assignment_items::responded_at.is_null().asc())
                .then_order_by(assignment_items::responded_at.asc()),
            (ItemOrder::RespondedAt, true) => query
                .then_order_by(assignment_items::responded_at.is_null().desc())
                .then_order_by(assignment_items::responded_at.desc()),
        };
    }
    let items = query
        .then_order_by(assignment_items::uuid.asc())
        .select(assignment_items::all_columns)
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Item>(connection)?;

    Ok(Page {
        rows: with_proposals(connection, items)?,
        total,
    })
}

/// Counts the items visible to the actor that match the filter.
pub fn count_items(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &ItemFilter,
) -> StoreResult<i64> {
    let scope = scope(connection, actor, filter)?;
    count_in_scope(connection, actor, scope, filter)
}

fn count_in_scope(
    connection: &mut AnyConnection,
    actor: &Actor,
    scope: Scope,
    filter: &ItemFilter,
) -> StoreResult<i64> {
    // Only SQLite keeps counters per (call, status). On PostgreSQL, concurrent accepts and
    // declines in one call would all update the same counter rows and wait on each other's
    // row locks, so there the items are counted. SQLite runs one writer at a time anyway, so
    // its counters make no writer wait.
    if connection.kind() == BackendKind::Sqlite
        && scope == Scope::WholeCall
        && let Some(call_uuid) = counter_call(filter)
    {
        return sum_counters(connection, call_uuid, &filter.statuses);
    }
    Ok(filtered(actor, scope, filter)
        .count()
        .get_result::<i64>(connection)?)
}

/// Returns the call whose counters give the total, when the filter names a call and nothing
/// else besides statuses.
fn counter_call(filter: &ItemFilter) -> Option<Uuid> {
    let ItemFilter {
        batch_uuid: None,
        call_uuid: Some(call_uuid),
        proposal_uuid: None,
        reviewer_uuid: None,
        statuses: _,
        has_coi: None,
        min_affinity_score: None,
    } = filter
    else {
        return None;
    };
    Some(*call_uuid)
}

/// Adds up the SQLite counters of a call for the statuses, or for every status when empty.
fn sum_counters(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    statuses: &[ItemStatus],
) -> StoreResult<i64> {
    let mut query = assignment_item_counts::table
        .filter(assignment_item_counts::call_uuid.eq(DbUuid(call_uuid)))
        .into_boxed();
    if !statuses.is_empty() {
        let statuses: Vec<&'static str> = statuses.iter().map(|status| status.as_str()).collect();
        query = query.filter(assignment_item_counts::status.eq_any(statuses));
    }
    let total = query
        .select(diesel::dsl::sum(assignment_item_counts::item_count))
        .get_result::<Option<i64>>(connection)?;
    Ok(total.unwrap_or(0))
}

/// Finds an item visible to the actor; others are reported as not found.
pub fn find_visible_item(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Item> {
    visible(actor)
        .filter(assignment_items::uuid.eq(DbUuid(uuid)))
        .select(assignment_items::all_columns)
        .first::<Item>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("assignment item").into())
}

/// Loads an item's representation regardless of visibility.
pub fn view_item(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<ItemView> {
    let row = assignment_items::table
        .inner_join(proposals::table)
        .filter(assignment_items::uuid.eq(DbUuid(uuid)))
        .select((
            assignment_items::all_columns,
            proposals::name,
            proposals::slug,
        ))
        .first::<(Item, String, String)>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("assignment item"))?;
    let mut views = with_details(connection, vec![row])?;
    Ok(views.remove(0))
}

/// Finds an item visible to the actor, with its representation.
pub fn find_visible_item_view(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<ItemView> {
    let item = find_visible_item(connection, actor, uuid)?;
    view_item(connection, item.uuid)
}

/// Finds a visible item whose call the actor manages: 404 outside visibility, 403 when the
/// actor only reads it.
fn managed_item(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<(Item, Call)> {
    let item = find_visible_item(connection, actor, uuid)?;
    let call = calls::get_call(connection, item.call_uuid)?;
    call.require_manager(actor)?;
    Ok((item, call))
}

fn get_entry(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<PoolEntry> {
    call_reviewer_pools::table
        .find(DbUuid(uuid))
        .first::<PoolEntry>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("pool entry").into())
}

fn uuid_text(uuid: Uuid) -> String {
    uuid.simple().to_string()
}

fn time_text(time: Option<DateTime<Utc>>) -> serde_json::Value {
    time.map_or(serde_json::Value::Null, |time| {
        json!(crate::sql_types::sqlite_time_text(time))
    })
}

/// Records a status change of an item.
fn record_item_change(
    connection: &mut AnyConnection,
    item: &Item,
    action: &'static str,
    actor: Option<&Actor>,
    reason: &str,
    after: serde_json::Value,
) -> StoreResult<()> {
    audit::record(connection, item_change(item, action, actor, reason, after))
}

/// Builds the audit event of a change to an item, with its status before the change.
fn item_change<'a>(
    item: &Item,
    action: &'static str,
    actor: Option<&'a Actor>,
    reason: &'a str,
    after: serde_json::Value,
) -> AuditEntry<'a> {
    AuditEntry {
        call_uuid: Some(item.call_uuid),
        object_type: "item",
        object_uuid: item.uuid,
        action,
        actor,
        reason,
        before: Some(json!({"status": item.status.as_str()})),
        after: Some(after),
    }
}

/// Changes the decline reason, the only field a manager edits; `None` leaves it as it is.
pub fn update_item(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    decline_reason: Option<String>,
) -> StoreResult<ItemView> {
    write_transaction(connection, |connection| {
        let (item, _call) = managed_item(connection, actor, uuid)?;
        if let Some(reason) = decline_reason
            && reason != item.decline_reason
        {
            diesel::update(assignment_items::table.find(DbUuid(uuid)))
                .set((
                    assignment_items::decline_reason.eq(&reason),
                    assignment_items::modified.eq(DbTime(now())),
                ))
                .execute(connection)?;
            audit::record(
                connection,
                AuditEntry {
                    call_uuid: Some(item.call_uuid),
                    object_type: "item",
                    object_uuid: item.uuid,
                    action: "item.updated",
                    actor: Some(actor),
                    reason: "",
                    before: Some(json!({"decline_reason": item.decline_reason})),
                    after: Some(json!({"decline_reason": reason})),
                },
            )?;
        }
        view_item(connection, uuid)
    })
}

/// Deletes an item (with its conflict links) and settles its batch's status.
pub fn delete_item(connection: &mut AnyConnection, actor: &Actor, uuid: Uuid) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let (item, _call) = managed_item(connection, actor, uuid)?;
        audit::record(
            connection,
            AuditEntry {
                call_uuid: Some(item.call_uuid),
                object_type: "item",
                object_uuid: item.uuid,
                action: "item.deleted",
                actor: Some(actor),
                reason: "",
                before: Some(json!({
                    "status": item.status.as_str(),
                    "batch_uuid": uuid_text(item.batch_uuid),
                    "proposal_uuid": uuid_text(item.proposal_uuid),
                })),
                after: None,
            },
        )?;
        diesel::delete(assignment_items::table.find(DbUuid(uuid))).execute(connection)?;
        assignments::refresh_batch_status(connection, item.batch_uuid, Some(actor))?;
        Ok(())
    })
}

/// The reviewer's name for messages: the profile user's full name, else the invited e-mail.
fn reviewer_label(connection: &mut AnyConnection, entry: &PoolEntry) -> StoreResult<String> {
    let Some(profile_uuid) = entry.reviewer_uuid else {
        return Ok(entry.invited_email.clone());
    };
    let name: Option<String> = reviewer_profiles::table
        .inner_join(users::table)
        .filter(reviewer_profiles::uuid.eq(DbUuid(profile_uuid)))
        .select(users::full_name)
        .first(connection)
        .optional()?;
    Ok(name
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| entry.invited_email.clone()))
}

/// Applies the workload limit to one new unblocked item for `entry`: refused when the
/// reviewer's open assignments plus one exceed `max_assignments`, unless `override_limit`,
/// which is recorded in the audit log.
fn check_workload(
    connection: &mut AnyConnection,
    actor: &Actor,
    entry: &PoolEntry,
    override_limit: bool,
) -> StoreResult<()> {
    let open = assignments::open_assignments(connection, &[entry.uuid])?
        .get(&entry.uuid)
        .copied()
        .unwrap_or(0);
    if open < i64::from(entry.max_assignments) {
        return Ok(());
    }
    let name = reviewer_label(connection, entry)?;
    if !override_limit {
        return Err(DomainError::invalid_state(
            "workload_limit_exceeded",
            format!(
                "Reviewer {name} has {open} open assignments and a limit of {}, so 1 more would exceed it. \
                 Set override_workload_limit to true to assign anyway.",
                entry.max_assignments
            ),
        )
        .into());
    }
    let reason = format!(
        "Workload limit overridden: reviewer {name} had {open} open assignments and a limit of {}.",
        entry.max_assignments
    );
    audit::record(
        connection,
        AuditEntry {
            call_uuid: Some(entry.call_uuid),
            object_type: "pool_entry",
            object_uuid: entry.uuid,
            action: "pool_entry.workload_limit_overridden",
            actor: Some(actor),
            reason: &reason,
            before: Some(
                json!({"open_assignments": open, "max_assignments": entry.max_assignments}),
            ),
            after: Some(
                json!({"open_assignments": open + 1, "max_assignments": entry.max_assignments}),
            ),
        },
    )
}

/// Returns the blocking conflicts between the entry's reviewer and a proposal (none without a
/// profile), after evaluating the pair when conflict detection never did.
fn conflicts_for(
    connection: &mut AnyConnection,
    actor: &Actor,
    entry: &PoolEntry,
    proposal_uuid: Uuid,
) -> StoreResult<Vec<Uuid>> {
    match entry.reviewer_uuid {
        Some(reviewer) => {
            crate::detection::evaluate_pair_if_needed(
                connection,
                actor,
                entry.call_uuid,
                reviewer,
                proposal_uuid,
            )?;
            assignments::blocking_conflicts(connection, entry.call_uuid, reviewer, proposal_uuid)
        }
        None => Ok(Vec::new()),
    }
}

/// Body of a manager's request to add a proposal to a draft batch.
#[derive(Debug, Clone)]
pub struct NewItemRequest {
    pub batch_uuid: Uuid,
    pub proposal_uuid: Uuid,
    pub override_workload_limit: bool,
}

/// Adds one proposal to a draft batch, as manual assignment does: the item is COI-blocked
/// when the reviewer has a blocking conflict on the proposal, and an unblocked item must fit
/// the reviewer's workload limit unless the manager overrides it.
pub fn create_item(
    connection: &mut AnyConnection,
    actor: &Actor,
    request: &NewItemRequest,
) -> StoreResult<ItemView> {
    write_transaction(connection, |connection| {
        let batch_uuid = request.batch_uuid;
        let proposal_uuid = request.proposal_uuid;
        let missing_batch = || {
            DomainError::field(
                "batch",
                format!(
                    "No assignment batch has UUID {}. Send the uuid or url of a draft batch you manage.",
                    uuid_text(batch_uuid)
                ),
            )
        };
        let batch = assignments::get_batch(connection, batch_uuid)?.ok_or_else(missing_batch)?;
        let call = calls::get_call(connection, batch.call_uuid)?;
        if !batch_visible(connection, actor, &batch, &call)? {
            return Err(missing_batch().into());
        }
        call.require_manager(actor)?;
        if batch.status != BatchStatus::Draft {
            return Err(DomainError::field(
                "batch",
                format!(
                    "Assignment batch {} is {}; items can only be added to draft batches.",
                    uuid_text(batch_uuid),
                    batch.status.as_str()
                ),
            )
            .into());
        }

        let in_call: i64 = proposals::table
            .filter(proposals::uuid.eq(DbUuid(proposal_uuid)))
            .filter(proposals::call_uuid.eq(DbUuid(batch.call_uuid)))
            .count()
            .get_result(connection)?;
        if in_call == 0 {
            return Err(DomainError::field(
                "proposal",
                format!(
                    "Proposal {} is not a proposal of the batch's call. Send a proposal of call {}.",
                    uuid_text(proposal_uuid),
                    uuid_text(batch.call_uuid)
                ),
            )
            .into());
        }
        let same_entry: Vec<(DbUuid, String)> = assignment_items::table
            .filter(assignment_items::pool_entry_uuid.eq(DbUuid(batch.pool_entry_uuid)))
            .filter(assignment_items::proposal_uuid.eq(DbUuid(proposal_uuid)))
            .select((assignment_items::batch_uuid, assignment_items::status))
            .load(connection)?;
        if same_entry.iter().any(|(batch, _)| batch.0 == batch_uuid) {
            return Err(DomainError::field(
                "proposal",
                format!(
                    "Proposal {} is already in assignment batch {}. Each proposal appears once per batch.",
                    uuid_text(proposal_uuid),
                    uuid_text(batch_uuid)
                ),
            )
            .into());
        }
        if let Some((other, status)) = same_entry.iter().find(|(_, status)| {
            status == ItemStatus::Pending.as_str() || status == ItemStatus::Accepted.as_str()
        }) {
            return Err(DomainError::field(
                "proposal",
                format!(
                    "The reviewer already has a {status} assignment for proposal {} in batch {}.",
                    uuid_text(proposal_uuid),
                    uuid_text(other.0)
                ),
            )
            .into());
        }

        let entry = get_entry(connection, batch.pool_entry_uuid)?;
        if conflicts_for(connection, actor, &entry, proposal_uuid)?.is_empty() {
            check_workload(connection, actor, &entry, request.override_workload_limit)?;
        }
        let item = assignments::insert_item(
            connection,
            &batch,
            &NewItem {
                proposal_uuid,
                affinity_score: None,
                reassigned_from_uuid: None,
                reassign_count: 0,
            },
            Some(actor),
        )?;
        view_item(connection, item.uuid)
    })
}

/// Whether the actor sees a batch: as items are seen, by staff, support and the call's
/// managers, and by its reviewer once it was sent.
fn batch_visible(
    connection: &mut AnyConnection,
    actor: &Actor,
    batch: &Batch,
    call: &Call,
) -> StoreResult<bool> {
    if actor.reads_everything() || call.managed_by(actor) {
        return Ok(true);
    }
    if !BatchStatus::SHOWN_TO_REVIEWER.contains(&batch.status) {
        return Ok(false);
    }
    let entry = get_entry(connection, batch.pool_entry_uuid)?;
    reviewer_user(connection, &entry).map(|user| user == Some(actor.user_uuid))
}

/// The user behind the entry's reviewer profile.
fn reviewer_user(connection: &mut AnyConnection, entry: &PoolEntry) -> StoreResult<Option<Uuid>> {
    let Some(profile_uuid) = entry.reviewer_uuid else {
        return Ok(None);
    };
    let user: Option<DbUuid> = reviewer_profiles::table
        .find(DbUuid(profile_uuid))
        .select(reviewer_profiles::user_uuid)
        .first(connection)
        .optional()?;
    Ok(user.map(|user| user.0))
}

/// The rows that accept and decline check, read in one query: the item, its batch and pool entry,
/// the user behind the entry's reviewer profile, and the review duration of the proposal's
/// round.
struct Answer {
    item: Item,
    batch: Batch,
    entry: PoolEntry,
    reviewer_user: Option<Uuid>,
    review_duration_in_days: Option<i32>,
}

/// Loads the rows that accept and decline check. Only the reviewer the item was offered to
/// may accept or decline it. Managers act through reassign and force-unblock. An item the actor cannot see is not
/// found, as in [`find_visible_item`].
fn answerable(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    verb: &str,
) -> StoreResult<Answer> {
    type Row = (Item, Batch, PoolEntry, Option<DbUuid>, DbUuid, Option<i32>);
    let row: Option<Row> = assignment_items::table
        .inner_join(assignment_batches::table)
        .inner_join(
            call_reviewer_pools::table
                .on(call_reviewer_pools::uuid.eq(assignment_items::pool_entry_uuid)),
        )
        .left_join(
            reviewer_profiles::table.on(reviewer_profiles::uuid
                .nullable()
                .eq(call_reviewer_pools::reviewer_uuid)),
        )
        .inner_join(calls_table::table.on(calls_table::uuid.eq(assignment_items::call_uuid)))
        .inner_join(proposals::table.inner_join(rounds::table))
        .filter(assignment_items::uuid.eq(DbUuid(uuid)))
        .select((
            assignment_items::all_columns,
            assignment_batches::all_columns,
            call_reviewer_pools::all_columns,
            reviewer_profiles::user_uuid.nullable(),
            calls_table::customer_uuid,
            rounds::review_duration_in_days,
        ))
        .first(connection)
        .optional()?;
    let Some((item, batch, entry, reviewer_user, customer_uuid, review_duration_in_days)) = row
    else {
        return Err(DomainError::not_found("assignment item").into());
    };
    let reviewer_user = reviewer_user.map(|user| user.0);
    let own = reviewer_user == Some(actor.user_uuid);
    let visible = actor.reads_everything()
        || actor.manages_call(item.call_uuid, customer_uuid.0)
        || (own && BatchStatus::SHOWN_TO_REVIEWER.contains(&batch.status));
    if !visible {
        return Err(DomainError::not_found("assignment item").into());
    }
    if !own && entry.invited_user_uuid != Some(actor.user_uuid) {
        return Err(DomainError::permission_denied(format!(
            "Only the reviewer this assignment was offered to can {verb} it. Managers change an assignment \
             with reassign (declined or expired items) or force-unblock (COI-blocked items)."
        ))
        .into());
    }

    let at = now();
    if batch.is_expired_at(at) {
        let deadline = batch
            .expires_at
            .map(|time| time.to_rfc3339())
            .unwrap_or_default();
        return Err(DomainError::invalid_state(
            "assignment_expired",
            format!(
                "Cannot {verb} expired assignment: the batch deadline {deadline} has passed. \
                 Ask the call manager to extend the deadline."
            ),
        )
        .into());
    }
    if item.status != ItemStatus::Pending {
        return Err(not_pending(verb, item.status));
    }
    Ok(Answer {
        item,
        batch,
        entry,
        reviewer_user,
        review_duration_in_days,
    })
}

fn not_pending(verb: &str, status: ItemStatus) -> crate::error::StoreError {
    DomainError::invalid_state(
        "item_not_pending",
        format!(
            "Can only {verb} pending assignments; this assignment is {}.",
            status.as_str()
        ),
    )
    .into()
}

/// Accepts an item as its reviewer: creates the review (state `in_review`), marks the item
/// accepted and settles the batch status. Returns the review's UUID.
pub fn accept_item(connection: &mut AnyConnection, actor: &Actor, uuid: Uuid) -> StoreResult<Uuid> {
    write_transaction(connection, |connection| {
        let answer = answerable(connection, actor, uuid, "accept")?;
        let item = &answer.item;
        if item.has_coi {
            return Err(DomainError::invalid_state(
                "unresolved_coi",
                "Cannot accept assignment with unresolved COI. Please contact the call manager.",
            )
            .into());
        }
        let Some(reviewer_user_uuid) = answer.reviewer_user else {
            return Err(DomainError::invalid_state(
                "reviewer_profile_missing",
                format!(
                    "Reviewer profile not found: pool entry {} has no reviewer profile. Publish a profile and accept the pool invitation first.",
                    uuid_text(answer.entry.uuid)
                ),
            )
            .into());
        };

        // The review comes first so that the item can point to it in the same update that
        // claims it. A lost race rolls both back.
        let at = now();
        let review = assignments::NewReview {
            proposal_uuid: item.proposal_uuid,
            call_uuid: item.call_uuid,
            reviewer_user_uuid,
            review_end_date: assignments::deadline_after(
                answer.review_duration_in_days,
                answer.batch.expires_at,
                at,
            ),
            created: at,
        };
        let review_uuid = assignments::insert_review(connection, &review)?;
        let claimed = diesel::update(
            assignment_items::table
                .filter(assignment_items::uuid.eq(DbUuid(uuid)))
                .filter(assignment_items::status.eq(ItemStatus::Pending.as_str()))
                .filter(assignment_items::has_coi.eq(false)),
        )
        .set((
            assignment_items::status.eq(ItemStatus::Accepted.as_str()),
            assignment_items::responded_at.eq(Some(DbTime(at))),
            assignment_items::review_uuid.eq(Some(DbUuid(review_uuid))),
            assignment_items::modified.eq(DbTime(at)),
        ))
        .execute(connection)?;
        if claimed != 1 {
            return Err(not_pending("accept", ItemStatus::Accepted));
        }

        // One INSERT writes both audit events.
        let accepted = json!({"status": "accepted", "review_uuid": uuid_text(review_uuid)});
        audit::record_all(
            connection,
            &[
                (
                    at,
                    assignments::review_created(&review, review_uuid, Some(actor)),
                ),
                (
                    at,
                    item_change(item, "item.accepted", Some(actor), "", accepted),
                ),
            ],
        )?;
        assignments::settle_batch_status(connection, &answer.batch, Some(actor))?;
        tracing::info!(item.uuid = %uuid.simple(), review.uuid = %review_uuid.simple(), "assignment accepted");
        Ok(review_uuid)
    })
}

/// What happened after a decline.
#[derive(Debug, Clone, PartialEq)]
pub struct Declined {
    /// The item that replaced the declined one when the call reassigns automatically.
    pub reassigned_to: Option<Item>,
}

/// Declines an item as its reviewer, settles the batch status, and, when the call's
/// assignment configuration asks for it, reassigns the proposal to the best alternative
/// reviewer who has capacity.
pub fn decline_item(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    reason: &str,
) -> StoreResult<Declined> {
    write_transaction(connection, |connection| {
        let Answer { item, batch, .. } = answerable(connection, actor, uuid, "decline")?;
        let at = now();
        let claimed = diesel::update(
            assignment_items::table
                .filter(assignment_items::uuid.eq(DbUuid(uuid)))
                .filter(assignment_items::status.eq(ItemStatus::Pending.as_str())),
        )
        .set((
            assignment_items::status.eq(ItemStatus::Declined.as_str()),
            assignment_items::responded_at.eq(Some(DbTime(at))),
            assignment_items::decline_reason.eq(reason),
            assignment_items::modified.eq(DbTime(at)),
        ))
        .execute(connection)?;
        if claimed != 1 {
            return Err(not_pending("decline", ItemStatus::Declined));
        }
        record_item_change(
            connection,
            &item,
            "item.declined",
            Some(actor),
            reason,
            json!({"status": "declined"}),
        )?;
        assignments::settle_batch_status(connection, &batch, Some(actor))?;

        let declined = Item {
            status: ItemStatus::Declined,
            responded_at: Some(at),
            decline_reason: reason.to_owned(),
            modified: at,
            ..item
        };
        let reassigned_to = auto_reassign(connection, actor, &declined)?;
        Ok(Declined { reassigned_to })
    })
}

/// Reassigns a just-declined item when the call's `auto_reassign_on_decline` is on and the
/// proposal slot has attempts left; otherwise, or when no reviewer with capacity is left, it
/// records why nothing was reassigned.
fn auto_reassign(
    connection: &mut AnyConnection,
    actor: &Actor,
    item: &Item,
) -> StoreResult<Option<Item>> {
    let config = crate::configs::assignment_config(connection, item.call_uuid)?;
    if !config.auto_reassign_on_decline {
        return Ok(None);
    }
    let skip_reason = if item.reassign_count >= config.max_auto_reassign_attempts {
        Some(format!(
            "Not reassigned automatically: this proposal slot was already reassigned {} time(s), \
             and max_auto_reassign_attempts is {}.",
            item.reassign_count, config.max_auto_reassign_attempts
        ))
    } else {
        None
    };
    let mut candidate = None;
    if skip_reason.is_none() {
        for ranked in rank_candidates(connection, item)? {
            if !ranked.has_capacity {
                break;
            }
            // A candidate whose pair was never evaluated may turn out to conflict.
            let entry = get_entry(connection, ranked.entry_uuid)?;
            if !conflicts_for(connection, actor, &entry, item.proposal_uuid)?.is_empty() {
                continue;
            }
            candidate = Some(entry);
            break;
        }
    }
    let Some(candidate) = candidate else {
        let reason = skip_reason.unwrap_or_else(|| {
            "Not reassigned automatically: no accepted reviewer of the call without a blocking conflict \
             and an existing assignment of this proposal has capacity left."
                .to_owned()
        });
        tracing::info!(item.uuid = %item.uuid.simple(), reason = %reason, "automatic reassignment skipped");
        audit::record(
            connection,
            AuditEntry {
                call_uuid: Some(item.call_uuid),
                object_type: "item",
                object_uuid: item.uuid,
                action: "item.auto_reassign_skipped",
                actor: Some(actor),
                reason: &reason,
                before: Some(json!({"status": item.status.as_str()})),
                after: Some(json!({"status": item.status.as_str()})),
            },
        )?;
        return Ok(None);
    };

    let entry = candidate;
    let reason = format!(
        "Reassigned automatically after the decline (auto_reassign_on_decline), to the top-ranked reviewer with capacity: pool entry {}.",
        uuid_text(entry.uuid)
    );
    let moved = move_item(connection, actor, item, &entry, "", &reason)?;
    Ok(Some(moved.0))
}

/// Moves a declined or expired item to another pool entry: the old item becomes
/// `reassigned`, and a new item (cached affinity, `reassigned_from`, one more
/// `reassign_count`, COI-blocked when the reviewer has blocking conflicts) lands in the
/// entry's draft batch, created with `notes` when it has none. Returns the new item and batch.
fn move_item(
    connection: &mut AnyConnection,
    actor: &Actor,
    item: &Item,
    entry: &PoolEntry,
    notes: &str,
    reason: &str,
) -> StoreResult<(Item, Batch)> {
    let claimed = diesel::update(
        assignment_items::table
            .filter(assignment_items::uuid.eq(DbUuid(item.uuid)))
            .filter(assignment_items::status.eq(item.status.as_str())),
    )
    .set((
        assignment_items::status.eq(ItemStatus::Reassigned.as_str()),
        assignment_items::modified.eq(DbTime(now())),
    ))
    .execute(connection)?;
    if claimed != 1 {
        return Err(not_reassignable(item.status));
    }

    let (batch, _created) = assignments::draft_batch(
        connection,
        entry.call_uuid,
        entry.uuid,
        AssignmentSource::Manual,
        Some(actor),
        notes,
    )?;
    let affinity_score = match entry.reviewer_uuid {
        Some(reviewer) => {
            cached_affinities(connection, item.call_uuid, item.proposal_uuid)?.remove(&reviewer)
        }
        None => None,
    };
    let new_item = assignments::insert_item(
        connection,
        &batch,
        &NewItem {
            proposal_uuid: item.proposal_uuid,
            affinity_score,
            reassigned_from_uuid: Some(item.uuid),
            reassign_count: item.reassign_count + 1,
        },
        Some(actor),
    )?;
    record_item_change(
        connection,
        item,
        "item.reassigned",
        Some(actor),
        reason,
        json!({
            "status": "reassigned",
            "new_item_uuid": uuid_text(new_item.uuid),
            "new_batch_uuid": uuid_text(batch.uuid),
            "pool_entry_uuid": uuid_text(entry.uuid),
        }),
    )?;
    tracing::info!(
        item.uuid = %item.uuid.simple(),
        new_item.uuid = %new_item.uuid.simple(),
        pool_entry.uuid = %entry.uuid.simple(),
        "assignment reassigned"
    );
    Ok((new_item, batch))
}

/// Whether an item may be reassigned: declined or expired, or left unanswered (pending or
/// COI-blocked) in a batch the manager cancelled, which the reviewer can no longer see.
fn is_reassignable(connection: &mut AnyConnection, item: &Item) -> StoreResult<bool> {
    match item.status {
        ItemStatus::Declined | ItemStatus::Expired => Ok(true),
        ItemStatus::Pending | ItemStatus::CoiBlocked => {
            let batch = assignments::get_batch(connection, item.batch_uuid)?;
            Ok(batch.is_some_and(|batch| batch.status == BatchStatus::Cancelled))
        }
        ItemStatus::Accepted | ItemStatus::Reassigned => Ok(false),
    }
}

fn not_reassignable(status: ItemStatus) -> crate::error::StoreError {
    DomainError::invalid_state(
        "item_not_reassignable",
        format!(
            "Only declined or expired items, and unanswered items of cancelled batches, can be \
             reassigned; this item is {}.",
            status.as_str()
        ),
    )
    .into()
}

/// Cached affinity scores of a proposal, by reviewer profile.
fn cached_affinities(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    proposal_uuid: Uuid,
) -> StoreResult<HashMap<Uuid, f64>> {
    Ok(reviewer_proposal_affinities::table
        .filter(reviewer_proposal_affinities::call_uuid.eq(DbUuid(call_uuid)))
        .filter(reviewer_proposal_affinities::proposal_uuid.eq(DbUuid(proposal_uuid)))
        .select((
            reviewer_proposal_affinities::reviewer_uuid,
            reviewer_proposal_affinities::affinity_score,
        ))
        .load::<(DbUuid, f64)>(connection)?
        .into_iter()
        .map(|(reviewer, score)| (reviewer.0, score))
        .collect())
}

/// A reviewer who could take over a declined item.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub entry: PoolEntryView,
    /// Cached affinity of the reviewer and the proposal; `None` when none is cached.
    pub affinity_score: Option<f64>,
    /// Whether the reviewer's open assignments are below `max_assignments`.
    pub has_capacity: bool,
    /// 1-based position in the ranking.
    pub rank: usize,
    /// Conflict-of-interest state of the pair: `none` when detection evaluated it and found
    /// nothing, `unknown` when detection never evaluated it, else the status of its oldest
    /// conflict. That status is never a blocking one, because such reviewers are no candidates.
    pub coi_status: String,
}

/// A reviewer who could take over an item, before the pool entry's representation is read.
#[derive(Debug, Clone)]
struct Candidate {
    entry_uuid: Uuid,
    reviewer_uuid: Uuid,
    affinity_score: Option<f64>,
    current_assignments: i64,
    has_capacity: bool,
}

/// Ranks the reviewers who could take over an item's proposal: accepted pool entries of the
/// call with a reviewer profile, without any item for the proposal and without a blocking
/// conflict on it. Entries with capacity come first; within each group, higher affinity
/// (missing counts as 0), then fewer open assignments, then pool order (newest invitation
/// first). Reads a few columns per entry and a fixed number of queries, whatever the size of
/// the pool.
fn rank_candidates(connection: &mut AnyConnection, item: &Item) -> StoreResult<Vec<Candidate>> {
    let offered = assignment_items::table
        .filter(assignment_items::proposal_uuid.eq(DbUuid(item.proposal_uuid)))
        .select(assignment_items::pool_entry_uuid);
    let blocked = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(item.call_uuid)))
        .filter(
            conflicts_of_interest::proposal_uuid
                .eq(DbUuid(item.proposal_uuid))
                .or(conflicts_of_interest::proposal_uuid.is_null()),
        )
        .filter(conflicts_of_interest::status.eq_any(assignments::BLOCKING))
        .select(conflicts_of_interest::reviewer_uuid.nullable());
    let entries: Vec<(DbUuid, DbUuid, i32)> = call_reviewer_pools::table
        .filter(call_reviewer_pools::call_uuid.eq(DbUuid(item.call_uuid)))
        .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Accepted.as_str()))
        .filter(call_reviewer_pools::reviewer_uuid.is_not_null())
        .filter(not(call_reviewer_pools::uuid.eq_any(offered)))
        .filter(not(call_reviewer_pools::reviewer_uuid.eq_any(blocked)))
        .order((
            call_reviewer_pools::invited_at.desc(),
            call_reviewer_pools::uuid.asc(),
        ))
        .select((
            call_reviewer_pools::uuid,
            call_reviewer_pools::reviewer_uuid.assume_not_null(),
            call_reviewer_pools::max_assignments,
        ))
        .load(connection)?;

    let affinities = cached_affinities(connection, item.call_uuid, item.proposal_uuid)?;
    let entry_uuids: Vec<Uuid> = entries.iter().map(|(entry, _, _)| entry.0).collect();
    let open = assignments::open_assignments(connection, &entry_uuids)?;
    let mut candidates: Vec<Candidate> = entries
        .into_iter()
        .map(|(entry, reviewer, max_assignments)| {
            let current_assignments = open.get(&entry.0).copied().unwrap_or(0);
            Candidate {
                entry_uuid: entry.0,
                reviewer_uuid: reviewer.0,
                affinity_score: affinities.get(&reviewer.0).copied(),
                current_assignments,
                has_capacity: current_assignments < i64::from(max_assignments),
            }
        })
        .collect();
    candidates.sort_by(compare_candidates);
    Ok(candidates)
}

/// Loads the conflict state of each candidate profile with the item's proposal: the status of
/// the oldest conflict, else `none` for an evaluated pair. Profiles missing from the map were
/// never evaluated.
fn candidate_coi_states(
    connection: &mut AnyConnection,
    item: &Item,
    profiles: &[Uuid],
) -> StoreResult<HashMap<Uuid, String>> {
    let keys: Vec<DbUuid> = profiles.iter().copied().map(DbUuid).collect();
    let mut states: HashMap<Uuid, String> = coi_evaluated_pairs::table
        .filter(coi_evaluated_pairs::call_uuid.eq(DbUuid(item.call_uuid)))
        .filter(coi_evaluated_pairs::proposal_uuid.eq(DbUuid(item.proposal_uuid)))
        .filter(coi_evaluated_pairs::reviewer_uuid.eq_any(&keys))
        .select(coi_evaluated_pairs::reviewer_uuid)
        .load::<DbUuid>(connection)?
        .into_iter()
        .map(|reviewer| (reviewer.0, "none".to_owned()))
        .collect();
    // Newest first, so the oldest conflict of a reviewer is written last.
    let conflicts: Vec<(DbUuid, String)> = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(item.call_uuid)))
        .filter(conflicts_of_interest::proposal_uuid.eq(DbUuid(item.proposal_uuid)))
        .filter(conflicts_of_interest::reviewer_uuid.eq_any(&keys))
        .order((
            conflicts_of_interest::detected_at.desc(),
            conflicts_of_interest::uuid.desc(),
        ))
        .select((
            conflicts_of_interest::reviewer_uuid,
            conflicts_of_interest::status,
        ))
        .load(connection)?;
    for (reviewer, status) in conflicts {
        states.insert(reviewer.0, status);
    }
    Ok(states)
}

/// Orders candidates best first; equal candidates keep their pool order (the sort is stable).
fn compare_candidates(left: &Candidate, right: &Candidate) -> Ordering {
    right
        .has_capacity
        .cmp(&left.has_capacity)
        .then_with(|| {
            let left_score = left.affinity_score.unwrap_or(0.0);
            let right_score = right.affinity_score.unwrap_or(0.0);
            right_score.total_cmp(&left_score)
        })
        .then_with(|| left.current_assignments.cmp(&right.current_assignments))
}

/// Suggests up to `limit` reviewers for a declined item, best first (see [`rank_candidates`]).
/// Only the suggested entries' representations and conflict states are read.
pub fn suggest_alternatives(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    limit: usize,
) -> StoreResult<Vec<Suggestion>> {
    let (item, _call) = managed_item(connection, actor, uuid)?;
    if item.status != ItemStatus::Declined {
        return Err(DomainError::invalid_state(
            "item_not_declined",
            format!(
                "Alternatives can only be suggested for declined items; this item is {}.",
                item.status.as_str()
            ),
        )
        .into());
    }
    let mut candidates = rank_candidates(connection, &item)?;
    candidates.truncate(limit);

    let keys: Vec<DbUuid> = candidates
        .iter()
        .map(|candidate| DbUuid(candidate.entry_uuid))
        .collect();
    let mut entries: HashMap<Uuid, PoolEntry> = call_reviewer_pools::table
        .filter(call_reviewer_pools::uuid.eq_any(&keys))
        .load::<PoolEntry>(connection)?
        .into_iter()
        .map(|entry| (entry.uuid, entry))
        .collect();
    let ordered: Vec<PoolEntry> = candidates
        .iter()
        .filter_map(|candidate| entries.remove(&candidate.entry_uuid))
        .collect();
    let profiles: Vec<Uuid> = candidates
        .iter()
        .map(|candidate| candidate.reviewer_uuid)
        .collect();
    let coi_states = candidate_coi_states(connection, &item, &profiles)?;
    let mut views: HashMap<Uuid, PoolEntryView> = pool::views(connection, ordered)?
        .into_iter()
        .map(|view| (view.entry.uuid, view))
        .collect();
    Ok(candidates
        .into_iter()
        .enumerate()
        .filter_map(|(index, candidate)| {
            let view = views.remove(&candidate.entry_uuid)?;
            Some(Suggestion {
                entry: view,
                affinity_score: candidate.affinity_score,
                has_capacity: candidate.has_capacity,
                rank: index + 1,
                coi_status: coi_states
                    .get(&candidate.reviewer_uuid)
                    .cloned()
                    .unwrap_or_else(|| "unknown".to_owned()),
            })
        })
        .collect())
}

/// Body of a manager's reassignment.
#[derive(Debug, Clone)]
pub struct ReassignRequest {
    pub pool_entry_uuid: Uuid,
    /// Notes of the target's draft batch when a new one is created.
    pub manager_notes: String,
    pub override_workload_limit: bool,
}

/// Result of a reassignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Reassigned {
    pub new_item: Item,
    pub new_batch_uuid: Uuid,
}

/// Reassigns a declined or expired item to another accepted reviewer of the same call who
/// has no item for the proposal yet. The workload limit applies to an unblocked new item
/// unless the manager overrides it.
pub fn reassign_item(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    request: &ReassignRequest,
) -> StoreResult<Reassigned> {
    write_transaction(connection, |connection| {
        let (item, _call) = managed_item(connection, actor, uuid)?;
        if !is_reassignable(connection, &item)? {
            return Err(not_reassignable(item.status));
        }

        let not_eligible = || {
            DomainError::invalid_state(
                "pool_entry_not_eligible",
                format!(
                    "Pool entry not found or not eligible for assignments: {} is not an accepted reviewer \
                     with a profile in this call's pool.",
                    uuid_text(request.pool_entry_uuid)
                ),
            )
        };
        let entry = call_reviewer_pools::table
            .find(DbUuid(request.pool_entry_uuid))
            .first::<PoolEntry>(connection)
            .optional()?
            .ok_or_else(not_eligible)?;
        if entry.call_uuid != item.call_uuid
            || entry.invitation_status != InvitationStatus::Accepted
            || entry.reviewer_uuid.is_none()
        {
            return Err(not_eligible().into());
        }

        let existing: i64 = assignment_items::table
            .filter(assignment_items::pool_entry_uuid.eq(DbUuid(entry.uuid)))
            .filter(assignment_items::proposal_uuid.eq(DbUuid(item.proposal_uuid)))
            .count()
            .get_result(connection)?;
        if existing > 0 {
            return Err(DomainError::invalid_state(
                "already_assigned",
                format!(
                    "This reviewer already has this proposal assigned: pool entry {} has an item for proposal {}. \
                     Choose another reviewer.",
                    uuid_text(entry.uuid),
                    uuid_text(item.proposal_uuid)
                ),
            )
            .into());
        }

        if conflicts_for(connection, actor, &entry, item.proposal_uuid)?.is_empty() {
            check_workload(connection, actor, &entry, request.override_workload_limit)?;
        }
        let (new_item, batch) =
            move_item(connection, actor, &item, &entry, &request.manager_notes, "")?;
        Ok(Reassigned {
            new_item,
            new_batch_uuid: batch.uuid,
        })
    })
}

/// Lifts the COI block of an item on a manager's responsibility: the item returns to
/// `pending` (its conflict links stay), the override is recorded on it and in the audit log,
/// and a responded batch reopens.
pub fn force_unblock(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    override_reason: Option<&str>,
    override_workload_limit: bool,
) -> StoreResult<ItemView> {
    write_transaction(connection, |connection| {
        let (item, _call) = managed_item(connection, actor, uuid)?;
        if item.status != ItemStatus::CoiBlocked {
            return Err(DomainError::invalid_state(
                "item_not_blocked",
                format!(
                    "Only COI-blocked items can be force-unblocked; this item is {}.",
                    item.status.as_str()
                ),
            )
            .into());
        }
        let reason = override_reason.map(str::trim).unwrap_or_default();
        if reason.is_empty() {
            let message = if override_reason.is_none() {
                "This field is required. Say why the conflict of interest does not prevent this review."
            } else {
                "This field may not be blank. Say why the conflict of interest does not prevent this review."
            };
            return Err(DomainError::field("override_reason", message).into());
        }

        // A recusal is the reviewer's own withdrawal; no manager override lifts it.
        let recused = conflicts_of_interest::table
            .filter(conflicts_of_interest::call_uuid.eq(DbUuid(item.call_uuid)))
            .filter(
                conflicts_of_interest::reviewer_uuid
                    .nullable()
                    .eq(item.reviewer_uuid.map(DbUuid)),
            )
            .filter(
                conflicts_of_interest::proposal_uuid
                    .eq(DbUuid(item.proposal_uuid))
                    .or(conflicts_of_interest::proposal_uuid.is_null()),
            )
            .filter(conflicts_of_interest::status.eq(CoiStatus::Recused.as_str()))
            .count()
            .get_result::<i64>(connection)?;
        if recused > 0 {
            return Err(DomainError::invalid_state(
                "conflict_recused",
                "The reviewer recused themselves from this proposal, so the item cannot be unblocked. \
                 Reassign the proposal to another reviewer instead.",
            )
            .into());
        }
        let entry: PoolEntry = call_reviewer_pools::table
            .find(DbUuid(item.pool_entry_uuid))
            .first(connection)?;
        check_workload(connection, actor, &entry, override_workload_limit)?;

        let at = now();
        let claimed = diesel::update(
            assignment_items::table
                .filter(assignment_items::uuid.eq(DbUuid(uuid)))
                .filter(assignment_items::status.eq(ItemStatus::CoiBlocked.as_str())),
        )
        .set((
            assignment_items::status.eq(ItemStatus::Pending.as_str()),
            assignment_items::has_coi.eq(false),
            assignment_items::override_reason.eq(reason),
            assignment_items::overridden_by_uuid.eq(Some(DbUuid(actor.user_uuid))),
            assignment_items::overridden_at.eq(Some(DbTime(at))),
            assignment_items::modified.eq(DbTime(at)),
        ))
        .execute(connection)?;
        if claimed != 1 {
            return Err(DomainError::invalid_state(
                "item_not_blocked",
                "Only COI-blocked items can be force-unblocked; this item changed while it was being unblocked.",
            )
            .into());
        }
        record_item_change(
            connection,
            &item,
            "item.force_unblocked",
            Some(actor),
            reason,
            json!({"status": "pending", "has_coi": false, "overridden_at": time_text(Some(at))}),
        )?;
        assignments::refresh_batch_status(connection, item.batch_uuid, Some(actor))?;
        view_item(connection, uuid)
    })
}
