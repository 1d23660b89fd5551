//! `/api/proposal-protected-calls/{uuid}/audit-log/`: the append-only log of a call's state
//! changes.

use axum::extract::{Path, State};
use referee_domain::{DomainError, FieldErrors};
use referee_store::audit::{self, AuditEvent, AuditFilter};
use referee_store::calls;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::common::{check, list_page};
use crate::error::BadRequestBody;
use crate::error::{ApiError, ApiResult, DetailBody};
use crate::extract::{Auth, Params};
use crate::links::{ListResponse, RequestUrl};
use crate::state::AppState;
use crate::wire::{HexUuid, WireTime, parse_uuid};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events, count_audit_events))
}

/// One recorded state change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    pub uuid: HexUuid,
    pub call_uuid: Option<HexUuid>,
    /// `batch`, `item`, `pool_entry`, `conflict`, `review` or `suggestion`.
    pub object_type: String,
    pub object_uuid: HexUuid,
    /// Kind of change, for example `item.accepted`.
    pub action: String,
    /// The user who caused the change; null for the scheduler.
    pub actor_uuid: Option<HexUuid>,
    pub actor_name: String,
    pub reason: String,
    /// State before the change (a JSON object), or null for a creation.
    pub before: Option<Value>,
    /// State after the change (a JSON object).
    pub after: Option<Value>,
    pub created: WireTime,
}

fn parse_state(text: Option<String>) -> Option<Value> {
    text.and_then(|text| serde_json::from_str(&text).ok())
}

impl AuditEventOut {
    fn new(event: AuditEvent, _url: &RequestUrl) -> Self {
        Self {
            uuid: event.uuid.into(),
            call_uuid: event.call_uuid.map(HexUuid),
            object_type: event.object_type,
            object_uuid: event.object_uuid.into(),
            action: event.action,
            actor_uuid: event.actor_uuid.map(HexUuid),
            actor_name: event.actor_name,
            reason: event.reason,
            before: parse_state(event.before_state),
            after: parse_state(event.after_state),
            created: event.created.into(),
        }
    }
}

/// List a call's audit log, newest first (call managers, organisation managers, staff, support).
#[utoipa::path(
    get,
    path = "/api/proposal-protected-calls/{uuid}/audit-log/",
    tag = "audit",
    params(
        ("uuid" = String, Path, description = "Call UUID"),
        ("object_type" = Option<String>, Query, description = "batch, item, pool_entry, conflict, review or suggestion"),
        ("object_uuid" = Option<String>, Query, description = "UUID of the object"),
        ("action" = Option<String>, Query, description = "Exact action, for example item.accepted"),
        ("page" = Option<i64>, Query, description = "Page number, 1-based"),
        ("page_size" = Option<i64>, Query, description = "Rows per page, default 10, maximum 300"),
    ),
    responses(
        (status = 200, description = "One page of events", body = Vec<AuditEventOut>,
            headers(("x-result-count" = i64, description = "Number of matching rows"), ("link" = String, description = "First, previous, next and last page"))),
        (status = 400, description = "Invalid filter", body = BadRequestBody),
        (status = 401, description = "No or invalid credentials", body = DetailBody),
        (status = 403, description = "Caller may not read the log", body = DetailBody),
        (status = 404, description = "Call not found or not visible", body = DetailBody),
    )
)]
pub async fn list_audit_events(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(uuid): Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<AuditEventOut>> {
    let call_uuid = parse_uuid(&uuid).ok_or_else(ApiError::not_found)?;
    let mut errors = FieldErrors::new();
    let filter = AuditFilter {
        object_type: params.text("object_type"),
        object_uuid: params.uuid("object_uuid", &mut errors),
        action: params.text("action"),
    };
    check(errors)?;
    let spec = params.page()?;

    let access_actor = actor.clone();
    state
        .run(move |connection| {
            let call = calls::find_visible_call(connection, &access_actor, call_uuid)?;
            if call.managed_by(&access_actor) || access_actor.is_support {
                Ok(())
            } else {
                Err(DomainError::permission_denied(
                    "Only staff, support and the call's managers can read its audit log.",
                )
                .into())
            }
        })
        .await?;
    let response = list_page(&state, spec, url, move |connection, page| {
        audit::list_events(connection, call_uuid, &filter, page)
    })
    .await?;
    Ok(response.map(AuditEventOut::new))
}

/// Count a call's audit events (`X-Result-Count`, no body).
#[utoipa::path(
    head,
    path = "/api/proposal-protected-calls/{uuid}/audit-log/",
    tag = "audit",
    params(("uuid" = String, Path, description = "Call UUID")),
    responses((status = 200, description = "Count in X-Result-Count", headers(("x-result-count" = i64, description = "Number of matching rows"))),
        (status = 401, description = "No or invalid credentials"))
)]
pub async fn count_audit_events(
    state: State<AppState>,
    auth: Auth,
    path: Path<String>,
    params: Params,
    url: RequestUrl,
) -> ApiResult<ListResponse<AuditEventOut>> {
    list_audit_events(state, auth, path, params, url).await
}
