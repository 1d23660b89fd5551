//! Bulk import into a call (`POST /api/proposal-protected-calls/{uuid}/import/`) and the
//! exports of its assignments, affinities and conflicts
//! (`GET /api/proposal-protected-calls/{uuid}/export/{kind}/`).
//!
//! The document format is described in `docs/import-format.md`. A document with problems gets
//! a 400 response that lists every problem with its JSON pointer, and nothing is written.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use referee_domain::import::{ImportError, Node};
use referee_store::calls::find_visible_call;
use referee_store::import::{self as store, ImportCounts};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, BadRequestBody, DetailBody};
use crate::extract::{Auth, Params};
use crate::state::AppState;
use crate::wire::{HexUuid, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_into_call))
        .routes(routes!(export_call_data))
}

/// One problem with an import document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"pointer": "/proposals/3/team_members/0/email", "message": "\"ann@\" is not a valid e-mail address."}))]
pub struct ImportErrorOut {
    /// JSON pointer (RFC 6901) of the offending value; `""` is the whole document.
    pub pointer: String,
    /// Description of the problem and how to fix it.
    pub message: String,
}

/// Body of a 400 response to an import: every problem found. Nothing was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportErrorsBody {
    pub errors: Vec<ImportErrorOut>,
}

impl ImportErrorsBody {
    fn response(errors: Vec<ImportError>) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(ImportErrorsBody {
                errors: errors
                    .into_iter()
                    .map(|error| ImportErrorOut {
                        pointer: error.pointer,
                        message: error.message,
                    })
                    .collect(),
            }),
        )
            .into_response()
    }
}

/// Counts of the rows an import created.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCountsOut {
    /// The call the rows went into.
    pub call_uuid: HexUuid,
    /// Whether the import created the call.
    pub call_created: bool,
    pub organisations: usize,
    pub rounds: usize,
    pub proposals: usize,
    pub team_members: usize,
    /// Users created for reviewers that had no account.
    pub users_created: usize,
    /// Reviewer profiles created.
    pub reviewers: usize,
    pub affiliations: usize,
    pub expertise: usize,
    pub publications: usize,
    pub pool_entries: usize,
    pub affinities: usize,
    pub conflicts: usize,
}

impl From<ImportCounts> for ImportCountsOut {
    fn from(counts: ImportCounts) -> Self {
        Self {
            call_uuid: HexUuid(counts.call_uuid),
            call_created: counts.call_created,
            organisations: counts.organisations,
            rounds: counts.rounds,
            proposals: counts.proposals,
            team_members: counts.team_members,
            users_created: counts.users_created,
            reviewers: counts.reviewers,
            affiliations: counts.affiliations,
            expertise: counts.expertise,
            publications: counts.publications,
            pool_entries: counts.pool_entries,
            affinities: counts.affinities,
            conflicts: counts.conflicts,
        }
    }
}

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// Import a `referee-import/1` document into the call, all or nothing.
///
/// The document's `call` section must be absent or name this call (by `uuid` or `name`).
/// Every problem is reported at once, located by a JSON pointer, and an import with any
/// problem changes nothing.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/import/",
    tag = "proposal-protected-calls",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body(content = Object, description = "An import document (format referee-import/1)", content_type = "application/json"),
    responses(
        (status = 200, description = "Imported; counts of what was created", body = ImportCountsOut),
        (status = 400, description = "The document has problems; nothing was written", body = ImportErrorsBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn import_into_call(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let call_uuid = path_uuid(&uuid)?;
    let checker = actor.clone();
    state
        .run(move |connection| {
            find_visible_call(connection, &checker, call_uuid)?.require_manager(&checker)
        })
        .await?;
    let root: Node = match serde_json::from_slice(&body) {
        Ok(root) => root,
        Err(error) => {
            return Ok(ImportErrorsBody::response(vec![ImportError::new(
                "",
                format!(
                    "The body is not a JSON document ({error}). Send the import document as JSON."
                ),
            )]));
        }
    };
    let outcome = state
        .run(move |connection| {
            store::import_document(connection, Some(&actor), Some(call_uuid), &root)
        })
        .await?;
    Ok(match outcome {
        Ok(counts) => Json(ImportCountsOut::from(counts)).into_response(),
        Err(errors) => ImportErrorsBody::response(errors),
    })
}

/// One exported row; the keys depend on the kind (see `docs/import-format.md`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct ExportRowOut(Map<String, Value>);

fn uuid_value(uuid: uuid::Uuid) -> Value {
    Value::String(uuid.simple().to_string())
}

/// Rows of one export as ordered columns, for JSON and CSV alike.
struct Table {
    columns: &'static [&'static str],
    rows: Vec<Vec<Value>>,
}

const ASSIGNMENT_COLUMNS: &[&str] = &[
    "item_uuid",
    "batch_uuid",
    "proposal_uuid",
    "proposal_slug",
    "proposal_name",
    "reviewer_uuid",
    "reviewer_username",
    "reviewer_email",
    "status",
    "affinity_score",
    "has_coi",
];

const AFFINITY_COLUMNS: &[&str] = &[
    "reviewer_uuid",
    "reviewer_username",
    "reviewer_email",
    "proposal_uuid",
    "proposal_slug",
    "proposal_name",
    "affinity_score",
    "keyword_score",
    "text_score",
];

const CONFLICT_COLUMNS: &[&str] = &[
    "conflict_uuid",
    "reviewer_uuid",
    "reviewer_username",
    "reviewer_email",
    "proposal_uuid",
    "proposal_slug",
    "proposal_name",
    "coi_type",
    "severity",
    "status",
    "detection_method",
    "evidence_description",
];

/// Quotes one CSV field per RFC 4180 when it holds a comma, quote, CR or LF.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => csv_field(text),
        other => csv_field(&other.to_string()),
    }
}

impl Table {
    fn csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|name| csv_field(name)).collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(csv_cell).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    fn json(self) -> Vec<ExportRowOut> {
        self.rows
            .into_iter()
            .map(|row| {
                ExportRowOut(
                    self.columns
                        .iter()
                        .map(|name| (*name).to_owned())
                        .zip(row)
                        .collect(),
                )
            })
            .collect()
    }
}

/// Export a call's assignments, affinity scores or conflicts of interest as JSON or CSV.
///
/// `kind` is `assignments`, `affinities` or `conflicts`. The JSON form is an array of
/// objects; the CSV form has a header row and quotes fields per RFC 4180. Staff, support
/// and the call's managers may export.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/export/{kind}/",
    tag = "proposal-protected-calls",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("kind" = String, Path, description = "assignments, affinities or conflicts"),
        ("format" = Option<String>, Query, description = "json (default) or csv"),
    ),
    responses(
        (status = 200, description = "The rows: a JSON array, or CSV with a header row",
            content((Vec<ExportRowOut> = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Unknown format", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not export the call's data", body = DetailBody),
        (status = 404, description = "Call not found or not visible, or unknown kind", body = DetailBody),
    )
)]
pub async fn export_call_data(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((uuid, kind)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let call_uuid = path_uuid(&uuid)?;
    let csv = match params.single("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::field(
                "format",
                format!("{other:?} is not a valid choice; expected one of: json, csv."),
            ));
        }
    };
    let table = match kind.as_str() {
        "assignments" => {
            let rows = state
                .run(move |connection| store::export_assignments(connection, &actor, call_uuid))
                .await?;
            Table {
                columns: ASSIGNMENT_COLUMNS,
                rows: rows
                    .into_iter()
                    .map(|row| {
                        vec![
                            uuid_value(row.item_uuid),
                            uuid_value(row.batch_uuid),
                            uuid_value(row.proposal_uuid),
                            json!(row.proposal_slug),
                            json!(row.proposal_name),
                            row.reviewer_uuid.map_or(Value::Null, uuid_value),
                            json!(row.reviewer_username),
                            json!(row.reviewer_email),
                            json!(row.status.as_str()),
                            json!(row.affinity_score),
                            json!(row.has_coi),
                        ]
                    })
                    .collect(),
            }
        }
        "affinities" => {
            let rows = state
                .run(move |connection| store::export_affinities(connection, &actor, call_uuid))
                .await?;
            Table {
                columns: AFFINITY_COLUMNS,
                rows: rows
                    .into_iter()
                    .map(|row| {
                        vec![
                            uuid_value(row.reviewer_uuid),
                            json!(row.reviewer_username),
                            json!(row.reviewer_email),
                            uuid_value(row.proposal_uuid),
                            json!(row.proposal_slug),
                            json!(row.proposal_name),
                            json!(row.affinity_score),
                            json!(row.keyword_score),
                            json!(row.text_score),
                        ]
                    })
                    .collect(),
            }
        }
        "conflicts" => {
            let rows = state
                .run(move |connection| store::export_conflicts(connection, &actor, call_uuid))
                .await?;
            Table {
                columns: CONFLICT_COLUMNS,
                rows: rows
                    .into_iter()
                    .map(|row| {
                        vec![
                            uuid_value(row.conflict_uuid),
                            uuid_value(row.reviewer_uuid),
                            json!(row.reviewer_username),
                            json!(row.reviewer_email),
                            row.proposal_uuid.map_or(Value::Null, uuid_value),
                            json!(row.proposal_slug),
                            json!(row.proposal_name),
                            json!(row.coi_type),
                            json!(row.severity),
                            json!(row.status),
                            json!(row.detection_method),
                            json!(row.evidence_description),
                        ]
                    })
                    .collect(),
            }
        }
        _ => return Err(ApiError::not_found()),
    };
    if csv {
        let disposition = format!("attachment; filename=\"{kind}.csv\"");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            table.csv(),
        )
            .into_response())
    } else {
        Ok(Json(table.json()).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_per_rfc_4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell(&Value::Null), "");
        assert_eq!(csv_cell(&json!(0.5)), "0.5");
    }
}
