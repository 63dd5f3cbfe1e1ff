//! A card's identity: the SHA-256 of its JPKI user-authentication certificate.
//!
//! The certificate changes when the card is renewed (every 5 years), so the identity
//! does too; staff re-link the resident then. Nothing about the holder is derived
//! from the certificate here.

use sha2::{Digest, Sha256};

/// SHA-256 of the DER user-authentication certificate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardIdentity(pub [u8; 32]);

impl CardIdentity {
    pub fn from_certificate_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Lower-case hex, the form stored in rosters and sent to the office.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for CardIdentity {
    // Only a prefix: enough to tell cards apart in a debugger, not a full fingerprint.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardIdentity({}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_sha256_of_der() {
        let id = CardIdentity::from_certificate_der(b"abc");
        assert_eq!(id.to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(format!("{id:?}"), "CardIdentity(ba7816bf…)");
    }
}
