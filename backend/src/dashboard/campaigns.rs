//! Safety-confirmation campaigns: start (area, message, deadline), live progress
//! with the non-responder list for phoning, close. Officers and admins start and
//! close; everyone signed in may watch, 民生委員 only their district's residents.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike as _, NaiveDateTime};

use super::layout::{Chrome, Pager, render};
use super::{ListPage, PageError, Session, Submitted};
use crate::clock::town_offset;
use crate::routes::{AppState, blocking};
use crate::store::{Actor, Campaign, CampaignId, CampaignProgress, ResidentId, Role};

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
    render(&CampaignsPage {
        chrome: session.chrome("安否確認", "/campaigns"),
        rows: campaigns.rows,
        pager: Pager::new("/campaigns", at, campaigns.more),
        may_start: may_run_campaigns(&session).is_ok(),
        csrf: session.csrf(),
    })
}

#[derive(askama::Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    chrome: Chrome,
    rows: Vec<Campaign>,
    pager: Pager,
    /// Officers and admins get the form to start one.
    may_start: bool,
    csrf: String,
}

impl CampaignsPage {
    const MAX_MESSAGE_CHARS: usize = MAX_MESSAGE_CHARS;

    fn deadline(c: &Campaign) -> String {
        c.deadline.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string()
    }
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
    let year = crate::clock::local_day(state.clock.now()).year();
    let help = p
        .needs_help_list
        .iter()
        .map(|(resident, name, safe_after)| HelpLine {
            id: *resident,
            name: name.clone(),
            safe_after: safe_after.map(|t| t.with_timezone(&town_offset()).format("%H:%M").to_string()),
        })
        .collect();
    let waiting = p
        .non_responders
        .iter()
        .zip(&p.non_responder_names)
        .zip(&p.non_responder_risk)
        .map(|((resident, name), risk)| {
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
            WaitingLine { id: *resident, name: name.clone(), why: why.join("・") }
        })
        .collect();
    render(&ProgressPage {
        chrome: session.chrome("安否確認", "/campaigns"),
        // An open campaign's page follows the answers as they arrive.
        refresh: (!campaign.closed).then_some(PROGRESS_REFRESH_SECS),
        may_close: !campaign.closed && may_run_campaigns(&session).is_ok(),
        csrf: session.csrf(),
        id,
        message: campaign.message,
        help,
        waiting,
        p,
    })
}

/// One who answered that they need help; a later 「無事」 is shown beside the call,
/// never instead of it.
struct HelpLine {
    id: ResidentId,
    name: String,
    safe_after: Option<String>,
}

/// One who has not answered, with why to phone them first.
struct WaitingLine {
    id: ResidentId,
    name: String,
    why: String,
}

#[derive(askama::Template)]
#[template(path = "progress.html")]
struct ProgressPage {
    chrome: Chrome,
    /// Seconds between reloads while the campaign is open.
    refresh: Option<u32>,
    may_close: bool,
    csrf: String,
    id: i64,
    message: String,
    help: Vec<HelpLine>,
    waiting: Vec<WaitingLine>,
    p: CampaignProgress,
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
