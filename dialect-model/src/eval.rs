//! Evaluation of the listening + recognition path on synthesised clips: character
//! error rate, latency from end of audio to text, real-time factor.
//!
//! Clips are made with Open JTalk from sentence lists (a TSV with `id` and a text
//! column), in three variants: normal speed, 0.85× speed (a slower speaker), and with
//! added noise at about 20 dB SNR. Synthetic speech is not an elderly dialect
//! speaker: these figures bound the pipeline, they do not promise field accuracy.

use std::path::Path;
use std::time::Instant;

use crate::SAMPLE_RATE;
use crate::asr::{AsrError, Recognizer};
use crate::tts::{OpenJTalk, TtsError};
use crate::vad::{self, VadConfig};

/// One sentence to say.
#[derive(Debug, Clone)]
pub struct Sentence {
    pub id: String,
    pub text: String,
}

/// Why an evaluation input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {reason}")]
    Tsv { path: String, reason: String },
    #[error(transparent)]
    Tts(#[from] TtsError),
    #[error(transparent)]
    Asr(#[from] AsrError),
}

/// Reads `id` and `column` from a TSV with a header row (other columns ignored).
pub fn read_tsv(path: &Path, column: &str) -> Result<Vec<Sentence>, EvalError> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|source| EvalError::Read { path: shown.clone(), source })?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let find = |name: &str| {
        header.iter().position(|h| h.trim() == name).ok_or_else(|| EvalError::Tsv {
            path: shown.clone(),
            reason: format!("no column {name:?} in header {header:?}"),
        })
    };
    let (id_col, text_col) = (find("id")?, find(column)?);
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            Some(Sentence { id: cells.get(id_col)?.trim().into(), text: cells.get(text_col)?.trim().into() })
        })
        .filter(|s| !s.text.is_empty())
        .collect())
}

/// How a clip was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    Normal,
    Slow,
    Noisy,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Normal, Variant::Slow, Variant::Noisy];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Normal => "normal",
            Variant::Slow => "slow",
            Variant::Noisy => "noisy",
        }
    }
}

/// A synthesised test clip at 16 kHz, with silence around the speech as a
/// microphone would record it.
#[derive(Debug, Clone)]
pub struct Clip {
    pub id: String,
    pub reference: String,
    pub variant: Variant,
    pub samples: Vec<f32>,
}

impl Clip {
    pub fn seconds(&self) -> f32 {
        self.samples.len() as f32 / SAMPLE_RATE as f32
    }
}

/// Makes clips for every sentence and variant (Open JTalk output is cached).
pub fn make_clips(sentences: &[Sentence], variants: &[Variant]) -> Result<Vec<Clip>, EvalError> {
    let mut out = Vec::new();
    for variant in variants {
        let tts =
            OpenJTalk { speed: if *variant == Variant::Slow { 0.85 } else { 1.0 }, ..OpenJTalk::default() };
        for (i, s) in sentences.iter().enumerate() {
            let speech = tts.synthesize(&s.text)?.to_16k();
            let mut samples =
                [vec![0.0; SAMPLE_RATE as usize * 3 / 10], speech, vec![0.0; SAMPLE_RATE as usize * 3 / 2]]
                    .concat();
            if *variant == Variant::Noisy {
                add_noise(&mut samples, 20.0, i as u32 + 1);
            }
            out.push(Clip { id: s.id.clone(), reference: s.text.clone(), variant: *variant, samples });
        }
    }
    Ok(out)
}

/// Adds deterministic white noise at `snr_db` below the signal's RMS.
pub fn add_noise(samples: &mut [f32], snr_db: f32, seed: u32) {
    let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt();
    let noise_rms = rms / 10f32.powf(snr_db / 20.0);
    let mut state = seed.wrapping_mul(0x9E37_79B9) | 1;
    for s in samples.iter_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        // Uniform in [-1, 1) has RMS 1/√3.
        let u = state as f32 / u32::MAX as f32 * 2.0 - 1.0;
        *s += u * noise_rms * 3f32.sqrt();
    }
}

/// Characters that carry no content for CER: punctuation and spaces.
fn content_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| !c.is_whitespace() && !"。、．，！？!?,.・…「」『』()（）ー〜~".contains(*c))
        .collect()
}

/// Character error rate: edit distance over the reference's content characters.
pub fn cer(reference: &str, hypothesis: &str) -> f32 {
    let (r, h) = (content_chars(reference), content_chars(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rc) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hc) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rc != hc)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f32 / r.len() as f32
}

/// The result for one clip.
#[derive(Debug, Clone)]
pub struct ClipResult {
    pub id: String,
    pub variant: Variant,
    pub reference: String,
    pub text: String,
    pub cer: f32,
    /// From the end of the last utterance (as the endpointer saw it) to its text.
    pub latency_ms: f64,
    pub audio_seconds: f32,
    pub decode_seconds: f64,
}

/// Runs listening (VAD) and recognition on one clip, as the kiosk would.
pub fn run_clip(
    recognizer: &Recognizer,
    vad_config: &VadConfig,
    clip: &Clip,
) -> Result<ClipResult, EvalError> {
    let started = Instant::now();
    let utterances = vad::utterances(&clip.samples, vad_config);
    let mut text = String::new();
    let mut latency_ms = 0.0;
    for u in &utterances {
        let t = Instant::now();
        text.push_str(&recognizer.transcribe(u)?);
        latency_ms = t.elapsed().as_secs_f64() * 1000.0;
    }
    Ok(ClipResult {
        id: clip.id.clone(),
        variant: clip.variant,
        cer: cer(&clip.reference, &text),
        reference: clip.reference.clone(),
        text,
        latency_ms,
        audio_seconds: clip.seconds(),
        decode_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The p-th percentile (0–100) by nearest rank; 0 for no data.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// Corpus-level CER over clip results: total edits over total reference characters.
pub fn corpus_cer(results: &[ClipResult]) -> f32 {
    corpus_cer_of(results.iter().map(|r| (r.reference.as_str(), r.cer)))
}

/// Corpus-level CER over (reference, hypothesis) pairs, weighted as [`corpus_cer`].
pub fn corpus_cer_texts<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> f32 {
    corpus_cer_of(pairs.into_iter().map(|(reference, text)| (reference, cer(reference, text))))
}

fn corpus_cer_of<'a>(per_clip: impl Iterator<Item = (&'a str, f32)>) -> f32 {
    let (mut edits, mut chars) = (0.0_f32, 0usize);
    for (reference, cer) in per_clip {
        let n = content_chars(reference).len();
        edits += cer * n as f32;
        chars += n;
    }
    if chars == 0 { 0.0 } else { edits / chars as f32 }
}

/// Peak resident memory of this process so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cer_ignores_punctuation_and_counts_edits() {
        assert_eq!(cer("今日は元気です。", "今日は元気です"), 0.0);
        assert_eq!(cer("あいうえ", "あいうお"), 0.25);
        assert_eq!(cer("あい", ""), 1.0);
        assert_eq!(cer("", ""), 0.0);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&v, 50.0), 3.0);
        assert_eq!(percentile(&v, 90.0), 5.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn noise_is_added_at_the_requested_level() {
        let mut x: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        let clean = x.clone();
        add_noise(&mut x, 20.0, 7);
        let p = |v: &[f32]| v.iter().map(|s| s * s).sum::<f32>();
        let noise: Vec<f32> = x.iter().zip(&clean).map(|(a, b)| a - b).collect();
        let snr = 10.0 * (p(&clean) / p(&noise)).log10();
        assert!((snr - 20.0).abs() < 1.0, "{snr} dB");
    }
}
