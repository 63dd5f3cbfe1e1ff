//! Medicine times and doses: the times the office set, when the tablet asked about a
//! dose today, and the dose's record (kept or missed) with its outbox row in one
//! transaction. Times of day only: which medicine is never stored.

use care::medicine::{Dose, DoseDay, Slot};

use super::record::append;
use super::*;

/// One resident's medicine day, as the app hands it to the controller every minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicineToday {
    pub resident: i64,
    /// How the tablet addresses them (the roster's name).
    pub name: String,
    pub doses: Vec<Dose>,
    /// Each slot's day so far (slots not asked yet are absent).
    pub days: Vec<(Slot, DoseDay)>,
}

impl Store {
    /// The medicine times and today's doses of everyone on the roster who has times.
    pub fn medicine_today(&self, day: NaiveDate) -> Result<Vec<MedicineToday>, StoreError> {
        let mut times = self.conn.prepare_cached(
            "SELECT m.resident_id, r.display_name, m.slot, m.at FROM medicine_times m
             JOIN residents r ON r.id = m.resident_id ORDER BY m.resident_id, m.at",
        )?;
        let rows: Vec<(i64, String, String, String)> = times
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let mut out: Vec<MedicineToday> = Vec::new();
        for (resident, name, slot, at) in rows {
            let (Ok(slot), Ok(at)) = (slot.parse::<Slot>(), chrono::NaiveTime::parse_from_str(&at, "%H:%M"))
            else {
                continue;
            };
            if out.last().is_none_or(|m| m.resident != resident) {
                out.push(MedicineToday { resident, name, doses: vec![], days: vec![] });
            }
            if let Some(m) = out.last_mut() {
                m.doses.push(Dose { slot, at });
            }
        }
        let mut doses = self.conn.prepare_cached(
            "SELECT slot, asked, kept FROM medicine_doses WHERE resident_id = ?1 AND day = ?2",
        )?;
        for m in &mut out {
            let rows: Vec<(String, String, Option<bool>)> = doses
                .query_map(params![m.resident, day.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            for (slot, asked, kept) in rows {
                let Ok(slot) = slot.parse::<Slot>() else { continue };
                let asked =
                    asked.split(',').filter(|a| !a.is_empty()).map(parse_local).collect::<Result<_, _>>()?;
                m.days.push((slot, DoseDay { asked, kept }));
            }
        }
        Ok(out)
    }

    /// Keeps that the tablet asked `resident` about a dose at `at` (local).
    pub fn record_medicine_ask(
        &mut self,
        resident: ResidentId,
        slot: Slot,
        at: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO medicine_doses (resident_id, day, slot, asked) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (resident_id, day, slot) DO UPDATE SET
                 asked = CASE WHEN asked = '' THEN excluded.asked ELSE asked || ',' || excluded.asked END",
            params![resident.0, at.date().to_string(), slot.key(), events::local(at)],
        )?;
        // A week is all the controller needs; older days are history the office keeps.
        tx.execute(
            "DELETE FROM medicine_doses WHERE day < ?1",
            [(at.date() - chrono::Days::new(7)).to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a dose kept or missed and queues it for the office, once: a dose already
    /// recorded today is left as it is (`None`).
    pub fn record_medicine(
        &mut self,
        resident: ResidentId,
        day: NaiveDate,
        slot: Slot,
        kept: bool,
        device_now: DateTime<Utc>,
    ) -> Result<Option<wire::EventId>, StoreError> {
        let tx = self.write()?;
        let changed = tx.execute(
            "INSERT INTO medicine_doses (resident_id, day, slot, kept) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (resident_id, day, slot) DO UPDATE SET kept = excluded.kept WHERE kept IS NULL",
            params![resident.0, day.to_string(), slot.key(), kept],
        )?;
        if changed == 0 {
            return Ok(None);
        }
        let body = wire::MedicineBody {
            resident_id: Some(resident.0),
            day,
            slot: wire::Name::Known(slot),
            taken: kept,
        };
        let id = append(&tx, &wire::Event::Medicine(body), device_now)?;
        tx.commit()?;
        Ok(Some(id))
    }
}
