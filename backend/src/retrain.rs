//! The dialect dictionary retrained from staff corrections: the office runs the
//! tablet's own `dialect-model retrain` as a child process (the server links no speech
//! or training code), with a time limit, one run at a time, in a private temporary
//! directory, and reads back its one-line verdict and the bundle it wrote.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::config::RetrainConfig;

/// The figures `dialect-model retrain` prints on its last line (`key=value` pairs):
/// the dictionary in use ("before") and the new one ("after") on the same held-out
/// answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub accepted: bool,
    pub heldout: usize,
    pub before: usize,
    pub after: usize,
    pub critical: usize,
    pub before_critical: usize,
    pub after_critical: usize,
    pub calm: usize,
    pub before_false_alarms: usize,
    pub after_false_alarms: usize,
    pub corrections: usize,
    pub heldout_corrections: usize,
    pub learnt: usize,
}

impl std::str::FromStr for Verdict {
    type Err = RetrainError;

    fn from_str(line: &str) -> Result<Self, RetrainError> {
        let unreadable = || RetrainError::Unreadable(line.chars().take(300).collect());
        let rest = line.strip_prefix("retrain: ").ok_or_else(unreadable)?;
        let mut v = Verdict::default();
        for pair in rest.split_whitespace() {
            let (key, value) = pair.split_once('=').ok_or_else(unreadable)?;
            if key == "accepted" {
                v.accepted = match value {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(unreadable()),
                };
                continue;
            }
            let n: usize = value.parse().map_err(|_| unreadable())?;
            let slot = match key {
                "heldout" => &mut v.heldout,
                "before" => &mut v.before,
                "after" => &mut v.after,
                "critical" => &mut v.critical,
                "before_critical" => &mut v.before_critical,
                "after_critical" => &mut v.after_critical,
                "calm" => &mut v.calm,
                "before_false_alarms" => &mut v.before_false_alarms,
                "after_false_alarms" => &mut v.after_false_alarms,
                "corrections" => &mut v.corrections,
                "heldout_corrections" => &mut v.heldout_corrections,
                "learnt" => &mut v.learnt,
                // A newer dialect-model may report more; what is known is enough.
                _ => continue,
            };
            *slot = n;
        }
        if v.heldout == 0 {
            return Err(unreadable());
        }
        Ok(v)
    }
}

/// A finished retraining: the new bundle when it was not worse.
#[derive(Debug)]
pub struct Retrained {
    pub verdict: Verdict,
    /// The verdict line as `dialect-model` printed it (how the office keeps it).
    pub line: String,
    pub bundle: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetrainError {
    #[error("a retraining is already running")]
    Busy,
    #[error("cannot start {program}: {source}")]
    Spawn { program: PathBuf, source: std::io::Error },
    #[error("stopped after {0:?}")]
    TimedOut(Duration),
    #[error("dialect-model retrain failed ({status}): {first_line}")]
    Failed { status: std::process::ExitStatus, first_line: String },
    #[error("unreadable verdict: {0}")]
    Unreadable(String),
    #[error("retraining files: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs retrainings, one at a time.
#[derive(Debug)]
pub struct Retrainer {
    program: PathBuf,
    data_dir: Option<PathBuf>,
    timeout: Duration,
    running: tokio::sync::Mutex<()>,
}

impl Retrainer {
    pub fn new(config: &RetrainConfig) -> Self {
        Self {
            program: config.program.clone().unwrap_or_else(beside_this_binary),
            data_dir: config.data_dir.clone(),
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Retrains on `corrections` (the TSV the export gives) over `base` (the newest
    /// published bundle, if any) into a bundle numbered `version`. A second call while
    /// one runs is refused at once rather than queued: two staff pressing the button
    /// together must not train twice.
    pub async fn run(
        &self,
        corrections: &str,
        base: Option<&[u8]>,
        version: u32,
    ) -> Result<Retrained, RetrainError> {
        let _running = self.running.try_lock().map_err(|_| RetrainError::Busy)?;
        let dir = tempfile::Builder::new().prefix("mimamori-retrain").tempdir()?;
        let (input, out, base_file) =
            (dir.path().join("corrections.tsv"), dir.path().join("bundle.txt"), dir.path().join("base.txt"));
        tokio::fs::write(&input, corrections).await?;
        let mut cmd = tokio::process::Command::new(&self.program);
        if let Some(data) = &self.data_dir {
            cmd.arg("--data-dir").arg(data);
        }
        cmd.arg("retrain").arg("--corrections").arg(&input).arg("--out").arg(&out);
        cmd.arg("--version").arg(version.to_string());
        if let Some(base) = base {
            tokio::fs::write(&base_file, base).await?;
            cmd.arg("--base").arg(&base_file);
        }
        // A run that times out, or whose request is dropped, is killed, not left behind.
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        cmd.env_remove("RUST_BACKTRACE");
        let child =
            cmd.spawn().map_err(|source| RetrainError::Spawn { program: self.program.clone(), source })?;
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| RetrainError::TimedOut(self.timeout))??;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        // Exit 0 is a written bundle, 3 a refusal; anything else failed before a verdict.
        if !matches!(output.status.code(), Some(0 | 3)) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first_line = stderr.lines().next().unwrap_or_default().chars().take(300).collect();
            return Err(RetrainError::Failed { status: output.status, first_line });
        }
        let verdict: Verdict = last.parse()?;
        let bundle = if verdict.accepted { Some(tokio::fs::read_to_string(&out).await?) } else { None };
        Ok(Retrained { verdict, line: last.trim().to_owned(), bundle })
    }
}

fn beside_this_binary() -> PathBuf {
    let beside = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.join("dialect-model")));
    beside.filter(|p| Path::is_file(p)).unwrap_or_else(|| "dialect-model".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_line_is_read_and_a_damaged_one_refused() {
        let v: Verdict = "retrain: accepted=no heldout=37 before=23 after=19 critical=2 before_critical=2 \
                          after_critical=2 calm=35 before_false_alarms=2 after_false_alarms=1 corrections=57 \
                          heldout_corrections=13 learnt=31 someday=4"
            .parse()
            .unwrap();
        assert_eq!(
            (v.accepted, v.heldout, v.before, v.after, v.corrections, v.learnt),
            (false, 37, 23, 19, 57, 31)
        );
        for bad in [
            "",
            "retrain: accepted=maybe heldout=3",
            "retrain: heldout=x",
            "Error: no",
            "retrain: accepted=yes",
        ] {
            assert!(bad.parse::<Verdict>().is_err(), "{bad}");
        }
    }
}
