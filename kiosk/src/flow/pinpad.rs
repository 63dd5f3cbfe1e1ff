//! The PIN pad's rules: digits typed by the resident, tries left shown, and no PIN
//! sent when a wrong one would lock the card (one try left) — staff take over then.

/// What the card said about a strong sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinVerdict {
    /// Signed in: the card's identity (SHA-256 of its auth certificate, hex).
    Ok {
        identity_hex: String,
    },
    Wrong {
        tries_left: u8,
    },
    /// The card worker refused to send the PIN: one try left.
    StaffHelpNeeded {
        tries_left: u8,
    },
    Blocked,
    /// The card went away, no reader, not a My Number card: the sentence says which.
    Failed(String),
}

/// The digits typed so far and what the card last said about tries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PinPad {
    digits: String,
    /// Tries left as the card last reported (`None` until it has).
    pub tries_left: Option<u8>,
}

/// The auth PIN's length (JPKI: 4 digits).
pub const PIN_LEN: usize = 4;

impl PinPad {
    pub fn len(&self) -> usize {
        self.digits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }

    pub fn digit(&mut self, d: u8) {
        if self.digits.len() < PIN_LEN && d <= 9 {
            self.digits.push(char::from(b'0' + d));
        }
    }

    pub fn erase(&mut self) {
        self.digits.pop();
    }

    /// Forgets the typed digits, never what the card said about its tries: a pad
    /// opened again must still refuse the last one.
    pub fn clear_digits(&mut self) {
        self.digits.clear();
    }

    /// Whether sending a PIN now could lock the card: one try left, or none.
    pub fn must_not_send(&self) -> bool {
        self.tries_left.is_some_and(|t| t <= 1)
    }

    /// The typed digits to send, taken out of the pad; `None` while fewer than four
    /// are typed or when sending could lock the card.
    pub fn take(&mut self) -> Option<String> {
        if self.digits.len() != PIN_LEN || self.must_not_send() {
            return None;
        }
        Some(std::mem::take(&mut self.digits))
    }

    /// 「あと3回まで」: shown while the keypad is up.
    pub fn tries_text(&self) -> String {
        match self.tries_left {
            Some(0) => "暗証番号はロックされています".into(),
            Some(1) => "あと1回まちがえるとロックされます。職員にお任せください".into(),
            Some(n) => format!("まちがえられるのは、あと{n}回までです"),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(tries: Option<u8>, typed: &[u8], expect_sent: Option<&str>) {
        let mut pad = PinPad { tries_left: tries, ..Default::default() };
        for &d in typed {
            pad.digit(d);
        }
        assert_eq!(pad.take().as_deref(), expect_sent, "tries {tries:?} typed {typed:?}");
    }

    #[test]
    fn pin_is_sent_only_when_complete_and_safe() {
        check(Some(3), &[1, 2, 3, 4], Some("1234"));
        check(None, &[1, 2, 3, 4], Some("1234"));
        check(Some(3), &[1, 2, 3], None);
        check(Some(3), &[1, 2, 3, 4, 5], Some("1234"));
        check(Some(2), &[9, 9, 9, 9], Some("9999"));
        // One try left: a wrong PIN would lock the card; never send.
        check(Some(1), &[1, 2, 3, 4], None);
        check(Some(0), &[1, 2, 3, 4], None);
    }

    #[test]
    fn erase_removes_the_last_digit() {
        let mut pad = PinPad::default();
        pad.digit(1);
        pad.digit(2);
        pad.erase();
        assert_eq!(pad.len(), 1);
        pad.erase();
        pad.erase();
        assert!(pad.is_empty());
    }
}
