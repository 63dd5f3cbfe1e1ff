//! The weekly talk about the day and three words (never called a test): how many
//! answers of each part were right, eight weeks of it on the resident page, and
//! 「気になる変化」 raised at ingest when the latest [`vocab::MEMORY_RECENT_LOOKS`] talks
//! went [`vocab::MEMORY_DROP_PERCENT`] points or more less well than the weeks before.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rusqlite::{Transaction, params};
use vocab::{AlertKind, MemoryPart};

use super::alerts::raise_concern_tx;
use super::{ResidentId, Store, StoreError, day_text, ms};

/// Eight weeks, in days: how far back the earlier talks are looked for, and what the
/// resident page lists.
const EIGHT_WEEKS: u64 = 56;

/// Earlier talks needed before the latest are compared with them: one earlier
/// morning is no usual to fall from.
const EARLIER_LOOKS: i64 = 2;

/// One day's talk: each part asked, with its right answers of those asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryLook {
    pub day: NaiveDate,
    pub parts: Vec<(MemoryPart, u8, u8)>,
}

/// Keeps one part of a day's talk (a repeat of the part that day replaces it), then
/// compares the latest talks with the weeks before: a clear fall raises
/// [`AlertKind::MemoryChange`], once until staff resolve it.
pub(super) fn memory_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    on: NaiveDate,
    part: MemoryPart,
    right: u8,
    of: u8,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO memory_looks (resident_id, day, part, right, of, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (resident_id, day, part) DO UPDATE SET
             right = excluded.right, of = excluded.of, at_ms = excluded.at_ms",
    )?
    .execute(params![resident.0, day_text(on), part.key(), right, of, ms(now)])?;
    if fell(tx, resident)? {
        raise_concern_tx(tx, resident, AlertKind::MemoryChange, on, now)?;
    }
    Ok(())
}

/// Whether the latest talks went clearly less well than the eight weeks before them:
/// pooled right answers [`vocab::MEMORY_DROP_PERCENT`] points or more lower, and each
/// latest talk below the earlier share, so one bad morning beside a usual one is
/// never a change.
fn fell(conn: &rusqlite::Connection, resident: ResidentId) -> Result<bool, StoreError> {
    let recent: Vec<(String, i64, i64)> = conn
        .prepare_cached(
            "SELECT day, sum(right), sum(of) FROM memory_looks WHERE resident_id = ?1
             GROUP BY day ORDER BY day DESC LIMIT ?2",
        )?
        .query_map(params![resident.0, vocab::MEMORY_RECENT_LOOKS as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let Some((first, ..)) = recent.get(vocab::MEMORY_RECENT_LOOKS - 1) else { return Ok(false) };
    let first: NaiveDate = first.parse().map_err(|_| StoreError::Corrupt { column: "memory_looks.day" })?;
    let since = first.checked_sub_days(Days::new(EIGHT_WEEKS)).unwrap_or(first);
    let before = first.pred_opt().unwrap_or(first);
    let (looks, earlier_right, earlier_of): (i64, i64, i64) = conn.query_row(
        "SELECT count(DISTINCT day), coalesce(sum(right), 0), coalesce(sum(of), 0) FROM memory_looks
         WHERE resident_id = ?1 AND day BETWEEN ?2 AND ?3",
        params![resident.0, day_text(since), day_text(before)],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if looks < EARLIER_LOOKS {
        return Ok(false);
    }
    let (right, of) = recent.iter().fold((0, 0), |(r, o), d| (r + d.1, o + d.2));
    // earlier% − recent% ≥ DROP, multiplied out (every `of` is at least 1): exact,
    // with no rounding at the threshold.
    let drop = 100 * (earlier_right * of - right * earlier_of);
    let clear = drop >= i64::from(vocab::MEMORY_DROP_PERCENT) * earlier_of * of;
    let each_lower = recent.iter().all(|(_, r, o)| r * earlier_of < earlier_right * o);
    Ok(clear && each_lower)
}

impl Store {
    /// The resident's talks in the eight weeks up to `today`, newest first.
    pub fn memory_looks(
        &self,
        resident: ResidentId,
        today: NaiveDate,
    ) -> Result<Vec<MemoryLook>, StoreError> {
        let conn = self.lock();
        let since = today.checked_sub_days(Days::new(EIGHT_WEEKS - 1)).unwrap_or(today);
        let mut stmt = conn.prepare_cached(
            "SELECT day, part, right, of FROM memory_looks WHERE resident_id = ?1 AND day BETWEEN ?2 AND ?3
             ORDER BY day DESC, part",
        )?;
        let rows = stmt
            .query_map(params![resident.0, day_text(since), day_text(today)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut looks: Vec<MemoryLook> = Vec::new();
        for (day, part, right, of) in rows {
            let day: NaiveDate =
                day.parse().map_err(|_| StoreError::Corrupt { column: "memory_looks.day" })?;
            let part: MemoryPart =
                part.parse().map_err(|_| StoreError::Corrupt { column: "memory_looks.part" })?;
            let count = |n: i64, column| u8::try_from(n).map_err(|_| StoreError::Corrupt { column });
            let answers = (part, count(right, "memory_looks.right")?, count(of, "memory_looks.of")?);
            match looks.last_mut() {
                Some(look) if look.day == day => look.parts.push(answers),
                _ => looks.push(MemoryLook { day, parts: vec![answers] }),
            }
        }
        Ok(looks)
    }
}
