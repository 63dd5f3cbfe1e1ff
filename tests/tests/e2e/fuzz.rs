//! Malformed requests against a real server on a loopback socket: no 5xx, no panic,
//! the server still answers, and nothing stored beyond what it acknowledged storing.
//! `MIMAMORI_FUZZ_REQUESTS` sets the count here; the soak runs more against the
//! backend as a separate process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use tests::fuzz::{Expect, FuzzContext, Generator, send};

use crate::support::{Office, add_resident, env_number, panics_so_far, request, table_counts};

/// Tables a refused request may still touch: the failed-enrolment counter is how the
/// server rate-limits code guessing.
const MAY_GROW: &[&str] = &["login_failures"];

/// Stored acks in an upload response.
fn stored_acks(body: &[u8]) -> u64 {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    json["acks"].as_array().into_iter().flatten().filter(|a| a[1] == "stored").count() as u64
}

/// What a fuzz run did.
#[derive(Debug, Default, Clone, Copy)]
pub struct FuzzOutcome {
    pub requests: u64,
    pub stored: u64,
    pub elapsed: Duration,
}

/// Enrols two tablets on the server at `addr` (one then revoked), sends `total`
/// generated requests, and checks every answer and the database at `db` (read-only).
/// Panics with every bad answer listed.
pub fn run_fuzz(
    addr: SocketAddr,
    db: &Path,
    store: &backend::store::Store,
    total: u64,
    seed: u64,
    verbose: bool,
) -> FuzzOutcome {
    let now = chrono::Utc::now();
    let resident = add_resident(store, "ファズ");
    let enrol = || {
        let code = store.create_enrolment_code(Some(resident), now).unwrap();
        let (status, body) = request(addr, "POST", "/api/v1/enrol", None, &format!(r#"{{"code":"{code}"}}"#));
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        (code, json["device_token"].as_str().unwrap().to_owned())
    };
    let (used_code, token) = enrol();
    let (_, revoked_token) = enrol();
    let revoked = store.authenticate_device(&revoked_token).unwrap().unwrap().device;
    assert!(store.revoke_device(revoked, now).unwrap());
    let before = table_counts(db);

    let mut generator = Generator::new(seed, FuzzContext { token, revoked_token, used_code });
    let mut per_category: BTreeMap<&str, (u64, BTreeMap<u16, u64>)> = BTreeMap::new();
    let (mut stored, mut failures) = (0u64, Vec::new());
    let started = Instant::now();
    for i in 0..total {
        let req = generator.next_request();
        let resp = send(addr, &req, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("request {i} ({}): {e}", req.category));
        let status = resp.as_ref().map_or(0, |r| r.status);
        let entry = per_category.entry(req.category).or_default();
        entry.0 += 1;
        *entry.1.entry(status).or_default() += 1;
        let acked = resp.as_ref().filter(|r| r.status == 200).map_or(0, |r| stored_acks(&r.body));
        stored += acked;
        let ok = match (req.expect, status) {
            (_, 400..=499) => true,
            (Expect::RefusedOrClosed, 0) => true,
            (Expect::NothingStored, 200) => acked == 0,
            (Expect::MayStore, 200) => true,
            _ => false,
        };
        if !ok {
            let body = resp.map(|r| String::from_utf8_lossy(&r.body).chars().take(200).collect::<String>());
            failures
                .push(format!("request {i} ({}, {:?}): status {status}, {body:?}", req.category, req.expect));
        }
        if i % 500 == 499 {
            assert!(tests::services::healthy(addr), "the server stopped answering after request {i}");
        }
    }
    let elapsed = started.elapsed();
    if verbose {
        for (category, (n, statuses)) in &per_category {
            eprintln!("fuzz: {category:<20} {n:>7}  statuses {statuses:?}");
        }
        eprintln!(
            "fuzz: {total} malformed requests in {:.1} s ({:.0}/s), {stored} unknown-kind events acknowledged as stored",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        );
    }
    assert!(failures.is_empty(), "seed {seed}: {} bad answers:\n{}", failures.len(), failures.join("\n"));
    assert!(tests::services::healthy(addr), "the server no longer answers /healthz");
    let after = table_counts(db);
    for (table, count) in &after {
        let was = before.get(table).copied().unwrap_or(0);
        let expected = if table == "events" { was + stored as i64 } else { was };
        if !MAY_GROW.contains(&table.as_str()) {
            assert_eq!(
                *count, expected,
                "table {table}: rows changed beyond what was acknowledged (seed {seed})"
            );
        }
    }
    if total >= 2_000 {
        // Every family was exercised.
        assert_eq!(per_category.len(), tests::fuzz::categories().len(), "{:?}", per_category.keys());
    }
    FuzzOutcome { requests: total, stored, elapsed }
}

#[test]
fn the_generator_agrees_with_the_wire_limits() {
    assert_eq!(tests::fuzz::wire_max_batch(), wire::MAX_BATCH_EVENTS);
}

#[test]
fn malformed_requests_get_4xx_never_5xx_and_store_nothing() {
    let office = Office::start();
    let panics_before = panics_so_far();
    let total = env_number("MIMAMORI_FUZZ_REQUESTS", 2_000);
    let seed = env_number("MIMAMORI_SEED", 0x6d69_6d61);
    eprintln!("fuzz: {total} requests, seed {seed}");
    run_fuzz(office.addr, &office.db_path(), &office.store, total, seed, true);
    assert_eq!(panics_so_far(), panics_before, "the server panicked");
}
