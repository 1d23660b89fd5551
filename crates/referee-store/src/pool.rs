//! The reviewer pool of a call: invitations, their answers and their expiry.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::RngCore as _;
use referee_domain::enums::{CoiSeverity, CoiStatus, CoiType, DetectionMethod, InvitationStatus};
use referee_domain::{Actor, DomainError};
use uuid::Uuid;

use crate::calls::{self, Call};
use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::profiles::{self, Profile};
use crate::schema::{
    call_reviewer_pools, calls as calls_table, conflicts_of_interest, proposal_reviews, proposals,
    reviewer_profiles, users,
};
use crate::sql_functions::lower;
use crate::sql_types::{DbTime, DbUuid, MaybeTime, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;
use crate::users::User;

/// Days an invitation stays open: the call's `assignment_expiration_days` (7 by default).
fn invitation_days(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<i64> {
    Ok(i64::from(
        crate::configs::assignment_config(connection, call_uuid)?.assignment_expiration_days,
    ))
}

/// Default and bounds of `max_assignments`.
pub const DEFAULT_MAX_ASSIGNMENTS: i32 = 5;
pub const MAX_ASSIGNMENTS_RANGE: std::ops::RangeInclusive<i32> = 1..=50;

/// A pool entry: one reviewer's invitation to, and membership in, one call's pool.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct PoolEntry {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    /// The reviewer profile; `None` for an e-mail invitation not yet accepted.
    #[diesel(deserialize_as = MaybeUuid)]
    pub reviewer_uuid: Option<Uuid>,
    pub invited_email: String,
    #[diesel(deserialize_as = MaybeUuid)]
    pub invited_user_uuid: Option<Uuid>,
    #[diesel(deserialize_as = MaybeUuid)]
    pub invited_by_uuid: Option<Uuid>,
    #[diesel(deserialize_as = DbTime)]
    pub invited_at: DateTime<Utc>,
    #[diesel(deserialize_as = Stored<InvitationStatus>)]
    pub invitation_status: InvitationStatus,
    #[diesel(deserialize_as = MaybeTime)]
    pub response_date: Option<DateTime<Utc>>,
    pub decline_reason: String,
    pub max_assignments: i32,
    pub expertise_match_score: Option<f64>,
    pub invitation_token: String,
    #[diesel(deserialize_as = MaybeTime)]
    pub invitation_expires_at: Option<DateTime<Utc>>,
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

impl PoolEntry {
    /// Whether the invitation can no longer be answered because its expiry passed.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.invitation_status == InvitationStatus::Expired
            || (self.invitation_status == InvitationStatus::Pending
                && self
                    .invitation_expires_at
                    .is_some_and(|expires| expires <= now))
    }
}

/// A pool entry with the names and counts its representation shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolEntryView {
    pub entry: PoolEntry,
    pub call_name: String,
    /// The user behind the reviewer profile, if the entry has one.
    pub reviewer_user: Option<User>,
    pub invited_user: Option<User>,
    pub invited_by: Option<User>,
    pub overridden_by: Option<User>,
    /// Conflicts of interest recorded for (reviewer, call), any status.
    pub coi_count: i64,
    pub coi_by_severity: BTreeMap<String, i64>,
    /// Open assignments of the reviewer in this call (see `assignments::open_assignments`).
    pub current_assignments: i64,
    /// Reviews by the reviewer on proposals of this call, in review and submitted.
    pub reviews_in_progress: i64,
    pub reviews_completed: i64,
}

impl PoolEntryView {
    /// The reviewer's full name: the profile's user, else the invited user, else none.
    pub fn reviewer_name(&self) -> Option<String> {
        self.reviewer_user
            .as_ref()
            .or(self.invited_user.as_ref())
            .map(|user| user.full_name.clone())
    }

    /// The reviewer's e-mail: the profile's user, else the invited user, else the invited address.
    pub fn reviewer_email(&self) -> String {
        self.reviewer_user
            .as_ref()
            .or(self.invited_user.as_ref())
            .map_or_else(
                || self.entry.invited_email.clone(),
                |user| user.email.clone(),
            )
    }
}

/// Fields a pool list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolOrder {
    InvitedAt,
    ExpertiseMatchScore,
    CurrentAssignments,
    Created,
}

/// Filters of the pool list.
#[derive(Debug, Clone, Default)]
pub struct PoolFilter {
    pub call_uuid: Option<Uuid>,
    pub reviewer_uuid: Option<Uuid>,
    pub invitation_status: Vec<InvitationStatus>,
    /// Only entries addressed to the caller.
    pub my_invitations: bool,
}

/// A conflict the reviewer declares while accepting an invitation.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredConflict {
    pub proposal_uuid: Uuid,
    pub coi_type: CoiType,
    pub severity: CoiSeverity,
    pub description: String,
}

fn now() -> DateTime<Utc> {
    DbTime::from(Utc::now()).0
}

/// A random URL-safe token of 48 bytes (64 characters).
fn new_invitation_token() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0_u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let mut token = String::with_capacity(64);
    for chunk in bytes.chunks(3) {
        let value = (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]);
        for shift in [18, 12, 6, 0] {
            token.push(char::from(ALPHABET[((value >> shift) & 63) as usize]));
        }
    }
    token
}

/// Entries the actor may see: staff and support see all; whoever reads a call's management
/// data sees the call's entries; every user sees the entries addressed to them.
fn visible(actor: &Actor) -> call_reviewer_pools::BoxedQuery<'static, MultiBackend> {
    let query = call_reviewer_pools::table.into_boxed();
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
    query.filter(
        call_reviewer_pools::call_uuid
            .eq_any(readable_calls)
            .or(addressed_to(actor)),
    )
}

/// Entries addressed to the actor: through their profile, as invited user, or by e-mail.
fn addressed_to(
    actor: &Actor,
) -> Box<
    dyn BoxableExpression<
            call_reviewer_pools::table,
            MultiBackend,
            SqlType = diesel::sql_types::Bool,
        >,
> {
    let own_profiles = reviewer_profiles::table
        .filter(reviewer_profiles::user_uuid.eq(DbUuid(actor.user_uuid)))
        .select(reviewer_profiles::uuid.nullable());
    let by_profile = call_reviewer_pools::reviewer_uuid.eq_any(own_profiles);
    let by_user = call_reviewer_pools::invited_user_uuid.eq(Some(DbUuid(actor.user_uuid)));
    if actor.email.is_empty() {
        return Box::new(by_profile.or(by_user).assume_not_null());
    }
    let by_email = lower(call_reviewer_pools::invited_email).eq(actor.email.to_lowercase());
    Box::new(by_profile.or(by_user).or(by_email).assume_not_null())
}

fn filtered(
    actor: &Actor,
    filter: &PoolFilter,
) -> call_reviewer_pools::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(actor);
    if let Some(call_uuid) = filter.call_uuid {
        query = query.filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)));
    }
    if let Some(reviewer_uuid) = filter.reviewer_uuid {
        query = query.filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(reviewer_uuid)));
    }
    if !filter.invitation_status.is_empty() {
        let statuses: Vec<&'static str> = filter
            .invitation_status
            .iter()
            .map(|status| status.as_str())
            .collect();
        query = query.filter(call_reviewer_pools::invitation_status.eq_any(statuses));
    }
    if filter.my_invitations {
        query = query.filter(addressed_to(actor));
    }
    query
}

/// Lists entries visible to the actor.
pub fn list_entries(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &PoolFilter,
    order: &[SortKey<PoolOrder>],
    page: PageRequest,
) -> StoreResult<Page<PoolEntryView>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(call_reviewer_pools::invited_at.desc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (PoolOrder::InvitedAt, false) => {
                query.then_order_by(call_reviewer_pools::invited_at.asc())
            }
            (PoolOrder::InvitedAt, true) => {
                query.then_order_by(call_reviewer_pools::invited_at.desc())
            }
            (PoolOrder::ExpertiseMatchScore, false) => {
                query.then_order_by(call_reviewer_pools::expertise_match_score.asc())
            }
            (PoolOrder::ExpertiseMatchScore, true) => {
                query.then_order_by(call_reviewer_pools::expertise_match_score.desc())
            }
            (PoolOrder::CurrentAssignments, false) => {
                query.then_order_by(open_assignments_sql().asc())
            }
            (PoolOrder::CurrentAssignments, true) => {
                query.then_order_by(open_assignments_sql().desc())
            }
            (PoolOrder::Created, false) => query.then_order_by(call_reviewer_pools::created.asc()),
            (PoolOrder::Created, true) => query.then_order_by(call_reviewer_pools::created.desc()),
        };
    }
    let entries = query
        .then_order_by(call_reviewer_pools::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<PoolEntry>(connection)?;

    Ok(Page {
        rows: views(connection, entries)?,
        total,
    })
}

/// Open assignments of the pool entry of the current row, as a SQL expression for ordering;
/// it counts what `assignments::open_assignments` counts.
fn open_assignments_sql() -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "((SELECT count(*) FROM assignment_items i JOIN assignment_batches b ON b.uuid = i.batch_uuid \
           WHERE i.pool_entry_uuid = call_reviewer_pools.uuid AND i.status = 'pending' \
           AND b.status IN ('draft', 'sent')) \
          + (SELECT count(*) FROM proposal_reviews r JOIN reviewer_profiles p ON p.user_uuid = r.reviewer_user_uuid \
           WHERE p.uuid = call_reviewer_pools.reviewer_uuid AND r.call_uuid = call_reviewer_pools.call_uuid \
           AND r.state = 'in_review'))",
    )
}

/// Loads the names and counts of a page of entries with a fixed number of queries.
pub fn views(
    connection: &mut AnyConnection,
    entries: Vec<PoolEntry>,
) -> StoreResult<Vec<PoolEntryView>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }

    let call_uuids: Vec<DbUuid> = entries
        .iter()
        .map(|entry| DbUuid(entry.call_uuid))
        .collect();
    let call_names: HashMap<Uuid, String> = calls_table::table
        .filter(calls_table::uuid.eq_any(call_uuids))
        .select((calls_table::uuid, calls_table::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    let profile_uuids: Vec<DbUuid> = entries
        .iter()
        .filter_map(|entry| entry.reviewer_uuid.map(DbUuid))
        .collect();
    let profile_users: HashMap<Uuid, User> = reviewer_profiles::table
        .inner_join(users::table)
        .filter(reviewer_profiles::uuid.eq_any(&profile_uuids))
        .select((reviewer_profiles::uuid, users::all_columns))
        .load::<(DbUuid, User)>(connection)?
        .into_iter()
        .map(|(profile, user)| (profile.0, user))
        .collect();

    let user_uuids: Vec<DbUuid> = entries
        .iter()
        .flat_map(|entry| {
            [
                entry.invited_user_uuid,
                entry.invited_by_uuid,
                entry.overridden_by_uuid,
            ]
        })
        .flatten()
        .map(DbUuid)
        .collect();
    let users_by_uuid: HashMap<Uuid, User> = users::table
        .filter(users::uuid.eq_any(user_uuids))
        .load::<User>(connection)?
        .into_iter()
        .map(|user| (user.uuid, user))
        .collect();

    let conflict_rows: Vec<(DbUuid, DbUuid, String)> = conflicts_of_interest::table
        .filter(conflicts_of_interest::reviewer_uuid.eq_any(&profile_uuids))
        .select((
            conflicts_of_interest::reviewer_uuid,
            conflicts_of_interest::call_uuid,
            conflicts_of_interest::severity,
        ))
        .load(connection)?;
    let mut conflicts: HashMap<(Uuid, Uuid), BTreeMap<String, i64>> = HashMap::new();
    for (reviewer, call, severity) in conflict_rows {
        *conflicts
            .entry((reviewer.0, call.0))
            .or_default()
            .entry(severity)
            .or_default() += 1;
    }

    let entry_uuids: Vec<Uuid> = entries.iter().map(|entry| entry.uuid).collect();
    let open = crate::assignments::open_assignments(connection, &entry_uuids)?;

    let reviewer_users: Vec<DbUuid> = profile_users
        .values()
        .map(|user| DbUuid(user.uuid))
        .collect();
    let review_rows: Vec<(DbUuid, DbUuid, String)> = proposal_reviews::table
        .filter(proposal_reviews::reviewer_user_uuid.eq_any(reviewer_users))
        .select((
            proposal_reviews::reviewer_user_uuid,
            proposal_reviews::call_uuid,
            proposal_reviews::state,
        ))
        .load(connection)?;
    let mut reviews: HashMap<(Uuid, Uuid, String), i64> = HashMap::new();
    for (user, call, state) in review_rows {
        *reviews.entry((user.0, call.0, state)).or_default() += 1;
    }

    let lookup = |uuid: Option<Uuid>| uuid.and_then(|uuid| users_by_uuid.get(&uuid).cloned());
    Ok(entries
        .into_iter()
        .map(|entry| {
            let coi_by_severity = entry
                .reviewer_uuid
                .and_then(|reviewer| conflicts.get(&(reviewer, entry.call_uuid)).cloned())
                .unwrap_or_default();
            let reviewer_user = entry
                .reviewer_uuid
                .and_then(|profile| profile_users.get(&profile).cloned());
            let review_count = |state: &str| {
                reviewer_user
                    .as_ref()
                    .and_then(|user| reviews.get(&(user.uuid, entry.call_uuid, state.to_owned())))
                    .copied()
                    .unwrap_or(0)
            };
            PoolEntryView {
                call_name: call_names
                    .get(&entry.call_uuid)
                    .cloned()
                    .unwrap_or_default(),
                current_assignments: open.get(&entry.uuid).copied().unwrap_or(0),
                reviews_in_progress: review_count("in_review"),
                reviews_completed: review_count("submitted"),
                reviewer_user,
                invited_user: lookup(entry.invited_user_uuid),
                invited_by: lookup(entry.invited_by_uuid),
                overridden_by: lookup(entry.overridden_by_uuid),
                coi_count: coi_by_severity.values().sum(),
                coi_by_severity,
                entry,
            }
        })
        .collect())
}

fn view(connection: &mut AnyConnection, entry: PoolEntry) -> StoreResult<PoolEntryView> {
    let mut views = views(connection, vec![entry])?;
    Ok(views.remove(0))
}

fn get_entry(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<PoolEntry> {
    call_reviewer_pools::table
        .find(DbUuid(uuid))
        .first::<PoolEntry>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("pool entry").into())
}

/// Finds an entry visible to the actor; others are reported as not found.
pub fn find_visible_entry(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<PoolEntry> {
    visible(actor)
        .filter(call_reviewer_pools::uuid.eq(DbUuid(uuid)))
        .first::<PoolEntry>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("pool entry").into())
}

pub fn find_visible_entry_view(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<PoolEntryView> {
    let entry = find_visible_entry(connection, actor, uuid)?;
    view(connection, entry)
}

/// Lists every entry of a call, newest invitation first; the actor must read the call's data.
pub fn list_call_pool(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<Vec<PoolEntryView>> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    require_reader(&call, actor)?;
    let entries = call_reviewer_pools::table
        .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
        .order((
            call_reviewer_pools::invited_at.desc(),
            call_reviewer_pools::uuid.asc(),
        ))
        .load::<PoolEntry>(connection)?;
    views(connection, entries)
}

fn require_reader(call: &Call, actor: &Actor) -> StoreResult<()> {
    if call.readable_by(actor) {
        Ok(())
    } else {
        Err(DomainError::permission_denied(
            "Only staff, support and the call's managers can read its reviewer pool.",
        )
        .into())
    }
}

struct NewEntry {
    call_uuid: Uuid,
    reviewer_uuid: Option<Uuid>,
    invited_email: String,
    invited_user_uuid: Option<Uuid>,
    invited_by_uuid: Uuid,
    max_assignments: i32,
    expertise_match_score: Option<f64>,
}

fn insert_entry(connection: &mut AnyConnection, new: NewEntry) -> StoreResult<Uuid> {
    let uuid = Uuid::now_v7();
    let invited_at = now();
    let days = invitation_days(connection, new.call_uuid)?;
    diesel::insert_into(call_reviewer_pools::table)
        .values((
            call_reviewer_pools::uuid.eq(DbUuid(uuid)),
            call_reviewer_pools::call_uuid.eq(DbUuid(new.call_uuid)),
            call_reviewer_pools::reviewer_uuid.eq(new.reviewer_uuid.map(DbUuid)),
            call_reviewer_pools::invited_email.eq(new.invited_email),
            call_reviewer_pools::invited_user_uuid.eq(new.invited_user_uuid.map(DbUuid)),
            call_reviewer_pools::invited_by_uuid.eq(Some(DbUuid(new.invited_by_uuid))),
            call_reviewer_pools::invited_at.eq(DbTime(invited_at)),
            call_reviewer_pools::invitation_status.eq(InvitationStatus::Pending.as_str()),
            call_reviewer_pools::decline_reason.eq(""),
            call_reviewer_pools::max_assignments.eq(new.max_assignments),
            call_reviewer_pools::expertise_match_score.eq(new.expertise_match_score),
            call_reviewer_pools::invitation_token.eq(new_invitation_token()),
            call_reviewer_pools::invitation_expires_at
                .eq(Some(DbTime(invited_at + Duration::days(days)))),
            call_reviewer_pools::override_reason.eq(""),
            call_reviewer_pools::created.eq(DbTime(invited_at)),
            call_reviewer_pools::modified.eq(DbTime(invited_at)),
        ))
        .execute(connection)?;
    Ok(uuid)
}

/// Records a pool entry's state change in the audit log.
fn audit_entry(
    connection: &mut AnyConnection,
    entry: &PoolEntry,
    action: &'static str,
    actor: Option<&Actor>,
    reason: &str,
    before: Option<InvitationStatus>,
    after: InvitationStatus,
) -> StoreResult<()> {
    crate::audit::record(
        connection,
        crate::audit::AuditEntry {
            call_uuid: Some(entry.call_uuid),
            object_type: "pool_entry",
            object_uuid: entry.uuid,
            action,
            actor,
            reason,
            before: before.map(|status| serde_json::json!({"invitation_status": status.as_str()})),
            after: Some(serde_json::json!({"invitation_status": after.as_str()})),
        },
    )
}

/// Invites reviewer profiles to a call's pool and returns the created entries. Profiles
/// already in the pool, and profiles whose user was already invited by e-mail, are skipped;
/// an unknown profile UUID fails the whole request and creates nothing.
pub fn invite_reviewers(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    reviewer_uuids: &[Uuid],
    max_assignments: i32,
) -> StoreResult<Vec<PoolEntryView>> {
    write_transaction(connection, |connection| {
        let call = calls::find_visible_call(connection, actor, call_uuid)?;
        call.require_manager(actor)?;

        let mut created = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for reviewer_uuid in reviewer_uuids {
            if !seen.insert(*reviewer_uuid) {
                continue;
            }
            let Ok(profile) = profiles::get_profile(connection, *reviewer_uuid) else {
                return Err(DomainError::field(
                    "reviewer_uuids",
                    format!(
                        "No reviewer profile has UUID {}. Send UUIDs from /api/reviewer-profiles/.",
                        reviewer_uuid.simple()
                    ),
                )
                .into());
            };
            if let Some(entry) = invite_profile(
                connection,
                actor,
                call_uuid,
                &profile,
                max_assignments,
                None,
                "",
            )? {
                created.push(entry);
            }
        }
        views(connection, created)
    })
}

/// Invites a profile to a call's pool unless it is already there, bound to the profile or
/// invited by its user's e-mail address. Inserts a pending entry, records it in the audit log
/// with `reason`, and queues the invitation e-mail. Returns the new entry, or `None` when the
/// profile was skipped.
///
/// The caller runs it inside a write transaction, after checking that the actor manages the
/// call.
pub(crate) fn invite_profile(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    profile: &Profile,
    max_assignments: i32,
    expertise_match_score: Option<f64>,
    reason: &str,
) -> StoreResult<Option<PoolEntry>> {
    if entry_for_profile(connection, call_uuid, profile)?.is_some() {
        return Ok(None);
    }
    let uuid = insert_entry(
        connection,
        NewEntry {
            call_uuid,
            reviewer_uuid: Some(profile.uuid),
            invited_email: String::new(),
            invited_user_uuid: Some(profile.user_uuid),
            invited_by_uuid: actor.user_uuid,
            max_assignments,
            expertise_match_score,
        },
    )?;
    tracing::info!(call.uuid = %call_uuid.simple(), pool_entry.uuid = %uuid.simple(), "reviewer invited to the pool");
    let entry = get_entry(connection, uuid)?;
    audit_entry(
        connection,
        &entry,
        "pool_entry.invited",
        Some(actor),
        reason,
        None,
        InvitationStatus::Pending,
    )?;
    notify_invited(connection, &entry)?;
    Ok(Some(entry))
}

/// Queues the e-mail that invites a reviewer to a call's pool, with the front-end path where
/// the reviewer accepts or declines. An invitee without an e-mail address gets no e-mail, and a
/// warning is logged.
fn notify_invited(connection: &mut AnyConnection, entry: &PoolEntry) -> StoreResult<()> {
    let view = view(connection, entry.clone())?;
    let email = view.reviewer_email();
    if email.is_empty() {
        tracing::warn!(pool_entry.uuid = %entry.uuid.simple(), "invitation e-mail not queued: the invitee has no e-mail address");
        return Ok(());
    }
    let recipient = view.reviewer_user.as_ref().or(view.invited_user.as_ref());
    crate::audit::enqueue(
        connection,
        crate::audit::OutboxMessage {
            call_uuid: Some(entry.call_uuid),
            template: "pool_invitation",
            recipient_email: &email,
            recipient_user_uuid: recipient.map(|user| user.uuid),
            subject: format!("Invitation to review for {}", view.call_name),
            context: serde_json::json!({
                "pool_entry_uuid": entry.uuid.simple().to_string(),
                "call_name": view.call_name,
                "reviewer_name": view.reviewer_name(),
                "invited_by_name": view.invited_by.as_ref().map(|user| user.full_name.clone()),
                "max_assignments": entry.max_assignments,
                "expires_at": entry.invitation_expires_at.map(crate::sql_types::sqlite_time_text),
                "link": format!("/reviewer-invitation/{}/", entry.invitation_token),
            }),
        },
    )?;
    Ok(())
}

/// The call's entry of a profile: bound to it, or an e-mail invitation of its user.
fn entry_for_profile(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    profile: &Profile,
) -> StoreResult<Option<PoolEntry>> {
    let user_email = users::table
        .find(DbUuid(profile.user_uuid))
        .select(users::email)
        .first::<String>(connection)?;
    let mut query = call_reviewer_pools::table
        .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
        .into_boxed();
    let by_profile = call_reviewer_pools::reviewer_uuid.eq(DbUuid(profile.uuid));
    query = if user_email.is_empty() {
        query.filter(by_profile)
    } else {
        query.filter(
            by_profile.or(lower(call_reviewer_pools::invited_email)
                .eq(user_email.to_lowercase())
                .nullable()),
        )
    };
    Ok(query.first::<PoolEntry>(connection).optional()?)
}

/// Invites a person by e-mail; the invitation binds to their profile when they accept.
pub fn invite_by_email(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    email: &str,
    max_assignments: i32,
) -> StoreResult<PoolEntryView> {
    write_transaction(connection, |connection| {
        let call = calls::find_visible_call(connection, actor, call_uuid)?;
        call.require_manager(actor)?;

        let lowered = email.to_lowercase();
        let existing = call_reviewer_pools::table
            .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)))
            .filter(lower(call_reviewer_pools::invited_email).eq(&lowered))
            .count()
            .get_result::<i64>(connection)?;
        if existing > 0 {
            return Err(DomainError::field(
                "email",
                format!("An invitation for {email} already exists in this call. Resend it instead of inviting again."),
            )
            .into());
        }

        let invited_user = crate::users::find_user_by_email(connection, email)?;
        if let Some(user) = &invited_user
            && let Some(profile) = profiles::profile_of_user(connection, user.uuid)?
            && entry_for_profile(connection, call_uuid, &profile)?.is_some()
        {
            return Err(DomainError::field(
                "email",
                format!("The reviewer with e-mail {email} is already in this call's pool."),
            )
            .into());
        }

        let uuid = insert_entry(
            connection,
            NewEntry {
                call_uuid,
                reviewer_uuid: None,
                invited_email: email.to_owned(),
                invited_user_uuid: invited_user.map(|user| user.uuid),
                invited_by_uuid: actor.user_uuid,
                max_assignments,
                expertise_match_score: None,
            },
        )?;
        tracing::info!(call.uuid = %call_uuid.simple(), pool_entry.uuid = %uuid.simple(), "reviewer invited by e-mail");
        let entry = get_entry(connection, uuid)?;
        audit_entry(
            connection,
            &entry,
            "pool_entry.invited",
            Some(actor),
            "",
            None,
            InvitationStatus::Pending,
        )?;
        notify_invited(connection, &entry)?;
        view(connection, entry)
    })
}

/// Loads an entry with its call and checks that the actor manages the call.
fn managed_entry(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<(PoolEntry, Call)> {
    let entry = find_visible_entry(connection, actor, uuid)?;
    let call = calls::get_call(connection, entry.call_uuid)?;
    call.require_manager(actor)?;
    Ok((entry, call))
}

/// Changes the workload limit of an entry.
pub fn set_max_assignments(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    max_assignments: i32,
) -> StoreResult<i32> {
    write_transaction(connection, |connection| {
        let (entry, _call) = managed_entry(connection, actor, uuid)?;
        crate::audit::record(
            connection,
            crate::audit::AuditEntry {
                call_uuid: Some(entry.call_uuid),
                object_type: "pool_entry",
                object_uuid: entry.uuid,
                action: "pool_entry.max_assignments_changed",
                actor: Some(actor),
                reason: "",
                before: Some(serde_json::json!({"max_assignments": entry.max_assignments})),
                after: Some(serde_json::json!({"max_assignments": max_assignments})),
            },
        )?;
        diesel::update(call_reviewer_pools::table.find(DbUuid(uuid)))
            .set((
                call_reviewer_pools::max_assignments.eq(max_assignments),
                call_reviewer_pools::modified.eq(DbTime(now())),
            ))
            .execute(connection)?;
        Ok(max_assignments)
    })
}

/// Whether the actor is the person an entry invites.
fn is_invitee(
    connection: &mut AnyConnection,
    actor: &Actor,
    entry: &PoolEntry,
) -> StoreResult<bool> {
    if let Some(profile_uuid) = entry.reviewer_uuid {
        let profile = profiles::get_profile(connection, profile_uuid)?;
        return Ok(profile.user_uuid == actor.user_uuid);
    }
    Ok(entry.invited_user_uuid == Some(actor.user_uuid)
        || (!entry.invited_email.is_empty()
            && entry.invited_email.eq_ignore_ascii_case(&actor.email)))
}

/// Fails unless a pending, unexpired entry can still be answered.
fn require_answerable(entry: &PoolEntry, at: DateTime<Utc>) -> StoreResult<()> {
    if entry.is_expired_at(at) {
        return Err(DomainError::invalid_state(
            "invitation_expired",
            "This invitation has expired. Ask the call manager to resend it.",
        )
        .into());
    }
    if entry.invitation_status != InvitationStatus::Pending {
        return Err(DomainError::invalid_state(
            "invitation_already_answered",
            format!(
                "This invitation has already been answered: its status is {}.",
                entry.invitation_status
            ),
        )
        .into());
    }
    Ok(())
}

/// Moves a pending entry to a new status only if it is still pending; returns whether it did.
fn answer_pending(
    connection: &mut AnyConnection,
    uuid: Uuid,
    status: InvitationStatus,
    reviewer_uuid: Option<Uuid>,
    invited_user_uuid: Option<Uuid>,
    decline_reason: &str,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let updated = diesel::update(
        call_reviewer_pools::table
            .filter(call_reviewer_pools::uuid.eq(DbUuid(uuid)))
            .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Pending.as_str())),
    )
    .set((
        call_reviewer_pools::invitation_status.eq(status.as_str()),
        call_reviewer_pools::reviewer_uuid.eq(reviewer_uuid.map(DbUuid)),
        call_reviewer_pools::invited_user_uuid.eq(invited_user_uuid.map(DbUuid)),
        call_reviewer_pools::decline_reason.eq(decline_reason),
        call_reviewer_pools::response_date.eq(Some(DbTime(at))),
        call_reviewer_pools::modified.eq(DbTime(at)),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Outcome of accepting an invitation.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub entry: PoolEntry,
    /// UUIDs of the conflicts of interest the reviewer declared.
    pub declared_conflicts: Vec<Uuid>,
}

/// Accepts an invitation as the invitee, binding an e-mail invitation to the caller's
/// published profile and recording the declared conflicts as self-disclosed COIs.
pub fn accept_invitation(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    declared: &[DeclaredConflict],
) -> StoreResult<Accepted> {
    write_transaction(connection, |connection| {
        let entry = find_visible_entry(connection, actor, uuid)?;
        if !is_invitee(connection, actor, &entry)? {
            return Err(DomainError::permission_denied(
                "Only the invited reviewer can accept this invitation.",
            )
            .into());
        }
        let at = now();
        require_answerable(&entry, at)?;

        let profile = match entry.reviewer_uuid {
            Some(profile_uuid) => profiles::get_profile(connection, profile_uuid)?,
            None => {
                let Some(profile) = profiles::profile_of_user(connection, actor.user_uuid)? else {
                    return Err(DomainError::invalid_state(
                        "profile_required",
                        "Create and publish your reviewer profile (/api/reviewer-profiles/me/) before accepting.",
                    )
                    .into());
                };
                if !profile.is_published {
                    return Err(DomainError::invalid_state(
                        "profile_not_published",
                        "Publish your reviewer profile (POST /api/reviewer-profiles/{uuid}/publish/) before accepting.",
                    )
                    .into());
                }
                let other = call_reviewer_pools::table
                    .filter(call_reviewer_pools::call_uuid.eq(DbUuid(entry.call_uuid)))
                    .filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(profile.uuid)))
                    .count()
                    .get_result::<i64>(connection)?;
                if other > 0 {
                    return Err(DomainError::invalid_state(
                        "already_in_pool",
                        "You are already in this call's reviewer pool through another invitation.",
                    )
                    .into());
                }
                profile
            }
        };

        let mut proposal_errors = referee_domain::FieldErrors::new();
        for (index, conflict) in declared.iter().enumerate() {
            let in_call = proposals::table
                .filter(proposals::uuid.eq(DbUuid(conflict.proposal_uuid)))
                .filter(proposals::call_uuid.eq(DbUuid(entry.call_uuid)))
                .count()
                .get_result::<i64>(connection)?;
            if in_call == 0 {
                proposal_errors.add(
                    format!("{index}.proposal_uuid"),
                    format!(
                        "Proposal {} is not part of this call.",
                        conflict.proposal_uuid.simple()
                    ),
                );
            }
        }
        proposal_errors.into_result()?;

        if !answer_pending(
            connection,
            uuid,
            InvitationStatus::Accepted,
            Some(profile.uuid),
            Some(actor.user_uuid),
            "",
            at,
        )? {
            let current = get_entry(connection, uuid)?;
            require_answerable(&current, at)?;
        }

        let mut declared_conflicts = Vec::new();
        for conflict in declared {
            let conflict_uuid = Uuid::now_v7();
            diesel::insert_into(conflicts_of_interest::table)
                .values((
                    conflicts_of_interest::uuid.eq(DbUuid(conflict_uuid)),
                    conflicts_of_interest::call_uuid.eq(DbUuid(entry.call_uuid)),
                    conflicts_of_interest::reviewer_uuid.eq(DbUuid(profile.uuid)),
                    conflicts_of_interest::proposal_uuid.eq(Some(DbUuid(conflict.proposal_uuid))),
                    conflicts_of_interest::coi_type.eq(conflict.coi_type.as_str()),
                    conflicts_of_interest::severity.eq(conflict.severity.as_str()),
                    conflicts_of_interest::detection_method
                        .eq(DetectionMethod::SelfDisclosed.as_str()),
                    conflicts_of_interest::detected_at.eq(DbTime(at)),
                    conflicts_of_interest::evidence_description.eq(&conflict.description),
                    conflicts_of_interest::evidence_data.eq("{}"),
                    conflicts_of_interest::status.eq(CoiStatus::Pending.as_str()),
                    conflicts_of_interest::review_notes.eq(""),
                    conflicts_of_interest::management_plan.eq(""),
                    conflicts_of_interest::created.eq(DbTime(at)),
                    conflicts_of_interest::modified.eq(DbTime(at)),
                ))
                .execute(connection)?;
            crate::conflicts::block_pending_items(connection, actor, conflict_uuid)?;
            declared_conflicts.push(conflict_uuid);
        }

        tracing::info!(pool_entry.uuid = %uuid.simple(), conflicts = declared_conflicts.len(), "pool invitation accepted");
        let accepted = get_entry(connection, uuid)?;
        audit_entry(
            connection,
            &accepted,
            "pool_entry.accepted",
            Some(actor),
            "",
            Some(InvitationStatus::Pending),
            InvitationStatus::Accepted,
        )?;
        Ok(Accepted {
            entry: accepted,
            declared_conflicts,
        })
    })
}

/// Declines an invitation as the invitee.
pub fn decline_invitation(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    reason: &str,
) -> StoreResult<PoolEntry> {
    write_transaction(connection, |connection| {
        let entry = find_visible_entry(connection, actor, uuid)?;
        if !is_invitee(connection, actor, &entry)? {
            return Err(DomainError::permission_denied(
                "Only the invited reviewer can decline this invitation.",
            )
            .into());
        }
        let at = now();
        require_answerable(&entry, at)?;
        if !answer_pending(
            connection,
            uuid,
            InvitationStatus::Declined,
            entry.reviewer_uuid,
            entry.invited_user_uuid,
            reason,
            at,
        )? {
            let current = get_entry(connection, uuid)?;
            require_answerable(&current, at)?;
        }
        tracing::info!(pool_entry.uuid = %uuid.simple(), "pool invitation declined");
        let declined = get_entry(connection, uuid)?;
        audit_entry(
            connection,
            &declined,
            "pool_entry.declined",
            Some(actor),
            reason,
            Some(InvitationStatus::Pending),
            InvitationStatus::Declined,
        )?;
        Ok(declined)
    })
}

/// Accepts an invitation on the reviewer's behalf (manager), recording the reason.
pub fn force_accept(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    reason: &str,
) -> StoreResult<PoolEntryView> {
    write_transaction(connection, |connection| {
        let (entry, _call) = managed_entry(connection, actor, uuid)?;
        if entry.invitation_status == InvitationStatus::Accepted {
            return Err(DomainError::invalid_state(
                "invitation_already_accepted",
                "This invitation is already accepted.",
            )
            .into());
        }
        if entry.reviewer_uuid.is_none() {
            return Err(DomainError::invalid_state(
                "profile_required",
                "Cannot force-accept an e-mail invitation without a reviewer profile. Invite the reviewer's profile instead.",
            )
            .into());
        }
        let at = now();
        let updated = diesel::update(
            call_reviewer_pools::table
                .filter(call_reviewer_pools::uuid.eq(DbUuid(uuid)))
                .filter(
                    call_reviewer_pools::invitation_status.eq(entry.invitation_status.as_str()),
                ),
        )
        .set((
            call_reviewer_pools::invitation_status.eq(InvitationStatus::Accepted.as_str()),
            call_reviewer_pools::response_date.eq(Some(DbTime(at))),
            call_reviewer_pools::override_reason.eq(reason),
            call_reviewer_pools::overridden_by_uuid.eq(Some(DbUuid(actor.user_uuid))),
            call_reviewer_pools::overridden_at.eq(Some(DbTime(at))),
            call_reviewer_pools::modified.eq(DbTime(at)),
        ))
        .execute(connection)?;
        if updated != 1 {
            return Err(DomainError::Conflict(
                "The invitation changed while it was being accepted. Retry.".into(),
            )
            .into());
        }
        tracing::info!(pool_entry.uuid = %uuid.simple(), "pool invitation force-accepted");
        let before = entry.invitation_status;
        let entry = get_entry(connection, uuid)?;
        audit_entry(
            connection,
            &entry,
            "pool_entry.force_accepted",
            Some(actor),
            reason,
            Some(before),
            InvitationStatus::Accepted,
        )?;
        view(connection, entry)
    })
}

/// Reopens a pending or expired invitation with a new token and a new expiry (manager).
pub fn resend_invitation(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<PoolEntryView> {
    write_transaction(connection, |connection| {
        let (entry, _call) = managed_entry(connection, actor, uuid)?;
        if !matches!(
            entry.invitation_status,
            InvitationStatus::Pending | InvitationStatus::Expired
        ) {
            return Err(DomainError::invalid_state(
                "invitation_already_answered",
                format!(
                    "Only pending or expired invitations can be resent; this one is {}.",
                    entry.invitation_status
                ),
            )
            .into());
        }
        let at = now();
        let days = invitation_days(connection, entry.call_uuid)?;
        diesel::update(call_reviewer_pools::table.find(DbUuid(uuid)))
            .set((
                call_reviewer_pools::invitation_status.eq(InvitationStatus::Pending.as_str()),
                call_reviewer_pools::invitation_token.eq(new_invitation_token()),
                call_reviewer_pools::invitation_expires_at
                    .eq(Some(DbTime(at + Duration::days(days)))),
                call_reviewer_pools::modified.eq(DbTime(at)),
            ))
            .execute(connection)?;
        let before = entry.invitation_status;
        let entry = get_entry(connection, uuid)?;
        audit_entry(
            connection,
            &entry,
            "pool_entry.resent",
            Some(actor),
            "",
            Some(before),
            InvitationStatus::Pending,
        )?;
        notify_invited(connection, &entry)?;
        view(connection, entry)
    })
}

/// Marks pending invitations whose expiry passed as expired; returns how many changed.
/// Running it again changes nothing.
pub fn expire_invitations(connection: &mut AnyConnection, at: DateTime<Utc>) -> StoreResult<usize> {
    write_transaction(connection, |connection| {
        expire_invitations_locked(connection, at)
    })
}

fn expire_invitations_locked(
    connection: &mut AnyConnection,
    at: DateTime<Utc>,
) -> StoreResult<usize> {
    let due: Vec<PoolEntry> = call_reviewer_pools::table
        .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Pending.as_str()))
        .filter(call_reviewer_pools::invitation_expires_at.le(DbTime::from(at)))
        .load(connection)?;
    let expired = diesel::update(
        call_reviewer_pools::table
            .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Pending.as_str()))
            .filter(call_reviewer_pools::invitation_expires_at.le(DbTime::from(at))),
    )
    .set((
        call_reviewer_pools::invitation_status.eq(InvitationStatus::Expired.as_str()),
        call_reviewer_pools::modified.eq(DbTime::from(at)),
    ))
    .execute(connection)?;
    for entry in &due {
        audit_entry(
            connection,
            entry,
            "pool_entry.expired",
            None,
            "",
            Some(InvitationStatus::Pending),
            InvitationStatus::Expired,
        )?;
    }
    if expired > 0 {
        tracing::info!(count = expired, "pool invitations expired");
    }
    Ok(expired)
}
