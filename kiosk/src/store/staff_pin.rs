//! The staff PIN's wrong tries in a row, kept so the lockout survives a restart.

use super::*;

impl Store {
    /// Wrong staff PINs in a row, and when the last one was typed.
    pub fn staff_pin_failures(&self) -> Result<(u32, Option<DateTime<Utc>>), StoreError> {
        let (n, at): (i64, Option<i64>) = self.conn.query_row(
            "SELECT staff_pin_failures, staff_pin_failed_ms FROM device WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n.max(0) as u32, at.and_then(DateTime::from_timestamp_millis)))
    }

    /// Counts one more wrong PIN at `now`; returns the count.
    pub fn record_staff_pin_failure(&mut self, now: DateTime<Utc>) -> Result<u32, StoreError> {
        let tx = self.write()?;
        tx.execute(
            "UPDATE device SET staff_pin_failures = staff_pin_failures + 1, staff_pin_failed_ms = ?1
             WHERE id = 1",
            [now.timestamp_millis()],
        )?;
        let n: i64 = tx.query_row("SELECT staff_pin_failures FROM device WHERE id = 1", [], |r| r.get(0))?;
        tx.commit()?;
        Ok(n as u32)
    }

    /// The right PIN: the count starts again.
    pub fn clear_staff_pin_failures(&mut self) -> Result<(), StoreError> {
        let tx = self.write()?;
        tx.execute("UPDATE device SET staff_pin_failures = 0, staff_pin_failed_ms = NULL WHERE id = 1", [])?;
        tx.commit()?;
        Ok(())
    }
}
