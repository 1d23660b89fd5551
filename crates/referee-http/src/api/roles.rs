//! Wire types of role grants, shared by organisations and calls.

use chrono::{DateTime, Utc};
use referee_store::users::RoleHolder;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::links::RequestUrl;
use crate::wire::{HexUuid, Reference, WireTime};

/// A user holding a role.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleHolderOut {
    /// UUID of the grant.
    pub uuid: HexUuid,
    pub user: String,
    pub user_uuid: HexUuid,
    pub user_username: String,
    pub user_full_name: String,
    pub user_email: String,
    pub role: String,
    pub created: WireTime,
    /// Always null: grants do not expire.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expiration_time: Option<DateTime<Utc>>,
}

impl RoleHolderOut {
    pub fn new(holder: RoleHolder, url: &RequestUrl) -> Self {
        Self {
            uuid: holder.grant_uuid.into(),
            user: url.resource("users", holder.user_uuid),
            user_uuid: holder.user_uuid.into(),
            user_username: holder.username,
            user_full_name: holder.full_name,
            user_email: holder.email,
            role: holder.role,
            created: holder.created.into(),
            expiration_time: None,
        }
    }
}

/// Body of `add_user` and `delete_user`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RoleRequest {
    /// The user's UUID or hyperlink.
    pub user: Reference,
    /// Role name, for example `CALL.MANAGER` or `CUSTOMER.OWNER`.
    pub role: String,
}
