//! The intent classifier: the features of an analysed answer and a softmax model
//! over them (`assets/dialect/model.tsv`). Training it is `learn`'s job; using it is
//! `intent`'s.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use vocab::{Intent, Question};

use crate::analysis::{Analysis, negated};

/// The trained weights shipped with the product.
pub fn model_path() -> std::path::PathBuf {
    crate::data::path("dialect/model.tsv")
}

const MODEL_MAGIC: &str = "# mimamori dialect intent model v1";

/// Why a model file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("model file: {0}")]
    Bad(String),
}

/// Classifier features of an analysed answer to `question`: character 1–3-grams of the
/// folded text, lexicon concepts (with `~neg` when negated in their clause), the
/// bare-answer kind, and the question with each concept (an answer to 「よく眠れまし
/// たか」 is most likely about sleep, whatever words it uses).
pub fn features(a: &Analysis, question: Question) -> Vec<String> {
    let mut f = vec!["^bias".to_string(), format!("?{question}")];
    let chars: Vec<char> = std::iter::once('^').chain(a.folded.chars()).chain(std::iter::once('$')).collect();
    for n in 1..=3 {
        for w in chars.windows(n) {
            f.push(w.iter().collect());
        }
    }
    let main_start =
        a.folded.chars().collect::<Vec<_>>().iter().rposition(|&c| c == '|').map_or(0, |p| p + 1);
    for h in &a.hits {
        let neg = if negated(&a.folded, h) { "~neg" } else { "" };
        // Lexicon knowledge counts more than any one character n-gram: three copies.
        for copy in ["", "/2", "/3"] {
            f.push(format!("#{}{neg}{copy}", h.concept));
        }
        // The last clause usually carries the answer (「こわくて、体操すねっけ」).
        if h.start >= main_start {
            f.push(format!("#{}{neg}@main", h.concept));
        }
        f.push(format!("#{}{neg}?{question}", h.concept));
    }
    if let Some(b) = &a.bare {
        f.push(format!("@{b}"));
    }
    f.sort();
    f.dedup();
    f
}

/// A softmax classifier over `Intent::ALL`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) weights: HashMap<String, Vec<f32>>,
    /// sha256 of the lexicon and examples it was trained from.
    pub inputs_sha256: String,
    /// The recogniser's initial prompt that goes with this model (a copy of
    /// [`asr_prompt_path`] made by `dialect-model train`; empty in older models).
    pub asr_prompt: String,
}

impl Model {
    /// Class probabilities, in `Intent::ALL` order.
    pub fn predict(&self, features: &[String]) -> Vec<f32> {
        let mut z = vec![0.0f32; Intent::ALL.len()];
        for f in features {
            if let Some(w) = self.weights.get(f) {
                for (zi, wi) in z.iter_mut().zip(w) {
                    *zi += wi;
                }
            }
        }
        softmax(&mut z);
        z
    }

    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ModelError::Read { path: path.display().to_string(), source })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, ModelError> {
        let mut lines = text.lines();
        if lines.next() != Some(MODEL_MAGIC) {
            return Err(ModelError::Bad("not a mimamori dialect model".into()));
        }
        let sha = lines
            .next()
            .and_then(|l| l.strip_prefix("# inputs-sha256\t"))
            .ok_or_else(|| ModelError::Bad("no inputs-sha256 line".into()))?
            .to_string();
        let mut next = lines.next();
        // Optional (models before it had none): the recogniser prompt.
        let asr_prompt = match next.and_then(|l| l.strip_prefix("# asr-prompt\t")) {
            Some(p) => {
                next = lines.next();
                p.to_string()
            }
            None => String::new(),
        };
        let classes: Vec<&str> = next.unwrap_or("").split('\t').skip(1).collect();
        let expected: Vec<&str> = Intent::ALL.iter().map(|i| i.key()).collect();
        if classes != expected {
            return Err(ModelError::Bad(format!("classes {classes:?} are not {expected:?}")));
        }
        let mut weights = HashMap::new();
        for (i, line) in lines.enumerate() {
            let mut cells = line.split('\t');
            let name = cells.next().unwrap_or("").to_string();
            let w: Result<Vec<f32>, _> = cells.map(str::parse::<f32>).collect();
            match w {
                Ok(w) if w.len() == expected.len() => {
                    weights.insert(name, w);
                }
                _ => return Err(ModelError::Bad(format!("bad weight row {}", i + 4))),
            }
        }
        Ok(Self { weights, inputs_sha256: sha, asr_prompt })
    }

    /// The model file: header, class row, then one row per feature (sorted, 4 decimals).
    pub fn to_tsv(&self) -> String {
        let mut out = format!("{MODEL_MAGIC}\n# inputs-sha256\t{}\n", self.inputs_sha256);
        if !self.asr_prompt.is_empty() {
            let _ = writeln!(out, "# asr-prompt\t{}", self.asr_prompt.replace(['\t', '\n'], " "));
        }
        out.push_str("classes");
        for i in Intent::ALL {
            let _ = write!(out, "\t{i}");
        }
        out.push('\n');
        let sorted: BTreeMap<_, _> = self.weights.iter().collect();
        for (name, w) in sorted {
            out.push_str(name);
            for x in w {
                let _ = write!(out, "\t{x:.4}");
            }
            out.push('\n');
        }
        out
    }
}

pub(crate) fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in z.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in z.iter_mut() {
        *x /= sum;
    }
}
