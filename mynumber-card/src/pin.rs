//! The user-authentication PIN as the resident typed it: 4 digits, never printed.

use crate::jpki::AUTH_PIN_LEN;

/// Four ASCII digits. `Debug` shows nothing of them; the bytes are overwritten
/// when the value is dropped.
pub struct Pin([u8; AUTH_PIN_LEN]);

/// The typed text was not 4 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the PIN is 4 digits")]
pub struct PinFormatError;

impl Pin {
    /// From the digits the resident typed on the keypad.
    pub fn from_typed(digits: &str) -> Result<Self, PinFormatError> {
        let bytes: [u8; AUTH_PIN_LEN] = digits.as_bytes().try_into().map_err(|_| PinFormatError)?;
        if bytes.iter().all(u8::is_ascii_digit) { Ok(Self(bytes)) } else { Err(PinFormatError) }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.0 = [0; AUTH_PIN_LEN];
        std::hint::black_box(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_four_digits_make_a_pin() {
        for (typed, ok) in [
            ("1234", true),
            ("0000", true),
            ("123", false),
            ("12345", false),
            ("12a4", false),
            ("１２３４", false),
            ("", false),
        ] {
            assert_eq!(Pin::from_typed(typed).is_ok(), ok, "{typed:?}");
        }
        assert_eq!(format!("{:?}", Pin::from_typed("1234").unwrap()), "Pin(****)");
    }
}
