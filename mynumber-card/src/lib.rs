//! The My Number card, as far as mimamori may touch it: the JPKI user-authentication
//! application over PC/SC.
//!
//! A card is identified by the SHA-256 of its JPKI user-authentication certificate
//! ([`CardIdentity`]), which can be read without a PIN.
//!
//! Invariants, enforced by the shape of this API:
//! - there is no way to select the 券面事項入力補助AP or read the 12-digit
//!   individual number: the AID is not even in this crate, only in the virtual card;
//! - a PIN is sent only when the caller hands over digits the resident typed;
//! - PINs and certificate contents never reach a log.

pub mod apdu;
pub mod identity;
pub mod jpki;

pub use identity::CardIdentity;
