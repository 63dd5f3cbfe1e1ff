//! Property tests over the wire types: every value survives a JSON round trip, and any
//! byte string (or a mutation of a valid document) deserializes or errors, never panics.

use chrono::{DateTime, TimeZone as _, Utc};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use wire::{
    DeviceSeq, EventAck, EventBatch, EventEnvelope, EventId, EventKind, Heartbeat, PartHealth, PullItem,
    PullKind, PullResponse, UploadAck,
};

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    // Year 1 to 9999, with nanoseconds: chrono's RFC 3339 form carries them all.
    (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(s, n)| Utc.timestamp_opt(s, n).single().expect("in range"))
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        ".*".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".*", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    // Every kind the wire knows, so a new one is covered the day it is added.
    prop::sample::select(EventKind::ALL.to_vec())
}

fn envelope() -> impl Strategy<Value = EventEnvelope> {
    (any::<u128>(), any::<u64>(), event_kind(), time(), json()).prop_map(
        |(id, seq, kind, device_time, body)| EventEnvelope {
            id: EventId(uuid::Uuid::from_u128(id)),
            seq: DeviceSeq(seq),
            kind,
            device_time,
            body,
        },
    )
}

fn part() -> impl Strategy<Value = PartHealth> {
    prop::sample::select(vec![PartHealth::Ok, PartHealth::Faulty, PartHealth::Missing, PartHealth::Unknown])
}

fn heartbeat() -> impl Strategy<Value = Heartbeat> {
    (".*", part(), part(), part(), any::<u64>(), any::<u64>(), any::<Option<u32>>(), time()).prop_map(|t| {
        Heartbeat {
            app_version: t.0,
            microphone: t.1,
            reader: t.2,
            speaker: t.3,
            free_storage_mib: t.4,
            outbox_len: t.5,
            dialect_bundle: t.6,
            device_time: t.7,
        }
    })
}

fn pull_response() -> impl Strategy<Value = PullResponse> {
    let kind = prop::sample::select(PullKind::ALL.to_vec());
    let item = (any::<u64>(), kind, json()).prop_map(|(cursor, kind, body)| PullItem { cursor, kind, body });
    (prop::collection::vec(item, 0..5), any::<u64>(), any::<bool>())
        .prop_map(|(items, cursor, more)| PullResponse { items, cursor, more })
}

fn upload_ack() -> impl Strategy<Value = UploadAck> {
    let ack = prop::sample::select(vec![EventAck::Stored, EventAck::Duplicate, EventAck::Rejected]);
    let id = any::<u128>().prop_map(|u| EventId(uuid::Uuid::from_u128(u)));
    (prop::collection::vec((id.clone(), ack), 0..5), prop::collection::vec((id, ".*"), 0..3))
        .prop_map(|(acks, reasons)| UploadAck { acks, reasons })
}

fn round_trips<T: serde::Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let text = serde_json::to_vec(v).unwrap();
    let back: T = serde_json::from_slice(&text).unwrap();
    assert_eq!(&back, v);
}

/// Every wire type, fed `bytes`: an error is fine, a panic is not.
fn parse_all(bytes: &[u8]) {
    let _ = serde_json::from_slice::<EventBatch>(bytes);
    let _ = serde_json::from_slice::<EventEnvelope>(bytes);
    let _ = serde_json::from_slice::<UploadAck>(bytes);
    let _ = serde_json::from_slice::<Heartbeat>(bytes);
    let _ = serde_json::from_slice::<wire::HeartbeatAck>(bytes);
    let _ = serde_json::from_slice::<wire::EnrolRequest>(bytes);
    let _ = serde_json::from_slice::<wire::EnrolResponse>(bytes);
    let _ = serde_json::from_slice::<wire::ApiError>(bytes);
    let _ = serde_json::from_slice::<PullResponse>(bytes);
    let _ = serde_json::from_slice::<wire::SafetyAnswerBody>(bytes);
    let _ = serde_json::from_slice::<wire::CardLinkBody>(bytes);
    let _ = serde_json::from_slice::<wire::CampaignNotice>(bytes);
    let _ = serde_json::from_slice::<wire::MisunderstandingBody>(bytes);
    let _ = serde_json::from_slice::<wire::ResidentSettingsBody>(bytes);
    let _ = serde_json::from_slice::<wire::WeatherReport>(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn event_batches_round_trip(events in prop::collection::vec(envelope(), 0..4)) {
        round_trips(&EventBatch { events });
    }

    #[test]
    fn heartbeats_pulls_and_acks_round_trip(h in heartbeat(), p in pull_response(), a in upload_ack()) {
        round_trips(&h);
        round_trips(&p);
        round_trips(&a);
    }

    #[test]
    fn any_bytes_deserialize_or_error(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&bytes);
    }

    /// Byte flips, cuts and insertions in a valid batch reach deeper into the parser
    /// than random bytes do.
    #[test]
    fn mutated_valid_documents_deserialize_or_error(
        events in prop::collection::vec(envelope(), 1..3),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = serde_json::to_vec(&EventBatch { events }).unwrap();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len().max(1));
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.truncate(i),
                _ => bytes.insert(i.min(bytes.len()), byte),
            }
        }
        parse_all(&bytes);
    }
}

#[test]
fn unknown_kinds_from_newer_peers_are_kept_as_unknown() {
    let ev: EventEnvelope = serde_json::from_str(
        r#"{"id":"6a2f0f5e-8f7a-4c1e-9d0b-1a2b3c4d5e6f","seq":1,"kind":"x_new","device_time":"2026-11-28T00:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!((ev.kind, ev.body.clone()), (EventKind::Unknown, serde_json::Value::Null));
    let item: PullItem = serde_json::from_str(r#"{"cursor":3,"kind":"hologram","future_field":1}"#).unwrap();
    assert_eq!(item.kind, PullKind::Unknown);
}
