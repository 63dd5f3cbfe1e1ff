//! What can go wrong with a card, in words the kiosk can act on. No variant carries
//! a PIN or certificate contents.

use crate::trust::TrustError;

/// Why a card session ended without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoneReason {
    /// The card left the reader.
    Removed,
    /// Someone (another program, or the reader) reset the card under us.
    Reset,
    /// The PC/SC transaction was lost (`NotTransacted`).
    TransactionLost,
    /// pcscd stopped or restarted.
    ServiceLost,
    /// The reader itself went away.
    ReaderGone,
}

/// Errors of the JPKI client.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("the smart-card service (pcscd) is not running")]
    NoService,
    #[error("no card reader is connected")]
    NoReader,
    #[error("no card in the reader")]
    NoCard,
    #[error("the card went away during the session ({0:?}); hold it to the reader again")]
    CardGone(GoneReason),
    #[error("this card has no JPKI application (not a My Number card?)")]
    NotJpki,
    #[error("the card answered {sw:04X} to {command}")]
    Status { command: &'static str, sw: u16 },
    #[error("the card's answer to {0} was malformed")]
    Malformed(&'static str),
    #[error("the authentication certificate is not trusted: {0}")]
    Untrusted(#[from] TrustError),
    #[error("wrong PIN: {tries_left} tries left")]
    WrongPin { tries_left: u8 },
    #[error("only {tries_left} PIN try left: the PIN is not sent; staff help is needed")]
    StaffHelpNeeded { tries_left: u8 },
    #[error("the PIN is blocked: only the town hall can unblock it")]
    PinBlocked,
    #[error("the card's signature did not verify against its certificate")]
    BadSignature,
    #[error("PC/SC: {0}")]
    Pcsc(pcsc::Error),
}

impl CardError {
    /// Whether the card session can simply be retried once the card is back.
    pub fn is_card_gone(&self) -> bool {
        matches!(self, Self::CardGone(_) | Self::NoCard)
    }
}

impl From<pcsc::Error> for CardError {
    fn from(e: pcsc::Error) -> Self {
        use pcsc::Error as E;
        match e {
            E::NoService | E::ServiceStopped | E::InvalidHandle | E::CommError => {
                Self::CardGone(GoneReason::ServiceLost)
            }
            E::NoReadersAvailable => Self::NoReader,
            E::RemovedCard | E::NoSmartcard => Self::CardGone(GoneReason::Removed),
            E::ResetCard => Self::CardGone(GoneReason::Reset),
            E::NotTransacted => Self::CardGone(GoneReason::TransactionLost),
            E::ReaderUnavailable | E::UnknownReader => Self::CardGone(GoneReason::ReaderGone),
            other => Self::Pcsc(other),
        }
    }
}
