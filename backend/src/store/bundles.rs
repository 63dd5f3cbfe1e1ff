//! Dialect bundles (lexicon + understanding model, written by `dialect-model bundle`)
//! that the office publishes and every tablet fetches and swaps in.
//!
//! The office checks a bundle's envelope before it accepts it: the magic line, the
//! version, and the SHA-256 of the body that `dialect-model` wrote into the header, so
//! a truncated or hand-edited file never reaches a tablet. It does not read the body:
//! the backend does not link the speech model. Versions only go up, so a tablet never
//! swaps back to an older bundle by accident.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::pull_log::push_tx;
use super::{Store, StoreError, UserId, from_ms, ms, sha256_hex};

/// The first line of every bundle (`dialect-model/src/learn.rs`).
const MAGIC: &str = "mimamori-dialect-bundle v1";

/// Why a bundle was not published.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a dialect bundle: {0}")]
    Invalid(&'static str),
    #[error("bundle version {version} is not newer than the published version {latest}")]
    NotNewer { version: u32, latest: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A published bundle, as listed for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    pub version: u32,
    pub sha256: String,
    pub bytes: u64,
    pub published: DateTime<Utc>,
}

/// A retraining that reached a verdict, as the corrections pages list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retraining {
    pub at: DateTime<Utc>,
    /// The login of who pressed the button.
    pub by: String,
    /// `dialect-model retrain`'s last line, as printed (`crate::retrain::Verdict`).
    pub verdict: String,
    /// The version published, or `None` when the new dictionary was refused.
    pub version: Option<u32>,
}

/// The version in a bundle's header, once its body matches the header's checksum.
pub fn check_envelope(text: &str) -> Result<u32, BundleError> {
    let mut parts = text.splitn(4, '\n');
    if parts.next() != Some(MAGIC) {
        return Err(BundleError::Invalid("the first line is not the bundle's magic line"));
    }
    let version = parts
        .next()
        .and_then(|l| l.strip_prefix("version "))
        .and_then(|v| v.parse().ok())
        .filter(|v: &u32| *v > 0)
        .ok_or(BundleError::Invalid("no version line (a whole number from 1)"))?;
    let sha =
        parts.next().and_then(|l| l.strip_prefix("sha256 ")).ok_or(BundleError::Invalid("no checksum"))?;
    let body = parts.next().ok_or(BundleError::Invalid("no body"))?;
    if sha256_hex(body) != sha {
        return Err(BundleError::Invalid("the body does not match its checksum (truncated or edited?)"));
    }
    Ok(version)
}

impl Store {
    /// Checks and keeps a bundle, then tells every tablet. Returns its version.
    pub fn publish_bundle(
        &self,
        text: &str,
        by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<u32, BundleError> {
        let version = check_envelope(text)?;
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(StoreError::from)?;
        let latest: Option<u32> = tx
            .query_row("SELECT max(version) FROM dialect_bundles", [], |r| r.get(0))
            .map_err(StoreError::from)?;
        if let Some(latest) = latest.filter(|l| *l >= version) {
            return Err(BundleError::NotNewer { version, latest });
        }
        let sha256 = sha256_hex(text);
        tx.execute(
            "INSERT INTO dialect_bundles (version, sha256, body, published_by, published_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![version, sha256, text.as_bytes(), by.map(|u| u.0), ms(now)],
        )
        .map_err(StoreError::from)?;
        let body = wire::DialectBundleBody { version, sha256, bytes: text.len() as u64 };
        push_tx(&tx, None, None, &body, now)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(version)
    }

    /// A published bundle's bytes, exactly as uploaded.
    pub fn bundle(&self, version: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row("SELECT body FROM dialect_bundles WHERE version = ?1", [version], |r| r.get(0))
            .optional()?)
    }

    /// Keeps a retraining's verdict (the bundle, if any, is published first).
    pub fn record_retraining(
        &self,
        by: UserId,
        verdict: &str,
        version: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO retrainings (at_ms, user_id, verdict, version) VALUES (?1, ?2, ?3, ?4)",
            params![ms(now), by.0, verdict, version],
        )?;
        Ok(())
    }

    /// The latest retrainings, newest first.
    pub fn retrainings(&self, limit: usize) -> Result<Vec<Retraining>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT t.at_ms, u.login, t.verdict, t.version FROM retrainings t JOIN users u ON u.id = t.user_id
             ORDER BY t.id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<u32>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (at, by, verdict, version) = row?;
            Ok(Retraining { at: from_ms(at)?, by, verdict, version })
        })
        .collect()
    }

    /// Published bundles, newest first.
    pub fn bundles(&self) -> Result<Vec<BundleInfo>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT version, sha256, length(body), published_ms FROM dialect_bundles ORDER BY version DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
        })?;
        rows.map(|row| {
            let (version, sha256, bytes, at) = row?;
            Ok(BundleInfo { version, sha256, bytes: bytes.max(0) as u64, published: from_ms(at)? })
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(version: u32, body: &str) -> String {
        format!("{MAGIC}\nversion {version}\nsha256 {}\n{body}", sha256_hex(body))
    }

    #[test]
    fn envelopes_are_checked_before_anything_is_stored() {
        let good = bundle(3, "--- lexicon.tsv\nx\n--- model.tsv\ny\n");
        assert_eq!(check_envelope(&good).unwrap(), 3);
        let truncated = &good[..good.len() - 3];
        assert!(matches!(check_envelope(truncated), Err(BundleError::Invalid(_))));
        assert!(matches!(check_envelope("hello"), Err(BundleError::Invalid(_))));
        assert!(matches!(check_envelope(""), Err(BundleError::Invalid(_))));
        let no_version = good.replace("version 3", "version three");
        assert!(matches!(check_envelope(&no_version), Err(BundleError::Invalid(_))));
    }

    #[test]
    fn versions_only_go_up_and_each_is_announced_to_tablets() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("office.sqlite")).unwrap();
        let now = Utc::now();
        assert_eq!(store.publish_bundle(&bundle(2, "a\n"), None, now).unwrap(), 2);
        let err = store.publish_bundle(&bundle(2, "b\n"), None, now).unwrap_err();
        assert!(matches!(err, BundleError::NotNewer { version: 2, latest: 2 }), "{err}");
        assert!(matches!(
            store.publish_bundle(&bundle(1, "c\n"), None, now),
            Err(BundleError::NotNewer { .. })
        ));
        assert_eq!(store.publish_bundle(&bundle(5, "d\n"), None, now).unwrap(), 5);
        let listed: Vec<u32> = store.bundles().unwrap().iter().map(|b| b.version).collect();
        assert_eq!(listed, [5, 2]);
        assert_eq!(store.bundle(2).unwrap().unwrap(), bundle(2, "a\n").as_bytes());
        assert_eq!(store.bundle(3).unwrap(), None);
        let announced = store
            .lock()
            .query_row("SELECT count(*) FROM pull_log WHERE kind = 'dialect_bundle'", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
        assert_eq!(announced, 2);
    }
}
