//! Shared core of the assignment workflow: batch, item and review records, workload (open
//! assignments), blocking conflicts of interest, draft batches, item creation and batch
//! completion. Endpoint operations in `batches`, `items`, `reviews` and `conflicts` build on
//! these functions inside their own transactions.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use referee_domain::Actor;
use referee_domain::enums::{AssignmentSource, BatchStatus, CoiStatus, ItemStatus, ReviewState};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, AuditEntry};
use crate::connection::AnyConnection;
use crate::error::StoreResult;
use crate::schema::{
    assignment_batches, assignment_item_conflicts, assignment_items, call_reviewer_pools,
    conflicts_of_interest, proposal_reviews, proposals, reviewer_profiles, rounds,
};
use crate::sql_types::{DbTime, DbUuid, MaybeTime, MaybeUuid};
use crate::stored::Stored;

/// A bundle of proposals offered to one pool entry.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Batch {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub pool_entry_uuid: Uuid,
    #[diesel(deserialize_as = Stored<BatchStatus>)]
    pub status: BatchStatus,
    #[diesel(deserialize_as = MaybeTime)]
    pub sent_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = MaybeTime)]
    pub expires_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = MaybeTime)]
    pub responded_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Stored<AssignmentSource>)]
    pub source: AssignmentSource,
    #[diesel(deserialize_as = MaybeUuid)]
    pub created_by_uuid: Option<Uuid>,
    pub manager_notes: String,
    pub reminder_sent: bool,
    pub manager_notified: bool,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl Batch {
    /// Whether the deadline has passed, whatever the status.
    pub fn is_expired_at(&self, at: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires| at > expires)
    }
}

/// One proposal offered to the reviewer of a batch.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Item {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub batch_uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub proposal_uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub pool_entry_uuid: Uuid,
    /// The reviewer profile of the batch's pool entry.
    #[diesel(deserialize_as = MaybeUuid)]
    pub reviewer_uuid: Option<Uuid>,
    #[diesel(deserialize_as = Stored<ItemStatus>)]
    pub status: ItemStatus,
    pub affinity_score: Option<f64>,
    pub has_coi: bool,
    #[diesel(deserialize_as = MaybeTime)]
    pub responded_at: Option<DateTime<Utc>>,
    pub decline_reason: String,
    #[diesel(deserialize_as = MaybeUuid)]
    pub review_uuid: Option<Uuid>,
    #[diesel(deserialize_as = MaybeUuid)]
    pub reassigned_from_uuid: Option<Uuid>,
    pub reassign_count: i32,
    pub override_reason: String,
    #[diesel(deserialize_as = MaybeUuid)]
    pub overridden_by_uuid: Option<Uuid>,
    #[diesel(deserialize_as = MaybeTime)]
    pub overridden_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// A review of a proposal by one reviewer.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Review {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub proposal_uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub reviewer_user_uuid: Uuid,
    #[diesel(deserialize_as = Stored<ReviewState>)]
    pub state: ReviewState,
    pub summary_score: i32,
    pub summary_public_comment: String,
    pub summary_private_comment: String,
    pub comment_project_title: Option<String>,
    pub comment_project_summary: Option<String>,
    pub comment_project_description: Option<String>,
    pub comment_project_supporting_documentation: Option<String>,
    pub comment_resource_requests: Option<String>,
    pub comment_team: Option<String>,
    pub coi_confirmed: bool,
    #[diesel(deserialize_as = MaybeTime)]
    pub coi_confirmed_at: Option<DateTime<Utc>>,
    /// Deadline of the review; `None` when the round sets no review duration.
    #[diesel(deserialize_as = MaybeTime)]
    pub review_end_date: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// The current time truncated to the microseconds the database keeps.
pub fn now() -> DateTime<Utc> {
    DbTime::from(Utc::now()).0
}

pub fn get_batch(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Option<Batch>> {
    Ok(assignment_batches::table
        .find(DbUuid(uuid))
        .first::<Batch>(connection)
        .optional()?)
}

pub fn get_item(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Option<Item>> {
    Ok(assignment_items::table
        .find(DbUuid(uuid))
        .first::<Item>(connection)
        .optional()?)
}

pub fn get_review(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Option<Review>> {
    Ok(proposal_reviews::table
        .find(DbUuid(uuid))
        .first::<Review>(connection)
        .optional()?)
}

/// Open assignments per pool entry: pending items in draft or sent batches, plus reviews in
/// review by the entry's reviewer on proposals of the entry's call. Entries without a
/// reviewer profile have 0. Runs three queries whatever the number of entries.
pub fn open_assignments(
    connection: &mut AnyConnection,
    pool_entry_uuids: &[Uuid],
) -> StoreResult<HashMap<Uuid, i64>> {
    let mut open: HashMap<Uuid, i64> = pool_entry_uuids.iter().map(|uuid| (*uuid, 0)).collect();
    if pool_entry_uuids.is_empty() {
        return Ok(open);
    }
    let entry_keys: Vec<DbUuid> = pool_entry_uuids.iter().copied().map(DbUuid).collect();

    let pending: Vec<(DbUuid, i64)> = assignment_items::table
        .inner_join(assignment_batches::table)
        .filter(assignment_items::pool_entry_uuid.eq_any(&entry_keys))
        .filter(assignment_items::status.eq(ItemStatus::Pending.as_str()))
        .filter(
            assignment_batches::status
                .eq_any([BatchStatus::Draft.as_str(), BatchStatus::Sent.as_str()]),
        )
        .group_by(assignment_items::pool_entry_uuid)
        .select((assignment_items::pool_entry_uuid, diesel::dsl::count_star()))
        .load(connection)?;
    for (entry, count) in pending {
        *open.entry(entry.0).or_default() += count;
    }

    let reviewers: Vec<(DbUuid, DbUuid, DbUuid)> = call_reviewer_pools::table
        .inner_join(reviewer_profiles::table)
        .filter(call_reviewer_pools::uuid.eq_any(&entry_keys))
        .select((
            call_reviewer_pools::uuid,
            call_reviewer_pools::call_uuid,
            reviewer_profiles::user_uuid,
        ))
        .load(connection)?;
    if reviewers.is_empty() {
        return Ok(open);
    }
    let user_keys: Vec<DbUuid> = reviewers.iter().map(|(_, _, user)| *user).collect();
    let call_keys: Vec<DbUuid> = reviewers.iter().map(|(_, call, _)| *call).collect();
    let in_review: Vec<(DbUuid, DbUuid, i64)> = proposal_reviews::table
        .filter(proposal_reviews::reviewer_user_uuid.eq_any(&user_keys))
        .filter(proposal_reviews::call_uuid.eq_any(&call_keys))
        .filter(proposal_reviews::state.eq(ReviewState::InReview.as_str()))
        .group_by((
            proposal_reviews::reviewer_user_uuid,
            proposal_reviews::call_uuid,
        ))
        .select((
            proposal_reviews::reviewer_user_uuid,
            proposal_reviews::call_uuid,
            diesel::dsl::count_star(),
        ))
        .load(connection)?;
    let reviews: HashMap<(Uuid, Uuid), i64> = in_review
        .into_iter()
        .map(|(user, call, count)| ((user.0, call.0), count))
        .collect();
    for (entry, call, user) in reviewers {
        if let Some(count) = reviews.get(&(user.0, call.0)) {
            *open.entry(entry.0).or_default() += count;
        }
    }
    Ok(open)
}

/// Conflict statuses that keep a reviewer off a proposal.
pub(crate) const BLOCKING: [&str; 2] = ["pending", "recused"];

/// Conflicts of interest that keep a reviewer off a proposal: status `pending` or `recused`,
/// on that proposal or on the whole call (no proposal).
pub fn blocking_conflicts(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    reviewer_uuid: Uuid,
    proposal_uuid: Uuid,
) -> StoreResult<Vec<Uuid>> {
    debug_assert!(CoiStatus::Pending.is_blocking() && CoiStatus::Recused.is_blocking());
    let rows: Vec<DbUuid> = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call_uuid)))
        .filter(conflicts_of_interest::reviewer_uuid.eq(DbUuid(reviewer_uuid)))
        .filter(
            conflicts_of_interest::proposal_uuid
                .eq(DbUuid(proposal_uuid))
                .or(conflicts_of_interest::proposal_uuid.is_null()),
        )
        .filter(conflicts_of_interest::status.eq_any(BLOCKING))
        .order(conflicts_of_interest::uuid.asc())
        .select(conflicts_of_interest::uuid)
        .load(connection)?;
    Ok(rows.into_iter().map(|uuid| uuid.0).collect())
}

/// Blocking conflicts of a call by pair, for generation: conflicts of (reviewer profile,
/// proposal) pairs, and conflicts that block a reviewer on the whole call.
pub struct BlockedPairs {
    pairs: HashMap<(Uuid, Uuid), Vec<Uuid>>,
    whole_call: HashMap<Uuid, Vec<Uuid>>,
}

impl BlockedPairs {
    pub fn blocks(&self, reviewer_uuid: Uuid, proposal_uuid: Uuid) -> bool {
        self.whole_call.contains_key(&reviewer_uuid)
            || self.pairs.contains_key(&(reviewer_uuid, proposal_uuid))
    }

    /// Returns the conflicts that block the reviewer on the proposal, in the order of
    /// [`blocking_conflicts`].
    pub fn conflicts(&self, reviewer_uuid: Uuid, proposal_uuid: Uuid) -> Vec<Uuid> {
        let mut conflicts: Vec<Uuid> = self
            .pairs
            .get(&(reviewer_uuid, proposal_uuid))
            .into_iter()
            .chain(self.whole_call.get(&reviewer_uuid))
            .flatten()
            .copied()
            .collect();
        conflicts.sort_unstable();
        conflicts
    }
}

/// Loads every blocking conflict of a call with one query.
pub fn blocked_pairs(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<BlockedPairs> {
    let rows: Vec<(DbUuid, DbUuid, Option<DbUuid>)> = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call_uuid)))
        .filter(conflicts_of_interest::status.eq_any(BLOCKING))
        .select((
            conflicts_of_interest::uuid,
            conflicts_of_interest::reviewer_uuid,
            conflicts_of_interest::proposal_uuid,
        ))
        .load(connection)?;
    let mut blocked = BlockedPairs {
        pairs: HashMap::new(),
        whole_call: HashMap::new(),
    };
    for (conflict, reviewer, proposal) in rows {
        let conflicts = match proposal {
            Some(proposal) => blocked.pairs.entry((reviewer.0, proposal.0)).or_default(),
            None => blocked.whole_call.entry(reviewer.0).or_default(),
        };
        conflicts.push(conflict.0);
    }
    Ok(blocked)
}

/// The pool entry's draft batch, created (with `source`, `created_by` and `notes`) when it has
/// none. A partial unique index keeps at most one draft per pool entry. Returns whether the
/// batch was created.
pub fn draft_batch(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    pool_entry_uuid: Uuid,
    source: AssignmentSource,
    actor: Option<&Actor>,
    notes: &str,
) -> StoreResult<(Batch, bool)> {
    let existing = assignment_batches::table
        .filter(assignment_batches::pool_entry_uuid.eq(DbUuid(pool_entry_uuid)))
        .filter(assignment_batches::status.eq(BatchStatus::Draft.as_str()))
        .first::<Batch>(connection)
        .optional()?;
    if let Some(batch) = existing {
        return Ok((batch, false));
    }

    let batch = new_draft(call_uuid, pool_entry_uuid, source, actor, notes, now());
    insert_drafts(connection, std::slice::from_ref(&batch), actor)?;
    Ok((batch, true))
}

/// Loads the draft batches of the pool entries with one query, keyed by pool entry. Entries
/// without a draft are missing from the map.
pub fn draft_batches(
    connection: &mut AnyConnection,
    pool_entry_uuids: &[Uuid],
) -> StoreResult<HashMap<Uuid, Batch>> {
    if pool_entry_uuids.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<DbUuid> = pool_entry_uuids.iter().copied().map(DbUuid).collect();
    Ok(assignment_batches::table
        .filter(assignment_batches::pool_entry_uuid.eq_any(keys))
        .filter(assignment_batches::status.eq(BatchStatus::Draft.as_str()))
        .load::<Batch>(connection)?
        .into_iter()
        .map(|batch| (batch.pool_entry_uuid, batch))
        .collect())
}

/// Builds a draft batch of the pool entry, created at `at`, for [`insert_drafts`] to store.
pub fn new_draft(
    call_uuid: Uuid,
    pool_entry_uuid: Uuid,
    source: AssignmentSource,
    actor: Option<&Actor>,
    notes: &str,
    at: DateTime<Utc>,
) -> Batch {
    let at = DbTime::from(at).0;
    Batch {
        uuid: Uuid::now_v7(),
        call_uuid,
        pool_entry_uuid,
        status: BatchStatus::Draft,
        sent_at: None,
        expires_at: None,
        responded_at: None,
        source,
        created_by_uuid: actor.map(|actor| actor.user_uuid),
        manager_notes: notes.to_owned(),
        reminder_sent: false,
        manager_notified: false,
        created: at,
        modified: at,
    }
}

/// Bound values per batch row of [`insert_drafts`].
const DRAFT_COLUMNS: usize = 11;

/// Inserts draft batches made by [`new_draft`] and records a `batch.created` event for each
/// at the batch's creation time, with as many rows per INSERT as the bind-parameter limit
/// allows.
pub fn insert_drafts(
    connection: &mut AnyConnection,
    batches: &[Batch],
    actor: Option<&Actor>,
) -> StoreResult<()> {
    for part in batches.chunks(crate::bulk::rows_per_insert(DRAFT_COLUMNS)) {
        let rows: Vec<_> = part
            .iter()
            .map(|batch| {
                (
                    assignment_batches::uuid.eq(DbUuid(batch.uuid)),
                    assignment_batches::call_uuid.eq(DbUuid(batch.call_uuid)),
                    assignment_batches::pool_entry_uuid.eq(DbUuid(batch.pool_entry_uuid)),
                    assignment_batches::status.eq(batch.status.as_str()),
                    assignment_batches::source.eq(batch.source.as_str()),
                    assignment_batches::created_by_uuid.eq(batch.created_by_uuid.map(DbUuid)),
                    assignment_batches::manager_notes.eq(&batch.manager_notes),
                    assignment_batches::reminder_sent.eq(batch.reminder_sent),
                    assignment_batches::manager_notified.eq(batch.manager_notified),
                    assignment_batches::created.eq(DbTime(batch.created)),
                    assignment_batches::modified.eq(DbTime(batch.modified)),
                )
            })
            .collect();
        crate::bulk::insert_rows!(connection, assignment_batches::table, rows)?;
    }

    let events: Vec<(DateTime<Utc>, AuditEntry<'_>)> = batches
        .iter()
        .map(|batch| {
            let entry = AuditEntry {
                call_uuid: Some(batch.call_uuid),
                object_type: "batch",
                object_uuid: batch.uuid,
                action: "batch.created",
                actor,
                reason: "",
                before: None,
                after: Some(json!({
                    "status": "draft",
                    "source": batch.source.as_str(),
                    "pool_entry_uuid": batch.pool_entry_uuid.simple().to_string(),
                })),
            };
            (batch.created, entry)
        })
        .collect();
    audit::record_all(connection, &events)
}

/// Fields of a new item.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub proposal_uuid: Uuid,
    pub affinity_score: Option<f64>,
    pub reassigned_from_uuid: Option<Uuid>,
    pub reassign_count: i32,
}

/// An item for [`insert_items`], with its reviewer profile and blocking conflicts already
/// read.
#[derive(Debug, Clone)]
pub struct ItemRow<'a> {
    pub uuid: Uuid,
    pub batch: &'a Batch,
    /// The reviewer profile of the batch's pool entry.
    pub reviewer_uuid: Option<Uuid>,
    pub new: NewItem,
    /// Blocking conflicts of the reviewer on the proposal. The item is `coi_blocked` and
    /// linked to them when there is any, `pending` otherwise.
    pub conflicts: Vec<Uuid>,
    /// Creation time of the item and of its `item.created` event.
    pub created: DateTime<Utc>,
}

impl ItemRow<'_> {
    fn status(&self) -> ItemStatus {
        if self.conflicts.is_empty() {
            ItemStatus::Pending
        } else {
            ItemStatus::CoiBlocked
        }
    }
}

/// Bound values per row of [`insert_items`] in `assignment_items` and in
/// `assignment_item_conflicts`.
const ITEM_COLUMNS: usize = 15;
const ITEM_CONFLICT_COLUMNS: usize = 2;

/// Inserts items, their conflict links and an `item.created` event for each, with as many
/// rows per INSERT as the bind-parameter limit allows.
pub fn insert_items(
    connection: &mut AnyConnection,
    items: &[ItemRow<'_>],
    actor: Option<&Actor>,
) -> StoreResult<()> {
    for part in items.chunks(crate::bulk::rows_per_insert(ITEM_COLUMNS)) {
        let rows: Vec<_> = part
            .iter()
            .map(|item| {
                let created = DbTime::from(item.created);
                (
                    assignment_items::uuid.eq(DbUuid(item.uuid)),
                    assignment_items::batch_uuid.eq(DbUuid(item.batch.uuid)),
                    assignment_items::proposal_uuid.eq(DbUuid(item.new.proposal_uuid)),
                    assignment_items::call_uuid.eq(DbUuid(item.batch.call_uuid)),
                    assignment_items::pool_entry_uuid.eq(DbUuid(item.batch.pool_entry_uuid)),
                    assignment_items::reviewer_uuid.eq(item.reviewer_uuid.map(DbUuid)),
                    assignment_items::status.eq(item.status().as_str()),
                    assignment_items::affinity_score.eq(item.new.affinity_score),
                    assignment_items::has_coi.eq(!item.conflicts.is_empty()),
                    assignment_items::decline_reason.eq(""),
                    assignment_items::reassigned_from_uuid
                        .eq(item.new.reassigned_from_uuid.map(DbUuid)),
                    assignment_items::reassign_count.eq(item.new.reassign_count),
                    assignment_items::override_reason.eq(""),
                    assignment_items::created.eq(created),
                    assignment_items::modified.eq(created),
                )
            })
            .collect();
        crate::bulk::insert_rows!(connection, assignment_items::table, rows)?;
    }

    let links: Vec<(DbUuid, DbUuid)> = items
        .iter()
        .flat_map(|item| {
            item.conflicts
                .iter()
                .map(|conflict| (DbUuid(item.uuid), DbUuid(*conflict)))
        })
        .collect();
    for part in links.chunks(crate::bulk::rows_per_insert(ITEM_CONFLICT_COLUMNS)) {
        let rows: Vec<_> = part
            .iter()
            .map(|(item, conflict)| {
                (
                    assignment_item_conflicts::item_uuid.eq(*item),
                    assignment_item_conflicts::conflict_uuid.eq(*conflict),
                )
            })
            .collect();
        crate::bulk::insert_rows!(connection, assignment_item_conflicts::table, rows)?;
    }

    let events: Vec<(DateTime<Utc>, AuditEntry<'_>)> = items
        .iter()
        .map(|item| {
            let entry = AuditEntry {
                call_uuid: Some(item.batch.call_uuid),
                object_type: "item",
                object_uuid: item.uuid,
                action: "item.created",
                actor,
                reason: "",
                before: None,
                after: Some(json!({
                    "status": item.status().as_str(),
                    "batch_uuid": item.batch.uuid.simple().to_string(),
                    "proposal_uuid": item.new.proposal_uuid.simple().to_string(),
                })),
            };
            (item.created, entry)
        })
        .collect();
    audit::record_all(connection, &events)
}

/// Adds an item to a batch: `coi_blocked` with the blocking conflicts linked when the
/// reviewer has any on the proposal, `pending` otherwise.
pub fn insert_item(
    connection: &mut AnyConnection,
    batch: &Batch,
    new: &NewItem,
    actor: Option<&Actor>,
) -> StoreResult<Item> {
    let reviewer_uuid: Option<DbUuid> = call_reviewer_pools::table
        .find(DbUuid(batch.pool_entry_uuid))
        .select(call_reviewer_pools::reviewer_uuid)
        .first(connection)?;
    let reviewer_uuid = reviewer_uuid.map(|reviewer| reviewer.0);
    let conflicts = match reviewer_uuid {
        Some(reviewer) => {
            blocking_conflicts(connection, batch.call_uuid, reviewer, new.proposal_uuid)?
        }
        None => Vec::new(),
    };

    let item = ItemRow {
        uuid: Uuid::now_v7(),
        batch,
        reviewer_uuid,
        new: new.clone(),
        conflicts,
        created: now(),
    };
    insert_items(connection, std::slice::from_ref(&item), actor)?;
    Ok(get_item(connection, item.uuid)?.expect("the item was just inserted"))
}

/// Sets a batch's status from its items: a sent batch with no pending item becomes
/// `responded`; a responded batch with a pending item again becomes `sent`. Other statuses
/// stay. Returns the new status when it changed.
pub fn refresh_batch_status(
    connection: &mut AnyConnection,
    batch_uuid: Uuid,
    actor: Option<&Actor>,
) -> StoreResult<Option<BatchStatus>> {
    match get_batch(connection, batch_uuid)? {
        Some(batch) => settle_batch_status(connection, &batch, actor),
        None => Ok(None),
    }
}

/// Settles the status of a batch already read in the same transaction, as
/// [`refresh_batch_status`] does: a lock on the batch row, one conditional update, and an
/// audit row when the status changed.
pub fn settle_batch_status(
    connection: &mut AnyConnection,
    batch: &Batch,
    actor: Option<&Actor>,
) -> StoreResult<Option<BatchStatus>> {
    // Two responses to the last two pending items of a batch must not both see the other
    // item still pending. Updating the row makes the second wait for the first to commit, so
    // its next statement reads the first one's response (PostgreSQL's read committed takes a
    // new snapshot per statement). SQLite runs one write transaction at a time anyway.
    diesel::update(
        assignment_batches::table.filter(assignment_batches::uuid.eq(DbUuid(batch.uuid))),
    )
    .set(assignment_batches::modified.eq(assignment_batches::modified))
    .execute(connection)?;
    let pending = assignment_items::table
        .filter(assignment_items::batch_uuid.eq(DbUuid(batch.uuid)))
        .filter(assignment_items::status.eq(ItemStatus::Pending.as_str()));
    let this_batch = assignment_batches::table
        .filter(assignment_batches::uuid.eq(DbUuid(batch.uuid)))
        .filter(assignment_batches::status.eq(batch.status.as_str()));
    let at = now();
    let (new_status, changed) = match batch.status {
        BatchStatus::Sent => {
            let changed = diesel::update(this_batch.filter(not(exists(pending))))
                .set((
                    assignment_batches::status.eq(BatchStatus::Responded.as_str()),
                    assignment_batches::responded_at.eq(Some(DbTime(at))),
                    assignment_batches::modified.eq(DbTime(at)),
                ))
                .execute(connection)?;
            (BatchStatus::Responded, changed)
        }
        BatchStatus::Responded => {
            let changed = diesel::update(this_batch.filter(exists(pending)))
                .set((
                    assignment_batches::status.eq(BatchStatus::Sent.as_str()),
                    assignment_batches::responded_at.eq(None::<DbTime>),
                    assignment_batches::modified.eq(DbTime(at)),
                ))
                .execute(connection)?;
            (BatchStatus::Sent, changed)
        }
        _ => return Ok(None),
    };
    if changed == 0 {
        return Ok(None);
    }
    audit::record(
        connection,
        AuditEntry {
            call_uuid: Some(batch.call_uuid),
            object_type: "batch",
            object_uuid: batch.uuid,
            action: if new_status == BatchStatus::Responded {
                "batch.responded"
            } else {
                "batch.reopened"
            },
            actor,
            reason: "",
            before: Some(json!({"status": batch.status.as_str()})),
            after: Some(json!({"status": new_status.as_str()})),
        },
    )?;
    Ok(Some(new_status))
}

/// The deadline of a review created now for an item of `batch`: the round's review duration
/// after creation, or the batch's deadline when that is later; `None` when the round sets no
/// duration.
pub fn review_deadline(
    connection: &mut AnyConnection,
    proposal_uuid: Uuid,
    batch_expires_at: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
) -> StoreResult<Option<DateTime<Utc>>> {
    let duration: Option<i32> = proposals::table
        .inner_join(rounds::table)
        .filter(proposals::uuid.eq(DbUuid(proposal_uuid)))
        .select(rounds::review_duration_in_days)
        .first(connection)?;
    Ok(deadline_after(duration, batch_expires_at, created))
}

/// Computes [`review_deadline`] from the round's review duration in days, already read.
pub fn deadline_after(
    review_duration_in_days: Option<i32>,
    batch_expires_at: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    review_duration_in_days.map(|days| {
        let own = created + Duration::days(i64::from(days));
        match batch_expires_at {
            Some(batch_deadline) if batch_deadline > own => batch_deadline,
            _ => own,
        }
    })
}

/// A review to create for an accepted item.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub proposal_uuid: Uuid,
    pub call_uuid: Uuid,
    pub reviewer_user_uuid: Uuid,
    pub review_end_date: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
}

/// Creates the review of an accepted item (state `in_review`, every score and comment empty)
/// and records it in the audit log. Returns its UUID.
pub fn create_review(
    connection: &mut AnyConnection,
    new: &NewReview,
    actor: Option<&Actor>,
) -> StoreResult<Uuid> {
    let uuid = insert_review(connection, new)?;
    audit::record(connection, review_created(new, uuid, actor))?;
    Ok(uuid)
}

/// Inserts the review of an accepted item without its audit event (see [`review_created`]).
pub fn insert_review(connection: &mut AnyConnection, new: &NewReview) -> StoreResult<Uuid> {
    let uuid = Uuid::now_v7();
    diesel::insert_into(proposal_reviews::table)
        .values((
            proposal_reviews::uuid.eq(DbUuid(uuid)),
            proposal_reviews::proposal_uuid.eq(DbUuid(new.proposal_uuid)),
            proposal_reviews::call_uuid.eq(DbUuid(new.call_uuid)),
            proposal_reviews::reviewer_user_uuid.eq(DbUuid(new.reviewer_user_uuid)),
            proposal_reviews::state.eq(ReviewState::InReview.as_str()),
            proposal_reviews::summary_score.eq(0),
            proposal_reviews::summary_public_comment.eq(""),
            proposal_reviews::summary_private_comment.eq(""),
            proposal_reviews::coi_confirmed.eq(false),
            proposal_reviews::review_end_date.eq(new.review_end_date.map(DbTime)),
            proposal_reviews::created.eq(DbTime(new.created)),
            proposal_reviews::modified.eq(DbTime(new.created)),
        ))
        .execute(connection)?;
    Ok(uuid)
}

/// Builds the audit event of a created review.
pub fn review_created<'a>(new: &NewReview, uuid: Uuid, actor: Option<&'a Actor>) -> AuditEntry<'a> {
    AuditEntry {
        call_uuid: Some(new.call_uuid),
        object_type: "review",
        object_uuid: uuid,
        action: "review.created",
        actor,
        reason: "",
        before: None,
        after: Some(
            json!({"state": "in_review", "proposal_uuid": new.proposal_uuid.simple().to_string()}),
        ),
    }
}

/// Sends a draft batch to its reviewer: status `sent`, `sent_at` now, the deadline after the
/// call's `assignment_expiration_days`, optional new notes, and a notification in the outbox.
/// The caller checks permissions; a batch that is not a draft is refused.
pub fn send_batch(
    connection: &mut AnyConnection,
    batch_uuid: Uuid,
    notes: Option<&str>,
    actor: Option<&Actor>,
) -> StoreResult<Batch> {
    let Some(batch) = get_batch(connection, batch_uuid)? else {
        return Err(referee_domain::DomainError::not_found("assignment batch").into());
    };
    if batch.status != BatchStatus::Draft {
        return Err(referee_domain::DomainError::invalid_state(
            "batch_not_draft",
            format!(
                "Only draft batches can be sent; this batch is {}.",
                batch.status
            ),
        )
        .into());
    }

    let config = crate::configs::assignment_config(connection, batch.call_uuid)?;
    let at = now();
    let expires_at = at + Duration::days(i64::from(config.assignment_expiration_days));
    let notes = notes
        .filter(|notes| !notes.is_empty())
        .unwrap_or(&batch.manager_notes)
        .to_owned();
    let updated = diesel::update(
        assignment_batches::table
            .filter(assignment_batches::uuid.eq(DbUuid(batch_uuid)))
            .filter(assignment_batches::status.eq(BatchStatus::Draft.as_str())),
    )
    .set((
        assignment_batches::status.eq(BatchStatus::Sent.as_str()),
        assignment_batches::sent_at.eq(Some(DbTime(at))),
        assignment_batches::expires_at.eq(Some(DbTime(expires_at))),
        assignment_batches::manager_notes.eq(&notes),
        assignment_batches::reminder_sent.eq(false),
        assignment_batches::modified.eq(DbTime(at)),
    ))
    .execute(connection)?;
    if updated != 1 {
        return Err(referee_domain::DomainError::invalid_state(
            "batch_not_draft",
            "Only draft batches can be sent; this batch changed while it was being sent.",
        )
        .into());
    }

    audit::record(
        connection,
        AuditEntry {
            call_uuid: Some(batch.call_uuid),
            object_type: "batch",
            object_uuid: batch_uuid,
            action: "batch.sent",
            actor,
            reason: "",
            before: Some(json!({"status": "draft"})),
            after: Some(
                json!({"status": "sent", "expires_at": crate::sql_types::sqlite_time_text(expires_at)}),
            ),
        },
    )?;
    notify_batch_sent(connection, &batch, expires_at, &notes)?;
    Ok(get_batch(connection, batch_uuid)?.expect("the batch exists"))
}

/// Queues the e-mail that tells a reviewer about a sent batch: its proposals (titles only
/// for conflict-blocked items), the deadline and the manager's notes.
fn notify_batch_sent(
    connection: &mut AnyConnection,
    batch: &Batch,
    expires_at: DateTime<Utc>,
    notes: &str,
) -> StoreResult<()> {
    let pool_entry = call_reviewer_pools::table
        .find(DbUuid(batch.pool_entry_uuid))
        .first::<crate::pool::PoolEntry>(connection)?;
    let entry = crate::pool::views(connection, vec![pool_entry])?.remove(0);
    let items: Vec<(String, String)> = assignment_items::table
        .inner_join(proposals::table)
        .filter(assignment_items::batch_uuid.eq(DbUuid(batch.uuid)))
        .order(assignment_items::created.asc())
        .select((proposals::name, assignment_items::status))
        .load(connection)?;
    let email = entry.reviewer_email();
    audit::enqueue(
        connection,
        audit::OutboxMessage {
            call_uuid: Some(batch.call_uuid),
            template: "assignment_batch_sent",
            recipient_email: &email,
            recipient_user_uuid: entry.reviewer_user.as_ref().map(|user| user.uuid),
            subject: format!("{}: {} proposal(s) to review", entry.call_name, items.len()),
            context: json!({
                "batch_uuid": batch.uuid.simple().to_string(),
                "call_name": entry.call_name,
                "reviewer_name": entry.reviewer_name(),
                "proposals": items.iter().map(|(name, status)| json!({"name": name, "coi_blocked": status == "coi_blocked"})).collect::<Vec<_>>(),
                "items_count": items.len(),
                "expires_at": crate::sql_types::sqlite_time_text(expires_at),
                "manager_notes": notes,
                "link": "/reviews/assignments/",
            }),
        },
    )?;
    Ok(())
}
