//! `kiosk-agent`: the kiosk's store and sync worker without a window, for fault
//! injection and soak runs. It records synthetic check-ins (understood answers only:
//! no names, no transcripts) while the real sync worker delivers them, and prints its
//! figures as one JSON line at the end.
//!
//! Killing it with SIGKILL at any moment is part of its use: every event it reports
//! as created is committed, and a restart on the same database carries on (the
//! outbox and the sequence counter live in the file).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use care::dialogue::QuestionId;
use care::record::{Answer, AnsweredBy, CareEvent, CheckinRecord, Outcome};
use care::understanding::{BodyPart, Intent};
use chrono::{DateTime, FixedOffset, Utc};
use clap::Parser;
use kiosk::store::{ResidentId, Store, StoreError};
use kiosk::sync::{self, DeviceHealth, SyncConfig, SyncHandle, SyncStatus, Url};

#[derive(Debug, Parser)]
#[command(about = "Headless kiosk: local store + sync worker, for soak and fault tests")]
struct Args {
    /// The local store (created if missing; recovered if corrupt).
    #[arg(long)]
    db: PathBuf,
    /// The office's base URL, e.g. http://127.0.0.1:8080/.
    #[arg(long)]
    server: Url,
    /// CA certificates (PEM) the office's TLS certificate may chain to (a town CA).
    #[arg(long, value_name = "FILE")]
    office_ca: Option<PathBuf>,
    /// A one-time enrolment code, used only when the store has no credentials yet.
    #[arg(long)]
    enrol_code: Option<String>,
    /// How many check-ins to record in this run.
    #[arg(long, default_value_t = 0)]
    create: u64,
    /// Pause between two check-ins, in milliseconds.
    #[arg(long, default_value_t = 0)]
    interval_ms: u64,
    /// Keep running until the outbox is empty, then exit 0.
    #[arg(long)]
    until_synced: bool,
    /// The sync worker's poll interval, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// The longest backoff wait, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    backoff_max_ms: u64,
    /// Request timeout, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Cap the store at this many KiB (a full disk on demand).
    #[arg(long)]
    max_db_kib: Option<u64>,
    /// Shift the tablet's clock by this many seconds (clock-skew scenarios).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_skew_s: i64,
    /// Give up (exit 1) when not done after this many seconds.
    #[arg(long)]
    deadline_s: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let started = Instant::now();
    let deadline = args.deadline_s.map(|s| started + Duration::from_secs(s));
    let past_deadline = || deadline.is_some_and(|d| Instant::now() >= d);

    let (store, aside) =
        Store::open_or_recover(&args.db).with_context(|| format!("open {}", args.db.display()))?;
    if let Some(aside) = aside {
        eprintln!("kiosk-agent: corrupt store moved aside to {}", aside.display());
    }
    let mut store = match args.max_db_kib {
        Some(kib) => {
            drop(store);
            Store::open_with_limit(&args.db, Some(kib * 1024)).context("reopen with a size limit")?
        }
        None => store,
    };

    let office = match &args.office_ca {
        Some(ca) => sync::Office::with_ca_file(args.server.clone(), ca)?,
        None => args.server.clone().into(),
    };
    if store.device_credentials()?.is_none() {
        let Some(code) = &args.enrol_code else { bail!("not enrolled and no --enrol-code given") };
        let mut wait = Duration::from_millis(200);
        loop {
            match sync::enrol(&office, code, &args.db) {
                Ok(c) => {
                    eprintln!("kiosk-agent: enrolled as device {}", c.device_id);
                    break;
                }
                Err(sync::SyncError::CodeRefused) => bail!("enrolment code refused"),
                Err(e) if !past_deadline() => {
                    eprintln!("kiosk-agent: enrolment failed ({e}); retrying");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e).context("enrol"),
            }
        }
    }

    let status: Arc<Mutex<Option<SyncStatus>>> = Arc::default();
    let mut config = SyncConfig::new(office, args.db.clone());
    config.poll = Duration::from_millis(args.poll_ms.max(1));
    config.heartbeat = Duration::from_secs(60);
    config.request_timeout = Duration::from_millis(args.timeout_ms.max(1));
    config.backoff_min = Duration::from_millis(100.min(args.backoff_max_ms.max(1)));
    config.backoff_max = Duration::from_millis(args.backoff_max_ms.max(1));
    let handle = SyncHandle::spawn(
        config,
        || DeviceHealth {
            microphone: wire::PartHealth::Missing,
            reader: wire::PartHealth::Missing,
            speaker: wire::PartHealth::Missing,
            dialect_in_use: None,
        },
        {
            let status = status.clone();
            move |s| *status.lock().unwrap_or_else(|p| p.into_inner()) = Some(s)
        },
    )
    .context("start the sync worker")?;

    let resident = roster_resident(&store, &handle, &past_deadline);
    let mut created = 0u64;
    let mut full = 0u64;
    while created < args.create {
        if past_deadline() {
            break;
        }
        let now = Utc::now() + chrono::Duration::seconds(args.clock_skew_s);
        let n = store.created_seq()? + 1;
        match store.record_care_event(resident, &synthetic_checkin(n, now), now) {
            Ok(_) => created += 1,
            Err(StoreError::Full) => {
                // The disk is full: wait for delivered events to free pages.
                full += 1;
                handle.nudge();
                std::thread::sleep(Duration::from_millis(args.interval_ms.max(50)));
                continue;
            }
            Err(e) => return Err(e).context("record a check-in"),
        }
        if args.interval_ms > 0 {
            std::thread::sleep(Duration::from_millis(args.interval_ms));
        }
    }
    handle.nudge();

    let mut synced = true;
    if args.until_synced {
        while store.outbox_len()? > 0 {
            if past_deadline() {
                synced = false;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    handle.stop();
    let f = store.figures()?;
    let last = status.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let state = match last {
        Some(SyncStatus::Online { .. }) => "online",
        Some(SyncStatus::Offline { .. }) => "offline",
        Some(SyncStatus::NotEnrolled) => "not_enrolled",
        None => "unknown",
    };
    let line = AgentReport {
        created,
        created_seq: f.created_seq,
        outbox_len: f.outbox_len,
        dead_letter: f.dead_letter_len,
        full,
        sync: state,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    println!("{}", serde_json::to_string(&line)?);
    if !synced {
        bail!("outbox not empty by the deadline ({} left)", f.outbox_len);
    }
    Ok(())
}

/// The one JSON line the agent prints when it stops (read by the soak test).
#[derive(Debug, serde::Serialize)]
struct AgentReport {
    created: u64,
    created_seq: u64,
    outbox_len: u64,
    dead_letter: u64,
    full: u64,
    sync: &'static str,
    elapsed_ms: u64,
}

/// The enrolled resident from the roster the worker pulls (waits up to 10 s for the
/// first pull). Without one, events still carry the device's token, which is what the
/// office goes by; id 0 only marks "not known on the tablet".
fn roster_resident(store: &Store, handle: &SyncHandle, past_deadline: &dyn Fn() -> bool) -> ResidentId {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(r)) = store.residents().map(|rs| rs.into_iter().next()) {
            return r.id;
        }
        if Instant::now() >= until || past_deadline() {
            return ResidentId(0);
        }
        handle.nudge();
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A realistic morning check-in, varied by `n`: understood answers only.
fn synthetic_checkin(n: u64, now: DateTime<Utc>) -> CareEvent {
    let jst = FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset");
    let ended_at = now.with_timezone(&jst).naive_local();
    let started_at = ended_at - chrono::Duration::seconds(95);
    let answer = |question, intent, body_part, by| Answer { question, intent, body_part, by };
    let mut answers = vec![match n % 4 {
        0 => answer(QuestionId::HowFeeling, Intent::Tired, None, AnsweredBy::Voice),
        1 => answer(QuestionId::HowFeeling, Intent::Pain, Some(BodyPart::Knee), AnsweredBy::VoiceConfirmed),
        _ => answer(QuestionId::HowFeeling, Intent::FeelingGood, None, AnsweredBy::Voice),
    }];
    answers.push(answer(
        QuestionId::Slept,
        if n.is_multiple_of(3) { Intent::SleptBadly } else { Intent::SleptWell },
        None,
        AnsweredBy::Button,
    ));
    answers.push(answer(QuestionId::Appetite, Intent::AppetiteGood, None, AnsweredBy::Voice));
    answers.push(answer(
        QuestionId::ExerciseToday,
        if n.is_multiple_of(5) { Intent::No } else { Intent::Yes },
        None,
        AnsweredBy::Voice,
    ));
    CareEvent::Checkin(CheckinRecord {
        started_at,
        ended_at,
        outcome: Outcome::Completed,
        questions_asked: answers.len() as u8,
        misunderstandings: u8::from(n.is_multiple_of(7)),
        answers,
    })
}
