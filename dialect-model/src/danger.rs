//! The danger ontology (`assets/dialect/danger.tsv`): concepts that make any answer
//! critical whatever the classifier says (recall first), each with standard and dialect
//! forms, and the near-miss cues that keep talk *about* a danger (a fire on television,
//! a fall last winter, a stove that was mended) from calling anyone out.
//!
//! A form is one or more parts, `A…B`: A, then B starting within [`WINDOW`] characters
//! of A's end. Each form is tried on the text as written ([`normalise::surface`]) and,
//! when its folded key is long enough not to collide with everyday words, on the folded
//! key ([`Lexicon::key`]): 痛い finds いだい, but 火事 (folded かす) never finds おかず.
//! A hit directly followed by a plain negation (倒れねように) is not a danger. A hit is a
//! near miss when the answer holds one of the concept's own `unless` cues, when its clause
//! holds a `*` cue (television, last winter, 死ぬほど), or when its clause or a later one
//! holds a `+` cue, a trouble resolved (直った, 届いだ): the last clause wins.

use std::path::Path;

use crate::lexicon::Lexicon;
use crate::normalise;
use vocab::{Danger, Intent};

/// The ontology shipped with the product.
pub fn default_path() -> std::path::PathBuf {
    crate::data::path("dialect/danger.tsv")
}

/// How far (characters) a form's next part may start after the previous part's end.
pub const WINDOW: usize = 16;

/// A form is also matched on the folded key only when its parts fold to at least this
/// many characters in all, and each to at least two: shorter folded keys are everyday
/// words (かす, いき), and a one-kana part (ねっ → ね) is in every other word.
const MIN_FOLDED: usize = 4;

/// Whether folded `parts` are long enough to be matched on the folded key.
fn folded_ok(parts: &[Vec<char>]) -> bool {
    parts.iter().map(Vec::len).sum::<usize>() >= MIN_FOLDED && parts.iter().all(|p| p.len() >= 2)
}

/// Why the ontology could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OntologyError {
    #[error("cannot read danger ontology {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("danger ontology header lacks column {0:?}")]
    MissingColumn(&'static str),
    #[error("danger ontology line {line}: {reason}")]
    Row { line: usize, reason: String },
}

/// One form: its parts as written and as folded.
#[derive(Debug, Clone)]
struct Form {
    surface: Vec<Vec<char>>,
    folded: Vec<Vec<char>>,
    /// `=かじ`: only the whole answer (a one-word cry), never inside other words.
    whole: bool,
}

#[derive(Debug, Clone)]
struct Concept {
    danger: Danger,
    kind: Intent,
    forms: Vec<Form>,
    unless: Vec<Form>,
}

/// The parsed ontology, ready to match.
#[derive(Debug, Clone)]
pub struct Ontology {
    text: String,
    concepts: Vec<Concept>,
    near_miss: Vec<Form>,
    resolved: Vec<Form>,
}

/// A danger found in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DangerHit {
    pub danger: Danger,
    /// `Emergency` or `NeedHelp`.
    pub kind: Intent,
    /// The clause (0-based, by punctuation) it was found in.
    pub clause: usize,
}

impl Ontology {
    /// The product ontology, its forms folded with `lexicon`'s reading dictionary.
    pub fn load_default(lexicon: &Lexicon) -> Result<Self, OntologyError> {
        Self::load(&default_path(), lexicon)
    }

    pub fn load(path: &Path, lexicon: &Lexicon) -> Result<Self, OntologyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| OntologyError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text, lexicon)
    }

    /// Parses ontology TSV (header row `danger kind forms unless sources`; `#` lines are notes).
    pub fn parse(text: &str, lexicon: &Lexicon) -> Result<Self, OntologyError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
        let header: Vec<&str> =
            lines.next().map_or(Vec::new(), |(_, l)| l.split('\t').map(str::trim).collect());
        let col = |name: &'static str| {
            header.iter().position(|h| *h == name).ok_or(OntologyError::MissingColumn(name))
        };
        let (c_danger, c_kind, c_forms, c_unless) =
            (col("danger")?, col("kind")?, col("forms")?, col("unless")?);
        let mut concepts: Vec<Concept> = Vec::new();
        let (mut near_miss, mut resolved) = (Vec::new(), Vec::new());
        for (i, line) in lines {
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            let cell = |c: usize| cells.get(c).copied().unwrap_or("");
            let row = |reason: String| OntologyError::Row { line: i + 1, reason };
            let forms = parse_forms(cell(c_forms), lexicon);
            match cell(c_danger) {
                "*" => {
                    near_miss.extend(forms);
                    continue;
                }
                "+" => {
                    resolved.extend(forms);
                    continue;
                }
                _ => {}
            }
            let danger: Danger =
                cell(c_danger).parse().map_err(|e: vocab::UnknownName| row(e.to_string()))?;
            let kind = match cell(c_kind) {
                "emergency" => Intent::Emergency,
                "need_help" => Intent::NeedHelp,
                other => return Err(row(format!("kind must be emergency or need_help, not {other:?}"))),
            };
            if forms.is_empty() {
                return Err(row(format!("{danger} has no forms")));
            }
            let unless = parse_forms(cell(c_unless), lexicon);
            match concepts.iter_mut().find(|c| c.danger == danger) {
                // A concept may take several rows (a town adds forms on a row of its own).
                Some(c) if c.kind == kind => {
                    c.forms.extend(forms);
                    c.unless.extend(unless);
                }
                Some(_) => return Err(row(format!("{danger} is given two kinds"))),
                None => concepts.push(Concept { danger, kind, forms, unless }),
            }
        }
        Ok(Self { text: text.to_owned(), concepts, near_miss, resolved })
    }

    /// The file as read (what a bundle carries).
    pub fn to_tsv(&self) -> &str {
        &self.text
    }

    /// The dangers `text` names (once each, in ontology order), near misses left out.
    pub fn find(&self, text: &str, lexicon: &Lexicon) -> Vec<DangerHit> {
        let capped: String = text.chars().take(crate::analysis::MAX_CHARS).collect();
        let views = views(&capped, lexicon);
        let mut out = Vec::new();
        for c in &self.concepts {
            if views.iter().any(|(hay, folded)| !find_any(hay, &c.unless, *folded).is_empty()) {
                continue;
            }
            let found = views.iter().find_map(|(hay, folded)| {
                c.forms.iter().find_map(|f| {
                    let parts = if *folded { &f.folded } else { &f.surface };
                    if f.whole {
                        return (!*folded && is_whole(hay, parts)).then_some(0);
                    }
                    if *folded && !folded_ok(parts) {
                        return None;
                    }
                    spans(hay, parts)
                        .into_iter()
                        .find(|&(start, end)| {
                            !negated_after(hay, end, parts) && !self.calm_at(&views, hay, start)
                        })
                        .map(|(start, _)| clause_of(hay, start))
                })
            });
            if let Some(clause) = found {
                out.push(DangerHit { danger: c.danger, kind: c.kind, clause });
            }
        }
        out
    }

    /// Whether danger words in clause `clause` of `text` are talk about a danger, not
    /// one: a `*` cue in that clause, or a `+` cue (resolved) in it or a later one.
    /// The lexicon's own danger words answer to this too.
    pub fn is_calm(&self, text: &str, lexicon: &Lexicon, clause: usize) -> bool {
        let capped: String = text.chars().take(crate::analysis::MAX_CHARS).collect();
        let views = views(&capped, lexicon);
        views.iter().any(|(hay, _)| clause_start(hay, clause).is_some_and(|at| self.calm_at(&views, hay, at)))
    }

    /// [`Self::is_calm`] for the clause holding `at` in `hay`, one of `views`; the
    /// clause index carries over to the other view (both split on the same punctuation).
    fn calm_at(&self, views: &[(Vec<char>, bool); 2], hay: &[char], at: usize) -> bool {
        let clause = clause_of(hay, at);
        views.iter().any(|(h, folded)| {
            let Some(start) = clause_start(h, clause) else { return false };
            clause_has(h, start, &self.near_miss, *folded)
                || framed_by(h, start, &self.near_miss, *folded)
                || find_any(&h[start..], &self.resolved, *folded)
                    .into_iter()
                    .any(|(at, _)| !after_until(&h[start..start + at], *folded))
        })
    }
}

/// Whether the clause before the one starting at `start` is only its frame: it ends in
/// a near-miss cue and at most a particle (「テレビで、寒河江で火事あったって」), so it
/// says where the next clause happens. 「テレビ見でだら、台所から煙」 ends in a verb and
/// frames nothing.
fn framed_by(hay: &[char], start: usize, cues: &[Form], folded: bool) -> bool {
    let Some(bar) = start.checked_sub(1).filter(|&b| hay.get(b) == Some(&'|')) else { return false };
    let prev_start = hay[..bar].iter().rposition(|&c| c == '|').map_or(0, |p| p + 1);
    let prev = &hay[prev_start..bar];
    let particles: &[char] = if folded {
        &['て', 'の', 'さ', 'に', 'は', 'も']
    } else {
        &['で', 'の', 'さ', 'に', 'は', 'も']
    };
    find_any(prev, cues, folded)
        .into_iter()
        .any(|(_, end)| end == prev.len() || (end + 1 == prev.len() && particles.contains(&prev[end])))
}

/// Whether `before` ends in "until" (までは, まで): 「ゆんべまでは何ともねがった」 says
/// when the trouble began, not that it is over.
fn after_until(before: &[char], folded: bool) -> bool {
    let until: &[char] = if folded { &['ま', 'て'] } else { &['ま', 'で'] };
    let tail = &before[before.len().saturating_sub(4)..];
    tail.windows(2).any(|w| w == until)
}

/// The answer as written and as folded, as `(characters, folded?)`.
fn views(text: &str, lexicon: &Lexicon) -> [(Vec<char>, bool); 2] {
    [(normalise::surface(text).chars().collect(), false), (lexicon.key(text).chars().collect(), true)]
}

/// Which clause (by `|`) position `at` is in.
fn clause_of(hay: &[char], at: usize) -> usize {
    hay[..at].iter().filter(|&&c| c == '|').count()
}

/// Spans of any of `forms` in `hay` (folded forms too short to be safe are skipped).
fn find_any(hay: &[char], forms: &[Form], folded: bool) -> Vec<(usize, usize)> {
    forms
        .iter()
        .flat_map(|f| {
            let parts = if folded { &f.folded } else { &f.surface };
            if folded && !folded_ok(parts) { Vec::new() } else { spans(hay, parts) }
        })
        .collect()
}

/// Whether the whole answer is the one-part form, with at most a final だ, よ, っ or ー.
fn is_whole(hay: &[char], parts: &[Vec<char>]) -> bool {
    let [part] = parts else { return false };
    let said: String = hay.iter().filter(|&&c| c != '|').collect();
    let core = said.trim_end_matches(['だ', 'よ', 'っ', 'ー', 'ぁ', 'あ', '!', '！']);
    core.chars().eq(part.iter().copied())
}

/// `A, B…C` → forms (`=A`: the whole answer only); each part as written (kana made hiragana) and folded.
fn parse_forms(cell: &str, lexicon: &Lexicon) -> Vec<Form> {
    cell.split([',', '，', '、'])
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .filter_map(|f| {
            let (whole, f) = match f.strip_prefix('=') {
                Some(rest) => (true, rest.trim()),
                None => (false, f),
            };
            let parts: Vec<&str> = f.split(['…', '+']).map(str::trim).filter(|p| !p.is_empty()).collect();
            let surface: Vec<Vec<char>> =
                parts.iter().map(|p| normalise::surface(p).chars().collect()).collect();
            let folded: Vec<Vec<char>> =
                parts.iter().map(|p| lexicon.key(p).replace('|', "").chars().collect()).collect();
            (!parts.is_empty()
                && surface.iter().all(|p| !p.is_empty())
                && folded.iter().all(|p| !p.is_empty()))
            .then_some(Form { surface, folded, whole })
        })
        .collect()
}

/// Every span where the parts occur in order, each within [`WINDOW`] of the last.
fn spans(hay: &[char], parts: &[Vec<char>]) -> Vec<(usize, usize)> {
    let Some((first, rest)) = parts.split_first() else { return Vec::new() };
    let mut out = Vec::new();
    for start in occurrences(hay, first, 0, hay.len()) {
        let mut end = start + first.len();
        let mut ok = true;
        for p in rest {
            let limit = (end + WINDOW + p.len()).min(hay.len());
            match occurrences(hay, p, end, limit).first() {
                Some(&at) => end = at + p.len(),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            out.push((start, end));
        }
    }
    out
}

/// Starts of `needle` in `hay[from..to]`.
fn occurrences(hay: &[char], needle: &[char], from: usize, to: usize) -> Vec<usize> {
    if needle.is_empty() || to > hay.len() || to < from + needle.len() {
        return Vec::new();
    }
    (from..=to - needle.len()).filter(|&i| hay[i..i + needle.len()] == *needle).collect()
}

/// A plain negation right after the hit (倒れねように, 火事でねえ), unless the form
/// itself ends in a negation or a ‑て (助けてね is a plea), or the negation is a
/// question tag (火事でねが？ is a tentative yes).
fn negated_after(hay: &[char], end: usize, parts: &[Vec<char>]) -> bool {
    let last = parts.last().and_then(|p| p.last()).copied();
    if matches!(last, Some('ね' | 'い' | 'て' | 'で')) {
        return false;
    }
    // 火事では/でも/もして ねえ: particles and a light する may stand between.
    let next: String = hay[end..].iter().take(6).collect();
    let next = next.trim_start_matches(['で', 'て', 'は', 'わ', 'も', 'が']);
    let next = next.strip_prefix("して").or_else(|| next.strip_prefix("しで")).unwrap_or(next);
    let negation = next.starts_with('ね')
        || ["ない", "なえ", "なく", "なぐ", "なか", "なが"].iter().any(|n| next.starts_with(n));
    let question = ["ねが", "ねか", "ねべ", "ねへ", "ねえが", "ねいか"].iter().any(|q| next.starts_with(q));
    negation && !question
}

/// Whether any of `cues` occurs in the clause that holds position `at`.
fn clause_has(hay: &[char], at: usize, cues: &[Form], folded: bool) -> bool {
    if cues.is_empty() {
        return false;
    }
    let start = hay[..at].iter().rposition(|&c| c == '|').map_or(0, |p| p + 1);
    let end = hay[at..].iter().position(|&c| c == '|').map_or(hay.len(), |p| at + p);
    !find_any(&hay[start..end], cues, folded).is_empty()
}

/// Where clause `n` starts in `hay`.
fn clause_start(hay: &[char], n: usize) -> Option<usize> {
    if n == 0 {
        return Some(0);
    }
    hay.iter().enumerate().filter(|(_, c)| **c == '|').nth(n - 1).map(|(i, _)| i + 1)
}
