//! The visit list: whom to visit first (needing help, unconfirmed, device offline,
//! then the longest unvisited), and recording a visit. 民生委員 see and record their
//! district only; every visit is audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{PageError, Session, Submitted, escape, page};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::ResidentId;

const ROWS: usize = 200;
const MAX_NOTE_CHARS: usize = 2000;

pub(super) async fn list(State(state): State<AppState>, session: Session) -> Result<Html<String>, PageError> {
    let district = session.scope()?;
    let now = state.clock.now();
    let rows = blocking(&state.store, move |s| s.visit_list(district.as_deref(), now, ROWS)).await?;
    let csrf = session.csrf();
    let mut body = String::from(
        "<h1>訪問リスト</h1><p>上から順に訪問してください(要支援、未確認、端末オフライン、訪問から日が経っている順)。</p>\
         <table id=\"visits\"><tr><th>状態</th><th>氏名</th><th>地区</th><th>最後の訪問</th><th>訪問の記録</th></tr>",
    );
    for r in rows {
        body.push_str(&format!(
            "<tr data-resident=\"{id}\" data-state=\"{:?}\"><td>{}</td><td><a href=\"/residents/{id}\">{}</a></td>\
             <td>{}</td><td>{}</td><td><form method=\"post\" action=\"/visits/{id}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input name=\"note\" placeholder=\"訪問の結果\" required maxlength=\"{MAX_NOTE_CHARS}\"><button>記録</button></form></td></tr>",
            r.state,
            r.state.label(),
            escape(&r.display_name),
            escape(&r.district),
            r.last_visit.map_or("記録なし".to_owned(), |t| t.with_timezone(&town_offset()).format("%m/%d").to_string()),
            id = r.resident.0,
        ));
    }
    body.push_str("</table>");
    Ok(page("訪問リスト", &body))
}

pub(super) async fn record(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    let district = session.scope()?;
    let resident = ResidentId(id);
    let found = blocking(&state.store, move |s| s.resident_exists(resident)).await?;
    match found {
        Some(d) if district.as_ref().is_none_or(|own| *own == d) => {}
        _ => return Err(PageError::Refused(StatusCode::NOT_FOUND, "その住民は見つかりません。")),
    }
    let note: String = form.get("note").map(|n| n.trim().to_owned()).unwrap_or_default();
    if note.is_empty() || note.chars().count() > MAX_NOTE_CHARS {
        return Err(PageError::Refused(StatusCode::BAD_REQUEST, "訪問の結果を書いてください。"));
    }
    let (user, now) = (session.user.user, state.clock.now());
    blocking(&state.store, move |s| s.record_visit(resident, &note, user, now)).await?;
    tracing::info!(resident = id, user = user.0, "visit recorded");
    Ok(Redirect::to("/visits").into_response())
}
