//! The chair-stand tests (CS-30): each count recorded with its outbox row in one
//! transaction, and the latest one (for the month's rule and the next starting count).

use super::record::append;
use super::*;

impl Store {
    /// Records a chair-stand count and queues it for the office (a second test the
    /// same day replaces the first, on both sides).
    pub fn record_chair_stand(
        &mut self,
        resident: ResidentId,
        day: NaiveDate,
        count: u8,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO chair_stands (resident_id, day, count) VALUES (?1, ?2, ?3)
             ON CONFLICT (resident_id, day) DO UPDATE SET count = excluded.count",
            params![resident.0, day.to_string(), count],
        )?;
        let body = wire::ChairStandBody { resident_id: Some(resident.0), day, count };
        let id = append(&tx, &wire::Event::ChairStand(body), device_now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Keeps that the test was offered today (an offer declined rests a week).
    pub fn record_stand_offer(&mut self, resident: ResidentId, day: NaiveDate) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT OR IGNORE INTO chair_stands (resident_id, day) VALUES (?1, ?2)",
            params![resident.0, day.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The resident's latest test (day and count) and latest offer.
    pub fn chair_stand_days(&self, resident: ResidentId) -> Result<care::chairstand::StandDays, StoreError> {
        let corrupt = || StoreError::Corrupt { detail: "a chair-stand test".to_owned() };
        let day = |d: String| d.parse::<NaiveDate>().map_err(|_| corrupt());
        let last_test: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT day, count FROM chair_stands WHERE resident_id = ?1 AND count IS NOT NULL
                 ORDER BY day DESC LIMIT 1",
                [resident.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let last_offer: Option<String> = self.conn.query_row(
            "SELECT max(day) FROM chair_stands WHERE resident_id = ?1",
            [resident.0],
            |r| r.get(0),
        )?;
        Ok(care::chairstand::StandDays {
            last_test: last_test
                .map(|(d, n)| Ok::<_, StoreError>((day(d)?, u8::try_from(n).map_err(|_| corrupt())?)))
                .transpose()?,
            last_offer: last_offer.map(day).transpose()?,
        })
    }
}
