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

/// Messages for the usual emergencies, short enough to be read aloud slowly; the
/// tablet asks for 「無事」 or 「助けが必要」 after it.
const TEMPLATES: [(&str, &str, &str); 4] = [
    ("snow", "大雪", "大雪です。けがや体の具合の変化はありませんか。家の周りの雪で困っていませんか。"),
    ("outage", "停電", "停電しています。寒くありませんか。明かりや暖房に困っていませんか。"),
    ("quake", "地震", "地震がありました。けがはありませんか。家の中で物が倒れていませんか。"),
    ("rain", "大雨", "大雨です。家の周りに水があふれていませんか。避難が必要なら知らせてください。"),
];

pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    ListPage(at): ListPage,
) -> Result<Html<String>, PageError> {
    // 民生委員 see town-wide campaigns and their own district's.
    let own = session.scope()?;
    let may_start = may_run_campaigns(&session).is_ok();
    let (campaigns, districts) = blocking(&state.store, move |s| {
        Ok((s.campaigns(own.as_deref(), at)?, if may_start { s.district_sizes()? } else { Vec::new() }))
    })
    .await?;
    let town: u64 = districts.iter().map(|d| d.1).sum();
    render(&CampaignsPage {
        chrome: session.chrome("安否確認", "/campaigns"),
        rows: campaigns.rows,
        pager: Pager::new("/campaigns", at, campaigns.more),
        may_start,
        csrf: session.csrf(),
        town,
        districts,
        templates: &TEMPLATES,
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
    /// Residents in the town, and per district: whom a campaign would reach.
    town: u64,
    districts: Vec<(String, u64)>,
    templates: &'static [(&'static str, &'static str, &'static str)],
}

impl CampaignsPage {
    const MAX_MESSAGE_CHARS: usize = MAX_MESSAGE_CHARS;

    fn deadline(c: &Campaign) -> String {
        c.deadline.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string()
    }
}

/// `POST /campaigns`: checks the form, then asks to confirm whom it will reach;
/// only the confirmed form (`confirmed=yes`) starts the campaign.
pub(super) async fn start(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    may_run_campaigns(&session)?;
    let bad = |reason| PageError::Refused(StatusCode::BAD_REQUEST, reason);
    let written = form.get("message").map(|m| m.trim().to_owned()).unwrap_or_default();
    // Words written by hand win over the chosen template; the confirmation shows
    // which will be read.
    let message = match form.get("template").map(String::as_str) {
        Some(key) if written.is_empty() && !key.is_empty() => TEMPLATES
            .iter()
            .find(|t| t.0 == key)
            .map(|t| t.2.to_owned())
            .ok_or_else(|| bad("その文例はありません。"))?,
        _ => written,
    };
    if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(bad("メッセージは1〜200文字で書くか、文例を選んでください。"));
    }
    let district = form.get("district").map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    let deadline_text = form.get("deadline").cloned().unwrap_or_default();
    let deadline = NaiveDateTime::parse_from_str(&deadline_text, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|d| d.and_local_timezone(town_offset()).single())
        .map(|d| d.to_utc())
        .ok_or_else(|| bad("締切の日時が読めません。"))?;
    let now = state.clock.now();
    if deadline <= now {
        return Err(bad("締切は今より後にしてください。"));
    }
    // A district nobody lives in (a typo) would reach nobody without a word.
    let sizes = blocking(&state.store, |s| s.district_sizes()).await?;
    let reach = match &district {
        None => sizes.iter().map(|d| d.1).sum(),
        Some(d) => match sizes.iter().find(|(name, _)| name == d) {
            Some((_, n)) => *n,
            None => return Err(bad("その地区に登録された住民はいません。地区は一覧から選んでください。")),
        },
    };
    if form.get("confirmed").map(String::as_str) != Some("yes") {
        let page = ConfirmPage {
            chrome: session.chrome("安否確認の確認", "/campaigns"),
            csrf: session.csrf(),
            area: district.clone().unwrap_or_else(|| "町全体".to_owned()),
            district: district.unwrap_or_default(),
            reach,
            message,
            deadline_text,
            deadline: deadline.with_timezone(&town_offset()).format("%m月%d日 %H:%M").to_string(),
        };
        return render(&page).map(IntoResponse::into_response);
    }
    let by = Actor::User(session.user.user);
    let id =
        blocking(&state.store, move |s| s.start_campaign(district.as_deref(), &message, deadline, by, now))
            .await?;
    tracing::info!(campaign = id.0, user = session.user.user.0, "campaign started");
    Ok(Redirect::to(&format!("/campaigns/{}", id.0)).into_response())
}

/// Whom the campaign will reach and what it will say, before it starts.
#[derive(askama::Template)]
#[template(path = "campaign_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    csrf: String,
    area: String,
    /// The form's district field as sent ('' for the town).
    district: String,
    reach: u64,
    message: String,
    /// The form's deadline field as sent, and in words.
    deadline_text: String,
    deadline: String,
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
