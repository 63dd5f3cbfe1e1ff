//! The end-to-end harness: real services (Xvfb now; pcscd, the virtual card and the
//! backend as they land) started by a test and stopped by PID when the guard drops,
//! plus helpers to look at what they produced (screenshots).
//!
//! Nothing here is a fake: a guard that cannot start its service returns an error
//! saying which package is missing (`cargo xtask setup` installs them all).

pub mod image;
pub mod pcscd;
pub mod process;
pub mod xvfb;

pub use pcscd::{Pcscd, VirtualCardProcess};
pub use process::ChildGuard;
pub use xvfb::Xvfb;
