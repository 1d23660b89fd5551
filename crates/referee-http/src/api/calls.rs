//! `/api/proposal-protected-calls/`: calls for proposals managed by an organisation, their
//! rounds, and the users holding roles on them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::enums::{CallRole, CallState};
use referee_domain::{Actor, DomainError, FieldErrors};
use referee_store::calls::{
    self, CallChanges, CallDetails, CallFilter, CallOrder, NewCall, NewRound, Round, RoundChanges,
};
use referee_store::users::{self, RoleScope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::common::{check, list_page};
use crate::api::roles::{RoleHolderOut, RoleRequest};
use crate::error::BadRequestBody;
use crate::error::{ApiError, ApiResult, DetailBody};
use crate::extract::{Auth, JsonBody, Params};
use crate::links::{ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, Reference, WireTime, double_option, parse_uuid};

/// Collection segment of call URLs.
const COLLECTION: &str = "proposal-protected-calls";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_calls, count_calls, create_call))
        .routes(routes!(
            retrieve_call,
            update_call,
            partial_update_call,
            delete_call
        ))
        .routes(routes!(list_rounds, create_round))
        .routes(routes!(
            retrieve_round,
            update_round,
            partial_update_round,
            delete_round
        ))
        .routes(routes!(list_call_users))
        .routes(routes!(add_call_user))
        .routes(routes!(delete_call_user))
}

/// A round of a call: a submission window and how long reviews may take.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundOut {
    /// Absolute URL of the round under its call.
    pub url: String,
    pub uuid: HexUuid,
    /// "Round DD.MM.YYYY-DD.MM.YYYY", from the start and cutoff dates.
    pub name: String,
    pub slug: String,
    pub start_time: WireTime,
    pub cutoff_time: WireTime,
    /// Days a reviewer has to finish a review, or null when not set.
    pub review_duration_in_days: Option<i32>,
}

impl RoundOut {
    pub fn new(round: Round, url: &RequestUrl) -> Self {
        Self {
            url: round_url(url, round.call_uuid, round.uuid),
            uuid: round.uuid.into(),
            name: round.name(),
            slug: round.slug,
            start_time: round.start_time.into(),
            cutoff_time: round.cutoff_time.into(),
            review_duration_in_days: round.review_duration_in_days,
        }
    }
}

fn round_url(url: &RequestUrl, call_uuid: Uuid, round_uuid: Uuid) -> String {
    url.absolute(&format!(
        "/api/{COLLECTION}/{}/rounds/{}/",
        call_uuid.simple(),
        round_uuid.simple()
    ))
}

/// A call for proposals managed by an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallOut {
    pub url: String,
    pub uuid: HexUuid,
    pub name: String,
    /// Upper-case identifier generated from the name when the call is created.
    pub slug: String,
    pub description: String,
    pub state: CallState,
    /// Hyperlink of the managing organisation.
    pub customer: String,
    pub customer_uuid: HexUuid,
    pub customer_name: String,
    pub reviewer_identity_visible_to_submitters: bool,
    pub reviews_visible_to_submitters: bool,
    /// Rounds of the call, earliest start first.
    pub rounds: Vec<RoundOut>,
    pub created: WireTime,
}

impl CallOut {
    pub fn new(details: CallDetails, url: &RequestUrl) -> Self {
        let CallDetails {
            call,
            customer_name,
            rounds,
        } = details;
        Self {
            url: url.resource(COLLECTION, call.uuid),
            uuid: call.uuid.into(),
            name: call.name,
            slug: call.slug,
            description: call.description,
            state: call.state,
            customer: url.resource("customers", call.customer_uuid),
            customer_uuid: call.customer_uuid.into(),
            customer_name,
            reviewer_identity_visible_to_submitters: call.reviewer_identity_visible_to_submitters,
            reviews_visible_to_submitters: call.reviews_visible_to_submitters,
            rounds: rounds
                .into_iter()
                .map(|round| RoundOut::new(round, url))
                .collect(),
            created: call.created.into(),
        }
    }
}

/// Body of a call create or full update. Optional fields left out of a full update keep
/// their values.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CallRequest {
    pub name: String,
    /// UUID or hyperlink of the managing organisation.
    pub customer: Reference,
    pub description: Option<String>,
    /// `draft` (the default on create), `active` or `archived`.
    #[schema(value_type = Option<CallState>)]
    pub state: Option<String>,
    /// Default false.
    pub reviewer_identity_visible_to_submitters: Option<bool>,
    /// Default true.
    pub reviews_visible_to_submitters: Option<bool>,
}

/// Body of a call partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CallPatch {
    pub name: Option<String>,
    /// UUID or hyperlink of the managing organisation.
    pub customer: Option<Reference>,
    pub description: Option<String>,
    #[schema(value_type = Option<CallState>)]
    pub state: Option<String>,
    pub reviewer_identity_visible_to_submitters: Option<bool>,
    pub reviews_visible_to_submitters: Option<bool>,
}

/// Body of a round create or full update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoundRequest {
    pub start_time: WireTime,
    /// Must be later than `start_time`.
    pub cutoff_time: WireTime,
    /// 1 to 365 days, or null. Left out of a full update, it keeps its value.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 365)]
    pub review_duration_in_days: Option<Option<i32>>,
}

/// Body of a round partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RoundPatch {
    pub start_time: Option<WireTime>,
    pub cutoff_time: Option<WireTime>,
    /// 1 to 365 days, or null to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 365)]
    pub review_duration_in_days: Option<Option<i32>>,
}

const ORDERING: &[(&str, CallOrder)] = &[
    ("name", CallOrder::Name),
    ("created", CallOrder::Created),
    ("state", CallOrder::State),
];

fn path_uuid(text: &str) -> ApiResult<Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// Parses a state given in a body, adding a field error when it is not a known state.
fn parse_state(text: Option<&str>, errors: &mut FieldErrors) -> Option<CallState> {
    let text = text?;
    match text.parse::<CallState>() {
        Ok(state) => Some(state),
        Err(unknown) => {
            errors.add("state", unknown.to_string());
            None
        }
    }
}

fn check_name(name: Option<&str>, errors: &mut FieldErrors) {
    if let Some(name) = name
        && name.trim().is_empty()
    {
        errors.add("name", "This field may not be blank. Give the call a name.");
    }
}

fn check_review_duration(days: Option<Option<i32>>, errors: &mut FieldErrors) {
    if let Some(Some(days)) = days
        && !calls::REVIEW_DURATION_DAYS.contains(&days)
    {
        errors.add(
            "review_duration_in_days",
            format!(
                "{days} is outside the allowed range. Ensure this value is between {} and {} days.",
                calls::REVIEW_DURATION_DAYS.start(),
                calls::REVIEW_DURATION_DAYS.end()
            ),
        );
    }
}

/// List calls visible to the caller.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/",
    tag = "proposal-protected-calls",
    params(
        ("customer_uuid" = Option<String>, Query, description = "UUID of the managing organisation"),
        ("state" = Option<Vec<CallState>>, Query, description = "Any of these states. Repeat the key for several."),
        ("name" = Option<String>, Query, description = "Case-insensitive substring of the name"),
        ("o" = Option<String>, Query, description = "Ordering: name, created, state; prefix - for descending. Default: newest first"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of calls", body = Vec<CallOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_calls(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<CallOut>> {
    let mut errors = FieldErrors::new();
    let customer_uuid = params.uuid("customer_uuid", &mut errors);
    let states = params.choices::<CallState>("state", &mut errors);
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let filter = CallFilter {
        customer_uuid,
        states,
        name: params.text("name"),
    };
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        calls::list_calls(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(CallOut::new))
}

/// Count calls visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/proposal-protected-calls/",
    tag = "proposal-protected-calls",
    params(
        ("customer_uuid" = Option<String>, Query, description = "UUID of the managing organisation"),
        ("state" = Option<Vec<CallState>>, Query, description = "Any of these states. Repeat the key for several."),
        ("name" = Option<String>, Query, description = "Case-insensitive substring of the name"),
    ),
    responses(
        (status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 400, description = "Invalid filter", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials"),
    )
)]
pub async fn count_calls(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<CallOut>> {
    list_calls(state, auth, params, url).await
}

/// Create a call (staff, and owners and managers of the named organisation).
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/",
    tag = "proposal-protected-calls",
    request_body = CallRequest,
    responses(
        (status = 201, description = "Created", body = CallOut),
        (status = 400, description = "Invalid field, or unknown organisation", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the organisation", body = DetailBody),
    )
)]
pub async fn create_call(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<CallRequest>,
) -> ApiResult<(StatusCode, Json<CallOut>)> {
    let mut errors = FieldErrors::new();
    check_name(Some(&body.name), &mut errors);
    let call_state = parse_state(body.state.as_deref(), &mut errors);
    check(errors)?;

    let new = NewCall {
        name: body.name.trim().to_owned(),
        description: body.description.unwrap_or_default(),
        customer_uuid: body.customer.0,
        state: call_state.unwrap_or(CallState::Draft),
        reviewer_identity_visible_to_submitters: body
            .reviewer_identity_visible_to_submitters
            .unwrap_or(false),
        reviews_visible_to_submitters: body.reviews_visible_to_submitters.unwrap_or(true),
    };
    let details = state
        .run(move |connection| calls::create_call(connection, &actor, &new))
        .await?;
    Ok((StatusCode::CREATED, Json(CallOut::new(details, &url))))
}

/// Retrieve a call.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "The call", body = CallOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_call(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<CallOut>> {
    let uuid = path_uuid(&uuid)?;
    let details = state
        .run(move |connection| calls::find_visible_call_details(connection, &actor, uuid))
        .await?;
    Ok(Json(CallOut::new(details, &url)))
}

async fn apply_call_update(
    state: AppState,
    actor: Actor,
    uuid: &str,
    changes: CallChanges,
    url: RequestUrl,
) -> ApiResult<Json<CallOut>> {
    let uuid = path_uuid(uuid)?;
    let details = state
        .run(move |connection| calls::update_call(connection, &actor, uuid, &changes))
        .await?;
    Ok(Json(CallOut::new(details, &url)))
}

/// Replace a call's fields (the call's managers). The slug does not change.
#[utoipa::path(
    put,
    path = "/api/proposal-protected-calls/{uuid}/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = CallRequest,
    responses(
        (status = 200, description = "Updated", body = CallOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call or the new organisation", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_call(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<CallRequest>,
) -> ApiResult<Json<CallOut>> {
    let mut errors = FieldErrors::new();
    check_name(Some(&body.name), &mut errors);
    let call_state = parse_state(body.state.as_deref(), &mut errors);
    check(errors)?;

    let changes = CallChanges {
        name: Some(body.name.trim().to_owned()),
        description: body.description,
        customer_uuid: Some(body.customer.0),
        state: call_state,
        reviewer_identity_visible_to_submitters: body.reviewer_identity_visible_to_submitters,
        reviews_visible_to_submitters: body.reviews_visible_to_submitters,
    };
    apply_call_update(state, actor, &uuid, changes, url).await
}

/// Change some of a call's fields (the call's managers). The slug does not change.
#[utoipa::path(
    patch,
    path = "/api/proposal-protected-calls/{uuid}/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = CallPatch,
    responses(
        (status = 200, description = "Updated", body = CallOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call or the new organisation", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_call(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<CallPatch>,
) -> ApiResult<Json<CallOut>> {
    let mut errors = FieldErrors::new();
    check_name(body.name.as_deref(), &mut errors);
    let call_state = parse_state(body.state.as_deref(), &mut errors);
    check(errors)?;

    let changes = CallChanges {
        name: body.name.map(|name| name.trim().to_owned()),
        description: body.description,
        customer_uuid: body.customer.map(|customer| customer.0),
        state: call_state,
        reviewer_identity_visible_to_submitters: body.reviewer_identity_visible_to_submitters,
        reviews_visible_to_submitters: body.reviews_visible_to_submitters,
    };
    apply_call_update(state, actor, &uuid, changes, url).await
}

/// Delete a call without proposals, with its rounds and role grants (the call's managers).
#[utoipa::path(
    delete,
    path = "/api/proposal-protected-calls/{uuid}/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
        (status = 409, description = "The call has proposals", body = DetailBody),
    )
)]
pub async fn delete_call(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| calls::delete_call(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the rounds of a call, earliest start first.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/rounds/",
    tag = "proposal-protected-calls",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of rounds", body = Vec<RoundOut>,
            headers(("x-result-count" = i64, description = "Number of rounds"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn list_rounds(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<RoundOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let spec = params.page()?;
    let response = list_page(&state, spec, url, move |connection, page| {
        calls::list_rounds(connection, &actor, call_uuid, page)
    })
    .await?;
    Ok(response.map(RoundOut::new))
}

/// Add a round to a call (the call's managers).
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/rounds/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = RoundRequest,
    responses(
        (status = 201, description = "Created", body = RoundOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn create_round(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<RoundRequest>,
) -> ApiResult<(StatusCode, Json<RoundOut>)> {
    let call_uuid = path_uuid(&uuid)?;
    let review_duration_in_days = body.review_duration_in_days.flatten();
    check(calls::validate_round(
        body.start_time.0,
        body.cutoff_time.0,
        review_duration_in_days,
    ))?;

    let new = NewRound {
        start_time: body.start_time.0,
        cutoff_time: body.cutoff_time.0,
        review_duration_in_days,
    };
    let round = state
        .run(move |connection| calls::create_round(connection, &actor, call_uuid, &new))
        .await?;
    Ok((StatusCode::CREATED, Json(RoundOut::new(round, &url))))
}

/// Retrieve a round of a call.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/rounds/{round_uuid}/",
    tag = "proposal-protected-calls",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("round_uuid" = String, Path, description = "Round UUID"),
    ),
    responses(
        (status = 200, description = "The round", body = RoundOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Call or round not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_round(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, round_uuid)): Path<(String, String)>,
    url: RequestUrl,
) -> ApiResult<Json<RoundOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let round_uuid = path_uuid(&round_uuid)?;
    let round = state
        .run(move |connection| calls::find_visible_round(connection, &actor, call_uuid, round_uuid))
        .await?;
    Ok(Json(RoundOut::new(round, &url)))
}

async fn apply_round_update(
    state: AppState,
    actor: Actor,
    path: (String, String),
    changes: RoundChanges,
    url: RequestUrl,
) -> ApiResult<Json<RoundOut>> {
    let call_uuid = path_uuid(&path.0)?;
    let round_uuid = path_uuid(&path.1)?;
    let mut errors = FieldErrors::new();
    check_review_duration(changes.review_duration_in_days, &mut errors);
    check(errors)?;

    let round = state
        .run(move |connection| {
            calls::update_round(connection, &actor, call_uuid, round_uuid, &changes)
        })
        .await?;
    Ok(Json(RoundOut::new(round, &url)))
}

/// Replace a round's window and review duration (the call's managers).
#[utoipa::path(
    put,
    path = "/api/proposal-protected-calls/{uuid}/rounds/{round_uuid}/",
    tag = "proposal-protected-calls",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("round_uuid" = String, Path, description = "Round UUID"),
    ),
    request_body = RoundRequest,
    responses(
        (status = 200, description = "Updated", body = RoundOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call or round not found or not visible", body = DetailBody),
    )
)]
pub async fn update_round(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    url: RequestUrl,
    JsonBody(body): JsonBody<RoundRequest>,
) -> ApiResult<Json<RoundOut>> {
    let changes = RoundChanges {
        start_time: Some(body.start_time.0),
        cutoff_time: Some(body.cutoff_time.0),
        review_duration_in_days: body.review_duration_in_days,
    };
    apply_round_update(state, actor, path, changes, url).await
}

/// Change some of a round's fields (the call's managers).
#[utoipa::path(
    patch,
    path = "/api/proposal-protected-calls/{uuid}/rounds/{round_uuid}/",
    tag = "proposal-protected-calls",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("round_uuid" = String, Path, description = "Round UUID"),
    ),
    request_body = RoundPatch,
    responses(
        (status = 200, description = "Updated", body = RoundOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call or round not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_round(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    url: RequestUrl,
    JsonBody(body): JsonBody<RoundPatch>,
) -> ApiResult<Json<RoundOut>> {
    let changes = RoundChanges {
        start_time: body.start_time.map(|time| time.0),
        cutoff_time: body.cutoff_time.map(|time| time.0),
        review_duration_in_days: body.review_duration_in_days,
    };
    apply_round_update(state, actor, path, changes, url).await
}

/// Delete a round without proposals (the call's managers).
#[utoipa::path(
    delete,
    path = "/api/proposal-protected-calls/{uuid}/rounds/{round_uuid}/",
    tag = "proposal-protected-calls",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("round_uuid" = String, Path, description = "Round UUID"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call or round not found or not visible", body = DetailBody),
        (status = 409, description = "The round has proposals", body = DetailBody),
    )
)]
pub async fn delete_round(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, round_uuid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let call_uuid = path_uuid(&uuid)?;
    let round_uuid = path_uuid(&round_uuid)?;
    state
        .run(move |connection| calls::delete_round(connection, &actor, call_uuid, round_uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn call_role(text: &str) -> ApiResult<CallRole> {
    text.parse::<CallRole>()
        .map_err(|unknown| ApiError::field("role", unknown.to_string()))
}

/// List the users holding roles on a call.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/list_users/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "Role holders, oldest grant first", body = Vec<RoleHolderOut>),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn list_call_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<Vec<RoleHolderOut>>> {
    let uuid = path_uuid(&uuid)?;
    let holders = state
        .run(move |connection| {
            calls::find_visible_call(connection, &actor, uuid)?;
            users::list_role_holders(connection, Some(uuid), None)
        })
        .await?;
    Ok(Json(
        holders
            .into_iter()
            .map(|holder| RoleHolderOut::new(holder, &url))
            .collect(),
    ))
}

/// Grant a user a role on a call (the call's managers).
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/add_user/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = RoleRequest,
    responses(
        (status = 201, description = "The grant", body = RoleHolderOut),
        (status = 400, description = "Unknown user or role", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn add_call_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<RoleRequest>,
) -> ApiResult<(StatusCode, Json<RoleHolderOut>)> {
    let uuid = path_uuid(&uuid)?;
    let role = call_role(&body.role)?;
    let user_uuid = body.user.0;
    let holder = state
        .run(move |connection| {
            let call = calls::find_visible_call(connection, &actor, uuid)?;
            call.require_manager(&actor)?;
            if users::get_user(connection, user_uuid).is_err() {
                return Err(DomainError::field(
                    "user",
                    format!(
                        "No user has UUID {}. Send an existing user's uuid or url.",
                        user_uuid.simple()
                    ),
                )
                .into());
            }
            users::grant_role(
                connection,
                user_uuid,
                RoleScope::Call(uuid, role),
                Some(actor.user_uuid),
            )?;
            users::list_role_holders(connection, Some(uuid), None)?
                .into_iter()
                .find(|holder| holder.user_uuid == user_uuid && holder.role == role.as_str())
                .ok_or_else(|| DomainError::not_found("role grant").into())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(RoleHolderOut::new(holder, &url))))
}

/// Revoke a user's role on a call (the call's managers).
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/delete_user/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = RoleRequest,
    responses(
        (status = 200, description = "Revoked", body = DetailBody),
        (status = 400, description = "Unknown role, or the user does not hold it", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_call_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<RoleRequest>,
) -> ApiResult<Json<DetailBody>> {
    let uuid = path_uuid(&uuid)?;
    let role = call_role(&body.role)?;
    let user_uuid = body.user.0;
    state
        .run(move |connection| {
            let call = calls::find_visible_call(connection, &actor, uuid)?;
            call.require_manager(&actor)?;
            if !users::revoke_role(connection, user_uuid, RoleScope::Call(uuid, role))? {
                return Err(DomainError::field(
                    "user",
                    format!(
                        "User {} does not hold role {} on this call. List the holders with list_users.",
                        user_uuid.simple(),
                        role.as_str()
                    ),
                )
                .into());
            }
            Ok(())
        })
        .await?;
    Ok(Json(DetailBody {
        detail: "Role revoked.".into(),
    }))
}
