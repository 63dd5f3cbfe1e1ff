//! The 30-second chair-stand test (CS-30), the standard Japanese measure of an older
//! person's leg strength: once a month, on a day today's plan has the resident standing
//! anyway, the tablet offers it, checks the chair first, times the 30 seconds aloud and
//! asks how many times they stood. The count (never more) goes to the office, which
//! keeps the trend beside the reference ranges.
//!
//! The test is offered, never pressed: 「またこんど」 or silence skips it for today, and
//! 「やめる」 during the 30 seconds ends it with nothing recorded.

use chrono::{NaiveDate, TimeDelta};
use serde::Deserialize;

use crate::catalogue::Contraindication;
use crate::catalogue::{Catalogue, Posture};
use crate::planner::{Plan, Profile, TodayFacts};
use crate::understanding::BodyPart;

/// How long the test runs.
pub const DURATION: TimeDelta = TimeDelta::seconds(30);
/// The test is offered again this many days after the last one (about monthly, and
/// never twice in one calendar month's worth of days).
pub const EVERY_DAYS: u64 = 28;
/// After an offer she declined (or let pass), this many days before the next: asked
/// weekly at most, never pressed day after day.
pub const OFFER_AGAIN_DAYS: u64 = 7;

/// What the tablet remembers of the test for one resident.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StandDays {
    /// The day of the last test done, and its count.
    pub last_test: Option<(NaiveDate, u8)>,
    /// The last day it was offered (done or not).
    pub last_offer: Option<NaiveDate>,
}
/// The most stands a count may say (the wire refuses more).
pub const MAX_COUNT: u8 = 60;

/// The parts that standing up from a chair loads: pain in any of them today, and no test.
pub const LOADED: [BodyPart; 4] = [BodyPart::Knee, BodyPart::Leg, BodyPart::LowerBack, BodyPart::Back];

/// The conditions staff record under which the test is never offered: every one of
/// them makes standing up thirty times at speed unwise (a shoulder does not).
pub const NEVER_WITH: [Contraindication; 6] = [
    Contraindication::Knee,
    Contraindication::Hip,
    Contraindication::Back,
    Contraindication::Balance,
    Contraindication::Heart,
    Contraindication::RecentFall,
];

/// Whether to offer the test today: none in the last [`EVERY_DAYS`] days and no
/// offer in the last [`OFFER_AGAIN_DAYS`]; today's
/// plan has at least one standing exercise (a rest day has none); nothing staff
/// recorded forbids it ([`NEVER_WITH`]); and nothing said today makes it unwise: no
/// pain in the knees, legs or back (the planner may still plan a gentle standing
/// exercise around them) and no recent fall.
pub fn due(
    today: NaiveDate,
    days: StandDays,
    facts: &TodayFacts,
    plan: &Plan,
    profile: &Profile,
    catalogue: &Catalogue,
) -> bool {
    let sore = facts.pains.iter().any(|p| LOADED.contains(p))
        || facts.pain_unplaced
        || facts.recent_fall
        || NEVER_WITH.iter().any(|c| profile.contraindications.contains(c));
    let after = |day: Option<NaiveDate>, n: u64| day.is_none_or(|d| d + chrono::Days::new(n) <= today);
    let rested =
        after(days.last_test.map(|(d, _)| d), EVERY_DAYS) && after(days.last_offer, OFFER_AGAIN_DAYS);
    let standing = plan
        .items
        .iter()
        .any(|i| catalogue.get(&i.exercise_id).is_some_and(|e| e.posture == Posture::Standing));
    rested && !sore && plan.intensity.is_some() && standing
}

/// What to say at a moment of the 30 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// 「あと20秒です。」
    Left(i64),
    /// Time is up.
    End,
}

/// The mark due once `elapsed` has passed and `said` marks were already said (in
/// order: 20 seconds left, 10 left, the end), if any.
pub fn mark(elapsed: TimeDelta, said: usize) -> Option<Mark> {
    let marks = [(10, Mark::Left(20)), (20, Mark::Left(10)), (30, Mark::End)];
    marks.get(said).filter(|(at, _)| elapsed >= TimeDelta::seconds(*at)).map(|(_, m)| *m)
}

/// `count` moved by `delta` (a button), kept within 0 and [`MAX_COUNT`].
pub fn adjust(count: u8, delta: i8) -> u8 {
    (i16::from(count) + i16::from(delta)).clamp(0, i16::from(MAX_COUNT)) as u8
}

/// The count a screen starts from: the last test's, or ten.
pub fn starting_count(days: StandDays) -> u8 {
    days.last_test.map_or(10, |(_, n)| n).min(MAX_COUNT)
}

/// The chair-stand lines of the dialogue file (`[chair_stand]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChairStandLines {
    /// 「今日は、月にいちどの、足の力しらべを、しませんか？」
    pub offer: String,
    /// Yes (`yes`) and not today (`no`).
    pub offer_buttons: Vec<crate::dialogue::Button>,
    /// After 「またこんど」 or silence.
    pub declined: String,
    /// The safety check: a steady chair against a wall.
    pub chair: String,
    /// Ready (`yes`) and not now (`no`).
    pub chair_buttons: Vec<crate::dialogue::Button>,
    /// No steady chair: skipped, kindly.
    pub no_chair: String,
    /// How the test goes, said before it starts.
    pub how: Vec<String>,
    /// The start signal; the 30 seconds run from the end of it.
    pub start: String,
    /// 「あと{seconds}秒です。」
    pub left: String,
    /// Time is up.
    pub end: String,
    /// 「何回、立てましたか？」
    pub ask_count: String,
    /// Shown above the count: 「立てた回数　{count}回」.
    pub shown: String,
    /// Fewer (`no`), more (`yes`) and that is it (`thanks`), in screen order.
    pub count_buttons: Vec<crate::dialogue::Button>,
    /// A count was heard: 「{count}回ですね。よければ、これでよい、を押してください。」
    pub heard: String,
    /// The count is kept: 「{count}回、記録しました。…」
    pub recorded: String,
    /// 「やめる」 during the test: nothing recorded.
    pub stopped: String,
    /// No count given for a long while: nothing recorded, on to the plan.
    pub no_count: String,
}

impl ChairStandLines {
    /// `line` with its `{count}` or `{seconds}` filled in.
    pub fn fill(line: &str, n: impl std::fmt::Display) -> String {
        line.replace("{count}", &n.to_string()).replace("{seconds}", &n.to_string())
    }

    /// Every line, for the spoken-line checks (counts at their longest).
    pub fn all_lines(&self) -> Vec<String> {
        let mut v = vec![
            self.offer.clone(),
            self.declined.clone(),
            self.chair.clone(),
            self.no_chair.clone(),
            self.start.clone(),
            Self::fill(&self.left, 20),
            self.end.clone(),
            self.ask_count.clone(),
            Self::fill(&self.heard, 38),
            Self::fill(&self.recorded, 38),
            self.stopped.clone(),
            self.no_count.clone(),
        ];
        v.extend(self.how.iter().cloned());
        v
    }
}
