//! `/api/reviewer-profiles/`: reviewer profiles with their affiliations, expertise and
//! publications, nested under `/api/reviewer-profiles/{uuid}/affiliations/`, `expertise/` and
//! `publications/`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike as _, NaiveDate, Utc};
use referee_domain::enums::{AffiliationType, ProficiencyLevel, VenueType, WireEnum};
use referee_domain::validate::is_orcid;
use referee_domain::{Actor, FieldErrors};
use referee_store::profiles::{
    self, Affiliation, AffiliationChanges, AffiliationFields, Expertise, ExpertiseChanges,
    ExpertiseFields, NewProfile, ProfileChanges, ProfileDetail, ProfileFilter, ProfileOrder,
    Publication, PublicationChanges, PublicationFields,
};
use referee_store::sql_types::DbUuid;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::common::{check, list_page};
use crate::error::BadRequestBody;
use crate::error::{ApiError, ApiResult, DetailBody};
use crate::extract::{Auth, JsonBody, Params};
use crate::links::{ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, Reference, WireTime, double_option, parse_date, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_profiles, count_profiles, create_profile))
        .routes(routes!(
            retrieve_own_profile,
            get_or_create_own_profile,
            partial_update_own_profile
        ))
        .routes(routes!(
            retrieve_profile,
            update_profile,
            partial_update_profile,
            delete_profile
        ))
        .routes(routes!(publish_profile))
        .routes(routes!(unpublish_profile))
        .routes(routes!(
            list_affiliations,
            count_affiliations,
            create_affiliation
        ))
        .routes(routes!(
            retrieve_affiliation,
            update_affiliation,
            partial_update_affiliation,
            delete_affiliation
        ))
        .routes(routes!(list_expertise, count_expertise, create_expertise))
        .routes(routes!(
            retrieve_expertise,
            update_expertise,
            partial_update_expertise,
            delete_expertise
        ))
        .routes(routes!(
            list_publications,
            count_publications,
            create_publication
        ))
        .routes(routes!(
            retrieve_publication,
            update_publication,
            partial_update_publication,
            delete_publication
        ))
}

const COLLECTION: &str = "reviewer-profiles";

/// Longest accepted values, in characters.
const MAX_ORGANIZATION_NAME: usize = 255;
const MAX_ORGANIZATION_IDENTIFIER: usize = 100;
const MAX_DEPARTMENT: usize = 255;
const MAX_POSITION_TITLE: usize = 255;
const MAX_EXPERTISE_KEYWORD: usize = 100;
const MAX_TITLE: usize = 500;
const MAX_DOI: usize = 100;
const MAX_VENUE: usize = 255;

/// Earliest accepted publication year; the latest is next year.
const FIRST_PUBLICATION_YEAR: i64 = 1900;

// Response bodies.

/// Gives every co-author object an `orcid` key (null when unknown), so that the key the
/// schema declares is always present; name strings stay strings.
fn with_orcid_keys(coauthors: Value) -> Value {
    match coauthors {
        Value::Array(entries) => Value::Array(
            entries
                .into_iter()
                .map(|entry| match entry {
                    Value::Object(mut person) => {
                        person.entry("orcid").or_insert(Value::Null);
                        Value::Object(person)
                    }
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

/// A co-author of a publication: a name, or an object with the name and an ORCID iD.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Coauthor {
    Person { name: String, orcid: Option<String> },
    Name(String),
}

/// A reviewer profile with its nested records.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileOut {
    pub url: String,
    pub uuid: HexUuid,
    /// Hyperlink of the user the profile belongs to.
    pub user: String,
    pub user_uuid: HexUuid,
    pub user_full_name: String,
    pub user_email: String,
    pub orcid_id: Option<String>,
    /// Whether an ORCID account is connected; always false, because ORCID sign-in is not offered.
    pub orcid_connected: bool,
    /// Last synchronisation with ORCID; always null, because ORCID sign-in is not offered.
    pub orcid_last_sync: Option<WireTime>,
    pub biography: String,
    pub alternative_names: Vec<String>,
    /// Whether call managers can discover the profile; changed through publish and unpublish.
    pub is_published: bool,
    pub published_at: Option<WireTime>,
    pub available_for_reviews: bool,
    pub affiliations: Vec<AffiliationOut>,
    pub expertise_set: Vec<ExpertiseOut>,
    pub publications: Vec<PublicationOut>,
    pub created: WireTime,
    pub modified: WireTime,
}

impl ProfileOut {
    pub fn new(detail: ProfileDetail, url: &RequestUrl) -> Self {
        let ProfileDetail {
            profile,
            user_full_name,
            user_email,
            organization_names,
            affiliations,
            expertise,
            publications,
        } = detail;
        Self {
            url: url.resource(COLLECTION, profile.uuid),
            uuid: profile.uuid.into(),
            user: url.resource("users", profile.user_uuid),
            user_uuid: profile.user_uuid.into(),
            user_full_name,
            user_email,
            alternative_names: profile.alternative_names(),
            orcid_id: profile.orcid_id,
            orcid_connected: false,
            orcid_last_sync: None,
            biography: profile.biography,
            is_published: profile.is_published,
            published_at: profile.published_at.map(WireTime),
            available_for_reviews: profile.available_for_reviews,
            affiliations: affiliations
                .into_iter()
                .map(|affiliation| AffiliationOut::new(affiliation, &organization_names))
                .collect(),
            expertise_set: expertise.into_iter().map(ExpertiseOut::from).collect(),
            publications: publications.into_iter().map(PublicationOut::from).collect(),
            created: profile.created.into(),
            modified: profile.modified.into(),
        }
    }
}

/// An affiliation of a reviewer with an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AffiliationOut {
    pub uuid: HexUuid,
    /// UUID of the linked organisation, if any.
    pub organization: Option<HexUuid>,
    pub organization_name: String,
    /// The linked organisation's current name, else `organization_name`.
    pub organization_name_display: String,
    pub organization_identifier: String,
    pub department: String,
    pub position_title: String,
    pub start_date: Option<NaiveDate>,
    /// Null for a current affiliation.
    pub end_date: Option<NaiveDate>,
    pub is_primary: bool,
    pub affiliation_type: AffiliationType,
    pub created: WireTime,
}

impl AffiliationOut {
    fn new(affiliation: Affiliation, organization_names: &HashMap<Uuid, String>) -> Self {
        let organization_name_display = affiliation
            .organization_uuid
            .and_then(|uuid| organization_names.get(&uuid).cloned())
            .unwrap_or_else(|| affiliation.organization_name.clone());
        Self {
            uuid: affiliation.uuid.into(),
            organization: affiliation.organization_uuid.map(HexUuid),
            organization_name: affiliation.organization_name,
            organization_name_display,
            organization_identifier: affiliation.organization_identifier,
            department: affiliation.department,
            position_title: affiliation.position_title,
            start_date: affiliation.start_date,
            end_date: affiliation.end_date,
            is_primary: affiliation.is_primary,
            affiliation_type: affiliation.affiliation_type,
            created: affiliation.created.into(),
        }
    }
}

/// An area of expertise of a reviewer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpertiseOut {
    pub uuid: HexUuid,
    pub expertise_keyword: String,
    pub expertise_category: Option<String>,
    /// The category as text; empty when there is none.
    pub expertise_category_name: String,
    pub proficiency_level: ProficiencyLevel,
    pub years_experience: Option<i32>,
    pub last_active_date: Option<NaiveDate>,
    pub created: WireTime,
}

impl From<Expertise> for ExpertiseOut {
    fn from(expertise: Expertise) -> Self {
        Self {
            uuid: expertise.uuid.into(),
            expertise_keyword: expertise.expertise_keyword,
            expertise_category_name: expertise.expertise_category.clone().unwrap_or_default(),
            expertise_category: expertise.expertise_category,
            proficiency_level: expertise.proficiency_level,
            years_experience: expertise.years_experience,
            last_active_date: expertise.last_active_date,
            created: expertise.created.into(),
        }
    }
}

/// A publication of a reviewer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationOut {
    pub uuid: HexUuid,
    pub title: String,
    pub doi: Option<String>,
    pub publication_year: Option<i32>,
    pub venue: String,
    pub venue_type: VenueType,
    #[serde(rename = "abstract")]
    pub abstract_text: String,
    /// Co-authors: `{"name", "orcid"}` objects or name strings.
    #[schema(value_type = Vec<Coauthor>)]
    pub coauthors: Value,
    /// Identifiers in other databases, such as `{"pubmed": "…"}`.
    #[schema(value_type = Object)]
    pub external_ids: Value,
    pub is_excluded_from_matching: bool,
    pub created: WireTime,
}

impl From<Publication> for PublicationOut {
    fn from(publication: Publication) -> Self {
        Self {
            uuid: publication.uuid.into(),
            coauthors: with_orcid_keys(publication.coauthors()),
            external_ids: publication.external_ids(),
            title: publication.title,
            doi: publication.doi,
            publication_year: publication.publication_year,
            venue: publication.venue,
            venue_type: publication.venue_type,
            abstract_text: publication.abstract_text,
            is_excluded_from_matching: publication.is_excluded_from_matching,
            created: publication.created.into(),
        }
    }
}

// Request bodies.

fn default_true() -> bool {
    true
}

/// Body of a profile create or full update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileRequest {
    /// The user the profile belongs to (create only, staff only); the caller when left out.
    #[serde(default)]
    pub user: Option<Reference>,
    #[serde(default)]
    pub orcid_id: Option<String>,
    #[serde(default)]
    pub biography: Option<String>,
    #[serde(default)]
    pub alternative_names: Option<Vec<String>>,
    #[serde(default = "default_true")]
    pub available_for_reviews: bool,
}

/// Body of a profile partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ProfilePatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub orcid_id: Option<Option<String>>,
    pub biography: Option<String>,
    pub alternative_names: Option<Vec<String>>,
    pub available_for_reviews: Option<bool>,
}

/// Body of an affiliation create or full update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AffiliationRequest {
    /// Linked organisation: its UUID or hyperlink.
    #[serde(default)]
    pub organization: Option<Reference>,
    /// Required unless `organization` is given; then the organisation's name is used.
    #[serde(default)]
    pub organization_name: Option<String>,
    #[serde(default)]
    pub organization_identifier: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub position_title: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub start_date: Option<String>,
    /// `YYYY-MM-DD`, on or after `start_date`; null for a current affiliation.
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub is_primary: bool,
    /// Default `employment`.
    #[serde(default)]
    #[schema(value_type = Option<AffiliationType>)]
    pub affiliation_type: Option<String>,
}

/// Body of an affiliation partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AffiliationPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub organization: Option<Option<Reference>>,
    pub organization_name: Option<String>,
    pub organization_identifier: Option<String>,
    pub department: Option<String>,
    pub position_title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub end_date: Option<Option<String>>,
    pub is_primary: Option<bool>,
    #[schema(value_type = Option<AffiliationType>)]
    pub affiliation_type: Option<String>,
}

/// Body of an expertise create or full update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExpertiseRequest {
    pub expertise_keyword: String,
    #[serde(default)]
    pub expertise_category: Option<String>,
    /// Default `familiar`.
    #[serde(default)]
    #[schema(value_type = Option<ProficiencyLevel>)]
    pub proficiency_level: Option<String>,
    #[serde(default)]
    pub years_experience: Option<i64>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub last_active_date: Option<String>,
}

/// Body of an expertise partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ExpertisePatch {
    pub expertise_keyword: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub expertise_category: Option<Option<String>>,
    #[schema(value_type = Option<ProficiencyLevel>)]
    pub proficiency_level: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub years_experience: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub last_active_date: Option<Option<String>>,
}

/// Body of a publication create or full update.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PublicationRequest {
    pub title: String,
    #[serde(default)]
    pub doi: Option<String>,
    /// From 1900 to next year.
    pub publication_year: i64,
    #[serde(default)]
    pub venue: Option<String>,
    /// Default `other`.
    #[serde(default)]
    #[schema(value_type = Option<VenueType>)]
    pub venue_type: Option<String>,
    #[serde(default, rename = "abstract")]
    pub abstract_text: Option<String>,
    /// `{"name", "orcid"}` objects or name strings.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Coauthor>>)]
    pub coauthors: Option<Value>,
    /// A JSON object of identifiers in other databases.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub external_ids: Option<Value>,
    #[serde(default)]
    pub is_excluded_from_matching: bool,
}

/// Body of a publication partial update.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PublicationPatch {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub doi: Option<Option<String>>,
    pub publication_year: Option<i64>,
    pub venue: Option<String>,
    #[schema(value_type = Option<VenueType>)]
    pub venue_type: Option<String>,
    #[serde(rename = "abstract")]
    pub abstract_text: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub coauthors: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub external_ids: Option<Value>,
    pub is_excluded_from_matching: Option<bool>,
}

// Field checks.

fn path_uuid(text: &str) -> ApiResult<Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

fn check_length(errors: &mut FieldErrors, field: &str, value: &str, max: usize) {
    let length = value.chars().count();
    if length > max {
        errors.add(field, format!("Ensure this field has no more than {max} characters; it has {length}. Shorten the value."));
    }
}

/// Parses an optional ORCID iD; an empty string counts as none.
fn parse_orcid(errors: &mut FieldErrors, value: Option<String>) -> Option<String> {
    let value = value
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())?;
    if !is_orcid(&value) {
        errors.add(
            "orcid_id",
            format!("{value:?} is not a valid ORCID iD. Use four groups of four digits separated by hyphens, such as 0000-0002-1825-0097 (the last character may be X)."),
        );
    }
    Some(value)
}

fn parse_names(errors: &mut FieldErrors, names: Vec<String>) -> Vec<String> {
    let names: Vec<String> = names
        .into_iter()
        .map(|name| name.trim().to_owned())
        .collect();
    if let Some(position) = names.iter().position(String::is_empty) {
        errors.add(
            "alternative_names",
            format!("Name {position} is blank. Remove it or give the name variant."),
        );
    }
    names
}

fn parse_optional_date(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) -> Option<NaiveDate> {
    let value = value.filter(|value| !value.trim().is_empty())?;
    let parsed = parse_date(&value);
    if parsed.is_none() {
        errors.add(
            field,
            format!("{value:?} is not a valid date. Use YYYY-MM-DD, for example 2024-01-31."),
        );
    }
    parsed
}

fn parse_choice<E: WireEnum>(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
    default: E,
) -> E {
    let Some(value) = value else {
        return default;
    };
    match value.parse::<E>() {
        Ok(choice) => choice,
        Err(unknown) => {
            errors.add(field, format!("Select a valid choice. {unknown}"));
            default
        }
    }
}

fn parse_keyword(errors: &mut FieldErrors, keyword: String) -> String {
    let keyword = keyword.trim().to_owned();
    if keyword.is_empty() {
        errors.add(
            "expertise_keyword",
            "This field may not be blank. Give a keyword such as \"machine learning\".",
        );
    }
    check_length(errors, "expertise_keyword", &keyword, MAX_EXPERTISE_KEYWORD);
    keyword
}

fn parse_years(errors: &mut FieldErrors, years: Option<i64>) -> Option<i32> {
    let years = years?;
    match i32::try_from(years) {
        Ok(years) if years >= 0 => Some(years),
        _ => {
            errors.add(
                "years_experience",
                format!(
                    "{years} is not a valid number of years. Send a whole number of 0 or more."
                ),
            );
            None
        }
    }
}

fn parse_title(errors: &mut FieldErrors, title: String) -> String {
    let title = title.trim().to_owned();
    if title.is_empty() {
        errors.add(
            "title",
            "This field may not be blank. Give the publication's title.",
        );
    }
    check_length(errors, "title", &title, MAX_TITLE);
    title
}

fn parse_doi(errors: &mut FieldErrors, doi: Option<String>) -> Option<String> {
    let doi = doi
        .map(|doi| doi.trim().to_owned())
        .filter(|doi| !doi.is_empty())?;
    check_length(errors, "doi", &doi, MAX_DOI);
    Some(doi)
}

fn parse_year(errors: &mut FieldErrors, year: i64) -> Option<i32> {
    let latest = i64::from(Utc::now().year()) + 1;
    if !(FIRST_PUBLICATION_YEAR..=latest).contains(&year) {
        errors.add(
            "publication_year",
            format!("{year} is not a valid publication year. Send a year from {FIRST_PUBLICATION_YEAR} to {latest}."),
        );
        return None;
    }
    i32::try_from(year).ok()
}

/// Checks that co-authors are a list of name strings or objects with a `name` and an optional
/// ORCID iD.
fn parse_coauthors(errors: &mut FieldErrors, coauthors: Option<Value>) -> Value {
    let Some(coauthors) = coauthors.filter(|value| !value.is_null()) else {
        return Value::Array(Vec::new());
    };
    let Some(entries) = coauthors.as_array() else {
        errors.add("coauthors", format!("{coauthors} is not a list. Send a list of names or {{\"name\", \"orcid\"}} objects."));
        return coauthors;
    };
    for (position, entry) in entries.iter().enumerate() {
        let valid = match entry {
            Value::String(name) => !name.trim().is_empty(),
            Value::Object(fields) => {
                let named = fields
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| !name.trim().is_empty());
                let orcid_ok = match fields.get("orcid") {
                    None | Some(Value::Null) => true,
                    Some(Value::String(orcid)) => orcid.is_empty() || is_orcid(orcid),
                    Some(_) => false,
                };
                named && orcid_ok
            }
            _ => false,
        };
        if !valid {
            errors.add(
                "coauthors",
                format!("Co-author {position} ({entry}) is invalid. Send a non-blank name string or an object with a non-blank \"name\" and an optional \"orcid\" such as 0000-0002-1825-0097."),
            );
        }
    }
    coauthors
}

fn parse_external_ids(errors: &mut FieldErrors, external_ids: Option<Value>) -> Value {
    let Some(external_ids) = external_ids.filter(|value| !value.is_null()) else {
        return Value::Object(Default::default());
    };
    if !external_ids.is_object() {
        errors.add(
            "external_ids",
            format!("{external_ids} is not a JSON object. Send identifiers by database, such as {{\"pubmed\": \"12345\"}}."),
        );
    }
    external_ids
}

fn affiliation_fields(body: AffiliationRequest) -> ApiResult<AffiliationFields> {
    let mut errors = FieldErrors::new();
    let organization_name = body.organization_name.unwrap_or_default().trim().to_owned();
    let organization_identifier = body.organization_identifier.unwrap_or_default();
    let department = body.department.unwrap_or_default();
    let position_title = body.position_title.unwrap_or_default();
    check_length(
        &mut errors,
        "organization_name",
        &organization_name,
        MAX_ORGANIZATION_NAME,
    );
    check_length(
        &mut errors,
        "organization_identifier",
        &organization_identifier,
        MAX_ORGANIZATION_IDENTIFIER,
    );
    check_length(&mut errors, "department", &department, MAX_DEPARTMENT);
    check_length(
        &mut errors,
        "position_title",
        &position_title,
        MAX_POSITION_TITLE,
    );
    if body.organization.is_none() && organization_name.is_empty() {
        errors.add(
            "organization_name",
            "This field is required unless organization is given. Send the organisation's name or link an organisation.",
        );
    }
    let fields = AffiliationFields {
        organization_uuid: body.organization.map(|reference| reference.0),
        organization_name,
        organization_identifier,
        department,
        position_title,
        start_date: parse_optional_date(&mut errors, "start_date", body.start_date),
        end_date: parse_optional_date(&mut errors, "end_date", body.end_date),
        is_primary: body.is_primary,
        affiliation_type: parse_choice(
            &mut errors,
            "affiliation_type",
            body.affiliation_type,
            AffiliationType::Employment,
        ),
    };
    check(errors)?;
    Ok(fields)
}

fn affiliation_changes(body: AffiliationPatch) -> ApiResult<AffiliationChanges> {
    let mut errors = FieldErrors::new();
    let organization_name = body.organization_name.map(|name| name.trim().to_owned());
    if let Some(name) = &organization_name {
        check_length(
            &mut errors,
            "organization_name",
            name,
            MAX_ORGANIZATION_NAME,
        );
    }
    if let Some(identifier) = &body.organization_identifier {
        check_length(
            &mut errors,
            "organization_identifier",
            identifier,
            MAX_ORGANIZATION_IDENTIFIER,
        );
    }
    if let Some(department) = &body.department {
        check_length(&mut errors, "department", department, MAX_DEPARTMENT);
    }
    if let Some(position_title) = &body.position_title {
        check_length(
            &mut errors,
            "position_title",
            position_title,
            MAX_POSITION_TITLE,
        );
    }
    let affiliation_type = body.affiliation_type.map(|value| {
        parse_choice(
            &mut errors,
            "affiliation_type",
            Some(value),
            AffiliationType::Employment,
        )
    });
    let changes = AffiliationChanges {
        organization_uuid: body
            .organization
            .map(|reference| reference.map(|reference| reference.0)),
        organization_name,
        organization_identifier: body.organization_identifier,
        department: body.department,
        position_title: body.position_title,
        start_date: body
            .start_date
            .map(|date| parse_optional_date(&mut errors, "start_date", date)),
        end_date: body
            .end_date
            .map(|date| parse_optional_date(&mut errors, "end_date", date)),
        is_primary: body.is_primary,
        affiliation_type,
    };
    check(errors)?;
    Ok(changes)
}

fn expertise_fields(body: ExpertiseRequest) -> ApiResult<ExpertiseFields> {
    let mut errors = FieldErrors::new();
    let fields = ExpertiseFields {
        expertise_keyword: parse_keyword(&mut errors, body.expertise_keyword),
        expertise_category: body
            .expertise_category
            .map(|category| category.trim().to_owned())
            .filter(|category| !category.is_empty()),
        proficiency_level: parse_choice(
            &mut errors,
            "proficiency_level",
            body.proficiency_level,
            ProficiencyLevel::Familiar,
        ),
        years_experience: parse_years(&mut errors, body.years_experience),
        last_active_date: parse_optional_date(
            &mut errors,
            "last_active_date",
            body.last_active_date,
        ),
    };
    check(errors)?;
    Ok(fields)
}

fn expertise_changes(body: ExpertisePatch) -> ApiResult<ExpertiseChanges> {
    let mut errors = FieldErrors::new();
    let proficiency_level = body.proficiency_level.map(|value| {
        parse_choice(
            &mut errors,
            "proficiency_level",
            Some(value),
            ProficiencyLevel::Familiar,
        )
    });
    let changes = ExpertiseChanges {
        expertise_keyword: body
            .expertise_keyword
            .map(|keyword| parse_keyword(&mut errors, keyword)),
        expertise_category: body.expertise_category.map(|category| {
            category
                .map(|category| category.trim().to_owned())
                .filter(|category| !category.is_empty())
        }),
        proficiency_level,
        years_experience: body
            .years_experience
            .map(|years| parse_years(&mut errors, years)),
        last_active_date: body
            .last_active_date
            .map(|date| parse_optional_date(&mut errors, "last_active_date", date)),
    };
    check(errors)?;
    Ok(changes)
}

fn publication_fields(body: PublicationRequest) -> ApiResult<PublicationFields> {
    let mut errors = FieldErrors::new();
    let venue = body.venue.unwrap_or_default();
    check_length(&mut errors, "venue", &venue, MAX_VENUE);
    let fields = PublicationFields {
        title: parse_title(&mut errors, body.title),
        doi: parse_doi(&mut errors, body.doi),
        publication_year: parse_year(&mut errors, body.publication_year),
        venue,
        venue_type: parse_choice(&mut errors, "venue_type", body.venue_type, VenueType::Other),
        abstract_text: body.abstract_text.unwrap_or_default(),
        coauthors: parse_coauthors(&mut errors, body.coauthors),
        external_ids: parse_external_ids(&mut errors, body.external_ids),
        is_excluded_from_matching: body.is_excluded_from_matching,
    };
    check(errors)?;
    Ok(fields)
}

fn publication_changes(body: PublicationPatch) -> ApiResult<PublicationChanges> {
    let mut errors = FieldErrors::new();
    if let Some(venue) = &body.venue {
        check_length(&mut errors, "venue", venue, MAX_VENUE);
    }
    let venue_type = body
        .venue_type
        .map(|value| parse_choice(&mut errors, "venue_type", Some(value), VenueType::Other));
    let changes = PublicationChanges {
        title: body.title.map(|title| parse_title(&mut errors, title)),
        doi: body.doi.map(|doi| parse_doi(&mut errors, doi)),
        publication_year: body
            .publication_year
            .map(|year| parse_year(&mut errors, year)),
        venue: body.venue,
        venue_type,
        abstract_text: body.abstract_text,
        coauthors: body
            .coauthors
            .map(|coauthors| parse_coauthors(&mut errors, Some(coauthors))),
        external_ids: body
            .external_ids
            .map(|external_ids| parse_external_ids(&mut errors, Some(external_ids))),
        is_excluded_from_matching: body.is_excluded_from_matching,
    };
    check(errors)?;
    Ok(changes)
}

fn profile_changes(body: ProfilePatch) -> ApiResult<ProfileChanges> {
    let mut errors = FieldErrors::new();
    let changes = ProfileChanges {
        orcid_id: body
            .orcid_id
            .map(|orcid_id| parse_orcid(&mut errors, orcid_id)),
        biography: body.biography,
        alternative_names: body
            .alternative_names
            .map(|names| parse_names(&mut errors, names)),
        available_for_reviews: body.available_for_reviews,
    };
    check(errors)?;
    Ok(changes)
}

/// Builds the 404 of `/me/` for a caller without a profile.
fn no_own_profile() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(DetailBody {
            detail: "Reviewer profile not found.".into(),
        }),
    )
        .into_response()
}

// Profiles.

const PROFILE_ORDERING: &[(&str, ProfileOrder)] = &[("created", ProfileOrder::Created)];

/// List reviewer profiles visible to the caller.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/",
    tag = "reviewer-profiles",
    params(
        ("user_uuid" = Option<String>, Query, description = "Profiles of this user"),
        ("is_published" = Option<bool>, Query, description = "Published or unpublished profiles"),
        ("available_for_reviews" = Option<bool>, Query, description = "Profiles whose owners accept review requests, or not"),
        ("o" = Option<String>, Query, description = "Ordering: created; prefix - for descending"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of profiles", body = Vec<ProfileOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_profiles(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ProfileOut>> {
    let mut errors = FieldErrors::new();
    let order = params.ordering(PROFILE_ORDERING, &mut errors);
    let filter = ProfileFilter {
        user_uuid: params.uuid("user_uuid", &mut errors),
        is_published: params.boolean("is_published"),
        available_for_reviews: params.boolean("available_for_reviews"),
    };
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        profiles::list_profiles(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(ProfileOut::new))
}

/// Count reviewer profiles visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/reviewer-profiles/",
    tag = "reviewer-profiles",
    params(
        ("user_uuid" = Option<String>, Query, description = "Profiles of this user"),
        ("is_published" = Option<bool>, Query, description = "Published or unpublished profiles"),
        ("available_for_reviews" = Option<bool>, Query, description = "Profiles whose owners accept review requests, or not"),
    ),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_profiles(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ProfileOut>> {
    list_profiles(state, auth, params, url).await
}

fn new_profile(body: ProfileRequest) -> ApiResult<NewProfile> {
    let mut errors = FieldErrors::new();
    let new = NewProfile {
        user_uuid: body.user.map(|reference| reference.0),
        orcid_id: parse_orcid(&mut errors, body.orcid_id),
        biography: body.biography.unwrap_or_default(),
        alternative_names: parse_names(&mut errors, body.alternative_names.unwrap_or_default()),
        available_for_reviews: body.available_for_reviews,
    };
    check(errors)?;
    Ok(new)
}

/// Create a reviewer profile: the caller's own, or, for staff, another user's (`user`).
#[utoipa::path(
    post,
    path = "/api/reviewer-profiles/",
    tag = "reviewer-profiles",
    request_body = ProfileRequest,
    responses(
        (status = 201, description = "Created, unpublished", body = ProfileOut),
        (status = 400, description = "Invalid field, or the user already has a profile", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "A user who is not staff named another user", body = DetailBody),
    )
)]
pub async fn create_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProfileRequest>,
) -> ApiResult<(StatusCode, Json<ProfileOut>)> {
    let new = new_profile(body)?;
    let detail = state
        .run(move |connection| profiles::create_profile(connection, &actor, &new))
        .await?;
    Ok((StatusCode::CREATED, Json(ProfileOut::new(detail, &url))))
}

/// Retrieve the caller's own reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/me/",
    tag = "reviewer-profiles",
    responses(
        (status = 200, description = "The caller's profile", body = ProfileOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "The caller has no profile", body = DetailBody),
    )
)]
pub async fn retrieve_own_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
) -> ApiResult<Response> {
    let detail = state
        .run(move |connection| profiles::own_profile_detail(connection, &actor))
        .await?;
    Ok(match detail {
        Some(detail) => Json(ProfileOut::new(detail, &url)).into_response(),
        None => no_own_profile(),
    })
}

/// Return the caller's own reviewer profile, creating it from the body when there is none.
#[utoipa::path(
    post,
    path = "/api/reviewer-profiles/me/",
    tag = "reviewer-profiles",
    request_body = ProfileRequest,
    responses(
        (status = 200, description = "The caller's profile, existing or just created", body = ProfileOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn get_or_create_own_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProfileRequest>,
) -> ApiResult<Json<ProfileOut>> {
    let mut new = new_profile(body)?;
    new.user_uuid = None;
    let detail = state
        .run(
            move |connection| match profiles::own_profile_detail(connection, &actor)? {
                Some(detail) => Ok(detail),
                None => profiles::create_profile(connection, &actor, &new),
            },
        )
        .await?;
    Ok(Json(ProfileOut::new(detail, &url)))
}

/// Change some fields of the caller's own reviewer profile.
#[utoipa::path(
    patch,
    path = "/api/reviewer-profiles/me/",
    tag = "reviewer-profiles",
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "Updated", body = ProfileOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "The caller has no profile", body = DetailBody),
    )
)]
pub async fn partial_update_own_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> ApiResult<Response> {
    let changes = profile_changes(body)?;
    let detail = state
        .run(
            move |connection| match profiles::profile_of_user(connection, actor.user_uuid)? {
                Some(profile) => {
                    profiles::update_profile(connection, &actor, profile.uuid, &changes).map(Some)
                }
                None => Ok(None),
            },
        )
        .await?;
    Ok(match detail {
        Some(detail) => Json(ProfileOut::new(detail, &url)).into_response(),
        None => no_own_profile(),
    })
}

/// Retrieve a reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/{uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    responses(
        (status = 200, description = "The profile", body = ProfileOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ProfileOut>> {
    let uuid = path_uuid(&uuid)?;
    let detail = state
        .run(move |connection| profiles::find_visible_profile_detail(connection, &actor, uuid))
        .await?;
    Ok(Json(ProfileOut::new(detail, &url)))
}

async fn apply_profile_update(
    state: AppState,
    actor: Actor,
    uuid: &str,
    changes: ProfileChanges,
    url: RequestUrl,
) -> ApiResult<Json<ProfileOut>> {
    let uuid = path_uuid(uuid)?;
    let detail = state
        .run(move |connection| profiles::update_profile(connection, &actor, uuid, &changes))
        .await?;
    Ok(Json(ProfileOut::new(detail, &url)))
}

/// Replace a reviewer profile's fields (owner and staff).
#[utoipa::path(
    put,
    path = "/api/reviewer-profiles/{uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    request_body = ProfileRequest,
    responses(
        (status = 200, description = "Updated", body = ProfileOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProfileRequest>,
) -> ApiResult<Json<ProfileOut>> {
    let new = new_profile(body)?;
    let changes = ProfileChanges {
        orcid_id: Some(new.orcid_id),
        biography: Some(new.biography),
        alternative_names: Some(new.alternative_names),
        available_for_reviews: Some(new.available_for_reviews),
    };
    apply_profile_update(state, actor, &uuid, changes, url).await
}

/// Change some of a reviewer profile's fields (owner and staff).
#[utoipa::path(
    patch,
    path = "/api/reviewer-profiles/{uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    request_body = ProfilePatch,
    responses(
        (status = 200, description = "Updated", body = ProfileOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<ProfilePatch>,
) -> ApiResult<Json<ProfileOut>> {
    let changes = profile_changes(body)?;
    apply_profile_update(state, actor, &uuid, changes, url).await
}

/// Delete a reviewer profile with its nested records (owner and staff).
#[utoipa::path(
    delete,
    path = "/api/reviewer-profiles/{uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not delete it", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
        (status = 409, description = "The profile is in a call's reviewer pool", body = DetailBody),
    )
)]
pub async fn delete_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<StatusCode> {
    let uuid = path_uuid(&uuid)?;
    state
        .run(move |connection| profiles::delete_profile(connection, &actor, uuid))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn apply_published(
    state: AppState,
    actor: Actor,
    uuid: &str,
    published: bool,
    url: RequestUrl,
) -> ApiResult<Json<ProfileOut>> {
    let uuid = path_uuid(uuid)?;
    let detail = state
        .run(move |connection| profiles::set_published(connection, &actor, uuid, published))
        .await?;
    Ok(Json(ProfileOut::new(detail, &url)))
}

/// Publish a reviewer profile so that call managers can discover it (owner and staff).
#[utoipa::path(
    post,
    path = "/api/reviewer-profiles/{uuid}/publish/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    responses(
        (status = 200, description = "Published", body = ProfileOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn publish_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ProfileOut>> {
    apply_published(state, actor, &uuid, true, url).await
}

/// Withdraw a reviewer profile from discovery (owner and staff).
#[utoipa::path(
    post,
    path = "/api/reviewer-profiles/{uuid}/unpublish/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    responses(
        (status = 200, description = "Unpublished", body = ProfileOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change it", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn unpublish_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<ProfileOut>> {
    apply_published(state, actor, &uuid, false, url).await
}

// Affiliations.

/// Loads the names of the organisations that affiliations link to.
fn linked_names(
    connection: &mut referee_store::AnyConnection,
    affiliations: &[Affiliation],
) -> referee_store::StoreResult<HashMap<Uuid, String>> {
    let uuids = affiliations
        .iter()
        .filter_map(|affiliation| affiliation.organization_uuid.map(DbUuid))
        .collect();
    profiles::organization_names(connection, uuids)
}

fn one_affiliation(
    connection: &mut referee_store::AnyConnection,
    affiliation: Affiliation,
) -> referee_store::StoreResult<AffiliationOut> {
    let names = linked_names(connection, std::slice::from_ref(&affiliation))?;
    Ok(AffiliationOut::new(affiliation, &names))
}

/// List the affiliations of a reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/{uuid}/affiliations/",
    tag = "reviewer-profiles",
    params(
        ("uuid" = String, Path, description = "Profile UUID"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of affiliations, oldest first", body = Vec<AffiliationOut>,
            headers(("x-result-count" = i64, description = "Number of rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Profile not found or not visible", body = DetailBody),
    )
)]
pub async fn list_affiliations(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<AffiliationOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let spec = params.page()?;
    list_page(&state, spec, url, move |connection, page| {
        let page = profiles::list_affiliations(connection, &actor, profile_uuid, page)?;
        let names = linked_names(connection, &page.rows)?;
        Ok(page.map(|affiliation| AffiliationOut::new(affiliation, &names)))
    })
    .await
}

/// Count the affiliations of a reviewer profile (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/reviewer-profiles/{uuid}/affiliations/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of rows"))),
        (status = 401, description = "No or invalid credentials"),
        (status = 404, description = "Profile not found or not visible"))
)]
pub async fn count_affiliations(
    state: State<AppState>,
    auth: Auth,
    uuid: Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<AffiliationOut>> {
    list_affiliations(state, auth, uuid, params, url).await
}

/// Add an affiliation to a reviewer profile (owner and staff).
#[utoipa::path(
    post,
    path = "/api/reviewer-profiles/{uuid}/affiliations/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    request_body = AffiliationRequest,
    responses(
        (status = 201, description = "Created", body = AffiliationOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Profile not found or not visible", body = DetailBody),
    )
)]
pub async fn create_affiliation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<AffiliationRequest>,
) -> ApiResult<(StatusCode, Json<AffiliationOut>)> {
    let profile_uuid = path_uuid(&uuid)?;
    let fields = affiliation_fields(body)?;
    let created = state
        .run(move |connection| {
            let affiliation =
                profiles::create_affiliation(connection, &actor, profile_uuid, &fields)?;
            one_affiliation(connection, affiliation)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Retrieve an affiliation of a reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/{uuid}/affiliations/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Affiliation UUID")),
    responses(
        (status = 200, description = "The affiliation", body = AffiliationOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_affiliation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, item_uuid)): Path<(String, String)>,
) -> ApiResult<Json<AffiliationOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    let found = state
        .run(move |connection| {
            let affiliation =
                profiles::find_affiliation(connection, &actor, profile_uuid, item_uuid)?;
            one_affiliation(connection, affiliation)
        })
        .await?;
    Ok(Json(found))
}

async fn apply_affiliation_update(
    state: AppState,
    actor: Actor,
    (uuid, item_uuid): (String, String),
    changes: AffiliationChanges,
) -> ApiResult<Json<AffiliationOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    let updated = state
        .run(move |connection| {
            let affiliation = profiles::update_affiliation(
                connection,
                &actor,
                profile_uuid,
                item_uuid,
                &changes,
            )?;
            one_affiliation(connection, affiliation)
        })
        .await?;
    Ok(Json(updated))
}

/// Replace an affiliation's fields (owner and staff).
#[utoipa::path(
    put,
    path = "/api/reviewer-profiles/{uuid}/affiliations/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Affiliation UUID")),
    request_body = AffiliationRequest,
    responses(
        (status = 200, description = "Updated", body = AffiliationOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_affiliation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<AffiliationRequest>,
) -> ApiResult<Json<AffiliationOut>> {
    let changes = AffiliationChanges::from(affiliation_fields(body)?);
    apply_affiliation_update(state, actor, path, changes).await
}

/// Change some of an affiliation's fields (owner and staff).
#[utoipa::path(
    patch,
    path = "/api/reviewer-profiles/{uuid}/affiliations/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Affiliation UUID")),
    request_body = AffiliationPatch,
    responses(
        (status = 200, description = "Updated", body = AffiliationOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_affiliation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<AffiliationPatch>,
) -> ApiResult<Json<AffiliationOut>> {
    let changes = affiliation_changes(body)?;
    apply_affiliation_update(state, actor, path, changes).await
}

/// Delete an affiliation (owner and staff).
#[utoipa::path(
    delete,
    path = "/api/reviewer-profiles/{uuid}/affiliations/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Affiliation UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_affiliation(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, item_uuid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    state
        .run(move |connection| {
            profiles::delete_affiliation(connection, &actor, profile_uuid, item_uuid)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// Expertise.

/// List the expertise of a reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/{uuid}/expertise/",
    tag = "reviewer-profiles",
    params(
        ("uuid" = String, Path, description = "Profile UUID"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of expertise, oldest first", body = Vec<ExpertiseOut>,
            headers(("x-result-count" = i64, description = "Number of rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Profile not found or not visible", body = DetailBody),
    )
)]
pub async fn list_expertise(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ExpertiseOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let spec = params.page()?;
    let response = list_page(&state, spec, url, move |connection, page| {
        profiles::list_expertise(connection, &actor, profile_uuid, page)
    })
    .await?;
    Ok(response.map(|expertise, _| ExpertiseOut::from(expertise)))
}

/// Count the expertise of a reviewer profile (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/reviewer-profiles/{uuid}/expertise/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of rows"))),
        (status = 401, description = "No or invalid credentials"),
        (status = 404, description = "Profile not found or not visible"))
)]
pub async fn count_expertise(
    state: State<AppState>,
    auth: Auth,
    uuid: Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<ExpertiseOut>> {
    list_expertise(state, auth, uuid, params, url).await
}

/// Add an area of expertise to a reviewer profile (owner and staff).
#[utoipa::path(
    post,
    path = "/api/reviewer-profiles/{uuid}/expertise/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    request_body = ExpertiseRequest,
    responses(
        (status = 201, description = "Created", body = ExpertiseOut),
        (status = 400, description = "Invalid field, or the keyword is already listed", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Profile not found or not visible", body = DetailBody),
    )
)]
pub async fn create_expertise(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<ExpertiseRequest>,
) -> ApiResult<(StatusCode, Json<ExpertiseOut>)> {
    let profile_uuid = path_uuid(&uuid)?;
    let fields = expertise_fields(body)?;
    let created = state
        .run(move |connection| {
            profiles::create_expertise(connection, &actor, profile_uuid, &fields)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Retrieve an area of expertise of a reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/{uuid}/expertise/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Expertise UUID")),
    responses(
        (status = 200, description = "The expertise", body = ExpertiseOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_expertise(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, item_uuid)): Path<(String, String)>,
) -> ApiResult<Json<ExpertiseOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    let found = state
        .run(move |connection| {
            profiles::find_expertise(connection, &actor, profile_uuid, item_uuid)
        })
        .await?;
    Ok(Json(found.into()))
}

async fn apply_expertise_update(
    state: AppState,
    actor: Actor,
    (uuid, item_uuid): (String, String),
    changes: ExpertiseChanges,
) -> ApiResult<Json<ExpertiseOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    let updated = state
        .run(move |connection| {
            profiles::update_expertise(connection, &actor, profile_uuid, item_uuid, &changes)
        })
        .await?;
    Ok(Json(updated.into()))
}

/// Replace an expertise record's fields (owner and staff).
#[utoipa::path(
    put,
    path = "/api/reviewer-profiles/{uuid}/expertise/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Expertise UUID")),
    request_body = ExpertiseRequest,
    responses(
        (status = 200, description = "Updated", body = ExpertiseOut),
        (status = 400, description = "Invalid field, or the keyword is already listed", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_expertise(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<ExpertiseRequest>,
) -> ApiResult<Json<ExpertiseOut>> {
    let changes = ExpertiseChanges::from(expertise_fields(body)?);
    apply_expertise_update(state, actor, path, changes).await
}

/// Change some of an expertise record's fields (owner and staff).
#[utoipa::path(
    patch,
    path = "/api/reviewer-profiles/{uuid}/expertise/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Expertise UUID")),
    request_body = ExpertisePatch,
    responses(
        (status = 200, description = "Updated", body = ExpertiseOut),
        (status = 400, description = "Invalid field, or the keyword is already listed", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_expertise(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<ExpertisePatch>,
) -> ApiResult<Json<ExpertiseOut>> {
    let changes = expertise_changes(body)?;
    apply_expertise_update(state, actor, path, changes).await
}

/// Delete an area of expertise (owner and staff).
#[utoipa::path(
    delete,
    path = "/api/reviewer-profiles/{uuid}/expertise/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Expertise UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_expertise(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, item_uuid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    state
        .run(move |connection| {
            profiles::delete_expertise(connection, &actor, profile_uuid, item_uuid)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// Publications.

/// List the publications of a reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/{uuid}/publications/",
    tag = "reviewer-profiles",
    params(
        ("uuid" = String, Path, description = "Profile UUID"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of publications, oldest first", body = Vec<PublicationOut>,
            headers(("x-result-count" = i64, description = "Number of rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Profile not found or not visible", body = DetailBody),
    )
)]
pub async fn list_publications(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<PublicationOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let spec = params.page()?;
    let response = list_page(&state, spec, url, move |connection, page| {
        profiles::list_publications(connection, &actor, profile_uuid, page)
    })
    .await?;
    Ok(response.map(|publication, _| PublicationOut::from(publication)))
}

/// Count the publications of a reviewer profile (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/reviewer-profiles/{uuid}/publications/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of rows"))),
        (status = 401, description = "No or invalid credentials"),
        (status = 404, description = "Profile not found or not visible"))
)]
pub async fn count_publications(
    state: State<AppState>,
    auth: Auth,
    uuid: Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<PublicationOut>> {
    list_publications(state, auth, uuid, params, url).await
}

/// Add a publication to a reviewer profile (owner and staff).
#[utoipa::path(
    post,
    path = "/api/reviewer-profiles/{uuid}/publications/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID")),
    request_body = PublicationRequest,
    responses(
        (status = 201, description = "Created", body = PublicationOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Profile not found or not visible", body = DetailBody),
    )
)]
pub async fn create_publication(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    JsonBody(body): JsonBody<PublicationRequest>,
) -> ApiResult<(StatusCode, Json<PublicationOut>)> {
    let profile_uuid = path_uuid(&uuid)?;
    let fields = publication_fields(body)?;
    let created = state
        .run(move |connection| {
            profiles::create_publication(connection, &actor, profile_uuid, &fields)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Retrieve a publication of a reviewer profile.
#[utoipa::path(
    get,
    path = "/api/reviewer-profiles/{uuid}/publications/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Publication UUID")),
    responses(
        (status = 200, description = "The publication", body = PublicationOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_publication(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, item_uuid)): Path<(String, String)>,
) -> ApiResult<Json<PublicationOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    let found = state
        .run(move |connection| {
            profiles::find_publication(connection, &actor, profile_uuid, item_uuid)
        })
        .await?;
    Ok(Json(found.into()))
}

async fn apply_publication_update(
    state: AppState,
    actor: Actor,
    (uuid, item_uuid): (String, String),
    changes: PublicationChanges,
) -> ApiResult<Json<PublicationOut>> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    let updated = state
        .run(move |connection| {
            profiles::update_publication(connection, &actor, profile_uuid, item_uuid, &changes)
        })
        .await?;
    Ok(Json(updated.into()))
}

/// Replace a publication's fields (owner and staff).
#[utoipa::path(
    put,
    path = "/api/reviewer-profiles/{uuid}/publications/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Publication UUID")),
    request_body = PublicationRequest,
    responses(
        (status = 200, description = "Updated", body = PublicationOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn update_publication(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<PublicationRequest>,
) -> ApiResult<Json<PublicationOut>> {
    let changes = PublicationChanges::from(publication_fields(body)?);
    apply_publication_update(state, actor, path, changes).await
}

/// Change some of a publication's fields (owner and staff).
#[utoipa::path(
    patch,
    path = "/api/reviewer-profiles/{uuid}/publications/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Publication UUID")),
    request_body = PublicationPatch,
    responses(
        (status = 200, description = "Updated", body = PublicationOut),
        (status = 400, description = "Invalid field", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn partial_update_publication(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody<PublicationPatch>,
) -> ApiResult<Json<PublicationOut>> {
    let changes = publication_changes(body)?;
    apply_publication_update(state, actor, path, changes).await
}

/// Delete a publication (owner and staff).
#[utoipa::path(
    delete,
    path = "/api/reviewer-profiles/{uuid}/publications/{item_uuid}/",
    tag = "reviewer-profiles",
    params(("uuid" = String, Path, description = "Profile UUID"), ("item_uuid" = String, Path, description = "Publication UUID")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not change the profile", body = DetailBody),
        (status = 404, description = "Not found or not visible", body = DetailBody),
    )
)]
pub async fn delete_publication(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, item_uuid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let profile_uuid = path_uuid(&uuid)?;
    let item_uuid = path_uuid(&item_uuid)?;
    state
        .run(move |connection| {
            profiles::delete_publication(connection, &actor, profile_uuid, item_uuid)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
