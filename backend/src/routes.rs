//! The URL map: which handler serves which path.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppError;
use crate::store::Store;

/// Shared state every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
}

pub fn router(state: AppState) -> Router {
    Router::new().route("/healthz", get(healthz)).with_state(state)
}

/// Liveness and schema version, for staff tooling and the kiosk's embedded server.
async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    let version = state.store.schema_version()?;
    Ok(Json(serde_json::json!({ "status": "ok", "schema_version": version })))
}
