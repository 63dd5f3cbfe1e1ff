//! Benchmark of the kiosk's budgets (DESIGN.md §6), printed side by side with them:
//! cold start to the idle screen (≤ 3 s), memory with the model loaded (≤ 500 MB RSS),
//! and the resident's last word → first sound of the reply (≤ 1.5 s median), the
//! latter through the real endpointer, Whisper, dialect understanding and Open JTalk,
//! with synthesised answers fed at the speed of speech.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use care::dialogue::QuestionId;
use kiosk::speech::{AudioIn, AudioOut, SpeechCommand, SpeechConfig, SpeechReport, SpeechWorker};

const ANSWERS: [&str; 8] = [
    "元気です",
    "んだ",
    "よく眠れました",
    "腰が痛い",
    "だいじょうぶ",
    "こわいです",
    "ごはんはおいしい",
    "はい",
];
const REPLY: &str = "昨夜は、よく眠れましたか？";

fn main() {
    let kiosk = env!("CARGO_BIN_EXE_kiosk");
    let xvfb = tests::Xvfb::start().expect("Xvfb for the window");
    let mut starts = vec![];
    for _ in 0..5 {
        starts.push(cold_start(kiosk, &xvfb));
    }
    starts.sort();
    let model = dialect_model::model::ModelPaths::default().ggml_q8_0();
    let rss = rss_with_model(kiosk, xvfb.display());
    let replies = reply_latencies(&model, true);
    let full_wait = reply_latencies(&model, false);
    let median = |v: &[Duration]| v[v.len() / 2].as_secs_f64();
    println!(
        "kiosk budgets (this machine, {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  cold start → idle screen     median {:.2} s  (budget ≤ 3 s; {} runs)",
        median(&starts),
        starts.len()
    );
    println!("  RSS with the model loaded    {:.0} MB (peak {:.0} MB)  (budget ≤ 500 MB)", rss.0, rss.1);
    println!(
        "  last word → first sound      median {:.2} s, max {:.2} s  (budget ≤ 1.0 s for complete answers; {} short answers, semantic end after a 0.6 s pause)",
        median(&replies),
        replies.last().map_or(0.0, |d| d.as_secs_f64()),
        replies.len()
    );
    println!(
        "  last word → first sound      median {:.2} s, max {:.2} s  (budget ≤ 1.5 s; {} answers, the full 1.2 s end-of-speech wait)",
        median(&full_wait),
        full_wait.last().map_or(0.0, |d| d.as_secs_f64()),
        full_wait.len()
    );
}

/// The kiosk binary on the Xvfb display with its log on a pipe.
fn spawn_kiosk(kiosk: &str, display: &str, dir: &std::path::Path, args: &[&str]) -> std::process::Child {
    Command::new(kiosk)
        .args(args)
        .arg("--db")
        .arg(dir.join("k.sqlite"))
        .env("DISPLAY", display)
        .env("SLINT_BACKEND", "winit-software")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Spawns the kiosk (no voice) and times until its window is on the X server and
/// it logs that the idle screen is shown, whichever is later.
fn cold_start(kiosk: &str, xvfb: &tests::Xvfb) -> Duration {
    let display = xvfb.display();
    let db = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = spawn_kiosk(kiosk, display, db.path(), &["--no-voice", "--exit-after", "1"]);
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    use std::io::BufRead as _;
    let mut logged = None;
    let mut lines = reader.lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("idle screen shown") {
            logged = Some(started.elapsed());
            break;
        }
    }
    let logged = logged.expect("the kiosk showed the idle screen");
    while !xvfb.has_window("見守り") {
        assert!(started.elapsed() < Duration::from_secs(30), "the window never mapped");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mapped = started.elapsed();
    lines.for_each(drop);
    let _ = child.wait();
    logged.max(mapped)
}

/// Starts the kiosk with the Whisper model and reads its memory once the speech
/// worker reports ready: (current RSS, peak RSS) in MB.
fn rss_with_model(kiosk: &str, display: &str) -> (f64, f64) {
    let db = tempfile::tempdir().unwrap();
    let mut child = spawn_kiosk(
        kiosk,
        display,
        db.path(),
        &["--no-speaker", "--microphone", "none", "--exit-after", "30"],
    );
    let pid = child.id();
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    use std::io::BufRead as _;
    for line in reader.lines() {
        let line = line.unwrap();
        if line.contains("speech worker ready") {
            assert!(line.contains("recogniser=true"), "the model loaded: {line}");
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = |key: &str| -> f64 {
        let line = status.lines().find(|l| l.starts_with(key)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap()
    };
    let figures = (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0);
    let _ = child.kill();
    let _ = child.wait();
    figures
}

/// Feeds each synthesised answer in real time and times from its end to the reply's
/// first sound being ready to play.
fn reply_latencies(model: &std::path::Path, semantic_end: bool) -> Vec<Duration> {
    let clips = tempfile::tempdir().unwrap();
    let tts = dialect_model::tts::OpenJTalk { speed: 0.8, ..Default::default() };
    let files: Vec<_> = ANSWERS
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let s = tts.synthesize(text).unwrap();
            let path = clips.path().join(format!("{i}.wav"));
            dialect_model::tts::write_wav(&path, &s.samples, s.sample_rate).unwrap();
            path
        })
        .collect();
    // Warm the reply's cache entry, as the kiosk's fixed prompts are.
    let _ = dialect_model::tts::OpenJTalk::default().synthesize(REPLY);
    let (tx, rx) = mpsc::channel();
    let mut config = SpeechConfig::new(
        Some(model.to_path_buf()),
        AudioIn::Files { files: files.into(), realtime: true },
        AudioOut::Silent { paced: false },
    );
    if !semantic_end {
        config.semantic_end = None;
    }
    let worker = SpeechWorker::spawn(config, move |r| {
        let _ = tx.send(r);
    });
    let mut out = vec![];
    for _ in ANSWERS {
        worker.send(SpeechCommand::Listen(QuestionId::HowFeeling));
        loop {
            match rx.recv_timeout(Duration::from_secs(60)).expect("the worker answers") {
                SpeechReport::Heard(_) => {
                    worker.send(SpeechCommand::Say { lines: vec![REPLY.into()], slow: false })
                }
                SpeechReport::ReplyLatency(d) => {
                    out.push(d);
                    break;
                }
                SpeechReport::Silence => break,
                _ => {}
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no answer was heard");
    out
}
