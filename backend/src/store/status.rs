//! Daily statuses: each resident's status for a day, its history, and who is due.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::pull_log::push_tx;
use super::*;

/// What the escalation engine needs to know about one resident on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentDay {
    pub resident: ResidentId,
    pub window: CheckinWindow,
    pub status: Option<Status>,
    /// When the status was last set (server time).
    pub status_since: Option<DateTime<Utc>>,
    pub paused: bool,
    pub no_checkin_alerted: bool,
    /// When the resident was added: windows that opened before are not theirs to miss.
    pub enrolled_at: DateTime<Utc>,
}

/// One entry of a resident's status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub day: String,
    pub from: Option<Status>,
    pub to: Status,
    /// `device:<id>`, `user:<id>` or `engine`.
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// Sets a status for the day unless the current one is in `keep`; records the change.
pub(super) fn set_status_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    day: NaiveDate,
    to: Status,
    keep: &[Status],
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let day_s = day_text(day);
    let current: Option<String> = tx
        .prepare_cached("SELECT status FROM statuses WHERE resident_id = ?1 AND day = ?2")?
        .query_row(params![resident.0, day_s], |r| r.get(0))
        .optional()?;
    let current = current.map(|s| parse_status(&s)).transpose()?;
    if current == Some(to) || current.is_some_and(|c| keep.contains(&c)) {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO statuses (resident_id, day, status, changed_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (resident_id, day) DO UPDATE SET status = excluded.status, changed_ms = excluded.changed_ms",
    )?
    .execute(params![resident.0, day_s, to.key(), ms(now)])?;
    record_change_tx(tx, resident, day, current, to, actor, now)
}

pub(super) fn record_change_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    day: NaiveDate,
    from: Option<Status>,
    to: Status,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO status_changes (resident_id, day, from_status, to_status, actor, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        resident.0,
        day_text(day),
        from.map(Status::key),
        to.key(),
        actor.encode(),
        ms(now)
    ])?;
    Ok(())
}

impl Store {
    /// The resident's status on `day`, if one was set.
    pub fn status(&self, resident: ResidentId, day: NaiveDate) -> Result<Option<Status>, StoreError> {
        let s: Option<String> = self
            .lock()
            .query_row(
                "SELECT status FROM statuses WHERE resident_id = ?1 AND day = ?2",
                params![resident.0, day_text(day)],
                |r| r.get(0),
            )
            .optional()?;
        s.map(|s| parse_status(&s)).transpose()
    }

    /// The status history of a resident, oldest first.
    pub fn status_history(&self, resident: ResidentId) -> Result<Vec<StatusChange>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT day, from_status, to_status, actor, at_ms FROM status_changes
             WHERE resident_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([resident.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (day, from, to, actor, at) = row?;
            out.push(StatusChange {
                day,
                from: from.map(|f| parse_status(&f)).transpose()?,
                to: parse_status(&to)?,
                actor,
                at: from_ms(at)?,
            });
        }
        Ok(out)
    }

    /// Everything the escalation engine needs for `day`, for every resident.
    pub fn residents_for_day(
        &self,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<ResidentDay>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, r.window_start_min, r.window_end_min, r.grace_min, s.status, s.changed_ms,
                 EXISTS (SELECT 1 FROM pauses p WHERE p.resident_id = r.id AND p.from_ms <= ?2 AND p.until_ms > ?2),
                 EXISTS (SELECT 1 FROM alerts a WHERE a.resident_id = r.id AND a.kind = 'no_checkin' AND a.day = ?1),
                 r.created_ms
             FROM residents r LEFT JOIN statuses s ON s.resident_id = r.id AND s.day = ?1",
        )?;
        let rows = stmt.query_map(params![day_text(day), ms(now)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                [r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?],
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, [start, end, grace], status, since, paused, alerted, created) = row?;
            out.push(ResidentDay {
                resident: ResidentId(id),
                window: CheckinWindow {
                    start: from_minutes(start)?,
                    end: from_minutes(end)?,
                    grace_minutes: u32::try_from(grace)
                        .map_err(|_| StoreError::Corrupt { column: "grace_min" })?,
                },
                status: status.map(|s| parse_status(&s)).transpose()?,
                status_since: since.map(from_ms).transpose()?,
                paused,
                no_checkin_alerted: alerted,
                enrolled_at: from_ms(created)?,
            });
        }
        Ok(out)
    }

    /// Marks a resident unconfirmed for `day` unless a status was set meanwhile (a
    /// check-in that just arrived wins), and asks their tablet to re-prompt.
    /// Returns whether the status changed.
    pub fn mark_unconfirmed(
        &self,
        resident: ResidentId,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "INSERT INTO statuses (resident_id, day, status, changed_ms) VALUES (?1, ?2, 'unconfirmed', ?3)
             ON CONFLICT DO NOTHING",
            params![resident.0, day_text(day), ms(now)],
        )? == 1;
        if changed {
            record_change_tx(&tx, resident, day, None, Status::Unconfirmed, Actor::Engine, now)?;
            push_tx(&tx, Some(resident), None, &wire::RepromptBody { resident_id: resident.0, day }, now)?;
        }
        tx.commit()?;
        Ok(changed)
    }
}
