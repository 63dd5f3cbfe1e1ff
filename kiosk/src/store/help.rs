//! Calls for help as the help screen follows them: whether the newest reached the
//! office, and who there took it on; and a snow watch that was running when the
//! tablet stopped.

use super::*;

/// Where a call for help is on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpDelivery {
    /// Still in the outbox: the sync worker keeps trying.
    Waiting,
    /// The office stored it.
    Delivered,
    /// The office refused it for good (a dead letter): it will never arrive.
    Refused,
}

/// The newest call for help of the last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpProgress {
    pub resident: ResidentId,
    pub raised_at: NaiveDateTime,
    pub delivery: HelpDelivery,
    /// Who took it on (「民生委員」), once someone has.
    pub handler: Option<String>,
    /// Whom the help screen shows to call meanwhile.
    pub contacts: Vec<EmergencyContact>,
}

impl Store {
    /// The newest call for help (the help flow's, or a snow watch nobody answered)
    /// raised at or after `since`, local time.
    pub fn help_progress(&self, since: NaiveDateTime) -> Result<Option<HelpProgress>, StoreError> {
        let row: Option<(i64, String, Option<String>, bool, bool)> = self
            .conn
            .query_row(
                "SELECT c.resident_id, c.at, c.acknowledged_by,
                        EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = c.event_id),
                        EXISTS (SELECT 1 FROM dead_letter d WHERE d.event_id = c.event_id)
                 FROM care_log c WHERE c.kind IN (?1, ?2) AND c.at >= ?3
                 ORDER BY c.at DESC, c.rowid DESC LIMIT 1",
                params![
                    wire::EventKind::HelpRequest.name(),
                    wire::EventKind::SnowWatchAlert.name(),
                    events::local(since)
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((resident, at, handler, queued, refused)) = row else { return Ok(None) };
        let raised_at = parse_local(&at)?;
        let delivery = match (queued, refused) {
            (true, _) => HelpDelivery::Waiting,
            (false, true) => HelpDelivery::Refused,
            (false, false) => HelpDelivery::Delivered,
        };
        let resident = ResidentId(resident);
        Ok(Some(HelpProgress {
            resident,
            raised_at,
            delivery,
            handler,
            contacts: self.emergency_contacts(resident)?,
        }))
    }
}

/// A snow watch still running in the care log: started, perhaps re-armed, and
/// neither ended nor alerted nor overtaken by a call for help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunningWatch {
    pub resident: ResidentId,
    pub started_at: NaiveDateTime,
    /// The latest start or "still at it".
    pub armed_at: NaiveDateTime,
}

impl Store {
    /// The snow watch running at or after `since`, if the newest watch or help entry of
    /// the care log says one is.
    pub fn running_snow_watch(&self, since: NaiveDateTime) -> Result<Option<RunningWatch>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT resident_id, kind, at FROM care_log WHERE kind IN (?1, ?2, ?3, ?4) AND at >= ?5
             ORDER BY at DESC, rowid DESC LIMIT 50",
        )?;
        let rows = stmt
            .query_map(
                params![
                    wire::EventKind::SnowWatchStarted.name(),
                    wire::EventKind::SnowWatchEnded.name(),
                    wire::EventKind::SnowWatchAlert.name(),
                    wire::EventKind::HelpRequest.name(),
                    events::local(since)
                ],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        let started = wire::EventKind::SnowWatchStarted.name();
        let Some((resident, kind, armed)) = rows.first() else { return Ok(None) };
        if kind != started {
            return Ok(None);
        }
        // Back through this resident's starts and re-arms to the first of the run.
        let mut first = armed.clone();
        for (_, k, at) in rows.iter().filter(|(r, _, _)| r == resident) {
            if k != started {
                break;
            }
            first = at.clone();
        }
        Ok(Some(RunningWatch {
            resident: ResidentId(*resident),
            started_at: parse_local(&first)?,
            armed_at: parse_local(armed)?,
        }))
    }
}
