//! Typed configuration: a TOML file, then `MIMAMORI_*` environment variables on top.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// The SQLite database file, created and migrated on start.
    pub database: PathBuf,
    /// How often the escalation engine runs, in seconds.
    pub escalation_interval_secs: u64,
    /// The weather fetcher (`[weather]` in the file).
    pub weather: WeatherConfig,
    /// How long records are kept (`[retention]`; `backend prune` deletes the rest).
    pub retention: Retention,
    /// The TLS proxies in front of the server (e.g. `["127.0.0.1"]` for nginx on the
    /// same machine): requests from them are limited by the client address they put
    /// in `X-Forwarded-For`, not by theirs. Empty: every peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// How long the office keeps what it holds about people, in days. The town sets
/// these by its records rules (文書管理規程); the defaults are five years, the usual
/// period for welfare case records. `backend prune` deletes what is older.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Check-ins and their answers, daily statuses, resolved alerts, closed campaigns
    /// and their answers, visits, decided card-link requests, misunderstandings and
    /// their corrections, expired enrolment codes (not the downstream log: see
    /// `store::retention`).
    pub records_days: u32,
    /// The audit log (who looked at or changed what).
    pub audit_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { records_days: 1826, audit_days: 1826 }
    }
}

impl Retention {
    /// Less than this is refused: a slip of the keyboard must not erase last month.
    pub const MIN_DAYS: u32 = 90;
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("literal"),
            database: "mimamori.sqlite".into(),
            escalation_interval_secs: 60,
            weather: WeatherConfig::default(),
            retention: Retention::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Where and how often the Japan Meteorological Agency's JSON is fetched. The
/// defaults are Nishikawa's: Yamagata's office, the 村山 forecast area, the 山形
/// temperature station and the town's own warning area.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WeatherConfig {
    /// Off: no fetching (staff may still set a report by hand).
    pub enabled: bool,
    /// The agency's site; tests point it at a local server.
    pub base_url: String,
    /// The prefecture office code in the file names (`060000`).
    pub office: String,
    /// The forecast area (一次細分区域) whose weather is taken (`060010`, 村山).
    pub forecast_area: String,
    /// The station whose temperatures are taken (`35426`, 山形).
    pub temperature_station: String,
    /// The municipality whose warnings apply (`0632400`, 西川町).
    pub warning_area: String,
    /// Seconds between fetches.
    pub interval_secs: u64,
}

impl Default for WeatherConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            base_url: "https://www.jma.go.jp".to_owned(),
            office: "060000".to_owned(),
            forecast_area: "060010".to_owned(),
            temperature_station: "35426".to_owned(),
            warning_area: "0632400".to_owned(),
            interval_secs: 1800,
        }
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is invalid: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("[retention] {name} = {days} is shorter than the {min} days allowed")]
    Retention { name: &'static str, days: u32, min: u32 },
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Env { name: &'static str, value: String, reason: String },
}

impl Config {
    /// Loads `file` if given (defaults otherwise), then applies the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.into(), source })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        let r = config.retention;
        for (name, days) in [("records_days", r.records_days), ("audit_days", r.audit_days)] {
            if days < Retention::MIN_DAYS {
                return Err(ConfigError::Retention { name, days, min: Retention::MIN_DAYS });
            }
        }
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(value) = get("MIMAMORI_LISTEN") {
            self.listen = value.parse().map_err(|e: std::net::AddrParseError| ConfigError::Env {
                name: "MIMAMORI_LISTEN",
                value: value.clone(),
                reason: e.to_string(),
            })?;
        }
        if let Some(value) = get("MIMAMORI_DATABASE") {
            self.database = value.into();
        }
        if let Some(value) = get("MIMAMORI_WEATHER_BASE_URL") {
            self.weather.base_url = value;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file() {
        let mut c: Config = toml::from_str("listen = \"0.0.0.0:9000\"").unwrap();
        assert_eq!(c.database, PathBuf::from("mimamori.sqlite"));
        c.apply_env(|n| (n == "MIMAMORI_LISTEN").then(|| "127.0.0.1:0".to_owned())).unwrap();
        assert_eq!(c.listen.port(), 0);
        let err = c.apply_env(|_| Some("not an address".to_owned())).unwrap_err();
        assert!(err.to_string().contains("MIMAMORI_LISTEN"));
    }

    #[test]
    fn weather_settings_default_to_the_town_and_read_from_a_table() {
        let c: Config = toml::from_str("[weather]\ninterval_secs = 600\nenabled = false").unwrap();
        assert_eq!((c.weather.interval_secs, c.weather.enabled), (600, false));
        assert_eq!(c.weather.warning_area, "0632400");
        assert_eq!(c.weather.base_url, "https://www.jma.go.jp");
    }
}
