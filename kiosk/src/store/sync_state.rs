//! For the sync worker: credentials, the pull cursor and applying a pull.

use super::*;

impl Store {
    // ---- For the sync worker. ----

    /// The tablet's credentials, once enrolled.
    pub fn device_credentials(&self) -> Result<Option<Credentials>, StoreError> {
        let row: (Option<i64>, Option<String>) =
            self.conn.query_row("SELECT device_id, token FROM device WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(match row {
            (Some(id), Some(token)) => Some(Credentials { device_id: id as u64, token }),
            _ => None,
        })
    }

    /// Saves the credentials enrolment gave (replacing any earlier ones).
    /// The random key this tablet sends with its enrolment, made once and kept, so a
    /// retry after a lost answer (or a restart) is recognised by the office.
    pub fn enrol_key(&mut self) -> Result<String, StoreError> {
        let tx = self.write()?;
        let existing: Option<String> =
            tx.query_row("SELECT enrol_key FROM device WHERE id = 1", [], |r| r.get(0))?;
        let key = match existing {
            Some(k) => k,
            None => {
                let k = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                tx.execute("UPDATE device SET enrol_key = ?1 WHERE id = 1", [&k])?;
                k
            }
        };
        tx.commit()?;
        Ok(key)
    }

    pub fn save_credentials(&mut self, c: &Credentials) -> Result<(), StoreError> {
        let id = i64::try_from(c.device_id)
            .map_err(|_| StoreError::Invalid("device id out of range".to_owned()))?;
        let tx = self.write()?;
        tx.execute("UPDATE device SET device_id = ?1, token = ?2 WHERE id = 1", params![id, c.token])?;
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` events of the outbox, in sequence order.
    pub fn outbox_batch(&self, limit: usize) -> Result<Vec<wire::EventEnvelope>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, event_id, kind, device_ms, body FROM outbox ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, id, kind, device_ms, body) = row?;
            let bad = |what: &str| StoreError::Corrupt { detail: format!("outbox row {seq}: {what}") };
            out.push(wire::EventEnvelope {
                id: wire::EventId(id.parse().map_err(|_| bad("event id"))?),
                seq: wire::DeviceSeq(seq as u64),
                kind: wire::EventKind::from_name(&kind),
                device_time: downstream::from_ms(device_ms)?,
                body: serde_json::from_str(&body).map_err(|_| bad("body"))?,
            });
        }
        Ok(out)
    }

    /// Applies the office's acknowledgements of `sent` in one transaction: stored and
    /// duplicate events leave the outbox, rejected ones move to the dead-letter table
    /// with the office's reason. Acks for events not in `sent` are ignored, and an
    /// event of `sent` with no ack stays queued.
    pub fn apply_acks(
        &mut self,
        sent: &[wire::EventId],
        ack: &wire::UploadAck,
        now: DateTime<Utc>,
    ) -> Result<AckSummary, StoreError> {
        let sent: std::collections::HashSet<&wire::EventId> = sent.iter().collect();
        let tx = self.write()?;
        let mut summary = AckSummary::default();
        for (id, verdict) in &ack.acks {
            if !sent.contains(id) {
                continue;
            }
            let key = id.0.to_string();
            match verdict {
                wire::EventAck::Stored | wire::EventAck::Duplicate => {
                    summary.delivered += tx.execute("DELETE FROM outbox WHERE event_id = ?1", [&key])? as u64;
                }
                wire::EventAck::Rejected => {
                    let reason = ack
                        .reasons
                        .iter()
                        .find(|(r, _)| r == id)
                        .map_or("rejected (no reason given)", |(_, why)| why.as_str());
                    summary.dead += dead_letter(&tx, &key, reason, now)?;
                }
            }
        }
        tx.commit()?;
        Ok(summary)
    }

    /// Moves one queued event to the dead-letter table (the office refused its whole
    /// request, not just an ack). Returns whether it was queued.
    pub fn reject_event(
        &mut self,
        id: wire::EventId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let tx = self.write()?;
        let moved = dead_letter(&tx, &id.0.to_string(), reason, now)?;
        tx.commit()?;
        Ok(moved == 1)
    }

    /// Where the next pull starts.
    pub fn pull_cursor(&self) -> Result<u64, StoreError> {
        let c: i64 = self.conn.query_row("SELECT pull_cursor FROM device WHERE id = 1", [], |r| r.get(0))?;
        Ok(c as u64)
    }

    /// Applies a pull's items and moves the cursor, in one transaction. Items at or
    /// before the current cursor are ignored; the cursor never moves back.
    pub fn apply_pull(&mut self, pull: &wire::PullResponse) -> Result<PullSummary, StoreError> {
        let tx = self.write()?;
        let current: i64 = tx.query_row("SELECT pull_cursor FROM device WHERE id = 1", [], |r| r.get(0))?;
        let current = current as u64;
        let mut summary = PullSummary::default();
        let mut cursor = current;
        for item in pull.items.iter().filter(|i| i.cursor > current) {
            match downstream::apply(&tx, item)? {
                downstream::Applied::Applied => summary.applied += 1,
                downstream::Applied::Skipped => summary.skipped += 1,
            }
            cursor = cursor.max(item.cursor);
        }
        cursor = cursor.max(pull.cursor);
        let cursor =
            i64::try_from(cursor).map_err(|_| StoreError::Invalid("pull cursor out of range".into()))?;
        tx.execute("UPDATE device SET pull_cursor = ?1 WHERE id = 1", [cursor])?;
        tx.commit()?;
        Ok(summary)
    }
}

fn dead_letter(
    tx: &Transaction<'_>,
    event_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let reason: String = reason.chars().take(500).collect();
    let moved = tx.execute(
        "INSERT INTO dead_letter (seq, event_id, kind, device_ms, body, reason, dead_ms)
         SELECT seq, event_id, kind, device_ms, body, ?2, ?3 FROM outbox WHERE event_id = ?1",
        params![event_id, reason, now.timestamp_millis()],
    )?;
    tx.execute("DELETE FROM outbox WHERE event_id = ?1", [event_id])?;
    Ok(moved as u64)
}
