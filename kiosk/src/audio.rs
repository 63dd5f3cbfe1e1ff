//! Audio devices: capture with cpal (any rate and channel count, delivered as 16 kHz
//! mono f32) and playback with rodio. Both are opened on the speech thread and never
//! leave it. A machine with no sound card gets a clear error, not a panic.

use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait as _, HostTrait as _, StreamTrait as _};

/// Why a device could not be used, in words staff can act on.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("マイクが見つかりません")]
    NoMicrophone,
    #[error("マイク「{0}」が見つかりません")]
    NamedMicrophoneMissing(String),
    #[error("マイクを開けません: {0}")]
    Microphone(String),
    #[error("スピーカーが見つかりません: {0}")]
    NoSpeaker(String),
    #[error("スピーカー「{0}」が見つかりません")]
    NamedSpeakerMissing(String),
    #[error("音を出せません: {0}")]
    Play(String),
}

/// An open capture stream; samples wait in a buffer until drained.
pub struct Capture {
    _stream: cpal::Stream,
    buffer: Arc<Mutex<Vec<f32>>>,
    rate: u32,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("rate", &self.rate).finish_non_exhaustive()
    }
}

impl Capture {
    /// Opens the named input device, or the default one.
    pub fn open(name: Option<&str>) -> Result<Self, AudioError> {
        let host = cpal::default_host();
        let device = match name {
            Some(name) => host
                .input_devices()
                .map_err(|e| AudioError::Microphone(e.to_string()))?
                .find(|d| d.name().is_ok_and(|n| n == name))
                .ok_or_else(|| AudioError::NamedMicrophoneMissing(name.to_string()))?,
            None => host.default_input_device().ok_or(AudioError::NoMicrophone)?,
        };
        let config = device.default_input_config().map_err(|e| AudioError::Microphone(e.to_string()))?;
        let channels = usize::from(config.channels()).max(1);
        let rate = config.sample_rate().0;
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        // Keep at most a minute: a stalled reader must not eat memory.
        let cap = rate as usize * 60;
        let push = move |mono: Vec<f32>| {
            if let Ok(mut b) = sink.lock() {
                if b.len() + mono.len() > cap {
                    let drop = (b.len() + mono.len()).saturating_sub(cap).min(b.len());
                    b.drain(..drop);
                }
                b.extend(mono);
            }
        };
        let err = |e: cpal::StreamError| tracing::warn!(error = %e, "microphone stream error");
        let stream = match config.sample_format() {
            cpal::SampleFormat::F32 => device.build_input_stream(
                &config.into(),
                move |data: &[f32], _: &_| push(dialect_model::audio::downmix(data, channels)),
                err,
                None,
            ),
            cpal::SampleFormat::I16 => device.build_input_stream(
                &config.into(),
                move |data: &[i16], _: &_| {
                    let f: Vec<f32> = data.iter().map(|&s| f32::from(s) / 32768.0).collect();
                    push(dialect_model::audio::downmix(&f, channels))
                },
                err,
                None,
            ),
            other => return Err(AudioError::Microphone(format!("unsupported sample format {other:?}"))),
        }
        .map_err(|e| AudioError::Microphone(e.to_string()))?;
        stream.play().map_err(|e| AudioError::Microphone(e.to_string()))?;
        Ok(Self { _stream: stream, buffer, rate })
    }

    /// Everything captured since the last call, as 16 kHz mono.
    pub fn drain(&mut self) -> Vec<f32> {
        let raw = match self.buffer.lock() {
            Ok(mut b) => std::mem::take(&mut *b),
            Err(_) => return vec![],
        };
        if raw.is_empty() || self.rate == 16_000 {
            return raw;
        }
        dialect_model::audio::resample(&raw, self.rate, 16_000).unwrap_or_default()
    }
}

/// The speaker. A fresh sink per line, so a stop never leaves a sink half-cleared.
pub struct Playback {
    _stream: rodio::OutputStream,
    handle: rodio::OutputStreamHandle,
    sink: Option<rodio::Sink>,
    volume: f32,
}

impl std::fmt::Debug for Playback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Playback").field("volume", &self.volume).finish_non_exhaustive()
    }
}

impl Playback {
    /// Opens the named output device, or the default one.
    pub fn open(name: Option<&str>) -> Result<Self, AudioError> {
        let (stream, handle) = match name {
            Some(name) => {
                let device = cpal::default_host()
                    .output_devices()
                    .map_err(|e| AudioError::NoSpeaker(e.to_string()))?
                    .find(|d| d.name().is_ok_and(|n| n == name))
                    .ok_or_else(|| AudioError::NamedSpeakerMissing(name.to_string()))?;
                rodio::OutputStream::try_from_device(&device)
            }
            None => rodio::OutputStream::try_default(),
        }
        .map_err(|e| AudioError::NoSpeaker(e.to_string()))?;
        Ok(Self { _stream: stream, handle, sink: None, volume: 0.8 })
    }

    pub fn play(&mut self, samples: &[f32], rate: u32) -> Result<(), AudioError> {
        self.stop();
        let sink = rodio::Sink::try_new(&self.handle).map_err(|e| AudioError::Play(e.to_string()))?;
        sink.set_volume(self.volume);
        sink.append(rodio::buffer::SamplesBuffer::new(1, rate, samples.to_vec()));
        self.sink = Some(sink);
        Ok(())
    }

    pub fn is_playing(&self) -> bool {
        self.sink.as_ref().is_some_and(|s| !s.empty())
    }

    pub fn stop(&mut self) {
        if let Some(s) = self.sink.take() {
            s.stop();
        }
    }

    pub fn set_volume(&mut self, volume: f32) {
        self.volume = volume;
        if let Some(s) = self.sink.as_ref() {
            s.set_volume(volume);
        }
    }
}

/// A sine tone (speaker test).
pub fn tone(hz: f32, seconds: f32, rate: u32) -> Vec<f32> {
    let n = (seconds * rate as f32) as usize;
    (0..n).map(|i| 0.3 * (std::f32::consts::TAU * hz * i as f32 / rate as f32).sin()).collect()
}

/// A soft two-note chime (E5, then C5) before the tablet speaks by itself: each note
/// fades in and out, so it does not startle; about 0.9 s, peak −12 dBFS.
pub fn chime(rate: u32) -> Vec<f32> {
    let note = |hz: f32, seconds: f32| {
        let n = (seconds * rate as f32) as usize;
        (0..n).map(move |i| {
            let t = i as f32 / rate as f32;
            // Rise over 30 ms, then die away like a struck bell.
            let envelope = (t / 0.03).min(1.0) * (-t * 5.0).exp();
            0.25 * envelope * (std::f32::consts::TAU * hz * t).sin()
        })
    };
    note(659.25, 0.4).chain(note(523.25, 0.5)).collect()
}

/// Peak level in dBFS (−120 for silence).
pub fn peak_dbfs(samples: &[f32]) -> f32 {
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if peak <= 1e-6 { -120.0 } else { 20.0 * peak.log10() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chime_is_short_soft_and_starts_and_ends_quietly() {
        let c = chime(48_000);
        let seconds = c.len() as f32 / 48_000.0;
        assert!((0.8..=1.0).contains(&seconds), "{seconds} s");
        let peak = peak_dbfs(&c);
        assert!((-14.0..=-11.0).contains(&peak), "peak {peak:.1} dBFS");
        // No click: the first and last samples are near silence.
        assert!(c[0].abs() < 0.01 && c[c.len() - 1].abs() < 0.05, "{} {}", c[0], c[c.len() - 1]);
    }
}
