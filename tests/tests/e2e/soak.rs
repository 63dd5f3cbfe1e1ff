//! Fault scenarios with the real sync: the `kiosk-agent` binary (the kiosk's own store
//! and sync worker) talks through the fault proxy to the `backend` binary, and each
//! cycle runs one scenario: network faults (drops, delays, duplicates, reorders,
//! mid-body cuts), SIGKILL of the agent while it writes and syncs, SIGKILL of the
//! backend mid-batch, a full disk on the tablet, and its clock a day fast or slow.
//!
//! After each: for the device, the server holds seqs 1..=created_seq exactly once each,
//! in arrival order, nothing left in the outbox or dead-lettered; the server's time,
//! not the tablet's, is what it recorded as arrival. Every cycle also sends malformed
//! requests at the backend process, and ends with the privacy scan over every database,
//! WAL, log and captured HTTP byte of the cycle.
//!
//! `MIMAMORI_SOAK_CYCLES` (default 6: each scenario once), `MIMAMORI_SOAK_FUZZ`
//! (malformed requests in all, default 600) and `MIMAMORI_SEED`; `cargo xtask soak`
//! sets them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tests::privacy::{Secret, scan_paths};
use tests::services::{AgentOptions, AgentReport, AgentRun, BackendProcess, Binaries, binaries};
use tests::{FaultPlan, FaultProxy, FaultStats, Rng};

use crate::fuzz::run_fuzz;
use crate::privacy::card_secrets;
use crate::support::{add_resident, env_number};

/// Transcript-like answers a resident could say; none may reach a file or the wire.
const TRANSCRIPTS: &[&str] = &["膝がいでくてよ", "ゆんべ、ねらんにぇ", "たすけてけろ", "腹へったず"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    NetworkFaults,
    AgentKills,
    BackendKill,
    FullDisk,
    ClockAhead,
    ClockBehind,
}

/// Each cycle plays one, in this order.
const SCENARIOS: [Scenario; 6] = [
    Scenario::NetworkFaults,
    Scenario::AgentKills,
    Scenario::BackendKill,
    Scenario::FullDisk,
    Scenario::ClockAhead,
    Scenario::ClockBehind,
];

/// Rough weather on the network: every fault at once.
const STORM: FaultPlan = FaultPlan {
    drop: 80,
    delay: 120,
    max_delay_ms: 300,
    duplicate: 120,
    reorder: 60,
    cut_request: 80,
    cut_response: 100,
};

/// A poor but working line, under the other faults.
const POOR: FaultPlan = FaultPlan {
    drop: 30,
    delay: 50,
    max_delay_ms: 150,
    duplicate: 50,
    reorder: 20,
    cut_request: 30,
    cut_response: 50,
};

const DAY_S: i64 = 86_400;

/// Sums over the soak.
#[derive(Debug, Default)]
struct Tally {
    cycles: u64,
    created: u64,
    stored: u64,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    agent_kills: u64,
    backend_kills: u64,
    backend_kills_mid_request: u64,
    full_waits: u64,
    fuzz: u64,
    fuzz_stored: u64,
    fuzz_time: Duration,
    scanned_files: usize,
    scanned_bytes: u64,
    faults: FaultStats,
}

fn add_faults(sum: &mut FaultStats, s: FaultStats) {
    sum.connections += s.connections;
    sum.requests += s.requests;
    sum.passed += s.passed;
    sum.dropped += s.dropped;
    sum.delayed += s.delayed;
    sum.duplicated += s.duplicated;
    sum.reordered += s.reordered;
    sum.cut_requests += s.cut_requests;
    sum.cut_responses += s.cut_responses;
    sum.overtakes += s.overtakes;
}

/// What the server holds for one device.
#[derive(Debug, Default, PartialEq, Eq)]
struct DeviceCheck {
    stored: u64,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    beyond: u64,
}

/// The server's rows for `resident`'s tablet in arrival order, read-only:
/// (device, seq, device_ms, server_ms).
fn server_rows(db: &Path, resident: i64) -> Vec<(i64, u64, i64, i64)> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn
        .prepare("SELECT device_id, seq, device_ms, server_ms FROM events WHERE resident_id = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([resident], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn check_device(rows: &[(i64, u64, i64, i64)], created_seq: u64) -> DeviceCheck {
    let mut seen = vec![0u32; created_seq as usize + 1];
    let mut c = DeviceCheck::default();
    let mut last = 0;
    for &(_, seq, _, _) in rows {
        if seq == 0 || seq > created_seq {
            c.beyond += 1;
            continue;
        }
        seen[seq as usize] += 1;
        if seq < last {
            c.out_of_order += 1;
        }
        last = seq;
    }
    for &n in &seen[1..] {
        match n {
            0 => c.lost += 1,
            1 => c.stored += 1,
            more => {
                c.stored += 1;
                c.duplicated += u64::from(more - 1);
            }
        }
    }
    c
}

/// Bytes of the kiosk store in use (pages minus free pages), read-only.
fn used_bytes(db: &Path) -> u64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let q = |p: &str| conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    (q("page_count") - q("freelist_count")) * q("page_size")
}

fn base_options() -> AgentOptions {
    AgentOptions {
        poll_ms: 50,
        backoff_max_ms: 400,
        // Shorter than the proxy's reorder wait, so a held request is retried on a new
        // connection and the held one arrives late, after newer ones.
        timeout_ms: 1_000,
        deadline_s: Some(120),
        ..AgentOptions::default()
    }
}

/// One cycle's parts and counters.
struct Cycle<'a> {
    bins: &'a Binaries,
    dir: PathBuf,
    rng: Rng,
    backend: BackendProcess,
    proxy: FaultProxy,
    kiosk_db: PathBuf,
    runs: u32,
    agent_kills: u64,
    backend_kills: u64,
    backend_kills_mid_request: u64,
}

impl Cycle<'_> {
    fn spawn(&mut self, opts: &AgentOptions) -> AgentRun {
        self.runs += 1;
        let log = self.dir.join(format!("agent-{}.log", self.runs));
        AgentRun::spawn(&self.bins.kiosk_agent, &self.kiosk_db, &self.proxy.url(), opts, &log).unwrap()
    }

    fn run(&mut self, opts: &AgentOptions) -> AgentReport {
        let run = self.spawn(opts);
        run.finish(Duration::from_secs(150)).unwrap_or_else(|e| panic!("{}: {e:#}", self.dir.display()))
    }

    fn sleep_ms(&mut self, lo: u64, hi: u64) {
        std::thread::sleep(Duration::from_millis(self.rng.range(lo, hi)));
    }

    /// The scenario; returns the agent's figures after its last, synced run.
    fn play(&mut self, scenario: Scenario, code: &str) -> AgentReport {
        let n = self.rng.range(20, 60);
        // Enrolment first, on a clean line: a one-time code whose answer is lost cannot
        // be used again (staff issue a new one), which is not what these scenarios test.
        self.proxy.set_plan(FaultPlan::CLEAN);
        self.run(&AgentOptions { enrol_code: Some(code.to_owned()), until_synced: true, ..base_options() });
        let mut first = base_options();
        match scenario {
            Scenario::NetworkFaults => {
                self.proxy.set_plan(STORM);
                first.create = n;
                first.interval_ms = self.rng.range(5, 25);
                first.until_synced = true;
                self.run(&first)
            }
            Scenario::AgentKills => {
                self.proxy.set_plan(POOR);
                let kills = self.rng.range(2, 3);
                let mut opts = first;
                for _ in 0..kills {
                    opts.create = n;
                    opts.interval_ms = self.rng.range(5, 25);
                    let run = self.spawn(&opts);
                    self.sleep_ms(30, 700);
                    run.kill9();
                    self.agent_kills += 1;
                }
                opts.create = self.rng.range(0, 5);
                opts.until_synced = true;
                self.run(&opts)
            }
            Scenario::BackendKill => {
                self.proxy.set_plan(POOR);
                first.create = n;
                first.interval_ms = self.rng.range(5, 25);
                first.until_synced = true;
                let run = self.spawn(&first);
                for _ in 0..self.rng.range(1, 2) {
                    self.sleep_ms(100, 500);
                    // Mid-batch where it can be caught: as soon as a request is in the
                    // server's hands (or after two seconds without one).
                    let until = Instant::now() + Duration::from_secs(2);
                    while self.proxy.in_flight() == 0 && Instant::now() < until {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    let mid_request = self.proxy.in_flight() > 0;
                    self.backend.kill9();
                    self.backend_kills += 1;
                    self.backend_kills_mid_request += u64::from(mid_request);
                    self.sleep_ms(50, 600);
                    self.backend.restart().unwrap();
                }
                run.finish(Duration::from_secs(150)).unwrap()
            }
            Scenario::FullDisk => {
                // Measure what an event costs this store: offline, k events fill the
                // outbox and the local records; online, the outbox drains.
                let k = 20;
                let used0 = used_bytes(&self.kiosk_db);
                self.proxy.set_plan(FaultPlan::always(tests::Fault::Drop));
                self.run(&AgentOptions { create: k, ..first.clone() });
                let used1 = used_bytes(&self.kiosk_db);
                self.proxy.set_plan(FaultPlan::CLEAN);
                self.run(&AgentOptions { until_synced: true, ..first.clone() });
                let used2 = used_bytes(&self.kiosk_db);
                let local = used2.saturating_sub(used0) / k;
                let outbox = used1.saturating_sub(used2) / k;
                assert!(
                    outbox > 0,
                    "{}: the outbox took no space ({used0}, {used1}, {used2})",
                    self.dir.display()
                );
                // A cap with room for n events' records but only half their outbox: the
                // store fills while offline and has room again once the line is back.
                let n = self.rng.range(30, 50);
                let cap = used2 + n * local + n * outbox / 2 + 4096;
                self.proxy.set_plan(FaultPlan::always(tests::Fault::Drop));
                let opts = AgentOptions {
                    create: n,
                    max_db_kib: Some(cap / 1024),
                    until_synced: true,
                    interval_ms: 1,
                    ..first
                };
                let run = self.spawn(&opts);
                self.sleep_ms(1_000, 1_500);
                self.proxy.set_plan(POOR);
                let report = run.finish(Duration::from_secs(150)).unwrap();
                assert!(
                    report.full > 0,
                    "the capped store never filled: {report:?} ({})",
                    self.dir.display()
                );
                report
            }
            Scenario::ClockAhead | Scenario::ClockBehind => {
                self.proxy.set_plan(POOR);
                first.create = n;
                first.interval_ms = self.rng.range(5, 25);
                first.until_synced = true;
                first.clock_skew_s = if scenario == Scenario::ClockAhead { DAY_S } else { -DAY_S };
                self.run(&first)
            }
        }
    }
}

/// Runs one cycle in `dir`; adds to `tally`.
fn cycle(
    bins: &Binaries,
    dir: &Path,
    index: u64,
    seed: u64,
    fuzz: u64,
    secrets: &[Secret],
    tally: &mut Tally,
) {
    let scenario = SCENARIOS[index as usize % SCENARIOS.len()];
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let backend = BackendProcess::start(&bins.backend, dir).unwrap();
    let store = backend::store::Store::open(&backend.db).unwrap();
    let resident = add_resident(&store, "テスト 花子");
    let code = store.create_enrolment_code(Some(resident), chrono::Utc::now()).unwrap();
    let proxy = FaultProxy::start(backend.addr, rng.next_u64(), FaultPlan::CLEAN).unwrap();
    let mut c = Cycle {
        bins,
        dir: dir.to_owned(),
        rng,
        backend,
        proxy,
        kiosk_db: dir.join("kiosk.sqlite"),
        runs: 0,
        agent_kills: 0,
        backend_kills: 0,
        backend_kills_mid_request: 0,
    };
    let report = c.play(scenario, &code);
    let here = format!("cycle {index} ({scenario:?}, seed {seed}, {})", dir.display());
    assert_eq!((report.outbox_len, report.dead_letter), (0, 0), "{here}: {report:?}");

    let rows = server_rows(&c.backend.db, resident.0);
    let devices: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.0).collect();
    assert!(devices.len() <= 1, "{here}: one tablet, rows from {devices:?}");
    let check = check_device(&rows, report.created_seq);
    assert_eq!(
        check,
        DeviceCheck { stored: report.created_seq, ..DeviceCheck::default() },
        "{here}: server rows against created_seq {}",
        report.created_seq
    );
    // The server records its own arrival time; the tablet's time is carried as sent.
    let skew = match scenario {
        Scenario::ClockAhead => DAY_S * 1000,
        Scenario::ClockBehind => -DAY_S * 1000,
        _ => 0,
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    for &(_, seq, device_ms, server_ms) in &rows {
        assert!((now_ms - server_ms).abs() < 600_000, "{here}: seq {seq} has server time {server_ms}");
        let drift = device_ms - server_ms - skew;
        assert!(drift.abs() < 600_000, "{here}: seq {seq} device time off by {drift} ms beyond the skew");
    }

    if fuzz > 0 {
        let db = c.backend.db.clone();
        let out = run_fuzz(c.backend.addr, &db, &store, fuzz, seed ^ index, false);
        tally.fuzz += out.requests;
        tally.fuzz_stored += out.stored;
        tally.fuzz_time += out.elapsed;
    }
    drop(store);
    add_faults(&mut tally.faults, c.proxy.stats());
    c.proxy.stop();
    c.proxy.save_capture(&dir.join("capture.http")).unwrap();
    c.backend.kill9();
    let log = std::fs::read_to_string(&c.backend.log).unwrap_or_default();
    assert!(!log.contains("panicked"), "{here}: the backend panicked (see its log)");

    let report_scan = scan_paths(&[dir.to_path_buf()], secrets).unwrap_or_else(|e| panic!("{here}: {e}"));
    tally.scanned_files += report_scan.files;
    tally.scanned_bytes += report_scan.bytes;
    tally.cycles += 1;
    tally.created += report.created_seq;
    tally.stored += check.stored;
    tally.lost += check.lost;
    tally.duplicated += check.duplicated;
    tally.out_of_order += check.out_of_order;
    tally.agent_kills += c.agent_kills;
    tally.backend_kills += c.backend_kills;
    tally.backend_kills_mid_request += c.backend_kills_mid_request;
    tally.full_waits += report.full;
}

fn print_table(t: &Tally, elapsed: Duration) {
    eprintln!(
        "soak: | cycles | created | stored | lost | duplicated | out of order | fuzz requests | elapsed |"
    );
    eprintln!("soak: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    eprintln!(
        "soak: | {} | {} | {} | {} | {} | {} | {} | {:.0} s |",
        t.cycles,
        t.created,
        t.stored,
        t.lost,
        t.duplicated,
        t.out_of_order,
        t.fuzz,
        elapsed.as_secs_f64()
    );
    let f = &t.faults;
    eprintln!(
        "soak: faults: {} requests over {} connections: {} dropped, {} delayed, {} duplicated, {} reordered \
         ({} overtaken), {} cut mid-request, {} cut mid-response; {} agent SIGKILLs, {} backend SIGKILLs \
         ({} with a request in its hands), {} full-disk waits",
        f.requests,
        f.connections,
        f.dropped,
        f.delayed,
        f.duplicated,
        f.reordered,
        f.overtakes,
        f.cut_requests,
        f.cut_responses,
        t.agent_kills,
        t.backend_kills,
        t.backend_kills_mid_request,
        t.full_waits
    );
    eprintln!(
        "soak: fuzz against the backend process: {} malformed requests in {:.1} s, all 4xx or refused per event \
         ({} unknown-kind events stored and acknowledged)",
        t.fuzz,
        t.fuzz_time.as_secs_f64(),
        t.fuzz_stored
    );
    eprintln!("soak: privacy scan: {} files, {} bytes, no secret found", t.scanned_files, t.scanned_bytes);
}

#[test]
fn under_faults_nothing_is_lost_duplicated_or_leaked() {
    let bins = binaries().unwrap();
    let cycles = env_number("MIMAMORI_SOAK_CYCLES", SCENARIOS.len() as u64);
    let fuzz_total = env_number("MIMAMORI_SOAK_FUZZ", 600);
    let seed = env_number("MIMAMORI_SEED", 0x6d69_6d61);
    let secrets = card_secrets(TRANSCRIPTS);
    let started = Instant::now();
    let mut tally = Tally::default();
    let root = tempfile::tempdir().unwrap();
    for i in 0..cycles {
        // Spread the fuzz requests over the cycles, the remainder on the first.
        let fuzz = fuzz_total / cycles.max(1) + if i == 0 { fuzz_total % cycles.max(1) } else { 0 };
        let dir = root.path().join(format!("cycle-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        cycle(&bins, &dir, i, seed, fuzz, &secrets, &mut tally);
        // A passed cycle's files are scanned already; free the disk for long soaks.
        let _ = std::fs::remove_dir_all(&dir);
        if i % 10 == 9 {
            eprintln!("soak: {} cycles, {:.0} s", i + 1, started.elapsed().as_secs_f64());
        }
    }
    print_table(&tally, started.elapsed());
    assert_eq!((tally.lost, tally.duplicated, tally.out_of_order), (0, 0, 0));
    assert_eq!(tally.stored, tally.created);
    assert!(tally.created > 0 && tally.cycles == cycles);
}

#[test]
fn the_device_check_catches_loss_duplication_and_disorder() {
    let row = |seq| (1, seq, 0, 0);
    assert_eq!(check_device(&[row(1), row(2), row(3)], 3), DeviceCheck { stored: 3, ..Default::default() });
    assert_eq!(check_device(&[row(1), row(3)], 3), DeviceCheck { stored: 2, lost: 1, ..Default::default() });
    assert_eq!(
        check_device(&[row(1), row(2), row(2)], 2),
        DeviceCheck { stored: 2, duplicated: 1, out_of_order: 0, ..Default::default() }
    );
    assert_eq!(
        check_device(&[row(2), row(1)], 2),
        DeviceCheck { stored: 2, out_of_order: 1, ..Default::default() }
    );
    assert_eq!(
        check_device(&[row(1), row(5)], 1),
        DeviceCheck { stored: 1, beyond: 1, ..Default::default() }
    );
}
