//! The local store and the sync worker against real parts: SQLite files in temp
//! dirs, a real office server (`backend::startup::Application`) on a loopback port,
//! and the `kiosk-agent` binary killed with SIGKILL mid-write.
//!
//! The office's database is read directly (read-only) only to check what it stored:
//! exactly once, in per-device order.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use care::dialogue::QuestionId;
use care::record::{Answer, AnsweredBy, CareEvent, CheckinRecord, Outcome};
use care::understanding::{BodyPart, Intent};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use kiosk::store::{Resident, ResidentId, ResidentSettings, Store, StoreError};
use kiosk::sync::{DeviceHealth, OfflineReason, SyncConfig, SyncHandle, SyncStatus, Url};

// ---- The office: a real server on a loopback port. ----

pub(crate) struct Office {
    rt: tokio::runtime::Runtime,
    dir: PathBuf,
    addr: SocketAddr,
    pub(crate) store: backend::store::Store,
    stop: Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>)>,
}

impl Office {
    pub(crate) fn start(dir: &Path) -> Office {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut office = Office {
            rt,
            dir: dir.to_owned(),
            addr: "127.0.0.1:0".parse().unwrap(),
            store: backend::store::Store::open(&dir.join("office.sqlite")).unwrap(),
            stop: None,
        };
        office.serve();
        office
    }

    /// (Re)starts the server on the same port and database.
    fn serve(&mut self) {
        let config = backend::config::Config {
            listen: self.addr,
            database: self.dir.join("office.sqlite"),
            escalation_interval_secs: 3600,
            // Never reach out to the weather agency from a test.
            weather: backend::config::WeatherConfig { enabled: false, ..Default::default() },
            retention: Default::default(),
            trusted_proxies: vec![],
            notify: Default::default(),
            retrain: Default::default(),
        };
        let app = self.rt.block_on(backend::startup::Application::build(&config)).unwrap();
        self.addr = app.local_addr();
        self.store = app.store().clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = self.rt.spawn(app.run_until(async {
            let _ = rx.await;
        }));
        self.stop = Some((tx, task));
    }

    /// Shuts the server down: connections are refused until [`Office::serve`].
    fn halt(&mut self) {
        if let Some((tx, task)) = self.stop.take() {
            let _ = tx.send(());
            let _ = self.rt.block_on(task);
        }
    }

    pub(crate) fn url(&self) -> Url {
        format!("http://{}/", self.addr).parse().unwrap()
    }

    /// A resident in 大井沢 and a one-time code for their tablet.
    pub(crate) fn resident_and_code(&self) -> (i64, String) {
        let window = backend::store::CheckinWindow {
            start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            grace_minutes: 60,
        };
        let r = backend::store::NewResident {
            display_name: "テスト 花子".to_owned(),
            district: "大井沢".to_owned(),
            card: None,
            window,
        };
        let id = self.store.add_resident(&r, Utc::now()).unwrap();
        (id.0, self.store.create_enrolment_code(Some(id), Utc::now()).unwrap())
    }

    /// Every stored event as (device, seq, uuid), in device then sequence order.
    fn stored(&self) -> Vec<(i64, u64, String)> {
        let conn = rusqlite::Connection::open_with_flags(
            self.dir.join("office.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut stmt =
            conn.prepare("SELECT device_id, seq, event_uuid FROM events ORDER BY device_id, seq").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

impl Drop for Office {
    fn drop(&mut self) {
        self.halt();
    }
}

// ---- Helpers. ----

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn at(d: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    d.and_hms_opt(h, m, 0).unwrap()
}

fn checkin(d: NaiveDate, pain: bool) -> CareEvent {
    let answer = |question, intent, body_part| Answer { question, intent, body_part, by: AnsweredBy::Voice };
    let mut answers = vec![answer(QuestionId::HowFeeling, Intent::FeelingGood, None)];
    if pain {
        answers.push(answer(QuestionId::PainCheck, Intent::Pain, Some(BodyPart::Knee)));
    }
    CareEvent::Checkin(CheckinRecord {
        started_at: at(d, 8, 0),
        ended_at: at(d, 8, 2),
        outcome: Outcome::Completed,
        questions_asked: answers.len() as u8,
        misunderstandings: 0,
        answers,
    })
}

fn fast_config(office: &Office, db: &Path) -> SyncConfig {
    let mut c = SyncConfig::new(office.url(), db.to_owned());
    c.poll = Duration::from_millis(100);
    c.request_timeout = Duration::from_secs(2);
    c.backoff_min = Duration::from_millis(50);
    c.backoff_max = Duration::from_millis(400);
    c
}

/// A worker whose statuses are collected.
fn spawn_worker(config: SyncConfig) -> (SyncHandle, Arc<Mutex<Vec<SyncStatus>>>) {
    let seen: Arc<Mutex<Vec<SyncStatus>>> = Arc::default();
    let handle = SyncHandle::spawn(config, DeviceHealth::default, {
        let seen = seen.clone();
        move |s| seen.lock().unwrap().push(s)
    })
    .unwrap();
    (handle, seen)
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The office stored exactly these ids, once each, with contiguous sequence numbers 1..=n
/// for one device.
fn assert_exactly_once(office: &Office, created: &[wire::EventId]) {
    let stored = office.stored();
    let devices: std::collections::BTreeSet<i64> = stored.iter().map(|s| s.0).collect();
    assert_eq!(devices.len(), 1, "one device expected: {devices:?}");
    let seqs: Vec<u64> = stored.iter().map(|s| s.1).collect();
    assert_eq!(seqs, (1..=created.len() as u64).collect::<Vec<_>>(), "per-device sequence");
    let mut want: Vec<String> = created.iter().map(|id| id.0.to_string()).collect();
    let mut got: Vec<String> = stored.into_iter().map(|s| s.2).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the office holds each created event once");
}

fn enrolled_store(office: &Office, dir: &Path) -> (Store, PathBuf) {
    let db = dir.join("kiosk.sqlite");
    let (_resident, code) = office.resident_and_code();
    kiosk::sync::enrol(&office.url().into(), &code, &db).unwrap();
    (Store::open(&db).unwrap(), db)
}

// ---- The store on its own. ----

/// Local state and outbox row go in one transaction: when the state's insert fails
/// (a trigger aborts it), no outbox row and no sequence number are left behind.
#[test]
fn outbox_row_and_local_state_commit_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.sqlite");
    let mut store = Store::open(&db).unwrap();
    let r = ResidentId(7);
    store.record_care_event(r, &checkin(day(), true), Utc::now()).unwrap();
    assert_eq!((store.outbox_len().unwrap(), store.created_seq().unwrap()), (1, 1));
    let seen = store.checkins_since(r, day()).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].pains, [BodyPart::Knee].into());

    let other = rusqlite::Connection::open(&db).unwrap();
    other
        .execute_batch(
            "CREATE TRIGGER no_more BEFORE INSERT ON checkins BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    assert!(store.record_care_event(r, &checkin(day(), false), Utc::now()).is_err());
    assert_eq!((store.outbox_len().unwrap(), store.created_seq().unwrap()), (1, 1));
    other.execute_batch("DROP TRIGGER no_more").unwrap();
    store.record_care_event(r, &checkin(day(), false), Utc::now()).unwrap();
    let seqs: Vec<u64> = store.outbox_batch(10).unwrap().iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, [1, 2]);

    // Bad input is refused with a typed error and writes nothing.
    let bad = store.record_card_link_request(r, "1234", Utc::now());
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    let bad = store.record_exercise_done(r, &[], 10, day(), Default::default(), Utc::now());
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    let bad = store.save_settings(r, &ResidentSettings { volume: 2.0, ..Default::default() });
    assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
    assert_eq!((store.outbox_len().unwrap(), store.created_seq().unwrap()), (2, 2));
}

/// Roster, settings, plans and exercise days as the UI and care read them.
/// The tablet's store (check-ins and their answers) is its user's alone: the file,
/// its WAL and shared memory are 0600, and a file left readable is made so on open.
#[test]
fn the_local_store_is_private_to_the_kiosk_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.sqlite");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut store = Store::open(&db).unwrap();
    store.upsert_resident(&Resident { id: ResidentId(1), display_name: "花子".into() }, None).unwrap();
    let files: Vec<PathBuf> = ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    drop(store);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    Store::open(&db).unwrap();
    assert_eq!(mode(&db), 0o600, "an older, readable file is made private");
}

#[test]
fn roster_settings_plans_and_exercise_days_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("kiosk.sqlite")).unwrap();
    let card = "AB".repeat(32);
    let hanako = Resident { id: ResidentId(3), display_name: "花子".to_owned() };
    store.upsert_resident(&hanako, Some(&card)).unwrap();
    assert_eq!(store.resident_by_card(&card.to_lowercase()).unwrap(), Some(hanako.clone()));
    assert_eq!(store.residents().unwrap(), [hanako]);
    let r = ResidentId(3);
    assert_eq!(store.settings(r).unwrap(), ResidentSettings::default());
    let s = ResidentSettings {
        volume: 1.0,
        speech_rate: 0.5,
        text_scale: 1.5,
        voice: dialect_model::tts::Voice::Mei,
    };
    store.save_settings(r, &s).unwrap();
    assert_eq!(store.settings(r).unwrap(), s);

    let catalogue = care::catalogue::Catalogue::from_toml(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/exercises/catalogue.toml"))
            .unwrap(),
    )
    .unwrap();
    let strength =
        catalogue.exercises().iter().find(|e| e.category == care::catalogue::Category::Strength).unwrap();
    let d1 = day() - chrono::Days::new(1);
    store
        .record_exercise_done(
            r,
            &[strength.id.clone(), "retired-id".to_owned()],
            12,
            d1,
            Default::default(),
            Utc::now(),
        )
        .unwrap();
    store
        .record_exercise_done(r, std::slice::from_ref(&strength.id), 5, day(), Default::default(), Utc::now())
        .unwrap();
    let plan = care::planner::Plan {
        date: day(),
        intensity: None,
        headline: "休みましょう".to_owned(),
        notes: vec![],
        items: vec![],
        advice: vec![],
    };
    store.save_plan(r, &plan).unwrap();
    let records = store.day_records(r, d1, &catalogue).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].done, [care::catalogue::Category::Strength], "unknown ids are left out");
    assert!(records[1].excused, "a rest day is excused");
    assert_eq!(records.iter().map(|d| d.date).collect::<Vec<_>>(), [d1, day()], "both days exercised");
    assert_eq!(store.day_records(r, day(), &catalogue).unwrap().len(), 1, "from `since` on");
    assert_eq!(store.outbox_len().unwrap(), 2);

    // When the tablet asked by itself: kept per resident and day, local only, a week long.
    let week_ago = day() - chrono::Days::new(8);
    store.record_asks(&[r], at(week_ago, 7, 0)).unwrap();
    store.record_asks(&[r, ResidentId(4)], at(day(), 7, 0)).unwrap();
    store.record_asks(&[r], at(day(), 7, 0)).unwrap();
    store.record_asks(&[r], at(day(), 7, 20)).unwrap();
    assert_eq!(store.asks_on(r, day()).unwrap(), [at(day(), 7, 0), at(day(), 7, 20)]);
    assert_eq!(store.asks_on(ResidentId(4), day()).unwrap(), [at(day(), 7, 0)]);
    assert!(store.asks_on(r, week_ago).unwrap().is_empty(), "older than a week: dropped");
    assert_eq!(store.outbox_len().unwrap(), 2, "asks never leave the tablet");
}

/// Pull items of every kind, good and bad: known ones are applied, unknown kinds and
/// unreadable bodies are skipped, and the cursor always moves past them.
#[test]
fn pull_items_apply_or_skip_and_the_cursor_always_advances() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("kiosk.sqlite")).unwrap();
    let mut cursor = 0;
    let mut check = |kind: &str, body: serde_json::Value, applied: bool| {
        cursor += 1;
        let item = serde_json::json!({ "cursor": cursor, "kind": kind, "body": body });
        let pull: wire::PullResponse =
            serde_json::from_value(serde_json::json!({ "items": [item], "cursor": cursor, "more": false }))
                .unwrap();
        let done = store.apply_pull(&pull).unwrap();
        assert_eq!(
            (done.applied == 1, done.skipped == 1),
            (applied, !applied),
            "{kind} {}",
            pull.items[0].body
        );
        assert_eq!(store.pull_cursor().unwrap(), cursor);
    };
    let card = "0f".repeat(32);
    check(
        "roster_entry",
        serde_json::json!({"resident_id": 5, "display_name": "太郎", "card_identity": card}),
        true,
    );
    check("roster_entry", serde_json::json!({"resident_id": 5}), false);
    check("roster_entry", serde_json::json!({"resident_id": 8, "display_name": "次郎"}), true);
    check("roster_entry", serde_json::json!({"resident_id": 8, "display_name": "次郎", "left": true}), true);
    check(
        "roster_entry",
        serde_json::json!({"resident_id": 6, "display_name": "x", "card_identity": "12"}),
        false,
    );
    check(
        "resident_settings",
        serde_json::json!({"resident_id": 5, "checkin_window": ["07:30", "09:00"], "grace_minutes": 30,
            "contraindications": ["knee", "levitation"],
            "pauses": [{"from": "2026-11-20T00:00:00Z", "until": "2026-12-01T00:00:00Z"}],
            "emergency_contacts": [{"name": "長男", "relation": "長男", "phone": "0237-00-0000"}]}),
        true,
    );
    check("resident_settings", serde_json::json!({"resident_id": 5, "checkin_window": ["late", "9"]}), false);
    check("resident_settings", serde_json::json!({"resident_id": 5}), false);
    check(
        "campaign",
        serde_json::json!({"campaign_id": 9, "message": "大雪です", "deadline": "2026-11-28T12:00:00Z"}),
        true,
    );
    check(
        "campaign",
        serde_json::json!({"campaign_id": 10, "message": "閉", "deadline": "2026-11-28T12:00:00Z", "closed": true}),
        true,
    );
    check("campaign", serde_json::json!({"campaign_id": "nine"}), false);
    check(
        "weather",
        serde_json::json!({"date": "2026-11-28", "weather_text": "雪", "temp_max_c": -1, "heavy_snow_warning": true,
            "source": "jma", "fetched_at": "2026-11-27T21:00:00Z", "new_field": 1}),
        true,
    );
    check("weather", serde_json::json!({"snow_depth_cm": 85}), false);
    check("reprompt", serde_json::json!({"resident_id": 5, "day": "2026-11-28"}), true);
    check("reprompt", serde_json::json!({"resident_id": 5, "day": "yesterday"}), false);
    check("hologram", serde_json::json!({"anything": 1}), false);
    check("dialect_bundle", serde_json::json!({"version": 3}), false);

    let r = ResidentId(5);
    assert_eq!(store.resident_by_card(&card).unwrap().map(|x| x.id), Some(r));
    let office = store.office_settings(r).unwrap().unwrap();
    assert_eq!(office.checkin_window.0.to_string(), "07:30:00");
    assert_eq!(office.grace_minutes, 30);
    assert_eq!(office.emergency_contacts.len(), 1);
    let knee: std::collections::BTreeSet<_> = [care::catalogue::Contraindication::Knee].into();
    assert_eq!(store.planner_profile(r).unwrap().contraindications, knee, "unknown names left out");
    assert!(store.paused_at(r, "2026-11-25T00:00:00Z".parse().unwrap()).unwrap());
    assert_eq!(store.open_campaigns().unwrap().iter().map(|c| c.campaign_id).collect::<Vec<_>>(), [9]);
    let weather = kiosk::store::care_weather(&store.latest_weather().unwrap().unwrap());
    assert_eq!(weather.temperature_c, Some(-1.0));
    assert_eq!(weather.observed_at.to_string(), "2026-11-28 06:00:00", "the town's time");
    assert_eq!(weather.warnings, [care::weather::Warning::HeavySnow].into());
    assert_eq!(store.pending_reprompt(r).unwrap(), Some(day()));
    assert!(store.reprompt_unasked(r, day()).unwrap(), "not asked since it came");
    assert!(!store.reprompt_unasked(r, day() - chrono::Days::new(1)).unwrap());
    store.record_asks(&[r], at(day(), 11, 0)).unwrap();
    assert!(!store.reprompt_unasked(r, day()).unwrap(), "an ask answers it: once");
    assert_eq!(store.pending_reprompt(r).unwrap(), Some(day()), "still pending until a check-in");
    store.record_care_event(r, &checkin(day(), false), Utc::now()).unwrap();
    assert_eq!(store.pending_reprompt(r).unwrap(), None, "a check-in answers the re-prompt");
    store.record_safety_answer(r, 9, wire::SafetyReply::Safe, Utc::now()).unwrap();
    assert!(store.open_campaigns().unwrap().is_empty());
    // A pull that goes backwards never moves the cursor back.
    let stale: wire::PullResponse =
        serde_json::from_value(serde_json::json!({ "items": [], "cursor": 1, "more": false })).unwrap();
    store.apply_pull(&stale).unwrap();
    assert_eq!(store.pull_cursor().unwrap(), cursor);
    let names: Vec<String> = store.residents().unwrap().into_iter().map(|r| r.display_name).collect();
    assert_eq!(names, ["太郎"], "次郎 moved out: off the roster");
}

/// SQLite's own "database or disk is full" (forced by a page quota) is `Full`, and the
/// failed call leaves nothing: every outbox row has its state, sequence numbers stay
/// contiguous, and recording resumes once there is room.
#[test]
fn full_disk_is_a_typed_error_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.sqlite");
    drop(Store::open(&db).unwrap());
    let size = std::fs::metadata(&db).unwrap().len();
    let mut store = Store::open_with_limit(&db, Some(size + 8 * 4096)).unwrap();
    let r = ResidentId(1);
    let mut ok = 0u64;
    let err = loop {
        match store.record_care_event(r, &checkin(day(), true), Utc::now()) {
            Ok(_) => ok += 1,
            Err(e) => break e,
        }
        assert!(ok < 100_000, "the quota never filled");
    };
    assert!(matches!(err, StoreError::Full), "{err:?}");
    assert!(ok > 0);
    assert_eq!((store.outbox_len().unwrap(), store.created_seq().unwrap()), (ok, ok));
    assert_eq!(store.checkins_since(r, day()).unwrap().len() as u64, ok);
    // Trying again changes nothing either.
    assert!(matches!(store.record_care_event(r, &checkin(day(), true), Utc::now()), Err(StoreError::Full)));
    assert_eq!((store.outbox_len().unwrap(), store.created_seq().unwrap()), (ok, ok));
    drop(store);
    let mut store = Store::open(&db).unwrap();
    store.record_care_event(r, &checkin(day(), false), Utc::now()).unwrap();
    let seqs: Vec<u64> = store.outbox_batch(100_000).unwrap().iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, (1..=ok + 1).collect::<Vec<_>>());
}

/// A file of garbage is moved aside (kept byte for byte) and a fresh store made.
#[test]
fn a_garbage_file_is_moved_aside_and_a_fresh_store_made() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.sqlite");
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&db, &garbage).unwrap();
    assert!(matches!(Store::open(&db), Err(StoreError::Corrupt { .. })));
    let (mut store, aside) = Store::open_or_recover(&db).unwrap();
    let aside = aside.expect("moved aside");
    assert_eq!(std::fs::read(&aside).unwrap(), garbage);
    assert_eq!(store.created_seq().unwrap(), 0);
    store.record_care_event(ResidentId(1), &checkin(day(), false), Utc::now()).unwrap();
    let (_, again) = Store::open_or_recover(&db).unwrap();
    assert_eq!(again, None, "a sound store is opened as it is");
}

/// A damaged page in one table: the file is moved aside, and what still reads is
/// carried over: credentials, the sequence counter and the outbox (same ids and
/// sequence numbers), so no event is lost and none reuses a number.
#[test]
fn a_damaged_page_keeps_the_outbox_and_the_sequence_counter() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.sqlite");
    let mut store = Store::open(&db).unwrap();
    store.save_credentials(&kiosk::store::Credentials { device_id: 4, token: "t".repeat(43) }).unwrap();
    for _ in 0..200 {
        store.record_care_event(ResidentId(1), &checkin(day(), true), Utc::now()).unwrap();
    }
    let ack = wire::UploadAck {
        acks: store.outbox_batch(150).unwrap().iter().map(|e| (e.id, wire::EventAck::Stored)).collect(),
        reasons: vec![],
    };
    let sent: Vec<_> = ack.acks.iter().map(|a| a.0).collect();
    store.apply_acks(&sent, &ack, Utc::now()).unwrap();
    let queued = store.outbox_batch(1000).unwrap();
    assert_eq!(queued.len(), 50);
    drop(store);
    // Checkpoint the WAL into the file, then damage the check-ins table's root page.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let root: i64 = conn
        .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'checkins'", [], |r| r.get(0))
        .unwrap();
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    drop(conn);
    let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(((root - 1) * page) as u64)).unwrap();
    f.write_all(&vec![0xA5; page as usize]).unwrap();
    drop(f);

    let (mut store, aside) = Store::open_or_recover(&db).unwrap();
    assert!(aside.is_some());
    assert_eq!(store.outbox_batch(1000).unwrap(), queued);
    assert_eq!(store.device_credentials().unwrap().map(|c| c.device_id), Some(4));
    assert_eq!(store.created_seq().unwrap(), 200);
    store.record_care_event(ResidentId(1), &checkin(day(), false), Utc::now()).unwrap();
    assert_eq!(store.outbox_batch(1000).unwrap().last().unwrap().seq.0, 201);
}

// ---- Sync against a real office. ----

/// Events go out exactly once while the office stops and restarts under the worker
/// (connections refused meanwhile), and while a proxy swallows the office's answers
/// (the events were stored, the acks lost): resends come back "duplicate" and are
/// deleted; the office ends with every event once, in sequence.
#[test]
fn exactly_once_across_restarts_refused_connections_and_lost_acks() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = Office::start(dir.path());
    let (mut store, db) = enrolled_store(&office, dir.path());
    let proxy = AckEater::start(office.addr);
    let mut config = fast_config(&office, &db);
    config.server = format!("http://{}/", proxy.addr).parse::<kiosk::sync::Url>().unwrap().into();
    config.request_timeout = Duration::from_millis(700);
    let (handle, seen) = spawn_worker(config);
    let r = ResidentId(1);
    let mut created = Vec::new();
    proxy.fail_next(2);
    for round in 0..4 {
        if round == 1 {
            office.halt();
        }
        if round == 2 {
            office.serve();
            proxy.swallow_next(3);
        }
        if round == 3 {
            proxy.cut_next(3);
        }
        for _ in 0..40 {
            created.push(store.record_care_event(r, &checkin(day(), round % 2 == 0), Utc::now()).unwrap());
            std::thread::sleep(Duration::from_millis(3));
        }
        if round == 1 {
            wait_for("offline", Duration::from_secs(10), || {
                seen.lock().unwrap().iter().any(|s| {
                    matches!(
                        s,
                        SyncStatus::Offline {
                            reason: OfflineReason::Unreachable | OfflineReason::BadResponse,
                            ..
                        }
                    )
                })
            });
        }
    }
    handle.nudge();
    wait_for("empty outbox", Duration::from_secs(30), || store.outbox_len().unwrap() == 0);
    wait_for("online, nothing queued", Duration::from_secs(30), || {
        matches!(seen.lock().unwrap().last(), Some(SyncStatus::Online { outbox_len: 0, .. }))
    });
    drop(handle);
    assert!(proxy.swallowed() >= 2, "too few answers lost: the test proved little");
    let statuses = seen.lock().unwrap();
    assert!(
        statuses
            .iter()
            .any(|s| matches!(s, SyncStatus::Offline { reason: OfflineReason::ServerError(503), .. })),
        "the 503s were not reported as the office's error"
    );
    drop(statuses);
    assert_eq!(store.dead_letter_len().unwrap(), 0);
    assert_exactly_once(&office, &created);
}

/// A month offline (≈ 300 events: check-ins, exercise, a card link), then the office
/// is reachable: everything arrives once, in order, within the 5 s budget's order of
/// magnitude (the benchmark prints the figure).
#[test]
fn thirty_days_offline_then_everything_arrives_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let (mut store, db) = enrolled_store(&office, dir.path());
    let created = kiosk_month(&mut store);
    assert!(created.len() >= 300);
    let started = Instant::now();
    let (handle, _) = spawn_worker(fast_config(&office, &db));
    wait_for("empty outbox", Duration::from_secs(60), || store.outbox_len().unwrap() == 0);
    let took = started.elapsed();
    drop(handle);
    assert_exactly_once(&office, &created);
    eprintln!("synced {} events in {took:?}", created.len());
}

/// 30 days of a tablet's life, offline: returns the ids in the order made.
fn kiosk_month(store: &mut Store) -> Vec<wire::EventId> {
    let r = ResidentId(1);
    let mut ids = Vec::new();
    for d in 0..30u64 {
        let date = day() - chrono::Days::new(30 - d);
        for k in 0..10u64 {
            let id = match k {
                0..=5 => store.record_care_event(r, &checkin(date, k % 2 == 0), Utc::now()),
                6..=8 => store.record_exercise_done(
                    r,
                    &["chair-stand".to_owned()],
                    10,
                    date,
                    Default::default(),
                    Utc::now(),
                ),
                _ => store.record_card_link_request(r, &"c3".repeat(32), Utc::now()),
            };
            ids.push(id.unwrap());
        }
    }
    ids
}

/// What the office publishes (roster entry, settings, a campaign, a pause, a
/// re-prompt) reaches the tablet's tables through the real pull.
#[test]
fn pull_from_a_real_office_applies_roster_settings_campaigns_and_reprompts() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let db = dir.path().join("kiosk.sqlite");
    let (resident, code) = office.resident_and_code();
    kiosk::sync::enrol(&office.url().into(), &code, &db).unwrap();
    let campaign = office
        .store
        .start_campaign(
            Some("大井沢"),
            "大雪です。大丈夫ですか？",
            Utc::now() + chrono::Duration::hours(3),
            backend::store::Actor::Engine,
            Utc::now(),
        )
        .unwrap();
    let rid = backend::store::ResidentId(resident);
    office
        .store
        .add_pause(rid, Utc::now(), Utc::now() + chrono::Duration::days(3), "入院", Utc::now())
        .unwrap();
    office.store.mark_unconfirmed(rid, day(), Utc::now()).unwrap();
    let report = serde_json::json!({"date": "2026-11-28", "temp_max_c": 2, "storm_warning": true,
        "source": "jma", "fetched_at": "2026-11-27T21:00:00Z"});
    assert!(office.store.save_fetched_weather(&report.to_string(), true, Utc::now()).unwrap());
    let (handle, seen) = spawn_worker(fast_config(&office, &db));
    let mut store = Store::open(&db).unwrap();
    wait_for("the pull", Duration::from_secs(10), || {
        store.pending_reprompt(ResidentId(resident)).unwrap().is_some()
    });
    let r = ResidentId(resident);
    assert_eq!(store.residents().unwrap().iter().map(|x| x.id).collect::<Vec<_>>(), [r]);
    let settings = store.office_settings(r).unwrap().unwrap();
    assert_eq!(settings.checkin_window.0.to_string(), "08:00:00");
    assert_eq!(settings.grace_minutes, 60);
    assert!(store.latest_weather().unwrap().unwrap().storm_warning);
    assert!(store.paused_at(r, Utc::now() + chrono::Duration::hours(1)).unwrap());
    let open = store.open_campaigns().unwrap();
    assert_eq!(open.iter().map(|c| c.campaign_id).collect::<Vec<_>>(), [campaign.0 as u64]);
    store.record_safety_answer(r, campaign.0 as u64, wire::SafetyReply::Safe, Utc::now()).unwrap();
    handle.nudge();
    wait_for("the answer delivered", Duration::from_secs(10), || store.outbox_len().unwrap() == 0);
    let progress = office.store.campaign_progress(campaign).unwrap();
    assert_eq!((progress.safe, progress.needs_help), (1, 0));
    assert!(open.iter().all(|c| !c.closed));
    assert!(seen.lock().unwrap().iter().any(|s| matches!(s, SyncStatus::Online { .. })));
}

/// A revoked token (401) puts the tablet in "not enrolled": nothing is deleted or
/// dead-lettered; after staff enrol it again everything is delivered.
#[test]
fn a_refused_token_means_not_enrolled_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let (mut store, db) = enrolled_store(&office, dir.path());
    let device = store.device_credentials().unwrap().unwrap().device_id;
    office.store.revoke_device(backend::store::DeviceId(device as i64), Utc::now()).unwrap();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(store.record_care_event(ResidentId(1), &checkin(day(), false), Utc::now()).unwrap());
    }
    let (handle, seen) = spawn_worker(fast_config(&office, &db));
    wait_for("not enrolled", Duration::from_secs(10), || {
        seen.lock().unwrap().contains(&SyncStatus::NotEnrolled)
    });
    assert_eq!((store.outbox_len().unwrap(), store.dead_letter_len().unwrap()), (5, 0));
    assert!(office.stored().is_empty());
    // Staff enrol the tablet again for the same resident (a new code): her queued
    // check-ins are hers, so the office takes them.
    let code = office.store.create_enrolment_code(Some(backend::store::ResidentId(1)), Utc::now()).unwrap();
    kiosk::sync::enrol(&office.url().into(), &code, &db).unwrap();
    handle.nudge();
    wait_for("delivery after re-enrolment", Duration::from_secs(10), || store.outbox_len().unwrap() == 0);
    drop(handle);
    assert_exactly_once(&office, &created);
    // A store never enrolled is "not enrolled" too, not "offline".
    let fresh = dir.path().join("fresh.sqlite");
    let (handle, seen) = spawn_worker(fast_config(&office, &fresh));
    wait_for("not enrolled", Duration::from_secs(10), || !seen.lock().unwrap().is_empty());
    drop(handle);
    assert_eq!(seen.lock().unwrap()[0], SyncStatus::NotEnrolled);
}

/// Regression: an enrolment whose answer was lost (here: never saved, as if the tablet
/// lost power) burnt the code. The same tablet asks again with the same code and gets
/// its device back; another tablet with the code does not.
#[test]
fn an_enrolment_asked_again_after_a_lost_answer_gets_the_same_device() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let (_, code) = office.resident_and_code();
    let db = dir.path().join("kiosk.sqlite");
    let key = Store::open(&db).unwrap().enrol_key().unwrap();
    assert_eq!(Store::open(&db).unwrap().enrol_key().unwrap(), key, "the key is kept");
    let first = kiosk::sync::enrol(&office.url().into(), &code, &db).unwrap();
    let again = kiosk::sync::enrol(&office.url().into(), &code, &db).unwrap();
    assert_eq!(again.device_id, first.device_id);
    assert_eq!(Store::open(&db).unwrap().device_credentials().unwrap().unwrap().device_id, first.device_id);
    let other = dir.path().join("other.sqlite");
    assert!(
        kiosk::sync::enrol(&office.url().into(), &code, &other).is_err(),
        "another tablet cannot use the code"
    );
}

/// Polls `db` read-only (no migration races with the agent creating it) until its
/// newest sequence number passes `before`.
fn wait_for_a_write(db: &Path, before: u64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seq = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| {
                c.query_row("SELECT next_seq - 1 FROM device WHERE id = 1", [], |r| r.get::<_, i64>(0))
            });
        if matches!(seq, Ok(n) if n > before as i64) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: the agent wrote nothing within 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `kiosk-agent` killed with SIGKILL mid-writes and mid-sync, three times, then run
/// to the end: every committed event reaches the office once, sequence numbers
/// without gaps, and the local outbox always holds a contiguous tail.
#[test]
fn kill_9_of_kiosk_agent_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let (_, code) = office.resident_and_code();
    let db = dir.path().join("agent.sqlite");
    let agent = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk-agent"));
        cmd.args(["--db", db.to_str().unwrap(), "--server", office.url().as_str(), "--enrol-code", &code])
            .args(["--poll-ms", "50", "--backoff-max-ms", "200"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        cmd
    };
    // The delays count from the agent's first committed event, not from its start:
    // enrolment and the first roster pull take longer than the delays on a loaded
    // CI machine, and a kill before any write tests nothing.
    for (i, kill_after_ms) in [150u64, 400, 30].into_iter().enumerate() {
        let before = if db.exists() { Store::open(&db).unwrap().created_seq().unwrap() } else { 0 };
        let mut child =
            tests::ChildGuard::spawn("kiosk-agent", &mut agent(&["--create", "400", "--interval-ms", "2"]))
                .unwrap();
        wait_for_a_write(&db, before, &format!("run {i}"));
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        child.stop(); // SIGKILL
        let store = Store::open(&db).unwrap();
        let created = store.created_seq().unwrap();
        let seqs: Vec<u64> = store.outbox_batch(100_000).unwrap().iter().map(|e| e.seq.0).collect();
        if let (Some(first), Some(last)) = (seqs.first(), seqs.last()) {
            assert_eq!(seqs, (*first..=*last).collect::<Vec<_>>(), "run {i}: outbox not contiguous");
            assert_eq!(*last, created, "run {i}: the newest event is queued");
        }
        assert!(created > before, "run {i}: the agent made nothing before the kill");
    }
    let out = agent(&["--until-synced", "--deadline-s", "60"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let figures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures["outbox_len"], 0);
    let created = figures["created_seq"].as_u64().unwrap();
    let stored = office.stored();
    assert_eq!(stored.iter().map(|s| s.1).collect::<Vec<_>>(), (1..=created).collect::<Vec<_>>());
    let ids: std::collections::BTreeSet<&String> = stored.iter().map(|s| &s.2).collect();
    assert_eq!(ids.len() as u64, created);
}

// ---- A proxy that loses the office's answers. ----

/// Forwards TCP to the office; on the next `n` connections it passes the request on
/// but swallows the answer (the client times out with its events stored), or passes
/// only the answer's first bytes and hangs up (a response cut mid-body).
struct AckEater {
    addr: SocketAddr,
    to_swallow: Arc<AtomicU32>,
    to_cut: Arc<AtomicU32>,
    to_fail: Arc<AtomicU32>,
    swallowed: Arc<AtomicU32>,
}

impl AckEater {
    fn start(office: SocketAddr) -> AckEater {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let to_swallow = Arc::new(AtomicU32::new(0));
        let to_cut = Arc::new(AtomicU32::new(0));
        let to_fail = Arc::new(AtomicU32::new(0));
        let swallowed = Arc::new(AtomicU32::new(0));
        std::thread::spawn({
            let (to_swallow, to_cut, to_fail, swallowed) =
                (to_swallow.clone(), to_cut.clone(), to_fail.clone(), swallowed.clone());
            move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    let Ok(upstream) = TcpStream::connect(office) else { continue };
                    let take = |n: &AtomicU32| {
                        n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
                    };
                    if take(&to_fail) {
                        answer_503(client);
                        continue;
                    }
                    let pass = if take(&to_swallow) {
                        0
                    } else if take(&to_cut) {
                        60 // the status line and part of the headers
                    } else {
                        usize::MAX
                    };
                    if pass != usize::MAX {
                        swallowed.fetch_add(1, Ordering::SeqCst);
                    }
                    pump(client.try_clone().unwrap(), upstream.try_clone().unwrap(), usize::MAX);
                    pump(upstream, client, pass);
                }
            }
        });
        AckEater { addr, to_swallow, to_cut, to_fail, swallowed }
    }

    fn swallow_next(&self, n: u32) {
        self.to_swallow.store(n, Ordering::SeqCst);
    }

    fn cut_next(&self, n: u32) {
        self.to_cut.store(n, Ordering::SeqCst);
    }

    /// The next `n` connections get "503 Service Unavailable" (the office overloaded).
    fn fail_next(&self, n: u32) {
        self.to_fail.store(n, Ordering::SeqCst);
    }

    fn swallowed(&self) -> u32 {
        self.swallowed.load(Ordering::SeqCst)
    }
}

/// Reads the request (until the client pauses), answers 503 and hangs up.
fn answer_503(mut client: TcpStream) {
    std::thread::spawn(move || {
        let _ = client.set_read_timeout(Some(Duration::from_millis(150)));
        let mut buf = [0u8; 16 * 1024];
        while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
        let body = r#"{"error":"overloaded"}"#;
        let _ = write!(
            client,
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = client.shutdown(std::net::Shutdown::Both);
    });
}

/// Copies `from` to `to`, passing at most `pass` bytes; then hangs up both ways.
fn pump(mut from: TcpStream, mut to: TcpStream, mut pass: usize) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let send = n.min(pass);
                    if send > 0 && to.write_all(&buf[..send]).is_err() {
                        break;
                    }
                    pass -= send;
                    if pass == 0 && send < n {
                        // Cut mid-answer: the client sees a truncated response.
                        let _ = from.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// A help request goes out at once on a nudge, even when the next poll is a minute
/// away; and what goes out carries no name.
#[test]
fn a_nudge_sends_a_help_request_at_once_and_bodies_carry_no_name() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let (mut store, db) = enrolled_store(&office, dir.path());
    let mut config = fast_config(&office, &db);
    config.poll = Duration::from_secs(60);
    let (handle, seen) = spawn_worker(config);
    wait_for("first round", Duration::from_secs(10), || !seen.lock().unwrap().is_empty());
    let r = store.residents().unwrap()[0].clone();
    let help = CareEvent::HelpAlert {
        raised_at: at(day(), 8, 1),
        during: Some(QuestionId::HowFeeling),
        intent: Intent::NeedHelp,
        confirmed: true,
        danger: Some(care::understanding::Danger::Fire),
    };
    let id = store.record_care_event(r.id, &help, Utc::now()).unwrap();
    store.record_care_event(r.id, &checkin(day(), true), Utc::now()).unwrap();
    for ev in store.outbox_batch(10).unwrap() {
        assert!(!ev.body.to_string().contains(&r.display_name), "a name in {:?}", ev.kind);
    }
    let sent = &store.outbox_batch(1).unwrap()[0];
    assert_eq!((sent.kind, &sent.body["danger"]), (wire::EventKind::HelpRequest, &serde_json::json!("fire")));
    let started = Instant::now();
    handle.nudge();
    // Well under the 60 s poll, with room for a loaded CI machine.
    wait_for("the help request delivered", Duration::from_secs(20), || store.outbox_len().unwrap() == 0);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(office.stored().iter().any(|s| s.2 == id.0.to_string()));
}

/// An event the office refuses for good (an answer to a campaign it does not know)
/// moves to the dead-letter table, is counted, and is not sent again; the events
/// around it are delivered.
#[test]
fn a_rejected_event_becomes_a_dead_letter_and_is_never_resent() {
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let (mut store, db) = enrolled_store(&office, dir.path());
    let r = ResidentId(1);
    let first = store.record_care_event(r, &checkin(day(), false), Utc::now()).unwrap();
    store.record_safety_answer(r, 999_999, wire::SafetyReply::Safe, Utc::now()).unwrap();
    let last = store.record_care_event(r, &checkin(day(), true), Utc::now()).unwrap();
    let (handle, seen) = spawn_worker(fast_config(&office, &db));
    wait_for("delivery", Duration::from_secs(10), || store.outbox_len().unwrap() == 0);
    // Several more rounds: nothing further reaches the office.
    let rounds = seen.lock().unwrap().len();
    wait_for("more rounds", Duration::from_secs(10), || seen.lock().unwrap().len() >= rounds + 3);
    drop(handle);
    assert_eq!(store.dead_letter_len().unwrap(), 1);
    let stored = office.stored();
    assert_eq!(stored.iter().map(|s| s.1).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(
        stored.iter().map(|s| s.2.clone()).collect::<Vec<_>>(),
        [first.0.to_string(), last.0.to_string()]
    );
    assert!(matches!(seen.lock().unwrap().last(), Some(SyncStatus::Online { outbox_len: 0, .. })));
}

/// The heartbeat names the bundle the speech worker uses, which is not always the
/// newest installed one (a file that failed to open leaves the built-in model).
#[test]
fn the_heartbeat_reports_the_dialect_bundle_in_use_over_the_one_installed() {
    let check = |in_use: Option<Option<u32>>, installed: Option<u32>, reported: Option<u32>| {
        let health = DeviceHealth { dialect_in_use: in_use, ..DeviceHealth::default() };
        assert_eq!(health.reported_bundle(installed), reported, "in use {in_use:?}, installed {installed:?}");
    };
    check(Some(Some(2)), Some(3), Some(2)); // 3 arrived, not swapped in yet
    check(Some(None), Some(3), None); // 3 failed to open: the built-in model runs
    check(None, Some(3), Some(3)); // no speech worker (kiosk-agent): what is installed
    check(None, None, None);
}

/// The learning loop's last mile: a bundle that `dialect-model` wrote from staff
/// corrections is published at the office, announced in the pull, fetched, checked,
/// written beside the database and handed to whoever swaps it in, once; a file the
/// office serves wrong is refused and nothing is installed.
#[test]
fn a_published_dialect_bundle_is_fetched_checked_and_installed_once() {
    use dialect_model::intent::{Question, Understander};
    use dialect_model::learn;
    let dir = tempfile::tempdir().unwrap();
    let office = Office::start(dir.path());
    let (_, db) = enrolled_store(&office, dir.path());
    // Learn from the corrections fixture, as staff's export would feed it.
    let builtin = Understander::load_default().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dialect-model/tests/data/corrections.tsv");
    let corrections =
        learn::parse_corrections("fixture", &std::fs::read_to_string(fixtures).unwrap()).unwrap();
    let examples = learn::load_examples(&learn::examples_path()).unwrap();
    let (lexicon, merged) = learn::merge(&builtin.lexicon, &examples, &corrections);
    let learnt =
        Understander { model: learn::train(&lexicon, &merged), lexicon, danger: builtin.danger.clone() };
    let text = learn::bundle(2, &learnt);
    assert_eq!(office.store.publish_bundle(&text, None, Utc::now()).unwrap(), 2);

    let installed: Arc<Mutex<Vec<(u32, PathBuf)>>> = Arc::default();
    let mut config = fast_config(&office, &db);
    let bundles = dir.path().join("dialect-bundles");
    config.bundles = Some(kiosk::sync::BundleSink {
        dir: bundles.clone(),
        installed: Arc::new({
            let installed = installed.clone();
            move |v, p| installed.lock().unwrap().push((v, p.to_owned()))
        }),
    });
    let (handle, seen) = spawn_worker(config.clone());
    wait_for("the bundle installed", Duration::from_secs(20), || !installed.lock().unwrap().is_empty());
    let (version, path) = installed.lock().unwrap()[0].clone();
    assert_eq!(version, 2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "byte for byte");
    let (v, u) = learn::open_bundle(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v, 2);
    let c = &corrections[0];
    assert_eq!(u.understand(&c.text, Question::Open).intent, c.intent, "the correction travelled");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.installed_dialect_bundle().unwrap(), Some((2, path.clone())));
    assert_eq!(store.wanted_dialect_bundle().unwrap(), None);
    // More rounds fetch nothing more.
    let rounds = seen.lock().unwrap().len();
    wait_for("three more rounds", Duration::from_secs(10), || seen.lock().unwrap().len() >= rounds + 3);
    assert_eq!(installed.lock().unwrap().len(), 1);
    handle.stop();
    // The heartbeat tells staff which bundle the tablet has.
    let rows = office.store.device_list(None, Utc::now(), backend::store::Page(0)).unwrap().rows;
    let reported: Vec<_> =
        rows.iter().map(|d| d.health.as_ref().and_then(|(h, _)| h.dialect_bundle)).collect();
    assert_eq!(reported, [Some(2)]);

    // Version 3 is damaged in the office's database: the tablet refuses it and keeps 2.
    assert_eq!(office.store.publish_bundle(&learn::bundle(3, &learnt), None, Utc::now()).unwrap(), 3);
    let conn = rusqlite::Connection::open(dir.path().join("office.sqlite")).unwrap();
    conn.execute("UPDATE dialect_bundles SET body = substr(body, 1, 100) WHERE version = 3", []).unwrap();
    let (handle, seen) = spawn_worker(config);
    wait_for("a refused fetch", Duration::from_secs(20), || {
        seen.lock()
            .unwrap()
            .iter()
            .any(|s| matches!(s, SyncStatus::Offline { reason: OfflineReason::BadResponse, .. }))
    });
    handle.stop();
    assert_eq!(installed.lock().unwrap().len(), 1);
    assert_eq!(store.installed_dialect_bundle().unwrap(), Some((2, path)));
    let files: Vec<_> = std::fs::read_dir(&bundles).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, ["dialect-bundle-2.txt"], "no part file left behind");
}

#[test]
fn an_office_ca_file_that_cannot_be_used_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let url: Url = "https://office.example/".parse().unwrap();
    let check = |name: &str, contents: Option<&[u8]>, expected: Option<&str>| {
        let path = dir.path().join(name);
        if let Some(bytes) = contents {
            std::fs::write(&path, bytes).unwrap();
        }
        match (kiosk::sync::Office::with_ca_file(url.clone(), &path), expected) {
            (Ok(office), None) => assert_eq!(office.ca.len(), 1, "{name}"),
            (Err(e), Some(words)) => {
                let said = e.to_string();
                assert!(said.contains(words) && said.contains(name), "{name}: {said}");
            }
            (other, _) => panic!("{name}: {other:?}"),
        }
    };
    let ca = rcgen::generate_simple_self_signed(vec!["office.lan".into()]).unwrap();
    check("town-ca.pem", Some(ca.cert.pem().as_bytes()), None);
    check("missing.pem", None, Some("No such file"));
    check("empty.pem", Some(b"".as_slice()), Some("no PEM certificate"));
    check(
        "garbage.pem",
        Some(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n".as_slice()),
        Some(""),
    );
}
