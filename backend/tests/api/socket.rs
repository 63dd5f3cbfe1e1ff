//! Real-socket tests: a whole server on a loopback port 0, spoken to with raw HTTP/1.1.

use std::net::SocketAddr;
use std::sync::Arc;

use backend::clock::ManualClock;
use backend::config::Config;
use backend::startup::Application;

use crate::support::local;

/// Starts a server on a fresh database, not fetching weather; dropping the sender
/// shuts it down.
pub async fn spawn_app(
    dir: &tempfile::TempDir,
    clock: ManualClock,
) -> (SocketAddr, backend::store::Store, tokio::sync::oneshot::Sender<()>) {
    let off = backend::config::WeatherConfig { enabled: false, ..Default::default() };
    spawn_app_with(dir, clock, off).await
}

/// As [`spawn_app`], fetching weather as `weather` says (tests serve the agency's
/// files themselves).
pub async fn spawn_app_with(
    dir: &tempfile::TempDir,
    clock: ManualClock,
    weather: backend::config::WeatherConfig,
) -> (SocketAddr, backend::store::Store, tokio::sync::oneshot::Sender<()>) {
    spawn_configured(dir, clock, |c| c.weather = weather).await
}

/// As [`spawn_app`], with the configuration changed by `change` first.
pub async fn spawn_configured(
    dir: &tempfile::TempDir,
    clock: ManualClock,
    change: impl FnOnce(&mut Config),
) -> (SocketAddr, backend::store::Store, tokio::sync::oneshot::Sender<()>) {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: dir.path().join("office.sqlite"),
        escalation_interval_secs: 1,
        weather: backend::config::WeatherConfig { enabled: false, ..Default::default() },
        retention: Default::default(),
        trusted_proxies: vec![],
        notify: Default::default(),
        retrain: Default::default(),
    };
    change(&mut config);
    let app = Application::build_with_clock(&config, Arc::new(clock)).await.unwrap();
    let addr = app.local_addr();
    let store = app.store().clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    (addr, store, tx)
}

/// A bare HTTP/1.1 request over a real TCP socket; returns (status line, body).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body.as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[tokio::test]
async fn healthz_over_a_real_socket_reports_the_migrated_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _store, _stop) = spawn_app(&dir, ManualClock::new(local(7, 0))).await;
    let (status, body) = request(addr, "GET", "/healthz", "", "").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    assert!(json["schema_version"].as_u64().unwrap() >= 2);
    assert!(dir.path().join("office.sqlite").is_file());
    let (status, _) = request(addr, "GET", "/no-such-page", "", "").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}

/// The background engine runs beside the server: a resident past their window and
/// grace becomes unconfirmed and their tablet's next pull carries a re-prompt.
#[tokio::test]
async fn the_escalation_engine_runs_in_the_background_of_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(local(7, 0));
    let (addr, store, _stop) = spawn_app(&dir, clock.clone()).await;
    let window = backend::store::CheckinWindow {
        start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        grace_minutes: 60,
    };
    let resident = backend::store::NewResident {
        display_name: "テスト".to_owned(),
        district: "大井沢".to_owned(),
        card: None,
        window,
    };
    let r = store.add_resident(&resident, local(7, 0)).unwrap();
    let code = store.create_enrolment_code(Some(r), local(7, 0)).unwrap();
    let (status, body) =
        request(addr, "POST", "/api/v1/enrol", "", &serde_json::json!({ "code": code }).to_string()).await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let auth = format!("Authorization: Bearer {}\r\n", token["device_token"].as_str().unwrap());
    clock.set(local(11, 0));
    let mut kinds = Vec::new();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (status, body) = request(addr, "GET", "/api/v1/pull?after=0", &auth, "").await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        let pull: serde_json::Value = serde_json::from_str(&body).unwrap();
        kinds = crate::support::kinds(&pull);
        if kinds.contains(&"reprompt".to_owned()) {
            break;
        }
    }
    assert_eq!(kinds, ["roster_entry", "resident_settings", "reprompt"]);
    let today = crate::support::day();
    assert_eq!(store.status(r, today).unwrap(), Some(backend::store::Status::Unconfirmed));
}

/// The binary's `add-user` command: the password comes from stdin, bad input is
/// refused with a message, and the user it adds can log in.
#[tokio::test]
async fn add_user_command_creates_a_user_who_can_log_in() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("office.sqlite");
    let run = |args: &[&str], password: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(args)
            .env("MIMAMORI_DATABASE", &db)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for (args, password, says) in [
        (&["add-user", "a"][..], "kettle-snowshoe-lantern-27", "Usage"),
        (&["add-user", "a", "chief"][..], "kettle-snowshoe-lantern-27", "role must be"),
        (&["add-user", "a", "minsei"][..], "kettle-snowshoe-lantern-27", "needs a district"),
        (&["add-user", "a", "officer"][..], "short", "at least 12"),
        (&["add-user", "a", "officer"][..], "password1234", "too easy to guess"),
    ] {
        let (ok, stderr) = run(args, password);
        assert!(!ok && stderr.contains(says), "{args:?}: {stderr}");
    }
    let (ok, stderr) = run(&["add-user", "minsei1", "minsei", "大井沢"], "民生委員のパスワード二〇二六");
    assert!(ok, "{stderr}");
    let store = backend::store::Store::open(&db).unwrap();
    let (user, hash) = store.user_for_login("minsei1", chrono::Utc::now()).unwrap().unwrap();
    assert_eq!((user.role, user.district.as_deref()), (backend::store::Role::Minsei, Some("大井沢")));
    assert!(backend::password::verify_password("民生委員のパスワード二〇二六", &hash));
    assert!(!stderr.contains("民生委員のパスワード二〇二六"));
}

/// Every row of every table, as text, sorted: two databases with the same dump hold
/// the same data.
fn dump(db: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = vec![format!(
        "user_version {}",
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap()
    )];
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join("|"))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.extend(rows.into_iter().map(|r| format!("{t}: {r}")));
    }
    out
}

/// `backend backup` copies a live database (checked, 0600); `backend restore` puts it
/// back whole; a damaged or existing file is refused and nothing is overwritten.
#[test]
fn backup_and_restore_round_trip_to_an_identical_dump() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (db, copy, restored) = (
        dir.path().join("office.sqlite"),
        dir.path().join("backup.sqlite"),
        dir.path().join("restored.sqlite"),
    );
    let store = backend::store::Store::open(&db).unwrap();
    let now = local(8, 0);
    let window = backend::store::CheckinWindow {
        start: chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
        end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        grace_minutes: 60,
    };
    for (name, district) in [("見守 花子", "大井沢"), ("佐藤 太郎", "沼山")] {
        let r = backend::store::NewResident {
            display_name: name.into(),
            district: district.into(),
            card: None,
            window,
        };
        let id = store.add_resident(&r, now).unwrap();
        store.add_pause(id, now, now + chrono::Duration::days(2), "入院", now).unwrap();
    }
    store
        .start_campaign(
            Some("大井沢"),
            "大雪",
            now + chrono::Duration::hours(3),
            backend::store::Actor::Engine,
            now,
        )
        .unwrap();
    let run = |args: &[&str], database: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(args)
            .env("MIMAMORI_DATABASE", database)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let before = dump(&db);
    // Online: the store stays open in this process while the copy is made.
    let (ok, said) = run(&["backup", "--to", copy.to_str().unwrap()], &db);
    assert!(ok && said.contains("checked"), "{said}");
    assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600);
    let (ok, said) = run(&["backup", "--to", copy.to_str().unwrap()], &db);
    assert!(!ok && said.contains("exists"), "an existing file is never overwritten: {said}");
    // The office goes on; the backup keeps the moment it was taken.
    store
        .start_campaign(None, "停電", now + chrono::Duration::hours(3), backend::store::Actor::Engine, now)
        .unwrap();
    let (ok, said) = run(&["restore", "--from", copy.to_str().unwrap()], &restored);
    assert!(ok, "{said}");
    assert_eq!(dump(&restored), before, "the restored database is the one backed up");
    assert_ne!(dump(&db), before);
    for f in std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()) {
        if f.file_name().unwrap().to_string_lossy().starts_with("restored.sqlite") {
            assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600, "{}", f.display());
        }
    }
    // A damaged copy is refused before anything is replaced.
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, b"SQLite format 3\0 but then nothing a database holds").unwrap();
    let (ok, said) = run(&["restore", "--from", garbage.to_str().unwrap()], &restored);
    assert!(!ok, "{said}");
    assert_eq!(dump(&restored), before, "the database in place is untouched");
}

/// Behind a TLS proxy every request comes from the proxy: when it is trusted, each
/// client is limited by the address it forwards for, so one guesser does not stop
/// everyone; when it is not, a forwarded address changes nothing.
#[tokio::test]
async fn a_trusted_proxy_keeps_its_clients_apart_and_an_untrusted_header_is_ignored() {
    let enrol = |addr: SocketAddr, client: &'static str, code: String| async move {
        let body = format!(r#"{{"code":"{code}"}}"#);
        let headers = format!("Content-Type: application/json\r\nX-Forwarded-For: {client}\r\n");
        request(addr, "POST", "/api/v1/enrol", &headers, &body).await.0
    };
    for trusted in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let (addr, _store, _stop) = spawn_configured(&dir, ManualClock::new(local(7, 0)), |c| {
            if trusted {
                c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        })
        .await;
        for i in 0..10 {
            let status = enrol(addr, "198.51.100.1", format!("{i:010}")).await;
            assert!(status.contains("401"), "{trusted}: {status}");
        }
        assert!(enrol(addr, "198.51.100.1", "0000000011".into()).await.contains("429"), "the guesser");
        let other = enrol(addr, "198.51.100.2", "0000000012".into()).await;
        let expected = if trusted { "401" } else { "429" };
        assert!(other.contains(expected), "another client, proxy trusted {trusted}: {other}");
    }
}
