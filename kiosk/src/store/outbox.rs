//! The outbox: its figures, and what the sync worker takes, acknowledges and dead-letters.

use super::*;

impl Store {
    // ---- Outbox figures. ----

    /// Events waiting to be delivered.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Events the office refused for good, kept for staff.
    pub fn dead_letter_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM dead_letter", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The highest sequence number ever made on this device (0 before the first event).
    pub fn created_seq(&self) -> Result<u64, StoreError> {
        let next: i64 = self.conn.query_row("SELECT next_seq FROM device WHERE id = 1", [], |r| r.get(0))?;
        Ok(next.saturating_sub(1) as u64)
    }

    /// Outbox length, dead letters and the last sequence number, read together.
    pub fn figures(&self) -> Result<Figures, StoreError> {
        // One statement: one snapshot.
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM dead_letter),
                    (SELECT next_seq - 1 FROM device WHERE id = 1)",
            [],
            |r| {
                Ok(Figures {
                    outbox_len: r.get::<_, i64>(0)? as u64,
                    dead_letter_len: r.get::<_, i64>(1)? as u64,
                    created_seq: r.get::<_, i64>(2)? as u64,
                })
            },
        )?)
    }

    /// Free space on the store's file system, in MiB.
    pub fn free_storage_mib(&self) -> Option<u64> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let st = rustix::fs::statvfs(dir).ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize) / (1024 * 1024))
    }
}
