//! The visit list: whom to visit first (needing help, unconfirmed, device offline,
//! then the longest unvisited), and recording a visit. 民生委員 see and record their
//! district only; every visit is audited.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, DistrictChoice, render};
use super::{PageError, Session, Submitted};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{CheckInAnswer, ResidentId, Role};

const ROWS: usize = 200;
const MAX_NOTE_CHARS: usize = 2000;

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    // A 民生委員's own district always; town-wide roles may choose one (the printed
    // list is one district's round).
    let district = match session.scope()? {
        Some(own) => Some(own),
        None => query.get("district").filter(|d| !d.is_empty()).cloned(),
    };
    let now = state.clock.now();
    let town_wide = session.user.role != Role::Minsei;
    let d = district.clone();
    let (rows, districts) = blocking(&state.store, move |s| {
        Ok((s.visit_list(d.as_deref(), now, ROWS)?, if town_wide { s.district_sizes()? } else { Vec::new() }))
    })
    .await?;
    let day = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%m/%d").to_string();
    let rows = rows
        .into_iter()
        .map(|r| VisitLine {
            id: r.resident.0,
            state: format!("{:?}", r.state),
            label: r.state.label(),
            last_visit: r.last_visit.map_or("記録なし".to_owned(), day),
            said: match r.said_at {
                Some(at) if !r.said.is_empty() => {
                    format!("{}（{}）", CheckInAnswer::labels(&r.said), day(at))
                }
                _ => String::new(),
            },
            concerns: r.concerns.iter().map(|k| k.label()).collect::<Vec<_>>().join("・"),
            tel: super::board::tel_href(&r.phone),
            phone: r.phone,
            address: r.address,
            name: r.display_name,
            district: r.district,
        })
        .collect();
    render(&VisitsPage {
        chrome: session.chrome("訪問リスト", "/visits"),
        csrf: session.csrf(),
        area: district.clone().unwrap_or_else(|| "町全体".to_owned()),
        printed: now.with_timezone(&town_offset()).format("%Y年%m月%d日 %H:%M").to_string(),
        districts: DistrictChoice::all(districts, district.as_deref()),
        rows,
    })
}

/// A resident to visit; `state` is the `data-state` value.
struct VisitLine {
    id: i64,
    state: String,
    label: &'static str,
    name: String,
    district: String,
    address: String,
    phone: String,
    /// `tel:` link for the phone ('' when none).
    tel: String,
    /// The latest check-in's answers and its date ('' when none).
    said: String,
    /// Why to visit soon though today looks calm (「椅子から立つ回数が減った」; '' when nothing).
    concerns: String,
    last_visit: String,
}

#[derive(askama::Template)]
#[template(path = "visits.html")]
struct VisitsPage {
    chrome: Chrome,
    csrf: String,
    /// The district listed, or the town; and when the page was made (for paper).
    area: String,
    printed: String,
    /// The districts a town-wide role may choose (name, residents, chosen).
    districts: Vec<DistrictChoice>,
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
