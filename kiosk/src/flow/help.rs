//! Help from every screen, and honest: the help screen says where the call is (being
//! sent, not sent yet, at the office, taken on by whom) and never that the office was
//! told before the office stored it; while it cannot be sent, it shows the resident's
//! contacts and 119.

use super::*;

/// Where the resident's call for help is, as the help screen says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpState {
    /// Recorded on the tablet; being sent now.
    Sending,
    /// Not at the office yet (it cannot be reached, or did not answer in time); the
    /// tablet keeps sending.
    Unsent,
    /// The office refused it for good: it will not arrive.
    Refused,
    /// The office stored it.
    Delivered,
    /// Someone at the office took it on (「民生委員」).
    TakenOn(String),
    /// Nobody is registered on this tablet: there is nobody to send it for.
    Unregistered,
}

impl HelpState {
    fn rank(&self) -> u8 {
        match self {
            HelpState::Sending => 0,
            HelpState::Unsent => 1,
            HelpState::Refused | HelpState::Delivered => 2,
            HelpState::TakenOn(_) | HelpState::Unregistered => 3,
        }
    }
}

/// What the app knows about the newest call for help (from the store, after each
/// sync round and at start).
#[derive(Debug, Clone, PartialEq)]
pub struct HelpNews {
    pub resident: i64,
    pub raised_at: NaiveDateTime,
    /// The office stored it.
    pub delivered: bool,
    /// The office refused it for good.
    pub refused: bool,
    /// Who took it on, once someone has.
    pub handler: Option<String>,
    /// The sync worker's last round could not reach the office.
    pub offline: bool,
    /// 「長男　山田一郎　090-1234-5678」, in the office's order.
    pub contacts: Vec<String>,
}

/// The call the help screen follows.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct HelpCall {
    resident: i64,
    raised_at: NaiveDateTime,
    state: HelpState,
    /// When `state` last changed: a call still being sent after [`SEND_PATIENCE`]
    /// is told as not sent yet.
    since: NaiveDateTime,
    contacts: Vec<String>,
}

/// How long "being sent" may last before the screen says it has not arrived yet: the
/// sync worker's request deadline (20 s) and a little more.
const SEND_PATIENCE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// A call older than this no longer holds the screen after a restart.
pub const HELP_REMEMBERED: chrono::TimeDelta = chrono::TimeDelta::hours(24);

impl Flow<'_> {
    /// The 「助けを呼ぶ」 button, on every resident screen.
    pub(super) fn call_for_help(&mut self, fx: &mut Vec<Effect>) {
        match self.screen {
            Screen::Staff | Screen::Help => {}
            Screen::Snow if self.watch.is_some() => {
                self.snow_answer(Understanding::sure(Intent::NeedHelp), fx)
            }
            Screen::Checkin | Screen::Safety if self.dialogue.as_ref().is_some_and(|d| !d.is_finished()) => {
                // Through the dialogue, so the check-in is recorded as ended by the
                // call; the button is its own confirmation.
                fx.push(Effect::StopListening);
                fx.push(Effect::StopSpeaking);
                let mark = fx.len();
                self.respond(DialogueInput::Pressed(Intent::NeedHelp), fx);
                if self.step == Step::HelpConfirm {
                    // The confirm question is never said: the button already answered it.
                    let asked = fx.split_off(mark);
                    fx.extend(asked.into_iter().filter(|e| !matches!(e, Effect::Say { .. })));
                    self.respond(DialogueInput::Pressed(Intent::Yes), fx);
                }
            }
            _ => match self.resident.as_ref().map(|r| r.id) {
                Some(resident) => self.raise_help_now(resident, fx),
                None => {
                    // Whose tablet this is comes from the store; the call follows.
                    self.help_wanted = true;
                    fx.push(Effect::FindHousehold);
                }
            },
        }
    }

    /// The household's resident arrived for a call made from the idle screen.
    pub(super) fn help_for_household(&mut self, found: Option<Resident>, fx: &mut Vec<Effect>) {
        self.help_wanted = false;
        match found {
            Some(resident) => {
                let id = resident.id;
                self.resident = Some(resident);
                self.raise_help_now(id, fx);
            }
            None => {
                self.help = Some(HelpCall {
                    resident: 0,
                    raised_at: self.now,
                    state: HelpState::Unregistered,
                    since: self.now,
                    contacts: vec![],
                });
                self.show_help(fx, true);
            }
        }
    }

    fn raise_help_now(&mut self, resident: i64, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopListening);
        fx.push(Effect::StopSpeaking);
        let event = CareEvent::HelpAlert {
            raised_at: self.now,
            during: None,
            intent: Intent::NeedHelp,
            confirmed: true,
            danger: None,
        };
        fx.push(Effect::Record(Record::Care { resident, event }));
        fx.push(Effect::SyncNow);
        self.help_raised(resident, fx);
        self.show_help(fx, true);
    }

    /// A call for help was recorded (by the button, the dialogue or the snow watch):
    /// the help screen follows it from here.
    pub(super) fn help_raised(&mut self, resident: i64, fx: &mut Vec<Effect>) {
        let contacts = self.help.as_ref().map(|h| h.contacts.clone()).unwrap_or_default();
        self.help = Some(HelpCall {
            resident,
            raised_at: self.now,
            state: HelpState::Sending,
            since: self.now,
            contacts,
        });
        self.guide = None;
        self.plan = None;
        fx.push(Effect::ReadHelp);
    }

    /// Shows the help screen; `speak` says its line (not when the dialogue just said
    /// its own).
    pub(super) fn show_help(&mut self, fx: &mut Vec<Effect>, speak: bool) {
        self.show(Screen::Help);
        self.then = Then::Nothing;
        self.view.checkin.listening = false;
        let line = self.help_line();
        self.render_help(line.clone());
        if speak {
            fx.push(Effect::Say { lines: vec![line], slow: false });
        }
    }

    /// What the app learnt about the newest call.
    pub(super) fn help_news(&mut self, news: Option<HelpNews>, fx: &mut Vec<Effect>) {
        let Some(news) = news else { return };
        let state = if let Some(h) = &news.handler {
            HelpState::TakenOn(h.clone())
        } else if news.delivered {
            HelpState::Delivered
        } else if news.refused {
            HelpState::Refused
        } else if news.offline {
            HelpState::Unsent
        } else {
            HelpState::Sending
        };
        match self.help.as_mut() {
            // The store keeps whole seconds; the call's own time has the clock's fraction.
            Some(call)
                if call.resident == news.resident
                    && news.raised_at >= chrono::SubsecRound::trunc_subsecs(call.raised_at, 0) =>
            {
                call.contacts = news.contacts;
                call.raised_at = news.raised_at;
                // A call only moves forward: once told "not sent yet" the screen waits
                // for it to arrive rather than flicker back to "sending" between tries,
                // and a call taken on stays taken on.
                if state.rank() > call.state.rank() {
                    call.state = state;
                    call.since = self.now;
                    if self.screen == Screen::Help {
                        self.show_help(fx, true);
                    }
                } else if self.screen == Screen::Help {
                    // New contacts only: the caption stays what was said.
                    let said = self.view.help.caption.clone();
                    self.render_help(said);
                }
            }
            Some(_) => {}
            None => {
                // After a restart: a call not yet taken on holds the screen again.
                let open = !matches!(state, HelpState::TakenOn(_))
                    && self.now - news.raised_at < HELP_REMEMBERED
                    && self.screen == Screen::Idle;
                if open {
                    self.help = Some(HelpCall {
                        resident: news.resident,
                        raised_at: news.raised_at,
                        state,
                        since: self.now,
                        contacts: news.contacts,
                    });
                    self.show_help(fx, true);
                }
            }
        }
    }

    /// Once a second: a call that has been "sending" too long is told as not sent yet.
    pub(super) fn help_tick(&mut self, fx: &mut Vec<Effect>) {
        let Some(call) = self.help.as_mut() else { return };
        if call.state == HelpState::Sending && self.now - call.since >= SEND_PATIENCE {
            call.state = HelpState::Unsent;
            call.since = self.now;
            if self.screen == Screen::Help {
                self.show_help(fx, true);
            }
        }
    }

    /// 「とじる」: only once someone took the call on, or nothing could be sent.
    pub(super) fn close_help(&mut self, fx: &mut Vec<Effect>) {
        if self.screen == Screen::Help && self.view.help.can_close {
            fx.push(Effect::StopSpeaking);
            self.help = None;
            self.campaign = None;
            self.go_idle(fx);
        }
    }

    fn help_line(&self) -> String {
        let p = &self.care.script.help.progress;
        let responder = &self.care.script.help.default_responder;
        let Some(call) = &self.help else { return String::new() };
        match &call.state {
            HelpState::Sending => p.sending.replace("{responder}", responder),
            HelpState::Unsent => p.unsent.clone(),
            HelpState::Refused => p.refused.clone(),
            HelpState::Delivered => p.delivered.replace("{responder}", responder),
            HelpState::TakenOn(h) => p.taken_on.replace("{handler}", h),
            HelpState::Unregistered => p.unregistered.clone(),
        }
    }

    fn render_help(&mut self, line: String) {
        let Some(call) = &self.help else { return };
        // Contacts and 119 whenever the office does not have the call.
        let not_there =
            matches!(call.state, HelpState::Unsent | HelpState::Refused | HelpState::Unregistered);
        self.view.help = HelpView {
            phase: match call.state {
                HelpState::Sending => "sending",
                HelpState::Unsent => "unsent",
                HelpState::Refused => "refused",
                HelpState::Delivered => "delivered",
                HelpState::TakenOn(_) => "taken-on",
                HelpState::Unregistered => "unregistered",
            },
            caption: line,
            contacts: if not_there { call.contacts.clone() } else { vec![] },
            show_119: not_there,
            can_close: matches!(
                call.state,
                HelpState::TakenOn(_) | HelpState::Refused | HelpState::Unregistered
            ),
        };
    }
}
