//! Recovery: a corrupt store file moved aside, and what still reads in it carried over.

use super::*;

impl Store {
    /// Opens the store; a corrupt file is moved aside (kept for staff; its path is
    /// returned) and a fresh store made. What still reads in the old file is carried
    /// over: the device's credentials and sequence counter, the outbox and dead
    /// letters, the roster and settings. The pull cursor starts again at 0 so the
    /// office's log rebuilds campaigns, weather and re-prompts.
    pub fn open_or_recover(path: &Path) -> Result<(Store, Option<PathBuf>), StoreError> {
        match Store::open(path) {
            Ok(s) => Ok((s, None)),
            Err(StoreError::Corrupt { .. }) => {
                let aside = aside_path(path);
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", path.display()));
                    if from.exists() {
                        std::fs::rename(&from, format!("{}{suffix}", aside.display()))?;
                    }
                }
                let salvage = Salvage::read(&aside);
                let mut store = Store::open(path)?;
                salvage.restore(&mut store)?;
                Ok((store, Some(aside)))
            }
            Err(e) => Err(e),
        }
    }
}

/// `store.sqlite` → `store.sqlite.corrupt-<unix ms>`.
fn aside_path(path: &Path) -> PathBuf {
    let ms = Utc::now().timestamp_millis();
    PathBuf::from(format!("{}.corrupt-{ms}", path.display()))
}

/// What still reads in a corrupt file, row by row: each table read on its own, a
/// table that fails midway keeps the rows read before the failure.
#[derive(Debug, Default)]
struct Salvage {
    next_seq: i64,
    credentials: Option<(i64, String)>,
    outbox: Vec<(i64, String, String, i64, String)>,
    dead: Vec<(i64, String, String, i64, String, String, i64)>,
    residents: Vec<(i64, String, Option<String>)>,
    settings: Vec<(i64, f64, f64, f64)>,
}

impl Salvage {
    fn read(path: &Path) -> Salvage {
        let mut s = Salvage { next_seq: 1, ..Default::default() };
        // Read-write (never create): a WAL left by a power cut is replayed, not refused.
        let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE) else { return s };
        if let Ok((next, id, token)) =
            conn.query_row("SELECT next_seq, device_id, token FROM device WHERE id = 1", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, Option<String>>(2)?))
            })
        {
            s.next_seq = next;
            s.credentials = id.zip(token);
        }
        fn rows<T>(
            conn: &Connection,
            sql: &str,
            f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        ) -> Vec<T> {
            let Ok(mut stmt) = conn.prepare(sql) else { return vec![] };
            let Ok(iter) = stmt.query_map([], f) else { return vec![] };
            iter.map_while(Result::ok).collect()
        }
        s.outbox = rows(&conn, "SELECT seq, event_id, kind, device_ms, body FROM outbox ORDER BY seq", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        });
        s.dead = rows(
            &conn,
            "SELECT seq, event_id, kind, device_ms, body, reason, dead_ms FROM dead_letter ORDER BY seq",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        );
        s.residents = rows(&conn, "SELECT id, display_name, card_identity FROM residents", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        });
        s.settings = rows(&conn, "SELECT resident_id, volume, speech_rate, text_scale FROM settings", |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        });
        s
    }

    fn restore(&self, store: &mut Store) -> Result<(), StoreError> {
        // The counter never goes back, or a later event would reuse a sequence number.
        let max_seen =
            self.outbox.iter().map(|r| r.0).chain(self.dead.iter().map(|r| r.0)).max().unwrap_or(0);
        let tx = store.write()?;
        tx.execute(
            "UPDATE device SET next_seq = ?1, device_id = ?2, token = ?3 WHERE id = 1",
            params![
                self.next_seq.max(max_seen + 1),
                self.credentials.as_ref().map(|c| c.0),
                self.credentials.as_ref().map(|c| c.1.as_str()),
            ],
        )?;
        for r in &self.outbox {
            tx.execute(
                "INSERT OR IGNORE INTO outbox (seq, event_id, kind, device_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.0, r.1, r.2, r.3, r.4],
            )?;
        }
        for r in &self.dead {
            tx.execute(
                "INSERT OR IGNORE INTO dead_letter (seq, event_id, kind, device_ms, body, reason, dead_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![r.0, r.1, r.2, r.3, r.4, r.5, r.6],
            )?;
        }
        for r in &self.residents {
            tx.execute(
                "INSERT OR IGNORE INTO residents (id, display_name, card_identity) VALUES (?1, ?2, ?3)",
                params![r.0, r.1, r.2],
            )?;
        }
        for r in &self.settings {
            tx.execute(
                "INSERT OR IGNORE INTO settings (resident_id, volume, speech_rate, text_scale) VALUES (?1, ?2, ?3, ?4)",
                params![r.0, r.1, r.2, r.3],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
