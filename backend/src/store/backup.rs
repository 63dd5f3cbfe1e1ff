//! Backup and restore of the office's database: an online, consistent copy
//! (`VACUUM INTO`) checked before it is called a backup, and a restore that checks
//! the copy, then swaps it in whole (the server stopped).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{Store, StoreError, make_private, schema};

/// What a checked copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCheck {
    pub schema_version: usize,
    /// Rows per table, by table name.
    pub rows: Vec<(String, i64)>,
}

impl Store {
    /// Writes a consistent copy of the database to `to` (which must not exist; made
    /// 0600) while the server runs, then opens the copy and checks it.
    pub fn backup_to(&self, to: &Path) -> Result<BackupCheck, StoreError> {
        let err = |source: std::io::Error| StoreError::Private { path: to.to_path_buf(), source };
        if to.exists() {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "the backup file exists",
            )));
        }
        make_private(to)?;
        let written = self.lock().execute("VACUUM INTO ?1", [to.to_string_lossy()]);
        if let Err(e) = written {
            let _ = std::fs::remove_file(to);
            return Err(e.into());
        }
        check(to)
    }

    /// Replaces the database at `db` with the backup `from`, after checking it: the
    /// copy is written beside `db` (0600), synced and renamed over it, and the old
    /// WAL and shared memory go. The server must be stopped.
    pub fn restore(from: &Path, db: &Path) -> Result<BackupCheck, StoreError> {
        let found = check(from)?;
        if found.schema_version > schema::MIGRATIONS.len() {
            return Err(StoreError::Corrupt { column: "backup schema newer than this server" });
        }
        fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
            move |source| StoreError::Private { path: path.to_path_buf(), source }
        }
        let next = PathBuf::from(format!("{}.restoring", db.display()));
        let _ = std::fs::remove_file(&next);
        make_private(&next)?;
        std::fs::copy(from, &next).map_err(io(&next))?;
        std::fs::File::open(&next).and_then(|f| f.sync_all()).map_err(io(&next))?;
        for suffix in ["-wal", "-shm"] {
            let stale = PathBuf::from(format!("{}{suffix}", db.display()));
            if stale.exists() {
                std::fs::remove_file(&stale).map_err(io(&stale))?;
            }
        }
        std::fs::rename(&next, db).map_err(io(db))?;
        // The restored file is then migrated and opened like any other.
        Store::open(db)?;
        Ok(found)
    }
}

/// Opens `path` read-only, runs SQLite's integrity check and counts each table's rows.
fn check(path: &Path) -> Result<BackupCheck, StoreError> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(open_err)?;
    let ok: String = conn.query_row("PRAGMA integrity_check(1)", [], |r| r.get(0))?;
    if ok != "ok" {
        return Err(StoreError::Corrupt { column: "backup integrity" });
    }
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for name in names {
        let n: i64 =
            conn.query_row(&format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")), [], |r| {
                r.get(0)
            })?;
        rows.push((name, n));
    }
    Ok(BackupCheck { schema_version: version as usize, rows })
}
