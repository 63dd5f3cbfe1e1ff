//! Tablets: one-time enrolment codes, device tokens (kept as SHA-256), revocation,
//! and the health each tablet reports.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::{DeviceId, ResidentId, Store, StoreError, from_ms, hex, ms, sha256_hex};

/// A tablet that presented a valid, unrevoked token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub device: DeviceId,
    /// The household the tablet serves, when staff bound the code to one.
    pub resident: Option<ResidentId>,
    pub district: Option<String>,
}

/// How one part of a tablet is doing, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Ok,
    Faulty,
    Missing,
    Unknown,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Ok => "ok",
            Part::Faulty => "faulty",
            Part::Missing => "missing",
            Part::Unknown => "unknown",
        }
    }

    /// The word staff read.
    pub fn label(self) -> &'static str {
        match self {
            Part::Ok => "正常",
            Part::Faulty => "故障",
            Part::Missing => "未接続",
            Part::Unknown => "不明",
        }
    }

    fn parse(s: &str) -> Part {
        match s {
            "ok" => Part::Ok,
            "faulty" => Part::Faulty,
            "missing" => Part::Missing,
            _ => Part::Unknown,
        }
    }
}

/// A heartbeat's content, and what the device-health list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceHealth {
    pub app_version: String,
    pub microphone: Part,
    pub reader: Part,
    pub speaker: Part,
    pub free_storage_mib: u64,
    pub outbox_len: u64,
    /// The dialect bundle the tablet reported; `None`: the built-in model.
    pub dialect_bundle: Option<u32>,
    pub device_time: DateTime<Utc>,
}

/// How a tablet is doing, as the device list sorts and words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Condition {
    /// Never heard from, or not for [`super::DEVICE_OFFLINE_AFTER`]: someone should call.
    Silent,
    /// Heard from, but a part is faulty or missing.
    Attention,
    Ok,
    Revoked,
}

impl Condition {
    /// The word staff read beside the colour.
    pub fn label(self) -> &'static str {
        match self {
            Condition::Silent => "連絡なし",
            Condition::Attention => "注意",
            Condition::Ok => "正常",
            Condition::Revoked => "無効",
        }
    }

    /// The stylesheet's key for the colour (`td[data-health=…]`).
    pub fn key(self) -> &'static str {
        match self {
            Condition::Silent => "silent",
            Condition::Attention => "attention",
            Condition::Ok => "ok",
            Condition::Revoked => "revoked",
        }
    }
}

/// A line of the device list: the tablet, whom it serves, and its last heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub device: DeviceId,
    pub resident: Option<ResidentId>,
    /// The resident's name (office pages only).
    pub name: Option<String>,
    pub district: Option<String>,
    /// The others of the household, who share this tablet.
    pub household: Vec<(ResidentId, String)>,
    /// The last heartbeat and when the server received it; `None`: never heard from.
    pub health: Option<(DeviceHealth, DateTime<Utc>)>,
    pub condition: Condition,
}

/// How long after its first use a code may be used again by the same tablet.
pub const ENROLMENT_RETRY_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// How long a one-time enrolment code stays usable.
pub const ENROLMENT_CODE_TTL: Duration = Duration::hours(24);

/// `count` random bytes. UUID v4 draws from the OS generator; each gives 15 bytes
/// of which all bits but the version and variant nibbles are random, so only those
/// bytes of each are used.
pub(super) fn random_bytes(count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let b = *uuid::Uuid::new_v4().as_bytes();
        // Bytes 6 and 8 carry the version and variant bits; the rest are random.
        out.extend(b.iter().enumerate().filter(|(i, _)| *i != 6 && *i != 8).map(|(_, v)| *v));
    }
    out.truncate(count);
    out
}

impl Store {
    /// Makes a one-time enrolment code for a tablet (bound to a household when
    /// `resident` is given). Returns the code in clear: the only time it exists so.
    pub fn create_enrolment_code(
        &self,
        resident: Option<ResidentId>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        // 10 digits: easy to type on a tablet; single use, expires, and stored hashed.
        let n = random_bytes(8).iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)) % 10_000_000_000;
        let code = format!("{n:010}");
        self.lock().execute(
            "INSERT INTO enrolment_codes (code_hash, resident_id, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![self.code_mac(&code), resident.map(|r| r.0), ms(now), ms(now + ENROLMENT_CODE_TTL)],
        )?;
        Ok(code)
    }

    /// What an enrolment code is stored as: HMAC-SHA-256 under the office's key, hex.
    fn code_mac(&self, code: &str) -> String {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.code_key[..]).expect("any key length");
        mac.update(code.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Exchanges a one-time code for a device token. `None` when the code is unknown,
    /// expired or already used (the caller cannot tell which: no oracle for guessing).
    ///
    /// A used code is honoured once more for the tablet that used it (the same
    /// `retry_key`, within [`ENROLMENT_RETRY_WINDOW`], device not revoked): its answer
    /// was lost on the way, so the same device gets a fresh token and the old one dies.
    pub fn enrol_device(
        &self,
        code: &str,
        retry_key: &str,
        app_version: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(DeviceId, String)>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        // Keys shorter than this are no secret: they cannot retry.
        let key_hash = (retry_key.len() >= 32).then(|| sha256_hex(retry_key));
        if let Some(key_hash) = &key_hash {
            let retried: Option<i64> = tx
                .query_row(
                    "SELECT c.device_id FROM enrolment_codes c JOIN devices d ON d.id = c.device_id
                     WHERE c.code_hash = ?1 AND c.retry_key_hash = ?2 AND c.used_ms > ?3
                       AND d.revoked_ms IS NULL",
                    params![self.code_mac(code), key_hash, ms(now - ENROLMENT_RETRY_WINDOW)],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(device) = retried {
                let token = format!("mmd_{}", hex(&random_bytes(32)));
                tx.execute(
                    "UPDATE devices SET token_hash = ?2, app_version = ?3 WHERE id = ?1",
                    params![device, sha256_hex(&token), app_version],
                )?;
                tx.commit()?;
                return Ok(Some((DeviceId(device), token)));
            }
        }
        let claimed: Option<Option<i64>> = tx
            .query_row(
                "UPDATE enrolment_codes SET used_ms = ?2
                 WHERE code_hash = ?1 AND used_ms IS NULL AND expires_ms > ?2
                 RETURNING resident_id",
                params![self.code_mac(code), ms(now)],
                |r| r.get(0),
            )
            .optional()?;
        let Some(resident) = claimed else { return Ok(None) };
        let token = format!("mmd_{}", hex(&random_bytes(32)));
        tx.execute(
            "INSERT INTO devices (resident_id, token_hash, enrolled_ms, app_version) VALUES (?1, ?2, ?3, ?4)",
            params![resident, sha256_hex(&token), ms(now), app_version],
        )?;
        let id = DeviceId(tx.last_insert_rowid());
        tx.execute(
            "UPDATE enrolment_codes SET retry_key_hash = ?2, device_id = ?3 WHERE code_hash = ?1",
            params![self.code_mac(code), key_hash, id.0],
        )?;
        tx.commit()?;
        Ok(Some((id, token)))
    }

    /// Whether a resident with this id exists (before binding a code to it).
    pub fn resident_exists(&self, resident: ResidentId) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row("SELECT district FROM residents WHERE id = ?1", [resident.0], |r| r.get(0))
            .optional()?)
    }

    /// The tablets, those needing someone first: silent (never heard from, or not
    /// for [`super::DEVICE_OFFLINE_AFTER`]), then a part faulty or missing, then the
    /// rest, revoked last; least recently heard from first within each. One page.
    pub fn device_list(
        &self,
        district: Option<&str>,
        now: DateTime<Utc>,
        page: super::Page,
    ) -> Result<super::Paged<DeviceRow>, StoreError> {
        let conn = self.lock();
        // The condition is decided here once, so the order and the word agree.
        let mut stmt = conn.prepare_cached(
            "SELECT d.id, d.resident_id, r.display_name, r.district,
                 CASE WHEN d.revoked_ms IS NOT NULL THEN 3
                      WHEN d.last_seen_ms IS NULL OR d.last_seen_ms < ?2 THEN 0
                      WHEN d.microphone IN ('faulty', 'missing') OR d.reader IN ('faulty', 'missing')
                           OR d.speaker IN ('faulty', 'missing') THEN 1
                      ELSE 2 END AS condition,
                 d.app_version, d.microphone, d.reader, d.speaker, d.free_storage_mib, d.outbox_len,
                 d.device_clock_skew_ms, d.last_seen_ms, d.dialect_bundle
             FROM devices d LEFT JOIN residents r ON r.id = d.resident_id
             WHERE ?1 IS NULL OR r.district = ?1
             ORDER BY condition, ifnull(d.last_seen_ms, 0), d.id LIMIT ?3 OFFSET ?4",
        )?;
        let (limit, offset) = page.limit_offset();
        let cut = ms(now - super::DEVICE_OFFLINE_AFTER);
        let rows = stmt.query_map(params![district, cut, limit, offset], |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?),
                (r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?),
                r.get::<_, i64>(4)?,
                heartbeat_columns(r, 5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let ((id, resident), (name, district), condition, heartbeat) = row?;
            out.push(DeviceRow {
                device: DeviceId(id),
                resident: resident.map(ResidentId),
                name,
                district,
                household: Vec::new(),
                health: heartbeat.map(HeartbeatColumns::into_health).transpose()?,
                condition: match condition {
                    0 => Condition::Silent,
                    1 => Condition::Attention,
                    2 => Condition::Ok,
                    _ => Condition::Revoked,
                },
            });
        }
        drop(stmt);
        let mut shared = conn
            .prepare_cached("SELECT id, display_name FROM residents WHERE household_of = ?1 ORDER BY id")?;
        for row in &mut out {
            let names = shared
                .query_map(params![row.resident.map(|r| r.0)], |r| Ok((ResidentId(r.get(0)?), r.get(1)?)))?;
            row.household = names.collect::<Result<_, _>>()?;
        }
        Ok(super::Paged::of(out))
    }

    /// The tablet holding `token`, unless the token is unknown or revoked.
    pub fn authenticate_device(&self, token: &str) -> Result<Option<Enrolment>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT d.id, d.resident_id, r.district FROM devices d
                 LEFT JOIN residents r ON r.id = d.resident_id
                 WHERE d.token_hash = ?1 AND d.revoked_ms IS NULL",
                [sha256_hex(token)],
                |r| {
                    Ok(Enrolment {
                        device: DeviceId(r.get(0)?),
                        resident: r.get::<_, Option<i64>>(1)?.map(ResidentId),
                        district: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Revokes a tablet's token at once; its later requests get 401. Returns false
    /// when no such (unrevoked) device exists.
    pub fn revoke_device(&self, device: DeviceId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let n = self.lock().execute(
            "UPDATE devices SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
            params![device.0, ms(now)],
        )?;
        Ok(n == 1)
    }

    /// Records a heartbeat: server time as last contact, the device clock only as skew.
    pub fn record_heartbeat(
        &self,
        device: DeviceId,
        health: &DeviceHealth,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE devices SET last_seen_ms = ?2, app_version = ?3, microphone = ?4, reader = ?5,
                 speaker = ?6, free_storage_mib = ?7, outbox_len = ?8, device_clock_skew_ms = ?9,
                 dialect_bundle = ?10
             WHERE id = ?1",
            params![
                device.0,
                ms(now),
                health.app_version,
                health.microphone.as_str(),
                health.reader.as_str(),
                health.speaker.as_str(),
                i64::try_from(health.free_storage_mib).unwrap_or(i64::MAX),
                i64::try_from(health.outbox_len).unwrap_or(i64::MAX),
                ms(health.device_time) - ms(now),
                health.dialect_bundle,
            ],
        )?;
        Ok(())
    }
}

/// A heartbeat's columns as stored, before they are read into a [`DeviceHealth`].
struct HeartbeatColumns {
    app_version: String,
    parts: [String; 3],
    free: i64,
    outbox: i64,
    skew: i64,
    seen: i64,
    dialect_bundle: Option<u32>,
}

/// Reads `app_version, microphone, reader, speaker, free_storage_mib, outbox_len,
/// device_clock_skew_ms, last_seen_ms, dialect_bundle` from column `at` on; `None`
/// when the tablet was never heard from.
fn heartbeat_columns(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Option<HeartbeatColumns>> {
    let Some(seen) = r.get::<_, Option<i64>>(at + 7)? else { return Ok(None) };
    Ok(Some(HeartbeatColumns {
        app_version: r.get(at)?,
        parts: [r.get(at + 1)?, r.get(at + 2)?, r.get(at + 3)?],
        free: r.get::<_, Option<i64>>(at + 4)?.unwrap_or(0),
        outbox: r.get::<_, Option<i64>>(at + 5)?.unwrap_or(0),
        skew: r.get::<_, Option<i64>>(at + 6)?.unwrap_or(0),
        seen,
        dialect_bundle: r.get(at + 8)?,
    }))
}

impl HeartbeatColumns {
    /// The heartbeat, and when the server received it (the device clock only as skew).
    fn into_health(self) -> Result<(DeviceHealth, DateTime<Utc>), StoreError> {
        let [mic, reader, speaker] = self.parts;
        let seen = from_ms(self.seen)?;
        Ok((
            DeviceHealth {
                app_version: self.app_version,
                microphone: Part::parse(&mic),
                reader: Part::parse(&reader),
                speaker: Part::parse(&speaker),
                free_storage_mib: self.free.max(0) as u64,
                outbox_len: self.outbox.max(0) as u64,
                dialect_bundle: self.dialect_bundle,
                device_time: from_ms(self.seen + self.skew)?,
            },
            seen,
        ))
    }
}
