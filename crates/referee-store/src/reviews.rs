//! Reviews of proposals (`/api/proposal-reviews/`): who sees them, the reviewer's edits and
//! submission, rejection by call managers, and the expiry of overdue reviews.
//!
//! Applicants see no reviews at all: the per-call flags that would show submitted reviews to
//! proposal creators are not applied here.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::enums::ReviewState;
use referee_domain::{Actor, DomainError};
use serde_json::json;
use uuid::Uuid;

use crate::assignments::{self, Review};
use crate::audit::{self, AuditEntry};
use crate::calls::{self, Round};
use crate::connection::{AnyConnection, MultiBackend};
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{calls as calls_table, proposal_reviews, proposals, rounds, users};
use crate::sql_functions::{contains_pattern, lower};
use crate::sql_types::{DbTime, DbUuid};
use crate::transaction::write_transaction;

/// A review with the names its representation shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewView {
    pub review: Review,
    pub proposal_name: String,
    pub proposal_slug: String,
    pub round: Round,
    pub call_name: String,
    pub call_slug: String,
    /// The call's managing organisation.
    pub call_customer_uuid: Uuid,
    pub reviewer_full_name: String,
}

/// Fields a review list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOrder {
    Created,
    State,
}

/// Filters of the review list.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    pub call_uuid: Option<Uuid>,
    pub proposal_uuid: Option<Uuid>,
    /// The reviewer's user.
    pub reviewer_uuid: Option<Uuid>,
    pub round_uuid: Option<Uuid>,
    pub states: Vec<ReviewState>,
    /// Case-insensitive substring of the proposal's name.
    pub proposal_name: Option<String>,
}

/// Changes the reviewer makes while the review is in review; `None` keeps a field.
/// The `comment_*` fields take `Some(None)` to clear them.
#[derive(Debug, Clone, Default)]
pub struct ReviewChanges {
    pub summary_score: Option<i32>,
    pub summary_public_comment: Option<String>,
    pub summary_private_comment: Option<String>,
    pub comment_project_title: Option<Option<String>>,
    pub comment_project_summary: Option<Option<String>>,
    pub comment_project_description: Option<Option<String>>,
    pub comment_project_supporting_documentation: Option<Option<String>>,
    pub comment_resource_requests: Option<Option<String>>,
    pub comment_team: Option<Option<String>>,
}

/// What the reviewer sends when submitting; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub summary_score: Option<i32>,
    pub summary_public_comment: Option<String>,
    pub summary_private_comment: Option<String>,
    pub coi_confirmed: Option<bool>,
}

/// Reviews the actor may see: staff and support see all; managers and organisation members
/// see the reviews of their calls; a reviewer sees their own.
fn visible(actor: &Actor) -> proposal_reviews::BoxedQuery<'static, MultiBackend> {
    let query = proposal_reviews::table.into_boxed();
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
        proposal_reviews::call_uuid
            .eq_any(readable_calls)
            .or(proposal_reviews::reviewer_user_uuid.eq(DbUuid(actor.user_uuid))),
    )
}

fn filtered(
    actor: &Actor,
    filter: &ReviewFilter,
) -> proposal_reviews::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(actor);
    if let Some(call_uuid) = filter.call_uuid {
        query = query.filter(proposal_reviews::call_uuid.eq(DbUuid(call_uuid)));
    }
    if let Some(proposal_uuid) = filter.proposal_uuid {
        query = query.filter(proposal_reviews::proposal_uuid.eq(DbUuid(proposal_uuid)));
    }
    if let Some(reviewer_uuid) = filter.reviewer_uuid {
        query = query.filter(proposal_reviews::reviewer_user_uuid.eq(DbUuid(reviewer_uuid)));
    }
    if let Some(round_uuid) = filter.round_uuid {
        query = query.filter(
            proposal_reviews::proposal_uuid.eq_any(
                proposals::table
                    .filter(proposals::round_uuid.eq(DbUuid(round_uuid)))
                    .select(proposals::uuid),
            ),
        );
    }
    if !filter.states.is_empty() {
        let states: Vec<&'static str> = filter.states.iter().map(|state| state.as_str()).collect();
        query = query.filter(proposal_reviews::state.eq_any(states));
    }
    if let Some(name) = &filter.proposal_name {
        query = query.filter(
            proposal_reviews::proposal_uuid.eq_any(
                proposals::table
                    .filter(
                        lower(proposals::name)
                            .like(contains_pattern(name))
                            .escape('\\'),
                    )
                    .select(proposals::uuid),
            ),
        );
    }
    query
}

/// Loads the names of a page of reviews with a fixed number of queries.
fn views(connection: &mut AnyConnection, reviews: Vec<Review>) -> StoreResult<Vec<ReviewView>> {
    if reviews.is_empty() {
        return Ok(Vec::new());
    }
    let proposal_keys: Vec<DbUuid> = reviews
        .iter()
        .map(|review| DbUuid(review.proposal_uuid))
        .collect();
    let proposal_rows: Vec<(DbUuid, String, String, DbUuid)> = proposals::table
        .filter(proposals::uuid.eq_any(&proposal_keys))
        .select((
            proposals::uuid,
            proposals::name,
            proposals::slug,
            proposals::round_uuid,
        ))
        .load(connection)?;
    let round_keys: Vec<DbUuid> = proposal_rows.iter().map(|row| row.3).collect();
    let round_rows: HashMap<Uuid, Round> = rounds::table
        .filter(rounds::uuid.eq_any(round_keys))
        .load::<Round>(connection)?
        .into_iter()
        .map(|round| (round.uuid, round))
        .collect();
    let proposals_by_uuid: HashMap<Uuid, (String, String, Uuid)> = proposal_rows
        .into_iter()
        .map(|(uuid, name, slug, round)| (uuid.0, (name, slug, round.0)))
        .collect();

    let call_keys: Vec<DbUuid> = reviews
        .iter()
        .map(|review| DbUuid(review.call_uuid))
        .collect();
    let calls_by_uuid: HashMap<Uuid, (String, String, Uuid)> = calls_table::table
        .filter(calls_table::uuid.eq_any(call_keys))
        .select((
            calls_table::uuid,
            calls_table::name,
            calls_table::slug,
            calls_table::customer_uuid,
        ))
        .load::<(DbUuid, String, String, DbUuid)>(connection)?
        .into_iter()
        .map(|(uuid, name, slug, customer)| (uuid.0, (name, slug, customer.0)))
        .collect();

    let user_keys: Vec<DbUuid> = reviews
        .iter()
        .map(|review| DbUuid(review.reviewer_user_uuid))
        .collect();
    let user_names: HashMap<Uuid, String> = users::table
        .filter(users::uuid.eq_any(user_keys))
        .select((users::uuid, users::full_name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    let mut result = Vec::with_capacity(reviews.len());
    for review in reviews {
        let (proposal_name, proposal_slug, round_uuid) = proposals_by_uuid
            .get(&review.proposal_uuid)
            .cloned()
            .ok_or_else(|| DomainError::not_found("proposal"))?;
        let round = round_rows
            .get(&round_uuid)
            .cloned()
            .ok_or_else(|| DomainError::not_found("round"))?;
        let (call_name, call_slug, call_customer_uuid) = calls_by_uuid
            .get(&review.call_uuid)
            .cloned()
            .ok_or_else(|| DomainError::not_found("call"))?;
        result.push(ReviewView {
            proposal_name,
            proposal_slug,
            round,
            call_name,
            call_slug,
            call_customer_uuid,
            reviewer_full_name: user_names
                .get(&review.reviewer_user_uuid)
                .cloned()
                .unwrap_or_default(),
            review,
        });
    }
    Ok(result)
}

/// Lists reviews visible to the actor, newest first unless ordered otherwise.
pub fn list_reviews(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &ReviewFilter,
    order: &[SortKey<ReviewOrder>],
    page: PageRequest,
) -> StoreResult<Page<ReviewView>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(proposal_reviews::created.desc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (ReviewOrder::Created, false) => query.then_order_by(proposal_reviews::created.asc()),
            (ReviewOrder::Created, true) => query.then_order_by(proposal_reviews::created.desc()),
            (ReviewOrder::State, false) => query.then_order_by(proposal_reviews::state.asc()),
            (ReviewOrder::State, true) => query.then_order_by(proposal_reviews::state.desc()),
        };
    }
    let rows = query
        .then_order_by(proposal_reviews::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Review>(connection)?;
    Ok(Page {
        rows: views(connection, rows)?,
        total,
    })
}

/// Finds a review visible to the actor; others are reported as not found.
pub fn find_visible_review(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Review> {
    visible(actor)
        .filter(proposal_reviews::uuid.eq(DbUuid(uuid)))
        .first::<Review>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("review").into())
}

pub fn find_visible_review_view(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<ReviewView> {
    let review = find_visible_review(connection, actor, uuid)?;
    Ok(views(connection, vec![review])?.remove(0))
}

fn view_of(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<ReviewView> {
    let review = assignments::get_review(connection, uuid)?
        .ok_or_else(|| DomainError::not_found("review"))?;
    Ok(views(connection, vec![review])?.remove(0))
}

fn require_in_review(review: &Review, action: &str) -> StoreResult<()> {
    if review.state == ReviewState::InReview {
        return Ok(());
    }
    Err(DomainError::invalid_state(
        "review_not_in_review",
        format!(
            "Only reviews in review can be {action}; this review is {}.",
            review.state
        ),
    )
    .into())
}

/// Error returned when a conditional update found the review in another state.
fn changed_meanwhile() -> DomainError {
    DomainError::invalid_state(
        "review_changed",
        "The review changed while this request ran. Reload it and retry.",
    )
}

/// Changes the scores and comments of a review in review; the reviewer and staff may.
pub fn update_review(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    changes: &ReviewChanges,
) -> StoreResult<ReviewView> {
    write_transaction(connection, |connection| {
        let review = find_visible_review(connection, actor, uuid)?;
        if !actor.is_staff && review.reviewer_user_uuid != actor.user_uuid {
            return Err(DomainError::permission_denied(
                "Only the reviewer and staff can change a review.",
            )
            .into());
        }
        require_in_review(&review, "changed")?;

        let pick = |change: &Option<Option<String>>, stored: &Option<String>| match change {
            Some(value) => value.clone(),
            None => stored.clone(),
        };
        let updated = diesel::update(
            proposal_reviews::table
                .filter(proposal_reviews::uuid.eq(DbUuid(uuid)))
                .filter(proposal_reviews::state.eq(ReviewState::InReview.as_str())),
        )
        .set((
            proposal_reviews::summary_score
                .eq(changes.summary_score.unwrap_or(review.summary_score)),
            proposal_reviews::summary_public_comment.eq(changes
                .summary_public_comment
                .as_ref()
                .unwrap_or(&review.summary_public_comment)),
            proposal_reviews::summary_private_comment.eq(changes
                .summary_private_comment
                .as_ref()
                .unwrap_or(&review.summary_private_comment)),
            proposal_reviews::comment_project_title.eq(pick(
                &changes.comment_project_title,
                &review.comment_project_title,
            )),
            proposal_reviews::comment_project_summary.eq(pick(
                &changes.comment_project_summary,
                &review.comment_project_summary,
            )),
            proposal_reviews::comment_project_description.eq(pick(
                &changes.comment_project_description,
                &review.comment_project_description,
            )),
            proposal_reviews::comment_project_supporting_documentation.eq(pick(
                &changes.comment_project_supporting_documentation,
                &review.comment_project_supporting_documentation,
            )),
            proposal_reviews::comment_resource_requests.eq(pick(
                &changes.comment_resource_requests,
                &review.comment_resource_requests,
            )),
            proposal_reviews::comment_team.eq(pick(&changes.comment_team, &review.comment_team)),
            proposal_reviews::modified.eq(DbTime::from(Utc::now())),
        ))
        .execute(connection)?;
        if updated != 1 {
            return Err(changed_meanwhile().into());
        }
        view_of(connection, uuid)
    })
}

/// Submits a review in review (the reviewer only): state `submitted`, with the final score
/// and comments; confirming the absence of conflicts stamps `coi_confirmed_at`.
pub fn submit_review(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    submission: &Submission,
) -> StoreResult<ReviewView> {
    write_transaction(connection, |connection| {
        let review = find_visible_review(connection, actor, uuid)?;
        if review.reviewer_user_uuid != actor.user_uuid {
            return Err(
                DomainError::permission_denied("Only the reviewer can submit a review.").into(),
            );
        }
        require_in_review(&review, "submitted")?;

        let at = assignments::now();
        let coi_confirmed = submission.coi_confirmed.unwrap_or(review.coi_confirmed);
        let coi_confirmed_at = match (coi_confirmed, review.coi_confirmed_at) {
            (false, _) => None,
            (true, Some(stamped)) => Some(stamped),
            (true, None) => Some(at),
        };
        let updated = diesel::update(
            proposal_reviews::table
                .filter(proposal_reviews::uuid.eq(DbUuid(uuid)))
                .filter(proposal_reviews::state.eq(ReviewState::InReview.as_str())),
        )
        .set((
            proposal_reviews::state.eq(ReviewState::Submitted.as_str()),
            proposal_reviews::summary_score
                .eq(submission.summary_score.unwrap_or(review.summary_score)),
            proposal_reviews::summary_public_comment.eq(submission
                .summary_public_comment
                .as_ref()
                .unwrap_or(&review.summary_public_comment)),
            proposal_reviews::summary_private_comment.eq(submission
                .summary_private_comment
                .as_ref()
                .unwrap_or(&review.summary_private_comment)),
            proposal_reviews::coi_confirmed.eq(coi_confirmed),
            proposal_reviews::coi_confirmed_at.eq(coi_confirmed_at.map(DbTime)),
            proposal_reviews::modified.eq(DbTime(at)),
        ))
        .execute(connection)?;
        if updated != 1 {
            return Err(changed_meanwhile().into());
        }
        record_state_change(connection, &review, ReviewState::Submitted, Some(actor), "")?;
        view_of(connection, uuid)
    })
}

/// Rejects a review in review or submitted; the call's managers may.
pub fn reject_review(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<ReviewView> {
    write_transaction(connection, |connection| {
        let review = find_visible_review(connection, actor, uuid)?;
        let call = calls::get_call(connection, review.call_uuid)?;
        call.require_manager(actor)?;
        if review.state == ReviewState::Rejected {
            return Err(DomainError::invalid_state(
                "review_already_rejected",
                "This review is already rejected.",
            )
            .into());
        }
        if !reject_locked(connection, &review, Some(actor), "")? {
            return Err(changed_meanwhile().into());
        }
        view_of(connection, uuid)
    })
}

/// Sets a review that is not yet rejected to `rejected` and records it; returns whether it
/// changed. The caller runs it inside its write transaction.
pub(crate) fn reject_locked(
    connection: &mut AnyConnection,
    review: &Review,
    actor: Option<&Actor>,
    reason: &str,
) -> StoreResult<bool> {
    let updated = diesel::update(
        proposal_reviews::table
            .filter(proposal_reviews::uuid.eq(DbUuid(review.uuid)))
            .filter(proposal_reviews::state.eq(review.state.as_str()))
            .filter(proposal_reviews::state.ne(ReviewState::Rejected.as_str())),
    )
    .set((
        proposal_reviews::state.eq(ReviewState::Rejected.as_str()),
        proposal_reviews::modified.eq(DbTime(assignments::now())),
    ))
    .execute(connection)?;
    if updated != 1 {
        return Ok(false);
    }
    record_state_change(connection, review, ReviewState::Rejected, actor, reason)?;
    Ok(true)
}

fn record_state_change(
    connection: &mut AnyConnection,
    review: &Review,
    new_state: ReviewState,
    actor: Option<&Actor>,
    reason: &str,
) -> StoreResult<()> {
    audit::record(
        connection,
        AuditEntry {
            call_uuid: Some(review.call_uuid),
            object_type: "review",
            object_uuid: review.uuid,
            action: match new_state {
                ReviewState::Submitted => "review.submitted",
                ReviewState::Rejected => "review.rejected",
                ReviewState::InReview => "review.reopened",
            },
            actor,
            reason,
            before: Some(json!({"state": review.state.as_str()})),
            after: Some(json!({"state": new_state.as_str()})),
        },
    )
}

/// Rejects every review still in review whose deadline passed before `at`; returns how many
/// changed. Running it again changes nothing.
pub fn expire_reviews(connection: &mut AnyConnection, at: DateTime<Utc>) -> StoreResult<usize> {
    write_transaction(connection, |connection| {
        let due: Vec<Review> = proposal_reviews::table
            .filter(proposal_reviews::state.eq(ReviewState::InReview.as_str()))
            .filter(proposal_reviews::review_end_date.lt(DbTime::from(at)))
            .order(proposal_reviews::uuid.asc())
            .load(connection)?;
        let mut expired = 0;
        for review in &due {
            if reject_locked(connection, review, None, "The review deadline passed.")? {
                expired += 1;
            }
        }
        if expired > 0 {
            tracing::info!(count = expired, "overdue reviews rejected");
        }
        Ok(expired)
    })
}
