//! The check-in dialogue: the script (from `assets/dialogue/checkin.toml`) and the state machine that runs it.
//!
//! The machine is fed one [`Input`] at a time (what the dialect model understood, a
//! button, or silence) and answers with a [`Turn`]: lines to say, what the screen
//! shows while listening, and events for the outbox. Its rules, whatever the data says:
//! - a critical answer (need help, emergency, or the model's `critical` flag) goes to
//!   the help flow at any step; the help flow confirms once, and anything but a clear
//!   「いいえ」 raises the alert (silence or an unclear answer included);
//! - a low-confidence answer is confirmed (「膝が痛い、ということですね？」), never
//!   met with "please repeat";
//! - a repeat request says the same thing again, slower;
//! - after two misunderstandings the screen offers buttons only;
//! - at most `max_questions` questions are asked (five on a normal day), and then the
//!   open question (「ほかに、何か伝えたいことはありますか？」), which the budget never
//!   cuts: it is where 「話を聞いてほしい」 becomes a visit request;
//! - silence is not a misunderstanding: the question is asked again, slower (it never
//!   moves the screen to buttons only); three silences in a row end the dialogue as
//!   unanswered.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, NaiveTime, Timelike};
use serde::Deserialize;

use crate::record::{Answer, AnsweredBy, CareEvent, CheckinRecord, Outcome};
use crate::understanding::{CONFIRM_BELOW, Danger, Intent, UNDERSTOOD_FROM, Understanding};
use crate::watch::WatchLine;
use crate::weather::{Conditions, Heat};

/// The questions the script must define: the vocabulary's questions, by the name the
/// script's `[[question]] id` uses.
pub use vocab::Question as QuestionId;

/// Where an answer leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Ask(QuestionId),
    End,
    Help,
    SnowWatch,
}

/// A big button on the screen.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Button {
    pub label: String,
    pub intent: Intent,
}

/// One question of the script.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: QuestionId,
    pub say: String,
    pub buttons: Vec<Button>,
    pub aliases: BTreeMap<Intent, Intent>,
    pub next: BTreeMap<Intent, Next>,
}

/// Why a dialogue file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DialogueError {
    #[error("dialogue file is not valid TOML: {0}")]
    Toml(String),
    #[error("dialogue file has no question {0:?}")]
    MissingQuestion(QuestionId),
    #[error("dialogue file defines question {0:?} twice")]
    DuplicateQuestion(QuestionId),
    #[error(
        "question {question:?}: `next` target {target:?} is not a question, \"end\", \"help\" or \"snow_watch\""
    )]
    BadTarget { question: QuestionId, target: String },
    #[error("question {0:?}: needs 2 or 3 buttons")]
    ButtonCount(QuestionId),
    #[error(
        "question {question:?}: button {label:?} stands for {intent:?}, which the question does not expect"
    )]
    DeadButton { question: QuestionId, label: String, intent: Intent },
    #[error("the confirm step must have no `next` (はい takes the answer, いいえ asks again)")]
    ConfirmWithNext,
    #[error("[meanings] lacks {0:?}, needed to confirm it")]
    MissingMeaning(Intent),
    #[error("[news] buttons must be again (yes) then understood (no)")]
    NewsButtons,
    #[error(transparent)]
    Memory(#[from] crate::memory::MemoryError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    max_questions: u8,
    greeting: Greeting,
    lines: Lines,
    help: HelpLines,
    snow_watch: SnowLines,
    medicine: crate::medicine::MedicineLines,
    chair_stand: crate::chairstand::ChairStandLines,
    news: crate::news::NewsLines,
    memory: crate::memory::MemoryLines,
    meanings: BTreeMap<String, String>,
    question: Vec<QuestionFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionFile {
    id: QuestionId,
    say: String,
    buttons: Vec<Button>,
    #[serde(default)]
    aliases: BTreeMap<Intent, Intent>,
    #[serde(default)]
    next: BTreeMap<Intent, String>,
}

/// Greeting lines by time of day and weather.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Greeting {
    pub morning: String,
    pub daytime: String,
    pub evening: String,
    pub heavy_snow: String,
    pub snow: String,
    pub heat: String,
    pub storm: String,
    pub fine: String,
}

/// Fixed lines of the dialogue.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lines {
    pub not_understood: String,
    pub buttons_only: String,
    pub thanks: String,
    pub greeting: String,
    pub closing: String,
    /// The closing after 「話を聞いてほしい」 (`{responder}`): it says the office will be
    /// told, which the check-in's record does when it arrives.
    pub contact: String,
    pub no_answer: String,
    /// Said back to a low mood (「そうでしたか。…」) before the dialogue goes on.
    pub low_mood: String,
    /// Said back to loneliness (「さみしいのですね。…」) before the dialogue goes on.
    pub lonely: String,
}

/// Lines of the help flow.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpLines {
    pub confirm: String,
    pub alerted: String,
    pub stay: String,
    pub cancelled: String,
    pub default_responder: String,
    pub buttons: Vec<Button>,
    /// The confirm question for a named danger, by ontology key (`fire = "火事ですか？…"`);
    /// a danger without a line here is confirmed with `confirm`.
    #[serde(default)]
    pub danger: BTreeMap<Danger, String>,
    pub progress: HelpProgressLines,
}

/// What the help screen says as a call for help travels: never that the office was
/// told before it was.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpProgressLines {
    /// The screen's headline while it is being sent (`{responder}`).
    pub sending: String,
    /// The office stored it (`{responder}`).
    pub delivered: String,
    /// Not sent yet: the office cannot be reached; the tablet keeps trying.
    pub unsent: String,
    /// The office refused it: it will not arrive.
    pub refused: String,
    /// Someone took it on (`{handler}`: 「民生委員」).
    pub taken_on: String,
    /// No resident is registered on this tablet, so there is nobody to send it for.
    pub unregistered: String,
}

/// Lines offering the snow-clearing watch.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnowLines {
    pub offer: String,
    pub accepted: String,
    pub declined: String,
    pub buttons: Vec<Button>,
    pub check_back: String,
    pub check_back_again: String,
    pub rearmed: String,
    pub ended: String,
    pub alerted: String,
    pub help_sent: String,
}

impl SnowLines {
    /// The text of a snow-watch line; `{responder}` is filled by the caller.
    pub fn line(&self, line: WatchLine) -> &str {
        match line {
            WatchLine::CheckBack => &self.check_back,
            WatchLine::CheckBackAgain => &self.check_back_again,
            WatchLine::Rearmed => &self.rearmed,
            WatchLine::Ended => &self.ended,
            WatchLine::Alerted => &self.alerted,
            WatchLine::HelpSent => &self.help_sent,
        }
    }
}

/// A validated dialogue script.
#[derive(Debug, Clone)]
pub struct Script {
    pub max_questions: u8,
    pub greeting: Greeting,
    pub lines: Lines,
    pub help: HelpLines,
    pub snow_watch: SnowLines,
    /// The medicine question at the times staff set.
    pub medicine: crate::medicine::MedicineLines,
    /// The monthly chair-stand test.
    pub chair_stand: crate::chairstand::ChairStandLines,
    /// Town news after the check-in.
    pub news: crate::news::NewsLines,
    /// The weekly talk about the day and three words.
    pub memory: crate::memory::MemoryLines,
    /// Intent key (and `pain_unknown_part`) → what to say it understood.
    pub meanings: BTreeMap<String, String>,
    questions: BTreeMap<QuestionId, Question>,
}

impl Script {
    /// Parses and validates a dialogue file's text.
    pub fn from_toml(text: &str) -> Result<Self, DialogueError> {
        let file: ScriptFile = toml::from_str(text).map_err(|e| DialogueError::Toml(e.to_string()))?;
        let mut questions = BTreeMap::new();
        for q in file.question {
            let mut next = BTreeMap::new();
            for (intent, target) in q.next {
                let to = match target.as_str() {
                    "end" => Next::End,
                    "help" => Next::Help,
                    "snow_watch" => Next::SnowWatch,
                    other => match QuestionId::deserialize(toml::Value::String(other.into())) {
                        Ok(id) if id != QuestionId::Confirm => Next::Ask(id),
                        _ => return Err(DialogueError::BadTarget { question: q.id, target }),
                    },
                };
                next.insert(intent, to);
            }
            if !(2..=3).contains(&q.buttons.len()) {
                return Err(DialogueError::ButtonCount(q.id));
            }
            if q.id == QuestionId::Confirm && !next.is_empty() {
                return Err(DialogueError::ConfirmWithNext);
            }
            let question = Question { id: q.id, say: q.say, buttons: q.buttons, aliases: q.aliases, next };
            if q.id != QuestionId::Confirm {
                for b in &question.buttons {
                    let intent = question.resolve(b.intent);
                    if !question.next.contains_key(&intent) && !intent.is_critical() {
                        return Err(DialogueError::DeadButton {
                            question: q.id,
                            label: b.label.clone(),
                            intent: b.intent,
                        });
                    }
                }
            }
            if questions.insert(q.id, question).is_some() {
                return Err(DialogueError::DuplicateQuestion(q.id));
            }
        }
        for &id in QuestionId::ALL {
            if !questions.contains_key(&id) {
                return Err(DialogueError::MissingQuestion(id));
            }
        }
        for q in questions.values() {
            for intent in q.next.keys() {
                if !file.meanings.contains_key(intent.key()) {
                    return Err(DialogueError::MissingMeaning(*intent));
                }
            }
        }
        let news_intents: Vec<Intent> = file.news.buttons.iter().map(|b| b.intent).collect();
        if news_intents != [Intent::Yes, Intent::No] {
            return Err(DialogueError::NewsButtons);
        }
        file.memory.check()?;
        Ok(Self {
            max_questions: file.max_questions,
            greeting: file.greeting,
            lines: file.lines,
            help: file.help,
            snow_watch: file.snow_watch,
            medicine: file.medicine,
            chair_stand: file.chair_stand,
            news: file.news,
            memory: file.memory,
            meanings: file.meanings,
            questions,
        })
    }

    /// The question `id` (every id exists once validated).
    pub fn question(&self, id: QuestionId) -> &Question {
        &self.questions[&id]
    }

    /// Every line the script can say, placeholders unfilled except `{meaning}`: what
    /// the spoken-line checks read (the kiosk at start, and the tests).
    pub fn all_lines(&self) -> Vec<String> {
        let g = &self.greeting;
        let l = &self.lines;
        let h = &self.help;
        let s = &self.snow_watch;
        let mut v: Vec<String> = [
            &g.morning,
            &g.daytime,
            &g.evening,
            &g.heavy_snow,
            &g.snow,
            &g.heat,
            &g.storm,
            &g.fine,
            &l.not_understood,
            &l.buttons_only,
            &l.thanks,
            &l.greeting,
            &l.closing,
            &l.contact,
            &l.no_answer,
            &h.confirm,
            &h.alerted,
            &h.stay,
            &h.cancelled,
            &h.progress.sending,
            &h.progress.delivered,
            &h.progress.unsent,
            &h.progress.refused,
            &h.progress.taken_on,
            &h.progress.unregistered,
            &s.offer,
            &s.accepted,
            &s.declined,
            &s.check_back,
            &s.check_back_again,
            &s.rearmed,
            &s.ended,
            &s.alerted,
        ]
        .into_iter()
        .cloned()
        .collect();
        v.extend(h.danger.values().cloned());
        v.extend(self.medicine.all_lines());
        v.extend(self.chair_stand.all_lines());
        v.extend(self.news.all_lines());
        v.extend(self.memory.all_lines());
        for q in self.questions.values() {
            if q.id == QuestionId::Confirm {
                v.extend(self.meanings.values().map(|m| q.say.replace("{meaning}", m)));
            } else {
                v.push(q.say.clone());
            }
        }
        v
    }
}

impl Question {
    /// The intent an answer stands for at this question.
    pub fn resolve(&self, intent: Intent) -> Intent {
        self.aliases.get(&intent).copied().unwrap_or(intent)
    }
}

/// What a dialogue starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The daily check-in: greeting, then 「今日の体の具合は、いかがですか？」.
    Checkin,
    /// After a guided session: 「体操は、できましたか？」.
    AfterExercise,
    /// A safety-confirmation campaign: 「大丈夫ですか？」.
    SafetyCheck,
}

/// Who is talking and when, for the greeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// How the kiosk addresses the resident (「山田」); used only in spoken lines.
    pub name: String,
    pub now: NaiveDateTime,
    pub conditions: Option<Conditions>,
    /// Who comes when help is asked for (「推進員の佐藤さん」); the script's default if `None`.
    pub responder: Option<String>,
}

/// One input to the dialogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input {
    Heard(Understanding),
    Pressed(Intent),
    /// The listening window closed with no speech.
    Silence,
}

/// How fast to speak a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Normal,
    /// After a repeat request: the same words, slower.
    Slow,
}

/// A line to say (and caption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub pace: Pace,
}

/// What the dialogue is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Question(QuestionId),
    /// Confirming a low-confidence answer to this question.
    Confirm(QuestionId),
    HelpConfirm,
    SnowWatchOffer,
    Finished,
}

/// The machine's answer to one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub say: Vec<Line>,
    pub step: Step,
    /// Buttons to show while listening (empty when finished).
    pub buttons: Vec<Button>,
    /// True when the screen should ask for a button press, not speech.
    pub buttons_only: bool,
    pub events: Vec<CareEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Asking(QuestionId),
    Confirming(QuestionId, Understanding),
    HelpConfirm { during: Option<QuestionId>, heard: Understanding },
    SnowOffer { resume: QuestionId },
    Done,
}

/// A running dialogue.
#[derive(Debug)]
pub struct Session<'s> {
    script: &'s Script,
    responder: String,
    state: State,
    record: CheckinRecord,
    silences: u8,
}

impl<'s> Session<'s> {
    /// Starts a dialogue; the first turn greets (for a check-in) and asks.
    pub fn start(script: &'s Script, entry: Entry, ctx: &Context) -> (Self, Turn) {
        let first = match entry {
            Entry::Checkin => QuestionId::HowFeeling,
            Entry::AfterExercise => QuestionId::ExercisedDone,
            Entry::SafetyCheck => QuestionId::SafetyCheck,
        };
        let session = Self {
            script,
            responder: ctx.responder.clone().unwrap_or_else(|| script.help.default_responder.clone()),
            state: State::Asking(first),
            record: CheckinRecord {
                started_at: ctx.now,
                ended_at: ctx.now,
                outcome: Outcome::Completed,
                answers: vec![],
                questions_asked: 1,
                misunderstandings: 0,
            },
            silences: 0,
        };
        let mut say = vec![];
        if entry == Entry::Checkin {
            say.extend(greeting(script, ctx).into_iter().map(normal));
        }
        say.push(normal(script.question(first).say.clone()));
        let turn = session.turn(say, vec![]);
        (session, turn)
    }

    /// What the dialogue has recorded so far.
    pub fn record(&self) -> &CheckinRecord {
        &self.record
    }

    /// Whether the dialogue has ended.
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    /// Feeds one input at time `now`.
    pub fn respond(&mut self, now: NaiveDateTime, input: Input) -> Turn {
        self.record.ended_at = now;
        if input == Input::Silence {
            self.silences += 1;
        } else {
            self.silences = 0;
        }
        let (understanding, by) = match input {
            Input::Heard(u) => (Some(u), AnsweredBy::Voice),
            Input::Pressed(i) => (Some(Understanding::sure(i)), AnsweredBy::Button),
            Input::Silence => (None, AnsweredBy::Voice),
        };
        match self.state {
            State::Done => self.turn(vec![], vec![]),
            State::HelpConfirm { during, heard } => {
                let clear_no = understanding.is_some_and(|u| {
                    u.intent == Intent::No && !u.is_critical() && u.confidence >= CONFIRM_BELOW
                });
                if clear_no {
                    let mut say = vec![normal(self.script.help.cancelled.clone())];
                    match during {
                        Some(q) => {
                            self.state = State::Asking(q);
                            say.push(normal(self.script.question(q).say.clone()));
                        }
                        None => return self.finish(say, vec![]),
                    }
                    return self.turn(say, vec![]);
                }
                let confirmed = understanding.is_some_and(|u| u.intent == Intent::Yes || u.is_critical());
                self.raise_help(now, during, heard, confirmed)
            }
            _ if self.silences >= 3 => {
                self.record.outcome = Outcome::NoAnswer;
                self.finish(vec![normal(self.script.lines.no_answer.clone())], vec![])
            }
            State::Asking(q) => match understanding {
                // Nothing heard: asked again, slower; the third silence ends it above.
                None => self.turn(vec![slow(self.script.question(q).say.clone())], vec![]),
                Some(u) => self.answer(q, u, by),
            },
            State::Confirming(q, heard) => match understanding {
                Some(u) if u.is_critical() => self.start_help(Some(q), u),
                Some(u) if u.intent == Intent::RepeatRequest => {
                    let line = self.confirm_line(&heard);
                    self.turn(vec![slow(line)], vec![])
                }
                Some(u) if u.intent == Intent::Yes && u.confidence >= UNDERSTOOD_FROM => {
                    self.accept(q, heard, AnsweredBy::VoiceConfirmed)
                }
                _ => {
                    self.state = State::Asking(q);
                    self.misunderstood(q)
                }
            },
            State::SnowOffer { resume } => {
                let (line, events) = match understanding {
                    Some(u) if u.is_critical() => return self.start_help(Some(resume), u),
                    Some(u) if u.intent == Intent::Yes => (
                        self.script.snow_watch.accepted.clone(),
                        vec![CareEvent::SnowWatchRequested { at: now }],
                    ),
                    _ => (self.script.snow_watch.declined.clone(), vec![]),
                };
                self.state = State::Asking(resume);
                let again = self.script.question(resume).say.clone();
                self.turn(vec![normal(line), normal(again)], events)
            }
        }
    }

    fn answer(&mut self, q: QuestionId, u: Understanding, by: AnsweredBy) -> Turn {
        let question = self.script.question(q);
        let intent = question.resolve(u.intent);
        let u = Understanding { intent, ..u };
        if u.is_critical() {
            return self.start_help(Some(q), u);
        }
        match intent {
            Intent::RepeatRequest => return self.turn(vec![slow(question.say.clone())], vec![]),
            Intent::Thanks | Intent::Greeting if !question.next.contains_key(&intent) => {
                let ack = if intent == Intent::Thanks {
                    &self.script.lines.thanks
                } else {
                    &self.script.lines.greeting
                };
                return self.turn(vec![normal(ack.clone()), normal(question.say.clone())], vec![]);
            }
            Intent::WeatherSnow if !question.next.contains_key(&intent) => {
                self.state = State::SnowOffer { resume: q };
                return self.turn(vec![normal(self.script.snow_watch.offer.clone())], vec![]);
            }
            // A low mood or loneliness said where the question wants something else
            // (「さみしくて寝らんね」 to the sleep question): kept as said, answered kindly,
            // and the question asked again; never a 「聞き取れませんでした」.
            intent
                if intent.is_low_mood()
                    && !question.next.contains_key(&intent)
                    && u.confidence >= CONFIRM_BELOW =>
            {
                self.record.answers.push(Answer { question: q, intent, body_part: None, by });
                let ack = self.mood_ack(intent).unwrap_or_default();
                return self.turn(vec![normal(ack), normal(question.say.clone())], vec![]);
            }
            _ => {}
        }
        let buttons_only = self.record.misunderstandings >= 2;
        if buttons_only && by == AnsweredBy::Voice {
            return self.turn(vec![normal(self.script.lines.buttons_only.clone())], vec![]);
        }
        if u.confidence < UNDERSTOOD_FROM || !question.next.contains_key(&intent) {
            return self.misunderstood(q);
        }
        if u.confidence < CONFIRM_BELOW {
            self.state = State::Confirming(q, u);
            return self.turn(vec![normal(self.confirm_line(&u))], vec![]);
        }
        self.accept(q, u, by)
    }

    /// The kind words said back to a low mood or loneliness.
    fn mood_ack(&self, intent: Intent) -> Option<String> {
        match intent {
            Intent::LowMood => Some(self.script.lines.low_mood.clone()),
            Intent::Lonely => Some(self.script.lines.lonely.clone()),
            _ => None,
        }
    }

    fn accept(&mut self, q: QuestionId, u: Understanding, by: AnsweredBy) -> Turn {
        let turn = self.accept_answer(q, u, by);
        match self.mood_ack(u.intent) {
            // Heard before whatever comes next.
            Some(ack) => Turn { say: std::iter::once(normal(ack)).chain(turn.say).collect(), ..turn },
            None => turn,
        }
    }

    fn accept_answer(&mut self, q: QuestionId, u: Understanding, by: AnsweredBy) -> Turn {
        let question = self.script.question(q);
        self.record.answers.push(Answer { question: q, intent: u.intent, body_part: u.body_part, by });
        let mut next = question.next[&u.intent];
        // Unwell or a bad night: today is a rest day, so exercise is not offered; the
        // dialogue goes on as after 「今日はやめておく」.
        if next == Next::Ask(QuestionId::ExerciseToday) && self.record.rest_advised() {
            next = self
                .script
                .question(QuestionId::ExerciseToday)
                .next
                .get(&Intent::No)
                .copied()
                .unwrap_or(Next::End);
        }
        match next {
            Next::Ask(next)
                if self.record.questions_asked < self.script.max_questions || next == QuestionId::Open =>
            {
                self.record.questions_asked += 1;
                self.state = State::Asking(next);
                self.turn(vec![normal(self.script.question(next).say.clone())], vec![])
            }
            Next::Ask(_) | Next::End if self.record.wants_contact() => {
                let line = self.script.lines.contact.replace("{responder}", &self.responder);
                self.finish(vec![normal(line)], vec![])
            }
            Next::Ask(_) | Next::End => self.finish(vec![normal(self.script.lines.closing.clone())], vec![]),
            Next::Help => self.start_help(Some(q), u),
            Next::SnowWatch => {
                self.state = State::SnowOffer { resume: q };
                self.turn(vec![normal(self.script.snow_watch.offer.clone())], vec![])
            }
        }
    }

    fn misunderstood(&mut self, q: QuestionId) -> Turn {
        self.record.misunderstandings = self.record.misunderstandings.saturating_add(1);
        let mut say = vec![normal(self.script.lines.not_understood.clone())];
        if self.record.misunderstandings >= 2 {
            say.push(normal(self.script.lines.buttons_only.clone()));
        }
        say.push(slow(self.script.question(q).say.clone()));
        self.turn(say, vec![])
    }

    fn start_help(&mut self, during: Option<QuestionId>, heard: Understanding) -> Turn {
        self.state = State::HelpConfirm { during, heard };
        let help = &self.script.help;
        let line = heard.danger.and_then(|d| help.danger.get(&d)).unwrap_or(&help.confirm);
        self.turn(vec![normal(line.clone())], vec![])
    }

    fn raise_help(
        &mut self,
        now: NaiveDateTime,
        during: Option<QuestionId>,
        heard: Understanding,
        confirmed: bool,
    ) -> Turn {
        self.record.outcome = Outcome::HelpRequested;
        let alert = CareEvent::HelpAlert {
            raised_at: now,
            during,
            intent: heard.intent,
            confirmed,
            danger: heard.danger,
        };
        let alerted = self.script.help.alerted.replace("{responder}", &self.responder);
        self.finish(vec![normal(alerted), normal(self.script.help.stay.clone())], vec![alert])
    }

    fn finish(&mut self, say: Vec<Line>, mut events: Vec<CareEvent>) -> Turn {
        self.state = State::Done;
        events.push(CareEvent::Checkin(self.record.clone()));
        self.turn(say, events)
    }

    fn confirm_line(&self, u: &Understanding) -> String {
        let meaning = match (u.intent, u.body_part) {
            (Intent::Pain, Some(part)) => self.meaning("pain").replace("{part}", part.label()),
            (Intent::Pain, None) => self.meaning("pain_unknown_part"),
            (intent, _) => self.meaning(intent.key()),
        };
        self.script.question(QuestionId::Confirm).say.replace("{meaning}", &meaning)
    }

    fn meaning(&self, key: &str) -> String {
        self.script.meanings.get(key).cloned().unwrap_or_default()
    }

    fn turn(&self, say: Vec<Line>, events: Vec<CareEvent>) -> Turn {
        let (step, buttons) = match self.state {
            State::Asking(q) => (Step::Question(q), self.script.question(q).buttons.clone()),
            State::Confirming(q, _) => {
                (Step::Confirm(q), self.script.question(QuestionId::Confirm).buttons.clone())
            }
            State::HelpConfirm { .. } => (Step::HelpConfirm, self.script.help.buttons.clone()),
            State::SnowOffer { .. } => (Step::SnowWatchOffer, self.script.snow_watch.buttons.clone()),
            State::Done => (Step::Finished, vec![]),
        };
        let buttons_only = matches!(self.state, State::Asking(_)) && self.record.misunderstandings >= 2;
        Turn { say, step, buttons, buttons_only, events }
    }
}

fn normal(text: String) -> Line {
    Line { text, pace: Pace::Normal }
}

fn slow(text: String) -> Line {
    Line { text, pace: Pace::Slow }
}

/// The greeting: name and time of day, then a word about the weather.
fn greeting(script: &Script, ctx: &Context) -> Vec<String> {
    let g = &script.greeting;
    let time = ctx.now.time();
    let hello = if time < NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default() {
        &g.morning
    } else if time.hour() < 17 {
        &g.daytime
    } else {
        &g.evening
    };
    let weather = match &ctx.conditions {
        Some(c) if c.heavy_snow => &g.heavy_snow,
        Some(c) if c.storm => &g.storm,
        Some(c) if c.snowbound => &g.snow,
        Some(c) if c.heat > Heat::None => &g.heat,
        _ => &g.fine,
    };
    vec![hello.replace("{name}", &ctx.name), weather.clone()]
}
