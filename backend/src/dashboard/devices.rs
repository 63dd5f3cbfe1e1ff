//! Staff views of tablets: the device-health list (least recently heard from
//! first), one-time enrolment codes for a resident's tablet, and revocation.
//! For staff, officers and admins; not for 民生委員.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session, Submitted};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{DeviceId, ResidentId};

const STAFF_ONLY: &str = "端末の管理は職員が行います。";

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let (devices, newest) = blocking(&state.store, move |s| {
        Ok((s.device_list(None, at)?, s.bundles()?.first().map(|b| b.version)))
    })
    .await?;
    let rows = devices
        .rows
        .iter()
        .map(|d| DeviceLine {
            id: d.device.0,
            district: d.district.clone().unwrap_or_else(|| "-".to_owned()),
            seen: d.last_seen.map_or("なし".to_owned(), |t| {
                t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string()
            }),
            parts: [d.parts[0].as_str(), d.parts[1].as_str(), d.parts[2].as_str()],
            outbox: d.outbox_len.map_or("-".to_owned(), |v| v.to_string()),
            free: d.free_storage_mib.map_or("-".to_owned(), |v| format!("{v} MiB")),
            version: d.app_version.clone(),
            bundle: bundle_cell(d, newest),
            revoked: d.revoked,
        })
        .collect();
    render(&DevicesPage {
        chrome: session.chrome("端末の状態", "/devices"),
        csrf: session.csrf(),
        rows,
        pager: Pager::new("/devices", at, devices.more),
    })
}

/// A tablet's row on the health list.
struct DeviceLine {
    id: i64,
    district: String,
    seen: String,
    /// Microphone, card reader, speaker.
    parts: [&'static str; 3],
    outbox: String,
    free: String,
    version: String,
    bundle: String,
    revoked: bool,
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
fn bundle_cell(d: &crate::store::DeviceRow, newest: Option<u32>) -> String {
    if d.last_seen.is_none() {
        return "-".to_owned();
    }
    let has = d.dialect_bundle.map_or("初期版".to_owned(), |v| format!("v{v}"));
    match newest {
        Some(n) if d.dialect_bundle.is_none_or(|v| v < n) => format!("{has}(v{n} 未適用)"),
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
