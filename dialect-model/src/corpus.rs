//! The author-split check-in corpus (`assets/dialect/corpus/author-*.tsv`, written by
//! independent authors from their own briefs, see its `GUIDE.md`) and
//! leave-one-author-out evaluation: each author is understood by a model trained on
//! the shipped examples and every *other* author, so the figures say how the product
//! does for people it never heard.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::intent::{Intent, Understander};
use crate::learn::{self, Example, LearnError, Report};

/// The corpus shipped with the product.
pub fn dir() -> std::path::PathBuf {
    crate::data::path("dialect/corpus")
}

/// One corpus row: a labelled example and who wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub example: Example,
    pub author: String,
    pub tags: Vec<String>,
}

/// Reads one author file, or every `author-*.tsv` of a directory (in name order).
/// A row whose `critical` column disagrees with its intent is an error: the corpus
/// defines critical as a help or emergency intent.
pub fn load(path: &Path) -> Result<Vec<Row>, LearnError> {
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| LearnError::Read { path: path.display().to_string(), source })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with("author-") && name.ends_with(".tsv")
            })
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|source| LearnError::Read { path: file.display().to_string(), source })?;
        out.extend(parse(&file.display().to_string(), &text)?);
    }
    Ok(out)
}

/// Parses corpus TSV: the example columns plus `author`, `critical` and `tags`.
pub fn parse(what: &str, text: &str) -> Result<Vec<Row>, LearnError> {
    let examples = learn::parse_examples(what, text)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<&str> = lines.next().map_or(Vec::new(), |(_, l)| l.split('\t').map(str::trim).collect());
    let col = |name: &'static str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(LearnError::MissingColumn { what: what.into(), column: name })
    };
    let (c_author, c_critical, c_tags) = (col("author")?, col("critical")?, col("tags")?);
    let mut rows = Vec::with_capacity(examples.len());
    for ((line, l), example) in lines.zip(examples) {
        let cells: Vec<&str> = l.split('\t').map(str::trim).collect();
        let cell = |c: usize| cells.get(c).copied().unwrap_or("");
        let bad = |reason: String| LearnError::Row { what: what.into(), line: line + 1, reason };
        let critical = match cell(c_critical) {
            "true" => true,
            "false" => false,
            other => return Err(bad(format!("critical must be true or false, not {other:?}"))),
        };
        if critical != example.intent.is_critical() {
            return Err(bad(format!("critical {critical} disagrees with intent {}", example.intent)));
        }
        if cell(c_author).is_empty() {
            return Err(bad("no author".into()));
        }
        rows.push(Row {
            author: cell(c_author).to_string(),
            tags: cell(c_tags)
                .split(';')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            example,
        });
    }
    Ok(rows)
}

/// The shipped examples and the whole corpus: what the shipped model is trained on.
pub fn training_set() -> Result<Vec<Example>, LearnError> {
    let mut examples = learn::load_examples(&learn::examples_path())?;
    examples.extend(load(&dir())?.into_iter().map(|r| r.example));
    Ok(examples)
}

/// One author's figures, from a model that never saw their rows.
#[derive(Debug, Clone)]
pub struct AuthorReport {
    pub author: String,
    pub report: Report,
}

/// Leave-one-author-out: for each author of `test`, train on `base` plus every other
/// author's rows of `train` (written text), then understand that author's `test` rows
/// (written, or as heard through speech). `test` and `train` hold the same rows in the
/// same order.
pub fn leave_one_author_out(
    understander: &Understander,
    base: &[Example],
    train: &[Row],
    test: &[Row],
) -> Vec<AuthorReport> {
    let authors: Vec<String> = {
        let mut a: Vec<String> = train.iter().map(|r| r.author.clone()).collect();
        a.sort();
        a.dedup();
        a
    };
    authors
        .into_iter()
        // An author none of whose rows are tested (no recordings of them) has no figures.
        .filter(|author| test.iter().any(|r| &r.author == author))
        .map(|author| {
            let mut rows: Vec<Example> = base.to_vec();
            rows.extend(train.iter().filter(|r| r.author != author).map(|r| r.example.clone()));
            let fold = understander.with_model(learn::train(&understander.lexicon, &rows));
            let theirs: Vec<Example> =
                test.iter().filter(|r| r.author == author).map(|r| r.example.clone()).collect();
            AuthorReport { report: learn::evaluate(&fold, &theirs), author }
        })
        .collect()
}

/// The per-author table: accuracy, critical recall, false alarms, the worst author, the
/// pooled figures and the most frequent confusions.
pub fn table(reports: &[AuthorReport], confusions: usize) -> String {
    let mut out = format!(
        "{:<8} {:>5} {:>9} {:>16} {:>18}\n",
        "author", "rows", "accuracy", "critical recall", "false alarms"
    );
    let row = |out: &mut String, name: &str, r: &Report| {
        let _ = writeln!(
            out,
            "{:<8} {:>5} {:>8.1}% {:>8}/{:<3} {:>5.1}% {:>6}/{:<4} {:>5.1}%",
            name,
            r.rows,
            r.accuracy() * 100.0,
            r.critical_flagged,
            r.critical_rows,
            r.critical_recall() * 100.0,
            r.false_alarms,
            r.calm_rows,
            r.false_alarm_rate() * 100.0
        );
    };
    let mut pooled: Option<Report> = None;
    for a in reports {
        row(&mut out, &a.author, &a.report);
        match &mut pooled {
            None => pooled = Some(a.report.clone()),
            Some(p) => p.absorb(a.report.clone()),
        }
    }
    if let Some(p) = &pooled {
        row(&mut out, "all", p);
    }
    if let Some(w) = worst(reports) {
        let _ = writeln!(out, "worst author: {} ({:.1}%)", w.author, w.report.accuracy() * 100.0);
    }
    let mut counts: BTreeMap<(Intent, Intent), usize> = BTreeMap::new();
    for a in reports {
        for (_, gold, got) in &a.report.errors {
            *counts.entry((*gold, *got)).or_default() += 1;
        }
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    for ((gold, got), n) in counts.into_iter().take(confusions) {
        let _ = writeln!(out, "confusion {gold} -> {got}: {n}");
    }
    out
}

/// The author with the lowest accuracy.
pub fn worst(reports: &[AuthorReport]) -> Option<&AuthorReport> {
    reports.iter().min_by(|a, b| a.report.accuracy().total_cmp(&b.report.accuracy()))
}
