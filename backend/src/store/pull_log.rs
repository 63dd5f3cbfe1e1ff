//! The downstream log tablets pull: typed wire bodies, each under its type's kind,
//! addressed to a resident's tablet, a district or everyone, read in cursor order.

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};

use super::devices::Enrolment;
use super::{ResidentId, Store, StoreError, ms};

/// One item of the downstream log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledItem {
    pub cursor: u64,
    pub kind: wire::PullKind,
    /// JSON text of the kind's wire body.
    pub body: String,
}

/// Appends `body` for one resident's tablet (`resident`), the tablets of a district,
/// or every tablet (neither).
pub(super) fn push_tx<B: wire::PullBody>(
    tx: &Transaction<'_>,
    resident: Option<ResidentId>,
    district: Option<&str>,
    body: &B,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(body).map_err(|_| StoreError::Corrupt { column: "pull_log.body" })?;
    push_json_tx::<B>(tx, resident, district, &json, now)
}

/// Appends a body already in its wire JSON (a weather report as the store keeps it).
pub(super) fn push_json_tx<B: wire::PullBody>(
    tx: &Transaction<'_>,
    resident: Option<ResidentId>,
    district: Option<&str>,
    json: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO pull_log (resident_id, district, kind, body, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![resident.map(|r| r.0), district, B::KIND.name(), json, ms(now)])?;
    Ok(())
}

impl Store {
    /// The downstream items for a tablet after `after`, oldest first, at most
    /// `limit`; the flag says whether more are waiting.
    pub fn pull(
        &self,
        device: &Enrolment,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<PulledItem>, bool), StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT cursor, kind, body FROM pull_log
             WHERE cursor > ?1 AND (resident_id = ?2
                 OR resident_id IN (SELECT id FROM residents WHERE household_of = ?2)
                 OR (resident_id IS NULL AND (district IS NULL OR district = ?3)))
             ORDER BY cursor LIMIT ?4",
        )?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![after, device.resident.map(|r| r.0), device.district, limit as i64 + 1],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
        )?;
        let mut items = Vec::new();
        for row in rows {
            let (cursor, kind, body) = row?;
            let kind = match wire::PullKind::from_name(&kind) {
                wire::PullKind::Unknown => return Err(StoreError::Corrupt { column: "pull_log.kind" }),
                kind => kind,
            };
            items.push(PulledItem { cursor: cursor as u64, kind, body });
        }
        let more = items.len() > limit;
        items.truncate(limit);
        Ok((items, more))
    }
}
