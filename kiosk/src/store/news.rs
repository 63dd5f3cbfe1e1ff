//! Town news the office sent down: each announcement kept until its last day, and for
//! whom it was read, with the `news_heard` event for the office in the same transaction.

use super::record::append;
use super::*;

/// An announcement not yet read to a resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub id: u64,
    /// As staff wrote it; a line break ends a sentence.
    pub message: String,
    /// The last local day it is worth saying.
    pub until: NaiveDate,
}

/// Keeps (or updates, or withdraws) an announcement from the office. The words are
/// staff's: control characters go (a line break stays) and the length is capped, so
/// nothing but plain words reaches the voice and the caption.
pub(super) fn apply(tx: &Transaction<'_>, b: &wire::AnnouncementBody) -> Result<bool, StoreError> {
    let Ok(id) = i64::try_from(b.announcement_id) else { return Ok(false) };
    let message: String = b
        .message
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .take(wire::MAX_ANNOUNCEMENT_CHARS)
        .collect();
    if message.trim().is_empty() {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO announcements (announcement_id, message, until_day, withdrawn) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (announcement_id) DO UPDATE SET message = excluded.message,
             until_day = excluded.until_day, withdrawn = max(withdrawn, excluded.withdrawn)",
        params![id, message.trim(), b.until.to_string(), b.withdrawn],
    )?;
    Ok(true)
}

impl Store {
    /// The announcements not withdrawn and not yet read to `resident`, oldest first
    /// (the controller, with its clock, leaves out those past their last day).
    pub fn unheard_news(&self, resident: ResidentId) -> Result<Vec<Announcement>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT announcement_id, message, until_day FROM announcements a
             WHERE withdrawn = 0 AND NOT EXISTS
                 (SELECT 1 FROM news_heard h WHERE h.announcement_id = a.announcement_id AND h.resident_id = ?1)
             ORDER BY announcement_id",
        )?;
        let rows = stmt
            .query_map(params![resident.0], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, message, until)| {
                let until = until
                    .parse()
                    .map_err(|_| StoreError::Corrupt { detail: "an announcement's day".to_owned() })?;
                Ok(Announcement { id: id as u64, message, until })
            })
            .collect()
    }

    /// The announcement was read to `resident`, all of it: kept, and the office told,
    /// once (a second call for the same pair records nothing).
    pub fn record_news_heard(
        &mut self,
        resident: ResidentId,
        announcement: u64,
        device_now: DateTime<Utc>,
    ) -> Result<Option<wire::EventId>, StoreError> {
        let Ok(id) = i64::try_from(announcement) else { return Ok(None) };
        let tx = self.write()?;
        let new = tx.execute(
            "INSERT OR IGNORE INTO news_heard (announcement_id, resident_id) VALUES (?1, ?2)",
            params![id, resident.0],
        )? == 1;
        let event = if new {
            let body = wire::NewsHeardBody { resident_id: Some(resident.0), announcement_id: announcement };
            Some(append(&tx, &wire::Event::NewsHeard(body), device_now)?)
        } else {
            None
        };
        tx.commit()?;
        Ok(event)
    }
}
