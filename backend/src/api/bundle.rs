//! `GET /api/v1/dialect-bundle/<version>`: a published dialect bundle, byte for byte,
//! for a tablet that was told of it by a pull item.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

use super::Device;
use crate::error::AppError;
use crate::routes::{AppState, blocking};

pub(super) async fn bundle(
    State(state): State<AppState>,
    Device(_device): Device,
    version: Result<Path<u32>, axum::extract::rejection::PathRejection>,
) -> Result<impl IntoResponse, AppError> {
    let Path(version) =
        version.map_err(|_| AppError::BadRequest("the version must be a whole number".into()))?;
    let body = blocking(&state.store, move |s| s.bundle(version)).await?.ok_or(AppError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body))
}
