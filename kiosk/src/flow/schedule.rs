//! The tablet starts the talk: at each resident's check-in window it greets them by
//! name and asks the first question aloud; unanswered, it tries again after a while,
//! then leaves the office's escalation to run. The office's re-prompt makes it ask
//! again outside the window; a pause (a hospital stay, a trip) silences it. In a
//! household of two or more it asks who is there first (one name button each).

use super::*;

/// One resident's check-in schedule, as the store knows it (the app reads it every
/// minute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub resident: i64,
    /// The office's window, local; an end before the start crosses midnight. `None`
    /// until the office's settings arrive: never asked by the tablet meanwhile.
    pub window: Option<(chrono::NaiveTime, chrono::NaiveTime)>,
    /// Inside a pause the office set: never asked.
    pub paused: bool,
    /// Today's check-in is recorded (answered, or ended by a call for help).
    pub done_today: bool,
    /// The office has not seen today's check-in and asked the tablet to ask again.
    pub reprompt: bool,
    /// The tablet has not asked since that re-prompt arrived: it asks at once (then
    /// after its usual while).
    pub reprompt_unasked: bool,
    /// When the tablet asked by itself today, as its store kept it (a restart forgets
    /// nothing).
    pub asked: Vec<NaiveDateTime>,
}

/// How long the tablet waits before asking an unanswered resident again.
pub const ASK_AGAIN_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(20);

/// How often it asks in a day by itself (the office's re-prompt adds one more).
pub const TIMES_A_DAY: usize = 2;

impl Due {
    fn in_window(&self, t: chrono::NaiveTime) -> bool {
        let Some((start, end)) = self.window else { return false };
        if start <= end { start <= t && t < end } else { t >= start || t < end }
    }
}

impl Flow<'_> {
    /// Once a second: starts a due check-in when nothing else is on.
    pub(super) fn schedule_tick(&mut self, fx: &mut Vec<Effect>) {
        let quiet = self.screen == Screen::Idle
            && self.help.is_none()
            && !self.help_wanted
            && !self.starting
            && !self.view.checkin.speaking;
        if !quiet {
            return;
        }
        // The residents whose check-in is due now. In a household of two or more the
        // tablet then asks who is there (`Effect::WhoIsThere`): it never guesses.
        // Whole seconds, as the store keeps them: the memory's copy and the store's
        // then count as one ask.
        let now = chrono::SubsecRound::trunc_subsecs(self.now, 0);
        let asked = &self.asked;
        let due: Vec<i64> = self
            .due
            .iter()
            .filter(|d| {
                let mut today: Vec<NaiveDateTime> = asked
                    .iter()
                    .filter(|(r, at)| *r == d.resident && at.date() == now.date())
                    .map(|(_, at)| *at)
                    .chain(d.asked.iter().copied().filter(|at| at.date() == now.date()))
                    .collect();
                // The store's copy and the memory's overlap until the next read.
                today.sort();
                today.dedup();
                let last = today.iter().max();
                let rested = last.is_none_or(|last| now - *last >= ASK_AGAIN_AFTER);
                !d.paused
                    && !d.done_today
                    && ((rested && d.in_window(now.time()) && today.len() < TIMES_A_DAY)
                        || (d.reprompt && (rested || d.reprompt_unasked) && today.len() <= TIMES_A_DAY))
            })
            .map(|d| d.resident)
            .collect();
        if !due.is_empty() {
            // One ask serves everyone due now: the who-is-there screen is for them all.
            fx.push(Effect::Record(Record::Asked { residents: due.clone(), at: now }));
            self.asked.extend(due.into_iter().map(|r| (r, now)));
            self.asked.retain(|(_, at)| at.date() == now.date());
            self.starting = true;
            // Nobody touched it: wake the screen and chime before the greeting.
            fx.push(Effect::Chime);
            fx.push(Effect::WhoIsThere);
            return;
        }
        // No check-in due: a medicine time may be.
        self.medicine_tick(fx);
    }

    /// A check-in was recorded: today's is done unless nobody answered.
    pub(super) fn checked_in(&mut self, resident: i64, outcome: care::record::Outcome) {
        if outcome != care::record::Outcome::NoAnswer
            && let Some(d) = self.due.iter_mut().find(|d| d.resident == resident)
        {
            d.done_today = true;
            d.reprompt = false;
        }
    }
}
