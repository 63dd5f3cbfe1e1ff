//! Card links a tablet requested, for staff to approve (the resident is then
//! recognised by that card). For staff, officers and admins; audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session, Submitted};
use crate::routes::{AppState, blocking};
use crate::store::{CardLinkOutcome, ResidentId};

const STAFF_ONLY: &str = "カードの登録は職員が行います。";

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let pending = blocking(&state.store, move |s| s.pending_card_links(at)).await?;
    render(&CardLinksPage {
        chrome: session.chrome("カード登録の申請", "/card-links"),
        csrf: session.csrf(),
        rows: pending.rows,
        pager: Pager::new("/card-links", at, pending.more),
    })
}

#[derive(askama::Template)]
#[template(path = "card_links.html")]
struct CardLinksPage {
    chrome: Chrome,
    csrf: String,
    /// (request, resident, district)
    rows: Vec<(i64, ResidentId, String)>,
    pager: Pager,
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
