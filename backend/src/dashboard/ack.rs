//! The acknowledgement link an e-mail carries: `GET` shows the alert and a button,
//! `POST` takes it on. The token in the path is the credential (keyed with the
//! office's secret, for one message), so a family member without an account can
//! answer from a phone; opening the link changes nothing, since mail scanners open
//! links too.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::{PageError, bare_page, escape};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::AckView;

const NOT_FOUND: PageError = PageError::Refused(StatusCode::NOT_FOUND, "このリンクは使えません。");

fn summary(v: &AckView) -> String {
    format!(
        "<h1>{}</h1><p class=\"who\">{}さん（{}）</p><p>発生：{}</p>",
        v.kind.label(),
        escape(&v.resident_name),
        escape(&v.district),
        v.raised.with_timezone(&town_offset()).format("%-m月%-d日 %H:%M")
    )
}

pub(super) async fn show(
    State(state): State<AppState>,
    Path((id, token)): Path<(i64, String)>,
) -> Result<Html<String>, PageError> {
    let view = blocking(&state.store, move |s| s.ack_view(id, &token)).await?.ok_or(NOT_FOUND)?;
    let action = match (&view.taken_by, view.resolved) {
        (_, true) => "<p>この件は解決済みです。</p>".to_owned(),
        (Some(who), false) => format!("<p class=\"taken\">{}が対応しています。</p>", escape(who)),
        // The form posts to this same address: the token is the credential.
        (None, false) => "<form method=\"post\"><button>対応します</button></form>\
             <p>押すと、ほかの方へのお知らせは止まり、本人の端末に対応する人が表示されます。</p>"
            .to_owned(),
    };
    Ok(bare_page("見守りのお知らせ", &format!("{}{action}", summary(&view))))
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
    let said = match (&view.taken_by, took) {
        (_, true) => "<p class=\"taken\">ありがとうございます。対応をお願いします。ほかの方へのお知らせは止めました。</p>"
            .to_owned(),
        (Some(who), false) => format!("<p class=\"taken\">すでに{}が対応しています。</p>", escape(who)),
        (None, false) => "<p>この件は解決済みです。</p>".to_owned(),
    };
    Ok(bare_page("見守りのお知らせ", &format!("{}{said}", summary(&view))))
}
