//! The vpcd wire protocol (vsmartcard's virtual reader driver for pcscd): the card
//! side connects to TCP 35963 (first reader) or 35964 (second); every message is a
//! 2-byte big-endian length and a payload. A 1-byte payload is a control message.

use std::io::{self, Read, Write};

/// First virtual reader's port; the second reader listens on the next one.
pub const DEFAULT_PORT: u16 = 35963;

/// A message from the reader driver to the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderMessage {
    PowerOff,
    PowerOn,
    Reset,
    /// The reader asks for the card's ATR.
    GetAtr,
    /// A command APDU to answer.
    Apdu(Vec<u8>),
}

/// Reads one message; `Ok(None)` when the driver closed the connection cleanly.
pub fn read_message(r: &mut impl Read) -> io::Result<Option<ReaderMessage>> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
    r.read_exact(&mut payload)?;
    Ok(Some(match payload.as_slice() {
        [0] => ReaderMessage::PowerOff,
        [1] => ReaderMessage::PowerOn,
        [2] => ReaderMessage::Reset,
        [4] => ReaderMessage::GetAtr,
        [other] => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown vpcd control byte {other:#04x}"),
            ));
        }
        _ => ReaderMessage::Apdu(payload),
    }))
}

/// Writes one length-prefixed payload (an ATR or a response APDU).
pub fn write_message(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "vpcd payload over 65535 bytes"))?;
    w.write_all(&len.to_be_bytes())?;
    w.write_all(payload)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trip() {
        let mut buf = Vec::new();
        write_message(&mut buf, &[0x00, 0xA4, 0x04, 0x0C]).unwrap();
        buf.extend_from_slice(&[0, 1, 4]);
        let mut r = buf.as_slice();
        assert_eq!(read_message(&mut r).unwrap(), Some(ReaderMessage::Apdu(vec![0x00, 0xA4, 0x04, 0x0C])));
        assert_eq!(read_message(&mut r).unwrap(), Some(ReaderMessage::GetAtr));
        assert_eq!(read_message(&mut r).unwrap(), None);
        assert!(read_message(&mut [0u8, 1, 9].as_slice()).is_err());
    }
}
