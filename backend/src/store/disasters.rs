//! Disaster mode and the roster of residents who need help to evacuate
//! (避難行動要支援者名簿). In normal times the roster lists only residents who
//! consented to be shared with rescuers; once an officer declares a disaster for some
//! districts (or the town), it lists everyone there, as 災害対策基本法 第49条の11
//! allows, and time-limited responder accounts may read it. Every view and print is
//! audited; ending the disaster ends the responders' accounts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::audit::{About, audit_tx};
use super::campaigns::start_campaign_tx;
use super::*;

/// A declared disaster still in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disaster {
    pub id: i64,
    pub reason: String,
    /// `None`: the whole town.
    pub districts: Option<Vec<String>>,
    pub declared: DateTime<Utc>,
    pub campaigns: Vec<CampaignId>,
}

impl Disaster {
    /// Whether `district` is under the declaration.
    pub fn covers(&self, district: &str) -> bool {
        self.districts.as_ref().is_none_or(|d| d.iter().any(|x| x == district))
    }
}

/// One line of the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub resident: ResidentId,
    pub name: String,
    pub district: String,
    pub address: String,
    pub phone: String,
    pub needs: Vec<SupportNeed>,
    pub lives_alone: bool,
    /// Today's state on the board.
    pub today: BoardState,
    /// Their answer to the disaster's safety campaign, if any (`safe`, `needs_help`).
    pub answer: Option<String>,
}

/// The roster as one viewer may see it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The declaration that widens it to everyone in its districts, if any.
    pub disaster: Option<Disaster>,
    pub rows: Vec<RosterRow>,
}

/// A responder account of the disaster in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responder {
    pub login: String,
    pub expires: DateTime<Utc>,
}

/// Why a declaration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclareRefused {
    /// One is already in force: end it, or widen it by ending and declaring again.
    AlreadyDeclared,
}

impl Store {
    /// The districts residents live in, for choosing where a disaster is declared.
    pub fn districts(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached("SELECT DISTINCT district FROM residents ORDER BY district")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Each district and how many residents live there: what a campaign can reach.
    pub fn district_sizes(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached("SELECT district, count(*) FROM residents GROUP BY district ORDER BY district")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The disaster in force, if any.
    pub fn active_disaster(&self) -> Result<Option<Disaster>, StoreError> {
        let conn = self.lock();
        let Some((id, reason, declared)) = conn
            .query_row(
                "SELECT id, reason, declared_ms FROM disasters WHERE ended_ms IS NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)),
            )
            .optional()?
        else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached(
            "SELECT district, campaign_id FROM disaster_districts WHERE disaster_id = ?1 ORDER BY district",
        )?;
        let parts = stmt
            .query_map([id], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let districts = if parts.iter().any(|(d, _)| d.is_none()) {
            None
        } else {
            Some(parts.iter().filter_map(|(d, _)| d.clone()).collect())
        };
        Ok(Some(Disaster {
            id,
            reason,
            districts,
            declared: from_ms(declared)?,
            campaigns: parts.iter().filter_map(|(_, c)| c.map(CampaignId)).collect(),
        }))
    }

    /// Declares a disaster for `districts` (`None`: the whole town) and starts a
    /// safety campaign in each with `message` until `deadline`; audited.
    pub fn declare_disaster(
        &self,
        reason: &str,
        districts: Option<&[String]>,
        message: &str,
        deadline: DateTime<Utc>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Result<i64, DeclareRefused>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let in_force: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM disasters WHERE ended_ms IS NULL)", [], |r| r.get(0))?;
        if in_force {
            return Ok(Err(DeclareRefused::AlreadyDeclared));
        }
        tx.execute(
            "INSERT INTO disasters (reason, declared_by, declared_ms) VALUES (?1, ?2, ?3)",
            params![reason, by.0, ms(now)],
        )?;
        let id = tx.last_insert_rowid();
        let areas: Vec<Option<&str>> = match districts {
            None => vec![None],
            Some(d) => d.iter().map(|d| Some(d.as_str())).collect(),
        };
        for district in areas {
            let campaign = start_campaign_tx(&tx, district, message, deadline, Actor::User(by), now)?;
            tx.execute(
                "INSERT INTO disaster_districts (disaster_id, district, campaign_id) VALUES (?1, ?2, ?3)",
                params![id, district, campaign.0],
            )?;
        }
        audit_tx(&tx, Some(by), "disaster_declare", About::Town, now)?;
        tx.commit()?;
        Ok(Ok(id))
    }

    /// Ends the disaster in force: its responder accounts expire now and their
    /// sessions end; audited. The campaigns stay for staff to close. False when none
    /// was in force.
    pub fn end_disaster(&self, by: UserId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let Some(id) = tx
            .query_row("SELECT id FROM disasters WHERE ended_ms IS NULL", [], |r| r.get::<_, i64>(0))
            .optional()?
        else {
            return Ok(false);
        };
        tx.execute(
            "UPDATE disasters SET ended_by = ?2, ended_ms = ?3 WHERE id = ?1",
            params![id, by.0, ms(now)],
        )?;
        tx.execute(
            "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE disaster_id = ?1)",
            [id],
        )?;
        tx.execute(
            "UPDATE users SET expires_ms = ?2 WHERE disaster_id = ?1 AND expires_ms > ?2",
            params![id, ms(now)],
        )?;
        audit_tx(&tx, Some(by), "disaster_end", About::Town, now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Adds a responder account to the disaster in force, expiring at `expires` (or
    /// when the disaster ends); audited. `None` when no disaster is in force.
    pub fn add_responder(
        &self,
        login: &str,
        password_hash: &str,
        expires: DateTime<Utc>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let Some(disaster) = tx
            .query_row("SELECT id FROM disasters WHERE ended_ms IS NULL", [], |r| r.get::<_, i64>(0))
            .optional()?
        else {
            return Ok(None);
        };
        tx.execute(
            "INSERT INTO users (login, password_hash, role, created_ms, expires_ms, disaster_id)
             VALUES (?1, ?2, 'responder', ?3, ?4, ?5)",
            params![login, password_hash, ms(now), ms(expires), disaster],
        )?;
        let id = UserId(tx.last_insert_rowid());
        audit_tx(&tx, Some(by), "add_responder", About::Account(id), now)?;
        tx.commit()?;
        Ok(Some(id))
    }

    /// The responder accounts of the disaster in force that have not expired.
    pub fn responders(&self, now: DateTime<Utc>) -> Result<Vec<Responder>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT u.login, u.expires_ms FROM users u JOIN disasters d ON d.id = u.disaster_id
             WHERE d.ended_ms IS NULL AND u.expires_ms > ?1 ORDER BY u.login",
        )?;
        let rows = stmt.query_map([ms(now)], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        rows.map(|r| {
            let (login, expires) = r?;
            Ok(Responder { login, expires: from_ms(expires)? })
        })
        .collect()
    }

    /// The roster `viewer` may see now, limited to `district` when given (a 民生委員's
    /// own): everyone in the declared districts during a disaster, otherwise those who
    /// consented. The view (or print) is audited.
    pub fn roster(
        &self,
        viewer: UserId,
        district: Option<&str>,
        printed: bool,
        now: DateTime<Utc>,
    ) -> Result<Roster, StoreError> {
        let disaster = self.active_disaster()?;
        let today: HashMap<ResidentId, BoardState> =
            self.board_rows(district, now, 1_000_000)?.into_iter().map(|r| (r.resident, r.state)).collect();
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut answers: HashMap<i64, String> = HashMap::new();
        for campaign in disaster.iter().flat_map(|d| &d.campaigns) {
            let mut stmt =
                tx.prepare_cached("SELECT resident_id, reply FROM campaign_answers WHERE campaign_id = ?1")?;
            for row in stmt.query_map([campaign.0], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
                let (resident, reply) = row?;
                answers.insert(resident, reply);
            }
        }
        let rows = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, display_name, district, address, phone, support_needs, lives_alone, roster_consent
                 FROM residents WHERE (?1 IS NULL OR district = ?1) ORDER BY district, display_name, id",
            )?;
            let raw = stmt
                .query_map([district], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, bool>(6)?,
                        r.get::<_, bool>(7)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            raw.into_iter()
                .filter(|row| match &disaster {
                    // In a declared disaster, everyone there; otherwise, consent only.
                    Some(d) => d.covers(&row.2),
                    None => row.7,
                })
                .map(|(id, name, district, address, phone, needs, lives_alone, _)| RosterRow {
                    resident: ResidentId(id),
                    today: today.get(&ResidentId(id)).copied().unwrap_or(BoardState::Pending),
                    answer: answers.get(&id).cloned(),
                    name,
                    district,
                    address,
                    phone,
                    needs: needs.split(',').filter_map(SupportNeed::from_key).collect(),
                    lives_alone,
                })
                .collect()
        };
        audit_tx(&tx, Some(viewer), if printed { "roster_print" } else { "roster_view" }, About::Town, now)?;
        tx.commit()?;
        Ok(Roster { disaster, rows })
    }
}
