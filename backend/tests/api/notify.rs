//! The ladder in-process, with the clock moved by hand: who each rung reaches (and
//! who it never does), consent kept or re-recorded, a family member's acknowledgement
//! from the link reaching the tablet, and the audit of each step.

use axum::http::{Method, StatusCode};
use backend::notify::{Ladder, climb};
use backend::password::hash_password;
use backend::store::{AccountChange, Contact, Role, UserId};
use chrono::Duration;

use crate::disaster::{PASSWORD, get, login, post};
use crate::support::{TestApp, Trail as _, local};

fn ladder() -> Ladder {
    Ladder::from_config(&toml::from_str("[wait_secs]\ndefault = 600").unwrap())
}

/// Who has a message queued for `resident`'s alerts, rung by rung, in order.
fn told(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> Vec<(u8, String)> {
    let mut out: Vec<(u8, String)> =
        app.store.due_notifications(at, 100).unwrap().into_iter().map(|m| (m.rung, m.address)).collect();
    out.sort();
    out
}

#[tokio::test]
async fn each_rung_reaches_its_people_and_the_family_can_take_the_call_from_the_link() {
    let app = TestApp::new();
    let now = app.clock_now();
    let add = |login: &str, role: Role, district: Option<&str>, email: &str| {
        let id = app.store.add_user(login, &hash_password(PASSWORD), role, district, now).unwrap();
        app.store.change_account(None, login, AccountChange::SetEmail(Some(email.to_owned())), now).unwrap();
        id
    };
    let officer = add("officer", Role::Officer, None, "officer@t.example");
    add("minsei", Role::Minsei, Some("大井沢"), "minsei@t.example");
    add("minsei-elsewhere", Role::Minsei, Some("沼山"), "elsewhere@t.example");
    add("staff-on", Role::Staff, None, "on@t.example");
    add("staff-off", Role::Staff, None, "off@t.example");
    add("gone", Role::Minsei, Some("大井沢"), "gone@t.example");
    // The officer puts one member of staff on the duty roster from the dashboard.
    let (cookie, _) = login(&app, "officer").await.unwrap();
    let (_, roster) = get(&app, &cookie, "/duty").await;
    assert!(
        roster.contains("data-login=\"staff-off\"") && !roster.contains("data-login=\"minsei\""),
        "{roster}"
    );
    assert_eq!(
        post(&app, &cookie, "/duty", &[("login", "staff-on"), ("duty", "on")]).await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post(&app, &cookie, "/duty", &[("login", "minsei"), ("duty", "on")]).await.0,
        StatusCode::NOT_FOUND
    );
    let staff_on = app.store.users(now).unwrap().into_iter().find(|u| u.login == "staff-on").unwrap();
    let trail = app.store.account_trail(staff_on.user).unwrap();
    assert!(trail.iter().any(|(by, a, _)| a == "duty_on" && *by == Some(officer)), "{trail:?}");
    app.store.change_account(None, "gone", AccountChange::Disable, now).unwrap();
    let resident = app.resident("大井沢");
    // Two contacts: the son consented, the daughter did not (her address is kept,
    // never used).
    let mut rec = app.store.resident_record(resident).unwrap().unwrap();
    rec.profile.contacts = vec![
        Contact {
            email: "son@f.example".into(),
            notify_consent: true,
            ..Contact::new("一郎", "長男", "090-1")
        },
        Contact { email: "daughter@f.example".into(), ..Contact::new("花", "長女", "090-2") },
    ];
    assert!(app.store.update_profile(resident, &rec.profile, officer, now).unwrap());
    let consent = |app: &TestApp| {
        let rec = app.store.resident_record(resident).unwrap().unwrap();
        rec.profile.contacts.iter().map(|c| c.consent_recorded).collect::<Vec<_>>()
    };
    // The son's consent is recorded with who and when; the daughter was never asked.
    assert_eq!(consent(&app), [Some((Some(officer), now)), None]);
    // An edit that leaves the answers as they were keeps who recorded them; a new
    // address for the son is a new consent, recorded by whoever entered it.
    let later = now + Duration::hours(1);
    assert!(app.store.update_profile(resident, &rec.profile, UserId(4), later).unwrap());
    assert_eq!(consent(&app), [Some((Some(officer), now)), None]);
    rec.profile.contacts[0].email = "ichiro@f.example".into();
    assert!(app.store.update_profile(resident, &rec.profile, UserId(4), later).unwrap());
    assert_eq!(consent(&app), [Some((Some(UserId(4)), later)), None]);
    rec.profile.contacts[0].email = "son@f.example".into();
    assert!(app.store.update_profile(resident, &rec.profile, officer, now).unwrap());

    let token = app.tablet(resident).await;
    let (status, _) = app
        .post(
            "/api/v1/events",
            &token,
            crate::support::batch(&[crate::support::event(
                1,
                "help_request",
                serde_json::json!({ "resident_id": resident.0, "confirmed": true }),
            )]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Rung 1 at once: the district's 民生委員 and the staff on duty; not another
    // district's, not the staff off duty, not a disabled account.
    let t0 = local(9, 0);
    assert_eq!(climb(&app.store, &ladder(), t0).unwrap(), 2);
    assert_eq!(told(&app, t0), [(1, "minsei@t.example".into()), (1, "on@t.example".into())]);
    // Running again changes nothing; the wait (10 min for help) brings rung 2.
    assert_eq!(climb(&app.store, &ladder(), t0 + Duration::minutes(9)).unwrap(), 0);
    let t1 = t0 + Duration::minutes(10);
    assert_eq!(climb(&app.store, &ladder(), t1).unwrap(), 1);
    let t2 = t1 + Duration::minutes(10);
    assert_eq!(climb(&app.store, &ladder(), t2).unwrap(), 1);
    let all = told(&app, t2);
    assert_eq!(
        all,
        [
            (1, "minsei@t.example".into()),
            (1, "on@t.example".into()),
            (2, "officer@t.example".into()),
            (3, "son@f.example".into())
        ]
    );
    assert_eq!(climb(&app.store, &ladder(), t2 + Duration::hours(5)).unwrap(), 0, "no rung after the family");

    // The son opens his link and takes it on: nothing more is due, the tablet hears
    // 「ご家族（長男）」, a wrong token does nothing.
    let son = app.store.due_notifications(t2, 100).unwrap().into_iter().find(|m| m.rung == 3).unwrap();
    let path = format!("/ack/{}/{}", son.id, app.store.ack_token(son.id));
    let (status, _, page) = app.raw(Method::GET, &path, &[], "").await;
    assert!(
        status == StatusCode::OK && page.contains("対応します") && page.contains("テスト 花子"),
        "{page}"
    );
    let (status, _, _) = app.raw(Method::POST, &format!("/ack/{}/{}", son.id, "0".repeat(32)), &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, page) = app.raw(Method::POST, &path, &[], "").await;
    assert!(status == StatusCode::OK && page.contains("ありがとうございます"), "{page}");
    assert!(app.store.due_notifications(t2, 100).unwrap().is_empty(), "the ladder stopped");
    let pulled = app.pull(&token, 0).await.to_string();
    assert!(pulled.contains("help_acknowledged") && pulled.contains("ご家族（長男）"), "{pulled}");
    let (_, _, page) = app.raw(Method::GET, &path, &[], "").await;
    assert!(page.contains("ご家族（長男）が対応しています"), "{page}");

    // Each rung and the acknowledgement are in the resident's audit trail.
    let trail: Vec<String> =
        app.store.audit_trail(resident).unwrap().into_iter().map(|(_, action, _)| action).collect();
    for action in ["notify_rung_1", "notify_rung_2", "notify_rung_3", "alert_acknowledge_by_mail"] {
        assert!(trail.iter().any(|a| a == action), "{action} in {trail:?}");
    }
}
