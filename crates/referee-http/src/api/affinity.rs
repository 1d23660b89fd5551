//! `/api/proposal-protected-calls/{uuid}/compute-affinities/` and `…/affinity-matrix/`:
//! scoring a call's pool against its proposals and reading the cached scores.

use axum::Json;
use axum::extract::{Path, State};
use referee_domain::enums::{CoiSeverity, CoiType};
use referee_store::PageRequest;
use referee_store::affinity::{self, MatrixRow, MatrixScope, MatrixSource, PairConflict};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, DetailBody};
use crate::extract::{Auth, PageSpec, Params, invalid_page};
use crate::state::AppState;
use crate::wire::{HexUuid, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(compute_affinities))
        .routes(routes!(affinity_matrix))
}

fn path_uuid(text: &str) -> ApiResult<uuid::Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

/// Outcome of computing a call's affinities.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComputeAffinitiesOut {
    /// Number of (reviewer, proposal) pairs scored and stored.
    pub computed_count: usize,
    /// "Computed N affinity scores."
    pub message: String,
}

/// Score every accepted reviewer of the call's pool against every proposal of the call
/// (managers).
///
/// Each pair's keyword, text and combined scores replace the stored ones. Reviewers are the
/// accepted pool entries with a profile; proposals are all proposals of the call in any state.
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/compute-affinities/",
    tag = "affinity",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses(
        (status = 200, description = "Number of pairs scored", body = ComputeAffinitiesOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn compute_affinities(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
) -> ApiResult<Json<ComputeAffinitiesOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let computed_count = state
        .run(move |connection| affinity::compute_affinities(connection, &actor, call_uuid))
        .await?;
    Ok(Json(ComputeAffinitiesOut {
        computed_count,
        message: format!("Computed {computed_count} affinity scores."),
    }))
}

/// One (reviewer, proposal) pair of the affinity matrix.
#[derive(Debug, Serialize, ToSchema)]
pub struct AffinityMatrixEntry {
    /// UUID of the cached score; a new random UUID on each request for a `suggestion` entry.
    pub uuid: HexUuid,
    /// UUID of the reviewer profile.
    pub reviewer_uuid: HexUuid,
    pub reviewer_name: String,
    pub proposal_uuid: HexUuid,
    pub proposal_name: String,
    /// Combined score from 0 to 1, 4 decimals.
    pub affinity_score: f64,
    /// Keyword score from 0 to 1; null when it is 0.
    pub keyword_score: Option<f64>,
    /// TF-IDF text score from 0 to 1; null when it is 0.
    pub text_score: Option<f64>,
    /// Whether any conflict of interest, of any status, is recorded for the pair.
    pub has_conflict: bool,
    /// Type of the pair's oldest blocking conflict, else of its oldest conflict; null without
    /// a conflict.
    pub coi_type: Option<CoiType>,
    /// Severity of the same conflict; null without a conflict.
    pub coi_severity: Option<CoiSeverity>,
    /// Status of the same conflict; else `none` when conflict detection evaluated
    /// the pair, and `unknown` when it never did.
    pub coi_status: String,
    /// `pool` for a cached score of a pool reviewer, `suggestion` for a score of a pending or
    /// confirmed suggested reviewer, computed on request.
    pub source: String,
}

/// Splits a pair's conflict state into the keys `has_conflict` (or `has_coi`), `coi_type`,
/// `coi_severity` and `coi_status`.
pub(crate) fn conflict_keys(
    conflict: PairConflict,
) -> (bool, Option<CoiType>, Option<CoiSeverity>, String) {
    match conflict {
        PairConflict::Conflict {
            coi_type,
            severity,
            status,
        } => (
            true,
            Some(coi_type),
            Some(severity),
            status.as_str().to_owned(),
        ),
        PairConflict::None => (false, None, None, "none".to_owned()),
        PairConflict::Unknown => (false, None, None, "unknown".to_owned()),
    }
}

impl From<MatrixRow> for AffinityMatrixEntry {
    fn from(row: MatrixRow) -> Self {
        let (has_conflict, coi_type, coi_severity, coi_status) = conflict_keys(row.conflict);
        let source = match row.source {
            MatrixSource::Pool => "pool",
            MatrixSource::Suggestion => "suggestion",
        };
        Self {
            uuid: row.uuid.into(),
            reviewer_uuid: row.reviewer_uuid.into(),
            reviewer_name: row.reviewer_name,
            proposal_uuid: row.proposal_uuid.into(),
            proposal_name: row.proposal_name,
            affinity_score: row.affinity_score,
            keyword_score: row.keyword_score,
            text_score: row.text_score,
            has_conflict,
            coi_type,
            coi_severity,
            coi_status,
            source: source.to_owned(),
        }
    }
}

/// One page of a call's affinity matrix.
#[derive(Debug, Serialize, ToSchema)]
pub struct AffinityMatrixOut {
    /// Number of entries over all pages.
    pub count: i64,
    pub results: Vec<AffinityMatrixEntry>,
}

/// Read the call's affinity scores, highest first (managers, support and members of the
/// managing organisation).
///
/// `scope=pool` (the default, also for unknown values) returns the cached scores of
/// `compute-affinities`. `scope=suggestions` scores the reviewers of the call's pending and
/// confirmed suggestions against every proposal of the call on each request; `scope=all`
/// returns both. The list is paginated with `page` and `page_size` (default 10, maximum 300)
/// and reports the total as `count` in the body.
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/affinity-matrix/",
    tag = "affinity",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("scope" = Option<String>, Query, description = "`pool` (default and for unknown values), `suggestions` or `all`"),
        ("page" = Option<String>, Query, description = "Page number from 1, or `last`"),
        ("page_size" = Option<i64>, Query, description = "Entries per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of the matrix", body = AffinityMatrixOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the call's management data", body = DetailBody),
        (status = 404, description = "Call not found or not visible, or page past the last", body = DetailBody),
    )
)]
pub async fn affinity_matrix(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
) -> ApiResult<Json<AffinityMatrixOut>> {
    let call_uuid = path_uuid(&uuid)?;
    let scope = match params.single("scope") {
        Some("suggestions") => MatrixScope::Suggestions,
        Some("all") => MatrixScope::All,
        _ => MatrixScope::Pool,
    };
    let spec = params.page()?;

    let (request, page) = state
        .run(move |connection| {
            let request = match spec {
                PageSpec::Number(request) => request,
                PageSpec::Last { page_size } => {
                    let probe = affinity::affinity_matrix(
                        connection,
                        &actor,
                        call_uuid,
                        scope,
                        PageRequest { page: 1, page_size },
                    )?;
                    let last = ((probe.total + page_size - 1) / page_size).max(1);
                    if last == 1 {
                        return Ok((PageRequest { page: 1, page_size }, probe));
                    }
                    PageRequest {
                        page: last,
                        page_size,
                    }
                }
            };
            let page = affinity::affinity_matrix(connection, &actor, call_uuid, scope, request)?;
            Ok((request, page))
        })
        .await?;

    if request.page > 1 && page.rows.is_empty() {
        let last_page = ((page.total + request.page_size - 1) / request.page_size).max(1);
        return Err(invalid_page(request.page, last_page));
    }
    Ok(Json(AffinityMatrixOut {
        count: page.total,
        results: page
            .rows
            .into_iter()
            .map(AffinityMatrixEntry::from)
            .collect(),
    }))
}
