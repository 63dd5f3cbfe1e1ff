//! The dashboard: login with Argon2 hashes, session cookies, CSRF, the login rate
//! limit, expiry, district scoping for 民生委員, and the board reflecting check-ins.

use axum::http::{Method, StatusCode, header};
use backend::dashboard::csrf_token;
use backend::password::hash_password;
use backend::store::Role;
use serde_json::json;

use crate::support::{TestApp, Trail as _, acks, batch, event, local};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// Logs in; returns the cookie header value (`__Host-mimamori_session=…`) or the status.
pub(crate) async fn login(app: &TestApp, user: &str, password: &str) -> Result<String, (StatusCode, String)> {
    let body = format!("login={user}&password={password}");
    let (status, headers, text) = app.submit_login(&body).await;
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

/// The board's counts, in this order: confirmed, unconfirmed, needs help, paused,
/// pending, offline, attention (each state's `<li data-count>`, read by name).
fn counts(page: &str) -> Vec<u64> {
    let list = page.split("<ul id=\"counts\"").nth(1).unwrap().split("</ul>").next().unwrap();
    ["Confirmed", "Unconfirmed", "NeedsHelp", "Paused", "Pending", "DeviceOffline", "Attention"]
        .iter()
        .map(|state| {
            let item =
                list.split(&format!("data-count=\"{state}\">")).nth(1).unwrap_or_else(|| panic!("{state}"));
            item.split("<span class=\"n\">").nth(1).unwrap().split('<').next().unwrap().parse().unwrap()
        })
        .collect()
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
    assert_eq!(counts(&page), [0, 0, 0, 0, 0, 2, 0], "no heartbeat yet: offline, each resident in one state");
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

/// The counts table and the rows read the one state of each resident today: every
/// count is the number of rows in that state, and every resident is in one.
#[tokio::test]
async fn the_board_counts_are_its_rows_counted() {
    let app = TestApp::new();
    users(&app);
    let now = local(8, 0);
    app.clock.set(now);
    let heard = |t: String| {
        let app = &app;
        async move { app.post("/api/v1/heartbeat", &t, json!({"device_time": "2026-11-28T00:00:00Z"})).await }
    };
    let confirmed = app.resident("大井沢");
    let needs_help = app.resident("大井沢");
    let pending = app.resident("大井沢");
    let offline = app.resident("大井沢");
    let paused = app.resident("大井沢");
    let confirmed_offline = app.resident("大井沢");
    let unwell = app.resident("大井沢");
    app.store.add_pause(paused, now, now + chrono::Duration::days(3), "入院", now).unwrap();
    let mut tokens = std::collections::HashMap::new();
    for (r, kind) in [
        (confirmed, "check_in"),
        (needs_help, "help_request"),
        (pending, ""),
        (confirmed_offline, "check_in"),
        (unwell, "unwell"),
    ] {
        let t = app.tablet(r).await;
        assert_eq!(heard(t.clone()).await.0, StatusCode::OK);
        let sent = match kind {
            "" => None,
            "unwell" => Some(event(
                1,
                "check_in",
                json!({"answers": [{"question": "how_feeling", "intent": "feeling_unwell"}]}),
            )),
            kind => Some(event(1, kind, json!({}))),
        };
        if let Some(sent) = sent {
            assert_eq!(acks(&app.post("/api/v1/events", &t, batch(&[sent])).await.1), ["stored"]);
        }
        tokens.insert(r, t);
    }
    // Two hours on, only two tablets are still heard from: a silent tablet does not
    // undo today's check-in, and a resident without one is offline, not also pending.
    app.clock.set(local(10, 0));
    for r in [confirmed, pending] {
        assert_eq!(heard(tokens[&r].clone()).await.0, StatusCode::OK);
    }
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let (_, page) = board(&app, &cookie, "?district=大井沢").await;
    let states: Vec<&str> =
        page.split("data-state=\"").skip(1).map(|r| r.split('"').next().unwrap()).collect();
    let of = |s: &str| states.iter().filter(|x| **x == s).count() as u64;
    let table = counts(&page);
    assert_eq!(
        table,
        [
            of("Confirmed"),
            of("Unconfirmed"),
            of("NeedsHelp"),
            of("Paused"),
            of("Pending"),
            of("DeviceOffline"),
            of("Attention")
        ],
        "{page}"
    );
    assert_eq!(table.iter().sum::<u64>(), 7, "every resident once: {states:?}");
    assert_eq!(table, [2, 0, 1, 1, 1, 1, 1], "{states:?}");
    assert!(offline.0 > 0);
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
    assert!(page.contains("本日の安否 大井沢") && !page.contains(">沼山</td>"), "{page}");
    let (status, page) = board(&app, &cookie, "?district=沼山").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!page.contains(">沼山</td>"));
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_a_burst_slows_the_account_without_locking_it() {
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
    // Five failures within 15 minutes: the owner still gets in, after a wait (no
    // address here, so nobody is refused; the attack test refuses the address).
    let started = std::time::Instant::now();
    assert!(login(&app, "officer", "correct+horse").await.is_ok());
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    // The success is not a failure: the next failure waits as long, no longer.
    assert_eq!(login(&app, "officer", "wrong").await.unwrap_err().0, StatusCode::UNAUTHORIZED);
    let (status, _, _) = app.submit_login("login=officer").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The login form carries a token bound to a pre-session cookie: a login posted
/// from elsewhere (no cookie, no token, a token for another cookie) is refused
/// before the password is checked or a failure counted.
#[tokio::test]
async fn a_login_without_its_form_token_is_refused_and_counts_nothing() {
    let app = TestApp::new();
    users(&app);
    let (cookie, csrf) = app.login_page().await;
    let (other_cookie, _) = app.login_page().await;
    assert_ne!(cookie, other_cookie, "each browser gets its own pre-session");
    let creds = "login=officer&password=correct+horse";
    let forged = [
        (None, creds.to_owned()),
        (Some(cookie.as_str()), creds.to_owned()),
        (Some(cookie.as_str()), format!("csrf=&{creds}")),
        (Some(cookie.as_str()), format!("csrf={}&{creds}", "0".repeat(64))),
        (Some(other_cookie.as_str()), format!("csrf={csrf}&{creds}")),
        (None, format!("csrf={csrf}&{creds}")),
        (Some("__Host-mimamori_login=' OR 1=1--"), format!("csrf={csrf}&{creds}")),
    ];
    for (c, body) in &forged {
        let mut headers = vec![FORM];
        if let Some(c) = c {
            headers.push(("cookie", c));
        }
        let (status, h, page) = app.raw(Method::POST, "/login", &headers, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{c:?} {body}: {page}");
        assert!(h.get(header::SET_COOKIE).is_none() && page.contains("確認トークン"));
    }
    assert_eq!(
        app.store.login_failures("officer", app.clock_now(), chrono::Duration::minutes(15)).unwrap(),
        0
    );
    // The same pre-session, with its token, logs in; the page reuses a cookie it set.
    let (status, h, _) = app
        .raw(Method::POST, "/login", &[FORM, ("cookie", cookie.as_str())], &format!("csrf={csrf}&{creds}"))
        .await;
    assert_eq!((status, h[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/board"));
    let (_, h, page) = app.raw(Method::GET, "/login", &[("cookie", cookie.as_str())], "").await;
    assert!(h.get(header::SET_COOKIE).is_none() && page.contains(&csrf));
}

#[tokio::test]
async fn sessions_expire_and_forged_cookies_get_the_login_page() {
    let app = TestApp::new();
    users(&app);
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    assert_eq!(board(&app, &cookie, "").await.0, StatusCode::OK);
    let forged = format!("__Host-mimamori_session={}", "ab".repeat(32));
    for c in
        ["", "__Host-mimamori_session=", forged.as_str(), "__Host-mimamori_session='; DROP TABLE sessions;--"]
    {
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
    let token = cookie.strip_prefix("__Host-mimamori_session=").unwrap();
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

/// A hostile name and district are shown as text wherever a page shows them (askama
/// escapes every value; no page builds HTML by hand).
#[tokio::test]
async fn names_are_escaped_on_every_page_that_shows_them() {
    let app = TestApp::new();
    users(&app);
    let r = backend::store::NewResident {
        display_name: "<script>alert(1)</script>&\"'".to_owned(),
        district: "大井沢\"><b>".to_owned(),
        card: None,
        window: backend::store::CheckinWindow {
            start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            grace_minutes: 60,
        },
    };
    let id = app.store.add_resident(&r, app.clock_now()).unwrap();
    let tablet = app.tablet(id).await;
    app.post("/api/v1/events", &tablet, batch(&[event(1, "help_request", json!({}))])).await;
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let resident = format!("/residents/{}", id.0);
    // (page, whether it shows the name; every one shows the district)
    for (path, shows_name) in
        [("/board", true), ("/alerts", true), (resident.as_str(), true), ("/visits", true)]
    {
        let (status, _, page) = app.raw(Method::GET, path, &[("cookie", cookie.as_str())], "").await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        if shows_name {
            assert!(
                page.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#38;&#34;&#39;"),
                "{path}: {page}"
            );
        }
        assert!(page.contains("大井沢&#34;&#62;&#60;b&#62;"), "{path}: {page}");
        assert!(!page.contains("<script>") && !page.contains("\"><b>"), "{path}: {page}");
    }
}

/// The stylesheet needs no session and may be cached; the pages allow no other style.
#[tokio::test]
async fn the_stylesheet_is_served_to_anyone_and_is_the_only_style() {
    let app = TestApp::new();
    let (status, h, css) = app.raw(Method::GET, "/static/office.css", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=3600");
    assert!(h.get(header::SET_COOKIE).is_none());
    assert!(css.contains("@media print") && css.contains("@media (max-width: 600px)"), "{css}");
    let (_, h, page) = app.raw(Method::GET, "/login", &[], "").await;
    assert!(page.contains("<link rel=\"stylesheet\" href=\"/static/office.css\">"), "{page}");
    assert!(!page.contains("style=") && !page.contains("<style"), "{page}");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("style-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
}

/// The header's links of a page as `href`s.
fn nav_links(page: &str) -> Vec<String> {
    let nav = page.split("<nav class=\"menu\"").nth(1).unwrap().split("</nav>").next().unwrap();
    nav.split("href=\"").skip(1).map(|l| l.split('"').next().unwrap().to_owned()).collect()
}

/// Each role is linked only to pages that serve it, the page shown is marked, and
/// every signed-in page has the logout form.
#[tokio::test]
async fn the_navigation_links_only_what_the_role_may_open() {
    let app = TestApp::new();
    users(&app);
    let now = app.clock_now();
    app.store.add_user("admin", &hash_password("pw"), Role::Admin, None, now).unwrap();
    let office_only = ["/residents/new", "/devices", "/card-links", "/weather", "/duty", "/disaster"];
    for (user, password, linked, unlinked) in [
        ("minsei", "battery+staple", &["/board", "/alerts", "/visits", "/roster"][..], &office_only[..]),
        ("officer", "correct+horse", &office_only[..], &["/users"][..]),
        ("admin", "pw", &["/users", "/devices", "/board"][..], &[][..]),
    ] {
        let cookie = login(&app, user, password).await.unwrap();
        let (status, page) = board(&app, &cookie, "").await;
        assert_eq!(status, StatusCode::OK, "{user}: {page}");
        let links = nav_links(&page);
        for l in linked {
            assert!(links.iter().any(|x| x == l), "{user} lacks {l}: {links:?}");
        }
        for l in unlinked {
            assert!(!links.iter().any(|x| x == l), "{user} is linked to {l}: {links:?}");
            // The link is missing because the page refuses them.
            let (status, _, _) = app.raw(Method::GET, l, &[("cookie", cookie.as_str())], "").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{user} {l}");
        }
        assert!(page.contains("<a href=\"/board\" aria-current=\"page\">"), "{page}");
        assert!(page.contains("action=\"/logout\""), "{page}");
    }
}

/// A refusal is a page with its status, the reason and a way back: to the board for
/// a signed-in user, to the login page for a form sent without a session.
#[tokio::test]
async fn a_refused_page_keeps_its_status_and_links_back() {
    let app = TestApp::new();
    users(&app);
    let cookie = login(&app, "minsei", "battery+staple").await.unwrap();
    let (status, _, page) = app.raw(Method::GET, "/devices", &[("cookie", cookie.as_str())], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("端末の管理は職員が行います。") && page.contains("<a href=\"/board\">"), "{page}");
    assert!(page.contains("<h1>") && page.contains("<title>エラー - みまもり</title>"), "{page}");
    let (status, _, page) =
        app.raw(Method::GET, "/residents/99999", &[("cookie", cookie.as_str())], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("<a href=\"/board\">"), "{page}");
    let (status, _, page) = app.raw(Method::POST, "/login", &[FORM], "login=x&password=y").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("確認トークン") && page.contains("<a href=\"/login\">"), "{page}");
}

/// A help request that names a danger puts it first on the alert queue; a danger
/// name this office does not know is kept out of the page, and text is refused.
#[tokio::test]
async fn the_danger_a_resident_named_leads_the_alert() {
    let app = TestApp::new();
    users(&app);
    let (fire, newer, plain) = (app.resident("大井沢"), app.resident("大井沢"), app.resident("大井沢"));
    let cases = [
        (fire, json!({"intent": "emergency", "danger": "fire", "confirmed": true}), "stored"),
        (newer, json!({"intent": "need_help", "danger": "volcano_ash"}), "stored"),
        (plain, json!({"intent": "need_help", "danger": "<script>火事</script>"}), "rejected"),
    ];
    for (r, body, ack) in cases {
        let t = app.tablet(r).await;
        assert_eq!(
            acks(&app.post("/api/v1/events", &t, batch(&[event(1, "help_request", body)])).await.1),
            [ack]
        );
    }
    let alerts = app.store.open_alerts().unwrap();
    let danger_of = |r| alerts.iter().find(|a| a.resident == r).map(|a| a.danger);
    assert_eq!(danger_of(fire), Some(Some(vocab::Danger::Fire)));
    assert_eq!(danger_of(newer), Some(None), "a newer name is not shown as one of ours");
    assert_eq!(danger_of(plain), None, "a body with text in a name field is refused");
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let (_, _, page) = app.raw(Method::GET, "/alerts", &[("cookie", cookie.as_str())], "").await;
    assert!(page.contains("<strong>火事</strong>：助けを求めています"), "{page}");
    assert!(!page.contains("volcano_ash") && !page.contains("<script>"), "{page}");
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
    let csrf = csrf_token(minsei.strip_prefix("__Host-mimamori_session=").unwrap());
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
    // Each resident's trail opens with their enrolment.
    assert_eq!(trail, ["enrol", "alert_acknowledge", "alert_resolve"]);
    assert_eq!(app.store.audit_trail(there).unwrap().len(), 1, "only the enrolment");
}

fn pct(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn a_campaign_started_on_the_dashboard_reaches_tablets_and_shows_progress() {
    let app = TestApp::new();
    users(&app);
    let answering = app.resident("大井沢");
    let silent = backend::store::NewResident {
        display_name: "無回答 太郎".to_owned(),
        district: "大井沢".to_owned(),
        card: None,
        window: backend::store::CheckinWindow {
            start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            grace_minutes: 60,
        },
    };
    app.store.add_resident(&silent, app.clock_now()).unwrap();
    let tablet = app.tablet(answering).await;
    let cursor = app.pull(&tablet, 0).await["cursor"].as_u64().unwrap();
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let csrf = csrf_token(cookie.strip_prefix("__Host-mimamori_session=").unwrap());
    let headers = [FORM, ("cookie", cookie.as_str())];
    let form = |deadline: &str| {
        format!(
            "csrf={csrf}&district={}&message={}&deadline={deadline}&confirmed=yes",
            pct("大井沢"),
            pct("大雪です。大丈夫ですか？")
        )
    };
    let (status, _, page) = app.raw(Method::POST, "/campaigns", &headers, &form("2026-11-28T06:00")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a deadline in the past: {page}");
    let (status, _, _) = app.raw(Method::POST, "/campaigns", &headers, &form("tomorrow")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // (district, template, message, confirmed) → status, and what the page says.
    for (district, template, message, confirmed, status, says) in [
        // A misspelt district reaches nobody: refused, confirmed or not.
        ("大井澤", "", "大雪です", "yes", StatusCode::BAD_REQUEST, "地区は一覧から選んでください"),
        ("大井澤", "snow", "", "", StatusCode::BAD_REQUEST, "地区は一覧から選んでください"),
        // Not yet confirmed: whom it reaches and what will be read, nothing started.
        ("大井沢", "quake", "", "", StatusCode::OK, "地震がありました。"),
        ("大井沢", "quake", "大雪です。", "", StatusCode::OK, "大雪です。"),
        ("", "snow", "", "", StatusCode::OK, "町全体の <strong id=\"reach\">2人</strong>"),
        ("大井沢", "snow", "", "", StatusCode::OK, "大井沢の <strong id=\"reach\">2人</strong>"),
        ("大井沢", "tsunami", "", "", StatusCode::BAD_REQUEST, "その文例はありません"),
    ] {
        let body = format!(
            "csrf={csrf}&district={}&template={template}&message={}&deadline=2026-11-28T12:00&confirmed={confirmed}",
            pct(district),
            pct(message)
        );
        let (got, _, page) = app.raw(Method::POST, "/campaigns", &headers, &body).await;
        assert_eq!((got, page.contains(says)), (status, true), "{district} {template} {message}: {page}");
    }
    assert!(
        app.store.campaigns(None, backend::store::Page(0)).unwrap().rows.is_empty(),
        "nothing started before a confirmation"
    );
    let (status, h, _) = app.raw(Method::POST, "/campaigns", &headers, &form("2026-11-28T12:00")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = h[header::LOCATION].to_str().unwrap().to_owned();
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let pulled = app.pull(&tablet, cursor).await;
    assert_eq!(pulled["items"][0]["kind"], "campaign");
    assert_eq!(pulled["items"][0]["body"]["deadline"], "2026-11-28T03:00:00Z");
    let answer = event(1, "safety_answer", json!({"campaign_id": id, "answer": "safe"}));
    assert_eq!(acks(&app.post("/api/v1/events", &tablet, batch(&[answer])).await.1), ["stored"]);
    let (_, _, page) = app.raw(Method::GET, &location, &[("cookie", cookie.as_str())], "").await;
    assert!(page.contains("<tr><td>2</td><td>1</td><td>0</td><td>1</td></tr>"), "{page}");
    assert!(page.contains(">無回答 太郎</a>"), "{page}");
    let (status, _, _) =
        app.raw(Method::POST, &format!("{location}/close"), &headers, &format!("csrf={csrf}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let closed = app.pull(&tablet, pulled["cursor"].as_u64().unwrap()).await;
    assert_eq!(closed["items"][0]["body"]["closed"], true);
    let late = event(2, "safety_answer", json!({"campaign_id": id, "answer": "safe"}));
    assert_eq!(acks(&app.post("/api/v1/events", &tablet, batch(&[late])).await.1), ["rejected"]);
}

/// Every dashboard route × every role (and no session), with a 民生委員 of 大井沢
/// reaching for 沼山: the expected status and, for redirects, where to.
#[tokio::test]
async fn authorisation_matrix_has_no_gaps() {
    let app = TestApp::new();
    let now = app.clock_now();
    for (login_name, role, district) in [
        ("admin", Role::Admin, None),
        ("officer", Role::Officer, None),
        ("staff", Role::Staff, None),
        ("minsei", Role::Minsei, Some("大井沢")),
    ] {
        app.store.add_user(login_name, &hash_password("pw"), role, district, now).unwrap();
    }
    let here = app.resident("大井沢");
    let there = app.resident("沼山");
    for r in [here, there] {
        let t = app.tablet(r).await;
        let misunderstood = crate::corrections::misunderstood(2, "tired", None);
        app.post("/api/v1/events", &t, batch(&[event(1, "help_request", json!({})), misunderstood])).await;
    }
    let m_there =
        app.store.misunderstandings(None, 10).unwrap().into_iter().find(|m| m.resident == there).unwrap().id;
    let alert_there = app.store.open_alerts().unwrap().into_iter().find(|a| a.resident == there).unwrap().id;
    let deadline = local(23, 0);
    let engine = backend::store::Actor::Engine;
    let campaign_there = app.store.start_campaign(Some("沼山"), "沼山", deadline, engine, now).unwrap().0;
    const OK: (u16, &str) = (200, "");
    const LOGIN: (u16, &str) = (303, "/login");
    const FORBIDDEN: (u16, &str) = (403, "");
    const HIDDEN: (u16, &str) = (404, "");
    // (method, path, body needs csrf, [admin, officer, staff, minsei, anonymous])
    type Row = (Method, String, bool, [(u16, &'static str); 5]);
    let new_campaign = || {
        let c = app.store.start_campaign(Some("沼山"), "x", deadline, engine, now).unwrap().0;
        format!("/campaigns/{c}/close")
    };
    let start_body = format!("district={}&message=m&deadline=2026-11-28T23:00&confirmed=yes", pct("沼山"));
    for (i, user) in ["admin", "officer", "staff", "minsei", ""].into_iter().enumerate() {
        let cookie = if user.is_empty() { String::new() } else { login(&app, user, "pw").await.unwrap() };
        let csrf = cookie.strip_prefix("__Host-mimamori_session=").map(csrf_token).unwrap_or_default();
        let close = new_campaign();
        let end_pause = {
            app.store.add_pause(there, now, now + chrono::Duration::days(30), "入院", now).unwrap();
            let pause = app.store.resident_record(there).unwrap().unwrap().pauses.last().unwrap().id;
            format!("/residents/{}/pauses/{pause}/end", there.0)
        };
        let revoke = {
            let token = app.tablet(there).await;
            format!("/devices/{}/revoke", app.store.authenticate_device(&token).unwrap().unwrap().device.0)
        };
        let rows: Vec<Row> = vec![
            (Method::GET, "/login".into(), false, [OK, OK, OK, OK, OK]),
            // A session's CSRF token is not the login form's token.
            (Method::POST, "/login".into(), true, [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN]),
            (Method::GET, "/board".into(), false, [OK, OK, OK, OK, LOGIN]),
            (Method::GET, format!("/board?district={}", pct("沼山")), false, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (Method::GET, "/alerts".into(), false, [OK, OK, OK, OK, LOGIN]),
            (
                Method::POST,
                format!("/alerts/{alert_there}/acknowledge"),
                true,
                [(303, "/alerts"), (303, "/alerts"), (303, "/alerts"), HIDDEN, LOGIN],
            ),
            (
                Method::POST,
                format!("/alerts/{alert_there}/resolve"),
                true,
                // In scope but without a note: 400; out of scope: hidden.
                [(400, ""), (400, ""), (400, ""), HIDDEN, LOGIN],
            ),
            (Method::GET, format!("/residents/{}", there.0), false, [OK, OK, OK, HIDDEN, LOGIN]),
            (Method::GET, "/residents/99999".into(), false, [HIDDEN, HIDDEN, HIDDEN, HIDDEN, LOGIN]),
            (
                Method::GET,
                "/export/monthly.csv?month=2026-11".into(),
                false,
                [OK, OK, FORBIDDEN, FORBIDDEN, LOGIN],
            ),
            (Method::GET, "/card-links".into(), false, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (
                Method::POST,
                "/card-links/999/approve".into(),
                true,
                [HIDDEN, HIDDEN, HIDDEN, FORBIDDEN, LOGIN],
            ),
            (Method::GET, "/devices".into(), false, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (Method::POST, "/devices/enrol".into(), true, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (
                Method::POST,
                revoke,
                true,
                [(303, "/devices"), (303, "/devices"), (303, "/devices"), FORBIDDEN, LOGIN],
            ),
            (Method::GET, "/campaigns".into(), false, [OK, OK, OK, OK, LOGIN]),
            (Method::POST, "/campaigns".into(), true, [(303, ""), (303, ""), FORBIDDEN, FORBIDDEN, LOGIN]),
            (Method::GET, format!("/campaigns/{campaign_there}"), false, [OK, OK, OK, HIDDEN, LOGIN]),
            (Method::POST, close, true, [(303, ""), (303, ""), FORBIDDEN, FORBIDDEN, LOGIN]),
            (Method::GET, "/corrections".into(), false, [OK, OK, OK, OK, LOGIN]),
            (
                Method::POST,
                format!("/corrections/{m_there}"),
                true,
                [(303, "/corrections"), (303, "/corrections"), (303, "/corrections"), HIDDEN, LOGIN],
            ),
            (Method::GET, "/corrections.tsv".into(), false, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (Method::GET, "/residents/new".into(), false, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (Method::POST, "/residents".into(), true, [(303, ""), (303, ""), (303, ""), FORBIDDEN, LOGIN]),
            (Method::GET, format!("/residents/{}/edit", there.0), false, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (
                Method::POST,
                format!("/residents/{}/edit", there.0),
                true,
                [(303, ""), (303, ""), (303, ""), FORBIDDEN, LOGIN],
            ),
            (
                Method::POST,
                format!("/residents/{}/pauses", there.0),
                true,
                [(303, ""), (303, ""), (303, ""), FORBIDDEN, LOGIN],
            ),
            (Method::POST, end_pause, true, [(303, ""), (303, ""), (303, ""), FORBIDDEN, LOGIN]),
            (Method::GET, "/visits".into(), false, [OK, OK, OK, OK, LOGIN]),
            (
                Method::POST,
                format!("/visits/{}", there.0),
                true,
                [(303, "/visits"), (303, "/visits"), (303, "/visits"), HIDDEN, LOGIN],
            ),
            (Method::GET, "/weather".into(), false, [OK, OK, OK, FORBIDDEN, LOGIN]),
            (
                Method::POST,
                "/weather".into(),
                true,
                [(303, "/weather"), (303, "/weather"), (303, "/weather"), FORBIDDEN, LOGIN],
            ),
            (
                Method::POST,
                "/weather/clear".into(),
                true,
                [(303, "/weather"), (303, "/weather"), (303, "/weather"), FORBIDDEN, LOGIN],
            ),
            (Method::GET, "/disaster".into(), false, [OK, OK, FORBIDDEN, FORBIDDEN, LOGIN]),
            // Without a reason: 400; no disaster to end or to add responders to.
            (
                Method::POST,
                "/disaster/declare".into(),
                true,
                [(400, ""), (400, ""), FORBIDDEN, FORBIDDEN, LOGIN],
            ),
            (Method::POST, "/disaster/end".into(), true, [HIDDEN, HIDDEN, FORBIDDEN, FORBIDDEN, LOGIN]),
            (
                Method::POST,
                "/disaster/responders".into(),
                true,
                [(400, ""), (400, ""), FORBIDDEN, FORBIDDEN, LOGIN],
            ),
            (Method::GET, "/roster".into(), false, [OK, OK, OK, OK, LOGIN]),
            (Method::GET, "/duty".into(), false, [OK, OK, FORBIDDEN, FORBIDDEN, LOGIN]),
            (
                Method::POST,
                "/duty".into(),
                true,
                [(303, "/duty"), (303, "/duty"), FORBIDDEN, FORBIDDEN, LOGIN],
            ),
            (Method::GET, "/users".into(), false, [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, LOGIN]),
            // The acknowledgement link needs its token, not a session.
            (Method::GET, "/ack/1/00".into(), false, [HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN]),
            (Method::POST, "/ack/1/00".into(), false, [HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN]),
        ];
        for (method, path, with_csrf, expected) in rows {
            let mut body = match path.as_str() {
                "/campaigns" => start_body.clone(),
                "/devices/enrol" => format!("resident={}", there.0),
                "/duty" => "login=staff&duty=on".to_owned(),
                p if p.starts_with("/corrections/") => "text=x&intent=pain".to_owned(),
                "/weather" => "date=2026-11-28&weather_text=x".to_owned(),
                "/residents" => {
                    format!("display_name=x&district={}&window_start=08:00&window_end=10:00", pct("沼山"))
                }
                p if p.ends_with("/edit") => "window_start=08:00&window_end=10:00".to_owned(),
                p if p.ends_with("/pauses") => "from=2026-12-01&until=2026-12-02&reason=x".to_owned(),
                p if p.starts_with("/visits/") => "note=x".to_owned(),
                _ => String::new(),
            };
            if with_csrf {
                body = format!("csrf={csrf}&{body}");
            }
            let expected = expected[i];
            let headers = [FORM, ("cookie", cookie.as_str())];
            let (status, h, page) = app.raw(method.clone(), &path, &headers, &body).await;
            assert_eq!(status.as_u16(), expected.0, "{user:?} {method} {path}: {page}");
            if !expected.1.is_empty() {
                assert_eq!(h[header::LOCATION].to_str().unwrap(), expected.1, "{user:?} {method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn staff_issue_a_code_a_tablet_enrols_reports_health_and_is_revoked() {
    let app = TestApp::new();
    let now = app.clock_now();
    app.store.add_user("staff", &hash_password("pw"), Role::Staff, None, now).unwrap();
    let r = app.resident("大井沢");
    let cookie = login(&app, "staff", "pw").await.unwrap();
    let csrf = csrf_token(cookie.strip_prefix("__Host-mimamori_session=").unwrap());
    let headers = [FORM, ("cookie", cookie.as_str())];
    for (body, expected) in [
        (format!("csrf={csrf}&resident=abc"), StatusCode::BAD_REQUEST),
        (format!("csrf={csrf}&resident=99999"), StatusCode::NOT_FOUND),
        (format!("csrf={csrf}&resident={}", pct("1 OR 1=1")), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(app.raw(Method::POST, "/devices/enrol", &headers, &body).await.0, expected, "{body}");
    }
    let (status, _, page) =
        app.raw(Method::POST, "/devices/enrol", &headers, &format!("csrf={csrf}&resident={}", r.0)).await;
    assert_eq!(status, StatusCode::OK);
    let code = page.split("<p id=\"code\">").nth(1).unwrap().split('<').next().unwrap();
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/enrol",
            None,
            axum::body::Body::from(json!({ "code": code }).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = body["device_token"].as_str().unwrap().to_owned();
    let device = body["device_id"].as_i64().unwrap();
    let hb = json!({"microphone": "faulty", "outbox_len": 42, "device_time": "2026-11-27T22:00:00Z"});
    assert_eq!(app.post("/api/v1/heartbeat", &token, hb).await.0, StatusCode::OK);
    let (_, _, list) = app.raw(Method::GET, "/devices", &[("cookie", cookie.as_str())], "").await;
    let row =
        list.split(&format!("<tr data-device=\"{device}\">")).nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(
        row.contains("data-label=\"マイク\">故障</td><td data-label=\"カードリーダー\">不明</td>"),
        "{row}"
    );
    assert!(row.contains(">42件</td>"), "{row}");
    assert!(row.contains(">初期版</td>"), "no bundle reported: the built-in model; {row}");
    // A bundle is published: the row says the tablet has not taken it, until it reports it.
    let bundle = super::tablet::dialect_bundle(2, "--- lexicon.tsv\nこわい\ttired\n--- model.tsv\nw\t1\n");
    app.store.publish_bundle(&bundle, None, now).unwrap();
    let device_row = |list: String| {
        list.split(&format!("<tr data-device=\"{device}\">"))
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap()
            .to_owned()
    };
    let list = app.raw(Method::GET, "/devices", &[("cookie", cookie.as_str())], "").await.2;
    assert!(device_row(list).contains(">初期版(v2 未適用)</td>"));
    let hb = json!({"dialect_bundle": 2, "device_time": "2026-11-27T22:05:00Z"});
    assert_eq!(app.post("/api/v1/heartbeat", &token, hb).await.0, StatusCode::OK);
    let list = app.raw(Method::GET, "/devices", &[("cookie", cookie.as_str())], "").await.2;
    assert!(device_row(list).contains(">v2</td>"));
    let (status, _, _) =
        app.raw(Method::POST, &format!("/devices/{device}/revoke"), &headers, &format!("csrf={csrf}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.pull_status(&token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn viewing_a_resident_is_audited_and_shows_the_timeline() {
    let app = TestApp::new();
    users(&app);
    let here = app.resident("大井沢");
    let there = app.resident("沼山");
    let t = app.tablet(here).await;
    app.clock.set(local(8, 40));
    assert_eq!(
        acks(&app.post("/api/v1/events", &t, batch(&[event(1, "check_in", json!({}))])).await.1),
        ["stored"]
    );
    let officer = login(&app, "officer", "correct+horse").await.unwrap();
    let (status, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", here.0), &[("cookie", &officer)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("本日: 確認済み")
            && page.contains("<td>11/28 08:40</td><td>11/28 09:05</td><td>体調確認</td>"),
        "{page}"
    );
    let minsei = login(&app, "minsei", "battery+staple").await.unwrap();
    let (status, _, _) =
        app.raw(Method::GET, &format!("/residents/{}", there.0), &[("cookie", &minsei)], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let trail: Vec<String> = app.store.audit_trail(here).unwrap().into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(trail, ["enrol", "view"]);
    assert_eq!(
        app.store.audit_trail(there).unwrap().len(),
        1,
        "a refused view shows nothing and records nothing (the line is the enrolment)"
    );
}

#[tokio::test]
async fn the_monthly_csv_counts_days_and_exercise_without_names_and_defuses_formulas() {
    let app = TestApp::new();
    users(&app);
    let r = app.resident("=HYPERLINK(\"x\")");
    let t = app.tablet(r).await;
    let events = [
        event(1, "check_in", json!({})),
        event(2, "exercise_done", json!({})),
        event(3, "exercise_done", json!({})),
    ];
    assert_eq!(acks(&app.post("/api/v1/events", &t, batch(&events)).await.1), ["stored", "stored", "stored"]);
    app.clock.set(local(11, 0) + chrono::Duration::days(1));
    backend::escalation::step(&app.store, app.clock_now(), Default::default()).unwrap();
    app.clock.set(local(9, 0) + chrono::Duration::days(3));
    app.post("/api/v1/events", &t, batch(&[event(4, "exercise_done", json!({}))])).await;
    let officer = login(&app, "officer", "correct+horse").await.unwrap();
    let get = |q: &'static str| {
        let cookie = officer.clone();
        let app = &app;
        async move { app.raw(Method::GET, &format!("/export/monthly.csv{q}"), &[("cookie", &cookie)], "").await }
    };
    let (status, headers, csv) = get("?month=2026-11").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "resident_id,district,confirmed_days,unconfirmed_days,needs_help_days,exercise_sessions"
    );
    assert_eq!(lines[1], format!("{},\"'=HYPERLINK(\"\"x\"\")\",1,1,0,2", r.0), "Dec 1 is not November");
    assert!(!csv.contains("テスト"), "no names in the export");
    let (_, _, december) = get("?month=2026-12").await;
    assert!(december.lines().nth(1).unwrap().ends_with(",0,0,0,1"), "{december}");
    for q in ["", "?month=2026-13", "?month=nov", "?month=2026-11-01"] {
        assert_eq!(get(q).await.0, StatusCode::BAD_REQUEST, "{q}");
    }
}

#[tokio::test]
async fn a_card_link_requested_by_a_tablet_is_approved_by_staff_and_reaches_the_roster() {
    let app = TestApp::new();
    users(&app);
    let (a, b) = (app.resident("大井沢"), app.resident("大井沢"));
    let (ta, tb) = (app.tablet(a).await, app.tablet(b).await);
    let card = "AB".repeat(32);
    let cursor = app.pull(&ta, 0).await["cursor"].as_u64().unwrap();
    let events = [
        event(1, "card_link_requested", json!({ "card_identity": card })),
        event(2, "card_link_requested", json!({ "card_identity": "123456789012" })),
        event(3, "card_link_requested", json!({})),
    ];
    let (_, body) = app.post("/api/v1/events", &ta, batch(&events)).await;
    assert_eq!(
        acks(&body),
        ["stored", "rejected", "rejected"],
        "an individual number is not a card identity"
    );
    // The other household asks for the same card: approving it after the first conflicts.
    app.post(
        "/api/v1/events",
        &tb,
        batch(&[event(1, "card_link_requested", json!({ "card_identity": card }))]),
    )
    .await;
    let pending = app.store.pending_card_links(backend::store::Page(0)).unwrap().rows;
    assert_eq!(pending.iter().map(|p| p.1).collect::<Vec<_>>(), [a, b]);
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let csrf = csrf_token(cookie.strip_prefix("__Host-mimamori_session=").unwrap());
    let headers = [FORM, ("cookie", cookie.as_str())];
    let approve = |id: i64| format!("/card-links/{id}/approve");
    assert_eq!(app.raw(Method::POST, &approve(pending[0].0), &headers, "").await.0, StatusCode::FORBIDDEN);
    let form = format!("csrf={csrf}");
    assert_eq!(app.raw(Method::POST, &approve(pending[0].0), &headers, &form).await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.raw(Method::POST, &approve(pending[0].0), &headers, &form).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.raw(Method::POST, &approve(pending[1].0), &headers, &form).await.0, StatusCode::CONFLICT);
    let pulled = app.pull(&ta, cursor).await;
    assert_eq!(pulled["items"][0]["kind"], "roster_entry");
    assert_eq!(pulled["items"][0]["body"]["card_identity"], "ab".repeat(32));
    let trail: Vec<String> = app.store.audit_trail(a).unwrap().into_iter().map(|(_, x, _)| x).collect();
    assert_eq!(trail, ["enrol", "card_link_approve"]);
}

/// Every dashboard answer (pages, redirects, refusals, the export) forbids scripts,
/// framing, sniffing, referrers and caching.
#[tokio::test]
async fn every_dashboard_answer_carries_the_page_headers() {
    let app = TestApp::new();
    users(&app);
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let with = [("cookie", cookie.as_str())];
    for (path, headers) in
        [("/login", &[][..]), ("/board", &with[..]), ("/board", &[][..]), ("/residents/999", &with[..])]
    {
        let (status, h, _) = app.raw(Method::GET, path, headers, "").await;
        let csp = h
            .get(header::CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path} {status}: {csp:?}"
        );
        assert!(csp.contains("script-src 'self'"), "script only from the office's own file: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "no inline script or style, no eval: {csp}"
        );
        for (name, value) in [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ] {
            assert_eq!(h.get(&name).map(|v| v.to_str().unwrap()), Some(value), "{path} {status}: {name}");
        }
    }
}

/// Expired sessions and day-old failed logins are deleted by the server's periodic
/// step; what is still in use stays.
#[tokio::test]
async fn expired_sessions_and_old_failures_are_pruned() {
    let app = TestApp::new();
    users(&app);
    let now = app.clock_now();
    assert_eq!(login(&app, "officer", "wrong").await.unwrap_err().0, StatusCode::UNAUTHORIZED);
    let cookie = login(&app, "officer", "correct+horse").await.unwrap();
    let token = cookie.strip_prefix("__Host-mimamori_session=").unwrap().to_owned();
    assert_eq!(app.store.prune_expired(now).unwrap(), (0, 0), "nothing is old yet");
    assert!(app.store.session_user(&token, now).unwrap().is_some());
    let later = now + chrono::Duration::days(2);
    assert_eq!(app.store.prune_expired(later).unwrap(), (1, 1));
    assert_eq!(app.store.login_failures("officer", later, chrono::Duration::days(30)).unwrap(), 0);
    assert!(app.store.session_user(&token, now).unwrap().is_none(), "the row is gone, not only expired");
}

/// A card read again for the same resident before staff decide is one request.
#[tokio::test]
async fn a_card_read_twice_is_one_request_for_staff() {
    let app = TestApp::new();
    let a = app.resident("大井沢");
    let ta = app.tablet(a).await;
    let card = "cd".repeat(32);
    let again: Vec<_> =
        (1..=3).map(|i| event(i, "card_link_requested", json!({ "card_identity": card }))).collect();
    assert_eq!(acks(&app.post("/api/v1/events", &ta, batch(&again)).await.1), ["stored", "stored", "stored"]);
    let pending = app.store.pending_card_links(backend::store::Page(0)).unwrap().rows;
    assert_eq!(pending.iter().map(|p| p.1).collect::<Vec<_>>(), [a], "one request, not three");
}
