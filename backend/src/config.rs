//! Typed configuration: a TOML file, then `MIMAMORI_*` environment variables on top.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Server settings. A key the server does not know is an error, never ignored: a
/// misspelt setting would otherwise silently keep its default.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// Who is told of alerts by e-mail, and how (`[notify]`).
    pub notify: NotifyConfig,
    /// The dialect dictionary's retraining from staff corrections (`[retrain]`).
    pub retrain: RetrainConfig,
}

/// How the office runs `dialect-model retrain` when staff press 「学習して配信する」.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainConfig {
    /// The `dialect-model` program (`MIMAMORI_DIALECT_MODEL`). Default: the one beside
    /// this server's binary (where the package and `cargo build` put it).
    pub program: Option<PathBuf>,
    /// Its data directory (`--data-dir`); default: its own search order.
    pub data_dir: Option<PathBuf>,
    /// How long a retraining may take before it is stopped (a few seconds today). Kept
    /// under the 30 s a request may take, so a stopped run still answers the page.
    pub timeout_secs: u64,
}

impl Default for RetrainConfig {
    fn default() -> Self {
        Self { program: None, data_dir: None, timeout_secs: 25 }
    }
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
            notify: NotifyConfig::default(),
            retrain: RetrainConfig::default(),
        }
    }
}

/// Where and how often the Japan Meteorological Agency's JSON (and the Ministry of the
/// Environment's WBGT forecast) is fetched. The defaults are Nishikawa's: Yamagata's
/// office, the 村山 forecast area, the 山形 temperature station and heat-index point and
/// the town's own warning area.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeatherConfig {
    /// Off: no fetching (staff may still set a report by hand).
    pub enabled: bool,
    /// The agency's site; tests point it at a local server.
    pub base_url: String,
    /// The prefecture office code in the file names (`060000`: the forecast's
    /// `forecast/{office}.json`, the warnings' `warning/data/r8/{office}.json`) and in
    /// the information list (whose 熱中症警戒アラート are taken).
    pub office: String,
    /// The forecast area (一次細分区域) whose weather is taken (`060010`, 村山).
    pub forecast_area: String,
    /// The station whose temperatures are taken (`35426`, 山形).
    pub temperature_station: String,
    /// The municipality whose warnings apply (`0632400`, 西川町): its `areaCode` among
    /// the warning file's `class20Items`.
    pub warning_area: String,
    /// The AMeDAS station whose snow depth is taken (`35361`, 大井沢; the agency's
    /// `amedas/const/amedastable.json` lists the codes).
    pub snow_station: String,
    /// The Ministry of the Environment's heat-index site (環境省 熱中症予防情報サイト),
    /// whose WBGT forecast is taken; tests point it at a local server.
    pub wbgt_base_url: String,
    /// The ministry's forecast point whose WBGT is taken (`35426`, 山形). Its points are
    /// numbered as AMeDAS stations; a town sets its nearest point.
    pub wbgt_point: String,
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
            snow_station: "35361".to_owned(),
            wbgt_base_url: "https://www.wbgt.env.go.jp".to_owned(),
            wbgt_point: "35426".to_owned(),
            interval_secs: 1800,
        }
    }
}

/// E-mail notifications and the ladder they climb (`[notify]`). With no `smtp_host`
/// nothing is sent (the server logs so at start); alerts still wait on the board.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// The mail server (`MIMAMORI_SMTP_HOST`). Empty: notifications are off.
    pub smtp_host: String,
    /// Its port (`MIMAMORI_SMTP_PORT`); 0 means the usual one for `security`.
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls` (`MIMAMORI_SMTP_SECURITY`).
    pub security: SmtpSecurity,
    /// The sender address (`MIMAMORI_SMTP_FROM`).
    pub from: String,
    /// The dashboard's address as a phone reaches it, for the acknowledgement link
    /// (`https://mimamori.town.example`).
    pub public_url: String,
    /// Seconds before the next rung is told, per alert kind (`help_request = 600`),
    /// and `default` for the rest; laid over the built-in waits (help 600, the rest
    /// 1800), so setting one kind leaves the others as they were.
    pub wait_secs: std::collections::BTreeMap<String, u64>,
    /// Hours in which only urgent alerts are sent (`"21:00-07:00"`, the town's time).
    pub quiet_hours: Option<QuietHours>,
    /// Alert kinds that ignore quiet hours (a resident's own call for help).
    pub urgent: Vec<String>,
    /// Seconds one delivery may take before it is tried again later.
    pub timeout_secs: u64,
    /// Seconds before a message the server did not take is tried again; doubling
    /// with each try, at most 30 minutes.
    pub retry_secs: u64,
    /// Only from the environment (`MIMAMORI_SMTP_USER`, `MIMAMORI_SMTP_PASSWORD`):
    /// a password never sits in a file a backup or a support ticket carries.
    #[serde(skip)]
    pub credentials: Option<SmtpLogin>,
}

/// The mail server's login; its `Debug` hides the password, so a logged config
/// does not carry it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpLogin {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for SmtpLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpLogin").field("user", &self.user).field("password", &"***").finish()
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp_host: String::new(),
            smtp_port: 0,
            security: SmtpSecurity::Starttls,
            from: String::new(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            wait_secs: [
                ("default".to_owned(), 1800),
                ("help_request".to_owned(), 600),
                ("campaign_help".to_owned(), 600),
            ]
            .into(),
            quiet_hours: None,
            urgent: vec![
                "help_request".to_owned(),
                "campaign_help".to_owned(),
                "snow_watch_silent".to_owned(),
            ],
            timeout_secs: 30,
            retry_secs: 30,
            credentials: None,
        }
    }
}

impl NotifyConfig {
    /// Whether a mail server is configured.
    pub fn enabled(&self) -> bool {
        !self.smtp_host.is_empty()
    }

    /// The port, or the usual one for the security chosen.
    pub fn port(&self) -> u16 {
        match (self.smtp_port, self.security) {
            (0, SmtpSecurity::None) => 25,
            (0, SmtpSecurity::Starttls) => 587,
            (0, SmtpSecurity::Tls) => 465,
            (p, _) => p,
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |reason: String| Err(ConfigError::Notify(reason));
        for kind in self.wait_secs.keys().filter(|k| *k != "default").chain(&self.urgent) {
            if kind.parse::<vocab::AlertKind>().is_err() {
                return bad(format!("{kind:?} is not an alert kind"));
            }
        }
        if self.enabled() && !self.from.contains('@') {
            return bad(format!("from = {:?} is not an address", self.from));
        }
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
            return bad(format!("public_url = {:?} must start with https://", self.public_url));
        }
        Ok(())
    }
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same machine or a closed network).
    None,
    /// STARTTLS, required (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl std::str::FromStr for SmtpSecurity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::Starttls),
            "tls" => Ok(Self::Tls),
            _ => Err("expected none, starttls or tls".to_owned()),
        }
    }
}

/// A daily span in the town's time, which may cross midnight (`"21:00-07:00"`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String")]
pub struct QuietHours {
    pub start: chrono::NaiveTime,
    pub end: chrono::NaiveTime,
}

impl TryFrom<String> for QuietHours {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        let (start, end) = parse_span(&s).map_err(|why| format!("quiet_hours {s:?}: {why}"))?;
        Ok(QuietHours { start, end })
    }
}

/// A daily span `HH:MM-HH:MM` in the town's time (an end before the start crosses
/// midnight; the two may not be equal): quiet hours here, a check-in window on the
/// command line.
pub fn parse_span(s: &str) -> Result<(chrono::NaiveTime, chrono::NaiveTime), String> {
    let time = |t: &str| {
        chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| format!("{t:?} is not HH:MM"))
    };
    let (start, end) = s.split_once('-').ok_or("a window is HH:MM-HH:MM")?;
    let (start, end) = (time(start)?, time(end)?);
    if start == end {
        return Err("a window cannot start and end at the same time".to_owned());
    }
    Ok((start, end))
}

impl QuietHours {
    /// Whether `t` (the town's time of day) falls inside.
    pub fn contains(self, t: chrono::NaiveTime) -> bool {
        if self.start < self.end { self.start <= t && t < self.end } else { t >= self.start || t < self.end }
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
    #[error("[notify] {0}")]
    Notify(String),
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
        config.notify.check()?;
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
        if let Some(value) = get("MIMAMORI_DIALECT_MODEL") {
            self.retrain.program = Some(value.into());
        }
        let n = &mut self.notify;
        if let Some(value) = get("MIMAMORI_SMTP_HOST") {
            n.smtp_host = value;
        }
        if let Some(value) = get("MIMAMORI_SMTP_PORT") {
            n.smtp_port = value.parse().map_err(|e: std::num::ParseIntError| ConfigError::Env {
                name: "MIMAMORI_SMTP_PORT",
                value: value.clone(),
                reason: e.to_string(),
            })?;
        }
        if let Some(value) = get("MIMAMORI_SMTP_SECURITY") {
            n.security = value.parse().map_err(|reason| ConfigError::Env {
                name: "MIMAMORI_SMTP_SECURITY",
                value: value.clone(),
                reason,
            })?;
        }
        if let Some(value) = get("MIMAMORI_SMTP_FROM") {
            n.from = value;
        }
        if let Some(user) = get("MIMAMORI_SMTP_USER") {
            n.credentials =
                Some(SmtpLogin { user, password: get("MIMAMORI_SMTP_PASSWORD").unwrap_or_default() });
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
        assert_eq!(
            (c.weather.wbgt_base_url.as_str(), c.weather.wbgt_point.as_str()),
            ("https://www.wbgt.env.go.jp", "35426")
        );
        let c: Config = toml::from_str("[weather]\nwbgt_point = \"35361\"").unwrap();
        assert_eq!(c.weather.wbgt_point, "35361");
        // A misspelt key is refused, not read as the default.
        for typo in
            ["[weather]\nwbgt_piont = \"35361\"", "escalation_interval = 30", "[wether]\nenabled = false"]
        {
            let err = toml::from_str::<Config>(typo).unwrap_err().to_string();
            assert!(err.contains("unknown field"), "{typo}: {err}");
        }
    }

    #[test]
    fn notify_settings_come_from_the_file_and_the_environment_but_passwords_only_from_the_environment() {
        let mut c: Config = toml::from_str(
            "[notify]\nsmtp_host = \"mail\"\nsecurity = \"none\"\nfrom = \"a@b\"\nquiet_hours = \"21:00-07:00\"",
        )
        .unwrap();
        assert_eq!(c.notify.port(), 25);
        let q = c.notify.quiet_hours.unwrap();
        let at = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        assert_eq!(
            [q.contains(at(22)), q.contains(at(3)), q.contains(at(7)), q.contains(at(12))],
            [true, true, false, false]
        );
        let env =
            [("MIMAMORI_SMTP_PORT", "2525"), ("MIMAMORI_SMTP_USER", "u"), ("MIMAMORI_SMTP_PASSWORD", "p")];
        c.apply_env(|n| env.iter().find(|(k, _)| *k == n).map(|(_, v)| (*v).to_owned())).unwrap();
        let login = c.notify.credentials.clone().unwrap();
        assert_eq!((c.notify.port(), login.user.as_str(), login.password.as_str()), (2525, "u", "p"));
        assert!(!format!("{:?}", c.notify).contains("\"p\""), "the password stays out of Debug");
        assert!(toml::from_str::<Config>("[notify]\npassword = \"x\"").is_err());
        assert!(toml::from_str::<Config>("[notify]\nquiet_hours = \"9pm\"").is_err());
        c.notify.urgent.push("fire".into());
        assert!(c.notify.check().unwrap_err().to_string().contains("fire"));
    }
}
