//! The snow-clearing watch and the safety-confirmation answer: small state machines over times the caller passes in.
//!
//! Snow clearing (雪下ろし, 雪かき) is where residents of a heavy-snow town are hurt and
//! lie unfound. When a resident accepts the watch, the kiosk holds a [`SnowWatch`],
//! calls [`SnowWatch::tick`] now and then with the time, and passes any answer to
//! [`SnowWatch::answer`]. Silence after the check-back raises an alert for staff with
//! the time the watch started, so they know how long the person has been out.

use chrono::{Duration, NaiveDateTime};

use crate::record::{CareEvent, CheckinRecord, Outcome};
use crate::understanding::{CONFIRM_BELOW, Intent, Understanding};

/// How long a watch runs before the check-back, unless the resident asks otherwise.
pub const DEFAULT_WATCH_MINUTES: i64 = 30;
/// How long each check-back waits for an answer.
pub const ANSWER_WAIT_MINUTES: i64 = 3;
/// Check-backs (the first and one louder repeat) before the alert.
pub const CHECK_BACKS: u8 = 2;

/// Which snow-watch line the kiosk should say (texts are in the dialogue script's `[snow_watch]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchLine {
    /// 「雪かきは終わりましたか？大丈夫ですか？」
    CheckBack,
    /// The same, again, louder.
    CheckBackAgain,
    /// Still working: the watch starts over.
    Rearmed,
    /// Safe and finished.
    Ended,
    /// No answer: staff were told.
    Alerted,
    /// The resident asked for help: staff were told.
    HelpSent,
}

/// What the kiosk should do after a tick or an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchStep {
    pub say: Option<WatchLine>,
    pub event: Option<CareEvent>,
}

impl WatchStep {
    const NOTHING: WatchStep = WatchStep { say: None, event: None };
}

/// Where a watch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchState {
    /// Timer running until `check_back_at`.
    Waiting,
    /// Asked 「大丈夫ですか？」 at `asked_at`, `tries` times so far.
    CheckingBack {
        asked_at: NaiveDateTime,
        tries: u8,
    },
    Ended,
    Alerted,
}

/// One snow-clearing watch.
#[derive(Debug, Clone, PartialEq)]
pub struct SnowWatch {
    pub started_at: NaiveDateTime,
    pub check_back_at: NaiveDateTime,
    period: Duration,
    pub state: WatchState,
}

impl SnowWatch {
    /// Starts a watch at `now`, checking back after `minutes` (default 30).
    pub fn start(now: NaiveDateTime, minutes: Option<u32>) -> Self {
        let period = Duration::minutes(minutes.map_or(DEFAULT_WATCH_MINUTES, i64::from).max(1));
        Self { started_at: now, check_back_at: now + period, period, state: WatchState::Waiting }
    }

    /// A watch that was running when the tablet stopped (a restart, a power cut):
    /// started at `started_at`, last armed (started, or "still at it") at `armed_at`.
    /// It checks back as it would have; if that time has passed, at the next tick.
    pub fn resume(started_at: NaiveDateTime, armed_at: NaiveDateTime, minutes: Option<u32>) -> Self {
        Self { started_at, ..Self::start(armed_at, minutes) }
    }

    /// Advances the clock to `now`: asks at the check-back time, asks again after a
    /// wait, and raises the alert when the last ask goes unanswered.
    pub fn tick(&mut self, now: NaiveDateTime) -> WatchStep {
        let wait = Duration::minutes(ANSWER_WAIT_MINUTES);
        match self.state {
            WatchState::Waiting if now >= self.check_back_at => {
                self.state = WatchState::CheckingBack { asked_at: now, tries: 1 };
                WatchStep { say: Some(WatchLine::CheckBack), event: None }
            }
            WatchState::CheckingBack { asked_at, tries } if now >= asked_at + wait => {
                if tries < CHECK_BACKS {
                    self.state = WatchState::CheckingBack { asked_at: now, tries: tries + 1 };
                    WatchStep { say: Some(WatchLine::CheckBackAgain), event: None }
                } else {
                    self.alert(now, false)
                }
            }
            _ => WatchStep::NOTHING,
        }
    }

    /// The resident answered (by voice or button) at `now`.
    pub fn answer(&mut self, now: NaiveDateTime, u: Understanding) -> WatchStep {
        if matches!(self.state, WatchState::Ended | WatchState::Alerted) {
            return WatchStep::NOTHING;
        }
        if u.is_critical() || (u.intent == Intent::No && u.confidence >= CONFIRM_BELOW) {
            return self.alert(now, true);
        }
        let sure = u.confidence >= CONFIRM_BELOW;
        match u.intent {
            // Still at it: start the timer over.
            Intent::WeatherSnow if sure => {
                self.check_back_at = now + self.period;
                self.state = WatchState::Waiting;
                // Recorded, so the office's own timer for the watch starts over too.
                WatchStep {
                    say: Some(WatchLine::Rearmed),
                    event: Some(CareEvent::SnowWatchRequested { at: now }),
                }
            }
            Intent::Yes | Intent::FeelingGood | Intent::Thanks | Intent::Exercised if sure => {
                self.state = WatchState::Ended;
                let event = CareEvent::SnowWatchEnded { started_at: self.started_at, ended_at: now };
                WatchStep { say: Some(WatchLine::Ended), event: Some(event) }
            }
            // Unclear: while checking back, the wait runs on; the silence rule decides.
            _ => WatchStep::NOTHING,
        }
    }

    fn alert(&mut self, now: NaiveDateTime, asked_for_help: bool) -> WatchStep {
        self.state = WatchState::Alerted;
        let event = CareEvent::SnowWatchAlert {
            started_at: self.started_at,
            check_back_at: self.check_back_at,
            raised_at: now,
            asked_for_help,
        };
        let say = if asked_for_help { WatchLine::HelpSent } else { WatchLine::Alerted };
        WatchStep { say: Some(say), event: Some(event) }
    }
}

/// A resident's answer to a safety-confirmation campaign (「大丈夫ですか？」).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafetyStatus {
    Safe,
    NeedsHelp,
    NoAnswer,
}

/// The campaign answer from a finished [`crate::dialogue::Entry::SafetyCheck`] dialogue,
/// or `None` when the resident never touched the tablet before the deadline.
pub fn safety_status(record: Option<&CheckinRecord>) -> SafetyStatus {
    match record {
        Some(r) if r.outcome == Outcome::HelpRequested => SafetyStatus::NeedsHelp,
        Some(r) if r.answers.iter().any(|a| a.intent == Intent::FeelingGood) => SafetyStatus::Safe,
        _ => SafetyStatus::NoAnswer,
    }
}
