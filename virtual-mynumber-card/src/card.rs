//! The card's state machine: which application and file are selected, the PIN
//! counters, the security state, and the answer to each command APDU.
//!
//! It follows what OpenSC's JPKI driver and the public JPKI notes describe: SELECT by
//! AID or file id (P2 `0C`), READ BINARY of the certificate EFs, VERIFY against the
//! selected PIN EF (empty data asks for the tries left without spending one), and
//! COMPUTE DIGITAL SIGNATURE (`80 2A 00 80`) with the selected key EF, which signs a
//! caller-made DigestInfo with PKCS#1 v1.5 padding.

use mynumber_card::jpki;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};

/// AID of the 券面事項入力補助AP, which holds the individual number. It lives here,
/// and only here, so that tests can watch for it; the client crate does not know it.
pub const KENMEN_HOJO_AID: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
/// EF of the 券面事項入力補助AP holding the 12-digit number.
pub const EF_KENMEN_NUMBER: [u8; 2] = [0x00, 0x11];
/// The known individual number the virtual card carries (check digit valid), so tests
/// can prove it never appears anywhere.
pub const TEST_INDIVIDUAL_NUMBER: [u8; 12] = *b"123456789018";

/// ATR of a My Number card as OpenSC's JPKI driver matches it (`card-jpki.c`).
pub const ATR: [u8; 9] = [0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14];

/// EF of the digital-signature certificate (needs the signature PIN; not modelled).
const EF_SIGN_CERT: [u8; 2] = [0x00, 0x01];
/// EF of the digital-signature CA certificate.
const EF_SIGN_CA_CERT: [u8; 2] = [0x00, 0x02];
/// EF of the digital-signature key.
const EF_SIGN_KEY: [u8; 2] = [0x00, 0x1A];
/// EF of the digital-signature PIN (6–16 characters, 5 tries).
const EF_SIGN_PIN: [u8; 2] = [0x00, 0x1B];
const SIGN_PIN_MAX_TRIES: u8 = 5;

pub const SW_OK: u16 = 0x9000;
pub const SW_WRONG_LENGTH: u16 = 0x6700;
pub const SW_INCOMPATIBLE_FILE: u16 = 0x6981;
pub const SW_SECURITY_NOT_SATISFIED: u16 = 0x6982;
pub const SW_PIN_BLOCKED: u16 = 0x6983;
pub const SW_REFERENCE_DATA_UNUSABLE: u16 = 0x6984;
pub const SW_NO_EF_SELECTED: u16 = 0x6986;
pub const SW_WRONG_DATA: u16 = 0x6A80;
pub const SW_FILE_NOT_FOUND: u16 = 0x6A82;
pub const SW_WRONG_P1P2: u16 = 0x6B00;
pub const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;
pub const SW_CLA_NOT_SUPPORTED: u16 = 0x6E00;

/// What the card holds.
#[derive(Clone)]
pub struct CardContents {
    /// DER of the user-authentication certificate (EF 000A).
    pub auth_cert_der: Vec<u8>,
    /// DER of the issuing CA's certificate (EF 000B, and 0002 for the signature CA).
    pub ca_cert_der: Vec<u8>,
    /// The user-authentication private key (EF 0017), RSA-2048.
    pub auth_key: RsaPrivateKey,
    /// The 12-digit individual number, in the 券面事項入力補助AP only.
    pub individual_number: [u8; 12],
}

impl std::fmt::Debug for CardContents {
    // Never the key, never the number.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardContents")
            .field("auth_cert_der", &format_args!("{} bytes", self.auth_cert_der.len()))
            .field("ca_cert_der", &format_args!("{} bytes", self.ca_cert_der.len()))
            .finish_non_exhaustive()
    }
}

/// How the card behaves: its PIN and how many tries it has left (0 = blocked).
#[derive(Clone, PartialEq, Eq)]
pub struct Behaviour {
    /// The user-authentication PIN as the ASCII digits VERIFY carries.
    pub auth_pin: Vec<u8>,
    /// Tries left on the auth PIN at power-up of the program (3 is a fresh card).
    pub auth_tries_left: u8,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self { auth_pin: b"1234".to_vec(), auth_tries_left: jpki::AUTH_PIN_MAX_TRIES }
    }
}

impl std::fmt::Debug for Behaviour {
    // The PIN stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behaviour").field("auth_tries_left", &self.auth_tries_left).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Application {
    None,
    Jpki,
    KenmenHojo,
}

/// The card. PIN counters are non-volatile; [`VirtualCard::reset`] (a power cycle)
/// clears the selection and the verified state only.
#[derive(Debug)]
pub struct VirtualCard {
    contents: CardContents,
    auth_pin: Vec<u8>,
    auth_tries_left: u8,
    app: Application,
    ef: Option<[u8; 2]>,
    auth_verified: bool,
    kenmen_selected: u32,
}

impl VirtualCard {
    pub fn new(contents: CardContents, behaviour: Behaviour) -> Self {
        Self {
            contents,
            auth_pin: behaviour.auth_pin,
            auth_tries_left: behaviour.auth_tries_left.min(jpki::AUTH_PIN_MAX_TRIES),
            app: Application::None,
            ef: None,
            auth_verified: false,
            kenmen_selected: 0,
        }
    }

    /// Power cycle: nothing selected, nothing verified.
    pub fn reset(&mut self) {
        self.app = Application::None;
        self.ef = None;
        self.auth_verified = false;
    }

    /// Tries left on the user-authentication PIN.
    pub fn auth_tries_left(&self) -> u8 {
        self.auth_tries_left
    }

    /// How often anyone selected the 券面事項入力補助AP since the card was made.
    pub fn kenmen_selections(&self) -> u32 {
        self.kenmen_selected
    }

    pub fn contents(&self) -> &CardContents {
        &self.contents
    }

    /// Answers one command APDU with response data followed by SW1 SW2.
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let (data, sw) = match parse(apdu) {
            Some(cmd) => self.respond(&cmd),
            None => (Vec::new(), SW_WRONG_LENGTH),
        };
        let mut out = data;
        out.extend_from_slice(&sw.to_be_bytes());
        out
    }

    fn respond(&mut self, cmd: &Parsed<'_>) -> (Vec<u8>, u16) {
        match (cmd.cla, cmd.ins) {
            (0x00, 0xA4) => (Vec::new(), self.select(cmd.p1, cmd.data)),
            (0x00, 0xB0) => {
                self.read_binary(u16::from_be_bytes([cmd.p1 & 0x7F, cmd.p2]), cmd.le.unwrap_or(256))
            }
            (0x00, 0x20) if (cmd.p1, cmd.p2) == (0x00, 0x80) => (Vec::new(), self.verify(cmd.data)),
            (0x00, 0x20) => (Vec::new(), SW_WRONG_P1P2),
            (0x80, 0x2A) if (cmd.p1, cmd.p2) == (0x00, 0x80) => self.sign(cmd.data),
            (0x80, 0x2A) => (Vec::new(), SW_WRONG_P1P2),
            (0x00 | 0x80, _) => (Vec::new(), SW_INS_NOT_SUPPORTED),
            _ => (Vec::new(), SW_CLA_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, p1: u8, data: &[u8]) -> u16 {
        match p1 {
            // A new application drops the old one's security state.
            0x04 if data == jpki::JPKI_AID => {
                (self.app, self.ef, self.auth_verified) = (Application::Jpki, None, false);
                SW_OK
            }
            0x04 if data == KENMEN_HOJO_AID => {
                self.kenmen_selected += 1;
                (self.app, self.ef, self.auth_verified) = (Application::KenmenHojo, None, false);
                SW_OK
            }
            0x04 => SW_FILE_NOT_FOUND,
            0x02 => match <[u8; 2]>::try_from(data) {
                Ok(fid) if self.ef_exists(fid) => {
                    self.ef = Some(fid);
                    SW_OK
                }
                Ok(_) => SW_FILE_NOT_FOUND,
                Err(_) => SW_WRONG_DATA,
            },
            _ => SW_WRONG_P1P2,
        }
    }

    fn ef_exists(&self, fid: [u8; 2]) -> bool {
        match self.app {
            Application::Jpki => [
                jpki::EF_AUTH_CERT,
                jpki::EF_AUTH_CA_CERT,
                jpki::EF_AUTH_KEY,
                jpki::EF_AUTH_PIN,
                EF_SIGN_CERT,
                EF_SIGN_CA_CERT,
                EF_SIGN_KEY,
                EF_SIGN_PIN,
            ]
            .contains(&fid),
            Application::KenmenHojo => fid == EF_KENMEN_NUMBER,
            Application::None => false,
        }
    }

    fn read_binary(&self, offset: u16, le: usize) -> (Vec<u8>, u16) {
        let Some(fid) = self.ef else {
            return (Vec::new(), SW_NO_EF_SELECTED);
        };
        let file: &[u8] = match (self.app, fid) {
            (Application::Jpki, jpki::EF_AUTH_CERT) => &self.contents.auth_cert_der,
            (Application::Jpki, jpki::EF_AUTH_CA_CERT | EF_SIGN_CA_CERT) => &self.contents.ca_cert_der,
            // The signature certificate names the holder: it needs the signature PIN,
            // which this card does not model.
            (Application::Jpki, EF_SIGN_CERT) => return (Vec::new(), SW_SECURITY_NOT_SATISFIED),
            (Application::KenmenHojo, EF_KENMEN_NUMBER) => &self.contents.individual_number,
            _ => return (Vec::new(), SW_INCOMPATIBLE_FILE),
        };
        // Reading at or past the end is an error, as on real cards: a client that
        // loops "until a short read" fails here when the size is a multiple of 256.
        let start = usize::from(offset);
        if start >= file.len() {
            return (Vec::new(), SW_WRONG_P1P2);
        }
        let end = (start + le).min(file.len());
        (file[start..end].to_vec(), SW_OK)
    }

    fn verify(&mut self, pin: &[u8]) -> u16 {
        match (self.app, self.ef) {
            (Application::Jpki, Some(jpki::EF_AUTH_PIN)) => {}
            (Application::Jpki, Some(EF_SIGN_PIN)) if pin.is_empty() => {
                return 0x63C0 | u16::from(SIGN_PIN_MAX_TRIES);
            }
            (Application::Jpki, Some(EF_SIGN_PIN)) => return SW_REFERENCE_DATA_UNUSABLE,
            _ => return SW_NO_EF_SELECTED,
        }
        if pin.is_empty() {
            // Asking costs nothing.
            return 0x63C0 | u16::from(self.auth_tries_left);
        }
        if self.auth_tries_left == 0 {
            return SW_PIN_BLOCKED;
        }
        if pin == self.auth_pin.as_slice() {
            self.auth_tries_left = jpki::AUTH_PIN_MAX_TRIES;
            self.auth_verified = true;
            SW_OK
        } else {
            self.auth_tries_left -= 1;
            self.auth_verified = false;
            0x63C0 | u16::from(self.auth_tries_left)
        }
    }

    fn sign(&mut self, digest_info: &[u8]) -> (Vec<u8>, u16) {
        match (self.app, self.ef) {
            (Application::Jpki, Some(jpki::EF_AUTH_KEY)) if self.auth_verified => {}
            (Application::Jpki, Some(jpki::EF_AUTH_KEY | EF_SIGN_KEY)) => {
                return (Vec::new(), SW_SECURITY_NOT_SATISFIED);
            }
            _ => return (Vec::new(), SW_NO_EF_SELECTED),
        }
        // The card pads what it is given (PKCS#1 v1.5, block type 1): the caller
        // builds the DigestInfo, as with a real card.
        match self.contents.auth_key.sign(Pkcs1v15Sign::new_unprefixed(), digest_info) {
            Ok(signature) => (signature, SW_OK),
            Err(_) => (Vec::new(), SW_WRONG_DATA),
        }
    }
}

/// A command APDU split into its parts.
#[derive(Debug)]
struct Parsed<'a> {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &'a [u8],
    le: Option<usize>,
}

/// Parses the four ISO 7816-4 cases, short and extended; `None` if malformed.
fn parse(apdu: &[u8]) -> Option<Parsed<'_>> {
    let (&[cla, ins, p1, p2], body) = apdu.split_first_chunk::<4>()?;
    let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
    let ext_le = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
        0 => 65536,
        n => usize::from(n),
    };
    let (data, le) = match body {
        [] => (&body[..0], None),
        [le] => (&body[..0], Some(short_le(*le))),
        [0, hi, lo] => (&body[..0], Some(ext_le(*hi, *lo))),
        [0, hi, lo, rest @ ..] => {
            let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
            match rest.len().checked_sub(lc)? {
                0 => (&rest[..lc], None),
                2 => (&rest[..lc], Some(ext_le(rest[lc], rest[lc + 1]))),
                _ => return None,
            }
        }
        [lc, rest @ ..] => {
            let lc = usize::from(*lc);
            match rest.len().checked_sub(lc)? {
                0 => (&rest[..lc], None),
                1 => (&rest[..lc], Some(short_le(rest[lc]))),
                _ => return None,
            }
        }
    };
    Some(Parsed { cla, ins, p1, p2, data, le })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::TestPki;
    use mynumber_card::apdu::{Command, Response};

    fn card_with(cert_len: usize, behaviour: Behaviour) -> VirtualCard {
        let pki = TestPki::shared_for_tests();
        let mut contents = pki.card_contents();
        // Synthetic certificate bytes: only the length handling is under test here.
        contents.auth_cert_der = (0..cert_len).map(|i| i as u8).collect();
        VirtualCard::new(contents, behaviour)
    }

    fn card() -> VirtualCard {
        card_with(600, Behaviour::default())
    }

    fn send(card: &mut VirtualCard, cmd: Command) -> Response {
        Response::parse(&card.transmit(&cmd.to_bytes())).unwrap()
    }

    fn raw(card: &mut VirtualCard, bytes: &[u8]) -> u16 {
        Response::parse(&card.transmit(bytes)).unwrap().sw
    }

    fn select_jpki(c: &mut VirtualCard) {
        assert!(send(c, Command::select_df(&jpki::JPKI_AID)).is_ok());
    }

    fn verify(c: &mut VirtualCard, pin: &[u8]) -> u16 {
        assert!(send(c, Command::select_ef(jpki::EF_AUTH_PIN)).is_ok());
        let mut apdu = vec![0x00, 0x20, 0x00, 0x80];
        if !pin.is_empty() {
            apdu.push(pin.len() as u8);
            apdu.extend_from_slice(pin);
        }
        raw(c, &apdu)
    }

    fn sign(c: &mut VirtualCard, data: &[u8]) -> Response {
        assert!(send(c, Command::select_ef(jpki::EF_AUTH_KEY)).is_ok());
        let mut apdu = vec![0x80, 0x2A, 0x00, 0x80, data.len() as u8];
        apdu.extend_from_slice(data);
        apdu.push(0x00);
        Response::parse(&c.transmit(&apdu)).unwrap()
    }

    /// Reads a whole EF the way OpenSC does: in chunks of at most 256, by offset,
    /// stopping at the known size.
    fn read_all(c: &mut VirtualCard, size: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < size {
            let r = send(c, Command::read_binary(got.len() as u16, (size - got.len()).min(256) as u16));
            assert!(r.is_ok(), "sw {:04X} at {}", r.sw, got.len());
            got.extend(r.data);
        }
        got
    }

    #[test]
    fn reads_certificates_of_any_size_including_256_byte_boundaries() {
        for size in [1, 255, 256, 257, 511, 512, 513, 1024, 1500] {
            let mut c = card_with(size, Behaviour::default());
            select_jpki(&mut c);
            assert!(send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT)).is_ok());
            let got = read_all(&mut c, size);
            assert_eq!(got, c.contents().auth_cert_der, "size {size}");
            // Past the end is an error, not an empty success.
            assert_eq!(send(&mut c, Command::read_binary(size as u16, 256)).sw, SW_WRONG_P1P2, "size {size}");
        }
    }

    #[test]
    fn extended_le_reads_in_one_go() {
        let mut c = card_with(1000, Behaviour::default());
        select_jpki(&mut c);
        send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT));
        let r = send(&mut c, Command::read_binary(0, 1000));
        assert!(r.is_ok());
        assert_eq!(r.data.len(), 1000);
    }

    #[test]
    fn nothing_is_readable_before_select_or_after_reset() {
        let mut c = card();
        assert_eq!(send(&mut c, Command::read_binary(0, 4)).sw, SW_NO_EF_SELECTED);
        assert_eq!(send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT)).sw, SW_FILE_NOT_FOUND);
        select_jpki(&mut c);
        send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT));
        c.reset();
        assert_eq!(send(&mut c, Command::read_binary(0, 4)).sw, SW_NO_EF_SELECTED);
        assert_eq!(c.transmit(&[0x00]), SW_WRONG_LENGTH.to_be_bytes());
        // Lc says 5 but 2 bytes follow.
        assert_eq!(raw(&mut c, &[0x00, 0xA4, 0x02, 0x0C, 0x05, 0x00, 0x0A]), SW_WRONG_LENGTH);
        assert_eq!(raw(&mut c, &[0x00, 0x99, 0x00, 0x00]), SW_INS_NOT_SUPPORTED);
        assert_eq!(raw(&mut c, &[0x42, 0xA4, 0x00, 0x00]), SW_CLA_NOT_SUPPORTED);
    }

    #[test]
    fn key_and_pin_files_are_not_readable() {
        let mut c = card();
        select_jpki(&mut c);
        for ef in [jpki::EF_AUTH_KEY, jpki::EF_AUTH_PIN] {
            send(&mut c, Command::select_ef(ef));
            assert_eq!(send(&mut c, Command::read_binary(0, 4)).sw, SW_INCOMPATIBLE_FILE);
        }
        send(&mut c, Command::select_ef(EF_SIGN_CERT));
        assert_eq!(send(&mut c, Command::read_binary(0, 4)).sw, SW_SECURITY_NOT_SATISFIED);
    }

    #[test]
    fn empty_verify_reports_tries_without_spending_one() {
        let mut c = card();
        select_jpki(&mut c);
        for _ in 0..5 {
            assert_eq!(verify(&mut c, b""), 0x63C3);
        }
        assert_eq!(c.auth_tries_left(), 3);
    }

    #[test]
    fn wrong_pins_count_down_then_block() {
        let mut c = card();
        select_jpki(&mut c);
        assert_eq!(verify(&mut c, b"0000"), 0x63C2);
        assert_eq!(verify(&mut c, b""), 0x63C2);
        assert_eq!(verify(&mut c, b"0000"), 0x63C1);
        assert_eq!(verify(&mut c, b"0000"), 0x63C0);
        assert_eq!(verify(&mut c, b"1234"), SW_PIN_BLOCKED, "blocked: even the right PIN fails");
        assert_eq!(verify(&mut c, b""), 0x63C0);
        c.reset();
        select_jpki(&mut c);
        assert_eq!(verify(&mut c, b"1234"), SW_PIN_BLOCKED, "a reset does not unblock");
    }

    #[test]
    fn right_pin_restores_the_counter() {
        let mut c = card();
        select_jpki(&mut c);
        assert_eq!(verify(&mut c, b"9999"), 0x63C2);
        assert_eq!(verify(&mut c, b"1234"), SW_OK);
        assert_eq!(verify(&mut c, b""), 0x63C3);
    }

    #[test]
    fn signs_only_after_verify_and_until_reset() {
        let mut c = card();
        let digest_info = mynumber_card::jpki::sha256_digest_info(&[7; 32]);
        select_jpki(&mut c);
        assert_eq!(sign(&mut c, &digest_info).sw, SW_SECURITY_NOT_SATISFIED);
        assert_eq!(verify(&mut c, b"1234"), SW_OK);
        let r = sign(&mut c, &digest_info);
        assert!(r.is_ok());
        assert_eq!(r.data.len(), 256);
        let public = c.contents().auth_key.to_public_key();
        public.verify(Pkcs1v15Sign::new_unprefixed(), &digest_info, &r.data).unwrap();

        c.reset();
        select_jpki(&mut c);
        assert_eq!(sign(&mut c, &digest_info).sw, SW_SECURITY_NOT_SATISFIED, "reset clears VERIFY");
        assert_eq!(verify(&mut c, b"1234"), SW_OK);
        send(&mut c, Command::select_df(&jpki::JPKI_AID));
        assert_eq!(sign(&mut c, &digest_info).sw, SW_SECURITY_NOT_SATISFIED, "reselect clears VERIFY");
        send(&mut c, Command::select_ef(EF_SIGN_KEY));
        assert_eq!(raw(&mut c, &[0x80, 0x2A, 0x00, 0x80, 0x01, 0x00, 0x00]), SW_SECURITY_NOT_SATISFIED);
    }

    #[test]
    fn a_wrong_pin_after_a_right_one_drops_the_verified_state() {
        let mut c = card();
        let digest_info = mynumber_card::jpki::sha256_digest_info(&[1; 32]);
        select_jpki(&mut c);
        assert_eq!(verify(&mut c, b"1234"), SW_OK);
        assert_eq!(verify(&mut c, b"1111"), 0x63C2);
        assert_eq!(sign(&mut c, &digest_info).sw, SW_SECURITY_NOT_SATISFIED);
    }

    #[test]
    fn a_blocked_card_is_configurable() {
        let mut c = card_with(10, Behaviour { auth_tries_left: 0, ..Behaviour::default() });
        select_jpki(&mut c);
        assert_eq!(verify(&mut c, b""), 0x63C0);
        assert_eq!(verify(&mut c, b"1234"), SW_PIN_BLOCKED);
    }

    #[test]
    fn the_signature_pin_answers_like_opensc_expects() {
        let mut c = card();
        select_jpki(&mut c);
        send(&mut c, Command::select_ef(EF_SIGN_PIN));
        assert_eq!(raw(&mut c, &[0x00, 0x20, 0x00, 0x80]), 0x63C5);
    }

    #[test]
    fn the_kenmen_application_is_there_and_counted() {
        let mut c = card();
        assert_eq!(c.kenmen_selections(), 0);
        assert!(send(&mut c, Command::select_df(&KENMEN_HOJO_AID)).is_ok());
        assert!(send(&mut c, Command::select_ef(EF_KENMEN_NUMBER)).is_ok());
        assert_eq!(send(&mut c, Command::read_binary(0, 12)).data, TEST_INDIVIDUAL_NUMBER);
        assert_eq!(c.kenmen_selections(), 1);
        // JPKI files are not visible from there.
        assert_eq!(send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT)).sw, SW_FILE_NOT_FOUND);
    }
}
