//! Conflicts of interest: `/api/conflicts-of-interest/` and the call views
//! `/api/proposal-protected-calls/{uuid}/conflicts/` and `…/conflict-summary/`.
//!
//! A `status` in a PUT or PATCH body is applied as the matching action would apply it
//! (reviewer stamp, blocking or unblocking items, rejecting reviews); `pending` cannot be
//! set again once a conflict was decided.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::FieldErrors;
use referee_domain::enums::{CoiSeverity, CoiStatus, CoiType, DetectionMethod};
use referee_store::conflicts::{
    self, ConflictChanges, ConflictFilter, ConflictOrder, ConflictView, Decision, NewConflict,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::common::{check, list_page};
use crate::error::BadRequestBody;
use crate::error::{ApiError, ApiResult, DetailBody};
use crate::extract::{Auth, JsonBody, Params};
use crate::links::{ArrayResponse, ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, Reference, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_conflicts, count_conflicts, create_conflict))
        .routes(routes!(
            retrieve_conflict,
            update_conflict,
            partial_update_conflict
        ))
        .routes(routes!(dismiss_conflict))
        .routes(routes!(waive_conflict))
        .routes(routes!(recuse_conflict))
        .routes(routes!(list_call_conflicts))
        .routes(routes!(call_conflict_summary))
}

/// A conflict of interest between a reviewer and a proposal, or a whole call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictOut {
    pub url: String,
    pub uuid: HexUuid,
    /// Hyperlink of the reviewer profile.
    pub reviewer: String,
    pub reviewer_uuid: HexUuid,
    pub reviewer_name: Option<String>,
    /// Null for a conflict with the whole call; so are the other proposal and round keys.
    pub proposal: Option<String>,
    pub proposal_uuid: Option<HexUuid>,
    pub proposal_name: Option<String>,
    pub round_uuid: Option<HexUuid>,
    pub round_name: Option<String>,
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    pub conflicting_user: Option<String>,
    pub conflicting_user_name: Option<String>,
    pub conflicting_organization: Option<String>,
    pub conflicting_organization_name: Option<String>,
    pub coi_type: CoiType,
    pub coi_type_display: String,
    pub severity: CoiSeverity,
    pub severity_display: String,
    pub detection_method: DetectionMethod,
    pub detected_at: WireTime,
    pub evidence_description: String,
    #[schema(value_type = Object)]
    pub evidence_data: Value,
    pub status: CoiStatus,
    pub status_display: String,
    pub reviewed_by: Option<String>,
    pub reviewed_by_name: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reviewed_at: Option<WireTime>,
    pub review_notes: String,
    pub management_plan: String,
    pub created: WireTime,
}

impl ConflictOut {
    pub fn new(view: ConflictView, url: &RequestUrl) -> Self {
        let conflict = view.conflict;
        Self {
            url: url.resource("conflicts-of-interest", conflict.uuid),
            uuid: conflict.uuid.into(),
            reviewer: url.resource("reviewer-profiles", conflict.reviewer_uuid),
            reviewer_uuid: conflict.reviewer_uuid.into(),
            reviewer_name: view.reviewer_name,
            proposal: conflict
                .proposal_uuid
                .map(|uuid| url.resource("proposal-proposals", uuid)),
            proposal_uuid: conflict.proposal_uuid.map(HexUuid),
            proposal_name: view.proposal_name,
            round_uuid: view.round_uuid.map(HexUuid),
            round_name: view.round_name,
            call: url.resource("proposal-protected-calls", conflict.call_uuid),
            call_uuid: conflict.call_uuid.into(),
            call_name: view.call_name,
            conflicting_user: conflict
                .conflicting_user_uuid
                .map(|uuid| url.resource("users", uuid)),
            conflicting_user_name: view.conflicting_user_name,
            conflicting_organization: conflict
                .conflicting_organization_uuid
                .map(|uuid| url.resource("customers", uuid)),
            conflicting_organization_name: view.conflicting_organization_name,
            coi_type: conflict.coi_type,
            coi_type_display: conflict.coi_type.display().to_owned(),
            severity: conflict.severity,
            severity_display: conflict.severity.display().to_owned(),
            detection_method: conflict.detection_method,
            detected_at: conflict.detected_at.into(),
            evidence_description: conflict.evidence_description,
            evidence_data: serde_json::from_str(&conflict.evidence_data)
                .unwrap_or_else(|_| Value::Object(Default::default())),
            status: conflict.status,
            status_display: conflict.status.display().to_owned(),
            reviewed_by: conflict
                .reviewed_by_uuid
                .map(|uuid| url.resource("users", uuid)),
            reviewed_by_name: view.reviewed_by_name,
            reviewed_at: conflict.reviewed_at.map(WireTime),
            review_notes: conflict.review_notes,
            management_plan: conflict.management_plan,
            created: conflict.created.into(),
        }
    }
}

/// A conflict a manager records; its detection method is `manager_identified`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConflictRequest {
    /// The reviewer profile (UUID or hyperlink); it must be in the call's pool.
    pub reviewer: Reference,
    /// The call; may be left out when `proposal` is given.
    pub call: Option<Reference>,
    /// A proposal of the call; leave it out for a conflict with the whole call.
    pub proposal: Option<Reference>,
    pub coi_type: CoiType,
    /// Defaults to the severity of the type.
    pub severity: Option<CoiSeverity>,
    pub evidence_description: String,
    /// A JSON object; defaults to `{}`.
    #[schema(value_type = Option<Object>)]
    pub evidence_data: Option<Value>,
    pub conflicting_user: Option<Reference>,
    pub conflicting_organization: Option<Reference>,
}

/// Body of a PUT or PATCH of a conflict.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ConflictPatch {
    pub review_notes: Option<String>,
    pub management_plan: Option<String>,
    /// Applied with the side effects of the matching action; `pending` cannot be set again.
    pub status: Option<CoiStatus>,
}

/// Body of dismiss, waive and recuse. The action, not `status`, decides the new status.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecisionRequest {
    /// `dismissed`, `waived` or `recused`; required and validated.
    pub status: CoiStatus,
    pub review_notes: Option<String>,
    /// Required and non-empty for the waive action and whenever `status` is `waived`; when
    /// left out elsewhere, the stored plan stays.
    pub management_plan: Option<String>,
}

/// Counts of a call's conflicts; each map holds only keys with a count above zero.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictSummaryOut {
    pub total: i64,
    pub by_status: BTreeMap<String, i64>,
    pub by_severity: BTreeMap<String, i64>,
    pub by_type: BTreeMap<String, i64>,
}

const ORDERING: &[(&str, ConflictOrder)] = &[
    ("detected_at", ConflictOrder::DetectedAt),
    ("severity", ConflictOrder::Severity),
    ("status", ConflictOrder::Status),
    ("created", ConflictOrder::Created),
];

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

fn single_choice<E: referee_domain::enums::WireEnum>(
    params: &Params,
    key: &str,
    errors: &mut FieldErrors,
) -> Option<E> {
    params.choices::<E>(key, errors).pop()
}

/// List conflicts of interest visible to the caller.
#[utoipa::path(
    get,
    path = "/api/conflicts-of-interest/",
    tag = "conflicts-of-interest",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("proposal_uuid" = Option<String>, Query, description = "Proposal UUID"),
        ("round_uuid" = Option<String>, Query, description = "Round UUID"),
        ("reviewer_uuid" = Option<String>, Query, description = "Reviewer profile UUID"),
        ("reviewer_name" = Option<String>, Query, description = "Case-insensitive substring of the reviewer's full name"),
        ("coi_type" = Option<Vec<CoiType>>, Query, description = "Repeat for several types"),
        ("severity" = Option<CoiSeverity>, Query, description = "One severity"),
        ("status" = Option<Vec<CoiStatus>>, Query, description = "Repeat for several statuses"),
        ("detection_method" = Option<Vec<DetectionMethod>>, Query, description = "Repeat for several methods"),
        ("o" = Option<String>, Query, description = "Ordering: detected_at, severity, status, created; prefix - for descending; default -detected_at"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of conflicts", body = Vec<ConflictOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_conflicts(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ConflictOut>> {
    let mut errors = FieldErrors::new();
    let filter = ConflictFilter {
        call_uuid: params.uuid("call_uuid", &mut errors),
        proposal_uuid: params.uuid("proposal_uuid", &mut errors),
        round_uuid: params.uuid("round_uuid", &mut errors),
        reviewer_uuid: params.uuid("reviewer_uuid", &mut errors),
        reviewer_name: params.text("reviewer_name"),
        coi_types: params.choices("coi_type", &mut errors),
        severity: single_choice(&params, "severity", &mut errors),
        statuses: params.choices("status", &mut errors),
        detection_methods: params.choices("detection_method", &mut errors),
    };
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        conflicts::list_conflicts(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(ConflictOut::new))
}

/// Count conflicts of interest visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/conflicts-of-interest/",
    tag = "conflicts-of-interest",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("status" = Option<Vec<CoiStatus>>, Query, description = "Repeat for several statuses"),
    ),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_conflicts(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ConflictOut>> {
    list_conflicts(state, auth, params, url).await
}

/// Record a conflict of interest identified by a manager of the call.
#[utoipa::path(
    post,
    path = "/api/conflicts-of-interest/",
    tag = "conflicts-of-interest",
    request_body = ConflictRequest,
    responses(
        (status = 201, description = "Recorded with status pending", body = ConflictOut),
        (status = 400, description = "Invalid field, unknown reference, or reviewer not in the pool", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
    )
)]
pub async fn create_conflict(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<ConflictRequest>,
) -> ApiResult<(StatusCode, Json<ConflictOut>)> {
    let mut errors = FieldErrors::new();
    if body.evidence_description.trim().is_empty() {
        errors.add(
            "evidence_description",
            "This field may not be blank. Describe the evidence for the conflict.",
        );
    }
    let evidence_data = body
        .evidence_data
        .unwrap_or_else(|| Value::Object(Default::default()));
    if !evidence_data.is_object() {
        errors.add(
            "evidence_data",
            format!("Expected a JSON object but got {evidence_data}."),
        );
    }
    check(errors)?;

    let new = NewConflict {
        reviewer_uuid: body.reviewer.0,
        call_uuid: body.call.map(|call| call.0),
        proposal_uuid: body.proposal.map(|proposal| proposal.0),
        coi_type: body.coi_type,
        severity: body.severity,
        evidence_description: body.evidence_description.trim().to_owned(),
        evidence_data,
        conflicting_user_uuid: body.conflicting_user.map(|user| user.0),
        conflicting_organization_uuid: body.conflicting_organization.map(|org| org.0),
    };
    let view = state
        .run(move |connection| conflicts::create_conflict(connection, &actor, &new))
        .await?;
    Ok((StatusCode::CREATED, Json(ConflictOut::new(view, &url))))
}

/// Retrieve a conflict of interest.
#[utoipa::path(
    get,
    path = "/api/conflicts-of-interest/{uuid}/",
    tag = "conflicts-of-interest",
    params(("uuid" = String, Path, description = "Conflict UUID")),
    responses(
        (status = 200, description = "The conflict", body = ConflictOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_conflict(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ConflictOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| conflicts::find_visible_conflict_view(connection, &actor, uuid))
        .await?;
    Ok(Json(ConflictOut::new(view, &url)))
}

async fn apply_changes(
    state: AppState,
    actor: referee_domain::Actor,
    uuid: &str,
    changes: ConflictChanges,
    url: RequestUrl,
) -> ApiResult<Json<ConflictOut>> {
    let uuid = path_uuid(uuid)?;
    let view = state
        .run(move |connection| conflicts::update_conflict(connection, &actor, uuid, &changes))
        .await?;
    Ok(Json(ConflictOut::new(view, &url)))
}

/// Replace the notes and management plan of a conflict (managers); absent fields become empty.
#[utoipa::path(
    put,
    path = "/api/conflicts-of-interest/{uuid}/",
    tag = "conflicts-of-interest",
    params(("uuid" = String, Path, description = "Conflict UUID")),
    request_body = ConflictPatch,
    responses(
        (status = 200, description = "Updated", body = ConflictOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_conflict(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ConflictPatch>,
) -> ApiResult<Json<ConflictOut>> {
    let changes = ConflictChanges {
        review_notes: Some(body.review_notes.unwrap_or_default()),
        management_plan: Some(body.management_plan.unwrap_or_default()),
        status: body.status,
    };
    apply_changes(state, actor, &uuid, changes, url).await
}

/// Change the notes, management plan or status of a conflict (managers).
#[utoipa::path(
    patch,
    path = "/api/conflicts-of-interest/{uuid}/",
    tag = "conflicts-of-interest",
    params(("uuid" = String, Path, description = "Conflict UUID")),
    request_body = ConflictPatch,
    responses(
        (status = 200, description = "Updated", body = ConflictOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_conflict(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ConflictPatch>,
) -> ApiResult<Json<ConflictOut>> {
    let changes = ConflictChanges {
        review_notes: body.review_notes,
        management_plan: body.management_plan,
        status: body.status,
    };
    apply_changes(state, actor, &uuid, changes, url).await
}

async fn decide(
    state: AppState,
    actor: referee_domain::Actor,
    uuid: &str,
    status: CoiStatus,
    body: DecisionRequest,
    url: RequestUrl,
) -> ApiResult<Json<ConflictOut>> {
    let uuid = path_uuid(uuid)?;
    let mut errors = FieldErrors::new();
    if body.status == CoiStatus::Pending {
        errors.add(
            "status",
            "\"pending\" is not a valid choice; expected one of: dismissed, waived, recused.",
        );
    }
    if (status == CoiStatus::Waived || body.status == CoiStatus::Waived)
        && body
            .management_plan
            .as_deref()
            .is_none_or(|plan| plan.trim().is_empty())
    {
        errors.add(
            "management_plan",
            "Management plan is required when waiving a conflict. Describe how the conflict is managed.",
        );
    }
    check(errors)?;

    let decision = Decision {
        status,
        review_notes: body.review_notes.unwrap_or_default(),
        management_plan: body.management_plan,
    };
    let view = state
        .run(move |connection| conflicts::decide_conflict(connection, &actor, uuid, &decision))
        .await?;
    Ok(Json(ConflictOut::new(view, &url)))
}

/// Dismiss a conflict as not a conflict (managers); blocked items return to pending unless
/// another linked conflict still blocks them.
#[utoipa::path(
    post,
    path = "/api/conflicts-of-interest/{uuid}/dismiss/",
    tag = "conflicts-of-interest",
    params(("uuid" = String, Path, description = "Conflict UUID")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The dismissed conflict", body = ConflictOut),
        (status = 400, description = "Invalid field, or the conflict changed meanwhile", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn dismiss_conflict(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<DecisionRequest>,
) -> ApiResult<Json<ConflictOut>> {
    decide(state, actor, &uuid, CoiStatus::Dismissed, body, url).await
}

/// Waive a conflict with a management plan (managers); blocked items return to pending
/// unless another linked conflict still blocks them.
#[utoipa::path(
    post,
    path = "/api/conflicts-of-interest/{uuid}/waive/",
    tag = "conflicts-of-interest",
    params(("uuid" = String, Path, description = "Conflict UUID")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The waived conflict", body = ConflictOut),
        (status = 400, description = "Missing management plan or invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn waive_conflict(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<DecisionRequest>,
) -> ApiResult<Json<ConflictOut>> {
    decide(state, actor, &uuid, CoiStatus::Waived, body, url).await
}

/// Recuse the reviewer (managers): their pending and accepted items for the proposal become
/// blocked and the reviews are rejected.
#[utoipa::path(
    post,
    path = "/api/conflicts-of-interest/{uuid}/recuse/",
    tag = "conflicts-of-interest",
    params(("uuid" = String, Path, description = "Conflict UUID")),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The recused conflict", body = ConflictOut),
        (status = 400, description = "Invalid field, or the conflict changed meanwhile", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn recuse_conflict(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<DecisionRequest>,
) -> ApiResult<Json<ConflictOut>> {
    decide(state, actor, &uuid, CoiStatus::Recused, body, url).await
}

/// List every conflict of a call, most recently detected first (not paginated).
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/conflicts/",
    tag = "conflicts-of-interest",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("status" = Option<Vec<CoiStatus>>, Query, description = "Repeat for several statuses"),
        ("severity" = Option<CoiSeverity>, Query, description = "One severity"),
    ),
    responses(
        (status = 200, description = "The call's conflicts", body = Vec<ConflictOut>,
            headers(("x-result-count" = i64, description = "Number of conflicts"))),
        (status = 400, description = "Invalid filter", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the call's conflicts", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn list_call_conflicts(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ArrayResponse<ConflictOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    let statuses: Vec<CoiStatus> = params.choices("status", &mut errors);
    let severity = single_choice(&params, "severity", &mut errors);
    check(errors)?;
    let views = state
        .run(move |connection| {
            conflicts::list_call_conflicts(connection, &actor, call_uuid, &statuses, severity)
        })
        .await?;
    Ok(ArrayResponse(
        views
            .into_iter()
            .map(|view| ConflictOut::new(view, &url))
            .collect(),
    ))
}

/// Count a call's conflicts by status, severity and type.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/conflict-summary/",
    tag = "conflicts-of-interest",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "Counts", body = ConflictSummaryOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the call's conflicts", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn call_conflict_summary(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<Json<ConflictSummaryOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let summary = state
        .run(move |connection| conflicts::conflict_summary(connection, &actor, call_uuid))
        .await?;
    Ok(Json(ConflictSummaryOut {
        total: summary.total,
        by_status: summary.by_status,
        by_severity: summary.by_severity,
        by_type: summary.by_type,
    }))
}
