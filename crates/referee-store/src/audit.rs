//! The append-only audit log of state changes, and the outbox of notifications.
//!
//! Every operation that changes a batch, item, pool entry, conflict of interest or review
//! calls [`record`] inside its own transaction, so the log entry commits with the change or
//! not at all. Nothing updates or deletes audit rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::Actor;
use serde_json::Value;
use uuid::Uuid;

use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest};
use crate::schema::{audit_events, outbox_messages};
use crate::sql_types::{DbTime, DbUuid, MaybeTime, MaybeUuid};

/// One state change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub call_uuid: Option<Uuid>,
    /// `batch`, `item`, `pool_entry`, `conflict`, `review`, `suggestion` or `call`.
    pub object_type: &'static str,
    pub object_uuid: Uuid,
    /// What happened, for example `item.accepted`.
    pub action: &'static str,
    /// The user who caused it; `None` for the scheduler.
    pub actor: Option<&'a Actor>,
    pub reason: &'a str,
    /// State before and after, as small JSON objects (for example `{"status": "pending"}`).
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Bound values per audit row, which limits the rows of one INSERT.
const AUDIT_COLUMNS: usize = 11;

/// Appends one event to the audit log.
pub fn record(connection: &mut AnyConnection, entry: AuditEntry<'_>) -> StoreResult<()> {
    record_all(connection, &[(Utc::now(), entry)])
}

/// Appends events to the audit log, each with its own `created` time, in as few INSERTs as
/// the bind-parameter limit allows.
pub fn record_all(
    connection: &mut AnyConnection,
    events: &[(DateTime<Utc>, AuditEntry<'_>)],
) -> StoreResult<()> {
    for part in events.chunks(crate::bulk::rows_per_insert(AUDIT_COLUMNS)) {
        let rows: Vec<_> = part
            .iter()
            .map(|(at, entry)| {
                let (actor_uuid, actor_name) = match entry.actor {
                    Some(actor) => (
                        Some(DbUuid(actor.user_uuid)),
                        if actor.full_name.is_empty() {
                            actor.username.clone()
                        } else {
                            actor.full_name.clone()
                        },
                    ),
                    None => (None, "scheduler".to_owned()),
                };
                (
                    audit_events::uuid.eq(DbUuid(Uuid::now_v7())),
                    audit_events::call_uuid.eq(entry.call_uuid.map(DbUuid)),
                    audit_events::object_type.eq(entry.object_type),
                    audit_events::object_uuid.eq(DbUuid(entry.object_uuid)),
                    audit_events::action.eq(entry.action),
                    audit_events::actor_uuid.eq(actor_uuid),
                    audit_events::actor_name.eq(actor_name),
                    audit_events::reason.eq(entry.reason),
                    audit_events::before_state.eq(entry.before.as_ref().map(ToString::to_string)),
                    audit_events::after_state.eq(entry.after.as_ref().map(ToString::to_string)),
                    audit_events::created.eq(DbTime::from(*at)),
                )
            })
            .collect();
        crate::bulk::insert_rows!(connection, audit_events::table, rows)?;
    }
    Ok(())
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct AuditEvent {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = MaybeUuid)]
    pub call_uuid: Option<Uuid>,
    pub object_type: String,
    #[diesel(deserialize_as = DbUuid)]
    pub object_uuid: Uuid,
    pub action: String,
    #[diesel(deserialize_as = MaybeUuid)]
    pub actor_uuid: Option<Uuid>,
    pub actor_name: String,
    pub reason: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
}

/// Filters of a call's audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_type: Option<String>,
    pub object_uuid: Option<Uuid>,
    pub action: Option<String>,
}

fn filtered(
    call_uuid: Uuid,
    filter: &AuditFilter,
) -> audit_events::BoxedQuery<'static, MultiBackend> {
    let mut query = audit_events::table
        .filter(audit_events::call_uuid.eq(DbUuid(call_uuid)))
        .into_boxed();
    if let Some(object_type) = &filter.object_type {
        query = query.filter(audit_events::object_type.eq(object_type.clone()));
    }
    if let Some(object_uuid) = filter.object_uuid {
        query = query.filter(audit_events::object_uuid.eq(DbUuid(object_uuid)));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_events::action.eq(action.clone()));
    }
    query
}

/// Lists a call's events, newest first. The caller checks that the actor may read them.
pub fn list_events(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    filter: &AuditFilter,
    page: PageRequest,
) -> StoreResult<Page<AuditEvent>> {
    let total = filtered(call_uuid, filter)
        .count()
        .get_result::<i64>(connection)?;
    let rows = filtered(call_uuid, filter)
        .order((audit_events::created.desc(), audit_events::uuid.desc()))
        .offset(page.offset())
        .limit(page.page_size)
        .load::<AuditEvent>(connection)?;
    Ok(Page { rows, total })
}

/// A notification waiting to be sent (e-mail delivery is not part of referee yet).
#[derive(Debug, Clone)]
pub struct OutboxMessage<'a> {
    pub call_uuid: Option<Uuid>,
    /// Template name, for example `assignment_batch_sent`.
    pub template: &'static str,
    pub recipient_email: &'a str,
    pub recipient_user_uuid: Option<Uuid>,
    pub subject: String,
    /// Values the template renders.
    pub context: Value,
}

/// Queues a notification in the outbox and logs it.
pub fn enqueue(connection: &mut AnyConnection, message: OutboxMessage<'_>) -> StoreResult<Uuid> {
    let uuid = Uuid::now_v7();
    diesel::insert_into(outbox_messages::table)
        .values((
            outbox_messages::uuid.eq(DbUuid(uuid)),
            outbox_messages::call_uuid.eq(message.call_uuid.map(DbUuid)),
            outbox_messages::template.eq(message.template),
            outbox_messages::recipient_email.eq(message.recipient_email),
            outbox_messages::recipient_user_uuid.eq(message.recipient_user_uuid.map(DbUuid)),
            outbox_messages::subject.eq(&message.subject),
            outbox_messages::context.eq(message.context.to_string()),
            outbox_messages::created.eq(DbTime::from(Utc::now())),
        ))
        .execute(connection)?;
    tracing::info!(
        outbox.uuid = %uuid.simple(),
        template = message.template,
        recipient = message.recipient_email,
        "notification queued"
    );
    Ok(uuid)
}

/// A queued notification as stored.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct QueuedMessage {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = MaybeUuid)]
    pub call_uuid: Option<Uuid>,
    pub template: String,
    pub recipient_email: String,
    #[diesel(deserialize_as = MaybeUuid)]
    pub recipient_user_uuid: Option<Uuid>,
    pub subject: String,
    pub context: String,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = MaybeTime)]
    pub sent_at: Option<DateTime<Utc>>,
}

/// Lists a call's queued notifications, oldest first (for tests and operators).
pub fn list_messages(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<Vec<QueuedMessage>> {
    Ok(outbox_messages::table
        .filter(outbox_messages::call_uuid.eq(DbUuid(call_uuid)))
        .order((outbox_messages::created.asc(), outbox_messages::uuid.asc()))
        .load::<QueuedMessage>(connection)?)
}
