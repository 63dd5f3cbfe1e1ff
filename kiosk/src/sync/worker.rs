//! The worker's loop: rounds of upload, pull and heartbeat, then a wait (the poll
//! interval when all went well, a backoff delay when not) that a nudge cuts short.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::client::{Api, CallError, body_len};
use super::{DeviceHealth, OfflineReason, SyncConfig, SyncStatus};
use crate::store::{Credentials, Store, StoreError};

/// What the handle and the worker share.
#[derive(Debug, Default)]
pub struct Shared {
    pub nudge: Notify,
    halt: Notify,
    stopping: AtomicBool,
}

impl Shared {
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        // `notify_one` keeps a permit if the worker is not waiting yet.
        self.halt.notify_one();
    }
}

/// A single event the office refuses this many times in a row (alone in its
/// request, across backoff waits) is set aside as a dead letter. More than once, so
/// that a request mangled on the way (a proxy cutting a body) never costs an event.
const REFUSALS_BEFORE_DEAD_LETTER: u32 = 3;

/// Batches stay well under the office's body limit.
const MAX_BATCH_BYTES: usize = wire::MAX_BODY_BYTES / 2;

/// Why a round stopped early.
enum Failure {
    NotEnrolled,
    Call(CallError),
    Store(StoreError),
    /// A fetched file could not be written (full disk).
    Disk(std::io::Error),
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Unauthorized(_) => Failure::NotEnrolled,
            other => Failure::Call(other),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

type Health = Box<dyn Fn() -> DeviceHealth + Send>;
type OnStatus = Box<dyn Fn(SyncStatus) + Send>;

pub fn run(config: SyncConfig, shared: std::sync::Arc<Shared>, health: Health, on_status: OnStatus) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "sync worker cannot start its runtime");
            on_status(SyncStatus::Offline {
                since: Utc::now(),
                outbox_len: 0,
                reason: OfflineReason::LocalStore,
            });
            return;
        }
    };
    rt.block_on(async {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let mut worker = Worker {
            backoff: Backoff::new(config.backoff_min, config.backoff_max),
            api: Api::new(&config.server, config.request_timeout, &config.app_version),
            config,
            store: None,
            health,
            on_status,
            batch_limit: wire::MAX_BATCH_EVENTS,
            refusals: HashMap::new(),
            last_heartbeat: None,
            offline_since: None,
            outbox_len: 0,
            pulled: 0,
        };
        tokio::select! {
            _ = shared.halt.notified() => {}
            _ = worker.run(&shared) => {}
        }
    });
}

struct Worker {
    config: SyncConfig,
    api: Result<Api, CallError>,
    store: Option<Store>,
    health: Health,
    on_status: OnStatus,
    backoff: Backoff,
    /// Lowered while bisecting a batch the office refuses as a whole.
    batch_limit: usize,
    refusals: HashMap<wire::EventId, u32>,
    last_heartbeat: Option<Instant>,
    offline_since: Option<chrono::DateTime<Utc>>,
    outbox_len: u64,
    /// Items applied from the office in the current round.
    pulled: u64,
}

impl Worker {
    async fn run(&mut self, shared: &Shared) {
        loop {
            self.pulled = 0;
            let outcome = self.round().await;
            if let Some(store) = &self.store {
                self.outbox_len = store.outbox_len().unwrap_or(self.outbox_len);
            }
            let now = Utc::now();
            let (status, wait) = match outcome {
                Ok(()) => {
                    self.backoff.reset();
                    self.offline_since = None;
                    (
                        SyncStatus::Online { last_ok: now, outbox_len: self.outbox_len, pulled: self.pulled },
                        self.config.poll,
                    )
                }
                Err(Failure::NotEnrolled) => {
                    self.offline_since = None;
                    (SyncStatus::NotEnrolled, self.config.poll)
                }
                Err(failure) => {
                    let reason = match failure {
                        Failure::Store(e) => {
                            tracing::warn!(error = %e, "sync: local store failed");
                            // Reopen next round (the file may have been recovered).
                            self.store = None;
                            OfflineReason::LocalStore
                        }
                        Failure::Disk(e) => {
                            tracing::warn!(error = %e, "sync: cannot write a fetched file");
                            OfflineReason::LocalStore
                        }
                        Failure::Call(e) => {
                            tracing::debug!(error = %e, "sync round failed");
                            reason(&e)
                        }
                        Failure::NotEnrolled => OfflineReason::Unreachable,
                    };
                    let since = *self.offline_since.get_or_insert(now);
                    (
                        SyncStatus::Offline { since, outbox_len: self.outbox_len, reason },
                        self.backoff.next_delay(),
                    )
                }
            };
            (self.on_status)(status);
            tokio::select! {
                _ = shared.nudge.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn round(&mut self) -> Result<(), Failure> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.config.db)?);
        }
        let creds = self.store()?.device_credentials()?.ok_or(Failure::NotEnrolled)?;
        let api = self.api.clone().map_err(Failure::Call)?;
        self.upload(&api, &creds).await?;
        self.pull(&api, &creds).await?;
        self.fetch_dialect_bundle(&api, &creds).await?;
        let due = self.last_heartbeat.is_none_or(|t| t.elapsed() >= self.config.heartbeat);
        if due {
            let health = (self.health)();
            let app_version = self.config.app_version.clone();
            let store = self.store()?;
            let hb = wire::Heartbeat {
                app_version,
                microphone: health.microphone,
                reader: health.reader,
                speaker: health.speaker,
                free_storage_mib: store.free_storage_mib().unwrap_or(0),
                outbox_len: store.outbox_len()?,
                dialect_bundle: health
                    .reported_bundle(store.installed_dialect_bundle()?.map(|(version, _)| version)),
                device_time: Utc::now(),
            };
            api.heartbeat(&creds.token, &hb).await?;
            self.last_heartbeat = Some(Instant::now());
        }
        Ok(())
    }

    fn store(&mut self) -> Result<&mut Store, Failure> {
        self.store.as_mut().ok_or(Failure::Store(StoreError::Busy))
    }

    /// Sends the outbox oldest first, one acknowledged batch after another.
    async fn upload(&mut self, api: &Api, creds: &Credentials) -> Result<(), Failure> {
        loop {
            let limit = self.batch_limit;
            let mut events = self.store()?.outbox_batch(limit)?;
            if events.is_empty() {
                return Ok(());
            }
            let mut batch = wire::EventBatch { events: Vec::new() };
            std::mem::swap(&mut batch.events, &mut events);
            while batch.events.len() > 1 && body_len(&batch) > MAX_BATCH_BYTES {
                let keep = batch.events.len() / 2;
                batch.events.truncate(keep);
            }
            let ids: Vec<wire::EventId> = batch.events.iter().map(|e| e.id).collect();
            match api.upload(&creds.token, &batch).await {
                Ok(ack) => {
                    let done = self.store()?.apply_acks(&ids, &ack, Utc::now())?;
                    tracing::debug!(delivered = done.delivered, dead = done.dead, "batch acknowledged");
                    self.batch_limit = wire::MAX_BATCH_EVENTS;
                    for id in &ids {
                        self.refusals.remove(id);
                    }
                    if done.delivered + done.dead == 0 {
                        return Err(Failure::Call(CallError::BadResponse(
                            "no event of the batch acknowledged".into(),
                        )));
                    }
                }
                Err(CallError::Refused { status, .. }) if ids.len() > 1 => {
                    // One bad event spoils the request: halve until it stands alone.
                    tracing::debug!(status, events = ids.len(), "batch refused; splitting");
                    self.batch_limit = ids.len() / 2;
                }
                Err(CallError::Refused { status, reason }) => {
                    let n = self.refusals.entry(ids[0]).or_insert(0);
                    *n += 1;
                    if *n < REFUSALS_BEFORE_DEAD_LETTER {
                        return Err(Failure::Call(CallError::Refused { status, reason }));
                    }
                    self.refusals.remove(&ids[0]);
                    tracing::warn!(status, "event refused repeatedly; kept as a dead letter");
                    self.store()?.reject_event(ids[0], &format!("{status}: {reason}"), Utc::now())?;
                    self.batch_limit = wire::MAX_BATCH_EVENTS;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Pulls until the office has nothing more; each response is applied with its
    /// cursor in one transaction.
    async fn pull(&mut self, api: &Api, creds: &Credentials) -> Result<(), Failure> {
        loop {
            let before = self.store()?.pull_cursor()?;
            let resp = api.pull(&creds.token, before).await?;
            let done = self.store()?.apply_pull(&resp)?;
            self.pulled += done.applied;
            if done.skipped > 0 {
                tracing::debug!(skipped = done.skipped, "pull items skipped");
            }
            let after = self.store()?.pull_cursor()?;
            if !resp.more || after <= before {
                return Ok(());
            }
        }
    }
}

impl Worker {
    /// Fetches the newest announced dialect bundle newer than the installed one.
    /// A file that does not match its announcement is a bad response: the round
    /// fails and a later one tries again; nothing is written meanwhile.
    async fn fetch_dialect_bundle(&mut self, api: &Api, creds: &Credentials) -> Result<(), Failure> {
        let Some(sink) = self.config.bundles.clone() else { return Ok(()) };
        let Some(wanted) = self.store()?.wanted_dialect_bundle()? else { return Ok(()) };
        let bytes = api.dialect_bundle(&creds.token, wanted.version).await?;
        let sha = sha256_hex(&bytes);
        if sha != wanted.sha256 || bytes.len() as u64 != wanted.bytes {
            return Err(Failure::Call(CallError::BadResponse(format!(
                "dialect bundle {} does not match its announcement",
                wanted.version
            ))));
        }
        let path = sink.dir.join(format!("dialect-bundle-{}.txt", wanted.version));
        write_atomically(&path, &bytes).map_err(Failure::Disk)?;
        self.store()?.dialect_bundle_installed(wanted.version, &path)?;
        tracing::info!(version = wanted.version, "dialect bundle fetched");
        (sink.installed)(wanted.version, &path);
        Ok(())
    }
}

/// Write to a temporary file, fsync, rename over: a power cut leaves the old file or
/// the new one, never a torn one.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("part");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

fn reason(e: &CallError) -> OfflineReason {
    match e {
        CallError::Unreachable(_) | CallError::Insecure(_) => OfflineReason::Unreachable,
        CallError::Timeout => OfflineReason::Timeout,
        CallError::TooMany(_) => OfflineReason::ServerError(429),
        CallError::Server(s) | CallError::Refused { status: s, .. } | CallError::Unauthorized(s) => {
            OfflineReason::ServerError(*s)
        }
        CallError::BadResponse(_) => OfflineReason::BadResponse,
    }
}

/// Lower-case hex SHA-256 (fetched files are checked against their announcement's).
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
