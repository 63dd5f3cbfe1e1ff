//! The weather tablets are sent: the report fetched from the agency, and a manual
//! override staff set (a road closure, a local snowfall the forecast missed) that
//! replaces it until cleared. For staff, officers and admins; changes are audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;

use super::layout::{Chrome, render};
use super::{PageError, Session, Submitted};
use crate::clock::{local_day, town_offset};
use crate::routes::{AppState, blocking};
use crate::weather::flag_names;

const STAFF_ONLY: &str = "天気の設定は職員が行います。";
const MAX_TEXT_CHARS: usize = 100;

/// The form's check boxes: field name and label.
const FLAGS: &[(&str, &str)] = &[
    ("heavy_snow_warning", "大雪警報"),
    ("heavy_snow_advisory", "大雪注意報"),
    ("storm_warning", "暴風(雪)警報"),
    ("heavy_rain_warning", "大雨警報"),
    ("snowstorm_advisory", "風雪注意報"),
    ("avalanche_advisory", "なだれ注意報"),
    ("low_temperature_advisory", "低温注意報"),
    ("snow_accretion_advisory", "着雪注意報"),
];

/// A weather report as the page lists it.
struct Report {
    date: String,
    text: String,
    min: String,
    max: String,
    snow: String,
    /// The day's highest WBGT (暑さ指数).
    wbgt: String,
    flags: String,
    fetched: String,
}

impl Report {
    fn of(r: &wire::WeatherReport) -> Report {
        let temp = |t: Option<i32>| t.map_or("-".to_owned(), |t| format!("{t}℃"));
        Report {
            date: r.date.to_string(),
            text: r.weather_text.clone(),
            min: temp(r.temp_min_c),
            max: temp(r.temp_max_c),
            snow: r.snow_depth_cm.map_or("-".to_owned(), |cm| format!("{cm}cm")),
            wbgt: r.wbgt_max_c.map_or("-".to_owned(), |c| format!("{c:.1}℃")),
            flags: flag_names(r).join("、"),
            fetched: r.fetched_at.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "weather.html")]
struct WeatherPage {
    chrome: Chrome,
    csrf: String,
    /// Staff's override, sent instead of the forecast while set.
    manual: Option<Report>,
    fetched: Option<Report>,
    today: String,
    flags: &'static [(&'static str, &'static str)],
}

impl WeatherPage {
    const MAX_TEXT_CHARS: usize = MAX_TEXT_CHARS;
}

fn read(body: &str) -> Option<wire::WeatherReport> {
    serde_json::from_str(body).ok()
}

pub(super) async fn show(State(state): State<AppState>, session: Session) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let stored = blocking(&state.store, |s| s.weather()).await?;
    render(&WeatherPage {
        chrome: session.chrome("天気", "/weather"),
        csrf: session.csrf(),
        manual: stored.manual.as_ref().and_then(|(b, _)| read(b)).as_ref().map(Report::of),
        fetched: stored.fetched.as_ref().and_then(|b| read(b)).as_ref().map(Report::of),
        today: local_day(state.clock.now()).to_string(),
        flags: FLAGS,
    })
}

pub(super) async fn set(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let bad = |reason| PageError::Refused(StatusCode::BAD_REQUEST, reason);
    let date = form
        .get("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| bad("日付が読めません。"))?;
    let text = form.get("weather_text").map(|t| t.trim().to_owned()).unwrap_or_default();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS || text.chars().any(char::is_control) {
        return Err(bad("天気は1〜100文字で書いてください。"));
    }
    let temp = |name: &str| -> Result<Option<i32>, PageError> {
        match form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse::<i32>()
                .ok()
                .filter(|t| (-40..=50).contains(t))
                .map(Some)
                .ok_or_else(|| bad("気温は -40〜50 の整数で書いてください。")),
        }
    };
    let (min, max) = (temp("temp_min_c")?, temp("temp_max_c")?);
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(bad("最低気温が最高気温より高くなっています。"));
    }
    let on = |name: &str| form.get(name).is_some_and(|v| v == "on");
    let now = state.clock.now();
    let mut report = wire::WeatherReport {
        date,
        weather_code: String::new(),
        weather_text: text,
        temp_min_c: min,
        temp_max_c: max,
        heavy_snow_warning: on("heavy_snow_warning"),
        heavy_snow_advisory: on("heavy_snow_advisory"),
        storm_warning: on("storm_warning"),
        heavy_rain_warning: on("heavy_rain_warning"),
        snowstorm_advisory: on("snowstorm_advisory"),
        avalanche_advisory: on("avalanche_advisory"),
        low_temperature_advisory: on("low_temperature_advisory"),
        snow_accretion_advisory: on("snow_accretion_advisory"),
        warnings: Vec::new(),
        // Staff set the forecast and warnings; the depth comes from the station only,
        // the heat index and heat alert from the ministry and the agency only.
        snow_depth_cm: None,
        wbgt_max_c: None,
        heatstroke_alert: false,
        source: wire::WeatherSource::Manual,
        fetched_at: now,
    };
    report.warnings = flag_names(&report).into_iter().map(str::to_owned).collect();
    let body = serde_json::to_string(&report).map_err(|_| PageError::Internal)?;
    let user = session.user.user;
    blocking(&state.store, move |s| s.set_weather_override(&body, user, now)).await?;
    tracing::info!(user = user.0, "weather override set");
    Ok(Redirect::to("/weather").into_response())
}

pub(super) async fn clear(
    State(state): State<AppState>,
    Submitted { session, form: _ }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let (user, now) = (session.user.user, state.clock.now());
    if !blocking(&state.store, move |s| s.clear_weather_override(user, now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "手動の設定はありません。"));
    }
    tracing::info!(user = user.0, "weather override cleared");
    Ok(Redirect::to("/weather").into_response())
}
