//! A real SMTP server (`tests/smtp/smtpd.py` on aiosmtpd, from the venv that
//! `cargo xtask setup` makes) as a child process: the test steers its replies (accept,
//! 451, 550, slow, down) and reads the mail it accepted from a Maildir.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use mail_parser::MessageParser;

use crate::process::{ChildGuard, wait_until};
use crate::services::free_port;

/// One message the server delivered, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Addresses of the To header (not the envelope), names dropped.
    pub to: Vec<String>,
    /// The subject with RFC 2047 words decoded.
    pub subject: String,
    /// Without the angle brackets.
    pub message_id: String,
    /// The first text part, transfer encoding and charset undone.
    pub body: String,
    /// The bytes as the server received them.
    pub raw: Vec<u8>,
}

/// The server process; its port and Maildir survive [`SmtpServer::restart`].
#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    pub maildir: PathBuf,
    pub log: PathBuf,
    control: PathBuf,
    python: PathBuf,
    script: PathBuf,
    child: ChildGuard,
}

/// The venv's interpreter, looked up in the same order as `scripts/setup.sh`.
fn venv_python() -> anyhow::Result<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let cache = var("MIMAMORI_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("mimamori")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/mimamori")))
        .context("no MIMAMORI_CACHE, XDG_CACHE_HOME or HOME to find the SMTP server's venv in")?;
    let python = cache.join("venv-smtpd/bin/python");
    if !python.exists() {
        bail!("the SMTP server's venv is missing ({}); run `cargo xtask setup`", python.display());
    }
    Ok(python)
}

impl SmtpServer {
    /// Starts the server on a free port with its Maildir at `dir/maildir`, accepting
    /// everything; its output goes to `dir/smtpd.log`.
    pub fn start(dir: &Path) -> anyhow::Result<SmtpServer> {
        let python = venv_python()?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp/smtpd.py");
        let (port, maildir) = (free_port()?, dir.join("maildir"));
        let (control, log) = (dir.join("smtpd.control"), dir.join("smtpd.log"));
        // A directory used before may hold another test's mode.
        write_control(&control, "ok")?;
        let child = launch(&python, &script, port, &maildir, &control, &log)?;
        Ok(SmtpServer { port, maildir, log, control, python, script, child })
    }

    /// Makes the next messages get `mode`: `ok`, `tempfail` (451), `reject` (550) or
    /// `slow N` (N seconds, then accepted). Read by the server at each DATA.
    pub fn set(&self, mode: &str) {
        let words: Vec<&str> = mode.split_whitespace().collect();
        let valid = match words.as_slice() {
            ["ok" | "tempfail" | "reject"] => true,
            ["slow", n] => n.parse::<f64>().is_ok(),
            _ => false,
        };
        assert!(valid, "not an SMTP server mode: {mode:?}");
        write_control(&self.control, mode).unwrap_or_else(|e| panic!("{e:#}"));
    }

    /// SIGKILL: connections are refused until [`SmtpServer::restart`].
    pub fn stop(&mut self) {
        self.child.stop();
    }

    /// Starts the server again on the same port, Maildir and mode.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.child.stop();
        self.child = launch(&self.python, &self.script, self.port, &self.maildir, &self.control, &self.log)?;
        Ok(())
    }

    /// Every delivered message (`new/` and `cur/`), oldest first.
    pub fn messages(&self) -> anyhow::Result<Vec<Mail>> {
        let mut files: Vec<(SystemTime, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.maildir.join(sub);
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                // No mail yet: the server creates the Maildir as it starts.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("{}", dir.display())),
            };
            for entry in entries {
                let entry = entry?;
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                files.push((entry.metadata()?.modified()?, entry.path()));
            }
        }
        // Maildir names do not sort by time (their microseconds are not zero-padded).
        files.sort();
        files.iter().map(|(_, path)| read_mail(path)).collect()
    }

    /// Polls until at least `n` messages have been delivered; returns them all.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> anyhow::Result<Vec<Mail>> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.messages()?;
            if mails.len() >= n {
                return Ok(mails);
            }
            if Instant::now() > deadline {
                bail!(
                    "{} of {n} messages after {timeout:?} in {} (see {})",
                    mails.len(),
                    self.maildir.display(),
                    self.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Temp file + rename: the server never reads half a word.
fn write_control(control: &Path, mode: &str) -> anyhow::Result<()> {
    let tmp = control.with_extension("tmp");
    std::fs::write(&tmp, format!("{mode}\n"))
        .and_then(|()| std::fs::rename(&tmp, control))
        .with_context(|| format!("cannot write {}", control.display()))
}

/// Spawns the server and waits until it listens, retrying while the port is still
/// held (by the killed server's sockets, or briefly after `free_port`).
fn launch(
    python: &Path,
    script: &Path,
    port: u16,
    maildir: &Path,
    control: &Path,
    log_path: &Path,
) -> anyhow::Result<ChildGuard> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .with_context(|| format!("{}", log_path.display()))?;
        // Only a line written after this point is this start's; the log is appended.
        let from = log.metadata()?.len();
        let mut cmd = Command::new(python);
        cmd.arg(script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--maildir")
            .arg(maildir)
            .arg("--control")
            .arg(control)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let mut child = ChildGuard::spawn("smtpd.py", &mut cmd)?;
        // The line as well as the connect: another process may have taken the port.
        let listening = |from| {
            let mut text = String::new();
            let mut f = File::open(log_path).ok()?;
            f.seek(SeekFrom::Start(from)).ok()?;
            f.read_to_string(&mut text).ok()?;
            Some(text.contains(&format!("listening on {addr}")))
        };
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
        let up = wait_until("the SMTP server", left, || {
            child.check_running().is_err()
                || (listening(from) == Some(true)
                    && TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok())
        });
        if up.is_ok() && child.check_running().is_ok() {
            return Ok(child);
        }
        if Instant::now() > deadline {
            bail!("the SMTP server did not come up on {addr} (see {})", log_path.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn read_mail(path: &Path) -> anyhow::Result<Mail> {
    let raw = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let msg = MessageParser::default()
        .parse(&raw)
        .with_context(|| format!("{} is not a mail message", path.display()))?;
    let to = msg
        .to()
        .map(|a| a.iter().filter_map(|a| a.address()).map(str::to_owned).collect())
        .unwrap_or_default();
    let subject = msg.subject().unwrap_or_default().to_owned();
    let message_id = msg.message_id().unwrap_or_default().to_owned();
    let body = msg.body_text(0).map(|b| b.into_owned()).unwrap_or_default();
    drop(msg);
    Ok(Mail { to, subject, message_id, body, raw })
}
