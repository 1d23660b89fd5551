//! The reviewer pool: invitations under `/api/proposal-protected-calls/{uuid}/` and the pool
//! entries at `/api/call-reviewer-pools/`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use referee_domain::FieldErrors;
use referee_domain::enums::{CoiSeverity, CoiType, InvitationStatus};
use referee_store::pool::{self, DeclaredConflict, PoolEntryView, PoolFilter, PoolOrder};
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
use crate::wire::{HexUuid, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_call_pool, invite_reviewers))
        .routes(routes!(invite_by_email))
        .routes(routes!(list_pool_entries, count_pool_entries))
        .routes(routes!(retrieve_pool_entry, update_pool_entry))
        .routes(routes!(accept_pool_invitation))
        .routes(routes!(decline_pool_invitation))
        .routes(routes!(force_accept_pool_invitation))
        .routes(routes!(resend_pool_invitation))
}

/// A reviewer's invitation to, and membership in, a call's pool.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolEntryOut {
    pub url: String,
    pub uuid: HexUuid,
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    /// Hyperlink of the reviewer profile; null for an e-mail invitation not yet accepted.
    pub reviewer: Option<String>,
    pub reviewer_uuid: Option<HexUuid>,
    pub reviewer_name: Option<String>,
    pub reviewer_email: String,
    pub has_profile: bool,
    pub invited_email: String,
    pub invited_user: Option<String>,
    pub invited_user_name: Option<String>,
    pub invited_by_name: Option<String>,
    pub invited_at: WireTime,
    pub invitation_status: InvitationStatus,
    pub invitation_status_display: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub response_date: Option<WireTime>,
    pub decline_reason: String,
    /// Workload limit: open assignments the reviewer takes at most (1 to 50).
    pub max_assignments: i32,
    /// Open assignments of the reviewer in this call.
    pub current_assignments: i64,
    pub expertise_match_score: Option<f64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub invitation_expires_at: Option<WireTime>,
    pub override_reason: String,
    /// Full name of the manager who force-accepted the invitation; empty when none did.
    pub overridden_by_name: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub overridden_at: Option<WireTime>,
    /// Front-end path that answers the invitation; only while it is pending.
    pub invitation_link: Option<String>,
    /// Conflicts of interest recorded for this reviewer in this call, any status.
    pub coi_count: i64,
    pub coi_by_severity: BTreeMap<String, i64>,
    /// Always 0; kept for compatibility with Waldur's clients.
    pub reviews_pending: i64,
    pub reviews_in_progress: i64,
    pub reviews_completed: i64,
    pub created: WireTime,
}

fn time(value: Option<DateTime<Utc>>) -> Option<WireTime> {
    value.map(WireTime)
}

impl PoolEntryOut {
    pub fn new(view: PoolEntryView, url: &RequestUrl) -> Self {
        let reviewer_name = view.reviewer_name();
        let reviewer_email = view.reviewer_email();
        let entry = view.entry;
        let pending = entry.invitation_status == InvitationStatus::Pending;
        Self {
            url: url.resource("call-reviewer-pools", entry.uuid),
            uuid: entry.uuid.into(),
            call: url.resource("proposal-protected-calls", entry.call_uuid),
            call_uuid: entry.call_uuid.into(),
            call_name: view.call_name,
            reviewer: entry
                .reviewer_uuid
                .map(|uuid| url.resource("reviewer-profiles", uuid)),
            reviewer_uuid: entry.reviewer_uuid.map(HexUuid),
            reviewer_name,
            reviewer_email,
            has_profile: entry.reviewer_uuid.is_some(),
            invited_email: entry.invited_email,
            invited_user: entry
                .invited_user_uuid
                .map(|uuid| url.resource("users", uuid)),
            invited_user_name: view.invited_user.map(|user| user.full_name),
            invited_by_name: view.invited_by.map(|user| user.full_name),
            invited_at: entry.invited_at.into(),
            invitation_status: entry.invitation_status,
            invitation_status_display: entry.invitation_status.display().to_owned(),
            response_date: time(entry.response_date),
            decline_reason: entry.decline_reason,
            max_assignments: entry.max_assignments,
            current_assignments: view.current_assignments,
            expertise_match_score: entry.expertise_match_score,
            invitation_expires_at: time(entry.invitation_expires_at),
            override_reason: entry.override_reason,
            overridden_by_name: view
                .overridden_by
                .map(|user| user.full_name)
                .unwrap_or_default(),
            overridden_at: time(entry.overridden_at),
            invitation_link: pending
                .then(|| format!("/reviewer-invitation/{}/", entry.invitation_token)),
            coi_count: view.coi_count,
            coi_by_severity: view.coi_by_severity,
            reviews_pending: 0,
            reviews_in_progress: view.reviews_in_progress,
            reviews_completed: view.reviews_completed,
            created: entry.created.into(),
        }
    }
}

/// Body of an invitation of reviewer profiles.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteReviewersRequest {
    /// Reviewer profile UUIDs. Unknown profiles and profiles already in the pool are skipped.
    pub reviewer_uuids: Vec<HexUuid>,
    /// Workload limit of the new entries (1 to 50, default 5).
    pub max_assignments: Option<i32>,
    /// Message for the invitation e-mail.
    #[serde(default)]
    pub invitation_message: String,
}

/// Body of an invitation by e-mail.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteByEmailRequest {
    pub email: String,
    pub max_assignments: Option<i32>,
    #[serde(default)]
    pub invitation_message: String,
}

/// Body of a pool entry update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PoolEntryPatch {
    /// Workload limit (1 to 50).
    pub max_assignments: i32,
}

/// Response of a pool entry update.
#[derive(Debug, Serialize, ToSchema)]
pub struct PoolEntryPatchOut {
    pub max_assignments: i32,
}

/// A conflict of interest declared while accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeclaredConflictRequest {
    pub proposal_uuid: HexUuid,
    pub coi_type: CoiType,
    /// Defaults to `apparent`.
    pub severity: Option<CoiSeverity>,
    #[serde(default)]
    pub description: String,
}

/// Response of an accepted invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedOut {
    pub detail: String,
    /// UUIDs of the conflicts of interest created from the declarations.
    pub declared_conflicts: Vec<HexUuid>,
}

/// Body of a declined invitation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeclineRequest {
    /// Why the reviewer declines; required.
    pub reason: String,
}

/// Body of a force-accept.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ForceAcceptRequest {
    /// Why the manager accepts on the reviewer's behalf; required.
    pub override_reason: String,
}

const ORDERING: &[(&str, PoolOrder)] = &[
    ("invited_at", PoolOrder::InvitedAt),
    ("expertise_match_score", PoolOrder::ExpertiseMatchScore),
    ("current_assignments", PoolOrder::CurrentAssignments),
    ("created", PoolOrder::Created),
];

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

fn max_assignments(value: Option<i32>, errors: &mut FieldErrors) -> i32 {
    let value = value.unwrap_or(pool::DEFAULT_MAX_ASSIGNMENTS);
    if !pool::MAX_ASSIGNMENTS_RANGE.contains(&value) {
        errors.add(
            "max_assignments",
            format!(
                "{value} is out of range. Ensure this value is between {} and {}.",
                pool::MAX_ASSIGNMENTS_RANGE.start(),
                pool::MAX_ASSIGNMENTS_RANGE.end()
            ),
        );
    }
    value
}

/// List every pool entry of a call, newest invitation first (not paginated).
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/reviewer-pool/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "The call's pool entries", body = Vec<PoolEntryOut>,
            headers(("x-result-count" = i64, description = "Number of entries"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the pool", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn list_call_pool(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<ArrayResponse<PoolEntryOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let views = state
        .run(move |connection| pool::list_call_pool(connection, &actor, call_uuid))
        .await?;
    Ok(ArrayResponse(
        views
            .into_iter()
            .map(|view| PoolEntryOut::new(view, &url))
            .collect(),
    ))
}

/// Invite reviewer profiles to the call's pool; returns the entries created.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/reviewer-pool/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = InviteReviewersRequest,
    responses(
        (status = 201, description = "Created entries (skipped profiles are not listed)", body = Vec<PoolEntryOut>),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn invite_reviewers(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<InviteReviewersRequest>,
) -> ApiResult<(StatusCode, Json<Vec<PoolEntryOut>>)> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    if body.reviewer_uuids.is_empty() {
        errors.add(
            "reviewer_uuids",
            "Ensure this field has at least 1 element. List the reviewer profile UUIDs to invite.",
        );
    }
    let limit = max_assignments(body.max_assignments, &mut errors);
    check(errors)?;

    let reviewer_uuids: Vec<uuid::Uuid> = body.reviewer_uuids.iter().map(|uuid| uuid.0).collect();
    let views = state
        .run(move |connection| {
            pool::invite_reviewers(connection, &actor, call_uuid, &reviewer_uuids, limit)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            views
                .into_iter()
                .map(|view| PoolEntryOut::new(view, &url))
                .collect(),
        ),
    ))
}

/// Invite a person by e-mail; the invitation binds to their reviewer profile on acceptance.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/invite-by-email/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = InviteByEmailRequest,
    responses(
        (status = 201, description = "The new entry", body = PoolEntryOut),
        (status = 400, description = "Invalid or already invited e-mail", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn invite_by_email(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<InviteByEmailRequest>,
) -> ApiResult<(StatusCode, Json<PoolEntryOut>)> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    let email = body.email.trim().to_owned();
    if !referee_domain::validate::is_email(&email) {
        errors.add("email", format!("{email:?} is not a valid e-mail address."));
    }
    let limit = max_assignments(body.max_assignments, &mut errors);
    check(errors)?;

    let view = state
        .run(move |connection| pool::invite_by_email(connection, &actor, call_uuid, &email, limit))
        .await?;
    Ok((StatusCode::CREATED, Json(PoolEntryOut::new(view, &url))))
}

/// List pool entries visible to the caller.
#[utoipa::path(
    get,
    path = "/api/call-reviewer-pools/",
    tag = "reviewer-pool",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("reviewer_uuid" = Option<String>, Query, description = "Reviewer profile UUID"),
        ("invitation_status" = Option<Vec<InvitationStatus>>, Query, description = "Repeat for several statuses"),
        ("my_invitations" = Option<bool>, Query, description = "Only entries addressed to the caller"),
        ("o" = Option<String>, Query, description = "Ordering: invited_at, expertise_match_score, current_assignments, created; prefix - for descending"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of entries", body = Vec<PoolEntryOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_pool_entries(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<PoolEntryOut>> {
    let mut errors = FieldErrors::new();
    let filter = PoolFilter {
        call_uuid: params.uuid("call_uuid", &mut errors),
        reviewer_uuid: params.uuid("reviewer_uuid", &mut errors),
        invitation_status: params.choices("invitation_status", &mut errors),
        my_invitations: params.boolean("my_invitations").unwrap_or(false),
    };
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        pool::list_entries(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(PoolEntryOut::new))
}

/// Count pool entries visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/call-reviewer-pools/",
    tag = "reviewer-pool",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("invitation_status" = Option<Vec<InvitationStatus>>, Query, description = "Repeat for several statuses"),
    ),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_pool_entries(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<PoolEntryOut>> {
    list_pool_entries(state, auth, params, url).await
}

/// Retrieve a pool entry.
#[utoipa::path(
    get,
    path = "/api/call-reviewer-pools/{uuid}/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Pool entry UUID")),
    responses(
        (status = 200, description = "The entry", body = PoolEntryOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_pool_entry(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<PoolEntryOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| pool::find_visible_entry_view(connection, &actor, uuid))
        .await?;
    Ok(Json(PoolEntryOut::new(view, &url)))
}

/// Change the workload limit of a pool entry (call managers).
#[utoipa::path(
    patch,
    path = "/api/call-reviewer-pools/{uuid}/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Pool entry UUID")),
    request_body = PoolEntryPatch,
    responses(
        (status = 200, description = "The new limit", body = PoolEntryPatchOut),
        (status = 400, description = "Limit out of range", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_pool_entry(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<PoolEntryPatch>,
) -> ApiResult<Json<PoolEntryPatchOut>> {
    let uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    let limit = max_assignments(Some(body.max_assignments), &mut errors);
    check(errors)?;
    let max_assignments = state
        .run(move |connection| pool::set_max_assignments(connection, &actor, uuid, limit))
        .await?;
    Ok(Json(PoolEntryPatchOut { max_assignments }))
}

/// Reads the declared conflicts of an accept body: a JSON array, an object with
/// `declared_conflicts`, or nothing.
fn declared_conflicts(body: Value) -> ApiResult<Vec<DeclaredConflict>> {
    let list = match body {
        Value::Null => return Ok(Vec::new()),
        Value::Object(mut object) => match object.remove("declared_conflicts") {
            Some(list) => list,
            None if object.is_empty() => return Ok(Vec::new()),
            None => {
                return Err(ApiError::field(
                    "non_field_errors",
                    "Expected a list of declared conflicts, or an object with declared_conflicts.",
                ));
            }
        },
        other => other,
    };
    let requests: Vec<DeclaredConflictRequest> =
        crate::extract::parse_json(list.to_string().as_bytes())?;
    Ok(requests
        .into_iter()
        .map(|request| DeclaredConflict {
            proposal_uuid: request.proposal_uuid.0,
            severity: request.severity.unwrap_or(CoiSeverity::Apparent),
            coi_type: request.coi_type,
            description: request.description,
        })
        .collect())
}

/// Accept an invitation (the invitee). The body lists conflicts of interest the reviewer
/// declares for proposals of the call; each becomes a pending, self-disclosed COI.
#[utoipa::path(
    post,
    path = "/api/call-reviewer-pools/{uuid}/accept/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Pool entry UUID")),
    request_body(content = Vec<DeclaredConflictRequest>, description = "Declared conflicts; may be empty or omitted"),
    responses(
        (status = 200, description = "Accepted", body = AcceptedOut),
        (status = 400, description = "Already answered, expired, profile missing or unpublished, or an invalid declaration", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not the invitee", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn accept_pool_invitation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<AcceptedOut>> {
    let uuid = path_uuid(&uuid)?;
    let declared = declared_conflicts(body)?;
    let accepted = state
        .run(move |connection| pool::accept_invitation(connection, &actor, uuid, &declared))
        .await?;
    Ok(Json(AcceptedOut {
        detail: "Invitation accepted successfully.".into(),
        declared_conflicts: accepted
            .declared_conflicts
            .into_iter()
            .map(HexUuid)
            .collect(),
    }))
}

/// Decline an invitation (the invitee); a reason is required.
#[utoipa::path(
    post,
    path = "/api/call-reviewer-pools/{uuid}/decline/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Pool entry UUID")),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "Declined", body = DetailBody),
        (status = 400, description = "Missing reason, already answered or expired", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not the invitee", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn decline_pool_invitation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<DeclineRequest>,
) -> ApiResult<Json<DetailBody>> {
    let uuid = path_uuid(&uuid)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::field(
            "reason",
            "This field may not be blank. Say why you decline.",
        ));
    }
    state
        .run(move |connection| pool::decline_invitation(connection, &actor, uuid, &body.reason))
        .await?;
    Ok(Json(DetailBody {
        detail: "Invitation declined.".into(),
    }))
}

/// Accept an invitation on the reviewer's behalf (call managers); a reason is required.
#[utoipa::path(
    post,
    path = "/api/call-reviewer-pools/{uuid}/force-accept/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Pool entry UUID")),
    request_body = ForceAcceptRequest,
    responses(
        (status = 200, description = "The accepted entry", body = PoolEntryOut),
        (status = 400, description = "Missing reason, already accepted, or no reviewer profile", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn force_accept_pool_invitation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ForceAcceptRequest>,
) -> ApiResult<Json<PoolEntryOut>> {
    let uuid = path_uuid(&uuid)?;
    if body.override_reason.trim().is_empty() {
        return Err(ApiError::field(
            "override_reason",
            "This field may not be blank. Say why you accept on the reviewer's behalf.",
        ));
    }
    let view = state
        .run(move |connection| pool::force_accept(connection, &actor, uuid, &body.override_reason))
        .await?;
    Ok(Json(PoolEntryOut::new(view, &url)))
}

/// Reopen a pending or expired invitation with a new link and a new expiry (call managers).
#[utoipa::path(
    post,
    path = "/api/call-reviewer-pools/{uuid}/resend-invitation/",
    tag = "reviewer-pool",
    params(("uuid" = String, Path, description = "Pool entry UUID")),
    responses(
        (status = 200, description = "The reopened entry", body = PoolEntryOut),
        (status = 400, description = "The invitation was already accepted or declined", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn resend_pool_invitation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<PoolEntryOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| pool::resend_invitation(connection, &actor, uuid))
        .await?;
    Ok(Json(PoolEntryOut::new(view, &url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_body_forms() {
        assert!(declared_conflicts(Value::Null).unwrap().is_empty());
        assert!(
            declared_conflicts(serde_json::json!({}))
                .unwrap()
                .is_empty()
        );
        assert!(
            declared_conflicts(serde_json::json!([]))
                .unwrap()
                .is_empty()
        );
        let uuid = uuid::Uuid::now_v7().simple().to_string();
        let parsed = declared_conflicts(serde_json::json!({"declared_conflicts": [{"proposal_uuid": uuid, "coi_type": "REL_FAMILY"}]})).unwrap();
        assert_eq!(parsed[0].severity, CoiSeverity::Apparent);
        assert!(
            declared_conflicts(serde_json::json!([{"proposal_uuid": uuid, "coi_type": "NOPE"}]))
                .is_err()
        );
    }
}
