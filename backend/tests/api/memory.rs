//! The weekly talk about the day and three words (never called a test): right
//! answers come in through the events API as a tablet sends them; the latest two
//! talks clearly worse than the eight weeks before raise 「気になる変化」 once and lift
//! her on the visit list; a bad morning, a wobble or too little history raise
//! nothing; counts no tablet could send are refused; staff can turn the talk off;
//! her page lists the talks without a medical word.

use axum::http::{Method, StatusCode};
use backend::store::{ResidentId, UserId};
use chrono::{Days, NaiveDate};
use serde_json::json;

use crate::corrections::{login, pct};
use crate::residents::{form, plain_profile, settings, users};
use crate::support::{TestApp, acks, batch, day, event};

/// One week's talk: the day-or-season question (its part, right or not) and how many
/// of the three words came back.
type Talk = (&'static str, u8, u8);

/// Four of four right.
const GOOD: Talk = ("weekday", 1, 3);
const GOOD_SEASON: Talk = ("season", 1, 3);
/// One of four: the day missed and two of the three words lost.
const WORSE: Talk = ("weekday", 0, 1);
/// Three of four (25 points down): a wobble.
const WOBBLE: Talk = ("season", 1, 2);

/// The tablet's day `weeks` weeks before today (2026-11-28).
fn weeks_ago(weeks: u64) -> NaiveDate {
    day() - Days::new(7 * weeks)
}

/// A resident enrolled with a plain profile, and her tablet's token.
async fn resident(app: &TestApp, name: &str) -> (ResidentId, String) {
    let r = app
        .store
        .enrol_resident(name, "大井沢", &plain_profile(8, None), UserId(1), app.clock_now())
        .unwrap();
    (r, app.tablet(r).await)
}

/// One part of a talk as the tablet sends it.
fn noted(seq: u64, on: NaiveDate, part: &str, right: u8, of: u8) -> serde_json::Value {
    event(seq, "memory_noted", json!({"day": on, "part": part, "right": right, "of": of}))
}

/// Sends a talk on `on` as the tablet does: the question's part, then the words.
async fn talk(app: &TestApp, token: &str, seq: &mut u64, on: NaiveDate, (part, right, words): Talk) {
    *seq += 2;
    let parts = [noted(*seq - 1, on, part, right, 1), noted(*seq, on, "recall", words, 3)];
    let sent = app.post("/api/v1/events", token, batch(&parts)).await;
    assert_eq!(acks(&sent.1), ["stored", "stored"], "{on}: {:?}", sent.1);
}

fn open_changes(app: &TestApp, who: ResidentId) -> usize {
    app.store
        .open_alerts()
        .unwrap()
        .iter()
        .filter(|a| a.kind.key() == "memory_change" && a.resident == who)
        .count()
}

/// A run of weekly talks and the open 「気になる変化」 alerts after each.
struct Weeks {
    name: &'static str,
    /// (weeks before today, the talk, open alerts after it), in the order sent.
    talks: Vec<(u64, Talk, usize)>,
}

/// Six good weeks, from eight weeks ago to three.
fn steady() -> Vec<(u64, Talk, usize)> {
    (3..=8).rev().map(|w| (w, if w % 2 == 0 { GOOD } else { GOOD_SEASON }, 0)).collect()
}

/// `steady` and then `then`.
fn after_steady(then: &[(u64, Talk, usize)]) -> Vec<(u64, Talk, usize)> {
    steady().into_iter().chain(then.iter().copied()).collect()
}

/// Sends `case`'s talks for a fresh resident, checking the alerts after each.
async fn check(case: Weeks) {
    let app = TestApp::new();
    users(&app);
    let (r, token) = resident(&app, "大井沢 言子").await;
    let mut seq = 0;
    for (i, (weeks, said, want)) in case.talks.into_iter().enumerate() {
        talk(&app, &token, &mut seq, weeks_ago(weeks), said).await;
        assert_eq!(open_changes(&app, r), want, "{}: after talk {i} ({weeks} weeks ago)", case.name);
    }
}

#[tokio::test]
async fn only_a_clear_fall_over_the_latest_two_talks_raises_a_change_and_once() {
    let cases = [
        Weeks {
            name: "steady, then clearly worse twice (a third: no second alert)",
            talks: after_steady(&[(2, WORSE, 0), (1, WORSE, 1), (0, WORSE, 1)]),
        },
        Weeks {
            name: "one bad morning beside a usual one",
            talks: after_steady(&[(1, WORSE, 0), (0, GOOD, 0)]),
        },
        Weeks { name: "a 25-point wobble, twice", talks: after_steady(&[(1, WOBBLE, 0), (0, WOBBLE, 0)]) },
        Weeks {
            name: "a wobble, then clearly worse: pooled, a fall",
            talks: after_steady(&[(1, WOBBLE, 0), (0, WORSE, 1)]),
        },
        Weeks {
            name: "the same day talked again replaces the first",
            talks: after_steady(&[(1, WORSE, 0), (1, GOOD, 0), (0, WORSE, 0)]),
        },
        Weeks { name: "one earlier talk only", talks: vec![(2, GOOD, 0), (1, WORSE, 0), (0, WORSE, 0)] },
        Weeks {
            name: "earlier talks from before the eight weeks",
            talks: vec![(11, GOOD, 0), (10, GOOD, 0), (1, WORSE, 0), (0, WORSE, 0)],
        },
        Weeks {
            name: "earlier talks just within the eight weeks",
            talks: vec![(9, GOOD, 0), (8, GOOD, 0), (1, WORSE, 0), (0, WORSE, 1)],
        },
    ];
    for case in cases {
        check(case).await;
    }
}

/// Steady weeks and then two clearly worse talks lift her above a calm neighbour on
/// the visit list with the reason; her page lists the talks in plain words, never as
/// a test or a diagnosis; a neighbour with no talks reads 「まだありません」.
#[tokio::test]
async fn a_change_lifts_her_on_the_visit_list_and_her_page_lists_the_talks() {
    let app = TestApp::new();
    users(&app);
    // Enrolled first, so she would come first among equals.
    let (calm, _) = resident(&app, "大井沢 先子").await;
    let (r, token) = resident(&app, "大井沢 言子").await;
    let (staff, _) = login(&app, "staff").await;
    let mut seq = 0;
    for (weeks, said, _) in after_steady(&[(1, WORSE, 0), (0, ("season", 0, 2), 0)]) {
        talk(&app, &token, &mut seq, weeks_ago(weeks), said).await;
    }
    assert_eq!(open_changes(&app, r), 1);

    let visits = format!("/visits?district={}", pct("大井沢"));
    let (_, _, page) = app.raw(Method::GET, &visits, &[("cookie", &staff)], "").await;
    let at = |id: ResidentId| page.find(&format!("data-resident=\"{}\"", id.0)).unwrap();
    assert!(at(r) < at(calm), "{page}");
    assert!(page.contains("気になる変化：日にちと言葉のおしゃべりに、気になる変化"), "{page}");

    let (status, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", r.0), &[("cookie", &staff)], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h2>日にちと三つの言葉のおしゃべり（この8週間）</h2>"), "{page}");
    let table = &page[page.find("id=\"memory\"").expect("the talks")..];
    let table = &table[..table.find("</table>").unwrap()];
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("<tr><td>")).collect();
    let row = |weeks: u64, asked: &str, words: &str| {
        format!("<tr><td>{}</td><td>{asked}</td><td>{words}</td></tr>", weeks_ago(weeks).format("%m/%d"))
    };
    assert_eq!(
        rows,
        [
            row(0, "季節 ・", "2/3"),
            row(1, "曜日 ・", "1/3"),
            row(3, "季節 ○", "3/3"),
            row(4, "曜日 ○", "3/3"),
            row(5, "季節 ○", "3/3"),
            row(6, "曜日 ○", "3/3"),
            row(7, "季節 ○", "3/3"),
        ],
        "eight weeks up to today, newest first: {table}"
    );
    assert!(page.contains("日にちと三つの言葉のおしゃべり</td>"), "the timeline names the kind: {page}");
    for word in ["認知", "テスト", "検査", "診断"] {
        assert!(!page.contains(word), "{word} on her page: {page}");
    }
    let (_, _, page) =
        app.raw(Method::GET, &format!("/residents/{}", calm.0), &[("cookie", &staff)], "").await;
    assert!(page.contains("<p id=\"memory\">まだありません</p>"), "{page}");
}

/// One bad body: its name, the body, and a fragment of the reason.
struct Bad {
    name: &'static str,
    body: serde_json::Value,
    reason: &'static str,
}

/// Sends `case` alone: rejected as other invalid events are, with its reason, and
/// nothing stored (no event, no talk).
async fn refused(app: &TestApp, token: &str, r: ResidentId, case: Bad) {
    let before = app.store.event_count().unwrap();
    let (status, body) =
        app.post("/api/v1/events", token, batch(&[event(1, "memory_noted", case.body)])).await;
    assert_eq!((status, acks(&body)), (StatusCode::OK, vec!["rejected".to_owned()]), "{}: {body}", case.name);
    let reason = body["reasons"][0][1].as_str().unwrap_or_default();
    assert!(reason.contains(case.reason), "{}: {reason:?} lacks {:?}", case.name, case.reason);
    assert_eq!(app.store.event_count().unwrap(), before, "{}: an event was stored", case.name);
    assert_eq!(app.store.memory_looks(r, day()).unwrap(), [], "{}: a talk was kept", case.name);
}

#[tokio::test]
async fn counts_no_tablet_could_send_are_refused_and_nothing_is_kept() {
    let app = TestApp::new();
    users(&app);
    let (r, token) = resident(&app, "大井沢 言子").await;
    let bad = |name, part: &str, right: serde_json::Value, of: u8, reason| Bad {
        name,
        body: json!({"day": day(), "part": part, "right": right, "of": of}),
        reason,
    };
    let cases = [
        bad("more right than asked (words)", "recall", json!(4), 3, "right is 0 to of"),
        bad("more right than asked (day)", "weekday", json!(2), 1, "right is 0 to of"),
        bad("nothing asked", "weekday", json!(0), 0, "of must be 1"),
        bad("the day of the week asked three times", "weekday", json!(1), 3, "of must be 1"),
        bad("the season asked three times", "season", json!(3), 3, "of must be 1"),
        bad("the words asked once", "recall", json!(1), 1, "of must be 3"),
        bad("the words asked twice", "recall", json!(1), 2, "of must be 3"),
        bad("a part that is no name", "曜日", json!(1), 1, "MemoryPart"),
        bad("a part in capitals", "Weekday", json!(1), 1, "MemoryPart"),
        bad("right below zero", "weekday", json!(-1), 1, "invalid value"),
        bad("right in words", "recall", json!("二"), 3, "invalid type"),
    ];
    for case in cases {
        refused(&app, &token, r, case).await;
    }
    // A part from a newer tablet is a name the office does not know: kept for the
    // timeline as a newer mood is, and never counted.
    let newer = noted(1, day(), "counting", 1, 1);
    assert_eq!(acks(&app.post("/api/v1/events", &token, batch(&[newer])).await.1), ["stored"]);
    assert_eq!(app.store.memory_looks(r, day()).unwrap(), []);
}

/// Turning the talk off in her profile reaches the tablet's settings; her page says
/// it rests; turning it back on reaches the tablet too.
#[tokio::test]
async fn staff_turn_the_talk_off_and_the_tablet_and_her_page_are_told() {
    let app = TestApp::new();
    users(&app);
    let (r, token) = resident(&app, "大井沢 言子").await;
    let (staff, csrf) = login(&app, "staff").await;
    assert_eq!(settings(&app, &token).await["memory_off"], false, "on unless staff turn it off");
    let path = format!("/residents/{}/edit", r.0);
    let (_, _, page) = app.raw(Method::GET, &path, &[("cookie", &staff)], "").await;
    assert!(page.contains("name=\"memory_off\" value=\"on\">"), "on by default: {page}");
    assert!(page.contains("日にちと三つの言葉のおしゃべり（週に一度まで）をお休みする"), "{page}");

    let edit = |off: bool| {
        let mut fields = vec![("csrf", csrf.as_str()), ("window_start", "08:00"), ("window_end", "10:00")];
        if off {
            fields.push(("memory_off", "on"));
        }
        form(&fields)
    };
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("cookie", staff.as_str())];
    assert_eq!(app.raw(Method::POST, &path, &headers, &edit(true)).await.0, StatusCode::SEE_OTHER);
    assert_eq!(settings(&app, &token).await["memory_off"], true, "the tablet is told");
    let (_, _, page) = app.raw(Method::GET, &path, &[("cookie", &staff)], "").await;
    assert!(page.contains("name=\"memory_off\" value=\"on\" checked>"), "{page}");
    let (_, _, page) = app.raw(Method::GET, &format!("/residents/{}", r.0), &[("cookie", &staff)], "").await;
    assert!(page.contains("お休み中（プロフィールで設定）"), "{page}");
    assert!(!page.contains("id=\"memory\""), "resting, not waiting: {page}");

    assert_eq!(app.raw(Method::POST, &path, &headers, &edit(false)).await.0, StatusCode::SEE_OTHER);
    assert_eq!(settings(&app, &token).await["memory_off"], false, "and told again when it is back on");
    let (_, _, page) = app.raw(Method::GET, &format!("/residents/{}", r.0), &[("cookie", &staff)], "").await;
    assert!(!page.contains("お休み中") && page.contains("<p id=\"memory\">まだありません</p>"), "{page}");
}
