//! A virtual My Number card for tests and demos: a JPKI state machine that answers
//! APDUs in memory, and a vpcd client that lets a real pcscd see it as a card.
//!
//! The card also carries a 券面事項入力補助AP with a known 12-digit number, so that
//! tests can prove the client never selects it and the number never appears anywhere.
//! This crate is never linked into a production kiosk build.

pub mod card;
pub mod vpcd;
