//! The monthly chair-stand test (CS-30), offered before the plan when care says it is
//! due: the offer and the chair check on the question screen, the 30 seconds on the
//! exercise screen (timed by the controller's clock, 「やめる」 always there), then the
//! count on the question screen, said (「十二回」) or set with ひとつへらす／ひとつふやす and
//! kept with これでよい. Only the count and the day are recorded.

use super::*;

/// Where the test is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Stand {
    /// 「足の力しらべを、しませんか？」 on screen.
    Offer,
    /// 「ひじかけのない椅子を、壁につけて、置きましたか？」 on screen.
    Chair,
    /// The instructions are being said; the 30 seconds start when 「はじめ」 is said.
    Ready,
    /// The 30 seconds run from `started`; `marks` of them said.
    Running { started: NaiveDateTime, marks: usize },
    /// The count on screen; `heard`: it came from speech and waits for これでよい or a yes.
    Count { count: u8, heard: bool },
}

impl Flow<'_> {
    /// Before the plan: offers the test when care says it is due and it was not
    /// offered to this resident today. Returns whether it did.
    pub(super) fn offer_stand(
        &mut self,
        facts: &care::planner::TodayFacts,
        plan: &Plan,
        fx: &mut Vec<Effect>,
    ) -> bool {
        let Some(resident) = self.resident.as_ref() else { return false };
        let today = self.now.date();
        if self.stand_offered.contains(&(resident.id, today)) {
            return false;
        }
        if !care::chairstand::due(today, resident.stand, facts, plan, &resident.profile, &self.care.catalogue)
        {
            return false;
        }
        self.stand_offered.push((resident.id, today));
        fx.push(Effect::Record(Record::StandOffered { resident: resident.id, day: today }));
        if let Some(r) = self.resident.as_mut() {
            r.stand.last_offer = Some(today);
        }
        self.show(Screen::Checkin);
        self.stand = Some(Stand::Offer);
        let lines = &self.care.script.chair_stand;
        self.ask_on_screen(vec![lines.offer.clone()], lines.offer_buttons.clone(), QuestionId::Confirm, fx);
        true
    }

    /// Whether the test (or its offer) is on.
    pub(super) fn standing(&self) -> bool {
        self.stand.is_some()
    }

    /// A button of the question screen while the test is on.
    pub(super) fn stand_button(&mut self, intent: Intent, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        match self.stand {
            Some(Stand::Offer | Stand::Chair) => self.stand_yes_no(intent == Intent::Yes, fx),
            Some(Stand::Count { count, .. }) => match intent {
                Intent::Thanks => self.stand_record(count, fx),
                other => {
                    let count = care::chairstand::adjust(count, if other == Intent::Yes { 1 } else { -1 });
                    self.show_count(count, false, vec![format!("{count}回")], fx);
                }
            },
            _ => {}
        }
    }

    /// What the speech worker understood while the test is on.
    pub(super) fn stand_heard(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        if u.is_critical() {
            self.stand = None;
            if let Some(resident) = self.resident.clone() {
                self.danger_heard(resident, u, fx);
            }
            return;
        }
        match self.stand {
            Some(Stand::Offer | Stand::Chair) => match u.intent {
                Intent::Yes => self.stand_yes_no(true, fx),
                Intent::No | Intent::Thanks => self.stand_yes_no(false, fx),
                // Anything else: the question stays, answerable by touch.
                _ => fx.push(Effect::Listen(QuestionId::Confirm)),
            },
            Some(Stand::Count { count, heard }) => match (u.count, u.intent) {
                (Some(n), _) => {
                    let n = n.min(care::chairstand::MAX_COUNT);
                    let line =
                        care::chairstand::ChairStandLines::fill(&self.care.script.chair_stand.heard, n);
                    self.show_count(n, true, vec![line], fx);
                }
                (None, Intent::Yes) if heard => self.stand_record(count, fx),
                _ => self.show_count(count, heard, vec![self.care.script.chair_stand.ask_count.clone()], fx),
            },
            _ => {}
        }
    }

    /// The speech worker heard nothing: at the offer or the chair check, not today; at
    /// the count the buttons stay (she may still be catching her breath).
    pub(super) fn stand_silence(&mut self, fx: &mut Vec<Effect>) {
        if matches!(self.stand, Some(Stand::Offer | Stand::Chair)) {
            self.stand_yes_no(false, fx);
        }
    }

    /// Nothing for [`ASK_AGAIN_UNANSWERED`]: as silence at the offer and the chair
    /// check; at the count nothing is recorded (a count is only what she gave) and the
    /// day goes on to the plan, so the tablet is not left on the question.
    pub(super) fn stand_unanswered(&mut self, fx: &mut Vec<Effect>) {
        match self.stand {
            Some(Stand::Offer | Stand::Chair) => self.stand_yes_no(false, fx),
            Some(Stand::Count { .. }) => {
                self.stand = None;
                self.say_last(vec![self.care.script.chair_stand.no_count.clone()], Then::ShowPlan, fx);
            }
            _ => {}
        }
    }

    fn stand_yes_no(&mut self, yes: bool, fx: &mut Vec<Effect>) {
        let lines = &self.care.script.chair_stand;
        match (self.stand.take(), yes) {
            (Some(Stand::Offer), true) => {
                self.stand = Some(Stand::Chair);
                self.ask_on_screen(
                    vec![lines.chair.clone()],
                    lines.chair_buttons.clone(),
                    QuestionId::Confirm,
                    fx,
                );
            }
            (Some(Stand::Chair), true) => {
                self.stand = Some(Stand::Ready);
                self.buttons.clear();
                self.answer_since = None;
                self.show(Screen::Exercise);
                let mut said = lines.how.clone();
                said.push(lines.start.clone());
                self.view.exercise = ExerciseView {
                    phase: "stand",
                    step_title: "足の力しらべ".into(),
                    caption: said.join(""),
                    count: "30秒".into(),
                    posture: "standing",
                    ..Default::default()
                };
                self.then = Then::StandGo;
                fx.push(Effect::Say { lines: said, slow: false });
            }
            (Some(Stand::Offer), false) => self.say_last(vec![lines.declined.clone()], Then::ShowPlan, fx),
            (Some(Stand::Chair), false) => self.say_last(vec![lines.no_chair.clone()], Then::ShowPlan, fx),
            (other, _) => self.stand = other,
        }
    }

    /// 「はじめ」 was said: the 30 seconds run from now.
    pub(super) fn stand_go(&mut self) {
        if self.stand == Some(Stand::Ready) {
            self.stand = Some(Stand::Running { started: self.now, marks: 0 });
        }
    }

    /// Once a second: the time left on screen, and a mark said when one is due.
    pub(super) fn stand_tick(&mut self, fx: &mut Vec<Effect>) {
        let Some(Stand::Running { started, marks }) = self.stand else { return };
        let elapsed = self.now - started;
        let left = (care::chairstand::DURATION - elapsed).num_seconds().max(0);
        self.view.exercise.count = format!("{left}秒");
        let lines = &self.care.script.chair_stand;
        match care::chairstand::mark(elapsed, marks) {
            Some(care::chairstand::Mark::Left(s)) => {
                self.stand = Some(Stand::Running { started, marks: marks + 1 });
                let line = care::chairstand::ChairStandLines::fill(&lines.left, s);
                self.view.exercise.caption = line.clone();
                fx.push(Effect::Say { lines: vec![line], slow: false });
            }
            Some(care::chairstand::Mark::End) => {
                let days = self.resident.as_ref().map(|r| r.stand).unwrap_or_default();
                let count = care::chairstand::starting_count(days);
                let said = vec![lines.end.clone(), lines.ask_count.clone()];
                self.show(Screen::Checkin);
                self.show_count(count, false, said, fx);
            }
            None => {}
        }
    }

    /// 「やめる」 on the exercise screen during the test: nothing recorded.
    pub(super) fn stand_stop(&mut self, fx: &mut Vec<Effect>) {
        self.stand = None;
        fx.push(Effect::StopSpeaking);
        self.show(Screen::Checkin);
        self.say_last(vec![self.care.script.chair_stand.stopped.clone()], Then::ShowPlan, fx);
    }

    fn show_count(&mut self, count: u8, heard: bool, said: Vec<String>, fx: &mut Vec<Effect>) {
        let lines = &self.care.script.chair_stand;
        self.stand = Some(Stand::Count { count, heard });
        let shown = care::chairstand::ChairStandLines::fill(&lines.shown, count);
        let spoken = said.join("");
        self.ask_on_screen(said, lines.count_buttons.clone(), QuestionId::Confirm, fx);
        self.view.checkin.caption = format!("{shown}\n{spoken}");
    }

    fn stand_record(&mut self, count: u8, fx: &mut Vec<Effect>) {
        self.stand = None;
        let day = self.now.date();
        if let Some(r) = self.resident.as_mut() {
            r.stand.last_test = Some((day, count));
            fx.push(Effect::Record(Record::ChairStand { resident: r.id, day, count }));
        }
        let line = care::chairstand::ChairStandLines::fill(&self.care.script.chair_stand.recorded, count);
        self.say_last(vec![line], Then::ShowPlan, fx);
    }
}
