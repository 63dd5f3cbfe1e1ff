//! Medicine doses as the tablets reported them: kept or missed, by day and time of day
//! (the resident page's table). Which medicine is never stored; the alert for two
//! missed days in a row is raised at ingest (`events`).

use chrono::NaiveDate;
use rusqlite::params;
use vocab::MedicineSlot;

use super::{ResidentId, Store, StoreError, day_text};

/// One day of a resident's doses: each reported slot, kept (`true`) or missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseDay {
    pub day: NaiveDate,
    pub doses: Vec<(MedicineSlot, bool)>,
}

impl Store {
    /// The `days` days up to `last` (newest first), with what was reported for each;
    /// a day with nothing reported is there with no doses.
    pub fn medicine_days(
        &self,
        resident: ResidentId,
        last: NaiveDate,
        days: u32,
    ) -> Result<Vec<DoseDay>, StoreError> {
        let first = last - chrono::Days::new(u64::from(days.saturating_sub(1)));
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT day, slot, taken FROM medicine_doses WHERE resident_id = ?1 AND day BETWEEN ?2 AND ?3",
        )?;
        let rows = stmt
            .query_map(params![resident.0, day_text(first), day_text(last)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out: Vec<DoseDay> =
            first.iter_days().take_while(|d| *d <= last).map(|day| DoseDay { day, doses: vec![] }).collect();
        for (day, slot, taken) in rows {
            let (Ok(day), Ok(slot)) = (day.parse::<NaiveDate>(), slot.parse::<MedicineSlot>()) else {
                continue;
            };
            if let Some(d) = out.iter_mut().find(|d| d.day == day) {
                d.doses.push((slot, taken));
                d.doses.sort();
            }
        }
        out.reverse();
        Ok(out)
    }
}
