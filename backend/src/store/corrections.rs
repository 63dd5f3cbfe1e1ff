//! Misunderstood answers reported by tablets and the corrections staff make, exported
//! for the dialect model's learning loop.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, Transaction, params};

use super::audit::{About, audit_tx};
use super::{ResidentId, Store, StoreError, UserId, from_ms, ms};

/// What a tablet reported (validated names, never the words said).
#[derive(Debug, Clone, PartialEq)]
pub struct MisunderstandingNote {
    pub question: String,
    pub understood: String,
    pub confidence: f32,
    pub chosen: Option<String>,
}

/// A staff correction: the phrase the resident used and its right meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub text: String,
    pub intent: String,
    pub body_part: Option<String>,
}

/// One misunderstanding as the corrections page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Misunderstanding {
    pub id: i64,
    pub resident: ResidentId,
    pub district: String,
    pub note: MisunderstandingNote,
    pub at: DateTime<Utc>,
    pub correction: Option<Correction>,
}

/// One row of the export `dialect-model learn` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionExport {
    pub correction: Correction,
    pub question: String,
    pub corrected_by: UserId,
    pub corrected_at: DateTime<Utc>,
}

pub(super) fn record_misunderstanding_tx(
    tx: &Transaction<'_>,
    event: i64,
    resident: ResidentId,
    note: &MisunderstandingNote,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO misunderstandings (event_id, resident_id, question, understood, confidence, chosen, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        event,
        resident.0,
        note.question,
        note.understood,
        f64::from(note.confidence),
        note.chosen,
        ms(now)
    ])?;
    Ok(())
}

impl Store {
    /// The newest misunderstandings (of one district, or the town), at most `limit`.
    pub fn misunderstandings(
        &self,
        district: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Misunderstanding>, StoreError> {
        let conn = self.lock();
        let filter = if district.is_some() { "WHERE r.district = ?1" } else { "WHERE ?1 IS NULL" };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT m.id, m.resident_id, r.district, m.question, m.understood, m.confidence, m.chosen, m.at_ms,
                    c.text, c.intent, c.body_part
             FROM misunderstandings m JOIN residents r ON r.id = m.resident_id
             LEFT JOIN corrections c ON c.misunderstanding_id = m.id
             {filter} ORDER BY m.at_ms DESC, m.id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![district, limit as i64], |r| {
            let text: Option<String> = r.get(8)?;
            Ok((
                Misunderstanding {
                    id: r.get(0)?,
                    resident: ResidentId(r.get(1)?),
                    district: r.get(2)?,
                    note: MisunderstandingNote {
                        question: r.get(3)?,
                        understood: r.get(4)?,
                        confidence: r.get::<_, f64>(5)? as f32,
                        chosen: r.get(6)?,
                    },
                    at: DateTime::<Utc>::MIN_UTC,
                    correction: match text {
                        Some(text) => Some(Correction { text, intent: r.get(9)?, body_part: r.get(10)? }),
                        None => None,
                    },
                },
                r.get::<_, i64>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut m, at) = row?;
            m.at = from_ms(at)?;
            out.push(m);
        }
        Ok(out)
    }

    /// The resident and district of a misunderstanding, if it exists.
    pub fn misunderstanding_district(&self, id: i64) -> Result<Option<(ResidentId, String)>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT m.resident_id, r.district FROM misunderstandings m
                 JOIN residents r ON r.id = m.resident_id WHERE m.id = ?1",
                [id],
                |r| Ok((ResidentId(r.get(0)?), r.get(1)?)),
            )
            .optional()?)
    }

    /// Saves (or replaces) the correction of a misunderstanding and audits it, in one
    /// transaction. False when there is no such misunderstanding.
    pub fn save_correction(
        &self,
        id: i64,
        correction: &Correction,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let resident: Option<i64> = tx
            .query_row("SELECT resident_id FROM misunderstandings WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        let Some(resident) = resident else { return Ok(false) };
        tx.execute(
            "INSERT INTO corrections (misunderstanding_id, text, intent, body_part, corrected_by, corrected_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (misunderstanding_id) DO UPDATE SET text = excluded.text, intent = excluded.intent,
                 body_part = excluded.body_part, corrected_by = excluded.corrected_by,
                 corrected_ms = excluded.corrected_ms",
            params![id, correction.text, correction.intent, correction.body_part, user.0, ms(now)],
        )?;
        audit_tx(&tx, Some(user), "dialect_correction", About::Resident(ResidentId(resident)), now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Every correction, oldest first, for the learning loop.
    pub fn corrections_export(&self) -> Result<Vec<CorrectionExport>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT c.text, c.intent, c.body_part, m.question, c.corrected_by, c.corrected_ms
             FROM corrections c JOIN misunderstandings m ON m.id = c.misunderstanding_id
             ORDER BY c.corrected_ms, c.misunderstanding_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                Correction { text: r.get(0)?, intent: r.get(1)?, body_part: r.get(2)? },
                r.get::<_, String>(3)?,
                UserId(r.get(4)?),
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (correction, question, corrected_by, at) = row?;
            out.push(CorrectionExport { correction, question, corrected_by, corrected_at: from_ms(at)? });
        }
        Ok(out)
    }
}
