//! What the dialect model tells care about one answer: an intent, maybe a body part, a confidence.
//!
//! These are care's own input types: the dialect model (or a button press) fills them
//! in, and the dialogue, planner and watches read them. Keeping them here means care
//! depends on nothing of the speech stack. The names themselves (intents, body parts,
//! dangers) are the product's one vocabulary, `vocab`.

pub use vocab::{BodyPart, Danger, Intent};

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
    /// The danger the resident named (a concept of the dialect model's ontology,
    /// such as fire): the help flow confirms with that danger's own question.
    pub danger: Option<Danger>,
    /// A number said in the answer (「十二回」「12」), for a question that asks for a
    /// count; `None` when none was said or from a button.
    pub count: Option<u8>,
    /// For a question whose answers are a few known words (the weekly talk's days and
    /// words): bit `i` set when choice `i` was named, and the one named last (the
    /// answer, when she corrects herself). Zero and `None` otherwise, and from a button.
    pub named: u16,
    pub last_named: Option<u8>,
}

impl Understanding {
    /// A sure understanding of `intent` (what a button press gives).
    pub fn sure(intent: Intent) -> Self {
        Self {
            intent,
            body_part: None,
            confidence: 1.0,
            critical: intent.is_critical(),
            danger: None,
            count: None,
            named: 0,
            last_named: None,
        }
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
