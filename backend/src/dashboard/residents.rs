//! A resident's page: today's status, the recent timeline and status history.
//! Every view is written to the audit log before anything is shown.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Html;

use super::layout::{Chrome, DistrictChoice, render};
use super::{PageError, Session};
use crate::clock::{local_day, town_offset};
use crate::routes::{AppState, blocking};
use std::collections::HashMap;

use crate::store::{BoardState, CheckInAnswer, ResidentId, ResidentRecord, Role, Status};
use vocab::Contraindication;

/// Timeline entries shown.
const EVENTS: usize = 100;
/// Weeks on the exercise chart.
const TREND_WEEKS: usize = 12;

/// The profile as staff and 民生委員 read it.
struct ProfileView {
    window: String,
    contraindications: String,
    lives_alone: bool,
    birth_year: String,
    has_card: bool,
    pauses: String,
    last_visit: String,
    /// (name, relation, phone)
    contacts: Vec<(String, String, String)>,
}

impl ProfileView {
    fn of(r: &ResidentRecord, now: chrono::DateTime<chrono::Utc>) -> ProfileView {
        let p = &r.profile;
        let contra: Vec<&str> = p.contraindications.iter().map(|c| Contraindication::label_of(c)).collect();
        let day =
            |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%m/%d").to_string();
        let pauses: Vec<String> = r
            .pauses
            .iter()
            .filter(|x| x.until > now)
            .map(|x| format!("{}〜{} {}", day(x.from), day(x.until), x.reason))
            .collect();
        ProfileView {
            window: format!(
                "{}〜{}{} (猶予{}分)",
                p.window.start.format("%H:%M"),
                if p.window.crosses_midnight() { "翌" } else { "" },
                p.window.end.format("%H:%M"),
                p.window.grace_minutes
            ),
            contraindications: if contra.is_empty() { "なし".to_owned() } else { contra.join("、") },
            lives_alone: p.lives_alone,
            birth_year: p.birth_year.map_or("-".to_owned(), |y| y.to_string()),
            has_card: r.has_card,
            pauses: if pauses.is_empty() { "なし".to_owned() } else { pauses.join("、") },
            last_visit: r.last_visit.map_or("記録なし".to_owned(), day),
            contacts: p
                .contacts
                .iter()
                .map(|c| (c.name.clone(), c.relation.clone(), c.phone.clone()))
                .collect(),
        }
    }
}

/// Weekly exercise sessions as an inline SVG line chart (no script, no external
/// file): one point per week, the week's Monday under it, the count above it.
/// Only numbers are computed here; `templates/habit_chart.html` draws them.
struct Chart {
    weeks: usize,
    total: u32,
    /// The top of the scale (at least 7: a week's days).
    top: u32,
    points: Vec<ChartPoint>,
    polyline: String,
}

impl Chart {
    const W: usize = 520;
    const H: usize = 180;
    const LEFT: usize = 30;
    const TOP: usize = 20;
    const BOTTOM: usize = 30;
    const PLOT_H: usize = Self::H - Self::TOP - Self::BOTTOM;
    /// The x axis, at the bottom of the plot.
    const AXIS_Y: usize = Self::TOP + Self::PLOT_H;
    const AXIS_END: usize = Self::W - 10;
    const TOP_LABEL_Y: usize = Self::TOP + 4;
    const DAY_LABEL_Y: usize = Self::H - 10;

    fn of(weeks: &[(chrono::NaiveDate, u32)]) -> Chart {
        let top = weeks.iter().map(|w| w.1).max().unwrap_or(0).max(7);
        let step = (Self::W - Self::LEFT - 10) / weeks.len().max(1);
        let points: Vec<_> = weeks
            .iter()
            .enumerate()
            .map(|(i, (monday, n))| {
                let x = Self::LEFT + step / 2 + i * step;
                let y = Self::TOP + Self::PLOT_H - (*n as usize * Self::PLOT_H) / top as usize;
                ChartPoint {
                    x,
                    y,
                    label_y: y.saturating_sub(8),
                    week: monday.to_string(),
                    day: monday.format("%m/%d").to_string(),
                    count: *n,
                }
            })
            .collect();
        let polyline = points.iter().map(|p| format!("{},{}", p.x, p.y)).collect::<Vec<_>>().join(" ");
        Chart { weeks: weeks.len(), total: weeks.iter().map(|w| w.1).sum(), top, points, polyline }
    }
}

/// A week on the chart: where it is drawn, its Monday and its count.
struct ChartPoint {
    x: usize,
    y: usize,
    /// The count's label, above the point.
    label_y: usize,
    week: String,
    day: String,
    count: u32,
}

fn kind_label(kind: &str) -> &str {
    use wire::EventKind as K;
    // Exhaustive: a new kind of event is named here before it builds.
    match K::from_name(kind) {
        K::CheckIn => "体調確認",
        K::HelpRequest => "助けを求めた",
        K::ExerciseDone => "体操",
        K::SafetyAnswer => "安否確認の回答",
        K::SnowWatchStarted => "雪かき見守り開始",
        K::SnowWatchEnded => "雪かき見守り終了",
        K::SnowWatchAlert => "雪かき見守りの警告",
        K::CardLinkRequested => "カード登録の申請",
        K::Misunderstanding => "聞き取り違い",
        K::Medicine => "お薬",
        K::ChairStand => "椅子立ち上がり",
        K::NewsHeard => "お知らせを聞いた",
        K::MoodNoted => "話の中で気分を口にした",
        K::MemoryNoted => "日にちと三つの言葉のおしゃべり",
        K::Unknown => kind,
    }
}

/// Rows of the resident list shown at once.
const LIST_ROWS: usize = 300;

/// `GET /residents?q=&district=&sort=`: everyone (a 民生委員: their district) whose
/// name or kana holds `q`, by kana or by need, with today's state and the phone.
pub(super) async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    let own = session.scope()?;
    let town_wide = own.is_none();
    let district = own.or_else(|| query.get("district").filter(|d| !d.is_empty()).cloned());
    let search: String = query.get("q").map(|q| q.trim().chars().take(50).collect()).unwrap_or_default();
    let by_need = query.get("sort").is_some_and(|s| s == "need");
    let now = state.clock.now();
    let (d, q) = (district.clone(), search.clone());
    let (rows, districts) = blocking(&state.store, move |s| {
        Ok((
            s.resident_list(d.as_deref(), &q, by_need, now, LIST_ROWS + 1)?,
            if town_wide { s.district_sizes()? } else { Vec::new() },
        ))
    })
    .await?;
    let more = rows.len() > LIST_ROWS;
    let time = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%H:%M").to_string();
    render(&ResidentListPage {
        chrome: session.chrome("住民の一覧", "/residents"),
        rows: rows
            .into_iter()
            .take(LIST_ROWS)
            .map(|r| ListLine {
                id: r.resident.0,
                state: format!("{:?}", r.state),
                label: r.state.label(),
                time: r.checked_in.map(time).unwrap_or_default(),
                tel: super::board::tel_href(&r.phone),
                phone: r.phone,
                name: r.display_name,
                district: r.district,
            })
            .collect(),
        more,
        districts: DistrictChoice::all(districts, district.as_deref()),
        search,
        by_need,
    })
}

/// A resident on the list; `state` is the `data-state` value.
struct ListLine {
    id: i64,
    state: String,
    label: &'static str,
    name: String,
    district: String,
    /// Today's check-in time ('' when none).
    time: String,
    phone: String,
    tel: String,
}

#[derive(askama::Template)]
#[template(path = "residents.html")]
struct ResidentListPage {
    chrome: Chrome,
    rows: Vec<ListLine>,
    /// More matched than are shown.
    more: bool,
    /// The districts a town-wide role may choose (name, residents, chosen).
    districts: Vec<DistrictChoice>,
    search: String,
    by_need: bool,
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
    let (today, timeline, history, record, weeks, progress, checkins, logins, doses, (stands, mood, looks)) =
        blocking(&state.store, move |s| {
            s.audit(user, "view", Some(resident), now)?;
            Ok((
                s.resident_today(resident, now)?,
                s.timeline(resident, EVENTS)?,
                s.status_history(resident)?,
                s.resident_record(resident)?,
                s.exercise_weeks(resident, local_day(now), TREND_WEEKS)?,
                s.exercise_progress(resident)?,
                s.checkins(resident, EVENTS)?,
                s.users(now)?.into_iter().map(|u| (u.user.0, u.login)).collect::<HashMap<i64, String>>(),
                s.medicine_days(resident, local_day(now), MEDICINE_DAYS)?,
                (
                    s.chair_stands(resident)?,
                    s.mood_weeks(resident, local_day(now))?,
                    s.memory_looks(resident, local_day(now))?,
                ),
            ))
        })
        .await?;
    let record = record.ok_or_else(hidden)?;
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%m/%d %H:%M").to_string();
    render(&ResidentPage {
        chrome: session.chrome(record.display_name.clone(), ""),
        id,
        district,
        today: today.map_or("確認待ち", BoardState::label),
        checkins: checkins
            .into_iter()
            .map(|c| {
                let attention = c.said.iter().any(|a| a.is_health_concern() || a.wants_visit());
                let said = if c.said.is_empty() {
                    "（答えの記録なし）".to_owned()
                } else {
                    CheckInAnswer::labels(&c.said)
                };
                (time(c.at), said, attention)
            })
            .collect(),
        profile: ProfileView::of(&record, now),
        editable: session.user.role != Role::Minsei,
        habit: progress.map(|(score, days, at)| (score, days, time(at))),
        medicine: MedicineTable::of(&record.profile.medicine, &doses),
        legs: LegsTable::of(&stands, record.profile.birth_year, local_day(now)),
        mood: MoodView::of(&mood),
        memory: MemoryView::of(&looks, record.profile.memory_off),
        chart: Chart::of(&weeks),
        timeline: timeline
            .into_iter()
            .map(|e| [time(e.server_time), time(e.device_time), kind_label(&e.kind).to_owned()])
            .collect(),
        history: history
            .iter()
            .rev()
            .take(EVENTS)
            .map(|c| HistoryLine {
                day: c.day.clone(),
                from: status_label(c.from),
                to: status_label(Some(c.to)),
                actor: actor_label(&c.actor, &logins),
                at: time(c.at),
            })
            .collect(),
        name: record.display_name,
    })
}

/// Who changed a status, in words: the staff member's login, the tablet, or the
/// office's own timer.
fn actor_label(actor: &str, logins: &HashMap<i64, String>) -> String {
    match actor.split_once(':') {
        Some(("user", id)) => id
            .parse::<i64>()
            .ok()
            .and_then(|id| logins.get(&id))
            .map_or_else(|| "職員".to_owned(), |login| format!("職員 {login}")),
        Some(("device", _)) => "タブレット".to_owned(),
        _ if actor == "engine" => "自動（時間切れ）".to_owned(),
        _ => actor.to_owned(),
    }
}

/// A change of status: the day it concerns, from and to, who and when.
struct HistoryLine {
    day: String,
    from: &'static str,
    to: &'static str,
    actor: String,
    at: String,
}

#[derive(askama::Template)]
#[template(path = "resident.html")]
struct ResidentPage {
    chrome: Chrome,
    id: i64,
    name: String,
    district: String,
    today: &'static str,
    /// Each check-in: when, what was said, and whether an answer needs a look.
    checkins: Vec<(String, String, bool)>,
    profile: ProfileView,
    /// Staff get the link to the settings; 民生委員 do not.
    editable: bool,
    /// (score, days in the last 7, when reported)
    habit: Option<(u8, u8, String)>,
    chart: Chart,
    /// (received, device time, what)
    timeline: Vec<[String; 3]>,
    history: Vec<HistoryLine>,
    medicine: MedicineTable,
    legs: LegsTable,
    mood: MoodView,
    memory: MemoryView,
}

/// Two weeks of mood, in words: how many days said a low mood or loneliness this week
/// and the week before, and which days.
struct MoodView {
    summary: String,
    /// (`MM/DD`, what was said: 「さみしい」, 「気分が沈んでいる」 or both).
    days: Vec<(String, String)>,
}

impl MoodView {
    fn of(m: &crate::store::MoodWeeks) -> Self {
        let summary = if m.low_days.is_empty() {
            "この2週間、気分の落ち込みやさみしさを口にした日はありません。".to_owned()
        } else {
            format!(
                "この7日で{}日・その前の7日で{}日、気分の落ち込みやさみしさを口にしました。",
                m.this_week, m.week_before
            )
        };
        let days = m
            .low_days
            .iter()
            .map(|(d, said)| {
                (d.format("%m/%d").to_string(), said.iter().map(|i| i.label()).collect::<Vec<_>>().join("・"))
            })
            .collect();
        MoodView { summary, days }
    }
}

/// Eight weeks of the talk about the day and three words, in plain words: each day's
/// answers as they were, never a score or a medical word.
struct MemoryView {
    /// Staff turned the talk off in the profile.
    off: bool,
    /// (`MM/DD`, 「曜日 ○」 or 「季節 ・」 or 「－」, 「2/3」 or 「－」), newest first.
    days: Vec<(String, String, String)>,
}

impl MemoryView {
    fn of(looks: &[crate::store::MemoryLook], off: bool) -> Self {
        use vocab::MemoryPart;
        let days = looks
            .iter()
            .map(|l| {
                let asked = |p: MemoryPart| l.parts.iter().filter(move |(q, ..)| *q == p);
                let orientation: Vec<String> = [MemoryPart::Weekday, MemoryPart::Season]
                    .into_iter()
                    .flat_map(asked)
                    .map(|(p, right, _)| format!("{} {}", p.label(), if *right == 0 { "・" } else { "○" }))
                    .collect();
                let recall = asked(MemoryPart::Recall).map(|(_, right, of)| format!("{right}/{of}")).next();
                let none = || "－".to_owned();
                (
                    l.day.format("%m/%d").to_string(),
                    if orientation.is_empty() { none() } else { orientation.join("・") },
                    recall.unwrap_or_else(none),
                )
            })
            .collect();
        MemoryView { off, days }
    }
}

/// The resident page's chair-stand tests (CS-30): a row per test, newest first, with
/// the change from the one before, beside the usual range for their age.
struct LegsTable {
    /// (day, count, change from the previous test: 「+2」「-3」 or '')
    tests: Vec<(String, u8, String)>,
    /// 「75〜79歳の普通：男性 15〜17回・女性 13〜17回（中谷ほか 2003）」, or why there is none.
    reference: String,
}

impl LegsTable {
    fn of(stands: &[crate::store::ChairStand], birth_year: Option<i32>, today: chrono::NaiveDate) -> Self {
        use chrono::Datelike as _;
        let tests = stands
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let change = stands.get(i + 1).map_or(String::new(), |before| {
                    format!("{:+}", i16::from(t.count) - i16::from(before.count))
                });
                (t.day.format("%Y/%m/%d").to_string(), t.count, change)
            })
            .collect();
        let reference = match birth_year.map(|y| today.year() - y) {
            Some(age) => match crate::domain::chair_stand_usual(age) {
                Some(r) => format!(
                    "{}の普通：男性 {}〜{}回・女性 {}〜{}回（中谷ほか 2003）",
                    r.ages, r.men.0, r.men.1, r.women.0, r.women.1
                ),
                None => "60歳未満の基準はここにありません。".to_owned(),
            },
            None => "生まれ年が未登録のため、年代の基準を示せません。".to_owned(),
        };
        LegsTable { tests, reference }
    }
}

/// How many days of medicine the resident page shows.
const MEDICINE_DAYS: u32 = 14;

/// The resident page's medicine table: a column per time staff set, a row per day.
struct MedicineTable {
    /// (slot label, `HH:MM`)
    times: Vec<(&'static str, String)>,
    /// (day, a cell per time: 「飲んだ」, 「飲み忘れ」 or 「－」)
    days: Vec<(String, Vec<&'static str>)>,
}

impl MedicineTable {
    fn of(times: &[(vocab::MedicineSlot, chrono::NaiveTime)], days: &[crate::store::DoseDay]) -> Self {
        MedicineTable {
            times: times.iter().map(|(s, at)| (s.label(), at.format("%H:%M").to_string())).collect(),
            days: days
                .iter()
                .map(|d| {
                    let cells = times
                        .iter()
                        .map(|(slot, _)| match d.doses.iter().find(|(s, _)| s == slot) {
                            Some((_, true)) => "飲んだ",
                            Some((_, false)) => "飲み忘れ",
                            None => "－",
                        })
                        .collect();
                    (d.day.format("%m/%d").to_string(), cells)
                })
                .collect(),
        }
    }
}
