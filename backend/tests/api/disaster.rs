//! Disaster mode and the roster: consent decides who is shared in normal times and
//! not during a declared disaster; a responder account reads the roster only, and
//! stops working when it expires or the disaster ends; each step is audited; a
//! level-4 warning proposes the declaration on the board.

use axum::http::{Method, StatusCode, header};
use backend::dashboard::csrf_token;
use backend::password::hash_password;
use backend::store::{Role, UserId};
use chrono::Duration;

use crate::support::TestApp;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");
pub(crate) const PASSWORD: &str = "correct horse battery";

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Logs in; the cookie and where the login sent the browser, or the status.
pub(crate) async fn login(app: &TestApp, user: &str) -> Result<(String, String), StatusCode> {
    let (status, headers, _) = app.submit_login(&format!("login={user}&password={}", enc(PASSWORD))).await;
    if status != StatusCode::SEE_OTHER {
        return Err(status);
    }
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    Ok((cookie, headers[header::LOCATION].to_str().unwrap().to_owned()))
}

pub(crate) async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let (status, _, page) = app.raw(Method::GET, path, &[("cookie", cookie)], "").await;
    (status, page)
}

pub(crate) async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let token = cookie.split_once('=').unwrap().1;
    let mut body = format!("csrf={}", csrf_token(token));
    for (k, v) in fields {
        body.push_str(&format!("&{}={}", enc(k), enc(v)));
    }
    let (status, _, page) = app.raw(Method::POST, path, &[FORM, ("cookie", cookie)], &body).await;
    (status, page)
}

/// The residents' ids the roster page lists, in order.
fn listed(page: &str) -> Vec<i64> {
    page.split("data-resident=\"").skip(1).map(|s| s.split('"').next().unwrap().parse().unwrap()).collect()
}

#[tokio::test]
async fn the_roster_shares_the_consented_in_normal_times_and_everyone_declared_during_a_disaster() {
    let app = TestApp::new();
    let now = app.clock_now();
    let officer = app.store.add_user("officer", &hash_password(PASSWORD), Role::Officer, None, now).unwrap();
    app.store.add_user("minsei", &hash_password(PASSWORD), Role::Minsei, Some("沼山"), now).unwrap();
    app.store.add_user("staff", &hash_password(PASSWORD), Role::Staff, None, now).unwrap();
    let (consented, silent, elsewhere) =
        (app.resident("大井沢"), app.resident("大井沢"), app.resident("沼山"));
    for (r, consent, address) in
        [(consented, true, "大井沢 1-1"), (silent, false, "大井沢 2-2"), (elsewhere, false, "沼山 3")]
    {
        let mut rec = app.store.resident_record(r).unwrap().unwrap();
        rec.profile.roster_consent = consent;
        rec.profile.address = address.into();
        rec.profile.support_needs = vec![backend::store::SupportNeed::Oxygen];
        assert!(app.store.update_profile(r, &rec.profile, officer, now).unwrap());
    }
    let rec = app.store.resident_record(consented).unwrap().unwrap();
    assert_eq!(
        rec.profile.roster_consent_recorded,
        Some((Some(officer), now)),
        "who recorded the consent, when"
    );

    // Normal times: only the consented, for every role that may see it.
    let (officer_c, home) = login(&app, "officer").await.unwrap();
    assert_eq!(home, "/board");
    let (status, page) = get(&app, &officer_c, "/roster").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(listed(&page), [consented.0], "{page}");
    assert!(page.contains("大井沢 1-1") && page.contains("在宅酸素") && page.contains("平常時"), "{page}");
    let (minsei_c, _) = login(&app, "minsei").await.unwrap();
    assert_eq!(listed(&get(&app, &minsei_c, "/roster").await.1), Vec::<i64>::new(), "沼山 has no consent");
    let (staff_c, _) = login(&app, "staff").await.unwrap();
    assert_eq!(get(&app, &staff_c, "/disaster").await.0, StatusCode::FORBIDDEN, "staff do not declare");
    // No responder account without a disaster.
    let (status, _) = post(
        &app,
        &officer_c,
        "/disaster/responders",
        &[("login", "shobodan"), ("password", PASSWORD), ("hours", "24")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A warning at level 4 or above proposes the declaration on the officer's board.
    let report: wire::WeatherReport = serde_json::from_value(serde_json::json!({
        "date": "2026-11-28", "warnings": ["大雨特別警報", "大雪注意報"], "source": "manual",
        "fetched_at": now,
    }))
    .unwrap();
    app.store.set_weather_override(&serde_json::to_string(&report).unwrap(), officer, now).unwrap();
    let (_, board) = get(&app, &officer_c, "/board").await;
    assert!(board.contains("id=\"proposal\"") && board.contains("大雨特別警報"), "{board}");

    // The officer declares it for 大井沢: a campaign starts there, and the roster
    // lists everyone in 大井沢, consented or not, but not 沼山.
    let (status, page) = post(
        &app,
        &officer_c,
        "/disaster/declare",
        &[("reason", "大雨特別警報"), ("district_大井沢", "on"), ("message", "無事ですか"), ("hours", "3")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let disaster = app.store.active_disaster().unwrap().unwrap();
    assert_eq!((disaster.districts.clone(), disaster.campaigns.len()), (Some(vec!["大井沢".to_owned()]), 1));
    let (_, page) = get(&app, &officer_c, "/roster").await;
    assert_eq!(listed(&page), [consented.0, silent.0], "{page}");
    assert!(page.contains("未回答"), "the campaign's answers are on it: {page}");
    assert_eq!(listed(&get(&app, &minsei_c, "/roster").await.1), Vec::<i64>::new(), "沼山 is not declared");
    let (status, _) =
        post(&app, &officer_c, "/disaster/declare", &[("reason", "二重"), ("message", "m"), ("hours", "3")])
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "one declaration at a time");

    // A responder for 消防団, for 24 hours: the roster and nothing else.
    let (status, page) = post(
        &app,
        &officer_c,
        "/disaster/responders",
        &[("login", "shobodan"), ("password", PASSWORD), ("hours", "24")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (responder_c, home) = login(&app, "shobodan").await.unwrap();
    assert_eq!(home, "/roster");
    let (status, page) = get(&app, &responder_c, "/roster?print=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&page), [consented.0, silent.0]);
    for path in
        ["/board", "/alerts", "/residents/1", "/disaster", "/campaigns", "/users", "/export/monthly.csv"]
    {
        assert_eq!(get(&app, &responder_c, path).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    // Its time runs out: the session ends and the password no longer opens anything.
    app.clock.advance(Duration::hours(25));
    let (status, _) = get(&app, &responder_c, "/roster").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "an expired account's session is gone");
    assert_eq!(login(&app, "shobodan").await.unwrap_err(), StatusCode::UNAUTHORIZED);

    // A second responder; ending the disaster ends it at once, and the roster goes
    // back to the consented.
    let (officer_c, _) = login(&app, "officer").await.unwrap();
    post(
        &app,
        &officer_c,
        "/disaster/responders",
        &[("login", "bosai"), ("password", PASSWORD), ("hours", "72")],
    )
    .await;
    let (bosai_c, _) = login(&app, "bosai").await.unwrap();
    assert_eq!(get(&app, &bosai_c, "/roster").await.0, StatusCode::OK);
    assert_eq!(post(&app, &officer_c, "/disaster/end", &[]).await.0, StatusCode::SEE_OTHER);
    assert_eq!(get(&app, &bosai_c, "/roster").await.0, StatusCode::SEE_OTHER);
    assert_eq!(login(&app, "bosai").await.unwrap_err(), StatusCode::UNAUTHORIZED);
    assert_eq!(listed(&get(&app, &officer_c, "/roster").await.1), [consented.0]);

    // Every view, print and step is in the audit log, with who.
    let trail = app.store.account_trail(UserId(4)).unwrap();
    assert!(trail.iter().any(|(by, a, _)| a == "add_responder" && *by == Some(officer)), "{trail:?}");
    let conn = rusqlite::Connection::open(app._dir.path().join("office.sqlite")).unwrap();
    let actions: Vec<(Option<i64>, String)> = conn
        .prepare(
            "SELECT user_id, action FROM audit_log WHERE action LIKE 'roster_%' OR action LIKE 'disaster_%'",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (who, action) in [
        (officer.0, "roster_view"),
        (officer.0, "disaster_declare"),
        (4, "roster_print"),
        (officer.0, "disaster_end"),
    ] {
        assert!(actions.contains(&(Some(who), action.to_owned())), "{action} by {who}: {actions:?}");
    }
}
