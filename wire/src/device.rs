//! Enrolment and heartbeat: how a tablet gets its token and reports its health.
//!
//! The device token is a bearer secret: the server keeps only its SHA-256, and the
//! tablet sends it as `Authorization: Bearer <token>` on every other route.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/enrol`: a one-time code that staff read out or show, exchanged once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    #[serde(default)]
    pub app_version: String,
    /// A random key the tablet made for this enrolment and keeps: if the answer is
    /// lost, asking again with the same code and key within a few minutes gets the
    /// same device a fresh token instead of a burnt code.
    #[serde(default)]
    pub retry_key: String,
}

/// The answer to a successful enrolment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The bearer token; shown once, never retrievable again.
    pub device_token: String,
    /// The server's id for this tablet (for staff screens and logs).
    pub device_id: u64,
}

impl std::fmt::Debug for EnrolResponse {
    // The token is a credential: keep it out of any debug print or log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrolResponse")
            .field("device_token", &"<redacted>")
            .field("device_id", &self.device_id)
            .finish()
    }
}

/// How one part of the tablet is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PartHealth {
    Ok,
    Faulty,
    Missing,
    /// Not reported, or a value this server does not know yet.
    #[default]
    #[serde(other)]
    Unknown,
}

/// `POST /api/v1/heartbeat`: device health, sent every few minutes when online.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    #[serde(default)]
    pub app_version: String,
    #[serde(default)]
    pub microphone: PartHealth,
    #[serde(default)]
    pub reader: PartHealth,
    #[serde(default)]
    pub speaker: PartHealth,
    /// Free storage on the tablet, in MiB.
    #[serde(default)]
    pub free_storage_mib: u64,
    /// Events waiting in the tablet's outbox.
    #[serde(default)]
    pub outbox_len: u64,
    /// The dialect bundle the tablet understands with (the newest installed one where
    /// no speech runs); `None`: the built-in model.
    #[serde(default)]
    pub dialect_bundle: Option<u32>,
    /// The tablet's clock: recorded to spot drift, never trusted.
    pub device_time: DateTime<Utc>,
}

/// The server's answer to a heartbeat: its own clock, so the tablet can show drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    pub server_time: DateTime<Utc>,
}

/// Any 4xx/5xx body of the tablet API: a short reason the tablet can log and act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
}
