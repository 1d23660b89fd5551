//! Reviewer suggestions: the call actions `generate-suggestions`, `suggestions` and
//! `send-invitations` under `/api/proposal-protected-calls/{uuid}/`, and the suggestions at
//! `/api/reviewer-suggestions/`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::FieldErrors;
use referee_domain::enums::{
    CoiSeverity, CoiType, KeywordSearchMode, SuggestionSource, SuggestionStatus, WireEnum,
};
use referee_domain::suggestion::MAX_KEYWORD_CHARS;
use referee_store::suggestions::{
    self, GenerateRequest, SuggestionFilter, SuggestionOrder, SuggestionView, TopProposal,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::affinity::conflict_keys;
use crate::api::common::{check, list_page};
use crate::error::{ApiError, ApiResult, BadRequestBody, DetailBody};
use crate::extract::{Auth, JsonBody, Params};
use crate::links::{ArrayResponse, ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(generate_suggestions))
        .routes(routes!(list_call_suggestions))
        .routes(routes!(send_invitations))
        .routes(routes!(list_suggestions, count_suggestions))
        .routes(routes!(retrieve_suggestion, delete_suggestion))
        .routes(routes!(confirm_suggestion))
        .routes(routes!(reject_suggestion))
}

/// One of a suggested reviewer's best-matching proposals, with the conflict-of-interest state
/// of the pair as it is now.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchingProposalOut {
    pub uuid: HexUuid,
    pub name: String,
    pub slug: String,
    /// Combined score from 0 to 1 when the suggestion was generated.
    pub affinity: f64,
    /// Keyword score from 0 to 1; null when it is 0.
    pub keyword_score: Option<f64>,
    /// TF-IDF text score from 0 to 1; null when it is 0.
    pub text_score: Option<f64>,
    /// Whether any conflict of interest, of any status, is recorded for the pair.
    pub has_coi: bool,
    /// Type of the pair's oldest blocking conflict, else of its oldest conflict; null without
    /// a conflict.
    pub coi_type: Option<CoiType>,
    /// Severity of the same conflict; null without a conflict.
    pub coi_severity: Option<CoiSeverity>,
    /// Status of the same conflict; else `none` when conflict detection evaluated
    /// the pair, and `unknown` when it never did.
    pub coi_status: String,
}

impl From<TopProposal> for MatchingProposalOut {
    fn from(proposal: TopProposal) -> Self {
        let (has_coi, coi_type, coi_severity, coi_status) = conflict_keys(proposal.conflict);
        Self {
            uuid: proposal.uuid.into(),
            name: proposal.name,
            slug: proposal.slug,
            affinity: proposal.affinity,
            keyword_score: proposal.keyword_score,
            text_score: proposal.text_score,
            has_coi,
            coi_type,
            coi_severity,
            coi_status,
        }
    }
}

/// A reviewer suggested for a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewerSuggestionOut {
    pub url: String,
    pub uuid: HexUuid,
    /// Hyperlink of the call.
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    /// Hyperlink of the reviewer profile.
    pub reviewer: String,
    /// UUID of the reviewer profile.
    pub reviewer_uuid: HexUuid,
    pub reviewer_name: String,
    pub reviewer_email: String,
    pub reviewer_biography: String,
    /// Combined score from 0 to 1, 4 decimals.
    pub affinity_score: f64,
    /// Keyword score from 0 to 1; null when it is 0.
    pub keyword_score: Option<f64>,
    /// TF-IDF text score from 0 to 1; null when it is 0.
    pub text_score: Option<f64>,
    pub status: SuggestionStatus,
    pub status_display: String,
    /// Hyperlink of the user who confirmed or rejected the suggestion; null before that.
    pub reviewed_by: Option<String>,
    pub reviewed_by_name: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reviewed_at: Option<WireTime>,
    /// Empty unless a manager gave a reason when rejecting.
    pub rejection_reason: String,
    /// The reviewer's keywords that matched, lower-cased, sorted.
    pub matched_keywords: Vec<String>,
    /// Up to 5 proposals the reviewer matched best, best first; empty unless the suggestion
    /// was generated from proposals.
    pub top_matching_proposals: Vec<MatchingProposalOut>,
    pub source_type: SuggestionSource,
    pub source_type_display: String,
    pub created: WireTime,
}

impl ReviewerSuggestionOut {
    pub fn new(view: SuggestionView, url: &RequestUrl) -> Self {
        let suggestion = view.suggestion;
        Self {
            url: url.resource("reviewer-suggestions", suggestion.uuid),
            uuid: suggestion.uuid.into(),
            call: url.resource("proposal-protected-calls", suggestion.call_uuid),
            call_uuid: suggestion.call_uuid.into(),
            call_name: view.call_name,
            reviewer: url.resource("reviewer-profiles", suggestion.reviewer_uuid),
            reviewer_uuid: suggestion.reviewer_uuid.into(),
            reviewer_name: view.reviewer_name,
            reviewer_email: view.reviewer_email,
            reviewer_biography: view.reviewer_biography,
            affinity_score: suggestion.affinity_score,
            keyword_score: suggestion.keyword_score,
            text_score: suggestion.text_score,
            status: suggestion.status,
            status_display: suggestion.status.display().to_owned(),
            reviewed_by: suggestion
                .reviewed_by_uuid
                .map(|uuid| url.resource("users", uuid)),
            reviewed_by_name: view.reviewed_by_name,
            reviewed_at: suggestion.reviewed_at.map(WireTime),
            rejection_reason: suggestion.rejection_reason,
            matched_keywords: view.matched_keywords,
            top_matching_proposals: view
                .top_matching_proposals
                .into_iter()
                .map(MatchingProposalOut::from)
                .collect(),
            source_type: suggestion.source_type,
            source_type_display: suggestion.source_type.display().to_owned(),
            created: suggestion.created.into(),
        }
    }
}

/// Body of `generate-suggestions`; an empty body scores against all proposals of the call.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct GenerateSuggestionsRequest {
    /// Source that reviewers are scored against: `all_proposals` by default, which falls back
    /// to `call_description` when the call has no proposal.
    #[schema(value_type = Option<SuggestionSource>, example = "all_proposals")]
    pub source: Option<String>,
    /// Proposals of the call, required for `selected_proposals`. UUIDs of other proposals
    /// are ignored.
    pub proposal_uuids: Option<Vec<HexUuid>>,
    /// Keywords of at most 100 characters each, required for `custom_keywords`.
    pub keywords: Option<Vec<String>>,
    /// Comparison of `custom_keywords`: `expertise_only` (default) or `full_text`.
    #[schema(value_type = Option<KeywordSearchMode>, example = "expertise_only")]
    pub keyword_search_mode: Option<String>,
    /// Minimum affinity from 0 to 1; defaults to the call's `min_affinity_threshold`.
    pub min_affinity_threshold: Option<f64>,
}

/// A suggestion created by `generate-suggestions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedSuggestionOut {
    pub uuid: HexUuid,
    /// UUID of the reviewer profile.
    pub reviewer_uuid: HexUuid,
    pub reviewer_name: String,
    pub affinity_score: f64,
    pub keyword_score: Option<f64>,
    pub text_score: Option<f64>,
    pub matched_keywords: Vec<String>,
    pub top_matching_proposals: Vec<MatchingProposalOut>,
}

impl From<SuggestionView> for GeneratedSuggestionOut {
    fn from(view: SuggestionView) -> Self {
        let suggestion = view.suggestion;
        Self {
            uuid: suggestion.uuid.into(),
            reviewer_uuid: suggestion.reviewer_uuid.into(),
            reviewer_name: view.reviewer_name,
            affinity_score: suggestion.affinity_score,
            keyword_score: suggestion.keyword_score,
            text_score: suggestion.text_score,
            matched_keywords: view.matched_keywords,
            top_matching_proposals: view
                .top_matching_proposals
                .into_iter()
                .map(MatchingProposalOut::from)
                .collect(),
        }
    }
}

/// Outcome of `generate-suggestions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenerateSuggestionsOut {
    pub suggestions_created: usize,
    /// Candidate reviewers scored: published, available profiles outside the call's pool and
    /// not suggested before.
    pub reviewers_evaluated: usize,
    pub source_used: SuggestionSource,
    /// The created suggestions, highest affinity first.
    pub suggestions: Vec<GeneratedSuggestionOut>,
}

/// Body of a rejection.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RejectSuggestionRequest {
    /// Reason for the rejection; may be left out or blank.
    pub reason: Option<String>,
}

/// Outcome of `send-invitations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendInvitationsOut {
    /// Pool invitations created from confirmed suggestions.
    pub invitations_sent: usize,
}

const ORDERING: &[(&str, SuggestionOrder)] = &[
    ("affinity_score", SuggestionOrder::AffinityScore),
    ("created", SuggestionOrder::Created),
    ("status", SuggestionOrder::Status),
    ("reviewed_at", SuggestionOrder::ReviewedAt),
];

fn path_uuid(text: &str) -> ApiResult<Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// Parses an optional choice of a request body; an unknown value is a 400 on `field`.
fn body_choice<E: WireEnum>(
    value: Option<&str>,
    field: &str,
    default: E,
    errors: &mut FieldErrors,
) -> E {
    let Some(text) = value else {
        return default;
    };
    match text.parse::<E>() {
        Ok(choice) => choice,
        Err(unknown) => {
            errors.add(
                field,
                format!(
                    "\"{text}\" is not a valid choice. Send one of: {}.",
                    unknown.expected.join(", ")
                ),
            );
            default
        }
    }
}

/// Checks a `generate-suggestions` body and turns it into a store request.
fn generate_request(body: GenerateSuggestionsRequest) -> ApiResult<GenerateRequest> {
    let mut errors = FieldErrors::new();
    let source = body_choice(
        body.source.as_deref(),
        "source",
        SuggestionSource::AllProposals,
        &mut errors,
    );
    let keyword_search_mode = body_choice(
        body.keyword_search_mode.as_deref(),
        "keyword_search_mode",
        KeywordSearchMode::ExpertiseOnly,
        &mut errors,
    );

    let proposal_uuids: Vec<Uuid> = body
        .proposal_uuids
        .unwrap_or_default()
        .into_iter()
        .map(|uuid| uuid.0)
        .collect();
    if source == SuggestionSource::SelectedProposals && proposal_uuids.is_empty() {
        errors.add(
            "proposal_uuids",
            "This field is required when source is \"selected_proposals\". List the UUIDs of proposals of this call.",
        );
    }

    let keywords = body.keywords.unwrap_or_default();
    if source == SuggestionSource::CustomKeywords && keywords.is_empty() {
        errors.add(
            "keywords",
            "This field is required when source is \"custom_keywords\". List at least one keyword.",
        );
    }
    for (index, keyword) in keywords.iter().enumerate() {
        let length = keyword.chars().count();
        if keyword.trim().is_empty() {
            errors.add(
                "keywords",
                format!("Keyword {index} is blank. Remove it or give a word."),
            );
        } else if length > MAX_KEYWORD_CHARS {
            errors.add(
                "keywords",
                format!(
                    "Keyword {index} has {length} characters. Shorten it to at most {MAX_KEYWORD_CHARS}."
                ),
            );
        }
    }

    if let Some(threshold) = body.min_affinity_threshold
        && !(0.0..=1.0).contains(&threshold)
    {
        errors.add(
            "min_affinity_threshold",
            format!("{threshold} is out of range. Ensure this value is between 0 and 1."),
        );
    }
    check(errors)?;

    Ok(GenerateRequest {
        source,
        proposal_uuids,
        keywords: keywords
            .into_iter()
            .map(|keyword| keyword.trim().to_owned())
            .collect(),
        keyword_search_mode,
        min_affinity_threshold: body.min_affinity_threshold,
    })
}

/// Suggest reviewers from outside the call's pool (managers of the call).
///
/// Candidates are published reviewer profiles available for reviews that have no entry in the
/// call's pool (whatever its status, e-mail invitations included) and were not suggested for
/// the call before. Each candidate at or above the threshold becomes a `pending` suggestion.
/// Conflicts of interest do not filter candidates; each best-matching proposal reports the
/// pair's conflict state.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/generate-suggestions/",
    tag = "reviewer-suggestions",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = GenerateSuggestionsRequest,
    responses(
        (status = 200, description = "Counts and the created suggestions", body = GenerateSuggestionsOut),
        (status = 400, description = "Invalid field; nothing was created", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn generate_suggestions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<GenerateSuggestionsRequest>,
) -> ApiResult<Json<GenerateSuggestionsOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let request = generate_request(body)?;
    let generated = state
        .run(move |connection| {
            suggestions::generate_suggestions(connection, &actor, call_uuid, &request)
        })
        .await?;
    Ok(Json(GenerateSuggestionsOut {
        suggestions_created: generated.suggestions_created,
        reviewers_evaluated: generated.reviewers_evaluated,
        source_used: generated.source_used,
        suggestions: generated
            .suggestions
            .into_iter()
            .map(GeneratedSuggestionOut::from)
            .collect(),
    }))
}

/// List every suggestion of a call, highest affinity first (not paginated).
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/suggestions/",
    tag = "reviewer-suggestions",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("status" = Option<Vec<SuggestionStatus>>, Query, description = "Repeat for several statuses"),
    ),
    responses(
        (status = 200, description = "The call's suggestions", body = Vec<ReviewerSuggestionOut>,
            headers(("x-result-count" = i64, description = "Number of suggestions"))),
        (status = 400, description = "Invalid filter", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the call's suggestions", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn list_call_suggestions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ArrayResponse<ReviewerSuggestionOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    let statuses: Vec<SuggestionStatus> = params.choices("status", &mut errors);
    check(errors)?;
    let views = state
        .run(move |connection| {
            suggestions::list_call_suggestions(connection, &actor, call_uuid, &statuses)
        })
        .await?;
    Ok(ArrayResponse(
        views
            .into_iter()
            .map(|view| ReviewerSuggestionOut::new(view, &url))
            .collect(),
    ))
}

/// Invite the reviewers of the call's confirmed suggestions to its pool (managers of the call).
///
/// Each becomes a pending pool entry with the suggestion's affinity as
/// `expertise_match_score`, and the reviewer is sent the invitation e-mail. Reviewers already
/// in the pool are not invited again. The suggestions become `invited`, so a repeated or
/// concurrent call creates no second invitation.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/send-invitations/",
    tag = "reviewer-suggestions",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "Number of pool invitations created", body = SendInvitationsOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn send_invitations(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<Json<SendInvitationsOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let invitations_sent = state
        .run(move |connection| suggestions::send_invitations(connection, &actor, call_uuid))
        .await?;
    Ok(Json(SendInvitationsOut { invitations_sent }))
}

/// List reviewer suggestions of calls the caller manages or reads.
#[utoipa::path(
    get,
    path = "/api/reviewer-suggestions/",
    tag = "reviewer-suggestions",
    params(
        ("call_uuid" = Option<String>, Query, description = "Suggestions of one call"),
        ("reviewer_uuid" = Option<String>, Query, description = "Suggestions of one reviewer profile"),
        ("status" = Option<Vec<SuggestionStatus>>, Query, description = "Repeat for several statuses"),
        ("min_affinity_score" = Option<f64>, Query, description = "Only suggestions with at least this affinity"),
        ("o" = Option<String>, Query, description = "Ordering: affinity_score, created, status, reviewed_at; prefix - for descending; default -affinity_score"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of suggestions", body = Vec<ReviewerSuggestionOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_suggestions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ReviewerSuggestionOut>> {
    let mut errors = FieldErrors::new();
    let filter = SuggestionFilter {
        call_uuid: params.uuid("call_uuid", &mut errors),
        reviewer_uuid: params.uuid("reviewer_uuid", &mut errors),
        statuses: params.choices("status", &mut errors),
        min_affinity_score: params.number("min_affinity_score", &mut errors),
    };
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        suggestions::list_suggestions(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(ReviewerSuggestionOut::new))
}

/// Count reviewer suggestions visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/reviewer-suggestions/",
    tag = "reviewer-suggestions",
    params(
        ("call_uuid" = Option<String>, Query, description = "Suggestions of one call"),
        ("reviewer_uuid" = Option<String>, Query, description = "Suggestions of one reviewer profile"),
        ("status" = Option<Vec<SuggestionStatus>>, Query, description = "Repeat for several statuses"),
        ("min_affinity_score" = Option<f64>, Query, description = "Only suggestions with at least this affinity"),
    ),
    responses(
        (status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 400, description = "Invalid filter"),
        (status = 401, description = "No or invalid credentials"),
    )
)]
pub async fn count_suggestions(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ReviewerSuggestionOut>> {
    list_suggestions(state, auth, params, url).await
}

/// Show one reviewer suggestion.
#[utoipa::path(
    get,
    path = "/api/reviewer-suggestions/{uuid}/",
    tag = "reviewer-suggestions",
    params(("uuid" = String, Path, description = "Suggestion UUID")),
    responses(
        (status = 200, description = "The suggestion", body = ReviewerSuggestionOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Suggestion not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_suggestion(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ReviewerSuggestionOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| suggestions::find_visible_suggestion_view(connection, &actor, uuid))
        .await?;
    Ok(Json(ReviewerSuggestionOut::new(view, &url)))
}

/// Delete a suggestion in any status (managers of the call); the reviewer may then be
/// suggested for the call again.
#[utoipa::path(
    delete,
    path = "/api/reviewer-suggestions/{uuid}/",
    tag = "reviewer-suggestions",
    params(("uuid" = String, Path, description = "Suggestion UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Suggestion not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_suggestion(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| suggestions::delete_suggestion(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirm a pending suggestion (staff, the call's managers and members of its organisation);
/// `send-invitations` then invites the reviewer. A request body is ignored.
#[utoipa::path(
    post,
    path = "/api/reviewer-suggestions/{uuid}/confirm/",
    tag = "reviewer-suggestions",
    params(("uuid" = String, Path, description = "Suggestion UUID")),
    responses(
        (status = 200, description = "The confirmed suggestion", body = ReviewerSuggestionOut),
        (status = 400, description = "The suggestion is not pending", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not review the call's suggestions", body = DetailBody),
        (status = 404, description = "Suggestion not found or not visible", body = DetailBody),
    )
)]
pub async fn confirm_suggestion(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ReviewerSuggestionOut>> {
    let uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| suggestions::confirm_suggestion(connection, &actor, uuid))
        .await?;
    Ok(Json(ReviewerSuggestionOut::new(view, &url)))
}

/// Reject a pending suggestion with an optional reason (staff, the call's managers and
/// members of its organisation).
#[utoipa::path(
    post,
    path = "/api/reviewer-suggestions/{uuid}/reject/",
    tag = "reviewer-suggestions",
    params(("uuid" = String, Path, description = "Suggestion UUID")),
    request_body = RejectSuggestionRequest,
    responses(
        (status = 200, description = "The rejected suggestion", body = ReviewerSuggestionOut),
        (status = 400, description = "Invalid body, or the suggestion is not pending", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not review the call's suggestions", body = DetailBody),
        (status = 404, description = "Suggestion not found or not visible", body = DetailBody),
    )
)]
pub async fn reject_suggestion(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<RejectSuggestionRequest>,
) -> ApiResult<Json<ReviewerSuggestionOut>> {
    let uuid = path_uuid(&uuid)?;
    let reason = body.reason.unwrap_or_default().trim().to_owned();
    let view = state
        .run(move |connection| suggestions::reject_suggestion(connection, &actor, uuid, &reason))
        .await?;
    Ok(Json(ReviewerSuggestionOut::new(view, &url)))
}
