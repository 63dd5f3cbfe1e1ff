//! Care events as the office receives them (the typed `wire` body of each), and the
//! names the local tables use.
//!
//! Bodies carry ids, times and understood answers (intent names) only: never a name,
//! a transcript, audio, a PIN or the individual number. The office reads the resident
//! from the device token; `resident_id` is carried for its logs and cross-checks.

use care::planner::Feeling;
use care::record::{CareEvent, CheckinRecord};
use chrono::NaiveDateTime;
use wire::{AnswerBody, CheckInBody, Event, HelpRequestBody, LocalTime};

use super::ResidentId;

/// Local times as the kiosk's clock shows them (the town's time zone), in the wire's
/// one format.
pub(super) fn local(t: NaiveDateTime) -> String {
    LocalTime(t).to_string()
}

/// The wire event of a care event.
pub(super) fn care_event(resident: ResidentId, event: &CareEvent) -> Event {
    let at = |t: &NaiveDateTime| Some(LocalTime(*t));
    match event {
        CareEvent::Checkin(record) => Event::CheckIn(checkin_body(resident, record)),
        CareEvent::HelpAlert { raised_at, during, intent, confirmed, danger } => {
            Event::HelpRequest(HelpRequestBody {
                resident_id: resident.0,
                raised_at: at(raised_at),
                during: during.map(Into::into),
                intent: Some((*intent).into()),
                danger: danger.map(Into::into),
                confirmed: *confirmed,
            })
        }
        CareEvent::SnowWatchRequested { at: started } => {
            Event::SnowWatchStarted(wire::SnowWatchStartedBody {
                resident_id: resident.0,
                started_at: at(started),
                // The kiosk's watches check back after care's default.
                minutes: u32::try_from(care::watch::DEFAULT_WATCH_MINUTES).ok(),
            })
        }
        CareEvent::SnowWatchAlert { started_at, check_back_at, raised_at, asked_for_help } => {
            Event::SnowWatchAlert(wire::SnowWatchAlertBody {
                resident_id: resident.0,
                started_at: at(started_at),
                check_back_at: at(check_back_at),
                raised_at: at(raised_at),
                asked_for_help: *asked_for_help,
            })
        }
        CareEvent::SnowWatchEnded { started_at, ended_at } => {
            Event::SnowWatchEnded(wire::SnowWatchEndedBody {
                resident_id: resident.0,
                started_at: at(started_at),
                ended_at: at(ended_at),
            })
        }
    }
}

fn checkin_body(resident: ResidentId, r: &CheckinRecord) -> CheckInBody {
    CheckInBody {
        resident_id: resident.0,
        started_at: Some(LocalTime(r.started_at)),
        ended_at: Some(LocalTime(r.ended_at)),
        outcome: Some(r.outcome.into()),
        questions_asked: r.questions_asked.into(),
        misunderstandings: r.misunderstandings.into(),
        answers: r
            .answers
            .iter()
            .map(|a| AnswerBody {
                question: a.question.into(),
                intent: a.intent.into(),
                body_part: a.body_part.map(Into::into),
                by: Some(a.by.into()),
            })
            .collect(),
    }
}

/// When a care event happened, for the local log.
pub(super) fn happened_at(event: &CareEvent) -> NaiveDateTime {
    match event {
        CareEvent::Checkin(r) => r.ended_at,
        CareEvent::HelpAlert { raised_at, .. } => *raised_at,
        CareEvent::SnowWatchRequested { at } => *at,
        CareEvent::SnowWatchAlert { raised_at, .. } => *raised_at,
        CareEvent::SnowWatchEnded { ended_at, .. } => *ended_at,
    }
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
