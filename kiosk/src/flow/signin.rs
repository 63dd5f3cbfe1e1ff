//! Sign-in and card linking: the card, the household's name buttons and typed PINs
//! (a card link's, and a PIN sign-in's for a resident whose staff chose it).

use super::*;

/// How long the who-is-there screen waits for a name before going back to idle.
const WHO_WAITS: chrono::Duration = chrono::Duration::minutes(3);

impl Flow<'_> {
    pub(super) fn start_linking(&mut self, fx: &mut Vec<Effect>) {
        self.linking = true;
        self.pin.clear_digits();
        self.show(Screen::SignIn);
        self.view.signin = SignInView {
            message: "カードをかざして、暗証番号（4けた）を押してください".into(),
            detail: String::new(),
            keypad: true,
            pin_length: 0,
            tries: self.pin.tries_text(),
            names: vec![],
        };
        fx.push(say(&["カードをかざして、暗証番号を押してください。"]));
    }

    pub(super) fn not_registered(&mut self, fx: &mut Vec<Effect>) {
        self.show(Screen::SignIn);
        self.view.signin = SignInView {
            message: "この端末には、まだ登録されていません。".into(),
            detail: "職員がお手伝いします。".into(),
            ..Default::default()
        };
        fx.push(say(&["この端末には、まだ登録されていません。職員がお手伝いします。"]));
    }

    /// A touch start for a resident whose sign-in takes the card's PIN: the card first.
    pub(super) fn ask_for_card(&mut self, resident: &Resident, fx: &mut Vec<Effect>) {
        self.show(Screen::SignIn);
        let line = format!("{}さん、カードをかざしてください。", resident.name);
        self.view.signin = SignInView {
            message: line.clone(),
            detail: "カードのあとで、暗証番号を押します。".into(),
            ..Default::default()
        };
        fx.push(say(&[line.as_str()]));
    }

    /// The card of a resident with a PIN sign-in was read: the keypad, never rushed.
    pub(super) fn ask_card_pin(&mut self, resident: Resident, card: String, fx: &mut Vec<Effect>) {
        self.pin.clear_digits();
        self.show(Screen::SignIn);
        let line = format!("{}さん、カードの暗証番号（4けた）を押してください。", resident.name);
        self.view.signin = SignInView {
            message: line.clone(),
            detail: "わからないときは「やめる」を押して、職員にご相談ください。".into(),
            keypad: true,
            pin_length: 0,
            tries: self.pin.tries_text(),
            names: vec![],
        };
        fx.push(say(&[line.as_str()]));
        self.verifying = Some((resident, card));
    }

    pub(super) fn signin(&mut self, input: SignInInput, fx: &mut Vec<Effect>) {
        let keypad = self.linking || self.verifying.is_some();
        match input {
            SignInInput::Cancel if self.linking => {
                self.linking = false;
                self.pin = PinPad::default();
                self.show(Screen::Staff);
            }
            SignInInput::Cancel => {
                self.verifying = None;
                self.go_idle(fx);
            }
            SignInInput::Digit(d) if keypad => {
                self.pin.digit(d);
                self.view.signin.pin_length = self.pin.len();
            }
            SignInInput::Erase if keypad => {
                self.pin.erase();
                self.view.signin.pin_length = self.pin.len();
            }
            SignInInput::Submit if keypad => {
                if self.pin.must_not_send() {
                    self.view.signin.detail = self.pin.tries_text();
                } else if let Some(digits) = self.pin.take() {
                    self.view.signin.pin_length = 0;
                    self.view.signin.detail = "カードを確認しています".into();
                    fx.push(Effect::StrongSignIn { digits });
                } else {
                    self.view.signin.detail = "暗証番号は4けたです".into();
                }
            }
            SignInInput::Staff => {
                fx.extend(self.handle(Input::Staff(StaffInput::Enter)));
            }
            SignInInput::Chose(i) => {
                if let Some(&(id, _)) = self.who.get(i).filter(|_| self.screen == Screen::SignIn && !keypad) {
                    self.who.clear();
                    self.who_since = None;
                    self.view.signin.names.clear();
                    self.view.signin.message = "カードを確認しています".into();
                    fx.push(Effect::SignInResident(id));
                }
            }
            SignInInput::Digit(_) | SignInInput::Erase | SignInInput::Submit => {}
        }
    }

    /// A household of two or more: one big name button each (or the card); the tablet
    /// never guesses, so no check-in is recorded against the wrong person.
    pub(super) fn ask_who_is_there(&mut self, names: Vec<(i64, String)>, fx: &mut Vec<Effect>) {
        self.starting = false;
        if !matches!(self.screen, Screen::Idle | Screen::SignIn) || self.linking || self.verifying.is_some() {
            return;
        }
        let line = "どなたですか。お名前を押してください。カードをかざしても始められます。";
        self.view.signin = SignInView {
            message: line.into(),
            names: names.iter().map(|(_, n)| format!("{n}さん")).collect(),
            ..Default::default()
        };
        self.who = names;
        self.who_since = Some(self.now);
        self.show(Screen::SignIn);
        fx.push(say(&[line]));
    }

    /// Once a second: nobody chose a name for a while (the tablet asked by itself at
    /// the window, and nobody is there): back to the idle screen.
    pub(super) fn who_tick(&mut self, fx: &mut Vec<Effect>) {
        if let Some(since) = self.who_since
            && self.now - since >= WHO_WAITS
        {
            self.who.clear();
            self.who_since = None;
            self.view.signin.names.clear();
            if self.screen == Screen::SignIn && !self.linking && self.verifying.is_none() {
                self.go_idle(fx);
            }
        }
    }

    /// The card's verdict on a PIN sign-in: the check-in on the right PIN from the
    /// same card; otherwise plain words, and never a try the resident did not type.
    fn pin_sign_in_result(&mut self, v: PinVerdict, fx: &mut Vec<Effect>) {
        let Some((resident, card)) = self.verifying.take() else { return };
        self.pin.clear_digits();
        self.view.signin.pin_length = 0;
        let (message, detail) = match v {
            PinVerdict::Ok { identity_hex } if identity_hex == card => {
                return self.start_checkin(resident, fx);
            }
            PinVerdict::Ok { .. } => {
                ("ちがうカードになりました。".to_owned(), "はじめから、カードをかざしてください。".to_owned())
            }
            PinVerdict::Wrong { tries_left } if tries_left > 1 => {
                self.pin.tries_left = Some(tries_left);
                self.view.signin.tries = self.pin.tries_text();
                self.view.signin.detail =
                    format!("暗証番号がちがいます（あと{tries_left}回）。ゆっくり押してください。");
                self.verifying = Some((resident, card));
                return;
            }
            PinVerdict::Wrong { tries_left } | PinVerdict::StaffHelpNeeded { tries_left } => {
                self.pin.tries_left = Some(tries_left);
                (
                    "暗証番号は、職員と一緒に確かめましょう。".to_owned(),
                    "あと1回まちがえるとカードが使えなくなるため、ここでは押しません。".to_owned(),
                )
            }
            PinVerdict::Blocked => (
                "カードの暗証番号がロックされています。".to_owned(),
                "役場の窓口で手続きが必要です。職員にご相談ください。".to_owned(),
            ),
            PinVerdict::Failed(why) => (why, "もう一度カードをかざしてください。".to_owned()),
        };
        self.view.signin = SignInView {
            message: message.clone(),
            detail,
            keypad: false,
            pin_length: 0,
            tries: String::new(),
            names: vec![],
        };
        fx.push(say(&[message.as_str()]));
    }

    pub(super) fn pin_result(&mut self, v: PinVerdict, fx: &mut Vec<Effect>) {
        if self.verifying.is_some() {
            return self.pin_sign_in_result(v, fx);
        }
        if !self.linking {
            return;
        }
        match &v {
            PinVerdict::Wrong { tries_left } | PinVerdict::StaffHelpNeeded { tries_left } => {
                self.pin.tries_left = Some(*tries_left);
                self.view.signin.tries = self.pin.tries_text();
                self.view.signin.detail = format!("暗証番号がちがいます（あと{tries_left}回）");
                if *tries_left > 1 {
                    return;
                }
            }
            PinVerdict::Ok { identity_hex } => {
                let resident = self.resident.as_ref().map(|r| r.id).or(self.staff.resident());
                if let Some(resident) = resident {
                    fx.push(Effect::Record(Record::CardLink {
                        resident,
                        identity_hex: identity_hex.clone(),
                    }));
                    fx.push(Effect::SyncNow);
                }
            }
            PinVerdict::Blocked | PinVerdict::Failed(_) => {}
        }
        self.linking = false;
        self.pin.clear_digits();
        fx.extend(self.staff.pin_result(v).into_iter().map(Effect::Staff));
        self.view.staff = self.staff.view();
        self.show(Screen::Staff);
    }
}
