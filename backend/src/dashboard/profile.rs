//! Enrolling a resident and editing their profile (check-in window, contraindications
//! from care's catalogue, living alone, birth year, emergency contacts, pauses).
//! Office staff only; every change is audited and sent to the household's tablet.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike as _, NaiveDate, NaiveTime};

use super::layout::{Chrome, render};
use super::{PageError, Session, Submitted};
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
    let kana = line(form, "kana", 100, false, "ふりがなが長すぎます。")?;
    if !kana.chars().all(|c| matches!(c, 'ぁ'..='ゖ' | 'ァ'..='ヺ' | 'ー' | '・' | ' ' | '　')) {
        return Err(bad("ふりがなは、ひらがなかカタカナで入れてください。"));
    }
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
        kana,
        support_needs,
        roster_consent: form.get("roster_consent").is_some_and(|v| v == "on"),
        roster_consent_recorded: None,
        pin_sign_in: form.get("pin_sign_in").is_some_and(|v| v == "on"),
        memory_off: form.get("memory_off").is_some_and(|v| v == "on"),
        medicine: read_medicine(form)?,
        interests: read_interests(form)?,
    })
}

/// How many interests the form has room for, and how long each may be (a word or two:
/// the tablet says it inside a short question).
pub const INTEREST_ROWS: usize = 3;
const MAX_INTEREST_CHARS: usize = 12;

/// What the resident enjoys (`interest0`…`interest2`), empty rows left out.
fn read_interests(form: &FormMap) -> Result<Vec<String>, PageError> {
    let mut interests = Vec::new();
    for i in 0..INTEREST_ROWS {
        let v = line(
            form,
            &format!("interest{i}"),
            MAX_INTEREST_CHARS,
            false,
            "好きなことは、12文字までで入れてください。",
        )?;
        if !v.is_empty() && !interests.contains(&v) {
            interests.push(v);
        }
    }
    Ok(interests)
}

/// The medicine times (`med_{slot}`, each `HH:MM` or empty): times of day only, the
/// form has no field for which medicine.
fn read_medicine(form: &FormMap) -> Result<Vec<(vocab::MedicineSlot, NaiveTime)>, PageError> {
    if form.keys().filter_map(|k| k.strip_prefix("med_")).any(|n| n.parse::<vocab::MedicineSlot>().is_err()) {
        return Err(bad("お薬の時間は、朝・昼・夜・寝る前の欄に入れてください。"));
    }
    let mut times = Vec::new();
    for &slot in vocab::MedicineSlot::ALL {
        let Some(v) = form.get(&format!("med_{}", slot.key())).map(|v| v.trim()).filter(|v| !v.is_empty())
        else {
            continue;
        };
        let at = NaiveTime::parse_from_str(v, "%H:%M")
            .map_err(|_| bad("お薬の時間は 08:00 の形で入れてください。"))?;
        times.push((slot, at));
    }
    Ok(times)
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

/// A check box of the form: its field name, label and state.
struct Check {
    name: String,
    label: &'static str,
    checked: bool,
}

/// A contact's row of the form (`contact{i}_…` fields).
struct ContactFields {
    i: usize,
    name: String,
    relation: String,
    phone: String,
    email: String,
    notify: bool,
    /// When and by whom the consent to be mailed was recorded.
    recorded: Option<String>,
}

/// The profile part of the enrolment and edit forms (`templates/profile_fields.html`).
struct ProfileFields {
    window_start: String,
    window_end: String,
    grace_minutes: u32,
    contraindications: Vec<Check>,
    lives_alone: bool,
    birth_year: String,
    phone: String,
    address: String,
    kana: String,
    needs: Vec<Check>,
    roster_consent: bool,
    consent_recorded: Option<String>,
    contacts: Vec<ContactFields>,
    pin_sign_in: bool,
    memory_off: bool,
    medicine: Vec<MedicineField>,
    /// `INTEREST_ROWS` values, empty where none is noted.
    interests: Vec<(usize, String)>,
}

/// One medicine time on the form (`med_{slot}`).
struct MedicineField {
    name: String,
    label: &'static str,
    value: String,
}

impl ProfileFields {
    const MAX_NAME_CHARS: usize = MAX_NAME_CHARS;

    /// The fields filled with `p`; `logins` names who recorded consents.
    fn of(p: &Profile, logins: &HashMap<crate::store::UserId, String>) -> ProfileFields {
        let recorded = |r: Option<(Option<crate::store::UserId>, chrono::DateTime<chrono::Utc>)>| {
            r.map(|(by, at)| {
                format!(
                    "{} {}",
                    at.with_timezone(&town_offset()).format("%Y-%m-%d %H:%M"),
                    by.and_then(|b| logins.get(&b)).map_or("事務所の端末", String::as_str)
                )
            })
        };
        ProfileFields {
            window_start: p.window.start.format("%H:%M").to_string(),
            window_end: p.window.end.format("%H:%M").to_string(),
            grace_minutes: p.window.grace_minutes,
            contraindications: Contraindication::ALL
                .iter()
                .map(|c| Check {
                    name: format!("ci_{}", c.key()),
                    label: c.label(),
                    checked: p.contraindications.iter().any(|k| k == c.key()),
                })
                .collect(),
            lives_alone: p.lives_alone,
            birth_year: p.birth_year.map(|y| y.to_string()).unwrap_or_default(),
            phone: p.phone.clone(),
            address: p.address.clone(),
            kana: p.kana.clone(),
            needs: SupportNeed::ALL
                .into_iter()
                .map(|n| Check {
                    name: format!("need_{}", n.key()),
                    label: n.label(),
                    checked: p.support_needs.contains(&n),
                })
                .collect(),
            roster_consent: p.roster_consent,
            consent_recorded: recorded(p.roster_consent_recorded),
            contacts: (0..CONTACT_ROWS)
                .map(|i| {
                    let c = p.contacts.get(i);
                    let v = |f: fn(&Contact) -> &str| c.map(|c| f(c).to_owned()).unwrap_or_default();
                    ContactFields {
                        i,
                        name: v(|c| &c.name),
                        relation: v(|c| &c.relation),
                        phone: v(|c| &c.phone),
                        email: v(|c| &c.email),
                        notify: c.is_some_and(|c| c.notify_consent),
                        recorded: recorded(c.and_then(|c| c.consent_recorded)),
                    }
                })
                .collect(),
            pin_sign_in: p.pin_sign_in,
            memory_off: p.memory_off,
            medicine: vocab::MedicineSlot::ALL
                .iter()
                .map(|&slot| MedicineField {
                    name: format!("med_{}", slot.key()),
                    label: slot.label(),
                    value: p
                        .medicine
                        .iter()
                        .find(|(s, _)| *s == slot)
                        .map(|(_, at)| at.format("%H:%M").to_string())
                        .unwrap_or_default(),
                })
                .collect(),
            interests: (0..INTEREST_ROWS)
                .map(|i| (i, p.interests.get(i).cloned().unwrap_or_default()))
                .collect(),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "resident_new.html")]
struct NewPage {
    chrome: Chrome,
    csrf: String,
    fields: ProfileFields,
}

impl NewPage {
    const MAX_NAME_CHARS: usize = MAX_NAME_CHARS;
    const MAX_DISTRICT_CHARS: usize = MAX_DISTRICT_CHARS;
}

/// A pause as the edit page lists it.
struct PauseLine {
    id: i64,
    from: String,
    until: String,
    reason: String,
    /// Still running: it can be ended today.
    running: bool,
}

#[derive(askama::Template)]
#[template(path = "resident_edit.html")]
struct EditPage {
    chrome: Chrome,
    csrf: String,
    id: i64,
    name: String,
    district: String,
    fields: ProfileFields,
    pauses: Vec<PauseLine>,
}

impl EditPage {
    const MAX_REASON_CHARS: usize = MAX_REASON_CHARS;
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
        kana: String::new(),
        support_needs: Vec::new(),
        roster_consent: false,
        roster_consent_recorded: None,
        pin_sign_in: false,
        memory_off: false,
        medicine: vec![],
        interests: vec![],
    };
    render(&NewPage {
        chrome: session.chrome("住民の登録", "/residents/new"),
        csrf: session.csrf(),
        fields: ProfileFields::of(&blank, &HashMap::new()),
    })
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
    let day =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&town_offset()).format("%Y-%m-%d").to_string();
    let now = state.clock.now();
    let pauses = rec
        .pauses
        .iter()
        .map(|p| PauseLine {
            id: p.id,
            from: day(p.from),
            until: day(p.until),
            reason: p.reason.clone(),
            running: p.until > now,
        })
        .collect();
    render(&EditPage {
        chrome: session.chrome("住民の変更", ""),
        csrf: session.csrf(),
        id,
        fields: ProfileFields::of(&rec.profile, &logins),
        name: rec.display_name,
        district: rec.district,
        pauses,
    })
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
