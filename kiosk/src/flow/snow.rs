//! The snow-clearing watch: offered after the check-in, checking back, alerting.

use super::*;

impl Flow<'_> {
    pub(super) fn show_snow_watch(&mut self) {
        self.show(Screen::Snow);
        self.view.snow = SnowView {
            caption: self.care.script.snow_watch.accepted.clone(),
            status: "雪かきの見守り中です".into(),
        };
    }

    /// After a restart or a power cut: a watch that was running holds the screen again
    /// and checks back when it would have (at once if that time has passed). A screen
    /// already in use, or a call for help, comes first.
    pub(super) fn resume_watch(
        &mut self,
        resident: Resident,
        started_at: NaiveDateTime,
        armed_at: NaiveDateTime,
    ) {
        if self.screen != Screen::Idle || self.watch.is_some() || self.help.is_some() {
            return;
        }
        self.resident = Some(resident);
        self.watch = Some(SnowWatch::resume(started_at, armed_at, None));
        self.show_snow_watch();
    }

    pub(super) fn snow_answer(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        let Some(watch) = self.watch.as_mut() else { return };
        let step = watch.answer(self.now, u);
        self.apply_watch(step, fx);
    }

    pub(super) fn apply_watch(&mut self, step: care::watch::WatchStep, fx: &mut Vec<Effect>) {
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        let mut called = false;
        if let Some(event) = step.event {
            called = matches!(event, CareEvent::SnowWatchAlert { .. });
            fx.push(Effect::Record(Record::Care { resident, event }));
            if called {
                fx.push(Effect::SyncNow);
                self.help_raised(resident, fx);
            }
        }
        if let Some(line) = step.say {
            let text = self
                .care
                .script
                .snow_watch
                .line(line)
                .replace("{responder}", &self.care.script.help.default_responder);
            self.view.snow.caption = text.clone();
            if called {
                // The help screen follows the call; it captions what is said now.
                self.show_help(fx, false);
                self.view.help.caption = text.clone();
            }
            fx.push(Effect::Say { lines: vec![text], slow: false });
            match line {
                WatchLine::CheckBack | WatchLine::CheckBackAgain => {
                    fx.push(Effect::Listen(QuestionId::Confirm))
                }
                WatchLine::Ended => {
                    self.watch = None;
                    self.then = Then::Idle;
                }
                WatchLine::Alerted | WatchLine::HelpSent => {
                    self.watch = None;
                }
                WatchLine::Rearmed => {}
            }
        }
    }
}
