//! Retraining from staff corrections with a guard: the new dictionary is kept only
//! when it reads answers it never trained on at least as well as the one the tablets
//! use now, and flags at least as many of the critical ones.
//!
//! The comparison set is the research dev set's held-out third (never trained on by
//! either side) plus one correction in four (chosen by a hash of its text, so a
//! correction stays on its side as more are added), which only the new model could
//! have learnt from and so measures whether it generalises rather than memorises.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::intent::Understander;
use crate::learn::{self, Correction, Example, LearnError, Report};

/// What a retraining found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub before: Report,
    pub after: Report,
    pub corrections: usize,
    /// Corrections kept out of training and compared on.
    pub heldout_corrections: usize,
    /// Of the corrections trained on, how many the new model reads as corrected (a
    /// check that they were learnt, not an accuracy).
    pub learnt: usize,
}

impl Outcome {
    /// A dictionary that reads fewer held-out answers right, or flags fewer critical
    /// ones, is worse and is refused.
    pub fn accepted(&self) -> bool {
        self.after.correct >= self.before.correct
            && self.after.critical_flagged >= self.before.critical_flagged
    }
}

/// The one-line summary `dialect-model retrain` ends with, `key=value` pairs that the
/// office server reads.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (b, a) = (&self.before, &self.after);
        write!(
            f,
            "retrain: accepted={} heldout={} before={} after={} critical={} before_critical={} after_critical={} \
             calm={} before_false_alarms={} after_false_alarms={} corrections={} heldout_corrections={} learnt={}",
            if self.accepted() { "yes" } else { "no" },
            b.rows,
            b.correct,
            a.correct,
            b.critical_rows,
            b.critical_flagged,
            a.critical_flagged,
            b.calm_rows,
            b.false_alarms,
            a.false_alarms,
            self.corrections,
            self.heldout_corrections,
            self.learnt,
        )
    }
}

/// Is this correction one of those kept out of training?
pub fn is_heldout(c: &Correction) -> bool {
    Sha256::digest(format!("{}|{}", c.text, c.question).as_bytes())[0] % 4 == 0
}

/// Trains a new understander on `training` (the shipped examples and the corpus) with
/// the training share of `corrections`, on `base`'s lexicon and danger ontology, and
/// compares it with `base` on `dev_heldout` plus the held-out corrections.
pub fn retrain(
    base: &Understander,
    examples: &[Example],
    corpus: &[Example],
    dev_heldout: &[Example],
    corrections: &[Correction],
) -> Result<(Understander, Outcome), LearnError> {
    let (heldout, train): (Vec<&Correction>, Vec<&Correction>) =
        corrections.iter().partition(|c| is_heldout(c));
    let train: Vec<Correction> = train.into_iter().cloned().collect();
    let (lexicon, examples) = learn::merge(&base.lexicon, examples, &train);
    let everything: Vec<Example> = examples.iter().chain(corpus).cloned().collect();
    let model = learn::train_for_shipping(&lexicon, &everything)?;
    let after = Understander { lexicon, model, danger: base.danger.clone() };
    let mut compare = dev_heldout.to_vec();
    compare.extend(heldout.iter().map(|c| Example {
        id: format!("correction:{}", c.corrected_at),
        text: c.text.clone(),
        question: c.question,
        intent: c.intent,
        body_part: c.body_part,
        source: "correction".into(),
    }));
    let learnt = train.iter().filter(|c| after.understand(&c.text, c.question).intent == c.intent).count();
    let outcome = Outcome {
        before: learn::evaluate(base, &compare),
        after: learn::evaluate(&after, &compare),
        corrections: corrections.len(),
        heldout_corrections: heldout.len(),
        learnt,
    };
    Ok((after, outcome))
}
