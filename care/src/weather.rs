//! Today's weather as the planner sees it, with the region calendar as the offline fallback.
//!
//! The backend fetches a report when online and passes it down; care never fetches.
//! [`Conditions::for_day`] turns "a report, if a fresh one exists" plus the calendar
//! into the few facts the planner decides on.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};

use crate::season::{RegionCalendar, Season};

/// Official warnings (警報) that keep a resident indoors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Warning {
    /// 大雪警報.
    HeavySnow,
    /// 暴風警報 or 暴風雪警報.
    Storm,
    /// 大雨警報.
    HeavyRain,
}

/// A weather report for the resident's area.
#[derive(Debug, Clone, PartialEq)]
pub struct Weather {
    /// When the report was observed or issued (local time).
    pub observed_at: NaiveDateTime,
    /// Where it came from (e.g. "気象庁 山形県"), shown to staff.
    pub source: String,
    pub snow_depth_cm: Option<u32>,
    pub temperature_c: Option<f32>,
    /// The heat index in Japan's sense: WBGT (暑さ指数), °C.
    pub wbgt_c: Option<f32>,
    /// 熱中症警戒アラート (or 特別警戒アラート) in force.
    pub heatstroke_alert: bool,
    pub warnings: BTreeSet<Warning>,
}

/// How hot it is, for planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Heat {
    None,
    /// WBGT ≥ 28 (厳重警戒), 30 °C or more, or the hot season with no report.
    Caution,
    /// A heatstroke alert, or WBGT ≥ 31 (危険).
    Alert,
}

/// Snow depth from which a day counts as snowbound (paths buried): indoor plans.
pub const SNOWBOUND_FROM_CM: u32 = 20;
/// Snow depth treated like a heavy-snow warning: seated plans and a snow-clearing reminder.
pub const HEAVY_SNOW_FROM_CM: u32 = 100;

/// The facts the planner plans by.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditions {
    pub date: NaiveDate,
    pub season: Season,
    /// The calendar's name for the season (「雪の季節」).
    pub season_label: String,
    /// True when no fresh report was given and these facts come from the calendar.
    pub from_calendar: bool,
    pub heat: Heat,
    /// A heavy-snow warning or very deep snow.
    pub heavy_snow: bool,
    /// Snow deep enough that walking out is unsafe.
    pub snowbound: bool,
    /// A storm or heavy-rain warning.
    pub storm: bool,
}

impl Conditions {
    /// Today's conditions from a report, if it is from today or yesterday, else from the
    /// calendar alone: in the snow season the calendar assumes snowbound, in the hot
    /// season heat caution, because offline the safe guess is the cautious one.
    pub fn for_day(calendar: &RegionCalendar, date: NaiveDate, weather: Option<&Weather>) -> Self {
        let span = calendar.season_on(date);
        let fresh = weather.filter(|w| (0..=1).contains(&(date - w.observed_at.date()).num_days()));
        let (heat, heavy_snow, snowbound, storm) = match fresh {
            Some(w) => {
                let depth = w.snow_depth_cm.unwrap_or(0);
                let wbgt = w.wbgt_c.unwrap_or(f32::MIN);
                let heat = if w.heatstroke_alert || wbgt >= 31.0 {
                    Heat::Alert
                } else if wbgt >= 28.0 || w.temperature_c.is_some_and(|t| t >= 30.0) {
                    Heat::Caution
                } else {
                    Heat::None
                };
                let heavy_snow = w.warnings.contains(&Warning::HeavySnow) || depth >= HEAVY_SNOW_FROM_CM;
                let storm = w.warnings.contains(&Warning::Storm) || w.warnings.contains(&Warning::HeavyRain);
                (heat, heavy_snow, heavy_snow || depth >= SNOWBOUND_FROM_CM, storm)
            }
            None => {
                let heat = if span.season == Season::Heat { Heat::Caution } else { Heat::None };
                (heat, false, span.season == Season::Snow, false)
            }
        };
        Self {
            date,
            season: span.season,
            season_label: span.label.clone(),
            from_calendar: fresh.is_none(),
            heat,
            heavy_snow,
            snowbound,
            storm,
        }
    }

    /// Whether an outdoor exercise may be planned today.
    pub fn outdoor_allowed(&self) -> bool {
        self.heat == Heat::None
            && !self.heavy_snow
            && !self.snowbound
            && !self.storm
            && matches!(self.season, Season::Green | Season::Rainy | Season::Autumn | Season::Heat)
    }
}
