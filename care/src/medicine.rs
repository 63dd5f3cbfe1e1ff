//! Medicine times: when the tablet asks 「お昼のお薬、飲みましたか？」, when it asks once
//! more, and when a dose counts as missed. Only times of day: which medicine is never
//! known here.
//!
//! A dose is asked at its time (or up to [`ASK_LATE_UNTIL`] later, when the tablet was
//! busy with something else then). 「はい」 keeps it; 「まだ」, silence or no answer
//! brings one reminder [`REMIND_AFTER`] later; 「まだ」 to the reminder, or nothing by
//! [`MISSED_AFTER`] past it, records it as missed. A dose the tablet never got to ask
//! (switched off, the resident out all that time) is recorded as nothing: the office
//! is told only what a resident said or left unanswered.

use chrono::{NaiveDateTime, NaiveTime, TimeDelta};
use serde::Deserialize;

pub use vocab::MedicineSlot as Slot;

/// How late after its time a dose is still asked about the first time.
pub const ASK_LATE_UNTIL: TimeDelta = TimeDelta::hours(2);
/// How long after an unkept first ask the tablet reminds.
pub const REMIND_AFTER: TimeDelta = TimeDelta::minutes(30);
/// How long after the reminder an unanswered dose counts as missed.
pub const MISSED_AFTER: TimeDelta = TimeDelta::minutes(30);

/// A medicine time staff set for a resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dose {
    pub slot: Slot,
    pub at: NaiveTime,
}

/// What the tablet knows of one dose today.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoseDay {
    /// When it asked (the first ask and the reminder), in order.
    pub asked: Vec<NaiveDateTime>,
    /// What was recorded: `Some(true)` kept, `Some(false)` missed.
    pub kept: Option<bool>,
}

/// What the tablet does about a dose now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Ask for the first time.
    Ask(Slot),
    /// Ask once more (the first ask was 「まだ」 or went unanswered).
    Remind(Slot),
    /// Record the dose missed: the reminder went unanswered.
    Missed(Slot),
}

impl Action {
    pub fn slot(self) -> Slot {
        match self {
            Action::Ask(s) | Action::Remind(s) | Action::Missed(s) => s,
        }
    }
}

/// The first thing due among `doses` at `now`, given what today holds for each slot.
/// A time is of `now`'s day: a reminder or the missed mark past midnight is not made.
pub fn next(doses: &[Dose], today: impl Fn(Slot) -> DoseDay, now: NaiveDateTime) -> Option<Action> {
    let mut doses = doses.to_vec();
    doses.sort_by_key(|d| d.at);
    doses.into_iter().find_map(|d| {
        let day = today(d.slot);
        if day.kept.is_some() {
            return None;
        }
        let time = now.date().and_time(d.at);
        match day.asked.as_slice() {
            [] if time <= now && now < time + ASK_LATE_UNTIL => Some(Action::Ask(d.slot)),
            [first] if now >= *first + REMIND_AFTER => Some(Action::Remind(d.slot)),
            [.., last] if day.asked.len() >= 2 && now >= *last + MISSED_AFTER => Some(Action::Missed(d.slot)),
            _ => None,
        }
    })
}

/// What an answer to a medicine question does: `Some(true)` kept, `Some(false)`
/// missed (「まだ」 to the reminder), `None` not decided yet (「まだ」 to the first ask:
/// the reminder comes).
pub fn answered(taken: bool, reminder: bool) -> Option<bool> {
    match (taken, reminder) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}

/// The medicine lines of the dialogue file (`[medicine]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedicineLines {
    /// 「{name}さん、{slot}のお薬、飲みましたか？」
    pub ask: String,
    /// The reminder: 「{name}さん、{slot}のお薬は、もう飲みましたか？」
    pub remind: String,
    /// After 「はい」.
    pub kept: String,
    /// After 「まだ」 to the first ask: the reminder will come.
    pub not_yet: String,
    /// After 「まだ」 to the reminder.
    pub missed: String,
    /// Two buttons: taken (`yes`) and not yet (`no`).
    pub buttons: Vec<crate::dialogue::Button>,
    /// How each slot is said (「お昼」 for `noon`).
    pub slots: std::collections::BTreeMap<Slot, String>,
}

impl MedicineLines {
    /// The question for `slot`, for `name` (empty: no name said).
    pub fn question(&self, action: Action, name: &str) -> String {
        let line = match action {
            Action::Remind(_) => &self.remind,
            _ => &self.ask,
        };
        let said = self.slots.get(&action.slot()).map_or(action.slot().label(), String::as_str);
        let line = line.replace("{slot}", said);
        if name.is_empty() { line.replace("{name}さん、", "") } else { line.replace("{name}", name) }
    }

    /// Every line, for the spoken-line checks: each question for each slot, unnamed.
    pub fn all_lines(&self) -> Vec<String> {
        let mut v = vec![self.kept.clone(), self.not_yet.clone(), self.missed.clone()];
        for &slot in Slot::ALL {
            v.push(self.question(Action::Ask(slot), ""));
            v.push(self.question(Action::Remind(slot), ""));
        }
        v
    }
}
