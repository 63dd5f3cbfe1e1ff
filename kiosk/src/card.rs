//! The card worker: watches the reader through pcscd, identifies a held card by its
//! JPKI auth certificate (no PIN), and runs a strong sign-in only with digits the
//! resident typed. Never reads anything else from the card.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::Duration;

use mynumber_card::{CardError, CardEvent, Client, Monitor, Pin, PinStatus, TrustAnchors};

use crate::flow::pinpad::PinVerdict;
use crate::speech::Part;

/// What the card worker tells its owner (the app translates it for the controller).
#[derive(Debug, Clone, PartialEq)]
pub enum CardReport {
    /// A card was laid on the reader and is being read.
    Reading,
    /// The card's PIN tries left (`Some(0)`: blocked), when it could be read.
    Tries(Option<u8>),
    /// A card was identified (SHA-256 of its auth certificate, hex).
    Identified(String),
    /// The card could not be read: plain words for the resident.
    Failed(String),
    /// The reader's health.
    Reader(Part),
    /// The outcome of a strong sign-in with typed digits.
    Pin(PinVerdict),
}

/// How the worker reaches its owner.
pub type CardReporter = Box<dyn Fn(CardReport) + Send>;

/// The handle the UI side keeps.
#[derive(Debug)]
pub struct CardWorker {
    tx: Sender<String>,
}

impl CardWorker {
    pub fn spawn(trust: Vec<Vec<u8>>, report: CardReporter) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("card".into())
            .spawn(move || run(trust, rx, report))
            .expect("spawning the card thread");
        Self { tx }
    }

    /// Asks for a strong sign-in with these typed digits on the card now on the reader.
    pub fn strong_sign_in(&self, digits: String) {
        let _ = self.tx.send(digits);
    }
}

/// Plain words for what went wrong, for the resident's screen.
pub fn gentle(e: &CardError) -> String {
    match e {
        CardError::CardGone(_) | CardError::NoCard => "カードが離れました。もう一度かざしてください".into(),
        CardError::NotJpki => "マイナンバーカードではないようです".into(),
        CardError::NoService | CardError::NoReader => {
            "カード読み取り機が使えません。職員にお知らせください".into()
        }
        CardError::Untrusted(_) => "このカードは確認できませんでした。職員にお知らせください".into(),
        CardError::PinBlocked => "暗証番号がロックされています。役場で手続きが必要です".into(),
        _ => "カードを読めませんでした。もう一度かざしてください".into(),
    }
}

fn run(trust: Vec<Vec<u8>>, rx: Receiver<String>, report: CardReporter) {
    let trust = match TrustAnchors::from_der(&trust) {
        Ok(t) => t,
        Err(e) => {
            report(CardReport::Reader(Part::Faulty(format!("認証局の証明書が読めません: {e}"))));
            return;
        }
    };
    let mut client = Client::new(trust);
    let mut monitor = Monitor::new();
    let mut reader: Option<String> = None;
    let mut healthy = None;
    loop {
        for event in monitor.poll(Duration::from_millis(250)) {
            match event {
                CardEvent::CardPresent(r) => {
                    reader = Some(r.clone());
                    report(CardReport::Reading);
                    match client.identify(&r) {
                        Ok(id) => {
                            let tries = match id.pin {
                                PinStatus::TriesLeft(n) => Some(n),
                                PinStatus::Blocked => Some(0),
                            };
                            report(CardReport::Tries(tries));
                            report(CardReport::Identified(id.identity.to_hex()));
                        }
                        Err(e) => report(CardReport::Failed(gentle(&e))),
                    }
                }
                CardEvent::CardRemoved(r) if reader.as_deref() == Some(r.as_str()) => reader = None,
                CardEvent::ServiceLost => {
                    report(CardReport::Reader(Part::Faulty(
                        "カードのサービス（pcscd）が止まっています".into(),
                    )));
                    healthy = Some(false);
                }
                CardEvent::ReaderAdded(_) | CardEvent::ServiceBack if healthy != Some(true) => {
                    report(CardReport::Reader(Part::Ok));
                    healthy = Some(true);
                }
                _ => {}
            }
        }
        if healthy.is_none() {
            let part = match client.readers() {
                Ok(r) if !r.is_empty() => Part::Ok,
                Ok(_) => Part::Missing("カード読み取り機がつながっていません".into()),
                Err(e) => Part::Missing(e.to_string()),
            };
            healthy = Some(part == Part::Ok);
            report(CardReport::Reader(part));
        }
        match rx.try_recv() {
            Ok(digits) => {
                let verdict = match (reader.as_deref(), Pin::from_typed(&digits)) {
                    (None, _) => PinVerdict::Failed("カードをかざしてください".into()),
                    (_, Err(_)) => PinVerdict::Failed("暗証番号は4けたの数字です".into()),
                    (Some(r), Ok(pin)) => match client.strong_sign_in(r, &pin) {
                        Ok(s) => PinVerdict::Ok { identity_hex: s.identity.to_hex() },
                        Err(CardError::WrongPin { tries_left }) => PinVerdict::Wrong { tries_left },
                        Err(CardError::StaffHelpNeeded { tries_left }) => {
                            PinVerdict::StaffHelpNeeded { tries_left }
                        }
                        Err(CardError::PinBlocked) => PinVerdict::Blocked,
                        Err(e) => PinVerdict::Failed(gentle(&e)),
                    },
                };
                report(CardReport::Pin(verdict));
            }
            Err(TryRecvError::Empty) => {}
            Err(TryRecvError::Disconnected) => return,
        }
    }
}
