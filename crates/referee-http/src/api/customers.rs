//! `/api/customers/`: organisations that manage calls.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::enums::CustomerRole;
use referee_domain::{DomainError, FieldErrors};
use referee_store::customers::{
    self, Customer, CustomerChanges, CustomerFilter, CustomerOrder, NewCustomer,
};
use referee_store::users::{self, RoleScope};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::common::{check, list_page};
use crate::api::roles::{RoleHolderOut, RoleRequest};
use crate::error::BadRequestBody;
use crate::error::{ApiError, ApiResult, DetailBody};
use crate::extract::{Auth, JsonBody, Params};
use crate::links::{ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, count_customers, create_customer))
        .routes(routes!(
            retrieve_customer,
            update_customer,
            partial_update_customer,
            delete_customer
        ))
        .routes(routes!(list_customer_users))
        .routes(routes!(add_customer_user))
        .routes(routes!(delete_customer_user))
}

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    pub url: String,
    pub uuid: HexUuid,
    pub name: String,
    pub abbreviation: String,
    pub email: String,
    pub created: WireTime,
}

impl CustomerOut {
    pub fn new(customer: Customer, url: &RequestUrl) -> Self {
        Self {
            url: url.resource("customers", customer.uuid),
            uuid: customer.uuid.into(),
            name: customer.name,
            abbreviation: customer.abbreviation,
            email: customer.email,
            created: customer.created.into(),
        }
    }
}

/// Body of a create or full update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CustomerRequest {
    pub name: String,
    #[serde(default)]
    pub abbreviation: String,
    #[serde(default)]
    pub email: String,
}

/// Body of a partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub abbreviation: Option<String>,
    pub email: Option<String>,
}

const ORDERING: &[(&str, CustomerOrder)] = &[
    ("name", CustomerOrder::Name),
    ("abbreviation", CustomerOrder::Abbreviation),
    ("created", CustomerOrder::Created),
];

fn validate(name: Option<&str>, email: Option<&str>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Some(name) = name
        && name.trim().is_empty()
    {
        errors.add(
            "name",
            "This field may not be blank. Give the organisation a name.",
        );
    }
    if let Some(email) = email
        && !email.is_empty()
        && !referee_domain::validate::is_email(email)
    {
        errors.add("email", format!("{email:?} is not a valid e-mail address."));
    }
    errors
}

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// List organisations visible to the caller.
#[utoipa::path(
    get,
    path = "/api/customers/",
    tag = "customers",
    params(
        ("name" = Option<String>, Query, description = "Case-insensitive substring of the name"),
        ("abbreviation" = Option<String>, Query, description = "Exact abbreviation"),
        ("o" = Option<String>, Query, description = "Ordering: name, abbreviation, created; prefix - for descending"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of organisations", body = Vec<CustomerOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_customers(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<CustomerOut>> {
    let mut errors = FieldErrors::new();
    let order = params.ordering(ORDERING, &mut errors);
    check(errors)?;
    let filter = CustomerFilter {
        name: params.text("name"),
        abbreviation: params.text("abbreviation"),
    };
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        customers::list_customers(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(CustomerOut::new))
}

/// Count organisations visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/customers/",
    tag = "customers",
    params(("name" = Option<String>, Query, description = "Case-insensitive substring of the name")),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_customers(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<CustomerOut>> {
    list_customers(state, auth, params, url).await
}

/// Create an organisation (staff only).
#[utoipa::path(
    post,
    path = "/api/customers/",
    tag = "customers",
    request_body = CustomerRequest,
    responses(
        (status = 201, description = "Created", body = CustomerOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not staff", body = DetailBody),
    )
)]
pub async fn create_customer(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<CustomerRequest>,
) -> ApiResult<(StatusCode, Json<CustomerOut>)> {
    check(validate(Some(&body.name), Some(&body.email)))?;
    let new = NewCustomer {
        name: body.name.trim().to_owned(),
        abbreviation: body.abbreviation,
        email: body.email,
    };
    let customer = state
        .run(move |connection| customers::create_customer(connection, &actor, &new))
        .await?;
    Ok((StatusCode::CREATED, Json(CustomerOut::new(customer, &url))))
}

/// Retrieve an organisation.
#[utoipa::path(
    get,
    path = "/api/customers/{uuid}/",
    tag = "customers",
    params(("uuid" = String, Path, description = "Organisation UUID")),
    responses(
        (status = 200, description = "The organisation", body = CustomerOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_customer(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<CustomerOut>> {
    let uuid = path_uuid(&uuid)?;
    let customer = state
        .run(move |connection| customers::find_visible_customer(connection, &actor, uuid))
        .await?;
    Ok(Json(CustomerOut::new(customer, &url)))
}

async fn apply_update(
    state: AppState,
    actor: referee_domain::Actor,
    uuid: &str,
    changes: CustomerChanges,
    url: RequestUrl,
) -> ApiResult<Json<CustomerOut>> {
    let uuid = path_uuid(uuid)?;
    check(validate(changes.name.as_deref(), changes.email.as_deref()))?;
    let customer = state
        .run(move |connection| customers::update_customer(connection, &actor, uuid, &changes))
        .await?;
    Ok(Json(CustomerOut::new(customer, &url)))
}

/// Replace an organisation's fields (staff, owners and managers).
#[utoipa::path(
    put,
    path = "/api/customers/{uuid}/",
    tag = "customers",
    params(("uuid" = String, Path, description = "Organisation UUID")),
    request_body = CustomerRequest,
    responses(
        (status = 200, description = "Updated", body = CustomerOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_customer(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<CustomerRequest>,
) -> ApiResult<Json<CustomerOut>> {
    let changes = CustomerChanges {
        name: Some(body.name.trim().to_owned()),
        abbreviation: Some(body.abbreviation),
        email: Some(body.email),
    };
    apply_update(state, actor, &uuid, changes, url).await
}

/// Change some of an organisation's fields (staff, owners and managers).
#[utoipa::path(
    patch,
    path = "/api/customers/{uuid}/",
    tag = "customers",
    params(("uuid" = String, Path, description = "Organisation UUID")),
    request_body = CustomerPatch,
    responses(
        (status = 200, description = "Updated", body = CustomerOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_customer(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<CustomerPatch>,
) -> ApiResult<Json<CustomerOut>> {
    let changes = CustomerChanges {
        name: body.name.map(|name| name.trim().to_owned()),
        abbreviation: body.abbreviation,
        email: body.email,
    };
    apply_update(state, actor, &uuid, changes, url).await
}

/// Delete an organisation that manages no call (staff only).
#[utoipa::path(
    delete,
    path = "/api/customers/{uuid}/",
    tag = "customers",
    params(("uuid" = String, Path, description = "Organisation UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller is not staff", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
        (status = 409, description = "The organisation still manages calls", body = DetailBody),
    )
)]
pub async fn delete_customer(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| customers::delete_customer(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn customer_role(text: &str) -> ApiResult<CustomerRole> {
    text.parse::<CustomerRole>()
        .map_err(|unknown| ApiError::field("role", unknown.to_string()))
}

/// List the users holding roles on an organisation.
#[utoipa::path(
    get,
    path = "/api/customers/{uuid}/list_users/",
    tag = "customers",
    params(("uuid" = String, Path, description = "Organisation UUID")),
    responses(
        (status = 200, description = "Role holders, oldest grant first", body = Vec<RoleHolderOut>),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn list_customer_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<Vec<RoleHolderOut>>> {
    let uuid = path_uuid(&uuid)?;
    let holders = state
        .run(move |connection| {
            customers::find_visible_customer(connection, &actor, uuid)?;
            users::list_role_holders(connection, None, Some(uuid))
        })
        .await?;
    Ok(Json(
        holders
            .into_iter()
            .map(|holder| RoleHolderOut::new(holder, &url))
            .collect(),
    ))
}

/// Grant a user a role on an organisation (staff and the organisation's owners).
#[utoipa::path(
    post,
    path = "/api/customers/{uuid}/add_user/",
    tag = "customers",
    params(("uuid" = String, Path, description = "Organisation UUID")),
    request_body = RoleRequest,
    responses(
        (status = 201, description = "The grant", body = RoleHolderOut),
        (status = 400, description = "Unknown user or role", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not grant roles here", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn add_customer_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<RoleRequest>,
) -> ApiResult<(StatusCode, Json<RoleHolderOut>)> {
    let uuid = path_uuid(&uuid)?;
    let role = customer_role(&body.role)?;
    let user_uuid = body.user.0;
    let holder = state
        .run(move |connection| {
            customers::find_visible_customer(connection, &actor, uuid)?;
            if !actor.is_staff && actor.customer_role(uuid) != Some(CustomerRole::Owner) {
                return Err(DomainError::permission_denied(
                    "Only staff and the organisation's owners can grant roles on it.",
                )
                .into());
            }
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
                RoleScope::Customer(uuid, role),
                Some(actor.user_uuid),
            )?;
            let holders = users::list_role_holders(connection, None, Some(uuid))?;
            holders
                .into_iter()
                .find(|holder| holder.user_uuid == user_uuid && holder.role == role.as_str())
                .ok_or_else(|| DomainError::not_found("role grant").into())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(RoleHolderOut::new(holder, &url))))
}

/// Revoke a user's role on an organisation (staff and the organisation's owners).
#[utoipa::path(
    post,
    path = "/api/customers/{uuid}/delete_user/",
    tag = "customers",
    params(("uuid" = String, Path, description = "Organisation UUID")),
    request_body = RoleRequest,
    responses(
        (status = 200, description = "Revoked", body = DetailBody),
        (status = 400, description = "Unknown role, or the user does not hold it", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not revoke roles here", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_customer_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<RoleRequest>,
) -> ApiResult<Json<DetailBody>> {
    let uuid = path_uuid(&uuid)?;
    let role = customer_role(&body.role)?;
    let user_uuid = body.user.0;
    state
        .run(move |connection| {
            customers::find_visible_customer(connection, &actor, uuid)?;
            if !actor.is_staff && actor.customer_role(uuid) != Some(CustomerRole::Owner) {
                return Err(DomainError::permission_denied(
                    "Only staff and the organisation's owners can revoke roles on it.",
                )
                .into());
            }
            if !users::revoke_role(connection, user_uuid, RoleScope::Customer(uuid, role))? {
                return Err(DomainError::field(
                    "user",
                    format!(
                        "User {} does not hold role {} on this organisation.",
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
