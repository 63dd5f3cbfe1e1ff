//! `eval` and `bench`: the recogniser's accuracy, speed and memory, ours beside faster-whisper.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use dialect_model::eval::{self, ClipResult, Variant};
use dialect_model::model::{self, ModelPaths};
use dialect_model::vad::{self, VadConfig};

use crate::ModelArgs;

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

pub(crate) fn report_json(results: &[ClipResult]) -> serde_json::Value {
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

pub(crate) fn print_table(results: &[ClipResult]) {
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

pub(crate) fn bench(tsv: &Path, column: &str, args: &ModelArgs) -> anyhow::Result<()> {
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
    let ct2 = ModelPaths::cache().ct2_dir();
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
