//! The weather report tablets are sent: the last one fetched from the agency, and a
//! manual override by staff that replaces it until cleared. Bodies are wire JSON.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::audit::{About, audit_tx};
use super::pull_log::push_json_tx;
use super::{Store, StoreError, UserId, ms};

/// The stored reports (wire JSON text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredWeather {
    pub fetched: Option<String>,
    /// The override and who set it.
    pub manual: Option<(String, Option<UserId>)>,
}

impl Store {
    pub fn weather(&self) -> Result<StoredWeather, StoreError> {
        let conn = self.lock();
        let fetched =
            conn.query_row("SELECT body FROM weather WHERE source = 'jma'", [], |r| r.get(0)).optional()?;
        let manual = conn
            .query_row("SELECT body, set_by FROM weather WHERE source = 'manual'", [], |r| {
                Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.map(UserId)))
            })
            .optional()?;
        Ok(StoredWeather { fetched, manual })
    }

    /// Keeps a fetched report; sends it to tablets when `changed` and no override
    /// is in force. Returns whether it was sent.
    pub fn save_fetched_weather(
        &self,
        body: &str,
        changed: bool,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO weather (source, body, at_ms) VALUES ('jma', ?1, ?2)
             ON CONFLICT (source) DO UPDATE SET body = excluded.body, at_ms = excluded.at_ms",
            params![body, ms(now)],
        )?;
        let overridden: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM weather WHERE source = 'manual')", [], |r| r.get(0))?;
        let send = changed && !overridden;
        if send {
            push_json_tx::<wire::WeatherReport>(&tx, None, None, body, now)?;
        }
        tx.commit()?;
        Ok(send)
    }

    /// Sets staff's report, sends it to every tablet and audits it.
    pub fn set_weather_override(
        &self,
        body: &str,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO weather (source, body, set_by, at_ms) VALUES ('manual', ?1, ?2, ?3)
             ON CONFLICT (source) DO UPDATE SET body = excluded.body, set_by = excluded.set_by,
                 at_ms = excluded.at_ms",
            params![body, user.0, ms(now)],
        )?;
        push_json_tx::<wire::WeatherReport>(&tx, None, None, body, now)?;
        audit_tx(&tx, Some(user), "weather_override", About::Town, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Clears the override; tablets get the fetched report again (if there is one).
    /// False when no override was in force.
    pub fn clear_weather_override(&self, user: UserId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM weather WHERE source = 'manual'", [])? == 0 {
            return Ok(false);
        }
        let fetched: Option<String> =
            tx.query_row("SELECT body FROM weather WHERE source = 'jma'", [], |r| r.get(0)).optional()?;
        if let Some(body) = fetched {
            push_json_tx::<wire::WeatherReport>(&tx, None, None, &body, now)?;
        }
        audit_tx(&tx, Some(user), "weather_override_cleared", About::Town, now)?;
        tx.commit()?;
        Ok(true)
    }
}
