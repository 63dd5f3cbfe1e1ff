//! The one error type handlers return, and its mapping to HTTP.
//!
//! Policy: 4xx carries a short reason the client can act on (as `wire::ApiError`);
//! 5xx carries only "internal error" to the client while the cause is logged
//! (without personal data: store errors name columns and files, never values).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Errors a handler can end with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TooMany(&'static str),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A blocking task panicked or was cancelled.
    #[error("background task failed")]
    Task,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, reason) = match self {
            AppError::BadRequest(reason) => (StatusCode::BAD_REQUEST, reason),
            AppError::Unauthorized(reason) => (StatusCode::UNAUTHORIZED, reason.to_owned()),
            AppError::TooLarge(reason) => (StatusCode::PAYLOAD_TOO_LARGE, reason),
            AppError::TooMany(reason) => (StatusCode::TOO_MANY_REQUESTS, reason.to_owned()),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not found".to_owned()),
            e @ (AppError::Store(_) | AppError::Task) => {
                tracing::error!(error = %e, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_owned())
            }
        };
        (status, Json(wire::ApiError { error: reason })).into_response()
    }
}
