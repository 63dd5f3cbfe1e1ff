//! Facts about the JPKI application (public: J-LIS specifications, OpenSC's
//! `card-jpki.c`): its AID and the elementary files mimamori uses.

/// AID of the JPKI application (公的個人認証AP).
pub const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];

/// EF holding the user-authentication certificate (DER), readable without a PIN.
pub const EF_AUTH_CERT: [u8; 2] = [0x00, 0x0A];
/// EF holding the certificate of the CA that issued the auth certificate.
pub const EF_AUTH_CA_CERT: [u8; 2] = [0x00, 0x0B];
/// EF of the user-authentication PIN (4 digits, 3 tries).
pub const EF_AUTH_PIN: [u8; 2] = [0x00, 0x18];
/// EF of the user-authentication private key (RSA-2048).
pub const EF_AUTH_KEY: [u8; 2] = [0x00, 0x17];

/// Number of digits of the user-authentication PIN.
pub const AUTH_PIN_LEN: usize = 4;
/// Wrong tries after which the card blocks the PIN (only the town hall can reset it).
pub const AUTH_PIN_MAX_TRIES: u8 = 3;

/// DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2 note 1): the card pads and signs
/// what it is given, so the caller supplies the algorithm identifier.
pub const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    0x04, 0x20,
];

/// The DigestInfo that COMPUTE DIGITAL SIGNATURE signs for a SHA-256 hash.
pub fn sha256_digest_info(hash: &[u8; 32]) -> Vec<u8> {
    let mut out = SHA256_DIGEST_INFO_PREFIX.to_vec();
    out.extend_from_slice(hash);
    out
}
