//! Safety-confirmation campaigns: started for a district or the town, progress, deadlines.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::pull_log::push_tx;
use super::*;

/// A campaign's live progress.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CampaignProgress {
    pub targeted: u64,
    pub safe: u64,
    pub needs_help: u64,
    /// Residents in the area with no answer yet, for phoning.
    pub non_responders: Vec<ResidentId>,
    /// Their names, in the same order (for the staff page only; never logged).
    pub non_responder_names: Vec<String>,
    /// Why each is early in the list, in the same order.
    pub non_responder_risk: Vec<Risk>,
    /// Who answered 「助けが必要」, with their name and when they later said 「無事」 (if
    /// they did: the call for help stays the answer until staff resolve its alert).
    pub needs_help_list: Vec<(ResidentId, String, Option<DateTime<Utc>>)>,
}

/// What the office knows that makes a silent resident urgent to phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Risk {
    pub lives_alone: bool,
    pub birth_year: Option<i32>,
    /// Days on which they needed help, ever.
    pub help_days: u32,
}

/// A campaign as the campaigns page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: CampaignId,
    /// `None`: the whole town.
    pub district: Option<String>,
    pub message: String,
    pub deadline: DateTime<Utc>,
    pub closed: bool,
    /// Answers so far: 無事, and 助けが必要.
    pub safe: u64,
    pub needs_help: u64,
}

/// Starts a campaign inside the caller's transaction (a declared disaster starts
/// one per district with its declaration).
pub(super) fn start_campaign_tx(
    tx: &rusqlite::Transaction<'_>,
    district: Option<&str>,
    message: &str,
    deadline: DateTime<Utc>,
    by: Actor,
    now: DateTime<Utc>,
) -> Result<CampaignId, StoreError> {
    tx.execute(
        "INSERT INTO campaigns (district, message, deadline_ms, started_by, started_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![district, message, ms(deadline), by.encode(), ms(now)],
    )?;
    let id = CampaignId(tx.last_insert_rowid());
    let notice = wire::CampaignNotice {
        campaign_id: id.0 as u64,
        message: message.to_owned(),
        deadline,
        closed: false,
    };
    push_tx(tx, None, district, &notice, now)?;
    Ok(id)
}

impl Store {
    /// Starts a safety campaign for a district (or the whole town) and tells the
    /// tablets there at their next pull.
    pub fn start_campaign(
        &self,
        district: Option<&str>,
        message: &str,
        deadline: DateTime<Utc>,
        by: Actor,
        now: DateTime<Utc>,
    ) -> Result<CampaignId, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let id = start_campaign_tx(&tx, district, message, deadline, by, now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Who in the campaign's area answered what, and who has not.
    pub fn campaign_progress(&self, campaign: CampaignId) -> Result<CampaignProgress, StoreError> {
        self.campaign_progress_in(campaign, None)
    }

    /// As [`Store::campaign_progress`], limited to one district's residents (民生委員).
    pub fn campaign_progress_in(
        &self,
        campaign: CampaignId,
        district: Option<&str>,
    ) -> Result<CampaignProgress, StoreError> {
        let conn = self.lock();
        // Non-responders by risk: living alone (no one else would notice), then a
        // history of needing help, then age (oldest first; unknown last).
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, a.reply, r.display_name, r.lives_alone, r.birth_year,
                 (SELECT count(*) FROM statuses s WHERE s.resident_id = r.id AND s.status = 'needs_help') AS helps,
                 a.safe_after_help_ms
             FROM campaigns c
             JOIN residents r ON c.district IS NULL OR r.district = c.district
             LEFT JOIN campaign_answers a ON a.campaign_id = c.id AND a.resident_id = r.id
             WHERE c.id = ?1 AND (?2 IS NULL OR r.district = ?2)
             ORDER BY r.lives_alone DESC, helps DESC, r.birth_year IS NULL, r.birth_year, r.id",
        )?;
        let rows = stmt.query_map(params![campaign.0, district], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                Risk {
                    lives_alone: r.get(3)?,
                    birth_year: r.get::<_, Option<i64>>(4)?.and_then(|y| i32::try_from(y).ok()),
                    help_days: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
                },
                r.get::<_, Option<i64>>(6)?,
            ))
        })?;
        let mut p = CampaignProgress::default();
        for row in rows {
            let (resident, reply, name, risk, safe_after) = row?;
            p.targeted += 1;
            match reply.as_deref() {
                Some("safe") => p.safe += 1,
                Some(_) => {
                    p.needs_help += 1;
                    p.needs_help_list.push((
                        ResidentId(resident),
                        name,
                        safe_after.map(from_ms).transpose()?,
                    ));
                }
                None => {
                    p.non_responders.push(ResidentId(resident));
                    p.non_responder_names.push(name);
                    p.non_responder_risk.push(risk);
                }
            }
        }
        Ok(p)
    }

    /// Campaigns newest first, one page: all of them, or (`district`) the town-wide
    /// ones and that district's (what a 民生委員 sees).
    pub fn campaigns(
        &self,
        district: Option<&str>,
        page: super::Page,
    ) -> Result<super::Paged<Campaign>, StoreError> {
        let (limit, offset) = page.limit_offset();
        let rows = self.campaign_rows(
            "WHERE ?1 IS NULL OR district IS NULL OR district = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
            params![district, limit, offset],
        )?;
        Ok(super::Paged::of(rows))
    }

    /// One campaign.
    pub fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
        Ok(self.campaign_rows("WHERE id = ?1", params![id.0])?.pop())
    }

    fn campaign_rows(&self, filter: &str, p: &[&dyn rusqlite::ToSql]) -> Result<Vec<Campaign>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, district, message, deadline_ms, closed_ms IS NOT NULL,
                 (SELECT count(*) FROM campaign_answers a WHERE a.campaign_id = c.id AND a.reply = 'safe'),
                 (SELECT count(*) FROM campaign_answers a WHERE a.campaign_id = c.id AND a.reply = 'needs_help')
             FROM campaigns c {filter}"
        ))?;
        let rows = stmt.query_map(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
                (r.get::<_, i64>(5)? as u64, r.get::<_, i64>(6)? as u64),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, district, message, deadline, closed, (safe, needs_help)) = row?;
            out.push(Campaign {
                id: CampaignId(id),
                district,
                message,
                deadline: from_ms(deadline)?,
                closed,
                safe,
                needs_help,
            });
        }
        Ok(out)
    }

    /// Closes a campaign and tells its tablets to stop asking. False if already closed.
    pub fn close_campaign(&self, campaign: CampaignId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let row: Option<(Option<String>, String, i64)> = tx
            .query_row(
                "UPDATE campaigns SET closed_ms = ?2 WHERE id = ?1 AND closed_ms IS NULL
                 RETURNING district, message, deadline_ms",
                params![campaign.0, ms(now)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((district, message, deadline)) = row else { return Ok(false) };
        let notice = wire::CampaignNotice {
            campaign_id: campaign.0 as u64,
            message,
            deadline: from_ms(deadline)?,
            closed: true,
        };
        push_tx(&tx, None, district.as_deref(), &notice, now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Open campaigns whose deadline has passed and was not yet handled.
    pub fn campaigns_past_deadline(&self, now: DateTime<Utc>) -> Result<Vec<CampaignId>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM campaigns WHERE closed_ms IS NULL AND deadline_handled_ms IS NULL AND deadline_ms <= ?1
             ORDER BY id",
        )?;
        let ids = stmt.query_map([ms(now)], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
        Ok(ids.into_iter().map(CampaignId).collect())
    }

    /// At a campaign's deadline: an alert for every non-responder, once.
    /// Returns how many alerts were raised.
    pub fn handle_campaign_deadline(
        &self,
        campaign: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let progress = self.campaign_progress(campaign)?;
        let day = crate::clock::local_day(now);
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let claimed = tx.execute(
            "UPDATE campaigns SET deadline_handled_ms = ?2 WHERE id = ?1 AND deadline_handled_ms IS NULL",
            params![campaign.0, ms(now)],
        )? == 1;
        let mut raised = 0;
        if claimed {
            for resident in progress.non_responders {
                raised += usize::from(raise_alert_tx(
                    &tx,
                    resident,
                    AlertKind::CampaignNoAnswer,
                    day,
                    Some(campaign),
                    None,
                    now,
                )?);
            }
        }
        tx.commit()?;
        Ok(raised)
    }
}
