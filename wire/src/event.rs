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
    /// The tablet misunderstood an answer (see [`crate::MisunderstandingBody`]).
    Misunderstanding,
    /// A medicine time kept or missed (see [`crate::MedicineBody`]).
    Medicine,
    /// The monthly chair-stand count (see [`crate::ChairStandBody`]).
    ChairStand,
    /// A town announcement read to the resident (see [`crate::NewsHeardBody`]).
    NewsHeard,
    /// A low mood or loneliness said in the small talk (see [`crate::MoodNotedBody`]).
    MoodNoted,
    /// A part of the weekly talk about the day and three words (see
    /// [`crate::MemoryNotedBody`]).
    MemoryNoted,
    #[serde(other)]
    Unknown,
}

impl EventKind {
    pub const ALL: [EventKind; 15] = [
        EventKind::CheckIn,
        EventKind::HelpRequest,
        EventKind::ExerciseDone,
        EventKind::SafetyAnswer,
        EventKind::SnowWatchStarted,
        EventKind::SnowWatchEnded,
        EventKind::SnowWatchAlert,
        EventKind::CardLinkRequested,
        EventKind::Misunderstanding,
        EventKind::Medicine,
        EventKind::ChairStand,
        EventKind::NewsHeard,
        EventKind::MoodNoted,
        EventKind::MemoryNoted,
        EventKind::Unknown,
    ];

    /// The kind's name on the wire and in both stores (`check_in`, …).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::CheckIn => "check_in",
            EventKind::HelpRequest => "help_request",
            EventKind::ExerciseDone => "exercise_done",
            EventKind::SafetyAnswer => "safety_answer",
            EventKind::SnowWatchStarted => "snow_watch_started",
            EventKind::SnowWatchEnded => "snow_watch_ended",
            EventKind::SnowWatchAlert => "snow_watch_alert",
            EventKind::CardLinkRequested => "card_link_requested",
            EventKind::Misunderstanding => "misunderstanding",
            EventKind::Medicine => "medicine",
            EventKind::ChairStand => "chair_stand",
            EventKind::NewsHeard => "news_heard",
            EventKind::MoodNoted => "mood_noted",
            EventKind::MemoryNoted => "memory_noted",
            EventKind::Unknown => "unknown",
        }
    }

    /// The kind of a name; a name this build does not know is [`EventKind::Unknown`].
    pub fn from_name(name: &str) -> EventKind {
        EventKind::ALL.into_iter().find(|k| k.name() == name).unwrap_or(EventKind::Unknown)
    }
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
        let b: crate::MisunderstandingBody =
            serde_json::from_str(r#"{"question":"how_feeling","understood":"tired","confidence":0.4}"#)
                .unwrap();
        assert_eq!((b.understood.key(), b.chosen), ("tired", None));
    }

    #[test]
    fn kind_names_are_the_serde_names() {
        for kind in EventKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
            assert_eq!(EventKind::from_name(kind.name()), kind);
        }
        assert_eq!(EventKind::from_name("x_new"), EventKind::Unknown);
    }
}
