//! The weather fetcher: the Japan Meteorological Agency's public forecast and warning
//! JSON for the town, turned into one `wire::WeatherReport` a day, kept in the store
//! and sent to tablets when it changes.
//!
//! Never fails hard: when the agency cannot be reached or answers with something
//! unreadable, the last report stays in force and the failure is logged (URLs and
//! statuses only: weather carries no personal data, and none is ever logged here).
//! Parsing is pure ([`parse_forecast`], [`parse_warnings`], [`parse_amedas_snow`]) and
//! tested on recorded files in the agency's shape. The snow depth comes from the town's
//! AMeDAS station; without it the report still goes out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

use crate::clock::{Clock, local_day};
use crate::config::WeatherConfig;
use crate::store::Store;

/// Why a fetch gave no report.
#[derive(Debug, thiserror::Error)]
pub enum WeatherError {
    #[error("fetching {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{what} is not in the agency's shape: {reason}")]
    Shape { what: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn shape(what: &'static str, reason: impl Into<String>) -> WeatherError {
    WeatherError::Shape { what, reason: reason.into() }
}

/// The forecast part of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forecast {
    pub weather_code: String,
    pub weather_text: String,
    pub temp_min_c: Option<i32>,
    pub temp_max_c: Option<i32>,
}

/// A warning or advisory in force: the agency's code and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warning {
    pub code: &'static str,
    pub name: &'static str,
}

/// The agency's warning codes (気象警報・注意報) and their names.
const WARNINGS: &[(&str, &str)] = &[
    ("02", "暴風雪警報"),
    ("03", "大雨警報"),
    ("04", "洪水警報"),
    ("05", "暴風警報"),
    ("06", "大雪警報"),
    ("07", "波浪警報"),
    ("08", "高潮警報"),
    ("10", "大雨注意報"),
    ("12", "大雪注意報"),
    ("13", "風雪注意報"),
    ("14", "雷注意報"),
    ("15", "強風注意報"),
    ("16", "波浪注意報"),
    ("17", "融雪注意報"),
    ("18", "洪水注意報"),
    ("19", "高潮注意報"),
    ("20", "濃霧注意報"),
    ("21", "乾燥注意報"),
    ("22", "なだれ注意報"),
    ("23", "低温注意報"),
    ("24", "霜注意報"),
    ("25", "着氷注意報"),
    ("26", "着雪注意報"),
    ("27", "その他の注意報"),
    ("32", "暴風雪特別警報"),
    ("33", "大雨特別警報"),
    ("35", "暴風特別警報"),
    ("36", "大雪特別警報"),
];

/// The local day of an agency time stamp (`2026-11-28T05:00:00+09:00`).
fn day_and_time(stamp: &str) -> Option<(NaiveDate, NaiveTime)> {
    let t = DateTime::parse_from_rfc3339(stamp).ok()?;
    let local = t.with_timezone(&crate::clock::town_offset());
    Some((local.date_naive(), local.time()))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array().map(|a| a.iter().map(|x| x.as_str().unwrap_or("")).collect()).unwrap_or_default()
}

/// Each time series of each report in the file, with its time stamps.
fn series(root: &Value) -> impl Iterator<Item = (usize, Vec<&str>, &Vec<Value>)> {
    root.as_array().into_iter().flatten().enumerate().flat_map(|(i, report)| {
        report["timeSeries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(move |ts| Some((i, strings(&ts["timeDefines"]), ts["areas"].as_array()?)))
    })
}

fn area<'a>(areas: &'a [Value], code: &str) -> Option<&'a Value> {
    areas.iter().find(|a| a["area"]["code"].as_str() == Some(code))
}

fn temp(s: &str) -> Option<i32> {
    s.trim().parse().ok()
}

/// Today's weather for `forecast_area` and temperatures at `station` from the
/// agency's forecast file (`forecast/{office}.json`): the short-range report first
/// (its 00:00 temperature is the morning low, 09:00 the daytime high), the weekly
/// report for what the short-range one lacks.
pub fn parse_forecast(
    json: &str,
    forecast_area: &str,
    station: &str,
    day: NaiveDate,
) -> Result<Forecast, WeatherError> {
    let root: Value = serde_json::from_str(json).map_err(|e| shape("forecast", e.to_string()))?;
    if !root.is_array() {
        return Err(shape("forecast", "not a list of reports"));
    }
    let mut weather = None;
    let (mut short_min, mut short_max, mut week_min, mut week_max) = (None, None, None, None);
    for (report, times, areas) in series(&root) {
        let on_day = |i: usize| times.get(i).and_then(|t| day_and_time(t)).filter(|(d, _)| *d == day);
        if let Some(a) = area(areas, forecast_area).filter(|a| a.get("weatherCodes").is_some()) {
            let (codes, texts) = (strings(&a["weatherCodes"]), strings(&a["weathers"]));
            // The short-range report names the weather in words; the weekly has codes only.
            let found = (0..codes.len()).find(|&i| on_day(i).is_some()).map(|i| {
                let text = texts.get(i).map(|t| t.replace('\u{3000}', " ")).unwrap_or_default();
                (report, codes[i].to_owned(), text)
            });
            if weather.as_ref().is_none_or(|(r, _, _)| *r > report) && found.is_some() {
                weather = found;
            }
        }
        let Some(a) = area(areas, station) else { continue };
        if let Some(temps) = a.get("temps") {
            for (i, value) in strings(temps).into_iter().enumerate() {
                match on_day(i) {
                    Some((_, t)) if t == NaiveTime::MIN => short_min = short_min.or(temp(value)),
                    Some((_, t)) if t == NaiveTime::from_hms_opt(9, 0, 0).expect("literal") => {
                        short_max = short_max.or(temp(value))
                    }
                    _ => {}
                }
            }
        }
        if a.get("tempsMin").is_some() {
            let (mins, maxs) = (strings(&a["tempsMin"]), strings(&a["tempsMax"]));
            if let Some(i) = (0..times.len()).find(|&i| on_day(i).is_some()) {
                week_min = mins.get(i).and_then(|v| temp(v));
                week_max = maxs.get(i).and_then(|v| temp(v));
            }
        }
    }
    let (_, weather_code, weather_text) =
        weather.ok_or_else(|| shape("forecast", format!("no weather for area {forecast_area} on {day}")))?;
    Ok(Forecast {
        weather_code,
        weather_text,
        temp_min_c: short_min.or(week_min),
        temp_max_c: short_max.or(week_max),
    })
}

/// The warnings and advisories in force for `area` (a municipality code) in the
/// agency's warning file (`warning/{office}.json`). Lifted ones (解除) are not in force.
pub fn parse_warnings(json: &str, area: &str) -> Result<Vec<Warning>, WeatherError> {
    let root: Value = serde_json::from_str(json).map_err(|e| shape("warnings", e.to_string()))?;
    let types = root["areaTypes"].as_array().ok_or_else(|| shape("warnings", "no areaTypes"))?;
    let town = types
        .iter()
        .filter_map(|t| t["areas"].as_array())
        .flatten()
        .find(|a| a["code"].as_str() == Some(area))
        .ok_or_else(|| shape("warnings", format!("area {area} is not listed")))?;
    let mut out = Vec::new();
    for w in town["warnings"].as_array().into_iter().flatten() {
        let status = w["status"].as_str().unwrap_or("");
        if matches!(status, "解除" | "発表警報・注意報はなし") {
            continue;
        }
        if let Some(&(code, name)) = WARNINGS.iter().find(|(c, _)| Some(*c) == w["code"].as_str())
            && !out.iter().any(|x: &Warning| x.code == code)
        {
            out.push(Warning { code, name });
        }
    }
    Ok(out)
}

/// One report from a forecast and the warnings in force.
pub fn report(
    day: NaiveDate,
    forecast: Forecast,
    warnings: &[Warning],
    source: wire::WeatherSource,
    fetched_at: DateTime<Utc>,
) -> wire::WeatherReport {
    let any = |codes: &[&str]| warnings.iter().any(|w| codes.contains(&w.code));
    wire::WeatherReport {
        date: day,
        weather_code: forecast.weather_code,
        weather_text: forecast.weather_text,
        temp_min_c: forecast.temp_min_c,
        temp_max_c: forecast.temp_max_c,
        heavy_snow_warning: any(&["06", "36"]),
        heavy_snow_advisory: any(&["12"]),
        storm_warning: any(&["02", "05", "32", "35"]),
        heavy_rain_warning: any(&["03", "33"]),
        snowstorm_advisory: any(&["13"]),
        avalanche_advisory: any(&["22"]),
        low_temperature_advisory: any(&["23"]),
        snow_accretion_advisory: any(&["26"]),
        warnings: warnings.iter().map(|w| w.name.to_owned()).collect(),
        snow_depth_cm: None,
        source,
        fetched_at,
    }
}

/// The snow depth (cm) at AMeDAS `station` in the agency's hourly map file
/// (`amedas/data/map/YYYYMMDDHH0000.json`: `{"35361": {"snow": [126, 0], …}}`). A
/// reading with a quality flag other than 0 (normal) is no reading.
pub fn parse_amedas_snow(json: &str, station: &str) -> Result<Option<u32>, WeatherError> {
    let root: Value = serde_json::from_str(json).map_err(|e| shape("amedas", e.to_string()))?;
    let point =
        root.get(station).ok_or_else(|| shape("amedas", format!("station {station} is not listed")))?;
    Ok(match point.get("snow").and_then(Value::as_array).map(Vec::as_slice) {
        Some([depth, quality]) if quality.as_i64() == Some(0) => {
            depth.as_f64().filter(|d| (0.0..2000.0).contains(d)).map(|d| d.round() as u32)
        }
        _ => None,
    })
}

/// The hourly map file for the agency's latest observation time
/// (`2026-11-28T06:50:00+09:00` → `20261128060000`): snow depth is measured on the hour.
pub fn amedas_hour_file(latest_time: &str) -> Result<String, WeatherError> {
    let t =
        DateTime::parse_from_rfc3339(latest_time.trim()).map_err(|e| shape("amedas time", e.to_string()))?;
    Ok(t.format("%Y%m%d%H0000").to_string())
}

/// The town station's snow depth now; `None` (logged) when the agency has none, so a
/// missing reading never holds back the forecast and the warnings.
async fn snow_depth(client: &reqwest::Client, config: &WeatherConfig) -> Option<u32> {
    let base = config.base_url.trim_end_matches('/');
    let read = async {
        let latest = get(client, format!("{base}/bosai/amedas/data/latest_time.txt")).await?;
        let map =
            get(client, format!("{base}/bosai/amedas/data/map/{}.json", amedas_hour_file(&latest)?)).await?;
        parse_amedas_snow(&map, &config.snow_station)
    };
    match read.await {
        Ok(depth) => depth,
        Err(e) => {
            tracing::warn!(error = %e, "no snow depth from AMeDAS; the report goes without it");
            None
        }
    }
}

/// Names of the flags a report carries, for staff pages.
pub fn flag_names(r: &wire::WeatherReport) -> Vec<&'static str> {
    [
        (r.heavy_snow_warning, "大雪警報"),
        (r.heavy_snow_advisory, "大雪注意報"),
        (r.storm_warning, "暴風(雪)警報"),
        (r.heavy_rain_warning, "大雨警報"),
        (r.snowstorm_advisory, "風雪注意報"),
        (r.avalanche_advisory, "なだれ注意報"),
        (r.low_temperature_advisory, "低温注意報"),
        (r.snow_accretion_advisory, "着雪注意報"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

async fn get(client: &reqwest::Client, url: String) -> Result<String, WeatherError> {
    let resp =
        client.get(&url).send().await.map_err(|source| WeatherError::Http { url: url.clone(), source })?;
    if !resp.status().is_success() {
        return Err(WeatherError::Status { url, status: resp.status().as_u16() });
    }
    resp.text().await.map_err(|source| WeatherError::Http { url, source })
}

/// Fetches both files and makes today's report.
pub async fn fetch(
    client: &reqwest::Client,
    config: &WeatherConfig,
    now: DateTime<Utc>,
) -> Result<wire::WeatherReport, WeatherError> {
    let base = config.base_url.trim_end_matches('/');
    let forecast = get(client, format!("{base}/bosai/forecast/data/forecast/{}.json", config.office)).await?;
    let warnings = get(client, format!("{base}/bosai/warning/data/warning/{}.json", config.office)).await?;
    let day = local_day(now);
    let forecast = parse_forecast(&forecast, &config.forecast_area, &config.temperature_station, day)?;
    let warnings = parse_warnings(&warnings, &config.warning_area)?;
    let mut r = report(day, forecast, &warnings, wire::WeatherSource::Jma, now);
    r.snow_depth_cm = snow_depth(client, config).await;
    Ok(r)
}

/// Whether two reports say the same (ignoring when they were fetched).
fn same_content(a: &wire::WeatherReport, b: &wire::WeatherReport) -> bool {
    wire::WeatherReport { fetched_at: b.fetched_at, ..a.clone() } == *b
}

/// One fetch, kept in the store; sent to tablets when it says something new.
/// On failure nothing changes: the last report stays in force.
pub async fn refresh(
    store: &Store,
    client: &reqwest::Client,
    config: &WeatherConfig,
    now: DateTime<Utc>,
) -> Result<bool, WeatherError> {
    let fresh = fetch(client, config, now).await?;
    let s = store.clone();
    let last = tokio::task::spawn_blocking(move || s.weather())
        .await
        .map_err(|_| shape("store", "task failed"))??
        .fetched
        .and_then(|b| serde_json::from_str::<wire::WeatherReport>(&b).ok());
    let changed = last.is_none_or(|l| !same_content(&l, &fresh));
    let body = serde_json::to_string(&fresh).map_err(|e| shape("report", e.to_string()))?;
    let s = store.clone();
    Ok(tokio::task::spawn_blocking(move || s.save_fetched_weather(&body, changed, now))
        .await
        .map_err(|_| shape("store", "task failed"))??)
}

/// An HTTP client for the agency: short timeouts, so a hung connection cannot
/// hold the loop.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("mimamori-backend/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Fetches at once and then every `interval_secs` until `shutdown` fires.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    config: WeatherConfig,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let client = client();
    let mut ticks = tokio::time::interval(Duration::from_secs(config.interval_secs.max(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => return,
        }
        // A fetch in flight never holds up shutdown.
        let result = tokio::select! {
            r = refresh(&store, &client, &config, clock.now()) => r,
            _ = shutdown.changed() => return,
        };
        match result {
            Ok(sent) => tracing::info!(sent, "weather fetched"),
            Err(e) => tracing::warn!(error = %e, "weather fetch failed; keeping the last report"),
        }
    }
}
