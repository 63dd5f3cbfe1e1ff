//! Care logic: what the tablet asks, suggests and scores, as pure functions over data.
//!
//! Everything here is deterministic and testable without a screen, a clock, a
//! database or a network: callers pass today's date, weather and answers in, and get
//! plans, dialogue steps and scores out. Data (catalogue, calendar, dialogue) lives
//! in `assets/` so a town can change it without recompiling.
//!
//! Invariant: this crate does no I/O of its own beyond parsing the data text it is
//! given, and depends on no UI, SQL, HTTP or audio crate.

pub mod catalogue;
pub mod dialogue;
pub mod planner;
pub mod record;
pub mod score;
pub mod season;
pub mod speech;
pub mod understanding;
pub mod watch;
pub mod weather;
