//! The kiosk's controller: which screen is up, what the tablet says and listens for,
//! and what it records. Plain Rust, no Slint and no I/O: inputs in, effects and a
//! [`View`] out, so every path (buttons, voice, help, campaigns) is testable without
//! a window, a microphone or a card.
//!
//! The care crate decides what to ask and what an answer means; this decides only
//! when and where: one screen at a time, never rushing, never interrupting speech
//! except for a safety confirmation or help.
//!
//! This file holds the controller's types and its dispatch (`Flow::handle`); each job
//! lives in its own file: `checkin`, `exercise` (with the guided session in `guide`),
//! `help` (the help button and the help screen), `safety`, `snow`, `signin` (sign-in
//! and card linking, typed PINs in `pinpad`) and `staff` (staff mode's own controller).

use care::dialogue::{self, Button, Context, Entry, Input as DialogueInput, QuestionId, Script, Step};
use care::planner::{DayRecord, Plan, Profile};
use care::record::CareEvent;
use care::understanding::{Intent, Understanding};
use care::watch::{SnowWatch, WatchLine};
use chrono::NaiveDateTime;

mod chairstand;
mod checkin;
mod exercise;
pub mod guide;
mod help;
mod medicine;
mod memory;
mod news;
pub mod pinpad;
mod safety;
mod schedule;
mod signin;
mod smalltalk;
mod snow;
pub mod staff;

pub use exercise::encouragement;
use guide::Guide;
pub use help::{HELP_REMEMBERED, HelpNews, HelpState};

/// How long after its last arming a snow watch found in the store after a restart is
/// still resumed (longer, and the office's own timer has long since alerted).
pub const WATCH_REMEMBERED: chrono::Duration = chrono::Duration::hours(6);

/// A question that nothing answers (no microphone, buttons only after two mishearings,
/// nobody there) counts as a silence after this long: asked again, and the third ends
/// the check-in as unanswered, so the tablet is free to ask later and take the office's
/// re-prompt instead of waiting on its buttons all day.
pub const ASK_AGAIN_UNANSWERED: chrono::TimeDelta = chrono::TimeDelta::minutes(2);
use pinpad::{PinPad, PinVerdict};
pub use schedule::{ASK_AGAIN_AFTER, Due, TIMES_A_DAY};
use staff::{Staff, StaffInput};

/// The care data the controller reads: loaded once from `assets/`.
#[derive(Debug)]
pub struct Care {
    pub script: Script,
    pub smalltalk: care::smalltalk::SmallTalk,
    pub catalogue: care::catalogue::Catalogue,
    pub calendar: care::season::RegionCalendar,
}

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
        let script = Script::from_toml(&text).map_err(|e| invalid(path.clone(), &e))?;
        // A town edits the script without recompiling: a line too long or too stiff to
        // say slowly is told to staff in the log, and the tablet still starts.
        for line in script.all_lines() {
            if let Some(problem) = care::speech::line_problem(&line) {
                tracing::warn!(file = %path.display(), %problem, "a dialogue line is hard to say");
            }
        }
        let (text, path) = read("dialogue/smalltalk.toml")?;
        let smalltalk =
            care::smalltalk::SmallTalk::from_toml(&text).map_err(|e| invalid(path.clone(), &e))?;
        for line in smalltalk.all_lines() {
            if let Some(problem) = care::speech::line_problem(&line) {
                tracing::warn!(file = %path.display(), %problem, "a small-talk line is hard to say");
            }
        }
        let (text, path) = read("exercises/catalogue.toml")?;
        let catalogue = care::catalogue::Catalogue::from_toml(&text).map_err(|e| invalid(path, &e))?;
        let (text, path) = read("region/nishikawa.toml")?;
        let calendar = care::season::RegionCalendar::from_toml(&text).map_err(|e| invalid(path, &e))?;
        Ok(Self { script, smalltalk, catalogue, calendar })
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
    /// The small-talk topics used with them lately, and when (never what they said).
    pub talked: Vec<(String, chrono::NaiveDate)>,
    /// What staff noted they enjoy (「盆栽」): small-talk topics of their own.
    pub interests: Vec<String>,
    /// Their last chair-stand test (day and count) and the last day it was offered.
    pub stand: care::chairstand::StandDays,
    /// Town news not yet read to them, oldest first.
    pub news: Vec<crate::store::Announcement>,
    /// The last day of the weekly talk about the day and three words, and whether
    /// staff turned it off for them.
    pub memory_last: Option<chrono::NaiveDate>,
    pub memory_off: bool,
    /// The first day the tablet planned or recorded exercise with them.
    pub known_since: Option<chrono::NaiveDate>,
    /// Staff chose a PIN sign-in: the card's PIN, and the card's signature, before
    /// the check-in; a touch start asks for the card.
    pub pin_sign_in: bool,
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
    /// A call for help is on its way, or taken on.
    Help,
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
            Screen::Help => "help",
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
    /// The card was read: its resident (or `None` for a card not linked here), and
    /// the card's identity (SHA-256 of its certificate, hex).
    CardRead(Option<Resident>, String),
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
    /// The 「助けを呼ぶ」 button, on every resident screen.
    CallForHelp,
    /// What the store says about the newest call for help (the app reads it after
    /// each sync round, and when asked).
    HelpNews(Option<HelpNews>),
    /// The help screen's 「とじる」.
    CloseHelp,
    /// The household's residents (id, name), two or more: the tablet asks who is there.
    WhoIsThere(Vec<(i64, String)>),
    /// After a restart: a snow watch was running for this resident, started and last
    /// armed at these times (the app reads it from the store at start).
    WatchResumed(Resident, NaiveDateTime, NaiveDateTime),
    /// The household's check-in schedules (read every minute).
    Schedule(Vec<Due>),
    /// The household's medicine times and today's doses (read every minute).
    Medicine(Vec<crate::store::MedicineToday>),
    Staff(StaffInput),
    /// The result of a strong sign-in (PIN, and the card's signature) for a card link
    /// or a PIN sign-in: tries left on failure.
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
    /// What the workers' health says to the resident (the notice line).
    Notice(String),
    /// Whether the tablet can hear at all (a speech worker runs): without it the
    /// screens never say 「お話しください」 nor show the listening light.
    Hearing(bool),
    /// The signed-in resident's text size.
    TextScale(f32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInInput {
    Digit(u8),
    Erase,
    Submit,
    Cancel,
    Staff,
    /// The who-is-there screen's name button, by position.
    Chose(usize),
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
        /// The habit score and this week's active days with this session counted:
        /// they travel to the office with it.
        progress: crate::store::Progress,
    },
    SafetyAnswer {
        resident: i64,
        campaign: u64,
        needs_help: bool,
    },
    /// Today's plan, kept for tomorrow's planner and the score (local only: the office
    /// sees what was done, not what was offered).
    Plan {
        resident: i64,
        plan: Plan,
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
    /// The tablet asked these residents by itself (local only: a restart inside the
    /// window must not ask once more).
    Asked {
        residents: Vec<i64>,
        at: NaiveDateTime,
    },
    /// The tablet asked about a dose (local only: a restart does not ask again).
    MedicineAsked {
        resident: i64,
        slot: care::medicine::Slot,
        at: NaiveDateTime,
    },
    /// Small talk on this topic today (local only: no topic again within two weeks;
    /// never what was said).
    Talked {
        resident: i64,
        topic: String,
        day: chrono::NaiveDate,
    },
    /// A dose kept or missed: to the office.
    Medicine {
        resident: i64,
        day: chrono::NaiveDate,
        slot: care::medicine::Slot,
        kept: bool,
    },
    /// The chair-stand test was offered today (local only: not again within a week).
    StandOffered {
        resident: i64,
        day: chrono::NaiveDate,
    },
    /// The chair-stand test's count: to the office.
    ChairStand {
        resident: i64,
        day: chrono::NaiveDate,
        count: u8,
    },
    /// In the small talk she said she was low or lonely: the meaning only, to the office.
    MoodNoted {
        resident: i64,
        day: chrono::NaiveDate,
        mood: Intent,
    },
    /// The weekly talk about the day and three words was begun today (local only:
    /// not again within a week).
    MemoryAsked {
        resident: i64,
        day: chrono::NaiveDate,
    },
    /// A part of the weekly talk: how many answers were right, to the office.
    MemoryNoted {
        resident: i64,
        day: chrono::NaiveDate,
        part: vocab::MemoryPart,
        right: u8,
        of: u8,
    },
    /// A town announcement was read to the resident, all of it: to the office.
    NewsHeard {
        resident: i64,
        announcement: u64,
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
    /// The next `Listen` also reads its answer for these choices (written forms).
    Expect(Vec<Vec<String>>),
    StopListening,
    Record(Record),
    /// Send the outbox now (help requests must not wait for the next poll).
    SyncNow,
    /// Ask the card worker for a strong sign-in with these typed digits.
    StrongSignIn {
        digits: String,
    },
    /// Find the household's resident (a call for help, a campaign): the first one,
    /// without asking.
    FindHousehold,
    /// A check-in is starting (a touch, or the window): in a household of one, its
    /// resident; of two or more, ask who is there ([`Input::WhoIsThere`]).
    WhoIsThere,
    /// Sign in the resident the who-is-there screen's button named.
    SignInResident(i64),
    /// The tablet is about to speak by itself: wake the screen and play a soft chime.
    Chime,
    /// Read where the newest call for help is, and report it as [`Input::HelpNews`].
    ReadHelp,
    Staff(crate::flow::staff::StaffEffect),
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
    pub help: HelpView,
    pub staff: crate::flow::staff::StaffView,
    /// The gentle line at the top of every screen (「マイクが使えないので…」); empty when all is well.
    pub notice: String,
    /// The resident's text size (1.0 = the theme's); `None` until a resident's settings apply.
    pub text_scale: Option<f32>,
    /// The tablet can hear (see [`Input::Hearing`]); the listening light shows only then.
    pub hearing: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignInView {
    pub message: String,
    pub detail: String,
    pub keypad: bool,
    pub pin_length: usize,
    pub tries: String,
    /// The who-is-there screen's name buttons (empty otherwise).
    pub names: Vec<String>,
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
    /// "plan" | "guide" | "stand" (the chair-stand test's 30 seconds) | "done" | "rest"
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
    /// The stamp card: the last seven days, oldest first, today last.
    pub stamps: Vec<Stamp>,
}

/// One day on the stamp card.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stamp {
    /// 「月」…「日」, or 「今日」.
    pub day: String,
    /// `done` (exercised), `rest` (a rest day the tablet advised) or empty.
    pub state: &'static str,
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

#[derive(Debug, Clone, PartialEq, Default)]
pub struct HelpView {
    /// "sending" | "unsent" | "refused" | "delivered" | "taken-on" | "unregistered"
    pub phase: &'static str,
    pub caption: String,
    /// The resident's contacts, shown while the office does not have the call.
    pub contacts: Vec<String>,
    pub show_119: bool,
    pub can_close: bool,
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
    /// The check-in's closing was said: offer small talk.
    OfferTalk,
    /// The chair-stand test's 「はじめ」 was said: its 30 seconds start.
    StandGo,
    /// The check-in's closing was said: read the town's news.
    ReadNews,
    /// An announcement was said, all of it: it was heard.
    NewsRead,
    /// The check-in's closing was said: the weekly day question.
    AskMemory,
    /// The three words' intro was said: the words.
    SayWords,
    /// The recall's last line was said: the habit score.
    Score,
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
    /// A resident with a PIN sign-in, and the card they held, until the card has
    /// checked the PIN they type.
    verifying: Option<(Resident, String)>,
    /// The call for help the help screen follows.
    help: Option<help::HelpCall>,
    /// The help button was pressed with nobody signed in: the household's resident
    /// is being looked up for the call.
    /// The who-is-there screen's residents (id, name), in button order, and since when
    /// it has been asking.
    who: Vec<(i64, String)>,
    who_since: Option<NaiveDateTime>,
    help_wanted: bool,
    /// The household's check-in schedules, and when the tablet asked whom today.
    due: Vec<Due>,
    asked: Vec<(i64, NaiveDateTime)>,
    /// The household's medicine times and doses as last read, and what the controller
    /// asked and recorded since (merged until the next read).
    medicine: Vec<crate::store::MedicineToday>,
    medicine_asked: Vec<(i64, care::medicine::Slot, NaiveDateTime)>,
    medicine_kept: Vec<(i64, care::medicine::Slot, chrono::NaiveDate, bool)>,
    /// The medicine question on screen.
    dose: Option<medicine::DoseAsk>,
    /// Small talk (or its offer) on screen, and whom it was offered to on which day.
    talk: Option<smalltalk::TalkState<'c>>,
    talk_offered: Vec<(i64, chrono::NaiveDate)>,
    /// The chair-stand test (or its offer) on, and whom it was offered to on which day.
    stand: Option<chairstand::Stand>,
    stand_offered: Vec<(i64, chrono::NaiveDate)>,
    /// Town news being read after the check-in.
    news: Option<news::NewsState>,
    /// A question of the weekly talk on screen; the resident and day whose exercises
    /// open with the three words; the words kept for the recall after them.
    memory: Option<memory::MemoryAsk>,
    words_kept: Option<(i64, chrono::NaiveDate)>,
    recall: Option<care::memory::WordSet>,
    /// Choices the next listening reads its answer for (see [`Effect::Expect`]).
    expect: Vec<Vec<String>>,
    /// The forecast in words, for the day's weather topic.
    forecast: String,
    /// The tablet is starting a check-in by itself: the household is being looked up.
    starting: bool,
    /// Since when the shown question has waited for an answer (any input or new turn
    /// starts it again); see [`ASK_AGAIN_UNANSWERED`].
    answer_since: Option<NaiveDateTime>,
    staff: Staff,
    now: NaiveDateTime,
    view: View,
}

impl<'c> Flow<'c> {
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
            verifying: None,
            help: None,
            who: Vec::new(),
            who_since: None,
            help_wanted: false,
            due: vec![],
            asked: vec![],
            medicine: vec![],
            medicine_asked: vec![],
            medicine_kept: vec![],
            dose: None,
            talk: None,
            talk_offered: vec![],
            stand: None,
            stand_offered: vec![],
            news: None,
            memory: None,
            words_kept: None,
            recall: None,
            expect: vec![],
            forecast: String::new(),
            starting: false,
            answer_since: None,
            staff: Staff::new(),
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

    /// The controller's clock (the last tick).
    pub fn now(&self) -> NaiveDateTime {
        self.now
    }

    /// Feeds one input; returns the effects, in order.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        let mut fx = Vec::new();
        if matches!(input, Input::Household(_)) {
            // The lookup a scheduled start asked for came back (used like a touch).
            self.starting = false;
        }
        match input {
            Input::Tick(now) => self.tick(now, &mut fx),
            Input::Notice(line) => self.view.notice = line,
            Input::Hearing(on) => self.view.hearing = on,
            Input::TextScale(scale) => self.view.text_scale = Some(scale),
            Input::Touch if self.screen == Screen::Idle => fx.push(Effect::WhoIsThere),
            Input::WhoIsThere(names) => self.ask_who_is_there(names, &mut fx),
            Input::Touch => {}
            Input::CardReading if self.screen == Screen::Idle => {
                self.show(Screen::SignIn);
                self.view.signin =
                    SignInView { message: "カードを確認しています".into(), ..Default::default() };
            }
            Input::CardReading => {}
            Input::CardRead(found, card)
                if matches!(self.screen, Screen::Idle | Screen::SignIn) && !self.linking =>
            {
                match found {
                    Some(resident) if resident.pin_sign_in => self.ask_card_pin(resident, card, &mut fx),
                    Some(resident) => self.start_checkin(resident, &mut fx),
                    None => self.not_registered(&mut fx),
                }
            }
            Input::Household(found) if self.help_wanted => self.help_for_household(found, &mut fx),
            Input::Household(found)
                if matches!(self.screen, Screen::Idle | Screen::SignIn)
                    && !self.linking
                    && self.verifying.is_none() =>
            {
                match found {
                    Some(resident) if resident.pin_sign_in => self.ask_for_card(&resident, &mut fx),
                    Some(resident) => self.start_checkin(resident, &mut fx),
                    None => self.not_registered(&mut fx),
                }
            }
            Input::CardRead(..) | Input::Household(_) => {}
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
            Input::CallForHelp => self.call_for_help(&mut fx),
            Input::HelpNews(news) => self.help_news(news, &mut fx),
            Input::WatchResumed(resident, started, armed) => self.resume_watch(resident, started, armed),
            Input::CloseHelp => self.close_help(&mut fx),
            Input::Schedule(due) => self.due = due,
            Input::Medicine(m) => self.medicine = m,
            Input::Staff(StaffInput::LinkCard) if self.screen == Screen::Staff => self.start_linking(&mut fx),
            Input::Staff(s) => {
                if s == StaffInput::Enter {
                    self.verifying = None;
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
                self.forecast = w.as_ref().map(|(_, text)| text.clone()).unwrap_or_default();
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
        if screen != Screen::Checkin {
            // The medicine question lives on the question screen only: a campaign, the
            // help button or staff mode taking the screen ends it (the reminder follows).
            self.dose = None;
            self.talk = None;
            self.news = None;
            self.memory = None;
            self.expect.clear();
            if screen != Screen::Exercise {
                // The chair-stand test runs on the exercise screen too; anything else ends it.
                self.stand = None;
            }
        }
        self.screen = screen;
        self.view.screen = Some(screen);
    }

    fn go_idle(&mut self, fx: &mut Vec<Effect>) {
        fx.push(Effect::StopListening);
        self.dose = None;
        self.talk = None;
        self.stand = None;
        self.news = None;
        self.words_kept = None;
        self.recall = None;
        self.show(Screen::Idle);
        self.resident = None;
        self.dialogue = None;
        self.guide = None;
        self.plan = None;
        self.then = Then::Nothing;
        self.pin = PinPad::default();
        self.who.clear();
        self.who_since = None;
        self.view.signin.names.clear();
        self.verifying = None;
        self.view.checkin = CheckinView::default();
        self.view.signin = SignInView::default();
        if self.help.is_some() {
            // A call not closed holds the screen (staff leaving, a score closed).
            self.show_help(fx, false);
            return;
        }
        if let Some(c) = self.pending_campaign.take() {
            self.campaign_arrived(c, fx);
        }
    }

    /// A moment a campaign may interrupt: nothing being said, no help flow running.
    fn calm(&self) -> bool {
        !matches!(self.step, Step::HelpConfirm)
            && self.screen != Screen::Safety
            && self.screen != Screen::Staff
            && self.screen != Screen::Help
    }

    fn tick(&mut self, now: NaiveDateTime, fx: &mut Vec<Effect>) {
        self.now = now;
        self.help_tick(fx);
        self.who_tick(fx);
        self.unanswered_tick(fx);
        self.schedule_tick(fx);
        if self.screen == Screen::Exercise {
            self.stand_tick(fx);
        }
        if self.screen == Screen::Snow
            && let Some(watch) = self.watch.as_mut()
        {
            let step = watch.tick(now);
            self.apply_watch(step, fx);
        }
    }
}

fn say(lines: &[&str]) -> Effect {
    Effect::Say { lines: lines.iter().map(|s| s.to_string()).collect(), slow: false }
}

/// The idle screen's weather line: warnings and the heat alert first, a heat index worth
/// heeding (WBGT 25 or more, 警戒 and up), then the forecast, snow and temperature.
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
    if let Some(c) = w.wbgt_c.filter(|c| *c >= 25.0) {
        parts.push(format!("暑さ指数 {c:.0}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn care() -> &'static Care {
        Box::leak(Box::new(Care::load(dialect_model::data::dir()).unwrap()))
    }

    /// A controller in staff mode on the card-link PIN pad, card reporting `tries`.
    fn linking(tries: u8) -> Flow<'static> {
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        flow.handle(Input::Staff(StaffInput::Enter));
        flow.handle(Input::Staff(StaffInput::Digit(1)));
        flow.handle(Input::Staff(StaffInput::Submit));
        flow.handle(Input::Staff(StaffInput::PinChecked(crate::flow::staff::PinCheck::Right)));
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

    pub(super) fn guarded(pin_sign_in: bool) -> Resident {
        Resident {
            id: 3,
            name: "山田".into(),
            profile: Default::default(),
            history: vec![],
            talked: vec![],
            interests: vec![],
            stand: Default::default(),
            news: vec![],
            memory_last: None,
            memory_off: false,
            known_since: None,
            pin_sign_in,
        }
    }

    fn strong(fx: &[Effect]) -> Option<&str> {
        fx.iter().find_map(|e| match e {
            Effect::StrongSignIn { digits } => Some(digits.as_str()),
            _ => None,
        })
    }

    #[test]
    fn a_pin_sign_in_starts_the_check_in_only_for_the_right_pin_from_the_same_card() {
        let card = "cd".repeat(32);
        let now = "2026-12-14T07:05:00".parse().unwrap();
        // Without the rule, the card is enough.
        let mut open = Flow::new(care(), now);
        open.handle(Input::CardRead(Some(guarded(false)), card.clone()));
        assert_eq!(open.screen(), Screen::Checkin);

        let mut flow = Flow::new(care(), now);
        flow.handle(Input::CardTries(Some(3)));
        flow.handle(Input::CardRead(Some(guarded(true)), card.clone()));
        assert_eq!(flow.screen(), Screen::SignIn);
        assert!(flow.view().signin.keypad && flow.view().signin.message.contains("山田さん"));
        // Three digits are not sent; four are, once.
        for d in [1, 2, 3] {
            flow.handle(Input::SignIn(SignInInput::Digit(d)));
        }
        assert_eq!(strong(&flow.handle(Input::SignIn(SignInInput::Submit))), None);
        assert!(flow.view().signin.detail.contains("4けた"));
        for _ in 0..3 {
            flow.handle(Input::SignIn(SignInInput::Erase));
        }
        let fx = type_pin(&mut flow, [1, 2, 3, 4]);
        assert_eq!(strong(&fx), Some("1234"));
        flow.handle(Input::PinResult(PinVerdict::Wrong { tries_left: 2 }));
        assert_eq!(flow.screen(), Screen::SignIn);
        assert!(flow.view().signin.detail.contains("あと2回") && flow.view().signin.keypad);
        // The right PIN, but from another card laid on the reader meanwhile.
        type_pin(&mut flow, [2, 4, 6, 8]);
        flow.handle(Input::PinResult(PinVerdict::Ok { identity_hex: "ef".repeat(32) }));
        assert_eq!(flow.screen(), Screen::SignIn);
        assert!(flow.view().signin.message.contains("ちがうカード"));
        // Again with the same card: the check-in.
        flow.handle(Input::CardRead(Some(guarded(true)), card.clone()));
        type_pin(&mut flow, [2, 4, 6, 8]);
        flow.handle(Input::PinResult(PinVerdict::Ok { identity_hex: card.clone() }));
        assert_eq!(flow.screen(), Screen::Checkin);
        assert_eq!(flow.resident().map(|r| r.id), Some(3));
    }

    #[test]
    fn a_pin_sign_in_never_spends_the_last_try_and_a_touch_asks_for_the_card() {
        let card = "cd".repeat(32);
        let now = "2026-12-14T07:05:00".parse().unwrap();
        let mut flow = Flow::new(care(), now);
        flow.handle(Input::CardTries(Some(2)));
        flow.handle(Input::CardRead(Some(guarded(true)), card.clone()));
        assert!(strong(&type_pin(&mut flow, [1, 1, 1, 1])).is_some());
        flow.handle(Input::PinResult(PinVerdict::Wrong { tries_left: 1 }));
        assert!(!flow.view().signin.keypad, "the keypad closes before the last try");
        assert!(flow.view().signin.message.contains("職員と一緒に"));
        assert_eq!(strong(&type_pin(&mut flow, [2, 4, 6, 8])), None, "nothing is sent");
        for (verdict, says) in [
            (PinVerdict::Blocked, "ロックされています"),
            (PinVerdict::Failed("カードが離れました。".into()), "カードが離れました"),
        ] {
            let mut flow = Flow::new(care(), now);
            flow.handle(Input::CardRead(Some(guarded(true)), card.clone()));
            type_pin(&mut flow, [1, 2, 3, 4]);
            flow.handle(Input::PinResult(verdict));
            assert!(flow.view().signin.message.contains(says), "{:?}", flow.view().signin);
            assert_ne!(flow.screen(), Screen::Checkin);
        }
        // A touch start for this resident asks for the card; cancel goes back to idle.
        let mut flow = Flow::new(care(), now);
        flow.handle(Input::Household(Some(guarded(true))));
        assert_eq!(flow.screen(), Screen::SignIn);
        assert!(flow.view().signin.message.contains("カードをかざして") && !flow.view().signin.keypad);
        flow.handle(Input::SignIn(SignInInput::Cancel));
        assert_eq!(flow.screen(), Screen::Idle);
    }

    #[test]
    fn a_good_pin_queues_the_card_link() {
        let mut flow = linking(3);
        flow.handle(Input::Staff(StaffInput::Loaded(Some((7, crate::flow::staff::Settings::default())))));
        type_pin(&mut flow, [1, 2, 3, 4]);
        let fx = flow.handle(Input::PinResult(PinVerdict::Ok { identity_hex: "ab".repeat(32) }));
        assert!(
            fx.contains(&Effect::Record(Record::CardLink { resident: 7, identity_hex: "ab".repeat(32) })),
            "{fx:?}"
        );
        assert_eq!(flow.screen(), Screen::Staff);
    }

    fn news(state: (bool, Option<&str>, bool)) -> Input {
        let (delivered, handler, offline) = state;
        Input::HelpNews(Some(HelpNews {
            resident: 3,
            raised_at: "2026-12-14T07:05:00".parse().unwrap(),
            delivered,
            refused: false,
            handler: handler.map(str::to_owned),
            offline,
            contacts: vec!["長男　一郎　090-1234-5678".into()],
        }))
    }

    /// A real clock has fractions of a second; the store keeps whole seconds. The
    /// store's word on the call still counts (found by the kiosk binary's journey: the
    /// screen stayed on 「送っています」 while the office had the call).
    #[test]
    fn a_call_raised_between_seconds_still_hears_that_it_arrived() {
        let now: NaiveDateTime = "2026-12-14T07:04:59.750".parse().unwrap();
        let mut flow = Flow::new(care(), now);
        flow.handle(Input::Tick("2026-12-14T07:05:00.250".parse().unwrap()));
        flow.handle(Input::CallForHelp);
        flow.handle(Input::Household(Some(guarded(false))));
        assert_eq!(flow.view().help.phase, "sending");
        flow.handle(news((true, None, false)));
        assert_eq!(flow.view().help.phase, "delivered");
    }

    #[test]
    fn the_help_button_on_idle_calls_for_the_household_and_the_screen_only_moves_forward() {
        let now = "2026-12-14T07:05:00".parse().unwrap();
        let mut flow = Flow::new(care(), now);
        assert_eq!(flow.handle(Input::CallForHelp), vec![Effect::FindHousehold]);
        let fx = flow.handle(Input::Household(Some(guarded(true))));
        assert!(
            fx.iter().any(|e| matches!(
                e,
                Effect::Record(Record::Care {
                    resident: 3,
                    event: CareEvent::HelpAlert { confirmed: true, .. }
                })
            )),
            "the call is recorded for her, PIN rule or not: {fx:?}"
        );
        assert!(fx.contains(&Effect::SyncNow) && fx.contains(&Effect::ReadHelp), "{fx:?}");
        assert_eq!(flow.screen(), Screen::Help);
        assert_eq!(flow.view().help.phase, "sending");
        assert!(!flow.view().help.can_close);
        // Offline: not sent yet, contacts and 119; a later "sending" does not undo it.
        flow.handle(news((false, None, true)));
        assert_eq!(flow.view().help.phase, "unsent");
        assert!(flow.view().help.show_119 && flow.view().help.contacts.len() == 1);
        flow.handle(news((false, None, false)));
        assert_eq!(flow.view().help.phase, "unsent");
        flow.handle(news((true, None, false)));
        assert_eq!(flow.view().help.phase, "delivered");
        assert!(flow.view().help.caption.contains("届きました") && !flow.view().help.show_119);
        flow.handle(news((true, Some("民生委員"), false)));
        assert!(flow.view().help.caption.contains("民生委員"));
        flow.handle(news((true, None, false)));
        assert_eq!(flow.view().help.phase, "taken-on", "taken on stays taken on");
        // Staff coming and going do not lose it; 「とじる」 does.
        flow.handle(Input::Staff(StaffInput::Enter));
        flow.handle(Input::Staff(StaffInput::Leave));
        assert_eq!(flow.screen(), Screen::Help);
        flow.handle(Input::CloseHelp);
        assert_eq!(flow.screen(), Screen::Idle);
    }

    #[test]
    fn a_call_still_sending_after_half_a_minute_is_told_as_not_there_yet() {
        let now: NaiveDateTime = "2026-12-14T07:05:00".parse().unwrap();
        let mut flow = Flow::new(care(), now);
        flow.handle(Input::CallForHelp);
        flow.handle(Input::Household(Some(guarded(false))));
        flow.handle(Input::Tick(now + chrono::TimeDelta::seconds(29)));
        assert_eq!(flow.view().help.phase, "sending");
        let fx = flow.handle(Input::Tick(now + chrono::TimeDelta::seconds(30)));
        assert_eq!(flow.view().help.phase, "unsent");
        assert!(
            fx.iter().any(|e| matches!(e, Effect::Say { lines, .. } if lines[0].contains("119"))),
            "{fx:?}"
        );
        assert!(!flow.view().help.can_close, "closing waits for someone to take it on");
    }

    #[test]
    fn with_nobody_registered_the_help_button_says_so_and_shows_119() {
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        flow.handle(Input::CallForHelp);
        let fx = flow.handle(Input::Household(None));
        assert!(!fx.iter().any(|e| matches!(e, Effect::Record(_))), "nothing to record: {fx:?}");
        assert_eq!(flow.view().help.phase, "unregistered");
        assert!(flow.view().help.show_119 && flow.view().help.can_close);
    }

    #[test]
    fn the_help_button_mid_check_in_ends_it_as_a_call_without_asking_to_confirm() {
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        flow.handle(Input::CardRead(Some(guarded(false)), "cd".repeat(32)));
        assert_eq!(flow.screen(), Screen::Checkin);
        let fx = flow.handle(Input::CallForHelp);
        let said: Vec<&String> = fx
            .iter()
            .filter_map(|e| match e {
                Effect::Say { lines, .. } => Some(lines),
                _ => None,
            })
            .flatten()
            .collect();
        assert!(!said.iter().any(|l| l.contains("ということですね")), "not asked to confirm: {said:?}");
        let check_in = fx.iter().find_map(|e| match e {
            Effect::Record(Record::Care { event: CareEvent::Checkin(r), .. }) => Some(r.outcome),
            _ => None,
        });
        assert_eq!(check_in, Some(care::record::Outcome::HelpRequested), "{fx:?}");
        assert_eq!(flow.screen(), Screen::Help);
    }

    #[test]
    fn exercise_declined_in_the_check_in_ends_at_idle_with_no_plan() {
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        flow.handle(Input::CardRead(Some(guarded(false)), "cd".repeat(32)));
        let mut effects = vec![];
        // 元気です, よく眠れた, 食べられる, ありません, 今日はやめておく, ありません.
        for i in [0, 0, 0, 0, 1, 0] {
            effects.extend(flow.handle(Input::Answer(i)));
        }
        effects.extend(flow.handle(Input::SpeechDone));
        effects.extend(decline_talk(&mut flow));
        assert_eq!(flow.screen(), Screen::Idle);
        assert!(!effects.iter().any(|e| matches!(e, Effect::Record(Record::Plan { .. }))), "{effects:?}");
    }

    /// The small talk offered after a check-in: 「またね」.
    fn decline_talk(flow: &mut Flow<'_>) -> Vec<Effect> {
        assert_eq!(flow.view().checkin.buttons, ["話す", "またね"], "the offer: {:?}", flow.view().checkin);
        flow.handle(Input::Answer(1))
    }

    fn due(window: Option<(&str, &str)>) -> Due {
        Due {
            resident: 3,
            window: window.map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap())),
            paused: false,
            done_today: false,
            reprompt: false,
            reprompt_unasked: false,
            asked: vec![],
        }
    }

    fn asks(flow: &mut Flow<'_>, at: &str) -> bool {
        let at: NaiveDateTime = format!("2026-12-14T{at}").parse().unwrap();
        flow.handle(Input::Tick(at)).contains(&Effect::WhoIsThere)
    }

    #[test]
    fn the_tablet_asks_at_the_window_again_after_a_while_then_leaves_it_to_the_office() {
        let mut flow = Flow::new(care(), "2026-12-14T06:00:00".parse().unwrap());
        flow.handle(Input::Schedule(vec![due(Some(("07:00", "10:00")))]));
        assert!(!asks(&mut flow, "06:59:59"), "not before the window");
        assert!(asks(&mut flow, "07:00:00"));
        flow.handle(Input::Household(Some(guarded(false))));
        assert_eq!(flow.screen(), Screen::Checkin);
        assert!(
            flow.view().checkin.caption.contains("山田"),
            "greets by name: {}",
            flow.view().checkin.caption
        );
        for _ in 0..3 {
            flow.handle(Input::Silence);
        }
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Idle, "unanswered: back to idle, no plan");
        assert!(!asks(&mut flow, "07:19:59"));
        assert!(asks(&mut flow, "07:20:00"), "asks again after a while");
        flow.handle(Input::Household(Some(guarded(false))));
        for _ in 0..3 {
            flow.handle(Input::Silence);
        }
        flow.handle(Input::SpeechDone);
        assert!(!asks(&mut flow, "08:30:00"), "twice a day by itself; then the office's escalation");
        // The office's re-prompt: once more, even after the window.
        let mut again = due(Some(("07:00", "10:00")));
        again.reprompt = true;
        flow.handle(Input::Schedule(vec![again]));
        assert!(asks(&mut flow, "11:00:00"));
    }

    fn noon_medicine() -> crate::store::MedicineToday {
        crate::store::MedicineToday {
            resident: 3,
            name: "山田".into(),
            doses: vec![care::medicine::Dose {
                slot: care::medicine::Slot::Noon,
                at: "12:30:00".parse().unwrap(),
            }],
            days: vec![],
        }
    }

    /// A check-in due comes first; the medicine question waits for the next quiet
    /// moment, and is asked by name.
    #[test]
    fn a_due_check_in_comes_before_the_medicine_question() {
        let mut flow = Flow::new(care(), "2026-12-14T12:00:00".parse().unwrap());
        flow.handle(Input::Schedule(vec![due(Some(("12:30", "13:00")))]));
        flow.handle(Input::Medicine(vec![noon_medicine()]));
        assert!(asks(&mut flow, "12:30:00"), "the check-in first");
        assert_eq!(flow.screen(), Screen::Idle, "who is there is being looked up");
        unanswered(&mut flow);
        let fx = flow.handle(Input::Tick("2026-12-14T12:30:05".parse().unwrap()));
        assert!(fx.iter().any(|e| matches!(e, Effect::Record(Record::MedicineAsked { .. }))), "{fx:?}");
        assert_eq!(flow.view().checkin.caption, "山田さん、お昼のお薬、飲みましたか？");
    }

    /// In a pause the office set, no medicine question is asked and no dose is marked
    /// missed (a hospital stay must not raise お薬の飲み忘れ).
    #[test]
    fn a_pause_silences_the_medicine_question() {
        let mut flow = Flow::new(care(), "2026-12-14T12:00:00".parse().unwrap());
        let mut paused = due(None);
        paused.paused = true;
        flow.handle(Input::Schedule(vec![paused]));
        flow.handle(Input::Medicine(vec![noon_medicine()]));
        for t in ["12:30:00", "13:00:00", "13:30:00", "14:00:00"] {
            let fx = flow.handle(Input::Tick(format!("2026-12-14T{t}").parse().unwrap()));
            assert!(!fx.iter().any(|e| matches!(e, Effect::Record(_))), "{t}: {fx:?}");
            assert_eq!(flow.screen(), Screen::Idle, "{t}");
        }
    }

    /// 「飲みました」 and 「まだ飲んでね」 are heard as done and not done (the classifier's
    /// exercised / not_exercised): a yes and a no to 「飲みましたか？」.
    #[test]
    fn done_and_not_done_answer_the_medicine_question() {
        for (said, kept) in [(Intent::Exercised, true), (Intent::NotExercised, false), (Intent::Yes, true)] {
            let mut flow = Flow::new(care(), "2026-12-14T12:00:00".parse().unwrap());
            flow.handle(Input::Medicine(vec![noon_medicine()]));
            flow.handle(Input::Tick("2026-12-14T12:30:00".parse().unwrap()));
            flow.handle(Input::SpeechDone);
            let fx =
                flow.handle(Input::Heard(Understanding { confidence: 0.4, ..Understanding::sure(said) }));
            let recorded = fx.iter().find_map(|e| match e {
                Effect::Record(Record::Medicine { kept, .. }) => Some(*kept),
                _ => None,
            });
            // 「まだ」 is not recorded at once: the reminder follows.
            let expected = if kept { Some(true) } else { None };
            assert_eq!(recorded, expected, "{said:?}: {fx:?}");
            assert!(
                flow.view().checkin.caption != "山田さん、お昼のお薬、飲みましたか？",
                "{said:?} was understood"
            );
        }
    }

    /// A danger said instead of an answer goes to the help flow with its own
    /// confirmation, for the resident asked; nothing is recorded about the dose.
    #[test]
    fn a_danger_said_to_the_medicine_question_goes_to_the_help_flow() {
        let mut flow = Flow::new(care(), "2026-12-14T12:00:00".parse().unwrap());
        flow.handle(Input::Medicine(vec![noon_medicine()]));
        flow.handle(Input::Tick("2026-12-14T12:30:00".parse().unwrap()));
        assert_eq!(flow.screen(), Screen::Checkin);
        let fire = danger_said(care::understanding::Danger::Fire);
        let fx = flow.handle(Input::Heard(fire));
        assert_eq!(flow.step, Step::HelpConfirm, "{fx:?}");
        assert!(flow.view().checkin.caption.contains("火事"), "{}", flow.view().checkin.caption);
        assert_eq!(flow.resident().map(|r| r.id), Some(3));
        assert!(!fx.iter().any(|e| matches!(e, Effect::Record(Record::Medicine { .. }))), "{fx:?}");
        // Silence at the confirmation raises the alert, as in the check-in.
        let fx = flow.handle(Input::Silence);
        assert!(
            fx.iter().any(|e| matches!(
                e,
                Effect::Record(Record::Care { event: CareEvent::HelpAlert { .. }, .. })
            )),
            "{fx:?}"
        );
    }

    /// A danger named surely (「火事だ」): what the speech worker reports.
    fn danger_said(danger: care::understanding::Danger) -> Understanding {
        Understanding {
            intent: Intent::Emergency,
            body_part: None,
            confidence: 0.9,
            critical: true,
            danger: Some(danger),
            count: None,
            named: 0,
            last_named: None,
        }
    }

    /// A check-in answered by buttons up to its closing (exercise declined).
    fn checked_in_by_buttons(flow: &mut Flow<'_>) {
        flow.handle(Input::CardRead(Some(guarded(false)), "cd".repeat(32)));
        for i in [0, 0, 0, 0, 1, 0] {
            flow.handle(Input::Answer(i));
        }
        flow.handle(Input::SpeechDone);
    }

    /// After the check-in the small talk is offered once; accepted, any answer gets a
    /// backchannel and the next turn, 「またね」 ends it with the closing, and the day
    /// goes on where the check-in led; the topic (only) is recorded; no second offer
    /// that day.
    #[test]
    fn small_talk_is_offered_once_after_the_check_in_and_ends_at_any_turn() {
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        checked_in_by_buttons(&mut flow);
        assert_eq!(flow.screen(), Screen::Checkin);
        assert_eq!(flow.view().checkin.caption, care().smalltalk.offer);
        let fx = flow.handle(Input::Answer(0));
        let topic = fx
            .iter()
            .find_map(|e| match e {
                Effect::Record(Record::Talked { resident: 3, topic, .. }) => Some(topic.clone()),
                _ => None,
            })
            .expect("the topic is recorded");
        let turns = &care().smalltalk.topics.iter().find(|t| t.id == topic).unwrap().turns;
        assert_eq!(flow.view().checkin.caption, turns[0]);
        assert_eq!(flow.view().checkin.buttons, ["つづける", "またね"]);
        flow.handle(Input::SpeechDone);
        assert!(fx.iter().all(|e| !matches!(e, Effect::Listen(_))), "listens only once the turn is said");
        let fx = flow.handle(Input::Heard(Understanding::sure(Intent::Other)));
        assert!(flow.view().checkin.caption.ends_with(&turns[1]), "{}", flow.view().checkin.caption);
        assert!(!fx.iter().any(|e| matches!(e, Effect::Record(_))), "nothing said is recorded: {fx:?}");
        flow.handle(Input::Answer(1));
        assert_eq!(flow.view().checkin.caption, care().smalltalk.closing);
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Idle, "exercise was declined: idle after the talk");
        // The same day, another check-in: no second offer.
        checked_in_by_buttons(&mut flow);
        assert_eq!(flow.screen(), Screen::Idle);
    }

    fn announcement(id: u64, message: &str, until: &str) -> crate::store::Announcement {
        crate::store::Announcement { id, message: message.into(), until: until.parse().unwrap() }
    }

    fn heard_news(fx: &[Effect]) -> Vec<u64> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Record(Record::NewsHeard { resident: 3, announcement }) => Some(*announcement),
                _ => None,
            })
            .collect()
    }

    /// After the check-in, the town's news: each read whole (captioned, in short
    /// lines) and only then recorded as heard, once; 「もういちど」 reads it again
    /// without asking a second time; two at a time, an expired one never; then the
    /// small talk's offer.
    #[test]
    fn town_news_is_read_once_after_the_check_in_then_the_small_talk() {
        let lines = &care().script.news;
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        let long = "十二月十日の水曜日は、大井沢の診療所で、インフルエンザの予防接種をします、保険証を持ってきてください。";
        let resident = Resident {
            news: vec![
                announcement(6, "きのうまでのお知らせ。", "2026-12-13"),
                announcement(7, "あしたは、診療所の日です。", "2026-12-15"),
                announcement(8, long, "2026-12-14"),
                announcement(9, "日曜は、お祭りです。", "2026-12-20"),
            ],
            ..guarded(false)
        };
        flow.handle(Input::CardRead(Some(resident), "cd".repeat(32)));
        for i in [0, 0, 0, 0, 1, 0] {
            flow.handle(Input::Answer(i));
        }
        let said = |fx: &[Effect]| {
            fx.iter()
                .find_map(|e| match e {
                    Effect::Say { lines, .. } => Some(lines.clone()),
                    _ => None,
                })
                .unwrap_or_default()
        };
        // The opening alone, then her words: each page captioned as it is said.
        let fx = flow.handle(Input::SpeechDone);
        assert_eq!(said(&fx), std::slice::from_ref(&lines.first));
        assert_eq!(flow.view().checkin.caption, lines.first);
        assert!(flow.view().checkin.buttons.is_empty(), "nothing to press while it is read");
        let fx = flow.handle(Input::SpeechDone);
        assert_eq!(said(&fx), ["あしたは、診療所の日です。"]);
        assert_eq!(flow.view().checkin.caption, "あしたは、診療所の日です。");
        assert!(heard_news(&fx).is_empty(), "not heard before it is said");
        let fx = flow.handle(Input::SpeechDone);
        assert_eq!(heard_news(&fx), [7]);
        assert_eq!(flow.view().checkin.caption, lines.again);
        assert_eq!(flow.view().checkin.buttons, ["もういちど", "わかった"]);
        flow.handle(Input::SpeechDone);
        // Again, by voice: the words alone, then straight on (no second offer, no
        // second record).
        let fx = flow.handle(Input::Heard(Understanding::sure(Intent::Yes)));
        assert_eq!(said(&fx), ["あしたは、診療所の日です。"]);
        let fx = flow.handle(Input::SpeechDone);
        assert!(heard_news(&fx).is_empty());
        assert_eq!(said(&fx), std::slice::from_ref(&lines.next));
        // The second, long one: lines of at most 40 morae, pages the caption holds.
        let mut spoken = vec![];
        let mut fx = flow.handle(Input::SpeechDone);
        while heard_news(&fx).is_empty() {
            let page = said(&fx);
            assert_eq!(flow.view().checkin.caption, page.concat());
            assert!(page.concat().chars().count() <= care::news::PAGE_CHARS, "{page:?}");
            spoken.extend(page);
            fx = flow.handle(Input::SpeechDone);
        }
        assert_eq!(spoken.concat(), long);
        assert!(spoken.len() >= 2 && spoken.iter().all(|l| care::speech::morae(l) <= 40), "{spoken:?}");
        assert_eq!(heard_news(&fx), [8]);
        // Understood: the third waits for the next check-in; the small talk is offered.
        flow.handle(Input::SpeechDone);
        flow.handle(Input::Answer(1));
        assert_eq!(flow.view().checkin.caption, care().smalltalk.offer);
        assert_eq!(flow.resident().unwrap().news.iter().map(|n| n.id).collect::<Vec<_>>(), [6, 9]);
    }

    /// News cut short (the help button, a danger said at its question) is not heard;
    /// silence at its question goes on; a check-in that ends in a call reads none.
    #[test]
    fn town_news_cut_short_is_not_heard_and_silence_goes_on() {
        let start = |flow: &mut Flow<'_>| {
            let news = vec![announcement(7, "あしたは、診療所の日です。", "2026-12-15")];
            flow.handle(Input::CardRead(Some(Resident { news, ..guarded(false) }), "cd".repeat(32)));
            for i in [0, 0, 0, 0, 1, 0] {
                flow.handle(Input::Answer(i));
            }
            flow.handle(Input::SpeechDone);
        };
        let now = "2026-12-14T07:05:00".parse().unwrap();
        let mut flow = Flow::new(care(), now);
        start(&mut flow);
        let mut fx = flow.handle(Input::CallForHelp);
        fx.extend(flow.handle(Input::SpeechDone));
        assert_eq!(flow.screen(), Screen::Help);
        assert!(heard_news(&fx).is_empty(), "{fx:?}");

        let mut flow = Flow::new(care(), now);
        start(&mut flow);
        for _ in 0..3 {
            flow.handle(Input::SpeechDone);
        }
        assert_eq!(flow.view().checkin.buttons, ["もういちど", "わかった"]);
        let smoke = danger_said(care::understanding::Danger::Smoke);
        flow.handle(Input::Heard(smoke));
        assert_eq!(flow.step, Step::HelpConfirm);

        let mut flow = Flow::new(care(), now);
        start(&mut flow);
        for _ in 0..3 {
            flow.handle(Input::SpeechDone);
        }
        assert_eq!(flow.view().checkin.buttons, ["もういちど", "わかった"]);
        flow.handle(Input::Tick("2026-12-14T07:08:00".parse().unwrap()));
        assert_eq!(flow.view().checkin.caption, care().smalltalk.offer, "two minutes' silence goes on");

        // A check-in that ends in a call for help reads no news.
        let mut flow = Flow::new(care(), now);
        let news = vec![announcement(7, "あしたは、診療所の日です。", "2026-12-15")];
        flow.handle(Input::CardRead(Some(Resident { news, ..guarded(false) }), "cd".repeat(32)));
        flow.handle(Input::Heard(Understanding::sure(Intent::NeedHelp)));
        flow.handle(Input::Answer(0));
        flow.handle(Input::SpeechDone);
        assert!(!flow.view().checkin.caption.contains("お知らせ"), "{:?}", flow.view().checkin);
    }

    /// 「さみしい」 in the small talk is answered with comfort and noted for the office as
    /// its meaning and day only; an unsure one is not noted; the talk goes on.
    #[test]
    fn loneliness_in_small_talk_is_comforted_and_noted_as_a_meaning_only() {
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        checked_in_by_buttons(&mut flow);
        flow.handle(Input::Answer(0));
        flow.handle(Input::SpeechDone);
        let noted = |fx: &[Effect]| {
            fx.iter()
                .filter_map(|e| match e {
                    Effect::Record(r @ Record::MoodNoted { .. }) => Some(r.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let unsure = Understanding { confidence: 0.5, ..Understanding::sure(Intent::Lonely) };
        assert!(noted(&flow.handle(Input::Heard(unsure))).is_empty());
        flow.handle(Input::SpeechDone);
        let fx = flow.handle(Input::Heard(Understanding::sure(Intent::Lonely)));
        let day = "2026-12-14".parse().unwrap();
        assert_eq!(noted(&fx), [Record::MoodNoted { resident: 3, day, mood: Intent::Lonely }]);
        assert!(
            flow.view().checkin.caption.starts_with(&care().smalltalk.comfort),
            "{}",
            flow.view().checkin.caption
        );
    }

    /// A danger said in the small talk goes to the help flow with its confirmation.
    #[test]
    fn a_danger_said_in_small_talk_goes_to_the_help_flow() {
        let mut flow = Flow::new(care(), "2026-12-14T07:05:00".parse().unwrap());
        checked_in_by_buttons(&mut flow);
        flow.handle(Input::Answer(0));
        let smoke = danger_said(care::understanding::Danger::Smoke);
        flow.handle(Input::Heard(smoke));
        assert_eq!(flow.step, Step::HelpConfirm);
        assert_eq!(flow.view().checkin.buttons.len(), 2, "{:?}", flow.view().checkin);
    }

    /// The tablet's ask comes to nothing: three silences and back to idle.
    fn unanswered(flow: &mut Flow<'_>) {
        flow.handle(Input::Household(Some(guarded(false))));
        for _ in 0..3 {
            flow.handle(Input::Silence);
        }
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Idle);
    }

    /// A re-prompt is asked at once, even minutes after the tablet's own ask, and only
    /// once: after that ask the usual while applies again.
    #[test]
    fn the_offices_re_prompt_is_asked_at_once_and_once() {
        let at = |t: &str| -> NaiveDateTime { format!("2026-12-14T{t}").parse().unwrap() };
        let mut due = due(Some(("07:00", "09:00")));
        due.asked = vec![at("07:00:00"), at("07:20:00")];
        due.reprompt = true;
        due.reprompt_unasked = true;
        let mut flow = Flow::new(care(), at("07:30:40"));
        flow.handle(Input::Schedule(vec![due.clone()]));
        assert!(asks(&mut flow, "07:30:40"), "ten minutes after her last ask, at once");
        unanswered(&mut flow);
        // The store now says it was asked (`record_asks` marks the re-prompt).
        due.asked.push(at("07:30:40"));
        due.reprompt_unasked = false;
        flow.handle(Input::Schedule(vec![due.clone()]));
        assert!(!asks(&mut flow, "07:31:00"), "once");
        assert!(!asks(&mut flow, "08:55:00"), "three asks: the office's escalation runs");
        // Inside the window, without a re-prompt, two asks are all.
        let mut two = due;
        two.reprompt = false;
        two.asked.pop();
        let mut flow = Flow::new(care(), at("08:00:00"));
        flow.handle(Input::Schedule(vec![two.clone()]));
        assert!(!asks(&mut flow, "08:00:00"), "twice in the window already");
        // One ask only: the second comes after the while.
        two.asked.pop();
        let mut flow = Flow::new(care(), at("08:00:00"));
        flow.handle(Input::Schedule(vec![two]));
        assert!(asks(&mut flow, "08:00:00"));
    }

    /// A tablet that cannot hear (or a resident who walked away): nothing ever answers.
    /// Every two minutes the question counts as a silence and is asked again; the third
    /// ends the check-in as unanswered, the tablet goes back to idle, and it asks again
    /// after its while.
    #[test]
    fn a_question_nobody_answers_ends_as_unanswered_and_the_tablet_asks_later() {
        let at = |t: &str| -> NaiveDateTime { format!("2026-12-14T{t}").parse().unwrap() };
        let mut flow = Flow::new(care(), at("06:59:00"));
        flow.handle(Input::Hearing(false));
        flow.handle(Input::Schedule(vec![due(Some(("07:00", "10:00")))]));
        assert!(asks(&mut flow, "07:00:00"));
        flow.handle(Input::Household(Some(guarded(false))));
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Checkin);
        let mut recorded = vec![];
        for t in ["07:01:59", "07:02:00", "07:04:00", "07:06:00"] {
            let fx = flow.handle(Input::Tick(at(t)));
            recorded.extend(fx.into_iter().filter(|e| matches!(e, Effect::Record(Record::Care { .. }))));
            flow.handle(Input::SpeechDone);
            if t == "07:01:59" {
                assert!(recorded.is_empty(), "not before two minutes");
            }
        }
        assert_eq!(flow.screen(), Screen::Idle, "three unanswered askings: back to idle");
        assert!(
            matches!(&recorded[..], [Effect::Record(Record::Care { event: CareEvent::Checkin(r), .. })]
                if r.outcome == care::record::Outcome::NoAnswer),
            "{recorded:?}"
        );
        assert!(!asks(&mut flow, "07:19:59"));
        assert!(asks(&mut flow, "07:20:00"), "asked again after the while");
    }

    /// The flow's clock has fractions of a second, the store whole seconds: the ask it
    /// remembers and the one the store hands back are one ask, so the window's second
    /// ask still comes.
    #[test]
    fn an_ask_between_seconds_is_counted_once() {
        let at = |t: &str| -> NaiveDateTime { format!("2026-12-14T{t}").parse().unwrap() };
        let mut flow = Flow::new(care(), at("06:59:59.300"));
        let mut due = due(Some(("07:00", "10:00")));
        flow.handle(Input::Schedule(vec![due.clone()]));
        let fx = flow.handle(Input::Tick(at("07:00:00.600")));
        let kept = Effect::Record(Record::Asked { residents: vec![3], at: at("07:00:00") });
        assert!(fx.contains(&kept), "kept in whole seconds: {fx:?}");
        unanswered(&mut flow);
        due.asked = vec![at("07:00:00")];
        flow.handle(Input::Schedule(vec![due]));
        assert!(!asks(&mut flow, "07:19:59"));
        assert!(asks(&mut flow, "07:20:01"), "the window's second ask");
    }

    /// The asks the store kept count as the tablet's own: a tablet restarted after
    /// asking twice (a new controller, no memory) does not ask a third time, and one
    /// restarted ten minutes after asking waits the rest of the while.
    #[test]
    fn asks_kept_in_the_store_outlive_a_restart() {
        let at = |t: &str| -> NaiveDateTime { format!("2026-12-14T{t}").parse().unwrap() };
        let mut twice = due(Some(("07:00", "10:00")));
        twice.asked = vec![at("07:00:00"), at("07:20:00")];
        let mut flow = Flow::new(care(), at("07:50:00"));
        flow.handle(Input::Schedule(vec![twice]));
        assert!(!asks(&mut flow, "07:50:00"), "twice today already, before the restart");
        let mut once = due(Some(("07:00", "10:00")));
        once.asked = vec![at("07:00:00"), "2026-12-13T07:00:00".parse().unwrap(), at("07:00:00")];
        let mut flow = Flow::new(care(), at("07:10:00"));
        flow.handle(Input::Schedule(vec![once]));
        assert!(!asks(&mut flow, "07:10:00"), "ten minutes after the first ask");
        assert!(asks(&mut flow, "07:20:00"), "yesterday's ask and a double count nothing");
    }

    #[test]
    fn a_pause_a_done_check_in_or_no_window_keep_the_tablet_quiet() {
        let mut paused = due(Some(("07:00", "10:00")));
        paused.paused = true;
        let mut done = due(Some(("07:00", "10:00")));
        done.done_today = true;
        for schedule in [vec![paused], vec![done], vec![due(None)], vec![]] {
            let mut flow = Flow::new(care(), "2026-12-14T06:00:00".parse().unwrap());
            flow.handle(Input::Schedule(schedule.clone()));
            assert!(!asks(&mut flow, "08:00:00"), "{schedule:?}");
        }
        // A window across midnight.
        let mut flow = Flow::new(care(), "2026-12-14T06:00:00".parse().unwrap());
        flow.handle(Input::Schedule(vec![due(Some(("21:00", "01:00")))]));
        assert!(!asks(&mut flow, "20:00:00"));
        assert!(asks(&mut flow, "23:30:00"));
    }

    /// Two residents: at the window the tablet asks who is there, one name button each,
    /// and signs in only the one chosen; nobody choosing returns to idle.
    #[test]
    fn in_a_household_of_two_the_window_asks_who_is_there() {
        let mut flow = Flow::new(care(), "2026-12-14T06:00:00".parse().unwrap());
        let two = vec![due(Some(("07:00", "10:00"))), Due { resident: 4, ..due(Some(("07:00", "10:00"))) }];
        flow.handle(Input::Schedule(two));
        let fx = flow.handle(Input::Tick("2026-12-14T07:00:00".parse().unwrap()));
        let asked = Effect::Record(Record::Asked {
            residents: vec![3, 4],
            at: "2026-12-14T07:00:00".parse().unwrap(),
        });
        assert_eq!(fx, [asked, Effect::Chime, Effect::WhoIsThere], "kept, a soft chime, then who is there");
        let names = vec![(3, "山田".to_owned()), (4, "佐藤".to_owned())];
        flow.handle(Input::WhoIsThere(names.clone()));
        assert_eq!(flow.screen(), Screen::SignIn);
        assert_eq!(flow.view().signin.names, ["山田さん", "佐藤さん"]);
        assert_eq!(flow.handle(Input::SignIn(SignInInput::Chose(1))), vec![Effect::SignInResident(4)]);
        assert_eq!(flow.handle(Input::SignIn(SignInInput::Chose(1))), vec![], "one choice");
        // The app signs the chosen one in; they do not answer, and it ends.
        flow.handle(Input::Household(Some(guarded(false))));
        assert_eq!(flow.screen(), Screen::Checkin);
        for _ in 0..3 {
            flow.handle(Input::Silence);
        }
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Idle);
        assert!(!asks(&mut flow, "07:10:00"), "one ask served both");
        // Asked again later, nobody answers: back to idle after three minutes.
        assert!(asks(&mut flow, "07:20:00"));
        flow.handle(Input::WhoIsThere(names));
        flow.handle(Input::Tick("2026-12-14T07:22:59".parse().unwrap()));
        assert_eq!(flow.screen(), Screen::SignIn);
        flow.handle(Input::Tick("2026-12-14T07:23:00".parse().unwrap()));
        assert_eq!(flow.screen(), Screen::Idle);
        assert!(flow.view().signin.names.is_empty());
    }

    #[test]
    fn an_answered_check_in_is_not_asked_again_that_day() {
        let mut flow = Flow::new(care(), "2026-12-14T06:00:00".parse().unwrap());
        flow.handle(Input::Schedule(vec![due(Some(("07:00", "10:00")))]));
        assert!(asks(&mut flow, "07:00:00"));
        flow.handle(Input::Household(Some(guarded(false))));
        // 元気です, よく眠れた, 食べられる, ありません, 今日はやめておく, ありません.
        for i in [0, 0, 0, 0, 1, 0] {
            flow.handle(Input::Answer(i));
        }
        flow.handle(Input::SpeechDone);
        decline_talk(&mut flow);
        assert_eq!(flow.screen(), Screen::Idle);
        assert!(!asks(&mut flow, "07:30:00"));
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

    /// The office's summer report, through the tablet's store conversion: the planner's
    /// heat level and the idle line.
    #[test]
    fn the_offices_heat_risk_reaches_the_planner_and_the_idle_line() {
        use care::weather::{Conditions, Heat};
        let check = |wbgt: Option<f32>, alert: bool, max: i32, heat: Heat, line: &str| {
            let report: wire::WeatherReport = serde_json::from_value(serde_json::json!({
                "date": "2026-08-05", "weather_code": "100", "weather_text": "晴れ", "temp_max_c": max,
                "wbgt_max_c": wbgt, "heatstroke_alert": alert, "source": "jma", "fetched_at": "2026-08-04T22:00:00Z",
            }))
            .unwrap();
            let w = crate::store::care_weather(&report);
            let c = Conditions::for_day(&care().calendar, "2026-08-05".parse().unwrap(), Some(&w));
            assert_eq!((c.from_calendar, c.heat), (false, heat), "{wbgt:?} {alert}");
            assert_eq!(weather_line(&w, &report.weather_text), line, "{wbgt:?} {alert}");
        };
        check(Some(32.0), true, 35, Heat::Alert, "熱中症警戒アラート　暑さ指数 32　晴れ　35℃");
        check(Some(31.0), false, 33, Heat::Alert, "暑さ指数 31　晴れ　33℃");
        check(None, true, 29, Heat::Alert, "熱中症警戒アラート　晴れ　29℃");
        check(Some(28.4), false, 29, Heat::Caution, "暑さ指数 28　晴れ　29℃");
        check(Some(25.0), false, 30, Heat::Caution, "暑さ指数 25　晴れ　30℃");
        check(Some(24.9), false, 27, Heat::None, "晴れ　27℃");
        check(None, false, 27, Heat::None, "晴れ　27℃");
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

    /// A flow on the plan with `resident` signed in, a calm check-in behind it.
    fn at_the_plan(resident: Resident, now: &str) -> (Flow<'static>, Vec<Effect>) {
        let mut flow = Flow::new(care(), now.parse().unwrap());
        flow.resident = Some(resident);
        flow.show(Screen::Checkin);
        let mut fx = vec![];
        flow.show_plan(&mut fx);
        (flow, fx)
    }

    fn stand_recorded(fx: &[Effect]) -> Option<u8> {
        fx.iter().find_map(|e| match e {
            Effect::Record(Record::ChairStand { resident: 3, count, .. }) => Some(*count),
            _ => None,
        })
    }

    /// The monthly chair-stand test: offered before the plan, the chair checked, the
    /// 30 seconds marked by the clock, the count set by buttons and kept once, then the
    /// plan; not offered again that month.
    #[test]
    fn the_chair_stand_test_is_offered_timed_counted_and_recorded() {
        let lines = &care().script.chair_stand;
        let (mut flow, _) = at_the_plan(guarded(false), "2026-12-14T07:05:00");
        assert_eq!(flow.screen(), Screen::Checkin);
        assert_eq!(flow.view().checkin.caption, lines.offer);
        assert_eq!(flow.view().checkin.buttons, ["やってみる", "またこんど"]);
        flow.handle(Input::Answer(0));
        assert_eq!(flow.view().checkin.caption, lines.chair);
        flow.handle(Input::Answer(0));
        assert_eq!(flow.screen(), Screen::Exercise);
        assert_eq!(flow.view().exercise.phase, "stand");
        // The 30 seconds start only once 「はじめ」 has been said.
        flow.handle(Input::Tick("2026-12-14T07:06:00".parse().unwrap()));
        assert_eq!(flow.view().exercise.count, "30秒");
        flow.handle(Input::SpeechDone);
        let at = |s: &str| Input::Tick(format!("2026-12-14T07:06:{s}").parse().unwrap());
        let said = |fx: &[Effect]| {
            fx.iter()
                .filter_map(|e| match e {
                    Effect::Say { lines, .. } => Some(lines.join("")),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert!(said(&flow.handle(at("05"))).is_empty());
        assert_eq!(flow.view().exercise.count, "25秒");
        assert_eq!(said(&flow.handle(at("10"))), ["あと20秒です。"]);
        assert!(said(&flow.handle(at("11"))).is_empty(), "each mark once");
        assert_eq!(said(&flow.handle(at("20"))), ["あと10秒です。"]);
        let fx = flow.handle(at("30"));
        assert_eq!(said(&fx), [format!("{}{}", lines.end, lines.ask_count)]);
        assert_eq!(flow.screen(), Screen::Checkin);
        assert!(
            flow.view().checkin.caption.starts_with("立てた回数　10回"),
            "{}",
            flow.view().checkin.caption
        );
        assert_eq!(flow.view().checkin.buttons, ["ひとつへらす", "ひとつふやす", "これでよい"]);
        flow.handle(Input::Answer(1));
        flow.handle(Input::Answer(1));
        flow.handle(Input::Answer(0));
        assert!(flow.view().checkin.caption.starts_with("立てた回数　11回"));
        let fx = flow.handle(Input::Answer(2));
        assert_eq!(stand_recorded(&fx), Some(11));
        assert_eq!(said(&fx), ["11回、記録しました。来月も、やってみましょう。"]);
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.screen(), Screen::Exercise);
        assert_eq!(flow.view().exercise.phase, "plan");
        // Kept for the next month's offer, which starts from this count.
        let r = flow.resident.clone().unwrap();
        assert_eq!(r.stand.last_test, Some(("2026-12-14".parse().unwrap(), 11)));
        // Not again within 28 days of the last test, nor within a week of an offer.
        let day = |d: &str| Some(d.parse::<chrono::NaiveDate>().unwrap());
        for (last_test, last_offer, offered) in [
            (day("2026-11-17"), day("2026-11-17"), false),
            (day("2026-11-16"), day("2026-11-16"), true),
            (day("2026-11-16"), day("2026-12-08"), false),
            (day("2026-11-16"), day("2026-12-07"), true),
            (None, day("2026-12-08"), false),
        ] {
            let stand = care::chairstand::StandDays { last_test: last_test.map(|d| (d, 11)), last_offer };
            let r = Resident { stand, ..guarded(false) };
            let (flow, _) = at_the_plan(r, "2026-12-14T07:05:00");
            assert_eq!(flow.view().checkin.caption == lines.offer, offered, "{last_test:?} {last_offer:?}");
        }
    }

    /// A count said is shown and kept on a yes; 「やめる」 in the 30 seconds records
    /// nothing; 「またこんど」 and silence skip it for today; a danger goes to help.
    #[test]
    fn the_chair_stand_test_by_voice_stopped_declined_and_in_danger() {
        let lines = &care().script.chair_stand;
        let heard = |intent: Intent, count: Option<u8>| {
            Input::Heard(Understanding { count, ..Understanding::sure(intent) })
        };
        let running = || {
            let (mut flow, _) = at_the_plan(guarded(false), "2026-12-14T07:05:00");
            flow.handle(heard(Intent::Yes, None));
            flow.handle(heard(Intent::Yes, None));
            flow.handle(Input::SpeechDone);
            flow
        };
        let to_the_count = |flow: &mut Flow<'_>| {
            for s in ["10", "20", "31"] {
                flow.handle(Input::Tick(format!("2026-12-14T07:05:{s}").parse().unwrap()));
            }
        };
        let mut flow = running();
        to_the_count(&mut flow);
        let fx = flow.handle(heard(Intent::Other, Some(14)));
        assert_eq!(stand_recorded(&fx), None, "a heard count waits for a yes");
        assert!(flow.view().checkin.caption.starts_with("立てた回数　14回"));
        assert!(flow.view().checkin.caption.contains("14回ですね。"));
        assert_eq!(stand_recorded(&flow.handle(heard(Intent::Yes, None))), Some(14));

        let mut flow = running();
        flow.handle(Input::Tick("2026-12-14T07:05:12".parse().unwrap()));
        let fx = flow.handle(Input::Exercise(ExerciseInput::Stop));
        assert_eq!(stand_recorded(&fx), None);
        assert_eq!(flow.view().checkin.caption, lines.stopped);
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.view().exercise.phase, "plan", "the plan follows, no second offer");

        for decline in [Input::Answer(1), Input::Silence, heard(Intent::No, None)] {
            let (mut flow, _) = at_the_plan(guarded(false), "2026-12-14T07:05:00");
            flow.handle(decline.clone());
            assert_eq!(flow.view().checkin.caption, lines.declined, "{decline:?}");
            flow.handle(Input::SpeechDone);
            assert_eq!(flow.view().exercise.phase, "plan", "{decline:?}");
        }

        // At the count, the speech worker's silence leaves the buttons; two minutes of
        // nothing records nothing and goes on to the plan.
        let mut flow = running();
        to_the_count(&mut flow);
        flow.handle(Input::SpeechDone);
        flow.handle(Input::Silence);
        assert_eq!(flow.view().checkin.buttons, ["ひとつへらす", "ひとつふやす", "これでよい"]);
        flow.handle(Input::Tick("2026-12-14T07:07:00".parse().unwrap()));
        assert!(flow.standing(), "not before two minutes");
        let fx = flow.handle(Input::Tick("2026-12-14T07:07:32".parse().unwrap()));
        assert_eq!(stand_recorded(&fx), None);
        assert_eq!(flow.view().checkin.caption, lines.no_count);
        flow.handle(Input::SpeechDone);
        assert_eq!(flow.view().exercise.phase, "plan");

        let mut flow = running();
        to_the_count(&mut flow);
        flow.handle(Input::Heard(Understanding {
            danger: Some(vocab::Danger::Collapsed),
            ..Understanding::sure(Intent::Emergency)
        }));
        assert!(flow.dialogue.is_some(), "the help flow confirms the danger");
        assert!(!flow.standing());
    }
}
