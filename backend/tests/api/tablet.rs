//! The tablet API: enrolment and tokens, idempotent upload, pull with a cursor,
//! heartbeat, and bad input (4xx with a reason, nothing stored, never 5xx).

use axum::body::Body;
use axum::http::{Method, StatusCode};
use backend::store::Status;
use serde_json::json;

use crate::support::{Seen as _, TestApp, acks, batch, day, event, kinds, local};

#[tokio::test]
async fn enrolment_codes_work_once_and_tokens_stop_working_when_revoked() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let code = app.store.create_enrolment_code(Some(r), app.clock_now()).unwrap();
    let app = &app;
    let enrol = |code: String| async move {
        app.call(Method::POST, "/api/v1/enrol", None, Body::from(json!({ "code": code }).to_string())).await
    };
    let (status, body) = enrol(code.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["device_token"].as_str().unwrap().to_owned();
    let device = backend::store::DeviceId(body["device_id"].as_i64().unwrap());
    // Replayed code, wrong code, non-digit code: the same refusal.
    for code in [code, "0000000000".to_owned(), "'; DROP TABLE devices;--".to_owned()] {
        let (status, body) = enrol(code).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "unknown, used or expired enrolment code");
    }
    let hb = json!({ "device_time": "2026-11-28T00:00:00Z" });
    assert_eq!(app.post("/api/v1/heartbeat", &token, hb.clone()).await.0, StatusCode::OK);
    assert!(app.store.revoke_device(device, app.clock_now()).unwrap());
    let (status, body) = app.post("/api/v1/heartbeat", &token, hb).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unknown or revoked device token");
}

/// Regression: a lost enrolment answer burnt the code and stranded the tablet. The
/// same tablet (same retry key) may ask again for a while; nobody else may.
#[tokio::test]
async fn a_lost_enrolment_answer_can_be_asked_again_by_the_same_tablet_only() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let code = app.store.create_enrolment_code(Some(r), app.clock_now()).unwrap();
    let key = "k".repeat(64);
    let app = &app;
    let enrol = |code: String, key: String| async move {
        let body = json!({ "code": code, "retry_key": key }).to_string();
        app.call(Method::POST, "/api/v1/enrol", None, Body::from(body)).await
    };
    let (status, first) = enrol(code.clone(), key.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    // The answer never reached the tablet; it asks again.
    let (status, again) = enrol(code.clone(), key.clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["device_id"], first["device_id"], "the same tablet, not a second one");
    assert_ne!(again["device_token"], first["device_token"], "a fresh token");
    let hb = json!({ "device_time": "2026-11-28T00:00:00Z" });
    let old = first["device_token"].as_str().unwrap();
    let new = again["device_token"].as_str().unwrap();
    assert_eq!(
        app.post("/api/v1/heartbeat", old, hb.clone()).await.0,
        StatusCode::UNAUTHORIZED,
        "the lost token is dead"
    );
    assert_eq!(app.post("/api/v1/heartbeat", new, hb).await.0, StatusCode::OK);
    // Another key, no key, or too late: refused.
    for other in ["x".repeat(64), String::new()] {
        assert_eq!(enrol(code.clone(), other).await.0, StatusCode::UNAUTHORIZED);
    }
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(enrol(code, key).await.0, StatusCode::UNAUTHORIZED, "only for a few minutes");
}

#[tokio::test]
async fn enrolment_codes_expire_after_a_day() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let code = app.store.create_enrolment_code(Some(r), app.clock_now()).unwrap();
    app.clock.advance(chrono::Duration::hours(24));
    let (status, _) =
        app.call(Method::POST, "/api/v1/enrol", None, Body::from(json!({ "code": code }).to_string())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tokens_are_checked_on_every_route() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let real = app.tablet(r).await;
    let forged = format!("mmd_{}", "0".repeat(64));
    let too_long = "a".repeat(500);
    let routes = [
        (Method::POST, "/api/v1/events", batch(&[]).to_string()),
        (Method::GET, "/api/v1/pull?after=0", String::new()),
        (Method::POST, "/api/v1/heartbeat", json!({ "device_time": "2026-11-28T00:00:00Z" }).to_string()),
    ];
    for (method, path, body) in routes {
        for token in [None, Some(forged.as_str()), Some(too_long.as_str()), Some("")] {
            let (status, reply) = app.call(method.clone(), path, token, Body::from(body.clone())).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {token:?}: {reply}");
            assert!(reply["error"].as_str().unwrap().contains("token"), "{reply}");
        }
        let (status, reply) = app.call(method, path, Some(&real), Body::from(body)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {reply}");
    }
}

#[tokio::test]
async fn upload_is_idempotent_by_uuid_and_acknowledged_per_event() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    app.clock.set(local(8, 30));
    let events = [
        event(1, "check_in", json!({"feeling": "good"})),
        event(2, "exercise_done", json!({})),
        event(3, "x_new", json!(1)),
    ];
    let (status, body) = app.post("/api/v1/events", &token, batch(&events)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(acks(&body), ["stored", "stored", "stored"]);
    for (i, ev) in events.iter().enumerate() {
        assert_eq!(body["acks"][i][0], ev["id"], "acks follow the batch order");
    }
    assert_eq!(app.store.status(r, day()).unwrap(), Some(Status::Confirmed));
    // The tablet did not hear the answer and resends, with one new event.
    let mut again = events.to_vec();
    again.push(event(4, "check_in", json!({})));
    let (_, body) = app.post("/api/v1/events", &token, batch(&again)).await;
    assert_eq!(acks(&body), ["duplicate", "duplicate", "duplicate", "stored"]);
    assert_eq!(app.store.event_count().unwrap(), 4);
    // The server's clock is recorded, the device's as sent.
    let timeline = app.store.timeline(r, 10).unwrap();
    assert_eq!(timeline.len(), 4);
    assert_eq!(timeline[0].server_time, local(8, 30));
    assert_eq!(timeline[0].device_time.to_rfc3339(), "2026-11-28T00:05:00+00:00");
    // A different event reusing a sequence number is refused, with a reason.
    let (_, body) = app.post("/api/v1/events", &token, batch(&[event(2, "check_in", json!({}))])).await;
    assert_eq!(acks(&body), ["rejected"]);
    assert!(body["reasons"][0][1].as_str().unwrap().contains("sequence"), "{body}");
    assert_eq!(app.store.event_count().unwrap(), 4);
}

#[tokio::test]
async fn a_help_request_alerts_at_once_and_a_later_check_in_does_not_hide_it() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let (_, body) = app.post("/api/v1/events", &token, batch(&[event(1, "help_request", json!({}))])).await;
    assert_eq!(acks(&body), ["stored"]);
    let alerts = app.store.open_alerts().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, backend::store::AlertKind::HelpRequest);
    app.post("/api/v1/events", &token, batch(&[event(2, "check_in", json!({}))])).await;
    assert_eq!(app.store.status(r, day()).unwrap(), Some(Status::NeedsHelp));
}

/// 「話を聞いてほしい」 in a check-in: the day is 要確認 and staff get a visit request
/// to follow up; a check-in without it raises nothing.
#[tokio::test]
async fn a_check_in_asking_to_be_heard_raises_a_visit_request() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let plain = json!({"answers": [{"question": "open", "intent": "no"}]});
    let (_, body) = app.post("/api/v1/events", &token, batch(&[event(1, "check_in", plain)])).await;
    assert_eq!(acks(&body), ["stored"]);
    assert!(app.store.open_alerts().unwrap().is_empty());
    assert_eq!(app.store.status(r, day()).unwrap(), Some(Status::Confirmed));
    let asks = json!({"answers": [
        {"question": "how_feeling", "intent": "feeling_good"},
        {"question": "open", "intent": "yes"}
    ]});
    let (_, body) = app.post("/api/v1/events", &token, batch(&[event(2, "check_in", asks)])).await;
    assert_eq!(acks(&body), ["stored"]);
    let alerts = app.store.open_alerts().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!((alerts[0].resident, alerts[0].kind), (r, backend::store::AlertKind::VisitRequest));
    assert_eq!(app.store.status(r, day()).unwrap(), Some(Status::Attention));
}

#[tokio::test]
async fn pull_delivers_each_tablet_its_own_items_in_order_with_a_cursor() {
    let app = TestApp::new();
    let mine = app.resident("大井沢");
    let other = app.resident("沼山");
    let token = app.tablet(mine).await;
    let other_token = app.tablet(other).await;
    let first = app.pull(&token, 0).await;
    assert_eq!(kinds(&first), ["roster_entry", "resident_settings"]);
    assert_eq!(first["items"][0]["body"]["resident_id"], mine.0);
    let cursor = first["cursor"].as_u64().unwrap();
    assert_eq!(first["more"], false);
    let deadline = local(12, 0);
    let town = backend::store::Actor::Engine;
    let here = app
        .store
        .start_campaign(Some("大井沢"), "大雪です。大丈夫ですか？", deadline, town, local(7, 0))
        .unwrap();
    app.store.start_campaign(Some("沼山"), "沼山の皆さん", deadline, town, local(7, 0)).unwrap();
    let whole = app.store.start_campaign(None, "町全体", deadline, town, local(7, 0)).unwrap();
    let next = app.pull(&token, cursor).await;
    assert_eq!(kinds(&next), ["campaign", "campaign"]);
    assert_eq!(next["items"][0]["body"]["campaign_id"], here.0);
    assert_eq!(next["items"][0]["body"]["message"], "大雪です。大丈夫ですか？");
    assert_eq!(next["items"][1]["body"]["campaign_id"], whole.0);
    let end = next["cursor"].as_u64().unwrap();
    assert!(end > cursor);
    assert_eq!(kinds(&app.pull(&token, end).await), Vec::<String>::new());
    assert_eq!(app.pull(&token, end).await["cursor"], end, "an empty pull keeps the cursor");
    // The other district's tablet sees its own resident and campaigns, never ours.
    let theirs = app.pull(&other_token, 0).await;
    assert_eq!(kinds(&theirs), ["roster_entry", "resident_settings", "campaign", "campaign"]);
    assert!(theirs["items"].as_array().unwrap().iter().all(|i| i["body"]["campaign_id"] != here.0));
}

#[tokio::test]
async fn pull_pages_when_more_is_waiting() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let device = app.store.authenticate_device(&token).unwrap().unwrap();
    let (page, more) = app.store.pull(&device, 0, 1).unwrap();
    assert_eq!((page.len(), more), (1, true));
    let (rest, more) = app.store.pull(&device, page[0].cursor, 1).unwrap();
    assert_eq!((rest.len(), more), (1, false));
    assert!(rest[0].cursor > page[0].cursor);
}

#[tokio::test]
async fn heartbeat_records_health_with_the_server_clock() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    app.clock.set(local(9, 0));
    let hb = json!({
        "app_version": "1.2.3", "microphone": "ok", "reader": "faulty", "speaker": "a_new_state",
        "free_storage_mib": 2048, "outbox_len": 17, "dialect_bundle": 3,
        // The tablet's clock is five minutes fast: recorded, not trusted.
        "device_time": (local(9, 5)).to_rfc3339(), "battery": 80,
    });
    let (status, body) = app.post("/api/v1/heartbeat", &token, hb).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["server_time"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap(),
        local(9, 0)
    );
    let device = app.store.authenticate_device(&token).unwrap().unwrap().device;
    let (health, seen) = app.store.device_health(device).unwrap().unwrap();
    use backend::store::Part;
    assert_eq!(seen, local(9, 0));
    assert_eq!((health.microphone, health.reader, health.speaker), (Part::Ok, Part::Faulty, Part::Unknown));
    assert_eq!(
        (health.free_storage_mib, health.outbox_len, health.app_version.as_str()),
        (2048, 17, "1.2.3")
    );
    assert_eq!(health.dialect_bundle, Some(3));
    assert_eq!(health.device_time, local(9, 5));
    // An older tablet says nothing of bundles: it runs the built-in model.
    let older = json!({ "app_version": "1.2.2", "device_time": local(9, 6).to_rfc3339() });
    let (status, body) = app.post("/api/v1/heartbeat", &token, older).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.store.device_health(device).unwrap().unwrap().0.dialect_bundle, None);
}

/// One bad request: what is sent, the status expected, and a fragment of the reason.
struct Bad {
    name: &'static str,
    path: &'static str,
    body: Body,
    status: StatusCode,
    reason: &'static str,
}

/// Sends `case` with a valid token; checks the status, the reason, and that no
/// event was stored.
async fn check(app: &TestApp, token: &str, case: Bad) {
    let before = app.store.event_count().unwrap();
    let (status, body) = app.call(Method::POST, case.path, Some(token), case.body).await;
    assert_eq!(status, case.status, "{}: {body}", case.name);
    let reason = body["error"].as_str().unwrap_or_else(|| panic!("{}: no reason in {body}", case.name));
    assert!(reason.contains(case.reason), "{}: {reason:?} lacks {:?}", case.name, case.reason);
    assert_eq!(app.store.event_count().unwrap(), before, "{}: something was stored", case.name);
}

#[tokio::test]
async fn bad_input_gets_a_4xx_with_a_reason_and_stores_nothing() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let ten_mb = format!(r#"{{"events":[{{"body":"{}"}}]}}"#, "x".repeat(10 * 1024 * 1024));
    let too_many: Vec<_> = (1..=201).map(|i| event(i, "check_in", json!({}))).collect();
    let bad =
        |name, path, body: String, status, reason| Bad { name, path, body: Body::from(body), status, reason };
    let cases = [
        bad("not JSON", "/api/v1/events", "{events: [".into(), StatusCode::BAD_REQUEST, "malformed JSON"),
        bad("empty body", "/api/v1/events", String::new(), StatusCode::BAD_REQUEST, "malformed JSON"),
        bad("events not a list", "/api/v1/events", r#"{"events": 5}"#.into(), StatusCode::BAD_REQUEST, "invalid type"),
        bad(
            "seq as text",
            "/api/v1/events",
            batch(&[json!({"id": uuid::Uuid::new_v4(), "seq": "one", "kind": "check_in", "device_time": "2026-11-28T00:00:00Z"})]).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid type",
        ),
        bad(
            "id not a UUID",
            "/api/v1/events",
            batch(&[json!({"id": "'; DROP TABLE events;--", "seq": 1, "kind": "check_in", "device_time": "2026-11-28T00:00:00Z"})]).to_string(),
            StatusCode::BAD_REQUEST,
            "UUID",
        ),
        bad(
            "device time not a time",
            "/api/v1/events",
            batch(&[json!({"id": uuid::Uuid::new_v4(), "seq": 1, "kind": "check_in", "device_time": "yesterday"})]).to_string(),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        bad("10 MB body", "/api/v1/events", ten_mb, StatusCode::PAYLOAD_TOO_LARGE, "body larger than"),
        bad("201 events", "/api/v1/events", batch(&too_many).to_string(), StatusCode::PAYLOAD_TOO_LARGE, "at most 200"),
        bad("heartbeat without time", "/api/v1/heartbeat", "{}".into(), StatusCode::BAD_REQUEST, "device_time"),
        bad("enrol without code", "/api/v1/enrol", "{}".into(), StatusCode::BAD_REQUEST, "code"),
    ];
    for case in cases {
        check(&app, &token, case).await;
    }
    let (status, body) = app.call(Method::GET, "/api/v1/pull?after=-1", Some(&token), Body::empty()).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "`after` must be a cursor number")
    );
}

#[tokio::test]
async fn malformed_event_bodies_are_rejected_one_by_one_and_the_rest_stored() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let token = app.tablet(r).await;
    let events = [
        event(1, "safety_answer", json!({"campaign_id": "first"})),
        event(2, "safety_answer", json!({"campaign_id": 999, "answer": "safe"})),
        event(3, "check_in", json!({})),
        event(0, "check_in", json!({})),
    ];
    let (status, body) = app.post("/api/v1/events", &token, batch(&events)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(acks(&body), ["rejected", "rejected", "stored", "rejected"]);
    let reasons: Vec<&str> =
        body["reasons"].as_array().unwrap().iter().map(|r| r[1].as_str().unwrap()).collect();
    assert!(reasons[0].contains("safety answer body"), "{reasons:?}");
    assert!(reasons.contains(&"no such open campaign"), "{reasons:?}");
    assert!(reasons.contains(&"sequence numbers start at 1"), "{reasons:?}");
    assert_eq!(app.store.event_count().unwrap(), 1);
}

#[tokio::test]
async fn sql_metacharacters_in_text_fields_are_stored_as_text() {
    let app = TestApp::new();
    let r = app.resident("大井沢'); DROP TABLE residents;--");
    let token = app.tablet(r).await;
    let nasty = "'; DELETE FROM events; SELECT '\"%_\\";
    let (_, body) = app
        .post(
            "/api/v1/events",
            &token,
            batch(&[event(1, "check_in", json!({ "note": nasty, nasty: nasty }))]),
        )
        .await;
    assert_eq!(acks(&body), ["stored"]);
    let hb = json!({ "app_version": nasty, "device_time": "2026-11-28T00:00:00Z" });
    assert_eq!(app.post("/api/v1/heartbeat", &token, hb).await.0, StatusCode::OK);
    let (_, body) = app.post("/api/v1/events", &token, batch(&[event(2, "check_in", json!({}))])).await;
    assert_eq!(acks(&body), ["stored"]);
    assert_eq!(app.store.event_count().unwrap(), 2);
    let device = app.store.authenticate_device(&token).unwrap().unwrap();
    assert_eq!(device.district.as_deref(), Some("大井沢'); DROP TABLE residents;--"));
    assert_eq!(app.store.device_health(device.device).unwrap().unwrap().0.app_version, nasty);
}

#[tokio::test]
async fn a_burst_of_failed_enrolments_slows_enrolment_without_stopping_it() {
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let code = app.store.create_enrolment_code(Some(r), app.clock_now()).unwrap();
    let enrol = |code: String| {
        let app = &app;
        async move {
            app.call(Method::POST, "/api/v1/enrol", None, Body::from(json!({ "code": code }).to_string()))
                .await
        }
    };
    for i in 0..30 {
        assert_eq!(enrol(format!("{i:010}")).await.0, StatusCode::UNAUTHORIZED);
    }
    // Thirty failures town-wide: the right code still enrols, after a wait.
    let started = std::time::Instant::now();
    let (status, body) = enrol(code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "{:?}", started.elapsed());
}

/// A bundle as `dialect-model bundle` writes it (the kiosk's tests check that the real
/// writer and this office agree).
pub(crate) fn dialect_bundle(version: u32, body: &str) -> String {
    use sha2::Digest as _;
    let sha: String = sha2::Sha256::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("mimamori-dialect-bundle v1\nversion {version}\nsha256 {sha}\n{body}")
}

#[tokio::test]
async fn a_published_dialect_bundle_is_announced_to_every_tablet_and_served_byte_for_byte() {
    let app = TestApp::new();
    let a = app.tablet(app.resident("大井沢")).await;
    let b = app.tablet(app.resident("沼山")).await;
    let cursor_a = app.pull(&a, 0).await["cursor"].as_u64().unwrap();
    let text = dialect_bundle(4, "--- lexicon.tsv\nこわい\ttired\n--- model.tsv\nw\t1\n");
    assert_eq!(app.store.publish_bundle(&text, None, app.clock_now()).unwrap(), 4);
    for (token, after) in [(&a, cursor_a), (&b, 0)] {
        let items = app.pull(token, after).await;
        let item = items["items"].as_array().unwrap().iter().find(|i| i["kind"] == "dialect_bundle").unwrap();
        assert_eq!(item["body"]["version"], 4);
        assert_eq!(item["body"]["bytes"], text.len());
        let (status, _, served) = app
            .raw(
                Method::GET,
                "/api/v1/dialect-bundle/4",
                &[("authorization", &format!("Bearer {token}"))],
                "",
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(served, text);
    }
    let auth = format!("Bearer {a}");
    let (status, ..) =
        app.raw(Method::GET, "/api/v1/dialect-bundle/5", &[("authorization", &auth)], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, ..) =
        app.raw(Method::GET, "/api/v1/dialect-bundle/x", &[("authorization", &auth)], "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, ..) = app.raw(Method::GET, "/api/v1/dialect-bundle/4", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "only enrolled tablets fetch bundles");
    // A truncated file is refused and announces nothing.
    let cut = dialect_bundle(5, "--- lexicon.tsv\nこわい\ttired\n");
    let cut = &cut[..cut.len() - 4];
    assert!(app.store.publish_bundle(cut, None, app.clock_now()).is_err());
    let end = app.pull(&a, cursor_a).await["cursor"].as_u64().unwrap();
    assert_eq!(app.pull(&a, end).await["items"], serde_json::json!([]));
}

/// An enrolment code is stored keyed with the office's secret, which lives beside
/// the database (0600), not in it: a copy of the database alone cannot be searched
/// for the codes.
#[tokio::test]
async fn enrolment_codes_are_keyed_with_a_secret_kept_outside_the_database() {
    use hmac::Mac as _;
    use sha2::Digest as _;
    use std::os::unix::fs::PermissionsExt as _;
    let app = TestApp::new();
    let r = app.resident("大井沢");
    let code = app.store.create_enrolment_code(Some(r), app.clock_now()).unwrap();
    let db = app._dir.path().join("office.sqlite");
    let key_file = backend::store::key_path(&db);
    let key = std::fs::read(&key_file).unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    let stored: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT code_hash FROM enrolment_codes", [], |r| r.get(0))
        .unwrap();
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_ne!(stored, hex(&sha2::Sha256::digest(code.as_bytes())), "not a plain hash");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(code.as_bytes());
    assert_eq!(stored, hex(&mac.finalize().into_bytes()));
    // The key survives a restart: the code still enrols.
    let reopened = backend::store::Store::open(&db).unwrap();
    assert!(reopened.enrol_device(&code, "", "test", app.clock_now()).unwrap().is_some());
}
