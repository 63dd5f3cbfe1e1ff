//! The audit log and the monthly report.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;

use super::*;

/// One line of the monthly report. The CSV leaves the office and writes no name;
/// the office's page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub resident: ResidentId,
    pub name: String,
    pub district: String,
    /// Days confirmed, 要確認 (`attention`) days included.
    pub confirmed_days: u64,
    /// The 要確認 days among `confirmed_days`.
    pub attention_days: u64,
    pub unconfirmed_days: u64,
    pub needs_help_days: u64,
    pub exercise_sessions: u64,
}

/// One line of a resident's audit trail: who (no one when no dashboard user acted),
/// what, when.
pub type AuditLine = (Option<UserId>, String, DateTime<Utc>);

/// What the audit page asks for (each `None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub user: Option<UserId>,
    pub action: Option<String>,
    pub resident: Option<ResidentId>,
}

/// A line of the audit page: when, who (their login; `None`: no dashboard user
/// acted), what (the stored action key), about which resident or account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub user: Option<(UserId, String)>,
    pub action: String,
    pub resident: Option<(ResidentId, String)>,
    pub account: Option<String>,
}

/// What the audit page's filters offer: the users, actions and residents the log
/// names, in that order of login, key and id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditChoices {
    pub users: Vec<(UserId, String)>,
    pub actions: Vec<String>,
    pub residents: Vec<(ResidentId, String)>,
}

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
    /// The audit log as the audit page reads it: the lines `filter` lets through,
    /// newest first, one page.
    pub fn audit_log(&self, filter: &AuditFilter, page: Page) -> Result<Paged<AuditEntry>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT a.at_ms, a.user_id, u.login, a.action, a.resident_id, r.display_name, s.login
             FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
                 LEFT JOIN residents r ON r.id = a.resident_id
                 LEFT JOIN users s ON s.id = a.subject_user_id
             WHERE (?1 IS NULL OR a.user_id = ?1) AND (?2 IS NULL OR a.action = ?2)
                 AND (?3 IS NULL OR a.resident_id = ?3)
             ORDER BY a.id DESC LIMIT ?4 OFFSET ?5",
        )?;
        let (limit, offset) = page.limit_offset();
        let rows = stmt.query_map(
            params![filter.user.map(|u| u.0), filter.action, filter.resident.map(|r| r.0), limit, offset],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (r.get::<_, Option<i64>>(1)?, r.get::<_, Option<String>>(2)?),
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (at, (user, login), action, resident, name, account) = row?;
            out.push(AuditEntry {
                at: from_ms(at)?,
                user: user.map(|u| (UserId(u), login.unwrap_or_default())),
                action,
                resident: resident.map(|r| (ResidentId(r), name.unwrap_or_default())),
                account,
            });
        }
        Ok(Paged::of(out))
    }

    /// What the audit page's filters can choose from: only what the log names.
    pub fn audit_choices(&self) -> Result<AuditChoices, StoreError> {
        let conn = self.lock();
        let users = conn
            .prepare_cached(
                "SELECT id, login FROM users WHERE id IN (SELECT user_id FROM audit_log) ORDER BY login",
            )?
            .query_map([], |r| Ok((UserId(r.get(0)?), r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let actions = conn
            .prepare_cached("SELECT DISTINCT action FROM audit_log ORDER BY action")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let residents = conn
            .prepare_cached(
                "SELECT id, display_name FROM residents WHERE id IN (SELECT resident_id FROM audit_log)
                 ORDER BY id",
            )?
            .query_map([], |r| Ok((ResidentId(r.get(0)?), r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(AuditChoices { users, actions, residents })
    }

    /// The account actions done to `user`: (who, what, when), oldest first.
    pub fn account_trail(&self, user: UserId) -> Result<Vec<AuditLine>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT user_id, action, at_ms FROM audit_log WHERE subject_user_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([user.0], |r| {
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
    /// excluded): days confirmed (and of those, 要確認) / unconfirmed / needing help,
    /// and exercise events; by district, then id.
    pub fn monthly_report(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<ReportRow>, StoreError> {
        let midnight = chrono::NaiveTime::MIN;
        let (from_ms, until_ms) =
            (ms(crate::clock::at_local(from, midnight)), ms(crate::clock::at_local(until, midnight)));
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT r.id, r.district, r.display_name,
                 (SELECT count(*) FROM statuses s WHERE s.resident_id = r.id AND s.day >= ?1 AND s.day < ?2
                     AND s.status = 'attention'),
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
                name: r.get(2)?,
                attention_days: r.get::<_, i64>(3)? as u64,
                confirmed_days: r.get::<_, i64>(4)? as u64,
                unconfirmed_days: r.get::<_, i64>(5)? as u64,
                needs_help_days: r.get::<_, i64>(6)? as u64,
                exercise_sessions: r.get::<_, i64>(7)? as u64,
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
