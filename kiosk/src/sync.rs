//! The sync worker: delivers the outbox to the office and brings its changes down.
//!
//! It runs on its own thread with a current-thread tokio runtime and its own
//! [`Store`] connection to the same file as the UI. Each round uploads the outbox
//! oldest first in batches (the next batch only after the office acknowledged the
//! last), pulls with the cursor until nothing more waits, and sends a heartbeat when
//! one is due. An event leaves the outbox only in the transaction that applies the
//! office's "stored" or "duplicate" for it; a "rejected" one moves to the dead-letter
//! table. Failures back off exponentially with jitter; [`SyncHandle::nudge`] (after a
//! help request) starts a round at once.
//!
//! The UI learns the state through `on_status` and shows it calmly: offline is the
//! normal state of a tablet in a snowstorm, not an alarm.
//!
//! Start order: the UI runs [`Store::open_or_recover`] first and spawns the worker
//! after it, so the worker never holds a file that recovery then moves aside.

mod backoff;
mod client;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
pub use client::CallError;
pub use reqwest::Url;

use crate::store::{Credentials, Store, StoreError};

/// The office a tablet talks to: its base URL, and the CA certificates its TLS
/// certificate may chain to besides the public web's roots (a town's own CA, given
/// with `--office-ca`).
#[derive(Debug, Clone)]
pub struct Office {
    pub url: Url,
    pub ca: Vec<reqwest::Certificate>,
}

impl From<Url> for Office {
    fn from(url: Url) -> Office {
        Office { url, ca: Vec::new() }
    }
}

impl Office {
    /// `url`, also trusting every certificate in the PEM file `ca_file`.
    pub fn with_ca_file(url: Url, ca_file: &Path) -> Result<Office, SyncError> {
        let bad = |reason: String| SyncError::OfficeCa { path: ca_file.to_path_buf(), reason };
        let pem = std::fs::read(ca_file).map_err(|e| bad(e.to_string()))?;
        let ca = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
        if ca.is_empty() {
            return Err(bad("no PEM certificate in it".into()));
        }
        Ok(Office { url, ca })
    }
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// The office.
    pub server: Office,
    /// The local store's file (the worker opens its own connection).
    pub db: PathBuf,
    /// Time between rounds while online; at most a minute, so campaigns arrive in time.
    pub poll: Duration,
    /// Time between heartbeats.
    pub heartbeat: Duration,
    /// Timeout of each request.
    pub request_timeout: Duration,
    /// First and longest wait after a failure.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    pub app_version: String,
    /// Where fetched dialect bundles go and who hears of them; `None`: not fetched.
    pub bundles: Option<BundleSink>,
}

/// Dialect bundles the office announces are fetched after the pull, checked against
/// the announced SHA-256, written into `dir` (write, fsync, rename: never half a file)
/// and recorded in the store; then `installed` hears the version and the file (from
/// the worker thread).
#[derive(Clone)]
pub struct BundleSink {
    pub dir: PathBuf,
    pub installed: OnBundle,
}

/// Hears (version, file) of each bundle installed.
pub type OnBundle = Arc<dyn Fn(u32, &Path) + Send + Sync>;

impl std::fmt::Debug for BundleSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleSink").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl SyncConfig {
    /// The defaults: poll every 30 s, heartbeat every 5 min, 20 s request timeout,
    /// backoff from 1 s to 5 min.
    pub fn new(server: impl Into<Office>, db: PathBuf) -> SyncConfig {
        SyncConfig {
            server: server.into(),
            db,
            poll: Duration::from_secs(30),
            heartbeat: Duration::from_secs(300),
            request_timeout: Duration::from_secs(20),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            bundles: None,
        }
    }
}

/// Why the tablet counts as offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfflineReason {
    /// No connection to the office.
    Unreachable,
    Timeout,
    /// The office answered 5xx or 429.
    ServerError(u16),
    /// The office's answer was cut off or unreadable.
    BadResponse,
    /// The local store could not be read or written (full disk, corrupt file).
    LocalStore,
}

/// What the UI shows about the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    Online {
        last_ok: DateTime<Utc>,
        outbox_len: u64,
        /// Items the round applied from the office (campaigns, weather, …): the app
        /// reads them from the store once, when there are any.
        pulled: u64,
    },
    Offline {
        since: DateTime<Utc>,
        outbox_len: u64,
        reason: OfflineReason,
    },
    /// No credentials, or the office refused the token (revoked): staff enrol again.
    /// Nothing is deleted meanwhile.
    NotEnrolled,
}

/// The parts the heartbeat reports, as the kiosk's workers see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeviceHealth {
    pub microphone: wire::PartHealth,
    pub reader: wire::PartHealth,
    pub speaker: wire::PartHealth,
    /// The dialect bundle the speech worker uses (`Some(None)`: the built-in model);
    /// `None` when no speech worker has said, as in `kiosk-agent`.
    pub dialect_in_use: Option<Option<u32>>,
}

impl DeviceHealth {
    /// The bundle the heartbeat reports: the one in use when the speech worker has
    /// said (a bundle that failed to open leaves the built-in model in use, and staff
    /// must see that), else the newest installed one.
    pub fn reported_bundle(&self, installed: Option<u32>) -> Option<u32> {
        self.dialect_in_use.unwrap_or(installed)
    }
}

/// Why enrolment failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("enrolment code refused (unknown, used or expired): ask staff for a new one")]
    CodeRefused,
    #[error("the office could not be reached or failed: {0}")]
    Call(#[from] CallError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot use {path} as the office's CA: {reason}")]
    OfficeCa { path: PathBuf, reason: String },
}

/// Exchanges a one-time enrolment code for a device token and saves it in the store
/// at `db`. Blocking: call it from a worker thread, never from the UI thread or inside
/// a tokio runtime.
pub fn enrol(server: &Office, code: &str, db: &Path) -> Result<Credentials, SyncError> {
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(SyncError::Runtime)?;
    let version = env!("CARGO_PKG_VERSION");
    let api = client::Api::new(server, Duration::from_secs(20), version)?;
    let retry_key = Store::open(db)?.enrol_key()?;
    let req = wire::EnrolRequest { code: code.trim().to_owned(), app_version: version.to_owned(), retry_key };
    let resp = rt.block_on(api.enrol(&req)).map_err(|e| match e {
        CallError::Unauthorized(_) => SyncError::CodeRefused,
        other => SyncError::Call(other),
    })?;
    let creds = Credentials { device_id: resp.device_id, token: resp.device_token };
    Store::open(db)?.save_credentials(&creds)?;
    Ok(creds)
}

/// Starts a sync round now, from any thread.
#[derive(Debug, Clone)]
pub struct Nudger(Arc<worker::Shared>);

impl Nudger {
    pub fn nudge(&self) {
        self.0.nudge.notify_one();
    }
}

/// The running worker. `nudge` starts a round now; dropping it (or `stop`) ends the
/// worker and waits for its thread.
#[derive(Debug)]
pub struct SyncHandle {
    shared: Arc<worker::Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Starts the worker thread. `health` is asked before each heartbeat;
    /// `on_status` hears the state after every round (from the worker thread: the UI
    /// hands it to its event loop).
    pub fn spawn(
        config: SyncConfig,
        health: impl Fn() -> DeviceHealth + Send + 'static,
        on_status: impl Fn(SyncStatus) + Send + 'static,
    ) -> std::io::Result<SyncHandle> {
        let shared = Arc::new(worker::Shared::default());
        let thread = std::thread::Builder::new().name("sync".to_owned()).spawn({
            let shared = shared.clone();
            move || worker::run(config, shared, Box::new(health), Box::new(on_status))
        })?;
        Ok(SyncHandle { shared, thread: Some(thread) })
    }

    /// Sync now (a help request was just recorded), even during a backoff wait.
    pub fn nudge(&self) {
        self.shared.nudge.notify_one();
    }

    /// A handle that can nudge from another thread (the store's, right after the
    /// commit of what must go now, so the round finds it).
    pub fn nudger(&self) -> Nudger {
        Nudger(self.shared.clone())
    }

    /// Stops the worker (an in-flight request is abandoned; the office's
    /// idempotency makes its resend safe) and waits for the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
