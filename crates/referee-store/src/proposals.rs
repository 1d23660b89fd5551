//! Proposals submitted to a call's rounds, and the people named on their teams.
//!
//! Visibility: staff and support read every proposal. Call managers and every member of the
//! call's managing organisation read the call's proposals. Users also read the proposals they
//! created and those that name them as a team member. Everyone else gets a 404.
//!
//! Writes: the creator may change a proposal while it is a draft, and the call's managers may
//! change it in any state. Only managers accept or reject a submitted proposal.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::enums::{CallState, ProposalState, TeamMemberRole};
use referee_domain::{Actor, DomainError};
use uuid::Uuid;

use crate::calls::{get_call, get_round};
use crate::connection::AnyConnection;
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{calls, proposal_team_members, proposals, rounds, users};
use crate::sql_functions::{contains_pattern, lower};
use crate::sql_types::{DbTime, DbUuid, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;
use crate::users::{User, get_user};

/// A proposal with the names of its round, call and creator.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ProposalRow {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub round_uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    pub name: String,
    pub slug: String,
    #[diesel(deserialize_as = Stored<ProposalState>)]
    pub state: ProposalState,
    pub project_summary: String,
    pub description: String,
    #[diesel(deserialize_as = MaybeUuid)]
    pub created_by_uuid: Option<Uuid>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub round_start_time: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub round_cutoff_time: DateTime<Utc>,
    pub call_name: String,
    /// The call's managing organisation.
    #[diesel(deserialize_as = DbUuid)]
    pub customer_uuid: Uuid,
    pub creator_username: Option<String>,
    pub creator_full_name: Option<String>,
}

impl ProposalRow {
    /// Display name of the round: "Round DD.MM.YYYY-DD.MM.YYYY".
    pub fn round_name(&self) -> String {
        format!(
            "Round {}-{}",
            self.round_start_time.format("%d.%m.%Y"),
            self.round_cutoff_time.format("%d.%m.%Y")
        )
    }

    /// The creator's full name, or the username when the full name is blank.
    pub fn creator_name(&self) -> Option<String> {
        match (&self.creator_full_name, &self.creator_username) {
            (Some(full_name), _) if !full_name.trim().is_empty() => Some(full_name.clone()),
            (_, Some(username)) => Some(username.clone()),
            _ => None,
        }
    }

    /// Whether the actor manages the proposal's call.
    pub fn managed_by(&self, actor: &Actor) -> bool {
        actor.manages_call(self.call_uuid, self.customer_uuid)
    }

    fn created_by(&self, actor: &Actor) -> bool {
        self.created_by_uuid == Some(actor.user_uuid)
    }
}

/// A proposal with its team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub row: ProposalRow,
    pub team_members: Vec<TeamMember>,
}

/// A person named on a proposal's team, optionally linked to a user account.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct TeamMember {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub proposal_uuid: Uuid,
    #[diesel(deserialize_as = MaybeUuid)]
    pub user_uuid: Option<Uuid>,
    pub full_name: String,
    pub email: String,
    pub orcid: Option<String>,
    pub organization: String,
    #[diesel(deserialize_as = Stored<TeamMemberRole>)]
    pub role: TeamMemberRole,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
}

/// Fields of a new team member. The HTTP layer has checked the shapes of `email` and `orcid`
/// and that `full_name` is given when `user_uuid` is not.
#[derive(Debug, Clone, Default)]
pub struct NewTeamMember {
    /// A user account; `full_name` and `email` default to the user's when absent.
    pub user_uuid: Option<Uuid>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub orcid: Option<String>,
    pub organization: String,
    pub role: Option<TeamMemberRole>,
}

/// Changes to a team member; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TeamMemberChanges {
    /// `Some(None)` unlinks the user account. Linking a user fills `full_name` and `email`
    /// from the account unless the request gives them.
    pub user_uuid: Option<Option<Uuid>>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    /// `Some(None)` clears the ORCID iD.
    pub orcid: Option<Option<String>>,
    pub organization: Option<String>,
    pub role: Option<TeamMemberRole>,
}

/// Fields of a new proposal.
#[derive(Debug, Clone, Default)]
pub struct NewProposal {
    pub round_uuid: Uuid,
    pub name: String,
    pub project_summary: String,
    pub description: String,
    pub team_members: Vec<NewTeamMember>,
}

/// Changes to a proposal; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProposalChanges {
    pub name: Option<String>,
    pub project_summary: Option<String>,
    pub description: Option<String>,
}

/// Fields a proposal list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalOrder {
    Name,
    Created,
    State,
}

/// Filters of the proposal list.
#[derive(Debug, Clone, Default)]
pub struct ProposalFilter {
    pub uuid: Option<Uuid>,
    pub call_uuid: Option<Uuid>,
    pub round_uuid: Option<Uuid>,
    pub created_by_uuid: Option<Uuid>,
    /// Any of these states; empty means every state.
    pub states: Vec<ProposalState>,
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    pub slug: Option<String>,
}

/// A decision of a call manager on a submitted proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
}

fn now() -> DbTime {
    DbTime::from(Utc::now())
}

/// Loads proposal rows matching `filter` that `actor` may see (every row when `actor` is
/// `None`), with their total when `count` is set.
fn select_rows(
    connection: &mut AnyConnection,
    actor: Option<&Actor>,
    filter: &ProposalFilter,
    order: &[SortKey<ProposalOrder>],
    page: PageRequest,
    count: bool,
) -> StoreResult<Page<ProposalRow>> {
    // A closure builds the query twice (count and page) without naming the joined type.
    let build = || {
        let mut query = proposals::table
            .inner_join(rounds::table)
            .inner_join(calls::table.on(calls::uuid.eq(proposals::call_uuid)))
            .left_join(users::table.on(users::uuid.nullable().eq(proposals::created_by_uuid)))
            .into_boxed();

        if let Some(actor) = actor
            && !actor.reads_everything()
        {
            let managed_calls: Vec<DbUuid> =
                actor.managed_call_uuids().into_iter().map(DbUuid).collect();
            let organisations: Vec<DbUuid> =
                actor.customer_uuids().into_iter().map(DbUuid).collect();
            let named_on = proposal_team_members::table
                .filter(proposal_team_members::user_uuid.eq(DbUuid(actor.user_uuid)))
                .select(proposal_team_members::proposal_uuid);
            query = query.filter(
                proposals::call_uuid
                    .eq_any(managed_calls)
                    .or(calls::customer_uuid.eq_any(organisations))
                    .or(proposals::created_by_uuid.eq(DbUuid(actor.user_uuid)))
                    .or(proposals::uuid.eq_any(named_on)),
            );
        }
        if let Some(uuid) = filter.uuid {
            query = query.filter(proposals::uuid.eq(DbUuid(uuid)));
        }
        if let Some(call_uuid) = filter.call_uuid {
            query = query.filter(proposals::call_uuid.eq(DbUuid(call_uuid)));
        }
        if let Some(round_uuid) = filter.round_uuid {
            query = query.filter(proposals::round_uuid.eq(DbUuid(round_uuid)));
        }
        if let Some(created_by_uuid) = filter.created_by_uuid {
            query = query.filter(proposals::created_by_uuid.eq(DbUuid(created_by_uuid)));
        }
        if !filter.states.is_empty() {
            let states: Vec<&'static str> =
                filter.states.iter().map(|state| state.as_str()).collect();
            query = query.filter(proposals::state.eq_any(states));
        }
        if let Some(name) = &filter.name {
            query = query.filter(
                lower(proposals::name)
                    .like(contains_pattern(name))
                    .escape('\\'),
            );
        }
        if let Some(slug) = &filter.slug {
            query = query.filter(proposals::slug.eq(slug.clone()));
        }
        query
    };

    let total = if count {
        build().count().get_result::<i64>(connection)?
    } else {
        0
    };

    let mut query = build();
    if order.is_empty() {
        query = query.then_order_by(proposals::created.asc());
    }
    for key in order {
        query = match (key.field, key.descending) {
            (ProposalOrder::Name, false) => query.then_order_by(proposals::name.asc()),
            (ProposalOrder::Name, true) => query.then_order_by(proposals::name.desc()),
            (ProposalOrder::Created, false) => query.then_order_by(proposals::created.asc()),
            (ProposalOrder::Created, true) => query.then_order_by(proposals::created.desc()),
            (ProposalOrder::State, false) => query.then_order_by(proposals::state.asc()),
            (ProposalOrder::State, true) => query.then_order_by(proposals::state.desc()),
        };
    }
    let rows = query
        .then_order_by(proposals::uuid.asc())
        .select((
            proposals::uuid,
            proposals::round_uuid,
            proposals::call_uuid,
            proposals::name,
            proposals::slug,
            proposals::state,
            proposals::project_summary,
            proposals::description,
            proposals::created_by_uuid,
            proposals::created,
            proposals::modified,
            rounds::start_time,
            rounds::cutoff_time,
            calls::name,
            calls::customer_uuid,
            users::username.nullable(),
            users::full_name.nullable(),
        ))
        .offset(page.offset())
        .limit(page.page_size)
        .load::<ProposalRow>(connection)?;
    Ok(Page { rows, total })
}

/// Loads the team members of several proposals in one query, oldest first per proposal.
fn team_members_of(
    connection: &mut AnyConnection,
    proposal_uuids: &[Uuid],
) -> StoreResult<HashMap<Uuid, Vec<TeamMember>>> {
    let mut by_proposal: HashMap<Uuid, Vec<TeamMember>> = HashMap::new();
    if proposal_uuids.is_empty() {
        return Ok(by_proposal);
    }
    let keys: Vec<DbUuid> = proposal_uuids.iter().copied().map(DbUuid).collect();
    let members = proposal_team_members::table
        .filter(proposal_team_members::proposal_uuid.eq_any(keys))
        .order((
            proposal_team_members::created.asc(),
            proposal_team_members::uuid.asc(),
        ))
        .load::<TeamMember>(connection)?;
    for member in members {
        by_proposal
            .entry(member.proposal_uuid)
            .or_default()
            .push(member);
    }
    Ok(by_proposal)
}

fn with_team_members(
    connection: &mut AnyConnection,
    rows: Vec<ProposalRow>,
) -> StoreResult<Vec<Proposal>> {
    let uuids: Vec<Uuid> = rows.iter().map(|row| row.uuid).collect();
    let mut members = team_members_of(connection, &uuids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let team_members = members.remove(&row.uuid).unwrap_or_default();
            Proposal { row, team_members }
        })
        .collect())
}

/// Lists the proposals the actor may see, with their teams (one query for the whole page).
pub fn list_proposals(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &ProposalFilter,
    order: &[SortKey<ProposalOrder>],
    page: PageRequest,
) -> StoreResult<Page<Proposal>> {
    let Page { rows, total } = select_rows(connection, Some(actor), filter, order, page, true)?;
    let rows = with_team_members(connection, rows)?;
    Ok(Page { rows, total })
}

fn find_row(
    connection: &mut AnyConnection,
    actor: Option<&Actor>,
    uuid: Uuid,
) -> StoreResult<ProposalRow> {
    let filter = ProposalFilter {
        uuid: Some(uuid),
        ..ProposalFilter::default()
    };
    let page = select_rows(
        connection,
        actor,
        &filter,
        &[],
        PageRequest {
            page: 1,
            page_size: 1,
        },
        false,
    )?;
    page.rows
        .into_iter()
        .next()
        .ok_or_else(|| DomainError::not_found("proposal").into())
}

/// Finds a proposal the actor may see, without its team; others are reported as not found.
pub fn find_visible_proposal_row(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<ProposalRow> {
    find_row(connection, Some(actor), uuid)
}

/// Finds a proposal the actor may see, with its team; others are reported as not found.
pub fn find_visible_proposal(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Proposal> {
    let row = find_row(connection, Some(actor), uuid)?;
    load_team(connection, row)
}

/// Loads a proposal with its team regardless of visibility.
pub fn get_proposal(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Proposal> {
    let row = find_row(connection, None, uuid)?;
    load_team(connection, row)
}

fn load_team(connection: &mut AnyConnection, row: ProposalRow) -> StoreResult<Proposal> {
    let mut proposals = with_team_members(connection, vec![row])?;
    proposals
        .pop()
        .ok_or_else(|| DomainError::not_found("proposal").into())
}

/// The right under which an actor writes to a proposal or its team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EditRight {
    /// A manager of the call: any state.
    Manager,
    /// The creator, who is not a manager: only while the proposal is a draft.
    CreatorWhileDraft,
}

/// Decides whether the actor may change the proposal or its team, and how the write is guarded.
fn edit_right(row: &ProposalRow, actor: &Actor, action: &str) -> StoreResult<EditRight> {
    if row.managed_by(actor) {
        return Ok(EditRight::Manager);
    }
    if row.created_by(actor) {
        if row.state == ProposalState::Draft {
            return Ok(EditRight::CreatorWhileDraft);
        }
        return Err(DomainError::permission_denied(format!(
            "Proposal {} is {}. Its creator can {action} only while it is a draft, so ask a manager of the call.",
            row.slug,
            row.state.as_str()
        ))
        .into());
    }
    Err(DomainError::permission_denied(format!(
        "Only the proposal's creator (while it is a draft) and the call's managers can {action}."
    ))
    .into())
}

/// Stamps the proposal as modified, only while it is a draft when the creator writes. On
/// PostgreSQL the update also locks the row until the transaction ends, so a concurrent
/// submit cannot slip between the state check and the write.
fn touch_proposal(
    connection: &mut AnyConnection,
    row: &ProposalRow,
    right: EditRight,
    action: &str,
) -> StoreResult<()> {
    let target = proposals::table.filter(proposals::uuid.eq(DbUuid(row.uuid)));
    let updated = match right {
        EditRight::Manager => diesel::update(target)
            .set(proposals::modified.eq(now()))
            .execute(connection)?,
        EditRight::CreatorWhileDraft => {
            diesel::update(target.filter(proposals::state.eq(ProposalState::Draft.as_str())))
                .set(proposals::modified.eq(now()))
                .execute(connection)?
        }
    };
    if updated == 0 {
        return Err(DomainError::permission_denied(format!(
            "Proposal {} is no longer a draft, so its creator can no longer {action}. Ask a manager of the call.",
            row.slug
        ))
        .into());
    }
    Ok(())
}

/// Next free slug `<CALL SLUG>-NNN` for a new proposal of the call.
///
/// The caller runs in a write transaction and has locked the call row, so two creations in
/// the same call cannot pick the same number.
fn next_slug(connection: &mut AnyConnection, call_slug: &str) -> StoreResult<String> {
    let prefix = format!("{}-", call_slug.to_uppercase());
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for character in prefix.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');

    let existing_slugs = proposals::table
        .filter(proposals::slug.like(pattern).escape('\\'))
        .select(proposals::slug)
        .load::<String>(connection)?;
    // SQLite's LIKE ignores ASCII case, so check the prefix exactly here.
    let highest = existing_slugs
        .iter()
        .filter_map(|slug| slug.strip_prefix(&prefix))
        .filter(|suffix| !suffix.is_empty() && suffix.bytes().all(|byte| byte.is_ascii_digit()))
        .filter_map(|suffix| suffix.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    Ok(format!("{prefix}{:03}", highest + 1))
}

/// Loads the user a team member links to, or a 400 on `field` when there is none.
fn team_user(connection: &mut AnyConnection, user_uuid: Uuid, field: &str) -> StoreResult<User> {
    match get_user(connection, user_uuid) {
        Ok(user) => Ok(user),
        Err(crate::StoreError::Domain(DomainError::NotFound { .. })) => Err(DomainError::field(
            field,
            format!(
                "No user has UUID {}. Send an existing user's uuid or url.",
                user_uuid.simple()
            ),
        )
        .into()),
        Err(other) => Err(other),
    }
}

fn display_name(user: &User) -> String {
    if user.full_name.trim().is_empty() {
        user.username.clone()
    } else {
        user.full_name.clone()
    }
}

/// Fails with 400 on `field` when the user is already named on the proposal's team.
fn require_not_on_team(
    connection: &mut AnyConnection,
    proposal_uuid: Uuid,
    user_uuid: Uuid,
    except_member: Option<Uuid>,
    field: &str,
) -> StoreResult<()> {
    let mut query = proposal_team_members::table
        .filter(proposal_team_members::proposal_uuid.eq(DbUuid(proposal_uuid)))
        .filter(proposal_team_members::user_uuid.eq(DbUuid(user_uuid)))
        .into_boxed();
    if let Some(member) = except_member {
        query = query.filter(proposal_team_members::uuid.ne(DbUuid(member)));
    }
    if query.count().get_result::<i64>(connection)? > 0 {
        return Err(DomainError::field(
            field,
            format!(
                "User {} is already on this proposal's team. Change that team member instead.",
                user_uuid.simple()
            ),
        )
        .into());
    }
    Ok(())
}

/// Inserts a team member after resolving its user; `field` prefixes the names of failing fields.
fn insert_team_member(
    connection: &mut AnyConnection,
    proposal_uuid: Uuid,
    member: &NewTeamMember,
    field: &str,
) -> StoreResult<Uuid> {
    let user = match member.user_uuid {
        Some(user_uuid) => {
            let user = team_user(connection, user_uuid, &format!("{field}user"))?;
            require_not_on_team(
                connection,
                proposal_uuid,
                user_uuid,
                None,
                &format!("{field}user"),
            )?;
            Some(user)
        }
        None => None,
    };
    let full_name = match (&member.full_name, &user) {
        (Some(full_name), _) if !full_name.trim().is_empty() => full_name.trim().to_owned(),
        (_, Some(user)) => display_name(user),
        _ => {
            return Err(DomainError::field(
                format!("{field}full_name"),
                "This field is required unless user is given. Give the team member's name.",
            )
            .into());
        }
    };
    let email = match (&member.email, &user) {
        (Some(email), _) if !email.is_empty() => email.clone(),
        (_, Some(user)) => user.email.clone(),
        _ => String::new(),
    };

    let uuid = Uuid::now_v7();
    diesel::insert_into(proposal_team_members::table)
        .values((
            proposal_team_members::uuid.eq(DbUuid(uuid)),
            proposal_team_members::proposal_uuid.eq(DbUuid(proposal_uuid)),
            proposal_team_members::user_uuid.eq(member.user_uuid.map(DbUuid)),
            proposal_team_members::full_name.eq(full_name),
            proposal_team_members::email.eq(email),
            proposal_team_members::orcid.eq(member.orcid.clone()),
            proposal_team_members::organization.eq(&member.organization),
            proposal_team_members::role.eq(member.role.unwrap_or(TeamMemberRole::Member).as_str()),
            proposal_team_members::created.eq(now()),
        ))
        .execute(connection)?;
    Ok(uuid)
}

/// Creates a draft proposal in a round, with its team.
///
/// Any user may apply to a round of an active call. Managers of the call may also create
/// proposals while the call is a draft or archived. An unknown round is a 400 on `round`, and
/// so is a call that is not active when the actor does not manage it.
///
/// NOTE: the round's submission window (start and cutoff times) is not checked, so a proposal
/// can be created in a round that has not opened yet or has already closed.
pub fn create_proposal(
    connection: &mut AnyConnection,
    actor: &Actor,
    new: &NewProposal,
) -> StoreResult<Proposal> {
    write_transaction(connection, |connection| {
        let round = match get_round(connection, new.round_uuid) {
            Ok(round) => round,
            Err(crate::StoreError::Domain(DomainError::NotFound { .. })) => {
                return Err(DomainError::field(
                    "round",
                    format!(
                        "No round has UUID {}. Send an existing round's uuid or url.",
                        new.round_uuid.simple()
                    ),
                )
                .into());
            }
            Err(other) => return Err(other),
        };
        let call = get_call(connection, round.call_uuid)?;
        if call.state != CallState::Active && !call.managed_by(actor) {
            return Err(DomainError::field(
                "round",
                format!(
                    "Round {} belongs to a call that is {}; proposals can be created only in rounds of active calls.",
                    round.uuid.simple(),
                    call.state.as_str()
                ),
            )
            .into());
        }

        // Locks the call row on PostgreSQL (the value does not change) so that concurrent
        // creations in this call take slug numbers one after another.
        diesel::update(calls::table.filter(calls::uuid.eq(DbUuid(call.uuid))))
            .set(calls::slug.eq(calls::slug))
            .execute(connection)?;
        let slug = next_slug(connection, &call.slug)?;

        let uuid = Uuid::now_v7();
        let created = now();
        diesel::insert_into(proposals::table)
            .values((
                proposals::uuid.eq(DbUuid(uuid)),
                proposals::round_uuid.eq(DbUuid(round.uuid)),
                proposals::call_uuid.eq(DbUuid(call.uuid)),
                proposals::name.eq(&new.name),
                proposals::slug.eq(&slug),
                proposals::state.eq(ProposalState::Draft.as_str()),
                proposals::project_summary.eq(&new.project_summary),
                proposals::description.eq(&new.description),
                proposals::created_by_uuid.eq(Some(DbUuid(actor.user_uuid))),
                proposals::created.eq(created),
                proposals::modified.eq(created),
            ))
            .execute(connection)?;

        for (index, member) in new.team_members.iter().enumerate() {
            insert_team_member(connection, uuid, member, &format!("team_members[{index}]."))?;
        }
        get_proposal(connection, uuid)
    })
}

/// Changes a proposal's name, summary or description: the creator while it is a draft, or
/// a manager of the call at any state.
pub fn update_proposal(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    changes: &ProposalChanges,
) -> StoreResult<Proposal> {
    write_transaction(connection, |connection| {
        let row = find_row(connection, Some(actor), uuid)?;
        let right = edit_right(&row, actor, "change it")?;
        touch_proposal(connection, &row, right, "change it")?;

        diesel::update(proposals::table.filter(proposals::uuid.eq(DbUuid(uuid))))
            .set((
                proposals::name.eq(changes.name.as_ref().unwrap_or(&row.name)),
                proposals::project_summary.eq(changes
                    .project_summary
                    .as_ref()
                    .unwrap_or(&row.project_summary)),
                proposals::description.eq(changes.description.as_ref().unwrap_or(&row.description)),
            ))
            .execute(connection)?;
        get_proposal(connection, uuid)
    })
}

/// Deletes a proposal and its team: the creator while it is a draft, or a manager of the call.
pub fn delete_proposal(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let row = find_row(connection, Some(actor), uuid)?;
        let right = edit_right(&row, actor, "delete it")?;
        touch_proposal(connection, &row, right, "delete it")?;

        diesel::delete(
            proposal_team_members::table
                .filter(proposal_team_members::proposal_uuid.eq(DbUuid(uuid))),
        )
        .execute(connection)?;
        diesel::delete(proposals::table.filter(proposals::uuid.eq(DbUuid(uuid))))
            .execute(connection)?;
        Ok(())
    })
}

/// Moves a proposal from one of the `from` states to `to`, or reports its current state when
/// it is in none of them.
fn transition(
    connection: &mut AnyConnection,
    row: &ProposalRow,
    from: &[ProposalState],
    to: ProposalState,
    code: &'static str,
    action: &str,
) -> StoreResult<()> {
    let sources: Vec<&'static str> = from.iter().map(|state| state.as_str()).collect();
    let updated = diesel::update(
        proposals::table
            .filter(proposals::uuid.eq(DbUuid(row.uuid)))
            .filter(proposals::state.eq_any(sources.clone())),
    )
    .set((
        proposals::state.eq(to.as_str()),
        proposals::modified.eq(now()),
    ))
    .execute(connection)?;
    if updated == 1 {
        return Ok(());
    }

    let current = proposals::table
        .filter(proposals::uuid.eq(DbUuid(row.uuid)))
        .select(proposals::state)
        .first::<String>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("proposal"))?;
    Err(DomainError::invalid_state(
        code,
        format!(
            "Proposal {} is {current}. Only a proposal that is {} can be {action}.",
            row.slug,
            sources.join(" or ")
        ),
    )
    .into())
}

/// Submits a draft proposal: its creator or a manager of the call.
pub fn submit_proposal(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Proposal> {
    write_transaction(connection, |connection| {
        let row = find_row(connection, Some(actor), uuid)?;
        if !row.managed_by(actor) && !row.created_by(actor) {
            return Err(DomainError::permission_denied(
                "Only the proposal's creator and the call's managers can submit it.",
            )
            .into());
        }
        transition(
            connection,
            &row,
            &[ProposalState::Draft],
            ProposalState::Submitted,
            "proposal_not_draft",
            "submitted",
        )?;
        get_proposal(connection, uuid)
    })
}

/// Accepts or rejects a submitted or in-review proposal: managers of the call only.
pub fn decide_proposal(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    decision: Decision,
) -> StoreResult<Proposal> {
    write_transaction(connection, |connection| {
        let row = find_row(connection, Some(actor), uuid)?;
        let (target, action) = match decision {
            Decision::Accept => (ProposalState::Accepted, "approved"),
            Decision::Reject => (ProposalState::Rejected, "rejected"),
        };
        if !row.managed_by(actor) {
            return Err(DomainError::permission_denied(format!(
                "Only staff, the call's managers and the managers of its organisation can decide on proposals, \
                 so you cannot mark proposal {} as {}.",
                row.slug,
                target.as_str()
            ))
            .into());
        }
        transition(
            connection,
            &row,
            &[ProposalState::Submitted, ProposalState::InReview],
            target,
            "proposal_not_under_review",
            action,
        )?;
        get_proposal(connection, uuid)
    })
}

/// Lists the team of a proposal the actor may see.
pub fn list_team_members(
    connection: &mut AnyConnection,
    actor: &Actor,
    proposal_uuid: Uuid,
) -> StoreResult<Vec<TeamMember>> {
    find_row(connection, Some(actor), proposal_uuid)?;
    Ok(team_members_of(connection, &[proposal_uuid])?
        .remove(&proposal_uuid)
        .unwrap_or_default())
}

fn get_team_member(
    connection: &mut AnyConnection,
    proposal_uuid: Uuid,
    member_uuid: Uuid,
) -> StoreResult<TeamMember> {
    proposal_team_members::table
        .filter(proposal_team_members::uuid.eq(DbUuid(member_uuid)))
        .filter(proposal_team_members::proposal_uuid.eq(DbUuid(proposal_uuid)))
        .first::<TeamMember>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("team member").into())
}

/// Finds a team member of a proposal the actor may see.
pub fn find_team_member(
    connection: &mut AnyConnection,
    actor: &Actor,
    proposal_uuid: Uuid,
    member_uuid: Uuid,
) -> StoreResult<TeamMember> {
    find_row(connection, Some(actor), proposal_uuid)?;
    get_team_member(connection, proposal_uuid, member_uuid)
}

/// Adds a person to a proposal's team: the creator while it is a draft, or a manager.
pub fn add_team_member(
    connection: &mut AnyConnection,
    actor: &Actor,
    proposal_uuid: Uuid,
    member: &NewTeamMember,
) -> StoreResult<TeamMember> {
    write_transaction(connection, |connection| {
        let row = find_row(connection, Some(actor), proposal_uuid)?;
        let right = edit_right(&row, actor, "change its team")?;
        touch_proposal(connection, &row, right, "change its team")?;
        let uuid = insert_team_member(connection, proposal_uuid, member, "")?;
        crate::detection::forget_proposal_evaluations(connection, proposal_uuid)?;
        get_team_member(connection, proposal_uuid, uuid)
    })
}

/// Changes a team member: the creator while the proposal is a draft, or a manager.
pub fn update_team_member(
    connection: &mut AnyConnection,
    actor: &Actor,
    proposal_uuid: Uuid,
    member_uuid: Uuid,
    changes: &TeamMemberChanges,
) -> StoreResult<TeamMember> {
    write_transaction(connection, |connection| {
        let row = find_row(connection, Some(actor), proposal_uuid)?;
        let member = get_team_member(connection, proposal_uuid, member_uuid)?;
        let right = edit_right(&row, actor, "change its team")?;

        let linked_user = match changes.user_uuid {
            Some(Some(user_uuid)) => {
                let user = team_user(connection, user_uuid, "user")?;
                require_not_on_team(
                    connection,
                    proposal_uuid,
                    user_uuid,
                    Some(member_uuid),
                    "user",
                )?;
                Some(user)
            }
            _ => None,
        };
        let user_uuid = match changes.user_uuid {
            Some(choice) => choice,
            None => member.user_uuid,
        };
        let full_name = match (&changes.full_name, &linked_user) {
            (Some(full_name), _) => full_name.trim().to_owned(),
            (None, Some(user)) => display_name(user),
            (None, None) => member.full_name.clone(),
        };
        let email = match (&changes.email, &linked_user) {
            (Some(email), _) => email.clone(),
            (None, Some(user)) => user.email.clone(),
            (None, None) => member.email.clone(),
        };
        if full_name.is_empty() {
            return Err(DomainError::field(
                "full_name",
                "This field may not be blank. Give the team member's name.",
            )
            .into());
        }
        let orcid = match &changes.orcid {
            Some(choice) => choice.clone(),
            None => member.orcid.clone(),
        };

        touch_proposal(connection, &row, right, "change its team")?;
        diesel::update(
            proposal_team_members::table
                .filter(proposal_team_members::uuid.eq(DbUuid(member_uuid))),
        )
        .set((
            proposal_team_members::user_uuid.eq(user_uuid.map(DbUuid)),
            proposal_team_members::full_name.eq(full_name),
            proposal_team_members::email.eq(email),
            proposal_team_members::orcid.eq(orcid),
            proposal_team_members::organization.eq(changes
                .organization
                .as_ref()
                .unwrap_or(&member.organization)),
            proposal_team_members::role.eq(changes.role.unwrap_or(member.role).as_str()),
        ))
        .execute(connection)?;
        crate::detection::forget_proposal_evaluations(connection, proposal_uuid)?;
        get_team_member(connection, proposal_uuid, member_uuid)
    })
}

/// Removes a person from a proposal's team: the creator while it is a draft, or a manager.
pub fn delete_team_member(
    connection: &mut AnyConnection,
    actor: &Actor,
    proposal_uuid: Uuid,
    member_uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let row = find_row(connection, Some(actor), proposal_uuid)?;
        get_team_member(connection, proposal_uuid, member_uuid)?;
        let right = edit_right(&row, actor, "change its team")?;
        touch_proposal(connection, &row, right, "change its team")?;
        diesel::delete(
            proposal_team_members::table
                .filter(proposal_team_members::uuid.eq(DbUuid(member_uuid))),
        )
        .execute(connection)?;
        crate::detection::forget_proposal_evaluations(connection, proposal_uuid)?;
        Ok(())
    })
}
