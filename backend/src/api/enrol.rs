//! `POST /api/v1/enrol`: a one-time code in, a device token out.

use axum::Json;
use axum::extract::State;

use super::WireJson;
use crate::attempts;
use crate::error::AppError;
use crate::routes::{AppState, blocking};
use crate::serve::Peer;

/// Failed enrolments are counted under this key (no dashboard login can contain NUL).
const ENROL_KEY: &str = "\0enrol";

/// Codes are 10 digits; anything else is refused without a store lookup.
fn plausible_code(code: &str) -> bool {
    code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit())
}

pub(super) async fn enrol(
    State(state): State<AppState>,
    Peer(peer): Peer,
    WireJson(req): WireJson<wire::EnrolRequest>,
) -> Result<Json<wire::EnrolResponse>, AppError> {
    // The same answer for a malformed, unknown, used or expired code: no oracle.
    const REFUSED: AppError = AppError::Unauthorized("unknown, used or expired enrolment code");
    // Codes are short enough to guess given time: one place that keeps failing is
    // refused; a town-wide burst makes every enrolment wait (staff still enrol).
    let Some(attempt) = attempts::begin(&state, attempts::ENROL, ENROL_KEY, peer).await? else {
        return Err(AppError::TooMany("too many failed enrolments from here; try again later"));
    };
    let now = state.clock.now();
    let app_version: String = req.app_version.chars().take(64).collect();
    let code = req.code;
    let retry_key: String = req.retry_key.chars().take(128).collect();
    let enrolled = if plausible_code(&code) {
        blocking(&state.store, move |s| s.enrol_device(&code, &retry_key, &app_version, now)).await?
    } else {
        None
    };
    let Some((device, token)) = enrolled else {
        // The attempt's row stays: it is the failure.
        return Err(REFUSED);
    };
    attempt.succeeded(&state).await?;
    tracing::info!(device = device.0, "tablet enrolled");
    Ok(Json(wire::EnrolResponse { device_token: token, device_id: device.0 as u64 }))
}
