//! Card links a tablet requested, for staff to approve (the resident is then
//! recognised by that card). For staff, officers and admins; audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::{ListPage, PageError, Session, Submitted, escape, page, pager};
use crate::routes::{AppState, blocking};
use crate::store::CardLinkOutcome;

const STAFF_ONLY: &str = "カードの登録は職員が行います。";

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let pending = blocking(&state.store, move |s| s.pending_card_links(at)).await?;
    let csrf = session.csrf();
    let mut body = String::from(
        "<h1>カード登録の申請</h1><table id=\"card-links\"><tr><th>住民</th><th>地区</th><th></th></tr>",
    );
    for (id, resident, district) in pending.rows {
        body.push_str(&format!(
            "<tr data-request=\"{id}\"><td><a href=\"/residents/{r}\">{r}</a></td><td>{}</td><td>\
             <form method=\"post\" action=\"/card-links/{id}/approve\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button>承認</button></form></td></tr>",
            escape(&district),
            r = resident.0
        ));
    }
    body.push_str("</table>");
    body.push_str(&pager("/card-links", at, pending.more));
    Ok(page("カード登録の申請", &body))
}

pub(super) async fn approve(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form: _ }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let (user, now) = (session.user.user, state.clock.now());
    match blocking(&state.store, move |s| s.approve_card_link(id, user, now)).await? {
        CardLinkOutcome::Linked => Ok(Redirect::to("/card-links").into_response()),
        CardLinkOutcome::NotPending => {
            Err(PageError::Refused(StatusCode::NOT_FOUND, "その申請は見つかりません。"))
        }
        CardLinkOutcome::CardTaken => {
            Err(PageError::Refused(StatusCode::CONFLICT, "このカードは別の住民に登録されています。"))
        }
    }
}
