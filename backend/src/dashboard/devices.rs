//! Staff views of tablets: the device list by resident name (silent tablets first,
//! then those with a faulty part), one-time enrolment codes for a resident's tablet, and revocation.
//! For staff, officers and admins; not for 民生委員.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session, Submitted};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{Condition, DeviceId, HouseholdOutcome, Part, ResidentId};
use chrono::{DateTime, Utc};

const STAFF_ONLY: &str = "端末の管理は職員が行います。";

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let now = state.clock.now();
    let (devices, newest) = blocking(&state.store, move |s| {
        Ok((s.device_list(None, now, at)?, s.bundles()?.first().map(|b| b.version)))
    })
    .await?;
    let rows = devices.rows.iter().map(|d| DeviceLine::of(d, newest, now)).collect();
    render(&DevicesPage {
        chrome: session.chrome("端末の状態", "/devices"),
        csrf: session.csrf(),
        rows,
        pager: Pager::new("/devices", at, devices.more),
    })
}

/// A tablet's row on the list, in words.
struct DeviceLine {
    id: i64,
    resident: Option<i64>,
    name: String,
    household: Vec<(i64, String)>,
    district: String,
    /// The stylesheet's key and the word for the tablet's condition.
    state: &'static str,
    state_label: &'static str,
    seen: String,
    ago: String,
    /// Microphone, card reader, speaker.
    parts: [&'static str; 3],
    outbox: String,
    free: String,
    version: String,
    bundle: String,
    revoked: bool,
}

impl DeviceLine {
    fn of(d: &crate::store::DeviceRow, newest: Option<u32>, now: DateTime<Utc>) -> DeviceLine {
        let health = d.health.as_ref();
        let part = |p: fn(&crate::store::DeviceHealth) -> Part| health.map_or("-", |(h, _)| p(h).label());
        DeviceLine {
            id: d.device.0,
            resident: d.resident.map(|r| r.0),
            name: d.name.clone().unwrap_or_else(|| "(住民なし)".to_owned()),
            household: d.household.iter().map(|(r, n)| (r.0, n.clone())).collect(),
            district: d.district.clone().unwrap_or_else(|| "-".to_owned()),
            state: d.condition.key(),
            state_label: d.condition.label(),
            seen: health.map_or("なし".to_owned(), |(_, t)| {
                t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string()
            }),
            ago: health.map_or(String::new(), |(_, t)| ago(now - *t)),
            parts: [part(|h| h.microphone), part(|h| h.reader), part(|h| h.speaker)],
            outbox: health.map_or("-".to_owned(), |(h, _)| format!("{}件", h.outbox_len)),
            free: health.map_or("-".to_owned(), |(h, _)| format!("{} MiB", h.free_storage_mib)),
            version: health.map_or("-".to_owned(), |(h, _)| h.app_version.clone()),
            bundle: bundle_cell(health.map(|(h, _)| h), newest),
            revoked: d.condition == Condition::Revoked,
        }
    }
}

/// How long ago, in the words staff say: たった今, 5分前, 3時間前, 2日前.
fn ago(elapsed: chrono::Duration) -> String {
    match (elapsed.num_minutes(), elapsed.num_hours(), elapsed.num_days()) {
        (m, _, _) if m < 1 => "たった今".to_owned(),
        (m, 0, _) => format!("{m}分前"),
        (_, h, 0) => format!("{h}時間前"),
        (_, _, d) => format!("{d}日前"),
    }
}

#[derive(askama::Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    chrome: Chrome,
    csrf: String,
    rows: Vec<DeviceLine>,
    pager: Pager,
}

#[derive(askama::Template)]
#[template(path = "enrolment_code.html")]
struct CodePage {
    chrome: Chrome,
    code: String,
}

/// The dialect bundle a tablet reported, flagged when a newer one is published and
/// the tablet has not taken it yet (staff look for why: offline, full disk).
fn bundle_cell(health: Option<&crate::store::DeviceHealth>, newest: Option<u32>) -> String {
    let Some(health) = health else { return "-".to_owned() };
    let has = health.dialect_bundle.map_or("初期版".to_owned(), |v| format!("v{v}"));
    match newest {
        Some(n) if health.dialect_bundle.is_none_or(|v| v < n) => format!("{has}(v{n} 未適用)"),
        _ => has,
    }
}

pub(super) async fn enrol(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let resident = form
        .get("resident")
        .and_then(|r| r.trim().parse::<i64>().ok())
        .map(ResidentId)
        .ok_or(PageError::Refused(StatusCode::BAD_REQUEST, "住民番号は数字で入力してください。"))?;
    let now = state.clock.now();
    let code = blocking(&state.store, move |s| match s.resident_exists(resident)? {
        Some(_) => s.create_enrolment_code(Some(resident), now).map(Some),
        None => Ok(None),
    })
    .await?
    .ok_or(PageError::Refused(StatusCode::NOT_FOUND, "その住民は登録されていません。"))?;
    tracing::info!(resident = resident.0, user = session.user.user.0, "enrolment code issued");
    render(&CodePage { chrome: session.chrome("登録コード", "/devices"), code })
}

/// A resident who shares another's tablet (a couple, a parent living with a child):
/// `resident` joins the household of `with`.
pub(super) async fn join_household(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let number = |field: &str| {
        form.get(field)
            .and_then(|r| r.trim().parse::<i64>().ok())
            .map(ResidentId)
            .ok_or(PageError::Refused(StatusCode::BAD_REQUEST, "住民番号は数字で入力してください。"))
    };
    let (resident, with) = (number("resident")?, number("with")?);
    let (user, now) = (session.user.user, state.clock.now());
    let refused = |why| Err(PageError::Refused(StatusCode::CONFLICT, why));
    match blocking(&state.store, move |s| s.join_household(resident, with, user, now)).await? {
        HouseholdOutcome::Joined | HouseholdOutcome::AlreadyThere => {
            tracing::info!(resident = resident.0, with = with.0, user = user.0, "household joined");
            Ok(Redirect::to("/devices").into_response())
        }
        HouseholdOutcome::NoSuchResident => {
            Err(PageError::Refused(StatusCode::NOT_FOUND, "その住民は登録されていません。"))
        }
        HouseholdOutcome::NoTablet => {
            refused("同居の方の端末が登録されていません。先に端末を登録してください。")
        }
        HouseholdOutcome::HasOwnTablet => refused(
            "この方は自分の端末を使っているか、ほかの方がこの方の端末を使っています。先にその端末を無効にしてください。",
        ),
        HouseholdOutcome::Same => refused("同じ住民番号です。同居の方の住民番号を入力してください。"),
    }
}

/// A resident no longer shares the tablet (moved out, into care): the tablet forgets
/// them.
pub(super) async fn leave_household(
    State(state): State<AppState>,
    Path(resident): Path<i64>,
    Submitted { session, form: _ }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let (user, now) = (session.user.user, state.clock.now());
    if !blocking(&state.store, move |s| s.leave_household(ResidentId(resident), user, now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "この方はほかの方の端末を使っていません。"));
    }
    tracing::info!(resident, user = user.0, "household left");
    Ok(Redirect::to("/devices").into_response())
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form: _ }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let now = state.clock.now();
    if !blocking(&state.store, move |s| s.revoke_device(DeviceId(id), now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "有効な端末が見つかりません。"));
    }
    tracing::info!(device = id, user = session.user.user.0, "device revoked");
    Ok(Redirect::to("/devices").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_long_ago_is_said_in_words() {
        for (minutes, words) in
            [(0, "たった今"), (5, "5分前"), (59, "59分前"), (60, "1時間前"), (1500, "1日前")]
        {
            assert_eq!(ago(chrono::Duration::minutes(minutes)), words);
        }
    }
}
