//! `dialect-model retrain`, the command the office's one-button retraining runs: it
//! reads its data from `--data-dir` (a copy here, checked byte for byte afterwards),
//! writes a bundle only when the new dictionary is not worse on held-out answers, and
//! refuses one taught wrong labels.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use dialect_model::intent::{Intent, Question};
use dialect_model::learn::{self, Split};

const HEADER: &str = "text\tquestion\tintent\tbody_part\tcorrected_by\tcorrected_at\n";

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in snapshot(from) {
        let path = to.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

fn retrain(data: &Path, corrections: &Path, out: &Path, base: Option<&Path>) -> (Output, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dialect-model"));
    cmd.arg("--data-dir").arg(data).args(["retrain", "--version", "7", "--corrections"]).arg(corrections);
    cmd.arg("--out").arg(out);
    if let Some(base) = base {
        cmd.arg("--base").arg(base);
    }
    let output = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

fn field(line: &str, name: &str) -> usize {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
        .parse()
        .unwrap()
}

#[test]
fn retrain_writes_a_bundle_only_when_not_worse_and_never_touches_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets"), &data);
    let before = snapshot(&data);

    // Staff corrections of answers the shipped dictionary misreads.
    let good = tmp.path().join("good.tsv");
    let rows = [
        ("ほでもねぇ、はらだまし", "how_feeling", "feeling_good", ""),
        ("こしいでぇ", "how_feeling", "pain", "腰"),
        ("まなぐかすむ", "how_feeling", "feeling_unwell", ""),
        ("ねっこできねがった", "slept", "slept_badly", ""),
        ("おら、まんず達者だ", "how_feeling", "feeling_good", ""),
    ];
    let body: String = rows
        .iter()
        .enumerate()
        .map(|(i, (t, q, intent, part))| {
            format!("{t}\t{q}\t{intent}\t{part}\tuser1\t2026-12-01T10:0{i}:00+09:00\n")
        })
        .collect();
    std::fs::write(&good, format!("{HEADER}{body}")).unwrap();
    let bundle = tmp.path().join("bundle.txt");
    let (out, stdout) = retrain(&data, &good, &bundle, None);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().last().unwrap();
    assert!(line.starts_with("retrain: accepted=yes"), "{line}");
    assert!(field(line, "after") >= field(line, "before"), "{line}");
    assert_eq!(field(line, "corrections"), 5);
    assert!(field(line, "heldout") > 20, "the dev set's held-out third is compared on: {line}");
    let (version, learnt) = learn::open_bundle(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    assert_eq!(version, 7);
    assert_eq!(learnt.understand("ねっこできねがった", Question::Slept).intent, Intent::SleptBadly);
    assert!(!tmp.path().join("bundle.partial").exists());

    // Retraining on top of that bundle (what the office does the second time).
    let again = tmp.path().join("again.txt");
    let (out, stdout) = retrain(&data, &good, &again, Some(&bundle));
    assert!(out.status.success(), "{stdout}");

    // A careless or hostile batch: the dev set's answers with wrong meanings.
    let dev = learn::load_examples(&data.join("dialect/dev/utterances-dev.tsv")).unwrap();
    assert!(!learn::select(&dev, Split::Heldout).is_empty());
    let wrong = |i: Intent| match i {
        Intent::FeelingGood => Intent::FeelingUnwell,
        Intent::FeelingUnwell => Intent::FeelingGood,
        Intent::SleptWell => Intent::SleptBadly,
        Intent::SleptBadly => Intent::SleptWell,
        Intent::Other => Intent::FeelingGood,
        _ => Intent::Other,
    };
    let body: String = dev
        .iter()
        .enumerate()
        .map(|(i, e)| {
            format!(
                "{}\t{}\t{}\t\tuser9\t2026-12-01T11:{i:02}:00+09:00\n",
                e.text,
                e.question,
                wrong(e.intent)
            )
        })
        .collect();
    let bad = tmp.path().join("bad.tsv");
    std::fs::write(&bad, format!("{HEADER}{body}")).unwrap();
    let refused = tmp.path().join("refused.txt");
    let (out, stdout) = retrain(&data, &bad, &refused, None);
    assert_eq!(out.status.code(), Some(3), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().last().unwrap();
    assert!(line.starts_with("retrain: accepted=no"), "{line}");
    assert!(field(line, "after") < field(line, "before"), "{line}");
    assert!(!refused.exists() && !tmp.path().join("refused.partial").exists());

    // Bad input: a damaged base bundle and a missing data directory are clear errors.
    std::fs::write(&refused, "mimamori-dialect-bundle\nversion 1\nsha256 00\n").unwrap();
    let (out, _) = retrain(&data, &good, &tmp.path().join("x.txt"), Some(&refused));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused.txt"));
    let (out, _) = retrain(&tmp.path().join("nowhere"), &good, &tmp.path().join("x.txt"), None);
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"), "{out:?}");

    assert!(snapshot(&data) == before, "retrain wrote into the data directory");
}
