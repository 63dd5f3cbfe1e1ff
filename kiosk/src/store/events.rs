//! Care events as the office receives them: the `wire` kind and the JSON body of each.
//!
//! Bodies carry ids, times and understood answers (intent names) only: never a name,
//! a transcript, audio, a PIN or the individual number. The office reads the resident
//! from the device token; `resident_id` is carried for its logs and cross-checks.

use care::dialogue::QuestionId;
use care::planner::Feeling;
use care::record::{AnsweredBy, CareEvent, CheckinRecord, Outcome};
use care::understanding::BodyPart;
use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::ResidentId;

/// Local times are written as the kiosk's clock shows them (the town's time zone).
pub(super) const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

pub(super) fn local(t: NaiveDateTime) -> String {
    t.format(LOCAL_FORMAT).to_string()
}

/// The wire kind and body of a care event.
pub(super) fn care_event(resident: ResidentId, event: &CareEvent) -> (wire::EventKind, Value) {
    match event {
        CareEvent::Checkin(record) => (wire::EventKind::CheckIn, checkin_body(resident, record)),
        CareEvent::HelpAlert { raised_at, during, intent, confirmed } => (
            wire::EventKind::HelpRequest,
            json!({
                "resident_id": resident.0,
                "raised_at": local(*raised_at),
                "during": during.map(question_key),
                "intent": intent.key(),
                "confirmed": confirmed,
            }),
        ),
        CareEvent::SnowWatchRequested { at } => (
            wire::EventKind::SnowWatchStarted,
            json!({ "resident_id": resident.0, "started_at": local(*at) }),
        ),
        CareEvent::SnowWatchAlert { started_at, check_back_at, raised_at, asked_for_help } => (
            wire::EventKind::SnowWatchAlert,
            json!({
                "resident_id": resident.0,
                "started_at": local(*started_at),
                "check_back_at": local(*check_back_at),
                "raised_at": local(*raised_at),
                "asked_for_help": asked_for_help,
            }),
        ),
        CareEvent::SnowWatchEnded { started_at, ended_at } => (
            wire::EventKind::SnowWatchEnded,
            json!({ "resident_id": resident.0, "started_at": local(*started_at), "ended_at": local(*ended_at) }),
        ),
    }
}

fn checkin_body(resident: ResidentId, r: &CheckinRecord) -> Value {
    let answers: Vec<Value> = r
        .answers
        .iter()
        .map(|a| {
            json!({
                "question": question_key(a.question),
                "intent": a.intent.key(),
                "body_part": a.body_part.map(body_part_key),
                "by": match a.by {
                    AnsweredBy::Voice => "voice",
                    AnsweredBy::VoiceConfirmed => "voice_confirmed",
                    AnsweredBy::Button => "button",
                },
            })
        })
        .collect();
    json!({
        "resident_id": resident.0,
        "started_at": local(r.started_at),
        "ended_at": local(r.ended_at),
        "outcome": outcome_key(r.outcome),
        "questions_asked": r.questions_asked,
        "misunderstandings": r.misunderstandings,
        "answers": answers,
    })
}

/// The local-log name of a care event that is not a check-in.
pub(super) fn log_kind(event: &CareEvent) -> (&'static str, NaiveDateTime) {
    match event {
        CareEvent::Checkin(r) => ("checkin", r.ended_at),
        CareEvent::HelpAlert { raised_at, .. } => ("help_request", *raised_at),
        CareEvent::SnowWatchRequested { at } => ("snow_watch_started", *at),
        CareEvent::SnowWatchAlert { raised_at, .. } => ("snow_watch_alert", *raised_at),
        CareEvent::SnowWatchEnded { ended_at, .. } => ("snow_watch_ended", *ended_at),
    }
}

pub(super) fn outcome_key(o: Outcome) -> &'static str {
    match o {
        Outcome::Completed => "completed",
        Outcome::HelpRequested => "help_requested",
        Outcome::NoAnswer => "no_answer",
    }
}

pub(super) fn parse_outcome(s: &str) -> Option<Outcome> {
    [Outcome::Completed, Outcome::HelpRequested, Outcome::NoAnswer].into_iter().find(|o| outcome_key(*o) == s)
}

pub(super) fn feeling_key(f: Feeling) -> &'static str {
    match f {
        Feeling::Good => "good",
        Feeling::Tired => "tired",
        Feeling::Unwell => "unwell",
        Feeling::Unknown => "unknown",
    }
}

pub(super) fn parse_feeling(s: &str) -> Feeling {
    [Feeling::Good, Feeling::Tired, Feeling::Unwell]
        .into_iter()
        .find(|f| feeling_key(*f) == s)
        .unwrap_or_default()
}

fn question_key(q: QuestionId) -> &'static str {
    match q {
        QuestionId::HowFeeling => "how_feeling",
        QuestionId::Slept => "slept",
        QuestionId::Appetite => "appetite",
        QuestionId::PainCheck => "pain_check",
        QuestionId::ExerciseToday => "exercise_today",
        QuestionId::ExercisedDone => "exercised_done",
        QuestionId::SafetyCheck => "safety_check",
        QuestionId::Open => "open",
        QuestionId::Confirm => "confirm",
    }
}

pub(super) fn body_part_key(b: BodyPart) -> &'static str {
    match b {
        BodyPart::Head => "head",
        BodyPart::Neck => "neck",
        BodyPart::Shoulder => "shoulder",
        BodyPart::Back => "back",
        BodyPart::LowerBack => "lower_back",
        BodyPart::Chest => "chest",
        BodyPart::Belly => "belly",
        BodyPart::Knee => "knee",
        BodyPart::Leg => "leg",
        BodyPart::Hand => "hand",
        BodyPart::Teeth => "teeth",
        BodyPart::Eye => "eye",
    }
}

pub(super) fn parse_body_part(s: &str) -> Option<BodyPart> {
    BodyPart::ALL.into_iter().find(|b| body_part_key(*b) == s)
}

pub(super) fn intensity_key(i: care::catalogue::Intensity) -> &'static str {
    use care::catalogue::Intensity;
    match i {
        Intensity::VeryLight => "very_light",
        Intensity::Light => "light",
        Intensity::Moderate => "moderate",
        Intensity::Brisk => "brisk",
    }
}

pub(super) fn parse_intensity(s: &str) -> Option<care::catalogue::Intensity> {
    care::catalogue::Intensity::ALL.into_iter().find(|i| intensity_key(*i) == s)
}

/// The wire name of an event kind (its serde name), for the outbox's `kind` column.
pub(super) fn kind_key(kind: wire::EventKind) -> String {
    match serde_json::to_value(kind) {
        Ok(Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

pub(super) fn parse_kind(s: &str) -> wire::EventKind {
    serde_json::from_value(Value::String(s.to_owned())).unwrap_or(wire::EventKind::Unknown)
}
