//! The idle screen: its controller (what to show at a given moment) and the adapter
//! that feeds [`crate::IdleAdapter`] once a second.

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};
use slint::ComponentHandle;

use crate::{AppWindow, IdleAdapter};

/// Texts of the idle screen at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleTexts {
    pub time: String,
    pub date: String,
}

/// Formats a local time the way a Japanese elderly reader expects: 24-hour clock,
/// month and day with the weekday in kanji (「11月28日（土）」).
pub fn idle_texts(now: NaiveDateTime) -> IdleTexts {
    let weekday = match now.weekday() {
        Weekday::Mon => '月',
        Weekday::Tue => '火',
        Weekday::Wed => '水',
        Weekday::Thu => '木',
        Weekday::Fri => '金',
        Weekday::Sat => '土',
        Weekday::Sun => '日',
    };
    IdleTexts {
        time: format!("{}:{:02}", now.hour(), now.minute()),
        date: format!("{}月{}日（{}）", now.month(), now.day(), weekday),
    }
}

/// Connects the idle view to the clock. Returns the timer, which must be kept alive.
pub fn bind(window: &AppWindow, now: impl Fn() -> NaiveDateTime + 'static) -> slint::Timer {
    let show = {
        let weak = window.as_weak();
        move || {
            if let Some(window) = weak.upgrade() {
                let texts = idle_texts(now());
                let adapter = window.global::<IdleAdapter<'_>>();
                adapter.set_time(texts.time.into());
                adapter.set_date(texts.date.into());
            }
        }
    };
    show();
    let timer = slint::Timer::default();
    timer.start(slint::TimerMode::Repeated, std::time::Duration::from_secs(1), show);
    timer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(at: &str, time: &str, date: &str) {
        let texts = idle_texts(at.parse().unwrap());
        assert_eq!((texts.time.as_str(), texts.date.as_str()), (time, date), "{at}");
    }

    #[test]
    fn clock_and_date_in_japanese() {
        check("2026-11-28T07:05:00", "7:05", "11月28日（土）");
        check("2026-12-31T23:59:59", "23:59", "12月31日（木）");
        check("2027-01-03T00:00:00", "0:00", "1月3日（日）");
    }
}
