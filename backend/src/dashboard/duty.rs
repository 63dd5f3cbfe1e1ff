//! The duty roster (`/duty`), for officers and admins: who among the office's staff
//! is told of alerts at the ladder's first rung. 民生委員 are always told of their own
//! district's; an account without an e-mail address is told of nothing (set at
//! `/users` or `backend user set-email`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, render};
use super::{PageError, Session, Submitted};
use crate::routes::{AppState, blocking};
use crate::store::{AccountChange, Role, UserRow};

fn may_set_duty(session: &Session) -> Result<(), PageError> {
    match session.user.role {
        Role::Admin | Role::Officer => Ok(()),
        _ => Err(PageError::Refused(StatusCode::FORBIDDEN, "当番は福祉担当職員と管理者が決めます。")),
    }
}

pub(super) async fn list(State(state): State<AppState>, session: Session) -> Result<Html<String>, PageError> {
    may_set_duty(&session)?;
    let now = state.clock.now();
    let users = blocking(&state.store, move |s| s.users(now)).await?;
    let users = users
        .into_iter()
        .filter(|u| !u.disabled && matches!(u.role, Role::Admin | Role::Officer | Role::Staff))
        .collect();
    render(&DutyPage { chrome: session.chrome("当番", "/duty"), csrf: session.csrf(), users })
}

#[derive(askama::Template)]
#[template(path = "duty.html")]
struct DutyPage {
    chrome: Chrome,
    csrf: String,
    /// Office accounts in use: only they can be on duty.
    users: Vec<UserRow>,
}

pub(super) async fn set(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    may_set_duty(&session)?;
    let bad = |why| PageError::Refused(StatusCode::BAD_REQUEST, why);
    let login = form.get("login").cloned().ok_or(bad("アカウントが指定されていません。"))?;
    let on = match form.get("duty").map(String::as_str) {
        Some("on") => true,
        Some("off") => false,
        _ => return Err(bad("当番にするか外すかが分かりません。")),
    };
    let (by, now) = (session.user.user, state.clock.now());
    let done = blocking(&state.store, move |s| {
        // Only office accounts are on the roster; 民生委員 and responders are not.
        let fits = s.users(now)?.iter().any(|u| {
            u.login == login && !u.disabled && matches!(u.role, Role::Admin | Role::Officer | Role::Staff)
        });
        if !fits {
            return Ok(None);
        }
        s.change_account(Some(by), &login, AccountChange::SetDuty(on), now)
    })
    .await?;
    if done.is_none() {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "そのアカウントは当番にできません。"));
    }
    tracing::info!(by = by.0, on, "duty roster changed");
    Ok(Redirect::to("/duty").into_response())
}
