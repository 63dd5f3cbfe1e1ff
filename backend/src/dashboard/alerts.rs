//! The escalation queue: open alerts, oldest first; acknowledge one, or resolve it
//! with a note of the call or visit. 民生委員 see and act on their district only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session, Submitted};
use crate::routes::{AppState, blocking};
use crate::store::CheckInAnswer;

pub(super) async fn queue(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    let district = session.scope()?;
    let now = state.clock.now();
    let (alerts, backlog) = blocking(&state.store, move |s| {
        Ok((s.alert_board(district.as_deref(), at)?, s.notify_backlog(district.as_deref())?))
    })
    .await?;
    // Mail the server has not taken yet: the ladder is not reaching anyone's phone.
    let backlog = backlog.last_error.filter(|_| backlog.waiting > 0).map(|why| (backlog.waiting, why));
    // The store lists each resident's alerts together; one group per resident.
    let mut groups: Vec<AlertGroup> = Vec::new();
    for q in alerts.rows {
        let line = AlertLine {
            id: q.alert.id,
            kind_key: q.alert.kind.key(),
            danger: q.alert.danger.map(|d| d.label()),
            kind: q.alert.kind.label(),
            said: CheckInAnswer::labels(&q.said),
            raised: hm(q.alert.raised),
            open_for: span(now - q.alert.raised),
            handler: q.alert.acknowledged.then(|| {
                let who = q.handler.clone().unwrap_or_else(|| "職員".to_owned());
                match q.acknowledged_at {
                    Some(at) => format!("{who}（{}から）", hm(at)),
                    None => who,
                }
            }),
        };
        match groups.last_mut() {
            Some(g) if g.resident == q.alert.resident.0 => g.alerts.push(line),
            _ => groups.push(AlertGroup {
                resident: q.alert.resident.0,
                name: q.name,
                district: q.district,
                tel: super::board::tel_href(&q.phone),
                phone: q.phone,
                alerts: vec![line],
            }),
        }
    }
    render(&AlertsPage {
        chrome: session.chrome("対応が必要な人", "/alerts"),
        csrf: session.csrf(),
        backlog,
        groups,
        pager: Pager::new("/alerts", at, alerts.more),
    })
}

/// A time in the town, with the date (12/06 09:05).
fn hm(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&crate::clock::town_offset()).format("%m/%d %H:%M").to_string()
}

/// How long something has been open, in words (「25分」「3時間10分」「2日」).
fn span(d: chrono::Duration) -> String {
    let minutes = d.num_minutes().max(0);
    match minutes {
        m if m < 60 => format!("{m}分"),
        m if m < 24 * 60 => match m % 60 {
            0 => format!("{}時間", m / 60),
            r => format!("{}時間{r}分", m / 60),
        },
        m => format!("{}日", m / (24 * 60)),
    }
}

/// One resident's open alerts, with how to reach them.
struct AlertGroup {
    resident: i64,
    name: String,
    district: String,
    phone: String,
    tel: String,
    alerts: Vec<AlertLine>,
}

/// An open alert as the queue shows it; the danger, when named, leads: 「火事」 tells
/// whom to call before anything else.
struct AlertLine {
    id: i64,
    /// The kind's key, for `data-kind`.
    kind_key: &'static str,
    danger: Option<&'static str>,
    kind: &'static str,
    /// What the check-in said, for an alert an answer raised ('' otherwise).
    said: String,
    raised: String,
    open_for: String,
    /// Who took it on and since when; `None` while nobody has.
    handler: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    csrf: String,
    /// Mail waiting, and the class of the last failure.
    backlog: Option<(u64, String)>,
    groups: Vec<AlertGroup>,
    pager: Pager,
}

/// Checks that the alert is open and within the user's district.
async fn guarded(state: &AppState, session: &Session, id: i64) -> Result<(), PageError> {
    let district = session.scope()?;
    let found = blocking(&state.store, move |s| s.open_alert_district(id)).await?;
    match found {
        Some((_, d)) if district.as_ref().is_none_or(|own| *own == d) => Ok(()),
        // Another district's alert looks the same as a missing one.
        _ => Err(PageError::Refused(StatusCode::NOT_FOUND, "その対応記録は見つかりません。")),
    }
}

pub(super) async fn acknowledge(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, .. }: Submitted,
) -> Result<Response, PageError> {
    guarded(&state, &session, id).await?;
    let (user, now) = (session.user.user, state.clock.now());
    blocking(&state.store, move |s| s.acknowledge_alert(id, user, now)).await?;
    Ok(Redirect::to("/alerts").into_response())
}

pub(super) async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    guarded(&state, &session, id).await?;
    let note: String = form.get("note").map(|n| n.trim().chars().take(2000).collect()).unwrap_or_default();
    if note.is_empty() {
        return Err(PageError::Refused(StatusCode::BAD_REQUEST, "電話や訪問の結果を書いてください。"));
    }
    let (user, now) = (session.user.user, state.clock.now());
    blocking(&state.store, move |s| s.resolve_alert(id, user, &note, now)).await?;
    Ok(Redirect::to("/alerts").into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn open_spans_read_as_words() {
        for (minutes, words) in
            [(0, "0分"), (25, "25分"), (60, "1時間"), (190, "3時間10分"), (2 * 24 * 60 + 5, "2日")]
        {
            assert_eq!(super::span(chrono::Duration::minutes(minutes)), words);
        }
    }
}
