//! Small talk after the check-in: topics from a town-editable file
//! (`assets/dialogue/smalltalk.toml`), chosen for the month and the day's weather, none
//! again within two weeks; two to four turns, any answer accepted with a local
//! backchannel (「んだがっす」), 「またね」 ending it at any turn.
//!
//! What the resident says is only ever an intent here (to end, to go on): the words
//! are never stored or sent, and nothing in a [`Talk`] holds them.

use chrono::{Datelike as _, NaiveDate};
use serde::Deserialize;

use crate::dialogue::Button;
use crate::understanding::Intent;

/// How long a topic rests after it was used.
pub const REST_DAYS: i64 = 14;

/// What a day's weather must be for a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sky {
    Snow,
    Fine,
}

impl Sky {
    /// The sky of a JMA forecast in words (「くもり　時々　雪」 is snow, 「晴れ」 fine);
    /// `None` for anything else (rain, cloud) or no forecast.
    pub fn of_forecast(text: &str) -> Option<Sky> {
        let text = text.trim();
        if text.contains('雪') {
            Some(Sky::Snow)
        } else if text.starts_with('晴') && !text.contains('雨') {
            Some(Sky::Fine)
        } else {
            None
        }
    }
}

/// One topic of talk.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    pub id: String,
    /// The months it fits (empty: any).
    #[serde(default)]
    pub months: Vec<u32>,
    #[serde(default)]
    pub weather: Option<Sky>,
    pub turns: Vec<String>,
}

/// The small-talk file, validated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmallTalk {
    pub offer: String,
    pub offer_buttons: Vec<Button>,
    pub turn_buttons: Vec<Button>,
    pub backchannels: Vec<String>,
    /// Said instead of a backchannel to a low mood or loneliness: never 「いがったなあ」
    /// to 「さみしい」.
    pub comfort: String,
    pub wait: String,
    pub closing: String,
    /// The turns of a topic made from an interest staff noted for the resident
    /// (`{interest}`: 「盆栽」).
    pub interest_turns: Vec<String>,
    #[serde(rename = "topic")]
    pub topics: Vec<Topic>,
}

/// Why a small-talk file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmallTalkError {
    #[error("small-talk file is not valid TOML: {0}")]
    Toml(String),
    #[error("topic {0:?} is there twice")]
    DuplicateTopic(String),
    #[error("topic {0:?}: needs 2 to 4 turns")]
    TurnCount(String),
    #[error("topic {0:?}: month {1} is not 1 to 12")]
    Month(String, u32),
    #[error("{0}: needs two buttons, one `yes` (go on) and one `no` (またね)")]
    Buttons(&'static str),
    #[error("no backchannels: the tablet would answer in silence")]
    NoBackchannels,
    #[error("interest_turns: needs 2 to 4 turns, each with {{interest}}")]
    InterestTurns,
}

impl SmallTalk {
    pub fn from_toml(text: &str) -> Result<Self, SmallTalkError> {
        let file: SmallTalk = toml::from_str(text).map_err(|e| SmallTalkError::Toml(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for t in &file.topics {
            if !seen.insert(t.id.as_str()) {
                return Err(SmallTalkError::DuplicateTopic(t.id.clone()));
            }
            if !(2..=4).contains(&t.turns.len()) {
                return Err(SmallTalkError::TurnCount(t.id.clone()));
            }
            if let Some(&m) = t.months.iter().find(|m| !(1..=12).contains(*m)) {
                return Err(SmallTalkError::Month(t.id.clone(), m));
            }
        }
        let yes_no = |b: &[Button]| b.iter().map(|b| b.intent).eq([Intent::Yes, Intent::No]);
        if !yes_no(&file.offer_buttons) {
            return Err(SmallTalkError::Buttons("offer_buttons"));
        }
        if !yes_no(&file.turn_buttons) {
            return Err(SmallTalkError::Buttons("turn_buttons"));
        }
        if file.backchannels.is_empty() {
            return Err(SmallTalkError::NoBackchannels);
        }
        if !(2..=4).contains(&file.interest_turns.len())
            || !file.interest_turns.iter().all(|t| t.contains("{interest}"))
        {
            return Err(SmallTalkError::InterestTurns);
        }
        Ok(file)
    }

    /// Today's topic: one that fits the month and the weather, or one made from an
    /// interest staff noted for the resident (`interests`), not used in the last
    /// [`REST_DAYS`] days; the day's weather topic first, then the one rested longest
    /// (never used first, the resident's interests before the file's topics). `None`
    /// when every fitting topic has been used lately: no talk rather than a repeat.
    pub fn pick(
        &self,
        today: NaiveDate,
        sky: Option<Sky>,
        used: &[(String, NaiveDate)],
        interests: &[String],
    ) -> Option<Topic> {
        let last_used = |id: &str| used.iter().filter(|(t, _)| t == id).map(|(_, d)| *d).max();
        let own = interests.iter().filter(|i| !i.trim().is_empty()).map(|i| self.interest_topic(i.trim()));
        own.chain(self.topics.iter().cloned())
            .filter(|t| t.months.is_empty() || t.months.contains(&today.month()))
            .filter(|t| t.weather.is_none() || t.weather == sky)
            .filter(|t| last_used(&t.id).is_none_or(|d| (today - d).num_days() >= REST_DAYS))
            // Weather topics first on their day; then the longest rested (min_by_key
            // keeps the first of equals: interests, then file order).
            .min_by_key(|t| (t.weather.is_none(), last_used(&t.id)))
    }

    /// The topic made from one interest (its id `interest:盆栽`).
    pub fn interest_topic(&self, interest: &str) -> Topic {
        Topic {
            id: format!("interest:{interest}"),
            months: vec![],
            weather: None,
            turns: self.interest_turns.iter().map(|t| t.replace("{interest}", interest)).collect(),
        }
    }

    /// Every line it can say, for the spoken-line checks.
    pub fn all_lines(&self) -> Vec<String> {
        let mut v = vec![self.offer.clone(), self.comfort.clone(), self.wait.clone(), self.closing.clone()];
        v.extend(self.backchannels.iter().cloned());
        v.extend(self.topics.iter().flat_map(|t| t.turns.iter().cloned()));
        // An interest of the usual length (staff write a word or two).
        v.extend(self.interest_topic("盆栽").turns);
        v
    }
}

/// One input to a talk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkInput {
    /// The resident said something (only what it means to the talk is kept).
    Said(Intent),
    /// 「つづける」.
    GoOn,
    /// 「またね」.
    End,
    Silence,
}

/// What a talk does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkTurn {
    /// Lines to say, in order.
    pub say: Vec<String>,
    /// Listen for an answer (and show the turn buttons) after saying them.
    pub listen: bool,
    pub finished: bool,
}

/// A running talk on one topic.
#[derive(Debug, Clone)]
pub struct Talk<'t> {
    file: &'t SmallTalk,
    topic: Topic,
    turn: usize,
    answers: usize,
    silences: u8,
    finished: bool,
}

impl<'t> Talk<'t> {
    /// Starts on `topic` with its first turn.
    pub fn start(file: &'t SmallTalk, topic: Topic) -> (Self, TalkTurn) {
        let first = TalkTurn {
            say: topic.turns.first().cloned().into_iter().collect(),
            listen: true,
            finished: false,
        };
        let talk = Talk { file, topic, turn: 0, answers: 0, silences: 0, finished: false };
        (talk, first)
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next step. Ending words (「またね」, thanks, a goodbye) or the button end it
    /// with the closing line; anything else said is an answer: a backchannel, then the
    /// next turn (or the closing after the last). One silence is waited out gently;
    /// a second ends the talk. Critical words are the caller's (the help flow), never
    /// passed here.
    pub fn respond(&mut self, input: TalkInput) -> TalkTurn {
        if self.finished {
            return TalkTurn { say: vec![], listen: false, finished: true };
        }
        let end = |t: &mut Self, mut say: Vec<String>| {
            t.finished = true;
            say.push(t.file.closing.clone());
            TalkTurn { say, listen: false, finished: true }
        };
        match input {
            TalkInput::End | TalkInput::Said(Intent::Thanks | Intent::Greeting) => end(self, vec![]),
            TalkInput::Silence if self.silences >= 1 => end(self, vec![]),
            TalkInput::Silence => {
                self.silences += 1;
                TalkTurn { say: vec![self.file.wait.clone()], listen: true, finished: false }
            }
            TalkInput::Said(_) | TalkInput::GoOn => {
                self.silences = 0;
                let back = match input {
                    TalkInput::Said(i) if i.is_low_mood() => self.file.comfort.clone(),
                    _ => self.file.backchannels[self.answers % self.file.backchannels.len()].clone(),
                };
                self.answers += 1;
                self.turn += 1;
                match self.topic.turns.get(self.turn) {
                    Some(next) => TalkTurn { say: vec![back, next.clone()], listen: true, finished: false },
                    None => end(self, vec![back]),
                }
            }
        }
    }
}
