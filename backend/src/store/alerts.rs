//! Alerts: raised once per resident, kind and day; acknowledged and resolved by staff, audited.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::*;

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
    /// The danger the resident named when the tablet raised it (火事, …), if any.
    pub danger: Option<vocab::Danger>,
}

/// An open alert as the queue shows it: whose, how to reach them, who took it on and
/// what the resident said when an answer raised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedAlert {
    pub alert: Alert,
    pub name: String,
    pub district: String,
    /// The resident's own phone ('' when none is known).
    pub phone: String,
    /// Who took it on: a staff login, or the family (with the relation) through the
    /// mail's link.
    pub handler: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The day's check-in answers, for an alert a check-in raised (要確認, 話を聞いて).
    pub said: Vec<CheckInAnswer>,
}

/// The columns of an alert row, as [`alert_row`] reads them.
const ALERT_COLUMNS: &str = "a.id, a.resident_id, a.kind, a.campaign_id, a.raised_ms,
    a.acknowledged_ms IS NOT NULL, a.resolved_ms IS NOT NULL, a.danger";

/// One alert row as stored, before its names are checked.
type AlertRow = (i64, i64, String, Option<i64>, i64, bool, bool, Option<String>);

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

impl TryFrom<AlertRow> for Alert {
    type Error = StoreError;

    fn try_from(
        (id, resident, kind, campaign, raised, acknowledged, resolved, danger): AlertRow,
    ) -> Result<Self, StoreError> {
        Ok(Alert {
            id,
            resident: ResidentId(resident),
            kind: kind.parse().map_err(|_| StoreError::Corrupt { column: "alerts.kind" })?,
            campaign: campaign.map(CampaignId),
            raised: from_ms(raised)?,
            acknowledged,
            resolved,
            // A name a newer tablet sent is kept in the row, shown as no danger here.
            danger: danger.and_then(|d| d.parse().ok()),
        })
    }
}

pub(super) fn audit_alert_tx(
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

pub(super) fn raise_alert_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    kind: AlertKind,
    day: NaiveDate,
    campaign: Option<CampaignId>,
    danger: Option<vocab::Danger>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = tx
        .prepare_cached(
            "INSERT INTO alerts (resident_id, kind, day, campaign_id, raised_ms, danger)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            resident.0,
            kind.key(),
            day_text(day),
            campaign.map(|c| c.0),
            ms(now),
            danger.map(vocab::Danger::key)
        ])?;
    Ok(n == 1)
}

/// Raises a slower concern (`kind`, one of `board::CONCERNS`) unless one of that kind is
/// still open for the resident: once until staff resolve it, whatever the day.
pub(super) fn raise_concern_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    kind: AlertKind,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let open: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM alerts WHERE resident_id = ?1 AND kind = ?2 AND resolved_ms IS NULL)",
        params![resident.0, kind.key()],
        |r| r.get(0),
    )?;
    if open {
        return Ok(false);
    }
    raise_alert_tx(tx, resident, kind, day, None, None, now)
}

/// Tells the resident's tablet that someone took on their call for help (a help
/// request, or 助けが必要 in a campaign), so it can say who (`handler`, a role's
/// label or a relation) instead of only that it was sent. The office's own alerts
/// (no check-in, no answer) are not the resident's call and stay on the office's side.
pub(super) fn tell_tablet_tx(
    tx: &Transaction<'_>,
    alert: i64,
    handler: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let found: Option<(i64, String)> = tx
        .query_row("SELECT resident_id, kind FROM alerts WHERE id = ?1", [alert], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((resident, kind)) = found else { return Ok(()) };
    if kind != AlertKind::HelpRequest.key() && kind != AlertKind::CampaignHelp.key() {
        return Ok(());
    }
    let body = wire::HelpAcknowledgedBody { resident_id: resident, handler: handler.to_owned() };
    super::pull_log::push_tx(tx, Some(ResidentId(resident)), None, &body, now)
}

/// What the tablet says a dashboard user is: their role, and their name when staff
/// gave one.
fn user_label_tx(tx: &Transaction<'_>, user: UserId) -> Result<String, StoreError> {
    let found: Option<(String, Option<String>)> = tx
        .query_row("SELECT role, spoken_name FROM users WHERE id = ?1", [user.0], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (role, name) = found.unzip();
    super::notifications::spoken_handler(role.as_deref(), name.flatten().as_deref(), None)
}

impl Store {
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
        let raised = raise_alert_tx(&tx, resident, kind, day, campaign, None, now)?;
        tx.commit()?;
        Ok(raised)
    }

    /// Open (unresolved) alerts, oldest first: the whole town's, unpaged, so for tests
    /// and tools; the dashboard reads `alert_board`, a page at a time.
    pub fn open_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts a WHERE a.resolved_ms IS NULL ORDER BY a.raised_ms, a.id"
        ))?;
        let rows = stmt.query_map([], alert_row)?;
        rows.map(|r| r?.try_into()).collect()
    }

    /// The alert queue: open alerts grouped per resident (the resident with the
    /// oldest open alert first, then each resident's alerts oldest first), for a
    /// district or the whole town; one page.
    pub fn alert_board(
        &self,
        district: Option<&str>,
        page: super::Page,
    ) -> Result<super::Paged<QueuedAlert>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS}, r.display_name, r.district, r.phone, u.login, a.acknowledged_ms,
                 a.acknowledged_via IS NOT NULL, c.relation,
                 CASE WHEN a.kind IN ('health_concern', 'visit_request') THEN {answers} END
             FROM alerts a JOIN residents r ON r.id = a.resident_id
                  LEFT JOIN users u ON u.id = a.acknowledged_by
                  LEFT JOIN notifications c ON c.id = a.acknowledged_via
             WHERE a.resolved_ms IS NULL AND (?1 IS NULL OR r.district = ?1)
             ORDER BY (SELECT min(b.raised_ms) FROM alerts b
                       WHERE b.resident_id = a.resident_id AND b.resolved_ms IS NULL),
                 a.resident_id, a.raised_ms, a.id
             LIMIT ?2 OFFSET ?3",
            answers = super::board::answers_joined("resident_id = a.resident_id AND day = a.day")
        ))?;
        let (limit, offset) = page.limit_offset();
        let rows = stmt.query_map(params![district, limit, offset], |r| {
            Ok((
                alert_row(r)?,
                (r.get::<_, String>(8)?, r.get::<_, String>(9)?, r.get::<_, String>(10)?),
                (r.get::<_, Option<String>>(11)?, r.get::<_, Option<i64>>(12)?, r.get::<_, bool>(13)?),
                (r.get::<_, Option<String>>(14)?, r.get::<_, Option<String>>(15)?),
            ))
        })?;
        let rows = rows
            .map(|row| {
                let (alert, (name, district, phone), (login, acked, via_link), (relation, said)) = row?;
                let handler = match (login, via_link) {
                    (Some(login), _) => Some(login),
                    (None, true) => Some(super::notifications::handler_label(None, relation.as_deref())?),
                    (None, false) => None,
                };
                Ok(QueuedAlert {
                    alert: alert.try_into()?,
                    name,
                    district,
                    phone,
                    handler,
                    acknowledged_at: acked.map(from_ms).transpose()?,
                    said: said.as_deref().map(super::board::parse_answers).transpose()?.unwrap_or_default(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(super::Paged::of(rows))
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
            tell_tablet_tx(&tx, alert, &user_label_tx(&tx, user)?, now)?;
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
        let unacknowledged: bool = tx
            .query_row("SELECT acknowledged_ms IS NULL FROM alerts WHERE id = ?1", [alert], |r| r.get(0))
            .optional()?
            .unwrap_or(false);
        let n = tx.execute(
            "UPDATE alerts SET resolved_ms = ?2, note = ?3,
                 acknowledged_by = CASE WHEN acknowledged_ms IS NULL THEN ?4 ELSE acknowledged_by END,
                 acknowledged_ms = ifnull(acknowledged_ms, ?2)
             WHERE id = ?1 AND resolved_ms IS NULL",
            params![alert, ms(now), note, user.0],
        )?;
        if n == 1 {
            audit_alert_tx(&tx, alert, user, "alert_resolve", now)?;
            if unacknowledged {
                tell_tablet_tx(&tx, alert, &user_label_tx(&tx, user)?, now)?;
            }
        }
        tx.commit()?;
        Ok(n == 1)
    }
}
