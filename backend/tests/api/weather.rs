//! Weather: the agency's JSON (recorded files in its shape, served from a local HTTP
//! server on port 0) parsed into reports, fetched in the background of a real
//! server, kept when the agency is unreachable, and overridden by staff.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use backend::clock::ManualClock;
use backend::config::WeatherConfig;
use backend::password::hash_password;
use backend::store::Role;
use backend::weather::{WeatherError, amedas_hour_file, parse_amedas_snow, parse_forecast, parse_warnings};
use chrono::NaiveDate;
use serde_json::json;

use crate::corrections::{login, pct};
use crate::socket::{request, spawn_app_with};
use crate::support::{TestApp, kinds, local};

fn fixtures(set: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jma").join(set)
}

fn file(set: &str, kind: &str) -> String {
    let path = match kind {
        "forecast" => "bosai/forecast/data/forecast/060000.json",
        _ => "bosai/warning/data/warning/060000.json",
    };
    std::fs::read_to_string(fixtures(set).join(path)).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// A stand-in for www.jma.go.jp: serves one fixture set's files by path, or 503
/// when no set is chosen (the agency unreachable).
#[derive(Clone)]
pub struct FakeJma {
    set: Arc<Mutex<Option<PathBuf>>>,
    pub base_url: String,
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl FakeJma {
    pub async fn start(set: &str) -> Self {
        let chosen = Arc::new(Mutex::new(Some(fixtures(set))));
        async fn serve(
            State(set): State<Arc<Mutex<Option<PathBuf>>>>,
            Path(path): Path<String>,
        ) -> Result<String, StatusCode> {
            let dir = set.lock().unwrap().clone().ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
            if path.contains("..") {
                return Err(StatusCode::BAD_REQUEST);
            }
            std::fs::read_to_string(dir.join(path)).map_err(|_| StatusCode::NOT_FOUND)
        }
        let app = axum::Router::new().route("/{*path}", axum::routing::get(serve)).with_state(chosen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Self { set: chosen, base_url, _stop: Arc::new(tx) }
    }

    pub fn choose(&self, set: Option<&str>) {
        *self.set.lock().unwrap() = set.map(fixtures);
    }

    pub fn config(&self) -> WeatherConfig {
        WeatherConfig { base_url: self.base_url.clone(), interval_secs: 1, ..Default::default() }
    }
}

#[test]
fn the_agencys_files_become_the_towns_weather() {
    let f = parse_forecast(&file("snow", "forecast"), "060010", "35426", day(28)).unwrap();
    assert_eq!(
        (f.weather_code.as_str(), f.weather_text.as_str(), f.temp_min_c, f.temp_max_c),
        ("400", "雪 所により ふぶく", Some(-3), Some(1))
    );
    // The 17:00 report: tomorrow's short-range temperatures; the day after from the weekly.
    let lifted = file("lifted", "forecast");
    let f = parse_forecast(&lifted, "060010", "35426", day(29)).unwrap();
    assert_eq!((f.weather_code.as_str(), f.temp_min_c, f.temp_max_c), ("200", Some(-5), Some(3)));
    let f = parse_forecast(&lifted, "060010", "35426", day(30)).unwrap();
    assert_eq!((f.weather_code.as_str(), f.temp_min_c, f.temp_max_c), ("201", Some(-2), Some(4)));
    // Another area and station read their own rows.
    let f = parse_forecast(&file("snow", "forecast"), "060030", "35216", day(28)).unwrap();
    assert_eq!((f.weather_code.as_str(), f.temp_min_c), ("406", Some(-6)));

    let names = |set| {
        parse_warnings(&file(set, "warning"), "0632400").unwrap().iter().map(|w| w.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names("snow"),
        ["大雪警報", "風雪注意報", "なだれ注意報", "低温注意報"],
        "雷注意報 was lifted"
    );
    assert!(names("lifted").is_empty());
    let w = parse_warnings(&file("snow", "warning"), "0632400").unwrap();
    let r = backend::weather::report(
        day(28),
        parse_forecast(&file("snow", "forecast"), "060010", "35426", day(28)).unwrap(),
        &w,
        wire::WeatherSource::Jma,
        local(7, 0),
    );
    assert!(
        r.heavy_snow_warning && r.snowstorm_advisory && r.avalanche_advisory && r.low_temperature_advisory
    );
    assert!(!r.heavy_snow_advisory && !r.storm_warning && !r.heavy_rain_warning);

    // The town's AMeDAS station: the depth on the hour; a flagged reading is none; a
    // station with no snow gauge has none; an unlisted one is an error.
    let map =
        std::fs::read_to_string(fixtures("snow").join("bosai/amedas/data/map/20261128060000.json")).unwrap();
    assert_eq!(parse_amedas_snow(&map, "35361").unwrap(), Some(126));
    assert_eq!(parse_amedas_snow(&map, "35216").unwrap(), None, "quality flag 5");
    assert_eq!(parse_amedas_snow(&map, "35426").unwrap(), None, "no snow gauge");
    assert!(matches!(parse_amedas_snow(&map, "99999"), Err(WeatherError::Shape { .. })));
    assert_eq!(amedas_hour_file("2026-11-28T06:50:00+09:00").unwrap(), "20261128060000");
    assert!(amedas_hour_file("yesterday").is_err());
}

#[test]
fn unreadable_or_foreign_files_are_typed_errors() {
    let shape = |r: Result<_, WeatherError>| matches!(r, Err(WeatherError::Shape { .. }));
    for bad in ["", "null", "{}", "[]", "<html>メンテナンス中</html>", "[{\"timeSeries\":7}]", "[[[[]]]]"]
    {
        assert!(shape(parse_forecast(bad, "060010", "35426", day(28)).map(|_| ())), "{bad}");
        assert!(shape(parse_warnings(bad, "0632400").map(|_| ())), "{bad}");
    }
    assert!(shape(parse_forecast(&file("snow", "forecast"), "999999", "35426", day(28)).map(|_| ())));
    assert!(shape(parse_forecast(&file("snow", "forecast"), "060010", "35426", day(1)).map(|_| ())));
    assert!(shape(parse_warnings(&file("snow", "warning"), "0000000").map(|_| ())));
}

/// The weather items of a tablet's pull, oldest first.
async fn weather_items(addr: std::net::SocketAddr, auth: &str) -> Vec<serde_json::Value> {
    let (status, body) = request(addr, "GET", "/api/v1/pull?after=0", auth, "").await;
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let pull: serde_json::Value = serde_json::from_str(&body).unwrap();
    pull["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "weather")
        .map(|i| i["body"].clone())
        .collect()
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut ok: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_real_server_fetches_in_the_background_sends_changes_and_keeps_the_last_report_when_jma_is_down() {
    let jma = FakeJma::start("snow").await;
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(local(7, 0));
    let (addr, store, _stop) = spawn_app_with(&dir, clock.clone(), jma.config()).await;
    let r = backend::store::NewResident {
        display_name: "テスト".to_owned(),
        district: "大井沢".to_owned(),
        card: None,
        window: backend::store::CheckinWindow {
            start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            grace_minutes: 60,
        },
    };
    let r = store.add_resident(&r, local(7, 0)).unwrap();
    let code = store.create_enrolment_code(Some(r), local(7, 0)).unwrap();
    let (_, body) = request(addr, "POST", "/api/v1/enrol", "", &json!({ "code": code }).to_string()).await;
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let auth = format!("Authorization: Bearer {}\r\n", token["device_token"].as_str().unwrap());

    until("the first report", || async { weather_items(addr, &auth).await.len() == 1 }).await;
    let first = &weather_items(addr, &auth).await[0];
    assert_eq!(first["date"], "2026-11-28");
    assert_eq!((first["weather_code"].as_str(), first["temp_min_c"].as_i64()), (Some("400"), Some(-3)));
    assert_eq!((first["heavy_snow_warning"].as_bool(), first["source"].as_str()), (Some(true), Some("jma")));
    assert_eq!(first["snow_depth_cm"].as_u64(), Some(126), "大井沢's depth from AMeDAS");
    // Refetching the same files every second sends nothing new.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(weather_items(addr, &auth).await.len(), 1);

    // The agency goes down: the last report stays, nothing is sent, nothing breaks.
    jma.choose(None);
    clock.set(local(7, 0) + chrono::Duration::days(1));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(weather_items(addr, &auth).await.len(), 1);
    let kept: wire::WeatherReport = serde_json::from_str(&store.weather().unwrap().fetched.unwrap()).unwrap();
    assert_eq!(kept.date, day(28));
    let (status, _) = request(addr, "GET", "/healthz", "", "").await;
    assert_eq!(status, "HTTP/1.1 200 OK");

    // Back, with the warnings lifted: the new day's report goes out.
    jma.choose(Some("lifted"));
    until("the lifted report", || async { weather_items(addr, &auth).await.len() == 2 }).await;
    let second = &weather_items(addr, &auth).await[1];
    assert_eq!((second["date"].as_str(), second["weather_code"].as_str()), (Some("2026-11-29"), Some("200")));
    assert_eq!(
        (second["heavy_snow_warning"].as_bool(), second["warnings"].as_array().unwrap().len()),
        (Some(false), 0)
    );
    assert!(second["snow_depth_cm"].is_null(), "no AMeDAS file there: the report goes without a depth");
}

#[tokio::test]
async fn staff_override_the_weather_until_they_clear_it() {
    let jma = FakeJma::start("snow").await;
    let app = TestApp::new();
    let now = app.clock_now();
    app.store.add_user("staff", &hash_password("pw"), Role::Staff, None, now).unwrap();
    app.store.add_user("minsei", &hash_password("pw"), Role::Minsei, Some("大井沢"), now).unwrap();
    let tablet = app.tablet(app.resident("大井沢")).await;
    let client = backend::weather::client();
    assert!(
        backend::weather::refresh(&app.store, &client, &jma.config(), now).await.unwrap(),
        "first report sent"
    );
    let (staff, csrf) = login(&app, "staff").await;
    let headers = [("content-type", "application/x-www-form-urlencoded"), ("cookie", staff.as_str())];
    let (status, _, page) = app.raw(Method::GET, "/weather", &[("cookie", staff.as_str())], "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("気象庁の予報を送っています") && page.contains("雪 所により ふぶく"), "{page}");
    assert!(page.contains("大雪警報、風雪注意報、なだれ注意報、低温注意報"), "{page}");

    let text = "道路閉鎖'); DROP TABLE weather;-- <i>";
    let form = |csrf: &str, extra: &str| {
        format!("csrf={csrf}&date=2026-11-28&weather_text={}&temp_min_c=-8&temp_max_c=-2{extra}", pct(text))
    };
    let cases = [
        (form("", ""), StatusCode::FORBIDDEN),
        (form(&csrf, "").replace("date=2026-11-28", "date=yesterday"), StatusCode::BAD_REQUEST),
        (form(&csrf, "").replace("temp_min_c=-8", "temp_min_c=abc"), StatusCode::BAD_REQUEST),
        (form(&csrf, "").replace("temp_min_c=-8", "temp_min_c=-100"), StatusCode::BAD_REQUEST),
        (form(&csrf, "").replace("temp_min_c=-8", "temp_min_c=5"), StatusCode::BAD_REQUEST),
        (format!("csrf={csrf}&date=2026-11-28&weather_text=+"), StatusCode::BAD_REQUEST),
    ];
    for (body, expected) in &cases {
        assert_eq!(app.raw(Method::POST, "/weather", &headers, body).await.0, *expected, "{body}");
    }
    assert!(app.store.weather().unwrap().manual.is_none(), "refused forms set nothing");
    let (minsei, csrf_m) = login(&app, "minsei").await;
    let minsei_headers = [headers[0], ("cookie", minsei.as_str())];
    assert_eq!(
        app.raw(Method::POST, "/weather", &minsei_headers, &form(&csrf_m, "")).await.0,
        StatusCode::FORBIDDEN
    );

    let (status, _, _) = app
        .raw(Method::POST, "/weather", &headers, &form(&csrf, "&heavy_snow_warning=on&avalanche_advisory=on"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let pull = app.pull(&tablet, 0).await;
    assert_eq!(kinds(&pull).iter().filter(|k| *k == "weather").count(), 2);
    let manual = pull["items"].as_array().unwrap().iter().rev().find(|i| i["kind"] == "weather").unwrap();
    assert_eq!(
        (manual["body"]["source"].as_str(), manual["body"]["weather_text"].as_str()),
        (Some("manual"), Some(text))
    );
    assert_eq!(manual["body"]["warnings"], json!(["大雪警報", "なだれ注意報"]));
    let (_, _, page) = app.raw(Method::GET, "/weather", &[("cookie", staff.as_str())], "").await;
    assert!(
        page.contains("&#60;i&#62;") && !page.contains("<i>") && page.contains("手動の設定をやめる"),
        "{page}"
    );

    // While the override stands, a new fetch is kept but not sent.
    jma.choose(Some("lifted"));
    let tomorrow = now + chrono::Duration::days(1);
    assert!(!backend::weather::refresh(&app.store, &client, &jma.config(), tomorrow).await.unwrap());
    let cursor = app.pull(&tablet, 0).await["cursor"].as_u64().unwrap();
    assert_eq!(app.raw(Method::POST, "/weather/clear", &headers, "csrf=").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        app.raw(Method::POST, "/weather/clear", &headers, &format!("csrf={csrf}")).await.0,
        StatusCode::SEE_OTHER
    );
    let after = app.pull(&tablet, cursor).await;
    assert_eq!(kinds(&after), ["weather"]);
    assert_eq!(
        (after["items"][0]["body"]["source"].as_str(), after["items"][0]["body"]["date"].as_str()),
        (Some("jma"), Some("2026-11-29"))
    );
    assert_eq!(
        app.raw(Method::POST, "/weather/clear", &headers, &format!("csrf={csrf}")).await.0,
        StatusCode::NOT_FOUND
    );
}
