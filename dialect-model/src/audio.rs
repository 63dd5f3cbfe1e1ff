//! Audio at the pipeline's edge: decode WAV files of any common shape and convert
//! them to 16 kHz mono `f32`, the only format the rest of the pipeline accepts.

use std::path::Path;

use rubato::{FftFixedIn, Resampler};

use crate::SAMPLE_RATE;

/// Why a piece of audio could not be turned into pipeline samples.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot read WAV file {path}: {source}")]
    Wav {
        path: String,
        #[source]
        source: hound::Error,
    },
    #[error("WAV file {path} holds no audio samples")]
    Empty { path: String },
    #[error("unsupported WAV sample format: {0}")]
    Format(String),
    #[error("cannot resample from {from} Hz: {reason}")]
    Resample { from: u32, reason: String },
}

/// Reads a WAV file (8/16/24/32-bit integer or 32-bit float, any rate, any channel
/// count) and returns 16 kHz mono samples in [-1, 1].
pub fn read_wav_16k_mono(path: &Path) -> Result<Vec<f32>, AudioError> {
    let shown = path.display().to_string();
    let wav_err = |source| AudioError::Wav { path: shown.clone(), source };
    let mut reader = hound::WavReader::open(path).map_err(wav_err)?;
    let spec = reader.spec();
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader.samples::<f32>().collect::<Result<_, _>>(),
        (hound::SampleFormat::Int, bits @ 8..=32) => {
            let scale = 1.0 / (1_i64 << (bits - 1)) as f32;
            reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale)).collect::<Result<_, _>>()
        }
        (format, bits) => return Err(AudioError::Format(format!("{format:?} {bits}-bit"))),
    }
    .map_err(wav_err)?;
    if interleaved.is_empty() {
        return Err(AudioError::Empty { path: shown });
    }
    let mono = downmix(&interleaved, usize::from(spec.channels));
    resample(&mono, spec.sample_rate, SAMPLE_RATE)
}

/// Averages interleaved channels into one.
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() / channels as f32).collect()
}

/// Band-limited resampling of mono audio (FFT-based, from `rubato`). The output has
/// `len * to / from` samples (rounded up), aligned with the input: the resampler's
/// delay is removed.
pub fn resample(mono: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to {
        return Ok(mono.to_vec());
    }
    let err = |reason: String| AudioError::Resample { from, reason };
    const CHUNK: usize = 1024;
    let mut resampler =
        FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1).map_err(|e| err(e.to_string()))?;
    let wanted = (mono.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) as usize;
    let delay = resampler.output_delay();
    let mut out = Vec::with_capacity(wanted + delay + CHUNK);
    let mut pos = 0;
    // Feed the input, then zeros, until the delayed output covers the whole signal.
    while out.len() < wanted + delay {
        let need = resampler.input_frames_next();
        let chunk: Vec<f32> = if pos < mono.len() {
            let end = (pos + need).min(mono.len());
            let mut c = mono[pos..end].to_vec();
            c.resize(need, 0.0);
            c
        } else {
            vec![0.0; need]
        };
        pos += need;
        let produced = resampler.process(&[chunk], None).map_err(|e| err(e.to_string()))?;
        out.extend_from_slice(&produced[0]);
    }
    Ok(out[delay..delay + wanted].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n).map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5).collect()
    }

    /// Frequency estimated from zero crossings: resampling must keep the pitch.
    fn zero_crossing_hz(x: &[f32], rate: u32) -> f32 {
        let crossings = x.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        crossings as f32 / 2.0 / (x.len() as f32 / rate as f32)
    }

    #[test]
    fn resampling_keeps_length_and_pitch() {
        for from in [8_000, 22_050, 44_100, 48_000] {
            let x = sine(440.0, from, 1.0);
            let y = resample(&x, from, SAMPLE_RATE).unwrap();
            assert_eq!(y.len(), SAMPLE_RATE as usize, "from {from}");
            let hz = zero_crossing_hz(&y[1000..15000], SAMPLE_RATE);
            assert!((hz - 440.0).abs() < 5.0, "from {from}: {hz} Hz");
            let peak = y[1000..15000].iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            assert!((peak - 0.5).abs() < 0.05, "from {from}: peak {peak}");
        }
    }

    #[test]
    fn downmix_averages_channels() {
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
    }
}
