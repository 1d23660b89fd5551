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
