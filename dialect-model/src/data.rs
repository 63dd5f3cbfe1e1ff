//! Where the product's data files live: one directory (the repository's `assets/`, or
//! its installed copy), found the same way by every binary.
//!
//! Search order, first match wins:
//! 1. the `--data-dir` flag, passed to [`choose`] once at start;
//! 2. the `MIMAMORI_DATA` environment variable;
//! 3. [`INSTALLED`] (`/usr/share/mimamori`), where the packages put it;
//! 4. the checkout this binary was built from, for development.
//!
//! A flag or variable naming a directory that does not exist is an error, never a
//! silent fall-through: a tablet must not run on a different dictionary than staff set.
//! The downloaded Whisper model and compiled reading dictionary are not here: they
//! live in the model cache ([`crate::model::ModelPaths`]).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The environment variable naming the data directory.
pub const ENV: &str = "MIMAMORI_DATA";
/// Where the Debian packages install the data.
pub const INSTALLED: &str = "/usr/share/mimamori";
/// The checkout's data, for `cargo run`; absent on an installed system.
const CHECKOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets");

static CHOSEN: OnceLock<PathBuf> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("data directory {0} (from {1}) does not exist")]
    Missing(PathBuf, &'static str),
    #[error(
        "no data directory: give --data-dir, set {ENV}, or install the package (looked in {INSTALLED} and {CHECKOUT})"
    )]
    NotFound,
    #[error("the data directory was already chosen as {0}")]
    AlreadyChosen(PathBuf),
}

/// Decides this process's data directory; call once, before any data file is read.
pub fn choose(flag: Option<&Path>) -> Result<&'static Path, DataDirError> {
    let found = locate(flag, std::env::var_os(ENV).map(PathBuf::from))?;
    let chosen = CHOSEN.get_or_init(|| found.clone());
    if *chosen != found {
        return Err(DataDirError::AlreadyChosen(chosen.clone()));
    }
    Ok(chosen)
}

/// This process's data directory: the one [`choose`] picked, else found without a flag.
/// When none exists, the installed location, so that a load names a real path in its error.
pub fn dir() -> &'static Path {
    CHOSEN.get_or_init(|| locate(None, std::env::var_os(ENV).map(PathBuf::from)).unwrap_or(INSTALLED.into()))
}

/// A data file by its path inside the data directory (`dialect/lexicon.tsv`).
pub fn path(relative: &str) -> PathBuf {
    dir().join(relative)
}

/// The search itself, without the process-wide choice (tested directly).
pub fn locate(flag: Option<&Path>, env: Option<PathBuf>) -> Result<PathBuf, DataDirError> {
    if let Some(flag) = flag {
        return existing(flag.to_path_buf(), "--data-dir");
    }
    if let Some(env) = env.filter(|e| !e.as_os_str().is_empty()) {
        return existing(env, ENV);
    }
    [INSTALLED, CHECKOUT].into_iter().map(PathBuf::from).find(|p| p.is_dir()).ok_or(DataDirError::NotFound)
}

fn existing(dir: PathBuf, from: &'static str) -> Result<PathBuf, DataDirError> {
    if dir.is_dir() { Ok(dir) } else { Err(DataDirError::Missing(dir, from)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_beats_the_environment_and_a_missing_one_is_an_error() {
        let here = std::env::temp_dir();
        let elsewhere = PathBuf::from(CHECKOUT);
        assert_eq!(locate(Some(&here), Some(elsewhere.clone())).unwrap(), here);
        assert_eq!(locate(None, Some(elsewhere.clone())).unwrap(), elsewhere);
        let gone = here.join("mimamori-no-such-dir");
        assert!(matches!(locate(Some(&gone), None), Err(DataDirError::Missing(_, "--data-dir"))));
        assert!(matches!(locate(None, Some(gone)), Err(DataDirError::Missing(_, ENV))));
        // Empty means unset, as shells write it.
        assert!(locate(None, Some(PathBuf::new())).is_ok());
    }
}
