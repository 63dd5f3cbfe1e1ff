//! Building and running the server: `Application::build(config)` binds the socket
//! (port 0 in tests) and opens the store; `run_until` serves, with the escalation
//! engine, the notifications and the weather fetcher beside it, until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::escalation;
use crate::retrain::Retrainer;
use crate::routes::{AppState, router};
use crate::store::{Store, StoreError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A bound, ready-to-serve server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
    escalation_period: std::time::Duration,
    weather: crate::config::WeatherConfig,
    limits: crate::serve::Limits,
    trusted_proxies: Arc<[std::net::IpAddr]>,
    notify: crate::config::NotifyConfig,
}

impl Application {
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with the clock the server decides by (tests).
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let store = Store::open(&config.database)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartupError::Bind { addr: config.listen, source })?;
        Ok(Self {
            listener,
            state: AppState { store, clock, retrainer: Arc::new(Retrainer::new(&config.retrain)) },
            escalation_period: std::time::Duration::from_secs(config.escalation_interval_secs.max(1)),
            limits: crate::serve::Limits::default(),
            trusted_proxies: config.trusted_proxies.clone().into(),
            weather: config.weather.clone(),
            notify: config.notify.clone(),
        })
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The store, for seeding data in tests and the demo.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and
    /// stops the escalation engine.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let engine = tokio::spawn(escalation::run(
            self.state.store.clone(),
            self.state.clock.clone(),
            escalation::Policy::default(),
            self.escalation_period,
            stop_rx,
        ));
        let weather = self.weather.enabled.then(|| {
            tokio::spawn(crate::weather::run(
                self.state.store.clone(),
                self.state.clock.clone(),
                self.weather.clone(),
                stop_tx.subscribe(),
            ))
        });
        let notify = tokio::spawn(crate::notify::run(
            self.state.store.clone(),
            self.state.clock.clone(),
            self.notify.clone(),
            stop_tx.subscribe(),
        ));
        let served = crate::serve::serve(
            self.listener,
            router(self.state),
            self.limits,
            self.trusted_proxies,
            shutdown,
        )
        .await;
        let _ = stop_tx.send(true);
        let _ = engine.await;
        let _ = notify.await;
        if let Some(weather) = weather {
            let _ = weather.await;
        }
        served
    }
}
