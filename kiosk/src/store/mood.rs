//! A low mood or loneliness said in the small talk: its meaning and day go to the
//! office's mood trend; nothing stays on the tablet but the outbox row until sent.

use super::record::append;
use super::*;

impl Store {
    /// Queues the small talk's mood note for the office.
    pub fn record_mood_noted(
        &mut self,
        resident: ResidentId,
        day: NaiveDate,
        mood: care::understanding::Intent,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let tx = self.write()?;
        let body = wire::MoodNotedBody { resident_id: Some(resident.0), day, mood: mood.into() };
        let id = append(&tx, &wire::Event::MoodNoted(body), device_now)?;
        tx.commit()?;
        Ok(id)
    }
}
