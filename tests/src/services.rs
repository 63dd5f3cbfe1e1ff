//! The office server and the headless tablet as real child processes, for scenarios
//! that kill them with SIGKILL: the `backend` binary on a fixed loopback port over a
//! SQLite file, and `kiosk-agent` runs over a kiosk database, each logging to a file
//! the privacy scan reads afterwards.

use std::fs::{File, OpenOptions};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::process::{ChildGuard, wait_until};

/// Paths of the binaries the scenarios run.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub backend: PathBuf,
    pub kiosk_agent: PathBuf,
}

/// `backend` and `kiosk-agent`, built once per process ([`crate::bins`]).
pub fn binaries() -> anyhow::Result<Binaries> {
    let bins = crate::bins::workspace_bins()?;
    Ok(Binaries { backend: bins.get("backend")?, kiosk_agent: bins.get("kiosk-agent")? })
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn log_file(path: &Path) -> anyhow::Result<(File, File)> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    Ok((f.try_clone()?, f))
}

/// True once `addr` answers `GET /healthz` with 200.
pub fn healthy(addr: SocketAddr) -> bool {
    let req = crate::fuzz::FuzzRequest {
        category: "health",
        raw: crate::fuzz::http("GET", "/healthz", &[], b""),
        half_close: false,
        expect: crate::fuzz::Expect::Refused,
    };
    matches!(crate::fuzz::send(addr, &req, Duration::from_secs(2)), Ok(Some(r)) if r.status == 200)
}

/// The office server as a child process on a fixed port, restartable on the same
/// database and port after a kill.
#[derive(Debug)]
pub struct BackendProcess {
    bin: PathBuf,
    pub db: PathBuf,
    pub log: PathBuf,
    pub addr: SocketAddr,
    child: Option<ChildGuard>,
    pub starts: u32,
    /// Passed as `--config` at every (re)start, when set.
    pub config: Option<PathBuf>,
}

impl BackendProcess {
    /// Starts `bin` over `dir/office.sqlite`, logging to `dir/office.log`.
    pub fn start(bin: &Path, dir: &Path) -> anyhow::Result<BackendProcess> {
        Self::start_configured(bin, dir, None)
    }

    /// As [`BackendProcess::start`], reading `config` (a TOML file) at every start.
    pub fn start_with_config(bin: &Path, dir: &Path, config: &Path) -> anyhow::Result<BackendProcess> {
        Self::start_configured(bin, dir, Some(config.to_owned()))
    }

    fn start_configured(bin: &Path, dir: &Path, config: Option<PathBuf>) -> anyhow::Result<BackendProcess> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let mut b = BackendProcess {
            bin: bin.to_owned(),
            db: dir.join("office.sqlite"),
            log: dir.join("office.log"),
            addr,
            child: None,
            starts: 0,
            config,
        };
        b.restart()?;
        Ok(b)
    }

    /// (Re)starts the server on the same port and database; waits for `/healthz`.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill9();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (out, err) = log_file(&self.log)?;
            let mut cmd = Command::new(&self.bin);
            if let Some(config) = &self.config {
                cmd.arg("--config").arg(config);
            }
            cmd.env("MIMAMORI_DATABASE", &self.db)
                .env("MIMAMORI_LISTEN", self.addr.to_string())
                .env("RUST_LOG", "info")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err);
            let mut child = ChildGuard::spawn("backend", &mut cmd)?;
            let up = wait_until("the backend's /healthz", Duration::from_secs(10), || {
                healthy(self.addr) || child.check_running().is_err()
            });
            if up.is_ok() && child.check_running().is_ok() {
                self.child = Some(child);
                self.starts += 1;
                return Ok(());
            }
            // The port may still be held by the killed process's sockets: try again.
            if Instant::now() > deadline {
                bail!("the backend did not come up on {} (see {})", self.addr, self.log.display());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGKILL, no goodbye; reaped.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.stop();
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The running server's process id (for its memory), if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(ChildGuard::pid)
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// How one `kiosk-agent` run behaves (its command-line flags).
#[derive(Debug, Clone, Default)]
pub struct AgentOptions {
    pub enrol_code: Option<String>,
    pub create: u64,
    pub interval_ms: u64,
    pub until_synced: bool,
    pub poll_ms: u64,
    pub backoff_max_ms: u64,
    pub timeout_ms: u64,
    pub max_db_kib: Option<u64>,
    pub clock_skew_s: i64,
    pub deadline_s: Option<u64>,
}

impl AgentOptions {
    fn args(&self, db: &Path, server: &str) -> Vec<String> {
        let mut a =
            vec!["--db".to_owned(), db.display().to_string(), "--server".to_owned(), server.to_owned()];
        let mut flag = |name: &str, value: String| {
            a.push(format!("--{name}"));
            a.push(value);
        };
        if let Some(c) = &self.enrol_code {
            flag("enrol-code", c.clone());
        }
        flag("create", self.create.to_string());
        flag("interval-ms", self.interval_ms.to_string());
        flag("poll-ms", self.poll_ms.max(1).to_string());
        flag("backoff-max-ms", self.backoff_max_ms.max(1).to_string());
        flag("timeout-ms", self.timeout_ms.max(1).to_string());
        flag("clock-skew-s", self.clock_skew_s.to_string());
        if let Some(k) = self.max_db_kib {
            flag("max-db-kib", k.to_string());
        }
        if let Some(d) = self.deadline_s {
            flag("deadline-s", d.to_string());
        }
        if self.until_synced {
            a.push("--until-synced".to_owned());
        }
        a
    }
}

/// The figures `kiosk-agent` prints as its last line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentReport {
    pub created: u64,
    pub created_seq: u64,
    pub outbox_len: u64,
    pub dead_letter: u64,
    pub full: u64,
}

/// One `kiosk-agent` process.
#[derive(Debug)]
pub struct AgentRun {
    child: ChildGuard,
    stdout: PathBuf,
}

impl AgentRun {
    /// Starts the agent; stderr is appended to `log`, stdout (its figures) to
    /// `log` with `.out` added.
    pub fn spawn(
        bin: &Path,
        db: &Path,
        server: &str,
        opts: &AgentOptions,
        log: &Path,
    ) -> anyhow::Result<AgentRun> {
        let stdout = log.with_extension("out");
        let (_, err) = log_file(log)?;
        let out = File::create(&stdout)?;
        let mut cmd = Command::new(bin);
        cmd.args(opts.args(db, server)).stdin(Stdio::null()).stdout(out).stderr(err);
        Ok(AgentRun { child: ChildGuard::spawn("kiosk-agent", &mut cmd)?, stdout })
    }

    /// SIGKILL at whatever point it has reached.
    pub fn kill9(mut self) {
        self.child.stop();
    }

    /// Waits for a clean exit and returns its figures.
    pub fn finish(mut self, timeout: Duration) -> anyhow::Result<AgentReport> {
        let status = self.child.wait_timeout(timeout)?;
        let text = std::fs::read_to_string(&self.stdout)?;
        if !status.success() {
            bail!("kiosk-agent exited with {status}; printed {text:?}");
        }
        let line = text.lines().last().context("kiosk-agent printed nothing")?;
        let v: serde_json::Value = serde_json::from_str(line).context("kiosk-agent's figures line")?;
        let n = |k: &str| v[k].as_u64().with_context(|| format!("no {k} in {line}"));
        Ok(AgentReport {
            created: n("created")?,
            created_seq: n("created_seq")?,
            outbox_len: n("outbox_len")?,
            dead_letter: n("dead_letter")?,
            full: n("full")?,
        })
    }
}
