//! The mood trend: days on which a check-in said a low mood or loneliness (any answer,
//! `Intent::is_low_mood`) or the small talk did (`mood_notes`), two weeks of them on the resident page, and
//! 「気分の落ち込みやさみしさが続いている」 raised at ingest when this week has at least
//! [`vocab::MOOD_LOW_DAYS`] such days and [`vocab::MOOD_RISE`] more than the week before.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rusqlite::{Transaction, params};
use vocab::{AlertKind, Intent};

use super::alerts::raise_concern_tx;
use super::{ResidentId, Store, StoreError, day_text};

/// The two weeks the resident page shows: each day with a check-in, and what low it said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MoodWeeks {
    /// Low days in the seven days up to today, and in the seven before.
    pub this_week: u32,
    pub week_before: u32,
    /// Each low day, newest first, with what was said (`low_mood`, `lonely` or both).
    pub low_days: Vec<(NaiveDate, Vec<Intent>)>,
}

/// Every low said, by day: check-in answers and the small talk's notes.
const LOW_SAID: &str =
    "(SELECT resident_id, day, intent FROM checkin_answers WHERE intent IN ('low_mood', 'lonely')
     UNION SELECT resident_id, day, intent FROM mood_notes)";

/// The small talk heard a low mood or loneliness (`intent`) on `day`: kept once a day
/// per meaning, and the trend checked as after a check-in.
pub(super) fn mood_noted_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    day: NaiveDate,
    intent: Intent,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if !intent.is_low_mood() {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT OR IGNORE INTO mood_notes (resident_id, day, intent, at_ms) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![resident.0, day_text(day), intent.key(), super::ms(now)])?;
    mood_tx(tx, resident, day, true, now)
}

fn low_days_between(
    conn: &rusqlite::Connection,
    resident: ResidentId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<u32, StoreError> {
    Ok(conn.query_row(
        &format!(
            "SELECT count(DISTINCT day) FROM {LOW_SAID} WHERE resident_id = ?1 AND day BETWEEN ?2 AND ?3"
        ),
        params![resident.0, day_text(from), day_text(to)],
        |r| r.get(0),
    )?)
}

/// After a check-in of `day` was kept: when it said a low mood or loneliness and this
/// week now has at least `MOOD_LOW_DAYS` such days and `MOOD_RISE` more than the week
/// before, raises [`AlertKind::MoodFalling`], once until staff resolve it.
pub(super) fn mood_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    day: NaiveDate,
    said_low: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if !said_low {
        return Ok(());
    }
    let (this_week, week_before) = weeks(tx, resident, day)?;
    if this_week < vocab::MOOD_LOW_DAYS || this_week < week_before + vocab::MOOD_RISE {
        return Ok(());
    }
    raise_concern_tx(tx, resident, AlertKind::MoodFalling, day, now)?;
    Ok(())
}

/// Low days in the week up to `day` and in the week before it.
fn weeks(
    conn: &rusqlite::Connection,
    resident: ResidentId,
    day: NaiveDate,
) -> Result<(u32, u32), StoreError> {
    let back = |n| day.checked_sub_days(Days::new(n)).unwrap_or(day);
    Ok((
        low_days_between(conn, resident, back(6), day)?,
        low_days_between(conn, resident, back(13), back(7))?,
    ))
}

impl Store {
    /// The resident's two weeks of mood up to `today`.
    pub fn mood_weeks(&self, resident: ResidentId, today: NaiveDate) -> Result<MoodWeeks, StoreError> {
        let conn = self.lock();
        let (this_week, week_before) = weeks(&conn, resident, today)?;
        let since = today.checked_sub_days(Days::new(13)).unwrap_or(today);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT day, intent FROM {LOW_SAID} WHERE resident_id = ?1 AND day BETWEEN ?2 AND ?3
             GROUP BY day, intent ORDER BY day DESC, intent"
        ))?;
        let rows = stmt
            .query_map(params![resident.0, day_text(since), day_text(today)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut low_days: Vec<(NaiveDate, Vec<Intent>)> = Vec::new();
        for (day, intent) in rows {
            let day: NaiveDate =
                day.parse().map_err(|_| StoreError::Corrupt { column: "checkin_answers.day" })?;
            let intent: Intent =
                intent.parse().map_err(|_| StoreError::Corrupt { column: "checkin_answers.intent" })?;
            match low_days.last_mut() {
                Some((d, said)) if *d == day => said.push(intent),
                _ => low_days.push((day, vec![intent])),
            }
        }
        Ok(MoodWeeks { this_week, week_before, low_days })
    }
}
