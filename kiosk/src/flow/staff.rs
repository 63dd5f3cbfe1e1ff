//! Staff mode's controller: the staff PIN, the menu, the tablet's enrolment code,
//! per-resident settings and the device-health page. No I/O: effects out.

use dialect_model::tts::Voice;

use crate::flow::pinpad::PinVerdict;

/// Per-resident settings staff can change on the tablet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// 0.0–1.0.
    pub volume: f32,
    /// Speech speed factor for Open JTalk: 0.45 (slowest) – 0.75; 0.55 ≈ 5 morae/s.
    pub speech_rate: f32,
    /// 1.0–1.5.
    pub text_scale: f32,
    pub voice: Voice,
}

impl Default for Settings {
    fn default() -> Self {
        Self { volume: 0.8, speech_rate: 0.55, text_scale: 1.0, voice: Voice::M001 }
    }
}

impl Settings {
    /// Moves one setting one step, within its limits.
    pub fn adjust(&mut self, which: &str, delta: i32) {
        let d = delta.signum() as f32;
        match which {
            "volume" => self.volume = round2((self.volume + 0.1 * d).clamp(0.1, 1.0)),
            "rate" => self.speech_rate = round2((self.speech_rate + 0.05 * d).clamp(0.45, 0.75)),
            "text" => self.text_scale = round2((self.text_scale + 0.1 * d).clamp(1.0, 1.5)),
            // Two voices: either button switches, and the rate starts again from the
            // new voice's own 5 morae/s.
            "voice" => {
                self.voice = if self.voice == Voice::M001 { Voice::Mei } else { Voice::M001 };
                self.speech_rate = self.voice.default_speed();
            }
            _ => {}
        }
    }
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

#[derive(Debug, Clone, PartialEq)]
pub enum StaffInput {
    Enter,
    Digit(u8),
    Erase,
    Submit,
    Open(String),
    Adjust(String, i32),
    TestMicrophone,
    TestSpeaker,
    LinkCard,
    Leave,
    /// Health lines from the workers (microphone, speaker, reader, network, storage).
    Health(Vec<String>),
    /// The result of an enrolment attempt.
    Enrolled(Result<(), String>),
    /// The settings of the resident being looked after.
    Loaded(Option<(i64, Settings)>),
    /// What a microphone or speaker test found.
    TestResult(String),
    /// The verdict on the staff PIN typed (checked off the UI thread).
    PinChecked(PinCheck),
}

/// The verdict on a typed staff PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinCheck {
    Right,
    /// Wrong; the keypad now waits this many minutes (0: try again at once).
    Wrong {
        wait_minutes: u64,
    },
    /// Too many wrong tries: not checked; the keypad opens again in this many minutes.
    Locked {
        minutes: u64,
    },
    /// No staff PIN is set on this tablet.
    NotSet,
    /// The check could not run (the local store failed): nothing was counted.
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StaffEffect {
    /// Check this staff PIN (Argon2, and the lockout in the store) off the UI thread.
    CheckPin {
        entry: String,
    },
    Enrol {
        code: String,
    },
    SaveSettings {
        resident: i64,
        settings: Settings,
    },
    LoadSettings,
    TestMicrophone,
    TestSpeaker,
    /// Say a sample sentence with the settings just saved.
    Preview,
    RefreshHealth,
}

/// The speech rate in words, against the voice's own 5 morae a second.
pub fn rate_in_words(s: &Settings) -> &'static str {
    let steps = ((s.speech_rate - s.voice.default_speed()) / 0.05).round() as i32;
    match steps {
        ..=-2 => "ゆっくり",
        -1 => "少しゆっくり",
        0 => "ふつう（1秒に5音）",
        1 => "少しはやめ",
        _ => "はやめ",
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StaffView {
    pub page: &'static str,
    pub message: String,
    pub entry: String,
    pub health: Vec<String>,
    pub volume: String,
    pub rate: String,
    pub text_size: String,
    pub voice: String,
}

/// Staff mode's state.
#[derive(Debug, Default)]
pub struct Staff {
    page: &'static str,
    entry: String,
    message: String,
    health: Vec<String>,
    settings: Option<(i64, Settings)>,
    /// A PIN is being checked: further submits wait for the verdict.
    checking: bool,
}

impl Staff {
    pub fn new() -> Self {
        Self { page: "pin", ..Default::default() }
    }

    pub fn view(&self) -> StaffView {
        let (volume, rate, text_size, voice) = match self.settings {
            Some((_, s)) => (
                format!("{}", (s.volume * 10.0).round() as i32),
                rate_in_words(&s).to_owned(),
                format!("{:.1}倍", s.text_scale),
                match s.voice {
                    Voice::M001 => "男性の声".to_owned(),
                    Voice::Mei => "女性の声".to_owned(),
                },
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let entry = match self.page {
            "pin" => "●".repeat(self.entry.chars().count()),
            _ => self.entry.clone(),
        };
        StaffView {
            page: if self.page.is_empty() { "pin" } else { self.page },
            message: self.message.clone(),
            entry,
            health: self.health.clone(),
            volume,
            rate,
            text_size,
            voice,
        }
    }

    /// Handles one input; returns effects and whether staff mode was left.
    pub fn handle(&mut self, input: StaffInput) -> (Vec<StaffEffect>, bool) {
        let mut fx = vec![];
        match input {
            StaffInput::Enter => {
                self.page = "pin";
                self.entry.clear();
                self.message = "職員の暗証番号を押してください".into();
            }
            StaffInput::Digit(d) if d <= 9 && self.entry.len() < 12 => self.entry.push(char::from(b'0' + d)),
            StaffInput::Digit(_) => {}
            StaffInput::Erase => {
                self.entry.pop();
            }
            StaffInput::Submit => match self.page {
                "pin" if self.checking => {}
                "pin" => {
                    self.checking = true;
                    self.message = "確かめています…".into();
                    fx.push(StaffEffect::CheckPin { entry: std::mem::take(&mut self.entry) });
                }
                "enrol" => {
                    let code = std::mem::take(&mut self.entry);
                    if code.len() == 10 {
                        self.message = "登録しています…".into();
                        fx.push(StaffEffect::Enrol { code });
                    } else {
                        self.message = "登録コードは10けたです".into();
                    }
                }
                _ => {}
            },
            StaffInput::Open(page) => {
                self.entry.clear();
                match page.as_str() {
                    "health" => {
                        self.page = "health";
                        fx.push(StaffEffect::RefreshHealth);
                    }
                    "settings" => {
                        self.page = "settings";
                        self.message = match self.settings {
                            Some(_) => "利用者の設定".into(),
                            None => "利用者が登録されていません".into(),
                        };
                    }
                    "enrol" => {
                        self.page = "enrol";
                        self.message = "事務所で発行した登録コード（10けた）を押してください".into();
                    }
                    _ => {
                        self.page = "menu";
                        self.message = "職員モードです".into();
                    }
                }
            }
            StaffInput::Adjust(which, delta) => {
                if let Some((resident, settings)) = self.settings.as_mut() {
                    settings.adjust(&which, delta);
                    fx.push(StaffEffect::SaveSettings { resident: *resident, settings: *settings });
                    // Staff hear what the resident will hear.
                    if matches!(which.as_str(), "rate" | "voice" | "volume") {
                        fx.push(StaffEffect::Preview);
                    }
                }
            }
            StaffInput::TestMicrophone => {
                self.message = "マイクを試しています。何か話してください".into();
                fx.push(StaffEffect::TestMicrophone);
            }
            StaffInput::TestSpeaker => fx.push(StaffEffect::TestSpeaker),
            // The controller runs the card-link flow itself (it needs the sign-in view).
            StaffInput::LinkCard => {}
            StaffInput::Leave => {
                self.page = "pin";
                self.entry.clear();
                self.message.clear();
                return (fx, true);
            }
            StaffInput::Health(lines) => self.health = lines,
            StaffInput::Enrolled(Ok(())) => {
                self.page = "menu";
                self.message = "端末を登録しました".into();
            }
            StaffInput::Enrolled(Err(why)) => self.message = format!("登録できませんでした：{why}"),
            StaffInput::Loaded(s) => self.settings = s,
            StaffInput::TestResult(text) => {
                self.message = text.clone();
                self.health.push(text);
            }
            StaffInput::PinChecked(verdict) => {
                self.checking = false;
                self.message = match verdict {
                    PinCheck::Right if self.page == "pin" => {
                        self.page = "menu";
                        fx.push(StaffEffect::RefreshHealth);
                        fx.push(StaffEffect::LoadSettings);
                        "職員モードです".into()
                    }
                    // Staff left the keypad while it was checked.
                    PinCheck::Right => return (fx, false),
                    PinCheck::Wrong { wait_minutes: 0 } => "暗証番号がちがいます".into(),
                    PinCheck::Wrong { wait_minutes } => {
                        format!(
                            "暗証番号がちがいます。まちがいが続いたため、{wait_minutes}分たってから押してください"
                        )
                    }
                    PinCheck::Locked { minutes } => {
                        format!("まちがいが続いたため、あと{minutes}分は押せません")
                    }
                    PinCheck::NotSet => {
                        "この端末には職員の暗証番号が設定されていません（kiosk set-staff-pin）".into()
                    }
                    PinCheck::Failed => "暗証番号を確かめられませんでした。もう一度押してください".into(),
                };
            }
        }
        (fx, false)
    }

    /// The resident whose settings staff are looking after, if one is known.
    pub fn resident(&self) -> Option<i64> {
        self.settings.map(|(r, _)| r)
    }

    pub fn card_failed(&mut self, why: &str) {
        self.message = why.to_string();
    }

    pub fn pin_result(&mut self, v: PinVerdict) -> Vec<StaffEffect> {
        self.message = match v {
            PinVerdict::Ok { .. } => "カードを登録しました。事務所の承認を待っています".into(),
            PinVerdict::Wrong { tries_left } => format!("暗証番号がちがいます（あと{tries_left}回）"),
            PinVerdict::StaffHelpNeeded { .. } => {
                "あと1回でロックされるため、暗証番号を送りませんでした".into()
            }
            PinVerdict::Blocked => "暗証番号がロックされています。役場で手続きが必要です".into(),
            PinVerdict::Failed(why) => why,
        };
        self.page = "menu";
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_is_checked_off_the_ui_thread_and_the_verdict_opens_or_explains() {
        let mut staff = Staff::new();
        staff.handle(StaffInput::Enter);
        for d in [2, 4, 6, 8] {
            staff.handle(StaffInput::Digit(d));
        }
        assert_eq!(staff.view().entry, "●●●●", "the staff PIN is never shown");
        let (fx, _) = staff.handle(StaffInput::Submit);
        assert_eq!(fx, [StaffEffect::CheckPin { entry: "2468".into() }]);
        assert_eq!(staff.view().entry, "", "the typed PIN leaves the keypad");
        // A second submit while checking sends nothing.
        assert!(staff.handle(StaffInput::Submit).0.is_empty());
        for (verdict, page, says) in [
            (PinCheck::Wrong { wait_minutes: 0 }, "pin", "ちがいます"),
            (PinCheck::Wrong { wait_minutes: 15 }, "pin", "15分たってから"),
            (PinCheck::Locked { minutes: 12 }, "pin", "あと12分は押せません"),
            (PinCheck::NotSet, "pin", "設定されていません"),
            (PinCheck::Failed, "pin", "確かめられませんでした"),
            (PinCheck::Right, "menu", "職員モード"),
        ] {
            let (fx, _) = staff.handle(StaffInput::PinChecked(verdict.clone()));
            let view = staff.view();
            assert!(view.page == page && view.message.contains(says), "{verdict:?}: {view:?}");
            assert_eq!(fx.contains(&StaffEffect::RefreshHealth), verdict == PinCheck::Right);
        }
    }

    #[test]
    fn settings_stay_within_limits() {
        let mut s = Settings::default();
        for _ in 0..20 {
            s.adjust("rate", 1);
            s.adjust("text", 1);
            s.adjust("volume", -1);
        }
        assert_eq!((s.speech_rate, s.text_scale, s.volume), (0.75, 1.5, 0.1));
        for _ in 0..20 {
            s.adjust("rate", -1);
        }
        assert_eq!(s.speech_rate, 0.45);
    }

    #[test]
    fn settings_read_in_words_and_each_change_is_heard() {
        let mut s = Settings::default();
        assert_eq!(rate_in_words(&s), "ふつう（1秒に5音）");
        s.adjust("rate", -1);
        assert_eq!(rate_in_words(&s), "少しゆっくり");
        s.adjust("rate", -1);
        assert_eq!(rate_in_words(&s), "ゆっくり");
        s.adjust("voice", 1);
        assert_eq!(rate_in_words(&s), "ふつう（1秒に5音）", "each voice starts at its own normal");
        let mut staff = Staff { settings: Some((1, s)), ..Staff::new() };
        let (fx, _) = staff.handle(StaffInput::Adjust("rate".into(), 1));
        assert!(fx.contains(&StaffEffect::Preview), "{fx:?}");
        assert_eq!((staff.view().rate.as_str(), staff.view().voice.as_str()), ("少しはやめ", "女性の声"));
    }

    #[test]
    fn the_voice_switches_and_its_rate_starts_from_its_own_five_morae() {
        let mut s = Settings { speech_rate: 0.7, ..Settings::default() };
        s.adjust("voice", 1);
        assert_eq!((s.voice, s.speech_rate), (Voice::Mei, dialect_model::tts::MEI_DEFAULT_SPEED));
        s.adjust("voice", -1);
        assert_eq!((s.voice, s.speech_rate), (Voice::M001, dialect_model::tts::DEFAULT_SPEED));
    }
}
