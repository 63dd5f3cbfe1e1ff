//! Safety campaigns: 「大丈夫ですか？」 interrupting gently, and the answer recorded.

use super::*;

impl Flow<'_> {
    pub(super) fn record_safety(&mut self, campaign: u64, needs_help: bool, fx: &mut Vec<Effect>) {
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        fx.push(Effect::Record(Record::SafetyAnswer { resident, campaign, needs_help }));
        fx.push(Effect::SyncNow);
        self.view.safety.answered = true;
        self.view.safety.listening = false;
    }

    pub(super) fn campaign_arrived(&mut self, c: Campaign, fx: &mut Vec<Effect>) {
        let busy = self.view.checkin.speaking
            || matches!(self.then, Then::GuideNext)
            || !self.calm()
            || matches!(self.screen, Screen::SignIn);
        if busy && self.screen != Screen::Idle {
            self.pending_campaign = Some(c);
            return;
        }
        self.pending_campaign = None;
        fx.push(Effect::StopListening);
        let name = self.resident.as_ref().map(|r| r.name.clone()).unwrap_or_default();
        let ctx = Context { name, now: self.now, conditions: None, responder: None };
        let (session, turn) = dialogue::Session::start(&self.care.script, Entry::SafetyCheck, &ctx);
        if self.resident.is_none() {
            fx.push(Effect::FindHousehold);
        }
        self.dialogue = Some(session);
        self.show(Screen::Safety);
        self.view.safety = SafetyView { message: c.message.clone(), ..Default::default() };
        self.campaign = Some(c);
        self.apply_turn(turn, fx);
    }

    pub(super) fn safety_answer(&mut self, safe: bool, fx: &mut Vec<Effect>) {
        if self.screen != Screen::Safety || self.view.safety.answered {
            return;
        }
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        let intent = if safe { Intent::FeelingGood } else { Intent::NeedHelp };
        self.respond(DialogueInput::Pressed(intent), fx);
        // The help flow asks to confirm; a campaign button is already the confirmation.
        if !safe && !self.view.safety.answered {
            self.respond(DialogueInput::Pressed(Intent::Yes), fx);
        }
    }

    pub(super) fn after_safety(&mut self, fx: &mut Vec<Effect>) {
        self.campaign = None;
        self.go_idle(fx);
    }
}
