//! `/api/assignment-items/`: proposals offered to reviewers, the reviewer's answers (accept,
//! decline) and the manager's actions (add to a draft, edit, delete, suggest alternatives,
//! reassign, force-unblock).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::FieldErrors;
use referee_domain::enums::ItemStatus;
use referee_store::SortKey;
use referee_store::items::{
    self, ItemFilter, ItemOrder, ItemView, NewItemRequest, ReassignRequest, Suggestion,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::common::{check, count_page, list_page};
use crate::error::{ApiError, ApiResult, BadRequestBody, DetailBody};
use crate::extract::{Auth, JsonBody, PageSpec, Params};
use crate::links::{ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, Reference, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, count_items, create_item))
        .routes(routes!(
            retrieve_item,
            update_item,
            partial_update_item,
            delete_item
        ))
        .routes(routes!(accept_item))
        .routes(routes!(decline_item))
        .routes(routes!(suggest_alternatives))
        .routes(routes!(reassign_item))
        .routes(routes!(force_unblock_item))
}

/// One proposal offered to the reviewer of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub url: String,
    pub uuid: HexUuid,
    pub batch: String,
    pub proposal: String,
    pub proposal_uuid: HexUuid,
    pub proposal_name: String,
    pub proposal_slug: String,
    pub status: ItemStatus,
    pub status_display: String,
    /// Affinity score used for the assignment (0 to 1); null for manual assignments.
    pub affinity_score: Option<f64>,
    /// Whether the item is blocked by a conflict of interest.
    pub has_coi: bool,
    /// Conflicts of interest linked to the item, any status.
    pub coi_count: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub responded_at: Option<WireTime>,
    /// Reason the reviewer gave for declining.
    pub decline_reason: String,
    /// Hyperlink of the review created by accepting; null until the item is accepted.
    pub review: Option<String>,
    pub review_uuid: Option<HexUuid>,
    /// Times this proposal slot has been reassigned before this item.
    pub reassign_count: i32,
    pub override_reason: String,
    /// Full name of the manager who force-unblocked the item; empty when nobody did.
    pub overridden_by_name: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub overridden_at: Option<WireTime>,
    pub created: WireTime,
}

impl ItemOut {
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
            responded_at: item.responded_at.map(WireTime),
            decline_reason: item.decline_reason,
            review: item
                .review_uuid
                .map(|uuid| url.resource("proposal-reviews", uuid)),
            review_uuid: item.review_uuid.map(HexUuid),
            reassign_count: item.reassign_count,
            override_reason: item.override_reason,
            overridden_by_name: view.overridden_by_name,
            overridden_at: item.overridden_at.map(WireTime),
            created: item.created.into(),
        }
    }
}

/// Body of a manager's request to add one proposal to a draft batch.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemCreateRequest {
    /// The draft batch, by UUID or hyperlink.
    pub batch: Reference,
    /// A proposal of the batch's call, by UUID or hyperlink.
    pub proposal: Reference,
    /// Accepted and ignored: a new item has no decline reason.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub decline_reason: serde_json::Value,
    /// Assign even when the reviewer's open assignments already reach `max_assignments`.
    #[serde(default)]
    pub override_workload_limit: bool,
}

/// Body of an item update: only the decline reason is writable; other keys are ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ItemUpdateRequest {
    pub decline_reason: Option<String>,
}

/// Body of a decline.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DeclineRequest {
    /// Why the reviewer declines; optional and may be blank.
    pub reason: Option<String>,
}

/// Body of a reassignment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReassignItemRequest {
    /// The accepted pool entry of the same call that takes over the proposal.
    pub reviewer_pool_entry_uuid: HexUuid,
    /// Notes for the reviewer's draft batch when a new one is created; may be blank.
    #[serde(default)]
    pub manager_notes: Option<String>,
    /// Reassign even when the reviewer's open assignments already reach `max_assignments`.
    #[serde(default)]
    pub override_workload_limit: bool,
}

/// Body of a force-unblock.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ForceUnblockRequest {
    /// Why the conflict of interest does not prevent the review; required, not blank.
    pub override_reason: Option<String>,
    /// Unblock even when the reviewer is at the workload limit; recorded in the audit log.
    #[serde(default)]
    pub override_workload_limit: bool,
}

/// Response of accept and decline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemAnswerOut {
    pub detail: String,
    /// The review created by accepting; null after a decline.
    pub review_uuid: Option<HexUuid>,
}

/// Response of a reassignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReassignOut {
    pub detail: String,
    pub new_item_uuid: HexUuid,
    pub new_batch_uuid: HexUuid,
    /// Whether the new item is blocked by a conflict of interest of the new reviewer.
    pub has_coi: bool,
}

/// A reviewer who could take over a declined item.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionOut {
    pub pool_entry_uuid: HexUuid,
    /// The reviewer profile.
    pub reviewer_uuid: Option<HexUuid>,
    pub reviewer_name: Option<String>,
    pub reviewer_email: String,
    /// Cached affinity of the reviewer and the proposal; null when none is cached.
    pub affinity_score: Option<f64>,
    /// Open assignments of the reviewer in this call.
    pub current_assignments: i64,
    pub max_assignments: i32,
    /// Whether the reviewer's open assignments are below `max_assignments`.
    pub has_capacity: bool,
    /// 1-based position in the ranking.
    pub rank: usize,
    /// Conflict-of-interest state of the pair. `none`: detection evaluated it and found
    /// nothing. `unknown`: never evaluated, so a reassignment evaluates it first. Otherwise the
    /// status of its oldest conflict, which is never a blocking one.
    pub coi_status: String,
}

impl SuggestionOut {
    fn new(suggestion: Suggestion) -> Self {
        let view = suggestion.entry;
        Self {
            pool_entry_uuid: view.entry.uuid.into(),
            reviewer_uuid: view.entry.reviewer_uuid.map(HexUuid),
            reviewer_name: view.reviewer_name(),
            reviewer_email: view.reviewer_email(),
            affinity_score: suggestion.affinity_score,
            current_assignments: view.current_assignments,
            max_assignments: view.entry.max_assignments,
            has_capacity: suggestion.has_capacity,
            rank: suggestion.rank,
            coi_status: suggestion.coi_status,
        }
    }
}

/// Response of suggest_alternatives.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionsOut {
    pub suggestions: Vec<SuggestionOut>,
}

const ORDERING: &[(&str, ItemOrder)] = &[
    ("created", ItemOrder::Created),
    ("affinity_score", ItemOrder::AffinityScore),
    ("status", ItemOrder::Status),
    ("responded_at", ItemOrder::RespondedAt),
];

/// Default and maximum number of suggestions.
const DEFAULT_SUGGESTIONS: usize = 10;
const MAX_SUGGESTIONS: usize = 50;

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// `has_coi` as Waldur's boolean filter reads it: `true`/`True` or `false`/`False`; any
/// other value leaves the filter off.
fn has_coi_filter(params: &Params) -> Option<bool> {
    match params.single("has_coi") {
        Some("true" | "True") => Some(true),
        Some("false" | "False") => Some(false),
        _ => None,
    }
}

/// List assignment items visible to the caller.
#[utoipa::path(
    get,
    path = "/api/assignment-items/",
    tag = "assignment-items",
    params(
        ("batch_uuid" = Option<String>, Query, description = "Batch UUID"),
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("proposal_uuid" = Option<String>, Query, description = "Proposal UUID"),
        ("reviewer_uuid" = Option<String>, Query, description = "Reviewer profile UUID"),
        ("status" = Option<Vec<ItemStatus>>, Query, description = "Any of these statuses; repeat the key for several"),
        ("has_coi" = Option<bool>, Query, description = "Blocked by a conflict of interest: true or false"),
        ("min_affinity_score" = Option<f64>, Query, description = "Minimum affinity score; items without a score never match"),
        ("o" = Option<String>, Query, description = "Ordering: created, affinity_score, status, responded_at; prefix - for descending. Default -created"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of items", body = Vec<ItemOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_items(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ItemOut>> {
    let (filter, order, spec) = list_query(&params)?;
    let response = list_page(&state, spec, url, move |connection, page| {
        items::list_items(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(ItemOut::new))
}

/// Parses the filters, ordering and page of an item list, so that GET and HEAD reject the
/// same queries with the same errors.
fn list_query(params: &Params) -> ApiResult<(ItemFilter, Vec<SortKey<ItemOrder>>, PageSpec)> {
    let mut errors = FieldErrors::new();
    let filter = ItemFilter {
        batch_uuid: params.uuid("batch_uuid", &mut errors),
        call_uuid: params.uuid("call_uuid", &mut errors),
        proposal_uuid: params.uuid("proposal_uuid", &mut errors),
        reviewer_uuid: params.uuid("reviewer_uuid", &mut errors),
        statuses: params.choices("status", &mut errors),
        has_coi: has_coi_filter(params),
        min_affinity_score: params.number("min_affinity_score", &mut errors),
    };
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let spec = params.page()?;
    Ok((filter, order, spec))
}

/// Count assignment items visible to the caller (`X-Result-Count`, no body).
///
/// Only the count runs. The ordering and page are validated as for GET, but no page is loaded.
#[utoipa::path(
    head,
    path = "/api/assignment-items/",
    tag = "assignment-items",
    params(
        ("batch_uuid" = Option<String>, Query, description = "Batch UUID"),
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("proposal_uuid" = Option<String>, Query, description = "Proposal UUID"),
        ("reviewer_uuid" = Option<String>, Query, description = "Reviewer profile UUID"),
        ("status" = Option<Vec<ItemStatus>>, Query, description = "Any of these statuses"),
        ("has_coi" = Option<bool>, Query, description = "Blocked by a conflict of interest"),
        ("min_affinity_score" = Option<f64>, Query, description = "Minimum affinity score"),
    ),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 400, description = "Invalid filter", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_items(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ItemOut>> {
    let (filter, _order, spec) = list_query(&params)?;
    count_page(&state, spec, url, move |connection| {
        items::count_items(connection, &actor, &filter)
    })
    .await
}

/// Add one proposal to a draft batch (managers). The item is COI-blocked when the reviewer
/// has a blocking conflict on the proposal; an unblocked item must fit the reviewer's
/// workload limit unless `override_workload_limit` is true.
#[utoipa::path(
    post,
    path = "/api/assignment-items/",
    tag = "assignment-items",
    request_body = ItemCreateRequest,
    responses(
        (status = 201, description = "Created", body = ItemOut),
        (status = 400, description = "Batch not a visible draft, proposal outside the call or already in the batch (field errors), or workload limit reached (error and code)", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the batch's call", body = DetailBody),
    )
)]
pub async fn create_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<ItemCreateRequest>,
) -> ApiResult<(StatusCode, Json<ItemOut>)> {
    let request = NewItemRequest {
        batch_uuid: body.batch.0,
        proposal_uuid: body.proposal.0,
        override_workload_limit: body.override_workload_limit,
    };
    let view = state
        .run(move |connection| items::create_item(connection, &actor, &request))
        .await?;
    Ok((StatusCode::CREATED, Json(ItemOut::new(view, &url))))
}

/// Retrieve an assignment item.
#[utoipa::path(
    get,
    path = "/api/assignment-items/{uuid}/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    responses(
        (status = 200, description = "The item", body = ItemOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ItemOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| items::find_visible_item_view(connection, &actor, uuid))
        .await?;
    Ok(Json(ItemOut::new(view, &url)))
}

async fn apply_update(
    state: AppState,
    actor: referee_domain::Actor,
    uuid: &str,
    body: ItemUpdateRequest,
    url: RequestUrl,
) -> ApiResult<Json<ItemOut>> {
    let uuid = path_uuid(uuid)?;
    let view = state
        .run(move |connection| items::update_item(connection, &actor, uuid, body.decline_reason))
        .await?;
    Ok(Json(ItemOut::new(view, &url)))
}

/// Update an item's decline reason (managers); other keys are ignored.
#[utoipa::path(
    put,
    path = "/api/assignment-items/{uuid}/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    request_body = ItemUpdateRequest,
    responses(
        (status = 200, description = "Updated", body = ItemOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the item's call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ItemUpdateRequest>,
) -> ApiResult<Json<ItemOut>> {
    apply_update(state, actor, &uuid, body, url).await
}

/// Change an item's decline reason (managers); other keys are ignored.
#[utoipa::path(
    patch,
    path = "/api/assignment-items/{uuid}/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    request_body = ItemUpdateRequest,
    responses(
        (status = 200, description = "Updated", body = ItemOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the item's call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ItemUpdateRequest>,
) -> ApiResult<Json<ItemOut>> {
    apply_update(state, actor, &uuid, body, url).await
}

/// Delete an item (managers).
#[utoipa::path(
    delete,
    path = "/api/assignment-items/{uuid}/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the item's call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| items::delete_item(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an assignment (the item's reviewer only) and create its review.
#[utoipa::path(
    post,
    path = "/api/assignment-items/{uuid}/accept/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    responses(
        (status = 200, description = "Accepted; the review is created", body = ItemAnswerOut),
        (status = 400, description = "Deadline passed, not pending, unresolved COI or no reviewer profile", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not the item's reviewer", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn accept_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<Json<ItemAnswerOut>> {
    let uuid = path_uuid(&uuid)?;
    let review_uuid = state
        .run(move |connection| items::accept_item(connection, &actor, uuid))
        .await?;
    Ok(Json(ItemAnswerOut {
        detail: "Assignment accepted. Review created.".into(),
        review_uuid: Some(review_uuid.into()),
    }))
}

/// Decline an assignment (the item's reviewer only). When the call enables
/// `auto_reassign_on_decline`, the proposal moves at once to the best alternative reviewer
/// with capacity.
#[utoipa::path(
    post,
    path = "/api/assignment-items/{uuid}/decline/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    request_body = DeclineRequest,
    responses(
        (status = 200, description = "Declined", body = ItemAnswerOut),
        (status = 400, description = "Deadline passed or not pending (error and code), or a reason that is not a string", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not the item's reviewer", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn decline_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<DeclineRequest>,
) -> ApiResult<Json<ItemAnswerOut>> {
    let uuid = path_uuid(&uuid)?;
    let reason = body.reason.unwrap_or_default();
    state
        .run(move |connection| items::decline_item(connection, &actor, uuid, &reason))
        .await?;
    Ok(Json(ItemAnswerOut {
        detail: "Assignment declined.".into(),
        review_uuid: None,
    }))
}

/// Suggest reviewers who could take over a declined item (managers), best first: reviewers
/// with capacity before those without, then higher affinity, fewer open assignments and
/// pool order.
#[utoipa::path(
    get,
    path = "/api/assignment-items/{uuid}/suggest_alternatives/",
    tag = "assignment-items",
    params(
        ("uuid" = String, Path, description = "Item UUID"),
        ("limit" = Option<i64>, Query, description = "Maximum number of suggestions, 1 to 50; default 10"),
    ),
    responses(
        (status = 200, description = "Suggestions, best first", body = SuggestionsOut),
        (status = 400, description = "Item not declined (error and code), or an invalid limit", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the item's call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn suggest_alternatives(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
) -> ApiResult<Json<SuggestionsOut>> {
    let uuid = path_uuid(&uuid)?;
    let limit = match params.single("limit").filter(|value| !value.is_empty()) {
        None => DEFAULT_SUGGESTIONS,
        Some(value) => match value.parse::<usize>() {
            Ok(limit) if (1..=MAX_SUGGESTIONS).contains(&limit) => limit,
            _ => {
                return Err(ApiError::field(
                    "limit",
                    format!(
                        "{value:?} is not a valid limit. Send a whole number from 1 to {MAX_SUGGESTIONS}."
                    ),
                ));
            }
        },
    };
    let suggestions = state
        .run(move |connection| items::suggest_alternatives(connection, &actor, uuid, limit))
        .await?;
    Ok(Json(SuggestionsOut {
        suggestions: suggestions.into_iter().map(SuggestionOut::new).collect(),
    }))
}

/// Reassign a declined or expired item to another accepted reviewer of the call (managers).
/// The new item lands in the reviewer's draft batch, which is created when missing.
#[utoipa::path(
    post,
    path = "/api/assignment-items/{uuid}/reassign/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    request_body = ReassignItemRequest,
    responses(
        (status = 200, description = "Reassigned", body = ReassignOut),
        (status = 400, description = "Invalid body (field errors), or the item, the pool entry or the workload refuses it (error and code)", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the item's call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn reassign_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<ReassignItemRequest>,
) -> ApiResult<Json<ReassignOut>> {
    let uuid = path_uuid(&uuid)?;
    let request = ReassignRequest {
        pool_entry_uuid: body.reviewer_pool_entry_uuid.0,
        manager_notes: body.manager_notes.unwrap_or_default(),
        override_workload_limit: body.override_workload_limit,
    };
    let reassigned = state
        .run(move |connection| items::reassign_item(connection, &actor, uuid, &request))
        .await?;
    Ok(Json(ReassignOut {
        detail: "Assignment reassigned successfully.".into(),
        new_item_uuid: reassigned.new_item.uuid.into(),
        new_batch_uuid: reassigned.new_batch_uuid.into(),
        has_coi: reassigned.new_item.has_coi,
    }))
}

/// Lift the COI block of an item (managers): it returns to pending with the override
/// recorded, its conflict links stay, and a responded batch reopens.
#[utoipa::path(
    post,
    path = "/api/assignment-items/{uuid}/force-unblock/",
    tag = "assignment-items",
    params(("uuid" = String, Path, description = "Item UUID")),
    request_body = ForceUnblockRequest,
    responses(
        (status = 200, description = "Unblocked", body = ItemOut),
        (status = 400, description = "Item not COI-blocked (error and code), or a missing or blank override_reason", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the item's call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn force_unblock_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ForceUnblockRequest>,
) -> ApiResult<Json<ItemOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| {
            items::force_unblock(
                connection,
                &actor,
                uuid,
                body.override_reason.as_deref(),
                body.override_workload_limit,
            )
        })
        .await?;
    Ok(Json(ItemOut::new(view, &url)))
}
