//! The duty roster (`/duty`), for officers and admins: who among the office's staff
//! is told of alerts at the ladder's first rung. 民生委員 are always told of their own
//! district's; an account without an e-mail address is told of nothing (set at
//! `/users` or `backend user set-email`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{PageError, Session, Submitted, escape, page};
use crate::routes::{AppState, blocking};
use crate::store::{AccountChange, Role};

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
    let csrf = session.csrf();
    let mut body = String::from(
        "<h1>当番</h1><p>当番の人には、対応が必要な人が出るとすぐメールが届きます（民生委員には担当地区の分が届きます）。\
         30分（助けを求める知らせは10分）だれも対応しないと福祉担当職員に、さらに同意した家族に届きます。</p>\
         <table id=\"duty\"><tr><th>ログイン名</th><th>役割</th><th>メール</th><th>当番</th><th></th></tr>",
    );
    for u in
        users.iter().filter(|u| !u.disabled && matches!(u.role, Role::Admin | Role::Officer | Role::Staff))
    {
        let login = escape(&u.login);
        let (state, next, label) =
            if u.on_duty { ("当番", "off", "外す") } else { ("-", "on", "当番にする") };
        body.push_str(&format!(
            "<tr data-login=\"{login}\"><td>{login}</td><td>{}</td><td>{}</td><td>{state}</td><td>\
             <form method=\"post\" action=\"/duty\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"login\" value=\"{login}\"><input type=\"hidden\" name=\"duty\" value=\"{next}\">\
             <button>{label}</button></form></td></tr>",
            u.role.label(),
            u.email.as_deref().map_or("<strong>未設定</strong>".to_owned(), escape),
        ));
    }
    body.push_str("</table>");
    Ok(page("当番", &body))
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
