//! Recording: local state and its outbox row in one transaction (`record_*`).

use super::*;

impl Store {
    // ---- Recording: local state and outbox in one transaction. ----

    /// Records a care event (check-in, help alert, snow watch) and queues it.
    pub fn record_care_event(
        &mut self,
        resident: ResidentId,
        event: &CareEvent,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let body = events::care_event(resident, event);
        let tx = self.write()?;
        let id = append(&tx, &body, device_now)?;
        let key = id.0.to_string();
        match event {
            CareEvent::Checkin(r) => {
                let day = r.ended_at.date();
                let pains: Vec<&str> = r.pains().into_iter().map(BodyPart::key).collect();
                tx.execute(
                    "INSERT INTO checkins (event_id, resident_id, day, started_at, ended_at, outcome, feeling, pains)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        key,
                        resident.0,
                        day.to_string(),
                        events::local(r.started_at),
                        events::local(r.ended_at),
                        r.outcome.key(),
                        events::feeling_key(r.feeling()),
                        pains.join(","),
                    ],
                )?;
                if r.outcome != Outcome::NoAnswer {
                    tx.execute(
                        "UPDATE reprompts SET done = 1 WHERE resident_id = ?1 AND day <= ?2",
                        params![resident.0, day.to_string()],
                    )?;
                }
            }
            other => {
                tx.execute(
                    "INSERT INTO care_log (event_id, resident_id, kind, at) VALUES (?1, ?2, ?3, ?4)",
                    params![key, resident.0, body.kind().name(), events::local(events::happened_at(other))],
                )?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// Records a finished exercise session and queues it, with the habit score and
    /// this week's active days it brings (they travel to the office).
    pub fn record_exercise_done(
        &mut self,
        resident: ResidentId,
        exercise_ids: &[String],
        minutes: u32,
        on: NaiveDate,
        progress: Progress,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        if exercise_ids.is_empty() || exercise_ids.len() > 100 {
            return Err(StoreError::Invalid("an exercise session names 1 to 100 exercises".to_owned()));
        }
        if exercise_ids.iter().any(|id| id.is_empty() || id.len() > 64) {
            return Err(StoreError::Invalid("exercise ids are 1 to 64 bytes".to_owned()));
        }
        if minutes > 24 * 60 {
            return Err(StoreError::Invalid(format!("{minutes} minutes is longer than a day")));
        }
        let body = wire::ExerciseDoneBody {
            resident_id: resident.0,
            day: Some(on),
            exercise_ids: exercise_ids.to_vec(),
            minutes,
            habit_score: Some(progress.habit_score.min(100)),
            active_days: Some(progress.active_days.min(7)),
        };
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::ExerciseDone(body), device_now)?;
        tx.execute(
            "INSERT INTO exercise_sessions (event_id, resident_id, day, exercise_ids, minutes)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id.0.to_string(),
                resident.0,
                on.to_string(),
                Value::from(exercise_ids).to_string(),
                minutes
            ],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Records a resident's answer to a safety campaign and queues it.
    pub fn record_safety_answer(
        &mut self,
        resident: ResidentId,
        campaign_id: u64,
        reply: wire::SafetyReply,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let campaign = i64::try_from(campaign_id)
            .map_err(|_| StoreError::Invalid(format!("campaign id {campaign_id} out of range")))?;
        let body = wire::SafetyAnswerBody { campaign_id, answer: reply, resident_id: Some(resident.0) };
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::SafetyAnswer(body), device_now)?;
        tx.execute(
            "INSERT INTO safety_answers (campaign_id, resident_id, reply, event_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (campaign_id, resident_id) DO UPDATE SET reply = excluded.reply,
                 event_id = excluded.event_id",
            params![campaign, resident.0, safety_reply_key(reply), id.0.to_string()],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Records that a card was read for `resident` and asks the office to link it
    /// (staff approve on the dashboard). `card_identity_hex` is the certificate's
    /// SHA-256 in hex, never the individual number.
    pub fn record_card_link_request(
        &mut self,
        resident: ResidentId,
        card_identity_hex: &str,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        let card = normalise_card(card_identity_hex)
            .ok_or_else(|| StoreError::Invalid("a card identity is 64 hex digits (SHA-256)".to_owned()))?;
        let body = wire::CardLinkBody { card_identity: card.clone(), resident_id: Some(resident.0) };
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::CardLinkRequested(body), device_now)?;
        tx.execute(
            "INSERT INTO card_link_requests (event_id, resident_id, card_identity) VALUES (?1, ?2, ?3)",
            params![id.0.to_string(), resident.0, card],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Queues a note that the tablet misheard an answer: names and confidence only,
    /// never what was said (the office's corrections page asks staff for the phrase).
    pub fn record_misunderstanding(
        &mut self,
        body: &wire::MisunderstandingBody,
        device_now: DateTime<Utc>,
    ) -> Result<wire::EventId, StoreError> {
        if !(0.0..=1.0).contains(&body.confidence) {
            return Err(StoreError::Invalid("a confidence is between 0 and 1".to_owned()));
        }
        let tx = self.write()?;
        let id = append(&tx, &wire::Event::Misunderstanding(body.clone()), device_now)?;
        tx.commit()?;
        Ok(id)
    }
}

/// Writes one outbox row with the next sequence number.
pub(super) fn append(
    tx: &Transaction<'_>,
    event: &wire::Event,
    device_now: DateTime<Utc>,
) -> Result<wire::EventId, StoreError> {
    let seq: i64 = tx.query_row(
        "UPDATE device SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
        [],
        |r| r.get(0),
    )?;
    let id = wire::EventId::new_random();
    let envelope = event
        .envelope(id, wire::DeviceSeq(seq as u64), device_now)
        .ok_or_else(|| StoreError::Invalid("an event of unknown kind cannot be made".to_owned()))?
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO outbox (seq, event_id, kind, device_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        seq,
        id.0.to_string(),
        envelope.kind.name(),
        device_now.timestamp_millis(),
        envelope.body.to_string()
    ])?;
    Ok(id)
}

pub(super) fn safety_reply_key(reply: wire::SafetyReply) -> &'static str {
    match reply {
        wire::SafetyReply::Safe => "safe",
        wire::SafetyReply::NeedsHelp => "needs_help",
    }
}

/// What a finished session makes of the resident's habit: the score (0–100) and the
/// days with exercise in the last seven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    pub habit_score: u8,
    pub active_days: u8,
}
