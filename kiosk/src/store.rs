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
//!
//! This file opens the store and holds its types; each job is its own file: `record`
//! (state and outbox row together), `outbox`, `roster` (and settings), `history` (for
//! the planner and score), `sent_down` and `downstream` (reading and applying what the
//! office sends), `sync_state` (what the sync worker uses), `staff_pin` (the wrong-PIN count),
//! `recovery`, `schema`.

mod chair_stands;
mod downstream;
mod events;
mod help;
mod history;
mod medicine;
pub use medicine::MedicineToday;
mod memory;
mod mood;
mod news;
pub use news::Announcement;
mod outbox;
mod record;
pub use record::Progress;
mod recovery;
mod roster;
mod schema;
mod sent_down;
mod staff_pin;
mod sync_state;

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

pub use help::{HelpDelivery, HelpProgress, RunningWatch};
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
    /// The file could not be made the kiosk user's alone (0600).
    #[error("cannot make the local store private (0600): {0}")]
    Private(std::io::Error),
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

/// Creates `path` with mode 0600, or sets an existing one (and its `-wal`/`-shm`) to
/// it: check-ins and their answers are in this file, for the kiosk's user alone.
/// SQLite gives the WAL and shared memory the main file's mode.
fn make_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(StoreError::Private)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(StoreError::Private)?;
        }
    }
    Ok(())
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
        make_private(path)?;
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

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
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
/// stands for the temperature and the day's highest WBGT for the heat index; warnings
/// and the heat alert map one to one.
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
        snow_depth_cm: r.snow_depth_cm,
        temperature_c: r.temp_max_c.map(|t| t as f32),
        wbgt_c: r.wbgt_max_c,
        heatstroke_alert: r.heatstroke_alert,
        warnings,
    }
}
