//! Enrolling a resident and editing their profile (check-in window, contraindications
//! from care's catalogue, living alone, birth year, emergency contacts, pauses).
//! Office staff only; every change is audited and sent to the household's tablet.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike as _, NaiveDate, NaiveTime};

use super::{PageError, Session, Submitted, escape, page};
use crate::clock::{at_local, local_day, town_offset};
use crate::routes::{AppState, blocking};
use crate::store::{CheckinWindow, Contact, Profile, ResidentId, SupportNeed};
use vocab::Contraindication;

const STAFF_ONLY: &str = "住民の登録と変更は職員が行います。";
/// Contact rows on the form.
pub const CONTACT_ROWS: usize = 3;
const MAX_NAME_CHARS: usize = 50;
const MAX_DISTRICT_CHARS: usize = 30;
const MAX_REASON_CHARS: usize = 200;

type FormMap = HashMap<String, String>;

fn bad(reason: &'static str) -> PageError {
    PageError::Refused(StatusCode::BAD_REQUEST, reason)
}

/// A one-line text field: trimmed, within `max` characters, no control characters.
fn line(
    form: &FormMap,
    name: &str,
    max: usize,
    required: bool,
    why: &'static str,
) -> Result<String, PageError> {
    let v = form.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
    if (required && v.is_empty()) || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(bad(why));
    }
    Ok(v)
}

fn time(form: &FormMap, name: &str) -> Result<NaiveTime, PageError> {
    form.get(name)
        .and_then(|v| NaiveTime::parse_from_str(v.trim(), "%H:%M").ok())
        .ok_or(bad("確認の時間帯は 08:00 の形で入れてください。"))
}

/// The profile fields of a form, validated.
fn read_profile(form: &FormMap, this_year: i32) -> Result<Profile, PageError> {
    let (start, end) = (time(form, "window_start")?, time(form, "window_end")?);
    if start == end {
        return Err(bad("確認の時間帯の始めと終わりが同じです。"));
    }
    let grace = match form.get("grace_minutes").map(|g| g.trim()).filter(|g| !g.is_empty()) {
        None => 60,
        Some(g) => {
            g.parse::<u32>().ok().filter(|g| *g <= 240).ok_or(bad("猶予は 0〜240 分で入れてください。"))?
        }
    };
    let mut contraindications = Vec::new();
    for c in Contraindication::ALL {
        if form.get(&format!("ci_{c}")).is_some_and(|v| v == "on") {
            contraindications.push(c.key().to_owned());
        }
    }
    // A field the form does not have is an edited request: refuse, do not drop it.
    if form.keys().filter_map(|k| k.strip_prefix("ci_")).any(|n| n.parse::<Contraindication>().is_err()) {
        return Err(bad("注意する体の状態は一覧から選んでください。"));
    }
    let birth_year = match form.get("birth_year").map(|b| b.trim()).filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(
            b.parse::<i32>()
                .ok()
                .filter(|y| (1900..=this_year).contains(y))
                .ok_or(bad("生まれた年は西暦4桁で入れてください。"))?,
        ),
    };
    let mut contacts = Vec::new();
    for i in 0..CONTACT_ROWS {
        let name =
            line(form, &format!("contact{i}_name"), MAX_NAME_CHARS, false, "連絡先の名前が長すぎます。")?;
        let relation = line(form, &format!("contact{i}_relation"), 20, false, "続柄が長すぎます。")?;
        let phone = line(form, &format!("contact{i}_phone"), 20, false, "電話番号が読めません。")?;
        let email = line(form, &format!("contact{i}_email"), 254, false, "メールアドレスが長すぎます。")?;
        let notify_consent = form.get(&format!("contact{i}_notify")).is_some_and(|v| v == "on");
        if name.is_empty() && phone.is_empty() && relation.is_empty() && email.is_empty() {
            continue;
        }
        if name.is_empty() || !phone_ok(&phone) {
            return Err(bad("連絡先には名前と電話番号(数字とハイフン)を入れてください。"));
        }
        if !email.is_empty() && !email_ok(&email) {
            return Err(bad("連絡先のメールアドレスが読めません。"));
        }
        if notify_consent && email.is_empty() {
            return Err(bad("メールで知らせる連絡先には、メールアドレスを入れてください。"));
        }
        contacts.push(Contact { email, notify_consent, ..Contact::new(&name, &relation, &phone) });
    }
    let phone = line(form, "phone", 20, false, "電話番号が読めません。")?;
    if !phone.is_empty() && !phone_ok(&phone) {
        return Err(bad("本人の電話番号は数字とハイフンで入れてください。"));
    }
    let address = line(form, "address", 200, false, "住所が長すぎます。")?;
    let support_needs: Vec<SupportNeed> = SupportNeed::ALL
        .into_iter()
        .filter(|n| form.get(&format!("need_{}", n.key())).is_some_and(|v| v == "on"))
        .collect();
    if form.keys().filter_map(|k| k.strip_prefix("need_")).any(|n| SupportNeed::from_key(n).is_none()) {
        return Err(bad("避難に必要な支援は一覧から選んでください。"));
    }
    Ok(Profile {
        window: CheckinWindow { start, end, grace_minutes: grace },
        contraindications,
        lives_alone: form.get("lives_alone").is_some_and(|v| v == "on"),
        birth_year,
        contacts,
        phone,
        address,
        support_needs,
        roster_consent: form.get("roster_consent").is_some_and(|v| v == "on"),
        roster_consent_recorded: None,
        pin_sign_in: form.get("pin_sign_in").is_some_and(|v| v == "on"),
    })
}

fn phone_ok(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    (3..=15).contains(&digits) && phone.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c))
}

/// A plausible address (one @, something on each side, a dot in the domain, no
/// spaces or header-breaking characters): the mail server judges the rest.
pub fn email_ok(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && email.chars().all(|c| c.is_ascii_graphic() && !"<>(),;:\\\"[]".contains(c))
}

/// The profile part of a form, filled with `p`; `logins` names who recorded consents.
fn profile_fields(p: &Profile, logins: &std::collections::HashMap<crate::store::UserId, String>) -> String {
    let recorded = |r: Option<(Option<crate::store::UserId>, chrono::DateTime<chrono::Utc>)>| match r {
        Some((by, at)) => format!(
            " <small>記録 {} {}</small>",
            at.with_timezone(&town_offset()).format("%Y-%m-%d %H:%M"),
            escape(by.and_then(|b| logins.get(&b)).map_or("事務所の端末", String::as_str))
        ),
        None => String::new(),
    };
    let mut out = format!(
        "<fieldset><legend>確認の時間帯</legend>\
         <label>始め <input name=\"window_start\" type=\"time\" value=\"{}\" required></label>\
         <label>終わり <input name=\"window_end\" type=\"time\" value=\"{}\" required></label>\
         <label>猶予(分) <input name=\"grace_minutes\" type=\"number\" min=\"0\" max=\"240\" value=\"{}\"></label>\
         <p>終わりが始めより早いときは、夜から翌朝にかけての時間帯です。</p></fieldset>\
         <fieldset><legend>体操で注意すること</legend>",
        p.window.start.format("%H:%M"),
        p.window.end.format("%H:%M"),
        p.window.grace_minutes
    );
    for c in Contraindication::ALL {
        let (name, label) = (c.key(), c.label());
        let checked = if p.contraindications.iter().any(|c| c == name) { " checked" } else { "" };
        out.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"ci_{name}\" value=\"on\"{checked}> {label}</label>"
        ));
    }
    out.push_str(&format!(
        "</fieldset><label><input type=\"checkbox\" name=\"lives_alone\" value=\"on\"{}> 一人暮らし</label>\
         <label>生まれた年 <input name=\"birth_year\" type=\"number\" min=\"1900\" value=\"{}\"></label>\
         <label>本人の電話 <input name=\"phone\" type=\"tel\" value=\"{}\" maxlength=\"20\"></label>\
         <label>住所 <input name=\"address\" value=\"{}\" maxlength=\"200\"></label>\
         <fieldset><legend>災害時の避難に必要な支援(避難行動要支援者名簿)</legend>{}\
         <label><input type=\"checkbox\" name=\"roster_consent\" value=\"on\"{}> 平常時から名簿を避難支援者\
         (消防団・自主防災組織)に提供することに本人が同意</label>{}\
         <p>同意がなくても、災害が宣言されている間は名簿を提供できます(災害対策基本法 第49条の11)。</p></fieldset>\
         <fieldset><legend>緊急連絡先</legend>\
         <p>「メールで知らせる」は、本人の見守りで職員・民生委員が応じないとき、この人にもメールで知らせることに\
         本人と連絡先の方が同意したときだけ選びます。記録した人と日時が残ります。</p>",
        if p.lives_alone { " checked" } else { "" },
        p.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        escape(&p.phone),
        escape(&p.address),
        SupportNeed::ALL
            .into_iter()
            .map(|n| format!(
                "<label><input type=\"checkbox\" name=\"need_{}\" value=\"on\"{}> {}</label>",
                n.key(),
                if p.support_needs.contains(&n) { " checked" } else { "" },
                n.label()
            ))
            .collect::<String>(),
        if p.roster_consent { " checked" } else { "" },
        recorded(p.roster_consent_recorded)
    ));
    for i in 0..CONTACT_ROWS {
        let c = p.contacts.get(i);
        let v = |f: fn(&Contact) -> &str| c.map(|c| escape(f(c))).unwrap_or_default();
        out.push_str(&format!(
            "<p><label>名前 <input name=\"contact{i}_name\" value=\"{}\" maxlength=\"{MAX_NAME_CHARS}\"></label>\
             <label>続柄 <input name=\"contact{i}_relation\" value=\"{}\" maxlength=\"20\"></label>\
             <label>電話 <input name=\"contact{i}_phone\" type=\"tel\" value=\"{}\" maxlength=\"20\"></label>\
             <label>メール <input name=\"contact{i}_email\" type=\"email\" value=\"{}\" maxlength=\"254\"></label>\
             <label><input type=\"checkbox\" name=\"contact{i}_notify\" value=\"on\"{}> メールで知らせる(同意あり)</label>{}</p>",
            v(|c| &c.name),
            v(|c| &c.relation),
            v(|c| &c.phone),
            v(|c| &c.email),
            if c.is_some_and(|c| c.notify_consent) { " checked" } else { "" },
            recorded(c.and_then(|c| c.consent_recorded))
        ));
    }
    out.push_str(&format!(
        "</fieldset><fieldset><legend>毎日の利用開始</legend><label><input type=\"checkbox\" \
         name=\"pin_sign_in\" value=\"on\"{}> カードをかざしたあと、カードの暗証番号(4けた)も押してもらう</label>\
         <p>カードを家族以外が手にするおそれがあるときに選びます。選ぶと画面に触れるだけでは始まりません。</p></fieldset>",
        if p.pin_sign_in { " checked" } else { "" }
    ));
    out
}

pub(super) async fn new_form(session: Session) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let blank = Profile {
        window: CheckinWindow {
            start: NaiveTime::from_hms_opt(8, 0, 0).expect("literal"),
            end: NaiveTime::from_hms_opt(10, 0, 0).expect("literal"),
            grace_minutes: 60,
        },
        contraindications: Vec::new(),
        lives_alone: false,
        birth_year: None,
        contacts: Vec::new(),
        phone: String::new(),
        address: String::new(),
        support_needs: Vec::new(),
        roster_consent: false,
        roster_consent_recorded: None,
        pin_sign_in: false,
    };
    Ok(page(
        "住民の登録",
        &format!(
            "<h1>住民の登録</h1><form method=\"post\" action=\"/residents\" id=\"enrol\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label>氏名 <input name=\"display_name\" required maxlength=\"{MAX_NAME_CHARS}\"></label>\
             <label>地区 <input name=\"district\" required maxlength=\"{MAX_DISTRICT_CHARS}\"></label>{}\
             <button>登録する</button></form>",
            session.csrf(),
            profile_fields(&blank, &Default::default())
        ),
    ))
}

pub(super) async fn enrol(
    State(state): State<AppState>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let name = line(&form, "display_name", MAX_NAME_CHARS, true, "氏名は1〜50文字で入れてください。")?;
    let district = line(&form, "district", MAX_DISTRICT_CHARS, true, "地区は1〜30文字で入れてください。")?;
    let now = state.clock.now();
    let profile = read_profile(&form, local_day(now).year())?;
    let user = session.user.user;
    let id = blocking(&state.store, move |s| s.enrol_resident(&name, &district, &profile, user, now)).await?;
    tracing::info!(resident = id.0, user = user.0, "resident enrolled");
    Ok(Redirect::to(&format!("/residents/{}", id.0)).into_response())
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let (user, now) = (session.user.user, state.clock.now());
    // The form shows the whole record: opening it is a view, and audited as one.
    let (rec, logins) = blocking(&state.store, move |s| {
        let rec = s.resident_record(ResidentId(id))?;
        if rec.is_some() {
            s.audit(user, "view", Some(ResidentId(id)), now)?;
        }
        let logins: std::collections::HashMap<_, _> =
            s.users(now)?.into_iter().map(|u| (u.user, u.login)).collect();
        Ok((rec, logins))
    })
    .await?;
    let rec = rec.ok_or(PageError::Refused(StatusCode::NOT_FOUND, "その住民は見つかりません。"))?;
    let csrf = session.csrf();
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%Y-%m-%d").to_string();
    let now = state.clock.now();
    let mut pauses =
        String::from("<table id=\"pauses\"><tr><th>から</th><th>まで</th><th>理由</th><th></th></tr>");
    for p in &rec.pauses {
        let end = if p.until > now {
            format!(
                "<form method=\"post\" action=\"/residents/{id}/pauses/{}/end\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <button>今日で終える</button></form>",
                p.id
            )
        } else {
            "終了".to_owned()
        };
        pauses.push_str(&format!(
            "<tr data-pause=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{end}</td></tr>",
            p.id,
            time(p.from),
            time(p.until),
            escape(&p.reason)
        ));
    }
    pauses.push_str("</table>");
    Ok(page(
        "住民の変更",
        &format!(
            "<h1>{} さんの設定 ({})</h1><form method=\"post\" action=\"/residents/{id}/edit\" id=\"profile\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{}<button>保存する</button></form>\
             <h2>一時停止(入院・外泊など)</h2>{pauses}\
             <form method=\"post\" action=\"/residents/{id}/pauses\" id=\"pause\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>から <input name=\"from\" type=\"date\" required></label>\
             <label>まで <input name=\"until\" type=\"date\" required></label>\
             <label>理由 <input name=\"reason\" required maxlength=\"{MAX_REASON_CHARS}\"></label>\
             <button>一時停止する</button></form><p><a href=\"/residents/{id}\">住民のページへ</a></p>",
            escape(&rec.display_name),
            escape(&rec.district),
            profile_fields(&rec.profile, &logins)
        ),
    ))
}

pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let now = state.clock.now();
    let profile = read_profile(&form, local_day(now).year())?;
    let user = session.user.user;
    if !blocking(&state.store, move |s| s.update_profile(ResidentId(id), &profile, user, now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "その住民は見つかりません。"));
    }
    tracing::info!(resident = id, user = user.0, "resident profile changed");
    Ok(Redirect::to(&format!("/residents/{id}")).into_response())
}

pub(super) async fn pause(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Submitted { session, form }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let date = |name: &str| {
        form.get(name)
            .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
            .ok_or(bad("日付が読めません。"))
    };
    let (from, until) = (date("from")?, date("until")?);
    if until < from {
        return Err(bad("「まで」は「から」より後の日にしてください。"));
    }
    let reason = line(&form, "reason", MAX_REASON_CHARS, true, "理由は1〜200文字で入れてください。")?;
    // Whole local days: from the first day's midnight to the end of the last.
    let from = at_local(from, NaiveTime::MIN);
    let until = at_local(until.succ_opt().unwrap_or(until), NaiveTime::MIN);
    let (user, now, resident) = (session.user.user, state.clock.now(), ResidentId(id));
    blocking(&state.store, move |s| {
        if s.resident_exists(resident)?.is_none() {
            return Ok(false);
        }
        s.pause_resident(resident, from, until, &reason, Some(user), now)?;
        Ok(true)
    })
    .await?
    .then_some(())
    .ok_or(PageError::Refused(StatusCode::NOT_FOUND, "その住民は見つかりません。"))?;
    Ok(Redirect::to(&format!("/residents/{id}/edit")).into_response())
}

pub(super) async fn end_pause(
    State(state): State<AppState>,
    Path((id, pause)): Path<(i64, i64)>,
    Submitted { session, form: _ }: Submitted,
) -> Result<Response, PageError> {
    session.require_staff(STAFF_ONLY)?;
    let (user, now) = (session.user.user, state.clock.now());
    if !blocking(&state.store, move |s| s.end_pause(ResidentId(id), pause, user, now)).await? {
        return Err(PageError::Refused(StatusCode::NOT_FOUND, "続いている一時停止は見つかりません。"));
    }
    Ok(Redirect::to(&format!("/residents/{id}/edit")).into_response())
}
