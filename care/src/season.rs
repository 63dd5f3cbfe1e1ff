//! A town's seasons (the region calendar), read from `assets/region/*.toml`.
//!
//! The calendar is the planner's offline fallback: with no weather report, "it is
//! February in Nishikawa" is enough to plan indoors.

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

/// The kinds of season the planner distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Season {
    Snow,
    Thaw,
    Green,
    Rainy,
    Heat,
    Autumn,
}

/// Why a calendar file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("region calendar is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("region calendar: bad start date {0:?}, expected \"MM-DD\"")]
    BadStart(String),
    #[error("region calendar has no seasons")]
    Empty,
}

#[derive(Debug, Deserialize)]
struct CalendarFile {
    town: String,
    #[serde(rename = "season")]
    seasons: Vec<SeasonFile>,
}

#[derive(Debug, Deserialize)]
struct SeasonFile {
    name: Season,
    starts: String,
    label: String,
}

/// A season with the day of the year it starts, as (month, day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeasonSpan {
    pub season: Season,
    pub starts: (u32, u32),
    /// How the kiosk names it to a resident (「雪の季節」).
    pub label: String,
}

/// A town's yearly cycle of seasons.
#[derive(Debug, Clone)]
pub struct RegionCalendar {
    pub town: String,
    /// Sorted by start date within the year.
    spans: Vec<SeasonSpan>,
}

impl RegionCalendar {
    /// Parses a calendar file's text.
    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        let mut spans = file
            .seasons
            .into_iter()
            .map(|s| {
                let starts = parse_month_day(&s.starts).ok_or(CalendarError::BadStart(s.starts))?;
                Ok(SeasonSpan { season: s.name, starts, label: s.label })
            })
            .collect::<Result<Vec<_>, CalendarError>>()?;
        if spans.is_empty() {
            return Err(CalendarError::Empty);
        }
        spans.sort_by_key(|s| s.starts);
        Ok(Self { town: file.town, spans })
    }

    /// The season on `date`: the last one that started on or before it, wrapping
    /// round the new year (January belongs to the season that began in December).
    pub fn season_on(&self, date: NaiveDate) -> &SeasonSpan {
        let today = (date.month(), date.day());
        self.spans
            .iter()
            .rev()
            .find(|s| s.starts <= today)
            .unwrap_or_else(|| self.spans.last().expect("calendar is never empty"))
    }
}

fn parse_month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.split_once('-')?;
    let (m, d) = (m.parse().ok()?, d.parse().ok()?);
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NISHIKAWA: &str = include_str!("../../assets/region/nishikawa.toml");

    fn check(date: &str, expected: Season) {
        let cal = RegionCalendar::from_toml(NISHIKAWA).unwrap();
        let date: NaiveDate = date.parse().unwrap();
        assert_eq!(cal.season_on(date).season, expected, "{date}");
    }

    #[test]
    fn nishikawa_seasons() {
        check("2026-01-15", Season::Snow);
        check("2026-03-31", Season::Snow);
        check("2026-04-01", Season::Thaw);
        check("2026-06-20", Season::Rainy);
        check("2026-08-10", Season::Heat);
        check("2026-10-01", Season::Autumn);
        check("2026-12-01", Season::Snow);
    }

    #[test]
    fn bad_calendars_are_refused() {
        let bad = "town = \"x\"\n[[season]]\nname = \"snow\"\nstarts = \"13-40\"\nlabel = \"x\"\n";
        assert!(matches!(RegionCalendar::from_toml(bad), Err(CalendarError::BadStart(_))));
        assert!(RegionCalendar::from_toml("town = \"x\"\nseason = []\n").is_err());
    }
}
