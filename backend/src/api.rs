//! The tablet API (`/api/v1`): routes, device authentication and JSON handling.
//!
//! Only `wire` types are (de)serialised here (tidy forbids serde derives under
//! `api/`); handlers convert them to the store's domain types at the edge.
//! Every request body is read through [`WireJson`], which caps the size and turns
//! malformed JSON into a 400 with a reason; every route but enrolment needs a
//! device token ([`Device`]).

mod bundle;
mod enrol;
mod events;
mod heartbeat;
mod pull;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::routes::{AppState, blocking};
use crate::store::Enrolment;

/// The `/api/v1` routes, to be nested under [`wire::API_PREFIX`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/enrol", post(enrol::enrol))
        .route("/events", post(events::upload))
        .route("/pull", get(pull::pull))
        .route("/heartbeat", post(heartbeat::heartbeat))
        .route("/dialect-bundle/{version}", get(bundle::bundle))
        .layer(DefaultBodyLimit::max(wire::MAX_BODY_BYTES))
}

/// A JSON body of wire type `T`, at most [`wire::MAX_BODY_BYTES`] long.
#[derive(Debug)]
pub struct WireJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for WireJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge(format!("body larger than {} bytes", wire::MAX_BODY_BYTES))
            } else {
                AppError::BadRequest(format!("unreadable body: {}", rejection.body_text()))
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(WireJson)
            .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))
    }
}

/// The tablet behind the request's bearer token.
#[derive(Debug)]
pub struct Device(pub Enrolment);

/// Longer "tokens" are refused before hashing or touching the store.
const MAX_TOKEN_LEN: usize = 128;

impl FromRequestParts<AppState> for Device {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN)
            .ok_or(AppError::Unauthorized("missing or malformed device token"))?
            .to_owned();
        let found = blocking(&state.store, move |s| s.authenticate_device(&token)).await?;
        found.map(Device).ok_or(AppError::Unauthorized("unknown or revoked device token"))
    }
}
