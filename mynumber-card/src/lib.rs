//! The My Number card, as far as mimamori may touch it: the JPKI user-authentication
//! application over PC/SC.
//!
//! A card is identified by the SHA-256 of its JPKI user-authentication certificate
//! ([`CardIdentity`]), which can be read without a PIN ([`Client::identify`]). A
//! strong sign-in ([`Client::strong_sign_in`]) has the card sign a fresh challenge
//! after VERIFY with the PIN the resident typed. [`Monitor`] reports readers and
//! cards coming and going.
//!
//! Invariants, enforced by the shape of this API:
//! - there is no way to select the 券面事項入力補助AP or read the 12-digit
//!   individual number: the AID is not even in this crate, only in the virtual card;
//! - a PIN is sent only when the caller hands over digits the resident typed
//!   ([`Pin::from_typed`]), never when one try or none is left, and each APDU is sent
//!   exactly once (a wrong PIN costs one try);
//! - every session is one PC/SC transaction and ends by resetting the card;
//! - PINs and certificate contents never reach a log: `Debug`/`Display` of every
//!   type here omit them.

pub mod apdu;
pub mod client;
pub mod error;
pub mod events;
pub mod identity;
pub mod jpki;
pub mod pin;
pub mod trust;

pub use client::{ApduExchange, ApduTap, Client, Identified, PinStatus, StrongSignIn};
pub use error::{CardError, GoneReason};
pub use events::{CardEvent, Monitor};
pub use identity::CardIdentity;
pub use pin::{Pin, PinFormatError};
pub use trust::{TrustAnchors, TrustError};
