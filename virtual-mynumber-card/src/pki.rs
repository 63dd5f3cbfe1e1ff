//! A test PKI made at run time: a CA (standing in for J-LIS) and one card's
//! user-authentication certificate with its RSA-2048 key, optionally kept in a
//! directory so a demo's kiosk can trust the same CA across restarts.
//!
//! Like a real JPKI user-authentication certificate, the card's certificate names no
//! one: the holder's name is kept beside it (`holder.txt`) for the demo roster only.

use std::path::Path;
use std::sync::OnceLock;

use rsa::RsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};

use crate::card::{CardContents, TEST_INDIVIDUAL_NUMBER};

/// Errors making or loading the test PKI.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("generating an RSA key: {0}")]
    Key(#[from] rsa::Error),
    #[error("encoding or decoding a key: {0}")]
    Pkcs8(#[from] rsa::pkcs8::Error),
    #[error("making a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a PEM certificate")]
    NotPem { path: String },
}

/// File names inside a PKI directory.
pub const CA_PEM: &str = "ca.pem";
pub const AUTH_PEM: &str = "auth.pem";
const CA_KEY_PEM: &str = "ca-key.pem";
const AUTH_KEY_PEM: &str = "auth-key.pem";
const HOLDER_TXT: &str = "holder.txt";

/// The CA and one card.
#[derive(Clone)]
pub struct TestPki {
    pub ca_cert_der: Vec<u8>,
    pub auth_cert_der: Vec<u8>,
    pub auth_key: RsaPrivateKey,
    /// The card holder's name, for demo rosters (not in the certificate).
    pub holder: String,
    ca_key: RsaPrivateKey,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}

impl TestPki {
    /// A fresh CA and card, with new RSA-2048 keys (a second or so, optimised).
    pub fn generate(holder: &str) -> Result<Self, PkiError> {
        let mut rng = rsa::rand_core::OsRng;
        let ca_key = RsaPrivateKey::new(&mut rng, 2048)?;
        let auth_key = RsaPrivateKey::new(&mut rng, 2048)?;
        let ca_params = ca_params()?;
        let ca_signer = key_pair(&ca_key)?;
        let ca_cert = ca_params.self_signed(&ca_signer)?;
        let issuer = rcgen::Issuer::new(ca_params, ca_signer);
        let auth_cert = auth_params()?.signed_by(&key_pair(&auth_key)?, &issuer)?;
        Ok(Self {
            ca_cert_der: ca_cert.der().to_vec(),
            auth_cert_der: auth_cert.der().to_vec(),
            auth_key,
            holder: holder.to_owned(),
            ca_key,
        })
    }

    /// Another card from the same CA (for tests with two cards).
    pub fn issue_card(&self, holder: &str) -> Result<Self, PkiError> {
        let auth_key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
        let issuer = rcgen::Issuer::new(ca_params()?, key_pair(&self.ca_key)?);
        let auth_cert = auth_params()?.signed_by(&key_pair(&auth_key)?, &issuer)?;
        Ok(Self {
            auth_cert_der: auth_cert.der().to_vec(),
            auth_key,
            holder: holder.to_owned(),
            ..self.clone()
        })
    }

    /// Loads the PKI kept in `dir`, or makes one and writes it there (`ca.pem`,
    /// `auth.pem`, their keys, `holder.txt`). An existing directory keeps its
    /// holder unless it has none.
    pub fn load_or_create(dir: &Path, holder: &str) -> Result<Self, PkiError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| PkiError::Io { path, source }
        };
        let file = |name: &str| dir.join(name);
        if [CA_PEM, AUTH_PEM, CA_KEY_PEM, AUTH_KEY_PEM].iter().all(|n| file(n).is_file()) {
            let read = |name: &str| std::fs::read_to_string(file(name)).map_err(io(&file(name)));
            let cert = |name: &str| -> Result<Vec<u8>, PkiError> {
                pem_to_der(&read(name)?).ok_or(PkiError::NotPem { path: file(name).display().to_string() })
            };
            let holder = match std::fs::read_to_string(file(HOLDER_TXT)) {
                Ok(h) if !h.trim().is_empty() => h.trim().to_owned(),
                _ => holder.to_owned(),
            };
            return Ok(Self {
                ca_cert_der: cert(CA_PEM)?,
                auth_cert_der: cert(AUTH_PEM)?,
                auth_key: RsaPrivateKey::from_pkcs8_pem(&read(AUTH_KEY_PEM)?)?,
                ca_key: RsaPrivateKey::from_pkcs8_pem(&read(CA_KEY_PEM)?)?,
                holder,
            });
        }
        let pki = Self::generate(holder)?;
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let write = |name: &str, text: &str| std::fs::write(file(name), text).map_err(io(&file(name)));
        write(CA_KEY_PEM, &pki.ca_key.to_pkcs8_pem(LineEnding::LF)?)?;
        write(AUTH_KEY_PEM, &pki.auth_key.to_pkcs8_pem(LineEnding::LF)?)?;
        write(CA_PEM, &der_to_pem(&pki.ca_cert_der))?;
        write(AUTH_PEM, &der_to_pem(&pki.auth_cert_der))?;
        write(HOLDER_TXT, &format!("{holder}\n"))?;
        Ok(pki)
    }

    /// What a card made from this PKI holds.
    pub fn card_contents(&self) -> CardContents {
        CardContents {
            auth_cert_der: self.auth_cert_der.clone(),
            ca_cert_der: self.ca_cert_der.clone(),
            auth_key: self.auth_key.clone(),
            individual_number: TEST_INDIVIDUAL_NUMBER,
        }
    }

    /// One PKI per process for unit tests (RSA key generation is slow unoptimised).
    pub fn shared_for_tests() -> &'static Self {
        static PKI: OnceLock<TestPki> = OnceLock::new();
        PKI.get_or_init(|| Self::generate("試験 花子").expect("generating the test PKI"))
    }
}

fn key_pair(key: &RsaPrivateKey) -> Result<rcgen::KeyPair, PkiError> {
    let pem = key.to_pkcs8_pem(LineEnding::LF)?;
    Ok(rcgen::KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256)?)
}

fn ca_params() -> Result<rcgen::CertificateParams, PkiError> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CountryName, "JP");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "mimamori test");
    params.distinguished_name.push(rcgen::DnType::CommonName, "mimamori test JPKI User Authentication CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    Ok(params)
}

fn auth_params() -> Result<rcgen::CertificateParams, PkiError> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    // Like the real thing, no name or address: just an opaque serial-like CN.
    let serial: [u8; 8] = rand_bytes();
    let cn: String = serial.iter().map(|b| format!("{b:02X}")).collect();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CountryName, "JP");
    params.distinguished_name.push(rcgen::DnType::CommonName, cn);
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2039, 12, 31);
    Ok(params)
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    use rsa::rand_core::RngCore as _;
    let mut out = [0u8; N];
    rsa::rand_core::OsRng.fill_bytes(&mut out);
    out
}

/// PEM armour for a certificate.
pub fn der_to_pem(der: &[u8]) -> String {
    use rsa::pkcs8::der::pem::{LineEnding, encode_string};
    encode_string("CERTIFICATE", LineEnding::LF, der).unwrap_or_default()
}

/// The DER inside the first CERTIFICATE block of a PEM text.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let (label, der) = rsa::pkcs8::der::pem::decode_vec(pem.trim().as_bytes()).ok()?;
    (label == "CERTIFICATE").then_some(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let der = TestPki::shared_for_tests().auth_cert_der.clone();
        assert_eq!(pem_to_der(&der_to_pem(&der)), Some(der));
        assert_eq!(pem_to_der("not pem"), None);
    }

    #[test]
    fn a_directory_is_created_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = TestPki::load_or_create(dir.path(), "山田 太郎").unwrap();
        for name in [CA_PEM, AUTH_PEM, HOLDER_TXT] {
            assert!(dir.path().join(name).is_file(), "{name}");
        }
        let again = TestPki::load_or_create(dir.path(), "someone else").unwrap();
        assert_eq!(first.auth_cert_der, again.auth_cert_der);
        assert_eq!(first.ca_cert_der, again.ca_cert_der);
        assert_eq!(first.auth_key, again.auth_key);
        assert_eq!(again.holder, "山田 太郎");
    }

    #[test]
    fn a_broken_pem_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        TestPki::load_or_create(dir.path(), "x").unwrap();
        std::fs::write(dir.path().join(AUTH_PEM), "garbage").unwrap();
        let err = TestPki::load_or_create(dir.path(), "x").unwrap_err();
        assert!(matches!(err, PkiError::NotPem { .. }), "{err}");
    }
}
