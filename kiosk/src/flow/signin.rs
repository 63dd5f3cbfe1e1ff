//! Sign-in and card linking: the card, the household's name buttons and typed PINs.

use super::*;

impl Flow<'_> {
    pub(super) fn start_linking(&mut self, fx: &mut Vec<Effect>) {
        self.linking = true;
        let tries = self.pin.tries_left;
        self.pin = PinPad::default();
        self.pin.tries_left = tries;
        self.show(Screen::SignIn);
        self.view.signin = SignInView {
            message: "カードをかざして、暗証番号（4けた）を押してください".into(),
            detail: String::new(),
            keypad: true,
            pin_length: 0,
            tries: self.pin.tries_text(),
        };
        fx.push(say(&["カードをかざして、暗証番号を押してください。"]));
    }

    pub(super) fn signin(&mut self, input: SignInInput, fx: &mut Vec<Effect>) {
        match input {
            SignInInput::Cancel if self.linking => {
                self.linking = false;
                self.pin = PinPad::default();
                self.show(Screen::Staff);
            }
            SignInInput::Cancel => self.go_idle(fx),
            SignInInput::Digit(d) if self.linking => {
                self.pin.digit(d);
                self.view.signin.pin_length = self.pin.len();
            }
            SignInInput::Erase if self.linking => {
                self.pin.erase();
                self.view.signin.pin_length = self.pin.len();
            }
            SignInInput::Submit if self.linking => {
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
            SignInInput::Digit(_) | SignInInput::Erase | SignInInput::Submit => {}
        }
    }

    pub(super) fn pin_result(&mut self, v: PinVerdict, fx: &mut Vec<Effect>) {
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
        // Forget the digits, never what the card said about its tries: a pad opened
        // again must still refuse the last one.
        let tries = self.pin.tries_left;
        self.pin = PinPad::default();
        self.pin.tries_left = tries;
        fx.extend(self.staff.pin_result(v).into_iter().map(Effect::Staff));
        self.view.staff = self.staff.view();
        self.show(Screen::Staff);
    }
}
