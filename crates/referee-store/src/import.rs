//! Bulk import of a `referee-import/1` document, and the exports of a call's assignments,
//! affinities and conflicts.
//!
//! An import runs in one write transaction: the document is validated, every reference and
//! every clash with stored data is checked, and only when nothing was found are the rows
//! written, in chunks of [`CHUNK_ROWS`]. A document with any problem changes nothing.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use rand::RngCore as _;
use referee_domain::enums::{InvitationStatus, ItemStatus};
use referee_domain::import::{self, Document, ImportError, Node};
use referee_domain::{Actor, DomainError};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, AuditEntry};
use crate::calls::{Call, find_visible_call, get_call, slug_stem};
use crate::connection::AnyConnection;
use crate::error::StoreResult;
use crate::schema::{
    assignment_items, call_reviewer_pools, calls, conflicts_of_interest, customers,
    proposal_team_members, proposals, reviewer_affiliations, reviewer_expertise, reviewer_profiles,
    reviewer_proposal_affinities, reviewer_publications, rounds, users,
};
use crate::sql_functions::lower;
use crate::sql_types::{DbTime, DbUuid, MaybeUuid};
use crate::stored::Stored;
use crate::transaction::write_transaction;

/// Rows per INSERT statement.
pub const CHUNK_ROWS: usize = 500;

/// Counts of the rows an import created.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    pub call_uuid: Uuid,
    pub call_created: bool,
    pub organisations: usize,
    pub rounds: usize,
    pub proposals: usize,
    pub team_members: usize,
    pub users_created: usize,
    pub reviewers: usize,
    pub affiliations: usize,
    pub expertise: usize,
    pub publications: usize,
    pub pool_entries: usize,
    pub affinities: usize,
    pub conflicts: usize,
}

/// The outcome of an import: counts, or every problem found (and nothing written).
pub type ImportOutcome = Result<ImportCounts, Vec<ImportError>>;

fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Inserts rows in chunks of [`CHUNK_ROWS`], one multi-row INSERT per chunk. The statement
/// runs on the backend's own connection: the multi-backend layer has no multi-row insert.
macro_rules! insert_chunks {
    ($connection:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(CHUNK_ROWS) {
            let statement = diesel::insert_into($table).values(chunk.to_vec());
            match &mut *$connection {
                AnyConnection::Postgresql(connection) => statement.execute(connection)?,
                AnyConnection::Sqlite(connection) => statement.execute(connection)?,
            };
        }
    };
}

/// Imports a document.
///
/// With `call_uuid`, the rows go into that existing call, and the document's `call` section
/// must be absent or name the same call. Without it, the document describes a new call.
/// With an `actor`, the call must be visible (404) and managed by the actor (403). Without
/// one (the command line), no permission applies, and the audit log names no user.
pub fn import_document(
    connection: &mut AnyConnection,
    actor: Option<&Actor>,
    call_uuid: Option<Uuid>,
    root: &Node,
) -> StoreResult<ImportOutcome> {
    write_transaction(connection, |connection| {
        let target = match (call_uuid, actor) {
            (Some(uuid), Some(actor)) => {
                let call = find_visible_call(connection, actor, uuid)?;
                call.require_manager(actor)?;
                Some(call)
            }
            (Some(uuid), None) => Some(get_call(connection, uuid)?),
            (None, Some(actor)) if !actor.is_staff => {
                return Err(DomainError::permission_denied(
                    "Only staff can import a document that creates a call.",
                )
                .into());
            }
            (None, _) => None,
        };
        if let Some(call) = &target {
            // Locks the call's row on PostgreSQL, so that racing imports and proposal
            // creations in this call take slug numbers one after another.
            diesel::update(calls::table.find(DbUuid(call.uuid)))
                .set(calls::slug.eq(calls::slug))
                .execute(connection)?;
        }
        let document = match import::validate(root, target.is_some()) {
            Ok(document) => document,
            Err(errors) => return Ok(Err(errors)),
        };
        let plan = match resolve(connection, target.as_ref(), &document)? {
            Ok(plan) => plan,
            Err(errors) => return Ok(Err(errors)),
        };
        write(connection, actor, target.as_ref(), &document, plan).map(Ok)
    })
}

/// References resolved against stored data.
#[derive(Default)]
struct Plan {
    /// Existing organisation for the call, when the reference was a UUID.
    call_customer: Option<Uuid>,
    /// Existing rounds by slug.
    rounds: HashMap<String, Uuid>,
    /// Existing proposals by slug.
    proposals: HashMap<String, Uuid>,
    /// Existing users of document reviewers, by username.
    users: HashMap<String, Uuid>,
    /// Existing reviewers referenced but not described: username → (user, profile, e-mail).
    profiles: HashMap<String, (Uuid, Uuid, String)>,
}

fn resolve(
    connection: &mut AnyConnection,
    target: Option<&Call>,
    document: &Document,
) -> StoreResult<Result<Plan, Vec<ImportError>>> {
    let mut errors = Vec::new();
    let mut plan = Plan::default();
    let organisation_keys: HashSet<&str> = document
        .organisations
        .iter()
        .map(|organisation| organisation.key.as_str())
        .collect();

    for organisation in &document.organisations {
        let existing = customers::table
            .filter(lower(customers::name).eq(organisation.name.to_lowercase()))
            .select(customers::uuid)
            .first::<DbUuid>(connection)
            .optional()?;
        if let Some(DbUuid(uuid)) = existing {
            errors.push(ImportError::new(
                import::child(&organisation.pointer, "name"),
                format!(
                    "An organisation named {:?} already exists ({}); remove it from \"organisations\" and refer to it by UUID.",
                    organisation.name,
                    uuid.simple()
                ),
            ));
        }
    }

    if let Some(section) = &document.call {
        let pointer = &section.pointer;
        match target {
            Some(call) => {
                if let Some(uuid) = section.uuid
                    && uuid != call.uuid
                {
                    errors.push(ImportError::new(
                        import::child(pointer, "uuid"),
                        format!(
                            "The document is for call {}, not for call {}.",
                            uuid.simple(),
                            call.uuid.simple()
                        ),
                    ));
                }
                if let Some(name) = &section.name
                    && name != &call.name
                {
                    errors.push(ImportError::new(
                        import::child(pointer, "name"),
                        format!(
                            "The document is for call {name:?}, not for call {:?}.",
                            call.name
                        ),
                    ));
                }
                if let Some(reference) = &section.organisation
                    && Uuid::try_parse(reference.trim()).ok() != Some(call.customer_uuid)
                {
                    errors.push(ImportError::new(
                        import::child(pointer, "organisation"),
                        format!(
                            "The call belongs to organisation {}, not to {reference:?}.",
                            call.customer_uuid.simple()
                        ),
                    ));
                }
            }
            None => {
                if let Some(name) = &section.name {
                    let taken = calls::table
                        .filter(lower(calls::name).eq(name.to_lowercase()))
                        .count()
                        .get_result::<i64>(connection)?;
                    if taken > 0 {
                        errors.push(ImportError::new(
                            import::child(pointer, "name"),
                            format!("A call named {name:?} already exists; choose another name, or import into that call."),
                        ));
                    }
                }
                if let Some(reference) = &section.organisation
                    && !organisation_keys.contains(reference.as_str())
                    && let Ok(uuid) = Uuid::try_parse(reference.trim())
                {
                    let found = customers::table
                        .find(DbUuid(uuid))
                        .count()
                        .get_result::<i64>(connection)?;
                    if found == 0 {
                        errors.push(ImportError::new(
                            import::child(pointer, "organisation"),
                            format!("No organisation has UUID {}.", uuid.simple()),
                        ));
                    } else {
                        plan.call_customer = Some(uuid);
                    }
                }
            }
        }
    }

    if let Some(call) = target {
        plan.rounds = rounds::table
            .filter(rounds::call_uuid.eq(DbUuid(call.uuid)))
            .select((rounds::slug, rounds::uuid))
            .load::<(String, DbUuid)>(connection)?
            .into_iter()
            .map(|(slug, uuid)| (slug, uuid.0))
            .collect();
        plan.proposals = proposals::table
            .filter(proposals::call_uuid.eq(DbUuid(call.uuid)))
            .select((proposals::slug, proposals::uuid))
            .load::<(String, DbUuid)>(connection)?
            .into_iter()
            .map(|(slug, uuid)| (slug, uuid.0))
            .collect();
        let names: HashSet<String> = proposals::table
            .filter(proposals::call_uuid.eq(DbUuid(call.uuid)))
            .select(proposals::name)
            .load::<String>(connection)?
            .into_iter()
            .collect();
        for proposal in &document.proposals {
            if names.contains(&proposal.name) {
                errors.push(ImportError::new(
                    import::child(&proposal.pointer, "name"),
                    format!("The call already has a proposal named {:?}.", proposal.name),
                ));
            }
        }
    }
    let round_keys: HashSet<&str> = document
        .call
        .iter()
        .flat_map(|section| section.rounds.iter().map(|round| round.key.as_str()))
        .collect();
    for proposal in &document.proposals {
        if !round_keys.contains(proposal.round.as_str())
            && !plan.rounds.contains_key(&proposal.round)
        {
            errors.push(ImportError::new(
                import::child(&proposal.pointer, "round"),
                format!(
                    "{:?} is neither a key of \"call.rounds\" nor the slug of a round of the call.",
                    proposal.round
                ),
            ));
        }
    }

    for reviewer in &document.reviewers {
        let by_name = users::table
            .filter(users::username.eq(&reviewer.username))
            .select((users::uuid, users::email))
            .first::<(DbUuid, String)>(connection)
            .optional()?;
        match by_name {
            Some((DbUuid(user_uuid), email)) => {
                if !email.eq_ignore_ascii_case(&reviewer.email) {
                    errors.push(ImportError::new(
                        import::child(&reviewer.pointer, "email"),
                        format!(
                            "User {:?} exists with another e-mail address; give that address or another username.",
                            reviewer.username
                        ),
                    ));
                }
                let has_profile = reviewer_profiles::table
                    .filter(reviewer_profiles::user_uuid.eq(DbUuid(user_uuid)))
                    .count()
                    .get_result::<i64>(connection)?;
                if has_profile > 0 {
                    errors.push(ImportError::new(
                        import::child(&reviewer.pointer, "username"),
                        format!(
                            "User {:?} already has a reviewer profile; remove the entry from \"reviewers\" and refer to the user by username.",
                            reviewer.username
                        ),
                    ));
                }
                plan.users.insert(reviewer.username.clone(), user_uuid);
            }
            None => {
                let by_email = users::table
                    .filter(lower(users::email).eq(reviewer.email.to_lowercase()))
                    .select(users::username)
                    .first::<String>(connection)
                    .optional()?;
                if let Some(username) = by_email {
                    errors.push(ImportError::new(
                        import::child(&reviewer.pointer, "email"),
                        format!(
                            "The address belongs to existing user {username:?}; use that username."
                        ),
                    ));
                }
            }
        }
        if let Some(orcid) = &reviewer.orcid_id {
            let taken = reviewer_profiles::table
                .filter(reviewer_profiles::orcid_id.eq(orcid))
                .count()
                .get_result::<i64>(connection)?;
            if taken > 0 {
                errors.push(ImportError::new(
                    import::child(&reviewer.pointer, "orcid_id"),
                    format!("Another reviewer profile already has ORCID iD {orcid}."),
                ));
            }
        }
    }

    // References to reviewers and proposals from the pool, affinities and conflicts.
    let described: HashSet<&str> = document.reviewer_usernames();
    let proposal_keys: HashSet<&str> = document.proposal_keys();
    let mut referenced: Vec<(String, &str)> = Vec::new();
    for entry in &document.pool {
        referenced.push((import::child(&entry.pointer, "reviewer"), &entry.reviewer));
    }
    for entry in &document.affinities {
        referenced.push((import::child(&entry.pointer, "reviewer"), &entry.reviewer));
    }
    for entry in &document.conflicts {
        referenced.push((import::child(&entry.pointer, "reviewer"), &entry.reviewer));
    }
    for (pointer, username) in referenced {
        if described.contains(username) || plan.profiles.contains_key(username) {
            continue;
        }
        let found = users::table
            .inner_join(reviewer_profiles::table)
            .filter(users::username.eq(username))
            .select((users::uuid, reviewer_profiles::uuid, users::email))
            .first::<(DbUuid, DbUuid, String)>(connection)
            .optional()?;
        match found {
            Some((user, profile, email)) => {
                plan.profiles
                    .insert(username.to_owned(), (user.0, profile.0, email));
            }
            None => errors.push(ImportError::new(
                pointer,
                format!(
                    "{username:?} is neither a username in \"reviewers\" nor an existing user with a reviewer profile."
                ),
            )),
        }
    }
    let mut proposal_refs: Vec<(String, &str)> = Vec::new();
    for entry in &document.affinities {
        proposal_refs.push((import::child(&entry.pointer, "proposal"), &entry.proposal));
    }
    for entry in &document.conflicts {
        proposal_refs.push((import::child(&entry.pointer, "proposal"), &entry.proposal));
    }
    for (pointer, reference) in proposal_refs {
        if !proposal_keys.contains(reference) && !plan.proposals.contains_key(reference) {
            errors.push(ImportError::new(
                pointer,
                format!(
                    "{reference:?} is neither a key of \"proposals\" nor the slug of a proposal of the call."
                ),
            ));
        }
    }

    // Clashes with rows of the existing call.
    if let Some(call) = target {
        for entry in &document.pool {
            let Some((_, profile, _)) = plan.profiles.get(&entry.reviewer) else {
                continue;
            };
            let taken = call_reviewer_pools::table
                .filter(call_reviewer_pools::call_uuid.eq(DbUuid(call.uuid)))
                .filter(call_reviewer_pools::reviewer_uuid.eq(DbUuid(*profile)))
                .count()
                .get_result::<i64>(connection)?;
            if taken > 0 {
                errors.push(ImportError::new(
                    import::child(&entry.pointer, "reviewer"),
                    format!(
                        "{:?} is already in the call's reviewer pool.",
                        entry.reviewer
                    ),
                ));
            }
        }
        for entry in &document.affinities {
            let (Some((_, profile, _)), Some(proposal)) = (
                plan.profiles.get(&entry.reviewer),
                plan.proposals.get(&entry.proposal),
            ) else {
                continue;
            };
            let taken = reviewer_proposal_affinities::table
                .filter(reviewer_proposal_affinities::call_uuid.eq(DbUuid(call.uuid)))
                .filter(reviewer_proposal_affinities::reviewer_uuid.eq(DbUuid(*profile)))
                .filter(reviewer_proposal_affinities::proposal_uuid.eq(DbUuid(*proposal)))
                .count()
                .get_result::<i64>(connection)?;
            if taken > 0 {
                errors.push(ImportError::new(
                    entry.pointer.clone(),
                    format!(
                        "The call already has an affinity score for {:?} and {:?}.",
                        entry.reviewer, entry.proposal
                    ),
                ));
            }
        }
        for entry in &document.conflicts {
            let (Some((_, profile, _)), Some(proposal)) = (
                plan.profiles.get(&entry.reviewer),
                plan.proposals.get(&entry.proposal),
            ) else {
                continue;
            };
            let taken = conflicts_of_interest::table
                .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call.uuid)))
                .filter(conflicts_of_interest::reviewer_uuid.eq(DbUuid(*profile)))
                .filter(conflicts_of_interest::proposal_uuid.eq(DbUuid(*proposal)))
                .filter(conflicts_of_interest::coi_type.eq(entry.coi_type.as_str()))
                .count()
                .get_result::<i64>(connection)?;
            if taken > 0 {
                errors.push(ImportError::new(
                    entry.pointer.clone(),
                    format!(
                        "The call already records a {} conflict for {:?} and {:?}.",
                        entry.coi_type, entry.reviewer, entry.proposal
                    ),
                ));
            }
        }
    }

    if errors.is_empty() {
        Ok(Ok(plan))
    } else {
        Ok(Err(errors))
    }
}

/// Highest number after `prefix` among the slugs, or 0.
fn highest_suffix(slugs: &[String], prefix: &str) -> u32 {
    slugs
        .iter()
        .filter_map(|slug| slug.strip_prefix(prefix))
        .filter_map(|number| number.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
}

fn write(
    connection: &mut AnyConnection,
    actor: Option<&Actor>,
    target: Option<&Call>,
    document: &Document,
    mut plan: Plan,
) -> StoreResult<ImportCounts> {
    let now = DbTime::from(Utc::now());
    let at: DateTime<Utc> = now.0;
    let actor_uuid = actor.map(|actor| DbUuid(actor.user_uuid));
    let mut counts = ImportCounts::default();

    // Organisations.
    let mut organisation_uuids: HashMap<&str, Uuid> = HashMap::new();
    let mut rows = Vec::new();
    for organisation in &document.organisations {
        let uuid = Uuid::now_v7();
        organisation_uuids.insert(&organisation.key, uuid);
        rows.push((
            customers::uuid.eq(DbUuid(uuid)),
            customers::name.eq(organisation.name.clone()),
            customers::abbreviation.eq(organisation.abbreviation.clone()),
            customers::email.eq(organisation.email.clone()),
            customers::created.eq(now),
            customers::modified.eq(now),
        ));
    }
    insert_chunks!(connection, customers::table, rows);
    counts.organisations = document.organisations.len();

    // The call.
    let call = match target {
        Some(call) => call.clone(),
        None => {
            let section = document
                .call
                .as_ref()
                .ok_or_else(|| DomainError::field("call", "This key is required."))?;
            let name = section.name.clone().unwrap_or_default();
            let customer_uuid = section
                .organisation
                .as_deref()
                .and_then(|reference| organisation_uuids.get(reference).copied())
                .or(plan.call_customer)
                .ok_or_else(|| DomainError::field("call.organisation", "Unknown organisation."))?;
            let stem = slug_stem(&name);
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
            let slug = if taken.contains(&stem) {
                (2..)
                    .map(|number| format!("{stem}-{number}"))
                    .find(|candidate| !taken.contains(candidate))
                    .unwrap_or_else(|| format!("{stem}-{}", Uuid::now_v7().simple()))
            } else {
                stem
            };
            let uuid = Uuid::now_v7();
            diesel::insert_into(calls::table)
                .values((
                    calls::uuid.eq(DbUuid(uuid)),
                    calls::customer_uuid.eq(DbUuid(customer_uuid)),
                    calls::name.eq(&name),
                    calls::slug.eq(&slug),
                    calls::description.eq(&section.description),
                    calls::state.eq(section.state.as_str()),
                    calls::reviewer_identity_visible_to_submitters.eq(false),
                    calls::reviews_visible_to_submitters.eq(false),
                    calls::created_by_uuid.eq(actor_uuid),
                    calls::created.eq(now),
                    calls::modified.eq(now),
                ))
                .execute(connection)?;
            counts.call_created = true;
            get_call(connection, uuid)?
        }
    };
    counts.call_uuid = call.uuid;

    // Rounds.
    if let Some(section) = &document.call {
        let slugs: Vec<String> = plan.rounds.keys().cloned().collect();
        let prefix = format!("{}-R", call.slug);
        let mut number = highest_suffix(&slugs, &prefix);
        let mut rows = Vec::new();
        for round in &section.rounds {
            number += 1;
            let uuid = Uuid::now_v7();
            plan.rounds.insert(round.key.clone(), uuid);
            rows.push((
                rounds::uuid.eq(DbUuid(uuid)),
                rounds::call_uuid.eq(DbUuid(call.uuid)),
                rounds::slug.eq(format!("{prefix}{number}")),
                rounds::start_time.eq(DbTime::from(round.start_time)),
                rounds::cutoff_time.eq(DbTime::from(round.cutoff_time)),
                rounds::review_duration_in_days.eq(round.review_duration_in_days),
                rounds::created.eq(now),
                rounds::modified.eq(now),
            ));
        }
        insert_chunks!(connection, rounds::table, rows);
        counts.rounds = section.rounds.len();
    }

    // Proposals and their team members. Document keys take precedence over stored slugs.
    let prefix = format!("{}-", call.slug.to_uppercase());
    let existing_slugs: Vec<String> = proposals::table
        .filter(proposals::slug.like(format!("{prefix}%")))
        .select(proposals::slug)
        .load::<String>(connection)?;
    let mut number = highest_suffix(&existing_slugs, &prefix);
    let mut proposal_rows = Vec::new();
    let mut member_rows = Vec::new();
    for proposal in &document.proposals {
        number += 1;
        let uuid = Uuid::now_v7();
        let round_uuid = plan.rounds[&proposal.round];
        plan.proposals.insert(proposal.key.clone(), uuid);
        proposal_rows.push((
            proposals::uuid.eq(DbUuid(uuid)),
            proposals::round_uuid.eq(DbUuid(round_uuid)),
            proposals::call_uuid.eq(DbUuid(call.uuid)),
            proposals::name.eq(proposal.name.clone()),
            proposals::slug.eq(format!("{prefix}{number:03}")),
            proposals::state.eq(proposal.state.as_str()),
            proposals::project_summary.eq(proposal.project_summary.clone()),
            proposals::description.eq(proposal.description.clone()),
            proposals::created_by_uuid.eq(actor_uuid),
            proposals::created.eq(now),
            proposals::modified.eq(now),
        ));
        for member in &proposal.team_members {
            member_rows.push((
                proposal_team_members::uuid.eq(DbUuid(Uuid::now_v7())),
                proposal_team_members::proposal_uuid.eq(DbUuid(uuid)),
                proposal_team_members::user_uuid.eq(None::<DbUuid>),
                proposal_team_members::full_name.eq(member.full_name.clone()),
                proposal_team_members::email.eq(member.email.clone()),
                proposal_team_members::orcid.eq(member.orcid.clone()),
                proposal_team_members::organization.eq(member.organization.clone()),
                proposal_team_members::role.eq(member.role.as_str()),
                proposal_team_members::created.eq(now),
            ));
        }
    }
    insert_chunks!(connection, proposals::table, proposal_rows);
    insert_chunks!(connection, proposal_team_members::table, member_rows);
    counts.proposals = document.proposals.len();
    counts.team_members = document
        .proposals
        .iter()
        .map(|proposal| proposal.team_members.len())
        .sum();

    // Users, reviewer profiles and their affiliations, expertise and publications.
    let mut user_rows = Vec::new();
    let mut profile_rows = Vec::new();
    let mut affiliation_rows = Vec::new();
    let mut expertise_rows = Vec::new();
    let mut publication_rows = Vec::new();
    for reviewer in &document.reviewers {
        let user_uuid = match plan.users.get(&reviewer.username) {
            Some(uuid) => *uuid,
            None => {
                let uuid = Uuid::now_v7();
                user_rows.push((
                    users::uuid.eq(DbUuid(uuid)),
                    users::username.eq(reviewer.username.clone()),
                    users::email.eq(reviewer.email.clone()),
                    users::full_name.eq(reviewer.full_name.clone()),
                    users::is_staff.eq(false),
                    users::is_support.eq(false),
                    users::is_active.eq(true),
                    users::created.eq(now),
                    users::modified.eq(now),
                ));
                uuid
            }
        };
        let profile_uuid = Uuid::now_v7();
        plan.profiles.insert(
            reviewer.username.clone(),
            (user_uuid, profile_uuid, reviewer.email.clone()),
        );
        profile_rows.push((
            reviewer_profiles::uuid.eq(DbUuid(profile_uuid)),
            reviewer_profiles::user_uuid.eq(DbUuid(user_uuid)),
            reviewer_profiles::orcid_id.eq(reviewer.orcid_id.clone()),
            reviewer_profiles::biography.eq(reviewer.biography.clone()),
            reviewer_profiles::alternative_names.eq(json!(reviewer.alternative_names).to_string()),
            reviewer_profiles::is_published.eq(reviewer.is_published),
            reviewer_profiles::published_at.eq(reviewer.is_published.then_some(now)),
            reviewer_profiles::available_for_reviews.eq(reviewer.available_for_reviews),
            reviewer_profiles::created.eq(now),
            reviewer_profiles::modified.eq(now),
        ));
        for affiliation in &reviewer.affiliations {
            affiliation_rows.push((
                reviewer_affiliations::uuid.eq(DbUuid(Uuid::now_v7())),
                reviewer_affiliations::profile_uuid.eq(DbUuid(profile_uuid)),
                reviewer_affiliations::organization_uuid.eq(None::<DbUuid>),
                reviewer_affiliations::organization_name.eq(affiliation.organization_name.clone()),
                reviewer_affiliations::organization_identifier
                    .eq(affiliation.organization_identifier.clone()),
                reviewer_affiliations::department.eq(affiliation.department.clone()),
                reviewer_affiliations::position_title.eq(affiliation.position_title.clone()),
                reviewer_affiliations::start_date.eq(affiliation.start_date),
                reviewer_affiliations::end_date.eq(affiliation.end_date),
                reviewer_affiliations::is_primary.eq(affiliation.is_primary),
                reviewer_affiliations::affiliation_type.eq(affiliation.affiliation_type.as_str()),
                reviewer_affiliations::created.eq(now),
                reviewer_affiliations::modified.eq(now),
            ));
        }
        for expertise in &reviewer.expertise {
            expertise_rows.push((
                reviewer_expertise::uuid.eq(DbUuid(Uuid::now_v7())),
                reviewer_expertise::profile_uuid.eq(DbUuid(profile_uuid)),
                reviewer_expertise::expertise_keyword.eq(expertise.keyword.clone()),
                reviewer_expertise::expertise_category.eq(expertise.category.clone()),
                reviewer_expertise::proficiency_level.eq(expertise.proficiency_level.as_str()),
                reviewer_expertise::years_experience.eq(expertise.years_experience),
                reviewer_expertise::last_active_date.eq(None::<chrono::NaiveDate>),
                reviewer_expertise::created.eq(now),
                reviewer_expertise::modified.eq(now),
            ));
        }
        for publication in &reviewer.publications {
            publication_rows.push((
                reviewer_publications::uuid.eq(DbUuid(Uuid::now_v7())),
                reviewer_publications::profile_uuid.eq(DbUuid(profile_uuid)),
                reviewer_publications::title.eq(publication.title.clone()),
                reviewer_publications::doi.eq(publication.doi.clone()),
                reviewer_publications::publication_year.eq(publication.publication_year),
                reviewer_publications::venue.eq(publication.venue.clone()),
                reviewer_publications::venue_type.eq(publication.venue_type.as_str()),
                reviewer_publications::abstract_text.eq(publication.abstract_text.clone()),
                reviewer_publications::coauthors.eq(json!(publication.coauthors).to_string()),
                reviewer_publications::external_ids.eq("{}".to_owned()),
                reviewer_publications::is_excluded_from_matching
                    .eq(publication.is_excluded_from_matching),
                reviewer_publications::created.eq(now),
                reviewer_publications::modified.eq(now),
            ));
        }
    }
    counts.users_created = user_rows.len();
    counts.reviewers = profile_rows.len();
    counts.affiliations = affiliation_rows.len();
    counts.expertise = expertise_rows.len();
    counts.publications = publication_rows.len();
    insert_chunks!(connection, users::table, user_rows);
    insert_chunks!(connection, reviewer_profiles::table, profile_rows);
    insert_chunks!(connection, reviewer_affiliations::table, affiliation_rows);
    insert_chunks!(connection, reviewer_expertise::table, expertise_rows);
    insert_chunks!(connection, reviewer_publications::table, publication_rows);

    // Pool entries, each audited.
    let days = i64::from(
        crate::configs::assignment_config(connection, call.uuid)?.assignment_expiration_days,
    );
    let mut pool_rows = Vec::new();
    let mut pool_audit = Vec::new();
    for entry in &document.pool {
        let (user_uuid, profile_uuid, email) = plan.profiles[&entry.reviewer].clone();
        let uuid = Uuid::now_v7();
        let responded = matches!(
            entry.invitation_status,
            InvitationStatus::Accepted | InvitationStatus::Declined
        );
        let expires = match entry.invitation_status {
            InvitationStatus::Pending => Some(DbTime(at + Duration::days(days))),
            InvitationStatus::Expired => Some(now),
            _ => None,
        };
        pool_rows.push((
            call_reviewer_pools::uuid.eq(DbUuid(uuid)),
            call_reviewer_pools::call_uuid.eq(DbUuid(call.uuid)),
            call_reviewer_pools::reviewer_uuid.eq(Some(DbUuid(profile_uuid))),
            call_reviewer_pools::invited_email.eq(email),
            call_reviewer_pools::invited_user_uuid.eq(Some(DbUuid(user_uuid))),
            call_reviewer_pools::invited_by_uuid.eq(actor_uuid),
            call_reviewer_pools::invited_at.eq(now),
            call_reviewer_pools::invitation_status.eq(entry.invitation_status.as_str()),
            call_reviewer_pools::response_date.eq(responded.then_some(now)),
            call_reviewer_pools::decline_reason.eq(String::new()),
            call_reviewer_pools::max_assignments.eq(entry.max_assignments),
            call_reviewer_pools::invitation_token.eq(random_token()),
            call_reviewer_pools::invitation_expires_at.eq(expires),
            call_reviewer_pools::override_reason.eq(String::new()),
            call_reviewer_pools::created.eq(now),
            call_reviewer_pools::modified.eq(now),
        ));
        pool_audit.push((uuid, entry.invitation_status));
    }
    insert_chunks!(connection, call_reviewer_pools::table, pool_rows);
    for (uuid, status) in pool_audit {
        audit::record(
            connection,
            AuditEntry {
                call_uuid: Some(call.uuid),
                object_type: "pool_entry",
                object_uuid: uuid,
                action: "pool_entry.imported",
                actor,
                reason: "bulk import",
                before: None,
                after: Some(json!({"invitation_status": status.as_str()})),
            },
        )?;
    }
    counts.pool_entries = document.pool.len();

    // Affinity scores.
    let mut affinity_rows = Vec::new();
    for entry in &document.affinities {
        let profile_uuid = plan.profiles[&entry.reviewer].1;
        affinity_rows.push((
            reviewer_proposal_affinities::uuid.eq(DbUuid(Uuid::now_v7())),
            reviewer_proposal_affinities::call_uuid.eq(DbUuid(call.uuid)),
            reviewer_proposal_affinities::reviewer_uuid.eq(DbUuid(profile_uuid)),
            reviewer_proposal_affinities::proposal_uuid.eq(DbUuid(plan.proposals[&entry.proposal])),
            reviewer_proposal_affinities::affinity_score.eq(entry.affinity_score),
            reviewer_proposal_affinities::keyword_score.eq(entry.keyword_score),
            reviewer_proposal_affinities::text_score.eq(entry.text_score),
            reviewer_proposal_affinities::created.eq(now),
            reviewer_proposal_affinities::modified.eq(now),
        ));
    }
    insert_chunks!(
        connection,
        reviewer_proposal_affinities::table,
        affinity_rows
    );
    counts.affinities = document.affinities.len();

    // Conflicts of interest, each audited; blocking ones block pending items of the pair.
    let mut conflict_rows = Vec::new();
    let mut conflict_audit = Vec::new();
    for entry in &document.conflicts {
        let profile_uuid = plan.profiles[&entry.reviewer].1;
        let uuid = Uuid::now_v7();
        let decided = entry.status != referee_domain::enums::CoiStatus::Pending;
        conflict_rows.push((
            conflicts_of_interest::uuid.eq(DbUuid(uuid)),
            conflicts_of_interest::call_uuid.eq(DbUuid(call.uuid)),
            conflicts_of_interest::reviewer_uuid.eq(DbUuid(profile_uuid)),
            conflicts_of_interest::proposal_uuid.eq(Some(DbUuid(plan.proposals[&entry.proposal]))),
            conflicts_of_interest::conflicting_user_uuid.eq(None::<DbUuid>),
            conflicts_of_interest::conflicting_organization_uuid.eq(None::<DbUuid>),
            conflicts_of_interest::coi_type.eq(entry.coi_type.as_str()),
            conflicts_of_interest::severity.eq(entry.severity.as_str()),
            conflicts_of_interest::detection_method.eq("manager_identified"),
            conflicts_of_interest::detected_at.eq(now),
            conflicts_of_interest::evidence_description.eq(entry.evidence_description.clone()),
            conflicts_of_interest::evidence_data.eq("{}"),
            conflicts_of_interest::status.eq(entry.status.as_str()),
            conflicts_of_interest::reviewed_by_uuid.eq(if decided { actor_uuid } else { None }),
            conflicts_of_interest::reviewed_at.eq(decided.then_some(now)),
            conflicts_of_interest::review_notes.eq(""),
            conflicts_of_interest::management_plan.eq(""),
            conflicts_of_interest::created.eq(now),
            conflicts_of_interest::modified.eq(now),
        ));
        conflict_audit.push((uuid, entry.status));
    }
    insert_chunks!(connection, conflicts_of_interest::table, conflict_rows);
    for (uuid, status) in conflict_audit {
        audit::record(
            connection,
            AuditEntry {
                call_uuid: Some(call.uuid),
                object_type: "conflict",
                object_uuid: uuid,
                action: "conflict.imported",
                actor,
                reason: "bulk import",
                before: None,
                after: Some(json!({"status": status.as_str()})),
            },
        )?;
        // NOTE: without an actor (the command line), pending items of the pair stay
        // unblocked, because blocking them records the acting user.
        if let Some(actor) = actor
            && target.is_some()
        {
            crate::conflicts::block_pending_items(connection, actor, uuid)?;
        }
    }
    counts.conflicts = document.conflicts.len();
    Ok(counts)
}

// ---------------------------------------------------------------------------------------
// Exports

/// One row of the assignments export.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignmentRow {
    pub item_uuid: Uuid,
    pub batch_uuid: Uuid,
    pub proposal_uuid: Uuid,
    pub proposal_slug: String,
    pub proposal_name: String,
    pub reviewer_uuid: Option<Uuid>,
    pub reviewer_username: Option<String>,
    pub reviewer_email: String,
    pub status: ItemStatus,
    pub affinity_score: Option<f64>,
    pub has_coi: bool,
}

/// One row of the affinities export.
#[derive(Debug, Clone, PartialEq)]
pub struct AffinityRow {
    pub reviewer_uuid: Uuid,
    pub reviewer_username: String,
    pub reviewer_email: String,
    pub proposal_uuid: Uuid,
    pub proposal_slug: String,
    pub proposal_name: String,
    pub affinity_score: f64,
    pub keyword_score: Option<f64>,
    pub text_score: Option<f64>,
}

/// One row of the conflicts export.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRow {
    pub conflict_uuid: Uuid,
    pub reviewer_uuid: Uuid,
    pub reviewer_username: String,
    pub reviewer_email: String,
    pub proposal_uuid: Option<Uuid>,
    pub proposal_slug: Option<String>,
    pub proposal_name: Option<String>,
    pub coi_type: String,
    pub severity: String,
    pub status: String,
    pub detection_method: String,
    pub evidence_description: String,
}

/// Finds a call whose exports the actor may read: staff, support and its managers.
fn exportable_call(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<Call> {
    let call = find_visible_call(connection, actor, call_uuid)?;
    if actor.reads_everything() || call.managed_by(actor) {
        Ok(call)
    } else {
        Err(DomainError::permission_denied(
            "Only staff, support, the call's managers and the managers of its organisation can export its data.",
        )
        .into())
    }
}

type ProposalNames = HashMap<Uuid, (String, String)>;

fn proposal_names(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<ProposalNames> {
    Ok(proposals::table
        .filter(proposals::call_uuid.eq(DbUuid(call_uuid)))
        .select((proposals::uuid, proposals::slug, proposals::name))
        .load::<(DbUuid, String, String)>(connection)?
        .into_iter()
        .map(|(uuid, slug, name)| (uuid.0, (slug, name)))
        .collect())
}

/// Username and e-mail of each reviewer profile.
fn reviewer_names(
    connection: &mut AnyConnection,
    profiles: &[Uuid],
) -> StoreResult<HashMap<Uuid, (String, String)>> {
    let mut names = HashMap::new();
    for chunk in profiles.chunks(CHUNK_ROWS) {
        let keys: Vec<DbUuid> = chunk.iter().copied().map(DbUuid).collect();
        let rows = reviewer_profiles::table
            .inner_join(users::table)
            .filter(reviewer_profiles::uuid.eq_any(keys))
            .select((reviewer_profiles::uuid, users::username, users::email))
            .load::<(DbUuid, String, String)>(connection)?;
        for (uuid, username, email) in rows {
            names.insert(uuid.0, (username, email));
        }
    }
    Ok(names)
}

/// The call's assignment items, by proposal slug and reviewer username.
pub fn export_assignments(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<Vec<AssignmentRow>> {
    let call = exportable_call(connection, actor, call_uuid)?;
    let proposals = proposal_names(connection, call.uuid)?;
    let items = assignment_items::table
        .inner_join(
            call_reviewer_pools::table
                .on(call_reviewer_pools::uuid.eq(assignment_items::pool_entry_uuid)),
        )
        .filter(assignment_items::call_uuid.eq(DbUuid(call.uuid)))
        .select((
            assignment_items::uuid,
            assignment_items::batch_uuid,
            assignment_items::proposal_uuid,
            assignment_items::reviewer_uuid,
            call_reviewer_pools::invited_email,
            assignment_items::status,
            assignment_items::affinity_score,
            assignment_items::has_coi,
        ))
        .load::<(
            DbUuid,
            DbUuid,
            DbUuid,
            MaybeUuid,
            String,
            Stored<ItemStatus>,
            Option<f64>,
            bool,
        )>(connection)?;
    let profiles: Vec<Uuid> = items.iter().filter_map(|row| row.3.0).collect();
    let names = reviewer_names(connection, &profiles)?;
    let mut rows: Vec<AssignmentRow> = items
        .into_iter()
        .map(
            |(item, batch, proposal, reviewer, invited_email, status, affinity, has_coi)| {
                let (slug, name) = proposals.get(&proposal.0).cloned().unwrap_or_default();
                let known = reviewer.0.and_then(|uuid| names.get(&uuid));
                AssignmentRow {
                    item_uuid: item.0,
                    batch_uuid: batch.0,
                    proposal_uuid: proposal.0,
                    proposal_slug: slug,
                    proposal_name: name,
                    reviewer_uuid: reviewer.0,
                    reviewer_username: known.map(|(username, _)| username.clone()),
                    reviewer_email: known
                        .map(|(_, email)| email.clone())
                        .unwrap_or(invited_email),
                    status: status.0,
                    affinity_score: affinity,
                    has_coi,
                }
            },
        )
        .collect();
    rows.sort_by(|a, b| {
        (&a.proposal_slug, &a.reviewer_email, a.item_uuid).cmp(&(
            &b.proposal_slug,
            &b.reviewer_email,
            b.item_uuid,
        ))
    });
    Ok(rows)
}

/// The call's affinity scores, by proposal slug and highest score first.
pub fn export_affinities(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<Vec<AffinityRow>> {
    let call = exportable_call(connection, actor, call_uuid)?;
    let proposals = proposal_names(connection, call.uuid)?;
    let scores = reviewer_proposal_affinities::table
        .filter(reviewer_proposal_affinities::call_uuid.eq(DbUuid(call.uuid)))
        .select((
            reviewer_proposal_affinities::reviewer_uuid,
            reviewer_proposal_affinities::proposal_uuid,
            reviewer_proposal_affinities::affinity_score,
            reviewer_proposal_affinities::keyword_score,
            reviewer_proposal_affinities::text_score,
        ))
        .load::<(DbUuid, DbUuid, f64, Option<f64>, Option<f64>)>(connection)?;
    let profiles: Vec<Uuid> = scores.iter().map(|row| row.0.0).collect();
    let names = reviewer_names(connection, &profiles)?;
    let mut rows: Vec<AffinityRow> = scores
        .into_iter()
        .map(|(reviewer, proposal, score, keyword, text)| {
            let (slug, name) = proposals.get(&proposal.0).cloned().unwrap_or_default();
            let (username, email) = names.get(&reviewer.0).cloned().unwrap_or_default();
            AffinityRow {
                reviewer_uuid: reviewer.0,
                reviewer_username: username,
                reviewer_email: email,
                proposal_uuid: proposal.0,
                proposal_slug: slug,
                proposal_name: name,
                affinity_score: score,
                keyword_score: keyword,
                text_score: text,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.proposal_slug
            .cmp(&b.proposal_slug)
            .then(b.affinity_score.total_cmp(&a.affinity_score))
            .then(a.reviewer_username.cmp(&b.reviewer_username))
    });
    Ok(rows)
}

/// The call's conflicts of interest, oldest first.
pub fn export_conflicts(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<Vec<ConflictRow>> {
    let call = exportable_call(connection, actor, call_uuid)?;
    let proposals = proposal_names(connection, call.uuid)?;
    let conflicts = conflicts_of_interest::table
        .filter(conflicts_of_interest::call_uuid.eq(DbUuid(call.uuid)))
        .order((
            conflicts_of_interest::created.asc(),
            conflicts_of_interest::uuid.asc(),
        ))
        .select((
            conflicts_of_interest::uuid,
            conflicts_of_interest::reviewer_uuid,
            conflicts_of_interest::proposal_uuid,
            conflicts_of_interest::coi_type,
            conflicts_of_interest::severity,
            conflicts_of_interest::status,
            conflicts_of_interest::detection_method,
            conflicts_of_interest::evidence_description,
        ))
        .load::<(
            DbUuid,
            DbUuid,
            MaybeUuid,
            String,
            String,
            String,
            String,
            String,
        )>(connection)?;
    let profiles: Vec<Uuid> = conflicts.iter().map(|row| row.1.0).collect();
    let names = reviewer_names(connection, &profiles)?;
    Ok(conflicts
        .into_iter()
        .map(
            |(uuid, reviewer, proposal, coi_type, severity, status, method, evidence)| {
                let named = proposal.0.and_then(|uuid| proposals.get(&uuid).cloned());
                let (username, email) = names.get(&reviewer.0).cloned().unwrap_or_default();
                ConflictRow {
                    conflict_uuid: uuid.0,
                    reviewer_uuid: reviewer.0,
                    reviewer_username: username,
                    reviewer_email: email,
                    proposal_uuid: proposal.0,
                    proposal_slug: named.as_ref().map(|(slug, _)| slug.clone()),
                    proposal_name: named.map(|(_, name)| name),
                    coi_type,
                    severity,
                    status,
                    detection_method: method,
                    evidence_description: evidence,
                }
            },
        )
        .collect())
}
