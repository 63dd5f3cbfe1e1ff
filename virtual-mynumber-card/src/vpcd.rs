//! The vpcd wire protocol (vsmartcard's virtual reader driver for pcscd): the card
//! side connects to TCP 35963 (first reader) or 35964 (second); every message is a
//! 2-byte big-endian length and a payload. A 1-byte payload is a control message.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket2::SockRef;

use crate::card::{ATR, VirtualCard};

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

/// How the card behaves on the wire.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Set TCP_QUICKACK after every read (and TCP_NODELAY): without it the reader
    /// driver's delayed ACKs stall each APDU by about 40 ms.
    pub quickack: bool,
    /// Extra delay before each response (a slow card).
    pub response_delay: Duration,
    /// Pull the card (close the connection without answering) when the n-th APDU
    /// of a connection arrives; 1 pulls it at the first APDU.
    pub remove_at_apdu: Option<u32>,
    /// After a removal, stay away this long before inserting again; `None` stays out.
    pub reinsert_after: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self { quickack: true, response_delay: Duration::ZERO, remove_at_apdu: None, reinsert_after: None }
    }
}

/// Why one connection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The reader driver closed the connection (pcscd stopped).
    ReaderClosed,
    /// The card pulled itself, as configured.
    Removed,
}

/// Serves `card` on one connection until the driver closes it or the card is pulled.
pub fn serve_connection(
    card: &mut VirtualCard,
    stream: TcpStream,
    options: &ServeOptions,
) -> io::Result<Ended> {
    stream.set_nodelay(true)?;
    let sock = SockRef::from(&stream);
    // `&TcpStream` reads and writes, so the socket stays borrowable for its options.
    let mut stream = &stream;
    let mut apdus = 0u32;
    loop {
        if options.quickack {
            // Linux clears the flag after it is used: set it again before each read.
            sock.set_tcp_quickack(true)?;
        }
        let Some(message) = read_message(&mut stream)? else {
            return Ok(Ended::ReaderClosed);
        };
        match message {
            ReaderMessage::PowerOff | ReaderMessage::PowerOn | ReaderMessage::Reset => card.reset(),
            ReaderMessage::GetAtr => write_message(&mut stream, &ATR)?,
            ReaderMessage::Apdu(apdu) => {
                apdus += 1;
                if options.remove_at_apdu == Some(apdus) {
                    card.reset();
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    return Ok(Ended::Removed);
                }
                let response = card.transmit(&apdu);
                if !options.response_delay.is_zero() {
                    std::thread::sleep(options.response_delay);
                }
                write_message(&mut stream, &response)?;
            }
        }
    }
}

/// Connects to vpcd at `addr` and serves forever: reconnects (every 200 ms) when
/// pcscd is not there or restarts, and reinserts after a configured removal (which
/// happens once). Returns only when the card was pulled for good.
pub fn serve(card: &mut VirtualCard, addr: SocketAddr, options: &ServeOptions) -> io::Result<()> {
    let mut options = options.clone();
    loop {
        let stream = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        match serve_connection(card, stream, &options) {
            Ok(Ended::Removed) => match options.reinsert_after {
                Some(pause) => {
                    options.remove_at_apdu = None;
                    std::thread::sleep(pause);
                }
                None => return Ok(()),
            },
            // The driver went away (or the link broke): a fresh card session later.
            Ok(Ended::ReaderClosed) | Err(_) => {
                card.reset();
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::card::Behaviour;
    use crate::pki::TestPki;
    use std::net::TcpListener;

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

    /// A real TCP peer standing in for the reader driver: ATR, an APDU, a removal.
    #[test]
    fn serves_atr_and_apdus_then_pulls_the_card_when_told() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut card =
                VirtualCard::new(TestPki::shared_for_tests().card_contents(), Behaviour::default());
            let options = ServeOptions { remove_at_apdu: Some(2), ..ServeOptions::default() };
            let stream = TcpStream::connect(addr).unwrap();
            serve_connection(&mut card, stream, &options).unwrap()
        });
        let (mut reader, _) = listener.accept().unwrap();
        write_message(&mut reader, &[1]).unwrap();
        write_message(&mut reader, &[4]).unwrap();
        let mut len = [0u8; 2];
        reader.read_exact(&mut len).unwrap();
        let mut atr = vec![0; usize::from(u16::from_be_bytes(len))];
        reader.read_exact(&mut atr).unwrap();
        assert_eq!(atr, ATR);
        write_message(&mut reader, &[0x00, 0xA4, 0x04, 0x0C, 0x01, 0x00]).unwrap();
        reader.read_exact(&mut len).unwrap();
        let mut sw = vec![0; usize::from(u16::from_be_bytes(len))];
        reader.read_exact(&mut sw).unwrap();
        assert_eq!(sw, [0x6A, 0x82]);
        write_message(&mut reader, &[0x00, 0xB0, 0x00, 0x00, 0x00]).unwrap();
        assert_eq!(server.join().unwrap(), Ended::Removed);
        assert_eq!(reader.read(&mut len).unwrap(), 0, "pulled: the connection closes, no answer");
    }
}
