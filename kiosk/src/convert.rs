//! Explicit conversions between the dialect model's types and care's: the two crates
//! share names, not code, so neither depends on the other.

use care::dialogue::QuestionId;
use care::understanding::{BodyPart, Intent, Understanding};

/// The dialect model's question for a care question.
pub fn question(q: QuestionId) -> dialect_model::intent::Question {
    use dialect_model::intent::Question as Q;
    match q {
        QuestionId::HowFeeling => Q::HowFeeling,
        QuestionId::Slept => Q::Slept,
        QuestionId::Appetite => Q::Appetite,
        QuestionId::PainCheck => Q::PainCheck,
        QuestionId::ExerciseToday => Q::ExerciseToday,
        QuestionId::ExercisedDone => Q::ExercisedDone,
        QuestionId::SafetyCheck => Q::SafetyCheck,
        QuestionId::Open => Q::Open,
        QuestionId::Confirm => Q::Confirm,
    }
}

/// Care's intent with the same name (`other` for a name care does not know).
pub fn intent(i: dialect_model::intent::Intent) -> Intent {
    Intent::ALL.into_iter().find(|c| c.key() == i.key()).unwrap_or(Intent::Other)
}

/// Care's body part for the dialect model's (named by kanji there, by the word the
/// kiosk says in care: 腹 is おなか, so the mapping is written out).
pub fn body_part(p: dialect_model::intent::BodyPart) -> Option<BodyPart> {
    use dialect_model::intent::BodyPart as D;
    Some(match p {
        D::Head => BodyPart::Head,
        D::Neck => BodyPart::Neck,
        D::Shoulder => BodyPart::Shoulder,
        D::Back => BodyPart::Back,
        D::LowerBack => BodyPart::LowerBack,
        D::Chest => BodyPart::Chest,
        D::Belly => BodyPart::Belly,
        D::Knee => BodyPart::Knee,
        D::Leg => BodyPart::Leg,
        D::Hand => BodyPart::Hand,
        D::Teeth => BodyPart::Teeth,
        D::Eye => BodyPart::Eye,
    })
}

pub fn understanding(u: &dialect_model::intent::Understanding) -> Understanding {
    Understanding {
        intent: intent(u.intent),
        body_part: u.body_part.and_then(body_part),
        confidence: u.confidence,
        critical: u.critical,
        danger: u.danger.map(dialect_model::intent::Danger::key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dialect_intent_and_part_has_a_care_twin() {
        for &i in dialect_model::intent::Intent::ALL {
            assert_eq!(intent(i).key(), i.key());
        }
        let parts: std::collections::BTreeSet<_> =
            dialect_model::intent::BodyPart::ALL.iter().filter_map(|&p| body_part(p)).collect();
        assert_eq!(parts.len(), BodyPart::ALL.len(), "one-to-one");
    }

    #[test]
    fn every_danger_of_the_ontology_has_its_own_confirm_question() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/dialogue/checkin.toml");
        let script = care::dialogue::Script::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
        for &d in dialect_model::intent::Danger::ALL {
            let line = script.help.danger.get(d.key()).unwrap_or_else(|| panic!("no [help.danger] {d}"));
            assert!(line.ends_with('？') || line.ends_with('。'), "{d}: {line}");
        }
        assert_eq!(script.help.danger.len(), dialect_model::intent::Danger::ALL.len(), "no stray keys");
    }
}
