//! The office pages of #17: tablets by resident name, the admins' audit trail, and
//! the monthly report with names.

use axum::http::{Method, StatusCode};
use backend::password::hash_password;
use backend::store::{CheckinWindow, NewResident, ResidentId, Role};
use chrono::NaiveTime;
use serde_json::json;

use crate::dashboard::login;
use crate::support::{TestApp, local};

/// A resident with a name of the test's choosing.
fn named(app: &TestApp, name: &str, district: &str) -> ResidentId {
    let window = CheckinWindow {
        start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        grace_minutes: 60,
    };
    let r = NewResident { display_name: name.to_owned(), district: district.to_owned(), card: None, window };
    app.store.add_resident(&r, app.clock_now()).unwrap()
}

/// One account of each office role, and a 民生委員 of 大井沢; the password is the login twice.
fn accounts(app: &TestApp) {
    let now = app.clock_now();
    for (login, role, district) in [
        ("admin", Role::Admin, None),
        ("officer", Role::Officer, None),
        ("staff", Role::Staff, None),
        ("minsei", Role::Minsei, Some("大井沢")),
    ] {
        app.store.add_user(login, &hash_password(&format!("{login}{login}")), role, district, now).unwrap();
    }
}

async fn page(app: &TestApp, who: &str, path: &str) -> (StatusCode, String) {
    let cookie = login(app, who, &format!("{who}{who}")).await.unwrap();
    let (status, _, body) = app.raw(Method::GET, path, &[("cookie", cookie.as_str())], "").await;
    (status, body)
}

/// The database file itself, for facts no route writes directly (a day's status).
fn db(app: &TestApp) -> rusqlite::Connection {
    rusqlite::Connection::open(app._dir.path().join("office.sqlite")).unwrap()
}

#[tokio::test]
async fn the_device_list_names_residents_words_health_and_puts_the_silent_tablet_first() {
    let app = TestApp::new();
    accounts(&app);
    let silent = named(&app, "鈴木 一郎", "沼山");
    let faulty = named(&app, "山田 太郎", "大井沢");
    let fine = named(&app, "佐藤 花子", "大井沢");
    let spouse = named(&app, "山田 花子", "大井沢");
    let beat = |mic: &str| {
        json!({"microphone": mic, "reader": "ok", "speaker": "ok", "dialect_bundle": 4,
        "device_time": "2026-11-28T00:00:00Z"})
    };
    let t_silent = app.tablet(silent).await;
    assert_eq!(app.post("/api/v1/heartbeat", &t_silent, beat("ok")).await.0, StatusCode::OK);
    app.clock.set(local(9, 0));
    let (t_faulty, t_fine) = (app.tablet(faulty).await, app.tablet(fine).await);
    assert_eq!(app.post("/api/v1/heartbeat", &t_faulty, beat("faulty")).await.0, StatusCode::OK);
    assert_eq!(app.post("/api/v1/heartbeat", &t_fine, beat("ok")).await.0, StatusCode::OK);
    // 山田 花子 shares her husband's tablet (staff joined her to his household).
    let staff =
        app.store.users(app.clock_now()).unwrap().into_iter().find(|u| u.login == "staff").unwrap().user;
    let joined = app.store.join_household(spouse, faulty, staff, app.clock_now()).unwrap();
    assert_eq!(joined, backend::store::HouseholdOutcome::Joined);
    app.clock.set(local(9, 5));
    let (status, list) = page(&app, "staff", "/devices").await;
    assert_eq!(status, StatusCode::OK);
    let order: Vec<usize> =
        ["鈴木 一郎", "山田 太郎", "佐藤 花子"].iter().map(|n| list.find(n).unwrap()).collect();
    assert!(order.is_sorted(), "silent, then a faulty part, then the rest: {order:?}");
    let row = |r: ResidentId| {
        let at = list.find(&format!("href=\"/residents/{}\"", r.0)).unwrap();
        list[..at].rsplit("<tr ").next().unwrap().to_owned() + list[at..].split("</tr>").next().unwrap()
    };
    for (who, words) in [
        (silent, &["data-health=\"silent\">連絡なし", "沼山", "11/28 07:00", "2時間前", "v4"][..]),
        (faulty, &["data-health=\"attention\">注意", "マイク\">故障", "カードリーダー\">正常", "5分前"][..]),
        (fine, &["data-health=\"ok\">正常", "大井沢", "11/28 09:00"][..]),
    ] {
        let row = row(who);
        for w in words {
            assert!(row.contains(w), "{w} missing from {row}");
        }
        assert!(!row.contains("faulty") && !row.contains(">ok<"), "no enum names: {row}");
    }
    assert!(
        row(faulty)
            .contains(&format!("同じ端末: <a class=\"name\" href=\"/residents/{}\">山田 花子</a>", spouse.0))
    );
}

/// The `<table id="audit">` of an audit page (the filters' options name users and
/// residents too).
fn audit_rows(page: &str) -> &str {
    page.split("<table id=\"audit\"").nth(1).map_or("", |t| t.split("</table>").next().unwrap())
}

#[tokio::test]
async fn only_an_admin_reads_the_audit_trail_filtered_by_resident_and_by_user() {
    let app = TestApp::new();
    accounts(&app);
    let hostile = named(&app, "<b>悪</b> 太郎", "大井沢");
    let other = named(&app, "佐藤 花子", "沼山");
    assert_eq!(page(&app, "officer", &format!("/residents/{}", hostile.0)).await.0, StatusCode::OK);
    assert_eq!(page(&app, "staff", &format!("/residents/{}", other.0)).await.0, StatusCode::OK);
    for who in ["officer", "staff", "minsei"] {
        let (status, body) = page(&app, who, "/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        assert!(body.contains("監査記録は管理者だけが見られます。") && audit_rows(&body).is_empty(), "{who}");
    }
    let (status, all) = page(&app, "admin", "/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(all.contains("<a href=\"/audit\" aria-current=\"page\">監査記録</a>"), "in the admin's menu");
    let rows = audit_rows(&all);
    assert!(rows.contains("&#60;b&#62;悪&#60;/b&#62; 太郎") && !all.contains("<b>悪</b>"), "escaped: {rows}");
    let newest = ["佐藤 花子", "悪"].map(|n| rows.find(n).unwrap());
    assert!(newest[0] < newest[1], "newest first: {rows}");
    let staff = app.store.audit_choices().unwrap().users.into_iter().find(|(_, l)| l == "staff").unwrap().0;
    // Each filter keeps its lines and drops the others'; the select shows the choice.
    let check = async |query: String, kept: &str, dropped: &str, chosen: String| {
        let (status, body) = page(&app, "admin", &format!("/audit?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        let rows = audit_rows(&body);
        assert!(rows.contains(kept) && rows.contains("閲覧") && !rows.contains(dropped), "{query}: {rows}");
        assert!(body.contains(&chosen), "{query}: {chosen}");
    };
    let by_resident =
        format!("<option value=\"{}\" selected>&#60;b&#62;悪&#60;/b&#62; 太郎({})", hostile.0, hostile.0);
    check(
        format!("resident={}", hostile.0),
        "<td data-label=\"利用者\">officer</td>",
        "佐藤 花子",
        by_resident,
    )
    .await;
    check(
        format!("user={}", staff.0),
        "佐藤 花子",
        "悪",
        format!("<option value=\"{}\" selected>staff", staff.0),
    )
    .await;
    check(
        "action=view".to_owned(),
        "佐藤 花子",
        "監査記録の閲覧",
        "<option value=\"view\" selected>閲覧".to_owned(),
    )
    .await;
    // Reading the trail is itself on it.
    let viewed = backend::store::AuditFilter { action: Some("audit_view".to_owned()), ..Default::default() };
    assert_eq!(
        app.store.audit_log(&viewed, backend::store::Page(0)).unwrap().rows.len(),
        4,
        "the admin opened it four times"
    );
}

/// Sets `resident`'s status on day `d` of November 2026.
fn status(app: &TestApp, resident: ResidentId, d: u32, status: &str) {
    db(app)
        .execute(
            "INSERT INTO statuses (resident_id, day, status, changed_ms) VALUES (?1, ?2, ?3, 0)",
            rusqlite::params![resident.0, format!("2026-11-{d:02}"), status],
        )
        .unwrap();
}

#[tokio::test]
async fn the_monthly_report_names_residents_counts_each_state_and_totals_districts() {
    let app = TestApp::new();
    accounts(&app);
    let yamada = named(&app, "<i>山田</i> 太郎", "大井沢");
    let sato = named(&app, "佐藤 花子", "大井沢");
    let suzuki = named(&app, "鈴木 一郎", "沼山");
    for (d, s) in
        [(2, "confirmed"), (3, "confirmed"), (4, "attention"), (5, "unconfirmed"), (6, "needs_help")]
    {
        status(&app, yamada, d, s);
    }
    status(&app, sato, 2, "confirmed");
    status(&app, sato, 3, "attention");
    status(&app, suzuki, 2, "needs_help");
    status(&app, yamada, 1, "confirmed");
    db(&app).execute("UPDATE statuses SET day = '2026-10-31' WHERE day = '2026-11-01'", []).unwrap();
    let (status, report) = page(&app, "officer", "/reports/monthly?month=2026-11").await;
    assert_eq!(status, StatusCode::OK);
    let row = |r: ResidentId| {
        report
            .split(&format!("<tr data-resident=\"{}\">", r.0))
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap()
            .to_owned()
    };
    let counts = |row: &str| -> Vec<String> {
        row.split("<td class=\"num\"")
            .skip(1)
            .map(|c| c.split('>').nth(1).unwrap().split('<').next().unwrap().to_owned())
            .collect()
    };
    assert!(
        row(yamada).contains("&#60;i&#62;山田&#60;/i&#62; 太郎") && !report.contains("<i>山田"),
        "escaped name"
    );
    assert_eq!(
        counts(&row(yamada)),
        ["2", "1", "1", "1", "0"],
        "confirmed, 要確認, unconfirmed, help, exercise"
    );
    assert_eq!(counts(&row(sato)), ["1", "1", "0", "0", "0"]);
    let total = |district: &str| {
        let t = report.split(&format!("{district} 合計</th>")).nth(1).unwrap().split("</tr>").next().unwrap();
        counts(&format!("x{t}"))
    };
    assert_eq!(total("大井沢"), ["3", "2", "1", "1", "0"]);
    assert_eq!(total("沼山"), ["0", "0", "0", "1", "0"]);
    assert!(report.contains("href=\"/export/monthly.csv?month=2026-11\""));
    // Last month by default; October holds only the 31st.
    let (_, october) = page(&app, "admin", "/reports/monthly").await;
    assert!(october.contains("<h1>月次報告 2026年10月</h1>"), "{october}");
    let oct = october.split(&format!("<tr data-resident=\"{}\">", yamada.0)).nth(1).unwrap();
    assert_eq!(counts(oct.split("</tr>").next().unwrap())[0], "1");
    // The CSV keeps its shape: 要確認 days inside the confirmed ones, no names.
    let cookie = login(&app, "officer", "officerofficer").await.unwrap();
    let csv =
        app.raw(Method::GET, "/export/monthly.csv?month=2026-11", &[("cookie", cookie.as_str())], "").await.2;
    assert!(csv.contains(&format!("{},大井沢,3,1,1,0", yamada.0)) && !csv.contains("山田"), "{csv}");
    // Whoever may not have the CSV may not have the page.
    for who in ["admin", "officer", "staff", "minsei"] {
        let csv = page(&app, who, "/export/monthly.csv?month=2026-11").await.0;
        let (status, body) = page(&app, who, "/reports/monthly?month=2026-11").await;
        assert_eq!(status, csv, "{who}");
        assert_eq!(body.contains("鈴木 一郎"), status == StatusCode::OK, "{who}");
    }
    assert_eq!(page(&app, "minsei", "/reports/monthly").await.0, StatusCode::FORBIDDEN);
}
