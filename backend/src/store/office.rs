//! The office's side: residents and pauses, daily statuses and their history,
//! alerts, campaigns, the board's counts, users and the audit log.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::pull_log::push_tx;
use super::{
    Actor, AlertKind, CampaignId, CardIdentity, CheckinWindow, ResidentId, Role, Status, Store, StoreError,
    UserId, day_text, from_minutes, from_ms, minutes, ms, parse_status,
};

/// A resident as staff enrol them.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub display_name: String,
    pub district: String,
    pub card: Option<CardIdentity>,
    pub window: CheckinWindow,
}

/// An alert as the escalation queue lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub resident: ResidentId,
    pub kind: AlertKind,
    pub campaign: Option<CampaignId>,
    pub raised: DateTime<Utc>,
    pub acknowledged: bool,
    pub resolved: bool,
}

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

/// A campaign's live progress.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CampaignProgress {
    pub targeted: u64,
    pub safe: u64,
    pub needs_help: u64,
    /// Residents in the area with no answer yet, for phoning.
    pub non_responders: Vec<ResidentId>,
    /// Their names, in the same order (for the staff page only; never logged).
    pub non_responder_names: Vec<String>,
    /// Why each is early in the list, in the same order.
    pub non_responder_risk: Vec<Risk>,
}

/// What the office knows that makes a silent resident urgent to phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Risk {
    pub lives_alone: bool,
    pub birth_year: Option<i32>,
    /// Days on which they needed help, ever.
    pub help_days: u32,
}

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

/// What approving a card link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardLinkOutcome {
    Linked,
    /// No such pending request.
    NotPending,
    /// The card is already linked to another resident: nothing changed.
    CardTaken,
}

/// A campaign as the campaigns page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    /// `None`: the whole town.
    pub district: Option<String>,
    pub message: String,
    pub deadline: DateTime<Utc>,
    pub closed: bool,
}

/// A tablet silent for longer than this counts as offline on the board.
pub const DEVICE_OFFLINE_AFTER: Duration = Duration::hours(1);

impl Store {
    /// Adds a resident and tells their household's tablets (roster and settings).
    pub fn add_resident(&self, r: &NewResident, now: DateTime<Utc>) -> Result<ResidentId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO residents (display_name, district, card_identity, window_start_min, window_end_min,
                 grace_min, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.display_name,
                r.district,
                r.card.as_ref().map(|c| c.as_str()),
                minutes(r.window.start),
                minutes(r.window.end),
                i64::from(r.window.grace_minutes),
                ms(now)
            ],
        )?;
        let id = ResidentId(tx.last_insert_rowid());
        let roster = wire::RosterEntryBody {
            resident_id: id.0,
            display_name: r.display_name.clone(),
            card_identity: r.card.as_ref().map(|c| c.as_str().to_owned()),
        };
        push_tx(&tx, Some(id), None, &roster, now)?;
        super::residents::push_settings_tx(&tx, id, now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Pauses alarms for a resident (hospital stay, away with family).
    pub fn add_pause(
        &self,
        resident: ResidentId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO pauses (resident_id, from_ms, until_ms, reason) VALUES (?1, ?2, ?3, ?4)",
            params![resident.0, ms(from), ms(until), reason],
        )?;
        super::residents::push_settings_tx(&tx, resident, now)?;
        tx.commit()?;
        Ok(())
    }

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

    /// Raises an alert unless an open one of the same kind exists for that resident
    /// and day (or campaign). Returns whether one was raised.
    pub fn raise_alert(
        &self,
        resident: ResidentId,
        kind: AlertKind,
        day: NaiveDate,
        campaign: Option<CampaignId>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let raised = raise_alert_tx(&tx, resident, kind, day, campaign, now)?;
        tx.commit()?;
        Ok(raised)
    }

    /// Open (unresolved) alerts, oldest first.
    pub fn open_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT id, resident_id, kind, campaign_id, raised_ms, acknowledged_ms IS NOT NULL,
                 resolved_ms IS NOT NULL
             FROM alerts WHERE resolved_ms IS NULL ORDER BY raised_ms, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, resident, kind, campaign, raised, acknowledged, resolved) = row?;
            out.push(Alert {
                id,
                resident: ResidentId(resident),
                kind: kind.parse().map_err(|_| StoreError::Corrupt { column: "alerts.kind" })?,
                campaign: campaign.map(CampaignId),
                raised: from_ms(raised)?,
                acknowledged,
                resolved,
            });
        }
        Ok(out)
    }

    /// The escalation queue: open alerts with the resident's name and district,
    /// oldest first, for a district or the whole town.
    pub fn alert_queue(&self, district: Option<&str>) -> Result<Vec<(Alert, String, String)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT a.id, a.resident_id, a.kind, a.campaign_id, a.raised_ms, a.acknowledged_ms IS NOT NULL,
                 r.display_name, r.district
             FROM alerts a JOIN residents r ON r.id = a.resident_id
             WHERE a.resolved_ms IS NULL AND (?1 IS NULL OR r.district = ?1)
             ORDER BY a.raised_ms, a.id",
        )?;
        let rows = stmt.query_map([district], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, resident, kind, campaign, raised, acknowledged, name, district) = row?;
            let alert = Alert {
                id,
                resident: ResidentId(resident),
                kind: kind.parse().map_err(|_| StoreError::Corrupt { column: "alerts.kind" })?,
                campaign: campaign.map(CampaignId),
                raised: from_ms(raised)?,
                acknowledged,
                resolved: false,
            };
            out.push((alert, name, district));
        }
        Ok(out)
    }

    /// The district of an open alert's resident (for scope checks), if it is open.
    pub fn open_alert_district(&self, alert: i64) -> Result<Option<(ResidentId, String)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT r.id, r.district FROM alerts a JOIN residents r ON r.id = a.resident_id
                 WHERE a.id = ?1 AND a.resolved_ms IS NULL",
                [alert],
                |r| Ok((ResidentId(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    /// Marks an alert as being handled by `user`, and audits it.
    pub fn acknowledge_alert(
        &self,
        alert: i64,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE alerts SET acknowledged_by = ?2, acknowledged_ms = ?3
             WHERE id = ?1 AND acknowledged_ms IS NULL AND resolved_ms IS NULL",
            params![alert, user.0, ms(now)],
        )?;
        if n == 1 {
            audit_alert_tx(&tx, alert, user, "alert_acknowledge", now)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// Closes an alert with what was done (the call or visit), and audits it.
    pub fn resolve_alert(
        &self,
        alert: i64,
        user: UserId,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE alerts SET resolved_ms = ?2, note = ?3,
                 acknowledged_by = ifnull(acknowledged_by, ?4), acknowledged_ms = ifnull(acknowledged_ms, ?2)
             WHERE id = ?1 AND resolved_ms IS NULL",
            params![alert, ms(now), note, user.0],
        )?;
        if n == 1 {
            audit_alert_tx(&tx, alert, user, "alert_resolve", now)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    /// The audit trail of a resident: (user, action, when), oldest first.
    pub fn audit_trail(
        &self,
        resident: ResidentId,
    ) -> Result<Vec<(UserId, String, DateTime<Utc>)>, StoreError> {
        let conn = self.lock();
        let mut stmt =
            conn.prepare("SELECT user_id, action, at_ms FROM audit_log WHERE resident_id = ?1 ORDER BY id")?;
        let rows =
            stmt.query_map([resident.0], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (user, action, at) = row?;
            out.push((UserId(user), action, from_ms(at)?));
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
                     AND s.status = 'confirmed'),
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

    /// Card links waiting for approval: (request id, resident, district), oldest first.
    pub fn pending_card_links(&self) -> Result<Vec<(i64, ResidentId, String)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT c.id, c.resident_id, r.district FROM card_link_requests c
             JOIN residents r ON r.id = c.resident_id WHERE c.decided_ms IS NULL ORDER BY c.id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, ResidentId(r.get(1)?), r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Approves a pending card link: the resident's card identity is set, their
    /// tablet gets the roster entry, and the decision is audited.
    pub fn approve_card_link(
        &self,
        request: i64,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<CardLinkOutcome, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let found: Option<(i64, String, String)> = tx
            .query_row(
                "SELECT c.resident_id, c.card_identity, r.display_name FROM card_link_requests c
                 JOIN residents r ON r.id = c.resident_id WHERE c.id = ?1 AND c.decided_ms IS NULL",
                [request],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((resident, card, name)) = found else { return Ok(CardLinkOutcome::NotPending) };
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM residents WHERE card_identity = ?1 AND id != ?2)",
            params![card, resident],
            |r| r.get(0),
        )?;
        if taken {
            return Ok(CardLinkOutcome::CardTaken);
        }
        tx.execute("UPDATE residents SET card_identity = ?2 WHERE id = ?1", params![resident, card])?;
        tx.execute(
            "UPDATE card_link_requests SET decided_ms = ?2, decided_by = ?3 WHERE id = ?1",
            params![request, ms(now), user.0],
        )?;
        tx.execute(
            "INSERT INTO audit_log (at_ms, user_id, action, resident_id) VALUES (?1, ?2, 'card_link_approve', ?3)",
            params![ms(now), user.0, resident],
        )?;
        let roster =
            wire::RosterEntryBody { resident_id: resident, display_name: name, card_identity: Some(card) };
        push_tx(&tx, Some(ResidentId(resident)), None, &roster, now)?;
        tx.commit()?;
        Ok(CardLinkOutcome::Linked)
    }

    /// Starts a safety campaign for a district (or the whole town) and tells the
    /// tablets there at their next pull.
    pub fn start_campaign(
        &self,
        district: Option<&str>,
        message: &str,
        deadline: DateTime<Utc>,
        by: Actor,
        now: DateTime<Utc>,
    ) -> Result<CampaignId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO campaigns (district, message, deadline_ms, started_by, started_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![district, message, ms(deadline), by.encode(), ms(now)],
        )?;
        let id = CampaignId(tx.last_insert_rowid());
        let notice = wire::CampaignNotice {
            campaign_id: id.0 as u64,
            message: message.to_owned(),
            deadline,
            closed: false,
        };
        push_tx(&tx, None, district, &notice, now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Who in the campaign's area answered what, and who has not.
    pub fn campaign_progress(&self, campaign: CampaignId) -> Result<CampaignProgress, StoreError> {
        self.campaign_progress_in(campaign, None)
    }

    /// As [`Store::campaign_progress`], limited to one district's residents (民生委員).
    pub fn campaign_progress_in(
        &self,
        campaign: CampaignId,
        district: Option<&str>,
    ) -> Result<CampaignProgress, StoreError> {
        let conn = self.lock();
        // Non-responders by risk: living alone (no one else would notice), then a
        // history of needing help, then age (oldest first; unknown last).
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, a.reply, r.display_name, r.lives_alone, r.birth_year,
                 (SELECT count(*) FROM statuses s WHERE s.resident_id = r.id AND s.status = 'needs_help') AS helps
             FROM campaigns c
             JOIN residents r ON c.district IS NULL OR r.district = c.district
             LEFT JOIN campaign_answers a ON a.campaign_id = c.id AND a.resident_id = r.id
             WHERE c.id = ?1 AND (?2 IS NULL OR r.district = ?2)
             ORDER BY r.lives_alone DESC, helps DESC, r.birth_year IS NULL, r.birth_year, r.id",
        )?;
        let rows = stmt.query_map(params![campaign.0, district], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                Risk {
                    lives_alone: r.get(3)?,
                    birth_year: r.get::<_, Option<i64>>(4)?.and_then(|y| i32::try_from(y).ok()),
                    help_days: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
                },
            ))
        })?;
        let mut p = CampaignProgress::default();
        for row in rows {
            let (resident, reply, name, risk) = row?;
            p.targeted += 1;
            match reply.as_deref() {
                Some("safe") => p.safe += 1,
                Some(_) => p.needs_help += 1,
                None => {
                    p.non_responders.push(ResidentId(resident));
                    p.non_responder_names.push(name);
                    p.non_responder_risk.push(risk);
                }
            }
        }
        Ok(p)
    }

    /// All campaigns, newest first.
    pub fn campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT id, district, message, deadline_ms, closed_ms IS NOT NULL FROM campaigns ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, district, message, deadline, closed) = row?;
            out.push(Campaign {
                id: CampaignId(id),
                district,
                message,
                deadline: from_ms(deadline)?,
                closed,
            });
        }
        Ok(out)
    }

    /// Closes a campaign and tells its tablets to stop asking. False if already closed.
    pub fn close_campaign(&self, campaign: CampaignId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let row: Option<(Option<String>, String, i64)> = tx
            .query_row(
                "UPDATE campaigns SET closed_ms = ?2 WHERE id = ?1 AND closed_ms IS NULL
                 RETURNING district, message, deadline_ms",
                params![campaign.0, ms(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((district, message, deadline)) = row else { return Ok(false) };
        let notice = wire::CampaignNotice {
            campaign_id: campaign.0 as u64,
            message,
            deadline: from_ms(deadline)?,
            closed: true,
        };
        push_tx(&tx, None, district.as_deref(), &notice, now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Open campaigns whose deadline has passed and was not yet handled.
    pub fn campaigns_past_deadline(&self, now: DateTime<Utc>) -> Result<Vec<CampaignId>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM campaigns WHERE closed_ms IS NULL AND deadline_handled_ms IS NULL AND deadline_ms <= ?1
             ORDER BY id",
        )?;
        let ids = stmt.query_map([ms(now)], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
        Ok(ids.into_iter().map(CampaignId).collect())
    }

    /// At a campaign's deadline: an alert for every non-responder, once.
    /// Returns how many alerts were raised.
    pub fn handle_campaign_deadline(
        &self,
        campaign: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let progress = self.campaign_progress(campaign)?;
        let day = crate::clock::local_day(now);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let claimed = tx.execute(
            "UPDATE campaigns SET deadline_handled_ms = ?2 WHERE id = ?1 AND deadline_handled_ms IS NULL",
            params![campaign.0, ms(now)],
        )? == 1;
        let mut raised = 0;
        if claimed {
            for resident in progress.non_responders {
                raised += usize::from(raise_alert_tx(
                    &tx,
                    resident,
                    AlertKind::CampaignNoAnswer,
                    day,
                    Some(campaign),
                    now,
                )?);
            }
        }
        tx.commit()?;
        Ok(raised)
    }

    /// Adds a dashboard user; `password_hash` is an Argon2 PHC string.
    pub fn add_user(
        &self,
        login: &str,
        password_hash: &str,
        role: Role,
        district: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<UserId, StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO users (login, password_hash, role, district, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![login, password_hash, role.key(), district, ms(now)],
        )?;
        Ok(UserId(conn.last_insert_rowid()))
    }

    /// Records that `user` did `action` (e.g. "view", "edit_pause") on a resident.
    pub fn audit(
        &self,
        user: UserId,
        action: &str,
        resident: Option<ResidentId>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO audit_log (at_ms, user_id, action, resident_id) VALUES (?1, ?2, ?3, ?4)",
            params![ms(now), user.0, action, resident.map(|r| r.0)],
        )?;
        Ok(())
    }
}

/// The residents filter: a plain equality when a district is given, so SQLite uses
/// the district index (an `?4 IS NULL OR …` would make it scan everyone).
pub(super) fn district_filter(district: Option<&str>) -> &'static str {
    if district.is_some() { "WHERE r.district = ?4" } else { "WHERE ?4 IS NULL" }
}

fn audit_alert_tx(
    tx: &Transaction<'_>,
    alert: i64,
    user: UserId,
    action: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit_log (at_ms, user_id, action, resident_id)
         SELECT ?1, ?2, ?3, resident_id FROM alerts WHERE id = ?4",
        params![ms(now), user.0, action, alert],
    )?;
    Ok(())
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

fn record_change_tx(
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

pub(super) fn raise_alert_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    kind: AlertKind,
    day: NaiveDate,
    campaign: Option<CampaignId>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(
            "INSERT INTO alerts (resident_id, kind, day, campaign_id, raised_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![resident.0, kind.key(), day_text(day), campaign.map(|c| c.0), ms(now)])?;
    Ok(n == 1)
}
