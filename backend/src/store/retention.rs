//! Retention: deleting what is older than the town keeps it (`backend prune`).
//!
//! Residents, their profiles, devices and accounts are not deleted by age: they are
//! withdrawn by hand (a resident who moves away), and the records below point at them.
//! Everything dated is, except the downstream log (`pull_log`: a newly enrolled tablet
//! replays it for its roster and settings; it holds no health answers). Open alerts
//! and running campaigns are kept whatever their age.

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;

use super::{Store, StoreError, day_text, ms};

/// The cut-off instants: rows from before these go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub records: DateTime<Utc>,
    pub audit: DateTime<Utc>,
}

impl Cutoffs {
    /// The cut-offs `records_days` and `audit_days` before `now`.
    pub fn before(now: DateTime<Utc>, records_days: u32, audit_days: u32) -> Self {
        Cutoffs {
            records: now - Duration::days(records_days.into()),
            audit: now - Duration::days(audit_days.into()),
        }
    }
}

impl Store {
    /// Deletes every dated row older than its cut-off, in one transaction (children
    /// before the rows they point at). Returns the rows deleted per table, in the
    /// order they were deleted; with `dry_run` nothing is deleted (rolled back) and
    /// the counts say what would be.
    pub fn prune(&self, cut: Cutoffs, dry_run: bool) -> Result<Vec<(&'static str, usize)>, StoreError> {
        let (records, audit) = (ms(cut.records), ms(cut.audit));
        let day = day_text(cut.records.with_timezone(&crate::clock::town_offset()).date_naive());
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut out = Vec::new();
        let steps: [(&'static str, &str, &dyn rusqlite::ToSql); 18] = [
            (
                "corrections",
                "DELETE FROM corrections WHERE misunderstanding_id IN
                     (SELECT m.id FROM misunderstandings m JOIN events e ON e.id = m.event_id
                      WHERE e.server_ms < ?1)",
                &records,
            ),
            (
                "misunderstandings",
                "DELETE FROM misunderstandings WHERE event_id IN (SELECT id FROM events WHERE server_ms < ?1)",
                &records,
            ),
            ("events", "DELETE FROM events WHERE server_ms < ?1", &records),
            ("statuses", "DELETE FROM statuses WHERE day < ?1", &day),
            ("medicine_doses", "DELETE FROM medicine_doses WHERE day < ?1", &day),
            ("chair_stands", "DELETE FROM chair_stands WHERE day < ?1", &day),
            ("mood_notes", "DELETE FROM mood_notes WHERE day < ?1", &day),
            ("memory_looks", "DELETE FROM memory_looks WHERE day < ?1", &day),
            (
                "announcements_heard",
                "DELETE FROM announcements_heard WHERE announcement_id IN
                     (SELECT id FROM announcements WHERE until_day < ?1)",
                &day,
            ),
            ("announcements", "DELETE FROM announcements WHERE until_day < ?1", &day),
            ("status_changes", "DELETE FROM status_changes WHERE at_ms < ?1", &records),
            (
                "alerts",
                "DELETE FROM alerts WHERE resolved_ms IS NOT NULL AND raised_ms < ?1
                     AND (campaign_id IS NULL OR campaign_id IN
                          (SELECT id FROM campaigns WHERE closed_ms IS NOT NULL AND closed_ms < ?1))",
                &records,
            ),
            (
                "campaign_answers",
                "DELETE FROM campaign_answers WHERE campaign_id IN
                     (SELECT id FROM campaigns WHERE closed_ms IS NOT NULL AND closed_ms < ?1)",
                &records,
            ),
            (
                "campaigns",
                "DELETE FROM campaigns WHERE closed_ms IS NOT NULL AND closed_ms < ?1
                     AND id NOT IN (SELECT campaign_id FROM alerts WHERE campaign_id IS NOT NULL)",
                &records,
            ),
            ("visits", "DELETE FROM visits WHERE at_ms < ?1", &records),
            (
                "card_link_requests",
                "DELETE FROM card_link_requests WHERE decided_ms IS NOT NULL AND decided_ms < ?1",
                &records,
            ),
            ("enrolment_codes", "DELETE FROM enrolment_codes WHERE expires_ms < ?1", &records),
            ("audit_log", "DELETE FROM audit_log WHERE at_ms < ?1", &audit),
        ];
        for (table, sql, cutoff) in steps {
            out.push((table, tx.execute(sql, params![cutoff])?));
        }
        if dry_run {
            tx.rollback()?;
        } else {
            tx.commit()?;
        }
        Ok(out)
    }
}
