//! Dialect corrections: misunderstandings reported by tablets (names only, never
//! words), corrected by staff within their scope, audited, exported for the model.

use axum::http::{Method, StatusCode, header};
use backend::dashboard::csrf_token;
use backend::password::hash_password;
use backend::store::Role;
use serde_json::json;

use crate::support::{TestApp, Trail as _, acks, batch, event};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// Percent-encodes every byte, as a browser form would at worst.
pub fn pct(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

pub async fn login(app: &TestApp, user: &str) -> (String, String) {
    let (status, headers, page) = app.submit_login(&format!("login={user}&password=pw")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = csrf_token(cookie.strip_prefix("__Host-mimamori_session=").unwrap());
    (cookie, csrf)
}

/// Users `staff` (town-wide) and `minsei` (大井沢 only), password `pw`.
fn staff_and_minsei(app: &TestApp) {
    let now = app.clock_now();
    for (login, role, district) in [("staff", Role::Staff, None), ("minsei", Role::Minsei, Some("大井沢"))]
    {
        app.store.add_user(login, &hash_password("pw"), role, district, now).unwrap();
    }
}

/// What a tablet sends when the resident chose another meaning by button.
pub fn misunderstood(seq: u64, understood: &str, chosen: Option<&str>) -> serde_json::Value {
    event(
        seq,
        "misunderstanding",
        json!({ "question": "how_feeling", "understood": understood, "confidence": 0.42, "chosen": chosen }),
    )
}

#[tokio::test]
async fn tablets_report_misunderstandings_by_name_only_and_a_smuggled_transcript_is_not_kept() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let t = app.tablet(r).await;
    let transcript = "ひざいでくてなんぎだ";
    let mut smuggling = misunderstood(1, "tired", Some("pain"));
    smuggling["body"]["transcript"] = json!(transcript);
    let bad = |seq, body| event(seq, "misunderstanding", body);
    let events = [
        smuggling,
        bad(2, json!({ "question": transcript, "understood": "pain", "confidence": 0.3 })),
        bad(
            3,
            json!({ "question": "slept", "understood": "pain'); DROP TABLE events;--", "confidence": 0.3 }),
        ),
        bad(4, json!({ "question": "slept", "understood": "pain", "confidence": 7.0 })),
        bad(5, json!({ "question": "slept", "understood": "pain" })),
        bad(6, json!("pain")),
        misunderstood(7, "other", None),
    ];
    let (status, body) = app.post("/api/v1/events", &t, batch(&events)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(acks(&body), ["stored", "rejected", "rejected", "rejected", "rejected", "rejected", "stored"]);
    let listed = app.store.misunderstandings(None, 10).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[1].note.understood.as_str(), listed[1].note.chosen.as_deref()),
        ("tired", Some("pain"))
    );
    // Nothing of what was said reached the database (main file or its log).
    let dir = app._dir.path();
    for file in ["office.sqlite", "office.sqlite-wal"] {
        let bytes = std::fs::read(dir.join(file)).unwrap_or_default();
        assert!(!bytes.windows(transcript.len()).any(|w| w == transcript.as_bytes()), "{file}");
    }
}

#[tokio::test]
async fn staff_correct_within_scope_with_csrf_and_the_tsv_feeds_the_model() {
    let app = TestApp::new();
    staff_and_minsei(&app);
    let (here, there) = (app.resident("大井沢"), app.resident("沼山"));
    for r in [here, there] {
        let t = app.tablet(r).await;
        assert_eq!(
            acks(&app.post("/api/v1/events", &t, batch(&[misunderstood(1, "tired", Some("pain"))])).await.1),
            ["stored"]
        );
    }
    let id_of =
        |r| app.store.misunderstandings(None, 10).unwrap().into_iter().find(|m| m.resident == r).unwrap().id;
    let (m_here, m_there) = (id_of(here), id_of(there));
    let (minsei, csrf_m) = login(&app, "minsei").await;
    let (_, _, page) = app.raw(Method::GET, "/corrections", &[("cookie", minsei.as_str())], "").await;
    assert!(page.contains(&format!("data-misunderstanding=\"{m_here}\"")), "{page}");
    assert!(
        !page.contains(&format!("data-misunderstanding=\"{m_there}\"")),
        "another district is not listed"
    );
    assert!(page.contains("疲れている (42%)") && page.contains("<td>痛みがある</td>"), "{page}");
    let phrase = "膝いでくて'); DROP TABLE corrections;-- <b>";
    let form = |csrf: &str, text: &str, intent: &str, part: &str| {
        format!("csrf={csrf}&text={}&intent={intent}&body_part={}", pct(text), pct(part))
    };
    let headers = [FORM, ("cookie", minsei.as_str())];
    let cases = [
        (m_here, format!("text={}&intent=pain", pct(phrase)), StatusCode::FORBIDDEN),
        (m_here, form("0123", phrase, "pain", ""), StatusCode::FORBIDDEN),
        (m_there, form(&csrf_m, phrase, "pain", ""), StatusCode::NOT_FOUND),
        (999_999, form(&csrf_m, phrase, "pain", ""), StatusCode::NOT_FOUND),
        (m_here, form(&csrf_m, "  ", "pain", ""), StatusCode::BAD_REQUEST),
        (m_here, form(&csrf_m, &"あ".repeat(201), "pain", ""), StatusCode::BAD_REQUEST),
        (m_here, form(&csrf_m, phrase, "pain' OR 1=1--", ""), StatusCode::BAD_REQUEST),
        (m_here, form(&csrf_m, phrase, "pain", "尻尾"), StatusCode::BAD_REQUEST),
        // A spreadsheet formula is not a phrase (the export is opened by staff).
        (m_here, form(&csrf_m, "=HYPERLINK(\"http://x\",\"膝\")", "pain", ""), StatusCode::BAD_REQUEST),
        (m_here, form(&csrf_m, "@SUM(1)", "pain", ""), StatusCode::BAD_REQUEST),
    ];
    for (id, body, expected) in cases {
        let (status, _, page) = app.raw(Method::POST, &format!("/corrections/{id}"), &headers, &body).await;
        assert_eq!(status, expected, "{id} {body}: {page}");
    }
    assert!(app.store.corrections_export().unwrap().is_empty(), "refused corrections store nothing");
    let (status, h, _) = app
        .raw(Method::POST, &format!("/corrections/{m_here}"), &headers, &form(&csrf_m, phrase, "pain", "膝"))
        .await;
    assert_eq!((status, h[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/corrections"));
    let (_, _, page) = app.raw(Method::GET, "/corrections", &[("cookie", minsei.as_str())], "").await;
    assert!(
        page.contains("data-corrected=\"true\"") && page.contains("&#60;b&#62;") && !page.contains("<b>"),
        "{page}"
    );
    // Staff correct the other one (a tab and a line break become spaces), then export.
    let (staff, csrf_s) = login(&app, "staff").await;
    let headers = [FORM, ("cookie", staff.as_str())];
    let (status, _, _) = app
        .raw(
            Method::POST,
            &format!("/corrections/{m_there}"),
            &headers,
            &form(&csrf_s, "#ねむで\tだ\nな", "tired", ""),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, h, tsv) = app.raw(Method::GET, "/corrections.tsv", &[("cookie", staff.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "text/tab-separated-values; charset=utf-8");
    let lines: Vec<Vec<&str>> = tsv.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines[0], ["text", "question", "intent", "body_part", "corrected_by", "corrected_at"]);
    // Every column `dialect-model learn` requires of a corrections file is there (the
    // reader asks for `vocab::corrections::REQUIRED`).
    let required = vocab::corrections::REQUIRED;
    assert!(required.iter().all(|c| lines[0].contains(c)), "{required:?}");
    assert_eq!(lines[1][..4], [phrase, "how_feeling", "pain", "膝"]);
    assert_eq!(lines[2][..4], ["ねむで だ な", "how_feeling", "tired", ""]);
    assert!(lines[1][4].starts_with("user") && lines[1][5].starts_with("2026-11-28T07:00:00+09:00"), "{tsv}");
    assert_eq!(lines.len(), 3);
    let (status, _, _) = app.raw(Method::GET, "/corrections.tsv", &[("cookie", minsei.as_str())], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the town-wide export is for office staff");
    let trail = |r| app.store.audit_trail(r).unwrap().into_iter().map(|(_, a, _)| a).collect::<Vec<_>>();
    assert_eq!(
        (trail(here), trail(there)),
        (
            vec!["enrol".to_owned(), "dialect_correction".to_owned()],
            vec!["enrol".to_owned(), "dialect_correction".to_owned()]
        )
    );
}

/// A `multipart/form-data` body as a browser sends the bundle upload form.
fn upload(csrf: Option<&str>, file: &str) -> (String, String) {
    let boundary = "----mimamori-test-boundary";
    let mut body = String::new();
    if let Some(csrf) = csrf {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"dialect-bundle.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n{file}\r\n--{boundary}--\r\n"
    ));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The learning loop without a shell on the server: staff upload the bundle that
/// `dialect-model bundle` wrote; a damaged, stale or unauthorised upload is refused
/// with a reason and nothing reaches a tablet.
#[tokio::test]
async fn a_bundle_uploaded_on_the_dashboard_is_checked_published_and_audited() {
    let app = TestApp::new();
    staff_and_minsei(&app);
    let tablet = app.tablet(app.resident("大井沢")).await;
    let (staff, csrf) = login(&app, "staff").await;
    let (minsei, csrf_m) = login(&app, "minsei").await;
    let good = crate::tablet::dialect_bundle(5, "--- lexicon.tsv\nこわい\ttired\n--- model.tsv\nw\t1\n");
    let (_, _, page) = app.raw(Method::GET, "/corrections", &[("cookie", staff.as_str())], "").await;
    assert!(page.contains("action=\"/dialect-bundles\" enctype=\"multipart/form-data\""), "{page}");

    let app = &app;
    let post = |cookie: &str, (content_type, body): (String, String)| {
        let cookie = cookie.to_owned();
        async move {
            let headers = [("content-type", content_type.as_str()), ("cookie", cookie.as_str())];
            app.raw(Method::POST, "/dialect-bundles", &headers, &body).await
        }
    };
    let cut = &good[..good.len() - 10];
    for (name, cookie, upload, status, reason) in [
        ("no form token", &staff, upload(None, &good), StatusCode::FORBIDDEN, "確認トークン"),
        ("a 民生委員", &minsei, upload(Some(&csrf_m), &good), StatusCode::FORBIDDEN, "職員"),
        ("a truncated file", &staff, upload(Some(&csrf), cut), StatusCode::BAD_REQUEST, "途中で切れて"),
        ("not a bundle", &staff, upload(Some(&csrf), "hello"), StatusCode::BAD_REQUEST, "ファイルではない"),
        ("no file", &staff, upload(Some(&csrf), ""), StatusCode::BAD_REQUEST, "選んでください"),
    ] {
        let (got, _, page) = post(cookie, upload).await;
        assert_eq!(got, status, "{name}: {page}");
        assert!(page.contains(reason), "{name}: {page}");
    }
    assert!(app.store.bundles().unwrap().is_empty(), "nothing refused was kept");
    assert!(!app.pull(&tablet, 0).await.to_string().contains("dialect_bundle"));

    let (status, headers, _) = post(&staff, upload(Some(&csrf), &good)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/corrections");
    assert_eq!(app.store.bundles().unwrap().iter().map(|b| b.version).collect::<Vec<_>>(), [5]);
    assert_eq!(app.store.bundle(5).unwrap().unwrap(), good.as_bytes(), "kept byte for byte");
    let pulled = app.pull(&tablet, 0).await;
    let item = pulled["items"].as_array().unwrap().iter().find(|i| i["kind"] == "dialect_bundle").unwrap();
    assert_eq!(item["body"]["version"], 5);
    let (_, _, page) = app.raw(Method::GET, "/corrections", &[("cookie", staff.as_str())], "").await;
    assert!(page.contains("<tr data-bundle=\"5\">"));
    // The same version again: a conflict, with what to do.
    let (status, _, page) = post(&staff, upload(Some(&csrf), &good)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("新しい版の番号"), "{page}");
    let db = rusqlite::Connection::open(app._dir.path().join("office.sqlite")).unwrap();
    let actions: Vec<String> = db
        .prepare("SELECT action FROM audit_log WHERE action LIKE 'publish_dialect_bundle%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(actions, ["publish_dialect_bundle v5"], "one publication, audited");
}

/// The retraining's child process attacked from the server's side: a program that
/// hangs is killed at the time limit, one that is missing, fails or prints nonsense is
/// reported, two presses at once train once; none of them publishes anything. (The
/// real `dialect-model` is run by the e2e test `retrain`, through both binaries.)
#[tokio::test]
async fn a_retraining_that_hangs_fails_or_races_publishes_nothing_and_leaves_no_process() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = |name: &str, body: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let hang = script("hang.sh", format!("echo $$ > {}\nexec sleep 60\n", pidfile.display()));
    let cases = [
        (hang.clone(), 1, "時間内に終わらなかった"),
        (dir.path().join("missing"), 5, "実行できませんでした"),
        (script("fail.sh", "echo 'Error: lexicon damaged' >&2\nexit 1\n".into()), 5, "実行できませんでした"),
        (script("garbage.sh", "echo 'retrain: accepted=yes'\n".into()), 5, "実行できませんでした"),
        // A verdict of yes with no bundle written is not a publication either.
        (
            script("nobundle.sh", "echo 'retrain: accepted=yes heldout=3 before=1 after=2'\n".into()),
            5,
            "実行できませんでした",
        ),
    ];
    for (program, timeout_secs, says) in cases {
        let config =
            backend::config::RetrainConfig { program: Some(program.clone()), data_dir: None, timeout_secs };
        let app = TestApp::new().with_retrainer(&config);
        staff_and_minsei(&app);
        let (staff, csrf) = corrected_once(&app).await;
        let headers = [FORM, ("cookie", staff.as_str())];
        let (status, _, page) =
            app.raw(Method::POST, "/corrections/retrain", &headers, &format!("csrf={csrf}")).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}: {page}", program.display());
        assert!(page.contains(says) && page.contains("そのまま"), "{page}");
        assert!(app.store.bundles().unwrap().is_empty());
    }
    // The hung program was killed, not left sleeping.
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    let state = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.split(' ').nth(2).map(str::to_owned))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while matches!(state().as_deref(), Some("S" | "R")) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!matches!(state().as_deref(), Some("S" | "R")), "sleep {pid} still runs: {:?}", state());

    // Two presses at once: one trains, the other is told it is already running.
    let config = backend::config::RetrainConfig { program: Some(hang), data_dir: None, timeout_secs: 2 };
    let app = TestApp::new().with_retrainer(&config);
    staff_and_minsei(&app);
    let (staff, csrf) = corrected_once(&app).await;
    let headers = [FORM, ("cookie", staff.as_str())];
    let body = format!("csrf={csrf}");
    let (a, b) = tokio::join!(
        app.raw(Method::POST, "/corrections/retrain", &headers, &body),
        app.raw(Method::POST, "/corrections/retrain", &headers, &body)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CONFLICT, StatusCode::SERVICE_UNAVAILABLE], "{} {}", a.2, b.2);
    // Without the form's token nothing runs at all.
    let (status, _, _) = app.raw(Method::POST, "/corrections/retrain", &headers, "csrf=0123").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A tablet's misunderstanding corrected by `staff`; their session cookie and token.
async fn corrected_once(app: &TestApp) -> (String, String) {
    let tablet = app.tablet(app.resident("大井沢")).await;
    assert_eq!(
        acks(&app.post("/api/v1/events", &tablet, batch(&[misunderstood(1, "tired", Some("pain"))])).await.1),
        ["stored"]
    );
    let id = app.store.misunderstandings(None, 1).unwrap()[0].id;
    let (staff, csrf) = login(app, "staff").await;
    let headers = [FORM, ("cookie", staff.as_str())];
    let body = format!("csrf={csrf}&text={}&intent=pain&body_part={}", pct("膝いでくて"), pct("膝"));
    let (status, _, page) = app.raw(Method::POST, &format!("/corrections/{id}"), &headers, &body).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    (staff, csrf)
}
