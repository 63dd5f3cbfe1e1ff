//! The Whisper assets the converter takes from the `openai-whisper` source package:
//! the mel filter bank (`whisper/assets/mel_filters.npz`, NumPy) and the multilingual
//! vocabulary (`whisper/assets/multilingual.tiktoken`).

use std::io::Read;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::ModelError;
use super::convert::WhisperAssets;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Reads both assets out of the `openai-whisper` sdist (`.tar.gz`).
pub fn from_sdist(sdist: &[u8]) -> Result<WhisperAssets, ModelError> {
    let mut npz = None;
    let mut tiktoken = None;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(sdist));
    let bad = |e: std::io::Error| ModelError::Format(format!("openai-whisper source archive: {e}"));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().into_owned();
        let slot = if path.ends_with("whisper/assets/mel_filters.npz") {
            &mut npz
        } else if path.ends_with("whisper/assets/multilingual.tiktoken") {
            &mut tiktoken
        } else {
            continue;
        };
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf).map_err(bad)?;
        *slot = Some(buf);
    }
    let npz =
        npz.ok_or_else(|| ModelError::Format("mel_filters.npz not in openai-whisper sources".into()))?;
    let tiktoken = tiktoken
        .ok_or_else(|| ModelError::Format("multilingual.tiktoken not in openai-whisper sources".into()))?;
    let (shape, mel_filters) = npz_f32(&npz, "mel_80.npy")?;
    let &[n_mels, n_fft_bins] = shape.as_slice() else {
        return Err(ModelError::Format(format!("mel_80 has shape {shape:?}, expected 2-D")));
    };
    Ok(WhisperAssets { mel_filters, n_mels, n_fft_bins, tokens: parse_tiktoken(&tiktoken)? })
}

/// `base64-token rank` lines → tokens in rank order (ranks must be 0..n).
pub fn parse_tiktoken(text: &[u8]) -> Result<Vec<Vec<u8>>, ModelError> {
    let text =
        std::str::from_utf8(text).map_err(|_| ModelError::Format("tiktoken file is not UTF-8".into()))?;
    let mut ranked = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let bad = || ModelError::Format(format!("tiktoken line {}: {line:?}", i + 1));
        let (token, rank) = line.split_once(' ').ok_or_else(bad)?;
        let rank: usize = rank.trim().parse().map_err(|_| bad())?;
        // Padding is optional and one entry is a bare "=" (the empty token), which
        // Python's lenient decoder reads as no bytes: do the same.
        let bytes = BASE64.decode(token.trim_end_matches('=')).map_err(|_| bad())?;
        ranked.push((rank, bytes));
    }
    ranked.sort_by_key(|(r, _)| *r);
    if ranked.iter().enumerate().any(|(i, (r, _))| i != *r) {
        return Err(ModelError::Format("tiktoken ranks are not 0..n".into()));
    }
    Ok(ranked.into_iter().map(|(_, t)| t).collect())
}

/// One little-endian f32 C-order array from a `.npz` (a zip of `.npy` files).
pub fn npz_f32(npz: &[u8], member: &str) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
    let bad = |e: String| ModelError::Format(format!("{member}: {e}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(npz)).map_err(|e| bad(e.to_string()))?;
    let mut npy = Vec::new();
    zip.by_name(member)
        .map_err(|e| bad(e.to_string()))?
        .read_to_end(&mut npy)
        .map_err(|e| bad(e.to_string()))?;
    // .npy: magic, version, header length (u16 in v1, u32 in v2/3), a Python dict.
    let rest = npy.strip_prefix(b"\x93NUMPY").ok_or_else(|| bad("not a .npy file".into()))?;
    let (header_len, start) = match rest.first() {
        Some(1) => (usize::from(u16::from_le_bytes([rest[2], rest[3]])), 6 + 4),
        Some(2 | 3) => (u32::from_le_bytes([rest[2], rest[3], rest[4], rest[5]]) as usize, 6 + 6),
        _ => return Err(bad("unknown .npy version".into())),
    };
    let header = std::str::from_utf8(npy.get(start..start + header_len).ok_or_else(|| bad("short".into()))?)
        .map_err(|_| bad("header not UTF-8".into()))?;
    if !header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") {
        return Err(bad(format!("expected little-endian f32 in C order, header {header}")));
    }
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape".into()))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad(format!("bad shape {shape_text}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let data = &npy[start + header_len..];
    let n: usize = shape.iter().product();
    if data.len() != n * 4 {
        return Err(bad(format!("{} data bytes for shape {shape:?}", data.len())));
    }
    Ok((shape, data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiktoken_lines_are_decoded_in_rank_order() {
        let tokens = parse_tiktoken(b"IQ== 1\nIA== 0\n= 2\n").unwrap();
        assert_eq!(tokens, vec![b" ".to_vec(), b"!".to_vec(), Vec::new()]);
        assert!(parse_tiktoken(b"IQ== 5\n").is_err());
        assert!(parse_tiktoken(b"not-base64 0\n").is_err());
    }
}
