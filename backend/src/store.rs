//! The storage boundary: everything the server keeps, behind methods that speak in
//! domain terms. Handlers and background jobs call these methods and never see SQL.
//!
//! This is the SQLite implementation (one file, WAL, numbered migrations). A
//! PostgreSQL store takes its place by providing the same methods over the same
//! domain types; nothing outside `store` names `rusqlite`.

mod alerts;
mod announcements;
pub use announcements::{Announcement, Listener};
mod audit;
mod backup;
mod board;
mod bundles;
mod campaigns;
mod card_links;
mod chair_stands;
pub use chair_stands::{CHAIR_STAND_FALL, ChairStand};
mod corrections;
mod devices;
mod disasters;
mod events;
mod household;
mod medicine;
pub use medicine::DoseDay;
mod memory;
pub use memory::MemoryLook;
mod mood;
pub use mood::MoodWeeks;
mod notifications;
mod pull_log;
mod residents;
mod retention;
mod schema;
mod snow;
mod status;
mod users;
mod weather;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::Connection;

use alerts::raise_alert_tx;
pub use alerts::{Alert, QueuedAlert};
pub use audit::{AuditChoices, AuditEntry, AuditFilter, AuditLine, ReportRow};
pub use backup::BackupCheck;
pub use board::DEVICE_OFFLINE_AFTER;
pub use board::{BoardCounts, BoardRow, CheckInRecord, VisitRow};
pub use bundles::{BundleError, BundleInfo, Retraining, check_envelope};
pub use campaigns::{Campaign, CampaignProgress, Risk};
pub use card_links::CardLinkOutcome;
pub use corrections::{Correction, CorrectionExport, Misunderstanding, MisunderstandingNote};
pub use devices::{Condition, DeviceHealth, DeviceRow, Enrolment, Part};
pub use disasters::{DeclareRefused, Disaster, Responder, Roster, RosterRow};
pub use events::{Ack, Effect, IncomingEvent, TimelineEvent};
pub use household::HouseholdOutcome;
use household::shares_tablet_tx;
pub use notifications::{AckView, Backlog, Climbed, LadderAlert, Outgoing, TOP_RUNG};
pub use pull_log::PulledItem;
pub use residents::{Contact, NewResident, Pause, Profile, ResidentRecord};
pub use retention::Cutoffs;
use status::set_status_tx;
pub use status::{ResidentDay, StatusChange};
pub use users::{AccountChange, AttemptCounts, RECORD_CAP_PER_ADDR, SessionUser, UserRow, spoken_name};
pub use weather::StoredWeather;

pub use crate::domain::{
    AlertKind, AnnouncementId, BoardState, CampaignId, CardIdentity, CheckInAnswer, CheckinWindow, DeviceId,
    ResidentId, Role, Status, SupportNeed, UserId,
};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("cannot make {path} private to the office's user: {source}")]
    Private { path: PathBuf, source: std::io::Error },
    #[error("database migration {version} failed: {source}")]
    Migrate { version: usize, source: rusqlite::Error },
    /// The file was written by a newer office server (a downgrade): nothing is read
    /// or changed.
    #[error(
        "the database's schema {found} is newer than this server knows ({known}); install the newer server again"
    )]
    TooNew { found: i64, known: i64 },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored value the code cannot read back (a bug or a hand-edited file).
    #[error("corrupt value in column {column}")]
    Corrupt { column: &'static str },
}

/// Who caused a change: a tablet, a dashboard user, or the server's own engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Device(DeviceId),
    User(UserId),
    Engine,
}

impl Actor {
    fn encode(self) -> String {
        match self {
            Actor::Device(d) => format!("device:{}", d.0),
            Actor::User(u) => format!("user:{}", u.0),
            Actor::Engine => "engine".to_owned(),
        }
    }
}

/// A SQLite-backed store, shared by all handlers and jobs. Methods block: call them
/// from `spawn_blocking` (see `api::blocking`) in async code.
#[derive(Debug, Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// The office's secret that enrolment codes are keyed with (`<database>.key`):
    /// a copied database alone does not let anyone try all 10¹⁰ codes offline.
    code_key: Arc<[u8; 32]>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        // Names, phones and health answers are in this file in clear: only the office's
        // own user may read it. SQLite gives the WAL and shared-memory files the main
        // file's mode, so the file is made (or set) 0600 before SQLite opens it.
        make_private(path)?;
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        // NORMAL is durable across application crashes in WAL mode; a power cut may
        // lose the last commits, which tablets resend (idempotent by UUID).
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_err)?;
        // 64 MiB of page cache: the board scans every resident of a district; with
        // SQLite's default 2 MiB a year of history pushes those pages out.
        conn.pragma_update(None, "cache_size", -65536).map_err(open_err)?;
        schema::migrate(&mut conn)?;
        let code_key = Arc::new(load_or_create_key(&key_path(path))?);
        Ok(Self { conn: Arc::new(Mutex::new(conn)), code_key })
    }

    /// The schema version now in the file.
    pub fn schema_version(&self) -> Result<usize, StoreError> {
        let v: i64 = self.lock().pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(v as usize)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll
        // back on drop), so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Creates `path` with mode 0600, or sets an existing one (and its `-wal`/`-shm`) to it.
fn make_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let err = |source| StoreError::Private { path: path.to_path_buf(), source };
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        }
    }
    Ok(())
}

/// One page of a dashboard list: lists are never read whole (a town's alerts after a
/// storm, years of campaigns), [`PAGE_ROWS`] rows at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Page(pub u32);

/// Rows on one page.
pub const PAGE_ROWS: usize = 100;

impl Page {
    /// `LIMIT` and `OFFSET`: one row more than a page, to know whether more follow.
    fn limit_offset(self) -> (i64, i64) {
        (PAGE_ROWS as i64 + 1, i64::from(self.0) * PAGE_ROWS as i64)
    }
}

/// The rows of one page, and whether a next page has any.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub more: bool,
}

impl<T> Paged<T> {
    fn of(mut rows: Vec<T>) -> Self {
        let more = rows.len() > PAGE_ROWS;
        rows.truncate(PAGE_ROWS);
        Paged { rows, more }
    }
}

/// Where the secret of the database at `db` lives: beside it, never inside it (a
/// backup of the database does not carry it).
pub fn key_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.key", db.display()))
}

/// Reads the 32-byte secret at `path`, or creates it (0600, random) when absent.
fn load_or_create_key(path: &Path) -> Result<[u8; 32], StoreError> {
    use std::io::{Read as _, Write as _};
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let err = |source| StoreError::Private { path: path.to_path_buf(), source };
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(mut file) => {
            let key: [u8; 32] = devices::random_bytes(32).try_into().expect("32 bytes");
            file.write_all(&key).and_then(|()| file.sync_all()).map_err(err)?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
            let mut key = Vec::new();
            std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut key)).map_err(err)?;
            key.try_into().map_err(|_| {
                err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the key file is not 32 bytes"))
            })
        }
        Err(e) => Err(err(e)),
    }
}

/// Milliseconds since the Unix epoch: how every instant is stored.
fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn parse_status(s: &str) -> Result<Status, StoreError> {
    Status::from_key(s).ok_or(StoreError::Corrupt { column: "statuses.status" })
}

fn parse_role(s: &str) -> Result<Role, StoreError> {
    Role::from_key(s).ok_or(StoreError::Corrupt { column: "users.role" })
}

fn from_ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v).ok_or(StoreError::Corrupt { column: "time" })
}

/// Days are stored as ISO dates (`2026-11-28`), in the town's local calendar.
fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Minutes after local midnight: how window bounds are stored.
fn minutes(t: NaiveTime) -> i64 {
    use chrono::Timelike as _;
    i64::from(t.hour() * 60 + t.minute())
}

fn from_minutes(v: i64) -> Result<NaiveTime, StoreError> {
    let v = u32::try_from(v).map_err(|_| StoreError::Corrupt { column: "window" })?;
    NaiveTime::from_hms_opt(v / 60, v % 60, 0).ok_or(StoreError::Corrupt { column: "window" })
}

/// Lowercase hex SHA-256: how tokens and one-time codes are kept (never in clear).
fn sha256_hex(secret: &str) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(secret.as_bytes()))
}

/// SHA-256 of `label`, a NUL, then `secret`, in hex: a value derived from a secret
/// that cannot be turned back into it (the dashboard's CSRF tokens).
pub fn sha256_label(label: &str, secret: &str) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(label.as_bytes());
    h.update([0]);
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_twice_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.sqlite");
        assert_eq!(Store::open(&path).unwrap().schema_version().unwrap(), schema::MIGRATIONS.len());
        assert_eq!(Store::open(&path).unwrap().schema_version().unwrap(), schema::MIGRATIONS.len());
    }

    #[test]
    fn a_non_database_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.sqlite");
        std::fs::write(&path, vec![0x42; 4096]).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(err.to_string().contains("office.sqlite"), "{err}");
    }

    #[test]
    fn card_identity_accepts_only_a_sha256() {
        let ok = "AB".repeat(32);
        assert_eq!(CardIdentity::parse(&ok).unwrap().as_str(), "ab".repeat(32));
        for bad in ["", "ab", &"zz".repeat(32), &"ab".repeat(33), "123456789012"] {
            assert!(CardIdentity::parse(bad).is_none(), "{bad}");
        }
    }
}
