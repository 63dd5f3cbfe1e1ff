//! The weather fetcher: the Japan Meteorological Agency's public forecast and warning
//! JSON for the town, turned into one `wire::WeatherReport` a day, kept in the store
//! and sent to tablets when it changes.
//!
//! The agency's files read (under `base_url`): the forecast
//! (`bosai/forecast/data/forecast/{office}.json`), the warnings and advisories of the
//! 防災気象情報 system in force since 2026-05-28 (令和8年体系:
//! `bosai/warning/data/r8/{office}.json`) and its list of information
//! (`bosai/information/data/r8/information.json`). The old system's files
//! (`bosai/warning/data/warning/{office}.json`, `bosai/information/data/information.json`)
//! are frozen at 2026-05-28: they still answer, with what was in force that day, so they
//! must never be read (the old warning file's shape is refused, see [`parse_warnings`]).
//!
//! Never fails hard: when the agency cannot be reached or answers with something
//! unreadable, the last report stays in force and the failure is logged (URLs and
//! statuses only: weather carries no personal data, and none is ever logged here).
//! Parsing is pure ([`parse_forecast`], [`parse_warnings`], [`parse_amedas_snow`],
//! [`parse_heat_alerts`], [`parse_wbgt_forecast`]) and tested on recorded files in the
//! sources' shapes. Three parts are optional and never hold the report back: the snow
//! depth from the town's AMeDAS station, the 熱中症警戒アラート from the agency's list of
//! information, and the day's highest heat index (WBGT, 暑さ指数) from the Ministry of
//! the Environment's forecast CSV (`www.wbgt.env.go.jp/prev15WG/dl/yohou_{point}.csv`,
//! served only in the hot months).

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

/// The agency's warning codes (気象警報・注意報 of the 令和8年体系) and their names,
/// gravest first: a town's warnings are listed in this order.
const WARNINGS: &[(&str, &str)] = &[
    // レベル5 特別警報.
    ("32", "暴風雪特別警報"),
    ("33", "レベル5大雨特別警報"),
    ("35", "暴風特別警報"),
    ("36", "大雪特別警報"),
    ("37", "波浪特別警報"),
    ("38", "レベル5高潮特別警報"),
    ("39", "レベル5土砂災害特別警報"),
    // レベル4 危険警報.
    ("43", "レベル4大雨危険警報"),
    ("48", "レベル4高潮危険警報"),
    ("49", "レベル4土砂災害危険警報"),
    // 警報.
    ("02", "暴風雪警報"),
    ("03", "レベル3大雨警報"),
    ("04", "洪水警報"),
    ("05", "暴風警報"),
    ("06", "大雪警報"),
    ("07", "波浪警報"),
    ("08", "レベル3高潮警報"),
    ("09", "レベル3土砂災害警報"),
    // 注意報.
    ("10", "レベル2大雨注意報"),
    ("12", "大雪注意報"),
    ("13", "風雪注意報"),
    ("14", "雷注意報"),
    ("15", "強風注意報"),
    ("16", "波浪注意報"),
    ("17", "融雪注意報"),
    ("18", "洪水注意報"),
    ("19", "レベル2高潮注意報"),
    ("20", "濃霧注意報"),
    ("21", "乾燥注意報"),
    ("22", "なだれ注意報"),
    ("23", "低温注意報"),
    ("24", "霜注意報"),
    ("25", "着氷注意報"),
    ("26", "着雪注意報"),
    ("27", "その他の注意報"),
    ("29", "レベル2土砂災害注意報"),
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
/// agency's warning file (`warning/data/r8/{office}.json`): a list of reports, each
/// `{"reportDatetime": …, "warning": {"class10Items": […], "class20Items": [{"areaCode":
/// "0632400", "kinds": [{"code": "06", "status": "発表"}, …]}, …]}, …}`. Only the
/// municipalities' `class20Items` are read (`class10Items` are the forecast areas).
///
/// The reports are taken oldest first by `reportDatetime`, whatever their order in the
/// file; each kind listed for `area` sets that code's status, a later report's overriding
/// an earlier one's, and a code a later report does not list keeps its status. A code
/// is in force when its last status is anything but 解除 or 発表警報・注意報はなし (発表,
/// 継続, 切替). Codes the table does not know are passed over. The result is in the
/// table's order, gravest first.
///
/// A file that is not a list of reports (the frozen old file is an object with
/// `areaTypes`), or in which no report lists `area`, is a [`WeatherError::Shape`]: a
/// wrong file or area must never read as "no warnings". A report listing `area` without
/// a readable `reportDatetime` is one too. `area` listed with nothing in force: empty.
pub fn parse_warnings(json: &str, area: &str) -> Result<Vec<Warning>, WeatherError> {
    let root: Value = serde_json::from_str(json).map_err(|e| shape("warnings", e.to_string()))?;
    let reports = root.as_array().ok_or_else(|| shape("warnings", "not a list of reports"))?;
    let mut listing = Vec::new();
    for report in reports {
        let items: Vec<&Value> = report["warning"]["class20Items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|item| item["areaCode"].as_str() == Some(area))
            .collect();
        if items.is_empty() {
            continue;
        }
        let stamp = report["reportDatetime"].as_str().unwrap_or("");
        let at = DateTime::parse_from_rfc3339(stamp)
            .map_err(|_| shape("warnings", format!("a report on {area} has no time ({stamp:?})")))?;
        listing.push((at, items));
    }
    if listing.is_empty() {
        return Err(shape("warnings", format!("area {area} is not listed")));
    }
    // Stable: reports of the same time keep the file's order.
    listing.sort_by_key(|(at, _)| *at);
    let mut last: Vec<(&str, &str)> = Vec::new();
    for kind in listing
        .iter()
        .flat_map(|(_, items)| items)
        .flat_map(|item| item["kinds"].as_array().into_iter().flatten())
    {
        let status = kind["status"].as_str().unwrap_or("");
        // 発表警報・注意報はなし without a code: nothing is in force from here on.
        let Some(code) = kind["code"].as_str() else {
            if status == "発表警報・注意報はなし" {
                last.clear();
            }
            continue;
        };
        match last.iter_mut().find(|(c, _)| *c == code) {
            Some(entry) => entry.1 = status,
            None => last.push((code, status)),
        }
    }
    let in_force = |code: &str| {
        last.iter().any(|&(c, status)| c == code && !matches!(status, "解除" | "発表警報・注意報はなし"))
    };
    Ok(WARNINGS
        .iter()
        .filter(|(code, _)| in_force(code))
        .map(|&(code, name)| Warning { code, name })
        .collect())
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
        // 大雨 at level 3 and above (警報, 危険警報, 特別警報), and 土砂災害 at the same
        // levels: the new system names the landslide danger of heavy rain apart, but for
        // a resident it is the same call to stay in or leave early.
        heavy_rain_warning: any(&["03", "43", "33", "09", "49", "39"]),
        snowstorm_advisory: any(&["13"]),
        avalanche_advisory: any(&["22"]),
        low_temperature_advisory: any(&["23"]),
        snow_accretion_advisory: any(&["26"]),
        warnings: warnings.iter().map(|w| w.name.to_owned()).collect(),
        snow_depth_cm: None,
        wbgt_max_c: None,
        heatstroke_alert: false,
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
async fn snow_depth(client: &reqwest::Client, config: &WeatherConfig) -> Option<Option<u32>> {
    let base = config.base_url.trim_end_matches('/');
    let read = async {
        let latest = get(client, format!("{base}/bosai/amedas/data/latest_time.txt")).await?;
        let map =
            get(client, format!("{base}/bosai/amedas/data/map/{}.json", amedas_hour_file(&latest)?)).await?;
        parse_amedas_snow(&map, &config.snow_station)
    };
    match read.await {
        Ok(depth) => Some(depth),
        Err(e) => {
            tracing::warn!(error = %e, "no snow depth from AMeDAS; the report keeps today's last reading");
            None
        }
    }
}

/// The day's highest WBGT (°C) at `point` in the Ministry of the Environment's forecast
/// file (`prev15WG/dl/yohou_{point}.csv`): a header of forecast times after two empty
/// cells (`,,2026080506,2026080509,…,2026080524,…`, YYYYMMDDHH; hour 24 is the midnight
/// that ends that day) and a row per point (`35426,2026/08/05 05:25,250,290,…`: the
/// point, when it was issued, then the WBGT in tenths of a degree per time). A blank
/// cell, or a value outside 0–50 °C, is no value; `None` when the day has none.
pub fn parse_wbgt_forecast(csv: &str, point: &str, day: NaiveDate) -> Result<Option<f32>, WeatherError> {
    let mut lines = csv.trim_start_matches('\u{feff}').lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> =
        lines.next().ok_or_else(|| shape("wbgt", "empty"))?.split(',').map(str::trim).collect();
    let [first, second, times @ ..] = header.as_slice() else {
        return Err(shape("wbgt", "no header of times"));
    };
    if !first.is_empty() || !second.is_empty() {
        return Err(shape("wbgt", "no header of times"));
    }
    // Some files end each line with a comma.
    let used = times.iter().rposition(|t| !t.is_empty()).map_or(0, |i| i + 1);
    let days = times[..used].iter().map(|t| wbgt_day(t)).collect::<Option<Vec<_>>>();
    let days = days.filter(|d| !d.is_empty()).ok_or_else(|| shape("wbgt", "a header cell is not a time"))?;
    let row = lines
        .map(|l| l.split(',').map(str::trim).collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&point))
        .ok_or_else(|| shape("wbgt", format!("point {point} is not listed")))?;
    let mut max: Option<f32> = None;
    for (cell, on) in row.iter().skip(2).zip(&days) {
        if cell.is_empty() {
            continue;
        }
        let tenths: i32 = cell.parse().map_err(|_| shape("wbgt", format!("{cell:?} is not a value")))?;
        let c = tenths as f32 / 10.0;
        if *on == day && (0.0..50.0).contains(&c) {
            max = Some(max.map_or(c, |m| m.max(c)));
        }
    }
    Ok(max)
}

/// The day a forecast time (`2026080524`) belongs to: hour 24 (or 00) is the midnight
/// that ends the day before.
fn wbgt_day(time: &str) -> Option<NaiveDate> {
    if time.len() != 10 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(&time[..8], "%Y%m%d").ok()?;
    match time[8..].parse::<u32>().ok()? {
        0 => date.pred_opt(),
        1..=24 => Some(date),
        _ => None,
    }
}

/// Whether the agency's list of information (`information/data/r8/information.json`: a
/// list of items with `controlTitle`, `headTitle`, `reportDatetime`, `validDatetime`,
/// `eventId`, `infoType`, `areaType`, `areaCode`, `jsonName`, …) has a 熱中症警戒アラート
/// (or 熱中症特別警戒アラート) for prefecture `office` on `day`. Only these fields are
/// relied on: `controlTitle` names the kind, `areaCode` (a string) or `areaCodes`
/// (strings) the office; an item whose `headTitle` says 解除 is not in force.
///
/// The day an alert is for, in the town's time (+09:00): its `targetDatetime` when the
/// item has one (the old list's items did; the r8 list's may not). Otherwise its
/// `reportDatetime`: the alert is issued around 17:00 for the next day and around 05:00
/// for the same day, so a report at or after 14:00 is for the next day, one before
/// 14:00 for its own day. An item with neither time is for no day.
pub fn parse_heat_alerts(json: &str, office: &str, day: NaiveDate) -> Result<bool, WeatherError> {
    let root: Value = serde_json::from_str(json).map_err(|e| shape("information", e.to_string()))?;
    let items = root.as_array().ok_or_else(|| shape("information", "not a list of items"))?;
    Ok(items.iter().any(|item| {
        let kind = item["controlTitle"].as_str().unwrap_or("");
        let heat = kind.contains("熱中症") && kind.contains("警戒アラート");
        let lifted = item["headTitle"].as_str().is_some_and(|t| t.contains("解除"));
        let here = item["areaCode"].as_str() == Some(office) || strings(&item["areaCodes"]).contains(&office);
        heat && !lifted && here && heat_alert_day(item) == Some(day)
    }))
}

/// The day a heat alert in the list is for (see [`parse_heat_alerts`]).
fn heat_alert_day(item: &Value) -> Option<NaiveDate> {
    if let Some(target) = item["targetDatetime"].as_str() {
        return day_and_time(target).map(|(d, _)| d);
    }
    let (d, t) = day_and_time(item["reportDatetime"].as_str()?)?;
    let evening = NaiveTime::from_hms_opt(14, 0, 0).expect("literal");
    if t >= evening { d.succ_opt() } else { Some(d) }
}

/// The day's highest WBGT at the town's point; `None` (logged) when the ministry has
/// none. Out of season (late October to late April) the file is gone: a 404 is normal.
async fn wbgt_max(client: &reqwest::Client, config: &WeatherConfig, day: NaiveDate) -> Option<Option<f32>> {
    let base = config.wbgt_base_url.trim_end_matches('/');
    let read = async {
        let url = format!("{base}/prev15WG/dl/yohou_{}.csv", config.wbgt_point);
        // The ministry's files may be Shift_JIS; the forecast's cells are ASCII digits.
        let csv = String::from_utf8_lossy(&get_bytes(client, url).await?).into_owned();
        parse_wbgt_forecast(&csv, &config.wbgt_point, day)
    };
    match read.await {
        Ok(max) => Some(max),
        // Served late April to late October: out of season there is none.
        Err(e @ WeatherError::Status { status: 404, .. }) => {
            tracing::debug!(error = %e, "no WBGT forecast (out of season?); the report goes without it");
            Some(None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "no WBGT forecast from the ministry; the report keeps today's last");
            None
        }
    }
}

/// Whether a 熱中症警戒アラート is in force today for the prefecture; `None` (logged)
/// when the agency's list cannot be read.
async fn heat_alert(client: &reqwest::Client, config: &WeatherConfig, day: NaiveDate) -> Option<bool> {
    let base = config.base_url.trim_end_matches('/');
    let read = async {
        let list = get(client, format!("{base}/bosai/information/data/r8/information.json")).await?;
        parse_heat_alerts(&list, &config.office, day)
    };
    match read.await {
        Ok(on) => Some(on),
        Err(e) => {
            tracing::warn!(error = %e, "no heat alerts from the agency; the report keeps today's last word");
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
        (r.heatstroke_alert, "熱中症警戒アラート"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

async fn get_bytes(client: &reqwest::Client, url: String) -> Result<Vec<u8>, WeatherError> {
    let resp =
        client.get(&url).send().await.map_err(|source| WeatherError::Http { url: url.clone(), source })?;
    if !resp.status().is_success() {
        return Err(WeatherError::Status { url, status: resp.status().as_u16() });
    }
    Ok(resp.bytes().await.map_err(|source| WeatherError::Http { url, source })?.to_vec())
}

async fn get(client: &reqwest::Client, url: String) -> Result<String, WeatherError> {
    Ok(String::from_utf8_lossy(&get_bytes(client, url).await?).into_owned())
}

/// Fetches the forecast and the warnings (both must be read) and makes today's report.
/// An optional part that could not be read (snow depth, heat alert, WBGT) keeps what
/// `last` said of the same day: a failed fetch never lifts a heat alert, and today's
/// highest WBGT never falls as the day's past hours leave the ministry's file.
pub async fn fetch(
    client: &reqwest::Client,
    config: &WeatherConfig,
    now: DateTime<Utc>,
    last: Option<&wire::WeatherReport>,
) -> Result<wire::WeatherReport, WeatherError> {
    let base = config.base_url.trim_end_matches('/');
    let forecast = get(client, format!("{base}/bosai/forecast/data/forecast/{}.json", config.office)).await?;
    let warnings = get(client, format!("{base}/bosai/warning/data/r8/{}.json", config.office)).await?;
    let day = local_day(now);
    let forecast = parse_forecast(&forecast, &config.forecast_area, &config.temperature_station, day)?;
    let warnings = parse_warnings(&warnings, &config.warning_area)?;
    let mut r = report(day, forecast, &warnings, wire::WeatherSource::Jma, now);
    let (snow, heat, wbgt) = tokio::join!(
        snow_depth(client, config),
        heat_alert(client, config, day),
        wbgt_max(client, config, day)
    );
    let today = last.filter(|l| l.date == day && l.source == wire::WeatherSource::Jma);
    r.snow_depth_cm = snow.unwrap_or_else(|| today.and_then(|l| l.snow_depth_cm));
    r.heatstroke_alert = heat.unwrap_or_else(|| today.is_some_and(|l| l.heatstroke_alert));
    let earlier = today.and_then(|l| l.wbgt_max_c);
    r.wbgt_max_c = match (wbgt, earlier) {
        (Some(Some(read)), Some(kept)) => Some(read.max(kept)),
        (Some(read), _) => read.or(earlier),
        (None, _) => earlier,
    };
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
    let s = store.clone();
    let last = tokio::task::spawn_blocking(move || s.weather())
        .await
        .map_err(|_| shape("store", "task failed"))??
        .fetched
        .and_then(|b| serde_json::from_str::<wire::WeatherReport>(&b).ok());
    let fresh = fetch(client, config, now, last.as_ref()).await?;
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
