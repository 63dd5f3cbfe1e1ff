//! xtask: the project's automation as Rust, run as `cargo xtask <command>`.
//!
//! It builds with pure-Rust dependencies only, so it runs on a fresh machine before
//! the system packages it installs are there.

pub mod tidy;

use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's directory).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}
