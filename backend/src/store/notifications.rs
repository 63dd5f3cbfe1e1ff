//! The notification queue: who is told of an alert by e-mail, rung by rung, and
//! whether the mail server has taken each message. A row is written before anything
//! is sent and marked sent only after the server said 250, so a restart loses
//! nothing; an address hears of one alert once (`UNIQUE (alert_id, address)`).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};
use subtle::ConstantTimeEq as _;

use super::audit::{About, audit_tx};
use super::*;

/// The last rung: the family contacts who consented to be told.
pub const TOP_RUNG: u8 = 3;

/// An open alert nobody has acknowledged, and where it stands on the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LadderAlert {
    pub id: i64,
    pub kind: AlertKind,
    /// 0 before anyone was told.
    pub rung: u8,
    /// When the current rung was told.
    pub rung_at: Option<DateTime<Utc>>,
}

/// A message due to be sent, with what its text needs (no health detail beyond the
/// alert's kind: the danger a resident named stays on the dashboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: i64,
    pub rung: u8,
    pub address: String,
    /// How the recipient is addressed: a role's label, or the family relation.
    pub as_whom: String,
    pub kind: AlertKind,
    pub raised: DateTime<Utc>,
    pub resident_name: String,
    pub district: String,
    pub phone: String,
    pub attempts: u32,
}

/// What an acknowledgement link shows before it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckView {
    pub kind: AlertKind,
    pub resident_name: String,
    pub district: String,
    pub raised: DateTime<Utc>,
    /// Who took it on already (a role's label or a relation), if anyone did.
    pub taken_by: Option<String>,
    pub resolved: bool,
}

/// What telling one rung did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Climbed {
    /// People on the rung (told now or before).
    pub recipients: usize,
    /// Messages newly queued.
    pub queued: usize,
}

/// Still someone to tell: a disabled account is never sent to, nor a family address
/// whose consent was withdrawn, even for messages queued before.
const STILL_WANTED: &str = "(CASE WHEN n.user_id IS NOT NULL
        THEN (SELECT uu.disabled_ms IS NULL FROM users uu WHERE uu.id = n.user_id)
        ELSE EXISTS (SELECT 1 FROM emergency_contacts c WHERE c.resident_id = a.resident_id
                     AND c.email = n.address AND c.notify_consent = 1) END)";

/// The queue's state for the dashboard: messages not yet taken by the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Backlog {
    pub waiting: u64,
    /// The server's last refusal or the connection's failure, if any is waiting.
    pub last_error: Option<String>,
}

/// What a resident's tablet says took on their call: the account's role and, when
/// staff gave one, the name residents know them by (「福祉担当職員の佐藤さん」); or the
/// contact's relation.
pub(super) fn spoken_handler(
    role: Option<&str>,
    name: Option<&str>,
    relation: Option<&str>,
) -> Result<String, StoreError> {
    let label = handler_label(role, relation)?;
    Ok(match name.filter(|n| !n.is_empty() && role.is_some()) {
        Some(name) => format!("{label}の{name}さん"),
        None => label,
    })
}

/// The label a handler is shown by: the account's role, or the contact's relation.
pub(super) fn handler_label(role: Option<&str>, relation: Option<&str>) -> Result<String, StoreError> {
    match (role, relation) {
        (Some(role), _) => Ok(parse_role(role)?.label().to_owned()),
        (None, Some(relation)) if !relation.is_empty() => Ok(format!("ご家族（{relation}）")),
        (None, _) => Ok("ご家族".to_owned()),
    }
}

impl Store {
    /// The token in a message's acknowledgement link: keyed with the office's secret,
    /// so it is not stored and cannot be made without the key file.
    pub fn ack_token(&self, notification: i64) -> String {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.code_key[..]).expect("any key length");
        mac.update(format!("ack\0{notification}").as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    fn ack_token_ok(&self, notification: i64, token: &str) -> bool {
        bool::from(self.ack_token(notification).as_bytes().ct_eq(token.as_bytes()))
    }

    /// Open alerts that nobody acknowledged and that have rungs left.
    pub fn ladder_alerts(&self) -> Result<Vec<LadderAlert>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, kind, rung, rung_ms FROM alerts
             WHERE resolved_ms IS NULL AND acknowledged_ms IS NULL AND rung < ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([TOP_RUNG], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, u8>(2)?, r.get::<_, Option<i64>>(3)?))
        })?;
        rows.map(|row| {
            let (id, kind, rung, at) = row?;
            Ok(LadderAlert {
                id,
                kind: kind.parse().map_err(|_| StoreError::Corrupt { column: "alerts.kind" })?,
                rung,
                rung_at: at.map(from_ms).transpose()?,
            })
        })
        .collect()
    }

    /// Tells rung `rung` of `alert`: queues a message to each of its recipients not
    /// told already, records the rung and audits it, in one transaction. Nothing
    /// happens if the alert was acknowledged, closed or already past that rung.
    pub fn climb(&self, alert: i64, rung: u8, now: DateTime<Utc>) -> Result<Climbed, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let Some(resident) = tx
            .query_row(
                "SELECT resident_id FROM alerts WHERE id = ?1 AND rung < ?2
                 AND acknowledged_ms IS NULL AND resolved_ms IS NULL",
                params![alert, rung],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
        else {
            return Ok(Climbed::default());
        };
        // Rung 1: the district's 民生委員 and the staff on duty for it; rung 2: the
        // officers in charge of it; rung 3: family who consented. Disabled accounts
        // and contacts without an address are never told.
        let who = match rung {
            1 => {
                "SELECT u.email, u.id, NULL FROM users u, residents r
                 WHERE r.id = ?1 AND u.disabled_ms IS NULL AND ifnull(u.email, '') <> ''
                   AND ((u.role = 'minsei' AND u.district = r.district)
                     OR (u.role IN ('admin', 'officer', 'staff') AND u.on_duty = 1
                         AND (u.district IS NULL OR u.district = r.district)))"
            }
            2 => {
                "SELECT u.email, u.id, NULL FROM users u, residents r
                 WHERE r.id = ?1 AND u.disabled_ms IS NULL AND ifnull(u.email, '') <> ''
                   AND u.role = 'officer' AND (u.district IS NULL OR u.district = r.district)"
            }
            _ => {
                "SELECT c.email, NULL, c.relation FROM emergency_contacts c
                 WHERE c.resident_id = ?1 AND c.notify_consent = 1 AND c.email <> ''"
            }
        };
        let recipients: i64 =
            tx.query_row(&format!("SELECT count(*) FROM ({who})"), [resident], |r| r.get(0))?;
        let queued = tx.execute(
            &format!(
                "INSERT INTO notifications (alert_id, rung, address, user_id, relation, queued_ms, next_try_ms)
                 SELECT ?2, ?3, t.* , ?4, ?4 FROM ({who}) t WHERE true
                 ON CONFLICT DO NOTHING"
            ),
            params![resident, alert, rung, ms(now)],
        )?;
        tx.execute("UPDATE alerts SET rung = ?2, rung_ms = ?3 WHERE id = ?1", params![alert, rung, ms(now)])?;
        audit_tx(&tx, None, &format!("notify_rung_{rung}"), About::Resident(ResidentId(resident)), now)?;
        tx.commit()?;
        Ok(Climbed { recipients: recipients as usize, queued })
    }

    /// Whether message `id` is still to be sent: unsent, its alert open and nobody's,
    /// its recipient still wanted.
    pub fn notification_pending(&self, id: i64) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .query_row(
                &format!(
                    "SELECT {STILL_WANTED} FROM notifications n JOIN alerts a ON a.id = n.alert_id
                     WHERE n.id = ?1 AND n.sent_ms IS NULL AND a.acknowledged_ms IS NULL AND a.resolved_ms IS NULL"
                ),
                [id],
                |r| r.get::<_, bool>(0),
            )
            .optional()?
            .unwrap_or(false))
    }

    /// Messages due at `now`, oldest first, whose alert still waits for someone.
    /// A message for an alert that was taken on meanwhile is never sent.
    pub fn due_notifications(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Outgoing>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT n.id, n.rung, n.address, u.role, n.relation, a.kind, a.raised_ms,
                    r.display_name, r.district, r.phone, n.attempts
             FROM notifications n JOIN alerts a ON a.id = n.alert_id
                  JOIN residents r ON r.id = a.resident_id LEFT JOIN users u ON u.id = n.user_id
             WHERE n.sent_ms IS NULL AND n.next_try_ms <= ?1
               AND a.acknowledged_ms IS NULL AND a.resolved_ms IS NULL AND {STILL_WANTED}
             ORDER BY n.next_try_ms, n.id LIMIT ?2"
        ))?;
        type Row =
            (i64, u8, String, Option<String>, Option<String>, String, i64, String, String, String, u32);
        let rows = stmt.query_map(params![ms(now), limit], |r| {
            Ok::<Row, _>((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })?;
        rows.map(|row| {
            let (id, rung, address, role, relation, kind, raised, resident_name, district, phone, attempts) =
                row?;
            Ok(Outgoing {
                id,
                rung,
                address,
                as_whom: handler_label(role.as_deref(), relation.as_deref())?,
                kind: kind.parse().map_err(|_| StoreError::Corrupt { column: "alerts.kind" })?,
                raised: from_ms(raised)?,
                resident_name,
                district,
                phone,
                attempts,
            })
        })
        .collect()
    }

    /// Records that the mail server took message `id`, and audits it.
    pub fn notification_sent(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let resident: Option<i64> = tx
            .query_row(
                "UPDATE notifications SET sent_ms = ?2, attempts = attempts + 1, last_error = NULL
                 WHERE id = ?1 AND sent_ms IS NULL
                 RETURNING (SELECT resident_id FROM alerts WHERE alerts.id = notifications.alert_id)",
                params![id, ms(now)],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(resident) = resident {
            audit_tx(&tx, None, "notify_sent", About::Resident(ResidentId(resident)), now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records a failed try of message `id` and when to try again.
    pub fn notification_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(300).collect();
        self.lock().execute(
            "UPDATE notifications SET attempts = attempts + 1, last_error = ?2, next_try_ms = ?3
             WHERE id = ?1 AND sent_ms IS NULL",
            params![id, error, ms(retry_at)],
        )?;
        Ok(())
    }

    /// Messages waiting for the server about alerts still open in `district` (or the
    /// town), and the class of the last failure (never the server's words).
    pub fn notify_backlog(&self, district: Option<&str>) -> Result<Backlog, StoreError> {
        let waiting =
            "FROM notifications n JOIN alerts a ON a.id = n.alert_id JOIN residents r ON r.id = a.resident_id
             WHERE n.sent_ms IS NULL AND a.acknowledged_ms IS NULL AND a.resolved_ms IS NULL
               AND (?1 IS NULL OR r.district = ?1)";
        Ok(self.lock().query_row(
            &format!(
                "SELECT count(*), (SELECT n.last_error {waiting} AND n.last_error IS NOT NULL
                                   ORDER BY n.next_try_ms DESC LIMIT 1) {waiting}"
            ),
            [district],
            |r| Ok(Backlog { waiting: r.get::<_, i64>(0)? as u64, last_error: r.get(1)? }),
        )?)
    }

    /// What the acknowledgement link of message `id` shows, if `token` is its token.
    pub fn ack_view(&self, id: i64, token: &str) -> Result<Option<AckView>, StoreError> {
        if !self.ack_token_ok(id, token) {
            return Ok(None);
        }
        let row = self
            .lock()
            .query_row(
                "SELECT a.kind, r.display_name, r.district, a.raised_ms, a.acknowledged_ms IS NOT NULL,
                        u.role, c.relation, a.resolved_ms IS NOT NULL
                 FROM notifications n JOIN alerts a ON a.id = n.alert_id JOIN residents r ON r.id = a.resident_id
                      LEFT JOIN users u ON u.id = a.acknowledged_by
                      LEFT JOIN notifications c ON c.id = a.acknowledged_via
                 WHERE n.id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, bool>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, bool>(7)?,
                    ))
                },
            )
            .optional()?;
        let Some((kind, resident_name, district, raised, taken, role, relation, resolved)) = row else {
            return Ok(None);
        };
        Ok(Some(AckView {
            kind: kind.parse().map_err(|_| StoreError::Corrupt { column: "alerts.kind" })?,
            resident_name,
            district,
            raised: from_ms(raised)?,
            taken_by: if taken { Some(handler_label(role.as_deref(), relation.as_deref())?) } else { None },
            resolved,
        }))
    }

    /// Acknowledges the alert of message `id` on behalf of its recipient (`token`
    /// must be the message's): the ladder stops, the tablet is told who took the
    /// call on, and it is audited. Returns whether this acknowledged it (false when
    /// someone else was first, or the token is wrong).
    pub fn acknowledge_by_link(&self, id: i64, token: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        if !self.ack_token_ok(id, token) {
            return Ok(false);
        }
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let Some((alert, user, role, relation, name)) = tx
            .query_row(
                "SELECT n.alert_id, n.user_id, u.role, n.relation, u.spoken_name FROM notifications n
                 LEFT JOIN users u ON u.id = n.user_id WHERE n.id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                },
            )
            .optional()?
        else {
            return Ok(false);
        };
        // A disabled account's or a withdrawn consent's old link takes nothing on.
        let wanted: bool = tx.query_row(
            &format!("SELECT {STILL_WANTED} FROM notifications n JOIN alerts a ON a.id = n.alert_id WHERE n.id = ?1"),
            [id],
            |r| r.get(0),
        )?;
        if !wanted {
            return Ok(false);
        }
        let n = tx.execute(
            "UPDATE alerts SET acknowledged_by = ?2, acknowledged_ms = ?3, acknowledged_via = ?4
             WHERE id = ?1 AND acknowledged_ms IS NULL AND resolved_ms IS NULL",
            params![alert, user, ms(now), id],
        )?;
        if n == 1 {
            let resident: i64 =
                tx.query_row("SELECT resident_id FROM alerts WHERE id = ?1", [alert], |r| r.get(0))?;
            audit_tx(
                &tx,
                user.map(UserId),
                "alert_acknowledge_by_mail",
                About::Resident(ResidentId(resident)),
                now,
            )?;
            let handler = spoken_handler(role.as_deref(), name.as_deref(), relation.as_deref())?;
            super::alerts::tell_tablet_tx(&tx, alert, &handler, now)?;
        }
        tx.commit()?;
        Ok(n == 1)
    }
}
