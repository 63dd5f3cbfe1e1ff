//! One-button retraining through both real binaries: staff correct what a tablet
//! misheard on the dashboard of the `backend` process, press 「学習して配信する」, and
//! the server runs the `dialect-model` beside it; a dictionary that is not worse goes
//! out to the tablets, one taught wrong meanings is refused and nothing changes.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use tests::services::{BackendProcess, binaries};

use crate::support::{exchange, run_backend};

const PASSWORD: &[u8] = b"correct horse battery\n";

/// An exchange with the office; a retraining may take a while: (status, head, body).
fn http(
    to: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    exchange(to, method, path, headers, body, Duration::from_secs(60))
}

fn cookie_of(head: &str) -> String {
    head.lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("set-cookie:").then(|| l[11..].trim().to_owned()))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .unwrap_or_default()
}

fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

fn pct(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn backend(bin: &Path, db: &Path, args: &[&str], stdin: &[u8]) -> String {
    let out = run_backend(bin, db, None, args, stdin);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The dialect research's dev answers (in the repository), as (text, intent).
fn dev_answers() -> Vec<(String, String)> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/dialect/dev/utterances-dev.tsv");
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name| header.iter().position(|h| *h == name).unwrap();
    let (t, i) = (col("utterance_dialect"), col("intent"));
    lines.map(|l| l.split('\t').collect::<Vec<_>>()).map(|c| (c[t].to_owned(), c[i].to_owned())).collect()
}

#[test]
fn staff_retrain_the_dictionary_with_one_button_and_a_worse_one_is_refused() {
    let bins = binaries().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("office.sqlite");
    backend(&bins.backend, &db, &["add-user", "staff", "staff"], PASSWORD);
    backend(&bins.backend, &db, &["add-user", "minsei", "minsei", "大井沢"], PASSWORD);
    let out = backend(&bins.backend, &db, &["add-resident", "見守 花子", "大井沢"], b"");
    let code = out.split("enrol_code=").nth(1).unwrap().trim().to_owned();
    let office = BackendProcess::start(&bins.backend, dir.path()).unwrap();
    let addr = office.addr;
    let json = [("Content-Type", "application/json")];
    let (status, _, body) =
        http(addr, "POST", "/api/v1/enrol", &json, &format!(r#"{{"code":"{code}","app_version":"e2e"}}"#));
    assert_eq!(status, 200, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let bearer = format!("Bearer {}", token["device_token"].as_str().unwrap());
    let tablet = [("Content-Type", "application/json"), ("Authorization", bearer.as_str())];

    // The tablet reports 60 answers it misheard (by name only, never the words).
    let dev = dev_answers();
    let events: Vec<serde_json::Value> = (1..=60u64)
        .map(|seq| {
            serde_json::json!({
                "id": uuid::Uuid::new_v4(), "seq": seq, "kind": "misunderstanding",
                "device_time": chrono::Utc::now(), "resident_id": 1,
                "body": { "question": "how_feeling", "understood": "other", "confidence": 0.4 }
            })
        })
        .collect();
    let (status, _, body) =
        http(addr, "POST", "/api/v1/events", &tablet, &serde_json::json!({ "events": events }).to_string());
    assert_eq!(status, 200, "{body}");

    let login = |user: &str| {
        let (_, head, page) = http(addr, "GET", "/login", &[], "");
        let (cookie, csrf) = (cookie_of(&head), csrf_of(&page));
        let form = format!("csrf={csrf}&login={user}&password=correct+horse+battery");
        let headers = [("Cookie", cookie.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
        let (status, head, _) = http(addr, "POST", "/login", &headers, &form);
        assert_eq!(status, 303, "{head}");
        let cookie = cookie_of(&head);
        let (_, _, page) = http(addr, "GET", "/corrections", &[("Cookie", cookie.as_str())], "");
        (cookie.clone(), csrf_of(&page), page)
    };
    let (staff, csrf, page) = login("staff");
    let ids: Vec<String> = page
        .split("data-misunderstanding=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 60, "{page}");
    let form_headers = |cookie: &str| {
        [("Cookie", cookie.to_owned()), ("Content-Type", "application/x-www-form-urlencoded".to_owned())]
    };
    let post = |cookie: &str, path: &str, body: &str| {
        let h = form_headers(cookie);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        http(addr, "POST", path, &h, body)
    };
    let correct = |id: &str, text: &str, intent: &str| {
        let (status, _, page) = post(
            &staff,
            &format!("/corrections/{id}"),
            &format!("csrf={csrf}&text={}&intent={intent}&body_part=", pct(text)),
        );
        assert_eq!(status, 303, "{page}");
    };

    // Before any correction the button says so; a 民生委員 may not press it.
    let (status, _, page) = post(&staff, "/corrections/retrain", &format!("csrf={csrf}"));
    assert_eq!(status, 400, "{page}");
    let (minsei, minsei_csrf, _) = login("minsei");
    let (status, _, _) = post(&minsei, "/corrections/retrain", &format!("csrf={minsei_csrf}"));
    assert_eq!(status, 403);

    // Three honest corrections: the new dictionary is published as version 1.
    for (id, (text, intent)) in ids.iter().zip([
        ("ねっこできねがった", "slept_badly"),
        ("まなぐかすむ", "feeling_unwell"),
        ("おら、まんず達者だ", "feeling_good"),
    ]) {
        correct(id, text, intent);
    }
    let started = Instant::now();
    let (status, head, _) = post(&staff, "/corrections/retrain", &format!("csrf={csrf}"));
    let took = started.elapsed();
    // Shown after a redirect: reloading the result never trains again.
    assert!(status == 303 && head.contains("/corrections/retrain"), "{head}");
    let (_, _, page) = http(addr, "GET", "/corrections/retrain", &[("Cookie", staff.as_str())], "");
    assert!(page.contains("data-accepted=\"yes\"") && page.contains("第1版"), "{page}");
    assert!(page.contains("data-figure=\"critical\""), "{page}");
    eprintln!("retraining from the dashboard took {:.1} s", took.as_secs_f64());
    let (_, _, pulled) = http(addr, "GET", "/api/v1/pull?after=0", &tablet, "");
    assert!(pulled.contains("\"dialect_bundle\""), "{pulled}");
    let (status, _, bundle) = http(addr, "GET", "/api/v1/dialect-bundle/1", &tablet, "");
    assert_eq!(status, 200);
    assert!(
        bundle.starts_with("mimamori-dialect-bundle") && bundle.contains("\nversion 1\n"),
        "{}",
        &bundle[..80]
    );

    // The rest corrected with wrong meanings (a careless or hostile batch): refused,
    // and version 1 stays the newest.
    let wrong = |intent: &str| match intent {
        "feeling_good" => "feeling_unwell",
        "slept_well" => "slept_badly",
        "other" => "feeling_good",
        _ => "other",
    };
    for (id, (text, intent)) in ids[3..].iter().zip(&dev) {
        correct(id, text, wrong(intent));
    }
    let (status, _, _) = post(&staff, "/corrections/retrain", &format!("csrf={csrf}"));
    assert_eq!(status, 303);
    let (_, _, page) = http(addr, "GET", "/corrections/retrain", &[("Cookie", staff.as_str())], "");
    assert!(page.contains("data-accepted=\"no\"") && page.contains("配信しませんでした"), "{page}");
    assert!(page.contains("第1版を配信"), "the earlier retraining is listed: {page}");
    let (_, _, page) = http(addr, "GET", "/corrections", &[("Cookie", staff.as_str())], "");
    assert!(page.contains("data-bundle=\"1\"") && !page.contains("data-bundle=\"2\""), "{page}");
    let (status, _, _) = http(addr, "GET", "/api/v1/dialect-bundle/2", &tablet, "");
    assert_eq!(status, 404);
    drop(office);
}
