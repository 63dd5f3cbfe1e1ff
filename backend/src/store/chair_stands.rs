//! The monthly 30-second chair-stand counts (CS-30) the tablets reported: the resident
//! page's trend, and 「椅子から立つ回数が減った」 raised at ingest when a count falls
//! clearly below the one before.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};
use vocab::AlertKind;

use super::alerts::raise_concern_tx;
use super::{ResidentId, Store, StoreError, day_text, ms};

/// A fall of this many stands from the last count raises the resident on the visit
/// list. Older adults' counts vary by about two stands from one try to the next, so
/// three is more than a bad day.
pub const CHAIR_STAND_FALL: u8 = 3;

/// How many counts the resident page shows (a year of monthly tests).
pub const CHAIR_STAND_HISTORY: usize = 12;

/// One test: the tablet's day and the stands counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChairStand {
    pub day: NaiveDate,
    pub count: u8,
}

impl Store {
    /// The resident's latest counts, newest first.
    pub fn chair_stands(&self, resident: ResidentId) -> Result<Vec<ChairStand>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT day, count FROM chair_stands WHERE resident_id = ?1 ORDER BY day DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![resident.0, CHAIR_STAND_HISTORY as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(day, count)| {
                Ok(ChairStand {
                    day: day.parse().map_err(|_| StoreError::Corrupt { column: "chair_stands.day" })?,
                    count: u8::try_from(count)
                        .map_err(|_| StoreError::Corrupt { column: "chair_stands.count" })?,
                })
            })
            .collect()
    }
}

/// Keeps a count (a second test on the same day replaces the first); one
/// [`CHAIR_STAND_FALL`] or more below the latest earlier count raises
/// [`AlertKind::LegsWeaker`], once until staff resolve it.
pub(super) fn chair_stand_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    on: NaiveDate,
    count: u8,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let before: Option<i64> = tx
        .query_row(
            "SELECT count FROM chair_stands WHERE resident_id = ?1 AND day < ?2 ORDER BY day DESC LIMIT 1",
            params![resident.0, day_text(on)],
            |r| r.get(0),
        )
        .optional()?;
    tx.prepare_cached(
        "INSERT INTO chair_stands (resident_id, day, count, at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (resident_id, day) DO UPDATE SET count = excluded.count, at_ms = excluded.at_ms",
    )?
    .execute(params![resident.0, day_text(on), count, ms(now)])?;
    let fell = before.is_some_and(|b| b >= i64::from(count) + i64::from(CHAIR_STAND_FALL));
    if fell {
        raise_concern_tx(tx, resident, AlertKind::LegsWeaker, on, now)?;
    }
    Ok(())
}
