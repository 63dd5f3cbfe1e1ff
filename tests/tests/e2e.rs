//! End-to-end tests across crates with real parts.
