//! The kiosk as a systemd service: readiness, the watchdog, and a clean exit when a
//! package upgrade has replaced the binary.
//!
//! The unit runs `cage -- kiosk`, so the kiosk is not the unit's main process; the unit
//! says `NotifyAccess=all`, and the watchdog's period is read from `WATCHDOG_USEC`
//! directly (`sd_notify::watchdog_enabled` would refuse it: `WATCHDOG_PID` is cage's).
//! Pings come from a timer on the UI thread, so a hung event loop stops them and
//! systemd restarts the session. Without `NOTIFY_SOCKET` (tests, demos, a desk) all of
//! this does nothing.

use std::path::Path;
use std::time::Duration;

/// How often to ping: a third of the watchdog's period, if systemd set one.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 3))
}

/// Tells systemd the kiosk is up (the idle screen is shown).
pub fn ready() {
    notify(&[sd_notify::NotifyState::Ready]);
}

/// Tells systemd the UI thread is alive.
pub fn alive() {
    notify(&[sd_notify::NotifyState::Watchdog]);
}

/// Without `NOTIFY_SOCKET` (not under systemd) `sd_notify::notify` sends nothing.
fn notify(state: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// Whether systemd supervises the kiosk and its binary has been replaced on disk (a
/// package upgrade): Linux then shows `/proc/self/exe` as "… (deleted)". The kiosk
/// exits when idle, and the unit's `Restart=always` starts the new one, so an upgrade
/// never cuts a resident off. Unsupervised (a demo, a test, a desk) nothing would
/// start it again, so a rebuild under a running kiosk changes nothing.
pub fn binary_replaced() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some() && replaced(Path::new("/proc/self/exe"))
}

fn replaced(exe: &Path) -> bool {
    std::fs::read_link(exe).is_ok_and(|target| target.to_string_lossy().ends_with(" (deleted)"))
}
