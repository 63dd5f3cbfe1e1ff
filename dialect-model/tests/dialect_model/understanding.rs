//! Dialect understanding from text, with the shipped lexicon and model: hard cases from
//! the dialect notes as data, garbage input, the committed model against a retrain,
//! the learning loop, the bundle, and the dev set through the real speech path.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dialect_model::intent::{Danger, Intent, Question, Understander};
use dialect_model::learn::{self, Split};
use dialect_model::lexicon::Lexicon;

fn understander() -> &'static Understander {
    static U: OnceLock<Understander> = OnceLock::new();
    U.get_or_init(|| Understander::load_default().unwrap())
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// One hard case: the text, the question, and the expected intent, body part, critical flag.
fn check(u: &Understander, line: &str) -> Option<String> {
    let c: Vec<&str> = line.split('\t').collect();
    let question: Question = c[1].parse().unwrap();
    let got = u.understand(c[0], question);
    let want = (c[2].parse::<Intent>().unwrap(), c[3], c[4] == "true");
    let got_body = got.body_part.map_or("", |b| b.kanji());
    (got.intent != want.0 || got_body != want.1 || got.critical != want.2).then(|| {
        format!(
            "{} [{}] {:?}: want {} {} {}, got {} {} {} ({:.2})",
            c[5], c[1], c[0], want.0, want.1, want.2, got.intent, got_body, got.critical, got.confidence
        )
    })
}

#[test]
fn hard_cases_from_the_dialect_notes_are_understood() {
    let text = std::fs::read_to_string(data("understanding-cases.tsv")).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).skip(1).collect();
    assert!(lines.len() >= 40);
    let failures: Vec<String> = lines.iter().filter_map(|l| check(understander(), l)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        lines.len(),
        failures.join("\n")
    );
}

/// Every danger concept of the ontology, in dialect forms, is critical and named, and
/// every near miss (television, last winter, 死ぬほど, a mended stove) is not.
#[test]
fn every_danger_concept_is_critical_and_near_misses_are_not() {
    let text = std::fs::read_to_string(data("danger-cases.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let c: Vec<&str> = line.split('\t').collect();
        let u = understander().understand(c[0], c[1].parse().unwrap());
        let want: Option<Danger> = (!c[2].is_empty()).then(|| c[2].parse().unwrap());
        covered.extend(want);
        let ok = match want {
            Some(d) => u.critical && u.danger == Some(d) && u.intent.is_critical(),
            None => !u.critical,
        };
        if !ok {
            failures.push(format!("{:?} [{}]: want {:?}, got {u:?}", c[0], c[1], want));
        }
    }
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
    let missing: Vec<_> = Danger::ALL.iter().filter(|d| !covered.contains(*d)).collect();
    assert!(missing.is_empty(), "no case for {missing:?}");
}

/// Leave-one-author-out on the author-split corpus, from text: each author is read by a
/// model that never saw their rows. The floors are today's figures (README), so a change
/// that makes understanding worse for people it never heard fails here; the targets
/// (worst author 95%, every critical row) are not reached yet. A17–A24 wrote mostly
/// about low mood and loneliness, the newest and hardest intents: their own floor.
#[test]
fn leave_one_author_out_holds_todays_figures() {
    use dialect_model::corpus;
    let rows = corpus::load(&corpus::dir()).unwrap();
    let authors: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.author.as_str()).collect();
    assert!(rows.len() >= 4_000 && authors.len() >= 24, "{} rows, {} authors", rows.len(), authors.len());
    let base = learn::load_examples(&learn::examples_path()).unwrap();
    let reports = corpus::leave_one_author_out(understander(), &base, &rows, &rows);
    let table = corpus::table(&reports, 10);
    let pooled: (usize, usize) =
        reports.iter().fold((0, 0), |(r, c), a| (r + a.report.rows, c + a.report.correct));
    assert!(pooled.1 as f64 / pooled.0 as f64 >= 0.88, "{table}");
    for a in &reports {
        let mood_author = a.author.trim_start_matches('A').parse::<u32>().is_ok_and(|n| n >= 17);
        let floor = if mood_author { 0.78 } else { 0.85 };
        assert!(a.report.accuracy() >= floor, "{}: {table}", a.author);
        assert!(a.report.critical_recall() >= 0.92, "{}: {table}", a.author);
        assert!(a.report.false_alarm_rate() <= 0.105, "{}: {table}", a.author);
    }
}

#[test]
fn garbage_and_empty_input_is_other_with_low_confidence() {
    let mut garbage = String::new();
    for c in "ｑ@#¥%\u{1F600}z\u{0}\u{FFFF}~".chars().cycle() {
        if garbage.len() >= 10_240 {
            break;
        }
        garbage.push(c);
    }
    for text in ["", "   ", "\t\n", "1234", garbage.as_str()] {
        let u = understander().understand(text, Question::Open);
        assert_eq!(u.intent, Intent::Other, "{text:?}");
        assert!(u.confidence < 0.25 && !u.critical, "{text:?}: {u:?}");
    }
    // Kana and kanji garbage of 10 kB is still answered (never a panic), with a sane confidence.
    let mixed: String = "アァ漢ゞ〜ーっん".chars().cycle().take(4_000).collect();
    let u = understander().understand(&mixed, Question::Appetite);
    assert!((0.0..=1.0).contains(&u.confidence));
}

#[test]
fn committed_model_is_the_retrain_of_the_committed_examples_and_lexicon() {
    let lexicon = Lexicon::load_default().unwrap();
    let examples = dialect_model::corpus::training_set().unwrap();
    assert!(examples.len() >= 2_000, "only {} examples", examples.len());
    let model = learn::train_for_shipping(&lexicon, &examples).unwrap();
    assert_eq!(model.inputs_sha256, understander().model.inputs_sha256, "run `dialect-model train`");
    assert!(!model.asr_prompt.is_empty() && model.asr_prompt.contains("んだ"), "{}", model.asr_prompt);
    assert_eq!(model.to_tsv(), understander().model.to_tsv());
}

#[test]
fn heldout_split_is_never_trained_on_and_is_understood() {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/dialect/dev/utterances-dev.tsv");
    let Ok(all) = learn::load_examples(&dev) else {
        panic!("the dialect dev set is missing at {}", dev.display());
    };
    let heldout = learn::select(&all, Split::Heldout);
    let train = learn::select(&all, Split::Train);
    assert_eq!(heldout.len() + train.len(), all.len());
    let examples = learn::load_examples(&learn::examples_path()).unwrap();
    for h in &heldout {
        assert!(examples.iter().all(|e| e.text != h.text), "held-out {} is in the examples", h.id);
    }
    let report = learn::evaluate(understander(), &heldout);
    // 23 of 24 since the sixteen-author model: U100 「吹雪で、そどさ出らんね」 is labelled
    // weather_snow here and read as need_help, which is how the corpus guide (and its
    // authors) label "cannot get out for snow" (snowed_in): a false alarm the research
    // set counts and the guide does not.
    assert!(report.accuracy() >= 0.95, "{}", report.table());
    assert_eq!(report.critical_recall(), 1.0, "{}", report.table());
}

#[test]
fn a_correction_fixes_a_misunderstood_utterance_without_breaking_others() {
    let u = understander();
    // 「ゆんべは、とろっとしただげ」 (last night I only dozed) was read as small talk.
    let text = "ゆんべは、とろっとしただげ。";
    let before = u.understand(text, Question::Open);
    let corrections =
        learn::parse_corrections("test", &std::fs::read_to_string(data("corrections.tsv")).unwrap()).unwrap();
    assert_eq!(corrections[0].text, text);
    assert_ne!(before.intent, corrections[0].intent, "the case no longer needs correcting: pick another");
    let examples = dialect_model::corpus::training_set().unwrap();
    let (lexicon, merged) = learn::merge(&u.lexicon, &examples, &corrections);
    assert_eq!(merged.len(), examples.len() + corrections.len());
    let after = Understander { model: learn::train(&lexicon, &merged), lexicon, danger: u.danger.clone() };
    assert_eq!(after.understand(text, Question::Open).intent, corrections[0].intent, "before: {before:?}");
    // Nothing else the old model got right is lost among the written examples; of the
    // corpus rows, a retrain may flip a borderline few (1,622 rows, at most 3).
    let broken = |rows: &[learn::Example]| -> Vec<String> {
        rows.iter()
            .filter(|e| {
                u.understand(&e.text, e.question).intent == e.intent
                    && after.understand(&e.text, e.question).intent != e.intent
            })
            .map(|e| e.text.clone())
            .collect()
    };
    let written = learn::load_examples(&learn::examples_path()).unwrap();
    let corpus: Vec<learn::Example> = dialect_model::corpus::load(&dialect_model::corpus::dir())
        .unwrap()
        .into_iter()
        .map(|r| r.example)
        .collect();
    assert!(broken(&written).is_empty(), "the correction broke: {:?}", broken(&written));
    assert!(broken(&corpus).len() <= 3, "the correction broke: {:?}", broken(&corpus));
    // The hard cases hold too, but for at most one calm answer a retrain reads as a
    // danger: the kiosk asks about it (「…ですか？」) before anyone is called, so a false
    // alarm costs a question; a danger read as calm fails at once. (One new example
    // reorders the trainer's fixed shuffle; 「おっかねっす、暗いどご」 sits near the alarm
    // threshold since the wants-to-die rows of A17–A24.)
    let hard = std::fs::read_to_string(data("understanding-cases.tsv")).unwrap();
    let (mut to_alarm, mut failures) = (Vec::new(), Vec::new());
    for line in hard.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let Some(failure) = check(&after, line) else { continue };
        let c: Vec<&str> = line.split('\t').collect();
        let read_as_danger = after.understand(c[0], c[1].parse().unwrap()).critical;
        if c[4] == "false" && read_as_danger { to_alarm.push(failure) } else { failures.push(failure) }
    }
    assert!(failures.is_empty(), "{failures:?}");
    assert!(to_alarm.len() <= 1, "{to_alarm:?}");
}

#[test]
fn a_bundle_round_trips_and_a_tampered_one_is_refused() {
    let text = learn::bundle(7, understander());
    let (version, u) = learn::open_bundle(&text).unwrap();
    assert_eq!(version, 7);
    assert_eq!(u.model.to_tsv(), understander().model.to_tsv());
    assert_eq!(u.understand("コスいだくて", Question::Open).intent, Intent::Pain);
    let tampered = text.replacen("tired", "thanks", 1);
    assert!(learn::open_bundle(&tampered).is_err());
    assert!(learn::open_bundle("").is_err());
    // The danger ontology travels in the bundle: a town's added form reaches the tablets.
    assert_eq!(u.danger.to_tsv(), understander().danger.to_tsv());
    let mut town = understander().clone();
    let edited = format!("{}fire\temergency\tひばしら立った\t\ttown edit\n", town.danger.to_tsv());
    town.danger = dialect_model::danger::Ontology::parse(&edited, &town.lexicon).unwrap();
    let (_, shipped) = learn::open_bundle(&learn::bundle(8, &town)).unwrap();
    let heard = shipped.understand("裏でひばしら立ったっけ", Question::Open);
    assert_eq!((heard.critical, heard.danger), (true, Some(Danger::Fire)), "{heard:?}");
    // A bundle from before the ontology travelled in them opens with the built-in one.
    let body = format!("--- lexicon.tsv\n{}--- model.tsv\n{}", u.lexicon.to_tsv(), u.model.to_tsv());
    let sha = dialect_model::model::sha256_hex(body.as_bytes());
    let (_, older) =
        learn::open_bundle(&format!("mimamori-dialect-bundle v1\nversion 3\nsha256 {sha}\n{body}")).unwrap();
    assert_eq!(older.danger.to_tsv(), understander().danger.to_tsv());
}

#[test]
fn understand_command_writes_the_fixed_shape_for_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("in.tsv");
    std::fs::write(
        &tsv,
        "note\tid\tutterance_dialect\tquestion_context\nx\tA1\tんだ。\tslept\nx\tA2\tコスいだくて\t\n\
         x\tA3\t\topen\nx\tA4\t屋根から落ぢだ\tappetite\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialect-model"))
        .args(["understand", "--tsv"])
        .arg(&tsv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    let shape: Vec<(&str, &str, &str, &str)> = lines.iter().map(|c| (c[0], c[1], c[2], c[3])).collect();
    assert_eq!(
        shape,
        [
            ("A1", "slept_well", "", "false"),
            ("A2", "pain", "腰", "false"),
            ("A3", "other", "", "false"),
            ("A4", "emergency", "", "true")
        ]
    );
    for c in &lines {
        assert_eq!(c.len(), 5);
        let conf: f32 = c[4].parse().unwrap();
        assert!((0.0..=1.0).contains(&conf) && c[4].len() <= 5, "{c:?}");
    }
    // An unknown question context is a clear error, not a guess.
    std::fs::write(&tsv, "id\tutterance_dialect\tquestion_context\nB1\tんだ\tweather\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialect-model"))
        .args(["understand", "--tsv"])
        .arg(&tsv)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown Question"));
}

/// `dialect-model understand … | head -1`: the reader closes the pipe while rows are
/// still being written; the command ends quietly instead of panicking.
#[test]
fn a_closed_stdout_ends_the_command_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("in.tsv");
    let rows: String = (0..5000).map(|i| format!("R{i}\tこわくてなんねず\n")).collect();
    std::fs::write(&tsv, format!("id\tutterance_dialect\n{rows}")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dialect-model"))
        .args(["understand", "--tsv"])
        .arg(&tsv)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then hang up: 5,000 rows are far more than a pipe buffer holds.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with("R0\ttired"), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}

/// The dev set as the tablet hears it: Open JTalk speaks each row, the endpointer and
/// Whisper (the real model) listen, and the understander reads what they wrote.
#[test]
fn dialect_answers_through_the_real_speech_path_are_understood_at_ninety_percent() {
    let dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/dialect/dev/utterances-dev.tsv");
    assert!(dev.is_file(), "the dialect dev set is missing at {}", dev.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dialect-model"))
        .args(["understand-eval", "--split", "all", "--audio", "--tsv"])
        .arg(&dev)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap_or_default();
    let field = |name: &str| -> f64 {
        let v =
            last.split_whitespace().find_map(|w| w.strip_prefix(name)).unwrap_or_else(|| panic!("{last}"));
        v.parse().unwrap()
    };
    assert!(field("accuracy=") >= 0.90, "{stdout}");
    assert_eq!(field("critical_recall="), 1.0, "{stdout}");
}

#[test]
fn the_recogniser_prompt_is_read_capped_and_carried_by_the_model_and_its_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prompt.txt");
    std::fs::write(&file, "# a note\nんだず。\n  もっけだの。\n# another\n").unwrap();
    assert_eq!(learn::load_asr_prompt(&file).unwrap(), "んだず。もっけだの。");
    std::fs::write(&file, "あ".repeat(learn::ASR_PROMPT_CHARS + 1)).unwrap();
    let err = learn::load_asr_prompt(&file).unwrap_err().to_string();
    assert!(err.contains("at most 120"), "{err}");

    let shipped = &understander().model;
    let text = shipped.to_tsv();
    assert_eq!(dialect_model::classifier::Model::parse(&text).unwrap().asr_prompt, shipped.asr_prompt);
    // Models (and bundles) from before the prompt travelled with them still open.
    let older: String =
        text.lines().filter(|l| !l.starts_with("# asr-prompt")).map(|l| format!("{l}\n")).collect();
    assert_eq!(dialect_model::classifier::Model::parse(&older).unwrap().asr_prompt, "");
    let (_, opened) = learn::open_bundle(&learn::bundle(7, understander())).unwrap();
    assert_eq!(opened.model.asr_prompt, shipped.asr_prompt);
}

/// Evaluations say what the dialogue would confirm with the dialogue's own thresholds:
/// a danger is always confirmed, noise is asked again, a sure answer is taken (and
/// counted as taken wrongly when its label says otherwise).
#[test]
fn evaluations_count_confirmations_with_the_dialogues_thresholds() {
    assert_eq!(learn::CONFIRM_BELOW, care::understanding::CONFIRM_BELOW);
    assert_eq!(learn::UNDERSTOOD_FROM, care::understanding::UNDERSTOOD_FROM);
    let row = |id: &str, text: &str, intent: Intent| learn::Example {
        id: id.into(),
        text: text.into(),
        question: Question::HowFeeling,
        intent,
        body_part: None,
        source: "test".into(),
    };
    let u = understander();
    let sure = u.understand("はい、元気です", Question::HowFeeling);
    assert!(sure.confidence >= learn::CONFIRM_BELOW && !sure.critical, "{sure:?}");
    let r = learn::evaluate(
        u,
        &[
            row("fire", "火事だ", Intent::Emergency),
            row("noise", "ｑ＠＃", Intent::Other),
            row("right", "はい、元気です", Intent::FeelingGood),
            row("mislabelled", "はい、元気です", Intent::FeelingUnwell),
        ],
    );
    assert_eq!((r.confirmed, r.asked_again, r.wrong_accepted), (1, 1, 1), "{r:?}");
}
