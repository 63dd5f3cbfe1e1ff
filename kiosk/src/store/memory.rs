//! The weekly talk about the day and three words: the days it was had (for the
//! week's rule) and whether staff turned it off; its results, how many answers were
//! right, go to the office through the outbox and stay nowhere else.

use super::record::append;
use super::*;

impl Store {
    /// Keeps that the talk was begun today: not again within a week.
    pub fn record_memory_asked(&mut self, resident: ResidentId, day: NaiveDate) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT OR IGNORE INTO memory_days (resident_id, day) VALUES (?1, ?2)",
            params![resident.0, day.to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Queues one part of the talk (how many answers right, of how many) for the office.
    pub fn record_memory_noted(
        &mut self,
        resident: ResidentId,
        day: NaiveDate,
        part: vocab::MemoryPart,
        right: u8,
        of: u8,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let tx = self.write()?;
        let body = wire::MemoryNotedBody { resident_id: Some(resident.0), day, part: part.into(), right, of };
        let id = append(&tx, &wire::Event::MemoryNoted(body), device_now)?;
        tx.commit()?;
        Ok(id)
    }

    /// The last day the talk was had with the resident.
    pub fn memory_last(&self, resident: ResidentId) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self.conn.query_row(
            "SELECT max(day) FROM memory_days WHERE resident_id = ?1",
            [resident.0],
            |r| r.get(0),
        )?;
        day.map(|d| d.parse().map_err(|_| StoreError::Corrupt { detail: "a weekly talk's day".to_owned() }))
            .transpose()
    }

    /// The first day the tablet has a plan or an exercise of hers: since when it has
    /// known her (the talk waits for her first week to pass).
    pub fn known_since(&self, resident: ResidentId) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self.conn.query_row(
            "SELECT min(d) FROM (SELECT min(day) AS d FROM plans WHERE resident_id = ?1
                                 UNION ALL SELECT min(day) FROM exercise_sessions WHERE resident_id = ?1)",
            [resident.0],
            |r| r.get(0),
        )?;
        day.map(|d| d.parse().map_err(|_| StoreError::Corrupt { detail: "a plan's day".to_owned() }))
            .transpose()
    }

    /// Whether staff turned the talk off for the resident (on until the office says).
    pub fn memory_off(&self, resident: ResidentId) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT memory_off FROM office_settings WHERE resident_id = ?1", [resident.0], |r| {
                r.get::<_, bool>(0)
            })
            .optional()?
            .unwrap_or(false))
    }
}
