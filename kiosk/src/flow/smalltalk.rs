//! Small talk after the check-in: offered once a day (「よかったら、少し、お話ししませんか？」
//! with 話す／またね), then care's `Talk` on today's topic, on the question screen with
//! つづける／またね; then on to what the check-in would have led to (the plan, or idle).
//! Only the topic and the day are recorded (so it is not used again within two
//! weeks), and a low mood or loneliness said in it as its meaning and day (for the
//! mood trend); what the resident says is never kept.

use care::smalltalk::{Sky, Talk, TalkInput, TalkTurn};

use super::*;

/// The small talk on screen.
#[derive(Debug)]
pub(super) enum TalkState<'c> {
    /// The offer is on screen; `after` is where the check-in was going.
    Offer {
        topic: care::smalltalk::Topic,
        after: Then,
    },
    Talking {
        talk: Talk<'c>,
        after: Then,
    },
}

impl<'c> Flow<'c> {
    /// At the end of a completed check-in: the offer, when today has a topic for this
    /// resident and it was not offered today. Returns whether it will be offered.
    pub(super) fn plan_talk_offer(&mut self, after: Then) -> bool {
        let Some(resident) = self.resident.as_ref() else { return false };
        let today = self.now.date();
        if self.talk_offered.iter().any(|(r, d)| *r == resident.id && *d == today)
            || resident.talked.iter().any(|(_, d)| *d == today)
        {
            return false;
        }
        let care: &'c Care = self.care;
        let sky = Sky::of_forecast(&self.forecast);
        let Some(topic) = care.smalltalk.pick(today, sky, &resident.talked, &resident.interests) else {
            return false;
        };
        self.talk_offered.push((resident.id, today));
        self.talk = Some(TalkState::Offer { topic, after });
        self.then = Then::OfferTalk;
        true
    }

    /// The check-in's closing line was said: offer the talk.
    pub(super) fn offer_talk(&mut self, fx: &mut Vec<Effect>) {
        let talk = &self.care.smalltalk;
        self.ask_on_screen(vec![talk.offer.clone()], talk.offer_buttons.clone(), QuestionId::Confirm, fx);
    }

    /// Whether a talk (or its offer) is on screen.
    pub(super) fn talking(&self) -> bool {
        self.talk.is_some()
    }

    /// A button: at the offer 話す or またね; in the talk つづける or またね.
    pub(super) fn talk_button(&mut self, intent: Intent, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        match self.talk {
            Some(TalkState::Offer { .. }) => self.talk_offer_answer(intent == Intent::Yes, fx),
            Some(TalkState::Talking { .. }) => {
                let input = if intent == Intent::Yes { TalkInput::GoOn } else { TalkInput::End };
                self.talk_step(input, fx);
            }
            None => {}
        }
    }

    /// What the speech worker understood during the offer or the talk.
    pub(super) fn talk_heard(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        if u.critical || u.intent.is_critical() {
            self.talk = None;
            if let Some(resident) = self.resident.clone() {
                self.danger_heard(resident, u, fx);
            }
            return;
        }
        match self.talk {
            // Anything but a no or a goodbye is taken as a yes: they are talking.
            Some(TalkState::Offer { .. }) => {
                let declined = matches!(u.intent, Intent::No | Intent::Thanks | Intent::Greeting);
                self.talk_offer_answer(!declined, fx);
            }
            Some(TalkState::Talking { .. }) => {
                // A low mood or loneliness, surely heard, counts toward the trend staff
                // see: its meaning only; the words stay unsaid to anyone.
                if u.intent.is_low_mood()
                    && u.confidence >= care::understanding::CONFIRM_BELOW
                    && let Some(r) = self.resident.as_ref()
                {
                    let (resident, day, mood) = (r.id, self.now.date(), u.intent);
                    fx.push(Effect::Record(Record::MoodNoted { resident, day, mood }));
                }
                self.talk_step(TalkInput::Said(u.intent), fx)
            }
            None => {}
        }
    }

    /// Silence (or nothing for a while): at the offer, no talk today; in the talk,
    /// care's patience.
    pub(super) fn talk_silence(&mut self, fx: &mut Vec<Effect>) {
        match self.talk {
            Some(TalkState::Offer { .. }) => self.talk_offer_answer(false, fx),
            Some(TalkState::Talking { .. }) => self.talk_step(TalkInput::Silence, fx),
            None => {}
        }
    }

    fn talk_offer_answer(&mut self, yes: bool, fx: &mut Vec<Effect>) {
        let Some(TalkState::Offer { topic, after }) = self.talk.take() else { return };
        if !yes {
            self.buttons.clear();
            self.view.checkin.buttons.clear();
            self.answer_since = None;
            self.then = Then::Nothing;
            self.continue_after(after, fx);
            return;
        }
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        let day = self.now.date();
        fx.push(Effect::Record(Record::Talked { resident, topic: topic.id.clone(), day }));
        if let Some(r) = self.resident.as_mut() {
            r.talked.push((topic.id.clone(), day));
        }
        let care: &'c Care = self.care;
        let (talk, turn) = Talk::start(&care.smalltalk, topic);
        self.talk = Some(TalkState::Talking { talk, after });
        self.show_talk_turn(turn, fx);
    }

    fn talk_step(&mut self, input: TalkInput, fx: &mut Vec<Effect>) {
        let Some(TalkState::Talking { talk, .. }) = self.talk.as_mut() else { return };
        let turn = talk.respond(input);
        self.show_talk_turn(turn, fx);
    }

    fn show_talk_turn(&mut self, turn: TalkTurn, fx: &mut Vec<Effect>) {
        if turn.finished {
            let after = match self.talk.take() {
                Some(TalkState::Talking { after, .. } | TalkState::Offer { after, .. }) => after,
                None => Then::Idle,
            };
            self.say_last(turn.say, after, fx);
            return;
        }
        self.ask_on_screen(turn.say, self.care.smalltalk.turn_buttons.clone(), QuestionId::Open, fx);
    }

    /// Where the check-in was going before the talk: the plan, or idle.
    pub(super) fn continue_after(&mut self, after: Then, fx: &mut Vec<Effect>) {
        match after {
            Then::ShowPlan => self.show_plan(fx),
            _ => self.go_idle(fx),
        }
    }
}
