//! Town news: short announcements staff publish for a district or the whole town, sent
//! down to the tablets, and who each tablet read them to.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::pull_log::push_tx;
use super::{Actor, AnnouncementId, Paged, ResidentId, Store, StoreError, day_text, from_ms, ms};

/// An announcement as the news page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub id: AnnouncementId,
    /// `None`: the whole town.
    pub district: Option<String>,
    pub message: String,
    /// The last local day the tablets say it.
    pub until: NaiveDate,
    pub published: DateTime<Utc>,
    pub withdrawn: bool,
    /// Residents it is for today (those living in its area), and how many of them the
    /// tablets have read it to.
    pub reach: u64,
    pub heard: u64,
}

/// One resident an announcement is for: whether (and when) a tablet read it to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub resident: ResidentId,
    /// For the staff page only; never logged.
    pub name: String,
    pub district: String,
    pub heard: Option<DateTime<Utc>>,
}

fn body(id: AnnouncementId, message: &str, until: NaiveDate, withdrawn: bool) -> wire::AnnouncementBody {
    wire::AnnouncementBody { announcement_id: id.0 as u64, message: message.to_owned(), until, withdrawn }
}

/// A tablet read announcement `id` to `resident`: kept once (the first time), and only
/// for an announcement that was meant for them (their district's, or the town's).
pub(super) fn heard_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    id: AnnouncementId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO announcements_heard (announcement_id, resident_id, heard_ms)
         SELECT a.id, r.id, ?3 FROM announcements a JOIN residents r ON r.id = ?2
         WHERE a.id = ?1 AND (a.district IS NULL OR a.district = r.district)",
    )?
    .execute(params![id.0, resident.0, ms(now)])?;
    Ok(())
}

impl Store {
    /// Publishes an announcement for a district (or the town, `None`) and sends it down
    /// to the tablets there at their next pull.
    pub fn publish_announcement(
        &self,
        district: Option<&str>,
        message: &str,
        until: NaiveDate,
        by: Actor,
        now: DateTime<Utc>,
    ) -> Result<AnnouncementId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO announcements (district, message, until_day, published_by, published_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![district, message, day_text(until), by.encode(), ms(now)],
        )?;
        let id = AnnouncementId(tx.last_insert_rowid());
        push_tx(&tx, None, district, &body(id, message, until, false), now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Takes an announcement back: tablets that have not said it yet never will.
    /// False when there is no such announcement or it was already withdrawn.
    pub fn withdraw_announcement(&self, id: AnnouncementId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let row: Option<(Option<String>, String, String)> = tx
            .query_row(
                "UPDATE announcements SET withdrawn_ms = ?2 WHERE id = ?1 AND withdrawn_ms IS NULL
                 RETURNING district, message, until_day",
                params![id.0, ms(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((district, message, until)) = row else { return Ok(false) };
        let until = parse_day(&until)?;
        push_tx(&tx, None, district.as_deref(), &body(id, &message, until, true), now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Announcements newest first, one page: all of them, or (`district`) the town's
    /// and that district's, with reach and heard counted within that district.
    pub fn announcements(
        &self,
        district: Option<&str>,
        page: super::Page,
    ) -> Result<Paged<Announcement>, StoreError> {
        let (limit, offset) = page.limit_offset();
        let rows = self.announcement_rows(
            "WHERE ?1 IS NULL OR a.district IS NULL OR a.district = ?1 ORDER BY a.id DESC LIMIT ?2 OFFSET ?3",
            params![district, limit, offset],
        )?;
        Ok(Paged::of(rows))
    }

    /// One announcement, counted within `district` when given.
    pub fn announcement(
        &self,
        id: AnnouncementId,
        district: Option<&str>,
    ) -> Result<Option<Announcement>, StoreError> {
        Ok(self.announcement_rows("WHERE a.id = ?2", params![district, id.0])?.pop())
    }

    /// `?1` is the district the counts are limited to (NULL: none).
    fn announcement_rows(
        &self,
        filter: &str,
        p: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Announcement>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT a.id, a.district, a.message, a.until_day, a.published_ms, a.withdrawn_ms IS NOT NULL,
                 (SELECT count(*) FROM residents r
                  WHERE (a.district IS NULL OR r.district = a.district) AND (?1 IS NULL OR r.district = ?1)),
                 (SELECT count(*) FROM announcements_heard h JOIN residents r ON r.id = h.resident_id
                  WHERE h.announcement_id = a.id AND (?1 IS NULL OR r.district = ?1))
             FROM announcements a {filter}"
        ))?;
        let rows = stmt.query_map(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
                (r.get::<_, i64>(6)? as u64, r.get::<_, i64>(7)? as u64),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, district, message, until, published, withdrawn, (reach, heard)) = row?;
            out.push(Announcement {
                id: AnnouncementId(id),
                district,
                message,
                until: parse_day(&until)?,
                published: from_ms(published)?,
                withdrawn,
                reach,
                heard,
            });
        }
        Ok(out)
    }

    /// Everyone the announcement is for (within `district` when given): those not yet
    /// read to first, by district and name, then those who heard it, earliest first.
    pub fn announcement_listeners(
        &self,
        id: AnnouncementId,
        district: Option<&str>,
    ) -> Result<Vec<Listener>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, r.display_name, r.district, h.heard_ms
             FROM announcements a
             JOIN residents r ON a.district IS NULL OR r.district = a.district
             LEFT JOIN announcements_heard h ON h.announcement_id = a.id AND h.resident_id = r.id
             WHERE a.id = ?1 AND (?2 IS NULL OR r.district = ?2)
             ORDER BY h.heard_ms IS NOT NULL, h.heard_ms, r.district, r.display_name, r.id",
        )?;
        let rows = stmt.query_map(params![id.0, district], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (resident, name, district, heard) = row?;
            out.push(Listener {
                resident: ResidentId(resident),
                name,
                district,
                heard: heard.map(from_ms).transpose()?,
            });
        }
        Ok(out)
    }
}

fn parse_day(text: &str) -> Result<NaiveDate, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt { column: "announcements.until_day" })
}
