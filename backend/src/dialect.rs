//! The dialect model's vocabulary as the office needs it: intent, question and body-part
//! names with Japanese labels for staff, so corrections are exported in exactly the
//! names `dialect-model learn` reads.
//!
//! The names mirror `dialect-model/src/intent.rs` (and care's `understanding`); the
//! backend does not link the speech model, so the lists are repeated here; a unit test
//! reads the model's source and fails when they drift apart.

/// Intent names and labels, in the model's order.
pub const INTENTS: &[(&str, &str)] = &[
    ("feeling_good", "元気"),
    ("feeling_unwell", "具合が悪い"),
    ("tired", "疲れている"),
    ("pain", "痛みがある"),
    ("slept_well", "よく眠れた"),
    ("slept_badly", "眠れなかった"),
    ("appetite_good", "食欲がある"),
    ("appetite_poor", "食欲がない"),
    ("exercised", "体操した"),
    ("not_exercised", "体操していない"),
    ("need_help", "助けが必要"),
    ("emergency", "緊急"),
    ("yes", "はい"),
    ("no", "いいえ"),
    ("repeat_request", "もう一度"),
    ("thanks", "お礼"),
    ("greeting", "あいさつ"),
    ("weather_snow", "雪・天気"),
    ("other", "その他"),
];

/// Question names and labels.
pub const QUESTIONS: &[(&str, &str)] = &[
    ("how_feeling", "体調"),
    ("slept", "睡眠"),
    ("appetite", "食欲"),
    ("pain_check", "痛み"),
    ("exercise_today", "今日の体操"),
    ("exercised_done", "体操の確認"),
    ("safety_check", "安否確認"),
    ("open", "自由な話"),
    ("confirm", "確認"),
];

/// Body parts, named as the model names them.
pub const BODY_PARTS: &[&str] = &["頭", "首", "肩", "背中", "腰", "胸", "腹", "膝", "足", "手", "歯", "目"];

/// The label of an intent name, or the name itself when a newer tablet sent one
/// this office does not know yet.
pub fn intent_label(name: &str) -> &str {
    INTENTS.iter().find(|(n, _)| *n == name).map_or(name, |(_, l)| l)
}

pub fn question_label(name: &str) -> &str {
    QUESTIONS.iter().find(|(n, _)| *n == name).map_or(name, |(_, l)| l)
}

pub fn is_intent(name: &str) -> bool {
    INTENTS.iter().any(|(n, _)| *n == name)
}

/// A plausible vocabulary name from a tablet: 1–40 of `a-z` and `_`. Newer tablets may
/// know names this list lacks; anything else (text, markup, numbers) is refused.
pub fn is_name(name: &str) -> bool {
    (1..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plausible_and_labels_fall_back() {
        assert!(INTENTS.iter().chain(QUESTIONS).all(|(n, _)| is_name(n)));
        assert!(!is_name("膝が痛い") && !is_name("") && !is_name("pain; DROP"));
        assert_eq!(intent_label("pain"), "痛みがある");
        assert_eq!(intent_label("new_intent"), "new_intent");
    }

    /// The names of `names!(Kind { Variant = "name", … })` in the model's source.
    fn model_names(kind: &str) -> Vec<String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../dialect-model/src/intent.rs");
        let source = std::fs::read_to_string(path).unwrap();
        let block = source.split(&format!("    {kind} {{")).nth(1).unwrap().split('}').next().unwrap();
        block.lines().filter_map(|l| Some(l.split('"').nth(1)?.to_owned())).collect()
    }

    #[test]
    fn the_lists_match_the_dialect_model() {
        let names = |list: &[(&str, &str)]| list.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>();
        assert_eq!(names(INTENTS), model_names("Intent"));
        assert_eq!(names(QUESTIONS), model_names("Question"));
        assert_eq!(BODY_PARTS.to_vec(), model_names("BodyPart"));
    }
}
