//! The weather a tablet plans by: the body of a [`crate::PullKind::Weather`] item.
//!
//! The office fetches the Japan Meteorological Agency's forecast and warnings for the
//! town (or staff set a report by hand) and passes one report down; tablets keep the
//! last one and fall back to the region calendar when it grows old.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeatherSource {
    /// 気象庁 (the forecast and warning JSON the office fetched).
    Jma,
    /// Set by office staff, replacing the fetched report until cleared.
    Manual,
    #[serde(other)]
    Unknown,
}

/// One day's weather for the town. Temperatures are whole degrees Celsius as the
/// agency publishes them; a value the report lacks is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeatherReport {
    /// The local (Japan) day the forecast is for.
    pub date: NaiveDate,
    /// The agency's weather code (天気コード, e.g. "400" snow); empty when unknown.
    #[serde(default)]
    pub weather_code: String,
    /// The forecast in words (「くもり　時々　雪」).
    #[serde(default)]
    pub weather_text: String,
    #[serde(default)]
    pub temp_min_c: Option<i32>,
    #[serde(default)]
    pub temp_max_c: Option<i32>,
    /// 大雪警報 (or 大雪特別警報) in force for the town.
    #[serde(default)]
    pub heavy_snow_warning: bool,
    /// 大雪注意報.
    #[serde(default)]
    pub heavy_snow_advisory: bool,
    /// 暴風警報 or 暴風雪警報 (or their 特別警報).
    #[serde(default)]
    pub storm_warning: bool,
    /// 大雨警報 (or 大雨特別警報).
    #[serde(default)]
    pub heavy_rain_warning: bool,
    /// 風雪注意報.
    #[serde(default)]
    pub snowstorm_advisory: bool,
    /// なだれ注意報.
    #[serde(default)]
    pub avalanche_advisory: bool,
    /// 低温注意報.
    #[serde(default)]
    pub low_temperature_advisory: bool,
    /// 着雪注意報.
    #[serde(default)]
    pub snow_accretion_advisory: bool,
    /// Every warning and advisory in force, by its Japanese name, for captions.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Snow on the ground at the town's AMeDAS station (積雪深), in cm, when it reported.
    #[serde(default)]
    pub snow_depth_cm: Option<u32>,
    pub source: WeatherSource,
    /// When the office fetched (or staff set) this report.
    pub fetched_at: DateTime<Utc>,
}

impl crate::PullBody for WeatherReport {
    const KIND: crate::PullKind = crate::PullKind::Weather;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_report_from_a_newer_office_reads() {
        let r: WeatherReport = serde_json::from_str(
            r#"{"date":"2026-11-28","source":"satellite","fetched_at":"2026-11-28T00:00:00Z","wbgt_c":31.5}"#,
        )
        .unwrap();
        assert_eq!((r.source, r.temp_min_c, r.heavy_snow_warning), (WeatherSource::Unknown, None, false));
    }
}
