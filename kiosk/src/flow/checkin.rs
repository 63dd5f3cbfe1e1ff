//! The check-in: starting it, turning care's dialogue turns into speech, captions and
//! records, and taking answers by button, voice or silence.

use super::*;

impl Flow<'_> {
    pub(super) fn start_checkin(&mut self, resident: Resident, fx: &mut Vec<Effect>) {
        let conditions =
            care::weather::Conditions::for_day(&self.care.calendar, self.now.date(), self.weather.as_ref());
        let ctx = Context {
            name: resident.name.clone(),
            now: self.now,
            conditions: Some(conditions),
            responder: None,
        };
        let (session, turn) = dialogue::Session::start(&self.care.script, Entry::Checkin, &ctx);
        self.resident = Some(resident);
        self.dialogue = Some(session);
        self.show(Screen::Checkin);
        self.apply_turn(turn, fx);
    }

    /// A danger said outside the check-in (the medicine question, small talk): the
    /// check-in's help flow takes it, with its confirmation (「火事ですか？」), for
    /// `resident`. The greeting of the new dialogue is not said: they are talking.
    pub(super) fn danger_heard(&mut self, resident: Resident, u: Understanding, fx: &mut Vec<Effect>) {
        let ctx = Context { name: resident.name.clone(), now: self.now, conditions: None, responder: None };
        let (session, _) = dialogue::Session::start(&self.care.script, Entry::Checkin, &ctx);
        self.resident = Some(resident);
        self.dialogue = Some(session);
        self.show(Screen::Checkin);
        self.respond(DialogueInput::Heard(u), fx);
    }

    /// A question outside the check-in's dialogue (the medicine question, small talk) on
    /// the question screen: says `lines`, captioned, with `buttons`, then listens.
    pub(super) fn ask_on_screen(
        &mut self,
        lines: Vec<String>,
        buttons: Vec<Button>,
        listen: QuestionId,
        fx: &mut Vec<Effect>,
    ) {
        self.buttons = buttons;
        self.view.checkin = CheckinView {
            caption: lines.join(""),
            buttons: self.buttons.iter().map(|b| b.label.clone()).collect(),
            speaking: true,
            ..Default::default()
        };
        self.step = Step::Finished;
        self.answer_since = Some(self.now);
        self.then = Then::Listen(listen);
        fx.push(Effect::Say { lines, slow: false });
    }

    /// Its last lines, with no buttons, then `then` once they are said.
    pub(super) fn say_last(&mut self, lines: Vec<String>, then: Then, fx: &mut Vec<Effect>) {
        self.buttons.clear();
        self.view.checkin.buttons.clear();
        self.view.checkin.listening = false;
        self.view.checkin.caption = lines.join("");
        self.view.checkin.speaking = true;
        self.answer_since = None;
        self.then = then;
        fx.push(Effect::Say { lines, slow: false });
    }

    /// Shows a dialogue turn: caption, buttons; says its lines; records its events.
    pub(super) fn apply_turn(&mut self, turn: dialogue::Turn, fx: &mut Vec<Effect>) {
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        let mut called = false;
        for event in turn.events {
            let urgent = matches!(event, CareEvent::HelpAlert { .. } | CareEvent::SnowWatchAlert { .. });
            if let CareEvent::SnowWatchRequested { at } = event {
                self.watch = Some(SnowWatch::start(at, None));
            }
            if let CareEvent::Checkin(r) = &event {
                self.checked_in(resident, r.outcome);
            }
            fx.push(Effect::Record(Record::Care { resident, event }));
            if urgent {
                fx.push(Effect::SyncNow);
                called = true;
            }
        }
        if called {
            self.help_raised(resident, fx);
        }
        let lines: Vec<String> = turn.say.iter().map(|l| l.text.clone()).collect();
        let slow = turn.say.iter().any(|l| l.pace == dialogue::Pace::Slow);
        self.answer_since = (turn.step != Step::Finished).then_some(self.now);
        self.step = turn.step;
        self.buttons = turn.buttons;
        // What the dialogue has recorded so far decides the help colouring and what
        // follows its end.
        let (outcome, will_exercise) = self
            .dialogue
            .as_ref()
            .map_or((None, None), |d| (Some(d.record().outcome), d.record().will_exercise()));
        let help = outcome == Some(care::record::Outcome::HelpRequested);
        let help_flow = matches!(turn.step, Step::HelpConfirm) || help;
        let target = if self.screen == Screen::Safety {
            &mut self.view.safety.caption
        } else {
            &mut self.view.checkin.caption
        };
        *target = lines.join("");
        self.view.checkin.buttons = self.buttons.iter().map(|b| b.label.clone()).collect();
        self.view.checkin.help_flow = help_flow
            && self.buttons.first().is_some_and(|b| b.intent.is_critical() || b.intent == Intent::Yes);
        self.view.checkin.listening = false;
        self.view.safety.listening = false;
        self.then =
            match turn.step {
                Step::Question(q) | Step::Confirm(q) if !turn.buttons_only => {
                    if self.screen == Screen::Safety { Then::SafetyListen } else { Then::Listen(q) }
                }
                Step::HelpConfirm if !turn.buttons_only => Then::Listen(QuestionId::Confirm),
                Step::SnowWatchOffer if !turn.buttons_only => Then::Listen(QuestionId::Confirm),
                Step::Finished => {
                    // After a safety check, a snow watch or a call for help there is no plan
                    // today; nor when the resident said 「今日はやめておく」 or nobody
                    // answered (the tablet asks again later): the closing line, then idle.
                    let declined = will_exercise == Some(false);
                    let unanswered = outcome == Some(care::record::Outcome::NoAnswer);
                    if self.screen == Screen::Safety || self.watch.is_some() || help {
                        Then::Nothing
                    } else if declined || unanswered {
                        Then::Idle
                    } else {
                        Then::ShowPlan
                    }
                }
                _ => Then::Nothing,
            };
        // A completed check-in that leads to the plan or to idle reads the town's news
        // and offers small talk first.
        if turn.step == Step::Finished
            && matches!(self.then, Then::ShowPlan | Then::Idle)
            && outcome == Some(care::record::Outcome::Completed)
        {
            let after = self.then;
            if !self.plan_memory(after) && !self.plan_news(after) {
                self.plan_talk_offer(after);
            }
        }
        if self.then == Then::Nothing
            && turn.step == Step::Finished
            && self.watch.is_some()
            && self.screen == Screen::Checkin
        {
            self.show_snow_watch();
        }
        if called {
            // The help screen follows the call; it captions what is said now.
            self.show_help(fx, false);
            self.view.help.caption = lines.join("");
        }
        if lines.is_empty() {
            self.speech_done(fx);
        } else {
            self.view.checkin.speaking = true;
            fx.push(Effect::Say { lines, slow });
        }
    }

    pub(super) fn speech_done(&mut self, fx: &mut Vec<Effect>) {
        self.view.checkin.speaking = false;
        match std::mem::replace(&mut self.then, Then::Nothing) {
            Then::Nothing => {}
            Then::Listen(q) => {
                self.view.checkin.listening = self.view.hearing;
                if !self.expect.is_empty() {
                    fx.push(Effect::Expect(self.expect.clone()));
                }
                fx.push(Effect::Listen(q));
            }
            Then::SafetyListen => {
                self.view.safety.listening = self.view.hearing;
                fx.push(Effect::Listen(QuestionId::SafetyCheck));
            }
            Then::ShowPlan => self.show_plan(fx),
            Then::OfferTalk => self.offer_talk(fx),
            Then::StandGo => self.stand_go(),
            Then::ReadNews => self.read_news(fx),
            Then::NewsRead => self.news_read(fx),
            Then::AskMemory => self.ask_memory(fx),
            Then::SayWords => self.say_words(fx),
            Then::Score => self.show_score(fx),
            Then::Idle => self.go_idle(fx),
            Then::GuideNext => self.guide_next(fx),
        }
        if self.then == Then::Nothing && self.pending_campaign.is_some() && self.calm() {
            let c = self.pending_campaign.take().expect("checked");
            self.campaign_arrived(c, fx);
        }
    }

    pub(super) fn answer(&mut self, i: usize, fx: &mut Vec<Effect>) {
        if self.remembering() {
            self.memory_button(i, fx);
            return;
        }
        if self.standing() {
            if let Some(b) = self.buttons.get(i) {
                let intent = b.intent;
                self.stand_button(intent, fx);
            }
            return;
        }
        if self.dose.is_some() {
            if let Some(b) = self.buttons.get(i) {
                let taken = b.intent == Intent::Yes;
                self.dose_answer(taken, fx);
            }
            return;
        }
        if self.talking() {
            if let Some(b) = self.buttons.get(i) {
                let intent = b.intent;
                self.talk_button(intent, fx);
            }
            return;
        }
        if self.reading_news() {
            if let Some(b) = self.buttons.get(i) {
                let intent = b.intent;
                self.news_button(intent, fx);
            }
            return;
        }
        if self.screen != Screen::Checkin && self.screen != Screen::Safety {
            return;
        }
        let Some(button) = self.buttons.get(i).cloned() else { return };
        if self.screen == Screen::Checkin && self.watch.is_some() && self.dialogue.is_none() {
            return;
        }
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        self.respond(DialogueInput::Pressed(button.intent), fx);
    }

    pub(super) fn heard(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        if self.remembering() {
            self.memory_heard(u, fx);
            return;
        }
        if self.standing() {
            self.stand_heard(u, fx);
            return;
        }
        if self.dose.is_some() {
            self.dose_heard(u, fx);
            return;
        }
        if self.talking() {
            self.talk_heard(u, fx);
            return;
        }
        if self.reading_news() {
            self.news_heard(u, fx);
            return;
        }
        match self.screen {
            Screen::Checkin | Screen::Safety if self.dialogue.is_some() => {
                self.view.checkin.understood = understood_text(&self.care.script, &u);
                self.respond(DialogueInput::Heard(u), fx);
            }
            Screen::Snow => self.snow_answer(u, fx),
            _ => {}
        }
    }

    /// Once a second: a question left unanswered for [`ASK_AGAIN_UNANSWERED`] (while
    /// nothing is being said) is a silence.
    pub(super) fn unanswered_tick(&mut self, fx: &mut Vec<Effect>) {
        if self.dose.is_some()
            || self.talking()
            || self.standing()
            || self.reading_news()
            || self.remembering()
        {
            if !self.view.checkin.speaking
                && self.answer_since.is_some_and(|since| self.now - since >= ASK_AGAIN_UNANSWERED)
            {
                fx.push(Effect::StopListening);
                self.answer_since = None;
                if self.remembering() {
                    self.memory_silence(fx)
                } else if self.standing() {
                    self.stand_unanswered(fx)
                } else if self.dose.is_some() {
                    self.dose_silence(fx)
                } else if self.reading_news() {
                    self.news_silence(fx)
                } else {
                    self.talk_silence(fx)
                }
            }
            return;
        }
        let waiting = matches!(self.screen, Screen::Checkin | Screen::Safety)
            && !self.view.checkin.speaking
            && self.dialogue.as_ref().is_some_and(|d| !d.is_finished());
        if waiting && self.answer_since.is_some_and(|since| self.now - since >= ASK_AGAIN_UNANSWERED) {
            fx.push(Effect::StopListening);
            self.silence(fx);
        }
    }

    pub(super) fn silence(&mut self, fx: &mut Vec<Effect>) {
        if self.remembering() {
            self.memory_silence(fx);
            return;
        }
        if self.standing() {
            self.stand_silence(fx);
            return;
        }
        if self.dose.is_some() {
            self.dose_silence(fx);
            return;
        }
        if self.talking() {
            self.talk_silence(fx);
            return;
        }
        if self.reading_news() {
            self.news_silence(fx);
            return;
        }
        match self.screen {
            Screen::Checkin | Screen::Safety if self.dialogue.is_some() => {
                self.respond(DialogueInput::Silence, fx)
            }
            _ => {}
        }
    }

    pub(super) fn respond(&mut self, input: DialogueInput, fx: &mut Vec<Effect>) {
        let Some(session) = self.dialogue.as_mut() else { return };
        if session.is_finished() {
            return;
        }
        let answers_before = session.record().answers.len();
        let turn = session.respond(self.now, input);
        let new_answers = session.record().answers.get(answers_before..).unwrap_or_default().to_vec();
        if let (DialogueInput::Heard(u), Step::Confirm(q)) = (input, turn.step) {
            self.doubt = Some((q, u));
        }
        if let Some((q, heard)) = self.doubt
            && let Some(answer) = new_answers.iter().find(|a| a.question == q)
        {
            let understood = self.care.script.question(q).resolve(heard.intent);
            if answer.intent != understood {
                let resident = self.resident.as_ref().map_or(0, |r| r.id);
                fx.push(Effect::Record(Record::Misunderstanding {
                    resident,
                    question: q,
                    understood,
                    confidence: heard.confidence,
                    chosen: matches!(input, DialogueInput::Pressed(_)).then_some(answer.intent),
                }));
            }
            self.doubt = None;
        }
        let finished = session.is_finished();
        let record = session.record().clone();
        let safety = self.screen == Screen::Safety;
        self.apply_turn(turn, fx);
        if finished
            && safety
            && let Some(c) = self.campaign.clone()
        {
            // Only what the resident said counts: a safety check that ended in silence
            // is no answer (the office lists them to phone), never 「無事」.
            match care::watch::safety_status(Some(&record)) {
                care::watch::SafetyStatus::Safe => self.record_safety(c.id, false, fx),
                care::watch::SafetyStatus::NeedsHelp => self.record_safety(c.id, true, fx),
                care::watch::SafetyStatus::NoAnswer => {}
            }
        }
    }
}

/// What the screen says it understood (「ひざが痛い」), from the script's meanings.
pub(super) fn understood_text(script: &Script, u: &Understanding) -> String {
    let key =
        if u.intent == Intent::Pain && u.body_part.is_none() { "pain_unknown_part" } else { u.intent.key() };
    let text = script.meanings.get(key).cloned().unwrap_or_default();
    match u.body_part {
        Some(part) => text.replace("{part}", part.label()),
        None => text,
    }
}
