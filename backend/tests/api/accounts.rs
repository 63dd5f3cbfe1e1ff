//! Accounts and retention: an admin disables, re-enables, resets and signs out
//! accounts on the dashboard and from the terminal (`backend user …`), each audited;
//! `backend prune` deletes what is past the retention period and nothing newer.

use std::io::Write as _;

use axum::http::{Method, StatusCode, header};
use backend::password::hash_password;
use backend::store::{Role, UserId};
use serde_json::json;

use crate::support::{TestApp, batch, event};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

async fn login(app: &TestApp, user: &str, password: &str) -> Result<String, StatusCode> {
    let (status, headers, _) = app.submit_login(&format!("login={user}&password={password}")).await;
    if status != StatusCode::SEE_OTHER {
        return Err(status);
    }
    Ok(headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned())
}

/// The CSRF token of the page behind `cookie`.
async fn csrf(app: &TestApp, cookie: &str) -> String {
    let (_, _, page) = app.raw(Method::GET, "/users", &[("cookie", cookie)], "").await;
    page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

/// An admin ("chief") and an officer; the admin signed in. (admin, officer, cookie)
async fn chief_and_officer(app: &TestApp) -> (UserId, UserId, String) {
    let now = app.clock_now();
    let admin =
        app.store.add_user("chief", &hash_password("admin-pass-phrase"), Role::Admin, None, now).unwrap();
    let officer = app
        .store
        .add_user("officer", &hash_password("officer-pass-phrase"), Role::Officer, None, now)
        .unwrap();
    (admin, officer, login(app, "chief", "admin-pass-phrase").await.unwrap())
}

async fn change(app: &TestApp, cookie: &str, form: &str) -> (StatusCode, String) {
    let token = csrf(app, cookie).await;
    let (status, _, page) =
        app.raw(Method::POST, "/users", &[FORM, ("cookie", cookie)], &format!("csrf={token}&{form}")).await;
    (status, page)
}

#[tokio::test]
async fn an_admin_disables_resets_and_signs_out_accounts_and_each_is_audited() {
    let app = TestApp::new();
    let (admin, officer, chief) = chief_and_officer(&app).await;
    let desk = login(&app, "officer", "officer-pass-phrase").await.unwrap();
    let phone = login(&app, "officer", "officer-pass-phrase").await.unwrap();

    // Only an admin sees the page.
    let (status, _, _) = app.raw(Method::GET, "/users", &[("cookie", &desk)], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, page) = app.raw(Method::GET, "/users", &[("cookie", &chief)], "").await;
    assert_eq!(status, StatusCode::OK);
    let row = page.split("data-login=\"officer\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("<td>有効</td><td>2</td>"), "two live sessions: {row}");

    // End the sessions: both of the officer's pages go to the login; they log in again.
    assert_eq!(change(&app, &chief, "login=officer&action=end_sessions").await.0, StatusCode::SEE_OTHER);
    for cookie in [&desk, &phone] {
        let (status, headers, _) = app.raw(Method::GET, "/board", &[("cookie", cookie)], "").await;
        assert_eq!((status, &headers[header::LOCATION]), (StatusCode::SEE_OTHER, &"/login".parse().unwrap()));
    }
    let desk = login(&app, "officer", "officer-pass-phrase").await.unwrap();

    // Disable: the session ends and the right password no longer gets in.
    assert_eq!(change(&app, &chief, "login=officer&action=disable").await.0, StatusCode::SEE_OTHER);
    let (status, _, _) = app.raw(Method::GET, "/board", &[("cookie", &desk)], "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(login(&app, "officer", "officer-pass-phrase").await.unwrap_err(), StatusCode::UNAUTHORIZED);
    // An admin cannot disable themselves (the office would have no admin).
    let (status, page) = change(&app, &chief, "login=chief&action=disable").await;
    assert!(status == StatusCode::BAD_REQUEST && page.contains("自分のアカウント"), "{page}");

    // A weak new password is refused with the reason; a strong one takes.
    for (weak, says) in
        [("short", "12文字以上"), ("password1234", "推測されやすい"), ("officer12345", "推測されやすい")]
    {
        let (status, page) =
            change(&app, &chief, &format!("login=officer&action=reset_password&password={weak}")).await;
        assert!(status == StatusCode::BAD_REQUEST && page.contains(says), "{weak}: {page}");
    }
    let form = "login=officer&action=reset_password&password=kettle-snowshoe-lantern-27";
    assert_eq!(change(&app, &chief, form).await.0, StatusCode::SEE_OTHER);
    assert_eq!(change(&app, &chief, "login=officer&action=enable").await.0, StatusCode::SEE_OTHER);
    assert_eq!(login(&app, "officer", "officer-pass-phrase").await.unwrap_err(), StatusCode::UNAUTHORIZED);
    assert!(login(&app, "officer", "kettle-snowshoe-lantern-27").await.is_ok());

    // Unknown accounts and actions, a missing token: refused, nothing changes.
    assert_eq!(change(&app, &chief, "login=nobody&action=disable").await.0, StatusCode::NOT_FOUND);
    assert_eq!(change(&app, &chief, "login=officer&action=delete").await.0, StatusCode::BAD_REQUEST);
    let (status, _, _) =
        app.raw(Method::POST, "/users", &[FORM, ("cookie", &chief)], "login=officer&action=disable").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, _, page) = app.raw(Method::GET, "/users", &[("cookie", &chief)], "").await;
    let row = page.split("data-login=\"officer\"").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(
        row.contains("有効化 (chief)") && row.contains("パスワード設定 (chief)") && !row.contains("作成"),
        "the newest three changes and who made them: {row}"
    );
    let trail: Vec<(Option<UserId>, String)> =
        app.store.account_trail(officer).unwrap().into_iter().map(|(by, what, _)| (by, what)).collect();
    let by = Some(admin);
    assert_eq!(
        trail,
        [
            (None, "add_user".to_owned()),
            (by, "end_sessions".to_owned()),
            (by, "disable_user".to_owned()),
            (by, "reset_password".to_owned()),
            (by, "enable_user".to_owned()),
        ]
    );
}

/// Runs the real binary on `db` with `stdin`; (success, stdout, stderr).
fn backend(db: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .env("MIMAMORI_DATABASE", db)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

#[test]
fn the_terminal_manages_accounts_the_same_way() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("office.sqlite");
    let (ok, _, err) = backend(&db, &["add-user", "sato", "staff"], "kettle-snowshoe-lantern-27\n");
    assert!(ok, "{err}");
    let store = backend::store::Store::open(&db).unwrap();
    let (sato, _) = store.user_for_login("sato", chrono::Utc::now()).unwrap().unwrap();
    let now = chrono::Utc::now();
    let token = store.create_session(sato.user, now).unwrap();

    let (ok, out, _) = backend(&db, &["user", "list"], "");
    assert!(ok && out.contains("sato\tstaff\t-\tactive\t1 sessions"), "{out}");
    let (ok, out, _) = backend(&db, &["user", "disable", "sato"], "");
    assert!(ok && out.contains("disable_user: sato (1 sessions ended)"), "{out}");
    assert_eq!(store.session_user(&token, now).unwrap(), None);
    assert_eq!(
        store.user_for_login("sato", chrono::Utc::now()).unwrap(),
        None,
        "a disabled account cannot log in"
    );
    let (ok, out, _) = backend(&db, &["user", "list"], "");
    assert!(ok && out.contains("sato\tstaff\t-\tdisabled\t0 sessions"), "{out}");

    let (ok, _, err) = backend(&db, &["user", "reset-password", "sato"], "sato12345678\n");
    assert!(!ok && err.contains("too easy to guess"), "{err}");
    let (ok, _, err) = backend(&db, &["user", "reset-password", "sato"], "a-new-snowy-passphrase\n");
    assert!(ok, "{err}");
    assert!(!err.contains("a-new-snowy-passphrase"));
    let (ok, _, _) = backend(&db, &["user", "enable", "sato"], "");
    assert!(ok);
    let (_, hash) = store.user_for_login("sato", chrono::Utc::now()).unwrap().unwrap();
    assert!(backend::password::verify_password("a-new-snowy-passphrase", &hash));
    let token = store.create_session(sato.user, now).unwrap();
    let (ok, out, _) = backend(&db, &["user", "end-sessions", "sato"], "");
    assert!(ok && out.contains("(1 sessions ended)"), "{out}");
    assert_eq!(store.session_user(&token, now).unwrap(), None);
    let (ok, _, err) = backend(&db, &["user", "disable", "nobody"], "");
    assert!(!ok && err.contains("no user \"nobody\""), "{err}");

    let trail: Vec<String> = store
        .account_trail(sato.user)
        .unwrap()
        .into_iter()
        .map(|(by, what, _)| {
            assert_eq!(by, None, "done at the terminal");
            what
        })
        .collect();
    assert_eq!(trail, ["add_user", "disable_user", "reset_password", "enable_user", "end_sessions"]);
}

#[tokio::test]
async fn prune_deletes_what_is_past_retention_and_keeps_the_rest() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let tablet = app.tablet(r).await;
    let old = app.clock_now();
    app.post(
        "/api/v1/events",
        &tablet,
        batch(&[event(1, "check_in", json!({})), event(2, "help_request", json!({}))]),
    )
    .await;
    let open_alerts = app.store.open_alerts().unwrap().len();
    assert!(open_alerts >= 1);
    // Six years on, one more check-in.
    app.clock.advance(chrono::Duration::days(6 * 365));
    app.post("/api/v1/events", &tablet, batch(&[event(3, "check_in", json!({}))])).await;
    let now = app.clock_now();
    let cut = backend::store::Cutoffs::before(now, 1826, 1826);
    assert!(cut.records > old);

    let would = app.store.prune(cut, true).unwrap();
    let count = |rows: &[(&str, usize)], t: &str| rows.iter().find(|(n, _)| *n == t).unwrap().1;
    assert_eq!(count(&would, "events"), 2);
    assert_eq!(app.store.event_count().unwrap(), 3, "a dry run deletes nothing");

    let deleted = app.store.prune(cut, false).unwrap();
    assert_eq!(deleted, would);
    assert_eq!(app.store.event_count().unwrap(), 1, "the newer check-in stays");
    assert!(count(&deleted, "statuses") >= 1 && count(&deleted, "audit_log") >= 1, "{deleted:?}");
    // The help request's alert is still open: kept whatever its age.
    assert_eq!(count(&deleted, "alerts"), 0);
    assert_eq!(app.store.open_alerts().unwrap().len(), open_alerts);
    assert_eq!(app.store.prune(cut, false).unwrap().iter().map(|(_, n)| n).sum::<usize>(), 0, "idempotent");
}

/// `[retention]` shorter than 90 days is refused when the configuration loads.
#[test]
fn a_retention_of_a_few_days_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("office.toml");
    std::fs::write(&config, "[retention]\nrecords_days = 7\n").unwrap();
    let (ok, _, err) =
        backend(&dir.path().join("o.sqlite"), &["prune", "--config", config.to_str().unwrap()], "");
    assert!(!ok && err.contains("records_days = 7 is shorter than the 90 days"), "{err}");
    let (ok, out, err) = backend(&dir.path().join("o.sqlite"), &["prune", "--dry-run"], "");
    assert!(ok && out.contains("would delete 0 from events"), "{out}{err}");
}

/// Lists come a page at a time: 105 campaigns show as 100 and a link to the next 5;
/// a 民生委員's pages hold only town-wide campaigns and their district's.
#[tokio::test]
async fn lists_come_a_page_at_a_time() {
    let app = TestApp::new();
    let now = app.clock_now();
    app.store.add_user("officer", &hash_password("officer-pass-phrase"), Role::Officer, None, now).unwrap();
    app.store
        .add_user("minsei", &hash_password("minsei-pass-phrase"), Role::Minsei, Some("大井沢"), now)
        .unwrap();
    let deadline = now + chrono::Duration::hours(3);
    for i in 0..105 {
        let district = ["大井沢", "沼山", "町全体"][i % 3];
        let district = (district != "町全体").then_some(district);
        let by = backend::store::Actor::Engine;
        app.store.start_campaign(district, &format!("安否確認{i:03}"), deadline, by, now).unwrap();
    }
    let officer = login(&app, "officer", "officer-pass-phrase").await.unwrap();
    let get = |path: &'static str, cookie: String| {
        let app = &app;
        async move {
            let (status, _, page) = app.raw(Method::GET, path, &[("cookie", &cookie)], "").await;
            assert_eq!(status, StatusCode::OK, "{path}: {page}");
            page
        }
    };
    let first = get("/campaigns", officer.clone()).await;
    assert_eq!(first.matches("href=\"/campaigns/").count(), 100);
    assert!(first.contains("安否確認104") && !first.contains("安否確認004"), "newest first");
    assert!(first.contains("href=\"/campaigns?page=1\" rel=\"next\"") && !first.contains("rel=\"prev\""));
    let second = get("/campaigns?page=1", officer.clone()).await;
    assert_eq!(second.matches("href=\"/campaigns/").count(), 5);
    assert!(
        second.contains("安否確認000") && second.contains("rel=\"prev\"") && !second.contains("rel=\"next\"")
    );
    // A page past the end is empty; nonsense is the first page.
    assert_eq!(get("/campaigns?page=7", officer.clone()).await.matches("href=\"/campaigns/").count(), 0);
    assert_eq!(get("/campaigns?page=-1", officer.clone()).await.matches("href=\"/campaigns/").count(), 100);

    let minsei = login(&app, "minsei", "minsei-pass-phrase").await.unwrap();
    let own = get("/campaigns", minsei.clone()).await;
    assert_eq!(own.matches("href=\"/campaigns/").count(), 70, "35 of 大井沢 and 35 town-wide");
    assert!(!own.contains("沼山") && !own.contains("rel=\"next\""), "{own}");
}

/// A flood from one address is counted up to a cap, then refused without a row each:
/// the table cannot be grown without bound from one place; other places are counted.
#[test]
fn a_flood_from_one_address_stops_being_written_row_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = backend::store::Store::open(&dir.path().join("office.sqlite")).unwrap();
    let now = chrono::Utc::now();
    let window = chrono::Duration::minutes(15);
    let cap = backend::store::RECORD_CAP_PER_ADDR;
    let mut last = None;
    for i in 0..cap + 5 {
        let (_, counts) = store.begin_attempt(&format!("nobody{i}"), Some("192.0.2.1"), now, window).unwrap();
        last = Some(counts);
    }
    assert_eq!(last.unwrap().by_addr, cap, "the count stops at the cap");
    let (row, counts) = store.begin_attempt("officer", Some("192.0.2.2"), now, window).unwrap();
    assert!(row > 0 && counts.by_addr == 0, "another place is still written and counted");
    let rows: i64 = rusqlite::Connection::open(dir.path().join("office.sqlite"))
        .unwrap()
        .query_row("SELECT count(*) FROM login_failures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as u64, cap + 1);
}

/// An admin gives an officer the name residents know her by; when she takes on a call
/// for help, the resident's tablet is told 「福祉担当職員の佐藤さん」, not a role alone.
/// A name that is not one is refused and changes nothing.
#[tokio::test]
async fn the_tablet_names_who_took_the_call_by_the_name_an_admin_gave() {
    let app = TestApp::new();
    let now = app.clock_now();
    let (_, officer, chief) = chief_and_officer(&app).await;
    let pct = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let named = |app: &TestApp| {
        app.store.users(now).unwrap().into_iter().find(|u| u.user == officer).unwrap().spoken_name
    };
    // (typed, status, kept)
    for (typed, status, kept) in [
        ("佐藤さん", StatusCode::SEE_OTHER, Some("佐藤")),
        ("", StatusCode::SEE_OTHER, None),
        ("あいうえおかきくけこさしす", StatusCode::BAD_REQUEST, None),
        ("\u{7}", StatusCode::BAD_REQUEST, None),
        (" 佐藤 ", StatusCode::SEE_OTHER, Some("佐藤")),
    ] {
        let form = format!("login=officer&action=set_spoken_name&name={}", pct(typed));
        assert_eq!(change(&app, &chief, &form).await.0, status, "{typed:?}");
        assert_eq!(named(&app).as_deref(), kept, "{typed:?}");
    }
    let resident = app.resident("大井沢");
    let tablet = app.tablet(resident).await;
    app.post("/api/v1/events", &tablet, batch(&[event(1, "help_request", json!({}))])).await;
    let alert = app.store.open_alerts().unwrap()[0].id;
    assert!(app.store.acknowledge_alert(alert, officer, now).unwrap());
    let pulled = app.pull(&tablet, 0).await;
    let told = pulled["items"].as_array().unwrap().iter().find(|i| i["kind"] == "help_acknowledged").cloned();
    assert_eq!(told.unwrap()["body"]["handler"], "福祉担当職員の佐藤さん", "{pulled}");
}

/// After a downgrade the older server refuses a database a newer one migrated, with a
/// message that says what to do, and changes nothing in it.
#[test]
fn an_older_server_refuses_a_newer_database_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("office.sqlite");
    drop(backend::store::Store::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    conn.pragma_update(None, "user_version", version + 1).unwrap();
    drop(conn);
    let (ok, _, err) = backend(&db, &["user", "list"], "");
    assert!(!ok && err.contains("newer than this server knows"), "{err}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let after: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(after, version + 1, "nothing migrated back");
}

/// systemd stops a service with SIGTERM: the server stops cleanly (exit 0, 「stopped」
/// logged), as it does on Ctrl-C.
#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("office.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndatabase = \"{}\"\n[weather]\nenabled = false\n",
            dir.path().join("o.sqlite").display()
        ),
    )
    .unwrap();
    // The server logs to standard output.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut log = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut log, &mut line).unwrap() > 0, "the server died");
    }
    let killed =
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut log, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {rest}");
    assert!(rest.contains("stopped"), "{rest}");
}
