//! The card's state machine: which application and file are selected, and the
//! answer to each command APDU.

use mynumber_card::jpki;

/// AID of the 券面事項入力補助AP, which holds the individual number. It lives here,
/// and only here, so that tests can watch for it; the client crate does not know it.
pub const KENMEN_HOJO_AID: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];

const SW_OK: u16 = 0x9000;
const SW_FILE_NOT_FOUND: u16 = 0x6A82;
const SW_NO_EF_SELECTED: u16 = 0x6986;
const SW_WRONG_P1P2: u16 = 0x6B00;
const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;
const SW_WRONG_LENGTH: u16 = 0x6700;

/// What the card holds.
#[derive(Debug, Clone)]
pub struct CardContents {
    /// DER of the user-authentication certificate (EF 000A).
    pub auth_cert_der: Vec<u8>,
    /// DER of the issuing CA's certificate (EF 000B).
    pub auth_ca_cert_der: Vec<u8>,
    /// The 12-digit individual number, in the 券面事項入力補助AP only.
    pub individual_number: [u8; 12],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Application {
    None,
    Jpki,
    KenmenHojo,
}

/// The card's volatile state; [`VirtualCard::reset`] is a power cycle.
#[derive(Debug)]
pub struct VirtualCard {
    contents: CardContents,
    app: Application,
    ef: Option<[u8; 2]>,
}

impl VirtualCard {
    pub fn new(contents: CardContents) -> Self {
        Self { contents, app: Application::None, ef: None }
    }

    /// Power cycle: nothing selected.
    pub fn reset(&mut self) {
        self.app = Application::None;
        self.ef = None;
    }

    /// Answers one command APDU with response data followed by SW1 SW2.
    pub fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        let (data, sw) = self.respond(apdu);
        let mut out = data;
        out.extend_from_slice(&sw.to_be_bytes());
        out
    }

    fn respond(&mut self, apdu: &[u8]) -> (Vec<u8>, u16) {
        let Some(&[_cla, ins, p1, p2]) = apdu.get(..4).map(|h| <&[u8; 4]>::try_from(h).unwrap()) else {
            return (Vec::new(), SW_WRONG_LENGTH);
        };
        let body = &apdu[4..];
        match ins {
            0xA4 => (Vec::new(), self.select(p1, short_data(body))),
            0xB0 => self.read_binary(u16::from_be_bytes([p1 & 0x7F, p2]), short_le(body)),
            _ => (Vec::new(), SW_INS_NOT_SUPPORTED),
        }
    }

    fn select(&mut self, p1: u8, data: &[u8]) -> u16 {
        match p1 {
            0x04 if data == jpki::JPKI_AID => {
                (self.app, self.ef) = (Application::Jpki, None);
                SW_OK
            }
            0x04 if data == KENMEN_HOJO_AID => {
                (self.app, self.ef) = (Application::KenmenHojo, None);
                SW_OK
            }
            0x02 => match <[u8; 2]>::try_from(data) {
                Ok(fid) if self.file(fid).is_some() => {
                    self.ef = Some(fid);
                    SW_OK
                }
                _ => SW_FILE_NOT_FOUND,
            },
            0x04 => SW_FILE_NOT_FOUND,
            _ => SW_WRONG_P1P2,
        }
    }

    fn file(&self, fid: [u8; 2]) -> Option<&[u8]> {
        match (self.app, fid) {
            (Application::Jpki, jpki::EF_AUTH_CERT) => Some(&self.contents.auth_cert_der),
            (Application::Jpki, jpki::EF_AUTH_CA_CERT) => Some(&self.contents.auth_ca_cert_der),
            (Application::KenmenHojo, [0x00, 0x01]) => Some(&self.contents.individual_number),
            _ => None,
        }
    }

    fn read_binary(&self, offset: u16, le: usize) -> (Vec<u8>, u16) {
        let Some(file) = self.ef.and_then(|fid| self.file(fid)) else {
            return (Vec::new(), SW_NO_EF_SELECTED);
        };
        let start = usize::from(offset);
        if start > file.len() {
            return (Vec::new(), SW_WRONG_P1P2);
        }
        let end = (start + le).min(file.len());
        (file[start..end].to_vec(), SW_OK)
    }
}

/// The data field of a short-form case 3 APDU body (`Lc data`).
fn short_data(body: &[u8]) -> &[u8] {
    match body.split_first() {
        Some((&lc, rest)) if rest.len() >= usize::from(lc) => &rest[..usize::from(lc)],
        _ => &[],
    }
}

/// Le of a case 2 body, in short (`Le`, 0 = 256) or extended (`00 Le Le`) form.
fn short_le(body: &[u8]) -> usize {
    match body {
        [0] => 256,
        [le] => usize::from(*le),
        [0, hi, lo] => match u16::from_be_bytes([*hi, *lo]) {
            0 => 65536,
            n => usize::from(n),
        },
        _ => 256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mynumber_card::apdu::{Command, Response};

    fn card() -> VirtualCard {
        VirtualCard::new(CardContents {
            auth_cert_der: (0..600).map(|i| i as u8).collect(),
            auth_ca_cert_der: vec![0x30, 0x00],
            individual_number: *b"123456789018",
        })
    }

    fn send(card: &mut VirtualCard, cmd: Command) -> Response {
        Response::parse(&card.transmit(&cmd.to_bytes())).unwrap()
    }

    #[test]
    fn reads_the_auth_certificate_in_chunks() {
        let mut c = card();
        assert!(send(&mut c, Command::select_df(&jpki::JPKI_AID)).is_ok());
        assert!(send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT)).is_ok());
        let mut got = Vec::new();
        loop {
            let r = send(&mut c, Command::read_binary(got.len() as u16, 256));
            assert!(r.is_ok());
            if r.data.is_empty() {
                break;
            }
            got.extend(r.data);
        }
        assert_eq!(got.len(), 600);
    }

    #[test]
    fn nothing_is_readable_before_select_or_after_reset() {
        let mut c = card();
        assert_eq!(send(&mut c, Command::read_binary(0, 4)).sw, SW_NO_EF_SELECTED);
        assert_eq!(send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT)).sw, SW_FILE_NOT_FOUND);
        send(&mut c, Command::select_df(&jpki::JPKI_AID));
        send(&mut c, Command::select_ef(jpki::EF_AUTH_CERT));
        c.reset();
        assert_eq!(send(&mut c, Command::read_binary(0, 4)).sw, SW_NO_EF_SELECTED);
        assert_eq!(c.transmit(&[0x00]), SW_WRONG_LENGTH.to_be_bytes());
    }
}
