//! A resident's page: today's status, the recent timeline and status history.
//! Every view is written to the audit log before anything is shown.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::{PageError, Session, escape, page};
use crate::clock::{local_day, town_offset};
use crate::routes::{AppState, blocking};
use crate::store::{ResidentId, ResidentRecord, Role, Status};
use vocab::Contraindication;

/// Timeline entries shown.
const EVENTS: usize = 100;
/// Weeks on the exercise chart.
const TREND_WEEKS: usize = 12;

/// The profile as staff and 民生委員 read it; `editable` adds the staff's links.
fn profile_section(r: &ResidentRecord, now: chrono::DateTime<chrono::Utc>, editable: bool) -> String {
    let p = &r.profile;
    let window = format!(
        "{}〜{}{} (猶予{}分)",
        p.window.start.format("%H:%M"),
        if p.window.crosses_midnight() { "翌" } else { "" },
        p.window.end.format("%H:%M"),
        p.window.grace_minutes
    );
    let contra: Vec<&str> = p.contraindications.iter().map(|c| Contraindication::label_of(c)).collect();
    let mut contacts = String::new();
    for c in &p.contacts {
        contacts.push_str(&format!(
            "<li>{} ({}) {}</li>",
            escape(&c.name),
            escape(&c.relation),
            escape(&c.phone)
        ));
    }
    let pauses: Vec<String> = r
        .pauses
        .iter()
        .filter(|x| x.until > now)
        .map(|x| {
            let d = |t: chrono::DateTime<chrono::Utc>| {
                t.with_timezone(&town_offset()).format("%m/%d").to_string()
            };
            format!("{}〜{} {}", d(x.from), d(x.until), escape(&x.reason))
        })
        .collect();
    let edit = if editable {
        format!("<p><a href=\"/residents/{}/edit\">設定を変える</a></p>", r.id.0)
    } else {
        String::new()
    };
    format!(
        "<h2>基本情報</h2><dl id=\"profile\"><dt>氏名</dt><dd>{}</dd><dt>確認の時間帯</dt><dd>{window}</dd>\
         <dt>体操で注意すること</dt><dd>{}</dd><dt>一人暮らし</dt><dd>{}</dd><dt>生まれた年</dt><dd>{}</dd>\
         <dt>カード</dt><dd>{}</dd><dt>一時停止</dt><dd>{}</dd><dt>最後の訪問</dt><dd>{}</dd></dl>\
         <h3>緊急連絡先</h3><ul id=\"contacts\">{contacts}</ul>{edit}",
        escape(&r.display_name),
        if contra.is_empty() { "なし".to_owned() } else { escape(&contra.join("、")) },
        if p.lives_alone { "はい" } else { "いいえ" },
        p.birth_year.map_or("-".to_owned(), |y| y.to_string()),
        if r.has_card { "登録済み" } else { "未登録" },
        if pauses.is_empty() { "なし".to_owned() } else { pauses.join("、") },
        r.last_visit.map_or("記録なし".to_owned(), |t| t
            .with_timezone(&town_offset())
            .format("%m/%d")
            .to_string()),
    )
}

/// Weekly exercise sessions as an inline SVG line chart (no script, no external
/// file): one point per week, the week's Monday under it, the count above it.
fn trend_chart(weeks: &[(chrono::NaiveDate, u32)]) -> String {
    const W: usize = 520;
    const H: usize = 180;
    const LEFT: usize = 30;
    const TOP: usize = 20;
    const BOTTOM: usize = 30;
    let plot_h = H - TOP - BOTTOM;
    let top = weeks.iter().map(|w| w.1).max().unwrap_or(0).max(7);
    let step = (W - LEFT - 10) / weeks.len().max(1);
    let point =
        |i: usize, n: u32| (LEFT + step / 2 + i * step, TOP + plot_h - (n as usize * plot_h) / top as usize);
    let total: u32 = weeks.iter().map(|w| w.1).sum();
    let mut svg = format!(
        "<svg id=\"habit-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"過去{}週の体操 合計{total}回\">\
         <title>過去{}週の体操: 週ごとの回数</title>\
         <line x1=\"{LEFT}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\"/>\
         <text x=\"2\" y=\"{}\" font-size=\"11\">{top}</text><text x=\"2\" y=\"{}\" font-size=\"11\">0</text>",
        weeks.len(),
        weeks.len(),
        TOP + plot_h,
        W - 10,
        TOP + plot_h,
        TOP + 4,
        TOP + plot_h
    );
    let points: Vec<String> = weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let (x, y) = point(i, w.1);
            format!("{x},{y}")
        })
        .collect();
    svg.push_str(&format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#2a6\" stroke-width=\"2\"/>",
        points.join(" ")
    ));
    for (i, (monday, n)) in weeks.iter().enumerate() {
        let (x, y) = point(i, *n);
        svg.push_str(&format!(
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"4\" fill=\"#2a6\" data-week=\"{monday}\" data-count=\"{n}\"/>\
             <text x=\"{x}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{n}</text>\
             <text x=\"{x}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            y.saturating_sub(8),
            H - 10,
            monday.format("%m/%d")
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "check_in" => "体調確認",
        "help_request" => "助けを求めた",
        "exercise_done" => "体操",
        "safety_answer" => "安否確認の回答",
        "snow_watch_started" => "雪かき見守り開始",
        "snow_watch_ended" => "雪かき見守り終了",
        "snow_watch_alert" => "雪かき見守りの警告",
        "card_link_requested" => "カード登録の申請",
        "misunderstanding" => "聞き取り違い",
        other => other,
    }
}

fn status_label(s: Option<Status>) -> &'static str {
    match s {
        None => "確認待ち",
        Some(Status::Confirmed) => "確認済み",
        Some(Status::Attention) => "要確認",
        Some(Status::Unconfirmed) => "未確認",
        Some(Status::NeedsHelp) => "要支援",
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let resident = ResidentId(id);
    let now = state.clock.now();
    let hidden = || PageError::Refused(StatusCode::NOT_FOUND, "その住民は見つかりません。");
    let district = blocking(&state.store, move |s| s.resident_exists(resident)).await?.ok_or_else(hidden)?;
    if session.user.role == Role::Minsei && session.user.district.as_deref() != Some(district.as_str()) {
        return Err(hidden());
    }
    let user = session.user.user;
    let (status, timeline, history, record, weeks, progress) = blocking(&state.store, move |s| {
        s.audit(user, "view", Some(resident), now)?;
        Ok((
            s.status(resident, local_day(now))?,
            s.timeline(resident, EVENTS)?,
            s.status_history(resident)?,
            s.resident_record(resident)?,
            s.exercise_weeks(resident, local_day(now), TREND_WEEKS)?,
            s.exercise_progress(resident)?,
        ))
    })
    .await?;
    let record = record.ok_or_else(hidden)?;
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string();
    let mut body = format!(
        "<h1>住民 {id} ({})</h1><p id=\"today\">本日: {}</p>{}<h2>体操の習慣 (週ごとの回数)</h2>{}{}\
         <h2>記録</h2><table id=\"timeline\">\
         <tr><th>受信</th><th>端末の時刻</th><th>内容</th></tr>",
        escape(&district),
        status_label(status),
        profile_section(&record, now, session.user.role != Role::Minsei),
        match progress {
            Some((score, days, at)) => format!(
                "<p id=\"habit\">運動の習慣 {score}点（100点満点）・この7日で{days}日 <small>{}の報告</small></p>",
                time(at)
            ),
            None => "<p id=\"habit\">運動の習慣の報告はまだありません。</p>".to_owned(),
        },
        trend_chart(&weeks)
    );
    for e in timeline {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            time(e.server_time),
            time(e.device_time),
            escape(kind_label(&e.kind))
        ));
    }
    body.push_str("</table><h2>状態の変化</h2><table id=\"history\"><tr><th>日</th><th>変化</th><th>誰が</th><th>いつ</th></tr>");
    for c in history.iter().rev().take(EVENTS) {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
            escape(&c.day),
            status_label(c.from),
            status_label(Some(c.to)),
            escape(&c.actor),
            time(c.at)
        ));
    }
    body.push_str("</table>");
    Ok(page("住民", &body))
}
