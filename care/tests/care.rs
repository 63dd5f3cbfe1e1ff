//! The care crate's integration tests: the shipped data, the planner, the score, the dialogue and the watches.
//!
//! Tables go through one `check` helper per table; properties use proptest over the
//! real shipped catalogue and calendar.

use care::catalogue::{Catalogue, CatalogueError, Category};
use care::speech;

const CATALOGUE: &str = include_str!("../../assets/exercises/catalogue.toml");

fn catalogue() -> Catalogue {
    Catalogue::from_toml(CATALOGUE).expect("shipped catalogue parses")
}

mod shipped_catalogue {
    use super::*;

    #[test]
    fn has_enough_exercises_of_every_category_with_sources() {
        let cat = catalogue();
        assert!(cat.exercises().len() >= 40, "{}", cat.exercises().len());
        for category in Category::ALL {
            let n = cat.exercises().iter().filter(|e| e.category == category).count();
            assert!(n >= 4, "{category:?}: only {n}");
        }
        for e in cat.exercises() {
            assert!(!e.source.is_empty() && !e.picture.is_empty(), "{}", e.id);
            assert!(
                e.script.iter().any(|l| l.contains("いち、に"))
                    || e.category == Category::Oral
                    || e.category == Category::Cognition
                    || e.category == Category::Endurance,
                "{}: strength, balance and flexibility scripts count aloud",
                e.id
            );
        }
    }

    #[test]
    fn every_script_and_step_line_is_short_and_plain() {
        for e in catalogue().exercises() {
            for line in e.script.iter().chain(&e.steps) {
                assert_eq!(speech::line_problem(line), None, "{}: {line}", e.id);
            }
        }
    }
}

mod catalogue_errors {
    use super::*;

    const GOOD: &str = r##"
[sources]
s = "a source"
[[exercise]]
id = "a"
name = "あ"
reading = "あ"
category = "strength"
intensity = "light"
posture = "seated"
place = "indoor"
equipment = []
contraindications = []
loads = []
seasons = ["all"]
reps = 3
steps = ["あ。"]
script = ["#count 3"]
picture = "a.png"
source = "s"
"##;

    /// Applies `edit` to a one-exercise catalogue and expects `expected`.
    fn check(edit: impl Fn(&str) -> String, expected: Result<(), CatalogueError>) {
        let text = edit(GOOD);
        let got = Catalogue::from_toml(&text).map(|_| ());
        match (&got, &expected) {
            (Err(CatalogueError::Toml(_)), Err(CatalogueError::Toml(_))) => {}
            _ => assert_eq!(got, expected, "{text}"),
        }
    }

    #[test]
    fn bad_catalogues_get_typed_errors() {
        let err = |e| Err(e);
        check(|t| t.to_string(), Ok(()));
        let dup = |t: &str| format!("{t}{}", &t[t.find("[[exercise]]").unwrap()..]);
        check(dup, err(CatalogueError::DuplicateId("a".into())));
        check(
            |t| t.replace("name = \"あ\"\n", ""),
            err(CatalogueError::MissingField { index: 0, id: "a".into(), field: "name" }),
        );
        check(
            |t| t.replace("\"strength\"", "\"karate\""),
            err(CatalogueError::UnknownCategory { id: "a".into(), value: "karate".into() }),
        );
        check(
            |t| t.replace("source = \"s\"", "source = \"wiki\""),
            err(CatalogueError::UnknownSource { id: "a".into(), value: "wiki".into() }),
        );
        check(
            |t| t.replace("loads = []", "loads = [\"tail\"]"),
            err(CatalogueError::UnknownValue { id: "a".into(), field: "loads", value: "tail".into() }),
        );
        check(
            |t| t.replace("reps = 3", "reps = 3\nseconds = 9"),
            err(CatalogueError::BadDose { id: "a".into() }),
        );
        check(
            |t| t.replace("#count 3", "#count 99"),
            err(CatalogueError::BadCount { id: "a".into(), value: "99".into() }),
        );
        check(|t| t.replace("reps = 3", "reps = \"three\""), err(CatalogueError::Toml(String::new())));
        check(|t| t.replace("reps = 3", "color = 3"), err(CatalogueError::Toml(String::new())));
        check(|_| "[sources]\n".into(), err(CatalogueError::Empty));
    }
}
