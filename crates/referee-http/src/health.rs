//! Liveness and readiness probes.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

/// Answers 200 while the process serves requests.
async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Answers 200 when a database connection can be checked out and answers a query, else 503.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let outcome = state.run(referee_store::connection::ping).await;
    match outcome {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "ok"})),
        ),
        Err(error) => {
            tracing::warn!(error = ?error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
        }
    }
}
