//! Card links a tablet asked for, approved by staff and sent down in the roster.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::audit::{About, audit_tx};
use super::*;

/// What approving a card link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardLinkOutcome {
    Linked,
    /// No such pending request.
    NotPending,
    /// The card is already linked to another resident: nothing changed.
    CardTaken,
}

impl Store {
    /// Card links waiting for approval: (request id, resident, district), oldest
    /// first, one page.
    pub fn pending_card_links(
        &self,
        page: super::Page,
    ) -> Result<super::Paged<(i64, ResidentId, String)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT c.id, c.resident_id, r.district FROM card_link_requests c
             JOIN residents r ON r.id = c.resident_id WHERE c.decided_ms IS NULL ORDER BY c.id
             LIMIT ?1 OFFSET ?2",
        )?;
        let (limit, offset) = page.limit_offset();
        let rows = stmt.query_map([limit, offset], |r| Ok((r.get(0)?, ResidentId(r.get(1)?), r.get(2)?)))?;
        Ok(super::Paged::of(rows.collect::<Result<_, _>>()?))
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
        let found: Option<(i64, String)> = tx
            .query_row(
                "SELECT c.resident_id, c.card_identity FROM card_link_requests c
                 JOIN residents r ON r.id = c.resident_id WHERE c.id = ?1 AND c.decided_ms IS NULL",
                [request],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((resident, card)) = found else { return Ok(CardLinkOutcome::NotPending) };
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
        audit_tx(&tx, Some(user), "card_link_approve", About::Resident(ResidentId(resident)), now)?;
        super::residents::push_roster_tx(&tx, ResidentId(resident), now)?;
        tx.commit()?;
        Ok(CardLinkOutcome::Linked)
    }
}
