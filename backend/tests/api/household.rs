//! Households: staff let a resident share another's tablet (a couple); the tablet
//! then pulls their name and settings, and each check-in is recorded for whoever
//! answered it, never for someone who does not share the tablet. Staff take a
//! resident off again (moved into care) and the tablet forgets them.

use axum::http::{Method, StatusCode};
use backend::password::hash_password;
use backend::store::{AuditFilter, BoardState, Page, ResidentId, Role, Status};
use serde_json::json;

use crate::dashboard::login;
use crate::support::{TestApp, acks, batch, day, event, kinds, local};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// Signs in a staff member; their cookie.
async fn staff(app: &TestApp) -> String {
    app.store.add_user("staff", &hash_password("staffstaff"), Role::Staff, None, app.clock_now()).unwrap();
    login(app, "staff", "staffstaff").await.unwrap()
}

/// Posts a form to `path` as `cookie` with its CSRF token and `fields`; the status
/// and the page.
async fn post_form_with(app: &TestApp, cookie: &str, path: &str, fields: &str) -> (StatusCode, String) {
    let (_, _, page) = app.raw(Method::GET, "/board", &[("cookie", cookie)], "").await;
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, _, page) =
        app.raw(Method::POST, path, &[FORM, ("cookie", cookie)], &format!("csrf={csrf}{fields}")).await;
    (status, page)
}

async fn post_form(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    post_form_with(app, cookie, path, "").await
}

/// Posts the devices page's household form as `cookie`; the status and the page.
async fn join(app: &TestApp, cookie: &str, resident: &str, with: &str) -> (StatusCode, String) {
    post_form_with(app, cookie, "/devices/household", &format!("&resident={resident}&with={with}")).await
}

/// A check-in by `resident` (0: not said), feeling well, from `token`; its ack.
async fn check_in(app: &TestApp, token: &str, seq: u64, resident: i64) -> String {
    let body =
        json!({"resident_id": resident, "answers": [{"question": "how_feeling", "intent": "feeling_good"}]});
    let (_, sent) = app.post("/api/v1/events", token, batch(&[event(seq, "check_in", body)])).await;
    acks(&sent).remove(0)
}

#[tokio::test]
async fn a_spouse_shares_the_tablet_and_each_check_in_is_recorded_for_who_answered() {
    let app = TestApp::new();
    let cookie = staff(&app).await;
    let (wife, husband, neighbour) = (app.resident("大井沢"), app.resident("大井沢"), app.resident("大井沢"));
    let (t_wife, t_neighbour) = (app.tablet(wife).await, app.tablet(neighbour).await);
    let before = app.pull(&t_wife, 0).await["cursor"].as_u64().unwrap();

    let (status, page) = join(&app, &cookie, &husband.0.to_string(), &wife.0.to_string()).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    // The tablet hears of him at its next pull, from its cursor on (sent again at
    // the join, for a tablet already past his enrolment).
    let pulled = app.pull(&t_wife, before).await;
    assert!(kinds(&pulled).ends_with(&["roster_entry".into(), "resident_settings".into()]), "{pulled}");
    for item in pulled["items"].as_array().unwrap() {
        assert_eq!(item["body"]["resident_id"], husband.0, "{item}");
    }
    let theirs = app.pull(&t_neighbour, 0).await;
    assert!(
        theirs["items"].as_array().unwrap().iter().all(|i| i["body"]["resident_id"] != husband.0),
        "the neighbour's tablet never hears of him: {theirs}"
    );

    app.clock.set(local(8, 30));
    let beat = json!({"microphone": "ok", "reader": "ok", "speaker": "ok", "device_time": "2026-11-28T08:30:00+09:00"});
    for t in [&t_wife, &t_neighbour] {
        assert_eq!(app.post("/api/v1/heartbeat", t, beat.clone()).await.0, StatusCode::OK);
    }
    let rows = app.store.board_rows(None, local(8, 30), 10).unwrap();
    let state = |r: ResidentId| rows.iter().find(|row| row.resident == r).map(|row| row.state);
    assert_eq!(state(husband), Some(BoardState::Pending), "her tablet is his: not without one: {rows:?}");
    assert_eq!(check_in(&app, &t_wife, 1, husband.0).await, "stored");
    assert_eq!(app.store.status(husband, day()).unwrap(), Some(Status::Confirmed), "his, as he answered");
    assert_eq!(app.store.status(wife, day()).unwrap(), None, "not hers");
    // Someone who does not share the tablet: refused, nothing recorded.
    assert_eq!(check_in(&app, &t_wife, 2, neighbour.0).await, "rejected");
    assert_eq!(app.store.status(neighbour, day()).unwrap(), None);
    // Not said (an older tablet): the tablet's own resident.
    assert_eq!(check_in(&app, &t_wife, 3, 0).await, "stored");
    assert_eq!(app.store.status(wife, day()).unwrap(), Some(Status::Confirmed));
    let rows = app.store.board_rows(None, local(8, 31), 10).unwrap();
    let state = |r: ResidentId| rows.iter().find(|row| row.resident == r).map(|row| row.state);
    assert_eq!(state(husband), Some(BoardState::Confirmed));
    assert_eq!(state(neighbour), Some(BoardState::Pending), "{rows:?}");

    let (_, _, list) = app.raw(Method::GET, "/devices", &[("cookie", cookie.as_str())], "").await;
    assert!(
        list.contains(&format!("同じ端末: <a class=\"name\" href=\"/residents/{}\">", husband.0)),
        "{list}"
    );
    let filter = AuditFilter { resident: Some(husband), action: Some("household_join".into()), user: None };
    let trail = app.store.audit_log(&filter, Page(0)).unwrap().rows;
    assert_eq!(trail.len(), 1, "{trail:?}");

    // He moves into care: staff take him off her tablet, which is told to forget him,
    // and a check-in still queued under his name is refused.
    let cursor = app.pull(&t_wife, 0).await["cursor"].as_u64().unwrap();
    let leave = format!("/devices/household/{}/leave", husband.0);
    assert_eq!(post_form(&app, &cookie, &leave).await.0, StatusCode::SEE_OTHER);
    let pulled = app.pull(&t_wife, cursor).await;
    assert_eq!(kinds(&pulled), ["roster_entry"], "{pulled}");
    assert_eq!(pulled["items"][0]["body"]["resident_id"], husband.0);
    assert_eq!(pulled["items"][0]["body"]["left"], true, "{pulled}");
    assert_eq!(check_in(&app, &t_wife, 4, husband.0).await, "rejected");
    assert_eq!(post_form(&app, &cookie, &leave).await.0, StatusCode::NOT_FOUND, "he shares no tablet now");
    let (_, _, list) = app.raw(Method::GET, "/devices", &[("cookie", cookie.as_str())], "").await;
    assert!(!list.contains("同じ端末:") && !list.contains("さんを外す"), "{list}");
}

#[tokio::test]
async fn staff_are_told_plainly_when_a_household_cannot_be_made() {
    let app = TestApp::new();
    let cookie = staff(&app).await;
    let (wife, husband, owner, nobody) =
        (app.resident("大井沢"), app.resident("大井沢"), app.resident("沼山"), app.resident("沼山"));
    let (_t_wife, _t_owner) = (app.tablet(wife).await, app.tablet(owner).await);
    assert_eq!(
        join(&app, &cookie, &husband.0.to_string(), &wife.0.to_string()).await.0,
        StatusCode::SEE_OTHER
    );
    let id = |r: ResidentId| r.0.to_string();
    let check = async |resident: String, with: String, want: StatusCode, words: &str| {
        let (status, page) = join(&app, &cookie, &resident, &with).await;
        assert_eq!(status, want, "{resident} with {with}: {page}");
        assert!(page.contains(words), "{resident} with {with}: {words} not in {page}");
    };
    check(id(husband), id(wife), StatusCode::SEE_OTHER, "").await;
    check(id(wife), id(husband), StatusCode::CONFLICT, "同じ住民番号").await;
    check(id(owner), id(wife), StatusCode::CONFLICT, "自分の端末").await;
    check(id(wife), id(owner), StatusCode::CONFLICT, "自分の端末").await;
    check(id(nobody), id(husband), StatusCode::SEE_OTHER, "").await;
    check(id(owner), id(nobody), StatusCode::CONFLICT, "自分の端末").await;
    check("99".into(), id(wife), StatusCode::NOT_FOUND, "登録されていません").await;
    check("x".into(), id(wife), StatusCode::BAD_REQUEST, "数字").await;
    // Nobody shares a tablet that is not in use.
    let lonely = app.resident("沼山");
    check(id(lonely), id(app.resident("沼山")), StatusCode::CONFLICT, "端末が登録されていません").await;
    // A 民生委員 sees the board, never the tablets.
    app.store
        .add_user("minsei", &hash_password("minseiminsei"), Role::Minsei, Some("大井沢"), app.clock_now())
        .unwrap();
    let theirs = login(&app, "minsei", "minseiminsei").await.unwrap();
    let (status, _) = join(&app, &theirs, &id(lonely), &id(wife)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
