//! Reviewer profiles with their affiliations, expertise and publications.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use referee_domain::DomainError;
use uuid::Uuid;

use crate::connection::AnyConnection;
use crate::error::StoreResult;
use crate::schema::reviewer_profiles;
use crate::sql_types::{DbTime, DbUuid, MaybeTime};

/// A reviewer profile; exactly one per user at most.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Profile {
    #[diesel(deserialize_as = DbUuid)]
    pub uuid: Uuid,
    #[diesel(deserialize_as = DbUuid)]
    pub user_uuid: Uuid,
    pub orcid_id: Option<String>,
    pub biography: String,
    /// JSON array of strings.
    pub alternative_names: String,
    pub is_published: bool,
    #[diesel(deserialize_as = MaybeTime)]
    pub published_at: Option<DateTime<Utc>>,
    pub available_for_reviews: bool,
    #[diesel(deserialize_as = DbTime)]
    pub created: DateTime<Utc>,
    #[diesel(deserialize_as = DbTime)]
    pub modified: DateTime<Utc>,
}

impl Profile {
    /// The alternative names as a list; an unreadable stored value counts as no names.
    pub fn alternative_names(&self) -> Vec<String> {
        serde_json::from_str(&self.alternative_names).unwrap_or_default()
    }
}

pub fn get_profile(connection: &mut AnyConnection, uuid: Uuid) -> StoreResult<Profile> {
    reviewer_profiles::table
        .find(DbUuid(uuid))
        .first::<Profile>(connection)
        .optional()?
        .ok_or_else(|| DomainError::not_found("reviewer profile").into())
}

/// The profile of a user, if the user has one.
pub fn profile_of_user(connection: &mut AnyConnection, user_uuid: Uuid) -> StoreResult<Option<Profile>> {
    Ok(reviewer_profiles::table
        .filter(reviewer_profiles::user_uuid.eq(DbUuid(user_uuid)))
        .first::<Profile>(connection)
        .optional()?)
}
