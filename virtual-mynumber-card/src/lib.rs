//! A virtual My Number card for tests and demos: a JPKI state machine that answers
//! APDUs in memory, a test PKI made at run time, and a vpcd client that lets a real
//! pcscd see the card in a virtual reader.
//!
//! The card also carries a 券面事項入力補助AP with a known 12-digit number, so that
//! tests can prove the client never selects it and the number never appears anywhere.
//! This crate is never linked into a production kiosk build.

pub mod card;
pub mod pki;
pub mod vpcd;

pub use card::{Behaviour, CardContents, KENMEN_HOJO_AID, TEST_INDIVIDUAL_NUMBER, VirtualCard};
pub use pki::TestPki;
pub use vpcd::ServeOptions;
