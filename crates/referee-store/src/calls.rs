//! Calls for proposals, their rounds, and who may see and manage them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::enums::CallState;
use referee_domain::{Actor, DomainError};
use uuid::Uuid;

use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::schema::{calls, rounds};
use crate::sql_types::{DbTime, DbUuid, MaybeUuid};
use crate::stored::Stored;

/// A call for proposals.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Call {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    /// The managing organisation.
    #[diesel(deserialize_as = DbUuid)]
    pub customer_uuid: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    #[diesel(deserialize_as = Stored<CallState>)]
    pub state: CallState,
    pub reviewer_identity_visible_to_submitters: bool,
    pub reviews_visible_to_submitters: bool,
    #[diesel(deserialize_as = MaybeUuid)]
    pub created_by_uuid: Option<Uuid>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// A round of a call: a submission window and the review duration.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Round {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    pub slug: String,
    #[diesel(deserialize_as = DbTime)]
    pub start_time: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub cutoff_time: DateTime<Utc>,
    pub review_duration_in_days: Option<i32>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl Round {
    /// Display name: "Round DD.MM.YYYY-DD.MM.YYYY" from the start and cutoff dates.
    pub fn name(&self) -> String {
        format!("Round {}-{}", self.start_time.format("%d.%m.%Y"), self.cutoff_time.format("%d.%m.%Y"))
    }
}

impl Call {
    /// Whether the actor may manage reviews of this call.
    pub fn managed_by(&self, actor: &Actor) -> bool {
        actor.manages_call(self.uuid, self.customer_uuid)
    }

    /// Whether the actor may read this call's management data (pool, configuration).
    pub fn readable_by(&self, actor: &Actor) -> bool {
        actor.reads_call(self.uuid, self.customer_uuid)
    }

    /// Fails with 403 unless the actor manages this call.
    pub fn require_manager(&self, actor: &Actor) -> StoreResult<()> {
        if self.managed_by(actor) {
            Ok(())
        } else {
            Err(DomainError::permission_denied(
                "Only staff, the call's managers and the managers of its organisation can do this.",
            )
            .into())
        }
    }
}

/// Calls the actor may see: staff and support see all; others see calls on which they hold
/// a role and the calls of organisations on which they hold a role.
pub fn visible_calls(actor: &Actor) -> calls::BoxedQuery<'static, MultiBackend> {
    let query = calls::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }
    let call_uuids: Vec<DbUuid> = actor.call_uuids().into_iter().map(DbUuid).collect();
    let customer_uuids: Vec<DbUuid> = actor.customer_uuids().into_iter().map(DbUuid).collect();
    query.filter(calls::uuid.eq_any(call_uuids).or(calls::customer_uuid.eq_any(customer_uuids)))
}

/// Finds a call the actor may see; others are reported as not found.
pub fn find_visible_call(connection: &mut AnyConnection, actor: &Actor, uuid: Uuid) -> StoreResult<Call> {
    visible_calls(actor)
        .filter(calls::uuid.eq(DbUuid(uuid)))
        .first::<Call>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("call").into())
}

/// Loads a call regardless of visibility, for operations that checked access another way.
pub fn get_call(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Call> {
    calls::table
        .find(DbUuid(uuid))
        .first::<Call>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("call").into())
}

pub fn get_round(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Round> {
    rounds::table
        .find(DbUuid(uuid))
        .first::<Round>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("round").into())
}
