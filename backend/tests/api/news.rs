//! Town news: staff publish an announcement for a district or the town; it goes down
//! to the tablets there only; a tablet's `news_heard` counts once, and only for someone
//! it was meant for; the page lists who heard it and who not yet; 民生委員 see their
//! district's; a withdrawn announcement goes down as withdrawn.

use axum::http::{Method, StatusCode, header};
use backend::password::hash_password;
use backend::store::Role;
use serde_json::json;

use crate::corrections::{login, pct};
use crate::support::{TestApp, acks, batch, event, kinds, local};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn form(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", pct(v))).collect::<Vec<_>>().join("&")
}

/// The announcements in a pull, as (id, message, until, withdrawn).
fn announcements(pull: &serde_json::Value) -> Vec<(u64, String, String, bool)> {
    pull["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "announcement")
        .map(|i| {
            let b = &i["body"];
            (
                b["announcement_id"].as_u64().unwrap(),
                b["message"].as_str().unwrap().to_owned(),
                b["until"].as_str().unwrap().to_owned(),
                b["withdrawn"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[tokio::test]
async fn news_reaches_its_district_counts_who_heard_it_once_and_can_be_withdrawn() {
    let app = TestApp::new();
    let now = app.clock_now();
    app.store.add_user("staff", &hash_password("pw"), Role::Staff, None, now).unwrap();
    app.store.add_user("minsei", &hash_password("pw"), Role::Minsei, Some("大井沢"), now).unwrap();
    let (heard_her, not_yet, elsewhere) =
        (app.resident("大井沢"), app.resident("大井沢"), app.resident("沼山"));
    let (token, other) = (app.tablet(heard_her).await, app.tablet(elsewhere).await);
    let (staff, csrf) = login(&app, "staff").await;
    let (minsei, minsei_csrf) = login(&app, "minsei").await;
    let today = local(7, 0).with_timezone(&backend::clock::town_offset()).date_naive();
    let in_days = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let post = |cookie: String, path: &'static str, body: String| {
        let app = &app;
        async move { app.raw(Method::POST, path, &[FORM, ("cookie", &cookie)], &body).await }
    };
    let message = "あしたは、診療所の日です。\r\nバスは九時に出ます。";
    let until = in_days(7);
    let good = |csrf: &str, district: &str| {
        form(&[("csrf", csrf), ("district", district), ("message", message), ("until", &until)])
    };

    // What a form may not publish: each refused with a reason, nothing published.
    let long = "お".repeat(201);
    let (yesterday, far) = (in_days(-1), in_days(61));
    for (fields, why) in [
        (vec![("message", "  "), ("until", until.as_str())], "1〜200文字"),
        (vec![("message", long.as_str()), ("until", until.as_str())], "1〜200文字"),
        (vec![("message", message), ("until", yesterday.as_str())], "60日先"),
        (vec![("message", message), ("until", far.as_str())], "60日先"),
        (vec![("message", message), ("until", "来週")], "日付が読めません"),
        (vec![("message", message), ("until", until.as_str()), ("district", "大井沢村")], "地区は一覧から"),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &csrf));
        let (status, _, page) = post(staff.clone(), "/news", form(&fields)).await;
        assert_eq!((status, page.contains(why)), (StatusCode::BAD_REQUEST, true), "{why}: {page}");
    }
    // 民生委員 watch the news; only office staff publish it.
    let (status, _, _) = post(minsei.clone(), "/news", good(&minsei_csrf, "大井沢")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(announcements(&app.pull(&token, 0).await).is_empty(), "nothing was published");

    // Published for 大井沢: her tablet gets it (line breaks kept as sent), 沼山's does not.
    let (status, h, _) = post(staff.clone(), "/news", good(&csrf, "大井沢")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page_of = h[header::LOCATION].to_str().unwrap().to_owned();
    let id: u64 = page_of.strip_prefix("/news/").unwrap().parse().unwrap();
    let pulled = app.pull(&token, 0).await;
    assert_eq!(
        announcements(&pulled),
        [(id, "あしたは、診療所の日です。\nバスは九時に出ます。".to_owned(), until.clone(), false)]
    );
    assert!(!kinds(&app.pull(&other, 0).await).contains(&"announcement".to_owned()));

    // Heard: counted once (a resend with a new id too); the 沼山 tablet's claim is stored
    // and acknowledged but counts nobody (it was not for them); an unknown id likewise.
    let heard = |seq: u64, id: u64| event(seq, "news_heard", json!({"announcement_id": id}));
    let sent = app.post("/api/v1/events", &token, batch(&[heard(1, id), heard(2, id), heard(3, 999)])).await;
    assert_eq!(acks(&sent.1), ["stored", "stored", "stored"]);
    let sent = app.post("/api/v1/events", &other, batch(&[heard(1, id)])).await;
    assert_eq!(acks(&sent.1), ["stored"]);
    let sent = app.post("/api/v1/events", &token, batch(&[heard(4, u64::MAX)])).await;
    assert!(acks(&sent.1)[0].starts_with("rejected"), "{:?}", acks(&sent.1));

    let get = |cookie: String, path: String| {
        let app = &app;
        async move { app.raw(Method::GET, &path, &[("cookie", &cookie)], "").await }
    };
    let (status, _, page) = get(staff.clone(), page_of.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let at = |id: backend::store::ResidentId| page.find(&format!("data-resident=\"{}\"", id.0));
    let (heard_at, waiting_at) = (page.find("id=\"heard\"").unwrap(), page.find("id=\"waiting\"").unwrap());
    assert!(at(heard_her).unwrap() > heard_at && at(not_yet).unwrap() > waiting_at, "{page}");
    assert!(at(not_yet).unwrap() < heard_at, "not yet heard is listed first: {page}");
    assert_eq!(at(elsewhere), None, "沼山 was not meant to hear it");
    assert!(page.contains("<strong>1人</strong>が聞きました（対象 2人）"), "{page}");
    assert!(page.contains("11/28 07:00"), "when she heard it: {page}");
    let (_, _, list) = get(staff.clone(), "/news".to_owned()).await;
    assert!(list.contains("1 / 2人") && list.contains("診療所の日"), "{list}");

    // A town-wide one and one for 沼山: the 民生委員 of 大井沢 sees the town's and her own.
    for (district, text) in [("", "町の<b>お祭り</b>は日曜です。"), ("沼山", "沼山の除雪は月曜です。")]
    {
        let body = form(&[("csrf", &csrf), ("district", district), ("message", text), ("until", &until)]);
        assert_eq!(post(staff.clone(), "/news", body).await.0, StatusCode::SEE_OTHER);
    }
    let (_, _, list) = get(minsei.clone(), "/news".to_owned()).await;
    assert!(list.contains("診療所の日") && list.contains("お祭り") && !list.contains("沼山の除雪"), "{list}");
    assert!(list.contains("&#60;b&#62;お祭り"), "staff's words are escaped: {list}");
    assert!(!list.contains("新しいお知らせ"), "no form for 民生委員");
    let (status, _, _) = get(minsei.clone(), format!("/news/{}", id + 2)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "沼山's news is not hers to see");
    // The town-wide one counts her district only: two residents, nobody heard yet.
    let (_, _, page) = get(minsei.clone(), format!("/news/{}", id + 1)).await;
    assert!(page.contains("<strong>0人</strong>が聞きました（対象 2人）"), "{page}");
    assert!(kinds(&app.pull(&other, 0).await).iter().filter(|k| *k == "announcement").count() == 2);

    // Withdrawn: it goes down as withdrawn; a second time is refused; the page says so.
    let withdraw = format!("/news/{id}/withdraw");
    let (status, _, _) =
        app.raw(Method::POST, &withdraw, &[FORM, ("cookie", &minsei)], &format!("csrf={minsei_csrf}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) =
        app.raw(Method::POST, &withdraw, &[FORM, ("cookie", &staff)], &format!("csrf={csrf}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) =
        app.raw(Method::POST, &withdraw, &[FORM, ("cookie", &staff)], &format!("csrf={csrf}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let cursor = pulled["cursor"].as_u64().unwrap();
    let later = announcements(&app.pull(&token, cursor).await);
    assert!(later.iter().any(|a| a.0 == id && a.3), "{later:?}");
    let (_, _, page) = get(staff.clone(), page_of).await;
    assert!(page.contains("（取り下げ）") && !page.contains("取り下げる</button>"), "{page}");
}
