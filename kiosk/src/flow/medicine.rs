//! Medicine times: at a time staff set, the tablet asks 「佐々木さん、お昼のお薬、飲みましたか？」
//! on the question screen with big はい／まだ buttons, reminds once, and records the
//! dose kept or missed; care's `medicine` decides when. A danger said instead of an
//! answer goes to the help flow, as in the check-in.

use care::medicine::{self, Action, DoseDay, Slot};

use super::*;
use crate::store::MedicineToday;

/// The medicine question on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DoseAsk {
    resident: i64,
    name: String,
    slot: Slot,
    reminder: bool,
    /// An answer was not understood once: the next unclear one ends the question.
    unclear: bool,
}

impl Flow<'_> {
    /// Inside the schedule's quiet moment: asks, reminds or records a missed dose.
    /// Returns whether it put a question on screen.
    pub(super) fn medicine_tick(&mut self, fx: &mut Vec<Effect>) -> bool {
        let now = chrono::SubsecRound::trunc_subsecs(self.now, 0);
        self.medicine_asked.retain(|(_, _, at)| at.date() == now.date());
        self.medicine_kept.retain(|(_, _, day, _)| *day == now.date());
        for m in self.medicine.clone() {
            // In a pause the office set (a hospital stay, away with family) nothing is
            // asked, and nothing counts as missed.
            if self.due.iter().any(|d| d.resident == m.resident && d.paused) {
                continue;
            }
            let today = |slot: Slot| self.dose_day(&m, slot, now);
            let Some(action) = medicine::next(&m.doses, today, now) else { continue };
            let slot = action.slot();
            match action {
                Action::Missed(_) => {
                    self.record_dose(m.resident, slot, false, fx);
                }
                Action::Ask(_) | Action::Remind(_) => {
                    fx.push(Effect::Record(Record::MedicineAsked { resident: m.resident, slot, at: now }));
                    self.medicine_asked.push((m.resident, slot, now));
                    let reminder = matches!(action, Action::Remind(_));
                    self.ask_dose(
                        DoseAsk {
                            resident: m.resident,
                            name: m.name.clone(),
                            slot,
                            reminder,
                            unclear: false,
                        },
                        fx,
                    );
                    return true;
                }
            }
        }
        false
    }

    /// The store's record of a dose today and what happened since it was read.
    fn dose_day(&self, m: &MedicineToday, slot: Slot, now: NaiveDateTime) -> DoseDay {
        let mut day = m.days.iter().find(|(s, _)| *s == slot).map(|(_, d)| d.clone()).unwrap_or_default();
        day.asked.extend(
            self.medicine_asked
                .iter()
                .filter(|(r, s, _)| *r == m.resident && *s == slot)
                .map(|(_, _, at)| *at),
        );
        // The store's copy and the memory's overlap until the next read.
        day.asked.sort();
        day.asked.dedup();
        if let Some((.., kept)) =
            self.medicine_kept.iter().find(|(r, s, d, _)| *r == m.resident && *s == slot && *d == now.date())
        {
            day.kept = Some(*kept);
        }
        day
    }

    fn record_dose(&mut self, resident: i64, slot: Slot, kept: bool, fx: &mut Vec<Effect>) {
        let day = self.now.date();
        fx.push(Effect::Record(Record::Medicine { resident, day, slot, kept }));
        fx.push(Effect::SyncNow);
        self.medicine_kept.push((resident, slot, day, kept));
    }

    fn ask_dose(&mut self, ask: DoseAsk, fx: &mut Vec<Effect>) {
        let lines = &self.care.script.medicine;
        let action = if ask.reminder { Action::Remind(ask.slot) } else { Action::Ask(ask.slot) };
        let question = lines.question(action, &ask.name);
        let buttons = lines.buttons.clone();
        self.dose = Some(ask);
        fx.push(Effect::Chime);
        self.show(Screen::Checkin);
        self.ask_on_screen(vec![question], buttons, QuestionId::Confirm, fx);
    }

    /// A button or a heard yes or no: kept, not yet (the reminder comes), or missed.
    pub(super) fn dose_answer(&mut self, taken: bool, fx: &mut Vec<Effect>) {
        let Some(ask) = self.dose.take() else { return };
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        let lines = &self.care.script.medicine;
        let line = match medicine::answered(taken, ask.reminder) {
            Some(kept) => {
                let line = if kept { lines.kept.clone() } else { lines.missed.clone() };
                self.record_dose(ask.resident, ask.slot, kept, fx);
                line
            }
            None => lines.not_yet.clone(),
        };
        self.say_last(vec![line], Then::Idle, fx);
    }

    /// What the speech worker understood while the medicine question was on screen.
    pub(super) fn dose_heard(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        if u.critical || u.intent.is_critical() {
            self.dose_danger(u, fx);
            return;
        }
        // 「飲みました」 says it was done, as 「やった」 does of the exercises: the
        // classifier's done / not done are a yes / no to 「飲みましたか？」.
        match u.intent {
            Intent::Yes | Intent::Exercised => self.dose_answer(true, fx),
            Intent::No | Intent::NotExercised => self.dose_answer(false, fx),
            _ => self.dose_unclear(fx),
        }
    }

    /// Silence, or a question left unanswered: the reminder (or the missed mark)
    /// follows on its own time; nothing is recorded now.
    pub(super) fn dose_silence(&mut self, fx: &mut Vec<Effect>) {
        if self.dose.take().is_some() {
            self.go_idle(fx);
        }
    }

    fn dose_unclear(&mut self, fx: &mut Vec<Effect>) {
        let Some(ask) = self.dose.as_mut() else { return };
        if ask.unclear {
            self.dose_silence(fx);
            return;
        }
        ask.unclear = true;
        // Once more, with the buttons pointed at; never "please repeat".
        let line = self.care.script.lines.buttons_only.clone();
        self.view.checkin.caption = format!("{}{line}", self.view.checkin.caption);
        self.view.checkin.speaking = true;
        self.view.checkin.listening = false;
        self.answer_since = Some(self.now);
        self.then = Then::Listen(QuestionId::Confirm);
        fx.push(Effect::Say { lines: vec![line], slow: true });
    }

    /// A danger said to the medicine question: the check-in's help flow takes it, for
    /// this resident.
    fn dose_danger(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        let Some(ask) = self.dose.take() else { return };
        let resident = Resident {
            id: ask.resident,
            name: ask.name,
            profile: Profile::default(),
            history: vec![],
            talked: vec![],
            interests: vec![],
            stand: Default::default(),
            news: vec![],
            memory_last: None,
            memory_off: false,
            known_since: None,
            pin_sign_in: false,
        };
        self.danger_heard(resident, u, fx);
    }
}
