//! Residents' profiles as staff enrol and edit them (window, contraindications,
//! living alone, birth year, emergency contacts, pauses), each change audited and
//! sent to the household's tablet as one whole settings snapshot; home visits.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::audit::{About, audit_tx};
use super::pull_log::push_tx;
use super::{
    CardIdentity, CheckinWindow, ResidentId, Store, StoreError, SupportNeed, UserId, from_minutes, from_ms,
    minutes, ms,
};

/// Someone to call for a resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub relation: String,
    pub phone: String,
    /// Where the ladder's last rung e-mails them ('' for nowhere).
    pub email: String,
    /// They consented to be told of alerts by e-mail.
    pub notify_consent: bool,
    /// Who recorded that consent (or its refusal) and when; set by the store when
    /// the answer is new or changed, kept when an edit leaves it as it was.
    pub consent_recorded: Option<(Option<UserId>, DateTime<Utc>)>,
}

impl Contact {
    /// A contact who has not been asked about e-mail.
    pub fn new(name: &str, relation: &str, phone: &str) -> Self {
        Contact {
            name: name.to_owned(),
            relation: relation.to_owned(),
            phone: phone.to_owned(),
            email: String::new(),
            notify_consent: false,
            consent_recorded: None,
        }
    }
}

/// What staff set about a resident (validated by the dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub window: CheckinWindow,
    /// care's contraindication names.
    pub contraindications: Vec<String>,
    pub lives_alone: bool,
    pub birth_year: Option<i32>,
    pub contacts: Vec<Contact>,
    /// The resident's own phone, which alerts carry ('' when none is known).
    pub phone: String,
    /// Where they live, for the disaster roster ('' when not entered).
    pub address: String,
    /// The name's reading in kana, for the resident list's search and order ('' when
    /// not entered); kept in hiragana.
    pub kana: String,
    /// The help they need to leave home in a disaster.
    pub support_needs: Vec<SupportNeed>,
    /// They consented to be on the roster shared with rescuers in normal times
    /// (during a declared disaster the law lets it be shared without consent).
    pub roster_consent: bool,
    /// Who recorded that answer and when (set by the store when it changes).
    pub roster_consent_recorded: Option<(Option<UserId>, DateTime<Utc>)>,
    /// Daily sign-in with the card asks for its PIN and has the card sign (staff
    /// choose it for a resident whose card others could pick up); otherwise holding
    /// the card, or touching the screen, is enough.
    pub pin_sign_in: bool,
    /// Staff turned off the weekly talk about the day and three words for this
    /// resident (it is on unless they do).
    pub memory_off: bool,
    /// When the tablet asks about medicine, by time of day (which medicine is never
    /// stored); in slot order.
    pub medicine: Vec<(vocab::MedicineSlot, chrono::NaiveTime)>,
    /// What the resident enjoys, as staff noted it (「盆栽」, at most three): the tablet
    /// makes small talk of it.
    pub interests: Vec<String>,
}

/// A pause of check-ins and alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub id: i64,
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub reason: String,
}

/// A resident's record as the profile page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRecord {
    pub id: ResidentId,
    pub display_name: String,
    pub district: String,
    pub has_card: bool,
    pub profile: Profile,
    pub pauses: Vec<Pause>,
    pub last_visit: Option<DateTime<Utc>>,
}

fn contacts_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    contacts: &[Contact],
    user: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let before = read_contacts_tx(tx, resident)?;
    tx.execute("DELETE FROM emergency_contacts WHERE resident_id = ?1", [resident.0])?;
    for (i, c) in contacts.iter().enumerate() {
        // A consent keeps who recorded it while the answer and the address stay the
        // same; a new consent, or one withdrawn, is recorded as given by this editor;
        // a contact never asked has no record.
        let same = before.iter().find(|b| b.name == c.name && b.relation == c.relation);
        let record = match same {
            Some(b) if b.notify_consent == c.notify_consent && b.email == c.email => b.consent_recorded,
            Some(b) if b.notify_consent || c.notify_consent => Some((user, now)),
            None if c.notify_consent => Some((user, now)),
            _ => None,
        };
        let (by, at) = (record.and_then(|(by, _)| by), record.map(|(_, at)| ms(at)));
        tx.execute(
            "INSERT INTO emergency_contacts (resident_id, position, name, relation, phone, email, notify_consent,
                 consent_by, consent_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                resident.0,
                i as i64,
                c.name,
                c.relation,
                c.phone,
                c.email,
                c.notify_consent,
                by.map(|u| u.0),
                at
            ],
        )?;
    }
    Ok(())
}

fn needs_text(needs: &[SupportNeed]) -> String {
    needs.iter().map(|n| n.key()).collect::<Vec<_>>().join(",")
}

/// Records the roster consent with who and when, only when the answer changes
/// (the first "yes", or a withdrawal); the same answer keeps its record.
fn roster_consent_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    consent: bool,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let changed = tx.execute(
        "UPDATE residents SET roster_consent = ?2, roster_consent_by = ?3, roster_consent_ms = ?4
         WHERE id = ?1 AND roster_consent <> ?2",
        params![resident.0, consent, user.0, ms(now)],
    )?;
    if changed == 1 {
        let action = if consent { "roster_consent_given" } else { "roster_consent_withdrawn" };
        audit_tx(tx, Some(user), action, About::Resident(resident), now)?;
    }
    Ok(())
}

fn read_contacts_tx(tx: &Transaction<'_>, resident: ResidentId) -> Result<Vec<Contact>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, relation, phone, email, notify_consent, consent_by, consent_ms
         FROM emergency_contacts WHERE resident_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([resident.0], |r| {
        Ok((
            Contact {
                name: r.get(0)?,
                relation: r.get(1)?,
                phone: r.get(2)?,
                email: r.get(3)?,
                notify_consent: r.get(4)?,
                consent_recorded: None,
            },
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, Option<i64>>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (mut c, by, at) = row?;
        c.consent_recorded = at.map(|at| Ok::<_, StoreError>((by.map(UserId), from_ms(at)?))).transpose()?;
        Ok(c)
    })
    .collect()
}

fn record_tx(tx: &Transaction<'_>, resident: ResidentId) -> Result<Option<ResidentRecord>, StoreError> {
    let row = tx
        .query_row(
            "SELECT display_name, district, card_identity IS NOT NULL, window_start_min, window_end_min, grace_min,
                    contraindications, lives_alone, birth_year,
                    (SELECT max(at_ms) FROM visits v WHERE v.resident_id = residents.id), pin_sign_in, phone,
                    address, support_needs, roster_consent, roster_consent_by, roster_consent_ms, kana,
                    memory_off
             FROM residents WHERE id = ?1",
            [resident.0],
            |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?),
                    [r.get::<_, i64>(3)?, r.get::<_, i64>(4)?, r.get::<_, i64>(5)?],
                    (r.get::<_, String>(6)?, r.get::<_, bool>(7)?, r.get::<_, Option<i64>>(8)?),
                    (r.get::<_, Option<i64>>(9)?, r.get::<_, bool>(10)?, r.get::<_, String>(11)?),
                    (
                        r.get::<_, String>(12)?,
                        r.get::<_, String>(13)?,
                        r.get::<_, bool>(14)?,
                        r.get::<_, Option<i64>>(15)?,
                        r.get::<_, Option<i64>>(16)?,
                    ),
                    (r.get::<_, String>(17)?, r.get::<_, bool>(18)?),
                ))
            },
        )
        .optional()?;
    let Some((
        (display_name, district, has_card),
        [start, end, grace],
        (contra, lives_alone, birth),
        (visit, pin_sign_in, phone),
        (address, needs, roster_consent, consent_by, consent_at),
        (kana, memory_off),
    )) = row
    else {
        return Ok(None);
    };
    let contacts = read_contacts_tx(tx, resident)?;
    let medicine = read_medicine_tx(tx, resident)?;
    let interests = tx
        .prepare_cached("SELECT interest FROM resident_interests WHERE resident_id = ?1 ORDER BY position")?
        .query_map([resident.0], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let mut stmt = tx.prepare_cached(
        "SELECT id, from_ms, until_ms, reason FROM pauses WHERE resident_id = ?1 ORDER BY from_ms",
    )?;
    let raw = stmt
        .query_map([resident.0], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut pauses = Vec::new();
    for (id, from, until, reason) in raw {
        pauses.push(Pause { id, from: from_ms(from)?, until: from_ms(until)?, reason });
    }
    Ok(Some(ResidentRecord {
        id: resident,
        display_name,
        district,
        has_card,
        profile: Profile {
            window: CheckinWindow {
                start: from_minutes(start)?,
                end: from_minutes(end)?,
                grace_minutes: u32::try_from(grace)
                    .map_err(|_| StoreError::Corrupt { column: "grace_min" })?,
            },
            contraindications: contra.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            lives_alone,
            birth_year: birth.and_then(|b| i32::try_from(b).ok()),
            contacts,
            phone,
            address,
            kana,
            support_needs: needs.split(',').filter_map(SupportNeed::from_key).collect(),
            roster_consent,
            roster_consent_recorded: consent_at
                .map(|at| Ok::<_, StoreError>((consent_by.map(UserId), from_ms(at)?)))
                .transpose()?,
            pin_sign_in,
            memory_off,
            medicine,
            interests,
        },
        pauses,
        last_visit: visit.map(from_ms).transpose()?,
    }))
}

/// Replaces the resident's medicine times.
fn medicine_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    times: &[(vocab::MedicineSlot, chrono::NaiveTime)],
) -> Result<(), StoreError> {
    tx.execute("DELETE FROM medicine_times WHERE resident_id = ?1", [resident.0])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO medicine_times (resident_id, slot, at_min) VALUES (?1, ?2, ?3)",
    )?;
    for (slot, at) in times {
        insert.execute(params![resident.0, slot.key(), minutes(*at)])?;
    }
    Ok(())
}

/// Replaces what staff noted the resident enjoys.
fn interests_tx(tx: &Transaction<'_>, resident: ResidentId, interests: &[String]) -> Result<(), StoreError> {
    tx.execute("DELETE FROM resident_interests WHERE resident_id = ?1", [resident.0])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO resident_interests (resident_id, position, interest) VALUES (?1, ?2, ?3)",
    )?;
    for (i, interest) in interests.iter().enumerate() {
        insert.execute(params![resident.0, i as i64, interest])?;
    }
    Ok(())
}

fn read_medicine_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
) -> Result<Vec<(vocab::MedicineSlot, chrono::NaiveTime)>, StoreError> {
    let mut stmt = tx.prepare_cached("SELECT slot, at_min FROM medicine_times WHERE resident_id = ?1")?;
    let rows = stmt
        .query_map([resident.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for (slot, at) in rows {
        // A slot a newer office wrote is skipped by this one, not fatal.
        let Ok(slot) = slot.parse() else { continue };
        out.push((slot, from_minutes(at)?));
    }
    out.sort();
    Ok(out)
}

/// Sends the resident's roster entry as stored (name, card) to their tablet.
pub(super) fn push_roster_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (display_name, card_identity): (String, Option<String>) =
        tx.query_row("SELECT display_name, card_identity FROM residents WHERE id = ?1", [resident.0], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let roster = wire::RosterEntryBody { resident_id: resident.0, display_name, card_identity, left: false };
    push_tx(tx, Some(resident), None, &roster, now)
}

/// Sends the resident's whole current settings to their tablet.
pub(super) fn push_settings_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(rec) = record_tx(tx, resident)? else { return Ok(()) };
    let p = &rec.profile;
    let body = wire::ResidentSettingsBody {
        resident_id: resident.0 as u64,
        checkin_window: [
            p.window.start.format("%H:%M").to_string(),
            p.window.end.format("%H:%M").to_string(),
        ],
        grace_minutes: p.window.grace_minutes,
        contraindications: p.contraindications.iter().filter_map(|c| wire::Name::parse(c).ok()).collect(),
        // Past pauses are history; the tablet needs the ones still to come.
        pauses: rec
            .pauses
            .iter()
            .filter(|x| x.until > now)
            .map(|x| wire::PausePeriod { from: x.from, until: x.until })
            .collect(),
        emergency_contacts: p
            .contacts
            .iter()
            .map(|c| wire::EmergencyContact {
                name: c.name.clone(),
                relation: c.relation.clone(),
                phone: c.phone.clone(),
            })
            .collect(),
        pin_sign_in: p.pin_sign_in,
        medicine: p
            .medicine
            .iter()
            .map(|(slot, at)| wire::MedicineTime {
                slot: wire::Name::Known(*slot),
                at: at.format("%H:%M").to_string(),
            })
            .collect(),
        interests: p.interests.clone(),
        memory_off: p.memory_off,
    };
    push_tx(tx, Some(resident), None, &body, now)
}

impl Store {
    /// Enrols a resident with a whole profile: roster entry and settings go to the
    /// household's tablet; the enrolment is audited.
    pub fn enrol_resident(
        &self,
        display_name: &str,
        district: &str,
        profile: &Profile,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<ResidentId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO residents (display_name, district, window_start_min, window_end_min, grace_min, created_ms,
                 contraindications, lives_alone, birth_year, pin_sign_in, phone, address, support_needs, kana,
                 memory_off)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                display_name,
                district,
                minutes(profile.window.start),
                minutes(profile.window.end),
                i64::from(profile.window.grace_minutes),
                ms(now),
                profile.contraindications.join(","),
                profile.lives_alone,
                profile.birth_year,
                profile.pin_sign_in,
                profile.phone,
                profile.address,
                needs_text(&profile.support_needs),
                super::board::hiragana(&profile.kana),
                profile.memory_off,
            ],
        )?;
        let id = ResidentId(tx.last_insert_rowid());
        contacts_tx(&tx, id, &profile.contacts, Some(user), now)?;
        medicine_tx(&tx, id, &profile.medicine)?;
        interests_tx(&tx, id, &profile.interests)?;
        roster_consent_tx(&tx, id, profile.roster_consent, user, now)?;
        push_roster_tx(&tx, id, now)?;
        push_settings_tx(&tx, id, now)?;
        audit_tx(&tx, Some(user), "enrol", About::Resident(id), now)?;
        tx.commit()?;
        Ok(id)
    }

    /// A resident's record, if they exist.
    pub fn resident_record(&self, resident: ResidentId) -> Result<Option<ResidentRecord>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let rec = record_tx(&tx, resident)?;
        tx.commit()?;
        Ok(rec)
    }

    /// Replaces the profile; the tablet gets the new settings; audited. False when
    /// there is no such resident.
    pub fn update_profile(
        &self,
        resident: ResidentId,
        profile: &Profile,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE residents SET window_start_min = ?2, window_end_min = ?3, grace_min = ?4, contraindications = ?5,
                 lives_alone = ?6, birth_year = ?7, pin_sign_in = ?8, phone = ?9, address = ?10,
                 support_needs = ?11, kana = ?12, memory_off = ?13 WHERE id = ?1",
            params![
                resident.0,
                minutes(profile.window.start),
                minutes(profile.window.end),
                i64::from(profile.window.grace_minutes),
                profile.contraindications.join(","),
                profile.lives_alone,
                profile.birth_year,
                profile.pin_sign_in,
                profile.phone,
                profile.address,
                needs_text(&profile.support_needs),
                super::board::hiragana(&profile.kana),
                profile.memory_off,
            ],
        )?;
        if n == 0 {
            return Ok(false);
        }
        contacts_tx(&tx, resident, &profile.contacts, Some(user), now)?;
        medicine_tx(&tx, resident, &profile.medicine)?;
        interests_tx(&tx, resident, &profile.interests)?;
        roster_consent_tx(&tx, resident, profile.roster_consent, user, now)?;
        push_settings_tx(&tx, resident, now)?;
        audit_tx(&tx, Some(user), "edit_profile", About::Resident(resident), now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Pauses a resident's check-ins by a user's hand (`None`: no dashboard user):
    /// audited, sent to the tablet.
    pub fn pause_resident(
        &self,
        resident: ResidentId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: &str,
        user: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO pauses (resident_id, from_ms, until_ms, reason) VALUES (?1, ?2, ?3, ?4)",
            params![resident.0, ms(from), ms(until), reason],
        )?;
        push_settings_tx(&tx, resident, now)?;
        audit_tx(&tx, user, "pause", About::Resident(resident), now)?;
        tx.commit()?;
        Ok(())
    }

    /// Ends a pause now (it stays in the history). False when the pause is not the
    /// resident's or already over.
    pub fn end_pause(
        &self,
        resident: ResidentId,
        pause: i64,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE pauses SET until_ms = max(from_ms, ?3) WHERE id = ?1 AND resident_id = ?2 AND until_ms > ?3",
            params![pause, resident.0, ms(now)],
        )?;
        if n == 0 {
            return Ok(false);
        }
        push_settings_tx(&tx, resident, now)?;
        audit_tx(&tx, Some(user), "end_pause", About::Resident(resident), now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Exercise sessions per week for the `weeks` weeks ending with the week of
    /// `last_day` (weeks start on Monday), oldest first. A session counts on its
    /// device day when the tablet's clock is plausible (not after the server's, not
    /// more than 60 days before), else on the day the office received it.
    /// The habit score (0–100) and the week's active days the resident's tablet last
    /// reported, and when.
    pub fn exercise_progress(
        &self,
        resident: ResidentId,
    ) -> Result<Option<(u8, u8, DateTime<Utc>)>, StoreError> {
        let row = self
            .lock()
            .query_row(
                "SELECT habit_score, active_days, reported_ms FROM exercise_progress WHERE resident_id = ?1",
                [resident.0],
                |r| Ok((r.get::<_, u8>(0)?, r.get::<_, u8>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()?;
        row.map(|(score, days, at)| Ok((score, days, from_ms(at)?))).transpose()
    }

    pub fn exercise_weeks(
        &self,
        resident: ResidentId,
        last_day: chrono::NaiveDate,
        weeks: usize,
    ) -> Result<Vec<(chrono::NaiveDate, u32)>, StoreError> {
        use chrono::Datelike as _;
        let last_monday =
            last_day - chrono::Duration::days(i64::from(last_day.weekday().num_days_from_monday()));
        let first_monday = last_monday - chrono::Duration::weeks(weeks.saturating_sub(1) as i64);
        let from = crate::clock::at_local(first_monday, chrono::NaiveTime::MIN) - chrono::Duration::days(60);
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT device_ms, server_ms FROM events
             WHERE resident_id = ?1 AND kind = 'exercise_done' AND server_ms >= ?2",
        )?;
        let rows = stmt
            .query_map(params![resident.0, ms(from)], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        let mut counts = vec![0u32; weeks];
        for row in rows {
            let (device, server) = row?;
            let plausible = device <= server && server - device <= 60 * 86_400_000;
            let day = crate::clock::local_day(from_ms(if plausible { device } else { server })?);
            let offset = (day - first_monday).num_days();
            if offset >= 0 && (offset / 7) < weeks as i64 {
                counts[(offset / 7) as usize] += 1;
            }
        }
        Ok((0..weeks).map(|i| (first_monday + chrono::Duration::weeks(i as i64), counts[i])).collect())
    }

    /// Records a home visit (audited).
    pub fn record_visit(
        &self,
        resident: ResidentId,
        note: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO visits (resident_id, user_id, at_ms, note) VALUES (?1, ?2, ?3, ?4)",
            params![resident.0, user.0, ms(now), note],
        )?;
        audit_tx(&tx, Some(user), "visit", About::Resident(resident), now)?;
        tx.commit()?;
        Ok(())
    }
}

/// A resident as staff enrol them.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub display_name: String,
    pub district: String,
    pub card: Option<CardIdentity>,
    pub window: CheckinWindow,
}

impl Store {
    /// Adds a resident and tells their household's tablets (roster and settings);
    /// audited like the dashboard's enrolment.
    pub fn add_resident(&self, r: &NewResident, now: DateTime<Utc>) -> Result<ResidentId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO residents (display_name, district, card_identity, window_start_min, window_end_min,
                 grace_min, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.display_name,
                r.district,
                r.card.as_ref().map(|c| c.as_str()),
                minutes(r.window.start),
                minutes(r.window.end),
                i64::from(r.window.grace_minutes),
                ms(now)
            ],
        )?;
        let id = ResidentId(tx.last_insert_rowid());
        super::residents::push_roster_tx(&tx, id, now)?;
        super::residents::push_settings_tx(&tx, id, now)?;
        // Enrolled without a dashboard user (the `add-resident` command, the demo):
        // audited all the same, with no user on the line.
        audit_tx(&tx, None, "enrol", About::Resident(id), now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Pauses alarms for a resident (hospital stay, away with family) without a
    /// dashboard user (the office's own tools; tests): the dashboard's audited path,
    /// logged with no user.
    pub fn add_pause(
        &self,
        resident: ResidentId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.pause_resident(resident, from, until, reason, None, now)
    }
}
