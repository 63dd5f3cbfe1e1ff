//! The weekly talk about the day and three words: a gentle look at memory, never
//! called a test and never a diagnosis. At most once in [`vocab::MEMORY_EVERY_DAYS`]
//! days, and never when staff turned it off, the end of the check-in asks one friendly
//! orientation question (the day of the week, or now and then the season), and that
//! day's exercises open with three words to keep in mind and close by recalling them,
//! one cue at a time (「花は、なんでしたっけ？」). Every question is answerable by touch:
//! two choices and 「わからない」 (a resident's screen holds three at most). A wrong answer is never called wrong: the tablet
//! kindly says the right one. Only how many answers were right goes to the office,
//! which watches the trend.
//!
//! Breakfast is not asked: the tablet cannot know the right answer, and keeping what
//! was said would keep the resident's words.

use chrono::{Datelike as _, Days, NaiveDate, Weekday};
use serde::Deserialize;

use crate::dialogue::Button;

/// The memory lines of the dialogue file (`[memory]`), and the word sets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryLines {
    /// 「ところで、きょうは、何曜日でしたっけ？」
    pub weekday: String,
    /// 「ところで、いまの季節は、なんでしたっけ？」
    pub season: String,
    /// The button for not knowing (「わからない」), last on every question.
    pub dont_know: String,
    /// A right answer: 「んだ、{answer}ですね。」
    pub right: String,
    /// Anything else, kindly: 「きょうは、{answer}ですよ。」 (the season: `season_told`).
    pub told: String,
    /// 「いまは、{answer}ですね。」
    pub season_told: String,
    /// Before the exercises: 「体操のあとで、思い出してもらう言葉です。」
    pub words_intro: String,
    /// The three words: 「{words}。覚えておいてくださいね。」
    pub words: String,
    /// After the exercises, before the first cue: 「さっきの三つの言葉を、思い出しましょう。」
    pub recall_intro: String,
    /// One cue: 「{cue}は、なんでしたっけ？」
    pub cue: String,
    /// A word recalled: 「んだ、{answer}でしたね。」
    pub recalled: String,
    /// A word not recalled, kindly: 「{answer}でしたよ。」
    pub recall_told: String,
    /// The end of the recall: 「おつきあい、ありがとうございました。」
    pub thanks: String,
    /// The word sets, taken in turn week by week.
    pub sets: Vec<WordSet>,
}

/// Three words to keep in mind, each with its cue and two others of its kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordSet {
    pub words: Vec<CuedWord>,
}

/// One word to keep in mind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CuedWord {
    /// What is said and shown (「さくら」).
    pub word: Word,
    /// Its kind, said as the cue (「花」).
    pub cue: String,
    /// Two others of the same kind, shown beside it as choices.
    pub others: Vec<Word>,
}

/// A word as shown, with the other ways a recogniser may write it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Word {
    pub say: String,
    #[serde(default)]
    pub forms: Vec<String>,
}

impl Word {
    /// Every written form, the shown one first.
    pub fn all_forms(&self) -> Vec<String> {
        std::iter::once(self.say.clone()).chain(self.forms.iter().cloned()).collect()
    }
}

/// Why the memory lines cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    #[error("[memory] needs at least one word set")]
    NoSets,
    #[error("[memory] word set {0} needs three words, each with two others")]
    SetShape(usize),
}

impl MemoryLines {
    /// Refuses word sets the game cannot use.
    pub fn check(&self) -> Result<(), MemoryError> {
        if self.sets.is_empty() {
            return Err(MemoryError::NoSets);
        }
        for (i, set) in self.sets.iter().enumerate() {
            if set.words.len() != 3 || set.words.iter().any(|w| w.others.len() != 2) {
                return Err(MemoryError::SetShape(i));
            }
        }
        Ok(())
    }

    /// Every fixed line (with its placeholders filled by the longest answers), and
    /// every set's three words as said, for the length and wording checks.
    pub fn all_lines(&self) -> Vec<String> {
        let mut v = vec![
            self.weekday.clone(),
            self.season.clone(),
            fill(&self.right, "にちようび"),
            fill(&self.told, "にちようび"),
            fill(&self.season_told, "ふゆ"),
            self.words_intro.clone(),
            self.recall_intro.clone(),
            self.thanks.clone(),
        ];
        for set in &self.sets {
            v.push(self.words_line(set));
            for w in &set.words {
                v.push(fill(&self.cue, &w.cue));
                v.push(fill(&self.recalled, &w.word.say));
                v.push(fill(&self.recall_told, &w.word.say));
            }
        }
        v
    }

    /// 「さくら、ねこ、でんしゃ。覚えておいてくださいね。」
    pub fn words_line(&self, set: &WordSet) -> String {
        let words: Vec<&str> = set.words.iter().map(|w| w.word.say.as_str()).collect();
        fill(&self.words, &words.join("、"))
    }

    /// This week's word set: the sets in turn, one a week, so none returns for
    /// `sets.len()` weeks.
    pub fn set_for(&self, today: NaiveDate) -> &WordSet {
        let week = today.num_days_from_ce().div_euclid(7) as usize;
        &self.sets[week % self.sets.len().max(1)]
    }

    /// The buttons of a question: the choices, then 「わからない」. A choice's intent is
    /// `Other`: the flow reads which button by its place.
    pub fn buttons(&self, choices: &[String]) -> Vec<Button> {
        choices
            .iter()
            .map(|c| Button { label: c.clone(), intent: vocab::Intent::Other })
            .chain(std::iter::once(Button { label: self.dont_know.clone(), intent: vocab::Intent::No }))
            .collect()
    }
}

/// `line` with its `{answer}`, `{cue}` or `{words}` filled in.
pub fn fill(line: &str, with: &str) -> String {
    line.replace("{answer}", with).replace("{cue}", with).replace("{words}", with)
}

/// Whether the weekly talk is due today: staff did not turn it off; the tablet has
/// known her for a week at least (`since`, her first day with it: a new tablet is
/// strange enough, and a trend needs ordinary days to start from); and the last talk
/// was [`vocab::MEMORY_EVERY_DAYS`] or more days ago (or never).
pub fn due(today: NaiveDate, last: Option<NaiveDate>, off: bool, since: Option<NaiveDate>) -> bool {
    let every = Days::new(vocab::MEMORY_EVERY_DAYS);
    !off && since.is_some_and(|s| s + every <= today) && last.is_none_or(|d| d + every <= today)
}

/// Which orientation question a day asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    Weekday,
    Season,
}

impl Orientation {
    /// Three weeks in four the day of the week, which says more; the fourth the season.
    pub fn of_day(today: NaiveDate) -> Self {
        if today.iso_week().week().is_multiple_of(4) { Orientation::Season } else { Orientation::Weekday }
    }
}

/// A question of the talk: which part it belongs to, what is said, the choices shown,
/// which of them are right, and for each choice the written forms that name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub part: vocab::MemoryPart,
    pub line: String,
    pub choices: Vec<String>,
    pub right: Vec<usize>,
    /// What the tablet says is right, kindly, when it was not said.
    pub answer: String,
    pub forms: Vec<Vec<String>>,
}

const WEEKDAYS: [(&str, &str, &str); 7] = [
    ("月曜日", "げつようび", "げつよう"),
    ("火曜日", "かようび", "かよう"),
    ("水曜日", "すいようび", "すいよう"),
    ("木曜日", "もくようび", "もくよう"),
    ("金曜日", "きんようび", "きんよう"),
    ("土曜日", "どようび", "どよう"),
    ("日曜日", "にちようび", "にちよう"),
];

const SEASONS: [(&str, &str); 4] = [("春", "はる"), ("夏", "なつ"), ("秋", "あき"), ("冬", "ふゆ")];

/// The orientation question for `today`, with two choices beside 「わからない」 (a
/// resident's screen holds three at most). The day of the week offers today and
/// yesterday or tomorrow (week by week, so the right one is not always first); the
/// season offers the usual one of the month and the one after it (never a second
/// right one).
pub fn orientation(lines: &MemoryLines, today: NaiveDate) -> Ask {
    match Orientation::of_day(today) {
        Orientation::Weekday => {
            let week = today.iso_week().week();
            let (first, right) = if week.is_multiple_of(2) { (today, 0) } else { (today - Days::new(1), 1) };
            let days: Vec<Weekday> = (0..2).map(|i| (first + Days::new(i)).weekday()).collect();
            let entry = |d: Weekday| WEEKDAYS[d.num_days_from_monday() as usize];
            Ask {
                part: vocab::MemoryPart::Weekday,
                line: lines.weekday.clone(),
                choices: days.iter().map(|&d| entry(d).0.to_owned()).collect(),
                right: vec![right],
                answer: entry(today.weekday()).1.to_owned(),
                forms: days
                    .iter()
                    .map(|&d| {
                        let (kanji, kana, short) = entry(d);
                        vec![kanji.to_owned(), kana.to_owned(), short.to_owned(), kanji[..6].to_owned()]
                    })
                    .collect(),
            }
        }
        Orientation::Season => {
            let accepted = seasons_of(today);
            let usual = accepted[0];
            let other = (1..4).map(|k| (usual + k) % 4).find(|s| !accepted.contains(s)).unwrap_or(usual);
            let mut shown = [usual, other];
            shown.sort_unstable();
            Ask {
                part: vocab::MemoryPart::Season,
                line: lines.season.clone(),
                choices: shown.iter().map(|&i| SEASONS[i].0.to_owned()).collect(),
                right: shown
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| accepted.contains(s))
                    .map(|(i, _)| i)
                    .collect(),
                answer: SEASONS[usual].1.to_owned(),
                forms: shown
                    .iter()
                    .map(|&i| vec![SEASONS[i].0.to_owned(), SEASONS[i].1.to_owned()])
                    .collect(),
            }
        }
    }
}

/// The seasons (indexes of 春夏秋冬) right in `today`'s month, the usual one first. In
/// a month where one season turns into the next, both are right: March is still
/// winter under three metres of snow.
pub fn seasons_of(today: NaiveDate) -> Vec<usize> {
    match today.month() {
        3 => vec![0, 3],
        4 | 5 => vec![0],
        6 => vec![1, 0],
        7 | 8 => vec![1],
        9 => vec![2, 1],
        10 => vec![2],
        11 => vec![2, 3],
        12 => vec![3, 2],
        _ => vec![3],
    }
}

/// The recall question for the `n`th word of `set`: its cue, and the word beside one
/// of its two others (in turn), first or second as the day and word fall.
pub fn recall(lines: &MemoryLines, set: &WordSet, n: usize, today: NaiveDate) -> Ask {
    let w = &set.words[n];
    let turn = today.num_days_from_ce() as usize + n;
    let other = &w.others[turn % w.others.len().max(1)];
    let at = (turn / 2) % 2;
    let words: Vec<&Word> = if at == 0 { vec![&w.word, other] } else { vec![other, &w.word] };
    Ask {
        part: vocab::MemoryPart::Recall,
        line: fill(&lines.cue, &w.cue),
        choices: words.iter().map(|w| w.say.clone()).collect(),
        right: vec![at],
        answer: w.word.say.clone(),
        forms: words.iter().map(|w| w.all_forms()).collect(),
    }
}

/// The written forms of the three words of `set`, for hearing all of them at once in
/// any recall answer (「さくらと、ねこと、でんしゃ」 answers every cue).
pub fn set_forms(set: &WordSet) -> Vec<Vec<String>> {
    set.words.iter().map(|w| w.word.all_forms()).collect()
}
