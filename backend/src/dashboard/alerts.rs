//! The escalation queue: open alerts, oldest first; acknowledge one, or resolve it
//! with a note of the call or visit. 民生委員 see and act on their district only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{ListPage, PageError, Session, Submitted, escape, page, pager};
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
    let csrf = session.csrf();
    let mut body = String::from("<h1>対応が必要な人</h1>");
    // Mail the server has not taken yet: the ladder is not reaching anyone's phone.
    if let Some(why) = backlog.last_error.as_deref().filter(|_| backlog.waiting > 0) {
        body.push_str(&format!(
            "<p id=\"notify-backlog\" role=\"alert\">メールのお知らせ {} 通がまだ届けられていません（{}）。\
             電話で連絡してください。</p>",
            backlog.waiting,
            escape(why)
        ));
    }
    body.push_str(
        "<table id=\"alerts\"><tr><th>内容</th><th>氏名</th><th>地区</th><th>発生</th><th>対応</th></tr>",
    );
    for (alert, name, district) in alerts.rows {
        let raised = alert.raised.with_timezone(&crate::clock::town_offset()).format("%m/%d %H:%M");
        let ack = if alert.acknowledged {
            "対応中".to_owned()
        } else {
            format!(
                "<form method=\"post\" action=\"/alerts/{id}/acknowledge\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button>対応します</button></form>",
                id = alert.id
            )
        };
        body.push_str(&format!(
            "<tr data-alert=\"{id}\"><td>{}</td><td>{}</td><td>{}</td><td>{raised}</td><td>{ack}\
             <form method=\"post\" action=\"/alerts/{id}/resolve\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input name=\"note\" placeholder=\"電話・訪問の結果\" required><button>解決</button></form></td></tr>",
            match alert.danger {
                // The danger first: 「火事」 tells whom to call before anything else.
                Some(d) => format!("<strong>{}</strong>：{}", d.label(), alert.kind.label()),
                None => alert.kind.label().to_owned(),
            },
            escape(&name),
            escape(&district),
            id = alert.id
        ));
    }
    body.push_str("</table>");
    body.push_str(&pager("/alerts", at, alerts.more));
    Ok(page("対応が必要な人", &body))
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
