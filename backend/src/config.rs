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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("literal"),
            database: "mimamori.sqlite".into(),
            escalation_interval_secs: 60,
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
}
