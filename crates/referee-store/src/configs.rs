//! Per-call configurations: assignment (deadlines, auto-reassign), conflict-of-interest
//! detection and disclosure, and matching. A call without a row uses the defaults.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::enums::{AffinityMethod, DisclosureLevel, MatchingAlgorithm};
use uuid::Uuid;

use crate::connection::AnyConnection;
use crate::error::StoreResult;
use crate::schema::{
    call_assignment_configurations, call_coi_configurations, matching_configurations,
};
use crate::sql_types::{DbTime, DbUuid};
use crate::stored::Stored;

/// Assignment settings of a call.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct AssignmentConfig {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    pub auto_reassign_on_decline: bool,
    pub max_auto_reassign_attempts: i32,
    /// Days between sending a batch and its deadline; also the pool-invitation lifetime.
    pub assignment_expiration_days: i32,
    /// Days before the deadline at which the reviewer is reminded.
    pub send_reminder_before_expiry_days: i32,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl AssignmentConfig {
    /// The settings of a call that has no row (`uuid` is nil).
    pub fn defaults(call_uuid: Uuid) -> Self {
        let now = Utc::now();
        Self {
            uuid: Uuid::nil(),
            call_uuid,
            auto_reassign_on_decline: false,
            max_auto_reassign_attempts: 3,
            assignment_expiration_days: 7,
            send_reminder_before_expiry_days: 2,
            created: now,
            modified: now,
        }
    }
}

/// Conflict-of-interest settings of a call.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct CoiConfig {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    pub coauthorship_lookback_years: i32,
    pub coauthorship_threshold_papers: i32,
    pub institutional_lookback_years: i32,
    pub include_same_department: bool,
    pub include_same_institution: bool,
    /// JSON arrays of conflict type codes.
    pub recusal_required_types: String,
    pub management_allowed_types: String,
    pub disclosure_only_types: String,
    pub auto_detect_coauthorship: bool,
    pub auto_detect_institutional: bool,
    pub auto_detect_named_personnel: bool,
    #[diesel(deserialize_as = Stored<DisclosureLevel>)]
    pub invitation_proposal_disclosure: DisclosureLevel,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl CoiConfig {
    pub fn defaults(call_uuid: Uuid) -> Self {
        let now = Utc::now();
        Self {
            uuid: Uuid::nil(),
            call_uuid,
            coauthorship_lookback_years: 3,
            coauthorship_threshold_papers: 1,
            institutional_lookback_years: 2,
            include_same_department: true,
            include_same_institution: true,
            recusal_required_types: "[]".into(),
            management_allowed_types: "[]".into(),
            disclosure_only_types: "[]".into(),
            auto_detect_coauthorship: true,
            auto_detect_institutional: true,
            auto_detect_named_personnel: true,
            invitation_proposal_disclosure: DisclosureLevel::TitlesOnly,
            created: now,
            modified: now,
        }
    }
}

/// Matching settings of a call.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct MatchingConfig {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub call_uuid: Uuid,
    #[diesel(deserialize_as = Stored<AffinityMethod>)]
    pub affinity_method: AffinityMethod,
    pub keyword_weight: f64,
    pub text_weight: f64,
    pub min_reviewers_per_proposal: i32,
    pub max_reviewers_per_proposal: i32,
    pub min_proposals_per_reviewer: i32,
    pub max_proposals_per_reviewer: i32,
    #[diesel(deserialize_as = Stored<MatchingAlgorithm>)]
    pub algorithm: MatchingAlgorithm,
    pub min_affinity_threshold: f64,
    pub use_reviewer_bids: bool,
    pub bid_weight: f64,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl MatchingConfig {
    pub fn defaults(call_uuid: Uuid) -> Self {
        let now = Utc::now();
        Self {
            uuid: Uuid::nil(),
            call_uuid,
            affinity_method: AffinityMethod::Combined,
            keyword_weight: 0.4,
            text_weight: 0.6,
            min_reviewers_per_proposal: 3,
            max_reviewers_per_proposal: 5,
            min_proposals_per_reviewer: 3,
            max_proposals_per_reviewer: 10,
            algorithm: MatchingAlgorithm::Minmax,
            min_affinity_threshold: 0.1,
            use_reviewer_bids: true,
            bid_weight: 0.3,
            created: now,
            modified: now,
        }
    }
}

/// The call's assignment settings, or the defaults when it has no row.
pub fn assignment_config(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<AssignmentConfig> {
    Ok(call_assignment_configurations::table
        .filter(call_assignment_configurations::call_uuid.eq(DbUuid(call_uuid)))
        .first::<AssignmentConfig>(connection)
        .optional()?
        .unwrap_or_else(|| AssignmentConfig::defaults(call_uuid)))
}

/// The call's conflict-of-interest settings, or the defaults when it has no row.
pub fn coi_config(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<CoiConfig> {
    Ok(call_coi_configurations::table
        .filter(call_coi_configurations::call_uuid.eq(DbUuid(call_uuid)))
        .first::<CoiConfig>(connection)
        .optional()?
        .unwrap_or_else(|| CoiConfig::defaults(call_uuid)))
}

/// The call's matching settings, or `None` when it has no row.
pub fn matching_config(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<Option<MatchingConfig>> {
    Ok(matching_configurations::table
        .filter(matching_configurations::call_uuid.eq(DbUuid(call_uuid)))
        .first::<MatchingConfig>(connection)
        .optional()?)
}

// ---------------------------------------------------------------------------------------------
// Reading and changing the configurations through the API. A call's row is created with the
// column defaults on first access, so every call has a `uuid` to show.

use std::collections::BTreeMap;

use referee_domain::enums::CoiType;
use referee_domain::{Actor, DomainError, FieldErrors};
use serde_json::json;

use crate::calls::{self, Call};
use crate::connection::MultiBackend;
use crate::list::{Page, PageRequest};
use crate::schema::calls as calls_table;
use crate::transaction::write_transaction;

/// A configuration with the name of its call.
#[derive(Debug, Clone, PartialEq)]
pub struct WithCall<T> {
    pub config: T,
    pub call_name: String,
}

/// Changes to a call's assignment settings; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct AssignmentConfigChanges {
    pub auto_reassign_on_decline: Option<bool>,
    pub max_auto_reassign_attempts: Option<i32>,
    pub assignment_expiration_days: Option<i32>,
    pub send_reminder_before_expiry_days: Option<i32>,
}

/// Changes to a call's conflict-of-interest settings; `None` keeps a field. The type lists
/// hold wire values of [`CoiType`], checked by the caller.
#[derive(Debug, Clone, Default)]
pub struct CoiConfigChanges {
    pub coauthorship_lookback_years: Option<i32>,
    pub coauthorship_threshold_papers: Option<i32>,
    pub institutional_lookback_years: Option<i32>,
    pub include_same_department: Option<bool>,
    pub include_same_institution: Option<bool>,
    pub recusal_required_types: Option<Vec<CoiType>>,
    pub management_allowed_types: Option<Vec<CoiType>>,
    pub disclosure_only_types: Option<Vec<CoiType>>,
    pub auto_detect_coauthorship: Option<bool>,
    pub auto_detect_institutional: Option<bool>,
    pub auto_detect_named_personnel: Option<bool>,
    pub invitation_proposal_disclosure: Option<DisclosureLevel>,
}

/// Changes to a call's matching settings; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct MatchingConfigChanges {
    pub affinity_method: Option<AffinityMethod>,
    pub keyword_weight: Option<f64>,
    pub text_weight: Option<f64>,
    pub min_reviewers_per_proposal: Option<i32>,
    pub max_reviewers_per_proposal: Option<i32>,
    pub min_proposals_per_reviewer: Option<i32>,
    pub max_proposals_per_reviewer: Option<i32>,
    pub algorithm: Option<MatchingAlgorithm>,
    pub min_affinity_threshold: Option<f64>,
    pub use_reviewer_bids: Option<bool>,
    pub bid_weight: Option<f64>,
}

/// Largest distance of `keyword_weight + text_weight` from 1.0 that is accepted.
pub const WEIGHT_SUM_TOLERANCE: f64 = 0.001;

impl CoiConfig {
    /// The three type lists in the order `recusal_required_types`, `management_allowed_types`,
    /// `disclosure_only_types`; codes that are not conflict types are dropped.
    pub fn type_lists(&self) -> [Vec<String>; 3] {
        [
            &self.recusal_required_types,
            &self.management_allowed_types,
            &self.disclosure_only_types,
        ]
        .map(|text| serde_json::from_str::<Vec<String>>(text).unwrap_or_default())
    }
}

const TYPE_LIST_FIELDS: [&str; 3] = [
    "recusal_required_types",
    "management_allowed_types",
    "disclosure_only_types",
];

/// Finds the overlaps a write introduces: a type that a changed list contains and that
/// another list (after the write) contains too. Overlaps between two untouched lists stay
/// allowed. Returns one `TYPE (field_a, field_b)` entry per type, sorted by type.
pub fn introduced_overlaps(
    stored: &[Vec<String>; 3],
    changed: &[Option<Vec<String>>; 3],
) -> Vec<String> {
    let after: Vec<&Vec<String>> = (0..3)
        .map(|index| changed[index].as_ref().unwrap_or(&stored[index]))
        .collect();
    let mut overlaps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for index in 0..3 {
        let Some(new_list) = &changed[index] else {
            continue;
        };
        if *new_list == stored[index] {
            continue;
        }
        for code in new_list {
            let holders: Vec<&str> = (0..3)
                .filter(|other| after[*other].contains(code))
                .map(|other| TYPE_LIST_FIELDS[other])
                .collect();
            if holders.len() > 1 {
                overlaps.insert(code.as_str(), holders);
            }
        }
    }
    overlaps
        .into_iter()
        .map(|(code, fields)| format!("{code} ({})", fields.join(", ")))
        .collect()
}

/// Inserts the call's row with the column defaults unless it exists. A racing insert of the
/// same row fails inside a savepoint and is ignored.
fn insert_default_row<F>(connection: &mut AnyConnection, insert: F) -> StoreResult<()>
where
    F: Fn(&mut AnyConnection) -> QueryResult<usize>,
{
    let outcome = connection.transaction(|connection| insert(connection));
    match outcome {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

fn find_assignment_row(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<Option<AssignmentConfig>> {
    Ok(call_assignment_configurations::table
        .filter(call_assignment_configurations::call_uuid.eq(DbUuid(call_uuid)))
        .first::<AssignmentConfig>(connection)
        .optional()?)
}

fn find_coi_row(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<Option<CoiConfig>> {
    Ok(call_coi_configurations::table
        .filter(call_coi_configurations::call_uuid.eq(DbUuid(call_uuid)))
        .first::<CoiConfig>(connection)
        .optional()?)
}

fn stored_assignment_config(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<AssignmentConfig> {
    if let Some(config) = find_assignment_row(connection, call_uuid)? {
        return Ok(config);
    }
    let at = DbTime::from(Utc::now());
    insert_default_row(connection, |connection| {
        diesel::insert_into(call_assignment_configurations::table)
            .values((
                call_assignment_configurations::uuid.eq(DbUuid(Uuid::now_v7())),
                call_assignment_configurations::call_uuid.eq(DbUuid(call_uuid)),
                call_assignment_configurations::created.eq(at),
                call_assignment_configurations::modified.eq(at),
            ))
            .execute(connection)
    })?;
    find_assignment_row(connection, call_uuid)?
        .ok_or_else(|| DomainError::not_found("assignment configuration").into())
}

fn stored_coi_config(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<CoiConfig> {
    if let Some(config) = find_coi_row(connection, call_uuid)? {
        return Ok(config);
    }
    let at = DbTime::from(Utc::now());
    insert_default_row(connection, |connection| {
        diesel::insert_into(call_coi_configurations::table)
            .values((
                call_coi_configurations::uuid.eq(DbUuid(Uuid::now_v7())),
                call_coi_configurations::call_uuid.eq(DbUuid(call_uuid)),
                call_coi_configurations::created.eq(at),
                call_coi_configurations::modified.eq(at),
            ))
            .execute(connection)
    })?;
    find_coi_row(connection, call_uuid)?
        .ok_or_else(|| DomainError::not_found("COI configuration").into())
}

fn stored_matching_config(
    connection: &mut AnyConnection,
    call_uuid: Uuid,
) -> StoreResult<MatchingConfig> {
    if let Some(config) = matching_config(connection, call_uuid)? {
        return Ok(config);
    }
    let at = DbTime::from(Utc::now());
    insert_default_row(connection, |connection| {
        diesel::insert_into(matching_configurations::table)
            .values((
                matching_configurations::uuid.eq(DbUuid(Uuid::now_v7())),
                matching_configurations::call_uuid.eq(DbUuid(call_uuid)),
                matching_configurations::created.eq(at),
                matching_configurations::modified.eq(at),
            ))
            .execute(connection)
    })?;
    matching_config(connection, call_uuid)?
        .ok_or_else(|| DomainError::not_found("matching configuration").into())
}

/// Loads a visible call that the actor reads (403 otherwise) or, with `manage`, manages.
fn call_for(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    manage: bool,
) -> StoreResult<Call> {
    let call = calls::find_visible_call(connection, actor, call_uuid)?;
    if manage {
        call.require_manager(actor)?;
    } else if !call.readable_by(actor) {
        return Err(DomainError::permission_denied(
            "Only staff, support, the call's managers and members of its organisation can read its configuration.",
        )
        .into());
    }
    Ok(call)
}

fn record_change(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    action: &'static str,
    after: serde_json::Value,
) -> StoreResult<()> {
    crate::audit::record(
        connection,
        crate::audit::AuditEntry {
            call_uuid: Some(call_uuid),
            object_type: "call",
            object_uuid: call_uuid,
            action,
            actor: Some(actor),
            reason: "",
            before: None,
            after: Some(after),
        },
    )
}

/// The call's assignment settings, created with the defaults on first access.
pub fn ensure_assignment_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<WithCall<AssignmentConfig>> {
    write_transaction(connection, |connection| {
        let call = call_for(connection, actor, call_uuid, false)?;
        let config = stored_assignment_config(connection, call_uuid)?;
        Ok(WithCall {
            config,
            call_name: call.name,
        })
    })
}

/// Changes the call's assignment settings (managers). The row is locked first, and the
/// reminder must come before the deadline after the change.
pub fn update_assignment_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    changes: &AssignmentConfigChanges,
) -> StoreResult<WithCall<AssignmentConfig>> {
    write_transaction(connection, |connection| {
        let call = call_for(connection, actor, call_uuid, true)?;
        stored_assignment_config(connection, call_uuid)?;
        lock_assignment_row(connection, call_uuid)?;
        let stored = stored_assignment_config(connection, call_uuid)?;

        let expiration = changes
            .assignment_expiration_days
            .unwrap_or(stored.assignment_expiration_days);
        let reminder = changes
            .send_reminder_before_expiry_days
            .unwrap_or(stored.send_reminder_before_expiry_days);
        if reminder >= expiration {
            return Err(DomainError::field(
                "send_reminder_before_expiry_days",
                format!(
                    "The reminder ({reminder} days before the deadline) must come before the deadline itself ({expiration} days). Send a smaller value."
                ),
            )
            .into());
        }
        let auto_reassign = changes
            .auto_reassign_on_decline
            .unwrap_or(stored.auto_reassign_on_decline);
        let attempts = changes
            .max_auto_reassign_attempts
            .unwrap_or(stored.max_auto_reassign_attempts);
        diesel::update(
            call_assignment_configurations::table
                .filter(call_assignment_configurations::call_uuid.eq(DbUuid(call_uuid))),
        )
        .set((
            call_assignment_configurations::auto_reassign_on_decline.eq(auto_reassign),
            call_assignment_configurations::max_auto_reassign_attempts.eq(attempts),
            call_assignment_configurations::assignment_expiration_days.eq(expiration),
            call_assignment_configurations::send_reminder_before_expiry_days.eq(reminder),
            call_assignment_configurations::modified.eq(DbTime::from(Utc::now())),
        ))
        .execute(connection)?;
        record_change(
            connection,
            actor,
            call_uuid,
            "assignment_configuration.updated",
            json!({
                "auto_reassign_on_decline": auto_reassign,
                "max_auto_reassign_attempts": attempts,
                "assignment_expiration_days": expiration,
                "send_reminder_before_expiry_days": reminder,
            }),
        )?;
        let config = stored_assignment_config(connection, call_uuid)?;
        Ok(WithCall {
            config,
            call_name: call.name,
        })
    })
}

/// Takes the row lock of the call's assignment configuration on PostgreSQL (a no-op update);
/// on SQLite the write transaction already holds the database's write lock.
fn lock_assignment_row(connection: &mut AnyConnection, call_uuid: Uuid) -> StoreResult<()> {
    diesel::update(
        call_assignment_configurations::table
            .filter(call_assignment_configurations::call_uuid.eq(DbUuid(call_uuid))),
    )
    .set(call_assignment_configurations::modified.eq(call_assignment_configurations::modified))
    .execute(connection)?;
    Ok(())
}

/// Assignment configuration rows the actor may see: staff and support see all; others see
/// those of calls they read.
fn visible_assignment_configs(
    actor: &Actor,
) -> call_assignment_configurations::BoxedQuery<'static, MultiBackend> {
    let query = call_assignment_configurations::table.into_boxed();
    if actor.reads_everything() {
        return query;
    }
    let call_uuids: Vec<DbUuid> = actor.call_uuids().into_iter().map(DbUuid).collect();
    let customer_uuids: Vec<DbUuid> = actor.customer_uuids().into_iter().map(DbUuid).collect();
    query.filter(
        call_assignment_configurations::call_uuid.eq_any(
            calls_table::table
                .filter(
                    calls_table::uuid
                        .eq_any(call_uuids)
                        .or(calls_table::customer_uuid.eq_any(customer_uuids)),
                )
                .select(calls_table::uuid),
        ),
    )
}

fn with_call_names(
    connection: &mut AnyConnection,
    configs: Vec<AssignmentConfig>,
) -> StoreResult<Vec<WithCall<AssignmentConfig>>> {
    let keys: Vec<DbUuid> = configs
        .iter()
        .map(|config| DbUuid(config.call_uuid))
        .collect();
    let names: std::collections::HashMap<Uuid, String> = calls_table::table
        .filter(calls_table::uuid.eq_any(keys))
        .select((calls_table::uuid, calls_table::name))
        .load::<(DbUuid, String)>(connection)?
        .into_iter()
        .map(|(uuid, name)| (uuid.0, name))
        .collect();
    Ok(configs
        .into_iter()
        .map(|config| WithCall {
            call_name: names.get(&config.call_uuid).cloned().unwrap_or_default(),
            config,
        })
        .collect())
}

/// Lists the assignment configuration rows visible to the actor, newest first.
pub fn list_assignment_configs(
    connection: &mut AnyConnection,
    actor: &Actor,
    page: PageRequest,
) -> StoreResult<Page<WithCall<AssignmentConfig>>> {
    let total = visible_assignment_configs(actor)
        .count()
        .get_result::<i64>(connection)?;
    let rows = visible_assignment_configs(actor)
        .order((
            call_assignment_configurations::created.desc(),
            call_assignment_configurations::uuid.asc(),
        ))
        .offset(page.offset())
        .limit(page.page_size)
        .load::<AssignmentConfig>(connection)?;
    Ok(Page {
        rows: with_call_names(connection, rows)?,
        total,
    })
}

/// Finds an assignment configuration row visible to the actor; others are not found.
pub fn find_visible_assignment_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<WithCall<AssignmentConfig>> {
    let config = visible_assignment_configs(actor)
        .filter(call_assignment_configurations::uuid.eq(DbUuid(uuid)))
        .first::<AssignmentConfig>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("assignment configuration"))?;
    Ok(with_call_names(connection, vec![config])?.remove(0))
}

/// Changes an assignment configuration found by its own UUID (managers of its call).
pub fn update_assignment_config_by_uuid(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
    changes: &AssignmentConfigChanges,
) -> StoreResult<WithCall<AssignmentConfig>> {
    let found = find_visible_assignment_config(connection, actor, uuid)?;
    update_assignment_config(connection, actor, found.config.call_uuid, changes)
}

/// Deletes an assignment configuration (managers of its call); the call then uses the defaults.
pub fn delete_assignment_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<()> {
    write_transaction(connection, |connection| {
        let found = find_visible_assignment_config(connection, actor, uuid)?;
        call_for(connection, actor, found.config.call_uuid, true)?;
        diesel::delete(
            call_assignment_configurations::table
                .filter(call_assignment_configurations::uuid.eq(DbUuid(uuid))),
        )
        .execute(connection)?;
        record_change(
            connection,
            actor,
            found.config.call_uuid,
            "assignment_configuration.deleted",
            json!({}),
        )?;
        Ok(())
    })
}

/// The call's conflict-of-interest settings, created with the defaults on first access.
pub fn ensure_coi_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<WithCall<CoiConfig>> {
    write_transaction(connection, |connection| {
        let call = call_for(connection, actor, call_uuid, false)?;
        let config = stored_coi_config(connection, call_uuid)?;
        Ok(WithCall {
            config,
            call_name: call.name,
        })
    })
}

fn codes(types: &[CoiType]) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for kind in types {
        let code = kind.as_str().to_owned();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// Changes the call's conflict-of-interest settings (managers). The row is locked before it
/// is read, so two concurrent writes cannot each add the same type to a different list.
pub fn update_coi_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    changes: &CoiConfigChanges,
) -> StoreResult<WithCall<CoiConfig>> {
    write_transaction(connection, |connection| {
        let call = call_for(connection, actor, call_uuid, true)?;
        stored_coi_config(connection, call_uuid)?;
        diesel::update(
            call_coi_configurations::table
                .filter(call_coi_configurations::call_uuid.eq(DbUuid(call_uuid))),
        )
        .set(call_coi_configurations::modified.eq(call_coi_configurations::modified))
        .execute(connection)?;
        let stored = stored_coi_config(connection, call_uuid)?;

        let changed_lists = [
            changes.recusal_required_types.as_deref().map(codes),
            changes.management_allowed_types.as_deref().map(codes),
            changes.disclosure_only_types.as_deref().map(codes),
        ];
        let stored_lists = stored.type_lists();
        let overlaps = introduced_overlaps(&stored_lists, &changed_lists);
        if !overlaps.is_empty() {
            let mut errors = FieldErrors::new();
            errors.add(
                "non_field_errors",
                format!(
                    "Each conflict type may only be assigned to one rule. Remove it from all but one of these: {}.",
                    overlaps.join("; ")
                ),
            );
            return Err(DomainError::Validation(errors).into());
        }
        let [recusal, management, disclosure] = [0, 1, 2].map(|index| {
            let list = changed_lists[index]
                .clone()
                .unwrap_or_else(|| stored_lists[index].clone());
            serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
        });

        diesel::update(
            call_coi_configurations::table
                .filter(call_coi_configurations::call_uuid.eq(DbUuid(call_uuid))),
        )
        .set((
            call_coi_configurations::coauthorship_lookback_years.eq(changes
                .coauthorship_lookback_years
                .unwrap_or(stored.coauthorship_lookback_years)),
            call_coi_configurations::coauthorship_threshold_papers.eq(changes
                .coauthorship_threshold_papers
                .unwrap_or(stored.coauthorship_threshold_papers)),
            call_coi_configurations::institutional_lookback_years.eq(changes
                .institutional_lookback_years
                .unwrap_or(stored.institutional_lookback_years)),
            call_coi_configurations::include_same_department.eq(changes
                .include_same_department
                .unwrap_or(stored.include_same_department)),
            call_coi_configurations::include_same_institution.eq(changes
                .include_same_institution
                .unwrap_or(stored.include_same_institution)),
            call_coi_configurations::recusal_required_types.eq(&recusal),
            call_coi_configurations::management_allowed_types.eq(&management),
            call_coi_configurations::disclosure_only_types.eq(&disclosure),
            call_coi_configurations::auto_detect_coauthorship.eq(changes
                .auto_detect_coauthorship
                .unwrap_or(stored.auto_detect_coauthorship)),
            call_coi_configurations::auto_detect_institutional.eq(changes
                .auto_detect_institutional
                .unwrap_or(stored.auto_detect_institutional)),
            call_coi_configurations::auto_detect_named_personnel.eq(changes
                .auto_detect_named_personnel
                .unwrap_or(stored.auto_detect_named_personnel)),
            call_coi_configurations::invitation_proposal_disclosure.eq(changes
                .invitation_proposal_disclosure
                .unwrap_or(stored.invitation_proposal_disclosure)
                .as_str()),
            call_coi_configurations::modified.eq(DbTime::from(Utc::now())),
        ))
        .execute(connection)?;
        let config = stored_coi_config(connection, call_uuid)?;
        record_change(
            connection,
            actor,
            call_uuid,
            "coi_configuration.updated",
            json!({
                "recusal_required_types": config.type_lists()[0],
                "management_allowed_types": config.type_lists()[1],
                "disclosure_only_types": config.type_lists()[2],
            }),
        )?;
        Ok(WithCall {
            config,
            call_name: call.name,
        })
    })
}

/// The call's matching settings, created with the defaults on first access.
pub fn ensure_matching_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
) -> StoreResult<WithCall<MatchingConfig>> {
    write_transaction(connection, |connection| {
        let call = call_for(connection, actor, call_uuid, false)?;
        let config = stored_matching_config(connection, call_uuid)?;
        Ok(WithCall {
            config,
            call_name: call.name,
        })
    })
}

/// Changes the call's matching settings (managers). After the change the two weights must sum
/// to 1 and each minimum must not exceed its maximum.
pub fn update_matching_config(
    connection: &mut AnyConnection,
    actor: &Actor,
    call_uuid: Uuid,
    changes: &MatchingConfigChanges,
) -> StoreResult<WithCall<MatchingConfig>> {
    write_transaction(connection, |connection| {
        let call = call_for(connection, actor, call_uuid, true)?;
        stored_matching_config(connection, call_uuid)?;
        diesel::update(
            matching_configurations::table
                .filter(matching_configurations::call_uuid.eq(DbUuid(call_uuid))),
        )
        .set(matching_configurations::modified.eq(matching_configurations::modified))
        .execute(connection)?;
        let stored = stored_matching_config(connection, call_uuid)?;

        let keyword_weight = changes.keyword_weight.unwrap_or(stored.keyword_weight);
        let text_weight = changes.text_weight.unwrap_or(stored.text_weight);
        let min_reviewers = changes
            .min_reviewers_per_proposal
            .unwrap_or(stored.min_reviewers_per_proposal);
        let max_reviewers = changes
            .max_reviewers_per_proposal
            .unwrap_or(stored.max_reviewers_per_proposal);
        let min_proposals = changes
            .min_proposals_per_reviewer
            .unwrap_or(stored.min_proposals_per_reviewer);
        let max_proposals = changes
            .max_proposals_per_reviewer
            .unwrap_or(stored.max_proposals_per_reviewer);

        let mut errors = FieldErrors::new();
        if ((keyword_weight + text_weight) - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
            errors.add(
                "non_field_errors",
                format!(
                    "keyword_weight ({keyword_weight}) and text_weight ({text_weight}) must sum to 1.0. Adjust one of them."
                ),
            );
        }
        if min_reviewers > max_reviewers {
            errors.add(
                "max_reviewers_per_proposal",
                format!(
                    "max_reviewers_per_proposal ({max_reviewers}) is below min_reviewers_per_proposal ({min_reviewers}). Raise the maximum or lower the minimum."
                ),
            );
        }
        if min_proposals > max_proposals {
            errors.add(
                "max_proposals_per_reviewer",
                format!(
                    "max_proposals_per_reviewer ({max_proposals}) is below min_proposals_per_reviewer ({min_proposals}). Raise the maximum or lower the minimum."
                ),
            );
        }
        errors.into_result()?;

        diesel::update(
            matching_configurations::table
                .filter(matching_configurations::call_uuid.eq(DbUuid(call_uuid))),
        )
        .set((
            matching_configurations::affinity_method.eq(changes
                .affinity_method
                .unwrap_or(stored.affinity_method)
                .as_str()),
            matching_configurations::keyword_weight.eq(keyword_weight),
            matching_configurations::text_weight.eq(text_weight),
            matching_configurations::min_reviewers_per_proposal.eq(min_reviewers),
            matching_configurations::max_reviewers_per_proposal.eq(max_reviewers),
            matching_configurations::min_proposals_per_reviewer.eq(min_proposals),
            matching_configurations::max_proposals_per_reviewer.eq(max_proposals),
            matching_configurations::algorithm
                .eq(changes.algorithm.unwrap_or(stored.algorithm).as_str()),
            matching_configurations::min_affinity_threshold.eq(changes
                .min_affinity_threshold
                .unwrap_or(stored.min_affinity_threshold)),
            matching_configurations::use_reviewer_bids.eq(changes
                .use_reviewer_bids
                .unwrap_or(stored.use_reviewer_bids)),
            matching_configurations::bid_weight.eq(changes.bid_weight.unwrap_or(stored.bid_weight)),
            matching_configurations::modified.eq(DbTime::from(Utc::now())),
        ))
        .execute(connection)?;
        record_change(
            connection,
            actor,
            call_uuid,
            "matching_configuration.updated",
            json!({"keyword_weight": keyword_weight, "text_weight": text_weight}),
        )?;
        let config = stored_matching_config(connection, call_uuid)?;
        Ok(WithCall {
            config,
            call_name: call.name,
        })
    })
}

#[cfg(test)]
mod overlap_tests {
    use super::*;

    fn lists(values: [&[&str]; 3]) -> [Vec<String>; 3] {
        values.map(|list| list.iter().map(|code| (*code).to_owned()).collect())
    }

    #[test]
    fn change_that_adds_a_type_to_a_second_list_is_an_overlap() {
        let stored = lists([&["INST_SAME"], &[], &[]]);
        let changed = [None, Some(vec!["INST_SAME".to_owned()]), None];
        assert_eq!(
            introduced_overlaps(&stored, &changed),
            vec!["INST_SAME (recusal_required_types, management_allowed_types)"]
        );
    }

    #[test]
    fn overlap_between_untouched_lists_is_tolerated() {
        let stored = lists([&["COMPET"], &["COMPET"], &[]]);
        let changed = [None, None, Some(vec!["SOC_MEMBER".to_owned()])];
        assert!(introduced_overlaps(&stored, &changed).is_empty());
    }

    #[test]
    fn resending_an_unchanged_list_is_not_a_change() {
        let stored = lists([&["COMPET"], &["COMPET"], &[]]);
        let changed = [Some(vec!["COMPET".to_owned()]), None, None];
        assert!(introduced_overlaps(&stored, &changed).is_empty());
    }
}
