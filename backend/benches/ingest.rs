//! Ingest and dashboard-query benchmark (not a test): 10,000 residents with a year
//! of check-in history on a real SQLite file, then a morning of check-ins through
//! the real router, then the board and timeline queries. Prints the figures.
//!
//! `cargo bench -p backend --bench ingest`; `BENCH_RESIDENTS` and
//! `BENCH_HISTORY_DAYS` shrink it for a quick look. Budget (DESIGN.md §6):
//! ≥ 2,000 events/s ingest; dashboard p99 ≤ 100 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use backend::clock::{ManualClock, at_local};
use backend::routes::{AppState, router};
use backend::store::{
    CheckInAnswer, CheckinWindow, Effect, Enrolment, IncomingEvent, NewResident, ResidentId, Role, Store,
};
use chrono::{Duration as Days, NaiveDate, NaiveTime};
use tower::ServiceExt as _;
use vocab::{Intent, Question};

const DISTRICTS: usize = 10;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
}

/// Nearest-rank percentile of sorted durations, in milliseconds.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<44} n={:<5} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        samples.len(),
        pct(&samples, 50.0),
        pct(&samples, 99.0),
        pct(&samples, 100.0)
    );
}

/// Percent-encodes a query value (the district names are Japanese).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let residents = env_or("BENCH_RESIDENTS", 10_000);
    let days = env_or("BENCH_HISTORY_DAYS", 365);
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).expect("valid date");
    let first_day = today - Days::days(days as i64);
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.sqlite"))?;
    println!("mimamori backend ingest bench: {residents} residents, {days} days of history, SQLite (WAL)");

    // Residents and their tablets.
    let t = Instant::now();
    let setup_time = at_local(first_day, hm(6, 0));
    let mut tablets: Vec<(ResidentId, Enrolment, String)> = Vec::with_capacity(residents);
    for i in 0..residents {
        let r = store.add_resident(
            &NewResident {
                display_name: format!("住民{i}"),
                district: format!("地区{}", i % DISTRICTS),
                card: None,
                window: CheckinWindow { start: hm(7, 0), end: hm(10, 0), grace_minutes: 60 },
            },
            setup_time,
        )?;
        let code = store.create_enrolment_code(Some(r), setup_time)?;
        let (_, token) = store.enrol_device(&code, "", "bench", setup_time)?.context("fresh code")?;
        let enrolment = store.authenticate_device(&token)?.context("fresh token")?;
        tablets.push((r, enrolment, token));
    }
    println!("setup: {residents} residents + tablets in {:.1} s", t.elapsed().as_secs_f64());

    // A year of history, as tablets that sync about once a month would send it
    // (one batch per tablet and month); through the store, not HTTP.
    let t = Instant::now();
    let mut history = 0usize;
    let mut seqs = vec![0u64; residents];
    for chunk_start in (0..days).step_by(30) {
        let chunk: Vec<NaiveDate> =
            (chunk_start..(chunk_start + 30).min(days)).map(|d| first_day + Days::days(d as i64)).collect();
        let now = at_local(*chunk.last().expect("non-empty chunk"), hm(20, 0));
        for (i, (_, enrolment, _)) in tablets.iter().enumerate() {
            let mut events = Vec::with_capacity(chunk.len() + 5);
            for (k, day) in chunk.iter().enumerate() {
                let mut push = |kind, effect, body: &str| {
                    seqs[i] += 1;
                    events.push(IncomingEvent {
                        id: uuid::Uuid::new_v4(),
                        seq: seqs[i],
                        kind,
                        device_time: at_local(*day, hm(8, 30)),
                        body: body.to_owned(),
                        effect,
                        resident: None,
                    });
                };
                // Three answers a day; one day in seven unwell (要確認 with an alert).
                let feeling = if (k + i) % 7 == 0 { Intent::FeelingUnwell } else { Intent::FeelingGood };
                let answers = [
                    (Question::HowFeeling, feeling),
                    (Question::Slept, Intent::SleptWell),
                    (Question::Appetite, Intent::AppetiteGood),
                ]
                .map(|(question, intent)| CheckInAnswer { question, intent, body_part: None })
                .to_vec();
                push(
                    wire::EventKind::CheckIn,
                    Effect::CheckIn { answers },
                    r#"{"answers":[{"question":"how_feeling","intent":"feeling_good"}]}"#,
                );
                if (k + i) % 3 == 0 {
                    push(
                        wire::EventKind::ExerciseDone,
                        Effect::Record,
                        r#"{"plan":"seated-winter","minutes":12}"#,
                    );
                }
            }
            history += events.len();
            store.ingest(enrolment, &events, now)?;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "history load (store, ~30-day batches): {history} events in {secs:.1} s = {:.0} events/s",
        history as f64 / secs
    );

    // This morning: every tablet sends its check-in (and some an exercise) as its own
    // small batch, through the router (JSON, token check, store), 8 at a time.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let clock = ManualClock::new(at_local(today, hm(8, 30)));
    let retrainer = Arc::new(backend::retrain::Retrainer::new(&Default::default()));
    let state = AppState { store: store.clone(), clock: Arc::new(clock), retrainer };
    let app = router(state);
    let bodies: Vec<(String, String, usize)> = tablets
        .iter()
        .enumerate()
        .map(|(i, (_, _, token))| {
            let mut evs = vec![serde_json::json!({
                "id": uuid::Uuid::new_v4(), "seq": seqs[i] + 1, "kind": "check_in",
                "device_time": at_local(today, hm(8, 29)), "body": {"answers": [
                    {"question": "how_feeling", "intent": if i % 7 == 0 { "feeling_unwell" } else { "feeling_good" }},
                    {"question": "slept", "intent": "slept_well"}]}})];
            if i % 2 == 0 {
                evs.push(serde_json::json!({
                    "id": uuid::Uuid::new_v4(), "seq": seqs[i] + 2, "kind": "exercise_done",
                    "device_time": at_local(today, hm(8, 29)), "body": {"minutes": 10}}));
            }
            let n = evs.len();
            (token.clone(), serde_json::json!({ "events": evs }).to_string(), n)
        })
        .collect();
    let live_events: usize = bodies.iter().map(|b| b.2).sum();
    let send = |app: axum::Router, bodies: Vec<(String, String, usize)>| async move {
        let mut latencies = Vec::with_capacity(bodies.len());
        for (token, body, _) in bodies {
            let req = Request::post("/api/v1/events")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body))
                .expect("valid request");
            let t = Instant::now();
            let resp = app.clone().oneshot(req).await.expect("infallible");
            assert_eq!(resp.status(), StatusCode::OK);
            let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
            latencies.push(t.elapsed());
        }
        latencies
    };
    let t = Instant::now();
    let latencies = rt.block_on(async {
        let per = bodies.len().div_ceil(8);
        let mut tasks = Vec::new();
        for part in bodies.chunks(per) {
            tasks.push(tokio::spawn(send(app.clone(), part.to_vec())));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("task"));
        }
        all
    });
    let secs = t.elapsed().as_secs_f64();
    println!(
        "live ingest (HTTP router, 1-2 event batches, 8 concurrent): {live_events} events in {secs:.2} s = {:.0} events/s",
        live_events as f64 / secs
    );
    report("  upload request latency", latencies);

    // The board page itself, through the router, as an officer (percentiles).
    let t0 = at_local(today, hm(8, 0));
    let officer =
        store.add_user("bench", &backend::password::hash_password("bench"), Role::Officer, None, t0)?;
    let cookie = format!("{}={}", backend::dashboard::SESSION_COOKIE, store.create_session(officer, t0)?);
    let get_page = |app: axum::Router, uri: String, cookie: String| async move {
        let req = Request::get(uri).header("cookie", cookie).body(Body::empty()).expect("valid request");
        let t = Instant::now();
        let resp = app.oneshot(req).await.expect("infallible");
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
        t.elapsed()
    };
    let mut district_pages = Vec::new();
    let mut town_pages = Vec::new();
    rt.block_on(async {
        for k in 0..200 {
            let uri = format!("/board?district={}", percent_encode(&format!("地区{}", k % DISTRICTS)));
            district_pages.push(get_page(app.clone(), uri, cookie.clone()).await);
        }
        for _ in 0..50 {
            town_pages.push(get_page(app.clone(), "/board".to_owned(), cookie.clone()).await);
        }
    });
    report("board page, one district (HTTP)", district_pages);
    report("board page, whole town (HTTP, 200 rows)", town_pages);

    // Resends of the same morning (tablets that missed the ack): all duplicates.
    let t = Instant::now();
    let _ = rt.block_on(send(app.clone(), bodies[..2000.min(bodies.len())].to_vec()));
    let n: usize = bodies[..2000.min(bodies.len())].iter().map(|b| b.2).sum();
    println!("resend (all duplicates, sequential): {:.0} events/s", n as f64 / t.elapsed().as_secs_f64());

    // The store calls behind the dashboard, on their own.
    let now = at_local(today, hm(12, 0));
    let mut board = Vec::new();
    for k in 0..200 {
        let district = format!("地区{}", k % DISTRICTS);
        let t = Instant::now();
        let counts = store.board_counts(Some(&district), now)?;
        board.push(t.elapsed());
        assert!(counts.confirmed + counts.attention > 0);
    }
    report("board counts, one district (store)", board);
    let mut town = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        store.board_counts(None, now)?;
        town.push(t.elapsed());
    }
    report("board counts, whole town (store)", town);
    let mut timeline = Vec::new();
    let mut x: u64 = 12345;
    for _ in 0..1000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let (r, _, _) = &tablets[(x >> 33) as usize % tablets.len()];
        let t = Instant::now();
        let events = store.timeline(*r, 100)?;
        timeline.push(t.elapsed());
        assert!(!events.is_empty());
    }
    report("resident timeline, last 100 events (store)", timeline);
    let t = Instant::now();
    let step = backend::escalation::step(&store, at_local(today, hm(11, 0)), Default::default())?;
    println!(
        "escalation step over all residents: {:.1} ms ({} marked unconfirmed)",
        t.elapsed().as_secs_f64() * 1000.0,
        step.unconfirmed
    );
    let size = std::fs::metadata(dir.path().join("bench.sqlite"))?.len();
    println!("database file: {:.0} MiB, {} events", size as f64 / 1048576.0, store.event_count()?);
    Ok(())
}
