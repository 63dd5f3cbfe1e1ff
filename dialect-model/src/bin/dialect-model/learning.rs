//! `learn` and `retrain`: the dictionary learnt again from staff corrections.

use std::path::Path;

use anyhow::Context as _;
use dialect_model::intent::Understander;
use dialect_model::learn::{self, Split};

pub(crate) fn learn_loop(corrections: &Path, dev: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(corrections).with_context(|| format!("reading {}", corrections.display()))?;
    let corrections = learn::parse_corrections(&corrections.display().to_string(), &text)?;
    let heldout = learn::select(&learn::load_examples(dev)?, Split::Heldout);
    let before = Understander::load_default()?;
    let examples = learn::load_examples(&learn::examples_path())?;
    let (lexicon, examples) = learn::merge(&before.lexicon, &examples, &corrections);
    // The shipped model learns from the examples (with the corrections) and the corpus.
    let corpus = dialect_model::corpus::load(&dialect_model::corpus::dir())?;
    let everything: Vec<_> = examples.iter().cloned().chain(corpus.into_iter().map(|r| r.example)).collect();
    let model = learn::train_for_shipping(&lexicon, &everything)?;
    let after = Understander { lexicon, model, danger: before.danger.clone() };
    let (b, a) = (learn::evaluate(&before, &heldout), learn::evaluate(&after, &heldout));
    out!("held-out accuracy before {:.3} after {:.3} ({} rows)", b.accuracy(), a.accuracy(), heldout.len());
    let fixed =
        corrections.iter().filter(|c| after.understand(&c.text, c.question).intent == c.intent).count();
    out!("corrections now understood: {fixed}/{}", corrections.len());
    std::fs::write(learn::examples_path(), learn::examples_tsv(&examples))?;
    std::fs::write(dialect_model::lexicon::default_path(), after.lexicon.to_tsv())?;
    std::fs::write(dialect_model::classifier::model_path(), after.model.to_tsv())?;
    Ok(())
}

/// `retrain`: true when the new bundle was written.
pub(crate) fn retrain(
    corrections: &Path,
    base: Option<&Path>,
    version: u32,
    out: &Path,
) -> anyhow::Result<bool> {
    let read = |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let corrections = learn::parse_corrections(&corrections.display().to_string(), &read(corrections)?)?;
    let base = match base {
        Some(path) => learn::open_bundle(&read(path)?).with_context(|| format!("{}", path.display()))?.1,
        None => Understander::load_default()?,
    };
    let dev = dialect_model::data::path("dialect/dev/utterances-dev.tsv");
    let dev_heldout = learn::select(&learn::load_examples(&dev)?, Split::Heldout);
    let examples = learn::load_examples(&learn::examples_path())?;
    let corpus: Vec<_> =
        dialect_model::corpus::load(&dialect_model::corpus::dir())?.into_iter().map(|r| r.example).collect();
    let (after, outcome) =
        dialect_model::retrain::retrain(&base, &examples, &corpus, &dev_heldout, &corrections)?;
    if outcome.accepted() {
        // Written whole or not at all: a reader never sees half a bundle.
        let partial = out.with_extension("partial");
        std::fs::write(&partial, learn::bundle(version, &after))
            .with_context(|| format!("{}", partial.display()))?;
        std::fs::rename(&partial, out).with_context(|| format!("{}", out.display()))?;
    }
    out!("{outcome}");
    Ok(outcome.accepted())
}
