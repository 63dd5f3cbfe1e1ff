//! Calls for help as the help screen follows them: whether the newest reached the
//! office, and who there took it on.

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
