//! The visit list: whom to visit first (needing help, unconfirmed, device offline,
//! then the longest unvisited), and recording a visit. 民生委員 see and record their
//! district only; every visit is audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, render};
use super::{PageError, Session, Submitted};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::ResidentId;

const ROWS: usize = 200;
const MAX_NOTE_CHARS: usize = 2000;

pub(super) async fn list(State(state): State<AppState>, session: Session) -> Result<Html<String>, PageError> {
    let district = session.scope()?;
    let now = state.clock.now();
    let rows = blocking(&state.store, move |s| s.visit_list(district.as_deref(), now, ROWS)).await?;
    let rows = rows
        .into_iter()
        .map(|r| VisitLine {
            id: r.resident.0,
            state: format!("{:?}", r.state),
            label: r.state.label(),
            last_visit: r.last_visit.map_or("記録なし".to_owned(), |t| {
                t.with_timezone(&town_offset()).format("%m/%d").to_string()
            }),
            name: r.display_name,
            district: r.district,
        })
        .collect();
    render(&VisitsPage { chrome: session.chrome("訪問リスト", "/visits"), csrf: session.csrf(), rows })
}

/// A resident to visit; `state` is the `data-state` value.
struct VisitLine {
    id: i64,
    state: String,
    label: &'static str,
    name: String,
    district: String,
    last_visit: String,
}

#[derive(askama::Template)]
#[template(path = "visits.html")]
struct VisitsPage {
    chrome: Chrome,
    csrf: String,
    rows: Vec<VisitLine>,
}

impl VisitsPage {
    const MAX_NOTE_CHARS: usize = MAX_NOTE_CHARS;
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
