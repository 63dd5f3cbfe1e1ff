//! Benchmark: sync after 30 days offline (≈ 300 events) against a real office server on
//! a loopback port, on real SQLite files. Budget (DESIGN.md §6): ≤ 5 s, no duplicates,
//! nothing lost. Prints the median of a few runs and each run's figures.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use care::dialogue::QuestionId;
use care::record::{Answer, AnsweredBy, CareEvent, CheckinRecord, Outcome};
use care::understanding::Intent;
use chrono::{NaiveDate, Utc};
use kiosk::store::{ResidentId, Store};
use kiosk::sync::{DeviceHealth, SyncConfig, SyncHandle};

const RUNS: usize = 5;
const EVENTS: u64 = 300;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut times = Vec::new();
    for run in 0..RUNS {
        let dir = tempfile::tempdir().unwrap();
        let took = one_run(&rt, dir.path());
        eprintln!("run {run}: {EVENTS} events synced in {:.0} ms", took.as_secs_f64() * 1000.0);
        times.push(took);
    }
    times.sort();
    let median = times[RUNS / 2];
    println!(
        "sync after 30 days offline: {EVENTS} events in {:.0} ms median ({:.0}–{:.0} ms over {RUNS} runs; budget 5000 ms)",
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[RUNS - 1].as_secs_f64() * 1000.0,
    );
}

fn one_run(rt: &tokio::runtime::Runtime, dir: &Path) -> Duration {
    let config = backend::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: dir.join("office.sqlite"),
        escalation_interval_secs: 3600,
        // Never reach out to the weather agency from a benchmark.
        weather: backend::config::WeatherConfig { enabled: false, ..Default::default() },
        retention: Default::default(),
        trusted_proxies: vec![],
        notify: Default::default(),
        retrain: Default::default(),
    };
    let app = rt.block_on(backend::startup::Application::build(&config)).unwrap();
    let url: kiosk::sync::Url = format!("http://{}/", app.local_addr()).parse().unwrap();
    let office = app.store().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let resident = office
        .add_resident(
            &backend::store::NewResident {
                display_name: "ベンチ".to_owned(),
                district: "大井沢".to_owned(),
                card: None,
                window: backend::store::CheckinWindow {
                    start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                    end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
                    grace_minutes: 60,
                },
            },
            Utc::now(),
        )
        .unwrap();
    let code = office.create_enrolment_code(Some(resident), Utc::now()).unwrap();
    let db = dir.join("kiosk.sqlite");
    kiosk::sync::enrol(&url.clone().into(), &code, &db).unwrap();

    // A month offline: ten events a day.
    let mut store = Store::open(&db).unwrap();
    let r = ResidentId(resident.0);
    let start = NaiveDate::from_ymd_opt(2026, 10, 29).unwrap();
    for i in 0..EVENTS {
        let d = start + chrono::Days::new(i / 10);
        let t = d.and_hms_opt(8, (i % 10) as u32, 0).unwrap();
        let ev = CareEvent::Checkin(CheckinRecord {
            started_at: t,
            ended_at: t + chrono::Duration::seconds(90),
            outcome: Outcome::Completed,
            answers: vec![Answer {
                question: QuestionId::HowFeeling,
                intent: Intent::FeelingGood,
                body_part: None,
                by: AnsweredBy::Voice,
            }],
            questions_asked: 1,
            misunderstandings: 0,
        });
        store.record_care_event(r, &ev, Utc::now()).unwrap();
    }

    // Back online: the worker's first round delivers everything.
    let mut cfg = SyncConfig::new(url, db.clone());
    cfg.poll = Duration::from_millis(20);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Instant::now();
    let handle = SyncHandle::spawn(cfg, DeviceHealth::default, {
        let done = done.clone();
        move |s| {
            if matches!(s, kiosk::sync::SyncStatus::Online { outbox_len: 0, .. }) {
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    })
    .unwrap();
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(started.elapsed() < Duration::from_secs(120), "sync did not finish");
        std::thread::sleep(Duration::from_millis(1));
    }
    let took = started.elapsed();
    drop(handle);
    assert_eq!(store.outbox_len().unwrap(), 0);
    assert_eq!(office.event_count().unwrap(), EVENTS, "every event stored once");
    let _ = stop.send(());
    let _ = rt.block_on(server);
    took
}
