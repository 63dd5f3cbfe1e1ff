//! CSV exports for monthly reports: per resident, days confirmed / unconfirmed /
//! needing help and exercise sessions. Ids and districts only, no names.
//! For officers and admins.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike as _, NaiveDate};

use super::{PageError, Session};
use crate::routes::{AppState, blocking};
use crate::store::Role;

/// The report as CSV (the `csv` crate's writer quotes what needs it), CRLF line
/// ends, and text cells defused so a spreadsheet never runs one as a formula.
fn report_csv(rows: &[crate::store::ReportRow]) -> Result<String, csv::Error> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    out.write_record([
        "resident_id",
        "district",
        "confirmed_days",
        "unconfirmed_days",
        "needs_help_days",
        "exercise_sessions",
    ])?;
    for r in rows {
        out.write_record([
            r.resident.0.to_string().as_str(),
            &super::spreadsheet_cell(&r.district),
            &r.confirmed_days.to_string(),
            &r.unconfirmed_days.to_string(),
            &r.needs_help_days.to_string(),
            &r.exercise_sessions.to_string(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("the writer writes the UTF-8 it is given"))
}

pub(super) async fn monthly(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    if !matches!(session.user.role, Role::Admin | Role::Officer) {
        return Err(PageError::Refused(StatusCode::FORBIDDEN, "出力する権限がありません。"));
    }
    let bad = || PageError::Refused(StatusCode::BAD_REQUEST, "月は 2026-11 の形で指定してください。");
    let month = query.get("month").ok_or_else(bad)?;
    let from = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let until = if from.month() == 12 {
        NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)
    }
    .ok_or_else(bad)?;
    let rows = blocking(&state.store, move |s| s.monthly_report(from, until)).await?;
    let csv = report_csv(&rows).map_err(|e| {
        tracing::error!(error = %e, "cannot write the monthly CSV");
        PageError::Internal
    })?;
    tracing::info!(user = session.user.user.0, "monthly report exported");
    let disposition = format!("attachment; filename=\"mimamori-{}.csv\"", from.format("%Y-%m"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
