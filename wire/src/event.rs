//! Events a tablet records and uploads: envelope, batch and per-event acknowledgement.
//!
//! Exactly-once in effect rests on two fields made on the tablet: a random UUID
//! (the server stores each id once) and a per-device sequence number (the server can
//! check order and spot gaps). The device clock is carried but never trusted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A client-made event id; the server's idempotency key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub Uuid);

impl EventId {
    /// A fresh random (v4) id.
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }
}

/// Position of an event in its device's stream, starting at 1 and without gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceSeq(pub u64);

/// What happened. Unknown kinds from a newer tablet deserialize as [`EventKind::Unknown`]
/// so that an older server can still store and acknowledge them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    CheckIn,
    HelpRequest,
    ExerciseDone,
    SafetyAnswer,
    SnowWatchStarted,
    SnowWatchEnded,
    SnowWatchAlert,
    CardLinkRequested,
    /// The tablet misunderstood an answer (see [`MisunderstandingBody`]).
    Misunderstanding,
    #[serde(other)]
    Unknown,
}

/// One event as stored in the tablet's outbox and sent to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub id: EventId,
    pub seq: DeviceSeq,
    pub kind: EventKind,
    /// The tablet's clock when the event was made: recorded, not trusted.
    pub device_time: DateTime<Utc>,
    /// Kind-specific body. Never contains the individual number, a PIN, a name or a
    /// transcript; see ARCHITECTURE.md "Privacy".
    #[serde(default)]
    pub body: serde_json::Value,
}

/// A batch upload (`POST /api/v1/events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBatch {
    pub events: Vec<EventEnvelope>,
}

/// The server's verdict on one event of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventAck {
    /// Stored now.
    Stored,
    /// Stored earlier (a resend): the tablet may delete it all the same.
    Duplicate,
    /// Refused for good (malformed body); the tablet keeps it for staff to inspect.
    Rejected,
}

/// Response to a batch upload: one acknowledgement per event id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadAck {
    pub acks: Vec<(EventId, EventAck)>,
    /// Why each rejected event was refused, for the tablet's log (added in v1.1).
    #[serde(default)]
    pub reasons: Vec<(EventId, String)>,
}

/// The body of an [`EventKind::Misunderstanding`] event: the tablet's understanding
/// of an answer was wrong (the resident then chose another meaning by button) or too
/// unsure. Names only, never what was said: staff type the phrase in after a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MisunderstandingBody {
    /// The question asked, by the dialect model's name (`how_feeling`, `slept`, …).
    pub question: String,
    /// The intent the tablet understood (`feeling_good`, `pain`, …).
    pub understood: String,
    /// The understanding's confidence, 0 to 1.
    pub confidence: f32,
    /// The intent the resident chose by button instead, if they did.
    #[serde(default)]
    pub chosen: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_kinds_are_tolerated() {
        let json = r#"{
            "id": "6f1c1f5e-3f0e-4a53-9d44-0d6f7b1c2a10",
            "seq": 7,
            "kind": "something_new",
            "device_time": "2026-11-28T08:00:00Z",
            "added_in_v2": true
        }"#;
        let ev: EventEnvelope = serde_json::from_str(json).unwrap();
        assert_eq!(ev.kind, EventKind::Unknown);
        assert_eq!(ev.seq, DeviceSeq(7));
        assert!(ev.body.is_null());
    }

    #[test]
    fn envelope_round_trips() {
        let ev = EventEnvelope {
            id: EventId::new_random(),
            seq: DeviceSeq(1),
            kind: EventKind::CheckIn,
            device_time: "2026-11-28T08:00:00Z".parse().unwrap(),
            body: serde_json::json!({"feeling": "good"}),
        };
        let back: EventEnvelope = serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn a_misunderstanding_body_without_a_choice_reads() {
        let b: MisunderstandingBody =
            serde_json::from_str(r#"{"question":"how_feeling","understood":"tired","confidence":0.4}"#)
                .unwrap();
        assert_eq!((b.understood.as_str(), b.chosen), ("tired", None));
    }
}
