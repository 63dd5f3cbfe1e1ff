//! `POST /api/v1/heartbeat`: device health, recorded with the server's time.

use axum::Json;
use axum::extract::State;

use super::{Device, WireJson};
use crate::error::AppError;
use crate::routes::{AppState, blocking};
use crate::store::{DeviceHealth, Part};

fn part(p: wire::PartHealth) -> Part {
    match p {
        wire::PartHealth::Ok => Part::Ok,
        wire::PartHealth::Faulty => Part::Faulty,
        wire::PartHealth::Missing => Part::Missing,
        wire::PartHealth::Unknown => Part::Unknown,
    }
}

pub(super) async fn heartbeat(
    State(state): State<AppState>,
    Device(device): Device,
    WireJson(hb): WireJson<wire::Heartbeat>,
) -> Result<Json<wire::HeartbeatAck>, AppError> {
    let now = state.clock.now();
    let health = DeviceHealth {
        app_version: hb.app_version.chars().take(64).collect(),
        microphone: part(hb.microphone),
        reader: part(hb.reader),
        speaker: part(hb.speaker),
        free_storage_mib: hb.free_storage_mib,
        outbox_len: hb.outbox_len,
        dialect_bundle: hb.dialect_bundle,
        device_time: hb.device_time,
    };
    blocking(&state.store, move |s| s.record_heartbeat(device.device, &health, now)).await?;
    Ok(Json(wire::HeartbeatAck { server_time: now }))
}
