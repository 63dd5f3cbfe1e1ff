//! Today's board: counts by state and the residents most at risk first, for a
//! district or (for town-wide roles) the whole town.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::layout::{Chrome, render};
use super::{PageError, Session};
use crate::routes::{AppState, blocking};
use crate::store::{BoardCounts, Role};

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
    let proposal = match (&disaster, super::disaster::level4_warnings(&weather)) {
        (None, w) if !w.is_empty() && matches!(session.user.role, Role::Admin | Role::Officer) => {
            Some(w.join("、"))
        }
        _ => None,
    };
    let rows = rows
        .into_iter()
        .map(|r| BoardRow {
            state: format!("{:?}", r.state),
            label: r.state.label(),
            id: r.resident.0,
            name: r.display_name,
            district: r.district,
        })
        .collect();
    render(&BoardPage {
        chrome: session.chrome("本日の安否", "/board"),
        area: district.unwrap_or_else(|| "町全体".to_owned()),
        disaster: disaster.map(|d| d.reason),
        proposal,
        counts,
        rows,
    })
}

/// A resident's line on the board; `state` is the `data-state` value (and class).
struct BoardRow {
    state: String,
    label: &'static str,
    id: i64,
    name: String,
    district: String,
}

#[derive(askama::Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    area: String,
    /// The reason of a declaration in force.
    disaster: Option<String>,
    /// Level-4 warnings proposing a declaration.
    proposal: Option<String>,
    counts: BoardCounts,
    rows: Vec<BoardRow>,
}
