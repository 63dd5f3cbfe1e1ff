//! The welfare-office server: the tablet API, the dashboard for officers and staff,
//! and the background jobs (escalation, campaign deadlines), in one binary.
//!
//! Layers: `routes` maps URLs to handlers; handlers talk to the `store` boundary
//! and never see SQL; `store` owns the database. `startup::Application` wires them
//! together so tests can start a whole server on port 0.
//!
//! Invariant: only the `wire` crate's types are (de)serialised for tablets; personal
//! data (names, health answers) never reaches a log line.

pub mod api;
pub mod attempts;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod domain;
pub mod error;
pub mod escalation;
pub mod notify;
pub mod password;
pub mod retrain;
pub mod routes;
pub mod serve;
pub mod startup;
pub mod store;
pub mod weather;
