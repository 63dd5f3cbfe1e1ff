//! `GET /api/v1/pull?after=<cursor>`: downstream items for this tablet, in order.

use axum::Json;
use axum::extract::{Query, State};

use super::Device;
use crate::error::AppError;
use crate::routes::{AppState, blocking};
pub(super) async fn pull(
    State(state): State<AppState>,
    Device(device): Device,
    query: Result<Query<std::collections::HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<wire::PullResponse>, AppError> {
    let Query(params) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let after = match params.get("after") {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| AppError::BadRequest("`after` must be a cursor number".to_owned()))?,
    };
    let (items, more) = blocking(&state.store, move |s| s.pull(&device, after, wire::MAX_PULL_ITEMS)).await?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        // The log holds JSON the server wrote itself; unreadable means a bug, so 5xx.
        let body = serde_json::from_str(&item.body)
            .map_err(|_| AppError::Store(crate::store::StoreError::Corrupt { column: "pull_log.body" }))?;
        out.push(wire::PullItem { cursor: item.cursor, kind: item.kind, body });
    }
    let cursor = out.last().map_or(after, |i| i.cursor);
    Ok(Json(wire::PullResponse { items: out, cursor, more }))
}
