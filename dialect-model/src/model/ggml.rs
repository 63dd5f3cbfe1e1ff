//! Writer for whisper.cpp's ggml model file (the layout read by whisper.cpp's
//! loader and written by its `models/convert-pt-to-ggml.py`): hyper-parameters, the
//! mel filter bank, the vocabulary, then tensors with their dimensions in reverse
//! (ggml) order.

use std::io::{self, Write};

const GGML_MAGIC: u32 = 0x6767_6d6c;
/// ggml's quantisation format version, folded into the header's ftype.
const GGML_QNT_VERSION: i32 = 2;
const GGML_QNT_VERSION_FACTOR: i32 = 1000;

/// Whisper's dimensions, in the order the header stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
}

/// Element type of one stored tensor (ggml's `ggml_type` numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    F32,
    F16,
    /// Blocks of 32 values: an f16 scale and 32 signed bytes.
    Q8_0,
}

impl TensorType {
    fn ggml_id(self) -> i32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q8_0 => 8,
        }
    }
}

/// The model's overall file type (`ggml_ftype`): what its weight matrices are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    F16,
    Q8_0,
}

impl FileType {
    /// The header value: f16 is 1; quantised types carry the format version (q8_0: 2007).
    pub fn header_value(self) -> i32 {
        match self {
            Self::F16 => 1,
            Self::Q8_0 => 7 + GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR,
        }
    }

    /// The type of weight matrices (whisper.cpp's `wtype`).
    pub fn weight_type(self) -> TensorType {
        match self {
            Self::F16 => TensorType::F16,
            Self::Q8_0 => TensorType::Q8_0,
        }
    }
}

/// Streams a ggml file.
#[derive(Debug)]
pub struct GgmlWriter<W: Write> {
    out: W,
}

impl<W: Write> GgmlWriter<W> {
    pub fn new(out: W) -> Self {
        Self { out }
    }

    fn i32(&mut self, v: i32) -> io::Result<()> {
        self.out.write_all(&v.to_le_bytes())
    }

    pub fn header(&mut self, h: &Hparams, ftype: FileType) -> io::Result<()> {
        self.out.write_all(&GGML_MAGIC.to_le_bytes())?;
        for v in [
            h.n_vocab,
            h.n_audio_ctx,
            h.n_audio_state,
            h.n_audio_head,
            h.n_audio_layer,
            h.n_text_ctx,
            h.n_text_state,
            h.n_text_head,
            h.n_text_layer,
            h.n_mels,
            ftype.header_value(),
        ] {
            self.i32(v)?;
        }
        Ok(())
    }

    /// The mel filter bank, `n_mel` rows of `n_fft` weights.
    pub fn mel_filters(&mut self, n_mel: usize, n_fft: usize, weights: &[f32]) -> io::Result<()> {
        assert_eq!(weights.len(), n_mel * n_fft, "mel filter bank size");
        self.i32(n_mel as i32)?;
        self.i32(n_fft as i32)?;
        for w in weights {
            self.out.write_all(&w.to_le_bytes())?;
        }
        Ok(())
    }

    /// The byte-level BPE vocabulary, in rank order.
    pub fn vocabulary(&mut self, tokens: &[Vec<u8>]) -> io::Result<()> {
        self.i32(tokens.len() as i32)?;
        for t in tokens {
            self.i32(t.len() as i32)?;
            self.out.write_all(t)?;
        }
        Ok(())
    }

    /// One tensor. `shape` is in PyTorch (row-major) order; `values` in that layout.
    pub fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        values: &[f32],
        ttype: TensorType,
    ) -> io::Result<()> {
        assert_eq!(values.len(), shape.iter().product::<usize>(), "{name}: values vs shape");
        self.i32(shape.len() as i32)?;
        self.i32(name.len() as i32)?;
        self.i32(ttype.ggml_id())?;
        for d in shape.iter().rev() {
            self.i32(*d as i32)?;
        }
        self.out.write_all(name.as_bytes())?;
        match ttype {
            TensorType::F32 => {
                for v in values {
                    self.out.write_all(&v.to_le_bytes())?;
                }
            }
            TensorType::F16 => {
                for v in values {
                    self.out.write_all(&half::f16::from_f32(*v).to_le_bytes())?;
                }
            }
            TensorType::Q8_0 => {
                let row = *shape.last().expect("a quantised tensor has dimensions");
                assert_eq!(row % 32, 0, "{name}: q8_0 rows must be a multiple of 32");
                for block in values.chunks_exact(32) {
                    self.out.write_all(&quantize_q8_0(block))?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One q8_0 block: scale = max|x| / 127 (as f16), then round(x / scale) as i8.
pub fn quantize_q8_0(block: &[f32]) -> [u8; 34] {
    let amax = block.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut out = [0u8; 34];
    out[..2].copy_from_slice(&half::f16::from_f32(d).to_le_bytes());
    for (o, v) in out[2..].iter_mut().zip(block) {
        *o = (v * id).round() as i8 as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q8_0_round_trips_within_half_a_step() {
        let block: Vec<f32> = (0..32).map(|i| (i as f32 - 15.5) * 0.013).collect();
        let q = quantize_q8_0(&block);
        let d = half::f16::from_le_bytes([q[0], q[1]]).to_f32();
        for (i, v) in block.iter().enumerate() {
            let back = f32::from(q[2 + i] as i8) * d;
            assert!((back - v).abs() <= d * 0.51, "{v} -> {back}");
        }
        assert_eq!(quantize_q8_0(&[0.0; 32]), [0; 34]);
    }

    #[test]
    fn tensor_dimensions_are_written_in_reverse() {
        let mut w = GgmlWriter::new(Vec::new());
        w.tensor("x", &[2, 3], &[0.0; 6], TensorType::F32).unwrap();
        let bytes = w.finish().unwrap();
        let ints: Vec<i32> =
            bytes[..20].chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert_eq!(ints, [2, 1, 0, 3, 2]);
        assert_eq!(bytes.len(), 20 + 1 + 24);
        assert_eq!(FileType::Q8_0.header_value(), 2007);
    }
}
