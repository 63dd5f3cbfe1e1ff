//! A real pcscd with vsmartcard's vpcd readers, and the virtual My Number card
//! process that plugs into them. Both are stopped by PID when their guards drop.
//!
//! pcscd runs in the foreground with a private reader configuration (only vpcd, or
//! no readers at all) on the system socket, `/run/pcscd/pcscd.comm`, which is where
//! libpcsclite looks. vpcd listens on TCP 35963 and 35964 (all interfaces): test
//! machines only, never a kiosk.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::process::{ChildGuard, wait_until};

const SOCKET: &str = "/run/pcscd/pcscd.comm";
const PID_FILE: &str = "/run/pcscd/pcscd.pid";
const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// vpcd's first port; the second reader listens on the next one.
pub const VPCD_PORT: u16 = 35963;
/// Reader names pcscd gives vpcd's two slots.
pub const VPCD_READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];

/// A running pcscd.
#[derive(Debug)]
pub struct Pcscd {
    child: ChildGuard,
    config_dir: PathBuf,
}

impl Pcscd {
    /// pcscd with vpcd's two virtual readers, ready when vpcd listens.
    pub fn start() -> anyhow::Result<Self> {
        anyhow::ensure!(Path::new(VPCD_DRIVER).is_file(), "{VPCD_DRIVER} missing: install vsmartcard-vpcd");
        let conf = format!(
            "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x{VPCD_PORT:04X}\nLIBPATH {VPCD_DRIVER}\nCHANNELID 0x{VPCD_PORT:04X}\n"
        );
        Self::start_with(Some(&conf))
    }

    /// pcscd with no reader at all.
    pub fn start_without_readers() -> anyhow::Result<Self> {
        Self::start_with(None)
    }

    fn start_with(vpcd_conf: Option<&str>) -> anyhow::Result<Self> {
        // vpcd cannot bind its port while the last pcscd's connections on it linger
        // (TIME_WAIT, up to a minute after a journey that held a card): a pcscd that
        // does not listen in time is stopped and started again, for up to ~80 s.
        let mut tries = 0;
        loop {
            tries += 1;
            match Self::start_once(vpcd_conf) {
                Ok(pcscd) => return Ok(pcscd),
                Err(e) if tries < 4 && vpcd_conf.is_some() && e.to_string().contains("timed out") => {
                    eprintln!("pcscd did not listen (try {tries}): {e:#}; starting it again");
                    std::thread::sleep(Duration::from_secs(10));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn start_once(vpcd_conf: Option<&str>) -> anyhow::Result<Self> {
        clear_stale_files()?;
        let config_dir = std::env::temp_dir().join(format!("mimamori-pcscd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&config_dir);
        std::fs::create_dir_all(&config_dir).context("creating pcscd's reader.conf.d")?;
        if let Some(conf) = vpcd_conf {
            std::fs::write(config_dir.join("vpcd"), conf)?;
        }
        let child = ChildGuard::spawn(
            "pcscd (apt-get install pcscd)",
            Command::new("pcscd")
                .args(["--foreground", "--config"])
                .arg(&config_dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        // Owned from here: a pcscd that does not come up is stopped by `Drop`.
        let mut pcscd = Self { child, config_dir };
        let vpcd = vpcd_conf.is_some();
        wait_until("pcscd to listen", Duration::from_secs(10), || {
            Path::new(SOCKET).exists() && (!vpcd || tcp_listening(VPCD_PORT))
                || pcscd.child.check_running().is_err()
        })?;
        pcscd.child.check_running().context("pcscd (is another pcscd running?)")?;
        Ok(pcscd)
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Stops pcscd gracefully (SIGTERM, so it removes its socket), then by force.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.pid().to_string()]).status();
        let _ = self.child.wait_timeout(Duration::from_secs(5));
        self.child.stop();
        let _ = std::fs::remove_dir_all(&self.config_dir);
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Removes the socket and PID file of a pcscd that is no longer alive; fails if
/// one is alive (a system pcscd would steal the test's readers).
fn clear_stale_files() -> anyhow::Result<()> {
    if let Ok(pid) = std::fs::read_to_string(PID_FILE) {
        let pid = pid.trim();
        if !pid.is_empty() && Path::new(&format!("/proc/{pid}")).exists() {
            bail!("another pcscd (PID {pid}) is running: stop it before the card tests");
        }
    }
    let _ = std::fs::remove_file(PID_FILE);
    let _ = std::fs::remove_file(SOCKET);
    Ok(())
}

/// Whether something listens on TCP `port` (read from /proc, without connecting:
/// a connection to vpcd would count as a card insertion).
pub fn tcp_listening(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|file| {
        std::fs::read_to_string(file).is_ok_and(|text| {
            text.lines().skip(1).any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3 && format!("{} ", cols[1]).ends_with(&needle) && cols[3] == "0A"
            })
        })
    })
}

/// The virtual card binary, built on first use ([`crate::bins`]).
pub fn virtual_card_binary() -> anyhow::Result<PathBuf> {
    crate::bins::workspace_bins()?.get("virtual-mynumber-card")
}

/// A running `virtual-mynumber-card` process.
#[derive(Debug)]
pub struct VirtualCardProcess {
    child: ChildGuard,
}

impl VirtualCardProcess {
    /// Starts the card with these arguments (`--port`, `--pki-dir`, …). It inserts
    /// itself once pcscd's vpcd accepts it; wait for that with the card client.
    pub fn start(args: &[&str]) -> anyhow::Result<Self> {
        let bin = virtual_card_binary()?;
        let mut child = ChildGuard::spawn(
            "virtual-mynumber-card",
            Command::new(bin).args(args).stdout(Stdio::null()).stderr(Stdio::null()),
        )?;
        std::thread::sleep(Duration::from_millis(20));
        child.check_running()?;
        Ok(Self { child })
    }

    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Pulls the card: kills the process, so vpcd sees the connection drop.
    pub fn pull(mut self) {
        self.child.stop();
    }

    /// Waits for the process to exit by itself (after a configured removal).
    pub fn wait_exit(&mut self, timeout: Duration) -> anyhow::Result<()> {
        self.child.wait_timeout(timeout).map(|_| ())
    }
}
