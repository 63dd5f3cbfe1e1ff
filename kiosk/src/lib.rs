//! The resident tablet: views in `ui/` (Slint), adapters that connect each view's
//! global to a plain controller, and workers that own the model, audio, the card and
//! the network.
//!
//! Controllers are plain Rust and testable without a window; adapters are the only
//! code that touches both Slint and controllers.
//!
//! Invariant: the kiosk never opens the backend's database; it reaches the office
//! only through the tablet API and the `wire` types.

/// The Slint-generated views and globals. Generated code is not held to our lints.
#[allow(missing_debug_implementations, elided_lifetimes_in_paths, clippy::all, clippy::todo)]
mod ui {
    slint::include_modules!();
}
pub use ui::*;

pub mod app;
pub mod audio;
pub mod card;
pub mod convert;
pub mod flow;
pub mod idle;
pub mod phrases;
pub mod screens;
pub mod session;
pub mod speech;
pub mod staff_pin;
pub mod store;
pub mod sync;
pub mod views;
