//! Events from tablets: stored once by UUID, acknowledged one by one, applied to
//! statuses, alerts and campaign answers.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{ErrorCode, OptionalExtension as _, Transaction, params};

use super::corrections::{MisunderstandingNote, record_misunderstanding_tx};
use super::{
    Actor, CampaignId, CardIdentity, CheckInAnswer, CheckinWindow, ResidentId, Store, StoreError,
    devices::Enrolment, from_minutes, from_ms, ms,
};
use super::{AlertKind, Status};
use super::{raise_alert_tx, set_status_tx, shares_tablet_tx};
use crate::clock::local_day;

/// What a stored event does to the office's picture, decided at the API edge from
/// the event's kind and (validated) body.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Kept for the timeline only.
    Record,
    /// A check-in with the answers the office can read: 「話を聞いてほしい」 and health
    /// concerns make the day 要確認 and raise an alert rather than 確認済み.
    CheckIn {
        answers: Vec<CheckInAnswer>,
    },
    /// A call for help (or a snow watch nobody answered), with the danger named.
    HelpRequest {
        danger: Option<vocab::Danger>,
    },
    SafetyAnswer {
        campaign: CampaignId,
        needs_help: bool,
    },
    /// The resident went out to clear snow (or is still at it): the office alerts if
    /// neither an end nor the tablet's own alert comes within `minutes` and the
    /// tablet's check-backs.
    SnowWatch {
        minutes: u32,
    },
    /// The resident came back in.
    SnowWatchEnded,
    /// An exercise session, with the habit score and the week's active days the
    /// tablet computed with it.
    ExerciseDone {
        habit_score: u8,
        active_days: u8,
    },
    /// The tablet read a card for its resident; staff approve the link.
    CardLinkRequest(CardIdentity),
    /// The tablet misunderstood an answer: listed for staff to correct.
    Misunderstanding(MisunderstandingNote),
    /// A medicine time kept or missed on the tablet's day: a second missed day in a
    /// row raises an alert.
    Medicine {
        day: NaiveDate,
        slot: vocab::MedicineSlot,
        taken: bool,
    },
    /// The monthly chair-stand count: a clear fall from the last raises an alert.
    ChairStand {
        day: NaiveDate,
        count: u8,
    },
    /// The tablet read a town announcement to the resident.
    NewsHeard(super::AnnouncementId),
    /// The small talk heard a low mood or loneliness on the tablet's day.
    MoodNoted {
        day: NaiveDate,
        mood: vocab::Intent,
    },
    /// One part of the weekly talk about the day and three words on the tablet's day
    /// (validated: `right` of `of`, the answers that part asks): a clear fall from
    /// the weeks before raises an alert.
    MemoryNoted {
        day: NaiveDate,
        part: vocab::MemoryPart,
        right: u8,
        of: u8,
    },
}

/// One uploaded event, converted from the wire at the API edge.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    pub id: uuid::Uuid,
    pub seq: u64,
    pub kind: wire::EventKind,
    pub device_time: DateTime<Utc>,
    /// The body as JSON text, stored as sent.
    pub body: String,
    pub effect: Effect,
    /// Whom the tablet says it is about (`None`: its own resident); accepted only for
    /// someone who shares the tablet.
    pub resident: Option<ResidentId>,
}

/// The verdict on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    Stored,
    /// Already stored (a resend).
    Duplicate,
    /// Not stored, for good; the reason is for the tablet's log.
    Rejected(&'static str),
}

/// One event on a resident's timeline (its body stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEvent {
    pub kind: String,
    pub device_time: DateTime<Utc>,
    pub server_time: DateTime<Utc>,
}

impl Store {
    /// Stores a batch in one transaction and applies each new event's effect.
    /// Resent events are acknowledged as duplicates and change nothing.
    pub fn ingest(
        &self,
        device: &Enrolment,
        events: &[IncomingEvent],
        now: DateTime<Utc>,
    ) -> Result<Vec<Ack>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut acks = Vec::with_capacity(events.len());
        for ev in events {
            acks.push(ingest_one(&tx, device, ev, now)?);
        }
        tx.commit()?;
        Ok(acks)
    }

    /// A resident's events, newest first, at most `limit`.
    pub fn timeline(&self, resident: ResidentId, limit: usize) -> Result<Vec<TimelineEvent>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT kind, device_ms, server_ms FROM events WHERE resident_id = ?1
             ORDER BY server_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![resident.0, limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, device, server) = row?;
            out.push(TimelineEvent { kind, device_time: from_ms(device)?, server_time: from_ms(server)? });
        }
        Ok(out)
    }

    /// How many events the office holds (all devices).
    pub fn event_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.lock().query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}

fn ingest_one(
    tx: &Transaction<'_>,
    device: &Enrolment,
    ev: &IncomingEvent,
    now: DateTime<Utc>,
) -> Result<Ack, StoreError> {
    let Ok(seq) = i64::try_from(ev.seq) else { return Ok(Ack::Rejected("sequence number out of range")) };
    if seq < 1 {
        return Ok(Ack::Rejected("sequence numbers start at 1"));
    }
    if let Effect::SafetyAnswer { campaign, .. } = &ev.effect {
        let area: Option<Option<String>> = tx
            .query_row(
                "SELECT district FROM campaigns WHERE id = ?1 AND closed_ms IS NULL",
                [campaign.0],
                |r| r.get(0),
            )
            .optional()?;
        // A campaign for another district is, to this tablet, no campaign at all: it
        // never heard of it, and its answer must not raise an alert there.
        let covers = |district: &Option<String>| district.is_none() || *district == device.district;
        if !area.as_ref().is_some_and(covers) {
            // Could be a resend of an answer already stored before the campaign closed.
            if is_stored(tx, ev)? {
                return Ok(Ack::Duplicate);
            }
            return Ok(Ack::Rejected("no such open campaign"));
        }
    }
    // In a household of two or more the event says whose it is; anyone else's is
    // refused, so nothing is ever recorded against the wrong person.
    let resident = match (device.resident, ev.resident) {
        (Some(own), Some(said)) if said != own => {
            if !shares_tablet_tx(tx, said, own)? {
                return Ok(Ack::Rejected("that resident does not share this tablet"));
            }
            Some(said)
        }
        (own, _) => own,
    };
    let inserted = tx
        .prepare_cached(
            "INSERT INTO events (event_uuid, device_id, seq, resident_id, kind, device_ms, server_ms, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (event_uuid) DO NOTHING",
        )?
        .execute(params![
            ev.id.as_hyphenated().to_string(),
            device.device.0,
            seq,
            resident.map(|r| r.0),
            ev.kind.name(),
            ms(ev.device_time),
            ms(now),
            ev.body,
        ]);
    match inserted {
        Ok(0) => return Ok(Ack::Duplicate),
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ConstraintViolation => {
            return Ok(Ack::Rejected("sequence number already used by another event"));
        }
        Err(e) => return Err(e.into()),
    }
    let event_row = tx.last_insert_rowid();
    let Some(resident) = resident else { return Ok(Ack::Stored) };
    let day = local_day(now);
    let actor = Actor::Device(device.device);
    match &ev.effect {
        Effect::Record => {}
        Effect::CheckIn { answers } => {
            // The check-in answers the window it falls in (a midnight-crossing window's
            // small hours belong to the evening before); it never hides a help request,
            // and a later cheerful check-in the same day never hides a concern.
            let day = window_tx(tx, resident)?.map_or(day, |w| w.day_of(now));
            let mut insert = tx.prepare_cached(
                "INSERT INTO checkin_answers (event_id, resident_id, day, question, intent, body_part, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for a in answers {
                insert.execute(params![
                    event_row,
                    resident.0,
                    super::day_text(day),
                    a.question.key(),
                    a.intent.key(),
                    a.body_part.map(vocab::BodyPart::key),
                    ms(now)
                ])?;
            }
            let wants_visit = answers.iter().any(CheckInAnswer::wants_visit);
            let concern = answers.iter().any(CheckInAnswer::is_health_concern);
            let to = if wants_visit || concern { Status::Attention } else { Status::Confirmed };
            set_status_tx(tx, resident, day, to, &[Status::NeedsHelp, Status::Attention], actor, now)?;
            // The board shows when they last checked in, whatever the day's status.
            tx.prepare_cached("UPDATE statuses SET checkin_ms = ?3 WHERE resident_id = ?1 AND day = ?2")?
                .execute(params![resident.0, super::day_text(day), ms(now)])?;
            if wants_visit {
                raise_alert_tx(tx, resident, AlertKind::VisitRequest, day, None, None, now)?;
            }
            if concern {
                raise_alert_tx(tx, resident, AlertKind::HealthConcern, day, None, None, now)?;
            }
            let said_low = answers.iter().any(|a| a.intent.is_low_mood());
            super::mood::mood_tx(tx, resident, day, said_low, now)?;
        }
        Effect::HelpRequest { danger } => {
            set_status_tx(tx, resident, day, Status::NeedsHelp, &[], actor, now)?;
            raise_alert_tx(tx, resident, AlertKind::HelpRequest, day, None, *danger, now)?;
            // The call is made: a snow watch's silence has nothing more to add.
            super::snow::end_watch_tx(tx, resident, now)?;
        }
        Effect::SnowWatch { minutes } => super::snow::start_watch_tx(tx, resident, *minutes, now)?,
        Effect::SnowWatchEnded => super::snow::end_watch_tx(tx, resident, now)?,
        Effect::ExerciseDone { habit_score, active_days } => {
            tx.prepare_cached(
                "INSERT INTO exercise_progress (resident_id, habit_score, active_days, reported_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (resident_id) DO UPDATE SET habit_score = excluded.habit_score,
                     active_days = excluded.active_days, reported_ms = excluded.reported_ms
                 WHERE excluded.reported_ms >= reported_ms",
            )?
            .execute(params![resident.0, habit_score, active_days, ms(now)])?;
        }
        Effect::CardLinkRequest(card) => {
            // The same card read again for the same resident is the same request: staff
            // see it once.
            tx.prepare_cached(
                "INSERT INTO card_link_requests (resident_id, device_id, card_identity, requested_ms)
                 SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM card_link_requests
                     WHERE resident_id = ?1 AND card_identity = ?3 AND decided_ms IS NULL)",
            )?
            .execute(params![resident.0, device.device.0, card.as_str(), ms(now)])?;
        }
        Effect::Misunderstanding(note) => record_misunderstanding_tx(tx, event_row, resident, note, now)?,
        Effect::Medicine { day: on, slot, taken } => medicine_tx(tx, resident, *on, *slot, *taken, now)?,
        Effect::ChairStand { day: on, count } => {
            super::chair_stands::chair_stand_tx(tx, resident, *on, *count, now)?
        }
        Effect::NewsHeard(id) => super::announcements::heard_tx(tx, resident, *id, now)?,
        Effect::MoodNoted { day: on, mood } => super::mood::mood_noted_tx(tx, resident, *on, *mood, now)?,
        Effect::MemoryNoted { day: on, part, right, of } => {
            super::memory::memory_tx(tx, resident, *on, *part, *right, *of, now)?
        }
        Effect::SafetyAnswer { campaign, needs_help } => {
            let (campaign, needs_help) = (*campaign, *needs_help);
            tx.prepare_cached(
                // A call for help is never overwritten by a later 「無事」: it stays the
                // answer (its alert stays open for staff), and the later one is noted.
                "INSERT INTO campaign_answers (campaign_id, resident_id, reply, at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (campaign_id, resident_id) DO UPDATE SET
                     safe_after_help_ms = CASE WHEN reply = 'needs_help' AND excluded.reply = 'safe'
                         THEN excluded.at_ms ELSE safe_after_help_ms END,
                     at_ms = CASE WHEN reply = 'needs_help' THEN at_ms ELSE excluded.at_ms END,
                     reply = CASE WHEN reply = 'needs_help' THEN reply ELSE excluded.reply END",
            )?
            .execute(params![
                campaign.0,
                resident.0,
                if needs_help { "needs_help" } else { "safe" },
                ms(now)
            ])?;
            if needs_help {
                set_status_tx(tx, resident, day, Status::NeedsHelp, &[], actor, now)?;
                raise_alert_tx(tx, resident, AlertKind::CampaignHelp, day, Some(campaign), None, now)?;
            }
        }
    }
    Ok(Ack::Stored)
}

/// Keeps a dose; a missed one after a missed day raises 「お薬の飲み忘れが続いている」
/// once, until staff resolve it.
fn medicine_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    on: NaiveDate,
    slot: vocab::MedicineSlot,
    taken: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO medicine_doses (resident_id, day, slot, taken, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (resident_id, day, slot) DO UPDATE SET taken = excluded.taken, at_ms = excluded.at_ms",
    )?
    .execute(params![resident.0, super::day_text(on), slot.key(), taken, ms(now)])?;
    if taken {
        return Ok(());
    }
    let yesterday_missed: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM medicine_doses WHERE resident_id = ?1 AND day = ?2 AND taken = 0)",
        params![resident.0, super::day_text(on - chrono::Days::new(1))],
        |r| r.get(0),
    )?;
    if yesterday_missed {
        super::alerts::raise_concern_tx(tx, resident, AlertKind::MedicineMissed, on, now)?;
    }
    Ok(())
}

fn window_tx(tx: &Transaction<'_>, resident: ResidentId) -> Result<Option<CheckinWindow>, StoreError> {
    let row: Option<(i64, i64, i64)> = tx
        .prepare_cached("SELECT window_start_min, window_end_min, grace_min FROM residents WHERE id = ?1")?
        .query_row([resident.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    row.map(|(start, end, grace)| {
        Ok(CheckinWindow {
            start: from_minutes(start)?,
            end: from_minutes(end)?,
            grace_minutes: u32::try_from(grace).map_err(|_| StoreError::Corrupt { column: "grace_min" })?,
        })
    })
    .transpose()
}

fn is_stored(tx: &Transaction<'_>, ev: &IncomingEvent) -> Result<bool, StoreError> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM events WHERE event_uuid = ?1)",
        [ev.id.as_hyphenated().to_string()],
        |r| r.get(0),
    )?)
}
