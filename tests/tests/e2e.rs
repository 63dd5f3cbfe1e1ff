//! End-to-end tests across crates with real parts: a real backend on a loopback
//! socket over a real SQLite file, the loopback fault proxy, the headless tablet agent
//! as a child process, and the privacy scan over everything they leave behind.

#[path = "e2e/support.rs"]
mod support;

#[path = "e2e/attacks.rs"]
mod attacks;
#[path = "e2e/fuzz.rs"]
mod fuzz;
#[path = "e2e/journey.rs"]
mod journey;
#[path = "e2e/notify.rs"]
mod notify;
#[path = "e2e/privacy.rs"]
mod privacy;
#[path = "e2e/retrain.rs"]
mod retrain;
#[path = "e2e/session.rs"]
mod session;
#[path = "e2e/soak.rs"]
mod soak;
#[path = "e2e/wire_props.rs"]
mod wire_props;
