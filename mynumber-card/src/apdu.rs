//! ISO 7816-4 command and response APDUs, the only language the card speaks.

/// A command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected response length; `Some(0)` means "as much as the card has" (256 in
    /// short form). `None` sends no Le.
    pub le: Option<u16>,
}

impl Command {
    /// SELECT FILE by DF name (AID), no response data wanted.
    pub fn select_df(aid: &[u8]) -> Self {
        Self { cla: 0x00, ins: 0xA4, p1: 0x04, p2: 0x0C, data: aid.to_vec(), le: None }
    }

    /// SELECT FILE by EF identifier within the current DF.
    pub fn select_ef(fid: [u8; 2]) -> Self {
        Self { cla: 0x00, ins: 0xA4, p1: 0x02, p2: 0x0C, data: fid.to_vec(), le: None }
    }

    /// READ BINARY at `offset` of the selected EF.
    pub fn read_binary(offset: u16, le: u16) -> Self {
        let [p1, p2] = offset.to_be_bytes();
        Self { cla: 0x00, ins: 0xB0, p1: p1 & 0x7F, p2, data: Vec::new(), le: Some(le) }
    }

    /// VERIFY against the selected PIN EF. `None` sends no data, which asks for the
    /// tries left without spending one.
    pub fn verify(pin: Option<&[u8]>) -> Self {
        Self { cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80, data: pin.unwrap_or_default().to_vec(), le: None }
    }

    /// COMPUTE DIGITAL SIGNATURE with the selected key EF over a DigestInfo
    /// (`80 2A 00 80 Lc data 00`).
    pub fn compute_signature(digest_info: &[u8]) -> Self {
        Self { cla: 0x80, ins: 0x2A, p1: 0x00, p2: 0x80, data: digest_info.to_vec(), le: Some(256) }
    }

    /// Encodes in short form, or extended form when data or Le need it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        let extended = self.data.len() > 255 || self.le.is_some_and(|le| le > 256);
        if extended {
            out.push(0x00);
            if !self.data.is_empty() {
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                out.extend_from_slice(&le.to_be_bytes());
            }
        } else {
            if !self.data.is_empty() {
                out.push(self.data.len() as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                out.push(if le >= 256 { 0 } else { le as u8 });
            }
        }
        out
    }
}

/// A response APDU: data and the two status bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Response {
    /// Splits raw bytes from the card; `None` if fewer than the two status bytes.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let (data, sw) = raw.split_at_checked(raw.len().checked_sub(2)?)?;
        Some(Self { data: data.to_vec(), sw: u16::from_be_bytes([sw[0], sw[1]]) })
    }

    pub fn is_ok(&self) -> bool {
        self.sw == 0x9000
    }

    /// Tries left from a `63 Cx` status (VERIFY), if that is what this is.
    pub fn tries_left(&self) -> Option<u8> {
        (self.sw & 0xFFF0 == 0x63C0).then_some((self.sw & 0x000F) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_extended_encodings() {
        assert_eq!(Command::select_ef([0x00, 0x0A]).to_bytes(), [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]);
        assert_eq!(Command::read_binary(0, 256).to_bytes(), [0x00, 0xB0, 0x00, 0x00, 0x00]);
        assert_eq!(Command::read_binary(0x0100, 4).to_bytes(), [0x00, 0xB0, 0x01, 0x00, 0x04]);
        assert_eq!(Command::verify(None).to_bytes(), [0x00, 0x20, 0x00, 0x80]);
        let sign = Command::compute_signature(&[0xAA; 51]).to_bytes();
        assert_eq!(
            (&sign[..5], sign.len(), sign[sign.len() - 1]),
            (&[0x80, 0x2A, 0x00, 0x80, 51][..], 57, 0x00)
        );
        assert_eq!(Command::read_binary(0, 1000).to_bytes(), [0x00, 0xB0, 0x00, 0x00, 0x00, 0x03, 0xE8]);
    }

    #[test]
    fn responses() {
        assert_eq!(Response::parse(&[0x63, 0xC2]).unwrap().tries_left(), Some(2));
        assert!(Response::parse(&[0x01, 0x90, 0x00]).unwrap().is_ok());
        assert_eq!(Response::parse(&[0x90]), None);
        assert_eq!(Response::parse(&[0x90, 0x00]).unwrap().tries_left(), None);
    }
}
