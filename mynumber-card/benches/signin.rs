//! Sign-in latency: from "card detected" (the monitor's CardPresent event) to
//! "identity known" (certificate read and checked, tries left read), against the
//! virtual card in a real pcscd's vpcd reader, with and without TCP_QUICKACK on the
//! card side. Prints median and p90 over N runs (`SIGNIN_BENCH_RUNS`, default 15)
//! and the median time per APDU, which shows vpcd's delayed-ACK stall.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mynumber_card::{ApduExchange, CardEvent, Client, Monitor, TrustAnchors};
use tests::pcscd::VPCD_READERS;
use tests::{Pcscd, VirtualCardProcess};
use virtual_mynumber_card::TestPki;

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("SIGNIN_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(15);
    let dir = tempfile::tempdir()?;
    TestPki::load_or_create(dir.path(), "試験 花子")?;
    let anchors = TrustAnchors::from_pem_files(&[dir.path().join("ca.pem")])?;
    let pki_dir = dir.path().to_string_lossy().into_owned();
    let _pcscd = Pcscd::start()?;
    println!("sign-in latency, card detected -> identity known ({runs} runs each)");
    for quickack in [true, false] {
        let exchanges: Arc<Mutex<Vec<ApduExchange>>> = Arc::default();
        let tap = Arc::clone(&exchanges);
        let mut client = Client::new(anchors.clone())
            .with_apdu_tap(Arc::new(move |x: &ApduExchange| tap.lock().unwrap().push(x.clone())));
        let mut monitor = Monitor::new();
        monitor.poll(Duration::ZERO);
        let mut latencies = Vec::new();
        for _ in 0..runs {
            let mut args = vec!["--pki-dir", pki_dir.as_str()];
            if !quickack {
                args.push("--no-quickack");
            }
            let card = VirtualCardProcess::start(&args)?;
            wait_for(&mut monitor, &CardEvent::CardPresent(VPCD_READERS[0].into()))?;
            let detected = Instant::now();
            let id = client.identify(VPCD_READERS[0])?;
            latencies.push(detected.elapsed());
            std::hint::black_box(id);
            card.pull();
            wait_for(&mut monitor, &CardEvent::CardRemoved(VPCD_READERS[0].into()))?;
        }
        let exchanges = exchanges.lock().unwrap();
        let mut per_apdu: Vec<Duration> = exchanges.iter().map(|x| x.elapsed).collect();
        latencies.sort();
        per_apdu.sort();
        println!(
            "  card TCP_QUICKACK {:3}: median {:7.1} ms  p90 {:7.1} ms  ({} APDUs per sign-in, median {:.2} ms per APDU)",
            if quickack { "on" } else { "off" },
            ms(percentile(&latencies, 50)),
            ms(percentile(&latencies, 90)),
            exchanges.len() / runs.max(1),
            ms(percentile(&per_apdu, 50)),
        );
    }
    Ok(())
}

fn wait_for(monitor: &mut Monitor, want: &CardEvent) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if monitor.poll(Duration::from_millis(100)).contains(want) {
            return Ok(());
        }
    }
    anyhow::bail!("timed out waiting for {want:?}")
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) * p).div_ceil(100)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
