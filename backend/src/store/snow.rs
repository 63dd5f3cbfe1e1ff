//! The office's own timer for a snow-clearing watch: the tablet says a resident went
//! out (and again each time they say they are still at it); if neither their return
//! nor the tablet's own alert arrives by the time the tablet would have checked back
//! twice and alerted, with a margin, the office alerts. A tablet that dies on the roof
//! day (power cut, flat battery, the snow on the line) still escalates.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Transaction, params};

use super::status::set_status_tx;
use super::*;

/// After the check-back time: the tablet asks twice, three minutes apart, then
/// alerts (care's watch); the office waits that and ten minutes more for the
/// tablet's own word to arrive.
pub const SILENCE_AFTER_CHECK_BACK: Duration = Duration::minutes(16);

pub(super) fn start_watch_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    minutes: u32,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let deadline = now + Duration::minutes(i64::from(minutes.clamp(1, 24 * 60))) + SILENCE_AFTER_CHECK_BACK;
    tx.execute(
        "INSERT INTO snow_watches (resident_id, started_ms, deadline_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (resident_id) DO UPDATE SET
             started_ms = CASE WHEN ended_ms IS NULL THEN started_ms ELSE excluded.started_ms END,
             deadline_ms = excluded.deadline_ms, ended_ms = NULL",
        params![resident.0, ms(now), ms(deadline)],
    )?;
    Ok(())
}

pub(super) fn end_watch_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE snow_watches SET ended_ms = ?2 WHERE resident_id = ?1 AND ended_ms IS NULL",
        params![resident.0, ms(now)],
    )?;
    Ok(())
}

impl Store {
    /// Raises a `SnowWatchSilent` alert (and marks the resident as needing help) for
    /// each watch whose deadline passed without word; ends those watches. Returns how
    /// many alerts were raised. Idempotent: an ended watch is never alerted again.
    pub fn handle_silent_snow_watches(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let silent: Vec<i64> = tx
            .prepare_cached(
                "SELECT resident_id FROM snow_watches WHERE ended_ms IS NULL AND deadline_ms <= ?1",
            )?
            .query_map([ms(now)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let day = crate::clock::local_day(now);
        let mut raised = 0;
        for resident in silent {
            let resident = ResidentId(resident);
            end_watch_tx(&tx, resident, now)?;
            set_status_tx(&tx, resident, day, Status::NeedsHelp, &[], Actor::Engine, now)?;
            raised +=
                usize::from(raise_alert_tx(&tx, resident, AlertKind::SnowWatchSilent, day, None, None, now)?);
        }
        tx.commit()?;
        Ok(raised)
    }
}
