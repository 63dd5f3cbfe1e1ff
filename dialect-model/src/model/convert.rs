//! CTranslate2 Whisper → whisper.cpp ggml: the name map and the tensor surgery.
//!
//! CT2 differs from the PyTorch layout whisper.cpp expects in three ways: the
//! self-attention q/k/v projections are fused (`self_attention/linear_0`), the
//! cross-attention k/v are fused (`attention/linear_1`), and names differ
//! (`ffn/linear_0` = `mlp.0`, layer-norm `gamma/beta` = `weight/bias`). Whisper has
//! no key bias: CT2 stores zeros there, which are checked and dropped.

use std::io::Write;

use super::ModelError;
use super::ct2::Ct2Model;
use super::ggml::{FileType, GgmlWriter, Hparams, TensorType};

/// What the converter needs besides the CT2 weights (from the `openai-whisper` sources).
#[derive(Debug, Clone)]
pub struct WhisperAssets {
    /// `mel_80` from `mel_filters.npz`: 80 rows of 201 weights.
    pub mel_filters: Vec<f32>,
    pub n_mels: usize,
    pub n_fft_bins: usize,
    /// `multilingual.tiktoken`, decoded, in rank order.
    pub tokens: Vec<Vec<u8>>,
}

/// Counts `prefix/layer_<n>/` blocks. Note `layer_norm` also starts with `layer_`.
fn count_layers(ct2: &Ct2Model<'_>, prefix: &str) -> usize {
    let start = format!("{prefix}/layer_");
    let mut max = None;
    for name in ct2.variables.keys() {
        if let Some(rest) = name.strip_prefix(&start)
            && let Some((n, _)) = rest.split_once('/')
            && let Ok(n) = n.parse::<usize>()
        {
            max = max.max(Some(n));
        }
    }
    max.map_or(0, |m| m + 1)
}

/// Reads Whisper's dimensions from the CT2 variables.
pub fn hparams(ct2: &Ct2Model<'_>) -> Result<Hparams, ModelError> {
    let shape = |name: &str| ct2.get(name).map(|v| v.shape.clone());
    let heads = |name: &str| -> Result<i32, ModelError> {
        ct2.get(name)?
            .scalar_int()
            .map(|h| h as i32)
            .ok_or_else(|| ModelError::Format(format!("{name} is not an integer")))
    };
    let emb = shape("decoder/embeddings/weight")?;
    let enc_pos = shape("encoder/position_encodings/encodings")?;
    let dec_pos = shape("decoder/position_encodings/encodings")?;
    let conv1 = shape("encoder/conv1/weight")?;
    let (&[n_vocab, n_text_state], &[n_audio_ctx, n_audio_state], &[n_text_ctx, _], &[_, n_mels, _]) =
        (emb.as_slice(), enc_pos.as_slice(), dec_pos.as_slice(), conv1.as_slice())
    else {
        return Err(ModelError::Format("unexpected shapes: is this a Whisper model?".into()));
    };
    Ok(Hparams {
        n_vocab: n_vocab as i32,
        n_audio_ctx: n_audio_ctx as i32,
        n_audio_state: n_audio_state as i32,
        n_audio_head: heads("encoder/num_heads")?,
        n_audio_layer: count_layers(ct2, "encoder") as i32,
        n_text_ctx: n_text_ctx as i32,
        n_text_state: n_text_state as i32,
        n_text_head: heads("decoder/num_heads")?,
        n_text_layer: count_layers(ct2, "decoder") as i32,
        n_mels: n_mels as i32,
    })
}

/// One tensor to write: whisper.cpp name, PyTorch shape, values, type.
struct Out {
    name: String,
    shape: Vec<usize>,
    values: Vec<f32>,
    ttype: TensorType,
}

/// The whole conversion plan, in whisper.cpp's names, computed lazily per layer so
/// memory stays near one layer's worth of f32 at a time.
struct Plan<'m, 'a> {
    ct2: &'m Ct2Model<'a>,
    wtype: TensorType,
}

impl Plan<'_, '_> {
    fn f32(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
        let v = self.ct2.get(name)?;
        Ok((v.shape.clone(), v.to_f32()?))
    }

    /// A tensor copied as is (norms and biases f32, matrices in the weight type).
    fn copy(&self, from: &str, to: &str, ttype: TensorType) -> Result<Out, ModelError> {
        let (shape, values) = self.f32(from)?;
        Ok(Out { name: to.to_owned(), shape, values, ttype })
    }

    fn linear(&self, from: &str, to: &str) -> Result<Vec<Out>, ModelError> {
        Ok(vec![
            self.copy(&format!("{from}/weight"), &format!("{to}.weight"), self.wtype)?,
            self.copy(&format!("{from}/bias"), &format!("{to}.bias"), TensorType::F32)?,
        ])
    }

    fn norm(&self, from: &str, to: &str) -> Result<Vec<Out>, ModelError> {
        Ok(vec![
            self.copy(&format!("{from}/gamma"), &format!("{to}.weight"), TensorType::F32)?,
            self.copy(&format!("{from}/beta"), &format!("{to}.bias"), TensorType::F32)?,
        ])
    }

    /// Splits a fused projection into `parts` equal row blocks named `names`
    /// (`None` for the key bias, which must be zero and is dropped).
    fn split(&self, from: &str, to: &str, names: &[&str]) -> Result<Vec<Out>, ModelError> {
        let (wshape, w) = self.f32(&format!("{from}/weight"))?;
        let (_, b) = self.f32(&format!("{from}/bias"))?;
        let parts = names.len();
        let &[rows, cols] = wshape.as_slice() else {
            return Err(ModelError::Format(format!("{from}/weight is not a matrix")));
        };
        if rows % parts != 0 || b.len() != rows {
            return Err(ModelError::Format(format!("{from} cannot be split into {parts} parts")));
        }
        let n = rows / parts;
        let mut out = Vec::new();
        for (i, part) in names.iter().enumerate() {
            out.push(Out {
                name: format!("{to}.{part}.weight"),
                shape: vec![n, cols],
                values: w[i * n * cols..(i + 1) * n * cols].to_vec(),
                ttype: self.wtype,
            });
            let bias = &b[i * n..(i + 1) * n];
            if *part == "key" {
                if bias.iter().any(|v| *v != 0.0) {
                    return Err(ModelError::Format(format!(
                        "{from}: non-zero key bias, which whisper.cpp cannot represent"
                    )));
                }
            } else {
                out.push(Out {
                    name: format!("{to}.{part}.bias"),
                    shape: vec![n],
                    values: bias.to_vec(),
                    ttype: TensorType::F32,
                });
            }
        }
        Ok(out)
    }

    fn encoder_top(&self) -> Result<Vec<Out>, ModelError> {
        let mut out = vec![
            self.copy(
                "encoder/position_encodings/encodings",
                "encoder.positional_embedding",
                TensorType::F32,
            )?,
            self.copy("encoder/conv1/weight", "encoder.conv1.weight", TensorType::F16)?,
            self.copy("encoder/conv2/weight", "encoder.conv2.weight", TensorType::F16)?,
        ];
        for conv in ["conv1", "conv2"] {
            let (shape, values) = self.f32(&format!("encoder/{conv}/bias"))?;
            // whisper.cpp adds the bias as an [n, 1] column.
            out.push(Out {
                name: format!("encoder.{conv}.bias"),
                shape: vec![shape[0], 1],
                values,
                ttype: TensorType::F32,
            });
        }
        out.extend(self.norm("encoder/layer_norm", "encoder.ln_post")?);
        Ok(out)
    }

    fn decoder_top(&self) -> Result<Vec<Out>, ModelError> {
        let mut out = vec![
            self.copy(
                "decoder/position_encodings/encodings",
                "decoder.positional_embedding",
                TensorType::F32,
            )?,
            self.copy("decoder/embeddings/weight", "decoder.token_embedding.weight", self.wtype)?,
        ];
        out.extend(self.norm("decoder/layer_norm", "decoder.ln")?);
        Ok(out)
    }

    fn layer(&self, side: &str, i: usize) -> Result<Vec<Out>, ModelError> {
        let from = format!("{side}/layer_{i}");
        let to = format!("{side}.blocks.{i}");
        let mut out = Vec::new();
        out.extend(self.norm(&format!("{from}/self_attention/layer_norm"), &format!("{to}.attn_ln"))?);
        out.extend(self.split(
            &format!("{from}/self_attention/linear_0"),
            &format!("{to}.attn"),
            &["query", "key", "value"],
        )?);
        out.extend(self.linear(&format!("{from}/self_attention/linear_1"), &format!("{to}.attn.out"))?);
        if side == "decoder" {
            out.extend(self.norm(&format!("{from}/attention/layer_norm"), &format!("{to}.cross_attn_ln"))?);
            out.extend(
                self.linear(&format!("{from}/attention/linear_0"), &format!("{to}.cross_attn.query"))?,
            );
            out.extend(self.split(
                &format!("{from}/attention/linear_1"),
                &format!("{to}.cross_attn"),
                &["key", "value"],
            )?);
            out.extend(self.linear(&format!("{from}/attention/linear_2"), &format!("{to}.cross_attn.out"))?);
        }
        out.extend(self.norm(&format!("{from}/ffn/layer_norm"), &format!("{to}.mlp_ln"))?);
        out.extend(self.linear(&format!("{from}/ffn/linear_0"), &format!("{to}.mlp.0"))?);
        out.extend(self.linear(&format!("{from}/ffn/linear_1"), &format!("{to}.mlp.2"))?);
        Ok(out)
    }
}

/// Converts a parsed CT2 Whisper model into a ggml file. `progress(done, total)` is
/// called after each block of tensors. Returns the number of tensors written.
pub fn convert(
    ct2: &Ct2Model<'_>,
    assets: &WhisperAssets,
    ftype: FileType,
    out: impl Write,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, ModelError> {
    if ct2.spec_name != "WhisperSpec" {
        return Err(ModelError::Format(format!("{} is not a Whisper model", ct2.spec_name)));
    }
    let h = hparams(ct2)?;
    if h.n_mels as usize != assets.n_mels {
        return Err(ModelError::Format(format!(
            "model wants {} mel bins, the filter bank has {}",
            h.n_mels, assets.n_mels
        )));
    }
    let mut w = GgmlWriter::new(out);
    w.header(&h, ftype)?;
    w.mel_filters(assets.n_mels, assets.n_fft_bins, &assets.mel_filters)?;
    w.vocabulary(&assets.tokens)?;
    let plan = Plan { ct2, wtype: ftype.weight_type() };
    let (enc, dec) = (h.n_audio_layer as usize, h.n_text_layer as usize);
    let total = 2 + enc + dec;
    let mut written = 0;
    for step in 0..total {
        let tensors = match step {
            0 => plan.encoder_top()?,
            s if s <= enc => plan.layer("encoder", s - 1)?,
            s if s == enc + 1 => plan.decoder_top()?,
            s => plan.layer("decoder", s - enc - 2)?,
        };
        for t in tensors {
            w.tensor(&t.name, &t.shape, &t.values, t.ttype)?;
            written += 1;
        }
        progress(step + 1, total);
    }
    w.finish()?;
    Ok(written)
}
