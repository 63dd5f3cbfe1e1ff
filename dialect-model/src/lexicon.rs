//! The town-editable dialect lexicon (`assets/dialect/lexicon.tsv`): dialect forms and
//! their variants → standard meaning, category, area, confidence, source, and the
//! `concept` the understanding uses (e.g. `tired`, `body:腰`, `critical`, `yes`).
//!
//! Every form and variant is compared on its folded kana key (`normalise::fold`), so a
//! row written as こす also finds コス, 腰 spelt こし, and こず. Short answers are also
//! matched with one kana wrong, missing or extra (`fuzzy_hits`, and bare answers such
//! as んだべした heard as んどべした, or without the weak opening ん): that is how a
//! recogniser spells dialect it never learnt.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use crate::normalise::{self, is_kanji};
use crate::reading::{Reader, ReadingError};

/// The lexicon shipped with the product.
pub fn default_path() -> std::path::PathBuf {
    crate::data::path("dialect/lexicon.tsv")
}

/// Why a lexicon could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("cannot read lexicon {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("lexicon header lacks column {0:?}")]
    MissingColumn(&'static str),
    #[error("lexicon line {line}: {reason}")]
    Row { line: usize, reason: String },
    #[error(transparent)]
    Reading(#[from] ReadingError),
}

/// One lexicon row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub form: String,
    pub variants: Vec<String>,
    pub standard: String,
    pub category: String,
    pub area: String,
    pub confidence: String,
    /// Space-separated concepts; empty for rows kept only as knowledge.
    pub concepts: Vec<String>,
    pub source: String,
}

/// A folded pattern and the concept it signals.
#[derive(Debug, Clone)]
struct Pattern {
    key: String,
    concept: String,
    /// Whole-utterance only: one-kana forms (く, け) and the bare answers.
    whole_only: bool,
}

/// Where a concept was found in a folded text (char offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub concept: String,
    pub start: usize,
    pub end: usize,
    /// Found one kana off (`fuzzy_hits`), not as written.
    pub near: bool,
}

/// The lexicon with its folded patterns, ready to match.
#[derive(Debug, Clone)]
pub struct Lexicon {
    entries: Vec<Entry>,
    patterns: Vec<Pattern>,
    reader: Arc<Reader>,
}

/// Concepts that are answers on their own (matched against the whole utterance).
pub fn is_bare_concept(concept: &str) -> bool {
    concept.starts_with("bare:")
        || matches!(concept, "yes" | "no" | "yes_tentative" | "yes_understood" | "greeting_bye")
}

impl Lexicon {
    /// Reads the product lexicon.
    pub fn load_default() -> Result<Self, LexiconError> {
        Self::load(&default_path())
    }

    pub fn load(path: &Path) -> Result<Self, LexiconError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| LexiconError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    /// Parses lexicon TSV text (header row; columns found by name).
    pub fn parse(text: &str) -> Result<Self, LexiconError> {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split('\t').map(str::trim).collect();
        let col = |name: &'static str| {
            header.iter().position(|h| *h == name).ok_or(LexiconError::MissingColumn(name))
        };
        let cols = [
            col("form")?,
            col("variants")?,
            col("standard")?,
            col("category")?,
            col("area")?,
            col("confidence")?,
            col("concept")?,
            col("source")?,
        ];
        let mut entries = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let cell = |k: usize| cells.get(cols[k]).map_or("", |c| c.trim()).to_string();
            let form = cell(0);
            if form.is_empty() {
                return Err(LexiconError::Row { line: i + 2, reason: "empty form".into() });
            }
            entries.push(Entry {
                variants: cell(1)
                    .split([',', '，', '、'])
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(String::from)
                    .collect(),
                form,
                standard: cell(2),
                category: cell(3),
                area: cell(4),
                confidence: cell(5),
                concepts: cell(6).split_whitespace().map(String::from).collect(),
                source: cell(7),
            });
        }
        Self::from_entries(entries)
    }

    /// Builds the folded patterns of `entries`, with the process's reading dictionary.
    pub fn from_entries(entries: Vec<Entry>) -> Result<Self, LexiconError> {
        Ok(Self::with_reader(entries, Reader::shared()?))
    }

    /// A lexicon of `entries` that reads with this one's dictionary (after a merge).
    pub fn with_entries(&self, entries: Vec<Entry>) -> Self {
        Self::with_reader(entries, Arc::clone(&self.reader))
    }

    fn with_reader(entries: Vec<Entry>, reader: Arc<Reader>) -> Self {
        let mut seen = BTreeSet::new();
        let mut patterns = Vec::new();
        for e in &entries {
            for concept in &e.concepts {
                for surface in std::iter::once(&e.form).chain(&e.variants) {
                    let key = fold_read(&reader, &strip_notes(surface)).replace('|', "");
                    if key.is_empty() || !seen.insert((key.clone(), concept.clone())) {
                        continue;
                    }
                    let one_kana = key.chars().count() == 1 && !key.chars().all(is_kanji);
                    let whole_only = is_bare_concept(concept) || one_kana;
                    patterns.push(Pattern { key, concept: concept.clone(), whole_only });
                }
            }
        }
        Self { entries, patterns, reader }
    }

    /// The folded key of `text` as said: kanji replaced by their kana readings, then
    /// `normalise::fold`. Lexicon forms and answers go through this same function.
    pub fn key(&self, text: &str) -> String {
        fold_read(&self.reader, text)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Writes the lexicon back as TSV (same columns), e.g. after merging corrections.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from("form\tvariants\tstandard\tcategory\tarea\tconfidence\tconcept\tsource\n");
        for e in &self.entries {
            let cells = [
                e.form.clone(),
                e.variants.join(", "),
                e.standard.clone(),
                e.category.clone(),
                e.area.clone(),
                e.confidence.clone(),
                e.concepts.join(" "),
                e.source.clone(),
            ];
            out.push_str(&cells.map(|c| c.replace(['\t', '\n'], " ")).join("\t"));
            out.push('\n');
        }
        out
    }

    /// Every substring concept hit in `folded` (a `normalise::fold` result).
    pub fn hits(&self, folded: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        for p in self.patterns.iter().filter(|p| !p.whole_only) {
            let mut from = 0;
            while let Some(pos) = folded[from..].find(&p.key) {
                let byte = from + pos;
                let start = folded[..byte].chars().count();
                let end = start + p.key.chars().count();
                hits.push(Hit { concept: p.concept.clone(), start, end, near: false });
                from = byte + p.key.len();
            }
        }
        hits.sort_by(|a, b| (a.start, b.end).cmp(&(b.start, a.end)));
        hits
    }

    /// Near misses in a short answer: a form of [`FUZZY_MIN_KEY`]+ folded characters
    /// found with one kana wrong, missing or extra, across clause boundaries, where the
    /// form itself was not found. A recogniser that never heard a dialect word spells
    /// it nearly right (おばんです as ほばんです, ねらんねがった as ねらねがった); longer
    /// texts are matched exactly only, which also keeps garbage input fast.
    pub fn fuzzy_hits(&self, folded: &str, exact: &[Hit]) -> Vec<Hit> {
        let chars: Vec<(usize, char)> = folded.chars().enumerate().filter(|(_, c)| *c != '|').collect();
        if chars.len() > FUZZY_MAX_TEXT {
            return Vec::new();
        }
        let text: Vec<char> = chars.iter().map(|(_, c)| *c).collect();
        let mut out: Vec<Hit> = Vec::new();
        for p in self.patterns.iter().filter(|p| !p.whole_only) {
            let key: Vec<char> = p.key.chars().collect();
            if key.len() < FUZZY_MIN_KEY || exact.iter().chain(&out).any(|h| h.concept == p.concept) {
                continue;
            }
            if let Some((start, end)) = one_edit_match(&key, &text) {
                let (start, end) = (chars[start].0, chars[end - 1].0 + 1);
                out.push(Hit { concept: p.concept.clone(), start, end, near: true });
            }
        }
        out
    }

    /// The bare-answer concept the whole utterance is, if it is one (んだ, んねっす, く, かね).
    pub fn bare(&self, folded: &str) -> Option<&str> {
        let core = strip_final_particles(&folded.replace('|', ""));
        if core.is_empty() {
            return None;
        }
        let bare = || self.patterns.iter().filter(|p| is_bare_concept(&p.concept) || p.whole_only);
        // A recogniser often drops the weak syllabic ん that opens an answer (んねっす as ねず).
        let with_n = format!("ん{core}");
        let same = |k: &str| k == core || !core.starts_with('ん') && k == with_n;
        let exact = bare().find(|p| same(&p.key) || same(&strip_final_particles(&p.key)));
        // A bare answer misheard by one kana (んだべした as んどべした), for longer forms only.
        let near = || {
            let core: Vec<char> = core.chars().collect();
            bare().find(|p| {
                let key: Vec<char> = p.key.chars().collect();
                key.len() >= FUZZY_MIN_KEY && within_one_edit(&key, &core)
            })
        };
        exact.or_else(near).map(|p| p.concept.as_str())
    }
}

/// Forms shorter than this are matched exactly only: one wrong kana in three is
/// another word.
pub const FUZZY_MIN_KEY: usize = 4;
/// Answers longer than this (folded characters) are matched exactly only.
pub const FUZZY_MAX_TEXT: usize = 16;

/// Whether `a` becomes `b` by at most one substitution, deletion or insertion.
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    if prefix == short.len() {
        return true; // equal, or one extra at the end
    }
    // Past the first difference: a substitution skips one of each, an insertion one of `long`.
    let skip = usize::from(short.len() == long.len());
    short[prefix + skip..] == long[prefix + 1..]
}

/// Where `key` occurs in `text` with exactly one substitution, deletion or insertion
/// (Sellers' approximate matching), as char offsets into `text`.
fn one_edit_match(key: &[char], text: &[char]) -> Option<(usize, usize)> {
    let m = key.len();
    // d[i] = edits to match key[..i] ending at the current text position; s[i] = start.
    let mut d: Vec<usize> = (0..=m).collect();
    let mut s: Vec<usize> = vec![0; m + 1];
    for (j, &t) in text.iter().enumerate() {
        let (mut diag, mut diag_s) = (0, j);
        d[0] = 0;
        s[0] = j + 1;
        for i in 1..=m {
            let (up, up_s) = (d[i], s[i]);
            let (sub, ins, del) = (diag + usize::from(key[i - 1] != t), up + 1, d[i - 1] + 1);
            let best = sub.min(ins).min(del);
            let start = if best == sub {
                diag_s
            } else if best == ins {
                up_s
            } else {
                s[i - 1]
            };
            (diag, diag_s) = (up, up_s);
            d[i] = best;
            s[i] = start;
        }
        if d[m] == 1 {
            return Some((s[m].min(j), j + 1));
        }
    }
    None
}

/// `text` read with `reader` (kanji to kana), then folded: see [`Lexicon::key`].
fn fold_read(reader: &Reader, text: &str) -> String {
    normalise::fold(&reader.kana(text))
}

/// Drops notes such as 「(庄内)」 and the 「～」 of endings from a written form.
fn strip_notes(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0u32;
    for c in s.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            '～' | '〜' => {}
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Sentence-final politeness and particles that do not change a bare answer
/// (んだっす = んだ, んねず = んね; folded forms).
pub fn strip_final_particles(folded: &str) -> String {
    let mut s = folded.to_string();
    for _ in 0..3 {
        let before = s.clone();
        // Folded forms (です → てす). 「ね」 is never stripped: it is the negation of んね.
        for tail in ["なす", "てす", "す", "よ", "は", "な", "の", "わ", "か"] {
            if s.chars().count() > tail.chars().count() + 1 && s.ends_with(tail) {
                s.truncate(s.len() - tail.len());
                break;
            }
        }
        if s == before {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_matches_are_found_in_short_answers_only() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(one_edit_match(&c("おはてす"), &c("ほはてす")), Some((0, 4)));
        assert_eq!(one_edit_match(&c("ねらんね"), &c("ゆんへねらねかた")), Some((3, 6)));
        assert_eq!(one_edit_match(&c("おはてす"), &c("あかさた")), None);
        assert!(within_one_edit(&c("んたへすた"), &c("んとへすた")));
        assert!(within_one_edit(&c("んたへすた"), &c("んたへすたた")));
        assert!(within_one_edit(&c("んたへすた"), &c("んたへすた")));
        assert!(!within_one_edit(&c("んたへすた"), &c("んとへすと")));
        let lex = Lexicon::load_default().unwrap();
        let folded = normalise::fold("ほばんです。");
        let hits = lex.fuzzy_hits(&folded, &lex.hits(&folded));
        assert!(hits.iter().any(|h| h.concept == "greeting"), "{hits:?}");
        let exact = normalise::fold("おばんです。");
        let found = lex.hits(&exact);
        assert!(lex.fuzzy_hits(&exact, &found).iter().all(|h| h.concept != "greeting"), "found once");
        let long = normalise::fold(&"ほばんです".repeat(10));
        assert!(lex.fuzzy_hits(&long, &[]).is_empty(), "long texts are matched exactly only");
    }

    #[test]
    fn the_shipped_lexicon_parses_and_finds_folded_forms() {
        let lex = Lexicon::load_default().unwrap();
        assert!(lex.entries().len() >= 193);
        let hits = lex.hits(&normalise::fold("コスいだくて"));
        assert!(hits.iter().any(|h| h.concept == "body:腰"));
        assert!(hits.iter().any(|h| h.concept == "pain"));
        assert_eq!(lex.bare(&normalise::fold("んだっす。")), Some("yes"));
        assert_eq!(lex.bare(&normalise::fold("んねっす")), Some("no"));
        assert_eq!(lex.bare(&normalise::fold("く。")), Some("bare:eat_yes"));
        assert_eq!(lex.bare(&normalise::fold("ねず、")), Some("no"), "the opening ん unheard");
        assert_eq!(lex.bare(&normalise::fold("んどべした")), Some("yes"), "one kana misheard");
    }
}
