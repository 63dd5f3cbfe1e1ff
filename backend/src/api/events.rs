//! `POST /api/v1/events`: a batch of events, stored once each, acknowledged each.

use axum::Json;
use axum::extract::State;

use super::{Device, WireJson};
use crate::error::AppError;
use crate::routes::{AppState, blocking};
use crate::store::{Ack, CampaignId, CardIdentity, Effect, IncomingEvent, MisunderstandingNote};

fn kind_name(k: wire::EventKind) -> &'static str {
    match k {
        wire::EventKind::CheckIn => "check_in",
        wire::EventKind::HelpRequest => "help_request",
        wire::EventKind::ExerciseDone => "exercise_done",
        wire::EventKind::SafetyAnswer => "safety_answer",
        wire::EventKind::SnowWatchStarted => "snow_watch_started",
        wire::EventKind::SnowWatchEnded => "snow_watch_ended",
        wire::EventKind::SnowWatchAlert => "snow_watch_alert",
        wire::EventKind::CardLinkRequested => "card_link_requested",
        wire::EventKind::Misunderstanding => "misunderstanding",
        wire::EventKind::Unknown => "unknown",
    }
}

/// What the event does, or why it cannot be accepted.
fn effect(ev: &wire::EventEnvelope) -> Result<Effect, String> {
    Ok(match ev.kind {
        // A check-in the resident stopped answering is no sign that they are safe: it
        // is kept on the timeline, and the escalation ladder goes on.
        wire::EventKind::CheckIn if ev.body.get("outcome").and_then(|o| o.as_str()) == Some("no_answer") => {
            Effect::Record
        }
        wire::EventKind::CheckIn => Effect::CheckIn,
        // A snow-clearing watch that got no answer is as urgent as a call for help.
        wire::EventKind::HelpRequest | wire::EventKind::SnowWatchAlert => Effect::HelpRequest,
        wire::EventKind::SafetyAnswer => {
            let body: wire::SafetyAnswerBody =
                serde_json::from_value(ev.body.clone()).map_err(|e| format!("safety answer body: {e}"))?;
            let campaign =
                i64::try_from(body.campaign_id).map_err(|_| "campaign id out of range".to_owned())?;
            Effect::SafetyAnswer {
                campaign: CampaignId(campaign),
                needs_help: body.answer == wire::SafetyReply::NeedsHelp,
            }
        }
        wire::EventKind::CardLinkRequested => {
            let body: wire::CardLinkBody =
                serde_json::from_value(ev.body.clone()).map_err(|e| format!("card link body: {e}"))?;
            let card = CardIdentity::parse(&body.card_identity)
                .ok_or_else(|| "card_identity must be a hex SHA-256".to_owned())?;
            Effect::CardLinkRequest(card)
        }
        wire::EventKind::Misunderstanding => Effect::Misunderstanding(misunderstanding(&ev.body)?),
        _ => Effect::Record,
    })
}

/// A misunderstanding's names and confidence, checked: names only, so a body can
/// never smuggle what the resident said into the office.
fn misunderstanding(body: &serde_json::Value) -> Result<MisunderstandingNote, String> {
    let body: wire::MisunderstandingBody =
        serde_json::from_value(body.clone()).map_err(|e| format!("misunderstanding body: {e}"))?;
    let names = [Some(&body.question), Some(&body.understood), body.chosen.as_ref()];
    if !names.into_iter().flatten().all(|n| crate::dialect::is_name(n)) {
        return Err("question and intents must be vocabulary names".to_owned());
    }
    if !(0.0..=1.0).contains(&body.confidence) {
        return Err("confidence must be between 0 and 1".to_owned());
    }
    Ok(MisunderstandingNote {
        question: body.question,
        understood: body.understood,
        confidence: body.confidence,
        chosen: body.chosen,
    })
}

/// The body as stored: for kinds whose body is typed, the typed fields only, so
/// unknown fields a tablet adds (tolerated on the wire) are not kept.
fn stored_body(ev: &wire::EventEnvelope, effect: &Effect) -> String {
    match effect {
        Effect::Misunderstanding(n) => serde_json::to_string(&wire::MisunderstandingBody {
            question: n.question.clone(),
            understood: n.understood.clone(),
            confidence: n.confidence,
            chosen: n.chosen.clone(),
        })
        .unwrap_or_default(),
        _ => ev.body.to_string(),
    }
}

pub(super) async fn upload(
    State(state): State<AppState>,
    Device(device): Device,
    WireJson(batch): WireJson<wire::EventBatch>,
) -> Result<Json<wire::UploadAck>, AppError> {
    if batch.events.len() > wire::MAX_BATCH_EVENTS {
        return Err(AppError::TooLarge(format!("at most {} events per batch", wire::MAX_BATCH_EVENTS)));
    }
    let now = state.clock.now();
    let mut acks = vec![None; batch.events.len()];
    let mut reasons = Vec::new();
    let mut incoming = Vec::new();
    let mut positions = Vec::new();
    for (i, ev) in batch.events.iter().enumerate() {
        match effect(ev) {
            Ok(effect) => {
                incoming.push(IncomingEvent {
                    id: ev.id.0,
                    seq: ev.seq.0,
                    kind: kind_name(ev.kind),
                    device_time: ev.device_time,
                    body: stored_body(ev, &effect),
                    effect,
                });
                positions.push(i);
            }
            Err(reason) => {
                acks[i] = Some(wire::EventAck::Rejected);
                reasons.push((ev.id, reason));
            }
        }
    }
    let device_id = device.device;
    let stored = blocking(&state.store, move |s| s.ingest(&device, &incoming, now)).await?;
    for (pos, ack) in positions.into_iter().zip(stored) {
        acks[pos] = Some(match ack {
            Ack::Stored => wire::EventAck::Stored,
            Ack::Duplicate => wire::EventAck::Duplicate,
            Ack::Rejected(reason) => {
                reasons.push((batch.events[pos].id, reason.to_owned()));
                wire::EventAck::Rejected
            }
        });
    }
    tracing::debug!(
        device = device_id.0,
        events = batch.events.len(),
        rejected = reasons.len(),
        "batch ingested"
    );
    let acks = batch
        .events
        .iter()
        .zip(acks)
        .map(|(ev, ack)| (ev.id, ack.unwrap_or(wire::EventAck::Rejected)))
        .collect();
    Ok(Json(wire::UploadAck { acks, reasons }))
}
