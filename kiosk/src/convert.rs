//! The one conversion between the dialect model's understanding and care's: both name
//! intents, body parts, questions and dangers from `vocab`, so only the shape differs.

use care::understanding::Understanding;

/// `u` as care reads it, with any count said in `text` (the transcript, which stays
/// in the speech worker).
pub fn understanding(u: &dialect_model::intent::Understanding, text: &str) -> Understanding {
    Understanding {
        count: dialect_model::number::spoken_count(text),
        intent: u.intent,
        body_part: u.body_part,
        confidence: u.confidence,
        critical: u.critical,
        danger: u.danger,
    }
}
