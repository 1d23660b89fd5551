//! Calls for proposals, their rounds, and who may see and manage them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use referee_domain::enums::CallState;
use referee_domain::{Actor, DomainError, FieldErrors};
use uuid::Uuid;

use crate::connection::{AnyConnection, MultiBackend};
use crate::error::{StoreError, StoreResult};
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{calls, customers, proposals, rounds};
use crate::sql_functions::{contains_pattern, lower};
use crate::sql_types::{DbTime, DbUuid, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;

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
        format!(
            "Round {}-{}",
            self.start_time.format("%d.%m.%Y"),
            self.cutoff_time.format("%d.%m.%Y")
        )
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
    query.filter(
        calls::uuid
            .eq_any(call_uuids)
            .or(calls::customer_uuid.eq_any(customer_uuids)),
    )
}

/// Finds a call the actor may see; others are reported as not found.
pub fn find_visible_call(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Call> {
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

/// Loads a round regardless of visibility, for operations that checked access another way.
pub fn get_round(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Round> {
    rounds::table
        .find(DbUuid(uuid))
        .first::<Round>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("round").into())
}

/// A call with what its API representation needs besides its own row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDetails {
    pub call: Call,
    /// Name of the managing organisation.
    pub customer_name: String,
    /// Rounds of the call, earliest start first.
    pub rounds: Vec<Round>,
}

/// Fields of a new call.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub name: String,
    pub description: String,
    /// The managing organisation.
    pub customer_uuid: Uuid,
    pub state: CallState,
    pub reviewer_identity_visible_to_submitters: bool,
    pub reviews_visible_to_submitters: bool,
}

/// Changes to a call. `None` leaves a field as it is, and the slug never changes.
#[derive(Debug, Clone, Default)]
pub struct CallChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    /// A new managing organisation, which the actor must manage too.
    pub customer_uuid: Option<Uuid>,
    pub state: Option<CallState>,
    pub reviewer_identity_visible_to_submitters: Option<bool>,
    pub reviews_visible_to_submitters: Option<bool>,
}

/// Fields a call list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOrder {
    Name,
    Created,
    State,
}

/// Filters of the call list.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// The managing organisation.
    pub customer_uuid: Option<Uuid>,
    /// Any of these states, or every state when empty.
    pub states: Vec<CallState>,
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
}

/// Fields of a new round.
#[derive(Debug, Clone)]
pub struct NewRound {
    pub start_time: DateTime<Utc>,
    pub cutoff_time: DateTime<Utc>,
    pub review_duration_in_days: Option<i32>,
}

/// Changes to a round. `None` leaves a field as it is, and `Some(None)` clears the review
/// duration.
#[derive(Debug, Clone, Default)]
pub struct RoundChanges {
    pub start_time: Option<DateTime<Utc>>,
    pub cutoff_time: Option<DateTime<Utc>>,
    pub review_duration_in_days: Option<Option<i32>>,
}

/// Smallest and largest accepted review duration of a round, in days.
pub const REVIEW_DURATION_DAYS: std::ops::RangeInclusive<i32> = 1..=365;

/// How many times a create retries after another request took the slug it picked.
const SLUG_ATTEMPTS: usize = 3;

/// Checks a round's submission window and review duration, naming the field and value in each error.
pub fn validate_round(
    start_time: DateTime<Utc>,
    cutoff_time: DateTime<Utc>,
    review_duration_in_days: Option<i32>,
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if cutoff_time <= start_time {
        errors.add(
            "cutoff_time",
            format!(
                "The cutoff time {} is not after the start time {}. Set a cutoff time later than the start time.",
                cutoff_time.to_rfc3339(),
                start_time.to_rfc3339()
            ),
        );
    }
    if let Some(days) = review_duration_in_days
        && !REVIEW_DURATION_DAYS.contains(&days)
    {
        errors.add(
            "review_duration_in_days",
            format!(
                "{days} is outside the allowed range. Ensure this value is between {} and {} days.",
                REVIEW_DURATION_DAYS.start(),
                REVIEW_DURATION_DAYS.end()
            ),
        );
    }
    errors
}

/// Builds the slug stem of a call name: its letters and digits in upper case, words joined by
/// `-`. A name without letters or digits gives `CALL`.
pub fn slug_stem(name: &str) -> String {
    let words: Vec<String> = name
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_uppercase)
        .collect();
    if words.is_empty() {
        "CALL".to_owned()
    } else {
        words.join("-")
    }
}

/// Picks a free slug for a call name: the stem, or the stem with the smallest free suffix
/// `-2`, `-3`, … when it is taken.
fn free_slug(connection: &mut AnyConnection, name: &str) -> StoreResult<String> {
    let stem = slug_stem(name);
    let taken: HashSet<String> = calls::table
        .filter(
            calls::slug
                .eq(&stem)
                .or(calls::slug.like(format!("{stem}-%"))),
        )
        .select(calls::slug)
        .load::<String>(connection)?
        .into_iter()
        .collect();
    if !taken.contains(&stem) {
        return Ok(stem);
    }
    let suffix = (2..)
        .find(|number| !taken.contains(&format!("{stem}-{number}")))
        .unwrap_or(2);
    Ok(format!("{stem}-{suffix}"))
}

fn is_unique_violation(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Database(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

fn filtered(actor: &Actor, filter: &CallFilter) -> calls::BoxedQuery<'static, MultiBackend> {
    let mut query = visible_calls(actor);
    if let Some(customer_uuid) = filter.customer_uuid {
        query = query.filter(calls::customer_uuid.eq(DbUuid(customer_uuid)));
    }
    if !filter.states.is_empty() {
        let states: Vec<&'static str> = filter.states.iter().map(|state| state.as_str()).collect();
        query = query.filter(calls::state.eq_any(states));
    }
    if let Some(name) = &filter.name {
        query = query.filter(lower(calls::name).like(contains_pattern(name)).escape('\\'));
    }
    query
}

/// Adds the organisation names and the rounds to calls, with one query for each.
fn with_details(
    connection: &mut AnyConnection,
    calls_found: Vec<Call>,
) -> StoreResult<Vec<CallDetails>> {
    if calls_found.is_empty() {
        return Ok(Vec::new());
    }
    let call_uuids: Vec<DbUuid> = calls_found.iter().map(|call| DbUuid(call.uuid)).collect();
    let customer_uuids: Vec<DbUuid> = calls_found
        .iter()
        .map(|call| DbUuid(call.customer_uuid))
        .collect();

    let names: HashMap<Uuid, String> = customers::table
        .filter(customers::uuid.eq_any(customer_uuids))
        .select((customers::uuid, customers::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();

    let mut rounds_by_call: HashMap<Uuid, Vec<Round>> = HashMap::new();
    let all_rounds = rounds::table
        .filter(rounds::call_uuid.eq_any(call_uuids))
        .order((
            rounds::call_uuid.asc(),
            rounds::start_time.asc(),
            rounds::uuid.asc(),
        ))
        .load::<Round>(connection)?;
    for round in all_rounds {
        rounds_by_call
            .entry(round.call_uuid)
            .or_default()
            .push(round);
    }

    Ok(calls_found
        .into_iter()
        .map(|call| CallDetails {
            customer_name: names.get(&call.customer_uuid).cloned().unwrap_or_default(),
            rounds: rounds_by_call.remove(&call.uuid).unwrap_or_default(),
            call,
        })
        .collect())
}

fn details_of(connection: &mut AnyConnection, call: Call) -> StoreResult<CallDetails> {
    let mut details = with_details(connection, vec![call])?;
    details
        .pop()
        .ok_or_else(|| DomainError::not_found("call").into())
}

/// Lists the calls the actor may see, each with its organisation's name and its rounds.
pub fn list_calls(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &CallFilter,
    order: &[SortKey<CallOrder>],
    page: PageRequest,
) -> StoreResult<Page<CallDetails>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    if order.is_empty() {
        query = query.then_order_by(calls::created.desc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (CallOrder::Name, false) => query.then_order_by(calls::name.asc()),
            (CallOrder::Name, true) => query.then_order_by(calls::name.desc()),
            (CallOrder::Created, false) => query.then_order_by(calls::created.asc()),
            (CallOrder::Created, true) => query.then_order_by(calls::created.desc()),
            (CallOrder::State, false) => query.then_order_by(calls::state.asc()),
            (CallOrder::State, true) => query.then_order_by(calls::state.desc()),
        };
    }
    let rows = query
        .then_order_by(calls::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Call>(connection)?;
    let rows = with_details(connection, rows)?;
    Ok(Page { rows, total })
}

/// Finds a call the actor may see, with its organisation's name and its rounds.
pub fn find_visible_call_details(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<CallDetails> {
    let call = find_visible_call(connection, actor, uuid)?;
    details_of(connection, call)
}

/// Checks that an organisation exists and that the actor manages it, for a call that names it.
fn require_managed_customer(
    connection: &mut AnyConnection,
    actor: &Actor,
    customer_uuid: Uuid,
) -> StoreResult<()> {
    let found = customers::table
        .filter(customers::uuid.eq(DbUuid(customer_uuid)))
        .count()
        .get_result::<i64>(connection)?;
    if found == 0 {
        return Err(DomainError::field(
            "customer",
            format!(
                "No organisation has UUID {}. Send the uuid or url of an existing organisation.",
                customer_uuid.simple()
            ),
        )
        .into());
    }
    if !actor.manages_customer(customer_uuid) {
        return Err(DomainError::permission_denied(format!(
            "Only staff and the owners and managers of organisation {} can create or move calls into it.",
            customer_uuid.simple()
        ))
        .into());
    }
    Ok(())
}

/// Creates a call with a slug generated from its name. Staff and the owners and managers of
/// the named organisation may create one.
pub fn create_call(
    connection: &mut AnyConnection,
    actor: &Actor,
    new: &NewCall,
) -> StoreResult<CallDetails> {
    let mut attempt = 1;
    loop {
        let outcome =
            write_transaction(connection, |connection| insert_call(connection, actor, new));
        match outcome {
            Err(error) if attempt < SLUG_ATTEMPTS && is_unique_violation(&error) => {
                tracing::info!(call.name = %new.name, attempt, "call slug taken by a concurrent create, retrying");
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn insert_call(
    connection: &mut AnyConnection,
    actor: &Actor,
    new: &NewCall,
) -> StoreResult<CallDetails> {
    require_managed_customer(connection, actor, new.customer_uuid)?;

    let uuid = Uuid::now_v7();
    let created = DbTime::from(Utc::now());
    let slug = free_slug(connection, &new.name)?;
    diesel::insert_into(calls::table)
        .values((
            calls::uuid.eq(DbUuid(uuid)),
            calls::customer_uuid.eq(DbUuid(new.customer_uuid)),
            calls::name.eq(&new.name),
            calls::slug.eq(&slug),
            calls::description.eq(&new.description),
            calls::state.eq(Stored(new.state)),
            calls::reviewer_identity_visible_to_submitters
                .eq(new.reviewer_identity_visible_to_submitters),
            calls::reviews_visible_to_submitters.eq(new.reviews_visible_to_submitters),
            calls::created_by_uuid.eq(Some(DbUuid(actor.user_uuid))),
            calls::created.eq(created),
            calls::modified.eq(created),
        ))
        .execute(connection)?;
    let call = get_call(connection, uuid)?;
    details_of(connection, call)
}

/// Updates a call on behalf of one of its managers. Moving it to another organisation also
/// needs the actor to manage that organisation.
pub fn update_call(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    changes: &CallChanges,
) -> StoreResult<CallDetails> {
    write_transaction(connection, |connection| {
        let call = find_visible_call(connection, actor, uuid)?;
        call.require_manager(actor)?;
        if let Some(customer_uuid) = changes.customer_uuid
            && customer_uuid != call.customer_uuid
        {
            require_managed_customer(connection, actor, customer_uuid)?;
        }

        diesel::update(calls::table.find(DbUuid(uuid)))
            .set((
                calls::name.eq(changes.name.as_ref().unwrap_or(&call.name)),
                calls::description.eq(changes.description.as_ref().unwrap_or(&call.description)),
                calls::customer_uuid
                    .eq(DbUuid(changes.customer_uuid.unwrap_or(call.customer_uuid))),
                calls::state.eq(Stored(changes.state.unwrap_or(call.state))),
                calls::reviewer_identity_visible_to_submitters.eq(changes
                    .reviewer_identity_visible_to_submitters
                    .unwrap_or(call.reviewer_identity_visible_to_submitters)),
                calls::reviews_visible_to_submitters.eq(changes
                    .reviews_visible_to_submitters
                    .unwrap_or(call.reviews_visible_to_submitters)),
                calls::modified.eq(DbTime::from(Utc::now())),
            ))
            .execute(connection)?;
        let updated = get_call(connection, uuid)?;
        details_of(connection, updated)
    })
}

/// Deletes a call that has no proposals, with its rounds and role grants, on behalf of one of its managers.
pub fn delete_call(connection: &mut AnyConnection, actor: &Actor, uuid: Uuid) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let call = find_visible_call(connection, actor, uuid)?;
        call.require_manager(actor)?;

        // The proposal check is part of the DELETE statement, so no separate read can go stale.
        // NOTE: on PostgreSQL a proposal whose insert is still uncommitted when the DELETE
        // starts is not seen by the check and is then removed by the cascade.
        let deleted = diesel::delete(calls::table.filter(calls::uuid.eq(DbUuid(uuid))).filter(
            not(exists(
                proposals::table.filter(proposals::call_uuid.eq(DbUuid(uuid))),
            )),
        ))
        .execute(connection)?;
        if deleted == 0 {
            let proposal_count = proposals::table
                .filter(proposals::call_uuid.eq(DbUuid(uuid)))
                .count()
                .get_result::<i64>(connection)?;
            return Err(DomainError::Conflict(format!(
                "Call {} has {proposal_count} proposal(s). Delete its proposals first, or archive the call instead.",
                call.slug
            ))
            .into());
        }
        Ok(())
    })
}

/// Lists the rounds of a call the actor may see, earliest start first.
pub fn list_rounds(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    page: PageRequest,
) -> StoreResult<Page<Round>> {
    find_visible_call(connection, actor, call_uuid)?;
    let total = rounds::table
        .filter(rounds::call_uuid.eq(DbUuid(call_uuid)))
        .count()
        .get_result::<i64>(connection)?;
    let rows = rounds::table
        .filter(rounds::call_uuid.eq(DbUuid(call_uuid)))
        .order((rounds::start_time.asc(), rounds::uuid.asc()))
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Round>(connection)?;
    Ok(Page { rows, total })
}

/// Loads a round of a call, reporting a round of another call as not found.
fn round_of_call(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
    round_uuid: Uuid,
) -> StoreResult<Round> {
    rounds::table
        .filter(rounds::uuid.eq(DbUuid(round_uuid)))
        .filter(rounds::call_uuid.eq(DbUuid(call_uuid)))
        .first::<Round>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("round").into())
}

/// Finds a round of a call the actor may see, reporting any other round as not found.
pub fn find_visible_round(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    round_uuid: Uuid,
) -> StoreResult<Round> {
    find_visible_call(connection, actor, call_uuid)?;
    round_of_call(connection, call_uuid, round_uuid)
}

/// Picks the next round slug of a call: the call's slug followed by `-R` and a number one
/// above the highest in use.
///
/// NOTE: round slugs have no unique index, so two concurrent creates on PostgreSQL can pick
/// the same number. SQLite serialises them.
fn next_round_slug(connection: &mut AnyConnection, call: &Call) -> StoreResult<String> {
    let prefix = format!("{}-R", call.slug);
    let highest = rounds::table
        .filter(rounds::call_uuid.eq(DbUuid(call.uuid)))
        .select(rounds::slug)
        .load::<String>(connection)?
        .into_iter()
        .filter_map(|slug| {
            slug.strip_prefix(&prefix)
                .and_then(|number| number.parse::<u32>().ok())
        })
        .max()
        .unwrap_or(0);
    Ok(format!("{prefix}{}", highest + 1))
}

/// Adds a round to a call on behalf of one of its managers.
pub fn create_round(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    new: &NewRound,
) -> StoreResult<Round> {
    write_transaction(connection, |connection| {
        let call = find_visible_call(connection, actor, call_uuid)?;
        call.require_manager(actor)?;
        validate_round(new.start_time, new.cutoff_time, new.review_duration_in_days)
            .into_result()?;

        let uuid = Uuid::now_v7();
        let created = DbTime::from(Utc::now());
        let slug = next_round_slug(connection, &call)?;
        diesel::insert_into(rounds::table)
            .values((
                rounds::uuid.eq(DbUuid(uuid)),
                rounds::call_uuid.eq(DbUuid(call_uuid)),
                rounds::slug.eq(&slug),
                rounds::start_time.eq(DbTime::from(new.start_time)),
                rounds::cutoff_time.eq(DbTime::from(new.cutoff_time)),
                rounds::review_duration_in_days.eq(new.review_duration_in_days),
                rounds::created.eq(created),
                rounds::modified.eq(created),
            ))
            .execute(connection)?;
        get_round(connection, uuid)
    })
}

/// Updates a round on behalf of one of the call's managers. The window is checked after the
/// changes are merged with the stored values.
pub fn update_round(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    round_uuid: Uuid,
    changes: &RoundChanges,
) -> StoreResult<Round> {
    write_transaction(connection, |connection| {
        let call = find_visible_call(connection, actor, call_uuid)?;
        let round = round_of_call(connection, call_uuid, round_uuid)?;
        call.require_manager(actor)?;

        let start_time = changes.start_time.unwrap_or(round.start_time);
        let cutoff_time = changes.cutoff_time.unwrap_or(round.cutoff_time);
        let review_duration_in_days = changes
            .review_duration_in_days
            .unwrap_or(round.review_duration_in_days);
        validate_round(start_time, cutoff_time, review_duration_in_days).into_result()?;

        diesel::update(rounds::table.find(DbUuid(round_uuid)))
            .set((
                rounds::start_time.eq(DbTime::from(start_time)),
                rounds::cutoff_time.eq(DbTime::from(cutoff_time)),
                rounds::review_duration_in_days.eq(review_duration_in_days),
                rounds::modified.eq(DbTime::from(Utc::now())),
            ))
            .execute(connection)?;
        get_round(connection, round_uuid)
    })
}

/// Deletes a round that has no proposals on behalf of one of the call's managers.
pub fn delete_round(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    round_uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let call = find_visible_call(connection, actor, call_uuid)?;
        let round = round_of_call(connection, call_uuid, round_uuid)?;
        call.require_manager(actor)?;

        let deleted = diesel::delete(
            rounds::table
                .filter(rounds::uuid.eq(DbUuid(round_uuid)))
                .filter(not(exists(
                    proposals::table.filter(proposals::round_uuid.eq(DbUuid(round_uuid))),
                ))),
        )
        .execute(connection)?;
        if deleted == 0 {
            let proposal_count = proposals::table
                .filter(proposals::round_uuid.eq(DbUuid(round_uuid)))
                .count()
                .get_result::<i64>(connection)?;
            return Err(DomainError::Conflict(format!(
                "Round {} has {proposal_count} proposal(s). Delete or move its proposals first.",
                round.slug
            ))
            .into());
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_stem_upper_cases_words() {
        assert_eq!(
            slug_stem("Space telescope time, 2027"),
            "SPACE-TELESCOPE-TIME-2027"
        );
        assert_eq!(slug_stem("  --  "), "CALL");
        assert_eq!(slug_stem("Ångström beam"), "ÅNGSTRÖM-BEAM");
    }

    #[test]
    fn round_window_needs_cutoff_after_start() {
        let start = Utc::now();
        assert!(validate_round(start, start + chrono::Duration::days(1), Some(14)).is_empty());
        let errors = validate_round(start, start, Some(0));
        assert!(errors.0.contains_key("cutoff_time"));
        assert!(errors.0.contains_key("review_duration_in_days"));
    }
}
