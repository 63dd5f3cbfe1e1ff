//! The weather a tablet plans by: the body of a [`crate::PullKind::Weather`] item.
//!
//! The office fetches the Japan Meteorological Agency's forecast, warnings and heat
//! alerts and the Ministry of the Environment's heat index (WBGT) for the town (or staff
//! set a report by hand) and passes one report down; tablets keep the last one and fall
//! back to the region calendar when it grows old.

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
/// agency publishes them; a value the report lacks is `None`. (`PartialEq` only: the
/// WBGT is a fraction.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// レベル3大雨警報 or worse (レベル4危険警報, レベル5特別警報), or a 土砂災害警報 of
    /// those levels.
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
    /// Today's highest forecast WBGT (暑さ指数), °C to a tenth, at the town's point of the
    /// Ministry of the Environment's forecast (環境省 熱中症予防情報サイト, served late
    /// April to late October); `None` out of season or when the ministry had none.
    #[serde(default)]
    pub wbgt_max_c: Option<f32>,
    /// 熱中症警戒アラート (or 熱中症特別警戒アラート) in force today for the prefecture,
    /// from the agency's list of information (`bosai/information/data/r8/information.json`).
    #[serde(default)]
    pub heatstroke_alert: bool,
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
        assert_eq!((r.wbgt_max_c, r.heatstroke_alert), (None, false), "an older office sends no heat");
    }

    #[test]
    fn the_heat_risk_goes_down_and_reads_back() {
        let r: WeatherReport = serde_json::from_str(
            r#"{"date":"2026-08-05","source":"jma","fetched_at":"2026-08-04T22:00:00Z","wbgt_max_c":32.0,"heatstroke_alert":true}"#,
        )
        .unwrap();
        assert_eq!((r.wbgt_max_c, r.heatstroke_alert), (Some(32.0), true));
        let back: WeatherReport = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
