//! The monthly report: per resident, days confirmed / unconfirmed / needing help
//! and exercise sessions. As CSV (ids and districts only, no names: it leaves the
//! office) and as the office's printable page with names, 要確認 days on their own
//! and district totals. Both for officers and admins alone ([`may_report`]).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike as _, NaiveDate};

use super::layout::render;
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

/// Who may have the report, as CSV or page: officers and admins.
fn may_report(session: &Session) -> Result<(), PageError> {
    if matches!(session.user.role, Role::Admin | Role::Officer) {
        Ok(())
    } else {
        Err(PageError::Refused(StatusCode::FORBIDDEN, "出力する権限がありません。"))
    }
}

/// The first day of `month` (`2026-11`) and of the month after it.
fn month_days(month: &str) -> Result<(NaiveDate, NaiveDate), PageError> {
    let bad = || PageError::Refused(StatusCode::BAD_REQUEST, "月は 2026-11 の形で指定してください。");
    let from = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let until = if from.month() == 12 {
        NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)
    }
    .ok_or_else(bad)?;
    Ok((from, until))
}

pub(super) async fn monthly(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    may_report(&session)?;
    let month = query
        .get("month")
        .ok_or(PageError::Refused(StatusCode::BAD_REQUEST, "月は 2026-11 の形で指定してください。"))?;
    let (from, until) = month_days(month)?;
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

/// `GET /reports/monthly?month=YYYY-MM` (default: last month in the town): the
/// report with names, per district with its totals, printable on A4.
pub(super) async fn report(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    may_report(&session)?;
    let (from, until) = match query.get("month").filter(|m| !m.is_empty()) {
        Some(month) => month_days(month)?,
        None => {
            let today = state.clock.now().with_timezone(&crate::clock::town_offset()).date_naive();
            let this_month = today.with_day(1).expect("every month has a first day");
            let last = this_month.pred_opt().and_then(|d| d.with_day(1)).ok_or(PageError::Internal)?;
            (last, this_month)
        }
    };
    let rows = blocking(&state.store, move |s| s.monthly_report(from, until)).await?;
    let mut districts: Vec<District> = Vec::new();
    for r in rows {
        let line = Figures {
            confirmed: r.confirmed_days - r.attention_days,
            attention: r.attention_days,
            unconfirmed: r.unconfirmed_days,
            needs_help: r.needs_help_days,
            exercise: r.exercise_sessions,
        };
        // The store gives the rows by district: a new district starts a new table.
        if districts.last().is_none_or(|d| d.name != r.district) {
            districts.push(District {
                name: r.district.clone(),
                rows: Vec::new(),
                total: Figures::default(),
            });
        }
        let district = districts.last_mut().expect("pushed above");
        district.total.add(&line);
        district.rows.push((r.resident.0, r.name, line));
    }
    tracing::info!(user = session.user.user.0, "monthly report viewed");
    let month = from.format("%Y-%m").to_string();
    render(&ReportPage {
        chrome: session.chrome(format!("月次報告 {}年{}月", from.year(), from.month()), "/reports/monthly"),
        heading: format!("月次報告 {}年{}月", from.year(), from.month()),
        month,
        districts,
    })
}

/// A resident's or a district's days and sessions in the month.
#[derive(Debug, Default)]
struct Figures {
    /// Days confirmed without 要確認.
    confirmed: u64,
    attention: u64,
    unconfirmed: u64,
    needs_help: u64,
    exercise: u64,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.confirmed += other.confirmed;
        self.attention += other.attention;
        self.unconfirmed += other.unconfirmed;
        self.needs_help += other.needs_help;
        self.exercise += other.exercise;
    }
}

/// A district's table: (resident id, name, figures) and the totals.
struct District {
    name: String,
    rows: Vec<(i64, String, Figures)>,
    total: Figures,
}

#[derive(askama::Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: super::Chrome,
    heading: String,
    /// `YYYY-MM`, for the month field and the CSV's link.
    month: String,
    districts: Vec<District>,
}
