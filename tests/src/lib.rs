//! The end-to-end harness: real services (Xvfb, pcscd, the virtual card, the backend,
//! an SMTP server) started by a test and stopped by PID when the guard drops; a
//! loopback fault proxy; a seeded generator of malformed tablet-API requests; a privacy
//! scan; and helpers to look at what the services produced (screenshots).
//!
//! Nothing here is a fake: a guard that cannot start its service returns an error
//! saying which package is missing (`cargo xtask setup` installs them all). The library
//! needs only std and pure-Rust crates (png, mail-parser), so xtask can link it before
//! setup has run.

pub mod bins;
pub mod fuzz;
pub mod image;
pub mod pcscd;
pub mod privacy;
pub mod process;
pub mod proxy;
pub mod rng;
pub mod services;
pub mod smtp;
pub mod xvfb;

pub use pcscd::{Pcscd, VirtualCardProcess};
pub use process::ChildGuard;
pub use proxy::{Fault, FaultPlan, FaultProxy, FaultStats};
pub use rng::Rng;
pub use xvfb::Xvfb;
