//! Safety-confirmation campaigns: start (area, message, deadline), live progress
//! with the non-responder list for phoning, close. Officers and admins start and
//! close; everyone signed in may watch, 民生委員 only their district's residents.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike as _, NaiveDateTime};

use super::{ListPage, PageError, Session, Submitted, escape, live_page, page, pager};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{Actor, CampaignId, Role};

const MAX_MESSAGE_CHARS: usize = 200;
/// How often an open campaign's progress page reloads itself.
const PROGRESS_REFRESH_SECS: u32 = 5;

fn may_run_campaigns(session: &Session) -> Result<(), PageError> {
    match session.user.role {
        Role::Admin | Role::Officer => Ok(()),
        Role::Staff | Role::Minsei | Role::Responder => {
            Err(PageError::Refused(StatusCode::FORBIDDEN, "安否確認を始めたり閉じたりする権限がありません。"))
        }
    }
}

fn forbidden_area() -> PageError {
    PageError::Refused(StatusCode::NOT_FOUND, "その安否確認は見つかりません。")
}

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    // 民生委員 see town-wide campaigns and their own district's.
    let own = session.scope()?;
    let campaigns = blocking(&state.store, move |s| s.campaigns(own.as_deref(), at)).await?;
    let mut body = String::from("<h1>安否確認</h1><ul id=\"campaigns\">");
    for c in &campaigns.rows {
        body.push_str(&format!(
            "<li><a href=\"/campaigns/{}\">{}</a> {} 締切 {}{}</li>",
            c.id.0,
            escape(&c.message),
            escape(c.district.as_deref().unwrap_or("町全体")),
            c.deadline.with_timezone(&town_offset()).format("%m/%d %H:%M"),
            if c.closed { " (終了)" } else { "" }
        ));
    }
    body.push_str("</ul>");
    body.push_str(&pager("/campaigns", at, campaigns.more));
    if may_run_campaigns(&session).is_ok() {
        body.push_str(&format!(
            "<h2>新しい安否確認</h2><form method=\"post\" action=\"/campaigns\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label>地区(空欄は町全体) <input name=\"district\"></label>\
             <label>メッセージ <input name=\"message\" required maxlength=\"{MAX_MESSAGE_CHARS}\"></label>\
             <label>締切 <input name=\"deadline\" type=\"datetime-local\" required></label>\
             <button>開始</button></form>",
            session.csrf()
        ));
    }
    Ok(page("安否確認", &body))
}

pub(super) async fn start(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    may_run_campaigns(&session)?;
    let bad = |reason| PageError::Refused(StatusCode::BAD_REQUEST, reason);
    let message = form.get("message").map(|m| m.trim().to_owned()).unwrap_or_default();
    if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(bad("メッセージは1〜200文字で書いてください。"));
    }
    let district = form.get("district").map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    let deadline = form
        .get("deadline")
        .and_then(|d| NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M").ok())
        .and_then(|d| d.and_local_timezone(town_offset()).single())
        .map(|d| d.to_utc())
        .ok_or_else(|| bad("締切の日時が読めません。"))?;
    let now = state.clock.now();
    if deadline <= now {
        return Err(bad("締切は今より後にしてください。"));
    }
    let by = Actor::User(session.user.user);
    let id =
        blocking(&state.store, move |s| s.start_campaign(district.as_deref(), &message, deadline, by, now))
            .await?;
    tracing::info!(campaign = id.0, user = session.user.user.0, "campaign started");
    Ok(Redirect::to(&format!("/campaigns/{}", id.0)).into_response())
}

pub(super) async fn progress(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let campaign =
        blocking(&state.store, move |s| s.campaign(CampaignId(id))).await?.ok_or_else(forbidden_area)?;
    let scope = match session.user.role {
        Role::Minsei => {
            let own = session.user.district.clone().ok_or_else(forbidden_area)?;
            if campaign.district.as_ref().is_some_and(|d| *d != own) {
                return Err(forbidden_area());
            }
            Some(own)
        }
        _ => None,
    };
    let p = blocking(&state.store, move |s| s.campaign_progress_in(CampaignId(id), scope.as_deref())).await?;
    let mut body = format!(
        "<h1>安否確認: {}</h1><table id=\"progress\"><tr><th>対象</th><th>無事</th><th>要支援</th><th>未回答</th></tr>\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        escape(&campaign.message),
        p.targeted,
        p.safe,
        p.needs_help,
        p.non_responders.len()
    );
    // Calls for help first; a later 「無事」 is shown beside the call, never instead.
    if !p.needs_help_list.is_empty() {
        body.push_str("<h2>助けが必要と答えた方</h2><ul id=\"needs-help\">");
        for (resident, name, safe_after) in &p.needs_help_list {
            let later = safe_after.map_or(String::new(), |t| {
                format!(
                    " <strong>その後 {} に「無事」と回答</strong>（対応で確かめてください）",
                    t.with_timezone(&crate::clock::town_offset()).format("%H:%M")
                )
            });
            body.push_str(&format!(
                "<li data-resident=\"{}\"><a href=\"/residents/{}\">{}</a>{later}</li>",
                resident.0,
                resident.0,
                escape(name)
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>未回答の方(電話してください)</h2><ul id=\"non-responders\">");
    let year = crate::clock::local_day(state.clock.now()).year();
    for ((resident, name), risk) in
        p.non_responders.iter().zip(&p.non_responder_names).zip(&p.non_responder_risk)
    {
        let mut why = Vec::new();
        if risk.lives_alone {
            why.push("一人暮らし".to_owned());
        }
        if risk.help_days > 0 {
            why.push(format!("要支援歴{}日", risk.help_days));
        }
        if let Some(born) = risk.birth_year {
            why.push(format!("{}歳", year - born));
        }
        body.push_str(&format!(
            "<li data-resident=\"{}\"><a href=\"/residents/{}\">{}</a> <small>{}</small></li>",
            resident.0,
            resident.0,
            escape(name),
            why.join("・")
        ));
    }
    body.push_str("</ul>");
    if !campaign.closed && may_run_campaigns(&session).is_ok() {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/campaigns/{id}/close\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button>終了する</button></form>",
            session.csrf()
        ));
    }
    // An open campaign's page follows the answers as they arrive.
    Ok(if campaign.closed {
        page("安否確認", &body)
    } else {
        live_page("安否確認", PROGRESS_REFRESH_SECS, &body)
    })
}

pub(super) async fn close(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form: _ }: Submitted,
) -> Result<Response, PageError> {
    may_run_campaigns(&session)?;
    let now = state.clock.now();
    if !blocking(&state.store, move |s| s.close_campaign(CampaignId(id), now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "開いている安否確認が見つかりません。"));
    }
    Ok(Redirect::to(&format!("/campaigns/{id}")).into_response())
}
