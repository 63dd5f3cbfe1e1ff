//! Time as the server sees it: an injectable clock and the town's calendar.
//!
//! The server's clock decides statuses; a tablet's clock is recorded, never trusted.
//! Jobs take a [`Clock`] so tests can move time by hand.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to (tests, the demo, benchmarks).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Moves the hand-set clock on (tests step time with it; the server runs on
    /// `SystemClock`).
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Japan has one time zone and no daylight saving: a fixed +09:00 is exact.
pub fn town_offset() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// The town's calendar day at instant `t`.
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&town_offset()).date_naive()
}

/// The instant of local time `time` on local day `day`.
pub fn at_local(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    day.and_time(time)
        .and_local_timezone(town_offset())
        .single()
        .expect("fixed offsets are unambiguous")
        .to_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_day_turns_at_japanese_midnight() {
        let before: DateTime<Utc> = "2026-11-28T14:59:59Z".parse().unwrap();
        let after: DateTime<Utc> = "2026-11-28T15:00:00Z".parse().unwrap();
        assert_eq!(local_day(before).to_string(), "2026-11-28");
        assert_eq!(local_day(after).to_string(), "2026-11-29");
        let nine = at_local(local_day(after), NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert_eq!(nine.to_rfc3339(), "2026-11-29T00:00:00+00:00");
    }
}
