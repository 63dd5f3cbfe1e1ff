//! Staff views of tablets: the device-health list (least recently heard from
//! first), one-time enrolment codes for a resident's tablet, and revocation.
//! For staff, officers and admins; not for 民生委員.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{ListPage, PageError, Session, Submitted, escape, page, pager};
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
    let csrf = session.csrf();
    let mut body = format!(
        "<h1>端末の状態</h1><form method=\"post\" action=\"/devices/enrol\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label>住民番号 <input name=\"resident\" inputmode=\"numeric\" required></label><button>登録コードを発行</button></form>\
         <table id=\"devices\"><tr><th>端末</th><th>地区</th><th>最終連絡</th><th>マイク/リーダー/スピーカー</th>\
         <th>未送信</th><th>空き容量</th><th>版</th><th>方言辞書</th><th></th></tr>"
    );
    for d in devices.rows {
        let seen = d.last_seen.map_or("なし".to_owned(), |t| {
            t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string()
        });
        let action = if d.revoked {
            "無効".to_owned()
        } else {
            format!(
                "<form method=\"post\" action=\"/devices/{}/revoke\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button>無効にする</button></form>",
                d.device.0
            )
        };
        body.push_str(&format!(
            "<tr data-device=\"{}\"><td>{}</td><td>{}</td><td>{seen}</td><td>{}/{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            d.device.0,
            d.device.0,
            escape(d.district.as_deref().unwrap_or("-")),
            d.parts[0].as_str(),
            d.parts[1].as_str(),
            d.parts[2].as_str(),
            d.outbox_len.map_or("-".to_owned(), |v| v.to_string()),
            d.free_storage_mib.map_or("-".to_owned(), |v| format!("{v} MiB")),
            escape(&d.app_version),
            bundle_cell(&d, newest),
        ));
    }
    body.push_str("</table>");
    body.push_str(&pager("/devices", at, devices.more));
    Ok(page("端末の状態", &body))
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
    Ok(page(
        "登録コード",
        &format!(
            "<h1>登録コード</h1><p>タブレットの登録画面で入力してください(24時間有効、1回限り)。</p>\
             <p id=\"code\" style=\"font-size:2em\">{code}</p><a href=\"/devices\">戻る</a>"
        ),
    ))
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
