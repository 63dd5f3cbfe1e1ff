//! Speech as a tablet hears an old resident: slower and lower (Open JTalk's own speed
//! and pitch), a vocal tremor, a room's reverberation, household noise (a television
//! talking, a stove fan, a kettle) at 10–20 dB below the voice, a cheap band-limited
//! microphone, and a start the endpointer clipped. Every choice comes from a seed, so
//! a degraded set is the same on every machine.
//!
//! This is a stand-in for recordings of residents, which the product cannot have
//! here; `--wav-dir` measures real recordings the same way when a town makes them.

use std::f32::consts::PI;

use crate::SAMPLE_RATE;

/// Household noise behind the voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noise {
    /// Another voice talking, as from a television across the room.
    Television,
    /// A stove or ventilation fan: low rumble.
    Fan,
    /// A kettle coming to the boil: a high hiss that swells.
    Kettle,
}

impl Noise {
    pub fn key(self) -> &'static str {
        match self {
            Noise::Television => "tv",
            Noise::Fan => "fan",
            Noise::Kettle => "kettle",
        }
    }
}

/// What is done to one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct Degradation {
    /// Open JTalk's speed (0.8–0.9 of the voice's natural pace).
    pub speed: f32,
    /// Semitones of pitch (−1 to −4).
    pub half_tone: f32,
    /// Tremor: amplitude modulation at `tremor_hz` (4–7 Hz) of `tremor_depth` (0.1–0.35).
    pub tremor_hz: f32,
    pub tremor_depth: f32,
    /// Reverberation time of the room, seconds (0.2–0.6).
    pub rt60: f32,
    pub noise: Noise,
    /// Voice above noise, dB (10–20).
    pub snr_db: f32,
    /// Milliseconds of the speech's start lost (0–120).
    pub clipped_ms: u32,
    /// Seed of the noise itself.
    pub seed: u64,
}

/// A small deterministic generator (splitmix64): no dependency, same on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn between(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in [-1, 1).
    fn signed(&mut self) -> f32 {
        self.unit() * 2.0 - 1.0
    }
}

impl Degradation {
    /// The degradation of the clip with this seed (every parameter drawn from it).
    pub fn from_seed(seed: u64) -> Self {
        let mut r = Rng::new(seed);
        let noise = match r.next_u64() % 3 {
            0 => Noise::Television,
            1 => Noise::Fan,
            _ => Noise::Kettle,
        };
        Degradation {
            speed: r.between(0.8, 0.9),
            half_tone: r.between(-4.0, -1.0),
            tremor_hz: r.between(4.0, 7.0),
            tremor_depth: r.between(0.1, 0.35),
            rt60: r.between(0.2, 0.6),
            noise,
            snr_db: r.between(10.0, 20.0),
            clipped_ms: (r.unit() * 120.0) as u32,
            seed: r.next_u64(),
        }
    }

    /// One line for a manifest: how the clip was made.
    pub fn describe(&self) -> String {
        format!(
            "speed={:.2} half_tone={:.1} tremor={:.1}Hz/{:.2} rt60={:.2}s noise={} snr={:.1}dB clipped={}ms",
            self.speed,
            self.half_tone,
            self.tremor_hz,
            self.tremor_depth,
            self.rt60,
            self.noise.key(),
            self.snr_db,
            self.clipped_ms
        )
    }

    /// The microphone's recording of `speech` (16 kHz, already slowed and lowered by
    /// the synthesiser): 0.3 s of room before, 1.5 s after, noise throughout.
    /// `television` is other speech for [`Noise::Television`] (16 kHz).
    pub fn apply(&self, speech: &[f32], television: &[f32]) -> Vec<f32> {
        let mut voice = clip_start(speech, self.clipped_ms);
        tremor(&mut voice, self.tremor_hz, self.tremor_depth);
        let (before, after) = (SAMPLE_RATE as usize * 3 / 10, SAMPLE_RATE as usize * 3 / 2);
        let mut out = [vec![0.0; before], voice, vec![0.0; after]].concat();
        reverberate(&mut out, self.rt60, self.seed);
        let mut noise = match self.noise {
            Noise::Television => television_noise(television, out.len(), self.seed),
            Noise::Fan => fan_noise(out.len(), self.seed),
            Noise::Kettle => kettle_noise(out.len(), self.seed),
        };
        // A tablet's microphone: nothing below 300 Hz or above 3.4 kHz to speak of. The
        // SNR is the recording's, so voice and noise are measured after it.
        microphone(&mut out);
        microphone(&mut noise);
        // Nothing said: the room at the level it would have under a typical voice.
        let voice = Some(active_rms(&out)).filter(|v| *v > 1e-4).unwrap_or(0.1);
        let gain = voice / 10f32.powf(self.snr_db / 20.0) / rms(&noise).max(1e-9);
        for (o, n) in out.iter_mut().zip(&noise) {
            *o += *n * gain;
        }
        // Its automatic gain drives loud parts into the ceiling.
        let peak = out.iter().fold(0.0f32, |m, s| m.max(s.abs())).max(1e-9);
        for s in &mut out {
            *s = (*s / peak * 1.4).tanh() * 0.7;
        }
        out
    }
}

fn microphone(samples: &mut [f32]) {
    let rate = SAMPLE_RATE as f32;
    let mut high_pass = Biquad::high_pass(300.0, rate);
    let (mut low_a, mut low_b) = (Biquad::low_pass(3400.0, rate), Biquad::low_pass(3400.0, rate));
    for s in samples {
        *s = low_b.run(low_a.run(high_pass.run(*s)));
    }
}

/// The speech without its first `ms` of sound (silence before it is kept).
fn clip_start(speech: &[f32], ms: u32) -> Vec<f32> {
    let onset = speech.iter().position(|s| s.abs() > 0.02).unwrap_or(0);
    let cut = (onset + ms as usize * SAMPLE_RATE as usize / 1000).min(speech.len());
    speech[cut..].to_vec()
}

fn tremor(voice: &mut [f32], hz: f32, depth: f32) {
    let step = 2.0 * PI * hz / SAMPLE_RATE as f32;
    for (i, s) in voice.iter_mut().enumerate() {
        *s *= 1.0 - depth * (0.5 + 0.5 * (step * i as f32).sin());
    }
}

/// A Schroeder reverberator (four combs, two all-passes) tuned to `rt60`, mixed with
/// the dry sound as a small room would.
fn reverberate(samples: &mut [f32], rt60: f32, seed: u64) {
    let rate = SAMPLE_RATE as f32;
    let mut r = Rng::new(seed ^ 0x5EED);
    let combs: Vec<usize> = [29.7f32, 37.1, 41.1, 43.7]
        .iter()
        .map(|ms| (ms * (0.9 + 0.2 * r.unit()) * rate / 1000.0) as usize)
        .collect();
    let dry = samples.to_vec();
    let mut wet = vec![0.0f32; samples.len()];
    for delay in combs {
        // Each pass through the comb loses 60 dB over rt60 seconds.
        let g = 10f32.powf(-3.0 * delay as f32 / (rt60 * rate));
        let mut line = vec![0.0f32; samples.len()];
        for i in 0..samples.len() {
            let back = if i >= delay { line[i - delay] } else { 0.0 };
            line[i] = dry[i] + g * back;
            wet[i] += line[i] * 0.25;
        }
    }
    for (delay_ms, g) in [(5.0f32, 0.7f32), (1.7, 0.7)] {
        let delay = (delay_ms * rate / 1000.0) as usize;
        let input = wet.clone();
        for i in 0..wet.len() {
            let x_back = if i >= delay { input[i - delay] } else { 0.0 };
            let y_back = if i >= delay { wet[i - delay] } else { 0.0 };
            wet[i] = -g * input[i] + x_back + g * y_back;
        }
    }
    let mix = (rt60 / 0.6).clamp(0.2, 1.0) * 0.5;
    for (s, w) in samples.iter_mut().zip(wet) {
        *s = *s * (1.0 - mix * 0.5) + w * mix;
    }
}

/// Other speech, looped to `len`, muffled as a television across the room sounds.
fn television_noise(television: &[f32], len: usize, seed: u64) -> Vec<f32> {
    if television.is_empty() {
        return fan_noise(len, seed);
    }
    let start = (Rng::new(seed).next_u64() as usize) % television.len();
    let mut low = Biquad::low_pass(2500.0, SAMPLE_RATE as f32);
    (0..len).map(|i| low.run(television[(start + i) % television.len()])).collect()
}

/// Brown noise with a hum at the fan's blade rate.
fn fan_noise(len: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    let blade = r.between(80.0, 140.0);
    let mut level = 0.0f32;
    (0..len)
        .map(|i| {
            level = (level + r.signed() * 0.02) * 0.998;
            level + 0.02 * (2.0 * PI * blade * i as f32 / SAMPLE_RATE as f32).sin()
        })
        .collect()
}

/// High hiss (2–6 kHz band) that swells over a few seconds.
fn kettle_noise(len: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng::new(seed);
    let rate = SAMPLE_RATE as f32;
    let (mut high, mut low) = (Biquad::high_pass(2000.0, rate), Biquad::low_pass(6000.0, rate));
    let swell = r.between(2.0, 5.0);
    (0..len)
        .map(|i| {
            let t = i as f32 / rate;
            let envelope = 0.4 + 0.6 * (t / swell).min(1.0);
            low.run(high.run(r.signed())) * envelope
        })
        .collect()
}

fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32).sqrt()
}

/// RMS over the 20 ms frames that carry sound, so padding does not dilute it.
fn active_rms(samples: &[f32]) -> f32 {
    let frames: Vec<f32> = samples.chunks(320).map(rms).collect();
    let peak = frames.iter().cloned().fold(0.0, f32::max);
    let loud: Vec<f32> = frames.into_iter().filter(|f| *f > peak * 0.1).collect();
    (loud.iter().map(|f| f * f).sum::<f32>() / loud.len().max(1) as f32).sqrt()
}

/// A second-order filter (the Audio EQ Cookbook's low and high pass, Q = 1/√2).
struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
    x: [f32; 2],
    y: [f32; 2],
}

impl Biquad {
    fn new(cutoff: f32, rate: f32, high: bool) -> Self {
        let w = 2.0 * PI * cutoff / rate;
        let alpha = w.sin() / (2.0 * std::f32::consts::FRAC_1_SQRT_2);
        let cos = w.cos();
        let a0 = 1.0 + alpha;
        let b = if high {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Biquad { b: b.map(|v| v / a0), a: [-2.0 * cos / a0, (1.0 - alpha) / a0], x: [0.0; 2], y: [0.0; 2] }
    }

    fn low_pass(cutoff: f32, rate: f32) -> Self {
        Self::new(cutoff, rate, false)
    }

    fn high_pass(cutoff: f32, rate: f32) -> Self {
        Self::new(cutoff, rate, true)
    }

    fn run(&mut self, x: f32) -> f32 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, seconds: f32) -> Vec<f32> {
        (0..(seconds * SAMPLE_RATE as f32) as usize)
            .map(|i| 0.5 * (2.0 * PI * hz * i as f32 / SAMPLE_RATE as f32).sin())
            .collect()
    }

    #[test]
    fn the_same_seed_makes_the_same_clip_and_parameters_stay_in_range() {
        for seed in 0..200 {
            let d = Degradation::from_seed(seed);
            assert!((0.8..=0.9).contains(&d.speed) && (-4.0..=-1.0).contains(&d.half_tone), "{d:?}");
            assert!((10.0..=20.0).contains(&d.snr_db) && d.clipped_ms <= 120, "{d:?}");
        }
        let speech = tone(440.0, 1.0);
        let d = Degradation::from_seed(7);
        assert_eq!(d.apply(&speech, &speech), d.apply(&speech, &speech));
        assert_ne!(d.apply(&speech, &speech), Degradation::from_seed(8).apply(&speech, &speech));
    }

    #[test]
    fn the_microphone_band_and_the_noise_floor_are_what_was_asked() {
        let speech = tone(1000.0, 1.5);
        let mut d = Degradation::from_seed(3);
        d.noise = Noise::Fan;
        d.snr_db = 15.0;
        d.tremor_depth = 0.0;
        let out = d.apply(&speech, &[]);
        assert_eq!(out.len(), clip_start(&speech, d.clipped_ms).len() + 16_000 * 18 / 10);
        assert!(clip_start(&speech, 100).len() <= speech.len() - 1600);
        assert!(out.iter().all(|s| s.abs() <= 0.7 + 1e-6), "the gain's ceiling");
        // Noise is there before the voice starts, below it by roughly the SNR.
        let room = rms(&out[1600..4000]);
        let voice = rms(&out[8000..16000]);
        let snr = 20.0 * (voice / room).log10();
        assert!((8.0..30.0).contains(&snr), "SNR {snr:.1} dB");
        // The microphone's band: a 100 Hz hum and a 6 kHz whistle are cut, 1 kHz passes.
        let band = |hz: f32| {
            let rate = SAMPLE_RATE as f32;
            let (mut h, mut a, mut b) = (
                Biquad::high_pass(300.0, rate),
                Biquad::low_pass(3400.0, rate),
                Biquad::low_pass(3400.0, rate),
            );
            let out: Vec<f32> = tone(hz, 1.0).iter().map(|x| b.run(a.run(h.run(*x)))).collect();
            20.0 * (rms(&out[4000..]) / rms(&tone(hz, 1.0))).log10()
        };
        assert!(band(100.0) < -15.0 && band(6000.0) < -15.0, "{} {}", band(100.0), band(6000.0));
        assert!(band(1000.0) > -1.5, "{}", band(1000.0));
    }
}
