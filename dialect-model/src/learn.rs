//! The learned part of understanding and the loop that improves it: features, a
//! softmax classifier trained from labelled examples in `assets/dialect/examples.tsv`,
//! staff corrections merged into examples and lexicon, a held-out split that is never
//! trained on, evaluation, and a versioned bundle (lexicon + model) for the tablets.
//!
//! Training is deterministic (fixed order, fixed seed), so the committed model can be
//! checked against a retrain.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::analysis::analyse;
use crate::classifier::{Model, ModelError, features, softmax};
use crate::danger::{Ontology, OntologyError};
use crate::intent::{BodyPart, Intent, Question, Understander, UnknownName};
use crate::lexicon::{Entry, Lexicon, LexiconError};

/// Labelled examples shipped with the product.
pub fn examples_path() -> PathBuf {
    crate::data::path("dialect/examples.tsv")
}

const BUNDLE_MAGIC: &str = "mimamori-dialect-bundle v1";
const DANGER_SECTION: &str = "--- danger.tsv\n";
const EPOCHS: usize = 60;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-5;

/// Why learning data could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{what} line {line}: {reason}")]
    Row { what: String, line: usize, reason: String },
    #[error("{what} header lacks column {column:?}")]
    MissingColumn { what: String, column: &'static str },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("bundle: {0}")]
    Bundle(String),
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
    #[error(transparent)]
    Ontology(#[from] OntologyError),
}

/// One labelled utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub question: Question,
    pub intent: Intent,
    pub body_part: Option<BodyPart>,
    /// Where the label came from (`written`, `dev-train`, `correction:…`).
    pub source: String,
}

/// A TSV with a header, columns found by name.
struct Table<'a> {
    what: String,
    header: Vec<&'a str>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> Table<'a> {
    fn parse(what: &str, text: &'a str) -> Self {
        // Spreadsheet exports may start with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate();
        let header = lines.next().map_or(Vec::new(), |(_, l)| l.split('\t').map(str::trim).collect());
        let rows = lines
            .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|(i, l)| (i + 1, l.split('\t').map(str::trim).collect()))
            .collect();
        Self { what: what.to_string(), header, rows }
    }

    fn col(&self, column: &'static str) -> Result<usize, LearnError> {
        self.header
            .iter()
            .position(|h| *h == column)
            .ok_or(LearnError::MissingColumn { what: self.what.clone(), column })
    }

    fn opt(&self, column: &str) -> Option<usize> {
        self.header.iter().position(|h| *h == column)
    }

    fn err(&self, line: usize, e: UnknownName) -> LearnError {
        LearnError::Row { what: self.what.clone(), line, reason: e.to_string() }
    }
}

fn cell<'a>(row: &[&'a str], col: Option<usize>) -> &'a str {
    col.and_then(|c| row.get(c)).copied().unwrap_or("")
}

fn read(path: &Path) -> Result<String, LearnError> {
    std::fs::read_to_string(path)
        .map_err(|source| LearnError::Read { path: path.display().to_string(), source })
}

/// Body parts as labelled in data files; finer names fold to the twelve (手指 → 手).
fn parse_body(s: &str) -> Result<Option<BodyPart>, UnknownName> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let coarse = match s {
        "手指" | "指" | "腕" | "手首" => "手",
        "お腹" | "おなか" | "胃" => "腹",
        "頭部" => "頭",
        "脚" | "足首" | "かかと" => "足",
        other => other,
    };
    BodyPart::from_kanji(coarse).map(Some)
}

fn parse_question(s: &str) -> Result<Question, UnknownName> {
    if s.trim().is_empty() { Ok(Question::Open) } else { s.parse() }
}

/// Reads labelled rows: `text` or `utterance_dialect`, `intent`, optional `id`,
/// `question_context`/`question`, `body_part`, `source`.
pub fn parse_examples(what: &str, text: &str) -> Result<Vec<Example>, LearnError> {
    let t = Table::parse(what, text);
    let text_col = t.opt("text").or_else(|| t.opt("utterance_dialect"));
    let text_col = text_col.ok_or(LearnError::MissingColumn { what: what.into(), column: "text" })?;
    let intent_col = t.col("intent")?;
    let (id_col, body_col, source_col) = (t.opt("id"), t.opt("body_part"), t.opt("source"));
    let q_col = t.opt("question_context").or_else(|| t.opt("question"));
    let mut out = Vec::new();
    for (line, row) in &t.rows {
        let id = cell(row, id_col);
        out.push(Example {
            id: if id.is_empty() { format!("{what}:{line}") } else { id.to_string() },
            text: cell(row, Some(text_col)).to_string(),
            question: parse_question(cell(row, q_col)).map_err(|e| t.err(*line, e))?,
            intent: cell(row, Some(intent_col)).parse().map_err(|e| t.err(*line, e))?,
            body_part: parse_body(cell(row, body_col)).map_err(|e| t.err(*line, e))?,
            source: cell(row, source_col).to_string(),
        });
    }
    Ok(out)
}

pub fn load_examples(path: &Path) -> Result<Vec<Example>, LearnError> {
    parse_examples(&path.display().to_string(), &read(path)?)
}

/// Writes examples in the `assets/dialect/examples.tsv` shape.
pub fn examples_tsv(examples: &[Example]) -> String {
    let mut out = String::from("text\tquestion\tintent\tbody_part\tsource\n");
    for e in examples {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            e.text.replace(['\t', '\n'], " "),
            e.question,
            e.intent,
            e.body_part.map_or("", BodyPart::kanji),
            e.source.replace(['\t', '\n'], " ")
        );
    }
    out
}

/// One row to understand: `id`, `utterance_dialect`, optional `question_context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    pub id: String,
    pub text: String,
    pub question: Question,
}

/// Reads the judging TSV; other columns are ignored, an unknown question is an error.
pub fn parse_utterances(what: &str, text: &str) -> Result<Vec<Utterance>, LearnError> {
    let t = Table::parse(what, text);
    let (id_col, text_col) = (t.col("id")?, t.col("utterance_dialect")?);
    let q_col = t.opt("question_context");
    t.rows
        .iter()
        .map(|(line, row)| {
            Ok(Utterance {
                id: cell(row, Some(id_col)).to_string(),
                text: cell(row, Some(text_col)).to_string(),
                question: parse_question(cell(row, q_col)).map_err(|e| t.err(*line, e))?,
            })
        })
        .collect()
}

/// sha256 over the lexicon TSV and the training rows (what the model depends on).
pub fn inputs_sha256(lexicon: &Lexicon, examples: &[Example]) -> String {
    let mut h = Sha256::new();
    h.update(lexicon.to_tsv());
    h.update(examples_tsv(examples));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Trains the classifier on `examples` (deterministic: same inputs, same weights).
pub fn train(lexicon: &Lexicon, examples: &[Example]) -> Model {
    let data: Vec<(Vec<String>, usize)> = examples
        .iter()
        .map(|e| (features(&analyse(lexicon, &e.text), e.question), e.intent.index()))
        .collect();
    let k = Intent::ALL.len();
    let mut weights: HashMap<String, Vec<f32>> = HashMap::new();
    // The mean of the weights after each epoch from the second half on: steadier than
    // the last epoch's weights when a few examples are added or removed.
    let mut averaged: HashMap<String, Vec<f32>> = HashMap::new();
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut seed = 0x9E37_79B9_u32;
    for epoch in 0..EPOCHS {
        // Fisher–Yates with xorshift: a fixed shuffle per epoch.
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            order.swap(i, seed as usize % (i + 1));
        }
        let lr = LEARNING_RATE / (1.0 + epoch as f32 * 0.1);
        for &i in &order {
            let (f, y) = &data[i];
            let mut z = vec![0.0f32; k];
            for name in f {
                if let Some(w) = weights.get(name) {
                    for (zi, wi) in z.iter_mut().zip(w) {
                        *zi += wi;
                    }
                }
            }
            softmax(&mut z);
            for name in f {
                let w = weights.entry(name.clone()).or_insert_with(|| vec![0.0; k]);
                for (c, wc) in w.iter_mut().enumerate() {
                    let target = if c == *y { 1.0 } else { 0.0 };
                    *wc -= lr * ((z[c] - target) + L2 * *wc);
                }
            }
        }
        if epoch >= EPOCHS / 2 {
            for (name, w) in &weights {
                let a = averaged.entry(name.clone()).or_insert_with(|| vec![0.0; k]);
                for (ai, wi) in a.iter_mut().zip(w) {
                    *ai += wi / (EPOCHS - EPOCHS / 2) as f32;
                }
            }
        }
    }
    let mut weights = averaged;
    // Round as the file does, so a loaded model predicts exactly like a trained one.
    for w in weights.values_mut() {
        for x in w.iter_mut() {
            *x = (*x * 10_000.0).round() / 10_000.0;
        }
    }
    weights.retain(|_, w| w.iter().any(|x| *x != 0.0));
    Model { weights, inputs_sha256: inputs_sha256(lexicon, examples), asr_prompt: String::new() }
}

/// [`train`], with the recogniser prompt of [`asr_prompt_path`] attached: the model
/// that ships and that bundles carry.
pub fn train_for_shipping(lexicon: &Lexicon, examples: &[Example]) -> Result<Model, LearnError> {
    let mut model = train(lexicon, examples);
    model.asr_prompt = load_asr_prompt(&asr_prompt_path())?;
    Ok(model)
}

/// The recogniser prompt the town edits (see the notes in the file).
pub fn asr_prompt_path() -> PathBuf {
    crate::data::path("dialect/asr-prompt.txt")
}

/// The longest recogniser prompt, in characters (Whisper keeps at most 224 prompt
/// tokens; a longer prompt also costs decoding time).
pub const ASR_PROMPT_CHARS: usize = 120;

/// Reads a recogniser prompt file: `#` lines are notes, the other lines are joined.
pub fn load_asr_prompt(path: &Path) -> Result<String, LearnError> {
    let text = read(path)?;
    let prompt: String = text.lines().map(str::trim).filter(|l| !l.starts_with('#')).collect();
    let chars = prompt.chars().count();
    if chars > ASR_PROMPT_CHARS {
        return Err(LearnError::Bundle(format!(
            "{}: the prompt has {chars} characters, at most {ASR_PROMPT_CHARS} are kept",
            path.display()
        )));
    }
    Ok(prompt)
}

/// The held-out part of a labelled set: stratified by intent, and within each intent
/// the ⌈n/3⌉ rows whose id has the smallest sha256 (deterministic, independent of order).
pub fn is_heldout(all: &[Example], id: &str) -> bool {
    let Some(row) = all.iter().find(|e| e.id == id) else { return false };
    let mut same: Vec<(String, &str)> =
        all.iter().filter(|e| e.intent == row.intent).map(|e| (hex_sha256(&e.id), e.id.as_str())).collect();
    same.sort();
    let take = same.len().div_ceil(3);
    same.iter().take(take).any(|(_, i)| *i == id)
}

fn hex_sha256(s: &str) -> String {
    crate::model::sha256_hex(s.as_bytes())
}

/// Which rows of a labelled file to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    All,
    Train,
    Heldout,
}

impl FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Split::All),
            "train" => Ok(Split::Train),
            "heldout" => Ok(Split::Heldout),
            _ => Err(format!("split must be all, train or heldout, not {s:?}")),
        }
    }
}

pub fn select(all: &[Example], split: Split) -> Vec<Example> {
    all.iter()
        .filter(|e| match split {
            Split::All => true,
            Split::Train => !is_heldout(all, &e.id),
            Split::Heldout => is_heldout(all, &e.id),
        })
        .cloned()
        .collect()
}

/// Accuracy figures over a labelled set.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub rows: usize,
    pub correct: usize,
    /// Per intent: (rows, correct), in `Intent::ALL` order, only intents present.
    pub per_intent: Vec<(Intent, usize, usize)>,
    pub critical_rows: usize,
    pub critical_flagged: usize,
    /// Rows whose gold intent is not critical, and how many of them were flagged.
    pub calm_rows: usize,
    pub false_alarms: usize,
    pub body_rows: usize,
    pub body_correct: usize,
    /// Ids of misunderstood rows with what was predicted.
    pub errors: Vec<(String, Intent, Intent)>,
    /// What the tablet's dialogue would do with each answer: confirm it (a danger
    /// question for a critical one, 「〜ということですね？」 below [`CONFIRM_BELOW`]), ask
    /// again (below [`UNDERSTOOD_FROM`]), or take it; and how many it took wrongly.
    pub confirmed: usize,
    pub asked_again: usize,
    pub wrong_accepted: usize,
}

/// The dialogue confirms answers below this confidence (`care::understanding`'s,
/// tested equal).
pub const CONFIRM_BELOW: f32 = 0.6;
/// The dialogue asks again below this confidence (`care::understanding`'s, tested equal).
pub const UNDERSTOOD_FROM: f32 = 0.25;

impl Report {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.rows.max(1) as f64
    }

    /// Adds another report's rows to this one (pooling folds or authors).
    pub fn absorb(&mut self, r: Report) {
        self.rows += r.rows;
        self.correct += r.correct;
        self.critical_rows += r.critical_rows;
        self.critical_flagged += r.critical_flagged;
        self.calm_rows += r.calm_rows;
        self.false_alarms += r.false_alarms;
        self.body_rows += r.body_rows;
        self.body_correct += r.body_correct;
        self.errors.extend(r.errors);
        self.confirmed += r.confirmed;
        self.asked_again += r.asked_again;
        self.wrong_accepted += r.wrong_accepted;
        for (i, n, c) in r.per_intent {
            match self.per_intent.iter_mut().find(|x| x.0 == i) {
                Some(x) => {
                    x.1 += n;
                    x.2 += c;
                }
                None => self.per_intent.push((i, n, c)),
            }
        }
        self.per_intent.sort();
    }

    /// Shares of all answers: confirmed, asked again, taken wrongly without a confirmation.
    pub fn confirm_shares(&self) -> (f64, f64, f64) {
        let n = self.rows.max(1) as f64;
        (self.confirmed as f64 / n, self.asked_again as f64 / n, self.wrong_accepted as f64 / n)
    }

    pub fn false_alarm_rate(&self) -> f64 {
        self.false_alarms as f64 / self.calm_rows.max(1) as f64
    }

    pub fn critical_recall(&self) -> f64 {
        if self.critical_rows == 0 { 1.0 } else { self.critical_flagged as f64 / self.critical_rows as f64 }
    }

    /// The per-intent table as printed by `understand-eval`.
    pub fn table(&self) -> String {
        let mut out = format!("{:<16} {:>5} {:>8} {:>9}\n", "intent", "rows", "correct", "accuracy");
        for (i, n, c) in &self.per_intent {
            let _ = writeln!(out, "{:<16} {n:>5} {c:>8} {:>8.1}%", i.key(), *c as f64 * 100.0 / *n as f64);
        }
        let _ = writeln!(
            out,
            "{:<16} {:>5} {:>8} {:>8.1}%\ncritical recall: {}/{} = {:.1}%\nfalse alarms: {}/{} = {:.1}%\nbody part (pain/chest rows): {}/{}\n\
             the dialogue would confirm {} ({:.1}%), ask again {} ({:.1}%), take wrongly without confirming {} ({:.1}%)",
            "all",
            self.rows,
            self.correct,
            self.accuracy() * 100.0,
            self.critical_flagged,
            self.critical_rows,
            self.critical_recall() * 100.0,
            self.false_alarms,
            self.calm_rows,
            self.false_alarm_rate() * 100.0,
            self.body_correct,
            self.body_rows,
            self.confirmed,
            self.confirm_shares().0 * 100.0,
            self.asked_again,
            self.confirm_shares().1 * 100.0,
            self.wrong_accepted,
            self.confirm_shares().2 * 100.0,
        );
        for (id, gold, got) in &self.errors {
            let _ = writeln!(out, "miss {id}: gold {gold}, got {got}");
        }
        out
    }
}

/// Evaluates `understander` on labelled rows. Gold critical = a help or emergency intent.
pub fn evaluate(understander: &Understander, rows: &[Example]) -> Report {
    let mut per: BTreeMap<Intent, (usize, usize)> = BTreeMap::new();
    let mut r = Report {
        rows: rows.len(),
        correct: 0,
        per_intent: Vec::new(),
        critical_rows: 0,
        critical_flagged: 0,
        calm_rows: 0,
        false_alarms: 0,
        body_rows: 0,
        body_correct: 0,
        errors: Vec::new(),
        confirmed: 0,
        asked_again: 0,
        wrong_accepted: 0,
    };
    for e in rows {
        let u = understander.understand(&e.text, e.question);
        if u.critical || (UNDERSTOOD_FROM..CONFIRM_BELOW).contains(&u.confidence) {
            r.confirmed += 1;
        } else if u.confidence < UNDERSTOOD_FROM {
            r.asked_again += 1;
        } else if u.intent != e.intent {
            r.wrong_accepted += 1;
        }
        let slot = per.entry(e.intent).or_default();
        slot.0 += 1;
        if u.intent == e.intent {
            slot.1 += 1;
            r.correct += 1;
        } else {
            r.errors.push((e.id.clone(), e.intent, u.intent));
        }
        if e.intent.is_critical() {
            r.critical_rows += 1;
            r.critical_flagged += usize::from(u.critical);
        } else {
            r.calm_rows += 1;
            r.false_alarms += usize::from(u.critical);
        }
        if e.body_part.is_some() {
            r.body_rows += 1;
            r.body_correct += usize::from(u.body_part == e.body_part);
        }
    }
    r.per_intent = per.into_iter().map(|(i, (n, c))| (i, n, c)).collect();
    r
}

/// k-fold cross-validation over `examples` (folds by text hash): each fold is understood
/// by a model trained on the other folds. Returns the pooled report.
pub fn cross_validate(base: &Understander, examples: &[Example], k: usize) -> Report {
    let lexicon = &base.lexicon;
    let k = k.max(2);
    let fold_of = |e: &Example| usize::from(Sha256::digest(e.text.as_bytes())[0]) % k;
    let mut pooled: Option<Report> = None;
    for fold in 0..k {
        let (test, train_rows): (Vec<Example>, Vec<Example>) =
            examples.iter().cloned().partition(|e| fold_of(e) == fold);
        let u = base.with_model(train(lexicon, &train_rows));
        let r = evaluate(&u, &test);
        pooled = Some(match pooled {
            None => r,
            Some(mut p) => {
                p.absorb(r);
                p
            }
        });
    }
    pooled.unwrap_or_else(|| evaluate(&base.with_model(train(lexicon, &[])), &[]))
}

/// One staff correction (text only, never audio).
#[derive(Debug, Clone, PartialEq)]
pub struct Correction {
    pub text: String,
    pub question: Question,
    pub intent: Intent,
    pub body_part: Option<BodyPart>,
    pub corrected_by: String,
    pub corrected_at: String,
    /// Optional lexicon addition: a form heard in this answer and its concept.
    pub new_form: Option<(String, String)>,
}

/// Reads corrections: `text, question, intent, body_part, corrected_by, corrected_at`
/// and optionally `form`, `concept` (a lexicon addition).
pub fn parse_corrections(what: &str, text: &str) -> Result<Vec<Correction>, LearnError> {
    let t = Table::parse(what, text);
    let [text, question, intent, by, at] = vocab::corrections::REQUIRED.map(|c| t.col(c));
    let cols = [text?, question?, intent?, by?, at?];
    let (body, form, concept) = (t.opt("body_part"), t.opt("form"), t.opt("concept"));
    let mut out = Vec::new();
    for (line, row) in &t.rows {
        let (f, c) = (cell(row, form), cell(row, concept));
        out.push(Correction {
            text: cell(row, Some(cols[0])).to_string(),
            question: parse_question(cell(row, Some(cols[1]))).map_err(|e| t.err(*line, e))?,
            intent: cell(row, Some(cols[2])).parse().map_err(|e| t.err(*line, e))?,
            body_part: parse_body(cell(row, body)).map_err(|e| t.err(*line, e))?,
            corrected_by: cell(row, Some(cols[3])).to_string(),
            corrected_at: cell(row, Some(cols[4])).to_string(),
            new_form: (!f.is_empty() && !c.is_empty()).then(|| (f.to_string(), c.to_string())),
        });
    }
    Ok(out)
}

/// Merges corrections: a corrected utterance replaces any example with the same text
/// and question, else is added; new forms become lexicon rows citing the corrector.
pub fn merge(lexicon: &Lexicon, examples: &[Example], corrections: &[Correction]) -> (Lexicon, Vec<Example>) {
    let mut examples = examples.to_vec();
    let mut entries: Vec<Entry> = lexicon.entries().to_vec();
    for c in corrections {
        let source = format!("correction:{}@{}", c.corrected_by, c.corrected_at);
        let ex = Example {
            id: format!("corr:{}", hex_sha256(&format!("{}|{}", c.text, c.question))),
            text: c.text.clone(),
            question: c.question,
            intent: c.intent,
            body_part: c.body_part,
            source: source.clone(),
        };
        match examples.iter_mut().find(|e| e.text == c.text && e.question == c.question) {
            Some(e) => *e = ex,
            None => examples.push(ex),
        }
        if let Some((form, concept)) = &c.new_form {
            entries.push(Entry {
                form: form.clone(),
                variants: Vec::new(),
                standard: c.intent.key().to_string(),
                category: "correction".into(),
                area: "Murayama".into(),
                confidence: "medium".into(),
                concepts: vec![concept.clone()],
                source,
            });
        }
    }
    (lexicon.with_entries(entries), examples)
}

/// A versioned bundle: lexicon, danger ontology and model in one text file, with a
/// checksum, that the backend serves and the kiosk swaps in whole. (A kiosk from before
/// the ontology reads its section as lexicon rows without concepts, which match nothing.)
pub fn bundle(version: u32, understander: &Understander) -> String {
    let mut danger = understander.danger.to_tsv().to_owned();
    if !danger.ends_with('\n') {
        danger.push('\n');
    }
    let body = format!(
        "--- lexicon.tsv\n{}{DANGER_SECTION}{danger}--- model.tsv\n{}",
        understander.lexicon.to_tsv(),
        understander.model.to_tsv()
    );
    format!("{BUNDLE_MAGIC}\nversion {version}\nsha256 {}\n{body}", hex_sha256(&body))
}

/// Reads a bundle, checking its checksum, into its version and a ready understander.
pub fn open_bundle(text: &str) -> Result<(u32, Understander), LearnError> {
    let bad = |m: &str| LearnError::Bundle(m.to_string());
    let mut parts = text.splitn(4, '\n');
    if parts.next() != Some(BUNDLE_MAGIC) {
        return Err(bad("not a mimamori dialect bundle"));
    }
    let version = parts
        .next()
        .and_then(|l| l.strip_prefix("version "))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad("no version"))?;
    let sha = parts.next().and_then(|l| l.strip_prefix("sha256 ")).ok_or_else(|| bad("no checksum"))?;
    let body = parts.next().unwrap_or("");
    if hex_sha256(body) != sha {
        return Err(bad("checksum mismatch"));
    }
    let rest = body.strip_prefix("--- lexicon.tsv\n").ok_or_else(|| bad("no lexicon section"))?;
    let (lex, model) = rest.split_once("--- model.tsv\n").ok_or_else(|| bad("no model section"))?;
    let (lex, danger) = match lex.split_once(DANGER_SECTION) {
        Some((lex, danger)) => (lex, Some(danger)),
        None => (lex, None),
    };
    let lexicon = Lexicon::parse(lex)?;
    // Bundles from before the ontology travelled in them use the built-in one.
    let danger = match danger {
        Some(text) => Ontology::parse(text, &lexicon)?,
        None => Ontology::load_default(&lexicon)?,
    };
    Ok((version, Understander { model: Model::parse(model)?, lexicon, danger }))
}
