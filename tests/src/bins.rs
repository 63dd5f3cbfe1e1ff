//! The workspace's binaries (backend, kiosk, kiosk-agent, the virtual card) for tests
//! that run them as child processes, built once per process by one cargo command.
//!
//! A test binary's dev-dependencies give it libraries, not other packages' binaries.
//! The build asks for every binary *and* every test target of the workspace, because
//! cargo resolves features per command: that is exactly the set `cargo test
//! --workspace` builds, so inside a test run it finds everything fresh and compiles
//! nothing, where a narrower `-p kiosk --bin kiosk` would compile Slint, Whisper and
//! their dependants a second time with other features (gigabytes of disk on CI).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::{Context as _, bail};

/// Paths of the workspace's binaries, by target name.
#[derive(Debug, Clone)]
pub struct WorkspaceBins {
    by_name: HashMap<String, PathBuf>,
}

impl WorkspaceBins {
    /// The executable of bin target `name`, e.g. `"kiosk-agent"`.
    pub fn get(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.by_name.get(name).with_context(|| format!("the workspace has no binary {name:?}"))?;
        if !path.is_file() {
            bail!("{} is missing", path.display());
        }
        Ok(path.clone())
    }
}

/// Builds the workspace's binaries once per process (dev profile, the workspace's
/// target directory) and returns their paths; with `MIMAMORI_BINARIES=DIR`, takes them
/// from `DIR` unbuilt (a long soak runs on copies, so that rebuilding the workspace
/// meanwhile does not swap the binaries under it).
pub fn workspace_bins() -> anyhow::Result<&'static WorkspaceBins> {
    static BUILT: OnceLock<Result<WorkspaceBins, String>> = OnceLock::new();
    BUILT.get_or_init(|| build().map_err(|e| format!("{e:#}"))).as_ref().map_err(anyhow::Error::msg)
}

const NAMES: &[&str] = &["backend", "kiosk", "kiosk-agent", "virtual-mynumber-card", "dialect-model"];

fn build() -> anyhow::Result<WorkspaceBins> {
    if let Some(dir) = std::env::var_os("MIMAMORI_BINARIES").map(PathBuf::from) {
        let by_name = NAMES.iter().map(|n| ((*n).to_owned(), dir.join(n))).collect();
        return Ok(WorkspaceBins { by_name });
    }
    let root = workspace_root()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["build", "--quiet", "--workspace", "--bins", "--tests", "--message-format", "json"])
        .current_dir(&root)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {cargo} build"))?;
    if !out.status.success() {
        bail!("`cargo build --workspace --bins --tests` failed in {}", root.display());
    }
    let by_name = executables(&String::from_utf8_lossy(&out.stdout));
    for name in NAMES {
        if !by_name.contains_key(*name) {
            bail!("cargo did not report the {name} executable");
        }
    }
    Ok(WorkspaceBins { by_name })
}

/// The running test's workspace: its manifest directory at run time first, because the
/// one compiled in can name another checkout when a target directory is shared.
fn workspace_root() -> anyhow::Result<PathBuf> {
    let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("Cargo.toml").is_file())
        .unwrap_or(compiled_in);
    let mut dir = manifest.as_path();
    // Up to the virtual manifest (the one with `[workspace]`).
    loop {
        let toml = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if toml.lines().any(|l| l.trim() == "[workspace]") {
            return Ok(dir.to_path_buf());
        }
        dir = dir.parent().with_context(|| format!("no workspace above {}", manifest.display()))?;
    }
}

/// Bin-target executables from cargo's JSON messages (`compiler-artifact` lines).
fn executables(json_lines: &str) -> HashMap<String, PathBuf> {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["kind"][0] == "bin")
        .filter(|m| m["profile"]["test"] == false)
        .filter_map(|m| {
            let name = m["target"]["name"].as_str()?.to_owned();
            Some((name, PathBuf::from(m["executable"].as_str()?)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::executables;

    #[test]
    fn only_bin_executables_are_taken_not_their_unit_test_harnesses() {
        let lines = [
            r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"kiosk"},"profile":{"test":false},"executable":"/t/debug/kiosk"}"#,
            r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"kiosk"},"profile":{"test":true},"executable":"/t/debug/deps/kiosk-1234"}"#,
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"care"},"profile":{"test":false},"executable":null}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        let got = executables(&lines);
        assert_eq!(got.len(), 1);
        assert_eq!(got["kiosk"], std::path::Path::new("/t/debug/kiosk"));
    }
}
