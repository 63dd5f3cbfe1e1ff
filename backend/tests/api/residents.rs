//! Residents: enrolment and profile editing on the dashboard (each change audited and
//! sent to the tablet as one settings snapshot), pauses, the exercise chart, the visit
//! list ordered by need, and campaign non-responders ordered by risk.

use axum::http::{Method, StatusCode, header};
use backend::password::hash_password;
use backend::store::{CheckinWindow, Contact, Profile, ResidentId, Role};
use chrono::{Duration, NaiveTime};
use serde_json::json;

use crate::corrections::{login, pct};
use crate::support::{TestApp, Trail as _, acks, batch, event, kinds, local};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

pub fn users(app: &TestApp) {
    let now = app.clock_now();
    app.store.add_user("staff", &hash_password("pw"), Role::Staff, None, now).unwrap();
    app.store.add_user("minsei", &hash_password("pw"), Role::Minsei, Some("大井沢"), now).unwrap();
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// A form body from (name, value) pairs, every value percent-encoded.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", pct(v))).collect::<Vec<_>>().join("&")
}

/// `fields` with `name` set to `value` instead, as a form body.
fn replaced(fields: &[(&str, &str)], name: &str, value: &str) -> String {
    let mut f: Vec<(&str, &str)> = fields.iter().filter(|(n, _)| *n != name).cloned().collect();
    f.push((name, value));
    form(&f)
}

fn resident_count(app: &TestApp) -> usize {
    app.store.board_rows(None, app.clock_now(), 10_000).unwrap().len()
}

/// The last resident_settings body a tablet pulled.
pub async fn settings(app: &TestApp, token: &str) -> serde_json::Value {
    let pull = app.pull(token, 0).await;
    pull["items"].as_array().unwrap().iter().rev().find(|i| i["kind"] == "resident_settings").unwrap()["body"]
        .clone()
}

#[tokio::test]
async fn staff_enrol_a_resident_with_a_whole_profile_and_bad_forms_store_nothing() {
    let app = TestApp::new();
    users(&app);
    let (staff, csrf) = login(&app, "staff").await;
    let (status, _, page) = app.raw(Method::GET, "/residents/new", &[("cookie", staff.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"ci_recent_fall\"") && page.contains("name=\"contact2_phone\""), "{page}");
    let name = "山田'); DROP TABLE residents;-- <b>花子</b>";
    let good: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("display_name", name),
        ("district", "大井沢"),
        ("window_start", "22:00"),
        ("window_end", "01:00"),
        ("grace_minutes", "30"),
        ("ci_knee", "on"),
        ("ci_heart", "on"),
        ("lives_alone", "on"),
        ("birth_year", "1938"),
        ("contact0_name", "山田 一郎"),
        ("contact0_relation", "長男"),
        ("contact0_phone", "090-1234-5678"),
    ];
    let with = |k: &str, v: &str| replaced(&good, k, v);
    let headers = [FORM, ("cookie", staff.as_str())];
    let before = resident_count(&app);
    let cases = [
        (with("csrf", ""), StatusCode::FORBIDDEN),
        (with("display_name", " "), StatusCode::BAD_REQUEST),
        (with("display_name", "改行\nあり"), StatusCode::BAD_REQUEST),
        (with("district", ""), StatusCode::BAD_REQUEST),
        (with("window_start", "25:00"), StatusCode::BAD_REQUEST),
        (with("window_end", "22:00"), StatusCode::BAD_REQUEST),
        (with("grace_minutes", "999"), StatusCode::BAD_REQUEST),
        (with("ci_ankle", "on"), StatusCode::BAD_REQUEST),
        (with("birth_year", "1800"), StatusCode::BAD_REQUEST),
        (with("birth_year", "1938 OR 1=1"), StatusCode::BAD_REQUEST),
        (with("contact0_phone", ""), StatusCode::BAD_REQUEST),
        (with("contact0_phone", "'; DROP--"), StatusCode::BAD_REQUEST),
        (with("contact1_phone", "0237-74-2111"), StatusCode::BAD_REQUEST),
    ];
    for (body, expected) in &cases {
        let (status, _, page) = app.raw(Method::POST, "/residents", &headers, body).await;
        assert_eq!(status, *expected, "{body}: {page}");
    }
    let (minsei, csrf_m) = login(&app, "minsei").await;
    let body = with("csrf", &csrf_m);
    let (status, _, _) =
        app.raw(Method::POST, "/residents", &[FORM, ("cookie", minsei.as_str())], &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "民生委員 do not enrol");
    assert_eq!(resident_count(&app), before, "refused forms store nothing");

    let (status, h, _) = app.raw(Method::POST, "/residents", &headers, &form(&good)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id: i64 = h[header::LOCATION].to_str().unwrap().rsplit('/').next().unwrap().parse().unwrap();
    let rec = app.store.resident_record(ResidentId(id)).unwrap().unwrap();
    assert_eq!((rec.display_name.as_str(), rec.district.as_str()), (name, "大井沢"));
    assert_eq!(rec.profile.contraindications, ["knee", "heart"]);
    assert!(rec.profile.lives_alone && rec.profile.window.crosses_midnight());
    assert_eq!(rec.profile.contacts[0].phone, "090-1234-5678");
    let trail: Vec<String> =
        app.store.audit_trail(ResidentId(id)).unwrap().into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(trail, ["enrol"]);

    // The household's tablet gets the roster entry and the whole settings.
    let token = app.tablet(ResidentId(id)).await;
    assert_eq!(kinds(&app.pull(&token, 0).await), ["roster_entry", "resident_settings"]);
    let s = settings(&app, &token).await;
    assert_eq!(s["checkin_window"], json!(["22:00", "01:00"]));
    assert_eq!((s["grace_minutes"].as_u64(), &s["contraindications"]), (Some(30), &json!(["knee", "heart"])));
    assert_eq!(
        s["emergency_contacts"],
        json!([{"name": "山田 一郎", "relation": "長男", "phone": "090-1234-5678"}])
    );

    // Its page shows the profile, escaped, with the window across midnight.
    let (_, _, page) =
        app.raw(Method::GET, &format!("/residents/{id}"), &[("cookie", staff.as_str())], "").await;
    assert!(page.contains("&#60;b&#62;花子&#60;/b&#62;") && !page.contains("<b>花子"), "{page}");
    assert!(page.contains("22:00〜翌01:00 (猶予30分)") && page.contains("膝、心臓"), "{page}");
    assert!(page.contains("<li>山田 一郎 (長男) 090-1234-5678</li>") && page.contains("設定を変える"));
}

#[tokio::test]
async fn edits_and_pauses_are_audited_and_reach_the_tablet_and_the_board() {
    let app = TestApp::new();
    users(&app);
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let (staff, csrf) = login(&app, "staff").await;
    let headers = [FORM, ("cookie", staff.as_str())];
    let (status, _, page) =
        app.raw(Method::GET, &format!("/residents/{}/edit", r.0), &[("cookie", &staff)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("value=\"08:00\"") && page.contains("value=\"10:00\""), "prefilled: {page}");
    assert!(page.contains("name=\"pin_sign_in\" value=\"on\">"), "a PIN sign-in is off by default: {page}");
    let edit = form(&[
        ("csrf", &csrf),
        ("window_start", "06:30"),
        ("window_end", "09:00"),
        ("grace_minutes", "45"),
        ("ci_balance", "on"),
        ("contact0_name", "隣の 佐藤"),
        ("contact0_relation", "隣人"),
        ("contact0_phone", "0237-74-0000"),
        ("pin_sign_in", "on"),
    ]);
    let path = format!("/residents/{}/edit", r.0);
    assert_eq!(
        app.raw(Method::POST, &path, &headers, edit.split_once('&').unwrap().1).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.raw(Method::POST, "/residents/99999/edit", &headers, &edit).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, h, _) = app.raw(Method::POST, &path, &headers, &edit).await;
    assert_eq!(
        (status, h[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, format!("/residents/{}", r.0).as_str())
    );
    let s = settings(&app, &token).await;
    assert_eq!(
        (s["checkin_window"].clone(), s["contraindications"].clone()),
        (json!(["06:30", "09:00"]), json!(["balance"]))
    );
    assert_eq!(s["emergency_contacts"][0]["relation"], "隣人");
    assert_eq!(s["pin_sign_in"], true, "staff chose a PIN sign-in: the tablet is told");
    let (_, _, page) = app.raw(Method::GET, &path, &[("cookie", &staff)], "").await;
    assert!(page.contains("name=\"pin_sign_in\" value=\"on\" checked>"), "{page}");

    // A pause (hospital stay): the board shows it, the tablet learns the period but
    // not the reason; ending it takes it off the tablet's list.
    let pause_path = format!("/residents/{}/pauses", r.0);
    let pause = |from: &str, until: &str| {
        form(&[("csrf", &csrf), ("from", from), ("until", until), ("reason", "入院 (肺炎)")])
    };
    assert_eq!(
        app.raw(Method::POST, &pause_path, &headers, &pause("2026-11-30", "2026-11-28")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.raw(Method::POST, &pause_path, &headers, &pause("yesterday", "2026-11-28")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.raw(Method::POST, "/residents/99999/pauses", &headers, &pause("2026-11-28", "2026-12-05"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.raw(Method::POST, &pause_path, &headers, &pause("2026-11-28", "2026-12-05")).await.0,
        StatusCode::SEE_OTHER
    );
    let s = settings(&app, &token).await;
    assert_eq!(s["pauses"], json!([{"from": "2026-11-27T15:00:00Z", "until": "2026-12-05T15:00:00Z"}]));
    assert!(!s.to_string().contains("入院"), "health reasons stay in the office");
    let board = app.store.board_rows(None, app.clock_now(), 10).unwrap();
    assert_eq!(board[0].state, backend::store::BoardState::Paused);
    let pause_id = app.store.resident_record(r).unwrap().unwrap().pauses[0].id;
    let other = app.resident("沼山");
    let end = |resident: ResidentId| format!("/residents/{}/pauses/{pause_id}/end", resident.0);
    assert_eq!(
        app.raw(Method::POST, &end(other), &headers, &format!("csrf={csrf}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.raw(Method::POST, &end(r), &headers, &format!("csrf={csrf}")).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.raw(Method::POST, &end(r), &headers, &format!("csrf={csrf}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(settings(&app, &token).await["pauses"], json!([]));
    let trail: Vec<String> = app.store.audit_trail(r).unwrap().into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(
        trail,
        ["enrol", "view", "edit_profile", "view", "pause", "end_pause"],
        "opening the form is a view"
    );
}

#[tokio::test]
async fn the_resident_page_charts_weekly_exercise_as_inline_svg() {
    let app = TestApp::new();
    users(&app);
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let at = |seq: u64, device_time: &str| {
        let mut e = event(seq, "exercise_done", json!({}));
        e["device_time"] = json!(device_time);
        e
    };
    let events = [
        at(1, "2026-11-26T23:00:00Z"), // Fri 27th local: week of the 23rd
        at(2, "2026-11-24T01:00:00Z"), // Tue 24th
        at(3, "2026-11-27T02:00:00Z"), // Fri 27th
        at(4, "2026-11-17T03:00:00Z"), // Tue 17th: week of the 16th
        at(5, "2026-11-19T03:00:00Z"), // Thu 19th
        at(6, "2027-06-01T00:00:00Z"), // a tablet clock in the future: counted when received (the 28th)
        event(7, "check_in", json!({})),
    ];
    assert_eq!(acks(&app.post("/api/v1/events", &token, batch(&events)).await.1), ["stored"; 7]);
    let (staff, _) = login(&app, "staff").await;
    let (_, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", r.0), &[("cookie", staff.as_str())], "").await;
    let svg = page.split("<svg id=\"habit-chart\"").nth(1).unwrap().split("</svg>").next().unwrap();
    assert_eq!(svg.matches("<circle").count(), 12, "twelve weeks");
    assert!(svg.contains("data-week=\"2026-11-23\" data-count=\"4\""), "{svg}");
    assert!(svg.contains("data-week=\"2026-11-16\" data-count=\"2\""), "{svg}");
    assert!(svg.contains("data-week=\"2026-09-07\" data-count=\"0\""), "the oldest week: {svg}");
    assert!(svg.contains("aria-label=\"過去12週の体操 合計6回\""));
    assert!(!page.contains("<script"), "no script: the chart is drawn by the server");
    assert!(page.contains("運動の習慣の報告はまだありません"), "no score sent yet");

    // The tablet's habit score travels with a session and heads the chart; a body
    // with one of the two, or out of range, is refused.
    let scored = |seq: u64, body: serde_json::Value| event(seq, "exercise_done", body);
    let sent = [
        scored(8, json!({ "habit_score": 64, "active_days": 3 })),
        scored(9, json!({ "habit_score": 101, "active_days": 3 })),
        scored(10, json!({ "habit_score": 50 })),
    ];
    let got = acks(&app.post("/api/v1/events", &token, batch(&sent)).await.1);
    assert_eq!(got[0], "stored");
    assert!(got[1..].iter().all(|a| a != "stored"), "{got:?}");
    let (_, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", r.0), &[("cookie", staff.as_str())], "").await;
    assert!(page.contains("運動の習慣 64点（100点満点）・この7日で3日"), "{page}");
}

/// A profile with only a window from `start` o'clock (two hours) and a birth year.
pub fn plain_profile(start: u32, birth_year: Option<i32>) -> Profile {
    Profile {
        window: CheckinWindow { start: hm(start, 0), end: hm(start + 2, 0), grace_minutes: 60 },
        contraindications: vec![],
        lives_alone: false,
        birth_year,
        contacts: vec![],
        phone: String::new(),
        address: String::new(),
        kana: String::new(),
        support_needs: vec![],
        roster_consent: false,
        roster_consent_recorded: None,
        pin_sign_in: false,
        memory_off: false,
        medicine: vec![],
        interests: vec![],
    }
}

#[tokio::test]
async fn the_visit_list_puts_need_first_then_the_longest_unvisited() {
    let app = TestApp::new();
    users(&app);
    let now = app.clock_now();
    let add = |name: &str, district: &str, start: u32| {
        let profile = plain_profile(start, None);
        app.store.enrol_resident(name, district, &profile, backend::store::UserId(1), now).unwrap()
    };
    let visited = add("訪問済み", "大井沢", 8);
    let needs_help = add("要支援", "大井沢", 8);
    let never = add("未訪問", "大井沢", 8);
    let silent = add("無言", "大井沢", 8);
    let offline = add("端末なし", "大井沢", 20);
    let paused = add("入院中", "大井沢", 8);
    let elsewhere = add("沼山の人", "沼山", 8);
    app.store.add_pause(paused, now, now + Duration::days(7), "入院", now).unwrap();
    app.clock.set(local(10, 30));
    for (r, kind) in [(visited, "check_in"), (needs_help, "help_request"), (never, "check_in"), (silent, "")]
    {
        let t = app.tablet(r).await;
        assert_eq!(
            app.post("/api/v1/heartbeat", &t, json!({"device_time": "2026-11-28T01:30:00Z"})).await.0,
            StatusCode::OK
        );
        if !kind.is_empty() {
            app.post("/api/v1/events", &t, batch(&[event(1, kind, json!({}))])).await;
        }
    }
    let (staff, csrf) = login(&app, "staff").await;
    let headers = [FORM, ("cookie", staff.as_str())];
    let (status, h, _) = app
        .raw(
            Method::POST,
            &format!("/visits/{}", visited.0),
            &headers,
            &format!("csrf={csrf}&note={}", pct("元気でした")),
        )
        .await;
    assert_eq!((status, h[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/visits"));
    app.clock.set(local(11, 0));
    backend::escalation::step(&app.store, app.clock_now(), Default::default()).unwrap();
    let (_, _, page) = app.raw(Method::GET, "/visits", &[("cookie", staff.as_str())], "").await;
    let order: Vec<i64> = page
        .split("<tr data-resident=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().parse().unwrap())
        .filter(|id| *id != elsewhere.0)
        .collect();
    assert_eq!(order, [needs_help.0, silent.0, offline.0, never.0, visited.0], "{page}");
    assert!(!page.contains("入院中"), "paused residents are away");

    let (minsei, csrf_m) = login(&app, "minsei").await;
    let (_, _, page) = app.raw(Method::GET, "/visits", &[("cookie", minsei.as_str())], "").await;
    assert!(!page.contains("沼山の人") && page.contains("要支援"), "{page}");
    let mh = [FORM, ("cookie", minsei.as_str())];
    let note = format!("csrf={csrf_m}&note={}", pct("'); DELETE FROM visits;--"));
    assert_eq!(
        app.raw(Method::POST, &format!("/visits/{}", elsewhere.0), &mh, &note).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.raw(Method::POST, &format!("/visits/{}", never.0), &mh, "note=x").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.raw(Method::POST, &format!("/visits/{}", never.0), &mh, &format!("csrf={csrf_m}&note=+")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.raw(Method::POST, &format!("/visits/{}", never.0), &mh, &note).await.0,
        StatusCode::SEE_OTHER
    );
    assert!(app.store.resident_record(never).unwrap().unwrap().last_visit.is_some());
    assert!(app.store.resident_record(elsewhere).unwrap().unwrap().last_visit.is_none());
    let trail: Vec<String> = app.store.audit_trail(never).unwrap().into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(trail, ["enrol", "visit"]);
}

#[tokio::test]
async fn campaign_non_responders_are_listed_by_risk() {
    let app = TestApp::new();
    users(&app);
    let now = app.clock_now();
    app.store.add_user("officer", &hash_password("pw"), Role::Officer, None, now).unwrap();
    let add = |name: &str, lives_alone: bool, birth_year: Option<i32>| {
        let profile = Profile {
            lives_alone,
            contacts: vec![Contact::new("家族", "", "0237-00-0000")],
            ..plain_profile(8, birth_year)
        };
        app.store.enrol_resident(name, "大井沢", &profile, backend::store::UserId(1), now).unwrap()
    };
    let young_alone = add("一人 若い", true, Some(1950));
    let oldest = add("最年長", false, Some(1930));
    let helped = add("要支援歴あり", false, Some(1960));
    let unknown = add("年齢不明", false, None);
    let old_alone = add("一人 高齢", true, Some(1940));
    let answered = add("回答済み", true, Some(1935));
    let t = app.tablet(helped).await;
    app.post("/api/v1/events", &t, batch(&[event(1, "help_request", json!({}))])).await;
    let campaign = app
        .store
        .start_campaign(Some("大井沢"), "大雪", local(23, 0), backend::store::Actor::Engine, now)
        .unwrap();
    let t = app.tablet(answered).await;
    let answer = event(1, "safety_answer", json!({"campaign_id": campaign.0, "answer": "safe"}));
    assert_eq!(acks(&app.post("/api/v1/events", &t, batch(&[answer])).await.1), ["stored"]);
    let (officer, _) = login(&app, "officer").await;
    let (_, _, page) = app
        .raw(Method::GET, &format!("/campaigns/{}", campaign.0), &[("cookie", officer.as_str())], "")
        .await;
    let list = page.split("<ul id=\"non-responders\">").nth(1).unwrap().split("</ul>").next().unwrap();
    let order: Vec<i64> = list
        .split("data-resident=\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(order, [old_alone.0, young_alone.0, helped.0, oldest.0, unknown.0], "{list}");
    assert!(list.contains("一人 高齢</a> <small>一人暮らし・86歳</small>"), "{list}");
    assert!(list.contains("要支援歴1日・66歳"), "{list}");
}

/// A pause set without a dashboard user takes the dashboard's audited path: the log
/// says what happened and that no dashboard user did it.
#[tokio::test]
async fn a_pause_without_a_dashboard_user_is_audited_like_the_dashboards() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let now = app.clock_now();
    app.store.add_pause(r, now, now + Duration::days(2), "入院", now).unwrap();
    let trail = app.store.audit_trail(r).unwrap();
    assert_eq!(
        trail.iter().map(|(u, a, _)| (*u, a.as_str())).collect::<Vec<_>>(),
        [(None, "enrol"), (None, "pause")]
    );
}

/// The resident list: search by name or kana (katakana finds hiragana), LIKE's
/// wildcards taken as typed, a district filter a 民生委員 cannot widen, and two orders.
#[tokio::test]
async fn the_resident_list_finds_people_by_name_or_kana_within_scope() {
    let app = TestApp::new();
    users(&app);
    app.store.add_user("officer", &hash_password("pw"), Role::Officer, None, app.clock_now()).unwrap();
    let staff = app.store.users(app.clock_now()).unwrap().into_iter().find(|u| u.login == "staff").unwrap();
    let named = |name: &str, kana: &str, district: &str| {
        let window = CheckinWindow { start: hm(8, 0), end: hm(10, 0), grace_minutes: 60 };
        let new = backend::store::NewResident {
            display_name: name.to_owned(),
            district: district.to_owned(),
            card: None,
            window,
        };
        let r = app.store.add_resident(&new, app.clock_now()).unwrap();
        let mut record = app.store.resident_record(r).unwrap().unwrap();
        record.profile.kana = kana.to_owned();
        app.store.update_profile(r, &record.profile, staff.user, app.clock_now()).unwrap();
        r
    };
    let (sato, suzuki, takahashi) = (
        named("佐藤 ハナ", "さとう はな", "大井沢"),
        named("鈴木 ウメ", "スズキ ウメ", "大井沢"),
        named("高橋 100%", "", "沼山"),
    );
    let tablet = app.tablet(suzuki).await;
    app.clock.set(local(8, 30));
    let help = event(1, "help_request", json!({}));
    assert_eq!(acks(&app.post("/api/v1/events", &tablet, batch(&[help])).await.1), ["stored"]);
    let officer = login(&app, "officer").await.0;
    let minsei = login(&app, "minsei").await.0;
    // (who, query) → residents listed, in order.
    let check = |cookie: String, query: String, want: Vec<ResidentId>| {
        let app = &app;
        async move {
            let (status, _, page) =
                app.raw(Method::GET, &format!("/residents{query}"), &[("cookie", &cookie)], "").await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            let listed: Vec<ResidentId> = page
                .split("data-resident=\"")
                .skip(1)
                .map(|r| ResidentId(r.split('"').next().unwrap().parse().unwrap()))
                .collect();
            assert_eq!(listed, want, "{query}");
        }
    };
    check(officer.clone(), String::new(), vec![sato, suzuki, takahashi]).await;
    check(officer.clone(), format!("?q={}", pct("サトウ")), vec![sato]).await;
    check(officer.clone(), format!("?q={}", pct("すずき")), vec![suzuki]).await;
    check(officer.clone(), format!("?q={}", pct("高橋")), vec![takahashi]).await;
    check(officer.clone(), format!("?q={}", pct("100%")), vec![takahashi]).await;
    check(officer.clone(), format!("?q={}", pct("%")), vec![takahashi]).await;
    check(officer.clone(), format!("?q={}", pct("_")), vec![]).await;
    check(officer.clone(), format!("?district={}", pct("沼山")), vec![takahashi]).await;
    check(officer.clone(), "?sort=need".to_owned(), vec![suzuki, sato, takahashi]).await;
    check(minsei.clone(), String::new(), vec![sato, suzuki]).await;
    check(minsei.clone(), format!("?district={}", pct("沼山")), vec![sato, suzuki]).await;
    check(minsei, format!("?q={}", pct("高橋")), vec![]).await;
}

/// Medicine times set on the dashboard reach the tablet (times only); the tablet's
/// reports fill the resident page; a second missed day in a row raises one alert, and
/// malformed times or slots are refused.
#[tokio::test]
async fn medicine_times_reach_the_tablet_and_two_missed_days_raise_one_alert() {
    let app = TestApp::new();
    users(&app);
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let (staff, csrf) = login(&app, "staff").await;
    let headers = [FORM, ("cookie", staff.as_str())];
    let path = format!("/residents/{}/edit", r.0);
    let base = [("csrf", csrf.as_str()), ("window_start", "08:00"), ("window_end", "10:00")];
    for (name, value) in [("med_noon", "25:00"), ("med_noon", "昼"), ("med_snack", "15:00")] {
        let body = replaced(&base, name, value);
        assert_eq!(
            app.raw(Method::POST, &path, &headers, &body).await.0,
            StatusCode::BAD_REQUEST,
            "{name}={value}"
        );
    }
    let body = replaced(&base, "interest0", "とても長い好きなことの名前です");
    assert_eq!(
        app.raw(Method::POST, &path, &headers, &body).await.0,
        StatusCode::BAD_REQUEST,
        "a long interest"
    );
    let mut fields = base.to_vec();
    fields.extend([("med_morning", "07:30"), ("med_noon", ""), ("med_evening", "18:00")]);
    fields.extend([("interest0", "盆栽"), ("interest1", ""), ("interest2", "民謡")]);
    assert_eq!(app.raw(Method::POST, &path, &headers, &form(&fields)).await.0, StatusCode::SEE_OTHER);
    let s = settings(&app, &token).await;
    assert_eq!(
        s["medicine"],
        json!([{"slot": "morning", "at": "07:30"}, {"slot": "evening", "at": "18:00"}])
    );
    assert_eq!(s["interests"], json!(["盆栽", "民謡"]), "what she enjoys reaches the tablet");
    let (_, _, page) = app.raw(Method::GET, &path, &[("cookie", &staff)], "").await;
    assert!(page.contains("name=\"med_morning\" type=\"time\" value=\"07:30\""), "{page}");
    assert!(page.contains("name=\"interest1\" value=\"民謡\""), "kept in order, blanks dropped: {page}");

    let today = local(7, 0).with_timezone(&backend::clock::town_offset()).date_naive();
    let day = |n: u64| (today - chrono::Days::new(n)).to_string();
    let dose = |seq: u64, d: String, slot: &str, taken: bool| {
        event(seq, "medicine", json!({"resident_id": r.0, "day": d, "slot": slot, "taken": taken}))
    };
    let medicine_alerts = |app: &TestApp| {
        app.store.open_alerts().unwrap().iter().filter(|a| a.kind.key() == "medicine_missed").count()
    };
    // Missed three days ago, kept the day after: no streak.
    let sent = app
        .post(
            "/api/v1/events",
            &token,
            batch(&[dose(1, day(3), "morning", false), dose(2, day(2), "morning", true)]),
        )
        .await;
    assert_eq!(acks(&sent.1), ["stored", "stored"]);
    assert_eq!(medicine_alerts(&app), 0);
    // Missed yesterday evening and this morning: one alert; more misses add none.
    let sent = app
        .post(
            "/api/v1/events",
            &token,
            batch(&[
                dose(3, day(1), "evening", false),
                dose(4, day(0), "morning", false),
                dose(5, day(0), "evening", false),
            ]),
        )
        .await;
    assert_eq!(acks(&sent.1), ["stored", "stored", "stored"]);
    assert_eq!(medicine_alerts(&app), 1);
    // A slot from a newer tablet is kept, not acted on; garbage is refused.
    let sent = app
        .post(
            "/api/v1/events",
            &token,
            batch(&[
                event(6, "medicine", json!({"day": day(0), "slot": "afternoon_tea", "taken": false})),
                event(7, "medicine", json!({"day": "昨日", "slot": "noon", "taken": false})),
                event(8, "medicine", json!({"day": day(0), "slot": "Noon!", "taken": true})),
            ]),
        )
        .await;
    let got = acks(&sent.1);
    assert_eq!(got[0], "stored");
    assert!(got[1..].iter().all(|a| a.starts_with("rejected")), "{got:?}");
    let (_, _, page) = app.raw(Method::GET, &format!("/residents/{}", r.0), &[("cookie", &staff)], "").await;
    let table = &page[page.find("id=\"medicine\"").expect("the medicine table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("<th>朝 07:30</th><th>夜 18:00</th>"), "{table}");
    let row =
        |d: &str| table.lines().find(|l| l.contains(&format!("<td>{d}</td>"))).unwrap_or_default().to_owned();
    let md = |n: u64| (today - chrono::Days::new(n)).format("%m/%d").to_string();
    assert_eq!(row(&md(0)), format!("<tr><td>{}</td><td>飲み忘れ</td><td>飲み忘れ</td></tr>", md(0)));
    assert_eq!(row(&md(2)), format!("<tr><td>{}</td><td>飲んだ</td><td>－</td></tr>", md(2)));
    assert_eq!(row(&md(3)), format!("<tr><td>{}</td><td>飲み忘れ</td><td>－</td></tr>", md(3)));
}

/// The monthly chair-stand counts a tablet reports fill the resident page beside the
/// usual range for her age; a fall of three or more raises 椅子から立つ回数が減った
/// once, which lifts her above calmer neighbours on the visit list with the reason;
/// a count no one could reach is refused.
#[tokio::test]
async fn chair_stand_counts_show_their_trend_and_a_fall_lifts_her_on_the_visit_list() {
    let app = TestApp::new();
    users(&app);
    let now = app.clock_now();
    let enrol = |name: &str, birth| {
        let profile = plain_profile(8, birth);
        app.store.enrol_resident(name, "大井沢", &profile, backend::store::UserId(1), now).unwrap()
    };
    // Enrolled first, so she would come first among equals.
    let calm = enrol("大井沢 先子", None);
    let r = enrol("大井沢 立子", Some(1949));
    let token = app.tablet(r).await;
    let (staff, _) = login(&app, "staff").await;
    let today = local(7, 0).with_timezone(&backend::clock::town_offset()).date_naive();
    let day = |n: u64| (today - chrono::Days::new(n)).to_string();
    let stand = |seq: u64, d: String, count: u32| {
        event(seq, "chair_stand", json!({"resident_id": r.0, "day": d, "count": count}))
    };
    let legs_alerts = |app: &TestApp| {
        app.store.open_alerts().unwrap().iter().filter(|a| a.kind.key() == "legs_weaker").count()
    };
    let visit_order = |page: &str| {
        let at = |id: backend::store::ResidentId| page.find(&format!("data-resident=\"{}\"", id.0)).unwrap();
        (at(r) < at(calm), page.contains("気になる変化：椅子から立つ回数が減った"))
    };
    let visits = format!("/visits?district={}", pct("大井沢"));

    // Two months: 14, then 12 (a fall of two: within a bad day's spread).
    let sent =
        app.post("/api/v1/events", &token, batch(&[stand(1, day(60), 14), stand(2, day(30), 12)])).await;
    assert_eq!(acks(&sent.1), ["stored", "stored"]);
    assert_eq!(legs_alerts(&app), 0);
    let (_, _, page) = app.raw(Method::GET, &visits, &[("cookie", &staff)], "").await;
    assert_eq!(visit_order(&page), (false, false), "no concern yet: enrolment order");

    // This month 9: three fewer. One alert, and she is listed first with the reason.
    let sent = app.post("/api/v1/events", &token, batch(&[stand(3, day(0), 9)])).await;
    assert_eq!(acks(&sent.1), ["stored"]);
    assert_eq!(legs_alerts(&app), 1);
    let (_, _, page) = app.raw(Method::GET, &visits, &[("cookie", &staff)], "").await;
    assert_eq!(visit_order(&page), (true, true), "{page}");
    // The same test again (a resend with a new id) and a still lower one: no second alert.
    let sent = app.post("/api/v1/events", &token, batch(&[stand(4, day(0), 9), stand(5, day(0), 5)])).await;
    assert_eq!(acks(&sent.1), ["stored", "stored"]);
    assert_eq!(legs_alerts(&app), 1);

    // Nobody stands 61 times in 30 seconds; nor is a count a word.
    let sent = app
        .post(
            "/api/v1/events",
            &token,
            batch(&[stand(6, day(0), 61), event(7, "chair_stand", json!({"day": day(0), "count": "十"}))]),
        )
        .await;
    assert!(acks(&sent.1).iter().all(|a| a.starts_with("rejected")), "{:?}", acks(&sent.1));

    let (_, _, page) = app.raw(Method::GET, &format!("/residents/{}", r.0), &[("cookie", &staff)], "").await;
    let table = &page[page.find("id=\"legs\"").expect("the chair-stand table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let ymd = |n: u64| (today - chrono::Days::new(n)).format("%Y/%m/%d").to_string();
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("<tr><td>")).collect();
    assert_eq!(
        rows,
        [
            format!("<tr><td>{}</td><td>5回</td><td>-7</td></tr>", ymd(0)),
            format!("<tr><td>{}</td><td>12回</td><td>-2</td></tr>", ymd(30)),
            format!("<tr><td>{}</td><td>14回</td><td></td></tr>", ymd(60)),
        ],
        "{table}"
    );
    use chrono::Datelike as _;
    let band = match today.year() - 1949 {
        75..=79 => "75〜79歳の普通：男性 15〜17回・女性 13〜17回",
        _ => "80歳以上の普通：男性 14〜16回・女性 13〜16回",
    };
    assert!(page.contains(band), "{page}");
    let (_, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", calm.0), &[("cookie", &staff)], "").await;
    assert!(page.contains("生まれ年が未登録"), "{page}");
    assert!(page.contains("まだ測っていません"), "{page}");
}

/// Three weeks of check-ins: low mood or loneliness on three days this week, two more
/// than the week before, raises 「気分の落ち込みやさみしさが続いている」 once, lifts her on
/// the visit list with the reason, and her page lists the days; a week no worse than the
/// one before raises nothing; loneliness at the open question asks for a visit.
#[tokio::test]
async fn a_falling_mood_lifts_her_on_the_visit_list_and_shows_on_her_page() {
    let app = TestApp::new();
    users(&app);
    let now = app.clock_now();
    let enrol = |name: &str| {
        app.store
            .enrol_resident(name, "大井沢", &plain_profile(8, None), backend::store::UserId(1), now)
            .unwrap()
    };
    let (calm, low, steady) = (enrol("大井沢 平子"), enrol("大井沢 沈子"), enrol("大井沢 常子"));
    let (low_tablet, steady_tablet) = (app.tablet(low).await, app.tablet(steady).await);
    let (staff, _) = login(&app, "staff").await;
    let start = local(8, 30) - Duration::days(13);
    let mut seq = std::collections::HashMap::new();
    // A check-in `days` after `start`, saying `feeling` to how_feeling (and `open` to
    // the open question).
    let mut check_in = |token: &String, days: i64, feeling: &str, open: &str| {
        let n = seq.entry(token.clone()).or_insert(0u64);
        *n += 1;
        app.clock.set(start + Duration::days(days));
        let body = json!({"answers": [
            {"question": "how_feeling", "intent": feeling},
            {"question": "open", "intent": open},
        ]});
        (token.clone(), event(*n, "check_in", body))
    };
    let mood_alerts = |app: &TestApp, who: backend::store::ResidentId| {
        app.store
            .open_alerts()
            .unwrap()
            .iter()
            .filter(|a| a.kind.key() == "mood_falling" && a.resident == who)
            .count()
    };
    // Her: one low day the week before; this week lonely, low, and on the last day lonely.
    // Steady: low every other day for five weeks (three or four a week): no fall.
    // Each sent on its own day.
    let mut days: Vec<(&String, i64, &str)> =
        [(2, "low_mood"), (5, "feeling_good"), (8, "lonely"), (10, "feeling_good"), (11, "low_mood")]
            .into_iter()
            .map(|(d, f)| (&low_tablet, d, f))
            .chain((-21..=13).step_by(2).map(|d| (&steady_tablet, d, "low_mood")))
            .collect();
    days.sort_by_key(|d| d.1);
    let mut resolved = false;
    for (tablet, d, f) in days {
        if d >= 0 && !resolved {
            resolved = true;
            // Steady's first low week was a fall from nothing before it: staff saw to it.
            let raised: Vec<i64> = app
                .store
                .open_alerts()
                .unwrap()
                .iter()
                .filter(|a| a.kind.key() == "mood_falling" && a.resident == steady)
                .map(|a| a.id)
                .collect();
            assert_eq!(raised.len(), 1, "low days after none");
            app.store
                .resolve_alert(raised[0], backend::store::UserId(1), "訪問して話を聞いた", app.clock_now())
                .unwrap();
        }
        let (token, ev) = check_in(tablet, d, f, "no");
        let sent = app.post("/api/v1/events", &token, batch(&[ev])).await;
        assert_eq!(acks(&sent.1), ["stored"], "{:?}", sent.1);
    }
    assert_eq!(mood_alerts(&app, low), 0, "two low days this week: not yet");
    assert_eq!(mood_alerts(&app, steady), 0, "three or four a week, as the weeks before: not falling");

    let (token, ev) = check_in(&low_tablet, 13, "lonely", "no");
    assert_eq!(acks(&app.post("/api/v1/events", &token, batch(&[ev])).await.1), ["stored"]);
    assert_eq!(mood_alerts(&app, low), 1, "three low days this week, one the week before");
    let (token, ev) = check_in(&low_tablet, 13, "low_mood", "lonely");
    assert_eq!(acks(&app.post("/api/v1/events", &token, batch(&[ev])).await.1), ["stored"]);
    assert_eq!(mood_alerts(&app, low), 1, "once until resolved");
    let visit_requests = app
        .store
        .open_alerts()
        .unwrap()
        .iter()
        .filter(|a| a.kind.key() == "visit_request" && a.resident == low)
        .count();
    assert_eq!(visit_requests, 1, "「誰とも話してねえ」 at the open question asks for a visit");

    let visits = format!("/visits?district={}", pct("大井沢"));
    let (_, _, page) = app.raw(Method::GET, &visits, &[("cookie", &staff)], "").await;
    let at = |id: backend::store::ResidentId| page.find(&format!("data-resident=\"{}\"", id.0)).unwrap();
    assert!(page.contains("気になる変化：気分の落ち込みやさみしさが続いている"), "{page}");
    assert!(at(low) < at(calm), "{page}");

    let (_, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", low.0), &[("cookie", &staff)], "").await;
    assert!(page.contains("この7日で3日・その前の7日で1日"), "{page}");
    let day = |n: i64| {
        (start + Duration::days(n)).with_timezone(&backend::clock::town_offset()).format("%m/%d").to_string()
    };
    for (n, said) in [
        (13, "さみしい・気分が沈んでいる"),
        (11, "気分が沈んでいる"),
        (8, "さみしい"),
        (2, "気分が沈んでいる"),
    ] {
        assert!(page.contains(&format!("<tr><td>{}</td><td>{said}</td></tr>", day(n))), "{n}: {page}");
    }
    let (_, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", calm.0), &[("cookie", &staff)], "").await;
    assert!(page.contains("この2週間、気分の落ち込みやさみしさを口にした日はありません。"), "{page}");
}
