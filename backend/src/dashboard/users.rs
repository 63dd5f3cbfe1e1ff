//! Accounts, for admins: who can sign in, and what is done to an account (disable,
//! enable, set a new password, end its sessions, where its alerts are e-mailed, on
//! or off the duty roster), each audited with the admin who did it. The same as
//! `backend user …` at the office's terminal.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, render};
use super::{PageError, Session, Submitted};
use crate::routes::{AppState, blocking};
use crate::store::{AccountChange, Role, UserRow};

const ADMIN_ONLY: &str = "アカウントの管理は管理者が行います。";

fn require_admin(session: &Session) -> Result<(), PageError> {
    match session.user.role {
        Role::Admin => Ok(()),
        _ => Err(PageError::Refused(StatusCode::FORBIDDEN, ADMIN_ONLY)),
    }
}

pub(super) async fn list(State(state): State<AppState>, session: Session) -> Result<Html<String>, PageError> {
    require_admin(&session)?;
    let now = state.clock.now();
    let (users, trails) = blocking(&state.store, move |s| {
        let users = s.users(now)?;
        let trails = users.iter().map(|u| s.account_trail(u.user)).collect::<Result<Vec<_>, _>>()?;
        Ok((users, trails))
    })
    .await?;
    let logins: std::collections::HashMap<_, _> = users.iter().map(|u| (u.user, u.login.clone())).collect();
    let rows = users
        .into_iter()
        .zip(trails)
        .map(|(u, trail)| {
            // The newest three changes, who made them and when (the whole trail is audited).
            let changes = trail
                .iter()
                .rev()
                .take(3)
                .map(|(by, action, at)| {
                    let who = by.and_then(|b| logins.get(&b)).map_or("事務所の端末", String::as_str);
                    format!(
                        "{} {} ({who})",
                        at.with_timezone(&crate::clock::town_offset()).format("%m/%d %H:%M"),
                        action_label(action)
                    )
                })
                .collect();
            // 民生委員 are told of their district's alerts whether on the roster or not.
            AccountLine { on_roster: u.role != Role::Minsei, changes, u }
        })
        .collect();
    render(&UsersPage { chrome: session.chrome("アカウント", "/users"), csrf: session.csrf(), rows })
}

/// An account and its newest changes.
struct AccountLine {
    u: UserRow,
    /// Whether the duty roster applies to it (not to 民生委員).
    on_roster: bool,
    changes: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    csrf: String,
    rows: Vec<AccountLine>,
}

/// What the page calls an audited account action.
fn action_label(action: &str) -> &'static str {
    match action {
        "add_user" => "作成",
        "disable_user" => "無効化",
        "enable_user" => "有効化",
        "reset_password" => "パスワード設定",
        "end_sessions" => "ログイン終了",
        "set_email" => "メール設定",
        "duty_on" => "当番に",
        "duty_off" => "当番から外す",
        "set_spoken_name" => "呼び名の設定",
        _ => "変更",
    }
}

pub(super) async fn change(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    require_admin(&session)?;
    let bad = |why| PageError::Refused(StatusCode::BAD_REQUEST, why);
    let login = form.get("login").cloned().ok_or(bad("アカウントが指定されていません。"))?;
    let change = match form.get("action").map(String::as_str) {
        Some("disable") if login == session.user.login => {
            return Err(bad("自分のアカウントは無効にできません。"));
        }
        Some("disable") => AccountChange::Disable,
        Some("enable") => AccountChange::Enable,
        Some("end_sessions") => AccountChange::EndSessions,
        Some("duty_on") => AccountChange::SetDuty(true),
        Some("duty_off") => AccountChange::SetDuty(false),
        Some("set_email") => match form.get("email").map(|e| e.trim()).filter(|e| !e.is_empty()) {
            None => AccountChange::SetEmail(None),
            Some(e) if super::email_ok(e) => AccountChange::SetEmail(Some(e.to_owned())),
            Some(_) => return Err(bad("メールアドレスが読めません。")),
        },
        Some("set_spoken_name") => match form.get("name").map(|n| n.trim()).filter(|n| !n.is_empty()) {
            None => AccountChange::SetSpokenName(None),
            Some(n) => AccountChange::SetSpokenName(Some(
                crate::store::spoken_name(n).ok_or(bad("呼び名は12文字までで入力してください。"))?,
            )),
        },
        Some("reset_password") => {
            let password = form.get("password").map(String::as_str).unwrap_or_default();
            crate::password::acceptable(&login, password).map_err(|weak| bad(weak.japanese()))?;
            let password = password.to_owned();
            let hash = tokio::task::spawn_blocking(move || crate::password::hash_password(&password))
                .await
                .map_err(|_| PageError::Internal)?;
            AccountChange::SetPassword(hash)
        }
        _ => return Err(bad("操作が分かりません。")),
    };
    let (by, now, action) = (session.user.user, state.clock.now(), change.action());
    let done = blocking(&state.store, move |s| s.change_account(Some(by), &login, change, now)).await?;
    let Some((user, _)) = done else {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "そのアカウントはありません。"));
    };
    tracing::info!(user = user.0, by = by.0, action, "account changed");
    Ok(Redirect::to("/users").into_response())
}
