//! A private X server (Xvfb) at 1280×800, for running the kiosk window headless and
//! taking screenshots of it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::process::{ChildGuard, wait_until};

/// A running Xvfb on its own display number; killed when dropped.
#[derive(Debug)]
pub struct Xvfb {
    number: u32,
    display: String,
    server: ChildGuard,
}

impl Xvfb {
    /// Starts Xvfb on a free display, 1280×800×24. The server chooses the display
    /// itself (`-displayfd`: it claims one with its lock file and writes the number once
    /// it listens), so journeys starting at the same moment never share one; choosing
    /// here first raced, and one journey's kiosk lost its display when the other ended.
    pub fn start() -> anyhow::Result<Self> {
        let mut server = ChildGuard::spawn(
            "Xvfb (Debian package xvfb)",
            Command::new("Xvfb")
                .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )?;
        let stdout = server.take_stdout().context("Xvfb's standard output")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
            let _ = tx.send(line);
        });
        let line =
            rx.recv_timeout(Duration::from_secs(10)).context("Xvfb did not say its display in 10 s")?;
        let number: u32 =
            line.trim().parse().with_context(|| format!("Xvfb said {line:?}, not a display"))?;
        server.check_running()?;
        let socket = format!("/tmp/.X11-unix/X{number}");
        wait_until("the Xvfb socket", Duration::from_secs(10), || Path::new(&socket).exists())?;
        Ok(Self { number, display: format!(":{number}"), server })
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
