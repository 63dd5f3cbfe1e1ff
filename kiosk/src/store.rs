//! The tablet's local store: roster cache, settings, check-ins, plans, exercise days,
//! campaigns, weather, re-prompts and the outbox, in one SQLite file.
//!
//! Each `record_*` writes the local state and its outbox row (a client-made UUID, the
//! next per-device sequence number, the device's clock) in ONE transaction: an event
//! is either recorded and queued, or not at all. The file runs in WAL mode with
//! `synchronous=FULL`, so a committed event survives a power cut.
//!
//! A `Store` is one connection owned by one thread (it is `Send`, not `Sync`): the UI
//! thread has one, the sync worker its own on the same file. Write transactions start
//! `IMMEDIATE` so the two never deadlock upgrading a read lock.

mod downstream;
mod events;
mod schema;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use care::planner::{DayRecord, Feeling};
use care::record::{CareEvent, Outcome};
use care::understanding::BodyPart;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde_json::Value;

pub use schema::VERSION as SCHEMA_VERSION;

/// Why the store could not do what was asked. Messages name the fault and what to do,
/// and never carry a resident's data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The disk, or the store's size limit, is full: nothing of this call was written.
    #[error("local store full (disk or size limit): nothing was written; free space or raise the limit")]
    Full,
    /// The file is damaged or not a database; `open_or_recover` moves it aside.
    #[error("local store is corrupt: {detail}")]
    Corrupt { detail: String },
    /// Another connection held the file longer than the busy timeout.
    #[error("local store busy (locked by another connection for too long); try again")]
    Busy,
    /// The file was written by a newer kiosk.
    #[error("local store schema {found} is newer than this kiosk knows ({known}); update the kiosk")]
    TooNew { found: i64, known: i64 },
    /// The caller passed something the store refuses (nothing was written).
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("cannot move the corrupt store aside: {0}")]
    Io(#[from] std::io::Error),
    #[error("local store error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DiskFull => StoreError::Full,
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                    StoreError::Corrupt { detail: e.to_string() }
                }
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy,
                _ => StoreError::Sqlite(e),
            },
            _ => StoreError::Sqlite(e),
        }
    }
}

/// The office's id of a resident, as the roster gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(pub i64);

/// A roster entry: who may sign in on this tablet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub id: ResidentId,
    /// For the greeting; never logged.
    pub display_name: String,
}

/// Per-resident voice and text settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResidentSettings {
    /// 0.0 (silent) to 1.0.
    pub volume: f32,
    /// Open JTalk's speed factor, 0.5 to 1.0; the default 0.55 is about 5 morae/s
    /// (`dialect_model::tts::DEFAULT_SPEED`).
    pub speech_rate: f32,
    /// 1.0 to 1.5 times the theme's text size.
    pub text_scale: f32,
    /// Which Open JTalk voice speaks to the resident.
    pub voice: dialect_model::tts::Voice,
}

impl Default for ResidentSettings {
    fn default() -> Self {
        Self { volume: 0.9, speech_rate: 0.55, text_scale: 1.0, voice: dialect_model::tts::Voice::M001 }
    }
}

impl ResidentSettings {
    /// Refuses values outside the documented ranges.
    pub fn validate(&self) -> Result<(), StoreError> {
        let check = |name: &str, v: f32, lo: f32, hi: f32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(StoreError::Invalid(format!("{name} {v} outside {lo}..={hi}")))
            }
        };
        check("volume", self.volume, 0.0, 1.0)?;
        check("speech_rate", self.speech_rate, 0.5, 1.0)?;
        check("text_scale", self.text_scale, 1.0, 1.5)
    }
}

/// The tablet's identity at the office. The token never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub device_id: u64,
    pub token: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("device_id", &self.device_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What the office decided for a resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSettings {
    /// Local start and end; an end before the start crosses midnight.
    pub checkin_window: (chrono::NaiveTime, chrono::NaiveTime),
    pub grace_minutes: u32,
    pub contraindications: BTreeSet<care::catalogue::Contraindication>,
    /// Periods when the tablet should not ask.
    pub pauses: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Whom the help flow shows as coming, in order.
    pub emergency_contacts: Vec<EmergencyContact>,
}

/// Someone to call for the resident (shown in the help flow; never logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyContact {
    pub name: String,
    pub relation: String,
    pub phone: String,
}

/// One recorded check-in, as the kiosk shows and plans from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinSummary {
    pub day: NaiveDate,
    pub started_at: NaiveDateTime,
    pub ended_at: NaiveDateTime,
    pub outcome: Outcome,
    pub feeling: Feeling,
    pub pains: BTreeSet<BodyPart>,
}

/// A plan as kept for tomorrow's planner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPlan {
    pub date: NaiveDate,
    /// `None` is a rest day.
    pub intensity: Option<care::catalogue::Intensity>,
    pub exercise_ids: Vec<String>,
}

/// What an upload's acknowledgements did to the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AckSummary {
    /// Stored or duplicate at the office: deleted here.
    pub delivered: u64,
    /// Refused for good: moved to the dead-letter table.
    pub dead: u64,
}

/// What a pull did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PullSummary {
    pub applied: u64,
    pub skipped: u64,
}

/// The store's figures, for health reports and the soak's invariants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    pub outbox_len: u64,
    pub dead_letter_len: u64,
    pub created_seq: u64,
}

/// Time budget for waiting on the other connection's write transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The local store: one connection.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating and migrating) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_with_limit(path, None)
    }

    /// As [`Store::open`], with the file capped at about `max_bytes` (a quota so the
    /// store can never fill the tablet's disk): writes past it fail with
    /// [`StoreError::Full`] and leave nothing half-written.
    pub fn open_with_limit(path: &Path, max_bytes: Option<u64>) -> Result<Store, StoreError> {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!("journal mode {mode}, WAL needed")));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        // A damaged page shows here rather than in the middle of recording an event.
        let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError::Corrupt { detail: format!("integrity check: {check}") });
        }
        schema::migrate(&mut conn)?;
        if let Some(max) = max_bytes {
            let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let pages = (max / page.max(512) as u64).max(1);
            let _: i64 = conn.pragma_update_and_check(None, "max_page_count", pages, |r| r.get(0))?;
        }
        Ok(Store { conn, path: path.to_owned() })
    }

    /// Opens the store; a corrupt file is moved aside (kept for staff; its path is
    /// returned) and a fresh store made. What still reads in the old file is carried
    /// over: the device's credentials and sequence counter, the outbox and dead
    /// letters, the roster and settings. The pull cursor starts again at 0 so the
    /// office's log rebuilds campaigns, weather and re-prompts.
    pub fn open_or_recover(path: &Path) -> Result<(Store, Option<PathBuf>), StoreError> {
        match Store::open(path) {
            Ok(s) => Ok((s, None)),
            Err(StoreError::Corrupt { .. }) => {
                let aside = aside_path(path);
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::rename(&from, format!("{}{suffix}", aside.display()))?;
                    }
                }
                let salvage = Salvage::read(&aside);
                let mut store = Store::open(path)?;
                salvage.restore(&mut store)?;
                Ok((store, Some(aside)))
            }
            Err(e) => Err(e),
        }
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    // ---- Recording: local state and outbox in one transaction. ----

    /// Records a care event (check-in, help alert, snow watch) and queues it.
    pub fn record_care_event(
        &mut self,
        resident: ResidentId,
        event: &CareEvent,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let body = events::care_event(resident, event);
        let tx = self.write()?;
        let id = append(&tx, &body, device_now)?;
        let key = id.0.to_string();
        match event {
            CareEvent::Checkin(r) => {
                let day = r.ended_at.date();
                let pains: Vec<&str> = r.pains().into_iter().map(BodyPart::key).collect();
                tx.execute(
                    "INSERT INTO checkins (event_id, resident_id, day, started_at, ended_at, outcome, feeling, pains)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        key,
                        resident.0,
                        day.to_string(),
                        events::local(r.started_at),
                        events::local(r.ended_at),
                        r.outcome.key(),
                        events::feeling_key(r.feeling()),
                        pains.join(","),
                    ],
                )?;
                if r.outcome != Outcome::NoAnswer {
                    tx.execute(
                        "UPDATE reprompts SET done = 1 WHERE resident_id = ?1 AND day <= ?2",
                        params![resident.0, day.to_string()],
                    )?;
                }
            }
            other => {
                tx.execute(
                    "INSERT INTO care_log (event_id, resident_id, kind, at) VALUES (?1, ?2, ?3, ?4)",
                    params![key, resident.0, body.kind().name(), events::local(events::happened_at(other))],
                )?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// Records a finished exercise session and queues it.
    pub fn record_exercise_done(
        &mut self,
        resident: ResidentId,
        exercise_ids: &[String],
        minutes: u32,
        on: NaiveDate,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        if exercise_ids.is_empty() || exercise_ids.len() > 100 {
            return Err(StoreError::Invalid("an exercise session names 1 to 100 exercises".to_owned()));
        }
        if exercise_ids.iter().any(|id| id.is_empty() || id.len() > 64) {
            return Err(StoreError::Invalid("exercise ids are 1 to 64 bytes".to_owned()));
        }
        if minutes > 24 * 60 {
            return Err(StoreError::Invalid(format!("{minutes} minutes is longer than a day")));
        }
        let body = wire::ExerciseDoneBody {
            resident_id: resident.0,
            day: Some(on),
            exercise_ids: exercise_ids.to_vec(),
            minutes,
        };
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::ExerciseDone(body), device_now)?;
        tx.execute(
            "INSERT INTO exercise_sessions (event_id, resident_id, day, exercise_ids, minutes)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id.0.to_string(),
                resident.0,
                on.to_string(),
                Value::from(exercise_ids).to_string(),
                minutes
            ],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Records a resident's answer to a safety campaign and queues it.
    pub fn record_safety_answer(
        &mut self,
        resident: ResidentId,
        campaign_id: u64,
        reply: wire::SafetyReply,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let campaign = i64::try_from(campaign_id)
            .map_err(|_| StoreError::Invalid(format!("campaign id {campaign_id} out of range")))?;
        let body = wire::SafetyAnswerBody { campaign_id, answer: reply };
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::SafetyAnswer(body), device_now)?;
        tx.execute(
            "INSERT INTO safety_answers (campaign_id, resident_id, reply, event_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (campaign_id, resident_id) DO UPDATE SET reply = excluded.reply,
                 event_id = excluded.event_id",
            params![campaign, resident.0, safety_reply_key(reply), id.0.to_string()],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Records that a card was read for `resident` and asks the office to link it
    /// (staff approve on the dashboard). `card_identity_hex` is the certificate's
    /// SHA-256 in hex, never the individual number.
    pub fn record_card_link_request(
        &mut self,
        resident: ResidentId,
        card_identity_hex: &str,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let card = normalise_card(card_identity_hex)
            .ok_or_else(|| StoreError::Invalid("a card identity is 64 hex digits (SHA-256)".to_owned()))?;
        let body = wire::CardLinkBody { card_identity: card.clone() };
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::CardLinkRequested(body), device_now)?;
        tx.execute(
            "INSERT INTO card_link_requests (event_id, resident_id, card_identity) VALUES (?1, ?2, ?3)",
            params![id.0.to_string(), resident.0, card],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Queues a note that the tablet misheard an answer: names and confidence only,
    /// never what was said (the office's corrections page asks staff for the phrase).
    pub fn record_misunderstanding(
        &mut self,
        body: &wire::MisunderstandingBody,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        if !(0.0..=1.0).contains(&body.confidence) {
            return Err(StoreError::Invalid("a confidence is between 0 and 1".to_owned()));
        }
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::Misunderstanding(body.clone()), device_now)?;
        tx.commit()?;
        Ok(id)
    }

    // ---- Outbox figures. ----

    /// Events waiting to be delivered.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Events the office refused for good, kept for staff.
    pub fn dead_letter_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM dead_letter", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The highest sequence number ever made on this device (0 before the first event).
    pub fn created_seq(&self) -> Result<u64, StoreError> {
        let next: i64 = self.conn.query_row("SELECT next_seq FROM device WHERE id = 1", [], |r| r.get(0))?;
        Ok(next.saturating_sub(1) as u64)
    }

    /// Outbox length, dead letters and the last sequence number, read together.
    pub fn figures(&self) -> Result<Figures, StoreError> {
        // One statement: one snapshot.
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM dead_letter),
                    (SELECT next_seq - 1 FROM device WHERE id = 1)",
            [],
            |r| {
                Ok(Figures {
                    outbox_len: r.get::<_, i64>(0)? as u64,
                    dead_letter_len: r.get::<_, i64>(1)? as u64,
                    created_seq: r.get::<_, i64>(2)? as u64,
                })
            },
        )?)
    }

    /// Free space on the store's file system, in MiB.
    pub fn free_storage_mib(&self) -> Option<u64> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let st = rustix::fs::statvfs(dir).ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize) / (1024 * 1024))
    }

    // ---- Roster and settings. ----

    /// The resident whose card has this identity, if the roster has them.
    pub fn resident_by_card(&self, card_identity_hex: &str) -> Result<Option<Resident>, StoreError> {
        let Some(card) = normalise_card(card_identity_hex) else { return Ok(None) };
        Ok(self
            .conn
            .query_row("SELECT id, display_name FROM residents WHERE card_identity = ?1", [card], |r| {
                Ok(Resident { id: ResidentId(r.get(0)?), display_name: r.get(1)? })
            })
            .optional()?)
    }

    /// Everyone on this tablet's roster, by id.
    pub fn residents(&self) -> Result<Vec<Resident>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id, display_name FROM residents ORDER BY id")?;
        let rows =
            stmt.query_map([], |r| Ok(Resident { id: ResidentId(r.get(0)?), display_name: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds or updates a roster entry (demo, staff linking on the tablet). A card given
    /// here moves from whoever held it before.
    pub fn upsert_resident(
        &mut self,
        r: &Resident,
        card_identity_hex: Option<&str>,
    ) -> Result<(), StoreError> {
        let card = match card_identity_hex {
            Some(c) => Some(normalise_card(c).ok_or_else(|| {
                StoreError::Invalid("a card identity is 64 hex digits (SHA-256)".to_owned())
            })?),
            None => None,
        };
        let tx = self.write()?;
        if let Some(card) = &card {
            tx.execute(
                "UPDATE residents SET card_identity = NULL WHERE card_identity = ?1 AND id != ?2",
                params![card, r.id.0],
            )?;
        }
        tx.execute(
            "INSERT INTO residents (id, display_name, card_identity) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                 card_identity = coalesce(excluded.card_identity, card_identity)",
            params![r.id.0, r.display_name, card],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The resident's settings, or the defaults when none were saved.
    pub fn settings(&self, resident: ResidentId) -> Result<ResidentSettings, StoreError> {
        settings_conn(&self.conn, resident)
    }

    /// Saves the resident's settings (refused when out of range).
    pub fn save_settings(&mut self, resident: ResidentId, s: &ResidentSettings) -> Result<(), StoreError> {
        s.validate()?;
        let tx = self.write()?;
        save_settings_tx(&tx, resident, s)?;
        tx.commit()?;
        Ok(())
    }

    /// What the office decided for the resident (window, grace, contraindications,
    /// pauses, emergency contacts), once it has sent it.
    pub fn office_settings(&self, resident: ResidentId) -> Result<Option<OfficeSettings>, StoreError> {
        let row: Option<(String, String, i64, String)> = self
            .conn
            .query_row(
                "SELECT window_start, window_end, grace_minutes, contraindications FROM office_settings
                 WHERE resident_id = ?1",
                [resident.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((start, end, grace, contra)) = row else { return Ok(None) };
        let time = |s: &str| {
            chrono::NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| StoreError::Corrupt { detail: "office_settings window".to_owned() })
        };
        let mut stmt = self
            .conn
            .prepare("SELECT from_ms, until_ms FROM pauses WHERE resident_id = ?1 ORDER BY from_ms")?;
        let pauses = stmt
            .query_map([resident.0], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
            .map(|p| {
                let (from, until) = p?;
                Ok((downstream::from_ms(from)?, downstream::from_ms(until)?))
            })
            .collect::<Result<_, StoreError>>()?;
        let mut stmt = self.conn.prepare(
            "SELECT name, relation, phone FROM emergency_contacts WHERE resident_id = ?1 ORDER BY position",
        )?;
        let emergency_contacts = stmt
            .query_map([resident.0], |r| {
                Ok(EmergencyContact { name: r.get(0)?, relation: r.get(1)?, phone: r.get(2)? })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(OfficeSettings {
            checkin_window: (time(&start)?, time(&end)?),
            grace_minutes: grace as u32,
            contraindications: contra.split(',').filter_map(|c| c.parse().ok()).collect(),
            pauses,
            emergency_contacts,
        }))
    }

    /// The planner's profile: the office's contraindications on top of care's
    /// default equipment (a chair, a wall, a towel).
    pub fn planner_profile(&self, resident: ResidentId) -> Result<care::planner::Profile, StoreError> {
        let mut profile = care::planner::Profile::default();
        if let Some(o) = self.office_settings(resident)? {
            profile.contraindications = o.contraindications;
        }
        Ok(profile)
    }

    /// Whether the office has paused the resident's check-ins at `at` (hospital, away).
    pub fn paused_at(&self, resident: ResidentId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pauses WHERE resident_id = ?1 AND from_ms <= ?2 AND ?2 < until_ms)",
            params![resident.0, at.timestamp_millis()],
            |r| r.get(0),
        )?)
    }

    // ---- History for care (planner and habit score). ----

    /// Days since `since` (inclusive) on which the resident finished an exercise session.
    pub fn exercise_days(
        &self,
        resident: ResidentId,
        since: NaiveDate,
    ) -> Result<Vec<NaiveDate>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT day FROM exercise_sessions WHERE resident_id = ?1 AND day >= ?2 ORDER BY day",
        )?;
        let rows = stmt.query_map(params![resident.0, since.to_string()], |r| r.get::<_, String>(0))?;
        rows.map(|d| parse_day(&d?)).collect()
    }

    /// The resident's days since `since` as care's planner and habit score read them:
    /// each day's plan (intensity, item count; a rest day is excused) and the category
    /// of every exercise done (looked up in `catalogue`; ids it lacks are left out).
    pub fn day_records(
        &self,
        resident: ResidentId,
        since: NaiveDate,
        catalogue: &care::catalogue::Catalogue,
    ) -> Result<Vec<DayRecord>, StoreError> {
        let mut days: std::collections::BTreeMap<NaiveDate, DayRecord> = Default::default();
        let blank = |date| DayRecord { date, planned: None, planned_items: 0, done: vec![], excused: false };
        for plan in self.plans_since(resident, since)? {
            let d = days.entry(plan.date).or_insert_with(|| blank(plan.date));
            d.planned = plan.intensity;
            d.planned_items = plan.exercise_ids.len().min(255) as u8;
            d.excused = plan.intensity.is_none();
        }
        let mut stmt = self.conn.prepare(
            "SELECT day, exercise_ids FROM exercise_sessions WHERE resident_id = ?1 AND day >= ?2 ORDER BY day",
        )?;
        let rows = stmt.query_map(params![resident.0, since.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (day, ids) = row?;
            let date = parse_day(&day)?;
            let d = days.entry(date).or_insert_with(|| blank(date));
            for id in json_strings(&ids)? {
                if let Some(e) = catalogue.get(&id) {
                    d.done.push(e.category);
                }
            }
        }
        Ok(days.into_values().collect())
    }

    /// The resident's check-ins since `since` (inclusive), oldest first.
    pub fn checkins_since(
        &self,
        resident: ResidentId,
        since: NaiveDate,
    ) -> Result<Vec<CheckinSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT day, started_at, ended_at, outcome, feeling, pains FROM checkins
             WHERE resident_id = ?1 AND day >= ?2 ORDER BY ended_at, rowid",
        )?;
        let rows = stmt.query_map(params![resident.0, since.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (day, started, ended, outcome, feeling, pains) = row?;
            out.push(CheckinSummary {
                day: parse_day(&day)?,
                started_at: parse_local(&started)?,
                ended_at: parse_local(&ended)?,
                outcome: outcome
                    .parse::<Outcome>()
                    .ok()
                    .ok_or_else(|| StoreError::Corrupt { detail: "checkins.outcome".to_owned() })?,
                feeling: events::parse_feeling(&feeling),
                pains: pains.split(',').filter_map(|p| p.parse::<BodyPart>().ok()).collect(),
            });
        }
        Ok(out)
    }

    /// Keeps today's plan for tomorrow's planner (one per resident and day; a new plan
    /// for the same day replaces it).
    pub fn save_plan(&mut self, resident: ResidentId, plan: &care::planner::Plan) -> Result<(), StoreError> {
        let ids: Vec<&str> = plan.items.iter().map(|i| i.exercise_id.as_str()).collect();
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO plans (resident_id, day, intensity, exercise_ids) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (resident_id, day) DO UPDATE SET intensity = excluded.intensity,
                 exercise_ids = excluded.exercise_ids",
            params![
                resident.0,
                plan.date.to_string(),
                plan.intensity.map(events::intensity_key),
                serde_json::to_string(&ids).map_err(|e| StoreError::Invalid(e.to_string()))?,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The most recent plan kept for the resident.
    pub fn last_plan(&self, resident: ResidentId) -> Result<Option<SavedPlan>, StoreError> {
        let row: Option<(String, Option<String>, String)> = self
            .conn
            .query_row(
                "SELECT day, intensity, exercise_ids FROM plans WHERE resident_id = ?1 ORDER BY day DESC LIMIT 1",
                [resident.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(saved_plan).transpose()
    }

    fn plans_since(&self, resident: ResidentId, since: NaiveDate) -> Result<Vec<SavedPlan>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT day, intensity, exercise_ids FROM plans WHERE resident_id = ?1 AND day >= ?2 ORDER BY day",
        )?;
        let rows = stmt
            .query_map(params![resident.0, since.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.map(|r| saved_plan(r?)).collect()
    }

    // ---- What the office sent down. ----

    /// Safety campaigns not closed and not yet answered on this tablet, oldest first.
    pub fn open_campaigns(&self) -> Result<Vec<wire::CampaignNotice>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT campaign_id, message, deadline_ms FROM campaigns c WHERE closed = 0
             AND NOT EXISTS (SELECT 1 FROM safety_answers a WHERE a.campaign_id = c.campaign_id)
             ORDER BY campaign_id",
        )?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, message, deadline) = row?;
            out.push(wire::CampaignNotice {
                campaign_id: id as u64,
                message,
                deadline: downstream::from_ms(deadline)?,
                closed: false,
            });
        }
        Ok(out)
    }

    /// The latest weather report the office sent, if any ([`care_weather`] turns it
    /// into what the planner reads).
    pub fn latest_weather(&self) -> Result<Option<wire::WeatherReport>, StoreError> {
        let body: Option<String> =
            self.conn.query_row("SELECT body FROM weather WHERE id = 1", [], |r| r.get(0)).optional()?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// The newest announced dialect bundle, when it is newer than the newest one
    /// installed: what the sync worker should fetch.
    pub fn wanted_dialect_bundle(&self) -> Result<Option<wire::DialectBundleBody>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, sha256, bytes FROM dialect_bundles
                 WHERE path IS NULL AND version > (SELECT coalesce(max(version), 0) FROM dialect_bundles WHERE path IS NOT NULL)
                 ORDER BY version DESC LIMIT 1",
                [],
                |r| Ok(wire::DialectBundleBody { version: r.get(0)?, sha256: r.get(1)?, bytes: r.get(2)? }),
            )
            .optional()?)
    }

    /// Records that bundle `version` was written to `path`.
    pub fn dialect_bundle_installed(&mut self, version: u32, path: &Path) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE dialect_bundles SET path = ?2 WHERE version = ?1",
            params![version, path.to_string_lossy()],
        )?;
        Ok(())
    }

    /// The newest installed bundle's version and file.
    pub fn installed_dialect_bundle(&self) -> Result<Option<(u32, PathBuf)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, path FROM dialect_bundles WHERE path IS NOT NULL ORDER BY version DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, PathBuf::from(r.get::<_, String>(1)?))),
            )
            .optional()?)
    }

    /// The latest day the office asked the resident to check in again for, while no
    /// check-in has answered it.
    pub fn pending_reprompt(&self, resident: ResidentId) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self
            .conn
            .query_row(
                "SELECT max(day) FROM reprompts WHERE resident_id = ?1 AND done = 0",
                [resident.0],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        day.map(|d| parse_day(&d)).transpose()
    }

    // ---- For the sync worker. ----

    /// The tablet's credentials, once enrolled.
    pub fn device_credentials(&self) -> Result<Option<Credentials>, StoreError> {
        let row: (Option<i64>, Option<String>) =
            self.conn.query_row("SELECT device_id, token FROM device WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(match row {
            (Some(id), Some(token)) => Some(Credentials { device_id: id as u64, token }),
            _ => None,
        })
    }

    /// Saves the credentials enrolment gave (replacing any earlier ones).
    /// The random key this tablet sends with its enrolment, made once and kept, so a
    /// retry after a lost answer (or a restart) is recognised by the office.
    pub fn enrol_key(&mut self) -> Result<String, StoreError> {
        let tx = self.write()?;
        let existing: Option<String> =
            tx.query_row("SELECT enrol_key FROM device WHERE id = 1", [], |r| r.get(0))?;
        let key = match existing {
            Some(k) => k,
            None => {
                let k = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                tx.execute("UPDATE device SET enrol_key = ?1 WHERE id = 1", [&k])?;
                k
            }
        };
        tx.commit()?;
        Ok(key)
    }

    pub fn save_credentials(&mut self, c: &Credentials) -> Result<(), StoreError> {
        let id = i64::try_from(c.device_id)
            .map_err(|_| StoreError::Invalid("device id out of range".to_owned()))?;
        let tx = self.write()?;
        tx.execute("UPDATE device SET device_id = ?1, token = ?2 WHERE id = 1", params![id, c.token])?;
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` events of the outbox, in sequence order.
    pub fn outbox_batch(&self, limit: usize) -> Result<Vec<wire::EventEnvelope>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, event_id, kind, device_ms, body FROM outbox ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, id, kind, device_ms, body) = row?;
            let bad = |what: &str| StoreError::Corrupt { detail: format!("outbox row {seq}: {what}") };
            out.push(wire::EventEnvelope {
                id: wire::EventId(id.parse().map_err(|_| bad("event id"))?),
                seq: wire::DeviceSeq(seq as u64),
                kind: wire::EventKind::from_name(&kind),
                device_time: downstream::from_ms(device_ms)?,
                body: serde_json::from_str(&body).map_err(|_| bad("body"))?,
            });
        }
        Ok(out)
    }

    /// Applies the office's acknowledgements of `sent` in one transaction: stored and
    /// duplicate events leave the outbox, rejected ones move to the dead-letter table
    /// with the office's reason. Acks for events not in `sent` are ignored, and an
    /// event of `sent` with no ack stays queued.
    pub fn apply_acks(
        &mut self,
        sent: &[wire::EventId],
        ack: &wire::UploadAck,
        now: DateTime<Utc>,
    ) -> Result<AckSummary, StoreError> {
        let sent: std::collections::HashSet<&wire::EventId> = sent.iter().collect();
        let tx = self.write()?;
        let mut summary = AckSummary::default();
        for (id, verdict) in &ack.acks {
            if !sent.contains(id) {
                continue;
            }
            let key = id.0.to_string();
            match verdict {
                wire::EventAck::Stored | wire::EventAck::Duplicate => {
                    summary.delivered += tx.execute("DELETE FROM outbox WHERE event_id = ?1", [&key])? as u64;
                }
                wire::EventAck::Rejected => {
                    let reason = ack
                        .reasons
                        .iter()
                        .find(|(r, _)| r == id)
                        .map_or("rejected (no reason given)", |(_, why)| why.as_str());
                    summary.dead += dead_letter(&tx, &key, reason, now)?;
                }
            }
        }
        tx.commit()?;
        Ok(summary)
    }

    /// Moves one queued event to the dead-letter table (the office refused its whole
    /// request, not just an ack). Returns whether it was queued.
    pub fn reject_event(
        &mut self,
        id: wire::EventId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.write()?;
        let moved = dead_letter(&tx, &id.0.to_string(), reason, now)?;
        tx.commit()?;
        Ok(moved == 1)
    }

    /// Where the next pull starts.
    pub fn pull_cursor(&self) -> Result<u64, StoreError> {
        let c: i64 = self.conn.query_row("SELECT pull_cursor FROM device WHERE id = 1", [], |r| r.get(0))?;
        Ok(c as u64)
    }

    /// Applies a pull's items and moves the cursor, in one transaction. Items at or
    /// before the current cursor are ignored; the cursor never moves back.
    pub fn apply_pull(&mut self, pull: &wire::PullResponse) -> Result<PullSummary, StoreError> {
        let tx = self.write()?;
        let current: i64 = tx.query_row("SELECT pull_cursor FROM device WHERE id = 1", [], |r| r.get(0))?;
        let current = current as u64;
        let mut summary = PullSummary::default();
        let mut cursor = current;
        for item in pull.items.iter().filter(|i| i.cursor > current) {
            match downstream::apply(&tx, item)? {
                downstream::Applied::Applied => summary.applied += 1,
                downstream::Applied::Skipped => summary.skipped += 1,
            }
            cursor = cursor.max(item.cursor);
        }
        cursor = cursor.max(pull.cursor);
        let cursor =
            i64::try_from(cursor).map_err(|_| StoreError::Invalid("pull cursor out of range".into()))?;
        tx.execute("UPDATE device SET pull_cursor = ?1 WHERE id = 1", [cursor])?;
        tx.commit()?;
        Ok(summary)
    }
}

/// Writes one outbox row with the next sequence number.
fn append(
    tx: &Transaction<'_>,
    event: &wire::Event,
    device_now: DateTime<Utc>,
) -> Result<wire::EventId, StoreError> {
    let seq: i64 = tx.query_row(
        "UPDATE device SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
        [],
        |r| r.get(0),
    )?;
    let id = wire::EventId::new_random();
    let envelope = event
        .envelope(id, wire::DeviceSeq(seq as u64), device_now)
        .ok_or_else(|| StoreError::Invalid("an event of unknown kind cannot be made".to_owned()))?
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO outbox (seq, event_id, kind, device_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        seq,
        id.0.to_string(),
        envelope.kind.name(),
        device_now.timestamp_millis(),
        envelope.body.to_string()
    ])?;
    Ok(id)
}

fn dead_letter(
    tx: &Transaction<'_>,
    event_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let reason: String = reason.chars().take(500).collect();
    let moved = tx.execute(
        "INSERT INTO dead_letter (seq, event_id, kind, device_ms, body, reason, dead_ms)
         SELECT seq, event_id, kind, device_ms, body, ?2, ?3 FROM outbox WHERE event_id = ?1",
        params![event_id, reason, now.timestamp_millis()],
    )?;
    tx.execute("DELETE FROM outbox WHERE event_id = ?1", [event_id])?;
    Ok(moved as u64)
}

fn settings_conn(conn: &Connection, resident: ResidentId) -> Result<ResidentSettings, StoreError> {
    Ok(conn
        .query_row(
            "SELECT volume, speech_rate, text_scale, voice FROM settings WHERE resident_id = ?1",
            [resident.0],
            |r| {
                Ok(ResidentSettings {
                    volume: r.get::<_, f64>(0)? as f32,
                    speech_rate: r.get::<_, f64>(1)? as f32,
                    text_scale: r.get::<_, f64>(2)? as f32,
                    // A voice this kiosk does not know (a newer one's) speaks with the default.
                    voice: dialect_model::tts::Voice::from_key(&r.get::<_, String>(3)?).unwrap_or_default(),
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

fn save_settings_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    s: &ResidentSettings,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO settings (resident_id, volume, speech_rate, text_scale, voice) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (resident_id) DO UPDATE SET volume = excluded.volume,
             speech_rate = excluded.speech_rate, text_scale = excluded.text_scale, voice = excluded.voice",
        params![resident.0, f64::from(s.volume), f64::from(s.speech_rate), f64::from(s.text_scale), s.voice.key()],
    )?;
    Ok(())
}

fn saved_plan((day, intensity, ids): (String, Option<String>, String)) -> Result<SavedPlan, StoreError> {
    Ok(SavedPlan {
        date: parse_day(&day)?,
        intensity: intensity.as_deref().and_then(events::parse_intensity),
        exercise_ids: json_strings(&ids)?,
    })
}

fn json_strings(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|_| StoreError::Corrupt { detail: "a list of exercise ids".to_owned() })
}

fn parse_day(s: &str) -> Result<NaiveDate, StoreError> {
    s.parse().map_err(|_| StoreError::Corrupt { detail: format!("day {s:?}") })
}

fn parse_local(s: &str) -> Result<NaiveDateTime, StoreError> {
    s.parse::<NaiveDateTime>().map_err(|_| StoreError::Corrupt { detail: "a local time".to_owned() })
}

/// A card identity as stored: 64 lowercase hex digits.
fn normalise_card(hex: &str) -> Option<String> {
    let hex = hex.trim();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

/// The office's report as care's planner reads it. The report's time is when the
/// office fetched it, in the town's time (+09:00); the day's highest temperature
/// stands for the temperature; warnings map one to one.
pub fn care_weather(r: &wire::WeatherReport) -> care::weather::Weather {
    use care::weather::Warning;
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset");
    let mut warnings = BTreeSet::new();
    if r.heavy_snow_warning {
        warnings.insert(Warning::HeavySnow);
    }
    if r.storm_warning {
        warnings.insert(Warning::Storm);
    }
    if r.heavy_rain_warning {
        warnings.insert(Warning::HeavyRain);
    }
    care::weather::Weather {
        observed_at: r.fetched_at.with_timezone(&jst).naive_local(),
        source: match r.source {
            wire::WeatherSource::Jma => "気象庁".to_owned(),
            wire::WeatherSource::Manual => "役場".to_owned(),
            wire::WeatherSource::Unknown => String::new(),
        },
        snow_depth_cm: None,
        temperature_c: r.temp_max_c.map(|t| t as f32),
        wbgt_c: None,
        heatstroke_alert: false,
        warnings,
    }
}

fn safety_reply_key(reply: wire::SafetyReply) -> &'static str {
    match reply {
        wire::SafetyReply::Safe => "safe",
        wire::SafetyReply::NeedsHelp => "needs_help",
    }
}

/// `store.sqlite` → `store.sqlite.corrupt-<unix ms>`.
fn aside_path(path: &Path) -> PathBuf {
    let ms = Utc::now().timestamp_millis();
    PathBuf::from(format!("{}.corrupt-{ms}", path.display()))
}

/// What still reads in a corrupt file, row by row: each table read on its own, a
/// table that fails midway keeps the rows read before the failure.
#[derive(Debug, Default)]
struct Salvage {
    next_seq: i64,
    credentials: Option<(i64, String)>,
    outbox: Vec<(i64, String, String, i64, String)>,
    dead: Vec<(i64, String, String, i64, String, String, i64)>,
    residents: Vec<(i64, String, Option<String>)>,
    settings: Vec<(i64, f64, f64, f64)>,
}

impl Salvage {
    fn read(path: &Path) -> Salvage {
        let mut s = Salvage { next_seq: 1, ..Default::default() };
        // Read-write (never create): a WAL left by a power cut is replayed, not refused.
        let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE) else { return s };
        if let Ok((next, id, token)) =
            conn.query_row("SELECT next_seq, device_id, token FROM device WHERE id = 1", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<String>>(2)?))
            })
        {
            s.next_seq = next;
            s.credentials = id.zip(token);
        }
        fn rows<T>(
            conn: &Connection,
            sql: &str,
            f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        ) -> Vec<T> {
            let Ok(mut stmt) = conn.prepare(sql) else { return vec![] };
            let Ok(iter) = stmt.query_map([], f) else { return vec![] };
            iter.map_while(Result::ok).collect()
        }
        s.outbox = rows(&conn, "SELECT seq, event_id, kind, device_ms, body FROM outbox ORDER BY seq", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        });
        s.dead = rows(
            &conn,
            "SELECT seq, event_id, kind, device_ms, body, reason, dead_ms FROM dead_letter ORDER BY seq",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        );
        s.residents = rows(&conn, "SELECT id, display_name, card_identity FROM residents", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        });
        s.settings = rows(&conn, "SELECT resident_id, volume, speech_rate, text_scale FROM settings", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        });
        s
    }

    fn restore(&self, store: &mut Store) -> Result<(), StoreError> {
        // The counter never goes back, or a later event would reuse a sequence number.
        let max_seen =
            self.outbox.iter().map(|r| r.0).chain(self.dead.iter().map(|r| r.0)).max().unwrap_or(0);
        let tx = store.write()?;
        tx.execute(
            "UPDATE device SET next_seq = ?1, device_id = ?2, token = ?3 WHERE id = 1",
            params![
                self.next_seq.max(max_seen + 1),
                self.credentials.as_ref().map(|c| c.0),
                self.credentials.as_ref().map(|c| c.1.as_str()),
            ],
        )?;
        for r in &self.outbox {
            tx.execute(
                "INSERT OR IGNORE INTO outbox (seq, event_id, kind, device_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.0, r.1, r.2, r.3, r.4],
            )?;
        }
        for r in &self.dead {
            tx.execute(
                "INSERT OR IGNORE INTO dead_letter (seq, event_id, kind, device_ms, body, reason, dead_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![r.0, r.1, r.2, r.3, r.4, r.5, r.6],
            )?;
        }
        for r in &self.residents {
            tx.execute(
                "INSERT OR IGNORE INTO residents (id, display_name, card_identity) VALUES (?1, ?2, ?3)",
                params![r.0, r.1, r.2],
            )?;
        }
        for r in &self.settings {
            tx.execute(
                "INSERT OR IGNORE INTO settings (resident_id, volume, speech_rate, text_scale) VALUES (?1, ?2, ?3, ?4)",
                params![r.0, r.1, r.2, r.3],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
