//! The kiosk's controller: which screen is up, what the tablet says and listens for,
//! and what it records. Plain Rust, no Slint and no I/O: inputs in, effects and a
//! [`View`] out, so every path (buttons, voice, help, campaigns) is testable without
//! a window, a microphone or a card.
//!
//! The care crate decides what to ask and what an answer means; this decides only
//! when and where: one screen at a time, never rushing, never interrupting speech
//! except for a safety confirmation or help.

use care::dialogue::{self, Button, Context, Entry, Input as DialogueInput, QuestionId, Script, Step};
use care::planner::{DayRecord, Plan, Profile};
use care::record::CareEvent;
use care::understanding::{Intent, Understanding};
use care::watch::{SnowWatch, WatchLine};
use chrono::NaiveDateTime;

use crate::guide::Guide;
use crate::signin::{PinPad, PinVerdict};
use crate::staff::{Staff, StaffInput};

/// The care data the controller reads: loaded once from `assets/`.
#[derive(Debug)]
pub struct Care {
    pub script: Script,
    pub catalogue: care::catalogue::Catalogue,
    pub calendar: care::season::RegionCalendar,
}

/// The `assets/` folder this build was made from (a town may point elsewhere).
pub const DEFAULT_ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets");

/// Why the care data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CareLoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: std::path::PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: std::path::PathBuf, message: String },
}

impl Care {
    /// Loads the dialogue script, the exercise catalogue and the region calendar.
    pub fn load(assets: &std::path::Path) -> Result<Self, CareLoadError> {
        let read = |rel: &str| {
            let path = assets.join(rel);
            std::fs::read_to_string(&path)
                .map(|t| (t, path.clone()))
                .map_err(|source| CareLoadError::Read { path, source })
        };
        let invalid = |path: std::path::PathBuf, e: &dyn std::fmt::Display| CareLoadError::Invalid {
            path,
            message: e.to_string(),
        };
        let (text, path) = read("dialogue/checkin.toml")?;
        let script = Script::from_toml(&text).map_err(|e| invalid(path, &e))?;
        let (text, path) = read("exercises/catalogue.toml")?;
        let catalogue = care::catalogue::Catalogue::from_toml(&text).map_err(|e| invalid(path, &e))?;
        let (text, path) = read("region/nishikawa.toml")?;
        let calendar = care::season::RegionCalendar::from_toml(&text).map_err(|e| invalid(path, &e))?;
        Ok(Self { script, catalogue, calendar })
    }
}

/// The resident the tablet is talking with.
#[derive(Debug, Clone, PartialEq)]
pub struct Resident {
    pub id: i64,
    /// How the tablet addresses them in speech and on screen (「山田さん」 without さん).
    pub name: String,
    pub profile: Profile,
    /// Past days, for the planner and the habit score.
    pub history: Vec<DayRecord>,
}

/// A safety-confirmation campaign that reached the tablet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: u64,
    pub message: String,
}

/// Which view is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Idle,
    SignIn,
    Checkin,
    Exercise,
    Score,
    Safety,
    Snow,
    Staff,
}

impl Screen {
    /// The name the window's `AppAdapter.screen` uses.
    pub fn name(self) -> &'static str {
        match self {
            Screen::Idle => "idle",
            Screen::SignIn => "signin",
            Screen::Checkin => "checkin",
            Screen::Exercise => "exercise",
            Screen::Score => "score",
            Screen::Safety => "safety",
            Screen::Snow => "snow",
            Screen::Staff => "staff",
        }
    }
}

/// What happened: from the screen, the workers or the clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The idle screen was touched.
    Touch,
    /// A card is being read.
    CardReading,
    /// The card was read: its resident, or `None` for a card not linked here.
    CardRead(Option<Resident>),
    /// The card could not be read; the sentence says why, gently.
    CardFailed(String),
    /// The resident for a touch start (the household's resident), if the tablet knows one.
    Household(Option<Resident>),
    /// One of the check-in's answer buttons, by position.
    Answer(usize),
    /// The speech worker understood an answer.
    Heard(Understanding),
    /// The listening window closed without speech.
    Silence,
    /// Everything queued to say has been said (or shown, with no speaker).
    SpeechDone,
    SignIn(SignInInput),
    Exercise(ExerciseInput),
    CloseScore,
    SafetyAnswer(bool),
    CloseSafety,
    SnowBack,
    SnowHelp,
    Staff(StaffInput),
    /// The result of a strong sign-in (PIN) for a card link: tries left on failure.
    PinResult(PinVerdict),
    /// A campaign arrived from the office.
    Campaign(Campaign),
    /// The card on the reader reported its PIN tries left (no try spent).
    CardTries(Option<u8>),
    /// The latest weather report the office sent (or none yet), with the forecast in
    /// words (「くもり　時々　雪」).
    Weather(Option<(care::weather::Weather, String)>),
    /// The clock, once a second.
    Tick(NaiveDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInInput {
    Digit(u8),
    Erase,
    Submit,
    Cancel,
    Staff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExerciseInput {
    Start,
    Later,
    PauseResume,
    Stop,
    Finish,
}

/// What the kiosk must record, in its outbox, in the same transaction as its state.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Care {
        resident: i64,
        event: CareEvent,
    },
    ExerciseDone {
        resident: i64,
        exercise_ids: Vec<String>,
        minutes: u32,
        on: chrono::NaiveDate,
    },
    SafetyAnswer {
        resident: i64,
        campaign: u64,
        needs_help: bool,
    },
    /// Staff linked the card on the reader to the household's resident (after a strong sign-in).
    CardLink {
        resident: i64,
        identity_hex: String,
    },
    /// The tablet misheard: it asked to confirm a meaning the resident then changed.
    /// Names only, never what was said; staff add the phrase after a visit.
    Misunderstanding {
        resident: i64,
        question: QuestionId,
        understood: Intent,
        confidence: f32,
        chosen: Option<Intent>,
    },
}

/// What the controller asks the workers to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Say these lines in order (stopping anything being said), captioned.
    Say {
        lines: Vec<String>,
        slow: bool,
    },
    /// Stop speaking at once (pause, barge-in handled by the speech worker itself).
    StopSpeaking,
    /// Listen for an answer to this question.
    Listen(QuestionId),
    StopListening,
    Record(Record),
    /// Send the outbox now (help requests must not wait for the next poll).
    SyncNow,
    /// Ask the card worker for a strong sign-in with these typed digits.
    StrongSignIn {
        digits: String,
    },
    /// Ask the card worker which resident the touch start is for.
    FindHousehold,
    Staff(crate::staff::StaffEffect),
}

/// Everything the screen shows, view by view; the adapter copies it into the globals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct View {
    pub screen: Option<Screen>,
    /// The idle screen's weather line (「大雪警報　積雪 120cm　-3℃」); empty without a report.
    pub weather: String,
    pub signin: SignInView,
    pub checkin: CheckinView,
    pub exercise: ExerciseView,
    pub score: ScoreView,
    pub safety: SafetyView,
    pub snow: SnowView,
    pub staff: crate::staff::StaffView,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignInView {
    pub message: String,
    pub detail: String,
    pub keypad: bool,
    pub pin_length: usize,
    pub tries: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckinView {
    pub caption: String,
    pub listening: bool,
    pub speaking: bool,
    pub understood: String,
    pub buttons: Vec<String>,
    pub help_flow: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExerciseView {
    /// "plan" | "guide" | "done"
    pub phase: &'static str,
    pub headline: String,
    pub items: Vec<String>,
    pub caption: String,
    pub step_title: String,
    pub step_text: String,
    pub count: String,
    pub progress: String,
    pub posture: &'static str,
    pub paused: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoreView {
    pub score: u8,
    /// Active days per week, oldest first.
    pub weeks: [u8; 4],
    pub sentence: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SafetyView {
    pub message: String,
    pub caption: String,
    pub listening: bool,
    pub answered: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SnowView {
    pub caption: String,
    pub status: String,
}

/// After the current speech ends, what comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Nothing,
    Listen(QuestionId),
    /// The dialogue finished: plan the exercise.
    ShowPlan,
    /// Back to idle (after a closing line).
    Idle,
    /// The next line of the guided session.
    GuideNext,
    /// The safety question was asked: listen for its answer.
    SafetyListen,
}

/// The controller.
#[derive(Debug)]
pub struct Flow<'c> {
    care: &'c Care,
    screen: Screen,
    resident: Option<Resident>,
    dialogue: Option<dialogue::Session<'c>>,
    /// Buttons of the current question, in screen order.
    buttons: Vec<Button>,
    step: Step,
    then: Then,
    plan: Option<Plan>,
    guide: Option<Guide>,
    watch: Option<SnowWatch>,
    campaign: Option<Campaign>,
    /// A campaign that arrived mid-sentence or mid-exercise waits for a calm moment.
    pending_campaign: Option<Campaign>,
    weather: Option<care::weather::Weather>,
    /// A heard answer the dialogue is confirming (or confirmed wrong): the question and
    /// what was understood, until the question is finally answered.
    doubt: Option<(QuestionId, Understanding)>,
    pin: PinPad,
    /// Staff are linking a card: the sign-in view shows the PIN keypad.
    linking: bool,
    staff: Staff,
    now: NaiveDateTime,
    view: View,
}

impl<'c> Flow<'c> {
    /// A controller with staff mode behind the PIN whose SHA-256 (hex) is given.
    pub fn with_staff_pin(care: &'c Care, now: NaiveDateTime, staff_pin_sha256: String) -> Self {
        let mut flow = Self::new(care, now);
        flow.staff = Staff::new(staff_pin_sha256);
        flow
    }

    pub fn new(care: &'c Care, now: NaiveDateTime) -> Self {
        let mut flow = Self {
            care,
            screen: Screen::Idle,
            resident: None,
            dialogue: None,
            buttons: vec![],
            step: Step::Finished,
            then: Then::Nothing,
            plan: None,
            guide: None,
            watch: None,
            campaign: None,
            pending_campaign: None,
            weather: None,
            doubt: None,
            pin: PinPad::default(),
            linking: false,
            staff: Staff::default(),
            now,
            view: View::default(),
        };
        flow.view.screen = Some(Screen::Idle);
        flow.view.exercise.phase = "plan";
        flow.view.exercise.posture = "seated";
        flow
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    pub fn resident(&self) -> Option<&Resident> {
        self.resident.as_ref()
    }

    /// Feeds one input; returns the effects, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        let mut fx = Vec::new();
        match input {
            Input::Tick(now) => self.tick(now, &mut fx),
            Input::Touch if self.screen == Screen::Idle => fx.push(Effect::FindHousehold),
            Input::Touch => {}
            Input::CardReading if self.screen == Screen::Idle => {
                self.show(Screen::SignIn);
                self.view.signin =
                    SignInView { message: "カードを確認しています".into(), ..Default::default() };
            }
            Input::CardReading => {}
            Input::CardRead(found) | Input::Household(found)
                if matches!(self.screen, Screen::Idle | Screen::SignIn) && !self.linking =>
            {
                match found {
                    Some(resident) => self.start_checkin(resident, &mut fx),
                    None => {
                        self.show(Screen::SignIn);
                        self.view.signin = SignInView {
                            message: "この端末には、まだ登録されていません。".into(),
                            detail: "職員がお手伝いします。".into(),
                            ..Default::default()
                        };
                        fx.push(say(&["この端末には、まだ登録されていません。職員がお手伝いします。"]));
                    }
                }
            }
            Input::CardRead(_) | Input::Household(_) => {}
            Input::CardFailed(why) => {
                if matches!(self.screen, Screen::Idle | Screen::SignIn) {
                    self.show(Screen::SignIn);
                    self.view.signin =
                        SignInView { message: why.clone(), detail: String::new(), ..Default::default() };
                    fx.push(say(&[why.as_str()]));
                }
                if self.screen == Screen::Staff {
                    self.staff.card_failed(&why);
                    self.view.staff = self.staff.view();
                }
            }
            Input::Answer(i) => self.answer(i, &mut fx),
            Input::Heard(u) => self.heard(u, &mut fx),
            Input::Silence => self.silence(&mut fx),
            Input::SpeechDone => self.speech_done(&mut fx),
            Input::SignIn(s) => self.signin(s, &mut fx),
            Input::Exercise(e) => self.exercise(e, &mut fx),
            Input::CloseScore => self.go_idle(&mut fx),
            Input::SafetyAnswer(safe) => self.safety_answer(safe, &mut fx),
            Input::CloseSafety => self.after_safety(&mut fx),
            Input::SnowBack => self.snow_answer(Understanding::sure(Intent::Yes), &mut fx),
            Input::SnowHelp => self.snow_answer(Understanding::sure(Intent::NeedHelp), &mut fx),
            Input::Staff(StaffInput::LinkCard) if self.screen == Screen::Staff => self.start_linking(&mut fx),
            Input::Staff(s) => {
                if s == StaffInput::Enter {
                    fx.push(Effect::StopListening);
                    fx.push(Effect::StopSpeaking);
                    self.show(Screen::Staff);
                }
                let (staff_fx, leave) = self.staff.handle(s);
                fx.extend(staff_fx.into_iter().map(Effect::Staff));
                self.view.staff = self.staff.view();
                if leave {
                    self.go_idle(&mut fx);
                }
            }
            Input::PinResult(v) => self.pin_result(v, &mut fx),
            Input::Weather(w) => {
                self.view.weather = w.as_ref().map(|(w, text)| weather_line(w, text)).unwrap_or_default();
                self.weather = w.map(|(w, _)| w);
            }
            Input::CardTries(t) => {
                self.pin.tries_left = t;
                self.view.signin.tries = self.pin.tries_text();
            }
            Input::Campaign(c) => self.campaign_arrived(c, &mut fx),
        }
        fx
    }

    fn show(&mut self, screen: Screen) {
        self.screen = screen;
        self.view.screen = Some(screen);
    }

    fn go_idle(&mut self, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopListening);
        self.show(Screen::Idle);
        self.resident = None;
        self.dialogue = None;
        self.guide = None;
        self.plan = None;
        self.then = Then::Nothing;
        self.pin = PinPad::default();
        self.view.checkin = CheckinView::default();
        self.view.signin = SignInView::default();
        if let Some(c) = self.pending_campaign.take() {
            self.campaign_arrived(c, fx);
        }
    }

    fn start_checkin(&mut self, resident: Resident, fx: &mut Vec<Effect>) {
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

    /// Shows a dialogue turn: caption, buttons; says its lines; records its events.
    fn apply_turn(&mut self, turn: dialogue::Turn, fx: &mut Vec<Effect>) {
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        for event in turn.events {
            let urgent = matches!(event, CareEvent::HelpAlert { .. } | CareEvent::SnowWatchAlert { .. });
            if let CareEvent::SnowWatchRequested { at } = event {
                self.watch = Some(SnowWatch::start(at, None));
            }
            fx.push(Effect::Record(Record::Care { resident, event }));
            if urgent {
                fx.push(Effect::SyncNow);
            }
        }
        let lines: Vec<String> = turn.say.iter().map(|l| l.text.clone()).collect();
        let slow = turn.say.iter().any(|l| l.pace == dialogue::Pace::Slow);
        self.step = turn.step;
        self.buttons = turn.buttons;
        let help_flow = matches!(turn.step, Step::HelpConfirm)
            || self
                .dialogue
                .as_ref()
                .is_some_and(|d| d.record().outcome == care::record::Outcome::HelpRequested);
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
                    // After a safety check, a snow watch or a call for help there is no plan today.
                    let help = self
                        .dialogue
                        .as_ref()
                        .is_some_and(|d| d.record().outcome == care::record::Outcome::HelpRequested);
                    if self.screen == Screen::Safety || self.watch.is_some() || help {
                        Then::Nothing
                    } else {
                        Then::ShowPlan
                    }
                }
                _ => Then::Nothing,
            };
        if self.then == Then::Nothing
            && turn.step == Step::Finished
            && self.watch.is_some()
            && self.screen == Screen::Checkin
        {
            self.show_snow_watch();
        }
        if lines.is_empty() {
            self.speech_done(fx);
        } else {
            self.view.checkin.speaking = true;
            fx.push(Effect::Say { lines, slow });
        }
    }

    fn speech_done(&mut self, fx: &mut Vec<Effect>) {
        self.view.checkin.speaking = false;
        match std::mem::replace(&mut self.then, Then::Nothing) {
            Then::Nothing => {}
            Then::Listen(q) => {
                self.view.checkin.listening = true;
                fx.push(Effect::Listen(q));
            }
            Then::SafetyListen => {
                self.view.safety.listening = true;
                fx.push(Effect::Listen(QuestionId::SafetyCheck));
            }
            Then::ShowPlan => self.show_plan(fx),
            Then::Idle => self.go_idle(fx),
            Then::GuideNext => self.guide_next(fx),
        }
        if self.then == Then::Nothing && self.pending_campaign.is_some() && self.calm() {
            let c = self.pending_campaign.take().expect("checked");
            self.campaign_arrived(c, fx);
        }
    }

    /// A moment a campaign may interrupt: nothing being said, no help flow running.
    fn calm(&self) -> bool {
        !matches!(self.step, Step::HelpConfirm)
            && self.screen != Screen::Safety
            && self.screen != Screen::Staff
    }

    fn answer(&mut self, i: usize, fx: &mut Vec<Effect>) {
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

    fn heard(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        match self.screen {
            Screen::Checkin | Screen::Safety if self.dialogue.is_some() => {
                self.view.checkin.understood = understood_text(&self.care.script, &u);
                self.respond(DialogueInput::Heard(u), fx);
            }
            Screen::Snow => self.snow_answer(u, fx),
            _ => {}
        }
    }

    fn silence(&mut self, fx: &mut Vec<Effect>) {
        match self.screen {
            Screen::Checkin | Screen::Safety if self.dialogue.is_some() => {
                self.respond(DialogueInput::Silence, fx)
            }
            _ => {}
        }
    }

    fn respond(&mut self, input: DialogueInput, fx: &mut Vec<Effect>) {
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
            let needs_help = record.outcome == care::record::Outcome::HelpRequested;
            self.record_safety(c.id, needs_help, fx);
        }
    }

    fn record_safety(&mut self, campaign: u64, needs_help: bool, fx: &mut Vec<Effect>) {
        let resident = self.resident.as_ref().map_or(0, |r| r.id);
        fx.push(Effect::Record(Record::SafetyAnswer { resident, campaign, needs_help }));
        fx.push(Effect::SyncNow);
        self.view.safety.answered = true;
        self.view.safety.listening = false;
    }

    fn show_plan(&mut self, fx: &mut Vec<Effect>) {
        let Some(resident) = self.resident.as_ref() else { return self.go_idle(fx) };
        let record = self.dialogue.as_ref().map(|d| d.record().clone());
        let today = record.as_ref().map(|r| r.today_facts(false)).unwrap_or_default();
        let conditions =
            care::weather::Conditions::for_day(&self.care.calendar, self.now.date(), self.weather.as_ref());
        let plan = care::planner::plan_day(
            &self.care.catalogue,
            &conditions,
            &today,
            &resident.profile,
            &resident.history,
        );
        let items: Vec<String> = plan
            .items
            .iter()
            .filter_map(|i| self.care.catalogue.get(&i.exercise_id).map(|e| e.name.clone()))
            .collect();
        self.show(Screen::Exercise);
        let mut headline = plan.headline.clone();
        for note in &plan.notes {
            headline.push_str(note);
        }
        self.view.exercise = ExerciseView {
            phase: "plan",
            headline: headline.clone(),
            items,
            posture: "seated",
            ..Default::default()
        };
        let mut lines = vec![plan.headline.clone()];
        lines.extend(plan.advice.iter().map(|a| a.text.to_string()));
        if plan.items.is_empty() {
            self.view.exercise.phase = "done";
            self.view.exercise.caption = lines.join("");
        }
        self.plan = Some(plan);
        fx.push(Effect::Say { lines, slow: false });
    }

    fn exercise(&mut self, input: ExerciseInput, fx: &mut Vec<Effect>) {
        if self.screen != Screen::Exercise {
            return;
        }
        match input {
            ExerciseInput::Start => {
                let Some(plan) = self.plan.as_ref() else { return };
                let guide = Guide::new(&self.care.catalogue, plan);
                self.guide = Some(guide);
                self.view.exercise.phase = "guide";
                fx.push(Effect::StopSpeaking);
                self.guide_next(fx);
            }
            ExerciseInput::Later => {
                fx.push(Effect::StopSpeaking);
                self.show_score(fx);
            }
            ExerciseInput::PauseResume => {
                let Some(guide) = self.guide.as_mut() else { return };
                guide.paused = !guide.paused;
                self.view.exercise.paused = guide.paused;
                if guide.paused {
                    // Stop at once; the line is said again from its start on resume.
                    guide.back_one();
                    self.then = Then::Nothing;
                    fx.push(Effect::StopSpeaking);
                    self.view.exercise.caption =
                        "ひと休みしましょう。つづけるときは、ボタンを押してください。".into();
                } else {
                    self.guide_next(fx);
                }
            }
            ExerciseInput::Stop => {
                fx.push(Effect::StopSpeaking);
                self.finish_exercise(fx);
            }
            ExerciseInput::Finish => {
                if self.view.exercise.phase == "done" {
                    self.show_score(fx);
                }
            }
        }
    }

    fn guide_next(&mut self, fx: &mut Vec<Effect>) {
        let Some(guide) = self.guide.as_mut() else { return };
        if guide.paused {
            return;
        }
        match guide.next_line() {
            Some(step) => {
                self.view.exercise.step_title = step.title.clone();
                self.view.exercise.step_text = step.instruction.clone();
                self.view.exercise.caption = step.line.clone();
                self.view.exercise.count = step.count.clone();
                self.view.exercise.progress = step.progress.clone();
                self.view.exercise.posture = step.posture;
                self.then = Then::GuideNext;
                fx.push(Effect::Say { lines: vec![step.line], slow: false });
            }
            None => self.finish_exercise(fx),
        }
    }

    fn finish_exercise(&mut self, fx: &mut Vec<Effect>) {
        let done: Vec<String> = self.guide.as_ref().map(|g| g.completed_ids()).unwrap_or_default();
        let minutes = self.guide.as_ref().map_or(0, |g| g.minutes());
        self.guide = None;
        self.then = Then::Nothing;
        self.view.exercise.phase = "done";
        self.view.exercise.paused = false;
        let line = if done.is_empty() {
            "今日はここまでにしましょう。また明日、いっしょに体を動かしましょう。"
        } else {
            "おつかれさまでした。よくがんばりましたね。"
        };
        self.view.exercise.caption = line.into();
        if let Some(r) = self.resident.as_mut()
            && !done.is_empty()
        {
            {
                fx.push(Effect::Record(Record::ExerciseDone {
                    resident: r.id,
                    exercise_ids: done.clone(),
                    minutes,
                    on: self.now.date(),
                }));
                let categories =
                    done.iter().filter_map(|id| self.care.catalogue.get(id).map(|e| e.category)).collect();
                let planned = self.plan.as_ref();
                r.history.push(DayRecord {
                    date: self.now.date(),
                    planned: planned.and_then(|p| p.intensity),
                    planned_items: planned.map_or(0, |p| p.items.len() as u8),
                    done: categories,
                    excused: false,
                });
            }
        }
        fx.push(say(&[line]));
    }

    fn show_score(&mut self, fx: &mut Vec<Effect>) {
        let Some(r) = self.resident.as_ref() else { return self.go_idle(fx) };
        let score = care::score::habit_score(self.now.date(), &r.history);
        let mut weeks = [0u8; 4];
        for (i, w) in score.weeks.iter().enumerate() {
            // care gives week 1 (most recent) first; the picture reads left to right in time.
            weeks[3 - i] = w.active_days;
        }
        let sentence = encouragement(score.score, weeks[3], weeks[2]);
        self.view.score = ScoreView { score: score.score, weeks, sentence: sentence.clone() };
        self.show(Screen::Score);
        fx.push(Effect::Say {
            lines: vec![format!("運動の習慣は、{}点です。", score.score), sentence],
            slow: false,
        });
    }

    fn campaign_arrived(&mut self, c: Campaign, fx: &mut Vec<Effect>) {
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

    fn safety_answer(&mut self, safe: bool, fx: &mut Vec<Effect>) {
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

    fn after_safety(&mut self, fx: &mut Vec<Effect>) {
        self.campaign = None;
        self.go_idle(fx);
    }

    fn show_snow_watch(&mut self) {
        self.show(Screen::Snow);
        self.view.snow = SnowView {
            caption: self.care.script.snow_watch.accepted.clone(),
            status: "雪かきの見守り中です".into(),
        };
    }

    fn snow_answer(&mut self, u: Understanding, fx: &mut Vec<Effect>) {
        let Some(watch) = self.watch.as_mut() else { return };
        let step = watch.answer(self.now, u);
        self.apply_watch(step, fx);
    }

    fn apply_watch(&mut self, step: care::watch::WatchStep, fx: &mut Vec<Effect>) {
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

    fn tick(&mut self, now: NaiveDateTime, fx: &mut Vec<Effect>) {
        self.now = now;
        if self.screen == Screen::Snow
            && let Some(watch) = self.watch.as_mut()
        {
            let step = watch.tick(now);
            self.apply_watch(step, fx);
        }
    }

    fn signin(&mut self, input: SignInInput, fx: &mut Vec<Effect>) {
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
}

impl Flow<'_> {
    fn start_linking(&mut self, fx: &mut Vec<Effect>) {
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

    fn pin_result(&mut self, v: PinVerdict, fx: &mut Vec<Effect>) {
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

fn say(lines: &[&str]) -> Effect {
    Effect::Say { lines: lines.iter().map(|s| s.to_string()).collect(), slow: false }
}

/// What the screen says it understood (「ひざが痛い」), from the script's meanings.
fn understood_text(script: &Script, u: &Understanding) -> String {
    let key =
        if u.intent == Intent::Pain && u.body_part.is_none() { "pain_unknown_part" } else { u.intent.key() };
    let text = script.meanings.get(key).cloned().unwrap_or_default();
    match u.body_part {
        Some(part) => text.replace("{part}", part.label()),
        None => text,
    }
}

/// The idle screen's weather line: warnings first, then the forecast, snow and temperature.
pub fn weather_line(w: &care::weather::Weather, forecast: &str) -> String {
    use care::weather::Warning;
    let mut parts: Vec<String> = w
        .warnings
        .iter()
        .map(|x| match x {
            Warning::HeavySnow => "大雪警報".to_string(),
            Warning::Storm => "暴風警報".to_string(),
            Warning::HeavyRain => "大雨警報".to_string(),
        })
        .collect();
    if w.heatstroke_alert {
        parts.push("熱中症警戒アラート".into());
    }
    if !forecast.trim().is_empty() {
        parts.push(forecast.trim().to_string());
    }
    if let Some(cm) = w.snow_depth_cm {
        parts.push(format!("積雪 {cm}cm"));
    }
    if let Some(t) = w.temperature_c {
        parts.push(format!("{t:.0}℃"));
    }
    parts.join("　")
}

/// One encouraging sentence for the score screen: never a scolding one.
pub fn encouragement(score: u8, this_week: u8, last_week: u8) -> String {
    if this_week > last_week && last_week > 0 {
        format!("先週より{}日多く体を動かしました。その調子です。", this_week - last_week)
    } else if score >= 70 {
        "よく続いています。無理をせず、この調子でいきましょう。".into()
    } else if score >= 30 {
        "少しずつ習慣になっています。明日もいっしょに動きましょう。".into()
    } else if this_week > 0 {
        "今週も体を動かせました。できる日に、少しずつで大丈夫です。".into()
    } else {
        "できる日に、少しずつ始めましょう。座ってできる体操もあります。".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn care() -> &'static Care {
        Box::leak(Box::new(Care::load(std::path::Path::new(DEFAULT_ASSETS)).unwrap()))
    }

    /// A controller in staff mode on the card-link PIN pad, card reporting `tries`.
    fn linking(tries: u8) -> Flow<'static> {
        let mut flow = Flow::with_staff_pin(
            care(),
            "2026-12-14T07:05:00".parse().unwrap(),
            crate::staff::sha256_hex("1"),
        );
        flow.handle(Input::Staff(StaffInput::Enter));
        flow.handle(Input::Staff(StaffInput::Digit(1)));
        flow.handle(Input::Staff(StaffInput::Submit));
        flow.handle(Input::Staff(StaffInput::LinkCard));
        flow.handle(Input::CardTries(Some(tries)));
        flow
    }

    fn type_pin(flow: &mut Flow<'_>, digits: [u8; 4]) -> Vec<Effect> {
        for d in digits {
            flow.handle(Input::SignIn(SignInInput::Digit(d)));
        }
        flow.handle(Input::SignIn(SignInInput::Submit))
    }

    #[test]
    fn wrong_pins_show_tries_and_the_last_try_is_never_spent() {
        let mut flow = linking(3);
        assert_eq!(flow.screen(), Screen::SignIn);
        let fx = type_pin(&mut flow, [1, 2, 3, 4]);
        assert_eq!(fx, vec![Effect::StrongSignIn { digits: "1234".into() }]);
        flow.handle(Input::PinResult(PinVerdict::Wrong { tries_left: 2 }));
        assert_eq!(flow.screen(), Screen::SignIn, "two tries left: the pad stays");
        assert!(flow.view().signin.tries.contains("あと2回"));
        let fx = type_pin(&mut flow, [9, 9, 9, 9]);
        assert_eq!(fx.len(), 1, "the second try is sent: {fx:?}");
        flow.handle(Input::PinResult(PinVerdict::Wrong { tries_left: 1 }));
        assert_eq!(flow.screen(), Screen::Staff, "one try left: staff take over");
        // Even if staff open the pad again, the last try is not sent.
        flow.handle(Input::Staff(StaffInput::LinkCard));
        let fx = type_pin(&mut flow, [5, 5, 5, 5]);
        assert!(!fx.iter().any(|e| matches!(e, Effect::StrongSignIn { .. })), "{fx:?}");
    }

    #[test]
    fn a_good_pin_queues_the_card_link() {
        let mut flow = linking(3);
        flow.handle(Input::Staff(StaffInput::Loaded(Some((7, crate::staff::Settings::default())))));
        type_pin(&mut flow, [1, 2, 3, 4]);
        let fx = flow.handle(Input::PinResult(PinVerdict::Ok { identity_hex: "ab".repeat(32) }));
        assert!(
            fx.contains(&Effect::Record(Record::CardLink { resident: 7, identity_hex: "ab".repeat(32) })),
            "{fx:?}"
        );
        assert_eq!(flow.screen(), Screen::Staff);
    }

    #[test]
    fn weather_line_puts_warnings_first() {
        let w = care::weather::Weather {
            observed_at: "2026-12-14T06:00:00".parse().unwrap(),
            source: "気象庁".into(),
            snow_depth_cm: Some(120),
            temperature_c: Some(-3.2),
            wbgt_c: None,
            heatstroke_alert: false,
            warnings: [care::weather::Warning::HeavySnow].into(),
        };
        assert_eq!(weather_line(&w, "くもり　時々　雪"), "大雪警報　くもり　時々　雪　積雪 120cm　-3℃");
    }

    #[test]
    fn encouragement_never_scolds() {
        for score in [0, 10, 50, 90] {
            for this in 0..=7 {
                for last in 0..=7 {
                    let s = encouragement(score, this, last);
                    assert!(!s.contains("しません") && !s.contains("だめ"), "{s}");
                    assert!(care::speech::morae(&s) <= 40, "{s}");
                }
            }
        }
    }
}
