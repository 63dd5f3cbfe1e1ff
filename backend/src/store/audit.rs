//! The audit log and the monthly report.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::*;

/// One line of the monthly report (no names: the report leaves the office).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub resident: ResidentId,
    pub district: String,
    pub confirmed_days: u64,
    pub unconfirmed_days: u64,
    pub needs_help_days: u64,
    pub exercise_sessions: u64,
}

/// One line of a resident's audit trail: who (no one when no dashboard user acted),
/// what, when.
pub type AuditLine = (Option<UserId>, String, DateTime<Utc>);

/// Whom an audit line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum About {
    Resident(ResidentId),
    /// A dashboard account (its creation, disabling, password, sessions).
    Account(UserId),
    /// The whole town (the weather override).
    Town,
}

/// Writes one line of the audit log, inside the caller's transaction: `by` did
/// `action` about `about` (`by` is `None` when no dashboard user acted).
pub(super) fn audit_tx(
    conn: &rusqlite::Connection,
    by: Option<UserId>,
    action: &str,
    about: About,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (resident, account) = match about {
        About::Resident(r) => (Some(r.0), None),
        About::Account(u) => (None, Some(u.0)),
        About::Town => (None, None),
    };
    conn.execute(
        "INSERT INTO audit_log (at_ms, user_id, action, resident_id, subject_user_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ms(now), by.map(|u| u.0), action, resident, account],
    )?;
    Ok(())
}

impl Store {
    /// The audit trail of a resident: (user, action, when), oldest first. Tests read it;
    /// the dashboard shows the trail with #17's audit page.
    pub fn audit_trail(&self, resident: ResidentId) -> Result<Vec<AuditLine>, StoreError> {
        self.trail("resident_id", resident.0)
    }

    /// The account actions done to `user`: (who, what, when), oldest first.
    pub fn account_trail(&self, user: UserId) -> Result<Vec<AuditLine>, StoreError> {
        self.trail("subject_user_id", user.0)
    }

    /// The lines whose `column` (a fixed column name, never input) is `id`.
    fn trail(&self, column: &'static str, id: i64) -> Result<Vec<AuditLine>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT user_id, action, at_ms FROM audit_log WHERE {column} = ?1 ORDER BY id"
        ))?;
        let rows = stmt.query_map([id], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (user, action, at) = row?;
            out.push((user.map(UserId), action, from_ms(at)?));
        }
        Ok(out)
    }

    /// Per-resident figures for the days `from..until` (local dates, `until`
    /// excluded): days confirmed / unconfirmed / needing help, and exercise events.
    pub fn monthly_report(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<ReportRow>, StoreError> {
        let midnight = chrono::NaiveTime::MIN;
        let (from_ms, until_ms) =
            (ms(crate::clock::at_local(from, midnight)), ms(crate::clock::at_local(until, midnight)));
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT r.id, r.district,
                 (SELECT count(*) FROM statuses s WHERE s.resident_id = r.id AND s.day >= ?1 AND s.day < ?2
                     AND s.status IN ('confirmed', 'attention')),
                 (SELECT count(*) FROM statuses s WHERE s.resident_id = r.id AND s.day >= ?1 AND s.day < ?2
                     AND s.status = 'unconfirmed'),
                 (SELECT count(*) FROM statuses s WHERE s.resident_id = r.id AND s.day >= ?1 AND s.day < ?2
                     AND s.status = 'needs_help'),
                 (SELECT count(*) FROM events e WHERE e.resident_id = r.id AND e.kind = 'exercise_done'
                     AND e.server_ms >= ?3 AND e.server_ms < ?4)
             FROM residents r ORDER BY r.district, r.id",
        )?;
        let rows = stmt.query_map(params![day_text(from), day_text(until), from_ms, until_ms], |r| {
            Ok(ReportRow {
                resident: ResidentId(r.get(0)?),
                district: r.get(1)?,
                confirmed_days: r.get::<_, i64>(2)? as u64,
                unconfirmed_days: r.get::<_, i64>(3)? as u64,
                needs_help_days: r.get::<_, i64>(4)? as u64,
                exercise_sessions: r.get::<_, i64>(5)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records that `user` did `action` (e.g. "view", "edit_pause") on a resident.
    pub fn audit(
        &self,
        user: UserId,
        action: &str,
        resident: Option<ResidentId>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let about = resident.map_or(About::Town, About::Resident);
        audit_tx(&self.lock(), Some(user), action, about, now)
    }
}
