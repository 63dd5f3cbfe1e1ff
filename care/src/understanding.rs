//! What the dialect model tells care about one answer: an intent, maybe a body part, a confidence.
//!
//! These are care's own input types: the dialect model (or a button press) fills them
//! in, and the dialogue, planner and watches read them. Keeping them here means care
//! depends on nothing of the speech stack.

use serde::Deserialize;

/// A resident's meaning, as classified from one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    FeelingGood,
    FeelingUnwell,
    Tired,
    Pain,
    SleptWell,
    SleptBadly,
    AppetiteGood,
    AppetitePoor,
    Exercised,
    NotExercised,
    NeedHelp,
    Emergency,
    Yes,
    No,
    RepeatRequest,
    Thanks,
    Greeting,
    WeatherSnow,
    Other,
}

impl Intent {
    /// Every intent, in declaration order (for table-driven tests and validation).
    pub const ALL: [Intent; 19] = [
        Intent::FeelingGood,
        Intent::FeelingUnwell,
        Intent::Tired,
        Intent::Pain,
        Intent::SleptWell,
        Intent::SleptBadly,
        Intent::AppetiteGood,
        Intent::AppetitePoor,
        Intent::Exercised,
        Intent::NotExercised,
        Intent::NeedHelp,
        Intent::Emergency,
        Intent::Yes,
        Intent::No,
        Intent::RepeatRequest,
        Intent::Thanks,
        Intent::Greeting,
        Intent::WeatherSnow,
        Intent::Other,
    ];

    /// Intents that always start the help flow, whatever the question.
    pub fn is_critical(self) -> bool {
        matches!(self, Intent::NeedHelp | Intent::Emergency)
    }

    /// The snake_case name used in the data files.
    pub fn key(self) -> &'static str {
        match self {
            Intent::FeelingGood => "feeling_good",
            Intent::FeelingUnwell => "feeling_unwell",
            Intent::Tired => "tired",
            Intent::Pain => "pain",
            Intent::SleptWell => "slept_well",
            Intent::SleptBadly => "slept_badly",
            Intent::AppetiteGood => "appetite_good",
            Intent::AppetitePoor => "appetite_poor",
            Intent::Exercised => "exercised",
            Intent::NotExercised => "not_exercised",
            Intent::NeedHelp => "need_help",
            Intent::Emergency => "emergency",
            Intent::Yes => "yes",
            Intent::No => "no",
            Intent::RepeatRequest => "repeat_request",
            Intent::Thanks => "thanks",
            Intent::Greeting => "greeting",
            Intent::WeatherSnow => "weather_snow",
            Intent::Other => "other",
        }
    }
}

/// A body part a resident can name (「膝が痛い」), as the dialect model reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyPart {
    Head,
    Neck,
    Shoulder,
    Back,
    LowerBack,
    Chest,
    Belly,
    Knee,
    Leg,
    Hand,
    Teeth,
    Eye,
}

impl BodyPart {
    /// Every body part, in declaration order.
    pub const ALL: [BodyPart; 12] = [
        BodyPart::Head,
        BodyPart::Neck,
        BodyPart::Shoulder,
        BodyPart::Back,
        BodyPart::LowerBack,
        BodyPart::Chest,
        BodyPart::Belly,
        BodyPart::Knee,
        BodyPart::Leg,
        BodyPart::Hand,
        BodyPart::Teeth,
        BodyPart::Eye,
    ];

    /// The word the kiosk says (頭 首 肩 背中 腰 胸 腹 膝 足 手 歯 目).
    pub fn ja(self) -> &'static str {
        match self {
            BodyPart::Head => "頭",
            BodyPart::Neck => "首",
            BodyPart::Shoulder => "肩",
            BodyPart::Back => "背中",
            BodyPart::LowerBack => "腰",
            BodyPart::Chest => "胸",
            BodyPart::Belly => "おなか",
            BodyPart::Knee => "膝",
            BodyPart::Leg => "足",
            BodyPart::Hand => "手",
            BodyPart::Teeth => "歯",
            BodyPart::Eye => "目",
        }
    }
}

/// One understood answer, from the dialect model or from a button.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Understanding {
    pub intent: Intent,
    /// The body part named with a `Pain` intent, if any.
    pub body_part: Option<BodyPart>,
    /// 0.0..=1.0; a button press is 1.0.
    pub confidence: f32,
    /// The model's own flag for danger words (「胸が苦しい」「転んだ」) even when the
    /// intent is something else; care treats it like `NeedHelp`.
    pub critical: bool,
    /// The danger the resident named (a key of the dialect model's danger ontology,
    /// such as `fire`): the help flow confirms with that danger's own question.
    pub danger: Option<&'static str>,
}

impl Understanding {
    /// A sure understanding of `intent` (what a button press gives).
    pub fn sure(intent: Intent) -> Self {
        Self { intent, body_part: None, confidence: 1.0, critical: intent.is_critical(), danger: None }
    }

    /// A sure pain answer naming `part`.
    pub fn pain(part: BodyPart) -> Self {
        Self { body_part: Some(part), ..Self::sure(Intent::Pain) }
    }

    /// Whether this answer must start the help flow.
    pub fn is_critical(&self) -> bool {
        self.critical || self.intent.is_critical()
    }
}

/// Answers below this confidence are confirmed (「〜ということですね？」) before use.
pub const CONFIRM_BELOW: f32 = 0.6;
/// Answers below this confidence are treated as not understood at all.
pub const UNDERSTOOD_FROM: f32 = 0.25;
