//! The escalation queue: open alerts, oldest first; acknowledge one, or resolve it
//! with a note of the call or visit. 民生委員 see and act on their district only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session, Submitted};
use crate::routes::{AppState, blocking};

pub(super) async fn queue(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    let district = session.scope()?;
    let (alerts, backlog) = blocking(&state.store, move |s| {
        Ok((s.alert_queue(district.as_deref(), at)?, s.notify_backlog(district.as_deref())?))
    })
    .await?;
    // Mail the server has not taken yet: the ladder is not reaching anyone's phone.
    let backlog = backlog.last_error.filter(|_| backlog.waiting > 0).map(|why| (backlog.waiting, why));
    let rows = alerts
        .rows
        .into_iter()
        .map(|(alert, name, district)| AlertLine {
            id: alert.id,
            danger: alert.danger.map(|d| d.label()),
            kind: alert.kind.label(),
            name,
            district,
            raised: alert
                .raised
                .with_timezone(&crate::clock::town_offset())
                .format("%m/%d %H:%M")
                .to_string(),
            acknowledged: alert.acknowledged,
        })
        .collect();
    render(&AlertsPage {
        chrome: session.chrome("対応が必要な人", "/alerts"),
        csrf: session.csrf(),
        backlog,
        rows,
        pager: Pager::new("/alerts", at, alerts.more),
    })
}

/// An open alert as the queue shows it; the danger, when named, leads: 「火事」 tells
/// whom to call before anything else.
struct AlertLine {
    id: i64,
    danger: Option<&'static str>,
    kind: &'static str,
    name: String,
    district: String,
    raised: String,
    acknowledged: bool,
}

#[derive(askama::Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    csrf: String,
    /// Mails waiting, and the mail server's last refusal.
    backlog: Option<(u64, String)>,
    rows: Vec<AlertLine>,
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
