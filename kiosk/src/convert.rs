//! The one conversion between the dialect model's understanding and care's: both name
//! intents, body parts, questions and dangers from `vocab`, so only the shape differs.

use care::understanding::Understanding;

pub fn understanding(u: &dialect_model::intent::Understanding) -> Understanding {
    Understanding {
        intent: u.intent,
        body_part: u.body_part,
        confidence: u.confidence,
        critical: u.critical,
        danger: u.danger,
    }
}
