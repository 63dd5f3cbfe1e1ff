//! `kiosk`: the resident tablet app. Thin: arguments, logging, window, workers, run.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use kiosk::app::{App, Options, Report, Reporter};
use kiosk::speech::{AudioIn, AudioOut, SpeechConfig};
use slint::ComponentHandle as _;

/// The mimamori resident tablet.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// The local store (SQLite), created on first start.
    #[arg(long, default_value = "kiosk.sqlite")]
    db: PathBuf,
    /// The welfare office's server (e.g. http://127.0.0.1:8080); none = offline only.
    #[arg(long)]
    server: Option<reqwest::Url>,
    /// CA certificates (PEM) the office's TLS certificate may chain to, besides the
    /// public web's roots: a town's own CA.
    #[arg(long, value_name = "FILE", requires = "server")]
    office_ca: Option<PathBuf>,
    /// Seconds between syncs while online.
    #[arg(long, default_value_t = 30)]
    sync_poll_secs: u64,
    /// The Whisper model (ggml); defaults to the one `dialect-model fetch-model` made.
    #[arg(long)]
    model: Option<PathBuf>,
    /// No voice recognition: answers by button only.
    #[arg(long)]
    no_voice: bool,
    /// Answers from these WAV files, one per question, instead of a microphone.
    #[arg(long, value_delimiter = ',')]
    audio_in: Vec<PathBuf>,
    /// A scripted resident: one answer per line, synthesised with Open JTalk and fed
    /// through the real listening and recognition path at the speed of speech (demos);
    /// a line `…` is a turn she lets pass in silence.
    #[arg(long)]
    scripted_resident: Option<PathBuf>,
    /// Enrol this tablet with the office's one-time code at start, if not enrolled yet.
    #[arg(long)]
    enrol_code: Option<String>,
    /// Feed `--audio-in` files at the speed of speech (demos), not as fast as possible.
    #[arg(long)]
    audio_realtime: bool,
    /// Capture device name (default: the system's default input).
    #[arg(long)]
    microphone: Option<String>,
    /// Playback device name (default: the system's default output).
    #[arg(long)]
    speaker: Option<String>,
    /// No speaker: speech is shown as captions for as long as it would take to say.
    #[arg(long)]
    no_speaker: bool,
    /// Directory of CA certificates (*.der or *.pem) the card's auth certificate must chain
    /// to; without it the card reader is not used.
    #[arg(long)]
    card_trust: Option<PathBuf>,
    /// The staff PIN's hash, written by `kiosk set-staff-pin` (default: beside --db,
    /// `<db>.staff-pin`); without it staff mode stays shut.
    #[arg(long, global = true)]
    staff_pin_file: Option<PathBuf>,
    /// The data directory (dialogue, exercise catalogue, region calendar, dialect model):
    /// default `$MIMAMORI_DATA`, else `/usr/share/mimamori`, else this build's checkout.
    #[arg(long, global = true, alias = "assets")]
    data_dir: Option<PathBuf>,
    /// Render every screen to PNG (1280×800, software renderer, no display) in this
    /// directory and exit.
    #[arg(long)]
    screens: Option<PathBuf>,
    /// Exit after this many seconds (demos, screenshots); runs until closed otherwise.
    #[arg(long)]
    exit_after: Option<f64>,
    /// Start the tablet's clock at this local time and let it run on from there: the
    /// day's schedule in tests and demos (never on a resident's tablet).
    #[arg(long, value_name = "YYYY-MM-DDTHH:MM:SS")]
    clock_from: Option<chrono::NaiveDateTime>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Set the staff PIN (4–12 digits, read from stdin, never from the command line):
    /// a salted Argon2id hash in a file only this user can read.
    SetStaffPin,
}

thread_local! {
    /// The running app, reached by reports arriving on the event loop.
    static APP: RefCell<Option<Rc<App>>> = const { RefCell::new(None) };
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        // Colour only on a terminal: log files stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let started = std::time::Instant::now();
    let args = Args::parse();
    let pin_file = args.staff_pin_file.clone().unwrap_or_else(|| kiosk::staff_pin::default_path(&args.db));
    if let Some(Command::SetStaffPin) = args.command {
        let mut pin = String::new();
        std::io::stdin().read_line(&mut pin).context("reading the PIN from stdin")?;
        kiosk::staff_pin::write(&pin_file, pin.trim_end_matches(['\r', '\n']))?;
        println!("staff PIN set in {}", pin_file.display());
        return Ok(());
    }
    let staff_pin = kiosk::staff_pin::read(&pin_file)?;
    if staff_pin.is_none() {
        tracing::warn!(file = %pin_file.display(), "no staff PIN set: staff mode stays shut (kiosk set-staff-pin)");
    }
    let data = dialect_model::data::choose(args.data_dir.as_deref())?;
    let care: &'static kiosk::flow::Care =
        Box::leak(Box::new(kiosk::flow::Care::load(data).context("loading the care data")?));
    if let Some(out) = &args.screens {
        return render_screens(care, out);
    }
    let window = kiosk::AppWindow::new().context("cannot open the kiosk window (is DISPLAY set?)")?;
    let offset =
        args.clock_from.map_or(chrono::TimeDelta::zero(), |from| from - chrono::Local::now().naive_local());
    if !offset.is_zero() {
        tracing::warn!(
            offset_secs = offset.num_seconds(),
            "the tablet's clock is set off the real time (--clock-from)"
        );
    }
    let clock = move || chrono::Local::now().naive_local() + offset;
    let _clock = kiosk::idle::bind(&window, clock);

    // A tablet with a setting it cannot use still starts (the unit would otherwise
    // restart it forever on a blank screen): it says why in the log and works offline,
    // or without the card reader, and staff see that on the staff page.
    let office = match (&args.server, &args.office_ca) {
        (Some(url), Some(ca)) => {
            Some(kiosk::sync::Office::with_ca_file(url.clone(), ca).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the office CA is unusable: only public CAs are trusted");
                url.clone().into()
            }))
        }
        (server, _) => server.clone().map(Into::into),
    };
    if let (Some(code), Some(office)) = (&args.enrol_code, &office) {
        enrol_once(office, code, &args.db);
    }
    let scripted = match &args.scripted_resident {
        Some(script) => scripted_answers(script)?,
        None => vec![],
    };
    let speech = (!args.no_voice).then(|| {
        let model =
            args.model.clone().or_else(|| Some(dialect_model::model::ModelPaths::default().ggml_q8_0()));
        let audio_in = if !scripted.is_empty() {
            AudioIn::Files { files: scripted.clone().into(), realtime: true }
        } else if !args.audio_in.is_empty() {
            AudioIn::Files { files: args.audio_in.clone().into(), realtime: args.audio_realtime }
        } else {
            AudioIn::Microphone { device: args.microphone.clone() }
        };
        let audio_out = if args.no_speaker {
            AudioOut::Silent { paced: true }
        } else {
            AudioOut::Speaker { device: args.speaker.clone() }
        };
        SpeechConfig::new(model, audio_in, audio_out)
    });
    let card_trust = args.card_trust.as_deref().and_then(|dir| {
        read_ders(dir)
            .inspect_err(|e| tracing::error!(error = %format!("{e:#}"), "card trust unusable: the card reader is not used"))
            .ok()
    });
    let options = Options {
        db: args.db.clone(),
        speech,
        server: office,
        sync_poll: Duration::from_secs(args.sync_poll_secs.max(1)),
        staff_pin,
        card_trust,
        db_max_bytes: None,
    };
    let weak = window.as_weak();
    let reporter: Reporter = Arc::new(move |report: Report| {
        let _ = weak.upgrade_in_event_loop(move |_| {
            if let Some(app) = APP.with(|a| a.borrow().clone()) {
                app.report(report);
            }
        });
    });
    let app = App::start(&window, care, options, clock(), reporter)?;
    APP.with(|a| *a.borrow_mut() = Some(app.clone()));
    let ticker = slint::Timer::default();
    ticker.start(slint::TimerMode::Repeated, Duration::from_secs(1), move || {
        if let Some(app) = APP.with(|a| a.borrow().clone()) {
            app.tick(clock());
            // An upgrade replaced the binary: leave while nobody is using the tablet,
            // and the unit starts the new one.
            if app.screen() == kiosk::flow::Screen::Idle && kiosk::session::binary_replaced() {
                tracing::info!("the kiosk binary was replaced (upgrade): restarting while idle");
                let _ = slint::quit_event_loop();
            }
        }
    });
    // systemd's watchdog: pinged from the UI thread, so a hung event loop is restarted.
    let _watchdog = kiosk::session::watchdog_interval().map(|every| {
        let timer = slint::Timer::default();
        timer.start(slint::TimerMode::Repeated, every, kiosk::session::alive);
        timer
    });
    let _exit = args.exit_after.map(|secs| {
        let timer = slint::Timer::default();
        timer.start(slint::TimerMode::SingleShot, Duration::from_secs_f64(secs), || {
            let _ = slint::quit_event_loop();
        });
        timer
    });
    let shown = slint::Timer::default();
    shown.start(slint::TimerMode::SingleShot, Duration::ZERO, move || {
        tracing::info!(cold_start_ms = started.elapsed().as_millis() as u64, "idle screen shown");
        kiosk::session::ready();
    });
    window.run().context("running the kiosk window")?;
    APP.with(|a| a.borrow_mut().take());
    Ok(())
}

/// `kiosk --screens DIR`: every screen as a PNG.
fn render_screens(care: &'static kiosk::flow::Care, out: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let scratch = std::env::temp_dir().join(format!("kiosk-screens-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let shots = kiosk::screens::capture_all(care, &scratch, |_, _| {})?;
    for shot in &shots {
        let path = out.join(format!("{}.png", shot.name));
        std::fs::write(&path, kiosk::screens::png(shot)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// Enrols the tablet unless it already is; a failure is logged and staff mode can retry.
fn enrol_once(server: &kiosk::sync::Office, code: &str, db: &std::path::Path) {
    let enrolled =
        kiosk::store::Store::open(db).ok().and_then(|s| s.device_credentials().ok().flatten()).is_some();
    if enrolled {
        return;
    }
    match kiosk::sync::enrol(server, code, db) {
        Ok(c) => tracing::info!(device = c.device_id, "tablet enrolled"),
        Err(e) => tracing::warn!(error = %e, "enrolment failed; staff can enrol from staff mode"),
    }
}

/// Synthesises each line of a scripted resident's answers into a WAV (in a temporary
/// directory that lives as long as the process).
fn scripted_answers(script: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(script).with_context(|| format!("reading {}", script.display()))?;
    let dir = std::env::temp_dir().join(format!("kiosk-scripted-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // A resident speaks a little faster than the tablet's deliberately slow voice.
    let tts = dialect_model::tts::OpenJTalk { speed: 0.8, ..Default::default() };
    let mut files = vec![];
    for (i, line) in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).enumerate()
    {
        let path = dir.join(format!("{i:02}.wav"));
        if line == "…" {
            // A second of room silence: the listening turn hears nothing and says so.
            dialect_model::tts::write_wav(&path, &[0.0; 16_000], 16_000)?;
        } else {
            let speech =
                tts.synthesize(line).context("synthesising a scripted answer (is open-jtalk installed?)")?;
            dialect_model::tts::write_wav(&path, &speech.samples, speech.sample_rate)?;
        }
        files.push(path);
    }
    Ok(files)
}

/// Every CA certificate (`*.der`, or `*.pem` with one or more certificates) in a directory.
fn read_ders(dir: &std::path::Path) -> anyhow::Result<Vec<Vec<u8>>> {
    use base64::Engine as _;
    let mut certs = vec![];
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Only CA certificates: a card's own certificate beside them is no trust anchor.
        if !name.starts_with("ca") {
            continue;
        }
        if path.extension().is_some_and(|e| e == "der") {
            certs.push(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
        } else if path.extension().is_some_and(|e| e == "pem") {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let mut body = String::new();
            for line in text.lines() {
                if line.starts_with("-----BEGIN CERTIFICATE") {
                    body.clear();
                } else if line.starts_with("-----END CERTIFICATE") {
                    certs.push(
                        base64::engine::general_purpose::STANDARD
                            .decode(body.as_bytes())
                            .with_context(|| format!("decoding {}", path.display()))?,
                    );
                } else {
                    body.push_str(line.trim());
                }
            }
        }
    }
    anyhow::ensure!(!certs.is_empty(), "no ca*.der or ca*.pem certificate in {}", dir.display());
    Ok(certs)
}
