//! Town news (お知らせ): office staff publish a short announcement for a district or
//! the whole town (a clinic day, a bus change); the tablets there read it once to each
//! resident after a check-in, and this page shows who has heard it. 民生委員 see the
//! news for their district and who there has heard it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDate};

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session, Submitted};
use crate::clock::{local_day, town_offset};
use crate::routes::{AppState, blocking};
use crate::store::{Actor, Announcement, AnnouncementId, Listener};

/// The furthest ahead an announcement may run: news, not a standing notice.
const LONGEST_DAYS: i64 = 60;
/// What the form proposes: a week.
const USUAL_DAYS: i64 = 7;

const MAY_NOT_PUBLISH: &str = "お知らせを出したり取り下げたりできるのは役場の職員です。";

fn not_found() -> PageError {
    PageError::Refused(StatusCode::NOT_FOUND, "そのお知らせは見つかりません。")
}

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    let own = session.scope()?;
    let may_publish = session.require_staff(MAY_NOT_PUBLISH).is_ok();
    let (news, districts) = blocking(&state.store, move |s| {
        Ok((s.announcements(own.as_deref(), at)?, if may_publish { s.district_sizes()? } else { Vec::new() }))
    })
    .await?;
    let today = local_day(state.clock.now());
    render(&NewsPage {
        chrome: session.chrome("お知らせ", "/news"),
        rows: news.rows.into_iter().map(|a| Row::of(a, today)).collect(),
        pager: Pager::new("/news", at, news.more),
        may_publish,
        csrf: session.csrf(),
        town: districts.iter().map(|d| d.1).sum(),
        districts,
        today: today.to_string(),
        usual_until: (today + Duration::days(USUAL_DAYS)).to_string(),
        last_until: (today + Duration::days(LONGEST_DAYS)).to_string(),
    })
}

/// One announcement in the list.
struct Row {
    id: i64,
    area: String,
    message: String,
    published: String,
    until: String,
    /// 「取り下げ」, 「終了」 or empty while the tablets still say it.
    state: &'static str,
    heard: u64,
    reach: u64,
}

impl Row {
    fn of(a: Announcement, today: NaiveDate) -> Row {
        Row {
            id: a.id.0,
            area: a.district.unwrap_or_else(|| "町全体".to_owned()),
            message: a.message,
            published: a.published.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string(),
            until: a.until.format("%m/%d").to_string(),
            state: if a.withdrawn {
                "取り下げ"
            } else if a.until < today {
                "終了"
            } else {
                ""
            },
            heard: a.heard,
            reach: a.reach,
        }
    }
}

#[derive(askama::Template)]
#[template(path = "news.html")]
struct NewsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    pager: Pager,
    may_publish: bool,
    csrf: String,
    /// Residents in the town, and per district.
    town: u64,
    districts: Vec<(String, u64)>,
    /// The date field's bounds and default (`YYYY-MM-DD`).
    today: String,
    usual_until: String,
    last_until: String,
}

impl NewsPage {
    const MAX_CHARS: usize = wire::MAX_ANNOUNCEMENT_CHARS;
}

/// `POST /news`: publishes an announcement and shows who it is for.
pub(super) async fn publish(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(MAY_NOT_PUBLISH)?;
    let bad = |reason| PageError::Refused(StatusCode::BAD_REQUEST, reason);
    // Line breaks become sentence ends for the voice; other control characters go.
    let message: String = form
        .get("message")
        .map(|m| m.trim().replace("\r\n", "\n"))
        .unwrap_or_default()
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let chars = message.chars().count();
    if chars == 0 || chars > wire::MAX_ANNOUNCEMENT_CHARS {
        return Err(bad("お知らせは1〜200文字で書いてください。"));
    }
    let today = local_day(state.clock.now());
    let until = form
        .get("until")
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .ok_or_else(|| bad("いつまで読み上げるかの日付が読めません。"))?;
    if until < today || until > today + Duration::days(LONGEST_DAYS) {
        return Err(bad("読み上げる期間は、今日から60日先までの日付にしてください。"));
    }
    let district = form.get("district").map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    // A district nobody lives in (a typo) would reach nobody without a word.
    let sizes = blocking(&state.store, |s| s.district_sizes()).await?;
    if let Some(d) = &district
        && !sizes.iter().any(|(name, _)| name == d)
    {
        return Err(bad("その地区に登録された住民はいません。地区は一覧から選んでください。"));
    }
    let (by, now) = (Actor::User(session.user.user), state.clock.now());
    let id = blocking(&state.store, move |s| {
        s.publish_announcement(district.as_deref(), &message, until, by, now)
    })
    .await?;
    tracing::info!(announcement = id.0, user = session.user.user.0, "announcement published");
    Ok(Redirect::to(&format!("/news/{}", id.0)).into_response())
}

/// `GET /news/{id}`: the announcement and who has heard it (民生委員: in their district).
pub(super) async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let own = session.scope()?;
    let id = AnnouncementId(id);
    let scope = own.clone();
    let (a, listeners) = blocking(&state.store, move |s| {
        Ok((s.announcement(id, scope.as_deref())?, s.announcement_listeners(id, scope.as_deref())?))
    })
    .await?;
    let a = a.ok_or_else(not_found)?;
    // Another district's news is not theirs to see.
    if let (Some(own), Some(d)) = (&own, &a.district)
        && own != d
    {
        return Err(not_found());
    }
    let today = local_day(state.clock.now());
    let may_withdraw = !a.withdrawn && a.until >= today && session.require_staff(MAY_NOT_PUBLISH).is_ok();
    let (heard, waiting): (Vec<_>, Vec<_>) = listeners.into_iter().partition(|l| l.heard.is_some());
    render(&HeardPage {
        chrome: session.chrome("お知らせ", "/news"),
        csrf: session.csrf(),
        may_withdraw,
        heard: heard.iter().map(Line::of).collect(),
        waiting: waiting.iter().map(Line::of).collect(),
        row: Row::of(a, today),
    })
}

/// One resident on the who-heard page.
struct Line {
    id: i64,
    name: String,
    district: String,
    /// When a tablet read it to them (`MM/DD HH:MM`), or empty.
    at: String,
}

impl Line {
    fn of(l: &Listener) -> Line {
        Line {
            id: l.resident.0,
            name: l.name.clone(),
            district: l.district.clone(),
            at: l
                .heard
                .map(|t| t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string())
                .unwrap_or_default(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "news_heard.html")]
struct HeardPage {
    chrome: Chrome,
    csrf: String,
    may_withdraw: bool,
    row: Row,
    heard: Vec<Line>,
    waiting: Vec<Line>,
}

/// `POST /news/{id}/withdraw`: the tablets stop saying it.
pub(super) async fn withdraw(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form: _ }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(MAY_NOT_PUBLISH)?;
    let now = state.clock.now();
    if !blocking(&state.store, move |s| s.withdraw_announcement(AnnouncementId(id), now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "取り下げられるお知らせが見つかりません。"));
    }
    tracing::info!(announcement = id, user = session.user.user.0, "announcement withdrawn");
    Ok(Redirect::to(&format!("/news/{id}")).into_response())
}
