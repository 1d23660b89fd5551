//! `/api/proposal-reviews/`: reviews created when a reviewer accepts an assignment item.
//!
//! Applicants (proposal creators) see no reviews; the call flags that would show them
//! submitted reviews are not applied.

use axum::Json;
use axum::extract::{Path, State};
use referee_domain::FieldErrors;
use referee_domain::enums::ReviewState;
use referee_store::reviews::{
    self, ReviewChanges, ReviewFilter, ReviewOrder, ReviewView, Submission,
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
use crate::wire::{HexUuid, WireTime, double_option, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reviews, count_reviews))
        .routes(routes!(
            retrieve_review,
            update_review,
            partial_update_review
        ))
        .routes(routes!(submit_review))
        .routes(routes!(reject_review))
}

/// Largest `summary_score`: the range of an unsigned 16-bit database integer.
pub const MAX_SUMMARY_SCORE: i32 = 32_767;
/// Longest `comment_*` text, in characters.
pub const MAX_COMMENT_LENGTH: usize = 255;

/// A review of a proposal by one reviewer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    pub url: String,
    pub uuid: HexUuid,
    pub proposal: String,
    pub proposal_name: String,
    pub proposal_uuid: HexUuid,
    pub proposal_slug: String,
    /// Hyperlink of the reviewer's user.
    pub reviewer: String,
    /// UUID of the reviewer's user.
    pub reviewer_uuid: HexUuid,
    pub reviewer_full_name: String,
    pub state: ReviewState,
    /// Deadline; null when the round sets no review duration.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub review_end_date: Option<WireTime>,
    pub round_uuid: HexUuid,
    pub round_name: String,
    pub round_slug: String,
    pub round_start_time: WireTime,
    pub round_cutoff_time: WireTime,
    pub call_name: String,
    pub call_uuid: HexUuid,
    pub call_slug: String,
    /// UUID of the organisation that manages the call.
    pub call_managing_organisation_uuid: HexUuid,
    /// Always null: referee stores no reviewer images.
    pub reviewer_image: Option<String>,
    /// Whether the reviewer must confirm having no conflict of interest before submitting;
    /// always false in referee.
    pub coi_confirmation_required: bool,
    pub summary_score: i32,
    pub summary_public_comment: String,
    pub summary_private_comment: String,
    pub comment_project_title: Option<String>,
    pub comment_project_summary: Option<String>,
    pub comment_project_description: Option<String>,
    pub comment_project_supporting_documentation: Option<String>,
    pub comment_resource_requests: Option<String>,
    pub comment_team: Option<String>,
    pub coi_confirmed: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub coi_confirmed_at: Option<WireTime>,
    pub created: WireTime,
    pub modified: WireTime,
}

impl ReviewOut {
    pub fn new(view: ReviewView, url: &RequestUrl) -> Self {
        let review = view.review;
        Self {
            url: url.resource("proposal-reviews", review.uuid),
            uuid: review.uuid.into(),
            proposal: url.resource("proposal-proposals", review.proposal_uuid),
            proposal_name: view.proposal_name,
            proposal_uuid: review.proposal_uuid.into(),
            proposal_slug: view.proposal_slug,
            reviewer: url.resource("users", review.reviewer_user_uuid),
            reviewer_uuid: review.reviewer_user_uuid.into(),
            reviewer_full_name: view.reviewer_full_name,
            state: review.state,
            review_end_date: review.review_end_date.map(WireTime),
            round_uuid: view.round.uuid.into(),
            round_name: view.round.name(),
            round_slug: view.round.slug.clone(),
            round_start_time: view.round.start_time.into(),
            round_cutoff_time: view.round.cutoff_time.into(),
            call_name: view.call_name,
            call_uuid: review.call_uuid.into(),
            call_slug: view.call_slug,
            call_managing_organisation_uuid: view.call_customer_uuid.into(),
            reviewer_image: None,
            coi_confirmation_required: false,
            summary_score: review.summary_score,
            summary_public_comment: review.summary_public_comment,
            summary_private_comment: review.summary_private_comment,
            comment_project_title: review.comment_project_title,
            comment_project_summary: review.comment_project_summary,
            comment_project_description: review.comment_project_description,
            comment_project_supporting_documentation: review
                .comment_project_supporting_documentation,
            comment_resource_requests: review.comment_resource_requests,
            comment_team: review.comment_team,
            coi_confirmed: review.coi_confirmed,
            coi_confirmed_at: review.coi_confirmed_at.map(WireTime),
            created: review.created.into(),
            modified: review.modified.into(),
        }
    }
}

/// Body of a PUT or PATCH of a review; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReviewPatch {
    /// 0 to 32767.
    pub summary_score: Option<i32>,
    pub summary_public_comment: Option<String>,
    pub summary_private_comment: Option<String>,
    /// At most 255 characters each; `null` clears them.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub comment_project_title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub comment_project_summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub comment_project_description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub comment_project_supporting_documentation: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub comment_resource_requests: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub comment_team: Option<Option<String>>,
}

/// Body of a submission; absent fields keep their stored values.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SubmitRequest {
    /// 0 to 32767.
    pub summary_score: Option<i32>,
    pub summary_public_comment: Option<String>,
    pub summary_private_comment: Option<String>,
    /// The reviewer confirms having no conflict of interest; stamps `coi_confirmed_at`.
    pub coi_confirmed: Option<bool>,
}

const ORDERING: &[(&str, ReviewOrder)] = &[
    ("created", ReviewOrder::Created),
    ("state", ReviewOrder::State),
];

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

fn check_score(score: Option<i32>, errors: &mut FieldErrors) {
    if let Some(score) = score
        && !(0..=MAX_SUMMARY_SCORE).contains(&score)
    {
        errors.add(
            "summary_score",
            format!(
                "{score} is out of range. Ensure this value is between 0 and {MAX_SUMMARY_SCORE}."
            ),
        );
    }
}

fn check_comments(patch: &ReviewPatch, errors: &mut FieldErrors) {
    let comments = [
        ("comment_project_title", &patch.comment_project_title),
        ("comment_project_summary", &patch.comment_project_summary),
        (
            "comment_project_description",
            &patch.comment_project_description,
        ),
        (
            "comment_project_supporting_documentation",
            &patch.comment_project_supporting_documentation,
        ),
        (
            "comment_resource_requests",
            &patch.comment_resource_requests,
        ),
        ("comment_team", &patch.comment_team),
    ];
    for (field, value) in comments {
        if let Some(Some(text)) = value
            && text.chars().count() > MAX_COMMENT_LENGTH
        {
            errors.add(
                field,
                format!(
                    "Ensure this field has no more than {MAX_COMMENT_LENGTH} characters; it has {}.",
                    text.chars().count()
                ),
            );
        }
    }
}

/// List reviews visible to the caller.
#[utoipa::path(
    get,
    path = "/api/proposal-reviews/",
    tag = "proposal-reviews",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("proposal_uuid" = Option<String>, Query, description = "Proposal UUID"),
        ("reviewer_uuid" = Option<String>, Query, description = "UUID of the reviewer's user"),
        ("round_uuid" = Option<String>, Query, description = "Round UUID"),
        ("state" = Option<Vec<ReviewState>>, Query, description = "Repeat for several states"),
        ("proposal_name" = Option<String>, Query, description = "Case-insensitive substring of the proposal's name"),
        ("o" = Option<String>, Query, description = "Ordering: created, state; prefix - for descending; default -created"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of reviews", body = Vec<ReviewOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_reviews(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ReviewOut>> {
    let mut errors = FieldErrors::new();
    let filter = ReviewFilter {
        call_uuid: params.uuid("call_uuid", &mut errors),
        proposal_uuid: params.uuid("proposal_uuid", &mut errors),
        reviewer_uuid: params.uuid("reviewer_uuid", &mut errors),
        round_uuid: params.uuid("round_uuid", &mut errors),
        states: params.choices("state", &mut errors),
        proposal_name: params.text("proposal_name"),
    };
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        reviews::list_reviews(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(ReviewOut::new))
}

/// Count reviews visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/proposal-reviews/",
    tag = "proposal-reviews",
    params(
        ("call_uuid" = Option<String>, Query, description = "Call UUID"),
        ("state" = Option<Vec<ReviewState>>, Query, description = "Repeat for several states"),
    ),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_reviews(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ReviewOut>> {
    list_reviews(state, auth, params, url).await
}

/// Retrieve a review.
#[utoipa::path(
    get,
    path = "/api/proposal-reviews/{uuid}/",
    tag = "proposal-reviews",
    params(("uuid" = String, Path, description = "Review UUID")),
    responses(
        (status = 200, description = "The review", body = ReviewOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_review(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ReviewOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| reviews::find_visible_review_view(connection, &actor, uuid))
        .await?;
    Ok(Json(ReviewOut::new(view, &url)))
}

async fn apply_patch(
    state: AppState,
    actor: referee_domain::Actor,
    uuid: &str,
    body: ReviewPatch,
    url: RequestUrl,
) -> ApiResult<Json<ReviewOut>> {
    let uuid = path_uuid(uuid)?;
    let mut errors = FieldErrors::new();
    check_score(body.summary_score, &mut errors);
    check_comments(&body, &mut errors);
    check(errors)?;
    let changes = ReviewChanges {
        summary_score: body.summary_score,
        summary_public_comment: body.summary_public_comment,
        summary_private_comment: body.summary_private_comment,
        comment_project_title: body.comment_project_title,
        comment_project_summary: body.comment_project_summary,
        comment_project_description: body.comment_project_description,
        comment_project_supporting_documentation: body.comment_project_supporting_documentation,
        comment_resource_requests: body.comment_resource_requests,
        comment_team: body.comment_team,
    };
    let view = state
        .run(move |connection| reviews::update_review(connection, &actor, uuid, &changes))
        .await?;
    Ok(Json(ReviewOut::new(view, &url)))
}

/// Change the scores and comments of a review in review (the reviewer and staff).
#[utoipa::path(
    put,
    path = "/api/proposal-reviews/{uuid}/",
    tag = "proposal-reviews",
    params(("uuid" = String, Path, description = "Review UUID")),
    request_body = ReviewPatch,
    responses(
        (status = 200, description = "Updated", body = ReviewOut),
        (status = 400, description = "Invalid field, or the review is no longer in review", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is neither the reviewer nor staff", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_review(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ReviewPatch>,
) -> ApiResult<Json<ReviewOut>> {
    apply_patch(state, actor, &uuid, body, url).await
}

/// Change some scores and comments of a review in review (the reviewer and staff).
#[utoipa::path(
    patch,
    path = "/api/proposal-reviews/{uuid}/",
    tag = "proposal-reviews",
    params(("uuid" = String, Path, description = "Review UUID")),
    request_body = ReviewPatch,
    responses(
        (status = 200, description = "Updated", body = ReviewOut),
        (status = 400, description = "Invalid field, or the review is no longer in review", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is neither the reviewer nor staff", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_review(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ReviewPatch>,
) -> ApiResult<Json<ReviewOut>> {
    apply_patch(state, actor, &uuid, body, url).await
}

/// Submit a review in review (the reviewer).
#[utoipa::path(
    post,
    path = "/api/proposal-reviews/{uuid}/submit/",
    tag = "proposal-reviews",
    params(("uuid" = String, Path, description = "Review UUID")),
    request_body = SubmitRequest,
    responses(
        (status = 200, description = "The submitted review", body = ReviewOut),
        (status = 400, description = "Invalid field, or the review is no longer in review", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not the reviewer", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn submit_review(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<SubmitRequest>,
) -> ApiResult<Json<ReviewOut>> {
    let uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    check_score(body.summary_score, &mut errors);
    check(errors)?;
    let submission = Submission {
        summary_score: body.summary_score,
        summary_public_comment: body.summary_public_comment,
        summary_private_comment: body.summary_private_comment,
        coi_confirmed: body.coi_confirmed,
    };
    let view = state
        .run(move |connection| reviews::submit_review(connection, &actor, uuid, &submission))
        .await?;
    Ok(Json(ReviewOut::new(view, &url)))
}

/// Reject a review that is in review or submitted (managers of the call).
#[utoipa::path(
    post,
    path = "/api/proposal-reviews/{uuid}/reject/",
    tag = "proposal-reviews",
    params(("uuid" = String, Path, description = "Review UUID")),
    responses(
        (status = 200, description = "The rejected review", body = ReviewOut),
        (status = 400, description = "The review is already rejected", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn reject_review(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ReviewOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| reviews::reject_review(connection, &actor, uuid))
        .await?;
    Ok(Json(ReviewOut::new(view, &url)))
}
