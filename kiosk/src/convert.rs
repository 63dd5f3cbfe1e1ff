//! The one conversion between the dialect model's understanding and care's: both name
//! intents, body parts, questions and dangers from `vocab`, so only the shape differs.

use care::understanding::Understanding;

/// `u` as care reads it, with any count said in `text` (the transcript, which stays
/// in the speech worker) and which of the `expected` choices it named, if any.
pub fn understanding(
    u: &dialect_model::intent::Understanding,
    text: &str,
    expected: &[Vec<String>],
) -> Understanding {
    let (named, last_named) = if expected.is_empty() {
        (0, None)
    } else {
        // Unreadable dictionary: kana and kanji are still compared as written.
        let reader = dialect_model::reading::Reader::shared().ok();
        dialect_model::choice::named(text, reader.as_deref(), expected)
    };
    Understanding {
        named,
        last_named,
        count: dialect_model::number::spoken_count(text),
        intent: u.intent,
        body_part: u.body_part,
        confidence: u.confidence,
        critical: u.critical,
        danger: u.danger,
    }
}
