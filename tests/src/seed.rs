//! Direct database writes for tests: state that other endpoints or the scheduler would
//! create (cached affinities, configuration rows, deadlines in the past, item statuses), so
//! that each endpoint's tests can arrange it without depending on those endpoints. They
//! bypass permission checks and the audit log, so only tests use them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::DomainError;
use referee_domain::enums::{DisclosureLevel, ItemStatus};
use referee_store::assignments;
use referee_store::schema::{
    assignment_batches, assignment_items, audit_events, call_assignment_configurations,
    call_coi_configurations, call_reviewer_pools, matching_configurations, proposal_reviews,
    reviewer_profiles, reviewer_proposal_affinities,
};
use referee_store::sql_types::{DbTime, DbUuid};
use referee_store::{AnyConnection, StoreResult};
use uuid::Uuid;

/// Stores the affinity of (reviewer profile, proposal) in the call, replacing an older one.
pub fn set_affinity(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    reviewer_uuid: Uuid,
    proposal_uuid: Uuid,
    score: f64,
) -> StoreResult<()> {
    diesel::delete(
        reviewer_proposal_affinities::table
            .filter(reviewer_proposal_affinities::call_uuid.eq(DbUuid(call_uuid)))
            .filter(reviewer_proposal_affinities::reviewer_uuid.eq(DbUuid(reviewer_uuid)))
            .filter(reviewer_proposal_affinities::proposal_uuid.eq(DbUuid(proposal_uuid))),
    )
    .execute(connection)?;
    let at = DbTime(assignments::now());
    diesel::insert_into(reviewer_proposal_affinities::table)
        .values((
            reviewer_proposal_affinities::uuid.eq(DbUuid(Uuid::now_v7())),
            reviewer_proposal_affinities::call_uuid.eq(DbUuid(call_uuid)),
            reviewer_proposal_affinities::reviewer_uuid.eq(DbUuid(reviewer_uuid)),
            reviewer_proposal_affinities::proposal_uuid.eq(DbUuid(proposal_uuid)),
            reviewer_proposal_affinities::affinity_score.eq(score),
            reviewer_proposal_affinities::created.eq(at),
            reviewer_proposal_affinities::modified.eq(at),
        ))
        .execute(connection)?;
    Ok(())
}

/// Sets the call's `invitation_proposal_disclosure`, creating its COI configuration row.
pub fn set_disclosure(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    level: DisclosureLevel,
) -> StoreResult<()> {
    let at = DbTime(assignments::now());
    let updated = diesel::update(
        call_coi_configurations::table
            .filter(call_coi_configurations::call_uuid.eq(DbUuid(call_uuid))),
    )
    .set(call_coi_configurations::invitation_proposal_disclosure.eq(level.as_str()))
    .execute(connection)?;
    if updated == 0 {
        diesel::insert_into(call_coi_configurations::table)
            .values((
                call_coi_configurations::uuid.eq(DbUuid(Uuid::now_v7())),
                call_coi_configurations::call_uuid.eq(DbUuid(call_uuid)),
                call_coi_configurations::invitation_proposal_disclosure.eq(level.as_str()),
                call_coi_configurations::created.eq(at),
                call_coi_configurations::modified.eq(at),
            ))
            .execute(connection)?;
    }
    Ok(())
}

/// Creates the call's matching configuration with `min_reviewers_per_proposal`.
pub fn set_min_reviewers(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    count: i32,
) -> StoreResult<()> {
    let at = DbTime(assignments::now());
    diesel::insert_into(matching_configurations::table)
        .values((
            matching_configurations::uuid.eq(DbUuid(Uuid::now_v7())),
            matching_configurations::call_uuid.eq(DbUuid(call_uuid)),
            matching_configurations::min_reviewers_per_proposal.eq(count),
            matching_configurations::created.eq(at),
            matching_configurations::modified.eq(at),
        ))
        .execute(connection)?;
    Ok(())
}

/// Moves a batch's deadline to `expires_at` without any check, so a test can let it pass.
pub fn set_deadline(
    connection: &mut AnyConnection,
    batch_uuid: Uuid,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    diesel::update(assignment_batches::table.find(DbUuid(batch_uuid)))
        .set(assignment_batches::expires_at.eq(Some(DbTime::from(expires_at))))
        .execute(connection)?;
    Ok(())
}

/// Accepts an item as its reviewer would, without the checks of the accept endpoint: creates
/// the review and links it. Returns the review's UUID.
pub fn accept_item(connection: &mut AnyConnection, item_uuid: Uuid) -> StoreResult<Uuid> {
    let item = assignments::get_item(connection, item_uuid)?
        .ok_or_else(|| DomainError::not_found("item"))?;
    let batch = assignments::get_batch(connection, item.batch_uuid)?
        .ok_or_else(|| DomainError::not_found("batch"))?;
    let user: DbUuid = call_reviewer_pools::table
        .inner_join(reviewer_profiles::table)
        .filter(call_reviewer_pools::uuid.eq(DbUuid(item.pool_entry_uuid)))
        .select(reviewer_profiles::user_uuid)
        .first(connection)?;
    let created = assignments::now();
    let review_end_date =
        assignments::review_deadline(connection, item.proposal_uuid, batch.expires_at, created)?;
    let new = assignments::NewReview {
        proposal_uuid: item.proposal_uuid,
        call_uuid: item.call_uuid,
        reviewer_user_uuid: user.0,
        review_end_date,
        created,
    };
    let review = assignments::create_review(connection, &new, None)?;
    diesel::update(assignment_items::table.find(DbUuid(item_uuid)))
        .set((
            assignment_items::status.eq(ItemStatus::Accepted.as_str()),
            assignment_items::review_uuid.eq(Some(DbUuid(review))),
            assignment_items::responded_at.eq(Some(DbTime(assignments::now()))),
        ))
        .execute(connection)?;
    assignments::refresh_batch_status(connection, batch.uuid, None)?;
    Ok(review)
}

/// Sets an item's status without any check, standing in for a reviewer's answer.
pub fn set_item_status(
    connection: &mut AnyConnection,
    item_uuid: Uuid,
    status: ItemStatus,
) -> StoreResult<()> {
    diesel::update(assignment_items::table.find(DbUuid(item_uuid)))
        .set(assignment_items::status.eq(status.as_str()))
        .execute(connection)?;
    if let Some(item) = assignments::get_item(connection, item_uuid)? {
        assignments::refresh_batch_status(connection, item.batch_uuid, None)?;
    }
    Ok(())
}

/// Sets the call's automatic reassignment settings, creating its configuration row.
pub fn set_auto_reassign(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    enabled: bool,
    max_attempts: i32,
) -> StoreResult<()> {
    diesel::delete(
        call_assignment_configurations::table
            .filter(call_assignment_configurations::call_uuid.eq(DbUuid(call_uuid))),
    )
    .execute(connection)?;
    let at = DbTime(assignments::now());
    diesel::insert_into(call_assignment_configurations::table)
        .values((
            call_assignment_configurations::uuid.eq(DbUuid(Uuid::now_v7())),
            call_assignment_configurations::call_uuid.eq(DbUuid(call_uuid)),
            call_assignment_configurations::auto_reassign_on_decline.eq(enabled),
            call_assignment_configurations::max_auto_reassign_attempts.eq(max_attempts),
            call_assignment_configurations::assignment_expiration_days.eq(7),
            call_assignment_configurations::send_reminder_before_expiry_days.eq(2),
            call_assignment_configurations::created.eq(at),
            call_assignment_configurations::modified.eq(at),
        ))
        .execute(connection)?;
    Ok(())
}

/// Counts the reviews of a proposal.
pub fn count_reviews(connection: &mut AnyConnection, proposal_uuid: Uuid) -> StoreResult<i64> {
    Ok(proposal_reviews::table
        .filter(proposal_reviews::proposal_uuid.eq(DbUuid(proposal_uuid)))
        .count()
        .get_result(connection)?)
}

/// Lists the audit actions recorded for an object, oldest first, with their reasons.
pub fn audit_actions(
    connection: &mut AnyConnection,
    object_uuid: Uuid,
) -> StoreResult<Vec<(String, String)>> {
    Ok(audit_events::table
        .filter(audit_events::object_uuid.eq(DbUuid(object_uuid)))
        .order((audit_events::created.asc(), audit_events::uuid.asc()))
        .select((audit_events::action, audit_events::reason))
        .load(connection)?)
}
