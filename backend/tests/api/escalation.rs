//! The escalation engine, stepped by hand with a moved clock: the ladder, pauses,
//! idempotence, campaign deadlines, and the pure decision table.

use backend::escalation::{Policy, Report, Step, decide, step};
use backend::store::{Actor, AlertKind, CheckinWindow, ResidentDay, ResidentId, Status};
use chrono::{Duration, NaiveTime};
use serde_json::json;

use crate::support::{TestApp, acks, batch, day, event, kinds, local};

fn report(unconfirmed: usize, alerts: usize, campaign_alerts: usize) -> Report {
    Report { unconfirmed, alerts, campaign_alerts }
}

#[tokio::test]
async fn the_ladder_goes_unconfirmed_then_reprompt_then_alert_and_a_late_check_in_confirms() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let cursor = app.pull(&token, 0).await["cursor"].as_u64().unwrap();
    let p = Policy::default();
    // (local time, expected report): window ends 10:00, grace 60 min, re-prompt 30 min.
    let timeline = [
        ((10, 59), report(0, 0, 0)),
        ((11, 0), report(1, 0, 0)),
        ((11, 1), report(0, 0, 0)),
        ((11, 29), report(0, 0, 0)),
        ((11, 30), report(0, 1, 0)),
        ((12, 0), report(0, 0, 0)),
    ];
    for ((h, m), expected) in timeline {
        assert_eq!(step(&app.store, local(h, m), p).unwrap(), expected, "at {h}:{m:02}");
    }
    assert_eq!(kinds(&app.pull(&token, cursor).await), ["reprompt"]);
    let alerts = app.store.open_alerts().unwrap();
    assert_eq!((alerts.len(), alerts[0].kind, alerts[0].resident), (1, AlertKind::NoCheckin, r));
    app.clock.set(local(12, 10));
    let (_, body) = app.post("/api/v1/events", &token, batch(&[event(1, "check_in", json!({}))])).await;
    assert_eq!(acks(&body), ["stored"]);
    let history = app.store.status_history(r).unwrap();
    let steps: Vec<_> = history.iter().map(|c| (c.from, c.to, c.actor.as_str(), c.at)).collect();
    let device = format!("device:{}", app.store.authenticate_device(&token).unwrap().unwrap().device.0);
    assert_eq!(
        steps,
        [
            (None, Status::Unconfirmed, "engine", local(11, 0)),
            (Some(Status::Unconfirmed), Status::Confirmed, device.as_str(), local(12, 10)),
        ]
    );
    // The next day starts afresh.
    let tomorrow = local(11, 0) + Duration::days(1);
    assert_eq!(step(&app.store, tomorrow, p).unwrap(), report(1, 0, 0));
}

#[tokio::test]
async fn pauses_suppress_the_ladder_and_an_on_time_check_in_stops_it() {
    let app = TestApp::new();
    let paused = app.resident("大井沢");
    let checked_in = app.resident("大井沢");
    let token = app.tablet(checked_in).await;
    app.store.add_pause(paused, local(0, 0), local(0, 0) + Duration::days(3), "入院", local(7, 0)).unwrap();
    app.clock.set(local(8, 15));
    app.post("/api/v1/events", &token, batch(&[event(1, "check_in", json!({}))])).await;
    for t in [local(11, 0), local(12, 0), local(23, 59)] {
        assert_eq!(step(&app.store, t, Policy::default()).unwrap(), report(0, 0, 0));
    }
    assert_eq!(app.store.status(paused, day()).unwrap(), None);
    assert!(app.store.open_alerts().unwrap().is_empty());
    let counts = app.store.board_counts(Some("大井沢"), local(12, 0)).unwrap();
    assert_eq!((counts.confirmed, counts.paused, counts.unconfirmed, counts.needs_help), (1, 1, 0, 0));
}

#[tokio::test]
async fn campaign_deadlines_alert_for_each_non_responder_once() {
    let app = TestApp::new();
    let safe = app.resident("大井沢");
    let help = app.resident("大井沢");
    let silent = app.resident("大井沢");
    let elsewhere = app.resident("沼山");
    let (t_safe, t_help) = (app.tablet(safe).await, app.tablet(help).await);
    let campaign = app
        .store
        .start_campaign(Some("大井沢"), "大雪警報", local(12, 0), Actor::Engine, local(7, 0))
        .unwrap();
    let answer =
        |reply: &str| event(1, "safety_answer", json!({ "campaign_id": campaign.0, "answer": reply }));
    assert_eq!(acks(&app.post("/api/v1/events", &t_safe, batch(&[answer("safe")])).await.1), ["stored"]);
    assert_eq!(
        acks(&app.post("/api/v1/events", &t_help, batch(&[answer("needs_help")])).await.1),
        ["stored"]
    );
    let progress = app.store.campaign_progress(campaign).unwrap();
    assert_eq!((progress.targeted, progress.safe, progress.needs_help), (3, 1, 1));
    assert_eq!(progress.non_responders, [silent]);
    assert_eq!(app.store.status(help, day()).unwrap(), Some(Status::NeedsHelp));
    // Before the deadline only the help answer has alerted staff.
    let open = |app: &TestApp| {
        let mut v: Vec<(ResidentId, AlertKind)> =
            app.store.open_alerts().unwrap().iter().map(|a| (a.resident, a.kind)).collect();
        v.sort_by_key(|(r, _)| *r);
        v
    };
    assert_eq!(open(&app), [(help, AlertKind::CampaignHelp)]);
    // Residents have no check-in window before 11:00, so only the campaign matters here.
    assert_eq!(step(&app.store, local(10, 0), Policy::default()).unwrap(), report(0, 0, 0));
    assert_eq!(step(&app.store, local(12, 0), Policy::default()).unwrap().campaign_alerts, 1);
    assert_eq!(step(&app.store, local(12, 0), Policy::default()).unwrap().campaign_alerts, 0);
    assert_eq!(open(&app), [(help, AlertKind::CampaignHelp), (silent, AlertKind::CampaignNoAnswer)]);
    assert!(!open(&app).iter().any(|(r, _)| *r == elsewhere));
}

/// (paused, status, minutes since status, alerted, local now, expected step)
type Case = (bool, Option<Status>, i64, bool, (u32, u32), Option<Step>);

/// The pure decision, table-driven.
#[test]
fn decision_table() {
    let window = CheckinWindow {
        start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        grace_minutes: 60,
    };
    let p = Policy::default();
    let cases: &[Case] = &[
        (false, None, 0, false, (10, 59), None),
        (false, None, 0, false, (11, 0), Some(Step::MarkUnconfirmed)),
        (true, None, 0, false, (11, 0), None),
        (false, Some(Status::Confirmed), 0, false, (23, 0), None),
        (false, Some(Status::NeedsHelp), 600, false, (23, 0), None),
        (false, Some(Status::Unconfirmed), 29, false, (11, 29), None),
        (false, Some(Status::Unconfirmed), 30, false, (11, 30), Some(Step::AlertStaff)),
        (false, Some(Status::Unconfirmed), 90, true, (12, 30), None),
        (true, Some(Status::Unconfirmed), 90, false, (12, 30), None),
    ];
    let late = ResidentDay {
        resident: ResidentId(1),
        window,
        status: None,
        status_since: None,
        paused: false,
        no_checkin_alerted: false,
        enrolled_at: local(8, 30),
    };
    assert_eq!(decide(&late, day(), local(11, 0), p), None, "enrolled after the window opened");
    for &(paused, status, since_min, alerted, (h, m), expected) in cases {
        let now = local(h, m);
        let r = ResidentDay {
            resident: ResidentId(1),
            window,
            status,
            status_since: status.map(|_| now - Duration::minutes(since_min)),
            paused,
            no_checkin_alerted: alerted,
            enrolled_at: local(7, 0),
        };
        assert_eq!(decide(&r, day(), now, p), expected, "{paused} {status:?} {since_min} {alerted} {h}:{m}");
    }
}

/// A night owl's window 22:00–01:00 (grace 30 min) crosses midnight: it belongs to
/// the day it starts on, a check-in at 00:40 answers the evening before, and the
/// ladder starts at 01:30 on the next calendar day, not at 01:30 before the window.
#[tokio::test]
async fn a_check_in_window_that_crosses_midnight_belongs_to_the_evening_it_starts() {
    let app = TestApp::new();
    app.clock.set(local(20, 0));
    let window = CheckinWindow {
        start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(1, 0, 0).unwrap(),
        grace_minutes: 30,
    };
    let owl = |name: &str| {
        let r = backend::store::NewResident {
            display_name: name.to_owned(),
            district: "大井沢".to_owned(),
            card: None,
            window,
        };
        app.store.add_resident(&r, app.clock_now()).unwrap()
    };
    let (late, silent) = (owl("夜更かし 一郎"), owl("夜更かし 二郎"));
    let token = app.tablet(late).await;
    let next = |h, m| local(h, m) + Duration::days(1);
    let p = Policy::default();
    // Enrolled at 20:00 on the 28th: nothing is due that evening, nor at 01:29 on the 29th.
    for t in [local(20, 30), local(23, 0), next(0, 40), next(1, 29)] {
        assert_eq!(step(&app.store, t, p).unwrap(), report(0, 0, 0), "at {t}");
    }
    app.clock.set(next(0, 40));
    let (_, body) = app.post("/api/v1/events", &token, batch(&[event(1, "check_in", json!({}))])).await;
    assert_eq!(acks(&body), ["stored"]);
    assert_eq!(app.store.status(late, day()).unwrap(), Some(Status::Confirmed), "00:40 answers the 28th");
    assert_eq!(app.store.status(late, day().succ_opt().unwrap()).unwrap(), None);
    // 01:30 on the 29th: only the silent one is unconfirmed, for the 28th; the alert
    // follows after the re-prompt's half hour; the 29th's window is not due yet.
    assert_eq!(step(&app.store, next(1, 30), p).unwrap(), report(1, 0, 0));
    assert_eq!(app.store.status(silent, day()).unwrap(), Some(Status::Unconfirmed));
    assert_eq!(step(&app.store, next(2, 0), p).unwrap(), report(0, 1, 0));
    assert_eq!(step(&app.store, next(21, 0), p).unwrap(), report(0, 0, 0));
    assert_eq!(app.store.status(silent, day().succ_opt().unwrap()).unwrap(), None);
    // The pure rule agrees at the edges.
    assert_eq!(window.day_of(next(0, 59)), day());
    assert_eq!(window.day_of(next(22, 0)), day().succ_opt().unwrap());
    assert_eq!(window.due(day()), next(1, 30));
}

/// Regression: a check-in the resident stopped answering half-way was taken as a
/// sign of safety; it must leave the resident unconfirmed.
#[tokio::test]
async fn an_unanswered_check_in_does_not_confirm_the_resident() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let (_, body) = app
        .post("/api/v1/events", &token, batch(&[event(1, "check_in", json!({"outcome": "no_answer"}))]))
        .await;
    assert_eq!(acks(&body), ["stored"], "kept, not refused");
    assert!(app.store.status_history(r).unwrap().is_empty(), "no status from a check-in nobody answered");
    let (_, body) = app
        .post("/api/v1/events", &token, batch(&[event(2, "check_in", json!({"outcome": "completed"}))]))
        .await;
    assert_eq!(acks(&body), ["stored"]);
    let to: Vec<_> = app.store.status_history(r).unwrap().iter().map(|c| c.to).collect();
    assert_eq!(to, [Status::Confirmed]);
}

/// A tablet answers only the campaigns that cover its household: an answer to another
/// district's campaign is refused as an unknown campaign and raises nothing there.
#[tokio::test]
async fn a_tablet_cannot_answer_another_districts_campaign() {
    let app = TestApp::new();
    let here = app.resident("大井沢");
    let there = app.resident("沼山");
    let (t_here, t_there) = (app.tablet(here).await, app.tablet(there).await);
    let campaign = app
        .store
        .start_campaign(Some("大井沢"), "大雪警報", local(12, 0), Actor::Engine, local(7, 0))
        .unwrap();
    let town = app.store.start_campaign(None, "停電", local(12, 0), Actor::Engine, local(7, 0)).unwrap();
    let answer =
        |c: i64, seq: u64| event(seq, "safety_answer", json!({ "campaign_id": c, "answer": "needs_help" }));
    let (_, body) =
        app.post("/api/v1/events", &t_there, batch(&[answer(campaign.0, 1), answer(town.0, 2)])).await;
    assert_eq!(acks(&body), ["rejected", "stored"], "{body}");
    assert_eq!(body["reasons"][0][1], "no such open campaign");
    assert_eq!(app.store.campaign_progress(campaign).unwrap().needs_help, 0);
    assert!(app.store.open_alerts().unwrap().iter().all(|a| a.campaign != Some(campaign)));
    assert_eq!(
        acks(&app.post("/api/v1/events", &t_here, batch(&[answer(campaign.0, 1)])).await.1),
        ["stored"]
    );
}

/// The office's own snow-watch timer: silence past the tablet's check-backs raises
/// an alert; a return, a rearm ("still at it") or the tablet's own call does not.
#[tokio::test]
async fn a_snow_watch_the_tablet_falls_silent_on_still_escalates() {
    let app = TestApp::new();
    let p = Policy::default();
    let watch = |r: ResidentId, m: u32| json!({ "resident_id": r.0, "minutes": m });
    // Five residents, each checked in first so the ordinary ladder stays quiet.
    let mut tablets = Vec::new();
    for _ in 0..5 {
        let r = app.resident("大井沢");
        let t = app.tablet(r).await;
        app.post("/api/v1/events", &t, batch(&[event(1, "check_in", json!({}))])).await;
        tablets.push((r, t));
    }
    app.clock.set(local(10, 0));
    for (r, t) in &tablets {
        app.post("/api/v1/events", t, batch(&[event(2, "snow_watch_started", watch(*r, 30))])).await;
    }
    // 1 comes back in; 2 says at 10:25 they are still at it; 3 calls for help;
    // 4 and 5 fall silent with their tablets (5 dies after a later rearm at 10:40).
    let (came_back, still, called, silent, later) =
        (&tablets[0], &tablets[1], &tablets[2], &tablets[3], &tablets[4]);
    app.clock.set(local(10, 25));
    app.post("/api/v1/events", &came_back.1, batch(&[event(3, "snow_watch_ended", json!({}))])).await;
    app.post("/api/v1/events", &still.1, batch(&[event(3, "snow_watch_started", watch(still.0, 30))])).await;
    app.post("/api/v1/events", &called.1, batch(&[event(3, "snow_watch_alert", json!({}))])).await;
    app.clock.set(local(10, 40));
    app.post("/api/v1/events", &later.1, batch(&[event(3, "snow_watch_started", watch(later.0, 30))])).await;
    let silent_alerts = |app: &TestApp| {
        let mut who: Vec<ResidentId> = app
            .store
            .open_alerts()
            .unwrap()
            .into_iter()
            .filter(|a| a.kind == AlertKind::SnowWatchSilent)
            .map(|a| a.resident)
            .collect();
        who.sort();
        who
    };
    // 10:00 + 30 min + 16 min: not a minute before.
    step(&app.store, local(10, 45), p).unwrap();
    assert_eq!(silent_alerts(&app), [], "before the deadline");
    assert_eq!(step(&app.store, local(10, 46), p).unwrap().alerts, 1);
    assert_eq!(silent_alerts(&app), [silent.0]);
    assert_eq!(step(&app.store, local(10, 47), p).unwrap(), report(0, 0, 0), "alerted once");
    // The one who rearmed at 10:25 is due at 11:11; the rearm at 10:40 at 11:26.
    step(&app.store, local(11, 11), p).unwrap();
    assert_eq!(silent_alerts(&app), [still.0, silent.0]);
    step(&app.store, local(11, 26), p).unwrap();
    assert_eq!(silent_alerts(&app), [still.0, silent.0, later.0]);
    // Who came back, and who called for help (an alert of its own), are not.
    let help: Vec<ResidentId> = app
        .store
        .open_alerts()
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == AlertKind::HelpRequest)
        .map(|a| a.resident)
        .collect();
    assert_eq!(help, [called.0]);
    let _ = came_back;
}

/// A 「助けが必要」 is never overwritten by a later 「無事」: the call stays the answer,
/// its alert stays open, and staff see when the later answer came.
#[tokio::test]
async fn a_later_safe_never_hides_a_call_for_help_in_a_campaign() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let now = app.clock_now();
    let campaign = app.store.start_campaign(None, "大雪", local(23, 0), Actor::Engine, now).unwrap();
    let answer = |seq: u64, reply: &str| {
        event(seq, "safety_answer", json!({ "campaign_id": campaign.0, "answer": reply }))
    };
    assert_eq!(
        acks(&app.post("/api/v1/events", &token, batch(&[answer(1, "needs_help")])).await.1),
        ["stored"]
    );
    app.clock.set(local(7, 20));
    assert_eq!(acks(&app.post("/api/v1/events", &token, batch(&[answer(2, "safe")])).await.1), ["stored"]);
    let p = app.store.campaign_progress(campaign).unwrap();
    assert_eq!((p.safe, p.needs_help), (0, 1));
    assert_eq!(p.needs_help_list, [(r, "テスト 花子".to_owned(), Some(local(7, 20)))]);
    let open: Vec<AlertKind> = app.store.open_alerts().unwrap().into_iter().map(|a| a.kind).collect();
    assert_eq!(open, [AlertKind::CampaignHelp], "the call's alert stays for staff");
}
