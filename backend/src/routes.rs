//! The URL map: which handler serves which path, and the state handlers share.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::clock::Clock;
use crate::error::AppError;
use crate::store::{Store, StoreError};

/// Shared state every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    /// The server's clock: it, not a tablet's, decides statuses.
    pub clock: Arc<dyn Clock>,
    /// Runs `dialect-model retrain` for the corrections page.
    pub retrainer: Arc<crate::retrain::Retrainer>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest(wire::API_PREFIX, crate::api::router())
        .merge(crate::dashboard::router())
        .with_state(state)
}

/// Runs a blocking store call off the async workers.
pub async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, AppError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store)).await.map_err(|_| AppError::Task)?.map_err(AppError::from)
}

/// The body of `GET /healthz`.
#[derive(Debug, serde::Serialize)]
struct Health {
    status: &'static str,
    schema_version: usize,
}

/// Liveness and schema version, for staff tooling and the kiosk's embedded server.
async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    let version = blocking(&state.store, |s| s.schema_version()).await?;
    Ok(Json(Health { status: "ok", schema_version: version }))
}
