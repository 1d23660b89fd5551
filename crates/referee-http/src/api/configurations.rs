//! Per-call configurations: `coi-configuration/`, `matching-configuration/` and
//! `assignment-configuration/` under `/api/proposal-protected-calls/{uuid}/`, and the
//! assignment configuration rows at `/api/call-assignment-configurations/`.
//!
//! A call's row is created with the defaults the first time one of the call routes reads or
//! changes it; `/api/call-assignment-configurations/` lists only rows that exist.

use std::ops::RangeInclusive;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::FieldErrors;
use referee_domain::enums::{AffinityMethod, CoiType, DisclosureLevel, MatchingAlgorithm};
use referee_store::configs::{
    self, AssignmentConfig, AssignmentConfigChanges, CoiConfig, CoiConfigChanges, MatchingConfig,
    MatchingConfigChanges, WithCall,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::common::{check, list_page};
use crate::error::BadRequestBody;
use crate::error::{ApiError, ApiResult, DetailBody};
use crate::extract::{Auth, JsonBody, Params};
use crate::links::{ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            retrieve_coi_configuration,
            update_coi_configuration
        ))
        .routes(routes!(
            retrieve_matching_configuration,
            update_matching_configuration
        ))
        .routes(routes!(
            retrieve_call_assignment_configuration,
            update_call_assignment_configuration
        ))
        .routes(routes!(
            list_assignment_configurations,
            count_assignment_configurations
        ))
        .routes(routes!(
            retrieve_assignment_configuration,
            replace_assignment_configuration,
            partial_update_assignment_configuration,
            delete_assignment_configuration
        ))
}

const MAX_AUTO_REASSIGN_ATTEMPTS: RangeInclusive<i32> = 0..=10;
const ASSIGNMENT_EXPIRATION_DAYS: RangeInclusive<i32> = 1..=365;
const REMINDER_DAYS: RangeInclusive<i32> = 0..=30;

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

fn check_range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    value: Option<T>,
    range: RangeInclusive<T>,
    errors: &mut FieldErrors,
) {
    if let Some(value) = value
        && !range.contains(&value)
    {
        errors.add(
            field,
            format!(
                "{value} is out of range. Ensure this value is between {} and {}.",
                range.start(),
                range.end()
            ),
        );
    }
}

fn check_minimum<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    value: Option<T>,
    minimum: T,
    errors: &mut FieldErrors,
) {
    if let Some(value) = value
        && value < minimum
    {
        errors.add(
            field,
            format!(
                "{value} is too small. Ensure this value is greater than or equal to {minimum}."
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Conflict-of-interest configuration

/// How a call detects and discloses conflicts of interest.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoiConfigurationOut {
    pub uuid: HexUuid,
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    pub coauthorship_lookback_years: i32,
    pub coauthorship_threshold_papers: i32,
    pub institutional_lookback_years: i32,
    pub include_same_department: bool,
    pub include_same_institution: bool,
    pub recusal_required_types: Vec<String>,
    pub management_allowed_types: Vec<String>,
    pub disclosure_only_types: Vec<String>,
    pub auto_detect_coauthorship: bool,
    pub auto_detect_institutional: bool,
    pub auto_detect_named_personnel: bool,
    pub invitation_proposal_disclosure: DisclosureLevel,
    pub created: WireTime,
    pub modified: WireTime,
}

impl CoiConfigurationOut {
    fn new(found: WithCall<CoiConfig>, url: &RequestUrl) -> Self {
        let config = found.config;
        let [recusal, management, disclosure] = config.type_lists();
        Self {
            uuid: config.uuid.into(),
            call: url.resource("proposal-protected-calls", config.call_uuid),
            call_uuid: config.call_uuid.into(),
            call_name: found.call_name,
            coauthorship_lookback_years: config.coauthorship_lookback_years,
            coauthorship_threshold_papers: config.coauthorship_threshold_papers,
            institutional_lookback_years: config.institutional_lookback_years,
            include_same_department: config.include_same_department,
            include_same_institution: config.include_same_institution,
            recusal_required_types: recusal,
            management_allowed_types: management,
            disclosure_only_types: disclosure,
            auto_detect_coauthorship: config.auto_detect_coauthorship,
            auto_detect_institutional: config.auto_detect_institutional,
            auto_detect_named_personnel: config.auto_detect_named_personnel,
            invitation_proposal_disclosure: config.invitation_proposal_disclosure,
            created: config.created.into(),
            modified: config.modified.into(),
        }
    }
}

/// Changes to a call's conflict-of-interest configuration; absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CoiConfigurationPatch {
    /// Years of publications that count for co-authorship; 0 or more.
    pub coauthorship_lookback_years: Option<i32>,
    /// Shared papers that make a co-authorship conflict; 1 or more.
    pub coauthorship_threshold_papers: Option<i32>,
    /// Years after an affiliation ended during which it still counts; 0 or more.
    pub institutional_lookback_years: Option<i32>,
    pub include_same_department: Option<bool>,
    pub include_same_institution: Option<bool>,
    /// Conflict type codes; a type may appear in only one of the three lists.
    pub recusal_required_types: Option<Vec<String>>,
    pub management_allowed_types: Option<Vec<String>>,
    pub disclosure_only_types: Option<Vec<String>>,
    pub auto_detect_coauthorship: Option<bool>,
    pub auto_detect_institutional: Option<bool>,
    pub auto_detect_named_personnel: Option<bool>,
    pub invitation_proposal_disclosure: Option<DisclosureLevel>,
}

fn coi_types(
    field: &str,
    codes: Option<Vec<String>>,
    errors: &mut FieldErrors,
) -> Option<Vec<CoiType>> {
    let codes = codes?;
    let mut types = Vec::with_capacity(codes.len());
    for code in codes {
        match code.parse::<CoiType>() {
            Ok(kind) => types.push(kind),
            Err(unknown) => errors.add(field, unknown.to_string()),
        }
    }
    Some(types)
}

/// Read a call's conflict-of-interest configuration; created with defaults on first access.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/coi-configuration/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "The configuration", body = CoiConfigurationOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the call's configuration", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_coi_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<CoiConfigurationOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let found = state
        .run(move |connection| configs::ensure_coi_config(connection, &actor, call_uuid))
        .await?;
    Ok(Json(CoiConfigurationOut::new(found, &url)))
}

/// Change a call's conflict-of-interest configuration (managers).
#[utoipa::path(
    patch,
    path = "/api/proposal-protected-calls/{uuid}/coi-configuration/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = CoiConfigurationPatch,
    responses(
        (status = 200, description = "The updated configuration", body = CoiConfigurationOut),
        (status = 400, description = "Invalid field, unknown type code, or a type in two lists", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn update_coi_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<CoiConfigurationPatch>,
) -> ApiResult<Json<CoiConfigurationOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    check_minimum(
        "coauthorship_lookback_years",
        body.coauthorship_lookback_years,
        0,
        &mut errors,
    );
    check_minimum(
        "coauthorship_threshold_papers",
        body.coauthorship_threshold_papers,
        1,
        &mut errors,
    );
    check_minimum(
        "institutional_lookback_years",
        body.institutional_lookback_years,
        0,
        &mut errors,
    );
    let changes = CoiConfigChanges {
        coauthorship_lookback_years: body.coauthorship_lookback_years,
        coauthorship_threshold_papers: body.coauthorship_threshold_papers,
        institutional_lookback_years: body.institutional_lookback_years,
        include_same_department: body.include_same_department,
        include_same_institution: body.include_same_institution,
        recusal_required_types: coi_types(
            "recusal_required_types",
            body.recusal_required_types,
            &mut errors,
        ),
        management_allowed_types: coi_types(
            "management_allowed_types",
            body.management_allowed_types,
            &mut errors,
        ),
        disclosure_only_types: coi_types(
            "disclosure_only_types",
            body.disclosure_only_types,
            &mut errors,
        ),
        auto_detect_coauthorship: body.auto_detect_coauthorship,
        auto_detect_institutional: body.auto_detect_institutional,
        auto_detect_named_personnel: body.auto_detect_named_personnel,
        invitation_proposal_disclosure: body.invitation_proposal_disclosure,
    };
    check(errors)?;
    let found = state
        .run(move |connection| configs::update_coi_config(connection, &actor, call_uuid, &changes))
        .await?;
    Ok(Json(CoiConfigurationOut::new(found, &url)))
}

// ---------------------------------------------------------------------------------------------
// Matching configuration

/// How a call scores affinities and sizes assignments.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchingConfigurationOut {
    pub uuid: HexUuid,
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    pub affinity_method: AffinityMethod,
    pub keyword_weight: f64,
    pub text_weight: f64,
    pub min_reviewers_per_proposal: i32,
    pub max_reviewers_per_proposal: i32,
    pub min_proposals_per_reviewer: i32,
    pub max_proposals_per_reviewer: i32,
    pub algorithm: MatchingAlgorithm,
    pub min_affinity_threshold: f64,
    pub use_reviewer_bids: bool,
    pub bid_weight: f64,
    pub created: WireTime,
    pub modified: WireTime,
}

impl MatchingConfigurationOut {
    fn new(found: WithCall<MatchingConfig>, url: &RequestUrl) -> Self {
        let config = found.config;
        Self {
            uuid: config.uuid.into(),
            call: url.resource("proposal-protected-calls", config.call_uuid),
            call_uuid: config.call_uuid.into(),
            call_name: found.call_name,
            affinity_method: config.affinity_method,
            keyword_weight: config.keyword_weight,
            text_weight: config.text_weight,
            min_reviewers_per_proposal: config.min_reviewers_per_proposal,
            max_reviewers_per_proposal: config.max_reviewers_per_proposal,
            min_proposals_per_reviewer: config.min_proposals_per_reviewer,
            max_proposals_per_reviewer: config.max_proposals_per_reviewer,
            algorithm: config.algorithm,
            min_affinity_threshold: config.min_affinity_threshold,
            use_reviewer_bids: config.use_reviewer_bids,
            bid_weight: config.bid_weight,
            created: config.created.into(),
            modified: config.modified.into(),
        }
    }
}

/// Changes to a call's matching configuration; absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MatchingConfigurationPatch {
    pub affinity_method: Option<AffinityMethod>,
    /// 0 to 1; together with `text_weight` it must sum to 1.0 (within 0.001).
    pub keyword_weight: Option<f64>,
    pub text_weight: Option<f64>,
    /// 1 or more; not above the matching maximum.
    pub min_reviewers_per_proposal: Option<i32>,
    pub max_reviewers_per_proposal: Option<i32>,
    pub min_proposals_per_reviewer: Option<i32>,
    pub max_proposals_per_reviewer: Option<i32>,
    pub algorithm: Option<MatchingAlgorithm>,
    /// 0 to 1.
    pub min_affinity_threshold: Option<f64>,
    pub use_reviewer_bids: Option<bool>,
    /// 0 to 1.
    pub bid_weight: Option<f64>,
}

/// Read a call's matching configuration; created with defaults on first access.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/matching-configuration/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "The configuration", body = MatchingConfigurationOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the call's configuration", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_matching_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<MatchingConfigurationOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let found = state
        .run(move |connection| configs::ensure_matching_config(connection, &actor, call_uuid))
        .await?;
    Ok(Json(MatchingConfigurationOut::new(found, &url)))
}

/// Change a call's matching configuration (managers).
#[utoipa::path(
    patch,
    path = "/api/proposal-protected-calls/{uuid}/matching-configuration/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = MatchingConfigurationPatch,
    responses(
        (status = 200, description = "The updated configuration", body = MatchingConfigurationOut),
        (status = 400, description = "Invalid field, weights not summing to 1, or a minimum above its maximum", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn update_matching_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<MatchingConfigurationPatch>,
) -> ApiResult<Json<MatchingConfigurationOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    check_range(
        "keyword_weight",
        body.keyword_weight,
        0.0..=1.0,
        &mut errors,
    );
    check_range("text_weight", body.text_weight, 0.0..=1.0, &mut errors);
    check_range(
        "min_affinity_threshold",
        body.min_affinity_threshold,
        0.0..=1.0,
        &mut errors,
    );
    check_range("bid_weight", body.bid_weight, 0.0..=1.0, &mut errors);
    check_minimum(
        "min_reviewers_per_proposal",
        body.min_reviewers_per_proposal,
        1,
        &mut errors,
    );
    check_minimum(
        "max_reviewers_per_proposal",
        body.max_reviewers_per_proposal,
        1,
        &mut errors,
    );
    check_minimum(
        "min_proposals_per_reviewer",
        body.min_proposals_per_reviewer,
        1,
        &mut errors,
    );
    check_minimum(
        "max_proposals_per_reviewer",
        body.max_proposals_per_reviewer,
        1,
        &mut errors,
    );
    check(errors)?;
    let changes = MatchingConfigChanges {
        affinity_method: body.affinity_method,
        keyword_weight: body.keyword_weight,
        text_weight: body.text_weight,
        min_reviewers_per_proposal: body.min_reviewers_per_proposal,
        max_reviewers_per_proposal: body.max_reviewers_per_proposal,
        min_proposals_per_reviewer: body.min_proposals_per_reviewer,
        max_proposals_per_reviewer: body.max_proposals_per_reviewer,
        algorithm: body.algorithm,
        min_affinity_threshold: body.min_affinity_threshold,
        use_reviewer_bids: body.use_reviewer_bids,
        bid_weight: body.bid_weight,
    };
    let found = state
        .run(move |connection| {
            configs::update_matching_config(connection, &actor, call_uuid, &changes)
        })
        .await?;
    Ok(Json(MatchingConfigurationOut::new(found, &url)))
}

// ---------------------------------------------------------------------------------------------
// Assignment configuration

/// How a call's assignment batches expire and are reassigned.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentConfigurationOut {
    pub uuid: HexUuid,
    pub url: String,
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    pub auto_reassign_on_decline: bool,
    pub max_auto_reassign_attempts: i32,
    /// Days from sending a batch to its deadline.
    pub assignment_expiration_days: i32,
    /// Days before the deadline at which the reviewer is reminded.
    pub send_reminder_before_expiry_days: i32,
    pub created: WireTime,
    pub modified: WireTime,
}

impl AssignmentConfigurationOut {
    fn new(found: WithCall<AssignmentConfig>, url: &RequestUrl) -> Self {
        let config = found.config;
        Self {
            uuid: config.uuid.into(),
            url: url.resource("call-assignment-configurations", config.uuid),
            call: url.resource("proposal-protected-calls", config.call_uuid),
            call_uuid: config.call_uuid.into(),
            call_name: found.call_name,
            auto_reassign_on_decline: config.auto_reassign_on_decline,
            max_auto_reassign_attempts: config.max_auto_reassign_attempts,
            assignment_expiration_days: config.assignment_expiration_days,
            send_reminder_before_expiry_days: config.send_reminder_before_expiry_days,
            created: config.created.into(),
            modified: config.modified.into(),
        }
    }
}

/// Settings of a call's assignments. In a PATCH absent fields stay; in a PUT they return to
/// their defaults (false, 3, 7 and 2).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AssignmentConfigurationRequest {
    pub auto_reassign_on_decline: Option<bool>,
    /// 0 to 10.
    pub max_auto_reassign_attempts: Option<i32>,
    /// 1 to 365.
    pub assignment_expiration_days: Option<i32>,
    /// 0 to 30, and fewer than `assignment_expiration_days`.
    pub send_reminder_before_expiry_days: Option<i32>,
}

impl AssignmentConfigurationRequest {
    fn into_changes(self, replace: bool) -> ApiResult<AssignmentConfigChanges> {
        let mut errors = FieldErrors::new();
        check_range(
            "max_auto_reassign_attempts",
            self.max_auto_reassign_attempts,
            MAX_AUTO_REASSIGN_ATTEMPTS,
            &mut errors,
        );
        check_range(
            "assignment_expiration_days",
            self.assignment_expiration_days,
            ASSIGNMENT_EXPIRATION_DAYS,
            &mut errors,
        );
        check_range(
            "send_reminder_before_expiry_days",
            self.send_reminder_before_expiry_days,
            REMINDER_DAYS,
            &mut errors,
        );
        check(errors)?;
        if !replace {
            return Ok(AssignmentConfigChanges {
                auto_reassign_on_decline: self.auto_reassign_on_decline,
                max_auto_reassign_attempts: self.max_auto_reassign_attempts,
                assignment_expiration_days: self.assignment_expiration_days,
                send_reminder_before_expiry_days: self.send_reminder_before_expiry_days,
            });
        }
        let defaults = AssignmentConfig::defaults(uuid::Uuid::nil());
        Ok(AssignmentConfigChanges {
            auto_reassign_on_decline: Some(
                self.auto_reassign_on_decline
                    .unwrap_or(defaults.auto_reassign_on_decline),
            ),
            max_auto_reassign_attempts: Some(
                self.max_auto_reassign_attempts
                    .unwrap_or(defaults.max_auto_reassign_attempts),
            ),
            assignment_expiration_days: Some(
                self.assignment_expiration_days
                    .unwrap_or(defaults.assignment_expiration_days),
            ),
            send_reminder_before_expiry_days: Some(
                self.send_reminder_before_expiry_days
                    .unwrap_or(defaults.send_reminder_before_expiry_days),
            ),
        })
    }
}

/// Read a call's assignment configuration; created with defaults on first access.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/assignment-configuration/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "The configuration", body = AssignmentConfigurationOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the call's configuration", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_call_assignment_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<AssignmentConfigurationOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let found = state
        .run(move |connection| configs::ensure_assignment_config(connection, &actor, call_uuid))
        .await?;
    Ok(Json(AssignmentConfigurationOut::new(found, &url)))
}

/// Change a call's assignment configuration (managers).
#[utoipa::path(
    patch,
    path = "/api/proposal-protected-calls/{uuid}/assignment-configuration/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = AssignmentConfigurationRequest,
    responses(
        (status = 200, description = "The updated configuration", body = AssignmentConfigurationOut),
        (status = 400, description = "Value out of range, or a reminder not before the deadline", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn update_call_assignment_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<AssignmentConfigurationRequest>,
) -> ApiResult<Json<AssignmentConfigurationOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let changes = body.into_changes(false)?;
    let found = state
        .run(move |connection| {
            configs::update_assignment_config(connection, &actor, call_uuid, &changes)
        })
        .await?;
    Ok(Json(AssignmentConfigurationOut::new(found, &url)))
}

/// List the assignment configurations visible to the caller.
#[utoipa::path(
    get,
    path = "/api/call-assignment-configurations/",
    tag = "call-configurations",
    params(
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of configurations", body = Vec<AssignmentConfigurationOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_assignment_configurations(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<AssignmentConfigurationOut>> {
    let spec = params.page()?;
    let response = list_page(&state, spec, url, move |connection, page| {
        configs::list_assignment_configs(connection, &actor, page)
    })
    .await?;
    Ok(response.map(AssignmentConfigurationOut::new))
}

/// Count the assignment configurations visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/call-assignment-configurations/",
    tag = "call-configurations",
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_assignment_configurations(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<AssignmentConfigurationOut>> {
    list_assignment_configurations(state, auth, params, url).await
}

/// Retrieve an assignment configuration.
#[utoipa::path(
    get,
    path = "/api/call-assignment-configurations/{uuid}/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Configuration UUID")),
    responses(
        (status = 200, description = "The configuration", body = AssignmentConfigurationOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_assignment_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<AssignmentConfigurationOut>> {
    let uuid = path_uuid(&uuid)?;
    let found = state
        .run(move |connection| configs::find_visible_assignment_config(connection, &actor, uuid))
        .await?;
    Ok(Json(AssignmentConfigurationOut::new(found, &url)))
}

async fn change_by_uuid(
    state: AppState,
    actor: referee_domain::Actor,
    uuid: &str,
    body: AssignmentConfigurationRequest,
    replace: bool,
    url: RequestUrl,
) -> ApiResult<Json<AssignmentConfigurationOut>> {
    let uuid = path_uuid(uuid)?;
    let changes = body.into_changes(replace)?;
    let found = state
        .run(move |connection| {
            configs::update_assignment_config_by_uuid(connection, &actor, uuid, &changes)
        })
        .await?;
    Ok(Json(AssignmentConfigurationOut::new(found, &url)))
}

/// Replace an assignment configuration (managers); absent fields return to their defaults.
#[utoipa::path(
    put,
    path = "/api/call-assignment-configurations/{uuid}/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Configuration UUID")),
    request_body = AssignmentConfigurationRequest,
    responses(
        (status = 200, description = "Updated", body = AssignmentConfigurationOut),
        (status = 400, description = "Value out of range, or a reminder not before the deadline", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn replace_assignment_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<AssignmentConfigurationRequest>,
) -> ApiResult<Json<AssignmentConfigurationOut>> {
    change_by_uuid(state, actor, &uuid, body, true, url).await
}

/// Change some settings of an assignment configuration (managers).
#[utoipa::path(
    patch,
    path = "/api/call-assignment-configurations/{uuid}/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Configuration UUID")),
    request_body = AssignmentConfigurationRequest,
    responses(
        (status = 200, description = "Updated", body = AssignmentConfigurationOut),
        (status = 400, description = "Value out of range, or a reminder not before the deadline", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_assignment_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<AssignmentConfigurationRequest>,
) -> ApiResult<Json<AssignmentConfigurationOut>> {
    change_by_uuid(state, actor, &uuid, body, false, url).await
}

/// Delete an assignment configuration (managers); the call then uses the defaults.
#[utoipa::path(
    delete,
    path = "/api/call-assignment-configurations/{uuid}/",
    tag = "call-configurations",
    params(("uuid" = String, Path, description = "Configuration UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_assignment_configuration(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| configs::delete_assignment_config(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
