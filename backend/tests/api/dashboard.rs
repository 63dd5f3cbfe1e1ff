//! The dashboard: login with Argon2 hashes, session cookies, CSRF, the login rate
//! limit, expiry, district scoping for 民生委員, and the board reflecting check-ins.

use axum::http::{Method, StatusCode, header};
use backend::dashboard::{csrf_token, hash_password};
use backend::store::Role;
use serde_json::json;

use crate::support::{TestApp, acks, batch, event, local};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// Logs in; returns the cookie header value (`mimamori_session=…`) or the status.
async fn login(app: &TestApp, user: &str, password: &str) -> Result<String, (StatusCode, String)> {
    let body = format!("login={user}&password={password}");
    let (status, headers, text) = app.raw(Method::POST, "/login", &[FORM], &body).await;
    if status != StatusCode::SEE_OTHER {
        return Err((status, text));
    }
    assert_eq!(headers[header::LOCATION], "/board");
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    Ok(cookie.split(';').next().unwrap().to_owned())
}

async fn board(app: &TestApp, cookie: &str, query: &str) -> (StatusCode, String) {
    let (status, _, text) = app.raw(Method::GET, &format!("/board{query}"), &[("cookie", cookie)], "").await;
    (status, text)
}

/// The six numbers of the counts table, in order: confirmed, unconfirmed,
/// needs help, paused, pending, offline.
fn counts(page: &str) -> Vec<u64> {
    let table = page.split("<table id=\"counts\">").nth(1).unwrap().split("</table>").next().unwrap();
    table.split("<td>").skip(1).map(|c| c.split('<').next().unwrap().parse().unwrap()).collect()
}

fn users(app: &TestApp) {
    let now = app.clock_now();
    app.store.add_user("officer", &hash_password("correct horse"), Role::Officer, None, now).unwrap();
    app.store
        .add_user("minsei", &hash_password("battery staple"), Role::Minsei, Some("大井沢"), now)
        .unwrap();
}

#[tokio::test]
async fn the_board_reflects_a_new_check_in_and_lists_need_first() {
    let app = TestApp::new();
    users(&app);
    let a = app.resident("大井沢");
    let b = app.resident("大井沢");
    app.resident("沼山");
    let (ta, tb) = (app.tablet(a).await, app.tablet(b).await);
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    app.clock.set(local(8, 30));
    let (status, page) = board(&app, &cookie, "?district=大井沢").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(counts(&page), [0, 0, 0, 0, 2, 2], "both pending; no heartbeat yet, so offline too");
    assert_eq!(
        acks(&app.post("/api/v1/events", &ta, batch(&[event(1, "check_in", json!({}))])).await.1),
        ["stored"]
    );
    assert_eq!(
        acks(&app.post("/api/v1/events", &tb, batch(&[event(1, "help_request", json!({}))])).await.1),
        ["stored"]
    );
    let (_, page) = board(&app, &cookie, "?district=大井沢").await;
    assert_eq!(counts(&page)[..3], [1, 0, 1]);
    let first = page.find("data-state=\"NeedsHelp\"").unwrap();
    let confirmed = page.find("data-state=\"Confirmed\"").unwrap();
    assert!(first < confirmed, "needs help is listed first");
    let (_, town) = board(&app, &cookie, "").await;
    assert_eq!(counts(&town)[..3], [1, 0, 1]);
    assert!(town.contains("沼山"));
}

#[tokio::test]
async fn minsei_see_only_their_district() {
    let app = TestApp::new();
    users(&app);
    app.resident("大井沢");
    app.resident("沼山");
    let cookie = login(&app, "minsei", "battery+staple").await.unwrap();
    let (status, page) = board(&app, &cookie, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("本日の安否 大井沢") && !page.contains("<td>沼山</td>"), "{page}");
    let (status, page) = board(&app, &cookie, "?district=沼山").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!page.contains("<td>沼山</td>"));
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_a_burst_is_rate_limited() {
    let app = TestApp::new();
    users(&app);
    for (user, password) in [("officer", "wrong"), ("nobody", "x"), ("officer' OR '1'='1", "' OR '1'='1")] {
        let (status, page) = login(&app, user, password).await.unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{user}");
        assert!(page.contains("ログイン名かパスワードが違います"));
    }
    for _ in 0..4 {
        assert_eq!(login(&app, "officer", "wrong").await.unwrap_err().0, StatusCode::UNAUTHORIZED);
    }
    // Five failures within 15 minutes: even the right password waits.
    assert_eq!(login(&app, "officer", "correct+horse").await.unwrap_err().0, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(chrono::Duration::minutes(16));
    assert!(login(&app, "officer", "correct+horse").await.is_ok());
    let (status, _, _) = app.raw(Method::POST, "/login", &[FORM], "login=officer").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sessions_expire_and_forged_cookies_get_the_login_page() {
    let app = TestApp::new();
    users(&app);
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    assert_eq!(board(&app, &cookie, "").await.0, StatusCode::OK);
    let forged = format!("mimamori_session={}", "ab".repeat(32));
    for c in ["", "mimamori_session=", forged.as_str(), "mimamori_session='; DROP TABLE sessions;--"] {
        let (status, headers, _) = app.raw(Method::GET, "/board", &[("cookie", c)], "").await;
        assert_eq!(
            (status, &headers[header::LOCATION]),
            (StatusCode::SEE_OTHER, &"/login".parse().unwrap()),
            "{c}"
        );
    }
    app.clock.advance(chrono::Duration::hours(8));
    let (status, headers, _) = app.raw(Method::GET, "/board", &[("cookie", &cookie)], "").await;
    assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
}

#[tokio::test]
async fn logout_needs_the_csrf_token() {
    let app = TestApp::new();
    users(&app);
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let token = cookie.strip_prefix("mimamori_session=").unwrap();
    let headers = [FORM, ("cookie", cookie.as_str())];
    for body in ["", "csrf=", "csrf=0123"] {
        let (status, _, page) = app.raw(Method::POST, "/logout", &headers, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(page.contains("確認トークン"));
    }
    assert_eq!(board(&app, &cookie, "").await.0, StatusCode::OK, "a refused logout changes nothing");
    let (_, page) = board(&app, &cookie, "").await;
    let csrf = csrf_token(token);
    assert!(page.contains(&csrf), "the board's logout form carries the token");
    let (status, _, _) = app.raw(Method::POST, "/logout", &headers, &format!("csrf={csrf}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(board(&app, &cookie, "").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn names_are_escaped_on_the_board() {
    let app = TestApp::new();
    users(&app);
    let r = backend::store::NewResident {
        display_name: "<script>alert(1)</script>".to_owned(),
        district: "大井沢\"><b>".to_owned(),
        card: None,
        window: backend::store::CheckinWindow {
            start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            grace_minutes: 60,
        },
    };
    app.store.add_resident(&r, app.clock_now()).unwrap();
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let (_, page) = board(&app, &cookie, "").await;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>"), "{page}");
    assert!(!page.contains("\"><b>"));
}

#[tokio::test]
async fn alerts_are_acknowledged_and_resolved_with_a_note_within_scope_and_audited() {
    let app = TestApp::new();
    users(&app);
    let here = app.resident("大井沢");
    let there = app.resident("沼山");
    let (t_here, t_there) = (app.tablet(here).await, app.tablet(there).await);
    for t in [&t_here, &t_there] {
        assert_eq!(
            acks(&app.post("/api/v1/events", t, batch(&[event(1, "help_request", json!({}))])).await.1),
            ["stored"]
        );
    }
    let alert_of = |r| app.store.open_alerts().unwrap().into_iter().find(|a| a.resident == r).unwrap().id;
    let (a_here, a_there) = (alert_of(here), alert_of(there));
    let minsei = login(&app, "minsei", "battery+staple").await.unwrap();
    let csrf = csrf_token(minsei.strip_prefix("mimamori_session=").unwrap());
    let headers = [FORM, ("cookie", minsei.as_str())];
    let (status, _, page) = app.raw(Method::GET, "/alerts", &[("cookie", minsei.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("data-alert=\"{a_here}\""))
            && !page.contains(&format!("data-alert=\"{a_there}\""))
    );
    // (path, form, expected status): the other district's alert looks missing.
    let cases = [
        (format!("/alerts/{a_here}/acknowledge"), String::new(), StatusCode::FORBIDDEN),
        (format!("/alerts/{a_there}/acknowledge"), format!("csrf={csrf}"), StatusCode::NOT_FOUND),
        (format!("/alerts/{a_there}/resolve"), format!("csrf={csrf}&note=x"), StatusCode::NOT_FOUND),
        (format!("/alerts/{a_here}/resolve"), format!("csrf={csrf}&note=+"), StatusCode::BAD_REQUEST),
        ("/alerts/999/acknowledge".to_owned(), format!("csrf={csrf}"), StatusCode::NOT_FOUND),
        (format!("/alerts/{a_here}/acknowledge"), format!("csrf={csrf}"), StatusCode::SEE_OTHER),
    ];
    for (path, form, expected) in cases {
        let (status, _, page) = app.raw(Method::POST, &path, &headers, &form).await;
        assert_eq!(status, expected, "{path} {form}: {page}");
    }
    assert_eq!(app.store.open_alerts().unwrap().iter().filter(|a| a.acknowledged).count(), 1);
    let note = "電話で無事を確認'); DROP TABLE alerts;--";
    let form = format!("csrf={csrf}&note={}", note.bytes().map(|b| format!("%{b:02X}")).collect::<String>());
    let (status, _, _) = app.raw(Method::POST, &format!("/alerts/{a_here}/resolve"), &headers, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let open: Vec<_> = app.store.open_alerts().unwrap().iter().map(|a| a.id).collect();
    assert_eq!(open, [a_there]);
    let trail: Vec<String> =
        app.store.audit_trail(here).unwrap().into_iter().map(|(_, action, _)| action).collect();
    assert_eq!(trail, ["alert_acknowledge", "alert_resolve"]);
    assert!(app.store.audit_trail(there).unwrap().is_empty());
}
