//! A resident's page: today's status, the recent timeline and status history.
//! Every view is written to the audit log before anything is shown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::{PageError, Session, escape, page};
use crate::clock::{local_day, town_offset};
use crate::routes::{AppState, blocking};
use crate::store::{ResidentId, Role, Status};

/// Timeline entries shown.
const EVENTS: usize = 100;

fn kind_label(kind: &str) -> &str {
    match kind {
        "check_in" => "体調確認",
        "help_request" => "助けを求めた",
        "exercise_done" => "体操",
        "safety_answer" => "安否確認の回答",
        "snow_watch_started" => "雪かき見守り開始",
        "snow_watch_ended" => "雪かき見守り終了",
        "snow_watch_alert" => "雪かき見守りの警告",
        "card_link_requested" => "カード登録の申請",
        "misunderstanding" => "聞き取り違い",
        other => other,
    }
}

fn status_label(s: Option<Status>) -> &'static str {
    match s {
        None => "確認待ち",
        Some(Status::Confirmed) => "確認済み",
        Some(Status::Unconfirmed) => "未確認",
        Some(Status::NeedsHelp) => "要支援",
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let resident = ResidentId(id);
    let now = state.clock.now();
    let hidden = || PageError::Refused(StatusCode::NOT_FOUND, "その住民は見つかりません。");
    let district = blocking(&state.store, move |s| s.resident_exists(resident)).await?.ok_or_else(hidden)?;
    if session.user.role == Role::Minsei && session.user.district.as_deref() != Some(district.as_str()) {
        return Err(hidden());
    }
    let user = session.user.user;
    let (status, timeline, history) = blocking(&state.store, move |s| {
        s.audit(user, "view", Some(resident), now)?;
        Ok((s.status(resident, local_day(now))?, s.timeline(resident, EVENTS)?, s.status_history(resident)?))
    })
    .await?;
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string();
    let mut body = format!(
        "<h1>住民 {id} ({})</h1><p id=\"today\">本日: {}</p><h2>記録</h2><table id=\"timeline\">\
         <tr><th>受信</th><th>端末の時刻</th><th>内容</th></tr>",
        escape(&district),
        status_label(status)
    );
    for e in timeline {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            time(e.server_time),
            time(e.device_time),
            escape(kind_label(&e.kind))
        ));
    }
    body.push_str("</table><h2>状態の変化</h2><table id=\"history\"><tr><th>日</th><th>変化</th><th>誰が</th><th>いつ</th></tr>");
    for c in history.iter().rev().take(EVENTS) {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.day),
            status_label(c.from),
            status_label(Some(c.to)),
            escape(&c.actor),
            time(c.at)
        ));
    }
    body.push_str("</table>");
    Ok(page("住民", &body))
}
