//! Users, API tokens and the actor behind a token.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore as _;
use referee_domain::enums::{CallRole, CustomerRole};
use referee_domain::{Actor, DomainError, RoleGrant};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::connection::AnyConnection;
use crate::error::StoreResult;
use crate::list::{Page, PageRequest, SortKey};
use crate::schema::{api_tokens, role_grants, users};
use crate::sql_types::{DbTime, DbUuid};

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct User {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub is_staff: bool,
    pub is_support: bool,
    pub is_active: bool,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

/// Fields of a new user.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub is_staff: bool,
    pub is_support: bool,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub is_staff: Option<bool>,
    pub is_support: Option<bool>,
    pub is_active: Option<bool>,
}

/// Fields a user list can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOrder {
    Username,
    FullName,
    Email,
    Created,
}

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub username: Option<String>,
    pub email: Option<String>,
    pub is_staff: Option<bool>,
    pub is_support: Option<bool>,
    pub is_active: Option<bool>,
}

/// Number of random bytes in an API token; the token is their hex form (40 characters).
const TOKEN_BYTES: usize = 20;

/// Hashes a token for storage and lookup; the plain token is never stored.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn now() -> DbTime {
    DbTime::from(Utc::now())
}

/// Inserts a user after checking that the username is free.
pub fn create_user(connection: &mut AnyConnection, new: &NewUser) -> StoreResult<User> {
    if let Some(problem) = referee_domain::validate::username_problem(&new.username) {
        return Err(DomainError::field("username", problem).into());
    }
    let taken = users::table
        .filter(users::username.eq(&new.username))
        .count()
        .get_result::<i64>(connection)?;
    if taken > 0 {
        return Err(DomainError::field(
            "username",
            format!(
                "A user with username {:?} already exists. Choose another username.",
                new.username
            ),
        )
        .into());
    }

    let uuid = Uuid::now_v7();
    let created = now();
    diesel::insert_into(users::table)
        .values((
            users::uuid.eq(DbUuid(uuid)),
            users::username.eq(&new.username),
            users::email.eq(&new.email),
            users::full_name.eq(&new.full_name),
            users::is_staff.eq(new.is_staff),
            users::is_support.eq(new.is_support),
            users::is_active.eq(true),
            users::created.eq(created),
            users::modified.eq(created),
        ))
        .execute(connection)?;
    get_user(connection, uuid)
}

pub fn get_user(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<User> {
    users::table
        .find(DbUuid(uuid))
        .first::<User>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("user").into())
}

/// Finds a user visible to the actor: staff and support see everyone, others only themselves.
pub fn find_visible_user(
    connection: &mut AnyConnection,
    actor: &Actor,
    uuid: Uuid,
) -> StoreResult<User> {
    if !actor.reads_everything() && actor.user_uuid != uuid {
        return Err(DomainError::not_found("user").into());
    }
    get_user(connection, uuid)
}

pub fn find_user_by_username(
    connection: &mut AnyConnection,
    username: &str,
) -> StoreResult<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .first::<User>(connection)
        .optional()?)
}

/// Finds an active user by e-mail address, compared case-insensitively.
pub fn find_user_by_email(
    connection: &mut AnyConnection,
    email: &str,
) -> StoreResult<Option<User>> {
    let lowered = email.to_lowercase();
    Ok(users::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = ")
                .bind::<diesel::sql_types::Text, _>(lowered),
        )
        .filter(users::is_active.eq(true))
        .order(users::uuid.asc())
        .first::<User>(connection)
        .optional()?)
}

pub fn count_users(connection: &mut AnyConnection) -> StoreResult<i64> {
    Ok(users::table.count().get_result(connection)?)
}

fn filtered<'a>(
    actor: &Actor,
    filter: &'a UserFilter,
) -> users::BoxedQuery<'a, crate::connection::MultiBackend> {
    let mut query = users::table.into_boxed();
    if !actor.reads_everything() {
        query = query.filter(users::uuid.eq(DbUuid(actor.user_uuid)));
    }
    if let Some(username) = &filter.username {
        query = query.filter(users::username.eq(username));
    }
    if let Some(email) = &filter.email {
        query = query.filter(users::email.eq(email));
    }
    if let Some(is_staff) = filter.is_staff {
        query = query.filter(users::is_staff.eq(is_staff));
    }
    if let Some(is_support) = filter.is_support {
        query = query.filter(users::is_support.eq(is_support));
    }
    if let Some(is_active) = filter.is_active {
        query = query.filter(users::is_active.eq(is_active));
    }
    query
}

pub fn list_users(
    connection: &mut AnyConnection,
    actor: &Actor,
    filter: &UserFilter,
    order: &[SortKey<UserOrder>],
    page: PageRequest,
) -> StoreResult<Page<User>> {
    let total = filtered(actor, filter)
        .count()
        .get_result::<i64>(connection)?;

    let mut query = filtered(actor, filter);
    for key in order {
        query = match (key.field, key.descending) {
            (UserOrder::Username, false) => query.then_order_by(users::username.asc()),
            (UserOrder::Username, true) => query.then_order_by(users::username.desc()),
            (UserOrder::FullName, false) => query.then_order_by(users::full_name.asc()),
            (UserOrder::FullName, true) => query.then_order_by(users::full_name.desc()),
            (UserOrder::Email, false) => query.then_order_by(users::email.asc()),
            (UserOrder::Email, true) => query.then_order_by(users::email.desc()),
            (UserOrder::Created, false) => query.then_order_by(users::created.asc()),
            (UserOrder::Created, true) => query.then_order_by(users::created.desc()),
        };
    }
    let rows = query
        .then_order_by(users::uuid.asc())
        .offset(page.offset())
        .limit(page.page_size)
        .load::<User>(connection)?;
    Ok(Page { rows, total })
}

pub fn update_user(
    connection: &mut AnyConnection,
    uuid: Uuid,
    changes: &UserChanges,
) -> StoreResult<User> {
    let user = get_user(connection, uuid)?;
    diesel::update(users::table.find(DbUuid(uuid)))
        .set((
            users::email.eq(changes.email.as_ref().unwrap_or(&user.email)),
            users::full_name.eq(changes.full_name.as_ref().unwrap_or(&user.full_name)),
            users::is_staff.eq(changes.is_staff.unwrap_or(user.is_staff)),
            users::is_support.eq(changes.is_support.unwrap_or(user.is_support)),
            users::is_active.eq(changes.is_active.unwrap_or(user.is_active)),
            users::modified.eq(now()),
        ))
        .execute(connection)?;
    // Detection compares the reviewer's account name and e-mail address.
    let identity_changed = changes
        .email
        .as_ref()
        .is_some_and(|email| *email != user.email)
        || changes
            .full_name
            .as_ref()
            .is_some_and(|full_name| *full_name != user.full_name);
    if identity_changed && let Some(profile) = crate::profiles::profile_of_user(connection, uuid)? {
        crate::detection::forget_profile_evaluations(connection, profile.uuid)?;
    }
    get_user(connection, uuid)
}

/// Creates a new API token for the user and returns it, revoking the user's earlier tokens
/// (one token per user); only its digest is stored.
pub fn issue_token(connection: &mut AnyConnection, user_uuid: Uuid) -> StoreResult<String> {
    diesel::delete(api_tokens::table.filter(api_tokens::user_uuid.eq(DbUuid(user_uuid))))
        .execute(connection)?;
    let mut bytes = [0_u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);

    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::digest.eq(token_digest(&token)),
            api_tokens::user_uuid.eq(DbUuid(user_uuid)),
            api_tokens::created.eq(now()),
        ))
        .execute(connection)?;
    Ok(token)
}

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Unknown,
    Inactive,
}

/// A role grant row: call, organisation and role name.
type GrantRow = (Option<DbUuid>, Option<DbUuid>, String);

/// Resolves a token to the actor it belongs to, with the actor's role grants, in one query.
pub fn authenticate(
    connection: &mut AnyConnection,
    token: &str,
) -> StoreResult<Result<Actor, TokenRejection>> {
    let rows: Vec<(User, Option<GrantRow>)> = api_tokens::table
        .inner_join(users::table)
        .left_join(role_grants::table.on(role_grants::user_uuid.eq(users::uuid)))
        .filter(api_tokens::digest.eq(token_digest(token)))
        .select((
            users::all_columns,
            (
                role_grants::call_uuid,
                role_grants::customer_uuid,
                role_grants::role,
            )
                .nullable(),
        ))
        .load(connection)?;
    let Some((user, _)) = rows.first() else {
        return Ok(Err(TokenRejection::Unknown));
    };
    if !user.is_active {
        return Ok(Err(TokenRejection::Inactive));
    }
    let user = user.clone();
    let grants = rows.into_iter().filter_map(|(_, grant)| grant);
    Ok(Ok(actor_with_grants(user, grants)))
}

/// Builds the actor of a user with the role grants it holds.
pub fn actor_for(connection: &mut AnyConnection, user: User) -> StoreResult<Actor> {
    let grants = role_grants::table
        .filter(role_grants::user_uuid.eq(DbUuid(user.uuid)))
        .select((
            role_grants::call_uuid,
            role_grants::customer_uuid,
            role_grants::role,
        ))
        .load::<GrantRow>(connection)?;
    Ok(actor_with_grants(user, grants))
}

/// Builds the actor of a user from its grant rows, skipping rows with an unknown role or no
/// scope.
fn actor_with_grants(user: User, rows: impl IntoIterator<Item = GrantRow>) -> Actor {
    let grants = rows
        .into_iter()
        .filter_map(
            |(call_uuid, customer_uuid, role)| match (call_uuid, customer_uuid) {
                (Some(call_uuid), _) => role.parse::<CallRole>().ok().map(|role| RoleGrant::Call {
                    call_uuid: call_uuid.0,
                    role,
                }),
                (None, Some(customer_uuid)) => {
                    role.parse::<CustomerRole>()
                        .ok()
                        .map(|role| RoleGrant::Customer {
                            customer_uuid: customer_uuid.0,
                            role,
                        })
                }
                (None, None) => None,
            },
        )
        .collect();
    Actor {
        user_uuid: user.uuid,
        username: user.username,
        email: user.email,
        full_name: user.full_name,
        is_staff: user.is_staff,
        is_support: user.is_support,
        grants,
    }
}

/// Grants a role on a call or an organisation; granting a role the user already holds is a no-op.
pub fn grant_role(
    connection: &mut AnyConnection,
    user_uuid: Uuid,
    scope: RoleScope,
    created_by: Option<Uuid>,
) -> StoreResult<()> {
    let (call_uuid, customer_uuid, role) = scope.columns();
    let existing = role_grants::table
        .filter(role_grants::user_uuid.eq(DbUuid(user_uuid)))
        .filter(role_grants::role.eq(role))
        .into_boxed();
    let existing = match (call_uuid, customer_uuid) {
        (Some(call), _) => existing.filter(role_grants::call_uuid.eq(DbUuid(call))),
        (None, Some(customer)) => existing.filter(role_grants::customer_uuid.eq(DbUuid(customer))),
        (None, None) => existing,
    };
    if existing.count().get_result::<i64>(connection)? > 0 {
        return Ok(());
    }

    diesel::insert_into(role_grants::table)
        .values((
            role_grants::uuid.eq(DbUuid(Uuid::now_v7())),
            role_grants::user_uuid.eq(DbUuid(user_uuid)),
            role_grants::call_uuid.eq(call_uuid.map(DbUuid)),
            role_grants::customer_uuid.eq(customer_uuid.map(DbUuid)),
            role_grants::role.eq(role),
            role_grants::created_by_uuid.eq(created_by.map(DbUuid)),
            role_grants::created.eq(now()),
        ))
        .execute(connection)?;
    Ok(())
}

/// Removes a role grant; returns whether one existed.
pub fn revoke_role(
    connection: &mut AnyConnection,
    user_uuid: Uuid,
    scope: RoleScope,
) -> StoreResult<bool> {
    let (call_uuid, customer_uuid, role) = scope.columns();
    let deleted = match (call_uuid, customer_uuid) {
        (Some(call), _) => diesel::delete(
            role_grants::table
                .filter(role_grants::user_uuid.eq(DbUuid(user_uuid)))
                .filter(role_grants::role.eq(role))
                .filter(role_grants::call_uuid.eq(DbUuid(call))),
        )
        .execute(connection)?,
        (None, Some(customer)) => diesel::delete(
            role_grants::table
                .filter(role_grants::user_uuid.eq(DbUuid(user_uuid)))
                .filter(role_grants::role.eq(role))
                .filter(role_grants::customer_uuid.eq(DbUuid(customer))),
        )
        .execute(connection)?,
        (None, None) => 0,
    };
    Ok(deleted > 0)
}

/// Where a role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleScope {
    Call(Uuid, CallRole),
    Customer(Uuid, CustomerRole),
}

impl RoleScope {
    fn columns(self) -> (Option<Uuid>, Option<Uuid>, &'static str) {
        match self {
            Self::Call(call, role) => (Some(call), None, role.as_str()),
            Self::Customer(customer, role) => (None, Some(customer), role.as_str()),
        }
    }
}

/// A role grant with the user it belongs to, as listed under a call or an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct RoleHolder {
    #[diesel(deserialize_as = DbUuid)]
    pub grant_uuid: Uuid,
    pub role: String,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbUuid)]
    pub user_uuid: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
}

/// Lists the users holding roles on a call or an organisation, oldest grant first.
pub fn list_role_holders(
    connection: &mut AnyConnection,
    call_uuid: Option<Uuid>,
    customer_uuid: Option<Uuid>,
) -> StoreResult<Vec<RoleHolder>> {
    let mut query = role_grants::table
        .inner_join(users::table.on(users::uuid.eq(role_grants::user_uuid)))
        .select((
            role_grants::uuid,
            role_grants::role,
            role_grants::created,
            users::uuid,
            users::username,
            users::full_name,
            users::email,
        ))
        .into_boxed();
    if let Some(call) = call_uuid {
        query = query.filter(role_grants::call_uuid.eq(DbUuid(call)));
    }
    if let Some(customer) = customer_uuid {
        query = query.filter(role_grants::customer_uuid.eq(DbUuid(customer)));
    }
    Ok(query
        .order(role_grants::uuid.asc())
        .load::<RoleHolder>(connection)?)
}
