//! A private X server (Xvfb) at 1280×800, for running the kiosk window headless and
//! taking screenshots of it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::process::{ChildGuard, wait_until};

/// Whether display `n` is claimed by a live X server. A lock left by a killed
/// server (its PID gone) is stale and is removed.
fn display_in_use(n: u32) -> bool {
    let lock = format!("/tmp/.X{n}-lock");
    let Ok(text) = std::fs::read_to_string(&lock) else {
        return Path::new(&lock).exists();
    };
    match text.trim().parse::<u32>() {
        Ok(pid) if Path::new(&format!("/proc/{pid}")).exists() => true,
        Ok(_) => {
            let _ = std::fs::remove_file(&lock);
            let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
            false
        }
        Err(_) => true,
    }
}

/// A running Xvfb on its own display number; killed when dropped.
#[derive(Debug)]
pub struct Xvfb {
    number: u32,
    display: String,
    server: ChildGuard,
}

impl Xvfb {
    /// Starts Xvfb on the first free display from :90 up, 1280×800×24.
    pub fn start() -> anyhow::Result<Self> {
        for n in 90..190 {
            // The lock file is how X servers claim a display; racing tests skip on.
            if display_in_use(n) {
                continue;
            }
            let display = format!(":{n}");
            let mut server = ChildGuard::spawn(
                "Xvfb (Debian package xvfb)",
                Command::new("Xvfb")
                    .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null()),
            )?;
            let socket = format!("/tmp/.X11-unix/X{n}");
            let ready = wait_until("the Xvfb socket", Duration::from_secs(10), || {
                Path::new(&socket).exists() || server.check_running().is_err()
            });
            if ready.is_ok() && server.check_running().is_ok() {
                return Ok(Self { number: n, display, server });
            }
        }
        bail!("no free X display between :90 and :189")
    }

    /// The `DISPLAY` value for clients.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Whether a window titled exactly `title` exists (from `xwininfo`'s tree, which
    /// handles UTF-8 titles where `xdotool --name` does not).
    pub fn has_window(&self, title: &str) -> bool {
        Command::new("xwininfo")
            .args(["-root", "-tree"])
            .env("DISPLAY", &self.display)
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains(&format!("\"{title}\":")))
    }

    /// A finger's tap at (x, y): the pointer moves there and clicks (`xdotool`, XTEST),
    /// as a touch screen's driver reports a tap to the window.
    pub fn tap(&self, x: u32, y: u32) -> anyhow::Result<()> {
        let status = Command::new("xdotool")
            .args(["mousemove", &x.to_string(), &y.to_string(), "click", "1"])
            .env("DISPLAY", &self.display)
            .status()
            .context("cannot run `xdotool` (Debian package xdotool)")?;
        if !status.success() {
            bail!("xdotool could not tap at {x},{y}");
        }
        Ok(())
    }

    /// A PNG screenshot of the whole screen (ImageMagick's `import`).
    pub fn screenshot_png(&self) -> anyhow::Result<Vec<u8>> {
        let out = Command::new("import")
            .args(["-window", "root", "png:-"])
            .env("DISPLAY", &self.display)
            .output()
            .context("cannot run `import` (Debian package imagemagick)")?;
        if !out.status.success() {
            bail!("screenshot failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(out.stdout)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // Killed by PID, Xvfb cannot remove its lock and socket: do it for it.
        self.server.stop();
        let _ = std::fs::remove_file(format!("/tmp/.X{}-lock", self.number));
        let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{}", self.number));
    }
}
