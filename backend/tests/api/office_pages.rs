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

/// The database file itself, for facts no route writes directly (a day's status, an
/// approved card link).
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
    // 山田 花子's card was approved on her husband's tablet: they share it.
    let device = app.store.authenticate_device(&t_faulty).unwrap().unwrap().device;
    db(&app)
        .execute(
            "INSERT INTO card_link_requests (resident_id, device_id, card_identity, requested_ms, decided_ms)
             VALUES (?1, ?2, ?3, 0, 0)",
            rusqlite::params![spouse.0, device.0, "a".repeat(64)],
        )
        .unwrap();
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
