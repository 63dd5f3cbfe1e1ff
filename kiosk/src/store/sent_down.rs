//! What the office sent down, as the tablet reads it: campaigns, weather, re-prompts, dialect bundles.

use super::*;

impl Store {
    // ---- What the office sent down. ----

    /// Safety campaigns not closed and not yet answered on this tablet, oldest first.
    pub fn open_campaigns(&self) -> Result<Vec<wire::CampaignNotice>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT campaign_id, message, deadline_ms FROM campaigns c WHERE closed = 0
             AND NOT EXISTS (SELECT 1 FROM safety_answers a WHERE a.campaign_id = c.campaign_id)
             ORDER BY campaign_id",
        )?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, message, deadline) = row?;
            out.push(wire::CampaignNotice {
                campaign_id: id as u64,
                message,
                deadline: downstream::from_ms(deadline)?,
                closed: false,
            });
        }
        Ok(out)
    }

    /// The latest weather report the office sent, if any ([`care_weather`] turns it
    /// into what the planner reads).
    pub fn latest_weather(&self) -> Result<Option<wire::WeatherReport>, StoreError> {
        let body: Option<String> =
            self.conn.query_row("SELECT body FROM weather WHERE id = 1", [], |r| r.get(0)).optional()?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    /// The newest announced dialect bundle, when it is newer than the newest one
    /// installed: what the sync worker should fetch.
    pub fn wanted_dialect_bundle(&self) -> Result<Option<wire::DialectBundleBody>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, sha256, bytes FROM dialect_bundles
                 WHERE path IS NULL AND version > (SELECT coalesce(max(version), 0) FROM dialect_bundles WHERE path IS NOT NULL)
                 ORDER BY version DESC LIMIT 1",
                [],
                |r| Ok(wire::DialectBundleBody { version: r.get(0)?, sha256: r.get(1)?, bytes: r.get(2)? }),
            )
            .optional()?)
    }

    /// Records that bundle `version` was written to `path`.
    pub fn dialect_bundle_installed(&mut self, version: u32, path: &Path) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE dialect_bundles SET path = ?2 WHERE version = ?1",
            params![version, path.to_string_lossy()],
        )?;
        Ok(())
    }

    /// The newest installed bundle's version and file.
    pub fn installed_dialect_bundle(&self) -> Result<Option<(u32, PathBuf)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT version, path FROM dialect_bundles WHERE path IS NOT NULL ORDER BY version DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, PathBuf::from(r.get::<_, String>(1)?))),
            )
            .optional()?)
    }

    /// The latest day the office asked the resident to check in again for, while no
    /// check-in has answered it.
    pub fn pending_reprompt(&self, resident: ResidentId) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> = self
            .conn
            .query_row(
                "SELECT max(day) FROM reprompts WHERE resident_id = ?1 AND done = 0",
                [resident.0],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        day.map(|d| parse_day(&d)).transpose()
    }

    /// Whether the office's re-prompt for `day` is pending and the tablet has not asked
    /// since it arrived (then it asks at once; after that, after its usual while).
    pub fn reprompt_unasked(&self, resident: ResidentId, day: NaiveDate) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM reprompts WHERE resident_id = ?1 AND day = ?2 AND done = 0 AND asked = 0)",
            params![resident.0, day.to_string()],
            |r| r.get(0),
        )?)
    }
}
