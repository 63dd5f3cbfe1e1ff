//! Disaster mode for officers (`/disaster`): declare it for some districts or the
//! town (a safety campaign starts in each), make time-limited responder accounts for
//! 消防団 and 自主防災組織, end it; and the roster (`/roster`, `?print=1` for paper)
//! that everyone allowed reads: consented residents in normal times, everyone in the
//! declared districts during a disaster. A JMA warning at alert level 4 or above
//! proposes the declaration on the board.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Duration;

use super::layout::{Chrome, render};
use super::{PageError, Session, Submitted};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{BoardState, DeclareRefused, Role, Roster, RosterRow};

/// A responder account lasts at most three days; a longer disaster makes new ones.
const RESPONDER_MAX_HOURS: i64 = 72;
const OFFICERS_ONLY: PageError =
    PageError::Refused(StatusCode::FORBIDDEN, "災害の宣言と終了は福祉担当職員と管理者が行います。");

fn require_officer(session: &Session) -> Result<(), PageError> {
    match session.user.role {
        Role::Admin | Role::Officer => Ok(()),
        _ => Err(OFFICERS_ONLY),
    }
}

fn bad(why: &'static str) -> PageError {
    PageError::Refused(StatusCode::BAD_REQUEST, why)
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string()
}

/// The warnings in force that stand at alert level 4 or above (特別警報, 高潮警報),
/// from the report the tablets were sent.
pub(super) fn level4_warnings(weather: &crate::store::StoredWeather) -> Vec<String> {
    level4(&warnings_in_force(weather))
}

/// The warnings among `warnings` at alert level 4 or above.
pub(super) fn level4(warnings: &[String]) -> Vec<String> {
    warnings.iter().filter(|w| w.contains("特別警報") || w.contains("高潮警報")).cloned().collect()
}

/// The JMA warnings and advisories in force for the town: the staff's override when
/// set, else the latest fetched report.
pub(super) fn warnings_in_force(weather: &crate::store::StoredWeather) -> Vec<String> {
    let report = weather.manual.as_ref().map(|(b, _)| b.as_str()).or(weather.fetched.as_deref());
    report
        .and_then(|b| serde_json::from_str::<wire::WeatherReport>(b).ok())
        .map(|r| r.warnings)
        .unwrap_or_default()
}

pub(super) async fn show(State(state): State<AppState>, session: Session) -> Result<Html<String>, PageError> {
    require_officer(&session)?;
    let now = state.clock.now();
    let (disaster, responders, districts, weather) = blocking(&state.store, move |s| {
        Ok((s.active_disaster()?, s.responders(now)?, s.districts()?, s.weather()?))
    })
    .await?;
    let declared = disaster.map(|d| Declared {
        reason: d.reason,
        area: d.districts.map_or("町全体".to_owned(), |d| d.join("・")),
        at: when(d.declared),
        campaigns: d.campaigns.iter().map(|c| c.0).collect(),
        responders: responders.into_iter().map(|r| (r.login, when(r.expires))).collect(),
    });
    render(&DisasterPage {
        chrome: session.chrome("災害モード", "/disaster"),
        csrf: session.csrf(),
        declared,
        warned: level4_warnings(&weather),
        districts,
    })
}

/// A declaration in force, as its page shows it.
struct Declared {
    reason: String,
    area: String,
    at: String,
    campaigns: Vec<i64>,
    /// (login, until)
    responders: Vec<(String, String)>,
}

#[derive(askama::Template)]
#[template(path = "disaster.html")]
struct DisasterPage {
    chrome: Chrome,
    csrf: String,
    /// `None`: normal times, and the form to declare.
    declared: Option<Declared>,
    /// Warnings at alert level 4 or above, proposing a declaration.
    warned: Vec<String>,
    districts: Vec<String>,
}

impl DisasterPage {
    const RESPONDER_MAX_HOURS: i64 = RESPONDER_MAX_HOURS;
}

pub(super) async fn declare(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    require_officer(&session)?;
    let text = |name: &str, max: usize| {
        form.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty() && v.chars().count() <= max)
    };
    let reason = text("reason", 100).ok_or(bad("理由を入れてください(100文字まで)。"))?;
    let message = text("message", 200).ok_or(bad("問いかけを入れてください(200文字まで)。"))?;
    let hours: i64 = form
        .get("hours")
        .and_then(|h| h.parse().ok())
        .filter(|h| (1..=72).contains(h))
        .ok_or(bad("期限は1〜72時間です。"))?;
    let now = state.clock.now();
    let known = blocking(&state.store, |s| s.districts()).await?;
    let chosen: Vec<String> =
        form.keys().filter_map(|k| k.strip_prefix("district_")).map(str::to_owned).collect();
    if chosen.iter().any(|d| !known.contains(d)) {
        return Err(bad("地区は一覧から選んでください。"));
    }
    let by = session.user.user;
    let declared = blocking(&state.store, move |s| {
        let districts = (!chosen.is_empty()).then_some(chosen.as_slice());
        s.declare_disaster(&reason, districts, &message, now + Duration::hours(hours), by, now)
    })
    .await?;
    match declared {
        Ok(id) => {
            tracing::info!(disaster = id, user = by.0, "disaster declared");
            Ok(Redirect::to("/disaster").into_response())
        }
        Err(DeclareRefused::AlreadyDeclared) => Err(PageError::Refused(
            StatusCode::CONFLICT,
            "すでに災害モードです。地区を変えるときは終えてから宣言し直してください。",
        )),
    }
}

pub(super) async fn end(
    State(state): State<AppState>,
    Submitted { session, .. }: Submitted,
) -> Result<Response, PageError> {
    require_officer(&session)?;
    let (by, now) = (session.user.user, state.clock.now());
    if !blocking(&state.store, move |s| s.end_disaster(by, now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "災害モードではありません。"));
    }
    tracing::info!(user = by.0, "disaster ended");
    Ok(Redirect::to("/disaster").into_response())
}

pub(super) async fn add_responder(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    require_officer(&session)?;
    let login = form.get("login").map(|l| l.trim().to_owned()).unwrap_or_default();
    if login.is_empty()
        || login.chars().count() > 40
        || !login.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(bad("ログイン名は英数字と - _ . で40文字までです。"));
    }
    let hours: i64 = form
        .get("hours")
        .and_then(|h| h.parse().ok())
        .filter(|h| (1..=RESPONDER_MAX_HOURS).contains(h))
        .ok_or(bad("有効時間は1〜72時間です。"))?;
    let password = form.get("password").cloned().unwrap_or_default();
    crate::password::acceptable(&login, &password).map_err(|weak| bad(weak.japanese()))?;
    let hash = tokio::task::spawn_blocking(move || crate::password::hash_password(&password))
        .await
        .map_err(|_| PageError::Internal)?;
    let (by, now) = (session.user.user, state.clock.now());
    let l = login.clone();
    let added = blocking(&state.store, move |s| {
        if s.users(now)?.iter().any(|u| u.login == l) {
            return Ok(Err("そのログイン名はもう使われています。"));
        }
        Ok(s.add_responder(&l, &hash, now + Duration::hours(hours), by, now)?
            .ok_or("災害モードではありません。"))
    })
    .await?
    .map_err(|why| PageError::Refused(StatusCode::CONFLICT, why))?;
    tracing::info!(user = added.0, by = by.0, "responder account added");
    Ok(Redirect::to("/disaster").into_response())
}

/// The roster: `?print=1` gives the bare page for paper. 民生委員 see their district.
pub(super) async fn roster(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let district = match (session.user.role, &session.user.district) {
        (Role::Minsei, Some(d)) => Some(d.clone()),
        (Role::Minsei, None) => {
            return Err(PageError::Refused(StatusCode::FORBIDDEN, "担当地区が設定されていません。"));
        }
        _ => None,
    };
    let printed = query.get("print").is_some_and(|p| p == "1");
    let (viewer, now) = (session.user.user, state.clock.now());
    let Roster { disaster, rows } =
        blocking(&state.store, move |s| s.roster(viewer, district.as_deref(), printed, now)).await?;
    if session.user.role == Role::Responder && disaster.is_none() {
        // Their account ends with the disaster; this is the moment between.
        return Err(PageError::Outside(StatusCode::FORBIDDEN, "災害モードは終わりました。"));
    }
    let scope = match &disaster {
        Some(d) => format!(
            "災害モード（{}）：{}の全員",
            d.reason,
            d.districts.as_ref().map_or("町全体".to_owned(), |d| d.join("・"))
        ),
        None => "平常時：提供に同意した人のみ".to_owned(),
    };
    let lines = rows
        .into_iter()
        .map(|r| {
            let mut needs: Vec<&str> = r.needs.iter().map(|n| n.label()).collect();
            if r.lives_alone {
                needs.push("一人暮らし");
            }
            let answer = match r.answer.as_deref() {
                Some("safe") => "無事",
                Some("needs_help") => "助けが必要",
                _ if disaster.is_some() => "未回答",
                _ => "-",
            };
            let today = if r.today == BoardState::Pending { "確認待ち" } else { r.today.label() };
            RosterLine { needs: needs.join("・"), answer, today, row: r }
        })
        .collect();
    render(&RosterPage {
        chrome: session.chrome("避難行動要支援者名簿", "/roster"),
        scope,
        now: when(now),
        rows: lines,
        printed,
    })
}

/// A resident on the roster, with what the page says of them.
struct RosterLine {
    row: RosterRow,
    needs: String,
    today: &'static str,
    answer: &'static str,
}

#[derive(askama::Template)]
#[template(path = "roster.html")]
struct RosterPage {
    chrome: Chrome,
    /// Whom the roster holds: consenting residents, or everyone declared.
    scope: String,
    now: String,
    rows: Vec<RosterLine>,
    /// The paper copy (`?print=1`): no link to itself.
    printed: bool,
}
