//! Listening: voice-activity detection and end-of-speech for slow elderly speakers.
//!
//! Frames of 20 ms are classified by two measures: energy above an adaptive noise
//! floor, and voicing (the normalised autocorrelation peak at a pitch between 60 and
//! 420 Hz). Speech is voiced; white noise, a cough, a click or room noise is not, so
//! they never open an utterance. An utterance opens after [`VadConfig::min_voiced_ms`]
//! of voiced frames (short enough to keep 「く」 and 「んだ」) and ends only after
//! [`VadConfig::end_silence_ms`] of quiet (1.2 s by default: a slow speaker's pause
//! between words is not the end), or at [`VadConfig::max_utterance_ms`].

use crate::SAMPLE_RATE;

/// Endpointing parameters.
#[derive(Debug, Clone)]
pub struct VadConfig {
    /// Trailing silence that ends an utterance. Never below 1.2 s for residents.
    pub end_silence_ms: u32,
    /// Voiced speech needed (within an utterance) for it to count at all.
    pub min_voiced_ms: u32,
    /// Hard limit for one utterance.
    pub max_utterance_ms: u32,
    /// Audio kept before the first voiced frame (soft onsets, unvoiced consonants).
    pub pre_roll_ms: u32,
    /// Energy above the noise floor for a frame to be "loud", in dB.
    pub energy_margin_db: f32,
    /// Autocorrelation peak for a frame to be "voiced" (0..1).
    pub voicing_threshold: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            end_silence_ms: 1200,
            min_voiced_ms: 80,
            max_utterance_ms: 20_000,
            pre_roll_ms: 300,
            energy_margin_db: 10.0,
            voicing_threshold: 0.55,
        }
    }
}

const FRAME: usize = SAMPLE_RATE as usize / 50; // 20 ms
const FRAME_MS: u32 = 20;
/// Absolute floor: quieter than this is silence whatever the room.
const MIN_SPEECH_DBFS: f32 = -55.0;

/// What one frame looked like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameInfo {
    pub dbfs: f32,
    pub voicing: f32,
}

/// Energy (dBFS) and voicing of one frame.
pub fn analyse_frame(frame: &[f32]) -> FrameInfo {
    let energy = frame.iter().map(|s| s * s).sum::<f32>() / frame.len().max(1) as f32;
    let dbfs = 10.0 * energy.max(1e-12).log10();
    FrameInfo { dbfs, voicing: voicing(frame) }
}

/// Peak normalised autocorrelation over pitch lags of 60–420 Hz, after removing the
/// mean and a pre-emphasis (first difference) that whitens low-frequency rumble: brown
/// room noise is strongly correlated at short lags without having any pitch. The peak
/// must also be a real peak, not the slope down from lag zero. Silent or flat
/// (clipped) frames score 0.
fn voicing(frame: &[f32]) -> f32 {
    let x: Vec<f32> = frame.windows(2).map(|w| w[1] - 0.97 * w[0]).collect();
    let mean = x.iter().sum::<f32>() / x.len().max(1) as f32;
    let x: Vec<f32> = x.iter().map(|s| s - mean).collect();
    let (min_lag, max_lag) = (SAMPLE_RATE as usize / 420, SAMPLE_RATE as usize / 60);
    let corr = |lag: usize| {
        let (a, b) = (&x[..x.len() - lag], &x[lag..]);
        let (mut xy, mut xx, mut yy) = (0.0_f32, 0.0_f32, 0.0_f32);
        for (p, q) in a.iter().zip(b) {
            xy += p * q;
            xx += p * p;
            yy += q * q;
        }
        if xx > 1e-9 && yy > 1e-9 { xy / (xx * yy).sqrt() } else { 0.0 }
    };
    let lags = min_lag..max_lag.min(x.len() / 2);
    let values: Vec<f32> = lags.clone().map(corr).collect();
    values
        .iter()
        .enumerate()
        .skip(1)
        .filter(|&(i, v)| i + 1 < values.len() && *v >= values[i - 1] && *v >= values[i + 1])
        .map(|(_, v)| *v)
        .fold(0.0_f32, f32::max)
}

/// Whether `samples` hold at least `min_ms` of voiced, audible frames: the
/// recogniser's own guard against being handed silence or noise.
pub fn has_voiced_speech(samples: &[f32], min_ms: u32) -> bool {
    let voiced = samples
        .chunks_exact(FRAME)
        .map(analyse_frame)
        .filter(|f| f.dbfs > MIN_SPEECH_DBFS && f.voicing >= VadConfig::default().voicing_threshold)
        .count() as u32;
    voiced * FRAME_MS >= min_ms
}

/// Something the endpointer noticed, with sample positions in the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum VadEvent {
    /// The resident started speaking (use it for barge-in: stop playback).
    SpeechStarted { at: usize },
    /// An utterance ended; its samples (with pre-roll, without the trailing silence).
    Utterance { start: usize, end: usize, samples: Vec<f32> },
}

/// Streaming endpointer: push audio as it arrives, get events.
#[derive(Debug)]
pub struct Endpointer {
    config: VadConfig,
    /// Unprocessed tail smaller than a frame.
    pending: Vec<f32>,
    /// Samples consumed so far (stream position of `pending[0]`).
    position: usize,
    /// Recent audio for pre-roll, or the utterance so far.
    buffer: Vec<f32>,
    buffer_start: usize,
    noise_floor_db: f32,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Quiet,
    /// Voiced frames seen, not yet enough to be sure.
    Onset {
        voiced_ms: u32,
        since: usize,
    },
    Speaking {
        voiced_ms: u32,
        silence_ms: u32,
        last_speech_end: usize,
    },
}

impl Endpointer {
    pub fn new(config: VadConfig) -> Self {
        Self {
            config,
            pending: Vec::new(),
            position: 0,
            buffer: Vec::new(),
            buffer_start: 0,
            noise_floor_db: -70.0,
            state: State::Quiet,
        }
    }

    /// Whether an utterance is in progress (for "listening" indicators).
    pub fn in_speech(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    /// During a pause inside an utterance: how long the pause has lasted and the
    /// utterance so far (pre-roll included, the pause left out). `None` while quiet,
    /// while the resident is speaking, or before the utterance counts as speech.
    /// Lets a caller judge an answer complete before the full end-of-speech wait.
    pub fn pause(&self) -> Option<(u32, &[f32])> {
        match self.state {
            State::Speaking { voiced_ms, silence_ms, last_speech_end }
                if silence_ms > 0 && voiced_ms >= self.config.min_voiced_ms =>
            {
                let take = last_speech_end.saturating_sub(self.buffer_start).min(self.buffer.len());
                Some((silence_ms, &self.buffer[..take]))
            }
            _ => None,
        }
    }

    /// Ends the utterance in progress now (the caller judged it complete during a
    /// pause); returns it as [`pause`](Self::pause) showed it.
    pub fn end_now(&mut self) -> Option<VadEvent> {
        match self.state {
            State::Speaking { last_speech_end, .. } => {
                let event = self.utterance(last_speech_end);
                self.state = State::Quiet;
                Some(event)
            }
            _ => None,
        }
    }

    /// Feeds 16 kHz mono samples; returns what happened.
    pub fn push(&mut self, samples: &[f32]) -> Vec<VadEvent> {
        self.pending.extend_from_slice(samples);
        let mut events = Vec::new();
        let whole = self.pending.len() / FRAME * FRAME;
        let frames: Vec<f32> = self.pending.drain(..whole).collect();
        for frame in frames.chunks_exact(FRAME) {
            self.frame(frame, &mut events);
            self.position += FRAME;
        }
        events
    }

    /// Ends the stream: an utterance in progress is returned as it is.
    pub fn finish(&mut self) -> Vec<VadEvent> {
        let mut events = Vec::new();
        if let State::Speaking { voiced_ms, last_speech_end, .. } = self.state
            && voiced_ms >= self.config.min_voiced_ms
        {
            events.push(self.utterance(last_speech_end));
        }
        self.state = State::Quiet;
        events
    }

    fn frame(&mut self, frame: &[f32], events: &mut Vec<VadEvent>) {
        let info = analyse_frame(frame);
        let loud =
            info.dbfs > MIN_SPEECH_DBFS && info.dbfs > self.noise_floor_db + self.config.energy_margin_db;
        let voiced = loud && info.voicing >= self.config.voicing_threshold;
        let frame_end = self.position + FRAME;
        self.buffer.extend_from_slice(frame);
        match self.state {
            State::Quiet => {
                self.track_noise(info.dbfs, loud);
                if voiced {
                    self.state = State::Onset { voiced_ms: FRAME_MS, since: self.position };
                } else {
                    self.trim_pre_roll();
                }
            }
            State::Onset { voiced_ms, since } => {
                let voiced_ms = voiced_ms + if voiced { FRAME_MS } else { 0 };
                if voiced_ms >= self.config.min_voiced_ms {
                    events.push(VadEvent::SpeechStarted { at: since });
                    self.state = State::Speaking { voiced_ms, silence_ms: 0, last_speech_end: frame_end };
                } else if (frame_end - since) as u32 * 1000 / SAMPLE_RATE > 4 * self.config.min_voiced_ms {
                    // Scattered voiced frames (a clink, a chair): not speech.
                    self.state = State::Quiet;
                    self.trim_pre_roll();
                } else {
                    self.state = State::Onset { voiced_ms, since };
                }
            }
            State::Speaking { voiced_ms, silence_ms, last_speech_end } => {
                let (voiced_ms, silence_ms, last_speech_end) = if loud {
                    (voiced_ms + if voiced { FRAME_MS } else { 0 }, 0, frame_end)
                } else {
                    (voiced_ms, silence_ms + FRAME_MS, last_speech_end)
                };
                let length_ms = (frame_end - self.buffer_start) as u64 * 1000 / u64::from(SAMPLE_RATE);
                if silence_ms >= self.config.end_silence_ms
                    || length_ms >= u64::from(self.config.max_utterance_ms)
                {
                    let end =
                        if silence_ms >= self.config.end_silence_ms { last_speech_end } else { frame_end };
                    events.push(self.utterance(end));
                    self.state = State::Quiet;
                } else {
                    self.state = State::Speaking { voiced_ms, silence_ms, last_speech_end };
                }
            }
        }
    }

    /// Slowly follows the room's level while nobody speaks (fast down, slow up).
    fn track_noise(&mut self, dbfs: f32, loud: bool) {
        let dbfs = dbfs.max(-90.0);
        let rate = if dbfs < self.noise_floor_db {
            0.3
        } else if loud {
            0.01
        } else {
            0.05
        };
        self.noise_floor_db += (dbfs - self.noise_floor_db) * rate;
    }

    fn trim_pre_roll(&mut self) {
        let keep = (self.config.pre_roll_ms * SAMPLE_RATE / 1000) as usize;
        if self.buffer.len() > keep {
            let drop = self.buffer.len() - keep;
            self.buffer.drain(..drop);
            self.buffer_start += drop;
        }
    }

    fn utterance(&mut self, end: usize) -> VadEvent {
        let start = self.buffer_start;
        let take = end.saturating_sub(start).min(self.buffer.len());
        let samples = self.buffer[..take].to_vec();
        let consumed = self.buffer.len();
        self.buffer.clear();
        self.buffer_start += consumed;
        VadEvent::Utterance { start, end: start + take, samples }
    }
}

/// Runs the endpointer over a whole recording and returns its utterances.
pub fn utterances(samples: &[f32], config: &VadConfig) -> Vec<Vec<f32>> {
    let mut ep = Endpointer::new(config.clone());
    let mut events = ep.push(samples);
    events.extend(ep.finish());
    events
        .into_iter()
        .filter_map(|e| match e {
            VadEvent::Utterance { samples, .. } => Some(samples),
            VadEvent::SpeechStarted { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, ms: u32, amp: f32) -> Vec<f32> {
        let n = (SAMPLE_RATE * ms / 1000) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / SAMPLE_RATE as f32;
                // A voiced-like sound: fundamental plus harmonics.
                amp * ((2.0 * std::f32::consts::PI * hz * t).sin()
                    + 0.5 * (4.0 * std::f32::consts::PI * hz * t).sin()
                    + 0.25 * (6.0 * std::f32::consts::PI * hz * t).sin())
            })
            .collect()
    }

    #[test]
    fn pause_shows_the_utterance_so_far_and_end_now_ends_it() {
        let mut ep = Endpointer::new(VadConfig::default());
        let _ = ep.push(&silence(500));
        assert!(ep.pause().is_none(), "quiet: no pause");
        let events = ep.push(&tone(150.0, 600, 0.3));
        assert!(events.iter().any(|e| matches!(e, VadEvent::SpeechStarted { .. })));
        assert!(ep.pause().is_none(), "speaking: no pause yet");
        let events = ep.push(&silence(600));
        assert!(events.is_empty(), "600 ms is not the end of speech");
        let (pause_ms, so_far) = ep.pause().expect("a pause");
        assert!((560..=620).contains(&pause_ms), "{pause_ms}");
        let so_far = so_far.len();
        assert!((600 * 16..=1000 * 16).contains(&so_far), "{so_far}");
        match ep.end_now() {
            Some(VadEvent::Utterance { samples, .. }) => assert_eq!(samples.len(), so_far),
            other => panic!("{other:?}"),
        }
        assert!(!ep.in_speech());
        assert!(ep.push(&silence(1500)).is_empty(), "nothing more after ending early");
    }

    fn silence(ms: u32) -> Vec<f32> {
        vec![0.0; (SAMPLE_RATE * ms / 1000) as usize]
    }

    #[test]
    fn a_pause_shorter_than_the_end_silence_does_not_split() {
        let audio =
            [silence(500), tone(150.0, 600, 0.2), silence(1000), tone(150.0, 600, 0.2), silence(2000)]
                .concat();
        let utts = utterances(&audio, &VadConfig::default());
        assert_eq!(utts.len(), 1, "a 1.0 s pause must not end a slow speaker's turn");
        let secs = utts[0].len() as f32 / SAMPLE_RATE as f32;
        assert!((2.2..2.7).contains(&secs), "{secs} s");
    }

    #[test]
    fn a_long_pause_ends_the_turn_and_short_answers_survive() {
        let audio =
            [silence(300), tone(180.0, 120, 0.2), silence(1500), tone(140.0, 400, 0.2), silence(1500)]
                .concat();
        let utts = utterances(&audio, &VadConfig::default());
        assert_eq!(utts.len(), 2, "a 120 ms 「く」 is an answer");
    }

    #[test]
    fn the_end_is_not_declared_before_the_configured_silence() {
        let mut ep = Endpointer::new(VadConfig::default());
        assert!(ep.push(&tone(150.0, 500, 0.2)).iter().any(|e| matches!(e, VadEvent::SpeechStarted { .. })));
        assert!(ep.push(&silence(1180)).is_empty(), "ended before 1.2 s of silence");
        assert!(matches!(ep.push(&silence(40)).as_slice(), [VadEvent::Utterance { .. }]));
    }

    #[test]
    fn max_length_cuts_a_never_ending_sound() {
        let config = VadConfig { max_utterance_ms: 3000, ..VadConfig::default() };
        let utts = utterances(&tone(150.0, 7000, 0.2), &config);
        assert!(utts.len() >= 2);
        assert!(utts.iter().all(|u| u.len() <= 3 * SAMPLE_RATE as usize + FRAME));
    }

    #[test]
    fn noise_and_silence_open_nothing() {
        // Deterministic white noise (xorshift).
        let mut seed = 0x2545_f491_u32;
        let noise: Vec<f32> = (0..SAMPLE_RATE * 5)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed as f32 / u32::MAX as f32 - 0.5) * 0.6
            })
            .collect();
        assert!(utterances(&noise, &VadConfig::default()).is_empty());
        assert!(utterances(&silence(5000), &VadConfig::default()).is_empty());
        assert!(utterances(&[], &VadConfig::default()).is_empty());
    }
}
