//! Assignment batches: the list and detail with their visibility, and the manager actions
//! (notes, delete, send, cancel, extend the deadline). This module also serves the reviewer's
//! own batches, the call actions that create and send batches (manual assignment, generation,
//! send all) and the scheduler jobs (expiry, expiry reminders, notices about expired batches).
//!
//! Visibility: staff and support see every batch. Call managers (`CALL.MANAGER` on the call)
//! and owners and managers of the call's managing organisation see the call's batches. A
//! reviewer sees their own batches once sent (`sent`, `responded`, `expired`). Everyone else
//! gets a 404.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use referee_domain::assignment::{
    AssignmentProblem, AssignmentSolution, Candidate, ProposalDemand, ReviewerCapacity,
};
use referee_domain::enums::{
    AssignmentSource, BatchStatus, CallRole, DisclosureLevel, InvitationStatus, ItemStatus,
    MatchingAlgorithm, ProposalState, ReviewState,
};
use referee_domain::solver::{self, Algorithm, SolveOptions};
use referee_domain::{Actor, DomainError};
use serde_json::json;
use uuid::Uuid;

use crate::assignments::{self, Batch, Item, ItemRow, NewItem};
use crate::audit::{self, AuditEntry, OutboxMessage};
use crate::bulk::CreationClock;
use crate::calls::{self, Call};
use crate::configs;
use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::pool::PoolEntry;
use crate::schema::{
    assignment_batches, assignment_item_conflicts, assignment_items, call_reviewer_pools,
    calls as calls_table, proposal_reviews, proposals, reviewer_profiles,
    reviewer_proposal_affinities, role_grants, rounds, users,
};
use crate::sql_types::{DbTime, DbUuid};
use crate::transaction::write_transaction;

/// A batch with the names and counts its representation shows.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchView {
    pub batch: Batch,
    pub call_name: String,
    /// The reviewer profile of the batch's pool entry.
    pub reviewer_uuid: Option<Uuid>,
    /// Full name of the profile's user, else of the invited user, else none.
    pub reviewer_name: Option<String>,
    /// E-mail of the profile's user, else of the invited user, else the invited address.
    pub reviewer_email: String,
    pub created_by_name: Option<String>,
    pub items_count: i64,
    pub items_pending_count: i64,
    pub items_accepted_count: i64,
    pub items_declined_count: i64,
}

/// An item of a batch with its proposal's names and its conflict count.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub item: Item,
    pub proposal_name: String,
    pub proposal_slug: String,
    pub project_summary: String,
    /// Conflicts of interest linked to the item, any status.
    pub coi_count: i64,
    pub overridden_by_name: Option<String>,
}

impl ItemView {
    /// Returns the proposal summary a reviewer may see: empty at the `titles_only` level and for
    /// an item blocked by a conflict of interest, else the proposal's project summary.
    pub fn disclosed_summary(&self, level: DisclosureLevel) -> String {
        if level == DisclosureLevel::TitlesOnly || self.item.status == ItemStatus::CoiBlocked {
            String::new()
        } else {
            self.project_summary.clone()
        }
    }
}

/// A batch with its items, oldest item first.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchDetail {
    pub view: BatchView,
    pub items: Vec<ItemView>,
    /// How much of each proposal the call discloses to reviewers.
    pub disclosure: DisclosureLevel,
}

/// Fields a batch list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOrder {
    Created,
    SentAt,
    ExpiresAt,
    Status,
}

/// Filters of the batch list; they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct BatchFilter {
    pub call_uuid: Option<Uuid>,
    /// Reviewer profile of the batch's pool entry.
    pub reviewer_uuid: Option<Uuid>,
    pub pool_entry_uuid: Option<Uuid>,
    /// Any of these statuses, or every status when empty.
    pub statuses: Vec<BatchStatus>,
    /// Any of these sources, or every source when empty.
    pub sources: Vec<AssignmentSource>,
    /// `sent_at` at or after this instant.
    pub sent_after: Option<DateTime<Utc>>,
    /// `sent_at` at or before this instant.
    pub sent_before: Option<DateTime<Utc>>,
}

fn status_values(statuses: &[BatchStatus]) -> Vec<&'static str> {
    statuses.iter().map(|status| status.as_str()).collect()
}

/// Batches the actor may see (see the module documentation).
fn visible(actor: &Actor) -> assignment_batches::BoxedQuery<'static, MultiBackend> {
    let query = assignment_batches::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }
    let managed_calls: Vec<DbUuid> = actor.managed_call_uuids().into_iter().map(DbUuid).collect();
    let managed_customers: Vec<DbUuid> = actor
        .managed_customer_uuids()
        .into_iter()
        .map(DbUuid)
        .collect();
    let managed = calls_table::table
        .filter(
            calls_table::uuid
                .eq_any(managed_calls)
                .or(calls_table::customer_uuid.eq_any(managed_customers)),
        )
        .select(calls_table::uuid);
    let own_profiles = reviewer_profiles::table
        .filter(reviewer_profiles::user_uuid.eq(DbUuid(actor.user_uuid)))
        .select(reviewer_profiles::uuid.nullable());
    let own_entries = call_reviewer_pools::table
        .filter(call_reviewer_pools::reviewer_uuid.eq_any(own_profiles))
        .select(call_reviewer_pools::uuid);
    query.filter(
        assignment_batches::call_uuid
            .eq_any(managed)
            .or(assignment_batches::pool_entry_uuid.eq_any(own_entries).and(
                assignment_batches::status.eq_any(status_values(BatchStatus::SHOWN_TO_REVIEWER)),
            )),
    )
}

fn filtered(
    actor: &Actor,
    filter: &BatchFilter,
) -> assignment_batches::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(actor);
    if let Some(call_uuid) = filter.call_uuid {
        query = query.filter(assignment_batches::call_uuid.eq(DbUuid(call_uuid)));
    }
    if let Some(reviewer_uuid) = filter.reviewer_uuid {
        let entries = call_reviewer_pools::table
            .filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(reviewer_uuid)))
            .select(call_reviewer_pools::uuid);
        query = query.filter(assignment_batches::pool_entry_uuid.eq_any(entries));
    }
    if let Some(entry_uuid) = filter.pool_entry_uuid {
        query = query.filter(assignment_batches::pool_entry_uuid.eq(DbUuid(entry_uuid)));
    }
    if !filter.statuses.is_empty() {
        query = query.filter(assignment_batches::status.eq_any(status_values(&filter.statuses)));
    }
    if !filter.sources.is_empty() {
        let sources: Vec<&'static str> = filter
            .sources
            .iter()
            .map(|source| source.as_str())
            .collect();
        query = query.filter(assignment_batches::source.eq_any(sources));
    }
    if let Some(after) = filter.sent_after {
        query = query.filter(assignment_batches::sent_at.ge(DbTime::from(after)));
    }
    if let Some(before) = filter.sent_before {
        query = query.filter(assignment_batches::sent_at.le(DbTime::from(before)));
    }
    query
}

/// Lists batches visible to the actor, newest first unless `order` sets another order. Runs a
/// fixed number of queries whatever the page size.
pub fn list_batches(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &BatchFilter,
    order: &[SortKey<BatchOrder>],
    page: PageRequest,
) -> StoreResult<Page<BatchView>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(assignment_batches::created.desc());
    }
    // Missing dates sort last in ascending and first in descending order on both backends,
    // as PostgreSQL does natively.
    for key in order {
        query = match (key.field, key.descending) {
            (BatchOrder::Created, false) => query.then_order_by(assignment_batches::created.asc()),
            (BatchOrder::Created, true) => query.then_order_by(assignment_batches::created.desc()),
            (BatchOrder::SentAt, false) => query
                .then_order_by(assignment_batches::sent_at.is_null().asc())
                .then_order_by(assignment_batches::sent_at.asc()),
            (BatchOrder::SentAt, true) => query
                .then_order_by(assignment_batches::sent_at.is_null().desc())
                .then_order_by(assignment_batches::sent_at.desc()),
            (BatchOrder::ExpiresAt, false) => query
                .then_order_by(assignment_batches::expires_at.is_null().asc())
                .then_order_by(assignment_batches::expires_at.asc()),
            (BatchOrder::ExpiresAt, true) => query
                .then_order_by(assignment_batches::expires_at.is_null().desc())
                .then_order_by(assignment_batches::expires_at.desc()),
            (BatchOrder::Status, false) => query.then_order_by(assignment_batches::status.asc()),
            (BatchOrder::Status, true) => query.then_order_by(assignment_batches::status.desc()),
        };
    }
    let batches = query
        .then_order_by(assignment_batches::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Batch>(connection)?;

    Ok(Page {
        rows: views(connection, batches)?,
        total,
    })
}

/// Loads the names and item counts of several batches with five queries.
pub fn views(connection: &mut AnyConnection, batches: Vec<Batch>) -> StoreResult<Vec<BatchView>> {
    if batches.is_empty() {
        return Ok(Vec::new());
    }

    let call_keys: Vec<DbUuid> = batches
        .iter()
        .map(|batch| DbUuid(batch.call_uuid))
        .collect();
    let call_names: HashMap<Uuid, String> = calls_table::table
        .filter(calls_table::uuid.eq_any(call_keys))
        .select((calls_table::uuid, calls_table::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    let entry_keys: Vec<DbUuid> = batches
        .iter()
        .map(|batch| DbUuid(batch.pool_entry_uuid))
        .collect();
    let entries: HashMap<Uuid, PoolEntry> = call_reviewer_pools::table
        .filter(call_reviewer_pools::uuid.eq_any(entry_keys))
        .load::<PoolEntry>(connection)?
        .into_iter()
        .map(|entry| (entry.uuid, entry))
        .collect();

    let profile_keys: Vec<DbUuid> = entries
        .values()
        .filter_map(|entry| entry.reviewer_uuid.map(DbUuid))
        .collect();
    let profile_users: HashMap<Uuid, (String, String)> = reviewer_profiles::table
        .inner_join(users::table)
        .filter(reviewer_profiles::uuid.eq_any(profile_keys))
        .select((reviewer_profiles::uuid, users::full_name, users::email))
        .load::<(DbUuid, String, String)>(connection)?
        .into_iter()
        .map(|(profile, name, email)| (profile.0, (name, email)))
        .collect();

    let user_keys: Vec<DbUuid> = entries
        .values()
        .filter_map(|entry| entry.invited_user_uuid)
        .chain(batches.iter().filter_map(|batch| batch.created_by_uuid))
        .map(DbUuid)
        .collect();
    let other_users: HashMap<Uuid, (String, String)> = users::table
        .filter(users::uuid.eq_any(user_keys))
        .select((users::uuid, users::full_name, users::email))
        .load::<(DbUuid, String, String)>(connection)?
        .into_iter()
        .map(|(uuid, name, email)| (uuid.0, (name, email)))
        .collect();

    let batch_keys: Vec<DbUuid> = batches.iter().map(|batch| DbUuid(batch.uuid)).collect();
    let count_rows: Vec<(DbUuid, String, i64)> = assignment_items::table
        .filter(assignment_items::batch_uuid.eq_any(batch_keys))
        .group_by((assignment_items::batch_uuid, assignment_items::status))
        .select((
            assignment_items::batch_uuid,
            assignment_items::status,
            diesel::dsl::count_star(),
        ))
        .load(connection)?;
    let mut counts: HashMap<(Uuid, String), i64> = HashMap::new();
    for (batch, status, count) in count_rows {
        counts.insert((batch.0, status), count);
    }

    let mut result = Vec::with_capacity(batches.len());
    for batch in batches {
        let entry = entries.get(&batch.pool_entry_uuid);
        let reviewer_uuid = entry.and_then(|entry| entry.reviewer_uuid);
        let person = reviewer_uuid
            .and_then(|profile| profile_users.get(&profile))
            .or_else(|| {
                entry
                    .and_then(|entry| entry.invited_user_uuid)
                    .and_then(|user| other_users.get(&user))
            });
        let reviewer_email = match person {
            Some((_, email)) => email.clone(),
            None => entry
                .map(|entry| entry.invited_email.clone())
                .unwrap_or_default(),
        };
        let count_of = |status: ItemStatus| {
            counts
                .get(&(batch.uuid, status.as_str().to_owned()))
                .copied()
                .unwrap_or(0)
        };
        let items_count = ItemStatus::ALL.iter().map(|status| count_of(*status)).sum();
        result.push(BatchView {
            call_name: call_names
                .get(&batch.call_uuid)
                .cloned()
                .unwrap_or_default(),
            reviewer_uuid,
            reviewer_name: person.map(|(name, _)| name.clone()),
            reviewer_email,
            created_by_name: batch
                .created_by_uuid
                .and_then(|user| other_users.get(&user))
                .map(|(name, _)| name.clone()),
            items_count,
            items_pending_count: count_of(ItemStatus::Pending),
            items_accepted_count: count_of(ItemStatus::Accepted),
            items_declined_count: count_of(ItemStatus::Declined),
            batch,
        });
    }
    Ok(result)
}

/// Loads the items of a batch, oldest first, with their proposals and conflict counts.
pub fn item_views(connection: &mut AnyConnection, batch_uuid: Uuid) -> StoreResult<Vec<ItemView>> {
    let rows: Vec<(Item, String, String, String)> = assignment_items::table
        .inner_join(proposals::table)
        .filter(assignment_items::batch_uuid.eq(DbUuid(batch_uuid)))
        .order((
            assignment_items::created.asc(),
            assignment_items::uuid.asc(),
        ))
        .select((
            assignment_items::all_columns,
            proposals::name,
            proposals::slug,
            proposals::project_summary,
        ))
        .load(connection)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }

    let item_keys: Vec<DbUuid> = rows.iter().map(|(item, ..)| DbUuid(item.uuid)).collect();
    let conflict_counts: HashMap<Uuid, i64> = assignment_item_conflicts::table
        .filter(assignment_item_conflicts::item_uuid.eq_any(item_keys))
        .group_by(assignment_item_conflicts::item_uuid)
        .select((
            assignment_item_conflicts::item_uuid,
            diesel::dsl::count_star(),
        ))
        .load::<(DbUuid, i64)>(connection)?
        .into_iter()
        .map(|(item, count)| (item.0, count))
        .collect();

    let overriders: Vec<DbUuid> = rows
        .iter()
        .filter_map(|(item, ..)| item.overridden_by_uuid.map(DbUuid))
        .collect();
    let names: HashMap<Uuid, String> = users::table
        .filter(users::uuid.eq_any(overriders))
        .select((users::uuid, users::full_name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    Ok(rows
        .into_iter()
        .map(
            |(item, proposal_name, proposal_slug, project_summary)| ItemView {
                coi_count: conflict_counts.get(&item.uuid).copied().unwrap_or(0),
                overridden_by_name: item
                    .overridden_by_uuid
                    .and_then(|user| names.get(&user).cloned()),
                item,
                proposal_name,
                proposal_slug,
                project_summary,
            },
        )
        .collect())
}

fn detail(connection: &mut AnyConnection, batch: Batch) -> StoreResult<BatchDetail> {
    let disclosure =
        configs::coi_config(connection, batch.call_uuid)?.invitation_proposal_disclosure;
    let items = item_views(connection, batch.uuid)?;
    let view = views(connection, vec![batch])?.remove(0);
    Ok(BatchDetail {
        view,
        items,
        disclosure,
    })
}

/// Finds a batch the actor may see; others are reported as not found.
pub fn find_visible_batch(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Batch> {
    visible(actor)
        .filter(assignment_batches::uuid.eq(DbUuid(uuid)))
        .first::<Batch>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("assignment batch").into())
}

/// Loads a visible batch with its items.
pub fn find_visible_detail(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<BatchDetail> {
    let batch = find_visible_batch(connection, actor, uuid)?;
    detail(connection, batch)
}

/// Fails with 403 unless the actor manages the batch's call.
fn require_manager(
    connection: &mut AnyConnection,
    actor: &Actor,
    batch: &Batch,
) -> StoreResult<Call> {
    let call = calls::get_call(connection, batch.call_uuid)?;
    call.require_manager(actor)?;
    Ok(call)
}

/// Finds a visible batch that the actor manages: 404 when invisible, 403 when not managed.
fn find_managed_batch(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Batch> {
    let batch = find_visible_batch(connection, actor, uuid)?;
    require_manager(connection, actor, &batch)?;
    Ok(batch)
}

fn batch_audit<'a>(
    batch: &Batch,
    action: &'static str,
    actor: Option<&'a Actor>,
    before: serde_json::Value,
    after: serde_json::Value,
) -> AuditEntry<'a> {
    AuditEntry {
        call_uuid: Some(batch.call_uuid),
        object_type: "batch",
        object_uuid: batch.uuid,
        action,
        actor,
        reason: "",
        before: Some(before),
        after: Some(after),
    }
}

fn time_text(value: Option<DateTime<Utc>>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, |time| {
        json!(crate::sql_types::sqlite_time_text(time))
    })
}

/// Replaces the manager's notes when `notes` is given (managers of the call).
pub fn update_notes(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    notes: Option<String>,
) -> StoreResult<BatchDetail> {
    write_transaction(connection, |connection| {
        let batch = find_managed_batch(connection, actor, uuid)?;
        if let Some(notes) = notes
            && notes != batch.manager_notes
        {
            diesel::update(assignment_batches::table.find(DbUuid(uuid)))
                .set((
                    assignment_batches::manager_notes.eq(&notes),
                    assignment_batches::modified.eq(DbTime(assignments::now())),
                ))
                .execute(connection)?;
            audit::record(
                connection,
                batch_audit(
                    &batch,
                    "batch.notes_updated",
                    Some(actor),
                    json!({"manager_notes": batch.manager_notes}),
                    json!({"manager_notes": notes}),
                ),
            )?;
        }
        let batch = assignments::get_batch(connection, uuid)?
            .ok_or_else(|| DomainError::not_found("assignment batch"))?;
        detail(connection, batch)
    })
}

/// Deletes a batch and its items, whatever its status (managers of the call).
pub fn delete_batch(connection: &mut AnyConnection, actor: &Actor, uuid: Uuid) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let batch = find_managed_batch(connection, actor, uuid)?;
        let items = assignment_items::table
            .filter(assignment_items::batch_uuid.eq(DbUuid(uuid)))
            .count()
            .get_result::<i64>(connection)?;
        diesel::delete(assignment_batches::table.find(DbUuid(uuid))).execute(connection)?;
        audit::record(
            connection,
            AuditEntry {
                call_uuid: Some(batch.call_uuid),
                object_type: "batch",
                object_uuid: batch.uuid,
                action: "batch.deleted",
                actor: Some(actor),
                reason: "",
                before: Some(json!({"status": batch.status.as_str(), "items_count": items})),
                after: None,
            },
        )?;
        Ok(())
    })
}

/// Sends a draft batch to its reviewer (managers of the call); non-empty `notes` replace the
/// manager's notes.
pub fn send(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    notes: Option<String>,
) -> StoreResult<Batch> {
    write_transaction(connection, |connection| {
        find_managed_batch(connection, actor, uuid)?;
        assignments::send_batch(connection, uuid, notes.as_deref(), Some(actor))
    })
}

/// Cancels a draft or sent batch (managers of the call). Its items keep their status but leave
/// the reviewer's view and stop counting as workload.
pub fn cancel(connection: &mut AnyConnection, actor: &Actor, uuid: Uuid) -> StoreResult<Batch> {
    write_transaction(connection, |connection| {
        let batch = find_managed_batch(connection, actor, uuid)?;
        let refused = || {
            DomainError::invalid_state(
                "batch_not_cancellable",
                format!(
                    "Only draft or sent batches can be cancelled; this batch is {}.",
                    batch.status
                ),
            )
        };
        if !matches!(batch.status, BatchStatus::Draft | BatchStatus::Sent) {
            return Err(refused().into());
        }
        let updated = diesel::update(
            assignment_batches::table
                .filter(assignment_batches::uuid.eq(DbUuid(uuid)))
                .filter(assignment_batches::status.eq(batch.status.as_str())),
        )
        .set((
            assignment_batches::status.eq(BatchStatus::Cancelled.as_str()),
            assignment_batches::modified.eq(DbTime(assignments::now())),
        ))
        .execute(connection)?;
        if updated != 1 {
            return Err(refused().into());
        }
        audit::record(
            connection,
            batch_audit(
                &batch,
                "batch.cancelled",
                Some(actor),
                json!({"status": batch.status.as_str()}),
                json!({"status": "cancelled"}),
            ),
        )?;
        Ok(assignments::get_batch(connection, uuid)?.expect("the batch exists"))
    })
}

/// Moves the deadline of a sent or expired batch to `expires_at`, which must be after `now`
/// (managers of the call). The reminder may be sent again. An expired batch is sent again:
/// its expired items return to pending and managers are notified again when it expires. Every
/// review in progress from an accepted item of the batch gets the new deadline when it is
/// later than its own.
pub fn extend_deadline(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Batch> {
    let expires_at = DbTime::from(expires_at).0;
    write_transaction(connection, |connection| {
        let batch = find_managed_batch(connection, actor, uuid)?;
        let refused = || {
            DomainError::invalid_state(
                "batch_not_extendable",
                format!(
                    "Can only extend the deadline of sent or expired batches; this batch is {}.",
                    batch.status
                ),
            )
        };
        if !matches!(batch.status, BatchStatus::Sent | BatchStatus::Expired) {
            return Err(refused().into());
        }
        if expires_at <= now {
            return Err(DomainError::field(
                "expires_at",
                format!(
                    "New deadline must be in the future: {} is not after the current time {}.",
                    crate::sql_types::sqlite_time_text(expires_at),
                    crate::sql_types::sqlite_time_text(now)
                ),
            )
            .into());
        }

        let was_expired = batch.status == BatchStatus::Expired;
        let at = assignments::now();
        let updated = diesel::update(
            assignment_batches::table
                .filter(assignment_batches::uuid.eq(DbUuid(uuid)))
                .filter(assignment_batches::status.eq(batch.status.as_str())),
        )
        .set((
            assignment_batches::status.eq(BatchStatus::Sent.as_str()),
            assignment_batches::expires_at.eq(Some(DbTime(expires_at))),
            assignment_batches::reminder_sent.eq(false),
            assignment_batches::manager_notified.eq(batch.manager_notified && !was_expired),
            assignment_batches::modified.eq(DbTime(at)),
        ))
        .execute(connection)?;
        if updated != 1 {
            return Err(refused().into());
        }
        audit::record(
            connection,
            batch_audit(
                &batch,
                "batch.deadline_extended",
                Some(actor),
                json!({"status": batch.status.as_str(), "expires_at": time_text(batch.expires_at)}),
                json!({"status": "sent", "expires_at": time_text(Some(expires_at))}),
            ),
        )?;

        if was_expired {
            reopen_expired_items(connection, &batch, actor, at)?;
        }
        extend_reviews(connection, &batch, actor, expires_at)?;
        Ok(assignments::get_batch(connection, uuid)?.expect("the batch exists"))
    })
}

fn reopen_expired_items(
    connection: &mut AnyConnection,
    batch: &Batch,
    actor: &Actor,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let expired: Vec<DbUuid> = assignment_items::table
        .filter(assignment_items::batch_uuid.eq(DbUuid(batch.uuid)))
        .filter(assignment_items::status.eq(ItemStatus::Expired.as_str()))
        .select(assignment_items::uuid)
        .load(connection)?;
    for item in expired {
        let updated = diesel::update(
            assignment_items::table
                .filter(assignment_items::uuid.eq(item))
                .filter(assignment_items::status.eq(ItemStatus::Expired.as_str())),
        )
        .set((
            assignment_items::status.eq(ItemStatus::Pending.as_str()),
            assignment_items::modified.eq(DbTime(at)),
        ))
        .execute(connection)?;
        if updated == 1 {
            audit::record(
                connection,
                AuditEntry {
                    call_uuid: Some(batch.call_uuid),
                    object_type: "item",
                    object_uuid: item.0,
                    action: "item.reopened",
                    actor: Some(actor),
                    reason: "The deadline of the item's batch was extended.",
                    before: Some(json!({"status": "expired"})),
                    after: Some(json!({"status": "pending"})),
                },
            )?;
        }
    }
    Ok(())
}

/// Gives every review in progress from an accepted item of the batch the batch's new
/// deadline when that is later than the review's own.
fn extend_reviews(
    connection: &mut AnyConnection,
    batch: &Batch,
    actor: &Actor,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    let reviews: Vec<assignments::Review> = proposal_reviews::table
        .filter(
            proposal_reviews::uuid.nullable().eq_any(
                assignment_items::table
                    .filter(assignment_items::batch_uuid.eq(DbUuid(batch.uuid)))
                    .filter(assignment_items::status.eq(ItemStatus::Accepted.as_str()))
                    .select(assignment_items::review_uuid),
            ),
        )
        .filter(proposal_reviews::state.eq(ReviewState::InReview.as_str()))
        .load(connection)?;
    for review in reviews {
        let deadline = assignments::review_deadline(
            connection,
            review.proposal_uuid,
            Some(expires_at),
            review.created,
        )?;
        let Some(deadline) = deadline else {
            continue;
        };
        if review
            .review_end_date
            .is_some_and(|current| current >= deadline)
        {
            continue;
        }
        diesel::update(proposal_reviews::table.find(DbUuid(review.uuid)))
            .set((
                proposal_reviews::review_end_date.eq(Some(DbTime(deadline))),
                proposal_reviews::modified.eq(DbTime(assignments::now())),
            ))
            .execute(connection)?;
        audit::record(
            connection,
            AuditEntry {
                call_uuid: Some(review.call_uuid),
                object_type: "review",
                object_uuid: review.uuid,
                action: "review.deadline_extended",
                actor: Some(actor),
                reason: "The deadline of the assignment batch was extended.",
                before: Some(json!({"review_end_date": time_text(review.review_end_date)})),
                after: Some(json!({"review_end_date": time_text(Some(deadline))})),
            },
        )?;
    }
    Ok(())
}

/// Finds the actor's reviewer profile, if it has one.
fn own_profile(connection: &mut AnyConnection, actor: &Actor) -> StoreResult<Option<Uuid>> {
    Ok(reviewer_profiles::table
        .filter(reviewer_profiles::user_uuid.eq(DbUuid(actor.user_uuid)))
        .select(reviewer_profiles::uuid)
        .first::<DbUuid>(connection)
        .optional()?
        .map(|uuid| uuid.0))
}

fn own_batches(profile_uuid: Uuid) -> assignment_batches::BoxedQuery<'static, MultiBackend> {
    let entries = call_reviewer_pools::table
        .filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(profile_uuid)))
        .select(call_reviewer_pools::uuid);
    assignment_batches::table
        .filter(assignment_batches::pool_entry_uuid.eq_any(entries))
        .into_boxed()
}

/// Lists the actor's batches waiting for a response (status `sent`), most recently sent first;
/// empty when the actor has no reviewer profile.
pub fn list_my_batches(
    connection: &mut AnyConnection,
    actor: &Actor,
) -> StoreResult<Vec<BatchView>> {
    let Some(profile) = own_profile(connection, actor)? else {
        return Ok(Vec::new());
    };
    let batches = own_batches(profile)
        .filter(assignment_batches::status.eq(BatchStatus::Sent.as_str()))
        .order((
            assignment_batches::sent_at.desc(),
            assignment_batches::uuid.asc(),
        ))
        .load::<Batch>(connection)?;
    views(connection, batches)
}

/// Finds one of the actor's batches in a status shown to reviewers, with its items. `None` when the
/// actor has no reviewer profile; a batch that is not the actor's or not shown is not found.
pub fn find_my_batch(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Option<BatchDetail>> {
    let Some(profile) = own_profile(connection, actor)? else {
        return Ok(None);
    };
    let batch = own_batches(profile)
        .filter(assignment_batches::uuid.eq(DbUuid(uuid)))
        .filter(assignment_batches::status.eq_any(status_values(BatchStatus::SHOWN_TO_REVIEWER)))
        .first::<Batch>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("assignment batch"))?;
    detail(connection, batch).map(Some)
}

/// A proposal that an assignment action left out, and why. Generation reports a missing pool
/// with no proposal at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedProposal {
    pub proposal_uuid: Option<Uuid>,
    pub proposal_name: Option<String>,
    pub reason: String,
}

/// A manual assignment of proposals to one pool entry.
#[derive(Debug, Clone, Default)]
pub struct ManualAssignment {
    pub pool_entry_uuid: Uuid,
    pub proposal_uuids: Vec<Uuid>,
    /// Notes for the reviewer; non-empty notes replace those of a reused draft batch.
    pub manager_notes: Option<String>,
    /// Assign even when the reviewer's open assignments would exceed `max_assignments`.
    pub override_workload_limit: bool,
}

/// Outcome of a manual assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualOutcome {
    pub batch_uuid: Uuid,
    pub items_created: usize,
    /// Created items that are COI-blocked because the reviewer has a blocking conflict with
    /// their proposal.
    pub items_blocked: usize,
    pub skipped_proposals: Vec<SkippedProposal>,
}

/// Takes the row locks of pool entries on PostgreSQL, so that concurrent assignment runs on
/// the same reviewers wait for each other and count each other's new items. On SQLite the
/// surrounding write transaction already holds the database's write lock.
fn lock_entries(connection: &mut AnyConnection, entry_uuids: &[Uuid]) -> StoreResult<()> {
    if entry_uuids.is_empty() {
        return Ok(());
    }
    let keys: Vec<DbUuid> = entry_uuids.iter().copied().map(DbUuid).collect();
    diesel::update(call_reviewer_pools::table.filter(call_reviewer_pools::uuid.eq_any(keys)))
        .set(call_reviewer_pools::max_assignments.eq(call_reviewer_pools::max_assignments))
        .execute(connection)?;
    Ok(())
}

fn profile_user_name(connection: &mut AnyConnection, profile_uuid: Uuid) -> StoreResult<String> {
    let (full_name, username): (String, String) = reviewer_profiles::table
        .inner_join(users::table)
        .filter(reviewer_profiles::uuid.eq(DbUuid(profile_uuid)))
        .select((users::full_name, users::username))
        .first(connection)?;
    Ok(if full_name.trim().is_empty() {
        username
    } else {
        full_name
    })
}

/// Assigns proposals of a call to one accepted reviewer (managers of the call).
///
/// Proposals of any state may be assigned. A proposal for which the pool entry already has an
/// item, in any batch and any status, is skipped with a reason. Items are `coi_blocked` when
/// the reviewer has a blocking conflict on the proposal. The reviewer's open assignments plus
/// the new unblocked items must stay within `max_assignments` unless the request overrides
/// the limit, which the audit log records. The items go into the pool entry's draft batch,
/// which is created as a manual draft when the entry has none. The batch is created even
/// when every proposal is skipped.
pub fn create_manual_assignment(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    request: &ManualAssignment,
) -> StoreResult<ManualOutcome> {
    write_transaction(connection, |connection| {
        let call = calls::find_visible_call(connection, actor, call_uuid)?;
        call.require_manager(actor)?;

        lock_entries(connection, &[request.pool_entry_uuid])?;
        let entry = call_reviewer_pools::table
            .filter(call_reviewer_pools::uuid.eq(DbUuid(request.pool_entry_uuid)))
            .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
            .first::<PoolEntry>(connection)
            .optional()?
            .filter(|entry| entry.invitation_status == InvitationStatus::Accepted);
        let Some((entry, profile_uuid)) =
            entry.and_then(|entry| entry.reviewer_uuid.map(|profile| (entry, profile)))
        else {
            return Err(DomainError::field(
                "reviewer_pool_entry_uuid",
                format!(
                    "Pool entry {} is not an accepted reviewer of this call with a reviewer profile. \
                     Choose an entry of this call whose invitation was accepted.",
                    request.pool_entry_uuid.simple()
                ),
            )
            .into());
        };

        let keys: Vec<DbUuid> = request.proposal_uuids.iter().copied().map(DbUuid).collect();
        let found: HashMap<Uuid, String> = proposals::table
            .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
            .filter(proposals::uuid.eq_any(&keys))
            .select((proposals::uuid, proposals::name))
            .load::<(DbUuid, String)>(connection)?
            .into_iter()
            .map(|(uuid, name)| (uuid.0, name))
            .collect();
        if found.is_empty() {
            return Err(DomainError::field(
                "proposal_uuids",
                "No valid proposals found: none of the given UUIDs is a proposal of this call.",
            )
            .into());
        }

        let assigned: HashSet<Uuid> = assignment_items::table
            .filter(assignment_items::pool_entry_uuid.eq(DbUuid(entry.uuid)))
            .filter(assignment_items::proposal_uuid.eq_any(&keys))
            .select(assignment_items::proposal_uuid)
            .load::<DbUuid>(connection)?
            .into_iter()
            .map(|uuid| uuid.0)
            .collect();

        let mut seen = HashSet::new();
        let mut to_create = Vec::new();
        let mut skipped = Vec::new();
        let mut new_open: i64 = 0;
        for proposal_uuid in &request.proposal_uuids {
            let Some(name) = found.get(proposal_uuid) else {
                continue;
            };
            if !seen.insert(*proposal_uuid) {
                continue;
            }
            if assigned.contains(proposal_uuid) {
                skipped.push(SkippedProposal {
                    proposal_uuid: Some(*proposal_uuid),
                    proposal_name: Some(name.clone()),
                    reason: "Assignment already exists for this reviewer".to_owned(),
                });
                continue;
            }
            crate::detection::evaluate_pair_if_needed(
                connection,
                actor,
                call_uuid,
                profile_uuid,
                *proposal_uuid,
            )?;
            if assignments::blocking_conflicts(connection, call_uuid, profile_uuid, *proposal_uuid)?
                .is_empty()
            {
                new_open += 1;
            }
            to_create.push(*proposal_uuid);
        }

        let open = assignments::open_assignments(connection, &[entry.uuid])?
            .get(&entry.uuid)
            .copied()
            .unwrap_or(0);
        let limit = i64::from(entry.max_assignments);
        if new_open > 0 && open + new_open > limit {
            let name = profile_user_name(connection, profile_uuid)?;
            if !request.override_workload_limit {
                return Err(DomainError::invalid_state(
                    "workload_limit_exceeded",
                    format!(
                        "Reviewer {name} has {open} open assignments and a limit of {limit}, so \
                         {new_open} more would exceed it. Set override_workload_limit to true to \
                         assign anyway, or raise the pool entry's max_assignments."
                    ),
                )
                .into());
            }
            let reason = format!(
                "Reviewer {name} has {open} open assignments and a limit of {limit}; {new_open} \
                 more were assigned with override_workload_limit."
            );
            audit::record(
                connection,
                AuditEntry {
                    call_uuid: Some(call_uuid),
                    object_type: "pool_entry",
                    object_uuid: entry.uuid,
                    action: "pool_entry.workload_limit_overridden",
                    actor: Some(actor),
                    reason: &reason,
                    before: Some(json!({"open_assignments": open, "max_assignments": limit})),
                    after: Some(
                        json!({"open_assignments": open + new_open, "max_assignments": limit, "override_workload_limit": true}),
                    ),
                },
            )?;
        }

        let notes = request.manager_notes.clone().unwrap_or_default();
        let (batch, created) = assignments::draft_batch(
            connection,
            call_uuid,
            entry.uuid,
            AssignmentSource::Manual,
            Some(actor),
            &notes,
        )?;
        if !created && !notes.is_empty() && notes != batch.manager_notes {
            diesel::update(assignment_batches::table.find(DbUuid(batch.uuid)))
                .set((
                    assignment_batches::manager_notes.eq(&notes),
                    assignment_batches::modified.eq(DbTime(assignments::now())),
                ))
                .execute(connection)?;
            audit::record(
                connection,
                batch_audit(
                    &batch,
                    "batch.notes_updated",
                    Some(actor),
                    json!({"manager_notes": batch.manager_notes}),
                    json!({"manager_notes": notes}),
                ),
            )?;
        }

        let mut items_blocked = 0;
        for proposal_uuid in &to_create {
            let new = NewItem {
                proposal_uuid: *proposal_uuid,
                affinity_score: None,
                reassigned_from_uuid: None,
                reassign_count: 0,
            };
            let item = assignments::insert_item(connection, &batch, &new, Some(actor))?;
            if item.status == ItemStatus::CoiBlocked {
                items_blocked += 1;
            }
        }
        Ok(ManualOutcome {
            batch_uuid: batch.uuid,
            items_created: to_create.len(),
            items_blocked,
            skipped_proposals: skipped,
        })
    })
}

/// Reviewers per proposal when neither the request nor a matching configuration sets it.
pub const DEFAULT_REVIEWERS_PER_PROPOSAL: u32 = 2;
/// Accepted range of `reviewers_per_proposal` in a generation request.
pub const REVIEWERS_PER_PROPOSAL_RANGE: std::ops::RangeInclusive<u32> = 1..=20;

/// A request to generate assignments for a call.
#[derive(Debug, Clone, Default)]
pub struct GenerateRequest {
    /// Only these proposals; UUIDs outside the call or in other states are ignored.
    pub proposal_uuids: Option<Vec<Uuid>>,
    /// Reviewers per proposal, within [`REVIEWERS_PER_PROPOSAL_RANGE`].
    pub reviewers_per_proposal: Option<u32>,
}

/// Outcome of a generation run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenerateOutcome {
    pub batches_created: usize,
    pub items_created: usize,
    /// Proposals that got at least one reviewer.
    pub proposals_processed: usize,
    pub skipped_proposals: Vec<SkippedProposal>,
    /// `minmax`, `hungarian` or `fairflow`.
    pub algorithm: String,
    /// Sum of the affinities of the new items (missing affinities count as 0).
    pub objective_value: f64,
    /// Lowest and mean, over proposals that got reviewers in this run, of the mean affinity of
    /// their new reviewers.
    pub min_proposal_affinity: Option<f64>,
    pub mean_proposal_affinity: Option<f64>,
    /// Number of reviewers per count of new items in this run (`"0"`, `"1"`, …).
    pub load_histogram: std::collections::BTreeMap<String, usize>,
    /// Proposals that got fewer reviewers than they need, with the reason.
    pub unfilled_proposals: Vec<UnfilledProposal>,
    /// Why not every proposal could get all its reviewers: the smallest group of proposals
    /// and reviewers that cannot be served; `None` when every demand was met.
    pub infeasibility: Option<GenerationInfeasibility>,
    /// The `incremental` detection job that evaluated the pairs never evaluated before this
    /// run; `None` when every pair had been evaluated.
    pub coi_detection_job_uuid: Option<Uuid>,
}

/// The smallest group of proposals and reviewers that a generation run could not serve.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationInfeasibility {
    pub message: String,
    pub suggestion: String,
    /// Assignments the group needs.
    pub demand: u64,
    /// Assignments the group's counterparts can give at most.
    pub capacity: u64,
    pub proposal_uuids: Vec<Uuid>,
    /// Pool entries of the reviewers involved.
    pub pool_entry_uuids: Vec<Uuid>,
}

/// A proposal that did not get all the reviewers it needs in a generation run.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfilledProposal {
    pub proposal_uuid: Uuid,
    pub proposal_name: String,
    pub assigned: u32,
    pub needed: u32,
    pub reason: String,
}

/// Sets each reviewer's minimum load: the configured minimum (unbounded without a
/// configuration), reduced to what this run can give every reviewer at once (its capacity,
/// its candidate proposals, and an equal share of the total demand), so that the minimum
/// balances loads instead of making small runs infeasible.
fn apply_min_loads(problem: &mut AssignmentProblem, configured: u32) {
    if configured == 0 || problem.reviewers.is_empty() {
        return;
    }
    let demand: u64 = problem
        .proposals
        .iter()
        .map(|proposal| u64::from(proposal.reviewers_needed))
        .sum();
    let share = u32::try_from(demand / problem.reviewers.len() as u64).unwrap_or(u32::MAX);
    let mut candidates = vec![0_u32; problem.reviewers.len()];
    for candidate in &problem.candidates {
        candidates[candidate.reviewer] += 1;
    }
    for (reviewer, count) in problem.reviewers.iter_mut().zip(candidates) {
        reviewer.min_proposals = configured.min(reviewer.max_proposals).min(count).min(share);
    }
}

/// Fills the quality figures of a generation report from the chosen pairs.
fn report_quality(
    problem: &AssignmentProblem,
    solution: &AssignmentSolution,
    outcome: &mut GenerateOutcome,
) {
    outcome.algorithm = solution.algorithm.clone();
    // Adding 0.0 turns the -0.0 of an empty sum into 0.0.
    outcome.objective_value = solution.objective(problem) + 0.0;

    let mut per_proposal: HashMap<usize, (f64, u32)> = HashMap::new();
    let mut loads = vec![0_usize; problem.reviewers.len()];
    for index in &solution.chosen {
        let candidate = problem.candidates[*index];
        let entry = per_proposal.entry(candidate.proposal).or_default();
        entry.0 += candidate.affinity;
        entry.1 += 1;
        loads[candidate.reviewer] += 1;
    }
    let means: Vec<f64> = per_proposal
        .values()
        .map(|(sum, count)| sum / f64::from(*count))
        .collect();
    outcome.min_proposal_affinity = means.iter().copied().reduce(f64::min);
    outcome.mean_proposal_affinity =
        (!means.is_empty()).then(|| means.iter().sum::<f64>() / means.len() as f64);
    for load in loads {
        *outcome.load_histogram.entry(load.to_string()).or_default() += 1;
    }
}

/// Rewrites a solver explanation in the names the API uses for the same limits: a reviewer's
/// `max_proposals` is the pool entry's `max_assignments` less its open assignments,
/// `reviewers_needed` is `reviewers_per_proposal`, and `min_proposals` comes from the matching
/// configuration's `min_proposals_per_reviewer`.
// NOTE: this rewrites the solver's wording; a solver message that names a limit in other
// words passes through unchanged.
fn in_api_terms(text: &str) -> String {
    text.replace(
        "the sum of their max_proposals",
        "the sum of their max_assignments less their open assignments",
    )
    .replace("max_proposals", "max_assignments")
    .replace("reviewers_needed", "reviewers_per_proposal")
    .replace("min_proposals", "min_proposals_per_reviewer")
}

/// The solver algorithm of a matching configuration's `algorithm`.
fn solver_algorithm(algorithm: MatchingAlgorithm) -> Algorithm {
    match algorithm {
        MatchingAlgorithm::Minmax => Algorithm::MinMax,
        MatchingAlgorithm::Hungarian => Algorithm::Hungarian,
        MatchingAlgorithm::Fairflow => Algorithm::FairFlow,
    }
}

/// Inserts the items that the solver chose into the draft batches of their reviewers, creating
/// the missing drafts with source `algorithm`, and returns how many drafts it created. The
/// statements sent do not depend on the number of items: one query for the drafts, one for
/// the blocking conflicts, then multi-row INSERTs.
fn insert_generated_items(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    entries: &[PoolEntry],
    problem: &AssignmentProblem,
    solution: &AssignmentSolution,
    clock: &mut CreationClock,
) -> StoreResult<usize> {
    let mut chosen_entries = Vec::new();
    let mut seen = HashSet::new();
    for index in &solution.chosen {
        let entry = &entries[problem.candidates[*index].reviewer];
        if seen.insert(entry.uuid) {
            chosen_entries.push(entry.uuid);
        }
    }
    let mut drafts = assignments::draft_batches(connection, &chosen_entries)?;
    // On PostgreSQL a detection job may have committed a conflict on a chosen pair since the
    // candidates were read, so conflicts are read again and such an item becomes `coi_blocked`.
    let blocked = assignments::blocked_pairs(connection, call_uuid)?;

    // Creation times follow the order of the chosen pairs. A missing draft gets its time when
    // its reviewer first appears, before the item that needs it.
    let mut new_drafts = Vec::new();
    let mut planned = Vec::with_capacity(solution.chosen.len());
    for index in &solution.chosen {
        let candidate = problem.candidates[*index];
        let entry = &entries[candidate.reviewer];
        if let Entry::Vacant(vacant) = drafts.entry(entry.uuid) {
            let batch = assignments::new_draft(
                call_uuid,
                entry.uuid,
                AssignmentSource::Algorithm,
                Some(actor),
                "",
                clock.next(),
            );
            new_drafts.push(batch.clone());
            vacant.insert(batch);
        }
        planned.push((Uuid::now_v7(), entry, candidate, clock.next()));
    }
    assignments::insert_drafts(connection, &new_drafts, Some(actor))?;

    let items: Vec<ItemRow<'_>> = planned
        .into_iter()
        .map(|(uuid, entry, candidate, created)| {
            let profile = entry
                .reviewer_uuid
                .expect("entries are filtered on having a profile");
            let proposal_uuid = problem.proposals[candidate.proposal].uuid;
            ItemRow {
                uuid,
                batch: &drafts[&entry.uuid],
                reviewer_uuid: Some(profile),
                new: NewItem {
                    proposal_uuid,
                    affinity_score: candidate.has_affinity.then_some(candidate.affinity),
                    reassigned_from_uuid: None,
                    reassign_count: 0,
                },
                conflicts: blocked.conflicts(profile, proposal_uuid),
                created,
            }
        })
        .collect();
    assignments::insert_items(connection, &items, Some(actor))?;
    Ok(new_drafts.len())
}

/// Generates draft assignments for the submitted and in-review proposals of a call (managers
/// of the call).
///
/// Candidates are the accepted pool entries with a reviewer profile, except pairs with a
/// blocking conflict of interest and pairs that already have an item in any batch. Each
/// reviewer takes at most `max_assignments` minus their open assignments. The greedy solver
/// picks the highest affinities first (a missing affinity counts as 0 and the item records
/// none). New items go into each reviewer's draft batch, created with source `algorithm`
/// when missing. A proposal that gets no reviewer is reported as skipped; one that gets fewer
/// than requested is counted as processed.
pub fn generate_assignments(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    request: &GenerateRequest,
) -> StoreResult<GenerateOutcome> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    call.require_manager(actor)?;
    // Conflicts of pairs that detection never evaluated (a reviewer or proposal added after the
    // last run) must exist before the solver picks pairs, so those pairs are evaluated first.
    let detection_job = crate::detection::evaluate_missing_pairs(connection, actor, call_uuid)?;

    let mut outcome = write_transaction(connection, |connection| {
        let call = calls::find_visible_call(connection, actor, call_uuid)?;
        call.require_manager(actor)?;

        let matching = configs::matching_config(connection, call_uuid)?;
        let needed = match request.reviewers_per_proposal {
            Some(count) => count,
            None => match &matching {
                Some(config) => u32::try_from(config.min_reviewers_per_proposal)
                    .unwrap_or(0)
                    .max(1),
                None => DEFAULT_REVIEWERS_PER_PROPOSAL,
            },
        };
        let algorithm = matching.as_ref().map_or(Algorithm::MinMax, |config| {
            solver_algorithm(config.algorithm)
        });
        // Without a matching configuration, every reviewer gets at least an equal share of
        // the demand (the balanced load of `minmax`); `apply_min_loads` clips either value.
        let min_load = matching.as_ref().map_or(u32::MAX, |config| {
            u32::try_from(config.min_proposals_per_reviewer).unwrap_or(0)
        });

        let entries: Vec<PoolEntry> = call_reviewer_pools::table
            .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
            .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Accepted.as_str()))
            .filter(call_reviewer_pools::reviewer_uuid.is_not_null())
            .order((
                call_reviewer_pools::invited_at.desc(),
                call_reviewer_pools::uuid.asc(),
            ))
            .load(connection)?;
        if entries.is_empty() {
            return Ok(GenerateOutcome {
                skipped_proposals: vec![SkippedProposal {
                    proposal_uuid: None,
                    proposal_name: None,
                    reason: "No accepted reviewers in pool".to_owned(),
                }],
                algorithm: algorithm.name().to_owned(),
                ..GenerateOutcome::default()
            });
        }
        let entry_uuids: Vec<Uuid> = entries.iter().map(|entry| entry.uuid).collect();
        lock_entries(connection, &entry_uuids)?;

        let mut proposal_query = proposals::table
            .inner_join(rounds::table)
            .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
            .filter(proposals::state.eq_any([
                ProposalState::Submitted.as_str(),
                ProposalState::InReview.as_str(),
            ]))
            .into_boxed();
        if let Some(selected) = &request.proposal_uuids {
            let keys: Vec<DbUuid> = selected.iter().copied().map(DbUuid).collect();
            proposal_query = proposal_query.filter(proposals::uuid.eq_any(keys));
        }
        let proposal_rows: Vec<(DbUuid, String)> = proposal_query
            .order((
                rounds::start_time.asc(),
                proposals::created.asc(),
                proposals::uuid.asc(),
            ))
            .select((proposals::uuid, proposals::name))
            .load(connection)?;

        let open = assignments::open_assignments(connection, &entry_uuids)?;
        let blocked = assignments::blocked_pairs(connection, call_uuid)?;
        // Pairs that became part of the call after the detection above are still unknown and
        // are left out rather than assigned unchecked.
        let unevaluated: HashSet<(Uuid, Uuid)> =
            crate::detection::unevaluated_pairs(connection, call_uuid)?
                .into_iter()
                .collect();
        let reviewer_names: HashMap<Uuid, String> =
            crate::pool::views(connection, entries.clone())?
                .into_iter()
                .map(|view| {
                    (
                        view.entry.uuid,
                        view.reviewer_name()
                            .unwrap_or_else(|| view.reviewer_email()),
                    )
                })
                .collect();
        let existing: HashSet<(Uuid, Uuid)> = assignment_items::table
            .filter(assignment_items::call_uuid.eq(DbUuid(call_uuid)))
            .select((
                assignment_items::pool_entry_uuid,
                assignment_items::proposal_uuid,
            ))
            .load::<(DbUuid, DbUuid)>(connection)?
            .into_iter()
            .map(|(entry, proposal)| (entry.0, proposal.0))
            .collect();
        let affinities: HashMap<(Uuid, Uuid), f64> = reviewer_proposal_affinities::table
            .filter(reviewer_proposal_affinities::call_uuid.eq(DbUuid(call_uuid)))
            .select((
                reviewer_proposal_affinities::reviewer_uuid,
                reviewer_proposal_affinities::proposal_uuid,
                reviewer_proposal_affinities::affinity_score,
            ))
            .load::<(DbUuid, DbUuid, f64)>(connection)?
            .into_iter()
            .map(|(reviewer, proposal, score)| ((reviewer.0, proposal.0), score))
            .collect();

        // Repair mode: pending and accepted items of live batches already fill slots, so a
        // second run only fills what is still open.
        let mut filled: HashMap<Uuid, u32> = HashMap::new();
        for proposal in assignment_items::table
            .inner_join(assignment_batches::table)
            .filter(assignment_items::call_uuid.eq(DbUuid(call_uuid)))
            .filter(
                assignment_items::status
                    .eq_any([ItemStatus::Pending.as_str(), ItemStatus::Accepted.as_str()]),
            )
            .filter(assignment_batches::status.ne(BatchStatus::Cancelled.as_str()))
            .select(assignment_items::proposal_uuid)
            .load::<DbUuid>(connection)?
        {
            *filled.entry(proposal.0).or_default() += 1;
        }

        let mut problem = AssignmentProblem::default();
        for (uuid, name) in &proposal_rows {
            let open_slots = needed.saturating_sub(filled.get(&uuid.0).copied().unwrap_or(0));
            if open_slots == 0 {
                continue;
            }
            problem.proposals.push(ProposalDemand {
                uuid: uuid.0,
                name: name.clone(),
                reviewers_needed: open_slots,
            });
        }
        for entry in &entries {
            let used = open.get(&entry.uuid).copied().unwrap_or(0);
            let room = (i64::from(entry.max_assignments) - used).max(0);
            let max_proposals = u32::try_from(room).unwrap_or(u32::MAX);
            problem.reviewers.push(ReviewerCapacity {
                uuid: entry.uuid,
                name: reviewer_names
                    .get(&entry.uuid)
                    .cloned()
                    .unwrap_or_else(|| entry.invited_email.clone()),
                min_proposals: 0,
                max_proposals,
            });
        }
        for (proposal_index, proposal) in problem.proposals.iter().enumerate() {
            for (reviewer_index, entry) in entries.iter().enumerate() {
                let profile = entry
                    .reviewer_uuid
                    .expect("entries are filtered on having a profile");
                if blocked.blocks(profile, proposal.uuid)
                    || unevaluated.contains(&(profile, proposal.uuid))
                    || existing.contains(&(entry.uuid, proposal.uuid))
                {
                    continue;
                }
                let affinity = affinities.get(&(profile, proposal.uuid)).copied();
                problem.candidates.push(Candidate {
                    proposal: proposal_index,
                    reviewer: reviewer_index,
                    affinity: affinity.unwrap_or(0.0),
                    has_affinity: affinity.is_some(),
                });
            }
        }
        apply_min_loads(&mut problem, min_load);
        // A strict solve first: when it fails, its explanation says which proposals and
        // reviewers cannot be served; the run then fills what it can.
        let infeasibility = solver::solve(
            &problem,
            &SolveOptions {
                allow_unfilled: false,
                algorithm,
            },
        )
        .err()
        .map(|infeasible| GenerationInfeasibility {
            message: in_api_terms(&infeasible.message),
            suggestion: in_api_terms(&infeasible.suggestion),
            demand: infeasible.demand,
            capacity: infeasible.capacity,
            proposal_uuids: infeasible
                .proposals
                .iter()
                .map(|index| problem.proposals[*index].uuid)
                .collect(),
            pool_entry_uuids: infeasible
                .reviewers
                .iter()
                .map(|index| problem.reviewers[*index].uuid)
                .collect(),
        });
        let solved = solver::solve(
            &problem,
            &SolveOptions {
                allow_unfilled: true,
                algorithm,
            },
        )
        .map_err(|infeasible| {
            DomainError::invalid_state(
                "assignment_infeasible",
                in_api_terms(&format!("{} {}", infeasible.message, infeasible.suggestion)),
            )
        })?;
        let solution = solved.solution;

        let mut outcome = GenerateOutcome::default();
        let mut clock = CreationClock::new();
        outcome.batches_created = insert_generated_items(
            connection, actor, call_uuid, &entries, &problem, &solution, &mut clock,
        )?;
        outcome.items_created = solution.chosen.len();
        let served: BTreeSet<usize> = solution
            .chosen
            .iter()
            .map(|index| problem.candidates[*index].proposal)
            .collect();
        outcome.proposals_processed = served.len();
        for unfilled in &solution.unfilled {
            let proposal = &problem.proposals[unfilled.proposal];
            outcome.unfilled_proposals.push(UnfilledProposal {
                proposal_uuid: proposal.uuid,
                proposal_name: proposal.name.clone(),
                assigned: unfilled.assigned,
                needed: unfilled.needed,
                reason: unfilled.reason.clone(),
            });
            if unfilled.assigned > 0 {
                continue;
            }
            outcome.skipped_proposals.push(SkippedProposal {
                proposal_uuid: Some(proposal.uuid),
                proposal_name: Some(proposal.name.clone()),
                reason: unfilled.reason.clone(),
            });
        }
        report_quality(&problem, &solution, &mut outcome);
        outcome.infeasibility = infeasibility;

        let summary = AuditEntry {
            call_uuid: Some(call_uuid),
            object_type: "call",
            object_uuid: call_uuid,
            action: "call.assignments_generated",
            actor: Some(actor),
            reason: "",
            before: None,
            after: Some(json!({
                "algorithm": solution.algorithm,
                "reviewers_per_proposal": needed,
                "batches_created": outcome.batches_created,
                "items_created": outcome.items_created,
                "proposals_processed": outcome.proposals_processed,
                "proposals_skipped": outcome.skipped_proposals.len(),
            })),
        };
        audit::record_all(connection, &[(clock.next(), summary)])?;
        Ok(outcome)
    })?;
    outcome.coi_detection_job_uuid = detection_job.map(|job| job.job.uuid);
    Ok(outcome)
}

/// Sends the draft batches of a call, or only the listed ones (managers of the call). Listed
/// batches that are not drafts of this call count as skipped. Returns (sent, skipped).
pub fn send_all(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    batch_uuids: Option<&[Uuid]>,
) -> StoreResult<(usize, usize)> {
    write_transaction(connection, |connection| {
        let call = calls::find_visible_call(connection, actor, call_uuid)?;
        call.require_manager(actor)?;

        let mut query = assignment_batches::table
            .filter(assignment_batches::call_uuid.eq(DbUuid(call_uuid)))
            .filter(assignment_batches::status.eq(BatchStatus::Draft.as_str()))
            .into_boxed();
        let mut skipped = 0;
        if let Some(listed) = batch_uuids {
            let distinct: BTreeSet<Uuid> = listed.iter().copied().collect();
            let keys: Vec<DbUuid> = distinct.iter().copied().map(DbUuid).collect();
            query = query.filter(assignment_batches::uuid.eq_any(keys));
            let drafts: Vec<DbUuid> = query.select(assignment_batches::uuid).load(connection)?;
            skipped = distinct.len() - drafts.len();
            query = assignment_batches::table
                .filter(assignment_batches::uuid.eq_any(drafts))
                .into_boxed();
        }
        let drafts: Vec<Batch> = query
            .order((
                assignment_batches::created.asc(),
                assignment_batches::uuid.asc(),
            ))
            .load(connection)?;

        let mut sent = 0;
        for batch in drafts {
            assignments::send_batch(connection, batch.uuid, None, Some(actor))?;
            sent += 1;
        }
        Ok((sent, skipped))
    })
}

/// Marks sent batches whose deadline passed before `now` as expired, and their pending items
/// as expired; returns how many batches changed. Running it again changes nothing.
pub fn expire_batches(connection: &mut AnyConnection, now: DateTime<Utc>) -> StoreResult<usize> {
    write_transaction(connection, |connection| {
        let due: Vec<Batch> = assignment_batches::table
            .filter(assignment_batches::status.eq(BatchStatus::Sent.as_str()))
            .filter(assignment_batches::expires_at.lt(DbTime::from(now)))
            .order(assignment_batches::uuid.asc())
            .load(connection)?;
        let mut expired = 0;
        for batch in due {
            let updated = diesel::update(
                assignment_batches::table
                    .filter(assignment_batches::uuid.eq(DbUuid(batch.uuid)))
                    .filter(assignment_batches::status.eq(BatchStatus::Sent.as_str())),
            )
            .set((
                assignment_batches::status.eq(BatchStatus::Expired.as_str()),
                assignment_batches::modified.eq(DbTime::from(now)),
            ))
            .execute(connection)?;
            if updated != 1 {
                continue;
            }
            expired += 1;
            audit::record(
                connection,
                batch_audit(
                    &batch,
                    "batch.expired",
                    None,
                    json!({"status": "sent"}),
                    json!({"status": "expired"}),
                ),
            )?;

            let pending: Vec<DbUuid> = assignment_items::table
                .filter(assignment_items::batch_uuid.eq(DbUuid(batch.uuid)))
                .filter(assignment_items::status.eq(ItemStatus::Pending.as_str()))
                .select(assignment_items::uuid)
                .load(connection)?;
            diesel::update(
                assignment_items::table
                    .filter(assignment_items::batch_uuid.eq(DbUuid(batch.uuid)))
                    .filter(assignment_items::status.eq(ItemStatus::Pending.as_str())),
            )
            .set((
                assignment_items::status.eq(ItemStatus::Expired.as_str()),
                assignment_items::modified.eq(DbTime::from(now)),
            ))
            .execute(connection)?;
            for item in pending {
                audit::record(
                    connection,
                    AuditEntry {
                        call_uuid: Some(batch.call_uuid),
                        object_type: "item",
                        object_uuid: item.0,
                        action: "item.expired",
                        actor: None,
                        reason: "The batch's deadline passed without an answer.",
                        before: Some(json!({"status": "pending"})),
                        after: Some(json!({"status": "expired"})),
                    },
                )?;
            }
        }
        if expired > 0 {
            tracing::info!(count = expired, "assignment batches expired");
        }
        Ok(expired)
    })
}

/// Reminds reviewers of sent batches whose deadline is near: the deadline is still ahead but
/// within the call's `send_reminder_before_expiry_days`. Each batch is reminded once until
/// its deadline is extended; returns how many reminders were queued.
pub fn send_expiry_reminders(
    connection: &mut AnyConnection,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    write_transaction(connection, |connection| {
        let candidates: Vec<Batch> = assignment_batches::table
            .filter(assignment_batches::status.eq(BatchStatus::Sent.as_str()))
            .filter(assignment_batches::reminder_sent.eq(false))
            .filter(assignment_batches::expires_at.gt(DbTime::from(now)))
            .order(assignment_batches::uuid.asc())
            .load(connection)?;
        let mut windows: HashMap<Uuid, Duration> = HashMap::new();
        let mut due = Vec::new();
        for batch in candidates {
            let window = match windows.get(&batch.call_uuid) {
                Some(window) => *window,
                None => {
                    let days = configs::assignment_config(connection, batch.call_uuid)?
                        .send_reminder_before_expiry_days;
                    let window = Duration::days(i64::from(days));
                    windows.insert(batch.call_uuid, window);
                    window
                }
            };
            let expires_at = batch.expires_at.expect("filtered on a deadline");
            if now >= expires_at - window {
                due.push(batch);
            }
        }

        let mut reminded = 0;
        let views = views(connection, due)?;
        for view in views {
            let batch = &view.batch;
            let updated = diesel::update(
                assignment_batches::table
                    .filter(assignment_batches::uuid.eq(DbUuid(batch.uuid)))
                    .filter(assignment_batches::status.eq(BatchStatus::Sent.as_str()))
                    .filter(assignment_batches::reminder_sent.eq(false)),
            )
            .set(assignment_batches::reminder_sent.eq(true))
            .execute(connection)?;
            if updated != 1 {
                continue;
            }
            reminded += 1;
            audit::record(
                connection,
                batch_audit(
                    batch,
                    "batch.reminder_sent",
                    None,
                    json!({"reminder_sent": false}),
                    json!({"reminder_sent": true}),
                ),
            )?;
            let recipient_user = match view.reviewer_uuid {
                Some(profile) => reviewer_profiles::table
                    .find(DbUuid(profile))
                    .select(reviewer_profiles::user_uuid)
                    .first::<DbUuid>(connection)
                    .optional()?
                    .map(|user| user.0),
                None => None,
            };
            audit::enqueue(
                connection,
                OutboxMessage {
                    call_uuid: Some(batch.call_uuid),
                    template: "assignment_expiry_reminder",
                    recipient_email: &view.reviewer_email,
                    recipient_user_uuid: recipient_user,
                    subject: format!(
                        "{}: your assignment invitation expires soon",
                        view.call_name
                    ),
                    context: json!({
                        "batch_uuid": batch.uuid.simple().to_string(),
                        "call_name": view.call_name,
                        "reviewer_name": view.reviewer_name,
                        "expires_at": time_text(batch.expires_at),
                        "items_count": view.items_count,
                        "items_pending_count": view.items_pending_count,
                        "link": "/reviews/assignments/",
                    }),
                },
            )?;
        }
        Ok(reminded)
    })
}

/// Tells the call managers (`CALL.MANAGER` on the call) about each expired batch once; a call
/// without managers still marks its batches as notified. Returns how many batches were
/// marked. Running it again changes nothing.
pub fn notify_managers_of_expired_batches(
    connection: &mut AnyConnection,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    write_transaction(connection, |connection| {
        let due: Vec<Batch> = assignment_batches::table
            .filter(assignment_batches::status.eq(BatchStatus::Expired.as_str()))
            .filter(assignment_batches::manager_notified.eq(false))
            .order(assignment_batches::uuid.asc())
            .load(connection)?;
        let mut managers: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
        let mut notified = 0;
        for view in views(connection, due)? {
            let batch = &view.batch;
            let updated = diesel::update(
                assignment_batches::table
                    .filter(assignment_batches::uuid.eq(DbUuid(batch.uuid)))
                    .filter(assignment_batches::status.eq(BatchStatus::Expired.as_str()))
                    .filter(assignment_batches::manager_notified.eq(false)),
            )
            .set((
                assignment_batches::manager_notified.eq(true),
                assignment_batches::modified.eq(DbTime::from(now)),
            ))
            .execute(connection)?;
            if updated != 1 {
                continue;
            }
            notified += 1;
            audit::record(
                connection,
                batch_audit(
                    batch,
                    "batch.managers_notified",
                    None,
                    json!({"manager_notified": false}),
                    json!({"manager_notified": true}),
                ),
            )?;

            let recipients = match managers.entry(batch.call_uuid) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(unknown) => {
                    unknown.insert(call_managers(connection, batch.call_uuid)?)
                }
            };
            for (user_uuid, email) in recipients.iter() {
                audit::enqueue(
                    connection,
                    OutboxMessage {
                        call_uuid: Some(batch.call_uuid),
                        template: "assignment_batch_expired",
                        recipient_email: email,
                        recipient_user_uuid: Some(*user_uuid),
                        subject: format!(
                            "{}: an assignment batch of {} expired",
                            view.call_name,
                            view.reviewer_name
                                .clone()
                                .unwrap_or_else(|| view.reviewer_email.clone())
                        ),
                        context: json!({
                            "batch_uuid": batch.uuid.simple().to_string(),
                            "call_uuid": batch.call_uuid.simple().to_string(),
                            "call_name": view.call_name,
                            "reviewer_name": view.reviewer_name,
                            "reviewer_email": view.reviewer_email,
                            "expires_at": time_text(batch.expires_at),
                            "items_count": view.items_count,
                        }),
                    },
                )?;
            }
        }
        Ok(notified)
    })
}

/// Users holding `CALL.MANAGER` on the call, with their e-mail addresses.
fn call_managers(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<Vec<(Uuid, String)>> {
    let holders = role_grants::table
        .filter(role_grants::call_uuid.eq(DbUuid(call_uuid)))
        .filter(role_grants::role.eq(CallRole::Manager.as_str()))
        .select(role_grants::user_uuid);
    Ok(users::table
        .filter(users::uuid.eq_any(holders))
        .filter(users::is_active.eq(true))
        .order(users::uuid.asc())
        .select((users::uuid, users::email))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, email)| (uuid.0, email))
        .collect())
}
