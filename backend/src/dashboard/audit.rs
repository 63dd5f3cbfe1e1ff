//! The audit trail, for admins only: who viewed or changed what, about whom and
//! when, newest first, filtered by user, action and resident. Viewing it is
//! itself audited.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{AuditFilter, ResidentId, Role, UserId};

const ADMINS_ONLY: &str = "監査記録は管理者だけが見られます。";

/// The action key viewing this page is recorded under.
const VIEW_ACTION: &str = "audit_view";

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    if session.user.role != Role::Admin {
        return Err(PageError::Refused(StatusCode::FORBIDDEN, ADMINS_ONLY));
    }
    let id = |k: &str| query.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let filter = AuditFilter {
        user: id("user").map(UserId),
        // Only a key the log could hold: kept out of the pager's links otherwise.
        action: query
            .get("action")
            .filter(|a| !a.is_empty() && a.len() <= 64 && a.chars().all(key_char))
            .cloned(),
        resident: id("resident").map(ResidentId),
    };
    let (user, now) = (session.user.user, state.clock.now());
    let wanted = filter.clone();
    let (lines, choices) = blocking(&state.store, move |s| {
        s.audit(user, VIEW_ACTION, wanted.resident, now)?;
        Ok((s.audit_log(&wanted, at)?, s.audit_choices()?))
    })
    .await?;
    let rows = lines
        .rows
        .into_iter()
        .map(|e| AuditRow {
            at: e.at.with_timezone(&town_offset()).format("%Y/%m/%d %H:%M").to_string(),
            who: e.user.map_or_else(|| "自動(システム)".to_owned(), |(_, login)| login),
            what: action_label(&e.action),
            resident: e.resident.map(|(r, name)| (r.0, name)),
            account: e.account,
        })
        .collect();
    let option = |value: String, label: String, chosen: bool| Choice { value, label, chosen };
    let users = choices
        .users
        .into_iter()
        .map(|(u, login)| option(u.0.to_string(), login, filter.user == Some(u)))
        .collect();
    let actions = choices
        .actions
        .into_iter()
        .map(|a| {
            let chosen = filter.action.as_deref() == Some(a.as_str());
            option(a.clone(), action_label(&a), chosen)
        })
        .collect();
    let residents = choices
        .residents
        .into_iter()
        .map(|(r, name)| option(r.0.to_string(), format!("{name}({})", r.0), filter.resident == Some(r)))
        .collect();
    let mut query = String::new();
    if let Some(u) = filter.user {
        query.push_str(&format!("user={}&", u.0));
    }
    if let Some(a) = &filter.action {
        query.push_str(&format!("action={}&", a.replace(' ', "+")));
    }
    if let Some(r) = filter.resident {
        query.push_str(&format!("resident={}&", r.0));
    }
    render(&AuditPage {
        chrome: session.chrome("監査記録", "/audit"),
        rows,
        users,
        actions,
        residents,
        pager: Pager::new("/audit", at, lines.more).with_query(query),
    })
}

/// A character of a stored action key (`view`, `notify_rung_2`, `publish_dialect_bundle v3`).
fn key_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ' '
}

struct AuditRow {
    at: String,
    who: String,
    what: String,
    /// The resident's id and name.
    resident: Option<(i64, String)>,
    /// The account an account action was done to.
    account: Option<String>,
}

/// An option of a filter's select box.
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    rows: Vec<AuditRow>,
    users: Vec<Choice>,
    actions: Vec<Choice>,
    residents: Vec<Choice>,
    pager: Pager,
}

/// An action key in the words the office uses; a key from a newer build is shown
/// as it is stored, after その他.
fn action_label(action: &str) -> String {
    let fixed = match action {
        "view" => "閲覧",
        "enrol" => "住民の登録",
        "edit_profile" => "住民情報の変更",
        "pause" => "見守りの一時停止",
        "end_pause" => "一時停止の終了",
        "visit" => "訪問の記録",
        "roster_consent_given" => "名簿掲載の同意",
        "roster_consent_withdrawn" => "名簿掲載の同意の撤回",
        "card_link_approve" => "カード登録の承認",
        "household_join" => "同居の方の端末登録",
        "household_leave" => "同居の方の端末登録の解除",
        "dialect_correction" => "聞き取りの訂正",
        "notify_sent" => "通知の送信",
        "alert_acknowledge_by_mail" => "メールからの対応受付",
        "disaster_declare" => "災害モードの開始",
        "disaster_end" => "災害モードの終了",
        "add_responder" => "避難支援者の追加",
        "roster_view" => "要支援者名簿の閲覧",
        "roster_print" => "要支援者名簿の印刷",
        "weather_override" => "天気の手動設定",
        "weather_override_cleared" => "天気の手動設定の解除",
        "add_user" => "アカウントの作成",
        "disable_user" => "アカウントの無効化",
        "enable_user" => "アカウントの有効化",
        "reset_password" => "パスワードの設定",
        "end_sessions" => "ログインの終了",
        "set_email" => "メールの設定",
        "duty_on" => "当番に入れる",
        "duty_off" => "当番から外す",
        VIEW_ACTION => "監査記録の閲覧",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_owned();
    }
    if let Some(rung) = action.strip_prefix("notify_rung_") {
        return format!("通知の段階 {rung}");
    }
    if let Some(version) = action.strip_prefix("publish_dialect_bundle ") {
        return format!("方言辞書の公開 {version}");
    }
    format!("その他({action})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_named_in_words() {
        for (key, words) in [
            ("view", "閲覧"),
            ("notify_rung_2", "通知の段階 2"),
            ("publish_dialect_bundle v3", "方言辞書の公開 v3"),
            ("audit_view", "監査記録の閲覧"),
            ("something_new", "その他(something_new)"),
        ] {
            assert_eq!(action_label(key), words);
        }
    }
}
