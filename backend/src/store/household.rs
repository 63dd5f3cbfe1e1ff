//! Households: a resident who shares another resident's tablet (a couple, a parent
//! living with a grown child). The tablet is bound to one resident; the others of
//! the household point at that one, so a replacement tablet serves them all.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::audit::{About, audit_tx};
use super::pull_log::push_tx;
use super::*;

/// What asking a resident to share another's tablet did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdOutcome {
    /// Done: the tablet gets their name and settings at its next pull.
    Joined,
    /// Done before: nothing changed.
    AlreadyThere,
    /// One of the two is not on the roster.
    NoSuchResident,
    /// The other resident has no tablet in use.
    NoTablet,
    /// The resident has a tablet of their own in use, or others share theirs: staff
    /// revoke it (or move the others) first.
    HasOwnTablet,
    /// The two are the same person.
    Same,
}

/// Whether `member` shares the tablet bound to `own`.
pub(super) fn shares_tablet_tx(
    tx: &Transaction<'_>,
    member: ResidentId,
    own: ResidentId,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM residents WHERE id = ?1 AND household_of = ?2)")?
        .query_row(params![member.0, own.0], |r| r.get(0))?)
}

impl Store {
    /// `resident` shares the tablet of `with` (or of the resident whose tablet `with`
    /// already shares): the tablet's next pull brings their name and settings, and
    /// their check-ins are recorded as theirs. Audited.
    pub fn join_household(
        &self,
        resident: ResidentId,
        with: ResidentId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<HouseholdOutcome, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let of = |id: ResidentId| -> Result<Option<Option<i64>>, StoreError> {
            Ok(tx
                .query_row("SELECT household_of FROM residents WHERE id = ?1", [id.0], |r| r.get(0))
                .optional()?)
        };
        let (Some(mine), Some(theirs)) = (of(resident)?, of(with)?) else {
            return Ok(HouseholdOutcome::NoSuchResident);
        };
        // The tablet is bound to the household's first resident.
        let own = ResidentId(theirs.unwrap_or(with.0));
        if own == resident {
            return Ok(HouseholdOutcome::Same);
        }
        if mine == Some(own.0) {
            return Ok(HouseholdOutcome::AlreadyThere);
        }
        let active = |id: ResidentId| -> Result<bool, StoreError> {
            Ok(tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM devices WHERE resident_id = ?1 AND revoked_ms IS NULL)",
                [id.0],
                |r| r.get(0),
            )?)
        };
        if !active(own)? {
            return Ok(HouseholdOutcome::NoTablet);
        }
        let others: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM residents WHERE household_of = ?1)",
            [resident.0],
            |r| r.get(0),
        )?;
        if active(resident)? || others {
            return Ok(HouseholdOutcome::HasOwnTablet);
        }
        tx.execute("UPDATE residents SET household_of = ?2 WHERE id = ?1", params![resident.0, own.0])?;
        // Pushed again, after the tablet's cursor: it has never seen this resident.
        super::residents::push_roster_tx(&tx, resident, now)?;
        super::residents::push_settings_tx(&tx, resident, now)?;
        audit_tx(&tx, Some(user), "household_join", About::Resident(resident), now)?;
        tx.commit()?;
        Ok(HouseholdOutcome::Joined)
    }

    /// `resident` no longer shares a tablet (moved out, into care): the tablet is told
    /// to forget them, and their events from it are refused from now on. Audited.
    /// False when they shared none.
    pub fn leave_household(
        &self,
        resident: ResidentId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let found: Option<(Option<i64>, String)> = tx
            .query_row("SELECT household_of, display_name FROM residents WHERE id = ?1", [resident.0], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((Some(own), name)) = found else { return Ok(false) };
        tx.execute("UPDATE residents SET household_of = NULL WHERE id = ?1", [resident.0])?;
        // Sent as the tablet's own resident's: the pull no longer reads theirs.
        let gone = wire::RosterEntryBody {
            resident_id: resident.0,
            display_name: name,
            card_identity: None,
            left: true,
        };
        push_tx(&tx, Some(ResidentId(own)), None, &gone, now)?;
        audit_tx(&tx, Some(user), "household_leave", About::Resident(resident), now)?;
        tx.commit()?;
        Ok(true)
    }
}
