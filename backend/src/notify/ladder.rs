//! The ladder's one decision, pure: which rung of an open alert is due now.
//!
//! Rung 1 is the district's 民生委員 and the staff on duty, rung 2 the officers in
//! charge, rung 3 the family who consented. Each rung waits for its alert kind's
//! time before the next is told; quiet hours hold back all but urgent kinds.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::config::{NotifyConfig, QuietHours};
use crate::store::{AlertKind, LadderAlert, TOP_RUNG};

/// The ladder's timing, read once from `[notify]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    waits: BTreeMap<AlertKind, Duration>,
    default_wait: Duration,
    quiet: Option<QuietHours>,
    urgent: Vec<AlertKind>,
}

impl Ladder {
    /// The ladder `config` describes (its kind names were checked when it loaded).
    pub fn from_config(config: &NotifyConfig) -> Self {
        let secs = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000).min(86_400 * 7));
        // A call for help climbs faster than the office's own alerts.
        let mut waits = BTreeMap::from([
            (AlertKind::HelpRequest, Duration::minutes(10)),
            (AlertKind::CampaignHelp, Duration::minutes(10)),
            (AlertKind::SnowWatchSilent, Duration::minutes(10)),
        ]);
        let mut default_wait = Duration::minutes(30);
        for (kind, &s) in &config.wait_secs {
            match kind.parse::<AlertKind>() {
                Ok(k) => {
                    waits.insert(k, secs(s));
                }
                Err(_) => default_wait = secs(s),
            }
        }
        Ladder {
            waits,
            default_wait,
            quiet: config.quiet_hours,
            urgent: config.urgent.iter().filter_map(|k| k.parse().ok()).collect(),
        }
    }

    fn wait(&self, kind: AlertKind) -> Duration {
        self.waits.get(&kind).copied().unwrap_or(self.default_wait)
    }

    /// Whether `kind` may wake someone in quiet hours.
    pub fn urgent(&self, kind: AlertKind) -> bool {
        self.urgent.contains(&kind)
    }

    /// The rung to tell now, if any: the first at once, each next one when the
    /// last has waited its time without anyone taking the alert on.
    pub fn next_rung(&self, alert: &LadderAlert, now: DateTime<Utc>) -> Option<u8> {
        if alert.rung >= TOP_RUNG {
            return None;
        }
        let local = now.with_timezone(&crate::clock::town_offset()).time();
        if !self.urgent(alert.kind) && self.quiet.is_some_and(|q| q.contains(local)) {
            return None;
        }
        match alert.rung_at {
            None => Some(1),
            Some(at) => (now >= at + self.wait(alert.kind)).then_some(alert.rung + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn check(config: &str, alert: (AlertKind, u8, Option<i64>), now_hm: (u32, u32), want: Option<u8>) {
        let config: NotifyConfig = toml::from_str(config).unwrap();
        let ladder = Ladder::from_config(&config);
        // 2026-12-06 in the town (+09:00); rung_at is minutes before `now`.
        let now = crate::clock::town_offset()
            .with_ymd_and_hms(2026, 12, 6, now_hm.0, now_hm.1, 0)
            .unwrap()
            .with_timezone(&Utc);
        let (kind, rung, ago) = alert;
        let a = LadderAlert { id: 1, kind, rung, rung_at: ago.map(|m| now - Duration::minutes(m)) };
        assert_eq!(ladder.next_rung(&a, now), want, "{config:?} {kind:?} rung {rung} {ago:?} at {now_hm:?}");
    }

    #[test]
    fn rungs_follow_the_waits_and_quiet_hours_hold_only_what_is_not_urgent() {
        use AlertKind::*;
        let quiet = "quiet_hours = \"21:00-07:00\"";
        // Told at once, then after each kind's wait (help 10 min, the rest 30 min).
        check("", (HelpRequest, 0, None), (12, 0), Some(1));
        check("", (HelpRequest, 1, Some(9)), (12, 0), None);
        check("", (HelpRequest, 1, Some(10)), (12, 0), Some(2));
        check("", (NoCheckin, 1, Some(29)), (12, 0), None);
        check("", (NoCheckin, 2, Some(30)), (12, 0), Some(3));
        check("", (NoCheckin, 3, Some(300)), (12, 0), None);
        check("[wait_secs]\nno_checkin = 60", (NoCheckin, 1, Some(1)), (12, 0), Some(2));
        check("[wait_secs]\ndefault = 60", (VisitRequest, 1, Some(1)), (12, 0), Some(2));
        // Setting one kind leaves the built-in waits of the others.
        check("[wait_secs]\nno_checkin = 60", (HelpRequest, 1, Some(9)), (12, 0), None);
        check("[wait_secs]\nno_checkin = 60", (HelpRequest, 1, Some(10)), (12, 0), Some(2));
        // Quiet hours: a missed check-in waits for morning; a call for help does not.
        check(quiet, (NoCheckin, 0, None), (23, 0), None);
        check(quiet, (NoCheckin, 1, Some(120)), (3, 0), None);
        check(quiet, (NoCheckin, 0, None), (7, 0), Some(1));
        check(quiet, (HelpRequest, 0, None), (23, 0), Some(1));
        check(quiet, (CampaignHelp, 1, Some(10)), (2, 0), Some(2));
        check(&format!("{quiet}\nurgent = []"), (HelpRequest, 0, None), (23, 0), None);
    }
}
