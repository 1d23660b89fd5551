//! `/api/users/`: user accounts and their API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::{Actor, DomainError, FieldErrors};
use referee_store::users::{self, NewUser, User, UserChanges, UserFilter, UserOrder};
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
        .routes(routes!(list_users, count_users, create_user))
        .routes(routes!(current_user))
        .routes(routes!(retrieve_user, partial_update_user))
        .routes(routes!(issue_user_token))
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub url: String,
    pub uuid: HexUuid,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub is_staff: bool,
    pub is_support: bool,
    pub is_active: bool,
    pub date_joined: WireTime,
}

impl UserOut {
    pub fn new(user: User, url: &RequestUrl) -> Self {
        Self {
            url: url.resource("users", user.uuid),
            uuid: user.uuid.into(),
            username: user.username,
            email: user.email,
            full_name: user.full_name,
            is_staff: user.is_staff,
            is_support: user.is_support,
            is_active: user.is_active,
            date_joined: user.created.into(),
        }
    }
}

/// Body of a user creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserRequest {
    /// Unique login name: letters, digits and `@.+-_`, at most 150 characters.
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub is_staff: bool,
    #[serde(default)]
    pub is_support: bool,
}

/// Body of a partial update. Only staff may change the flags.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub is_staff: Option<bool>,
    pub is_support: Option<bool>,
    pub is_active: Option<bool>,
}

/// A freshly issued API token; it is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub token: String,
}

const ORDERING: &[(&str, UserOrder)] = &[
    ("username", UserOrder::Username),
    ("full_name", UserOrder::FullName),
    ("email", UserOrder::Email),
    ("date_joined", UserOrder::Created),
];

fn validate_username(username: &str, errors: &mut FieldErrors) {
    if let Some(problem) = referee_domain::validate::username_problem(username) {
        errors.add("username", problem);
    }
}

fn validate_email(email: Option<&str>, errors: &mut FieldErrors) {
    if let Some(email) = email
        && !email.is_empty()
        && !referee_domain::validate::is_email(email)
    {
        errors.add("email", format!("{email:?} is not a valid e-mail address."));
    }
}

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// List users: staff and support see every user, others only themselves.
#[utoipa::path(
    get,
    path = "/api/users/",
    tag = "users",
    params(
        ("username" = Option<String>, Query, description = "Exact username"),
        ("email" = Option<String>, Query, description = "Exact e-mail address"),
        ("is_staff" = Option<bool>, Query, description = "Staff flag"),
        ("is_support" = Option<bool>, Query, description = "Support flag"),
        ("is_active" = Option<bool>, Query, description = "Active flag"),
        ("o" = Option<String>, Query, description = "Ordering: username, full_name, email, date_joined; prefix - for descending"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of users", body = Vec<UserOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<UserOut>> {
    let mut errors = FieldErrors::new();
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let filter = UserFilter {
        username: params.text("username"),
        email: params.text("email"),
        is_staff: params.boolean("is_staff"),
        is_support: params.boolean("is_support"),
        is_active: params.boolean("is_active"),
    };
    let spec = params.page()?;
    let response = list_page(&state, spec, url, move |connection, page| {
        users::list_users(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(UserOut::new))
}

/// Count users visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/users/",
    tag = "users",
    params(("username" = Option<String>, Query, description = "Exact username")),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_users(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<UserOut>> {
    list_users(state, auth, params, url).await
}

fn require_staff(actor: &Actor, action: &str) -> ApiResult<()> {
    if actor.is_staff {
        Ok(())
    } else {
        Err(DomainError::permission_denied(format!("Only staff users can {action}.")).into())
    }
}

/// Create a user (staff only). Issue its token with `POST /api/users/{uuid}/token/`.
#[utoipa::path(
    post,
    path = "/api/users/",
    tag = "users",
    request_body = UserRequest,
    responses(
        (status = 201, description = "Created", body = UserOut),
        (status = 400, description = "Invalid or taken username, invalid e-mail", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not staff", body = DetailBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<UserRequest>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    require_staff(&actor, "create users")?;
    let mut errors = FieldErrors::new();
    validate_username(&body.username, &mut errors);
    validate_email(Some(&body.email), &mut errors);
    check(errors)?;

    let new = NewUser {
        username: body.username,
        email: body.email,
        full_name: body.full_name,
        is_staff: body.is_staff,
        is_support: body.is_support,
    };
    let user = state
        .run(move |connection| users::create_user(connection, &new))
        .await?;
    Ok((StatusCode::CREATED, Json(UserOut::new(user, &url))))
}

/// The caller's own account.
#[utoipa::path(
    get,
    path = "/api/users/me/",
    tag = "users",
    responses(
        (status = 200, description = "The caller", body = UserOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn current_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
) -> ApiResult<Json<UserOut>> {
    let user = state
        .run(move |connection| users::get_user(connection, actor.user_uuid))
        .await?;
    Ok(Json(UserOut::new(user, &url)))
}

/// Retrieve a user: staff and support any, others only themselves.
#[utoipa::path(
    get,
    path = "/api/users/{uuid}/",
    tag = "users",
    params(("uuid" = String, Path, description = "User UUID")),
    responses(
        (status = 200, description = "The user", body = UserOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<UserOut>> {
    let uuid = path_uuid(&uuid)?;
    let user = state
        .run(move |connection| users::find_visible_user(connection, &actor, uuid))
        .await?;
    Ok(Json(UserOut::new(user, &url)))
}

/// Change a user. Users may change their own e-mail and full name; only staff may change
/// other users and the staff, support and active flags.
#[utoipa::path(
    patch,
    path = "/api/users/{uuid}/",
    tag = "users",
    params(("uuid" = String, Path, description = "User UUID")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "Updated", body = UserOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not make this change", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<UserPatch>,
) -> ApiResult<Json<UserOut>> {
    let uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    validate_email(body.email.as_deref(), &mut errors);
    check(errors)?;

    let changes_flags =
        body.is_staff.is_some() || body.is_support.is_some() || body.is_active.is_some();
    let changes = UserChanges {
        email: body.email,
        full_name: body.full_name,
        is_staff: body.is_staff,
        is_support: body.is_support,
        is_active: body.is_active,
    };
    let user = state
        .run(move |connection| {
            users::find_visible_user(connection, &actor, uuid)?;
            if !actor.is_staff && (actor.user_uuid != uuid || changes_flags) {
                return Err(DomainError::permission_denied(
                    "Only staff users can change other users or the is_staff, is_support and is_active flags.",
                )
                .into());
            }
            users::update_user(connection, uuid, &changes)
        })
        .await?;
    Ok(Json(UserOut::new(user, &url)))
}

/// Issue a new API token for a user (staff, or the user itself), revoking the user's earlier
/// tokens. The token is shown once.
#[utoipa::path(
    post,
    path = "/api/users/{uuid}/token/",
    tag = "users",
    params(("uuid" = String, Path, description = "User UUID")),
    responses(
        (status = 201, description = "The new token", body = TokenOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not issue tokens for this user", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn issue_user_token(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<(StatusCode, Json<TokenOut>)> {
    let uuid = path_uuid(&uuid)?;
    let token = state
        .run(move |connection| {
            users::find_visible_user(connection, &actor, uuid)?;
            if !actor.is_staff && actor.user_uuid != uuid {
                return Err(DomainError::permission_denied(
                    "Only staff users can issue tokens for other users.",
                )
                .into());
            }
            users::issue_token(connection, uuid)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(TokenOut { token })))
}
