//! Today's board: counts by state and the residents most at risk first, for a
//! district or (for town-wide roles) the whole town.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;

use super::layout::{Chrome, DistrictChoice, render};
use super::{PageError, Session};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{BoardState, CheckInAnswer, Role};

/// Rows shown at once; the counts always cover everyone.
const ROWS: usize = 200;

pub(super) async fn board(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
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
    let user = session.user.user;
    // The page refreshing itself keeps the officer's own last look; a visit is a look.
    let refreshed_since = headers
        .get("x-mimamori-since")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(chrono::DateTime::from_timestamp_millis);
    let town_wide = session.user.role != Role::Minsei;
    let (counts, rows, disaster, weather, since, districts) = blocking(&state.store, move |s| {
        let since = match refreshed_since {
            Some(since) => Some(since),
            None => s.look_at_board(user, now)?,
        };
        Ok((
            s.board_counts(d.as_deref(), now)?,
            s.board_rows(d.as_deref(), now, ROWS)?,
            s.active_disaster()?,
            s.weather()?,
            since,
            if town_wide { s.district_sizes()? } else { Vec::new() },
        ))
    })
    .await?;
    // A declaration in force heads the board; a warning at alert level 4 or above
    // proposes one to those who may declare it.
    let warnings = super::disaster::warnings_in_force(&weather);
    let level4 = super::disaster::level4(&warnings);
    let proposal = match (&disaster, level4) {
        (None, w) if !w.is_empty() && matches!(session.user.role, Role::Admin | Role::Officer) => {
            Some(w.join("、"))
        }
        _ => None,
    };
    let shown = rows.len() as u64;
    let rows = rows
        .into_iter()
        .map(|r| BoardRow {
            state: format!("{:?}", r.state),
            label: r.state.label(),
            changed: matches!((r.changed_at, since), (Some(c), Some(s)) if c > s),
            id: r.resident.0,
            name: r.display_name,
            time: r.checked_in.map(hm).unwrap_or_default(),
            said: CheckInAnswer::labels(&r.said),
            tel: tel_href(&r.phone),
            phone: r.phone,
            district: r.district,
        })
        .collect();
    let total: u64 = BoardState::ALL.iter().map(|&s| counts.of(s)).sum();
    render(&BoardPage {
        chrome: session.chrome("本日の安否", "/board"),
        area: district.clone().unwrap_or_else(|| "町全体".to_owned()),
        disaster: disaster.map(|d| d.reason),
        proposal,
        warnings: warnings.join("、"),
        counts: BoardState::ALL
            .iter()
            .map(|&s| Count { state: format!("{s:?}"), label: s.label(), n: counts.of(s) })
            .collect(),
        updated: hm(now),
        since_ms: since.unwrap_or(now).timestamp_millis(),
        since: since.map(hm),
        more: total.saturating_sub(shown),
        districts: DistrictChoice::all(districts, district.as_deref()),
        rows,
    })
}

/// A time of day in the town (09:05).
fn hm(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&town_offset()).format("%H:%M").to_string()
}

/// A `tel:` address for a phone number as typed (digits and a leading + kept; the
/// hyphens and spaces people write are dropped); empty when there is no number.
pub(super) fn tel_href(phone: &str) -> String {
    let digits: String = phone
        .trim()
        .char_indices()
        .filter(|&(i, c)| c.is_ascii_digit() || (i == 0 && c == '+'))
        .map(|(_, c)| c)
        .collect();
    if digits.chars().any(|c| c.is_ascii_digit()) { format!("tel:{digits}") } else { String::new() }
}

/// One state's count, in risk order.
struct Count {
    state: String,
    label: &'static str,
    n: u64,
}

/// A resident's line on the board; `state` is the `data-state` value (and class).
struct BoardRow {
    state: String,
    label: &'static str,
    /// Today's status changed since the officer last looked.
    changed: bool,
    id: i64,
    name: String,
    /// When today's check-in came ('' when none did).
    time: String,
    /// What it said (「具合が悪い・痛みがある（膝）」).
    said: String,
    phone: String,
    /// `tel:` link for the phone ('' when none).
    tel: String,
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
    /// Every JMA warning and advisory in force for the town ('' when none).
    warnings: String,
    counts: Vec<Count>,
    /// The time of this page, and of the officer's previous look.
    updated: String,
    since: Option<String>,
    since_ms: i64,
    /// Residents beyond the rows shown (the counts cover everyone).
    more: u64,
    /// The districts a town-wide role may choose (name, residents, chosen); empty
    /// for a 民生委員.
    districts: Vec<DistrictChoice>,
    rows: Vec<BoardRow>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn phone_numbers_become_tel_links_of_digits() {
        for (typed, href) in [
            ("0237-74-2111", "tel:0237742111"),
            (" 090 1234 5678 ", "tel:09012345678"),
            ("+81-237-74-2111", "tel:+81237742111"),
            ("", ""),
            ("なし", ""),
            ("javascript:alert(1)", "tel:1"),
        ] {
            assert_eq!(super::tel_href(typed), href, "{typed:?}");
        }
    }
}
