//! `POST /api/v1/enrol`: a one-time code in, a device token out.

use axum::Json;
use axum::extract::State;

use super::WireJson;
use crate::error::AppError;
use crate::routes::{AppState, blocking};

/// Codes are 10 digits; anything else is refused without a store lookup.
fn plausible_code(code: &str) -> bool {
    code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit())
}

pub(super) async fn enrol(
    State(state): State<AppState>,
    WireJson(req): WireJson<wire::EnrolRequest>,
) -> Result<Json<wire::EnrolResponse>, AppError> {
    // The same answer for a malformed, unknown, used or expired code: no oracle.
    const REFUSED: AppError = AppError::Unauthorized("unknown, used or expired enrolment code");
    if !plausible_code(&req.code) {
        return Err(REFUSED);
    }
    let now = state.clock.now();
    let app_version: String = req.app_version.chars().take(64).collect();
    let enrolled = blocking(&state.store, move |s| s.enrol_device(&req.code, &app_version, now)).await?;
    let (device, token) = enrolled.ok_or(REFUSED)?;
    tracing::info!(device = device.0, "tablet enrolled");
    Ok(Json(wire::EnrolResponse { device_token: token, device_id: device.0 as u64 }))
}
