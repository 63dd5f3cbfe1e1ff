//! Today's board: counts by state and the residents most at risk first, for a
//! district or (for town-wide roles) the whole town.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::{PageError, Session, escape, page};
use crate::routes::{AppState, blocking};
use crate::store::Role;

/// Rows shown at once; the counts always cover everyone.
const ROWS: usize = 200;

pub(super) async fn board(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let asked = query.get("district").filter(|d| !d.is_empty()).cloned();
    // 民生委員 see their own district only; asking for another is refused, not widened.
    let district = match (session.user.role, &session.user.district, asked) {
        (Role::Minsei, Some(own), Some(asked)) if asked != *own => {
            return Err(PageError::Refused(StatusCode::FORBIDDEN, "この地区は表示できません。"));
        }
        (Role::Minsei, Some(own), _) => Some(own.clone()),
        (Role::Minsei, None, _) => {
            return Err(PageError::Refused(StatusCode::FORBIDDEN, "担当地区が設定されていません。"));
        }
        (_, _, asked) => asked,
    };
    let now = state.clock.now();
    let d = district.clone();
    let (counts, rows, disaster, weather) = blocking(&state.store, move |s| {
        Ok((
            s.board_counts(d.as_deref(), now)?,
            s.board_rows(d.as_deref(), now, ROWS)?,
            s.active_disaster()?,
            s.weather()?,
        ))
    })
    .await?;
    // A declaration in force heads the board; a warning at alert level 4 or above
    // proposes one to those who may declare it.
    let banner = match (&disaster, super::disaster::level4_warnings(&weather)) {
        (Some(d), _) => format!(
            "<p id=\"disaster\" role=\"alert\">災害モード：{}（<a href=\"/roster\">要支援者名簿</a>）</p>",
            escape(&d.reason)
        ),
        (None, w) if !w.is_empty() && matches!(session.user.role, Role::Admin | Role::Officer) => format!(
            "<p id=\"proposal\" role=\"alert\">警戒レベル4以上に当たる情報が出ています（{}）。\
             <a href=\"/disaster\">災害モードを宣言する</a></p>",
            escape(&w.join("、"))
        ),
        _ => String::new(),
    };
    let mut body = banner;
    body.push_str(&format!(
        "<h1>本日の安否 {}</h1><form method=\"post\" action=\"/logout\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>ログアウト</button></form>\
         <table id=\"counts\"><tr><th>確認済み</th><th>未確認</th><th>要支援</th><th>一時停止</th><th>確認待ち</th><th>端末オフライン</th></tr>\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>\
         <table id=\"residents\"><tr><th>状態</th><th>氏名</th><th>地区</th></tr>",
        escape(district.as_deref().unwrap_or("町全体")),
        session.csrf(),
        counts.confirmed,
        counts.unconfirmed,
        counts.needs_help,
        counts.paused,
        counts.pending,
        counts.device_offline
    ));
    for r in rows {
        body.push_str(&format!(
            "<tr data-state=\"{:?}\"><td>{}</td><td><a href=\"/residents/{}\">{}</a></td><td>{}</td></tr>",
            r.state,
            r.state.label(),
            r.resident.0,
            escape(&r.display_name),
            escape(&r.district)
        ));
    }
    body.push_str("</table>");
    Ok(page("本日の安否", &body))
}
