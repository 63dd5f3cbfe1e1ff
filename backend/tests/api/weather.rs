//! Weather: the agency's JSON and the Ministry of the Environment's WBGT forecast
//! (recorded files in their shapes, served from a local HTTP server on port 0) parsed
//! into reports, fetched in the background of a real server, kept when the agency is
//! unreachable, and overridden by staff.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use backend::clock::{ManualClock, at_local};
use backend::config::WeatherConfig;
use backend::password::hash_password;
use backend::store::Role;
use backend::weather::{
    WeatherError, amedas_hour_file, parse_amedas_snow, parse_forecast, parse_heat_alerts, parse_warnings,
    parse_wbgt_forecast,
};
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
        _ => "bosai/warning/data/r8/060000.json",
    };
    std::fs::read_to_string(fixtures(set).join(path)).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// A day of the summer set (`heat`).
fn aug(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 8, d).unwrap()
}

fn recorded(set: &str, path: &str) -> String {
    std::fs::read_to_string(fixtures(set).join(path)).unwrap()
}

/// A stand-in for www.jma.go.jp and www.wbgt.env.go.jp: serves one fixture set's files
/// by path (404 for a file the set lacks), or 503 when no set is chosen (the sites
/// unreachable).
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
        WeatherConfig {
            base_url: self.base_url.clone(),
            wbgt_base_url: self.base_url.clone(),
            interval_secs: 1,
            ..Default::default()
        }
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

    let names = |set, area| {
        parse_warnings(&file(set, "warning"), area).unwrap().iter().map(|w| w.name).collect::<Vec<_>>()
    };
    // Two reports, the newer first in the file: the evening's 雷注意報 lifted and its
    // 大雪注意報 switched to 大雪警報 in the morning's.
    assert_eq!(
        names("snow", "0632400"),
        ["大雪警報", "風雪注意報", "なだれ注意報", "低温注意報"],
        "雷注意報 was lifted"
    );
    assert_eq!(names("snow", "0620100"), ["大雪注意報", "風雪注意報"], "山形市's own");
    assert!(names("lifted", "0632400").is_empty(), "all lifted in the town");
    assert_eq!(names("lifted", "0620100"), ["大雪注意報", "風雪注意報"], "山形市's go on");
    assert!(names("heat", "0632400").is_empty(), "発表警報・注意報はなし");
    assert_eq!(names("heat", "0620100"), ["レベル2大雨注意報", "雷注意報"], "山形市's, in the table's order");
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
    assert!(
        shape(parse_warnings(&file("snow", "warning"), "060010").map(|_| ())),
        "a forecast area (class10Items) is not a municipality"
    );
}

/// A warning file of one report per `(reportDatetime, kinds of 0632400)`.
fn warning_file(reports: &[(&str, serde_json::Value)]) -> String {
    let reports: Vec<_> = reports
        .iter()
        .map(|(at, kinds)| {
            json!({
                "reportDatetime": at,
                "headlineText": "",
                "warning": {
                    "class10Items": [{ "areaCode": "060010", "kinds": [{ "code": "14", "status": "発表" }] }],
                    "class20Items": [
                        { "areaCode": "0620100", "kinds": [{ "code": "15", "status": "発表" }] },
                        { "areaCode": "0632400", "kinds": kinds },
                    ],
                },
            })
        })
        .collect();
    serde_json::Value::from(reports).to_string()
}

#[test]
fn the_last_status_of_each_kind_for_the_town_says_what_is_in_force() {
    let check = |reports: &[(&str, serde_json::Value)], expected: &[&str], why: &str| {
        let json = warning_file(reports);
        let names: Vec<_> = parse_warnings(&json, "0632400").unwrap().iter().map(|w| w.name).collect();
        assert_eq!(names, expected, "{why}: {json}");
    };
    let (evening, night, morning) =
        ("2026-12-06T16:10:00+09:00", "2026-12-06T22:35:00+09:00", "2026-12-07T05:02:00+09:00");
    let kinds = |ks: &[(&str, &str)]| {
        json!(ks.iter().map(|(c, s)| json!({"code": c, "status": s})).collect::<Vec<_>>())
    };

    check(&[(evening, kinds(&[("14", "発表")]))], &["雷注意報"], "発表 is in force");
    check(&[(evening, kinds(&[("14", "継続")]))], &["雷注意報"], "継続 is in force");
    check(&[(evening, kinds(&[("06", "切替")]))], &["大雪警報"], "切替 is in force");
    check(&[(evening, kinds(&[("14", "解除")]))], &[], "解除 is not");
    check(&[(evening, json!([{ "status": "発表警報・注意報はなし" }]))], &[], "nothing in force (no code)");
    check(&[(evening, kinds(&[("14", "発表警報・注意報はなし")]))], &[], "nothing in force (a code)");
    check(
        &[(evening, kinds(&[("14", "発表")])), (morning, json!([{ "status": "発表警報・注意報はなし" }]))],
        &[],
        "a newer なし without a code clears an older 発表",
    );
    check(&[(evening, json!([]))], &[], "listed with no kinds");
    check(
        &[(evening, kinds(&[("14", "発表")])), (morning, kinds(&[("14", "解除")]))],
        &[],
        "a newer 解除 wins over an older 発表",
    );
    check(
        &[(morning, kinds(&[("14", "解除")])), (evening, kinds(&[("14", "発表")]))],
        &[],
        "whatever the order in the file",
    );
    check(
        &[(morning, kinds(&[("12", "発表")])), (evening, kinds(&[("12", "解除")]))],
        &["大雪注意報"],
        "and a newer 発表 over an older 解除",
    );
    check(
        &[
            (morning, kinds(&[("06", "切替"), ("12", "解除"), ("14", "解除")])),
            (evening, kinds(&[("12", "発表"), ("14", "発表")])),
            (night, kinds(&[("12", "継続"), ("14", "継続"), ("23", "発表")])),
        ],
        &["大雪警報", "低温注意報"],
        "three reports: each code's newest status",
    );
    check(
        &[(evening, kinds(&[("03", "発表")])), (morning, kinds(&[("09", "発表")]))],
        &["レベル3大雨警報", "レベル3土砂災害警報"],
        "a code a newer report does not list keeps its status",
    );
    check(
        &[(evening, kinds(&[("99", "発表"), ("22", "発表"), ("", "発表")]))],
        &["なだれ注意報"],
        "an unknown code is passed over",
    );
    check(
        &[(evening, kinds(&[("14", "発表"), ("43", "発表"), ("06", "継続"), ("36", "発表")]))],
        &["大雪特別警報", "レベル4大雨危険警報", "大雪警報", "雷注意報"],
        "gravest first",
    );
    // Unknown keys are noise.
    let noisy = r#"[{"reportDatetime":"2026-12-07T05:02:00+09:00","controlDatetime":"x","editorial":{"a":1},
        "warning":{"class20Items":[{"areaCode":"0632400","areaName":"西川町","kinds":[{"code":"06","status":"発表",
        "properties":[{"type":"降雪の深さ","localAreas":[]}],"attentions":["交通障害"]}]}]}}]"#;
    assert_eq!(parse_warnings(noisy, "0632400").unwrap().iter().map(|w| w.code).collect::<Vec<_>>(), ["06"]);

    // The old system's frozen file (an object with areaTypes), even listing the town
    // with nothing in force, must never read as "no warnings".
    let frozen = r#"{"reportDatetime":"2026-05-28T10:00:00+09:00","publishingOffice":"山形地方気象台",
        "areaTypes":[{"areas":[{"code":"060010","warnings":[{"status":"発表警報・注意報はなし"}]}]},
        {"areas":[{"code":"0632400","warnings":[{"status":"発表警報・注意報はなし"}]}]}]}"#;
    for bad in [
        frozen.to_owned(),
        format!("[{frozen}]"),
        warning_file(&[("yesterday", kinds(&[("14", "発表")]))]),
        warning_file(&[]),
        r#"[{"reportDatetime":"2026-12-07T05:02:00+09:00","warning":{"class20Items":{}}}]"#.to_owned(),
        r#"{"0632400":[{"code":"06","status":"発表"}]}"#.to_owned(),
    ] {
        let r = parse_warnings(&bad, "0632400");
        assert!(matches!(r, Err(WeatherError::Shape { .. })), "{bad}: {r:?}");
    }
}

#[test]
fn heavy_rain_means_heavy_rain_or_landslide_warnings_of_level_3_and_above() {
    let w = |codes: &str| {
        let kinds: Vec<_> = codes
            .split(' ')
            .filter(|c| !c.is_empty())
            .map(|c| json!({"code": c, "status": "発表"}))
            .collect();
        let json = warning_file(&[("2026-12-07T05:02:00+09:00", json!(kinds))]);
        let warnings = parse_warnings(&json, "0632400").unwrap();
        let forecast = parse_forecast(&file("snow", "forecast"), "060010", "35426", day(28)).unwrap();
        backend::weather::report(day(28), forecast, &warnings, wire::WeatherSource::Jma, local(7, 0))
    };
    for codes in ["03", "43", "33", "09", "49", "39"] {
        assert!(w(codes).heavy_rain_warning, "{codes}");
    }
    for codes in ["", "10", "29", "04", "18", "08"] {
        assert!(!w(codes).heavy_rain_warning, "{codes}");
    }
    let r = w("02 06 12 13 22 23 26");
    assert!(
        r.storm_warning
            && r.heavy_snow_warning
            && r.heavy_snow_advisory
            && r.snowstorm_advisory
            && r.avalanche_advisory
            && r.low_temperature_advisory
            && r.snow_accretion_advisory
    );
    assert!(w("36").heavy_snow_warning && w("32").storm_warning && w("35").storm_warning);
    assert_eq!(w("05 49").warnings, ["レベル4土砂災害危険警報", "暴風警報"]);
}

#[test]
fn the_ministrys_wbgt_forecast_gives_the_days_highest() {
    let file = recorded("heat", "prev15WG/dl/yohou_35426.csv");
    let check = |csv: &str, point: &str, day: NaiveDate, expected: Option<f32>, why: &str| {
        assert_eq!(parse_wbgt_forecast(csv, point, day).unwrap(), expected, "{why}: {csv:?}");
    };
    check(&file, "35426", aug(5), Some(32.0), "noon is the 5th's highest");
    check(&file, "35426", aug(6), Some(30.5), "the 6th's, its blank 15:00 passed over");
    check(&file, "35426", aug(7), Some(29.0), "the day after tomorrow");
    check(&file, "35426", aug(4), None, "yesterday is not in the file");
    check(&file, "35426", aug(8), None, "nor is the 8th");
    let midnight = ",,2026080521,2026080524,2026080603\n35426,2026/08/05 17:25,250,270,300\n";
    check(midnight, "35426", aug(5), Some(27.0), "hour 24 ends the 5th");
    check(midnight, "35426", aug(6), Some(30.0), "03:00 is the 6th's");
    let others = ",,2026080512,2026080515\n47662,2026/08/05 05:25,330,340\n35426,2026/08/05 05:25,300,310\n";
    check(others, "35426", aug(5), Some(31.0), "the town's row among others");
    check(others, "47662", aug(5), Some(34.0), "another point's own row");
    let trailing = "\u{feff},,2026080512,2026080515,\r\n35426,2026/08/05 05:25,,,\r\n";
    check(trailing, "35426", aug(5), None, "blank cells only (a BOM, CRLF and a trailing comma)");
    check(
        ",,2026080512,2026080515\n35426,x,-999,310\n",
        "35426",
        aug(5),
        Some(31.0),
        "a negative is no value",
    );
    check(",,2026080512,2026080515\n35426,x,999,\n", "35426", aug(5), None, "99.9 °C is no value");

    for bad in [
        "",
        "\r\n\r\n",
        "<!DOCTYPE html><html><body>メンテナンス中</body></html>",
        "2026080512,2026080515\n35426,x,300,310\n",
        ",,\n35426,x\n",
        ",,tomorrow\n35426,x,300\n",
        ",,2026083212\n35426,x,300\n",
        ",,2026080527\n35426,x,300\n",
        ",,2026080512\n35426,x,abc\n",
        ",,2026080512\n35426,x,31.5\n",
        ",,2026080512,2026080515\n47662,x,300,310\n",
        ",,2026080512,2026080515\n",
    ] {
        let r = parse_wbgt_forecast(bad, "35426", aug(5));
        assert!(matches!(r, Err(WeatherError::Shape { .. })), "{bad:?}: {r:?}");
    }
}

#[test]
fn heat_alerts_are_the_prefectures_own_for_the_day() {
    let summer = recorded("heat", "bosai/information/data/r8/information.json");
    let winter = recorded("snow", "bosai/information/data/r8/information.json");
    let check = |json: &str, office: &str, day: NaiveDate, expected: bool, why: &str| {
        assert_eq!(parse_heat_alerts(json, office, day).unwrap(), expected, "{why}");
    };
    check(&summer, "060000", aug(5), true, "山形's alert for the 5th");
    check(&summer, "060000", aug(6), false, "none yet for the 6th");
    check(&summer, "060000", aug(4), false, "nor for yesterday (its 17:00 alert is for the 5th)");
    check(&summer, "070000", aug(5), false, "福島 has a 府県気象情報 only");
    check(&summer, "050000", aug(6), true, "秋田's, named in areaCodes, for the 6th");
    check(&summer, "050000", aug(5), false, "秋田's is for the 6th");
    check(&summer, "040000", aug(5), false, "宮城's says 解除");
    check(&winter, "060000", day(28), false, "a winter list has no heat alert");
    let special = r#"[{"controlTitle":"熱中症特別警戒アラート","headTitle":"山形県　熱中症特別警戒アラート",
        "reportDatetime":"2026-08-04T14:00:00+09:00","areaCode":"060000"}]"#;
    check(
        special,
        "060000",
        aug(5),
        true,
        "特別警戒アラート, dated by its report time: 14:00 is for the next day",
    );
    check(special, "060000", aug(4), false, "not its own");
    check(special, "060000", aug(6), false, "and only that day");
    let utc = r#"[{"controlTitle":"熱中症警戒アラート","targetDatetime":"2026-08-04T15:00:00Z","areaCode":"060000"}]"#;
    check(utc, "060000", aug(5), true, "a UTC time is read in the town's time");
    let undated = r#"[{"controlTitle":"熱中症警戒アラート","areaCode":"060000"}]"#;
    check(undated, "060000", aug(5), false, "an alert with no day is for no day");
    check("[]", "060000", aug(5), false, "an empty list");

    // The r8 list's items may carry no targetDatetime: the day is read from the report
    // time, 14:00 and after being for the next day.
    let reported = |at: &str| {
        json!([{ "controlTitle": "熱中症警戒アラート", "headTitle": "山形県　熱中症警戒アラート",
            "reportDatetime": at, "validDatetime": null, "eventId": "x", "infoType": "発表",
            "areaType": "offices", "areaCode": "060000", "jsonName": "x.json" }])
        .to_string()
    };
    let cases = [
        ("2026-08-04T17:00:00+09:00", aug(5), true, "17:00 the day before is for today"),
        ("2026-08-04T17:00:00+09:00", aug(4), false, "not for the day it was reported"),
        ("2026-08-05T05:00:00+09:00", aug(5), true, "05:00 today is for today"),
        ("2026-08-05T05:00:00+09:00", aug(6), false, "and not tomorrow"),
        ("2026-08-05T17:00:00+09:00", aug(5), false, "17:00 today is not for today"),
        ("2026-08-05T17:00:00+09:00", aug(6), true, "but for tomorrow"),
        ("2026-08-05T13:59:00+09:00", aug(5), true, "13:59 is the same day"),
        ("2026-08-05T14:00:00+09:00", aug(6), true, "14:00 is the next"),
        ("2026-08-05T08:00:00Z", aug(6), true, "a UTC report time is read at +09:00 (17:00)"),
        ("2026-08-04T20:00:00Z", aug(5), true, "05:00 on the 5th at +09:00"),
    ];
    for (at, on, expected, why) in cases {
        check(&reported(at), "060000", on, expected, &format!("{why} ({at})"));
    }
    let null_target = r#"[{"controlTitle":"熱中症警戒アラート","headTitle":"山形県　熱中症警戒アラート",
        "reportDatetime":"2026-08-04T17:00:00+09:00","targetDatetime":null,"areaCode":"060000"}]"#;
    check(null_target, "060000", aug(5), true, "a null targetDatetime is none");
    let both = r#"[{"controlTitle":"熱中症警戒アラート","headTitle":"山形県　熱中症警戒アラート",
        "reportDatetime":"2026-08-05T17:00:00+09:00","targetDatetime":"2026-08-05T00:00:00+09:00","areaCode":"060000"}]"#;
    check(both, "060000", aug(5), true, "a targetDatetime, when there, says the day");
    check(both, "060000", aug(6), false, "over the report time");
    let lifted = r#"[{"controlTitle":"熱中症警戒アラート","headTitle":"山形県　熱中症警戒アラート（解除）",
        "reportDatetime":"2026-08-04T17:00:00+09:00","areaCode":"060000"}]"#;
    check(lifted, "060000", aug(5), false, "解除 without a targetDatetime");

    for bad in ["", "null", "{}", "7", r#"{"items":[]}"#, "<html>メンテナンス中</html>"] {
        let r = parse_heat_alerts(bad, "060000", aug(5));
        assert!(matches!(r, Err(WeatherError::Shape { .. })), "{bad:?}: {r:?}");
    }
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

/// A resident's tablet enrolled on the server at `addr`: its authorization header.
async fn enrolled_tablet(
    addr: std::net::SocketAddr,
    store: &backend::store::Store,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
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
    let r = store.add_resident(&r, now).unwrap();
    let code = store.create_enrolment_code(Some(r), now).unwrap();
    let (_, body) = request(addr, "POST", "/api/v1/enrol", "", &json!({ "code": code }).to_string()).await;
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    format!("Authorization: Bearer {}\r\n", token["device_token"].as_str().unwrap())
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
    let auth = enrolled_tablet(addr, &store, local(7, 0)).await;

    until("the first report", || async { weather_items(addr, &auth).await.len() == 1 }).await;
    let first = &weather_items(addr, &auth).await[0];
    assert_eq!(first["date"], "2026-11-28");
    assert_eq!((first["weather_code"].as_str(), first["temp_min_c"].as_i64()), (Some("400"), Some(-3)));
    assert_eq!((first["heavy_snow_warning"].as_bool(), first["source"].as_str()), (Some(true), Some("jma")));
    assert_eq!(first["snow_depth_cm"].as_u64(), Some(126), "大井沢's depth from AMeDAS");
    assert!(first["wbgt_max_c"].is_null(), "no WBGT file in winter (404): the report goes without it");
    assert_eq!(first["heatstroke_alert"], false, "the winter list has no heat alert");
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
async fn a_summer_report_carries_the_days_heat_index_and_the_heat_alert() {
    let jma = FakeJma::start("heat").await;
    let dir = tempfile::tempdir().unwrap();
    let seven = at_local(aug(5), chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap());
    let (addr, store, _stop) = spawn_app_with(&dir, ManualClock::new(seven), jma.config()).await;
    let auth = enrolled_tablet(addr, &store, seven).await;

    until("the summer report", || async { weather_items(addr, &auth).await.len() == 1 }).await;
    let sent: wire::WeatherReport =
        serde_json::from_value(weather_items(addr, &auth).await.remove(0)).unwrap();
    assert_eq!(
        (sent.date, sent.weather_code.as_str(), sent.weather_text.as_str(), sent.temp_min_c, sent.temp_max_c),
        (aug(5), "100", "晴れ", Some(24), Some(35))
    );
    assert_eq!(sent.wbgt_max_c, Some(32.0), "the day's highest at 山形 (35426)");
    assert!(sent.heatstroke_alert, "山形県's 熱中症警戒アラート for the 5th");
    assert!(sent.warnings.is_empty() && !sent.heavy_rain_warning, "no warnings in the town");
    assert_eq!(sent.snow_depth_cm, None, "no AMeDAS file in the set: still sent");
}

/// The agency's list and the ministry's file unreadable at noon (the `heat-partial`
/// set has only the forecast and the warnings): the report keeps the morning's heat
/// alert and today's highest WBGT, and sends nothing new; the next day nothing carries.
#[tokio::test]
async fn a_heat_alert_or_index_that_cannot_be_read_keeps_todays_last_word() {
    let jma = FakeJma::start("heat").await;
    let app = TestApp::new();
    let client = backend::weather::client();
    let config = jma.config();
    let at = |d: NaiveDate, h: u32| at_local(d, chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap());
    let kept = || -> wire::WeatherReport {
        serde_json::from_str(&app.store.weather().unwrap().fetched.unwrap()).unwrap()
    };
    assert!(backend::weather::refresh(&app.store, &client, &config, at(aug(5), 7)).await.unwrap());
    assert!(kept().heatstroke_alert && kept().wbgt_max_c == Some(32.0));
    jma.choose(Some("heat-partial"));
    let sent = backend::weather::refresh(&app.store, &client, &config, at(aug(5), 12)).await.unwrap();
    assert!(kept().heatstroke_alert, "the list unreadable: the alert stays");
    assert_eq!(kept().wbgt_max_c, Some(32.0), "the ministry's file gone: today's highest stays");
    assert!(!sent, "nothing new for the tablets");
    assert!(backend::weather::refresh(&app.store, &client, &config, at(aug(6), 7)).await.unwrap());
    assert!(!kept().heatstroke_alert && kept().wbgt_max_c.is_none(), "a new day: {:?}", kept());
}

#[tokio::test]
async fn the_weather_page_shows_the_heat_index_and_the_heat_alert() {
    let jma = FakeJma::start("heat").await;
    let app = TestApp::new();
    app.store.add_user("staff", &hash_password("pw"), Role::Staff, None, app.clock_now()).unwrap();
    let (staff, _) = login(&app, "staff").await;
    let page = || async { app.raw(Method::GET, "/weather", &[("cookie", staff.as_str())], "").await.2 };
    let client = backend::weather::client();
    let morning = at_local(aug(5), chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap());
    assert!(backend::weather::refresh(&app.store, &client, &jma.config(), morning).await.unwrap());
    let shown = page().await;
    assert!(shown.contains("<dt>暑さ指数</dt><dd>32.0℃</dd>"), "{shown}");
    assert!(shown.contains("<dt>警報・注意報</dt><dd>熱中症警戒アラート</dd>"), "{shown}");

    // In winter the ministry serves no forecast: a dash, and no alert.
    jma.choose(Some("snow"));
    assert!(backend::weather::refresh(&app.store, &client, &jma.config(), local(7, 0)).await.unwrap());
    let shown = page().await;
    assert!(shown.contains("<dt>暑さ指数</dt><dd>-</dd>") && !shown.contains("熱中症"), "{shown}");
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
