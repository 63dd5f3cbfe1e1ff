//! The acknowledgement link an e-mail carries: `GET` shows the alert and a button,
//! `POST` takes it on. The token in the path is the credential (keyed with the
//! office's secret, for one message), so a family member without an account can
//! answer from a phone; opening the link changes nothing, since mail scanners open
//! links too.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::PageError;
use super::layout::{Chrome, render};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::AckView;

const NOT_FOUND: PageError = PageError::Outside(StatusCode::NOT_FOUND, "このリンクは使えません。");

/// Where the alert stands for the one who opened the link.
enum Standing {
    /// Open and nobody has it: the button.
    Open,
    /// This press took it on.
    Took,
    /// Someone has it (`again`: this press came after them).
    Taken {
        who: String,
        again: bool,
    },
    Resolved,
}

#[derive(askama::Template)]
#[template(path = "ack.html")]
struct AckPage {
    chrome: Chrome,
    kind: &'static str,
    name: String,
    district: String,
    raised: String,
    standing: Standing,
}

fn ack_page(v: AckView, standing: Standing) -> Result<Html<String>, PageError> {
    render(&AckPage {
        chrome: Chrome::bare("見守りのお知らせ"),
        kind: v.kind.label(),
        raised: v.raised.with_timezone(&town_offset()).format("%-m月%-d日 %H:%M").to_string(),
        name: v.resident_name,
        district: v.district,
        standing,
    })
}

pub(super) async fn show(
    State(state): State<AppState>,
    Path((id, token)): Path<(i64, String)>,
) -> Result<Html<String>, PageError> {
    let view = blocking(&state.store, move |s| s.ack_view(id, &token)).await?.ok_or(NOT_FOUND)?;
    let standing = match (view.taken_by.clone(), view.resolved) {
        (_, true) => Standing::Resolved,
        (Some(who), false) => Standing::Taken { who, again: false },
        (None, false) => Standing::Open,
    };
    ack_page(view, standing)
}

pub(super) async fn take(
    State(state): State<AppState>,
    Path((id, token)): Path<(i64, String)>,
) -> Result<Html<String>, PageError> {
    let now = state.clock.now();
    let (view, took) = blocking(&state.store, move |s| {
        let took = s.acknowledge_by_link(id, &token, now)?;
        Ok((s.ack_view(id, &token)?, took))
    })
    .await?;
    let view = view.ok_or(NOT_FOUND)?;
    tracing::info!(notification = id, took, "acknowledgement link used");
    let standing = match (view.taken_by.clone(), took) {
        (_, true) => Standing::Took,
        (Some(who), false) => Standing::Taken { who, again: true },
        (None, false) => Standing::Resolved,
    };
    ack_page(view, standing)
}
