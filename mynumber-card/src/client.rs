//! The JPKI client: one PC/SC transaction per sign-in, the card reset at its end.
//!
//! APDUs go over `pcsc` directly, each sent exactly once: a wrong PIN costs one try,
//! never two. The only application ever selected is JPKI's.

use std::ffi::CString;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use pcsc::{Context, Disposition, Protocols, Scope, ShareMode};
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::apdu::{Command, Response};
use crate::error::CardError;
use crate::identity::CardIdentity;
use crate::jpki;
use crate::pin::Pin;
use crate::trust::TrustAnchors;

/// One command and its answer, for an [`ApduTap`]. `Display` is the form to log:
/// VERIFY data and response contents are replaced by their lengths.
#[derive(Clone)]
pub struct ApduExchange {
    pub command: Vec<u8>,
    /// Response data and SW1 SW2; empty if the card gave no answer.
    pub response: Vec<u8>,
    pub elapsed: Duration,
}

impl std::fmt::Debug for ApduExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for ApduExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header: String = self.command.iter().take(4).map(|b| format!("{b:02X}")).collect();
        let sw: String = self.response.iter().rev().take(2).rev().map(|b| format!("{b:02X}")).collect();
        write!(
            f,
            "{header} +{}B -> {}B {sw} in {:?}",
            self.command.len().saturating_sub(4),
            self.response.len().saturating_sub(2),
            self.elapsed
        )
    }
}

/// Sees every APDU exchange (tests scan them). It receives raw bytes, PIN included:
/// whatever it writes to a log must go through `Display`.
pub type ApduTap = Arc<dyn Fn(&ApduExchange) + Send + Sync>;

/// The tries left on the user-authentication PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinStatus {
    /// This many tries left (3 on a healthy card).
    TriesLeft(u8),
    /// Blocked: only the town hall can reset it.
    Blocked,
}

/// A card identified without a PIN.
#[derive(Debug, Clone)]
pub struct Identified {
    pub identity: CardIdentity,
    pub pin: PinStatus,
}

/// A strong sign-in: the card proved it holds the key of its trusted certificate.
#[derive(Debug, Clone)]
pub struct StrongSignIn {
    pub identity: CardIdentity,
}

/// Talks to My Number cards through pcscd. Cheap to keep; reconnects to pcscd on
/// the next call after the service went away.
pub struct Client {
    context: Option<Context>,
    trust: TrustAnchors,
    tap: Option<ApduTap>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("connected", &self.context.is_some()).finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(trust: TrustAnchors) -> Self {
        Self { context: None, trust, tap: None }
    }

    /// Installs a tap that sees every exchange (for tests and diagnostics).
    pub fn with_apdu_tap(mut self, tap: ApduTap) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Names of the connected readers.
    pub fn readers(&mut self) -> Result<Vec<String>, CardError> {
        // A context from before a pcscd restart fails once: then start afresh.
        for fresh in [false, true] {
            let ctx = self.context()?;
            match ctx.list_readers_owned() {
                Ok(names) => return Ok(names.iter().map(|n| n.to_string_lossy().into_owned()).collect()),
                Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
                Err(e) => {
                    let err = self.fail(e);
                    if fresh || self.context.is_some() {
                        return Err(err);
                    }
                }
            }
        }
        Err(CardError::NoService)
    }

    /// The first reader with a card in it, if any.
    pub fn reader_with_card(&mut self) -> Result<Option<String>, CardError> {
        let readers = self.readers()?;
        if readers.is_empty() {
            return Err(CardError::NoReader);
        }
        let ctx = self.context()?;
        let mut states: Vec<_> = readers
            .iter()
            .filter_map(|r| CString::new(r.as_str()).ok())
            .map(|r| pcsc::ReaderState::new(r, pcsc::State::UNAWARE))
            .collect();
        if let Err(e) = ctx.get_status_change(Duration::ZERO, &mut states) {
            return Err(self.fail(e));
        }
        Ok(states
            .iter()
            .find(|s| s.event_state().contains(pcsc::State::PRESENT))
            .map(|s| s.name().to_string_lossy().into_owned()))
    }

    /// Reads the auth certificate (no PIN), checks it against the trust anchors and
    /// asks for the tries left (which spends none). Identity is its SHA-256.
    pub fn identify(&mut self, reader: &str) -> Result<Identified, CardError> {
        self.session(reader, |s| {
            let (identity, _) = s.read_trusted_certificate()?;
            let pin = s.pin_status()?;
            Ok(Identified { identity, pin })
        })
    }

    /// Strong sign-in with the PIN the resident typed: checks the tries left first
    /// and refuses (without sending the PIN) when one or none is left; then VERIFY,
    /// and the card signs a fresh random challenge, checked with the certificate's key.
    pub fn strong_sign_in(&mut self, reader: &str, pin: &Pin) -> Result<StrongSignIn, CardError> {
        self.session(reader, |s| {
            let (identity, key) = s.read_trusted_certificate()?;
            match s.pin_status()? {
                PinStatus::Blocked => return Err(CardError::PinBlocked),
                PinStatus::TriesLeft(n) if n <= 1 => {
                    return Err(CardError::StaffHelpNeeded { tries_left: n });
                }
                PinStatus::TriesLeft(_) => {}
            }
            s.verify(pin)?;
            let mut challenge = [0u8; 32];
            rsa::rand_core::RngCore::fill_bytes(&mut rsa::rand_core::OsRng, &mut challenge);
            let hash: [u8; 32] = Sha256::digest(challenge).into();
            let signature = s.sign(&jpki::sha256_digest_info(&hash))?;
            key.verify(Pkcs1v15Sign::new::<Sha256>(), &hash, &signature)
                .map_err(|_| CardError::BadSignature)?;
            Ok(StrongSignIn { identity })
        })
    }

    fn context(&mut self) -> Result<&Context, CardError> {
        if self.context.as_ref().is_some_and(|ctx| ctx.is_valid().is_ok()) {
            return self.context.as_ref().ok_or(CardError::NoService);
        }
        self.context = None;
        let ctx = Context::establish(Scope::User).map_err(|e| match e {
            pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::CommError => {
                CardError::NoService
            }
            other => CardError::Pcsc(other),
        })?;
        Ok(self.context.insert(ctx))
    }

    /// Maps a PC/SC error, forgetting the context if the service went away.
    fn fail(&mut self, e: pcsc::Error) -> CardError {
        let err = CardError::from(e);
        if matches!(err, CardError::CardGone(crate::error::GoneReason::ServiceLost)) {
            self.context = None;
        }
        err
    }

    /// Connects, runs `work` inside one transaction, and always ends it by resetting
    /// the card, so no verified state survives for the next person.
    fn session<T>(
        &mut self,
        reader: &str,
        work: impl FnOnce(&mut Session<'_>) -> Result<T, CardError>,
    ) -> Result<T, CardError> {
        let reader = CString::new(reader).map_err(|_| CardError::NoReader)?;
        let tap = self.tap.clone();
        let trust = self.trust.clone();
        let mut connected = None;
        // A context from before a pcscd restart fails once: then start afresh.
        for fresh in [false, true] {
            let ctx = self.context()?;
            match ctx.connect(&reader, ShareMode::Shared, Protocols::ANY) {
                Ok(card) => {
                    connected = Some(card);
                    break;
                }
                Err(pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard) => return Err(CardError::NoCard),
                Err(pcsc::Error::UnknownReader) => return Err(CardError::NoReader),
                Err(e) => {
                    let err = self.fail(e);
                    if fresh || self.context.is_some() {
                        return Err(err);
                    }
                }
            }
        }
        let Some(mut card) = connected else { return Err(CardError::NoService) };
        let result = match card.transaction() {
            Ok(tx) => {
                let mut session = Session { tx: &tx, tap: tap.as_deref(), trust: &trust };
                let result = work(&mut session);
                // A failed end (card already gone) leaves nothing to reset.
                let _ = tx.end(Disposition::ResetCard);
                result
            }
            Err(e) => Err(CardError::from(e)),
        };
        let _ = card.disconnect(Disposition::ResetCard);
        result.map_err(|e| {
            if matches!(e, CardError::CardGone(crate::error::GoneReason::ServiceLost)) {
                self.context = None;
            }
            e
        })
    }
}

/// Inside one transaction.
struct Session<'a> {
    tx: &'a pcsc::Transaction<'a>,
    tap: Option<&'a (dyn Fn(&ApduExchange) + Send + Sync)>,
    trust: &'a TrustAnchors,
}

impl Session<'_> {
    fn transmit(&mut self, cmd: &Command) -> Result<Response, CardError> {
        let command = cmd.to_bytes();
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let started = Instant::now();
        let result = self.tx.transmit(&command, &mut buf);
        if let Some(tap) = self.tap {
            let response = result.as_ref().map(|r| r.to_vec()).unwrap_or_default();
            tap(&ApduExchange { command: command.clone(), response, elapsed: started.elapsed() });
        }
        let raw = result.map_err(CardError::from)?;
        match raw {
            // Every real answer has status bytes: none at all means the link to the
            // card broke mid-command (vpcd reports a pulled card this way).
            [] => Err(CardError::CardGone(crate::error::GoneReason::Removed)),
            _ => Response::parse(raw).ok_or(CardError::Malformed("a command")),
        }
    }

    fn expect_ok(&mut self, cmd: &Command, what: &'static str) -> Result<Response, CardError> {
        let r = self.transmit(cmd)?;
        if r.is_ok() { Ok(r) } else { Err(CardError::Status { command: what, sw: r.sw }) }
    }

    fn select_jpki(&mut self) -> Result<(), CardError> {
        let r = self.transmit(&Command::select_df(&jpki::JPKI_AID))?;
        if r.is_ok() { Ok(()) } else { Err(CardError::NotJpki) }
    }

    /// Reads the whole selected EF holding one DER object: its length comes from the
    /// DER header, so sizes on 256-byte boundaries need no probing read past the end.
    fn read_der_ef(&mut self, ef: [u8; 2]) -> Result<Vec<u8>, CardError> {
        self.expect_ok(&Command::select_ef(ef), "SELECT EF")?;
        let head = self.expect_ok(&Command::read_binary(0, 4), "READ BINARY")?.data;
        let total = der_total_len(&head).ok_or(CardError::Malformed("READ BINARY"))?;
        let mut der = head;
        der.truncate(total);
        while der.len() < total {
            let offset = u16::try_from(der.len()).map_err(|_| CardError::Malformed("READ BINARY"))?;
            let want = (total - der.len()).min(256) as u16;
            let chunk = self.expect_ok(&Command::read_binary(offset, want), "READ BINARY")?.data;
            if chunk.is_empty() {
                return Err(CardError::Malformed("READ BINARY"));
            }
            der.extend_from_slice(&chunk);
        }
        der.truncate(total);
        Ok(der)
    }

    fn read_trusted_certificate(&mut self) -> Result<(CardIdentity, RsaPublicKey), CardError> {
        self.select_jpki()?;
        let der = self.read_der_ef(jpki::EF_AUTH_CERT)?;
        let key = self.trust.verify(&der, SystemTime::now())?;
        Ok((CardIdentity::from_certificate_der(&der), key))
    }

    /// VERIFY with no data: the card reports its tries left and spends none.
    fn pin_status(&mut self) -> Result<PinStatus, CardError> {
        self.expect_ok(&Command::select_ef(jpki::EF_AUTH_PIN), "SELECT EF")?;
        let r = self.transmit(&Command::verify(None))?;
        match r.tries_left() {
            Some(0) => Ok(PinStatus::Blocked),
            Some(n) => Ok(PinStatus::TriesLeft(n)),
            None if matches!(r.sw, 0x6983 | 0x6984) => Ok(PinStatus::Blocked),
            None => Err(CardError::Status { command: "VERIFY", sw: r.sw }),
        }
    }

    fn verify(&mut self, pin: &Pin) -> Result<(), CardError> {
        self.expect_ok(&Command::select_ef(jpki::EF_AUTH_PIN), "SELECT EF")?;
        let r = self.transmit(&Command::verify(Some(pin.as_bytes())))?;
        match (r.sw, r.tries_left()) {
            (0x9000, _) => Ok(()),
            (_, Some(0)) | (0x6983 | 0x6984, _) => Err(CardError::PinBlocked),
            (_, Some(n)) => Err(CardError::WrongPin { tries_left: n }),
            (sw, None) => Err(CardError::Status { command: "VERIFY", sw }),
        }
    }

    fn sign(&mut self, digest_info: &[u8]) -> Result<Vec<u8>, CardError> {
        self.expect_ok(&Command::select_ef(jpki::EF_AUTH_KEY), "SELECT EF")?;
        let r = self.expect_ok(&Command::compute_signature(digest_info), "COMPUTE DIGITAL SIGNATURE")?;
        if r.data.len() == 256 { Ok(r.data) } else { Err(CardError::Malformed("COMPUTE DIGITAL SIGNATURE")) }
    }
}

/// Total length of the DER object whose first bytes are `head` (tag, length).
fn der_total_len(head: &[u8]) -> Option<usize> {
    let (&first_len, rest) = head.get(1..)?.split_first()?;
    if first_len < 0x80 {
        return Some(2 + usize::from(first_len));
    }
    let n = usize::from(first_len & 0x7F);
    if n == 0 || n > 2 {
        // Indefinite, or over 64 KiB: no certificate EF is like that.
        return None;
    }
    let len = rest.get(..n)?.iter().fold(0usize, |acc, b| acc << 8 | usize::from(*b));
    Some(2 + n + len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(der_total_len(&[0x30, 0x05]), Some(7));
        assert_eq!(der_total_len(&[0x30, 0x81, 0xFF]), Some(258));
        assert_eq!(der_total_len(&[0x30, 0x82, 0x01, 0xFC]), Some(512));
        assert_eq!(der_total_len(&[0x30, 0x82, 0x02, 0x00]), Some(516));
        assert_eq!(der_total_len(&[0x30, 0x80]), None);
        assert_eq!(der_total_len(&[0x30, 0x83, 1, 2, 3]), None);
        assert_eq!(der_total_len(&[0x30]), None);
    }

    #[test]
    fn exchanges_display_without_contents() {
        let x = ApduExchange {
            command: vec![0x00, 0x20, 0x00, 0x80, 0x04, b'1', b'2', b'3', b'4'],
            response: vec![0x63, 0xC2],
            elapsed: Duration::from_millis(3),
        };
        let shown = x.to_string();
        assert_eq!(shown, "00200080 +5B -> 0B 63C2 in 3ms");
        assert!(!shown.contains("31323334") && !shown.contains("1234"));
    }
}
