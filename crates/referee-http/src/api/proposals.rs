//! `/api/proposal-proposals/`: proposals submitted to the rounds of a call, their state
//! changes (submit, approve, reject) and the people named on their teams.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::enums::{ProposalState, TeamMemberRole};
use referee_domain::validate::{is_email, is_orcid};
use referee_domain::{Actor, FieldErrors};
use referee_store::proposals::{
    self, Decision, NewProposal, NewTeamMember, Proposal, ProposalChanges, ProposalFilter,
    ProposalOrder, TeamMember, TeamMemberChanges,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::common::{check, list_page};
use crate::error::{ApiError, ApiResult, BadRequestBody, DetailBody};
use crate::extract::{Auth, JsonBody, Params};
use crate::links::{ArrayResponse, ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, Reference, WireTime, double_option, parse_uuid};

/// Collection segment of proposal URLs.
const COLLECTION: &str = "proposal-proposals";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_proposals, count_proposals, create_proposal))
        .routes(routes!(
            retrieve_proposal,
            update_proposal,
            partial_update_proposal,
            delete_proposal
        ))
        .routes(routes!(submit_proposal))
        .routes(routes!(approve_proposal))
        .routes(routes!(reject_proposal))
        .routes(routes!(list_team_members, add_team_member))
        .routes(routes!(
            retrieve_team_member,
            partial_update_team_member,
            delete_team_member
        ))
}

/// A person named on a proposal's team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMemberOut {
    pub uuid: HexUuid,
    /// Hyperlink of the linked user account, or null.
    pub user: Option<String>,
    pub user_uuid: Option<HexUuid>,
    pub full_name: String,
    pub email: String,
    /// ORCID iD such as `0000-0002-1825-0097`, or null.
    pub orcid: Option<String>,
    pub organization: String,
    pub role: TeamMemberRole,
    pub created: WireTime,
}

impl TeamMemberOut {
    pub fn new(member: TeamMember, url: &RequestUrl) -> Self {
        Self {
            uuid: member.uuid.into(),
            user: member.user_uuid.map(|uuid| url.resource("users", uuid)),
            user_uuid: member.user_uuid.map(HexUuid),
            full_name: member.full_name,
            email: member.email,
            orcid: member.orcid,
            organization: member.organization,
            role: member.role,
            created: member.created.into(),
        }
    }
}

/// A proposal with its round, call, creator and team.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProposalOut {
    pub url: String,
    pub uuid: HexUuid,
    pub name: String,
    /// `<CALL SLUG>-NNN`, numbered in creation order within the call.
    pub slug: String,
    pub state: ProposalState,
    pub project_summary: String,
    pub description: String,
    /// Hyperlink of the round under its call.
    pub round: String,
    pub round_uuid: HexUuid,
    /// "Round DD.MM.YYYY-DD.MM.YYYY", from the round's start and cutoff dates.
    pub round_name: String,
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    /// Hyperlink of the user who created the proposal; null once that account is deleted.
    pub created_by: Option<String>,
    pub created_by_uuid: Option<HexUuid>,
    pub created_by_name: Option<String>,
    pub team_members: Vec<TeamMemberOut>,
    pub created: WireTime,
    pub modified: WireTime,
}

impl ProposalOut {
    pub fn new(proposal: Proposal, url: &RequestUrl) -> Self {
        let Proposal { row, team_members } = proposal;
        let round_name = row.round_name();
        let created_by_name = row.creator_name();
        Self {
            url: url.resource(COLLECTION, row.uuid),
            uuid: row.uuid.into(),
            name: row.name,
            slug: row.slug,
            state: row.state,
            project_summary: row.project_summary,
            description: row.description,
            round: url.absolute(&format!(
                "/api/proposal-protected-calls/{}/rounds/{}/",
                row.call_uuid.simple(),
                row.round_uuid.simple()
            )),
            round_uuid: row.round_uuid.into(),
            round_name,
            call: url.resource("proposal-protected-calls", row.call_uuid),
            call_uuid: row.call_uuid.into(),
            call_name: row.call_name,
            created_by: row.created_by_uuid.map(|uuid| url.resource("users", uuid)),
            created_by_uuid: row.created_by_uuid.map(HexUuid),
            created_by_name,
            team_members: team_members
                .into_iter()
                .map(|member| TeamMemberOut::new(member, url))
                .collect(),
            created: row.created.into(),
            modified: row.modified.into(),
        }
    }
}

/// A team member in a request. Give `user`, or `full_name`, or both.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TeamMemberRequest {
    /// UUID or hyperlink of a user account; `full_name` and `email` default to the user's.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub user: Option<Reference>,
    /// Required unless `user` is given.
    pub full_name: Option<String>,
    pub email: Option<String>,
    /// ORCID iD such as `0000-0002-1825-0097`.
    pub orcid: Option<String>,
    pub organization: Option<String>,
    /// `principal_investigator`, `co_investigator` or `member` (the default).
    #[schema(value_type = Option<TeamMemberRole>)]
    pub role: Option<String>,
}

/// Body of a team member partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TeamMemberPatch {
    /// UUID or hyperlink of a user account, or null to unlink it. Linking a user fills
    /// `full_name` and `email` from the account unless the body gives them.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub user: Option<Option<Reference>>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    /// ORCID iD, or null to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub orcid: Option<Option<String>>,
    pub organization: Option<String>,
    #[schema(value_type = Option<TeamMemberRole>)]
    pub role: Option<String>,
}

/// Body of a proposal creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProposalCreateRequest {
    /// UUID or hyperlink of the round.
    #[schema(value_type = String)]
    pub round: Reference,
    pub name: String,
    #[serde(default)]
    pub project_summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub team_members: Vec<TeamMemberRequest>,
}

/// Body of a full update. Fields left out keep their values.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProposalRequest {
    pub name: String,
    pub project_summary: Option<String>,
    pub description: Option<String>,
}

/// Body of a partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProposalPatch {
    pub name: Option<String>,
    pub project_summary: Option<String>,
    pub description: Option<String>,
}

const ORDERING: &[(&str, ProposalOrder)] = &[
    ("name", ProposalOrder::Name),
    ("created", ProposalOrder::Created),
    ("state", ProposalOrder::State),
];

fn path_uuid(text: &str) -> ApiResult<Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

fn check_name(name: Option<&str>, errors: &mut FieldErrors) {
    if let Some(name) = name
        && name.trim().is_empty()
    {
        errors.add(
            "name",
            "This field may not be blank. Give the proposal a name.",
        );
    }
}

fn check_email(field: &str, email: Option<&str>, errors: &mut FieldErrors) {
    if let Some(email) = email
        && !email.is_empty()
        && !is_email(email)
    {
        errors.add(field, format!("{email:?} is not a valid e-mail address."));
    }
}

fn check_orcid(field: &str, orcid: Option<&str>, errors: &mut FieldErrors) {
    if let Some(orcid) = orcid
        && !is_orcid(orcid)
    {
        errors.add(
            field,
            format!("{orcid:?} is not a valid ORCID iD. Use the form 0000-0002-1825-0097."),
        );
    }
}

fn parse_role(field: &str, role: Option<&str>, errors: &mut FieldErrors) -> Option<TeamMemberRole> {
    let role = role?;
    match role.parse::<TeamMemberRole>() {
        Ok(role) => Some(role),
        Err(unknown) => {
            errors.add(field, unknown.to_string());
            None
        }
    }
}

/// Treats an empty ORCID as none.
fn orcid_value(orcid: Option<String>) -> Option<String> {
    orcid
        .map(|orcid| orcid.trim().to_owned())
        .filter(|orcid| !orcid.is_empty())
}

/// Checks a team member of a request; `prefix` is prepended to field names
/// (`team_members[0].` inside a proposal creation).
fn new_team_member(
    request: TeamMemberRequest,
    prefix: &str,
    errors: &mut FieldErrors,
) -> NewTeamMember {
    let full_name = request
        .full_name
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    if request.user.is_none() && full_name.is_none() {
        errors.add(
            format!("{prefix}full_name"),
            "This field is required unless user is given. Give the team member's name.",
        );
    }
    check_email(&format!("{prefix}email"), request.email.as_deref(), errors);
    let orcid = orcid_value(request.orcid);
    check_orcid(&format!("{prefix}orcid"), orcid.as_deref(), errors);
    let role = parse_role(&format!("{prefix}role"), request.role.as_deref(), errors);

    NewTeamMember {
        user_uuid: request.user.map(|user| user.0),
        full_name,
        email: request.email,
        orcid,
        organization: request.organization.unwrap_or_default(),
        role,
    }
}

/// List proposals visible to the caller.
#[utoipa::path(
    get,
    path = "/api/proposal-proposals/",
    tag = "proposals",
    params(
        ("call_uuid" = Option<String>, Query, description = "Proposals of this call"),
        ("round_uuid" = Option<String>, Query, description = "Proposals of this round"),
        ("created_by_uuid" = Option<String>, Query, description = "Proposals created by this user"),
        ("state" = Option<Vec<ProposalState>>, Query, description = "Any of these states; repeat the key for several"),
        ("name" = Option<String>, Query, description = "Case-insensitive substring of the name"),
        ("slug" = Option<String>, Query, description = "Exact slug"),
        ("o" = Option<String>, Query, description = "Ordering: name, created, state; prefix - for descending. Default: created"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of proposals", body = Vec<ProposalOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_proposals(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ProposalOut>> {
    let mut errors = FieldErrors::new();
    let order = params.ordering(ORDERING, &mut errors);
    let filter = ProposalFilter {
        uuid: None,
        call_uuid: params.uuid("call_uuid", &mut errors),
        round_uuid: params.uuid("round_uuid", &mut errors),
        created_by_uuid: params.uuid("created_by_uuid", &mut errors),
        states: params.choices("state", &mut errors),
        name: params.text("name"),
        slug: params.text("slug"),
    };
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        proposals::list_proposals(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(ProposalOut::new))
}

/// Count proposals visible to the caller (`X-Result-Count`, no body), with the list's filters.
#[utoipa::path(
    head,
    path = "/api/proposal-proposals/",
    tag = "proposals",
    params(
        ("call_uuid" = Option<String>, Query, description = "Proposals of this call"),
        ("round_uuid" = Option<String>, Query, description = "Proposals of this round"),
        ("state" = Option<Vec<ProposalState>>, Query, description = "Any of these states; repeat the key for several"),
        ("name" = Option<String>, Query, description = "Case-insensitive substring of the name"),
    ),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 400, description = "Invalid filter", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_proposals(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ProposalOut>> {
    list_proposals(state, auth, params, url).await
}

/// Create a draft proposal in a round, optionally with its team. Any user may apply to a
/// round of an active call; managers of the call may also use rounds of draft or archived calls.
#[utoipa::path(
    post,
    path = "/api/proposal-proposals/",
    tag = "proposals",
    request_body = ProposalCreateRequest,
    responses(
        (status = 201, description = "Created as a draft", body = ProposalOut),
        (status = 400, description = "Invalid field, unknown round or call not active", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn create_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProposalCreateRequest>,
) -> ApiResult<(StatusCode, Json<ProposalOut>)> {
    let mut errors = FieldErrors::new();
    check_name(Some(&body.name), &mut errors);
    let team_members: Vec<NewTeamMember> = body
        .team_members
        .into_iter()
        .enumerate()
        .map(|(index, member)| {
            new_team_member(member, &format!("team_members[{index}]."), &mut errors)
        })
        .collect();
    check(errors)?;

    let new = NewProposal {
        round_uuid: body.round.0,
        name: body.name.trim().to_owned(),
        project_summary: body.project_summary,
        description: body.description,
        team_members,
    };
    let proposal = state
        .run(move |connection| proposals::create_proposal(connection, &actor, &new))
        .await?;
    Ok((StatusCode::CREATED, Json(ProposalOut::new(proposal, &url))))
}

/// Retrieve a proposal.
#[utoipa::path(
    get,
    path = "/api/proposal-proposals/{uuid}/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    responses(
        (status = 200, description = "The proposal", body = ProposalOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ProposalOut>> {
    let uuid = path_uuid(&uuid)?;
    let proposal = state
        .run(move |connection| proposals::find_visible_proposal(connection, &actor, uuid))
        .await?;
    Ok(Json(ProposalOut::new(proposal, &url)))
}

async fn apply_update(
    state: AppState,
    actor: Actor,
    uuid: &str,
    changes: ProposalChanges,
    url: RequestUrl,
) -> ApiResult<Json<ProposalOut>> {
    let uuid = path_uuid(uuid)?;
    let mut errors = FieldErrors::new();
    check_name(changes.name.as_deref(), &mut errors);
    check(errors)?;
    let proposal = state
        .run(move |connection| proposals::update_proposal(connection, &actor, uuid, &changes))
        .await?;
    Ok(Json(ProposalOut::new(proposal, &url)))
}

/// Replace a proposal's name, summary and description: its creator while it is a draft, or a
/// manager of the call at any state.
#[utoipa::path(
    put,
    path = "/api/proposal-proposals/{uuid}/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    request_body = ProposalRequest,
    responses(
        (status = 200, description = "Updated", body = ProposalOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it, or the creator after it left draft", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProposalRequest>,
) -> ApiResult<Json<ProposalOut>> {
    let changes = ProposalChanges {
        name: Some(body.name.trim().to_owned()),
        project_summary: body.project_summary,
        description: body.description,
    };
    apply_update(state, actor, &uuid, changes, url).await
}

/// Change some of a proposal's fields: its creator while it is a draft, or a manager of the
/// call at any state.
#[utoipa::path(
    patch,
    path = "/api/proposal-proposals/{uuid}/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    request_body = ProposalPatch,
    responses(
        (status = 200, description = "Updated", body = ProposalOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it, or the creator after it left draft", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProposalPatch>,
) -> ApiResult<Json<ProposalOut>> {
    let changes = ProposalChanges {
        name: body.name.map(|name| name.trim().to_owned()),
        project_summary: body.project_summary,
        description: body.description,
    };
    apply_update(state, actor, &uuid, changes, url).await
}

/// Delete a proposal and its team: its creator while it is a draft, or a manager of the call.
#[utoipa::path(
    delete,
    path = "/api/proposal-proposals/{uuid}/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not delete it, or the creator after it left draft", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| proposals::delete_proposal(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submit a draft proposal (draft → submitted): its creator or a manager of the call.
#[utoipa::path(
    post,
    path = "/api/proposal-proposals/{uuid}/submit/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    responses(
        (status = 200, description = "Submitted", body = ProposalOut),
        (status = 400, description = "The proposal is not a draft (code proposal_not_draft)", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is neither the creator nor a manager", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn submit_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ProposalOut>> {
    let uuid = path_uuid(&uuid)?;
    let proposal = state
        .run(move |connection| proposals::submit_proposal(connection, &actor, uuid))
        .await?;
    Ok(Json(ProposalOut::new(proposal, &url)))
}

async fn decide(
    state: AppState,
    actor: Actor,
    uuid: &str,
    decision: Decision,
    url: RequestUrl,
) -> ApiResult<Json<ProposalOut>> {
    let uuid = path_uuid(uuid)?;
    let proposal = state
        .run(move |connection| proposals::decide_proposal(connection, &actor, uuid, decision))
        .await?;
    Ok(Json(ProposalOut::new(proposal, &url)))
}

/// Accept a submitted or in-review proposal (→ accepted): managers of the call only.
#[utoipa::path(
    post,
    path = "/api/proposal-proposals/{uuid}/approve/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    responses(
        (status = 200, description = "Accepted", body = ProposalOut),
        (status = 400, description = "The proposal is neither submitted nor in review (code proposal_not_under_review)", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn approve_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ProposalOut>> {
    decide(state, actor, &uuid, Decision::Accept, url).await
}

/// Reject a submitted or in-review proposal (→ rejected): managers of the call only.
#[utoipa::path(
    post,
    path = "/api/proposal-proposals/{uuid}/reject/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    responses(
        (status = 200, description = "Rejected", body = ProposalOut),
        (status = 400, description = "The proposal is neither submitted nor in review (code proposal_not_under_review)", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn reject_proposal(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ProposalOut>> {
    decide(state, actor, &uuid, Decision::Reject, url).await
}

/// List the team of a proposal, oldest member first.
#[utoipa::path(
    get,
    path = "/api/proposal-proposals/{uuid}/team-members/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    responses(
        (status = 200, description = "The team, not paginated", body = Vec<TeamMemberOut>,
            headers(("x-result-count" = i64, description = "Number of team members"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Proposal not found or not visible", body = DetailBody),
    )
)]
pub async fn list_team_members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<ArrayResponse<TeamMemberOut>> {
    let uuid = path_uuid(&uuid)?;
    let members = state
        .run(move |connection| proposals::list_team_members(connection, &actor, uuid))
        .await?;
    Ok(ArrayResponse(
        members
            .into_iter()
            .map(|member| TeamMemberOut::new(member, &url))
            .collect(),
    ))
}

/// Add a person to a proposal's team: its creator while it is a draft, or a manager of the call.
#[utoipa::path(
    post,
    path = "/api/proposal-proposals/{uuid}/team-members/",
    tag = "proposals",
    params(("uuid" = String, Path, description = "Proposal UUID")),
    request_body = TeamMemberRequest,
    responses(
        (status = 201, description = "Added", body = TeamMemberOut),
        (status = 400, description = "Invalid field, unknown user, or the user is already on the team", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the team", body = DetailBody),
        (status = 404, description = "Proposal not found or not visible", body = DetailBody),
    )
)]
pub async fn add_team_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<TeamMemberRequest>,
) -> ApiResult<(StatusCode, Json<TeamMemberOut>)> {
    let uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    let member = new_team_member(body, "", &mut errors);
    check(errors)?;
    let member = state
        .run(move |connection| proposals::add_team_member(connection, &actor, uuid, &member))
        .await?;
    Ok((StatusCode::CREATED, Json(TeamMemberOut::new(member, &url))))
}

/// Retrieve a member of a proposal's team.
#[utoipa::path(
    get,
    path = "/api/proposal-proposals/{uuid}/team-members/{member_uuid}/",
    tag = "proposals",
    params(
        ("uuid" = String, Path, description = "Proposal UUID"),
        ("member_uuid" = String, Path, description = "Team member UUID"),
    ),
    responses(
        (status = 200, description = "The team member", body = TeamMemberOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_team_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, member_uuid)): Path<(String, String)>,
    url: RequestUrl,
) -> ApiResult<Json<TeamMemberOut>> {
    let uuid = path_uuid(&uuid)?;
    let member_uuid = path_uuid(&member_uuid)?;
    let member = state
        .run(move |connection| proposals::find_team_member(connection, &actor, uuid, member_uuid))
        .await?;
    Ok(Json(TeamMemberOut::new(member, &url)))
}

/// Change a member of a proposal's team: the proposal's creator while it is a draft, or a
/// manager of the call.
#[utoipa::path(
    patch,
    path = "/api/proposal-proposals/{uuid}/team-members/{member_uuid}/",
    tag = "proposals",
    params(
        ("uuid" = String, Path, description = "Proposal UUID"),
        ("member_uuid" = String, Path, description = "Team member UUID"),
    ),
    request_body = TeamMemberPatch,
    responses(
        (status = 200, description = "Updated", body = TeamMemberOut),
        (status = 400, description = "Invalid field, unknown user, or the user is already on the team", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the team", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_team_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, member_uuid)): Path<(String, String)>,
    url: RequestUrl,
    JsonBody(body): JsonBody<TeamMemberPatch>,
) -> ApiResult<Json<TeamMemberOut>> {
    let uuid = path_uuid(&uuid)?;
    let member_uuid = path_uuid(&member_uuid)?;

    let mut errors = FieldErrors::new();
    if let Some(full_name) = &body.full_name
        && full_name.trim().is_empty()
    {
        errors.add(
            "full_name",
            "This field may not be blank. Give the team member's name.",
        );
    }
    check_email("email", body.email.as_deref(), &mut errors);
    let orcid = body.orcid.map(orcid_value);
    if let Some(Some(orcid)) = &orcid {
        check_orcid("orcid", Some(orcid), &mut errors);
    }
    let role = parse_role("role", body.role.as_deref(), &mut errors);
    check(errors)?;

    let changes = TeamMemberChanges {
        user_uuid: body.user.map(|user| user.map(|reference| reference.0)),
        full_name: body.full_name,
        email: body.email,
        orcid,
        organization: body.organization,
        role,
    };
    let member = state
        .run(move |connection| {
            proposals::update_team_member(connection, &actor, uuid, member_uuid, &changes)
        })
        .await?;
    Ok(Json(TeamMemberOut::new(member, &url)))
}

/// Remove a person from a proposal's team: the proposal's creator while it is a draft, or a
/// manager of the call.
#[utoipa::path(
    delete,
    path = "/api/proposal-proposals/{uuid}/team-members/{member_uuid}/",
    tag = "proposals",
    params(
        ("uuid" = String, Path, description = "Proposal UUID"),
        ("member_uuid" = String, Path, description = "Team member UUID"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the team", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_team_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, member_uuid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    let member_uuid = path_uuid(&member_uuid)?;
    state
        .run(move |connection| proposals::delete_team_member(connection, &actor, uuid, member_uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
