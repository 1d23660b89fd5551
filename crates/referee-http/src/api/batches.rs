//! Assignment batches: `/api/assignment-batches/` for managers, `/api/my-assignment-batches/`
//! for reviewers, and the call actions under `/api/proposal-protected-calls/{uuid}/` that
//! create and send batches (`create-manual-assignment`, `generate-assignments`,
//! `send-all-assignments`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use referee_domain::FieldErrors;
use referee_domain::enums::{AssignmentSource, BatchStatus, ItemStatus};
use referee_store::batches::{
    self, BatchDetail, BatchFilter, BatchOrder, BatchView, GenerateRequest, ItemView,
    ManualAssignment, SkippedProposal,
};
use serde::{Deserialize, Serialize};
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
        .routes(routes!(list_batches, count_batches))
        .routes(routes!(
            retrieve_batch,
            update_batch,
            partial_update_batch,
            delete_batch
        ))
        .routes(routes!(send_batch))
        .routes(routes!(cancel_batch))
        .routes(routes!(extend_batch_deadline))
        .routes(routes!(list_my_batches, count_my_batches))
        .routes(routes!(retrieve_my_batch))
        .routes(routes!(create_manual_assignment))
        .routes(routes!(generate_assignments))
        .routes(routes!(send_all_assignments))
}

fn time(value: Option<DateTime<Utc>>) -> Option<WireTime> {
    value.map(WireTime)
}

/// An assignment batch: proposals offered to one reviewer of a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    pub url: String,
    pub uuid: HexUuid,
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    pub reviewer_pool_entry: String,
    pub reviewer_pool_entry_uuid: HexUuid,
    /// Full name of the reviewer; null when the entry has neither a profile nor an invited user.
    pub reviewer_name: Option<String>,
    pub reviewer_email: String,
    /// The reviewer profile; null for an e-mail invitation without a profile.
    pub reviewer_uuid: Option<HexUuid>,
    pub status: BatchStatus,
    pub status_display: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<WireTime>,
    /// The reviewer's deadline; set when the batch is sent.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<WireTime>,
    /// When the reviewer responded to the last pending item.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub responded_at: Option<WireTime>,
    pub source: AssignmentSource,
    pub source_display: String,
    pub created_by: Option<String>,
    pub created_by_name: Option<String>,
    /// Notes for the reviewer, shown with the invitation.
    pub manager_notes: String,
    pub items_count: i64,
    pub items_pending_count: i64,
    pub items_accepted_count: i64,
    pub items_declined_count: i64,
    /// Whether the deadline has passed, whatever the status.
    pub is_expired: bool,
    pub created: WireTime,
}

impl BatchOut {
    pub fn new(view: BatchView, url: &RequestUrl) -> Self {
        let now = Utc::now();
        let is_expired = view.batch.is_expired_at(now);
        let batch = view.batch;
        Self {
            url: url.resource("assignment-batches", batch.uuid),
            uuid: batch.uuid.into(),
            call: url.resource("proposal-protected-calls", batch.call_uuid),
            call_uuid: batch.call_uuid.into(),
            call_name: view.call_name,
            reviewer_pool_entry: url.resource("call-reviewer-pools", batch.pool_entry_uuid),
            reviewer_pool_entry_uuid: batch.pool_entry_uuid.into(),
            reviewer_name: view.reviewer_name,
            reviewer_email: view.reviewer_email,
            reviewer_uuid: view.reviewer_uuid.map(HexUuid),
            status: batch.status,
            status_display: batch.status.display().to_owned(),
            sent_at: time(batch.sent_at),
            expires_at: time(batch.expires_at),
            responded_at: time(batch.responded_at),
            source: batch.source,
            source_display: batch.source.display().to_owned(),
            created_by: batch
                .created_by_uuid
                .map(|uuid| url.resource("users", uuid)),
            created_by_name: view.created_by_name,
            manager_notes: batch.manager_notes,
            items_count: view.items_count,
            items_pending_count: view.items_pending_count,
            items_accepted_count: view.items_accepted_count,
            items_declined_count: view.items_declined_count,
            is_expired,
            created: batch.created.into(),
        }
    }
}

/// An item of a batch, with the keys of `/api/assignment-items/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemOut {
    pub url: String,
    pub uuid: HexUuid,
    pub batch: String,
    pub proposal: String,
    pub proposal_uuid: HexUuid,
    pub proposal_name: String,
    pub proposal_slug: String,
    pub status: ItemStatus,
    pub status_display: String,
    pub affinity_score: Option<f64>,
    /// Whether a conflict of interest blocks the item.
    pub has_coi: bool,
    /// Conflicts of interest linked to the item, any status.
    pub coi_count: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub responded_at: Option<WireTime>,
    pub decline_reason: String,
    /// Hyperlink of the review created on acceptance; null until then.
    pub review: Option<String>,
    pub review_uuid: Option<HexUuid>,
    pub reassign_count: i32,
    pub override_reason: String,
    /// Full name of the manager who force-unblocked the item; empty when none did.
    pub overridden_by_name: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub overridden_at: Option<WireTime>,
    pub created: WireTime,
}

impl BatchItemOut {
    pub fn new(view: ItemView, url: &RequestUrl) -> Self {
        let item = view.item;
        Self {
            url: url.resource("assignment-items", item.uuid),
            uuid: item.uuid.into(),
            batch: url.resource("assignment-batches", item.batch_uuid),
            proposal: url.resource("proposal-proposals", item.proposal_uuid),
            proposal_uuid: item.proposal_uuid.into(),
            proposal_name: view.proposal_name,
            proposal_slug: view.proposal_slug,
            status: item.status,
            status_display: item.status.display().to_owned(),
            affinity_score: item.affinity_score,
            has_coi: item.has_coi,
            coi_count: view.coi_count,
            responded_at: time(item.responded_at),
            decline_reason: item.decline_reason,
            review: item
                .review_uuid
                .map(|uuid| url.resource("proposal-reviews", uuid)),
            review_uuid: item.review_uuid.map(HexUuid),
            reassign_count: item.reassign_count,
            override_reason: item.override_reason,
            overridden_by_name: view.overridden_by_name.unwrap_or_default(),
            overridden_at: time(item.overridden_at),
            created: item.created.into(),
        }
    }
}

/// An assignment batch with its items.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchDetailOut {
    #[serde(flatten)]
    pub batch: BatchOut,
    pub items: Vec<BatchItemOut>,
}

impl BatchDetailOut {
    pub fn new(detail: BatchDetail, url: &RequestUrl) -> Self {
        Self {
            batch: BatchOut::new(detail.view, url),
            items: detail
                .items
                .into_iter()
                .map(|item| BatchItemOut::new(item, url))
                .collect(),
        }
    }
}

/// A batch in the reviewer's view.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyBatchOut {
    pub uuid: HexUuid,
    pub call_uuid: HexUuid,
    pub call_name: String,
    pub status: BatchStatus,
    pub status_display: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<WireTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<WireTime>,
    pub is_expired: bool,
    pub items_count: i64,
    pub items_pending_count: i64,
    pub manager_notes: String,
}

impl MyBatchOut {
    pub fn new(view: BatchView) -> Self {
        let is_expired = view.batch.is_expired_at(Utc::now());
        let batch = view.batch;
        Self {
            uuid: batch.uuid.into(),
            call_uuid: batch.call_uuid.into(),
            call_name: view.call_name,
            status: batch.status,
            status_display: batch.status.display().to_owned(),
            sent_at: time(batch.sent_at),
            expires_at: time(batch.expires_at),
            is_expired,
            items_count: view.items_count,
            items_pending_count: view.items_pending_count,
            manager_notes: batch.manager_notes,
        }
    }
}

/// An item in the reviewer's view. The summary follows the call's disclosure level and is
/// empty for an item blocked by a conflict of interest.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyItemOut {
    pub uuid: HexUuid,
    pub proposal_uuid: HexUuid,
    pub proposal_name: String,
    pub proposal_slug: String,
    pub proposal_summary: String,
    pub status: ItemStatus,
    pub status_display: String,
    pub affinity_score: Option<f64>,
    pub has_coi: bool,
}

/// A batch in the reviewer's view, with its items.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyBatchDetailOut {
    #[serde(flatten)]
    pub batch: MyBatchOut,
    pub items: Vec<MyItemOut>,
}

impl MyBatchDetailOut {
    pub fn new(detail: BatchDetail) -> Self {
        let level = detail.disclosure;
        Self {
            batch: MyBatchOut::new(detail.view),
            items: detail
                .items
                .into_iter()
                .map(|view| MyItemOut {
                    proposal_summary: view.disclosed_summary(level),
                    uuid: view.item.uuid.into(),
                    proposal_uuid: view.item.proposal_uuid.into(),
                    proposal_name: view.proposal_name,
                    proposal_slug: view.proposal_slug,
                    status: view.item.status,
                    status_display: view.item.status.display().to_owned(),
                    affinity_score: view.item.affinity_score,
                    has_coi: view.item.has_coi,
                })
                .collect(),
        }
    }
}

/// Body of a batch update: only the notes can change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct BatchNotesRequest {
    pub manager_notes: Option<String>,
}

/// Body of a send.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SendRequest {
    /// Notes for the reviewer; when not empty they replace the batch's notes.
    pub manager_notes: Option<String>,
}

/// Response of a send.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendOut {
    pub detail: String,
    pub expires_at: WireTime,
}

/// Response of a cancellation.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelOut {
    pub message: String,
}

/// Body of a deadline extension.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtendDeadlineRequest {
    /// The new deadline; it must be in the future.
    pub expires_at: WireTime,
}

/// Response of a deadline extension.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtendDeadlineOut {
    pub expires_at: WireTime,
    pub status: BatchStatus,
}

/// Body of a manual assignment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ManualAssignmentRequest {
    /// An accepted pool entry of the call with a reviewer profile.
    pub reviewer_pool_entry_uuid: HexUuid,
    /// Proposals of the call, in any state; at least one.
    pub proposal_uuids: Vec<HexUuid>,
    /// Notes for the reviewer; when not empty they replace those of a reused draft batch.
    pub manager_notes: Option<String>,
    /// Assign even when the reviewer would exceed `max_assignments`; the audit log records it.
    #[serde(default)]
    pub override_workload_limit: bool,
}

/// A proposal that an assignment action left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedProposalOut {
    /// Null only when generation found no accepted reviewer at all.
    pub proposal_uuid: Option<HexUuid>,
    pub proposal_name: Option<String>,
    pub reason: String,
}

impl From<SkippedProposal> for SkippedProposalOut {
    fn from(skipped: SkippedProposal) -> Self {
        Self {
            proposal_uuid: skipped.proposal_uuid.map(HexUuid),
            proposal_name: skipped.proposal_name,
            reason: skipped.reason,
        }
    }
}

/// Response of a manual assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManualAssignmentOut {
    /// The draft batch that received the items.
    pub batch_uuid: HexUuid,
    pub items_created: usize,
    /// How many of the created items are `coi_blocked`, because the reviewer has a blocking
    /// conflict of interest with their proposal (found now if the pair was never evaluated).
    pub items_blocked: usize,
    pub skipped_proposals: Vec<SkippedProposalOut>,
}

/// Body of a generation run.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct GenerateRequestBody {
    /// Only these proposals; UUIDs outside the call or not submitted or in review are ignored.
    pub proposal_uuids: Option<Vec<HexUuid>>,
    /// Reviewers per proposal, 1 to 20. Default: the matching configuration's
    /// `min_reviewers_per_proposal` when the call has one, else 2.
    pub reviewers_per_proposal: Option<i64>,
}

/// Response of a generation run.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenerateOut {
    pub batches_created: usize,
    pub items_created: usize,
    /// Proposals that got at least one reviewer.
    pub proposals_processed: usize,
    /// Proposals that got no reviewer, with the reason.
    pub skipped_proposals: Vec<SkippedProposalOut>,
    /// Solver used: `minmax`, `hungarian` or `fairflow` (the call's matching configuration;
    /// `minmax` by default). The solution maximises the total affinity exactly.
    pub algorithm: String,
    /// Sum of the affinities of the new items; missing affinities count as 0.
    pub objective_value: f64,
    /// Lowest, over proposals that got reviewers in this run, of the mean affinity of their
    /// new reviewers; null when nothing was assigned.
    pub min_proposal_affinity: Option<f64>,
    /// Mean of the same per-proposal values; null when nothing was assigned.
    pub mean_proposal_affinity: Option<f64>,
    /// Number of reviewers by how many new items each got in this run.
    pub load_histogram: std::collections::BTreeMap<String, usize>,
    /// Proposals that got fewer reviewers than they need.
    pub unfilled_proposals: Vec<UnfilledProposalOut>,
    /// Why not every proposal got all its reviewers (the smallest group that cannot be
    /// served, from a minimum cut); null when every demand was met.
    pub infeasibility: Option<InfeasibilityOut>,
    /// The `incremental` COI detection job that evaluated the pairs never evaluated before
    /// this run (see `/api/coi-detection-jobs/`); null when every pair had been evaluated.
    /// Pairs that remain unevaluated are never assigned.
    pub coi_detection_job_uuid: Option<HexUuid>,
}

/// The smallest group of proposals and reviewers a generation run could not serve.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfeasibilityOut {
    /// Names the group, its demand and its capacity.
    pub message: String,
    /// Which limit to change.
    pub suggestion: String,
    /// Assignments the group needs.
    pub demand: u64,
    /// Assignments the group's counterparts can give at most.
    pub capacity: u64,
    pub proposal_uuids: Vec<HexUuid>,
    /// Pool entries of the reviewers involved.
    pub pool_entry_uuids: Vec<HexUuid>,
}

/// A proposal that got fewer reviewers than it needs in a generation run.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnfilledProposalOut {
    pub proposal_uuid: HexUuid,
    pub proposal_name: String,
    pub assigned: u32,
    pub needed: u32,
    pub reason: String,
}

/// Body of a send-all.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SendAllRequest {
    /// Only these batches; by default every draft batch of the call.
    pub batch_uuids: Option<Vec<HexUuid>>,
}

/// Response of a send-all.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendAllOut {
    pub batches_sent: usize,
    /// Listed batches that are not drafts of this call.
    pub skipped: usize,
}

const ORDERING: &[(&str, BatchOrder)] = &[
    ("created", BatchOrder::Created),
    ("sent_at", BatchOrder::SentAt),
    ("expires_at", BatchOrder::ExpiresAt),
    ("status", BatchOrder::Status),
];

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// List assignment batches visible to the caller, newest first.
#[utoipa::path(
    get,
    path = "/api/assignment-batches/",
    tag = "assignment-batches",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("reviewer_uuid" = Option<String>, Query, description = "Reviewer profile UUID"),
        ("reviewer_pool_entry_uuid" = Option<String>, Query, description = "Pool entry UUID"),
        ("status" = Option<Vec<BatchStatus>>, Query, description = "Repeat for several statuses"),
        ("source" = Option<Vec<AssignmentSource>>, Query, description = "Repeat for several sources"),
        ("sent_after" = Option<String>, Query, description = "Sent at or after this RFC 3339 instant"),
        ("sent_before" = Option<String>, Query, description = "Sent at or before this RFC 3339 instant"),
        ("o" = Option<String>, Query, description = "Ordering: created, sent_at, expires_at, status; prefix - for descending"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of batches", body = Vec<BatchOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_batches(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<BatchOut>> {
    let mut errors = FieldErrors::new();
    let filter = BatchFilter {
        call_uuid: params.uuid("call_uuid", &mut errors),
        reviewer_uuid: params.uuid("reviewer_uuid", &mut errors),
        pool_entry_uuid: params.uuid("reviewer_pool_entry_uuid", &mut errors),
        statuses: params.choices("status", &mut errors),
        sources: params.choices("source", &mut errors),
        sent_after: params.time("sent_after", &mut errors),
        sent_before: params.time("sent_before", &mut errors),
    };
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        batches::list_batches(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(BatchOut::new))
}

/// Count assignment batches visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/assignment-batches/",
    tag = "assignment-batches",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("status" = Option<Vec<BatchStatus>>, Query, description = "Repeat for several statuses"),
    ),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_batches(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<BatchOut>> {
    list_batches(state, auth, params, url).await
}

/// Retrieve an assignment batch with its items.
#[utoipa::path(
    get,
    path = "/api/assignment-batches/{uuid}/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    responses(
        (status = 200, description = "The batch", body = BatchDetailOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<BatchDetailOut>> {
    let uuid = path_uuid(&uuid)?;
    let detail = state
        .run(move |connection| batches::find_visible_detail(connection, &actor, uuid))
        .await?;
    Ok(Json(BatchDetailOut::new(detail, &url)))
}

async fn apply_notes(
    state: AppState,
    actor: referee_domain::Actor,
    uuid: &str,
    notes: Option<String>,
    url: RequestUrl,
) -> ApiResult<Json<BatchDetailOut>> {
    let uuid = path_uuid(uuid)?;
    let detail = state
        .run(move |connection| batches::update_notes(connection, &actor, uuid, notes))
        .await?;
    Ok(Json(BatchDetailOut::new(detail, &url)))
}

/// Replace the manager's notes of a batch (call managers); every other key is ignored.
#[utoipa::path(
    put,
    path = "/api/assignment-batches/{uuid}/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    request_body = BatchNotesRequest,
    responses(
        (status = 200, description = "Updated", body = BatchDetailOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<BatchNotesRequest>,
) -> ApiResult<Json<BatchDetailOut>> {
    apply_notes(state, actor, &uuid, body.manager_notes, url).await
}

/// Change the manager's notes of a batch (call managers); every other key is ignored.
#[utoipa::path(
    patch,
    path = "/api/assignment-batches/{uuid}/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    request_body = BatchNotesRequest,
    responses(
        (status = 200, description = "Updated", body = BatchDetailOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<BatchNotesRequest>,
) -> ApiResult<Json<BatchDetailOut>> {
    apply_notes(state, actor, &uuid, body.manager_notes, url).await
}

/// Delete a batch and its items, whatever its status (call managers).
#[utoipa::path(
    delete,
    path = "/api/assignment-batches/{uuid}/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| batches::delete_batch(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a draft batch to its reviewer (call managers). The deadline is the call's
/// `assignment_expiration_days` from now; the reviewer is notified.
#[utoipa::path(
    post,
    path = "/api/assignment-batches/{uuid}/send/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    request_body = SendRequest,
    responses(
        (status = 200, description = "Sent", body = SendOut),
        (status = 400, description = "The batch is not a draft", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn send_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<SendRequest>,
) -> ApiResult<Json<SendOut>> {
    let uuid = path_uuid(&uuid)?;
    let batch = state
        .run(move |connection| batches::send(connection, &actor, uuid, body.manager_notes))
        .await?;
    let expires_at = batch
        .expires_at
        .ok_or_else(|| ApiError::Internal("a sent batch has no deadline".into()))?;
    Ok(Json(SendOut {
        detail: "Assignment batch invitation sent successfully.".into(),
        expires_at: expires_at.into(),
    }))
}

/// Cancel a draft or sent batch (call managers). Its items stay as they are but are no longer
/// shown to the reviewer.
#[utoipa::path(
    post,
    path = "/api/assignment-batches/{uuid}/cancel/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    responses(
        (status = 200, description = "Cancelled", body = CancelOut),
        (status = 400, description = "The batch is neither draft nor sent", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn cancel_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<Json<CancelOut>> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| batches::cancel(connection, &actor, uuid))
        .await?;
    Ok(Json(CancelOut {
        message: "Assignment batch cancelled.".into(),
    }))
}

/// Move the deadline of a sent or expired batch (call managers). An expired batch is sent
/// again and its expired items return to pending; reviews in progress from its accepted items
/// get the later deadline.
#[utoipa::path(
    post,
    path = "/api/assignment-batches/{uuid}/extend-deadline/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    request_body = ExtendDeadlineRequest,
    responses(
        (status = 200, description = "The new deadline and status", body = ExtendDeadlineOut),
        (status = 400, description = "The batch is neither sent nor expired, or the deadline is not in the future", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn extend_batch_deadline(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<ExtendDeadlineRequest>,
) -> ApiResult<Json<ExtendDeadlineOut>> {
    let uuid = path_uuid(&uuid)?;
    let expires_at = body.expires_at.0;
    let batch = state
        .run(move |connection| {
            batches::extend_deadline(connection, &actor, uuid, expires_at, Utc::now())
        })
        .await?;
    let expires_at = batch
        .expires_at
        .ok_or_else(|| ApiError::Internal("an extended batch has no deadline".into()))?;
    Ok(Json(ExtendDeadlineOut {
        expires_at: expires_at.into(),
        status: batch.status,
    }))
}

/// List the caller's batches waiting for a response, most recently sent first (not paginated).
#[utoipa::path(
    get,
    path = "/api/my-assignment-batches/",
    tag = "assignment-batches",
    responses(
        (status = 200, description = "The caller's sent batches; empty without a reviewer profile", body = Vec<MyBatchOut>,
            headers(("x-result-count" = i64, description = "Number of batches"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_my_batches(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<ArrayResponse<MyBatchOut>> {
    let views = state
        .run(move |connection| batches::list_my_batches(connection, &actor))
        .await?;
    Ok(ArrayResponse(
        views.into_iter().map(MyBatchOut::new).collect(),
    ))
}

/// Count the caller's batches waiting for a response (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/my-assignment-batches/",
    tag = "assignment-batches",
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of batches"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_my_batches(
    state: State<AppState>,
    auth: Auth,
) -> ApiResult<ArrayResponse<MyBatchOut>> {
    list_my_batches(state, auth).await
}

/// Retrieve one of the caller's sent, answered or expired batches with its items.
#[utoipa::path(
    get,
    path = "/api/my-assignment-batches/{uuid}/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Batch UUID")),
    responses(
        (status = 200, description = "The batch", body = MyBatchDetailOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not the caller's batch, not sent yet, or the caller has no reviewer profile", body = DetailBody),
    )
)]
pub async fn retrieve_my_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<Response> {
    let uuid = path_uuid(&uuid)?;
    let detail = state
        .run(move |connection| batches::find_my_batch(connection, &actor, uuid))
        .await?;
    Ok(match detail {
        Some(detail) => Json(MyBatchDetailOut::new(detail)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(DetailBody {
                detail: "Reviewer profile not found.".into(),
            }),
        )
            .into_response(),
    })
}

/// Assign proposals of the call to one accepted reviewer (call managers). Items go into the
/// reviewer's draft batch, created when missing.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/create-manual-assignment/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = ManualAssignmentRequest,
    responses(
        (status = 200, description = "The batch and what was created or skipped", body = ManualAssignmentOut),
        (status = 400, description = "Invalid field, or the workload limit would be exceeded", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn create_manual_assignment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<ManualAssignmentRequest>,
) -> ApiResult<Json<ManualAssignmentOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    if body.proposal_uuids.is_empty() {
        errors.add(
            "proposal_uuids",
            "Ensure this field has at least 1 element. List the proposal UUIDs to assign.",
        );
    }
    check(errors)?;

    let request = ManualAssignment {
        pool_entry_uuid: body.reviewer_pool_entry_uuid.0,
        proposal_uuids: body.proposal_uuids.iter().map(|uuid| uuid.0).collect(),
        manager_notes: body.manager_notes,
        override_workload_limit: body.override_workload_limit,
    };
    let outcome = state
        .run(move |connection| {
            batches::create_manual_assignment(connection, &actor, call_uuid, &request)
        })
        .await?;
    Ok(Json(ManualAssignmentOut {
        batch_uuid: outcome.batch_uuid.into(),
        items_created: outcome.items_created,
        items_blocked: outcome.items_blocked,
        skipped_proposals: outcome
            .skipped_proposals
            .into_iter()
            .map(SkippedProposalOut::from)
            .collect(),
    }))
}

/// Generate draft assignments for the call's submitted and in-review proposals (call
/// managers). Pairs with a blocking conflict of interest or an existing item are never
/// assigned, and no reviewer goes past `max_assignments`.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/generate-assignments/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = GenerateRequestBody,
    responses(
        (status = 200, description = "What was created and which proposals got no reviewer", body = GenerateOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn generate_assignments(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<GenerateRequestBody>,
) -> ApiResult<Json<GenerateOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    let range = batches::REVIEWERS_PER_PROPOSAL_RANGE;
    let reviewers_per_proposal = match body.reviewers_per_proposal {
        None => None,
        Some(count) => match u32::try_from(count) {
            Ok(count) if range.contains(&count) => Some(count),
            _ => {
                errors.add(
                    "reviewers_per_proposal",
                    format!(
                        "{count} is out of range. Ensure this value is between {} and {}.",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        },
    };
    check(errors)?;

    let request = GenerateRequest {
        proposal_uuids: body
            .proposal_uuids
            .map(|uuids| uuids.iter().map(|uuid| uuid.0).collect()),
        reviewers_per_proposal,
    };
    let outcome = state
        .run(move |connection| {
            batches::generate_assignments(connection, &actor, call_uuid, &request)
        })
        .await?;
    Ok(Json(GenerateOut {
        batches_created: outcome.batches_created,
        items_created: outcome.items_created,
        proposals_processed: outcome.proposals_processed,
        skipped_proposals: outcome
            .skipped_proposals
            .into_iter()
            .map(SkippedProposalOut::from)
            .collect(),
        algorithm: outcome.algorithm,
        objective_value: outcome.objective_value,
        min_proposal_affinity: outcome.min_proposal_affinity,
        mean_proposal_affinity: outcome.mean_proposal_affinity,
        load_histogram: outcome.load_histogram,
        unfilled_proposals: outcome
            .unfilled_proposals
            .into_iter()
            .map(|unfilled| UnfilledProposalOut {
                proposal_uuid: unfilled.proposal_uuid.into(),
                proposal_name: unfilled.proposal_name,
                assigned: unfilled.assigned,
                needed: unfilled.needed,
                reason: unfilled.reason,
            })
            .collect(),
        coi_detection_job_uuid: outcome.coi_detection_job_uuid.map(HexUuid),
        infeasibility: outcome.infeasibility.map(|infeasible| InfeasibilityOut {
            message: infeasible.message,
            suggestion: infeasible.suggestion,
            demand: infeasible.demand,
            capacity: infeasible.capacity,
            proposal_uuids: infeasible.proposal_uuids.into_iter().map(HexUuid).collect(),
            pool_entry_uuids: infeasible
                .pool_entry_uuids
                .into_iter()
                .map(HexUuid)
                .collect(),
        }),
    }))
}

/// Send every draft batch of the call, or only the listed ones (call managers).
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/send-all-assignments/",
    tag = "assignment-batches",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = SendAllRequest,
    responses(
        (status = 200, description = "How many batches were sent and skipped", body = SendAllOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn send_all_assignments(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<SendAllRequest>,
) -> ApiResult<Json<SendAllOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let listed: Option<Vec<uuid::Uuid>> = body
        .batch_uuids
        .map(|uuids| uuids.iter().map(|uuid| uuid.0).collect());
    let (batches_sent, skipped) = state
        .run(move |connection| batches::send_all(connection, &actor, call_uuid, listed.as_deref()))
        .await?;
    Ok(Json(SendAllOut {
        batches_sent,
        skipped,
    }))
}
