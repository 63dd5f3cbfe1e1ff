//! The storage boundary: everything the server keeps, behind methods that speak in
//! domain terms. Handlers and background jobs call these methods and never see SQL.
//!
//! This is the SQLite implementation (one file, WAL, numbered migrations). A
//! PostgreSQL store takes its place by providing the same methods over the same
//! domain types; nothing outside `store` names `rusqlite`.

mod bundles;
mod corrections;
mod devices;
mod events;
mod office;
mod residents;
mod schema;
mod users;
mod weather;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::Connection;

pub use bundles::{BundleError, BundleInfo, check_envelope};
pub use corrections::{Correction, CorrectionExport, Misunderstanding, MisunderstandingNote};
pub use devices::{DeviceHealth, DeviceRow, Enrolment, Part};
pub use events::{Ack, Effect, IncomingEvent, PulledItem, TimelineEvent, Topic};
pub use office::{
    Alert, AlertKind, BoardCounts, Campaign, CampaignProgress, CardLinkOutcome, NewResident, ReportRow,
    ResidentDay, Risk, Role, Status,
};
pub use residents::{Contact, Pause, Profile, ResidentRecord, VisitRow};
pub use users::{BoardRow, BoardState, SessionUser};
pub use weather::StoredWeather;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("database migration {version} failed: {source}")]
    Migrate { version: usize, source: rusqlite::Error },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored value the code cannot read back (a bug or a hand-edited file).
    #[error("corrupt value in column {column}")]
    Corrupt { column: &'static str },
}

/// A resident (one person checked on daily).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(pub i64);

/// An enrolled tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub i64);

/// A safety-confirmation campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CampaignId(pub i64);

/// A dashboard user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// The card a resident signs in with: the lowercase hex SHA-256 of their JPKI
/// user-authentication certificate. Never the individual number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardIdentity(String);

impl CardIdentity {
    /// Accepts exactly 64 hex digits (any case); anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A resident's daily check-in window in local (Japan) time, and the grace after it.
/// A window whose end is before its start crosses midnight (22:00–01:00): it belongs
/// to the day it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckinWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub grace_minutes: u32,
}

impl CheckinWindow {
    pub fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    /// The day whose window a check-in at `t` answers: the local day, except in the
    /// small hours before a midnight-crossing window's end, which still belong to
    /// the window that started the evening before.
    pub fn day_of(&self, t: DateTime<Utc>) -> NaiveDate {
        let local = t.with_timezone(&crate::clock::town_offset());
        let day = local.date_naive();
        if self.crosses_midnight() && local.time() < self.start { day.pred_opt().unwrap_or(day) } else { day }
    }

    /// When day `day`'s window and its grace are over.
    pub fn due(&self, day: NaiveDate) -> DateTime<Utc> {
        let end_day = if self.crosses_midnight() { day.succ_opt().unwrap_or(day) } else { day };
        crate::clock::at_local(end_day, self.end) + chrono::Duration::minutes(i64::from(self.grace_minutes))
    }
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
}

impl Store {
    /// Opens (creating if needed) and migrates the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
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
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
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

/// Milliseconds since the Unix epoch: how every instant is stored.
fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
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
