//! Reviewer profiles with their affiliations, expertise and publications.
//!
//! Visibility: staff and support see every profile and every user sees their own. The managers
//! of a call (its call managers and the owners and managers of its organisation) also see the
//! profiles of reviewers whose pool entry in that call is accepted. Only the owner and staff
//! change a profile or its nested records.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use referee_domain::enums::{
    AffiliationType, InvitationStatus, ProficiencyLevel, VenueType, WireEnum as _,
};
use referee_domain::{Actor, DomainError};
use uuid::Uuid;

use crate::connection::{AnyConnection, MultiBackend};
use crate::error::{StoreError, StoreResult};
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{
    call_reviewer_pools, calls, customers, reviewer_affiliations, reviewer_expertise,
    reviewer_profiles, reviewer_publications, users,
};
use crate::sql_types::{DbTime, DbUuid, MaybeTime, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;

/// A reviewer profile; exactly one per user at most.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Profile {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub user_uuid: Uuid,
    pub orcid_id: Option<String>,
    pub biography: String,
    /// JSON array of strings.
    pub alternative_names: String,
    pub is_published: bool,
    #[diesel(deserialize_as = MaybeTime)]
    pub published_at: Option<DateTime<Utc>>,
    pub available_for_reviews: bool,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl Profile {
    /// The alternative names as a list; an unreadable stored value counts as no names.
    pub fn alternative_names(&self) -> Vec<String> {
        serde_json::from_str(&self.alternative_names).unwrap_or_default()
    }

    /// Returns whether the actor may change this profile and its nested records.
    pub fn writable_by(&self, actor: &Actor) -> bool {
        actor.is_staff || actor.user_uuid == self.user_uuid
    }

    fn require_writer(&self, actor: &Actor) -> StoreResult<()> {
        if self.writable_by(actor) {
            Ok(())
        } else {
            Err(DomainError::permission_denied(
                "Only the profile's owner and staff users can change a reviewer profile.",
            )
            .into())
        }
    }
}

/// An organisation a reviewer works or worked for; used to detect conflicts of interest.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Affiliation {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub profile_uuid: Uuid,
    #[diesel(deserialize_as = MaybeUuid)]
    pub organization_uuid: Option<Uuid>,
    pub organization_name: String,
    pub organization_identifier: String,
    pub department: String,
    pub position_title: String,
    pub start_date: Option<NaiveDate>,
    /// `None` for a current affiliation.
    pub end_date: Option<NaiveDate>,
    pub is_primary: bool,
    #[diesel(deserialize_as = Stored<AffiliationType>)]
    pub affiliation_type: AffiliationType,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// One area of expertise of a reviewer, named by a keyword unique within the profile.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Expertise {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub profile_uuid: Uuid,
    pub expertise_keyword: String,
    pub expertise_category: Option<String>,
    #[diesel(deserialize_as = Stored<ProficiencyLevel>)]
    pub proficiency_level: ProficiencyLevel,
    pub years_experience: Option<i32>,
    pub last_active_date: Option<NaiveDate>,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// A publication of a reviewer; its text feeds affinity scoring and its co-authors feed
/// conflict-of-interest detection.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Publication {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub profile_uuid: Uuid,
    pub title: String,
    pub doi: Option<String>,
    pub publication_year: Option<i32>,
    pub venue: String,
    #[diesel(deserialize_as = Stored<VenueType>)]
    pub venue_type: VenueType,
    pub abstract_text: String,
    /// JSON array of `{"name", "orcid"}` objects or name strings.
    pub coauthors: String,
    /// JSON object of identifiers in other databases.
    pub external_ids: String,
    pub is_excluded_from_matching: bool,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl Publication {
    /// Parses the stored co-authors; an unreadable value counts as an empty list.
    pub fn coauthors(&self) -> serde_json::Value {
        serde_json::from_str(&self.coauthors)
            .unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
    }

    /// Parses the stored external identifiers; an unreadable value counts as an empty object.
    pub fn external_ids(&self) -> serde_json::Value {
        serde_json::from_str(&self.external_ids)
            .unwrap_or_else(|_| serde_json::Value::Object(Default::default()))
    }
}

/// A profile with its user's name and e-mail and its nested records, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileDetail {
    pub profile: Profile,
    pub user_full_name: String,
    pub user_email: String,
    /// Name of the linked organisation of each affiliation that has one, by organisation UUID.
    pub organization_names: HashMap<Uuid, String>,
    pub affiliations: Vec<Affiliation>,
    pub expertise: Vec<Expertise>,
    pub publications: Vec<Publication>,
}

/// Fields of a new profile.
#[derive(Debug, Clone, Default)]
pub struct NewProfile {
    /// The user the profile belongs to; `None` means the actor.
    pub user_uuid: Option<Uuid>,
    pub orcid_id: Option<String>,
    pub biography: String,
    pub alternative_names: Vec<String>,
    pub available_for_reviews: bool,
}

/// Changes to a profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    /// `Some(None)` clears the ORCID iD.
    pub orcid_id: Option<Option<String>>,
    pub biography: Option<String>,
    pub alternative_names: Option<Vec<String>>,
    pub available_for_reviews: Option<bool>,
}

/// Fields a profile list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileOrder {
    Created,
}

/// Filters of the profile list.
#[derive(Debug, Clone, Default)]
pub struct ProfileFilter {
    pub user_uuid: Option<Uuid>,
    pub is_published: Option<bool>,
    pub available_for_reviews: Option<bool>,
}

fn now() -> DbTime {
    DbTime::from(Utc::now())
}

/// Profiles the actor may see, as a SQL filter.
fn visible(actor: &Actor) -> reviewer_profiles::BoxedQuery<'static, MultiBackend> {
    let query = reviewer_profiles::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }

    let managed_call_uuids: Vec<DbUuid> =
        actor.managed_call_uuids().into_iter().map(DbUuid).collect();
    let managed_customer_uuids: Vec<DbUuid> = actor
        .managed_customer_uuids()
        .into_iter()
        .map(DbUuid)
        .collect();
    let managed_calls = calls::table
        .filter(
            calls::uuid
                .eq_any(managed_call_uuids)
                .or(calls::customer_uuid.eq_any(managed_customer_uuids)),
        )
        .select(calls::uuid);
    let accepted_reviewers = call_reviewer_pools::table
        .filter(call_reviewer_pools::invitation_status.eq(InvitationStatus::Accepted.wire_value()))
        .filter(call_reviewer_pools::call_uuid.eq_any(managed_calls))
        .select(call_reviewer_pools::reviewer_uuid);

    query.filter(
        reviewer_profiles::user_uuid
            .eq(DbUuid(actor.user_uuid))
            .or(reviewer_profiles::uuid
                .nullable()
                .eq_any(accepted_reviewers)),
    )
}

fn filtered(
    actor: &Actor,
    filter: &ProfileFilter,
) -> reviewer_profiles::BoxedQuery<'static, MultiBackend> {
    let mut query = visible(actor);
    if let Some(user_uuid) = filter.user_uuid {
        query = query.filter(reviewer_profiles::user_uuid.eq(DbUuid(user_uuid)));
    }
    if let Some(is_published) = filter.is_published {
        query = query.filter(reviewer_profiles::is_published.eq(is_published));
    }
    if let Some(available) = filter.available_for_reviews {
        query = query.filter(reviewer_profiles::available_for_reviews.eq(available));
    }
    query
}

/// Lists the profiles visible to the actor, each with its nested records.
///
/// Runs one count query, one page query, and one query each for the users, affiliations,
/// linked organisations, expertise and publications of the whole page.
pub fn list_profiles(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &ProfileFilter,
    order: &[SortKey<ProfileOrder>],
    page: PageRequest,
) -> StoreResult<Page<ProfileDetail>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    for key in order {
        query = match (key.field, key.descending) {
            (ProfileOrder::Created, false) => query.then_order_by(reviewer_profiles::created.asc()),
            (ProfileOrder::Created, true) => query.then_order_by(reviewer_profiles::created.desc()),
        };
    }
    if order.is_empty() {
        query = query.then_order_by(reviewer_profiles::created.asc());
    }
    let rows = query
        .then_order_by(reviewer_profiles::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Profile>(connection)?;

    let rows = with_details(connection, rows)?;
    Ok(Page { rows, total })
}

/// Loads the users and nested records of several profiles, one query per kind.
fn with_details(
    connection: &mut AnyConnection,
    profiles: Vec<Profile>,
) -> StoreResult<Vec<ProfileDetail>> {
    if profiles.is_empty() {
        return Ok(Vec::new());
    }
    let profile_uuids: Vec<DbUuid> = profiles
        .iter()
        .map(|profile| DbUuid(profile.uuid))
        .collect();
    let user_uuids: Vec<DbUuid> = profiles
        .iter()
        .map(|profile| DbUuid(profile.user_uuid))
        .collect();

    let people: HashMap<Uuid, (String, String)> = users::table
        .filter(users::uuid.eq_any(user_uuids))
        .select((users::uuid, users::full_name, users::email))
        .load::<(DbUuid, String, String)>(connection)?
        .into_iter()
        .map(|(uuid, full_name, email)| (uuid.0, (full_name, email)))
        .collect();

    let mut affiliations = group_by_profile(
        reviewer_affiliations::table
            .filter(reviewer_affiliations::profile_uuid.eq_any(profile_uuids.clone()))
            .order((
                reviewer_affiliations::created.asc(),
                reviewer_affiliations::uuid.asc(),
            ))
            .load::<Affiliation>(connection)?,
        |affiliation| affiliation.profile_uuid,
    );
    let organization_uuids: Vec<DbUuid> = affiliations
        .values()
        .flatten()
        .filter_map(|affiliation| affiliation.organization_uuid.map(DbUuid))
        .collect();
    let organization_names = organization_names(connection, organization_uuids)?;

    let mut expertise = group_by_profile(
        reviewer_expertise::table
            .filter(reviewer_expertise::profile_uuid.eq_any(profile_uuids.clone()))
            .order((
                reviewer_expertise::created.asc(),
                reviewer_expertise::uuid.asc(),
            ))
            .load::<Expertise>(connection)?,
        |expertise| expertise.profile_uuid,
    );
    let mut publications = group_by_profile(
        reviewer_publications::table
            .filter(reviewer_publications::profile_uuid.eq_any(profile_uuids))
            .order((
                reviewer_publications::created.asc(),
                reviewer_publications::uuid.asc(),
            ))
            .load::<Publication>(connection)?,
        |publication| publication.profile_uuid,
    );

    Ok(profiles
        .into_iter()
        .map(|profile| {
            let (user_full_name, user_email) =
                people.get(&profile.user_uuid).cloned().unwrap_or_default();
            let own_affiliations = affiliations.remove(&profile.uuid).unwrap_or_default();
            let own_organization_names = own_affiliations
                .iter()
                .filter_map(|affiliation| affiliation.organization_uuid)
                .filter_map(|uuid| {
                    organization_names
                        .get(&uuid)
                        .map(|name| (uuid, name.clone()))
                })
                .collect();
            ProfileDetail {
                user_full_name,
                user_email,
                organization_names: own_organization_names,
                affiliations: own_affiliations,
                expertise: expertise.remove(&profile.uuid).unwrap_or_default(),
                publications: publications.remove(&profile.uuid).unwrap_or_default(),
                profile,
            }
        })
        .collect())
}

fn group_by_profile<T>(rows: Vec<T>, profile_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut groups: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(profile_of(&row)).or_default().push(row);
    }
    groups
}

/// Names of organisations by UUID, in one query.
pub fn organization_names(
    connection: &mut AnyConnection,
    uuids: Vec<DbUuid>,
) -> StoreResult<HashMap<Uuid, String>> {
    if uuids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(customers::table
        .filter(customers::uuid.eq_any(uuids))
        .select((customers::uuid, customers::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect())
}

fn detail(connection: &mut AnyConnection, profile: Profile) -> StoreResult<ProfileDetail> {
    let mut details = with_details(connection, vec![profile])?;
    details
        .pop()
        .ok_or_else(|| DomainError::not_found("reviewer profile").into())
}

pub fn get_profile(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Profile> {
    reviewer_profiles::table
        .find(DbUuid(uuid))
        .first::<Profile>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("reviewer profile").into())
}

/// The profile of a user, if the user has one.
pub fn profile_of_user(
    connection: &mut AnyConnection,
    user_uuid: Uuid,
) -> StoreResult<Option<Profile>> {
    Ok(reviewer_profiles::table
        .filter(reviewer_profiles::user_uuid.eq(DbUuid(user_uuid)))
        .first::<Profile>(connection)
        .optional()?)
}

/// Finds a profile the actor may see; others are reported as not found.
pub fn find_visible_profile(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<Profile> {
    visible(actor)
        .filter(reviewer_profiles::uuid.eq(DbUuid(uuid)))
        .first::<Profile>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("reviewer profile").into())
}

/// Finds a visible profile with its user and nested records.
pub fn find_visible_profile_detail(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<ProfileDetail> {
    let profile = find_visible_profile(connection, actor, uuid)?;
    detail(connection, profile)
}

/// Loads the actor's own profile with its nested records, if the actor has one.
pub fn own_profile_detail(
    connection: &mut AnyConnection,
    actor: &Actor,
) -> StoreResult<Option<ProfileDetail>> {
    match profile_of_user(connection, actor.user_uuid)? {
        Some(profile) => Ok(Some(detail(connection, profile)?)),
        None => Ok(None),
    }
}

/// Rejects an ORCID iD that another profile already uses.
fn require_free_orcid(
    connection: &mut AnyConnection,
    orcid_id: &str,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let mut query = reviewer_profiles::table
        .filter(reviewer_profiles::orcid_id.eq(orcid_id))
        .into_boxed();
    if let Some(except) = except {
        query = query.filter(reviewer_profiles::uuid.ne(DbUuid(except)));
    }
    if query.count().get_result::<i64>(connection)? > 0 {
        return Err(orcid_taken(orcid_id).into());
    }
    Ok(())
}

fn orcid_taken(orcid_id: &str) -> DomainError {
    DomainError::field(
        "orcid_id",
        format!(
            "Another reviewer profile already has ORCID iD {orcid_id}. Each ORCID iD can belong to one profile only."
        ),
    )
}

/// Turns a unique-constraint violation that a racing request caused into the field error the
/// earlier check would have reported. `fields` maps a word of the constraint or column name to
/// the error to report.
fn unique_violation(error: DieselError, fields: &[(&str, &dyn Fn() -> DomainError)]) -> StoreError {
    if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &error {
        let source = format!(
            "{} {}",
            info.constraint_name().unwrap_or_default(),
            info.message()
        );
        for (word, build) in fields {
            if source.contains(word) {
                return build().into();
            }
        }
    }
    error.into()
}

/// Creates a profile for the actor, or for another user when the actor is staff.
pub fn create_profile(
    connection: &mut AnyConnection,
    actor: &Actor,
    new: &NewProfile,
) -> StoreResult<ProfileDetail> {
    write_transaction(connection, |connection| {
        let user_uuid = new.user_uuid.unwrap_or(actor.user_uuid);
        if user_uuid != actor.user_uuid && !actor.is_staff {
            return Err(DomainError::permission_denied(
                "Only staff users can create a reviewer profile for another user. Leave out user to create your own.",
            )
            .into());
        }
        let user_exists = users::table
            .find(DbUuid(user_uuid))
            .count()
            .get_result::<i64>(connection)?
            > 0;
        if !user_exists {
            return Err(DomainError::field(
                "user",
                format!(
                    "No user has UUID {}. Send an existing user's uuid or url.",
                    user_uuid.simple()
                ),
            )
            .into());
        }
        let profile_exists = || {
            DomainError::field(
                "user",
                format!(
                    "User {} already has a reviewer profile. Change that profile instead of creating another.",
                    user_uuid.simple()
                ),
            )
        };
        if profile_of_user(connection, user_uuid)?.is_some() {
            return Err(profile_exists().into());
        }
        if let Some(orcid_id) = &new.orcid_id {
            require_free_orcid(connection, orcid_id, None)?;
        }

        let uuid = Uuid::now_v7();
        let created = now();
        let alternative_names =
            serde_json::to_string(&new.alternative_names).unwrap_or_else(|_| "[]".into());
        let orcid_id = new.orcid_id.clone().unwrap_or_default();
        diesel::insert_into(reviewer_profiles::table)
            .values((
                reviewer_profiles::uuid.eq(DbUuid(uuid)),
                reviewer_profiles::user_uuid.eq(DbUuid(user_uuid)),
                reviewer_profiles::orcid_id.eq(new.orcid_id.as_deref()),
                reviewer_profiles::biography.eq(&new.biography),
                reviewer_profiles::alternative_names.eq(alternative_names),
                reviewer_profiles::is_published.eq(false),
                reviewer_profiles::published_at.eq(None::<DbTime>),
                reviewer_profiles::available_for_reviews.eq(new.available_for_reviews),
                reviewer_profiles::created.eq(created),
                reviewer_profiles::modified.eq(created),
            ))
            .execute(connection)
            .map_err(|error| {
                unique_violation(
                    error,
                    &[
                        ("orcid", &|| orcid_taken(&orcid_id)),
                        ("user", &profile_exists),
                    ],
                )
            })?;

        let profile = get_profile(connection, uuid)?;
        detail(connection, profile)
    })
}

/// Changes a profile; the owner and staff may.
pub fn update_profile(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    changes: &ProfileChanges,
) -> StoreResult<ProfileDetail> {
    write_transaction(connection, |connection| {
        let profile = find_visible_profile(connection, actor, uuid)?;
        profile.require_writer(actor)?;

        let orcid_id = match &changes.orcid_id {
            Some(orcid_id) => orcid_id.clone(),
            None => profile.orcid_id.clone(),
        };
        if let Some(orcid_id) = &orcid_id {
            require_free_orcid(connection, orcid_id, Some(uuid))?;
        }
        let alternative_names = match &changes.alternative_names {
            Some(names) => serde_json::to_string(names).unwrap_or_else(|_| "[]".into()),
            None => profile.alternative_names.clone(),
        };
        let taken_orcid = orcid_id.clone().unwrap_or_default();

        diesel::update(reviewer_profiles::table.find(DbUuid(uuid)))
            .set((
                reviewer_profiles::orcid_id.eq(orcid_id.as_deref()),
                reviewer_profiles::biography
                    .eq(changes.biography.as_ref().unwrap_or(&profile.biography)),
                reviewer_profiles::alternative_names.eq(alternative_names),
                reviewer_profiles::available_for_reviews.eq(changes
                    .available_for_reviews
                    .unwrap_or(profile.available_for_reviews)),
                reviewer_profiles::modified.eq(now()),
            ))
            .execute(connection)
            .map_err(|error| {
                unique_violation(error, &[("orcid", &|| orcid_taken(&taken_orcid))])
            })?;
        if changes.orcid_id.is_some() || changes.alternative_names.is_some() {
            crate::detection::forget_profile_evaluations(connection, uuid)?;
        }

        let profile = get_profile(connection, uuid)?;
        detail(connection, profile)
    })
}

/// Publishes or unpublishes a profile; the owner and staff may. Publishing an already
/// published profile keeps its first `published_at`.
pub fn set_published(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    published: bool,
) -> StoreResult<ProfileDetail> {
    write_transaction(connection, |connection| {
        let profile = find_visible_profile(connection, actor, uuid)?;
        profile.require_writer(actor)?;

        let published_at = match (published, profile.published_at) {
            (false, _) => None,
            (true, Some(at)) if profile.is_published => Some(DbTime::from(at)),
            (true, _) => Some(now()),
        };
        diesel::update(reviewer_profiles::table.find(DbUuid(uuid)))
            .set((
                reviewer_profiles::is_published.eq(published),
                reviewer_profiles::published_at.eq(published_at),
                reviewer_profiles::modified.eq(now()),
            ))
            .execute(connection)?;

        let profile = get_profile(connection, uuid)?;
        detail(connection, profile)
    })
}

/// Deletes a profile with its nested records; the owner and staff may. A profile that sits in
/// a call's reviewer pool is kept, because deleting it would delete the pool entries too.
pub fn delete_profile(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let profile = find_visible_profile(connection, actor, uuid)?;
        profile.require_writer(actor)?;

        let pool_entries = call_reviewer_pools::table
            .filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(uuid)))
            .count()
            .get_result::<i64>(connection)?;
        if pool_entries > 0 {
            return Err(DomainError::Conflict(format!(
                "The reviewer profile is in the reviewer pool of {pool_entries} call(s). Remove it from those pools before deleting it."
            ))
            .into());
        }
        diesel::delete(reviewer_profiles::table.find(DbUuid(uuid))).execute(connection)?;
        Ok(())
    })
}

/// Rejects an end date before the start date.
fn require_date_order(start: Option<NaiveDate>, end: Option<NaiveDate>) -> StoreResult<()> {
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return Err(DomainError::field(
            "end_date",
            format!("The end date {end} is before the start date {start}. Send an end date on or after the start date."),
        )
        .into());
    }
    Ok(())
}

/// Fields of an affiliation as written by create and full update.
#[derive(Debug, Clone)]
pub struct AffiliationFields {
    pub organization_uuid: Option<Uuid>,
    /// Empty means "copy the linked organisation's name".
    pub organization_name: String,
    pub organization_identifier: String,
    pub department: String,
    pub position_title: String,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub is_primary: bool,
    pub affiliation_type: AffiliationType,
}

/// Changes to an affiliation; `None` leaves a field as it is, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct AffiliationChanges {
    pub organization_uuid: Option<Option<Uuid>>,
    pub organization_name: Option<String>,
    pub organization_identifier: Option<String>,
    pub department: Option<String>,
    pub position_title: Option<String>,
    pub start_date: Option<Option<NaiveDate>>,
    pub end_date: Option<Option<NaiveDate>>,
    pub is_primary: Option<bool>,
    pub affiliation_type: Option<AffiliationType>,
}

impl AffiliationChanges {
    fn apply(&self, current: &Affiliation) -> AffiliationFields {
        AffiliationFields {
            organization_uuid: self.organization_uuid.unwrap_or(current.organization_uuid),
            organization_name: self
                .organization_name
                .clone()
                .unwrap_or_else(|| current.organization_name.clone()),
            organization_identifier: self
                .organization_identifier
                .clone()
                .unwrap_or_else(|| current.organization_identifier.clone()),
            department: self
                .department
                .clone()
                .unwrap_or_else(|| current.department.clone()),
            position_title: self
                .position_title
                .clone()
                .unwrap_or_else(|| current.position_title.clone()),
            start_date: self.start_date.unwrap_or(current.start_date),
            end_date: self.end_date.unwrap_or(current.end_date),
            is_primary: self.is_primary.unwrap_or(current.is_primary),
            affiliation_type: self.affiliation_type.unwrap_or(current.affiliation_type),
        }
    }
}

impl From<AffiliationFields> for AffiliationChanges {
    fn from(fields: AffiliationFields) -> Self {
        Self {
            organization_uuid: Some(fields.organization_uuid),
            organization_name: Some(fields.organization_name),
            organization_identifier: Some(fields.organization_identifier),
            department: Some(fields.department),
            position_title: Some(fields.position_title),
            start_date: Some(fields.start_date),
            end_date: Some(fields.end_date),
            is_primary: Some(fields.is_primary),
            affiliation_type: Some(fields.affiliation_type),
        }
    }
}

/// Checks the linked organisation and the date order, and fills in the organisation's name
/// when none was given. An organisation name is required when no organisation is linked.
fn complete_affiliation(
    connection: &mut AnyConnection,
    fields: &mut AffiliationFields,
) -> StoreResult<()> {
    if let Some(organization_uuid) = fields.organization_uuid {
        let name = customers::table
            .find(DbUuid(organization_uuid))
            .select(customers::name)
            .first::<String>(connection)
            .optional()?;
        let Some(name) = name else {
            return Err(DomainError::field(
                "organization",
                format!(
                    "No organisation has UUID {}. Send an existing organisation's uuid or url.",
                    organization_uuid.simple()
                ),
            )
            .into());
        };
        if fields.organization_name.trim().is_empty() {
            fields.organization_name = name;
        }
    }
    if fields.organization_name.trim().is_empty() {
        return Err(DomainError::field(
            "organization_name",
            "This field is required unless organization is given. Send the organisation's name or link an organisation.",
        )
        .into());
    }
    require_date_order(fields.start_date, fields.end_date)
}

/// Finds the profile of a nested request, visible to the actor, and checks write access when
/// the request changes something.
fn profile_for(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    writes: bool,
) -> StoreResult<Profile> {
    let profile = find_visible_profile(connection, actor, profile_uuid)?;
    if writes {
        profile.require_writer(actor)?;
    }
    Ok(profile)
}

/// Lists the affiliations of a visible profile, oldest first.
pub fn list_affiliations(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    page: PageRequest,
) -> StoreResult<Page<Affiliation>> {
    profile_for(connection, actor, profile_uuid, false)?;
    let of_profile = || {
        reviewer_affiliations::table
            .filter(reviewer_affiliations::profile_uuid.eq(DbUuid(profile_uuid)))
    };
    let total = of_profile().count().get_result::<i64>(connection)?;
    let rows = of_profile()
        .order((
            reviewer_affiliations::created.asc(),
            reviewer_affiliations::uuid.asc(),
        ))
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Affiliation>(connection)?;
    Ok(Page { rows, total })
}

fn get_affiliation(
    connection: &mut AnyConnection,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<Affiliation> {
    reviewer_affiliations::table
        .filter(reviewer_affiliations::profile_uuid.eq(DbUuid(profile_uuid)))
        .filter(reviewer_affiliations::uuid.eq(DbUuid(uuid)))
        .first::<Affiliation>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("affiliation").into())
}

/// Finds an affiliation of a visible profile.
pub fn find_affiliation(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<Affiliation> {
    profile_for(connection, actor, profile_uuid, false)?;
    get_affiliation(connection, profile_uuid, uuid)
}

/// Adds an affiliation to a profile; the owner and staff may.
pub fn create_affiliation(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    fields: &AffiliationFields,
) -> StoreResult<Affiliation> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        // Detection reads affiliations and publications, so the profile's pairs need a new look.
        crate::detection::forget_profile_evaluations(connection, profile_uuid)?;
        let mut fields = fields.clone();
        complete_affiliation(connection, &mut fields)?;

        let uuid = Uuid::now_v7();
        let created = now();
        diesel::insert_into(reviewer_affiliations::table)
            .values((
                reviewer_affiliations::uuid.eq(DbUuid(uuid)),
                reviewer_affiliations::profile_uuid.eq(DbUuid(profile_uuid)),
                reviewer_affiliations::organization_uuid.eq(fields.organization_uuid.map(DbUuid)),
                reviewer_affiliations::organization_name.eq(&fields.organization_name),
                reviewer_affiliations::organization_identifier.eq(&fields.organization_identifier),
                reviewer_affiliations::department.eq(&fields.department),
                reviewer_affiliations::position_title.eq(&fields.position_title),
                reviewer_affiliations::start_date.eq(fields.start_date),
                reviewer_affiliations::end_date.eq(fields.end_date),
                reviewer_affiliations::is_primary.eq(fields.is_primary),
                reviewer_affiliations::affiliation_type.eq(Stored(fields.affiliation_type)),
                reviewer_affiliations::created.eq(created),
                reviewer_affiliations::modified.eq(created),
            ))
            .execute(connection)?;
        get_affiliation(connection, profile_uuid, uuid)
    })
}

/// Changes an affiliation; the owner and staff may.
pub fn update_affiliation(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
    changes: &AffiliationChanges,
) -> StoreResult<Affiliation> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        // Detection reads affiliations and publications, so the profile's pairs need a new look.
        crate::detection::forget_profile_evaluations(connection, profile_uuid)?;
        let current = get_affiliation(connection, profile_uuid, uuid)?;

        let mut fields = changes.apply(&current);
        let newly_linked = matches!(changes.organization_uuid, Some(Some(organization)) if current.organization_uuid != Some(organization));
        if newly_linked && changes.organization_name.is_none() {
            // A newly linked organisation brings its own name unless the request names it.
            fields.organization_name.clear();
        }
        complete_affiliation(connection, &mut fields)?;

        diesel::update(reviewer_affiliations::table.find(DbUuid(uuid)))
            .set((
                reviewer_affiliations::organization_uuid.eq(fields.organization_uuid.map(DbUuid)),
                reviewer_affiliations::organization_name.eq(&fields.organization_name),
                reviewer_affiliations::organization_identifier.eq(&fields.organization_identifier),
                reviewer_affiliations::department.eq(&fields.department),
                reviewer_affiliations::position_title.eq(&fields.position_title),
                reviewer_affiliations::start_date.eq(fields.start_date),
                reviewer_affiliations::end_date.eq(fields.end_date),
                reviewer_affiliations::is_primary.eq(fields.is_primary),
                reviewer_affiliations::affiliation_type.eq(Stored(fields.affiliation_type)),
                reviewer_affiliations::modified.eq(now()),
            ))
            .execute(connection)?;
        get_affiliation(connection, profile_uuid, uuid)
    })
}

/// Deletes an affiliation; the owner and staff may.
pub fn delete_affiliation(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        // Detection reads affiliations and publications, so the profile's pairs need a new look.
        crate::detection::forget_profile_evaluations(connection, profile_uuid)?;
        get_affiliation(connection, profile_uuid, uuid)?;
        diesel::delete(reviewer_affiliations::table.find(DbUuid(uuid))).execute(connection)?;
        Ok(())
    })
}

/// Fields of an expertise record as written by create and full update.
#[derive(Debug, Clone)]
pub struct ExpertiseFields {
    pub expertise_keyword: String,
    pub expertise_category: Option<String>,
    pub proficiency_level: ProficiencyLevel,
    pub years_experience: Option<i32>,
    pub last_active_date: Option<NaiveDate>,
}

/// Changes to an expertise record; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ExpertiseChanges {
    pub expertise_keyword: Option<String>,
    pub expertise_category: Option<Option<String>>,
    pub proficiency_level: Option<ProficiencyLevel>,
    pub years_experience: Option<Option<i32>>,
    pub last_active_date: Option<Option<NaiveDate>>,
}

impl ExpertiseChanges {
    fn apply(&self, current: &Expertise) -> ExpertiseFields {
        ExpertiseFields {
            expertise_keyword: self
                .expertise_keyword
                .clone()
                .unwrap_or_else(|| current.expertise_keyword.clone()),
            expertise_category: self
                .expertise_category
                .clone()
                .unwrap_or_else(|| current.expertise_category.clone()),
            proficiency_level: self.proficiency_level.unwrap_or(current.proficiency_level),
            years_experience: self.years_experience.unwrap_or(current.years_experience),
            last_active_date: self.last_active_date.unwrap_or(current.last_active_date),
        }
    }
}

impl From<ExpertiseFields> for ExpertiseChanges {
    fn from(fields: ExpertiseFields) -> Self {
        Self {
            expertise_keyword: Some(fields.expertise_keyword),
            expertise_category: Some(fields.expertise_category),
            proficiency_level: Some(fields.proficiency_level),
            years_experience: Some(fields.years_experience),
            last_active_date: Some(fields.last_active_date),
        }
    }
}

fn keyword_taken(keyword: &str) -> DomainError {
    DomainError::field(
        "expertise_keyword",
        format!(
            "The profile already lists expertise {keyword:?}. Change that entry instead of adding it twice."
        ),
    )
}

/// Rejects a keyword that another expertise record of the profile already uses.
fn require_free_keyword(
    connection: &mut AnyConnection,
    profile_uuid: Uuid,
    keyword: &str,
    except: Option<Uuid>,
) -> StoreResult<()> {
    let mut query = reviewer_expertise::table
        .filter(reviewer_expertise::profile_uuid.eq(DbUuid(profile_uuid)))
        .filter(reviewer_expertise::expertise_keyword.eq(keyword))
        .into_boxed();
    if let Some(except) = except {
        query = query.filter(reviewer_expertise::uuid.ne(DbUuid(except)));
    }
    if query.count().get_result::<i64>(connection)? > 0 {
        return Err(keyword_taken(keyword).into());
    }
    Ok(())
}

/// Lists the expertise of a visible profile, oldest first.
pub fn list_expertise(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    page: PageRequest,
) -> StoreResult<Page<Expertise>> {
    profile_for(connection, actor, profile_uuid, false)?;
    let of_profile = || {
        reviewer_expertise::table.filter(reviewer_expertise::profile_uuid.eq(DbUuid(profile_uuid)))
    };
    let total = of_profile().count().get_result::<i64>(connection)?;
    let rows = of_profile()
        .order((
            reviewer_expertise::created.asc(),
            reviewer_expertise::uuid.asc(),
        ))
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Expertise>(connection)?;
    Ok(Page { rows, total })
}

fn get_expertise(
    connection: &mut AnyConnection,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<Expertise> {
    reviewer_expertise::table
        .filter(reviewer_expertise::profile_uuid.eq(DbUuid(profile_uuid)))
        .filter(reviewer_expertise::uuid.eq(DbUuid(uuid)))
        .first::<Expertise>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("expertise").into())
}

/// Finds an expertise record of a visible profile.
pub fn find_expertise(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<Expertise> {
    profile_for(connection, actor, profile_uuid, false)?;
    get_expertise(connection, profile_uuid, uuid)
}

/// Adds an area of expertise to a profile; the owner and staff may.
pub fn create_expertise(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    fields: &ExpertiseFields,
) -> StoreResult<Expertise> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        require_free_keyword(connection, profile_uuid, &fields.expertise_keyword, None)?;

        let uuid = Uuid::now_v7();
        let created = now();
        diesel::insert_into(reviewer_expertise::table)
            .values((
                reviewer_expertise::uuid.eq(DbUuid(uuid)),
                reviewer_expertise::profile_uuid.eq(DbUuid(profile_uuid)),
                reviewer_expertise::expertise_keyword.eq(&fields.expertise_keyword),
                reviewer_expertise::expertise_category.eq(fields.expertise_category.as_deref()),
                reviewer_expertise::proficiency_level.eq(Stored(fields.proficiency_level)),
                reviewer_expertise::years_experience.eq(fields.years_experience),
                reviewer_expertise::last_active_date.eq(fields.last_active_date),
                reviewer_expertise::created.eq(created),
                reviewer_expertise::modified.eq(created),
            ))
            .execute(connection)
            .map_err(|error| {
                unique_violation(
                    error,
                    &[("expertise", &|| keyword_taken(&fields.expertise_keyword))],
                )
            })?;
        get_expertise(connection, profile_uuid, uuid)
    })
}

/// Changes an expertise record; the owner and staff may.
pub fn update_expertise(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
    changes: &ExpertiseChanges,
) -> StoreResult<Expertise> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        let current = get_expertise(connection, profile_uuid, uuid)?;

        let fields = changes.apply(&current);
        require_free_keyword(
            connection,
            profile_uuid,
            &fields.expertise_keyword,
            Some(uuid),
        )?;
        diesel::update(reviewer_expertise::table.find(DbUuid(uuid)))
            .set((
                reviewer_expertise::expertise_keyword.eq(&fields.expertise_keyword),
                reviewer_expertise::expertise_category.eq(fields.expertise_category.as_deref()),
                reviewer_expertise::proficiency_level.eq(Stored(fields.proficiency_level)),
                reviewer_expertise::years_experience.eq(fields.years_experience),
                reviewer_expertise::last_active_date.eq(fields.last_active_date),
                reviewer_expertise::modified.eq(now()),
            ))
            .execute(connection)
            .map_err(|error| {
                unique_violation(
                    error,
                    &[("expertise", &|| keyword_taken(&fields.expertise_keyword))],
                )
            })?;
        get_expertise(connection, profile_uuid, uuid)
    })
}

/// Deletes an expertise record; the owner and staff may.
pub fn delete_expertise(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        get_expertise(connection, profile_uuid, uuid)?;
        diesel::delete(reviewer_expertise::table.find(DbUuid(uuid))).execute(connection)?;
        Ok(())
    })
}

/// Fields of a publication as written by create and full update.
#[derive(Debug, Clone)]
pub struct PublicationFields {
    pub title: String,
    pub doi: Option<String>,
    pub publication_year: Option<i32>,
    pub venue: String,
    pub venue_type: VenueType,
    pub abstract_text: String,
    /// A JSON array, checked by the caller.
    pub coauthors: serde_json::Value,
    /// A JSON object, checked by the caller.
    pub external_ids: serde_json::Value,
    pub is_excluded_from_matching: bool,
}

/// Changes to a publication; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PublicationChanges {
    pub title: Option<String>,
    pub doi: Option<Option<String>>,
    pub publication_year: Option<Option<i32>>,
    pub venue: Option<String>,
    pub venue_type: Option<VenueType>,
    pub abstract_text: Option<String>,
    pub coauthors: Option<serde_json::Value>,
    pub external_ids: Option<serde_json::Value>,
    pub is_excluded_from_matching: Option<bool>,
}

impl PublicationChanges {
    fn apply(&self, current: &Publication) -> PublicationFields {
        PublicationFields {
            title: self.title.clone().unwrap_or_else(|| current.title.clone()),
            doi: self.doi.clone().unwrap_or_else(|| current.doi.clone()),
            publication_year: self.publication_year.unwrap_or(current.publication_year),
            venue: self.venue.clone().unwrap_or_else(|| current.venue.clone()),
            venue_type: self.venue_type.unwrap_or(current.venue_type),
            abstract_text: self
                .abstract_text
                .clone()
                .unwrap_or_else(|| current.abstract_text.clone()),
            coauthors: self
                .coauthors
                .clone()
                .unwrap_or_else(|| current.coauthors()),
            external_ids: self
                .external_ids
                .clone()
                .unwrap_or_else(|| current.external_ids()),
            is_excluded_from_matching: self
                .is_excluded_from_matching
                .unwrap_or(current.is_excluded_from_matching),
        }
    }
}

impl From<PublicationFields> for PublicationChanges {
    fn from(fields: PublicationFields) -> Self {
        Self {
            title: Some(fields.title),
            doi: Some(fields.doi),
            publication_year: Some(fields.publication_year),
            venue: Some(fields.venue),
            venue_type: Some(fields.venue_type),
            abstract_text: Some(fields.abstract_text),
            coauthors: Some(fields.coauthors),
            external_ids: Some(fields.external_ids),
            is_excluded_from_matching: Some(fields.is_excluded_from_matching),
        }
    }
}

/// Lists the publications of a visible profile, oldest first.
pub fn list_publications(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    page: PageRequest,
) -> StoreResult<Page<Publication>> {
    profile_for(connection, actor, profile_uuid, false)?;
    let of_profile = || {
        reviewer_publications::table
            .filter(reviewer_publications::profile_uuid.eq(DbUuid(profile_uuid)))
    };
    let total = of_profile().count().get_result::<i64>(connection)?;
    let rows = of_profile()
        .order((
            reviewer_publications::created.asc(),
            reviewer_publications::uuid.asc(),
        ))
        .offset(page.offset())
        .limit(page.page_size)
        .load::<Publication>(connection)?;
    Ok(Page { rows, total })
}

fn get_publication(
    connection: &mut AnyConnection,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<Publication> {
    reviewer_publications::table
        .filter(reviewer_publications::profile_uuid.eq(DbUuid(profile_uuid)))
        .filter(reviewer_publications::uuid.eq(DbUuid(uuid)))
        .first::<Publication>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("publication").into())
}

/// Finds a publication of a visible profile.
pub fn find_publication(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<Publication> {
    profile_for(connection, actor, profile_uuid, false)?;
    get_publication(connection, profile_uuid, uuid)
}

/// Adds a publication to a profile; the owner and staff may.
pub fn create_publication(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    fields: &PublicationFields,
) -> StoreResult<Publication> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        // Detection reads affiliations and publications, so the profile's pairs need a new look.
        crate::detection::forget_profile_evaluations(connection, profile_uuid)?;

        let uuid = Uuid::now_v7();
        let created = now();
        diesel::insert_into(reviewer_publications::table)
            .values((
                reviewer_publications::uuid.eq(DbUuid(uuid)),
                reviewer_publications::profile_uuid.eq(DbUuid(profile_uuid)),
                reviewer_publications::title.eq(&fields.title),
                reviewer_publications::doi.eq(fields.doi.as_deref()),
                reviewer_publications::publication_year.eq(fields.publication_year),
                reviewer_publications::venue.eq(&fields.venue),
                reviewer_publications::venue_type.eq(Stored(fields.venue_type)),
                reviewer_publications::abstract_text.eq(&fields.abstract_text),
                reviewer_publications::coauthors.eq(fields.coauthors.to_string()),
                reviewer_publications::external_ids.eq(fields.external_ids.to_string()),
                reviewer_publications::is_excluded_from_matching
                    .eq(fields.is_excluded_from_matching),
                reviewer_publications::created.eq(created),
                reviewer_publications::modified.eq(created),
            ))
            .execute(connection)?;
        get_publication(connection, profile_uuid, uuid)
    })
}

/// Changes a publication; the owner and staff may.
pub fn update_publication(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
    changes: &PublicationChanges,
) -> StoreResult<Publication> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        // Detection reads affiliations and publications, so the profile's pairs need a new look.
        crate::detection::forget_profile_evaluations(connection, profile_uuid)?;
        let current = get_publication(connection, profile_uuid, uuid)?;

        let fields = changes.apply(&current);
        diesel::update(reviewer_publications::table.find(DbUuid(uuid)))
            .set((
                reviewer_publications::title.eq(&fields.title),
                reviewer_publications::doi.eq(fields.doi.as_deref()),
                reviewer_publications::publication_year.eq(fields.publication_year),
                reviewer_publications::venue.eq(&fields.venue),
                reviewer_publications::venue_type.eq(Stored(fields.venue_type)),
                reviewer_publications::abstract_text.eq(&fields.abstract_text),
                reviewer_publications::coauthors.eq(fields.coauthors.to_string()),
                reviewer_publications::external_ids.eq(fields.external_ids.to_string()),
                reviewer_publications::is_excluded_from_matching
                    .eq(fields.is_excluded_from_matching),
                reviewer_publications::modified.eq(now()),
            ))
            .execute(connection)?;
        get_publication(connection, profile_uuid, uuid)
    })
}

/// Deletes a publication; the owner and staff may.
pub fn delete_publication(
    connection: &mut AnyConnection,
    actor: &Actor,
    profile_uuid: Uuid,
    uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        profile_for(connection, actor, profile_uuid, true)?;
        // Detection reads affiliations and publications, so the profile's pairs need a new look.
        crate::detection::forget_profile_evaluations(connection, profile_uuid)?;
        get_publication(connection, profile_uuid, uuid)?;
        diesel::delete(reviewer_publications::table.find(DbUuid(uuid))).execute(connection)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    //! Visibility through accepted pool entries, checked on the store because the pool
    //! endpoints are built separately. Runs on SQLite, and on PostgreSQL when
    //! `TEST_DATABASE_URL` names a migrated template.

    use referee_domain::enums::{CallRole, CustomerRole};
    use referee_testing::{Backend, TestDatabase};

    use super::*;
    use crate::users::{self, NewUser, RoleScope};
    use crate::{DatabaseUrl, run_migrations};

    struct World {
        connection: AnyConnection,
        _database: TestDatabase,
    }

    fn world(backend: Backend) -> Option<World> {
        let database = TestDatabase::for_backend(backend)?;
        let mut connection = DatabaseUrl::parse(database.url())
            .unwrap()
            .establish()
            .unwrap();
        run_migrations(&mut connection).unwrap();
        Some(World {
            connection,
            _database: database,
        })
    }

    fn user(connection: &mut AnyConnection, username: &str) -> Uuid {
        let new = NewUser {
            username: username.into(),
            email: format!("{username}@example.org"),
            ..NewUser::default()
        };
        users::create_user(connection, &new).unwrap().uuid
    }

    fn actor(connection: &mut AnyConnection, uuid: Uuid) -> Actor {
        let user = users::get_user(connection, uuid).unwrap();
        users::actor_for(connection, user).unwrap()
    }

    fn customer(connection: &mut AnyConnection, name: &str) -> Uuid {
        let uuid = Uuid::now_v7();
        diesel::insert_into(customers::table)
            .values((
                customers::uuid.eq(DbUuid(uuid)),
                customers::name.eq(name),
                customers::abbreviation.eq(""),
                customers::email.eq(""),
                customers::created.eq(now()),
                customers::modified.eq(now()),
            ))
            .execute(connection)
            .unwrap();
        uuid
    }

    fn call(connection: &mut AnyConnection, customer_uuid: Uuid, name: &str) -> Uuid {
        let uuid = Uuid::now_v7();
        diesel::insert_into(calls::table)
            .values((
                calls::uuid.eq(DbUuid(uuid)),
                calls::customer_uuid.eq(DbUuid(customer_uuid)),
                calls::name.eq(name),
                calls::slug.eq(name),
                calls::description.eq(""),
                calls::state.eq("active"),
                calls::reviewer_identity_visible_to_submitters.eq(false),
                calls::reviews_visible_to_submitters.eq(true),
                calls::created.eq(now()),
                calls::modified.eq(now()),
            ))
            .execute(connection)
            .unwrap();
        uuid
    }

    fn pool_entry(
        connection: &mut AnyConnection,
        call_uuid: Uuid,
        profile_uuid: Uuid,
        status: InvitationStatus,
    ) {
        diesel::insert_into(call_reviewer_pools::table)
            .values((
                call_reviewer_pools::uuid.eq(DbUuid(Uuid::now_v7())),
                call_reviewer_pools::call_uuid.eq(DbUuid(call_uuid)),
                call_reviewer_pools::reviewer_uuid.eq(Some(DbUuid(profile_uuid))),
                call_reviewer_pools::invited_at.eq(now()),
                call_reviewer_pools::invitation_status.eq(status.wire_value()),
                call_reviewer_pools::max_assignments.eq(5),
                call_reviewer_pools::invitation_token.eq(Uuid::now_v7().simple().to_string()),
                call_reviewer_pools::created.eq(now()),
                call_reviewer_pools::modified.eq(now()),
            ))
            .execute(connection)
            .unwrap();
    }

    fn profile(connection: &mut AnyConnection, owner: Uuid) -> Uuid {
        let owner = actor(connection, owner);
        let new = NewProfile {
            available_for_reviews: true,
            ..NewProfile::default()
        };
        create_profile(connection, &owner, &new)
            .unwrap()
            .profile
            .uuid
    }

    fn visible_uuids(connection: &mut AnyConnection, viewer: Uuid) -> Vec<Uuid> {
        let viewer = actor(connection, viewer);
        let page = list_profiles(
            connection,
            &viewer,
            &ProfileFilter::default(),
            &[],
            PageRequest::everything(),
        )
        .unwrap();
        assert_eq!(page.total, page.rows.len() as i64);
        page.rows
            .into_iter()
            .map(|detail| detail.profile.uuid)
            .collect()
    }

    fn check_pool_visibility(backend: Backend) {
        let Some(mut world) = world(backend) else {
            return;
        };
        let connection = &mut world.connection;

        let organisation = customer(connection, "Agency");
        let managed_call = call(connection, organisation, "managed");
        let other_organisation = customer(connection, "Other");
        let other_call = call(connection, other_organisation, "other");

        let accepted = user(connection, "accepted");
        let pending = user(connection, "pending");
        let elsewhere = user(connection, "elsewhere");
        let accepted_profile = profile(connection, accepted);
        let pending_profile = profile(connection, pending);
        let elsewhere_profile = profile(connection, elsewhere);
        pool_entry(
            connection,
            managed_call,
            accepted_profile,
            InvitationStatus::Accepted,
        );
        pool_entry(
            connection,
            managed_call,
            pending_profile,
            InvitationStatus::Pending,
        );
        pool_entry(
            connection,
            other_call,
            elsewhere_profile,
            InvitationStatus::Accepted,
        );

        let call_manager = user(connection, "call-manager");
        users::grant_role(
            connection,
            call_manager,
            RoleScope::Call(managed_call, CallRole::Manager),
            None,
        )
        .unwrap();
        let organisation_owner = user(connection, "owner");
        users::grant_role(
            connection,
            organisation_owner,
            RoleScope::Customer(organisation, CustomerRole::Owner),
            None,
        )
        .unwrap();
        let organisation_member = user(connection, "member");
        users::grant_role(
            connection,
            organisation_member,
            RoleScope::Customer(organisation, CustomerRole::Member),
            None,
        )
        .unwrap();

        assert_eq!(
            visible_uuids(connection, call_manager),
            vec![accepted_profile]
        );
        assert_eq!(
            visible_uuids(connection, organisation_owner),
            vec![accepted_profile]
        );
        assert_eq!(
            visible_uuids(connection, organisation_member),
            Vec::<Uuid>::new()
        );
        assert_eq!(visible_uuids(connection, pending), vec![pending_profile]);

        let manager = actor(connection, call_manager);
        assert!(find_visible_profile_detail(connection, &manager, accepted_profile).is_ok());
        assert!(matches!(
            find_visible_profile(connection, &manager, pending_profile),
            Err(StoreError::Domain(DomainError::NotFound { .. }))
        ));
        assert!(
            list_expertise(
                connection,
                &manager,
                accepted_profile,
                PageRequest::everything()
            )
            .is_ok()
        );
        assert!(matches!(
            update_profile(
                connection,
                &manager,
                accepted_profile,
                &ProfileChanges::default()
            ),
            Err(StoreError::Domain(DomainError::PermissionDenied(_)))
        ));

        let owner = actor(connection, accepted);
        assert!(matches!(
            delete_profile(connection, &owner, accepted_profile),
            Err(StoreError::Domain(DomainError::Conflict(_)))
        ));
        assert!(get_profile(connection, accepted_profile).is_ok());
    }

    #[test]
    fn pool_visibility_sqlite() {
        check_pool_visibility(Backend::Sqlite);
    }

    #[test]
    fn pool_visibility_postgres() {
        check_pool_visibility(Backend::Postgres);
    }
}
