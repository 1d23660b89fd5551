//! Conflict-of-interest detection: `POST /api/proposal-protected-calls/{uuid}/detect-conflicts/`
//! starts a job, and `/api/coi-detection-jobs/` lists and shows jobs (read-only).
//!
//! The handler returns 202 with the `pending` job and runs the detection on the blocking
//! thread pool; clients poll the job until its `state` is `completed` or `failed`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use referee_domain::enums::{CoiJobState, CoiJobType};
use referee_domain::{Actor, FieldErrors};
use referee_store::detection::{self, JobFilter, JobOrder, JobView};
use serde::{Deserialize, Serialize};
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
use crate::wire::{HexUuid, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(detect_conflicts))
        .routes(routes!(list_jobs, count_jobs))
        .routes(routes!(retrieve_job))
}

/// A conflict-of-interest detection job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub url: String,
    pub uuid: HexUuid,
    /// Hyperlink of the call.
    pub call: String,
    pub call_uuid: HexUuid,
    pub call_name: String,
    pub job_type: CoiJobType,
    pub state: CoiJobState,
    pub total_pairs: i32,
    pub processed_pairs: i32,
    /// `processed_pairs / total_pairs × 100`, rounded to one decimal; 0.0 without pairs.
    pub progress_percentage: f64,
    pub conflicts_found: i32,
    pub started_at: Option<WireTime>,
    pub completed_at: Option<WireTime>,
    /// Empty unless the job failed.
    pub error_message: String,
    pub created: WireTime,
}

impl JobOut {
    pub fn new(view: JobView, url: &RequestUrl) -> Self {
        let progress_percentage = view.job.progress_percentage();
        let job = view.job;
        Self {
            url: url.resource("coi-detection-jobs", job.uuid),
            uuid: job.uuid.into(),
            call: url.resource("proposal-protected-calls", job.call_uuid),
            call_uuid: job.call_uuid.into(),
            call_name: view.call_name,
            job_type: job.job_type,
            state: job.state,
            total_pairs: job.total_pairs,
            processed_pairs: job.processed_pairs,
            progress_percentage,
            conflicts_found: job.conflicts_found,
            started_at: job.started_at.map(Into::into),
            completed_at: job.completed_at.map(Into::into),
            error_message: job.error_message,
            created: job.created.into(),
        }
    }
}

/// Body of `detect-conflicts`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct DetectRequest {
    /// `full_call` (the default) re-evaluates every reviewer × proposal pair; `incremental`
    /// evaluates only pairs that no earlier job evaluated.
    #[schema(value_type = Option<String>, example = "full_call")]
    pub job_type: Option<String>,
}

const ORDERING: &[(&str, JobOrder)] = &[
    ("created", JobOrder::Created),
    ("started_at", JobOrder::StartedAt),
    ("completed_at", JobOrder::CompletedAt),
    ("state", JobOrder::State),
];

fn path_uuid(text: &str) -> ApiResult<Uuid> {
    parse_uuid(text).ok_or_else(ApiError::not_found)
}

fn parse_job_type(value: Option<&str>, errors: &mut FieldErrors) -> CoiJobType {
    match value {
        None | Some("full_call") => CoiJobType::FullCall,
        Some("incremental") => CoiJobType::Incremental,
        Some(other) => {
            errors.add(
                "job_type",
                format!(
                    "\"{other}\" is not a valid choice. Send \"full_call\" or \"incremental\"."
                ),
            );
            CoiJobType::FullCall
        }
    }
}

/// Runs a job on the blocking thread pool while the response is sent. An error that
/// `run_job` could not record marks the job `failed`.
///
/// NOTE: when no pooled connection can be obtained, the job stays `pending` and only the log
/// shows why. Nothing restarts it; the manager has to start a new job.
fn spawn_job(state: &AppState, actor: Actor, job_uuid: Uuid) {
    let pool = state.pool().clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let mut connection = match pool.get() {
            Ok(connection) => connection,
            Err(error) => {
                tracing::error!(job.uuid = %job_uuid.simple(), %error, "no database connection for a COI detection job");
                return;
            }
        };
        if let Err(error) = detection::run_job(&mut connection, &actor, job_uuid) {
            tracing::error!(job.uuid = %job_uuid.simple(), %error, "COI detection job could not record its outcome");
            if let Err(error) = detection::fail_job(&mut connection, job_uuid, &error.to_string()) {
                tracing::error!(job.uuid = %job_uuid.simple(), %error, "marking a COI detection job failed did not succeed");
            }
        }
    });
}

/// Start conflict-of-interest detection for a call (managers of the call).
#[utoipa::path(
    post,
    path = "/api/proposal-protected-calls/{uuid}/detect-conflicts/",
    tag = "coi-detection-jobs",
    params(("uuid" = String, Path, description = "Call UUID")),
    request_body = DetectRequest,
    responses(
        (status = 202, description = "Job created; it runs in the background", body = JobOut),
        (status = 400, description = "Invalid job type", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller does not manage the call", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn detect_conflicts(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
    JsonBody(body): JsonBody<DetectRequest>,
) -> ApiResult<(StatusCode, Json<JobOut>)> {
    let call_uuid = path_uuid(&uuid)?;
    let mut errors = FieldErrors::new();
    let job_type = parse_job_type(body.job_type.as_deref(), &mut errors);
    check(errors)?;

    let runner = actor.clone();
    let job = state
        .run(move |connection| detection::create_job(connection, &actor, call_uuid, job_type))
        .await?;
    spawn_job(&state, runner, job.job.uuid);
    Ok((StatusCode::ACCEPTED, Json(JobOut::new(job, &url))))
}

/// List detection jobs of calls the caller manages or reads.
#[utoipa::path(
    get,
    path = "/api/coi-detection-jobs/",
    tag = "coi-detection-jobs",
    params(
        ("call_uuid" = Option<String>, Query, description = "Jobs of one call"),
        ("job_type" = Option<Vec<CoiJobType>>, Query, description = "Repeat for several job types"),
        ("state" = Option<Vec<CoiJobState>>, Query, description = "Repeat for several states"),
        ("o" = Option<String>, Query, description = "Ordering: created, started_at, completed_at, state; prefix - for descending"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of jobs, newest first by default", body = Vec<JobOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter or ordering", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
    )
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<JobOut>> {
    let mut errors = FieldErrors::new();
    let order = params.ordering(ORDERING, &mut errors);
    let filter = JobFilter {
        call_uuid: params.uuid("call_uuid", &mut errors),
        job_types: params.choices("job_type", &mut errors),
        states: params.choices("state", &mut errors),
    };
    check(errors)?;
    let spec = params.page()?;

    let response = list_page(&state, spec, url, move |connection, page| {
        detection::list_jobs(connection, &actor, &filter, &order, page)
    })
    .await?;
    Ok(response.map(JobOut::new))
}

/// Count detection jobs visible to the caller (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/coi-detection-jobs/",
    tag = "coi-detection-jobs",
    params(
        ("call_uuid" = Option<String>, Query, description = "Jobs of one call"),
        ("job_type" = Option<Vec<CoiJobType>>, Query, description = "Repeat for several job types"),
        ("state" = Option<Vec<CoiJobState>>, Query, description = "Repeat for several states"),
    ),
    responses(
        (status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 400, description = "Invalid filter"),
        (status = 401, description = "No or invalid credentials"),
    )
)]
pub async fn count_jobs(
    state: State<AppState>,
    auth: Auth,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<JobOut>> {
    list_jobs(state, auth, params, url).await
}

/// Show one detection job.
#[utoipa::path(
    get,
    path = "/api/coi-detection-jobs/{uuid}/",
    tag = "coi-detection-jobs",
    params(("uuid" = String, Path, description = "Job UUID")),
    responses(
        (status = 200, description = "The job", body = JobOut),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 404, description = "Job not found or not visible", body = DetailBody),
    )
)]
pub async fn retrieve_job(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    url: RequestUrl,
) -> ApiResult<Json<JobOut>> {
    let job_uuid = path_uuid(&uuid)?;
    let view = state
        .run(move |connection| detection::find_visible_job(connection, &actor, job_uuid))
        .await?;
    Ok(Json(JobOut::new(view, &url)))
}
