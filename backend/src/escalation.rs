//! The escalation engine: a background job that moves residents along the ladder
//! window + grace → unconfirmed (the tablet re-prompts) → alert to staff, and turns
//! campaign deadlines into alerts for non-responders, and snow watches the tablet
//! fell silent on into alerts.
//!
//! Decisions use the server's clock only (injected, so tests move time by hand).
//! Help requests do not wait for this job: ingest raises them at once. Pauses
//! suppress the ladder. Every step is idempotent, so a step may run twice or late.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::clock::{Clock, at_local, local_day};
use crate::store::{AlertKind, ResidentDay, Status, Store, StoreError};

/// Tunables of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long the tablet's re-prompt gets before staff are alerted.
    pub reprompt_wait: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self { reprompt_wait: Duration::minutes(30) }
    }
}

/// The next rung for one resident, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    MarkUnconfirmed,
    AlertStaff,
}

/// Pure decision for one resident on `day` at `now`.
pub fn decide(r: &ResidentDay, day: NaiveDate, now: DateTime<Utc>, policy: Policy) -> Option<Step> {
    // Paused, or enrolled after this day's window had opened: nothing to escalate.
    if r.paused || at_local(day, r.window.start) < r.enrolled_at {
        return None;
    }
    match r.status {
        Some(Status::Confirmed | Status::Attention | Status::NeedsHelp) => None,
        None => (now >= r.window.due(day)).then_some(Step::MarkUnconfirmed),
        Some(Status::Unconfirmed) => {
            let since = r.status_since?;
            (!r.no_checkin_alerted && now >= since + policy.reprompt_wait).then_some(Step::AlertStaff)
        }
    }
}

/// What one step did (counts only: no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    pub unconfirmed: usize,
    pub alerts: usize,
    pub campaign_alerts: usize,
}

/// Runs one pass of the ladder and of campaign deadlines at `now`.
pub fn step(store: &Store, now: DateTime<Utc>, policy: Policy) -> Result<Report, StoreError> {
    let today = local_day(now);
    let mut report = Report::default();
    // A midnight-crossing window that started yesterday evening is still yesterday's
    // business in the small hours: each resident is judged on the day their latest
    // window belongs to.
    let mut days = vec![(today, store.residents_for_day(today, now)?)];
    if let Some(yesterday) = today.pred_opt() {
        let crossing: Vec<ResidentDay> = store
            .residents_for_day(yesterday, now)?
            .into_iter()
            .filter(|r| r.window.crosses_midnight())
            .collect();
        if !crossing.is_empty() {
            days.push((yesterday, crossing));
        }
    }
    for (day, residents) in days {
        for r in residents {
            if r.window.day_of(now) != day {
                continue;
            }
            step_one(store, &r, day, now, policy, &mut report)?;
        }
    }
    report.alerts += store.handle_silent_snow_watches(now)?;
    for campaign in store.campaigns_past_deadline(now)? {
        report.campaign_alerts += store.handle_campaign_deadline(campaign, now)?;
    }
    Ok(report)
}

fn step_one(
    store: &Store,
    r: &ResidentDay,
    day: NaiveDate,
    now: DateTime<Utc>,
    policy: Policy,
    report: &mut Report,
) -> Result<(), StoreError> {
    match decide(r, day, now, policy) {
        Some(Step::MarkUnconfirmed) => {
            report.unconfirmed += usize::from(store.mark_unconfirmed(r.resident, day, now)?)
        }
        Some(Step::AlertStaff) => {
            report.alerts +=
                usize::from(store.raise_alert(r.resident, AlertKind::NoCheckin, day, None, now)?);
        }
        None => {}
    }
    Ok(())
}

/// Runs [`step`] every `period` until `shutdown` fires. Failures are logged and the
/// next tick tries again: one bad pass must not stop the ladder.
pub async fn run(
    store: Store,
    clock: Arc<dyn Clock>,
    policy: Policy,
    period: StdDuration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = clock.now();
        let store = store.clone();
        let steps = move || {
            // Expired sessions and old failed logins would otherwise grow without end.
            if let Err(e) = store.prune_expired(now) {
                tracing::warn!(error = %e, "pruning expired rows failed");
            }
            step(&store, now, policy)
        };
        match tokio::task::spawn_blocking(steps).await {
            Ok(Ok(r)) if r != Report::default() => {
                tracing::info!(
                    unconfirmed = r.unconfirmed,
                    alerts = r.alerts,
                    campaign_alerts = r.campaign_alerts,
                    "escalation step"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "escalation step failed"),
            Err(_) => tracing::error!("escalation step panicked"),
        }
    }
}
