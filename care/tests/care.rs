//! The care crate's integration tests: the shipped data, the planner, the score, the dialogue and the watches.
//!
//! Tables go through one `check` helper per table; properties use proptest over the
//! real shipped catalogue and calendar.

use std::collections::BTreeSet;

use care::catalogue::{
    Catalogue, CatalogueError, Category, Contraindication, Equipment, Intensity, Place, Posture,
};
use care::dialogue::{self, Context, Entry, Input, Pace, QuestionId, Script, Session, Step, Turn};
use care::planner::{self, AdviceKind, DayRecord, Feeling, Plan, Profile, TodayFacts};
use care::record::{AnsweredBy, CareEvent, Outcome};
use care::score;
use care::season::RegionCalendar;
use care::speech;
use care::understanding::{BodyPart, Danger, Intent, Understanding};
use care::watch::{self, SafetyStatus, SnowWatch, WatchLine, WatchState};
use care::weather::{Conditions, Heat, Warning, Weather};
use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;

const CATALOGUE: &str = include_str!("../../assets/exercises/catalogue.toml");
const NISHIKAWA: &str = include_str!("../../assets/region/nishikawa.toml");
const DIALOGUE: &str = include_str!("../../assets/dialogue/checkin.toml");

fn script() -> Script {
    Script::from_toml(DIALOGUE).expect("shipped dialogue parses")
}

fn calendar() -> RegionCalendar {
    RegionCalendar::from_toml(NISHIKAWA).expect("shipped calendar parses")
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("test date")
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time")
}

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

mod planning {
    use super::*;

    /// One planning scenario: the inputs, and what the plan must show.
    struct Case {
        name: &'static str,
        day: &'static str,
        weather: Option<Weather>,
        today: TodayFacts,
        profile: Profile,
        history: Vec<DayRecord>,
        expect: fn(&Plan, &Conditions, &Catalogue) -> Result<(), String>,
    }

    fn check(case: Case) {
        let cat = catalogue();
        let conditions = Conditions::for_day(&calendar(), date(case.day), case.weather.as_ref());
        let plan = planner::plan_day(&cat, &conditions, &case.today, &case.profile, &case.history);
        if let Err(why) = (case.expect)(&plan, &conditions, &cat) {
            panic!("{}: {why}\n{plan:#?}", case.name);
        }
        // Every sentence the plan says is fit to say.
        for line in std::iter::once(plan.headline.as_str())
            .chain(plan.notes.iter().map(String::as_str))
            .chain(plan.advice.iter().map(|a| a.text))
        {
            assert_eq!(speech::line_problem(line), None, "{}: {line}", case.name);
        }
    }

    fn report(day: &str, depth: u32, wbgt: f32, alert: bool, warnings: &[Warning]) -> Option<Weather> {
        Some(Weather {
            observed_at: at(&format!("{day} 06:00")),
            source: "気象庁".into(),
            snow_depth_cm: Some(depth),
            temperature_c: Some(wbgt),
            wbgt_c: Some(wbgt),
            heatstroke_alert: alert,
            warnings: warnings.iter().copied().collect(),
        })
    }

    /// `n` days before `day`, each planned at `level` with 5 items of which `done` were done.
    fn history(day: &str, n: i64, level: Intensity, done: usize) -> Vec<DayRecord> {
        (1..=n)
            .map(|k| DayRecord {
                date: date(day) - chrono::Days::new(k as u64),
                planned: Some(level),
                planned_items: 5,
                done: [
                    Category::Flexibility,
                    Category::Balance,
                    Category::Endurance,
                    Category::Oral,
                    Category::Cognition,
                ][..done]
                    .to_vec(),
                excused: false,
            })
            .collect()
    }

    fn all_items(
        plan: &Plan,
        cat: &Catalogue,
        ok: impl Fn(&care::catalogue::Exercise) -> bool,
    ) -> Result<(), String> {
        match plan.items.iter().find(|i| !ok(cat.get(&i.exercise_id).expect("planned id exists"))) {
            Some(bad) => Err(format!("{} breaks the rule", bad.exercise_id)),
            None if plan.items.is_empty() => Err("no items".into()),
            None => Ok(()),
        }
    }

    fn base(name: &'static str, day: &'static str) -> Case {
        Case {
            name,
            day,
            weather: None,
            today: TodayFacts { feeling: Feeling::Good, ..Default::default() },
            profile: Profile::default(),
            history: vec![],
            expect: |_, _, _| Ok(()),
        }
    }

    #[test]
    fn plans_follow_season_weather_body_and_history() {
        check(Case {
            weather: report("2026-01-20", 180, -3.0, false, &[Warning::HeavySnow]),
            expect: |plan, c, cat| {
                assert!(c.heavy_snow && !c.from_calendar);
                if plan.headline != "雪が深いので、今日は家の中で椅子に座ってできる体操です。"
                {
                    return Err("headline".into());
                }
                if !plan.advice.iter().any(|a| a.kind == AdviceKind::SnowClearingSafety) {
                    return Err("no snow-clearing reminder".into());
                }
                all_items(plan, cat, |e| e.place == Place::Indoor && e.posture == Posture::Seated)
            },
            ..base("heavy snow: indoor, seated, snow-clearing reminder", "2026-01-20")
        });
        check(Case {
            weather: report("2026-08-05", 0, 33.0, true, &[]),
            history: history("2026-08-05", 7, Intensity::Brisk, 5),
            expect: |plan, c, cat| {
                assert_eq!(c.heat, Heat::Alert);
                let kinds: Vec<_> = plan.advice.iter().map(|a| a.kind).collect();
                if !kinds.contains(&AdviceKind::Water) || !kinds.contains(&AdviceKind::CoolRoom) {
                    return Err(format!("advice {kinds:?}"));
                }
                if plan.intensity > Some(Intensity::Light) {
                    return Err("too hard for a heat alert".into());
                }
                all_items(plan, cat, |e| e.place == Place::Indoor)
            },
            ..base("heat alert: indoor, light, water and cool room", "2026-08-05")
        });
        check(Case {
            weather: report("2026-05-20", 0, 18.0, false, &[]),
            history: {
                // Strength yesterday, so today is an endurance day.
                let mut h = history("2026-05-20", 7, Intensity::Moderate, 5);
                h[0].done.push(Category::Strength);
                h
            },
            expect: |plan, _, cat| {
                let outdoor =
                    plan.items.iter().any(|i| cat.get(&i.exercise_id).unwrap().place == Place::Outdoor);
                if !outdoor || plan.headline != "天気がよいので、外を歩く体操も入れました。"
                {
                    return Err("fine May weather should include a walk".into());
                }
                Ok(())
            },
            ..base("fine green season: a walk outdoors", "2026-05-20")
        });
        check(Case {
            today: TodayFacts {
                feeling: Feeling::Good,
                pains: [BodyPart::Knee, BodyPart::Shoulder].into(),
                ..Default::default()
            },
            weather: report("2026-10-10", 0, 15.0, false, &[]),
            expect: |plan, _, cat| {
                if !plan.headline.contains("膝") {
                    return Err("the reason names the sore knee".into());
                }
                all_items(plan, cat, |e| {
                    !e.loads.contains(&BodyPart::Knee) && !e.loads.contains(&BodyPart::Shoulder)
                })
            },
            ..base("knee and shoulder pain: nothing loading them", "2026-10-10")
        });
        check(Case {
            today: TodayFacts { feeling: Feeling::Good, slept_badly: true, ..Default::default() },
            expect: |plan, _, _| {
                let rest = plan.items.is_empty() && plan.intensity.is_none();
                if !rest || !plan.headline.contains("眠れなかった") {
                    return Err("a bad night means rest".into());
                }
                Ok(())
            },
            ..base("slept badly: rest", "2026-10-10")
        });
        check(Case {
            today: TodayFacts { feeling: Feeling::Unwell, ..Default::default() },
            expect: |plan, _, _| {
                let rest = plan.items.is_empty() && plan.intensity.is_none();
                if !rest || !plan.advice.iter().any(|a| a.kind == AdviceKind::Rest) {
                    return Err("unwell means rest".into());
                }
                Ok(())
            },
            ..base("unwell: rest", "2026-10-10")
        });
        check(Case {
            today: TodayFacts { feeling: Feeling::Good, pain_unplaced: true, ..Default::default() },
            expect: |plan, _, _| {
                let rest = plan.items.is_empty() && plan.intensity.is_none();
                if !rest || !plan.headline.contains("痛む") {
                    return Err("pain with no place named means rest".into());
                }
                Ok(())
            },
            ..base("pain, place unknown: rest", "2026-10-10")
        });
        check(Case {
            today: TodayFacts { feeling: Feeling::Good, recent_fall: true, ..Default::default() },
            expect: |plan, _, cat| {
                all_items(plan, cat, |e| {
                    e.posture == Posture::Seated
                        && !e.contraindications.contains(&Contraindication::RecentFall)
                })
            },
            ..base("recent fall: seated only", "2026-10-10")
        });
        check(Case {
            today: TodayFacts { feeling: Feeling::Tired, ..Default::default() },
            history: history("2026-10-10", 7, Intensity::Moderate, 5),
            expect: |plan, _, _| match plan.intensity {
                Some(i) if i <= Intensity::Light => Ok(()),
                other => Err(format!("tired should be lighter, got {other:?}")),
            },
            ..base("tired: lighter", "2026-10-10")
        });
        check(Case {
            expect: |plan, c, cat| {
                if !(c.from_calendar && c.snowbound) {
                    return Err("offline February falls back to the snow season".into());
                }
                if plan.headline != "雪が積もっているので、今日は家の中でできる体操です。"
                {
                    return Err("headline".into());
                }
                all_items(plan, cat, |e| e.place == Place::Indoor)
            },
            ..base("offline in February: calendar says snow", "2026-02-10")
        });
        check(Case {
            weather: report("2026-02-01", 0, 5.0, false, &[]),
            expect: |_, c, _| {
                if c.from_calendar { Ok(()) } else { Err("a 9-day-old report must not be used".into()) }
            },
            ..base("stale report: calendar fallback", "2026-02-10")
        });
        check(Case {
            history: history("2026-10-10", 7, Intensity::Light, 5),
            expect: |plan, _, _| match plan.intensity {
                Some(Intensity::Moderate) => Ok(()),
                other => Err(format!("a full week at light should step up once, got {other:?}")),
            },
            ..base("good adherence: one step up", "2026-10-10")
        });
        check(Case {
            history: history("2026-10-10", 7, Intensity::Moderate, 1),
            expect: |plan, _, _| match plan.intensity {
                Some(Intensity::Light) => Ok(()),
                other => Err(format!("poor adherence should step down, got {other:?}")),
            },
            ..base("poor adherence: one step down", "2026-10-10")
        });
        check(Case {
            history: {
                let mut h = history("2026-10-10", 7, Intensity::Moderate, 5);
                h[0].done.truncate(1);
                h
            },
            expect: |plan, _, _| match plan.intensity {
                Some(Intensity::Light) => Ok(()),
                other => Err(format!("a session given up yesterday should step down, got {other:?}")),
            },
            ..base("a bad day after a good week: one step down", "2026-10-10")
        });
        check(Case {
            profile: Profile { contraindications: [Contraindication::Knee].into(), ..Profile::default() },
            history: history("2026-10-10", 7, Intensity::Moderate, 5),
            expect: |plan, _, cat| {
                all_items(plan, cat, |e| !e.contraindications.contains(&Contraindication::Knee))
            },
            ..base("knee contraindication in the profile", "2026-10-10")
        });
    }

    #[test]
    fn planner_phrases_are_short_and_plain() {
        for line in planner::fixed_phrases() {
            assert_eq!(speech::line_problem(line), None, "{line}");
        }
    }

    fn any_weather() -> impl Strategy<Value = Option<(u32, f32, bool, bool, bool)>> {
        proptest::option::of((0u32..300, 10.0f32..36.0, any::<bool>(), any::<bool>(), any::<bool>()))
    }

    /// A subset of `all`, each member in with probability `p`.
    fn any_subset<T: Copy + Ord + std::fmt::Debug + 'static>(
        all: &'static [T],
        p: f64,
    ) -> impl Strategy<Value = BTreeSet<T>> {
        proptest::collection::vec(proptest::bool::weighted(p), all.len())
            .prop_map(move |picks| all.iter().zip(picks).filter(|(_, p)| *p).map(|(x, _)| *x).collect())
    }

    fn feeling() -> impl Strategy<Value = Feeling> {
        prop_oneof![Just(Feeling::Good), Just(Feeling::Tired), Just(Feeling::Unwell), Just(Feeling::Unknown)]
    }

    /// A day's random facts: weather, feeling, pains, fall, and how much of the plan gets done.
    type DayFacts = (Option<(u32, f32, bool, bool, bool)>, Feeling, BTreeSet<BodyPart>, bool, u8);

    fn any_day() -> impl Strategy<Value = DayFacts> {
        (any_weather(), feeling(), any_subset(BodyPart::ALL, 0.1), proptest::bool::weighted(0.1), 0u8..=5)
    }

    fn to_weather(day: NaiveDate, w: (u32, f32, bool, bool, bool)) -> Weather {
        let (depth, wbgt, alert, heavy_snow, storm) = w;
        let mut warnings = BTreeSet::new();
        if heavy_snow {
            warnings.insert(Warning::HeavySnow);
        }
        if storm {
            warnings.insert(Warning::Storm);
        }
        Weather {
            observed_at: day.and_hms_opt(6, 0, 0).unwrap(),
            source: "test".into(),
            snow_depth_cm: Some(depth),
            temperature_c: Some(wbgt),
            wbgt_c: Some(wbgt),
            heatstroke_alert: alert,
            warnings,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Thirty days in a row, each plan fed back as history: safety rules hold on
        /// every day and the intensity never climbs more than one step from one plan to the next.
        #[test]
        fn planner_is_safe_and_progressive_over_a_month(
            start in 0u32..365,
            contraindications in any_subset(Contraindication::ALL, 0.2),
            equipment in any_subset(&[Equipment::Chair, Equipment::Wall, Equipment::LightWeights, Equipment::Towel, Equipment::Ball], 0.7),
            days in proptest::collection::vec(any_day(), 30),
        ) {
            let cat = catalogue();
            let cal = calendar();
            let profile = Profile { contraindications, equipment, max_intensity: None };
            let mut history: Vec<DayRecord> = Vec::new();
            let mut last_planned: Option<Intensity> = None;
            for (k, (weather, feeling, pains, recent_fall, done)) in days.into_iter().enumerate() {
                let day = date("2026-01-01") + chrono::Days::new((start + k as u32) as u64);
                let weather = weather.map(|w| to_weather(day, w));
                let conditions = Conditions::for_day(&cal, day, weather.as_ref());
                let today = TodayFacts { feeling, pains: pains.clone(), recent_fall, ..Default::default() };
                let plan = planner::plan_day(&cat, &conditions, &today, &profile, &history);
                prop_assert_eq!(&plan, &planner::plan_day(&cat, &conditions, &today, &profile, &history), "deterministic");

                let outdoor_forbidden = weather.as_ref().is_some_and(|w| {
                    w.heatstroke_alert || w.warnings.contains(&Warning::HeavySnow) || w.warnings.contains(&Warning::Storm)
                });
                for item in &plan.items {
                    let e = cat.get(&item.exercise_id).unwrap();
                    prop_assert!(e.contraindications.is_disjoint(&profile.contraindications), "{} contraindicated", e.id);
                    prop_assert!(!(recent_fall && e.contraindications.contains(&Contraindication::RecentFall)));
                    prop_assert!(!recent_fall || e.posture == Posture::Seated);
                    prop_assert!(e.loads.is_disjoint(&pains), "{} loads a sore part", e.id);
                    prop_assert!(!(outdoor_forbidden && e.place == Place::Outdoor), "{} outdoors", e.id);
                    prop_assert!(conditions.outdoor_allowed() || e.place == Place::Indoor);
                    prop_assert!(Some(e.intensity) <= plan.intensity);
                }
                if feeling == Feeling::Unwell {
                    prop_assert!(plan.items.is_empty());
                }
                if let (Some(before), Some(now)) = (last_planned, plan.intensity) {
                    prop_assert!(now.step() <= before.step() + 1, "{:?} -> {:?}", before, now);
                }
                if plan.intensity.is_some() {
                    last_planned = plan.intensity;
                }
                let done_items: Vec<Category> = plan.items.iter().take(done as usize).map(|i| i.category).collect();
                history.push(DayRecord {
                    date: day,
                    planned: plan.intensity,
                    planned_items: plan.items.len() as u8,
                    done: done_items,
                    excused: plan.intensity.is_none(),
                });
            }
        }
    }
}

mod habit_score {
    use super::*;

    const TODAY: &str = "2026-02-28";

    /// A record `days_ago` days before today with these exercises done.
    fn day(days_ago: u64, done: &[Category], excused: bool) -> DayRecord {
        DayRecord {
            date: date(TODAY) - chrono::Days::new(days_ago),
            planned: if excused { None } else { Some(Intensity::Light) },
            planned_items: 5,
            done: done.to_vec(),
            excused,
        }
    }

    const FULL: &[Category] = &[Category::Strength, Category::Balance, Category::Flexibility];
    const LIGHT: &[Category] = &[Category::Oral];

    fn check(name: &str, records: Vec<DayRecord>, expected: u8) {
        let got = score::habit_score(date(TODAY), &records);
        assert_eq!(got.score, expected, "{name}: {got:#?}");
    }

    #[test]
    fn score_table() {
        check("nothing recorded", vec![], 0);
        check("full plan every day for four weeks", (0..28).map(|d| day(d, FULL, false)).collect(), 100);
        // Per week: 5 active days (regular 1.0), 3 multi (1.0), 2 strength (1.0).
        let guideline_week = |w: u64| {
            [0, 1, 2]
                .iter()
                .map(move |d| day(7 * w + d * 2, FULL, false))
                .chain([day(7 * w + 1, LIGHT, false), day(7 * w + 3, LIGHT, false)])
        };
        check("exactly the guideline each week", (0..4).flat_map(guideline_week).collect(), 100);
        // Week 1 only: regular 1/5, multi 0, strength 0 → 8; weeks 2-4 score 0 → 8*4/10 = 3.2.
        check("one oral exercise this week", vec![day(0, LIGHT, false)], 3);
        // A snowbound storm week: 4 rest days excused, the indoor plan done the other 3 days.
        let storm_week: Vec<DayRecord> =
            (0..7).map(|d| day(d, if d < 3 { FULL } else { &[] }, d >= 3)).collect();
        // regular 3/(5·3/7)=1.4→1, multi 3/(3·3/7)→1, strength 3/(2·3/7)→1: 100 for week 1 → 40.
        check("snowbound week with the indoor plan done", storm_week, 40);
        check("everything excused: no data, 0", (0..28).map(|d| day(d, &[], true)).collect(), 0);
        // Recency: the same perfect week counts 4× when recent and 1× when oldest.
        check("perfect week 1 only", (0..7).map(|d| day(d, FULL, false)).collect(), 40);
        check("perfect week 4 only", (21..28).map(|d| day(d, FULL, false)).collect(), 10);
        check("records outside the window are ignored", (28..60).map(|d| day(d, FULL, false)).collect(), 0);
    }

    #[test]
    fn breakdown_names_the_counts() {
        let records = vec![day(0, FULL, false), day(1, LIGHT, false), day(2, &[], true)];
        let s = score::habit_score(date(TODAY), &records);
        let w = &s.weeks[0];
        assert_eq!((w.available_days, w.active_days, w.multi_component_days, w.strength_days), (6, 2, 1, 1));
        assert_eq!((w.from, w.to), (date("2026-02-22"), date(TODAY)));
        assert_eq!(s.weeks[3].to, date("2026-02-07"));
    }

    fn any_record() -> impl Strategy<Value = (u64, Vec<Category>, bool)> {
        let cat = proptest::sample::select(Category::ALL.to_vec());
        (0u64..35, proptest::collection::vec(cat, 0..4), proptest::bool::weighted(0.15))
    }

    proptest! {
        #[test]
        fn score_is_bounded_and_monotone_in_adherence(
            records in proptest::collection::vec(any_record(), 0..60),
            extra_day in 0u64..35,
            extra in proptest::sample::select(Category::ALL.to_vec()),
        ) {
            let records: Vec<DayRecord> = records.into_iter().map(|(d, done, ex)| day(d, &done, ex)).collect();
            let before = score::habit_score(date(TODAY), &records);
            prop_assert!(before.score <= 100);
            // One more exercise done on some day (excused status unchanged) never lowers the score.
            let mut more = records.clone();
            match more.iter_mut().find(|r| r.date == date(TODAY) - chrono::Days::new(extra_day)) {
                Some(r) => r.done.push(extra),
                None => more.push(day(extra_day, &[extra], false)),
            }
            let after = score::habit_score(date(TODAY), &more);
            prop_assert!(after.score >= before.score, "{} -> {}", before.score, after.score);
        }
    }
}

mod checkin_dialogue {
    use super::*;

    const NOW: &str = "2026-01-20 08:30";

    fn ctx() -> Context {
        Context {
            name: "佐々木".into(),
            now: at(NOW),
            conditions: None,
            responder: Some("推進員の佐藤さん".into()),
        }
    }

    fn voice(intent: Intent, confidence: f32) -> Input {
        let body_part = (intent == Intent::Pain).then_some(BodyPart::Knee);
        Input::Heard(Understanding {
            intent,
            body_part,
            confidence,
            critical: false,
            danger: None,
            count: None,
            named: 0,
            last_named: None,
        })
    }

    /// Starts `entry` and answers by button along `path`; returns the session and the last turn.
    fn reach<'s>(script: &'s Script, entry: Entry, path: &[Intent]) -> (Session<'s>, Turn) {
        let (mut session, mut turn) = Session::start(script, entry, &ctx());
        for &intent in path {
            turn = session.respond(at(NOW), Input::Pressed(intent));
        }
        (session, turn)
    }

    #[test]
    fn asking_to_be_heard_closes_by_saying_the_office_will_be_told() {
        use Intent::*;
        let script = script();
        let (s, turn) = reach(&script, Entry::Checkin, &[FeelingUnwell, No, Yes]);
        assert!(s.is_finished() && s.record().wants_contact());
        assert_eq!(
            turn.say[0].text,
            "わかりました。推進員の佐藤さんに、伝えます。また明日、お話ししましょう。"
        );
        let (s, turn) = reach(&script, Entry::Checkin, &[FeelingUnwell, No, No]);
        assert!(s.is_finished() && !s.record().wants_contact());
        assert_eq!(turn.say[0].text, script.lines.closing);
    }

    #[test]
    fn an_unwell_resident_or_a_bad_night_is_not_offered_exercise() {
        use Intent::*;
        let script = script();
        for path in [
            &[FeelingUnwell, Pain][..],
            &[FeelingUnwell, No],
            &[FeelingGood, SleptBadly, AppetiteGood, No],
            &[Tired, SleptBadly, AppetitePoor, Pain],
        ] {
            let (s, turn) = reach(&script, Entry::Checkin, path);
            assert_eq!(turn.step, Step::Question(QuestionId::Open), "{path:?}");
            assert!(s.record().rest_advised(), "{path:?}");
            assert!(s.record().answers.iter().all(|a| a.question != QuestionId::ExerciseToday));
        }
        let (_, turn) = reach(&script, Entry::Checkin, &[FeelingGood, SleptWell, AppetiteGood, No]);
        assert_eq!(turn.step, Step::Question(QuestionId::ExerciseToday), "a good day is offered exercise");
    }

    /// Where each question is reached from, by buttons.
    fn path_to(q: QuestionId) -> (Entry, &'static [Intent]) {
        use Intent::*;
        match q {
            QuestionId::HowFeeling => (Entry::Checkin, &[]),
            QuestionId::Slept => (Entry::Checkin, &[FeelingGood]),
            QuestionId::Appetite => (Entry::Checkin, &[FeelingGood, SleptWell]),
            QuestionId::PainCheck => (Entry::Checkin, &[FeelingGood, SleptWell, AppetiteGood]),
            // The fifth question of a normal day.
            QuestionId::ExerciseToday => (Entry::Checkin, &[FeelingGood, SleptWell, AppetiteGood, No]),
            // Unwell skips sleep and appetite, and is not offered exercise.
            QuestionId::Open => (Entry::Checkin, &[FeelingUnwell, No]),
            QuestionId::ExercisedDone => (Entry::AfterExercise, &[]),
            QuestionId::SafetyCheck => (Entry::SafetyCheck, &[]),
            QuestionId::Confirm => unreachable!("the confirm step is reached by low confidence"),
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Goes {
        Ask(QuestionId),
        End,
        Help,
        /// The same question again, slower.
        Again,
        /// A kind word, then the same question.
        Ack,
        SnowOffer,
        Misunderstood,
    }

    /// Asks `q`, answers `intent` by confident voice, and checks where it goes.
    fn check(q: QuestionId, intent: Intent, expected: Goes) {
        let script = script();
        let (entry, path) = path_to(q);
        let (mut session, turn) = reach(&script, entry, path);
        assert_eq!(turn.step, Step::Question(q), "path to {q:?}");
        let before = session.record().misunderstandings;
        let turn = session.respond(at(NOW), voice(intent, 0.9));
        let said: Vec<&str> = turn.say.iter().map(|l| l.text.as_str()).collect();
        let question = script.question(q).say.as_str();
        let got = match turn.step {
            Step::Question(next) if next != q => Goes::Ask(next),
            Step::Finished if turn.events.iter().any(|e| matches!(e, CareEvent::Checkin(_))) => Goes::End,
            Step::HelpConfirm => Goes::Help,
            Step::SnowWatchOffer => Goes::SnowOffer,
            Step::Question(_) if said == [question] && turn.say[0].pace == Pace::Slow => Goes::Again,
            Step::Question(_) if session.record().misunderstandings == before + 1 => Goes::Misunderstood,
            Step::Question(_) if said.len() == 2 && said[1] == question => Goes::Ack,
            _ => panic!("{q:?} + {intent:?}: unexpected turn {turn:#?}"),
        };
        assert_eq!(got, expected, "{q:?} + {intent:?}: {said:?}");
    }

    /// The expected destination of every intent at every question: the listed ones, plus
    /// the rules common to all questions, and otherwise a misunderstanding.
    #[test]
    fn each_intent_at_each_question_goes_where_it_should() {
        use Intent::*;
        use QuestionId::*;
        let table: &[(QuestionId, &[(Intent, Goes)])] = &[
            (
                HowFeeling,
                &[
                    (FeelingGood, Goes::Ask(Slept)),
                    (Tired, Goes::Ask(Slept)),
                    (FeelingUnwell, Goes::Ask(PainCheck)),
                    (Pain, Goes::Ask(Slept)),
                    (Yes, Goes::Ask(Slept)),
                    (No, Goes::Ask(PainCheck)),
                    (LowMood, Goes::Ask(Slept)),
                    (Lonely, Goes::Ask(Slept)),
                ],
            ),
            (
                Slept,
                &[
                    (SleptWell, Goes::Ask(Appetite)),
                    (SleptBadly, Goes::Ask(Appetite)),
                    (Yes, Goes::Ask(Appetite)),
                    (No, Goes::Ask(Appetite)),
                    (Tired, Goes::Ask(Appetite)),
                ],
            ),
            (
                Appetite,
                &[
                    (AppetiteGood, Goes::Ask(PainCheck)),
                    (AppetitePoor, Goes::Ask(PainCheck)),
                    (Yes, Goes::Ask(PainCheck)),
                    (No, Goes::Ask(PainCheck)),
                ],
            ),
            (
                PainCheck,
                &[
                    (No, Goes::Ask(ExerciseToday)),
                    // Pain in a named place (`voice` names the knee) plans around it;
                    // pain with no place named (a bare はい) is a rest day.
                    (Pain, Goes::Ask(ExerciseToday)),
                    (Yes, Goes::Ask(Open)),
                    (FeelingGood, Goes::Ask(ExerciseToday)),
                ],
            ),
            // Fifth question: the open one follows, whatever the five-question limit.
            (
                ExerciseToday,
                &[
                    (Yes, Goes::Ask(Open)),
                    (No, Goes::Ask(Open)),
                    (Tired, Goes::Ask(Open)),
                    (FeelingGood, Goes::Ask(Open)),
                ],
            ),
            (
                Open,
                &[
                    (No, Goes::End),
                    (Yes, Goes::End),
                    (Thanks, Goes::End),
                    (LowMood, Goes::End),
                    (Lonely, Goes::End),
                ],
            ),
            (
                ExercisedDone,
                &[(Exercised, Goes::End), (NotExercised, Goes::End), (Yes, Goes::End), (No, Goes::End)],
            ),
            (
                SafetyCheck,
                &[(FeelingGood, Goes::End), (Yes, Goes::End), (Thanks, Goes::End), (No, Goes::Help)],
            ),
        ];
        let common = |i: Intent| match i {
            NeedHelp | Emergency => Some(Goes::Help),
            RepeatRequest => Some(Goes::Again),
            // A mood said to another question: a kind word and the question again.
            Thanks | Greeting | LowMood | Lonely => Some(Goes::Ack),
            WeatherSnow => Some(Goes::SnowOffer),
            _ => None,
        };
        let mut checked = 0;
        for (q, listed) in table {
            for &intent in Intent::ALL {
                let expected = listed
                    .iter()
                    .find(|(i, _)| *i == intent)
                    .map(|(_, g)| *g)
                    .or(common(intent))
                    .unwrap_or(Goes::Misunderstood);
                check(*q, intent, expected);
                checked += 1;
            }
        }
        assert_eq!(checked, 8 * Intent::ALL.len());
    }

    /// A low mood or loneliness is answered kindly and kept as said, wherever it comes;
    /// the question it interrupted is still answered; loneliness at the open question
    /// asks for someone to come, as 「話を聞いてほしい」 does.
    #[test]
    fn a_low_mood_or_loneliness_is_heard_kindly_and_kept() {
        let script = script();
        let (mut session, _) = reach(&script, Entry::Checkin, path_to(QuestionId::HowFeeling).1);
        let turn = session.respond(at(NOW), voice(Intent::Lonely, 0.9));
        assert_eq!(turn.say[0].text, script.lines.lonely);
        let turn = session.respond(at(NOW), voice(Intent::LowMood, 0.9));
        let said: Vec<&str> = turn.say.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(said, [script.lines.low_mood.as_str(), script.question(QuestionId::Slept).say.as_str()]);
        session.respond(at(NOW), voice(Intent::SleptBadly, 0.9));
        let kept: Vec<(QuestionId, Intent)> =
            session.record().answers.iter().map(|a| (a.question, a.intent)).collect();
        assert_eq!(
            kept,
            [
                (QuestionId::HowFeeling, Intent::Lonely),
                (QuestionId::Slept, Intent::LowMood),
                (QuestionId::Slept, Intent::SleptBadly)
            ]
        );
        // An unsure one is not kept without asking: it is confirmed where the question
        // expects it, and asked again where it does not.
        let (mut unsure, _) = reach(&script, Entry::Checkin, path_to(QuestionId::Appetite).1);
        unsure.respond(at(NOW), voice(Intent::Lonely, 0.5));
        assert!(unsure.record().answers.iter().all(|a| a.intent != Intent::Lonely));
        // 「誰とも話してねえ」 at the open question: the closing says someone will be told.
        let (mut open, _) = reach(&script, Entry::Checkin, path_to(QuestionId::Open).1);
        let turn = open.respond(at(NOW), voice(Intent::Lonely, 0.9));
        assert!(open.record().wants_contact());
        assert!(turn.say.iter().any(|l| l.text.contains("伝えます")), "{:?}", turn.say);
    }

    #[test]
    fn greeting_uses_name_time_of_day_and_weather() {
        let script = script();
        let cal = calendar();
        let cases = [
            ("2026-01-20 07:00", Some(Warning::HeavySnow), "佐々木さん、おはようございます。", "大雪ですね"),
            ("2026-08-05 13:00", None, "佐々木さん、こんにちは。", "暑い"),
            ("2026-10-05 18:30", None, "佐々木さん、こんばんは。", "お話し"),
        ];
        for (now, warning, hello, weather) in cases {
            let now = at(now);
            let report = Weather {
                observed_at: now,
                source: "気象庁".into(),
                snow_depth_cm: Some(0),
                temperature_c: Some(20.0),
                wbgt_c: None,
                heatstroke_alert: false,
                warnings: warning.into_iter().collect(),
            };
            let report = (warning.is_some()).then_some(&report);
            let conditions = Some(Conditions::for_day(&cal, now.date(), report));
            let ctx = Context { now, conditions, ..ctx() };
            let (_, turn) = Session::start(&script, Entry::Checkin, &ctx);
            assert_eq!(turn.say[0].text, hello);
            assert!(turn.say[1].text.contains(weather), "{:?}", turn.say);
            assert_eq!(turn.step, Step::Question(QuestionId::HowFeeling));
            assert_eq!(turn.buttons.len(), 3);
        }
    }

    #[test]
    fn low_confidence_is_confirmed_not_asked_again() {
        let script = script();
        let (mut s, _) = reach(&script, Entry::Checkin, &[]);
        let turn = s.respond(at(NOW), voice(Intent::Pain, 0.45));
        assert_eq!(turn.say[0].text, "膝が痛い、ということですね？");
        assert_eq!(turn.step, Step::Confirm(QuestionId::HowFeeling));
        let turn = s.respond(at(NOW), Input::Pressed(Intent::Yes));
        assert_eq!(turn.step, Step::Question(QuestionId::Slept));
        let answer = &s.record().answers[0];
        assert_eq!(
            (answer.intent, answer.body_part, answer.by),
            (Intent::Pain, Some(BodyPart::Knee), AnsweredBy::VoiceConfirmed)
        );
        // 「いいえ」 to the confirmation asks the question again and counts as a misunderstanding.
        let turn = s.respond(at(NOW), voice(Intent::SleptWell, 0.4));
        assert_eq!(turn.step, Step::Confirm(QuestionId::Slept));
        let turn = s.respond(at(NOW), Input::Pressed(Intent::No));
        assert_eq!(turn.step, Step::Question(QuestionId::Slept));
        assert_eq!(s.record().misunderstandings, 1);
    }

    /// Silence is not a misunderstanding: the question again, slower, still listening;
    /// the third silence in a row ends the check-in as unanswered (a tablet that stopped
    /// listening after two would wait on its buttons all day).
    #[test]
    fn silence_asks_again_slower_and_the_third_ends_it() {
        let script = script();
        let (mut s, _) = reach(&script, Entry::Checkin, &[]);
        for _ in 0..2 {
            let turn = s.respond(at(NOW), Input::Silence);
            assert_eq!(turn.step, Step::Question(QuestionId::HowFeeling));
            assert!(!turn.buttons_only, "still listening: {turn:#?}");
            assert_eq!(turn.say.len(), 1);
            assert_eq!(turn.say[0].pace, Pace::Slow);
        }
        assert_eq!(s.record().misunderstandings, 0);
        let turn = s.respond(at(NOW), Input::Silence);
        assert_eq!(turn.step, Step::Finished);
        assert_eq!(s.record().outcome, Outcome::NoAnswer);
    }

    #[test]
    fn two_misunderstandings_fall_back_to_buttons() {
        let script = script();
        let (mut s, _) = reach(&script, Entry::Checkin, &[]);
        assert!(!s.respond(at(NOW), voice(Intent::Other, 0.9)).buttons_only);
        let turn = s.respond(at(NOW), voice(Intent::Other, 0.9));
        assert!(turn.buttons_only, "{turn:#?}");
        assert!(turn.say.iter().any(|l| l.text == script.lines.buttons_only));
        // Speech is no longer taken for ordinary answers; a button is.
        let turn = s.respond(at(NOW), voice(Intent::FeelingGood, 0.95));
        assert_eq!(turn.step, Step::Question(QuestionId::HowFeeling));
        let turn = s.respond(at(NOW), Input::Pressed(Intent::FeelingGood));
        assert_eq!(turn.step, Step::Question(QuestionId::Slept));
        // A cry for help by voice still goes straight to the help flow.
        let critical = Understanding {
            intent: Intent::Other,
            body_part: None,
            confidence: 0.3,
            critical: true,
            danger: None,
            count: None,
            named: 0,
            last_named: None,
        };
        assert_eq!(s.respond(at(NOW), Input::Heard(critical)).step, Step::HelpConfirm);
    }

    #[test]
    fn a_named_danger_is_confirmed_with_its_own_question_and_only_a_clear_no_cancels() {
        let mut script = script();
        // This script has no line for no_kerosene.
        script.help.danger.remove(&Danger::NoKerosene);
        let cases: &[(Option<Danger>, &str, Input, bool)] = &[
            (Some(Danger::Fire), "火事ですか", Input::Silence, true),
            (Some(Danger::Fire), "火事ですか", Input::Pressed(Intent::Yes), true),
            (Some(Danger::MedicineOut), "お薬", voice(Intent::Other, 0.9), true),
            (Some(Danger::Fire), "火事ですか", Input::Pressed(Intent::No), false),
            // A danger the script has no line for is confirmed with the general question.
            (Some(Danger::NoKerosene), "助けが必要", Input::Silence, true),
            (None, "助けが必要", Input::Silence, true),
        ];
        for &(danger, asks, reply, alerted) in cases {
            let (mut s, _) = reach(&script, Entry::Checkin, &[]);
            let heard = Understanding {
                intent: Intent::Emergency,
                body_part: None,
                confidence: 0.7,
                critical: true,
                danger,
                count: None,
                named: 0,
                last_named: None,
            };
            let turn = s.respond(at(NOW), Input::Heard(heard));
            assert_eq!(turn.step, Step::HelpConfirm, "{danger:?}");
            assert!(turn.say[0].text.contains(asks), "{danger:?}: {}", turn.say[0].text);
            let turn = s.respond(at(NOW), reply);
            let raised: Vec<_> = turn
                .events
                .iter()
                .filter_map(|e| match e {
                    CareEvent::HelpAlert { danger, .. } => Some(*danger),
                    _ => None,
                })
                .collect();
            assert_eq!(raised.len() == 1, alerted, "{danger:?} then {reply:?}");
            assert!(raised.iter().all(|d| *d == danger), "the alert names the danger heard: {raised:?}");
        }
    }

    #[test]
    fn every_danger_of_the_vocabulary_has_its_own_confirm_question() {
        let script = script();
        for &d in Danger::ALL {
            let line = script.help.danger.get(&d).unwrap_or_else(|| panic!("no [help.danger] {d}"));
            assert!(line.ends_with('？') || line.ends_with('。'), "{d}: {line}");
        }
        assert_eq!(script.help.danger.len(), Danger::ALL.len());
    }

    #[test]
    fn help_flow_confirms_once_alerts_and_says_who_comes() {
        let script = script();
        let cases: &[(Input, bool, Option<bool>)] = &[
            (Input::Pressed(Intent::Yes), true, Some(true)),
            (Input::Silence, true, Some(false)),
            (voice(Intent::Other, 0.9), true, Some(false)),
            (voice(Intent::No, 0.3), true, Some(false)),
            (voice(Intent::Emergency, 0.9), true, Some(true)),
            (Input::Pressed(Intent::No), false, None),
        ];
        for &(reply, alerted, confirmed) in cases {
            let (mut s, _) = reach(&script, Entry::Checkin, &[Intent::FeelingGood]);
            assert_eq!(s.respond(at(NOW), voice(Intent::NeedHelp, 0.7)).step, Step::HelpConfirm);
            let turn = s.respond(at("2026-01-20 08:31"), reply);
            let alert = turn.events.iter().find_map(|e| match e {
                CareEvent::HelpAlert { raised_at, during, confirmed, .. } => {
                    Some((*raised_at, *during, *confirmed))
                }
                _ => None,
            });
            assert_eq!(alert.is_some(), alerted, "{reply:?}");
            if alerted {
                assert_eq!(
                    alert,
                    Some((at("2026-01-20 08:31"), Some(QuestionId::Slept), confirmed.unwrap()))
                );
                assert_eq!(turn.say[0].text, "推進員の佐藤さんに、知らせを送ります。");
                assert_eq!(s.record().outcome, Outcome::HelpRequested);
                assert!(s.is_finished());
            } else {
                assert_eq!(turn.step, Step::Question(QuestionId::Slept), "cancelled: back to the question");
            }
        }
    }

    #[test]
    fn snow_talk_offers_the_watch_then_carries_on() {
        let script = script();
        let (mut s, _) = reach(&script, Entry::Checkin, &[Intent::FeelingGood]);
        assert_eq!(s.respond(at(NOW), voice(Intent::WeatherSnow, 0.9)).step, Step::SnowWatchOffer);
        let turn = s.respond(at(NOW), Input::Pressed(Intent::Yes));
        assert_eq!(turn.events, vec![CareEvent::SnowWatchRequested { at: at(NOW) }]);
        assert_eq!(turn.step, Step::Question(QuestionId::Slept));
    }

    #[test]
    fn a_normal_day_is_five_questions_then_the_open_one_and_ends_with_a_record() {
        let script = script();
        use Intent::*;
        let (mut s, turn) = reach(&script, Entry::Checkin, &[FeelingGood, SleptWell, AppetitePoor, No, Yes]);
        assert_eq!(turn.step, Step::Question(QuestionId::Open), "the budget never cuts the open question");
        let turn = s.respond(at(NOW), Input::Pressed(No));
        assert_eq!(turn.step, Step::Finished);
        let Some(CareEvent::Checkin(record)) = turn.events.last() else { panic!("no record: {turn:#?}") };
        assert_eq!(record, s.record());
        assert_eq!(record.questions_asked, 6);
        assert!(!record.wants_contact());
        // On a normal day, too, 「話を聞いてほしい」 is a visit request.
        let (s, turn) = reach(&script, Entry::Checkin, &[FeelingGood, SleptWell, AppetiteGood, No, Yes, Yes]);
        assert_eq!(turn.step, Step::Finished);
        assert!(s.record().wants_contact(), "{:?}", s.record());
        assert!(turn.say.iter().any(|l| l.text.contains("伝えます")), "{:?}", turn.say);
        assert_eq!(
            (record.slept_well(), record.appetite_good(), record.will_exercise()),
            (Some(true), Some(false), Some(true))
        );
        assert_eq!(record.outcome, Outcome::Completed);
    }

    #[test]
    fn three_silences_end_as_no_answer() {
        let script = script();
        let (mut s, _) = reach(&script, Entry::SafetyCheck, &[]);
        let mut turn = s.respond(at(NOW), Input::Silence);
        turn = if turn.step == Step::Finished { turn } else { s.respond(at(NOW), Input::Silence) };
        turn = if turn.step == Step::Finished { turn } else { s.respond(at(NOW), Input::Silence) };
        assert_eq!(turn.step, Step::Finished);
        assert_eq!(watch::safety_status(Some(s.record())), SafetyStatus::NoAnswer);
    }

    #[test]
    fn safety_confirmation_answers() {
        let script = script();
        let check = |path: &[Intent], expected: Option<SafetyStatus>| {
            let (s, _) = reach(&script, Entry::SafetyCheck, path);
            let got = watch::safety_status(expected.map(|_| s.record()));
            assert_eq!(got, expected.unwrap_or(SafetyStatus::NoAnswer), "{path:?}");
        };
        check(&[Intent::FeelingGood], Some(SafetyStatus::Safe));
        check(&[Intent::NeedHelp, Intent::Yes], Some(SafetyStatus::NeedsHelp));
        check(&[Intent::No, Intent::Yes], Some(SafetyStatus::NeedsHelp));
        check(&[], None);
    }

    #[test]
    fn every_dialogue_line_is_short_and_plain() {
        let script = script();
        let lines = script.all_lines();
        assert!(lines.len() > 40, "{}", lines.len());
        for line in lines {
            let line = line
                .replace("{name}", "佐々木")
                .replace("{responder}", "推進員の佐藤さん")
                .replace("{part}", "背中")
                .replace("{handler}", "民生委員");
            assert_eq!(speech::line_problem(&line), None, "{line}");
        }
        for &q in QuestionId::ALL {
            let buttons = &script.question(q).buttons;
            assert!((2..=3).contains(&buttons.len()), "{q:?}");
            for b in buttons {
                assert!(speech::morae(&b.label) <= 16, "{q:?}: button {:?} too long", b.label);
            }
        }
    }

    #[test]
    fn bad_dialogue_files_get_typed_errors() {
        use dialogue::DialogueError as E;
        let check = |edit: &dyn Fn(&str) -> String, expected: E| {
            let got = Script::from_toml(&edit(DIALOGUE)).map(|_| ()).unwrap_err();
            match (&got, &expected) {
                (E::Toml(_), E::Toml(_)) => {}
                _ => assert_eq!(got, expected),
            }
        };
        check(&|t| t.replace("id = \"open\"", "id = \"slept\""), E::DuplicateQuestion(QuestionId::Slept));
        check(
            &|t| t.replace("slept_badly = \"appetite\"", "slept_badly = \"nowhere\""),
            E::BadTarget { question: QuestionId::Slept, target: "nowhere".into() },
        );
        check(
            &|t| t.replace("{ label = \"よく眠れた\", intent = \"slept_well\" }, ", ""),
            E::ButtonCount(QuestionId::Slept),
        );
        check(
            &|t| t.replace("intent = \"slept_well\" }", "intent = \"exercised\" }"),
            E::DeadButton {
                question: QuestionId::Slept,
                label: "よく眠れた".into(),
                intent: Intent::Exercised,
            },
        );
        check(&|t| t.replace("id = \"open\"", "id = \"coffee\""), E::Toml(String::new()));
        check(&|t| t.replace("tired = \"疲れている\"\n", ""), E::MissingMeaning(Intent::Tired));
        check(
            &|t| t.replace("aliases = { thanks = \"no\" }", "aliases = { thanks = \"no\", yes = \"maybe\" }"),
            E::Toml(String::new()),
        );
    }

    fn any_input() -> impl Strategy<Value = Input> {
        let intent = proptest::sample::select(Intent::ALL.to_vec());
        let part = proptest::option::of(proptest::sample::select(BodyPart::ALL.to_vec()));
        prop_oneof![
            3 => (intent.clone(), part, 0.0f32..=1.0, proptest::bool::weighted(0.05)).prop_map(|(intent, body_part, confidence, critical)| {
                Input::Heard(Understanding { intent, body_part, confidence, critical, danger: None, count: None, named: 0, last_named: None })
            }),
            2 => intent.prop_map(Input::Pressed),
            1 => Just(Input::Silence),
        ]
    }

    fn is_critical(input: &Input) -> bool {
        match input {
            Input::Heard(u) => u.is_critical(),
            Input::Pressed(i) => i.is_critical(),
            Input::Silence => false,
        }
    }

    proptest! {
        /// Whatever is said, in whatever order: a critical answer reaches the help flow at
        /// once, the help flow ends in an alert or a clear no after one reply, no more than
        /// five questions and the open one are asked, and every line said is short.
        #[test]
        fn critical_reaches_help_within_one_confirmation(
            entry in prop_oneof![Just(Entry::Checkin), Just(Entry::AfterExercise), Just(Entry::SafetyCheck)],
            inputs in proptest::collection::vec(any_input(), 1..25),
        ) {
            let script = script();
            let (mut s, mut turn) = Session::start(&script, entry, &ctx());
            let mut questions_seen = 1;
            let mut last_question = match turn.step {
                Step::Question(q) => Some(q),
                _ => None,
            };
            for input in inputs {
                if s.is_finished() {
                    break;
                }
                let was = turn.step;
                turn = s.respond(at(NOW), input);
                let alerted = turn.events.iter().any(|e| matches!(e, CareEvent::HelpAlert { .. }));
                if was == Step::HelpConfirm {
                    let clear_no = match input {
                        Input::Pressed(Intent::No) => true,
                        Input::Heard(u) => u.intent == Intent::No && !u.is_critical() && u.confidence >= 0.6,
                        _ => false,
                    };
                    prop_assert!(alerted != clear_no, "help confirm + {:?} -> {:#?}", input, turn);
                } else if is_critical(&input) {
                    prop_assert_eq!(turn.step, Step::HelpConfirm, "critical {:?} at {:?}", input, was);
                }
                if let Step::Question(q) = turn.step
                    && Some(q) != last_question
                {
                    questions_seen += 1;
                    last_question = Some(q);
                }
                prop_assert!(s.record().questions_asked <= 6 && questions_seen <= 6);
                for line in &turn.say {
                    prop_assert!(speech::morae(&line.text) <= speech::MAX_MORAE, "{}", line.text);
                }
            }
        }
    }
}

mod snow_watch {
    use super::*;

    #[derive(Debug, Clone, Copy)]
    enum Do {
        Tick(i64),
        Answer(i64, Intent, f32),
    }

    /// Runs a watch started at 10:00 through `steps` (minutes after the start) and
    /// checks the lines said, the final state, and the event raised.
    fn check(
        minutes: Option<u32>,
        steps: &[Do],
        said: &[WatchLine],
        state: WatchState,
        event: Option<CareEvent>,
    ) {
        let start = at("2026-01-20 10:00");
        let mut w = SnowWatch::start(start, minutes);
        let (mut lines, mut events) = (vec![], vec![]);
        for step in steps {
            let out = match *step {
                Do::Tick(m) => w.tick(start + chrono::Duration::minutes(m)),
                Do::Answer(m, intent, confidence) => w.answer(
                    start + chrono::Duration::minutes(m),
                    Understanding {
                        intent,
                        body_part: None,
                        confidence,
                        critical: false,
                        danger: None,
                        count: None,
                        named: 0,
                        last_named: None,
                    },
                ),
            };
            lines.extend(out.say);
            events.extend(out.event);
        }
        assert_eq!(lines, said, "{steps:?}");
        assert_eq!(w.state, state, "{steps:?}");
        assert_eq!(events.pop(), event, "{steps:?}");
        // Before the last, only rearms: each tells the office the watch runs on.
        let rearms = steps.iter().filter(|s| matches!(s, Do::Answer(_, Intent::WeatherSnow, c) if *c >= care::understanding::CONFIRM_BELOW)).count();
        assert_eq!(events.len(), rearms, "one event each, and one per rearm: {events:?}");
        assert!(events.iter().all(|e| matches!(e, CareEvent::SnowWatchRequested { .. })), "{events:?}");
    }

    fn t(m: i64) -> NaiveDateTime {
        at("2026-01-20 10:00") + chrono::Duration::minutes(m)
    }

    #[test]
    fn watch_table() {
        use Do::*;
        use WatchLine::*;
        let alert = |check_back: i64, raised: i64, help: bool| {
            Some(CareEvent::SnowWatchAlert {
                started_at: t(0),
                check_back_at: t(check_back),
                raised_at: t(raised),
                asked_for_help: help,
            })
        };
        check(None, &[Tick(29)], &[], WatchState::Waiting, None);
        check(
            None,
            &[Tick(29), Tick(30), Tick(32), Tick(33), Tick(35), Tick(36)],
            &[CheckBack, CheckBackAgain, Alerted],
            WatchState::Alerted,
            alert(30, 36, false),
        );
        check(
            None,
            &[Tick(30), Answer(31, Intent::Yes, 0.9)],
            &[CheckBack, Ended],
            WatchState::Ended,
            Some(CareEvent::SnowWatchEnded { started_at: t(0), ended_at: t(31) }),
        );
        check(
            None,
            &[Tick(30), Answer(31, Intent::WeatherSnow, 0.9), Tick(60), Tick(61), Tick(64), Tick(67)],
            &[CheckBack, Rearmed, CheckBack, CheckBackAgain, Alerted],
            WatchState::Alerted,
            alert(61, 67, false),
        );
        check(
            None,
            &[Answer(10, Intent::NeedHelp, 0.5)],
            &[HelpSent],
            WatchState::Alerted,
            alert(30, 10, true),
        );
        check(
            None,
            &[Tick(30), Answer(31, Intent::No, 0.9)],
            &[CheckBack, HelpSent],
            WatchState::Alerted,
            alert(30, 31, true),
        );
        // An unclear answer does not stop the clock.
        check(
            None,
            &[Tick(30), Answer(31, Intent::Yes, 0.2), Tick(33), Tick(36)],
            &[CheckBack, CheckBackAgain, Alerted],
            WatchState::Alerted,
            alert(30, 36, false),
        );
        check(
            Some(45),
            &[Tick(44), Tick(45)],
            &[CheckBack],
            WatchState::CheckingBack { asked_at: t(45), tries: 1 },
            None,
        );
        // After the end, nothing more happens.
        check(
            None,
            &[Tick(30), Answer(31, Intent::Thanks, 1.0), Tick(90)],
            &[CheckBack, Ended],
            WatchState::Ended,
            Some(CareEvent::SnowWatchEnded { started_at: t(0), ended_at: t(31) }),
        );
    }

    #[test]
    fn every_watch_line_is_short() {
        let script = script();
        for line in [
            WatchLine::CheckBack,
            WatchLine::CheckBackAgain,
            WatchLine::Rearmed,
            WatchLine::Ended,
            WatchLine::Alerted,
            WatchLine::HelpSent,
        ] {
            let text = script.snow_watch.line(line).replace("{responder}", "推進員の佐藤さん");
            assert_eq!(speech::line_problem(&text), None, "{text}");
        }
    }

    proptest! {
        /// Silence always escalates: with no answer, the alert comes at the latest two
        /// answer waits after the check-back, never before the check-back, and carries the start time.
        #[test]
        fn silence_escalates(minutes in 1u32..120, ticks in proptest::collection::vec(1i64..10, 1..200)) {
            let start = t(0);
            let mut w = SnowWatch::start(start, Some(minutes));
            let mut now = start;
            let mut alert = None;
            for step in ticks {
                now += chrono::Duration::minutes(step);
                if let Some(e) = w.tick(now).event {
                    alert = Some((now, e));
                    break;
                }
            }
            let check_back = start + chrono::Duration::minutes(minutes as i64);
            // Each of the three stages (ask, ask again, alert) can be up to one tick (9 min) late.
            let latest = check_back + chrono::Duration::minutes(2 * watch::ANSWER_WAIT_MINUTES + 3 * 9);
            match alert {
                Some((when, CareEvent::SnowWatchAlert { started_at, asked_for_help, .. })) => {
                    prop_assert!(when >= check_back + chrono::Duration::minutes(2 * watch::ANSWER_WAIT_MINUTES));
                    prop_assert_eq!(started_at, start);
                    prop_assert!(!asked_for_help);
                    prop_assert!(when <= latest);
                }
                Some((_, other)) => prop_assert!(false, "unexpected {:?}", other),
                None => prop_assert!(now < latest, "no alert by {}", now),
            }
        }
    }
}

mod medicine {
    use super::*;
    use care::medicine::{self, Action, Dose, DoseDay, Slot};
    use std::collections::BTreeMap;

    fn doses() -> Vec<Dose> {
        vec![
            Dose { slot: Slot::Morning, at: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap() },
            Dose { slot: Slot::Noon, at: chrono::NaiveTime::from_hms_opt(12, 30, 0).unwrap() },
        ]
    }

    /// How the simulated resident answers a medicine question.
    #[derive(Debug, Clone, Copy)]
    enum Answers {
        /// 「はい」 at once.
        Kept,
        /// 「まだ」 first, then 「はい」 to the reminder.
        KeptWhenReminded,
        /// 「まだ」 both times.
        NotYet,
        /// Away: nothing is heard.
        Silent,
    }

    /// A day run minute by minute from 06:00 to 23:59 as the kiosk's tick runs it;
    /// returns each slot's record and how many times each slot was asked.
    fn day(
        day: NaiveDate,
        answers: Answers,
        busy_until: Option<&str>,
    ) -> BTreeMap<Slot, (Option<bool>, usize)> {
        let mut state: BTreeMap<Slot, DoseDay> = BTreeMap::new();
        let mut now = day.and_hms_opt(6, 0, 0).unwrap();
        let end = day.and_hms_opt(23, 59, 0).unwrap();
        while now <= end {
            let busy = busy_until.is_some_and(|b| now < at(&format!("{day} {b}")));
            if !busy {
                let snapshot = state.clone();
                if let Some(action) =
                    medicine::next(&doses(), |s| snapshot.get(&s).cloned().unwrap_or_default(), now)
                {
                    let d = state.entry(action.slot()).or_default();
                    match action {
                        Action::Missed(_) => d.kept = Some(false),
                        Action::Ask(_) | Action::Remind(_) => {
                            d.asked.push(now);
                            let reminder = matches!(action, Action::Remind(_));
                            let taken = match answers {
                                Answers::Kept => Some(true),
                                Answers::KeptWhenReminded => Some(reminder),
                                Answers::NotYet => Some(false),
                                Answers::Silent => None,
                            };
                            if let Some(taken) = taken {
                                d.kept = medicine::answered(taken, reminder);
                            }
                        }
                    }
                }
            }
            now += chrono::TimeDelta::minutes(1);
        }
        doses()
            .iter()
            .map(|d| (d.slot, state.get(&d.slot).map_or((None, 0), |s| (s.kept, s.asked.len()))))
            .collect()
    }

    fn check(answers: Answers, busy_until: Option<&str>, expected: (Option<bool>, usize)) {
        // Two weeks: every day behaves the same, so nothing carries over a midnight.
        for n in 0..14 {
            let d = date("2026-12-01") + chrono::TimeDelta::days(n);
            let got = day(d, answers, busy_until);
            for (slot, record) in got {
                assert_eq!(record, expected, "{answers:?} busy until {busy_until:?}: {slot:?} on {d}");
            }
        }
    }

    #[test]
    fn a_dose_is_asked_at_its_time_reminded_once_and_recorded_once() {
        check(Answers::Kept, None, (Some(true), 1));
        check(Answers::KeptWhenReminded, None, (Some(true), 2));
        check(Answers::NotYet, None, (Some(false), 2));
        check(Answers::Silent, None, (Some(false), 2));
        // Busy at the time (a check-in on screen): asked late, still within two hours.
        check(Answers::Kept, Some("09:30"), (Some(true), 1));
        // Off all morning and past noon's two hours: nothing recorded, nothing asked.
        check(Answers::Kept, Some("14:31"), (None, 0));
    }

    #[test]
    fn the_first_ask_comes_at_the_time_and_the_reminder_thirty_minutes_later() {
        let noon = Dose { slot: Slot::Noon, at: chrono::NaiveTime::from_hms_opt(12, 30, 0).unwrap() };
        let none = |_| DoseDay::default();
        assert_eq!(medicine::next(&[noon], none, at("2026-12-01 12:29")), None);
        assert_eq!(medicine::next(&[noon], none, at("2026-12-01 12:30")), Some(Action::Ask(Slot::Noon)));
        assert_eq!(medicine::next(&[noon], none, at("2026-12-01 14:29")), Some(Action::Ask(Slot::Noon)));
        assert_eq!(medicine::next(&[noon], none, at("2026-12-01 14:30")), None);
        let once = |_| DoseDay { asked: vec![at("2026-12-01 12:30")], kept: None };
        assert_eq!(medicine::next(&[noon], once, at("2026-12-01 12:59")), None);
        assert_eq!(medicine::next(&[noon], once, at("2026-12-01 13:00")), Some(Action::Remind(Slot::Noon)));
        let twice = |_| DoseDay { asked: vec![at("2026-12-01 12:30"), at("2026-12-01 13:00")], kept: None };
        assert_eq!(medicine::next(&[noon], twice, at("2026-12-01 13:29")), None);
        assert_eq!(medicine::next(&[noon], twice, at("2026-12-01 13:30")), Some(Action::Missed(Slot::Noon)));
        let kept = |_| DoseDay { asked: vec![at("2026-12-01 12:30")], kept: Some(true) };
        assert_eq!(medicine::next(&[noon], kept, at("2026-12-01 13:30")), None);
    }

    #[test]
    fn the_questions_name_the_slot_and_the_resident_and_stay_short() {
        let s = script();
        assert_eq!(
            s.medicine.question(Action::Ask(Slot::Noon), "佐々木"),
            "佐々木さん、お昼のお薬、飲みましたか？"
        );
        assert_eq!(
            s.medicine.question(Action::Remind(Slot::Bedtime), ""),
            "寝る前のお薬は、もう飲みましたか？"
        );
        assert_eq!(s.medicine.buttons.len(), 2);
        assert!(s.medicine.buttons.iter().map(|b| b.intent).eq([Intent::Yes, Intent::No]));
        for line in s.medicine.all_lines() {
            assert!(s.all_lines().contains(&line), "{line} is checked with the others");
            assert!(speech::morae(&line) <= 40, "{line}");
        }
    }
}

mod small_talk {
    use super::*;
    use care::smalltalk::{Sky, SmallTalk, SmallTalkError, Talk, TalkInput};

    const SMALLTALK: &str = include_str!("../../assets/dialogue/smalltalk.toml");

    fn talk_file() -> SmallTalk {
        SmallTalk::from_toml(SMALLTALK).expect("shipped small talk parses")
    }

    /// A talk every day for a year from 2026-01-01, with the sky of each day: no topic
    /// comes back within two weeks, every day has one, and each fits its month.
    #[test]
    fn topics_rotate_through_a_year_without_a_repeat_within_two_weeks() {
        let file = talk_file();
        let mut used: Vec<(String, NaiveDate)> = vec![];
        let first = date("2026-01-01");
        for n in 0..365 {
            let day = first + chrono::Days::new(n);
            let sky = match n % 3 {
                0 => Some(Sky::Snow),
                1 => Some(Sky::Fine),
                _ => None,
            };
            let topic = file.pick(day, sky, &used, &[]).unwrap_or_else(|| panic!("no topic on {day}"));
            assert!(
                topic.months.is_empty() || topic.months.contains(&chrono::Datelike::month(&day)),
                "{day}: {}",
                topic.id
            );
            assert!(topic.weather.is_none() || topic.weather == sky, "{day}: {} on a {sky:?} day", topic.id);
            if let Some((_, last)) = used.iter().filter(|(t, _)| *t == topic.id).max_by_key(|(_, d)| *d) {
                assert!(
                    (day - *last).num_days() >= 14,
                    "{} again after {} days",
                    topic.id,
                    (day - *last).num_days()
                );
            }
            used.push((topic.id.clone(), day));
        }
        let distinct: BTreeSet<&str> = used.iter().map(|(t, _)| t.as_str()).collect();
        assert!(distinct.len() >= 30, "most topics come round: {}", distinct.len());
    }

    #[test]
    fn the_days_weather_topic_comes_first_and_nothing_repeats_when_all_are_used() {
        let file = talk_file();
        let day = date("2026-12-14");
        assert_eq!(file.pick(day, Some(Sky::Snow), &[], &[]).map(|t| t.id), Some("snow_today".to_owned()));
        assert_ne!(file.pick(day, None, &[], &[]).map(|t| t.id), Some("snow_today".to_owned()));
        let everything: Vec<(String, NaiveDate)> = file.topics.iter().map(|t| (t.id.clone(), day)).collect();
        assert_eq!(file.pick(day, Some(Sky::Snow), &everything, &[]), None, "no talk rather than a repeat");
        assert_eq!(Sky::of_forecast("くもり　時々　雪"), Some(Sky::Snow));
        assert_eq!(Sky::of_forecast("晴れ"), Some(Sky::Fine));
        assert_eq!(Sky::of_forecast("晴れ　のち　雨"), None);
        assert_eq!(Sky::of_forecast(""), None);
    }

    /// Any answer gets a backchannel and the next turn; 「またね」 (the button, or said)
    /// ends it at any turn with the closing; one silence is waited out, a second ends it.
    #[test]
    fn a_talk_accepts_any_answer_and_ends_at_any_turn() {
        let file = talk_file();
        let topic = file.topics.iter().find(|t| t.turns.len() == 3).unwrap();
        let (mut talk, first) = Talk::start(&file, topic.clone());
        assert_eq!(first.say, [topic.turns[0].clone()]);
        let next = talk.respond(TalkInput::Said(Intent::Other));
        assert_eq!(next.say, [file.backchannels[0].clone(), topic.turns[1].clone()]);
        let next = talk.respond(TalkInput::Said(Intent::No));
        assert!(next.listen && !next.finished, "「いや」 is an answer, not an end");
        let last = talk.respond(TalkInput::GoOn);
        assert_eq!(last.say, [file.backchannels[2].clone(), file.closing.clone()]);
        assert!(last.finished && talk.is_finished());
        for turn in 0..3 {
            for end in [TalkInput::End, TalkInput::Said(Intent::Greeting), TalkInput::Said(Intent::Thanks)] {
                let (mut talk, _) = Talk::start(&file, topic.clone());
                for _ in 0..turn {
                    talk.respond(TalkInput::Said(Intent::Other));
                }
                let t = talk.respond(end);
                assert!(t.finished && t.say.last() == Some(&file.closing), "{end:?} at turn {turn}");
            }
        }
        // 「さみしい」 gets comfort, never 「いがったなあ」, and the talk goes on.
        for low in [Intent::Lonely, Intent::LowMood] {
            let (mut talk, _) = Talk::start(&file, topic.clone());
            let next = talk.respond(TalkInput::Said(low));
            assert_eq!(next.say, [file.comfort.clone(), topic.turns[1].clone()]);
        }
        let (mut talk, _) = Talk::start(&file, topic.clone());
        let wait = talk.respond(TalkInput::Silence);
        assert_eq!((wait.say, wait.listen, wait.finished), (vec![file.wait.clone()], true, false));
        let end = talk.respond(TalkInput::Silence);
        assert!(end.finished);
    }

    /// What staff noted she enjoys comes first when it has rested (after the day's
    /// weather), is said in the file's interest turns, and rests two weeks like the rest.
    #[test]
    fn her_own_interests_become_topics_that_rest_like_the_others() {
        let file = talk_file();
        let day = date("2026-12-14");
        let interests = vec!["盆栽".to_owned(), "民謡".to_owned(), " ".to_owned()];
        let first = file.pick(day, None, &[], &interests).unwrap();
        assert_eq!(first.id, "interest:盆栽");
        assert_eq!(first.turns[0], "盆栽のお話を、聞かせてください。");
        assert_eq!(file.pick(day, Some(Sky::Snow), &[], &interests).unwrap().id, "snow_today");
        let used = vec![("interest:盆栽".to_owned(), day)];
        assert_eq!(file.pick(day, None, &used, &interests).unwrap().id, "interest:民謡");
        let used = vec![("interest:盆栽".to_owned(), day), ("interest:民謡".to_owned(), day)];
        assert!(
            !file.pick(day, None, &used, &interests).unwrap().id.starts_with("interest:"),
            "a blank one is none"
        );
        // Two weeks on, with every file topic used that day, hers is free again.
        let later = day + chrono::Days::new(14);
        let mut rested = used.clone();
        rested.extend(file.topics.iter().map(|t| (t.id.clone(), later)));
        assert_eq!(
            file.pick(later, None, &rested, &interests).unwrap().id,
            "interest:盆栽",
            "rested two weeks"
        );
        assert_eq!(file.pick(later - chrono::Days::new(1), None, &rested, &interests), None, "not before");
    }

    #[test]
    fn every_line_is_short_and_fit_to_say() {
        let file = talk_file();
        for line in file.all_lines() {
            assert!(speech::morae(&line) <= speech::MAX_MORAE, "{line}");
            assert_eq!(speech::line_problem(&line), None, "{line}");
        }
        for b in file.offer_buttons.iter().chain(&file.turn_buttons) {
            assert!(speech::morae(&b.label) <= 16, "{}", b.label);
        }
    }

    #[test]
    fn bad_files_get_typed_errors() {
        let check = |edit: &dyn Fn(&str) -> String, want: SmallTalkError| {
            assert_eq!(SmallTalk::from_toml(&edit(SMALLTALK)), Err(want));
        };
        check(
            &|s| s.replace("id = \"old_songs\"", "id = \"school_days\""),
            SmallTalkError::DuplicateTopic("school_days".into()),
        );
        check(
            &|s| {
                s.replace(
                    r#"turns = ["一番好きな食べ物は、何ですか？", "それは、誰が作ってくれましたか？"]"#,
                    r#"turns = ["一番好きな食べ物は、何ですか？"]"#,
                )
            },
            SmallTalkError::TurnCount("favourite_food".into()),
        );
        check(
            &|s| s.replace("months = [7, 8]\nturns = [\"お盆", "months = [13]\nturns = [\"お盆"),
            SmallTalkError::Month("obon".into(), 13),
        );
        check(
            &|s| s.replace(r#"{ label = "話す", intent = "yes" }, "#, ""),
            SmallTalkError::Buttons("offer_buttons"),
        );
        check(
            &|s| {
                s.replace(r#"backchannels = ["んだがっす。", "ほんでがっす。", "いがったなあ。", "そうだったんですね。"]"#, "backchannels = []")
            },
            SmallTalkError::NoBackchannels,
        );
        check(
            &|s| s.replace("{interest}は、いつごろからですか？", "いつごろからですか？"),
            SmallTalkError::InterestTurns,
        );
        assert!(matches!(SmallTalk::from_toml("offer = 3"), Err(SmallTalkError::Toml(_))));
    }
}

mod chair_stand {
    use super::*;
    use care::chairstand::{MAX_COUNT, Mark, StandDays, adjust, due, mark, starting_count};
    use chrono::TimeDelta;

    fn plan(today: NaiveDate, facts: &TodayFacts, profile: &Profile) -> Plan {
        let conditions = Conditions::for_day(&calendar(), today, None);
        planner::plan_day(&catalogue(), &conditions, facts, profile, &[])
    }

    #[test]
    fn the_marks_come_in_order_once_each() {
        let s = TimeDelta::seconds;
        assert_eq!(mark(s(9), 0), None);
        assert_eq!(mark(s(10), 0), Some(Mark::Left(20)));
        assert_eq!(mark(s(15), 1), None);
        assert_eq!(mark(s(21), 1), Some(Mark::Left(10)));
        assert_eq!(mark(s(31), 2), Some(Mark::End));
        assert_eq!(mark(s(40), 3), None);
        // A late tick still says the one due next, never skips to the end.
        assert_eq!(mark(s(31), 1), Some(Mark::Left(10)));
    }

    #[test]
    fn the_count_stays_within_bounds() {
        assert_eq!(adjust(0, -1), 0);
        assert_eq!(adjust(12, 1), 13);
        assert_eq!(adjust(MAX_COUNT, 1), MAX_COUNT);
        assert_eq!(starting_count(StandDays::default()), 10);
        let days = StandDays { last_test: Some((date("2026-12-01"), 14)), last_offer: None };
        assert_eq!(starting_count(days), 14);
    }

    /// A simulated half year of mornings: offered on the first good day, then not
    /// before 28 days have passed, never on a rest day or with sore knees.
    #[test]
    fn offered_monthly_never_on_a_rest_day() {
        let profile = Profile::default();
        let start: NaiveDate = "2026-12-01".parse().unwrap();
        let mut days = StandDays::default();
        let (mut taken, mut offers) = (vec![], vec![]);
        for n in 0..182u64 {
            let today = start + chrono::Days::new(n);
            // Every seventh day the resident slept badly and feels unwell: a rest day.
            let facts = if n % 7 == 3 {
                TodayFacts { feeling: Feeling::Unwell, ..Default::default() }
            } else {
                TodayFacts::default()
            };
            let p = plan(today, &facts, &profile);
            let is_due = due(today, days, &facts, &p, &profile, &catalogue());
            if n % 7 == 3 {
                assert!(!is_due, "{today}: offered on a rest day");
                assert!(p.intensity.is_none(), "{today}: the unwell day rests");
            }
            if is_due {
                offers.push(today);
                // She declines the first offer of each month once, then takes it.
                let declined_once = days.last_offer.is_some_and(|o| today - o < TimeDelta::days(14));
                days.last_offer = Some(today);
                if declined_once || taken.is_empty() {
                    taken.push(today);
                    days.last_test = Some((today, 12));
                }
            }
        }
        assert_eq!(taken.first(), Some(&start), "offered on the first day");
        for pair in taken.windows(2) {
            assert!(pair[1] - pair[0] >= TimeDelta::days(28 + 7), "a test, then a week after a no: {pair:?}");
        }
        assert!(taken.len() >= 5, "about monthly over half a year: {taken:?}");
        for pair in offers.windows(2) {
            assert!(pair[1] - pair[0] >= TimeDelta::days(7), "a week after a no: {pair:?}");
        }
        // Sore knees or a fall: the plan may keep a gentle standing exercise, but no test.
        for facts in [
            TodayFacts { pains: [BodyPart::Knee].into(), ..Default::default() },
            TodayFacts { pains: [BodyPart::LowerBack].into(), ..Default::default() },
            TodayFacts { recent_fall: true, ..Default::default() },
        ] {
            let p = plan(start, &facts, &profile);
            assert!(!due(start, StandDays::default(), &facts, &p, &profile, &catalogue()), "{facts:?}");
        }
        // A sore shoulder does not stop it.
        let facts = TodayFacts { pains: [BodyPart::Shoulder].into(), ..Default::default() };
        assert!(due(
            start,
            StandDays::default(),
            &facts,
            &plan(start, &facts, &profile),
            &profile,
            &catalogue()
        ));
        // Staff recorded knees, a heart condition or unsteadiness: never; a shoulder: yes.
        for (c, offered) in [
            (Contraindication::Knee, false),
            (Contraindication::Heart, false),
            (Contraindication::Balance, false),
            (Contraindication::Shoulder, true),
        ] {
            let staff = Profile { contraindications: [c].into(), ..Profile::default() };
            let none = TodayFacts::default();
            let p = plan(start, &none, &staff);
            assert_eq!(due(start, StandDays::default(), &none, &p, &staff, &catalogue()), offered, "{c:?}");
        }
    }
}

mod news_lines {
    use care::news::lines;
    use care::speech::{MAX_MORAE, morae};

    fn check(message: &str, expected: &[&str]) {
        let got = lines(message);
        assert_eq!(got, expected, "{message}");
        for line in &got {
            assert!(morae(line) <= MAX_MORAE, "{line}: {} morae", morae(line));
        }
        // Nothing staff wrote is lost or added (but the breaks between sentences).
        let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert_eq!(strip(&got.concat()), strip(message));
    }

    #[test]
    fn staff_words_become_lines_a_listener_can_hold() {
        check(
            "あしたは、診療所の日です。バスは九時に出ます。",
            &["あしたは、診療所の日です。", "バスは九時に出ます。"],
        );
        // A line break ends a sentence; spaces and empty lines go.
        check("雪下ろしの講習会\n\n  日曜の十時から  ", &["雪下ろしの講習会", "日曜の十時から"]);
        check("お祭りです！来てね?", &["お祭りです！", "来てね?"]);
        // Too long for one line: cut after a comma.
        check(
            "十二月十日の水曜日は、大井沢の診療所で、インフルエンザの予防接種をします、保険証を持ってきてください。",
            &[
                "十二月十日の水曜日は、大井沢の診療所で、",
                "インフルエンザの予防接種をします、保険証を持ってきてください。",
            ],
        );
        // No comma at all: equal pieces.
        let long = "あ".repeat(90);
        let got = lines(&long);
        assert_eq!(got.iter().map(|l| morae(l)).collect::<Vec<_>>(), [30, 30, 30]);
        check("", &[]);
        check(" \n 。", &["。"]);
    }

    #[test]
    fn lines_are_gathered_into_pages_the_caption_shows_whole() {
        use care::news::{PAGE_CHARS, pages};
        let message = "十二月十日は、診療所の日です。保険証を持ってきてください。バスは朝九時に出ます。帰りは十一時半です。雪道なので、ゆっくり来てください。";
        let got = pages(message);
        assert_eq!(
            got,
            [
                vec![
                    "十二月十日は、診療所の日です。",
                    "保険証を持ってきてください。",
                    "バスは朝九時に出ます。",
                    "帰りは十一時半です。"
                ],
                vec!["雪道なので、ゆっくり来てください。"],
            ]
        );
        assert!(got.iter().all(|p| p.concat().chars().count() <= PAGE_CHARS));
        assert_eq!(got.concat(), care::news::lines(message));
        // A line that does not fit starts the next page.
        let long = format!("{}。", "あ".repeat(39));
        assert_eq!(
            pages(&format!("{long}{long}はい。")),
            [vec![long.clone()], vec![long, "はい。".to_owned()]]
        );
    }
}

mod memory_talk {
    use super::{date, script};
    use care::memory::{self, Orientation};
    use chrono::{Datelike as _, Days};

    #[test]
    fn the_talk_is_due_at_most_weekly_and_never_when_turned_off() {
        let monday = date("2026-12-07");
        let since = Some(monday);
        // Over nine weeks of daily check-ins, counting the days it would be had.
        let mut last = None;
        let mut had = vec![];
        for n in 0..63 {
            let today = monday + Days::new(n);
            if memory::due(today, last, false, since) {
                last = Some(today);
                had.push(today);
            }
            assert!(!memory::due(today, Some(today), false, since), "never twice a day");
            assert!(!memory::due(today, None, true, since), "off is off, even never had");
            assert!(!memory::due(today, None, false, None), "never with someone the tablet does not know");
        }
        assert_eq!(had.first(), Some(&date("2026-12-14")), "not in her first week with the tablet");
        assert_eq!(had.len(), 8, "{had:?}");
        assert!(had.windows(2).all(|w| w[1] - w[0] >= chrono::TimeDelta::days(7)), "{had:?}");
        // A missed week is had the next day she checks in, not a week later still.
        assert!(memory::due(date("2026-12-20"), Some(date("2026-12-07")), false, since));
        assert!(!memory::due(date("2026-12-13"), Some(date("2026-12-07")), false, since));
    }

    #[test]
    fn the_day_question_names_today_beside_one_other_and_the_right_one_moves() {
        let lines = &script().memory;
        let mut places = std::collections::BTreeSet::new();
        for n in 0..28 {
            let today = date("2026-12-07") + Days::new(n);
            let ask = memory::orientation(lines, today);
            match Orientation::of_day(today) {
                Orientation::Weekday => {
                    assert_eq!(ask.choices.len(), 2, "{ask:?}");
                    assert_eq!(ask.right.len(), 1);
                    let shown = &ask.choices[ask.right[0]];
                    let names = ["月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"];
                    assert_eq!(shown, names[today.weekday().num_days_from_monday() as usize], "{today}");
                    assert!(ask.forms[ask.right[0]].iter().any(|f| f.ends_with("よう")), "{ask:?}");
                    places.insert(ask.right[0]);
                }
                Orientation::Season => {
                    // December: winter beside spring, never beside autumn (also right).
                    assert_eq!(ask.choices, ["春", "冬"]);
                    assert_eq!(ask.right, [1]);
                    assert_eq!(ask.answer, "ふゆ");
                }
            }
            assert_eq!(ask.forms.len(), ask.choices.len());
        }
        assert_eq!(places.len(), 2, "the right day is not always in one place: {places:?}");
        // Every month: two seasons shown, exactly one of them right.
        for month in 1..=12 {
            let day = chrono::NaiveDate::from_ymd_opt(2026, month, 15).unwrap();
            let (first, _) = (0..31)
                .map(|d| day + Days::new(d))
                .map(|d| (d, Orientation::of_day(d)))
                .find(|(_, o)| *o == Orientation::Season)
                .unwrap();
            let ask = memory::orientation(lines, first);
            assert_eq!((ask.choices.len(), ask.right.len()), (2, 1), "{first}: {ask:?}");
        }
        let weeks: Vec<_> =
            (0..8).map(|w| Orientation::of_day(date("2026-12-07") + Days::new(7 * w))).collect();
        assert!(weeks.contains(&Orientation::Season) && weeks.contains(&Orientation::Weekday), "{weeks:?}");
    }

    #[test]
    fn a_month_between_seasons_takes_both() {
        for (day, right) in [
            ("2026-01-15", vec![3]),
            ("2026-03-15", vec![0, 3]),
            ("2026-05-15", vec![0]),
            ("2026-06-15", vec![1, 0]),
            ("2026-08-15", vec![1]),
            ("2026-09-15", vec![2, 1]),
            ("2026-11-15", vec![2, 3]),
            ("2026-12-15", vec![3, 2]),
        ] {
            assert_eq!(memory::seasons_of(date(day)), right, "{day}");
        }
    }

    #[test]
    fn the_word_sets_rotate_weekly_and_each_cue_shows_its_word_among_two_others() {
        let lines = &script().memory;
        assert!(lines.sets.len() >= 6, "six weeks before a set returns");
        let first = date("2026-12-07");
        let sets: Vec<_> =
            (0..lines.sets.len() as u64).map(|w| lines.set_for(first + Days::new(7 * w))).collect();
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                assert_ne!(a, b, "no set repeats within {} weeks", lines.sets.len());
            }
        }
        // Never a set of a clinical scale: the clinic's question is not rehearsed here.
        let all: Vec<&str> =
            lines.sets.iter().flat_map(|s| s.words.iter().map(|w| w.word.say.as_str())).collect();
        for clinical in ["さくら", "ねこ", "でんしゃ", "うめ", "いぬ", "じどうしゃ"] {
            assert!(!all.contains(&clinical), "{clinical}");
        }
        let set = lines.set_for(first);
        let mut places = std::collections::BTreeSet::new();
        for day in 0..4 {
            for n in 0..3 {
                let ask = memory::recall(lines, set, n, first + Days::new(day));
                assert_eq!(ask.choices.len(), 2);
                assert_eq!(ask.choices[ask.right[0]], set.words[n].word.say);
                assert!(ask.line.contains(&set.words[n].cue), "{ask:?}");
                places.insert(ask.right[0]);
            }
        }
        assert_eq!(places.len(), 2, "the word is found in either place in turn");
        assert_eq!(memory::set_forms(set).len(), 3);
        // Every question ends with 「わからない」, and the choices read by place.
        let buttons = lines.buttons(&["あ".into(), "い".into()]);
        assert_eq!(buttons.last().map(|b| b.label.as_str()), Some("わからない"));
        assert_eq!(buttons.len(), 3, "three at most on a resident's screen");
    }

    #[test]
    fn a_word_set_the_game_cannot_use_is_refused() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/dialogue/checkin.toml"))
                .expect("dialogue file");
        let bad = text.replacen(", { say = \"たんぽぽ\", forms = [\"蒲公英\"] }", "", 1);
        assert_ne!(bad, text, "the edit applies");
        let err = care::dialogue::Script::from_toml(&bad).expect_err("two choices only");
        assert!(err.to_string().contains("word set 0"), "{err}");
    }
}
