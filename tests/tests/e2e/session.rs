//! The tablet's session as its package runs it: the kiosk inside `cage` with only
//! Wayland to draw on (as on tty1), telling systemd through `NOTIFY_SOCKET` that it is
//! ready and alive, and leaving while idle when an upgrade has replaced its binary.
//!
//! cage refuses to run as root, so under root (CI) the session runs as `nobody` from a
//! private directory holding copies of the kiosk and its data, as the unit runs it as
//! its own user. A headless wlroots backend and the pixman renderer stand in for the
//! tablet's screen and GPU; nothing else is faked.

use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::process::ChildGuard;

/// `nobody`: the session's user when the tests run as root.
const NOBODY: u32 = 65534;
/// The watchdog period the unit sets (`WatchdogSec=`), shortened for the test.
const WATCHDOG_USEC: u64 = 1_500_000;

struct Session {
    dir: tempfile::TempDir,
    notify: UnixDatagram,
    child: ChildGuard,
}

impl Session {
    /// Starts `cage -d -- kiosk …` with the kiosk's `DISPLAY` removed, so it can only
    /// draw through Wayland.
    fn start(extra: &[&str]) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let bins = tests::bins::workspace_bins().unwrap();
        std::fs::create_dir(root.join("bin")).unwrap();
        std::fs::copy(bins.get("kiosk").unwrap(), root.join("bin/kiosk")).unwrap();
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
        let copied = Command::new("cp").arg("-a").arg(&assets).arg(root.join("data")).status().unwrap();
        assert!(copied.success(), "copying {}", assets.display());
        let notify = UnixDatagram::bind(root.join("notify.sock")).unwrap();
        std::fs::set_permissions(root.join("notify.sock"), std::fs::Permissions::from_mode(0o777)).unwrap();
        let uid = Command::new("id").arg("-u").output().unwrap().stdout;
        let as_root = String::from_utf8_lossy(&uid).trim() == "0";
        if as_root {
            let chown = Command::new("chown").args(["-R", &format!("{NOBODY}:{NOBODY}")]).arg(root).status();
            assert!(chown.unwrap().success());
        }
        let log = std::fs::File::create(root.join("session.log")).unwrap();
        let mut cmd = if as_root {
            let mut c = Command::new("setpriv");
            c.args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", "cage"]);
            c
        } else {
            Command::new("cage")
        };
        cmd.args(["-d", "--", "env", "-u", "DISPLAY"])
            .arg(root.join("bin/kiosk"))
            .arg("--db")
            .arg(root.join("kiosk.sqlite"))
            .arg("--data-dir")
            .arg(root.join("data"))
            .args(["--no-voice"])
            .args(extra)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env("HOME", root)
            .env("XDG_RUNTIME_DIR", root)
            .env("MIMAMORI_CACHE", root.join("cache"))
            .env("WLR_BACKENDS", "headless")
            .env("WLR_RENDERER", "pixman")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("NOTIFY_SOCKET", root.join("notify.sock"))
            .env("WATCHDOG_USEC", WATCHDOG_USEC.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = ChildGuard::spawn("cage", &mut cmd).unwrap();
        Session { dir, notify, child }
    }

    /// The next message to systemd, or `None` if none came within `wait`.
    fn message(&self, wait: Duration) -> Option<String> {
        self.notify.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.notify.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.message(Duration::from_secs(1)).is_some_and(|m| m.contains("READY=1")) {
                return;
            }
        }
        panic!("the kiosk never said READY=1; its log:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("session.log")).unwrap_or_default()
    }

    fn kiosk(&self) -> PathBuf {
        self.dir.path().join("bin/kiosk")
    }
}

#[test]
fn the_kiosk_runs_in_cage_on_wayland_and_tells_systemd_it_is_ready_and_alive() {
    let mut session = Session::start(&["--exit-after", "6"]);
    session.wait_ready();
    let shown = Instant::now();
    let mut pings = 0;
    while let Some(message) = session.message(Duration::from_secs(3)) {
        pings += message.lines().filter(|l| *l == "WATCHDOG=1").count();
    }
    let status = session.child.wait_timeout(Duration::from_secs(30)).unwrap();
    let log = session.log();
    assert!(status.success(), "cage and the kiosk exit cleanly ({status}); log:\n{log}");
    assert!(log.contains("idle screen shown"), "{log}");
    // A ping every WATCHDOG_USEC/3 = 0.5 s over the ~6 s the kiosk ran.
    let ran = shown.elapsed().as_secs_f64();
    eprintln!("session: {pings} watchdog pings in {ran:.1} s after READY=1");
    assert!(pings >= 8, "expected a ping every 0.5 s for about 6 s, got {pings}; log:\n{log}");
}

#[test]
fn an_upgraded_kiosk_binary_leaves_while_idle_so_the_unit_starts_the_new_one() {
    // A guard: a kiosk that never noticed would otherwise run until the test times out.
    let mut session = Session::start(&["--exit-after", "60"]);
    session.wait_ready();
    std::thread::sleep(Duration::from_secs(3));
    session.child.check_running().expect("an unchanged kiosk keeps running");
    // What dpkg does: the new file is written beside the old and renamed over it.
    let new = session.dir.path().join("bin/kiosk.dpkg-new");
    std::fs::copy(session.kiosk(), &new).unwrap();
    std::fs::rename(&new, session.kiosk()).unwrap();
    let replaced = Instant::now();
    let status = session.child.wait_timeout(Duration::from_secs(20)).unwrap();
    let log = session.log();
    assert!(status.success(), "{status}; log:\n{log}");
    assert!(replaced.elapsed() < Duration::from_secs(10), "left {:?} after the upgrade", replaced.elapsed());
    assert!(log.contains("binary was replaced"), "{log}");
}

#[test]
fn a_setting_the_tablet_cannot_use_is_logged_and_the_kiosk_still_starts() {
    // Under `Restart=always` an exit here would be a blank screen restarting forever.
    let args = ["--exit-after", "4", "--server", "http://127.0.0.1:9/", "--office-ca", "/nonexistent/ca.pem"];
    let mut session = Session::start(&[&args[..], &["--card-trust", "/nonexistent/card-trust"]].concat());
    session.wait_ready();
    let status = session.child.wait_timeout(Duration::from_secs(30)).unwrap();
    let log = session.log();
    assert!(status.success(), "{status}; log:\n{log}");
    assert!(log.contains("office CA is unusable") && log.contains("/nonexistent/ca.pem"), "{log}");
    assert!(log.contains("card trust unusable") && log.contains("/nonexistent/card-trust"), "{log}");
}
