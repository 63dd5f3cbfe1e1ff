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

    pub(super) fn snow_answer(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        let Some(watch) = self.watch.as_mut() else { return };
        let step = watch.answer(self.now, u);
        self.apply_watch(step, fx);
    }

    pub(super) fn apply_watch(&mut self, step: care::watch::WatchStep, fx: &mut Vec<Effect>) {
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        if let Some(event) = step.event {
            let urgent = matches!(event, CareEvent::SnowWatchAlert { .. });
            fx.push(Effect::Record(Record::Care { resident, event }));
            if urgent {
                fx.push(Effect::SyncNow);
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
                    self.view.snow.status = "職員に連絡しました".into();
                    self.watch = None;
                }
                WatchLine::Rearmed => {}
            }
        }
    }
}
