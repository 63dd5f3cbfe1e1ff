//! `POST /api/v1/events`: a batch of events, stored once each, acknowledged each.

use axum::Json;
use axum::extract::State;

use super::{Device, WireJson};
use crate::error::AppError;
use crate::routes::{AppState, blocking};
use crate::store::{
    Ack, AnnouncementId, CampaignId, CardIdentity, CheckInAnswer, Effect, IncomingEvent,
    MisunderstandingNote, ResidentId,
};

/// What the event does, or why it cannot be accepted; and its body as the office
/// keeps it (typed fields only, so fields a tablet adds are not stored).
fn effect(ev: &wire::EventEnvelope) -> Result<(Effect, String, Option<ResidentId>), String> {
    let event = ev.event().map_err(|e| e.to_string())?;
    let effect = match &event {
        // A check-in the resident stopped answering is no sign that they are safe: it
        // is kept on the timeline, and the escalation ladder goes on.
        wire::Event::CheckIn(body) if body.unanswered() => Effect::Record,
        wire::Event::CheckIn(body) => Effect::CheckIn { answers: checkin_answers(&body.answers) },
        // A snow-clearing watch that got no answer is as urgent as a call for help.
        wire::Event::HelpRequest(body) => {
            Effect::HelpRequest { danger: body.danger.as_ref().and_then(wire::Name::known) }
        }
        wire::Event::SnowWatchAlert(_) => Effect::HelpRequest { danger: None },
        // The office keeps its own timer for a snow watch, so a tablet that dies on the
        // roof day still escalates (`escalation::step`).
        wire::Event::SnowWatchStarted(body) => Effect::SnowWatch { minutes: body.minutes.unwrap_or(30) },
        wire::Event::SnowWatchEnded(_) => Effect::SnowWatchEnded,
        wire::Event::SafetyAnswer(body) => {
            let campaign =
                i64::try_from(body.campaign_id).map_err(|_| "campaign id out of range".to_owned())?;
            Effect::SafetyAnswer {
                campaign: CampaignId(campaign),
                needs_help: body.answer == wire::SafetyReply::NeedsHelp,
            }
        }
        wire::Event::CardLinkRequested(body) => {
            let card = CardIdentity::parse(&body.card_identity)
                .ok_or_else(|| "card_identity must be a hex SHA-256".to_owned())?;
            Effect::CardLinkRequest(card)
        }
        wire::Event::Misunderstanding(body) => Effect::Misunderstanding(misunderstanding(body)?),
        wire::Event::ExerciseDone(body) => match (body.habit_score, body.active_days) {
            (Some(score), Some(days)) if score <= 100 && days <= 7 => {
                Effect::ExerciseDone { habit_score: score, active_days: days }
            }
            (None, None) => Effect::Record,
            _ => return Err("habit_score is 0 to 100 and active_days 0 to 7, both or neither".to_owned()),
        },
        wire::Event::Medicine(body) => match body.slot.known() {
            Some(slot) => Effect::Medicine { day: body.day, slot, taken: body.taken },
            // A slot from a newer tablet: kept for the timeline.
            None => Effect::Record,
        },
        wire::Event::ChairStand(body) if body.count <= wire::MAX_CHAIR_STANDS => {
            Effect::ChairStand { day: body.day, count: body.count }
        }
        wire::Event::ChairStand(_) => return Err(format!("count is 0 to {}", wire::MAX_CHAIR_STANDS)),
        wire::Event::MoodNoted(body) => match body.mood.known() {
            Some(mood) if mood.is_low_mood() => Effect::MoodNoted { day: body.day, mood },
            Some(_) => return Err("mood is low_mood or lonely".to_owned()),
            // A meaning from a newer tablet: kept for the timeline.
            None => Effect::Record,
        },
        wire::Event::MemoryNoted(body) => memory_noted(body)?,
        wire::Event::NewsHeard(body) => Effect::NewsHeard(AnnouncementId(
            i64::try_from(body.announcement_id).map_err(|_| "announcement id out of range".to_owned())?,
        )),
        wire::Event::Unknown => Effect::Record,
    };
    // An unknown kind's body is kept as sent: a newer office may read it later.
    let stored = event.to_json().unwrap_or_else(|| ev.body.to_string());
    Ok((effect, stored, event.resident_id().map(ResidentId)))
}

/// One part of the weekly talk about the day and three words, as right answers of
/// those asked: a count no tablet could have sent is refused, so it never moves the trend.
fn memory_noted(body: &wire::MemoryNotedBody) -> Result<Effect, String> {
    let Some(part) = body.part.known() else {
        // A part from a newer tablet: kept for the timeline, never counted.
        return Ok(Effect::Record);
    };
    let asked = match part {
        vocab::MemoryPart::Weekday | vocab::MemoryPart::Season => 1,
        vocab::MemoryPart::Recall => wire::MAX_MEMORY_ANSWERS,
    };
    if body.of != asked {
        return Err(format!("{} asks {asked} answer(s): of must be {asked}", part.key()));
    }
    if body.right > body.of {
        return Err("right is 0 to of".to_owned());
    }
    Ok(Effect::MemoryNoted { day: body.day, part, right: body.right, of: body.of })
}

/// A misunderstanding's names and confidence: names only (the wire reads nothing
/// else into them), so a body can never smuggle what the resident said into the office.
fn misunderstanding(body: &wire::MisunderstandingBody) -> Result<MisunderstandingNote, String> {
    if !(0.0..=1.0).contains(&body.confidence) {
        return Err("confidence must be between 0 and 1".to_owned());
    }
    Ok(MisunderstandingNote {
        question: body.question.key().to_owned(),
        understood: body.understood.key().to_owned(),
        confidence: body.confidence,
        chosen: body.chosen.as_ref().map(|c| c.key().to_owned()),
    })
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
            Ok((effect, body, resident)) => {
                incoming.push(IncomingEvent {
                    id: ev.id.0,
                    seq: ev.seq.0,
                    kind: ev.kind,
                    device_time: ev.device_time,
                    body,
                    effect,
                    resident,
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

/// The answers the office can read; an answer in a name it does not know (a newer
/// tablet's) is kept in the stored body but cannot raise or lower a state.
fn checkin_answers(answers: &[wire::AnswerBody]) -> Vec<CheckInAnswer> {
    answers
        .iter()
        .filter_map(|a| {
            Some(CheckInAnswer {
                question: a.question.known()?,
                intent: a.intent.known()?,
                body_part: a.body_part.as_ref().and_then(wire::Name::known),
            })
        })
        .collect()
}
