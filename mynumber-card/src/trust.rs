//! Is this authentication certificate one our CA issued? Trust anchors are the
//! issuing CA certificates (J-LIS's in production, a test CA in tests); the card's
//! certificate must be signed by one of them (RSA PKCS#1 v1.5, SHA-256), be inside
//! its validity period, and carry an RSA-2048 key.

use std::time::{SystemTime, UNIX_EPOCH};

use rsa::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::BasicConstraints;

/// sha256WithRSAEncryption.
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";

/// Why a certificate is not accepted. Says what failed, never what it contains.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("not a DER X.509 certificate")]
    NotACertificate,
    #[error("a trust anchor is not a CA certificate")]
    AnchorNotCa,
    #[error("no configured CA issued it")]
    UnknownIssuer,
    #[error("signed with an algorithm other than sha256WithRSAEncryption")]
    UnsupportedAlgorithm,
    #[error("its signature does not verify")]
    BadSignature,
    #[error("outside its validity period")]
    Expired,
    #[error("its key is not RSA-2048")]
    WrongKey,
    #[error("a trust anchor file could not be read: {0}")]
    Io(String),
}

/// The CA certificates the kiosk trusts for user authentication.
#[derive(Clone)]
pub struct TrustAnchors {
    anchors: Vec<Certificate>,
}

impl std::fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustAnchors({} CAs)", self.anchors.len())
    }
}

impl TrustAnchors {
    /// From DER CA certificates; each must be a CA (basicConstraints cA).
    pub fn from_der(certs: &[Vec<u8>]) -> Result<Self, TrustError> {
        let anchors = certs
            .iter()
            .map(|der| {
                let cert = Certificate::from_der(der).map_err(|_| TrustError::NotACertificate)?;
                let is_ca = cert
                    .tbs_certificate
                    .get::<BasicConstraints>()
                    .ok()
                    .flatten()
                    .is_some_and(|(_, bc)| bc.ca);
                if is_ca { Ok(cert) } else { Err(TrustError::AnchorNotCa) }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { anchors })
    }

    /// From PEM files (each may hold several certificates), e.g. the J-LIS CA files.
    pub fn from_pem_files(paths: &[impl AsRef<std::path::Path>]) -> Result<Self, TrustError> {
        let mut ders = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let text = std::fs::read(path).map_err(|e| TrustError::Io(format!("{}: {e}", path.display())))?;
            let certs = Certificate::load_pem_chain(&text).map_err(|_| TrustError::NotACertificate)?;
            for cert in certs {
                ders.push(cert.to_der().map_err(|_| TrustError::NotACertificate)?);
            }
        }
        Self::from_der(&ders)
    }

    /// Checks `der` against the anchors at time `now`; returns its public key.
    pub fn verify(&self, der: &[u8], now: SystemTime) -> Result<RsaPublicKey, TrustError> {
        let cert = Certificate::from_der(der).map_err(|_| TrustError::NotACertificate)?;
        let tbs = &cert.tbs_certificate;
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let validity = &tbs.validity;
        if since_epoch < validity.not_before.to_unix_duration()
            || since_epoch > validity.not_after.to_unix_duration()
        {
            return Err(TrustError::Expired);
        }
        if cert.signature_algorithm.oid.to_string() != SHA256_WITH_RSA {
            return Err(TrustError::UnsupportedAlgorithm);
        }
        let key = public_key(&cert)?;
        if key.size() != 256 {
            return Err(TrustError::WrongKey);
        }
        let tbs_der = tbs.to_der().map_err(|_| TrustError::NotACertificate)?;
        let hash = Sha256::digest(&tbs_der);
        let signature = cert.signature.as_bytes().ok_or(TrustError::BadSignature)?;
        let mut issuers = self.anchors.iter().filter(|a| a.tbs_certificate.subject == tbs.issuer).peekable();
        if issuers.peek().is_none() {
            return Err(TrustError::UnknownIssuer);
        }
        // Several anchors may share a name across a CA key rollover: any one will do.
        let signed = issuers.any(|anchor| {
            public_key(anchor)
                .is_ok_and(|k| k.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, signature).is_ok())
        });
        if signed { Ok(key) } else { Err(TrustError::BadSignature) }
    }
}

fn public_key(cert: &Certificate) -> Result<RsaPublicKey, TrustError> {
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().map_err(|_| TrustError::WrongKey)?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| TrustError::WrongKey)
}
