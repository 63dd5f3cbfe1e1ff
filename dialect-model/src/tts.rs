//! Speaking: Japanese speech synthesis with Open JTalk, slowed to about 5 morae per
//! second for elderly listeners, returned as PCM for the kiosk to play (and caption).
//!
//! Open JTalk runs as a child process (Debian's `open-jtalk` with the NAIST-jdic
//! dictionary and an HTS voice). Its trace output gives the phoneme sequence, from
//! which the mora count is taken, so the speaking rate can be measured rather than
//! assumed. Fixed prompts are cached on disk by text, voice and speed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// Why speech could not be synthesised.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("Open JTalk is not installed ({0}); run `cargo xtask setup`")]
    Missing(String),
    #[error("Open JTalk failed: {0}")]
    Failed(String),
    #[error("nothing to say: the text is empty")]
    Empty,
    #[error("speech I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Debian's HTS voice nitech-jp-atr503-m001 (installed by setup from contrib).
pub const VOICE_M001: &str = "/usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice";
pub const DICTIONARY: &str = "/var/lib/mecab/dic/open-jtalk/naist-jdic";

/// Open JTalk's speed factor that gives about 5 morae/s with the m001 voice, measured
/// from first to last sound on check-in sentences (`tts::tests`). 1.0 is ≈ 8 morae/s.
pub const DEFAULT_SPEED: f32 = 0.55;

/// The voices a resident can choose between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Voice {
    /// nitech-jp-atr503-m001, a man's voice (Debian).
    #[default]
    M001,
    /// "Mei", a woman's voice (MMDAgent; fetched from PyPI with the model).
    Mei,
}

impl Voice {
    pub const ALL: [Voice; 2] = [Voice::M001, Voice::Mei];

    pub fn path(self) -> PathBuf {
        match self {
            Voice::M001 => VOICE_M001.into(),
            Voice::Mei => crate::model::ModelPaths::default().voice_mei(),
        }
    }

    /// The speed factor that gives about 5 morae/s with this voice (measured from first
    /// to last sound on check-in sentences; tested).
    pub fn default_speed(self) -> f32 {
        match self {
            Voice::M001 => DEFAULT_SPEED,
            Voice::Mei => MEI_DEFAULT_SPEED,
        }
    }

    /// The name stored in settings.
    pub fn key(self) -> &'static str {
        match self {
            Voice::M001 => "m001",
            Voice::Mei => "mei",
        }
    }

    pub fn from_key(key: &str) -> Option<Voice> {
        Voice::ALL.into_iter().find(|v| v.key() == key)
    }
}

/// [`DEFAULT_SPEED`] for the voice Mei, whose own pace is slower (0.55 gave 4.1 morae/s).
pub const MEI_DEFAULT_SPEED: f32 = 0.65;

/// A synthesiser configuration.
#[derive(Debug, Clone)]
pub struct OpenJTalk {
    pub binary: PathBuf,
    pub dictionary: PathBuf,
    pub voice: PathBuf,
    /// Open JTalk's `-r`: below 1 is slower.
    pub speed: f32,
    /// Open JTalk's `-fm`: semitones added to the pitch (below 0 is lower).
    pub half_tone: f32,
    /// Where fixed prompts are cached; `None` = no cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for OpenJTalk {
    fn default() -> Self {
        Self {
            binary: "open_jtalk".into(),
            dictionary: DICTIONARY.into(),
            voice: VOICE_M001.into(),
            speed: DEFAULT_SPEED,
            cache_dir: Some(crate::model::cache_dir().join("tts")),
            half_tone: 0.0,
        }
    }
}

impl OpenJTalk {
    /// `voice` at its own speed for about 5 morae/s.
    pub fn with_voice(voice: Voice) -> Self {
        Self { voice: voice.path(), speed: voice.default_speed(), ..Self::default() }
    }
}

/// Synthesised speech.
#[derive(Debug, Clone)]
pub struct Speech {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
    /// Morae in the utterance, from Open JTalk's phoneme labels.
    pub morae: usize,
}

impl Speech {
    /// Seconds from the first to the last audible sample (pauses inside count).
    pub fn speaking_seconds(&self) -> f32 {
        let loud = |s: &&f32| s.abs() > 0.02;
        let first = self.samples.iter().position(|s| loud(&s)).unwrap_or(0);
        let last = self.samples.iter().rposition(|s| loud(&s)).unwrap_or(0);
        last.saturating_sub(first) as f32 / self.sample_rate as f32
    }

    pub fn morae_per_second(&self) -> f32 {
        self.morae as f32 / self.speaking_seconds().max(1e-3)
    }

    /// The same speech at 16 kHz for the recognition pipeline.
    pub fn to_16k(&self) -> Vec<f32> {
        crate::audio::resample(&self.samples, self.sample_rate, crate::SAMPLE_RATE)
            .unwrap_or_else(|_| self.samples.clone())
    }
}

/// Counts morae in Open JTalk's label section: every mora ends in a vowel
/// (devoiced ones in capitals), the moraic nasal `N` or the geminate `cl`.
pub fn count_morae(trace: &str) -> usize {
    let labels = trace.split("[Output label]").nth(1).unwrap_or("");
    let labels = labels.split("\n[").next().unwrap_or("");
    labels
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter_map(|label| label.split_once('-').and_then(|(_, r)| r.split_once('+')).map(|(p, _)| p))
        .filter(|p| matches!(*p, "a" | "i" | "u" | "e" | "o" | "A" | "I" | "U" | "E" | "O" | "N" | "cl"))
        .count()
}

impl OpenJTalk {
    fn cache_key(&self, text: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.voice.to_string_lossy().as_bytes());
        h.update(self.speed.to_le_bytes());
        // Only when set, so that clips cached before pitch could be set keep their keys.
        if self.half_tone != 0.0 {
            h.update(b"fm");
            h.update(self.half_tone.to_le_bytes());
        }
        h.update(text.as_bytes());
        h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// Synthesises `text`, from the cache when it was said before.
    pub fn synthesize(&self, text: &str) -> Result<Speech, TtsError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TtsError::Empty);
        }
        let cached = self.cache_dir.as_ref().map(|d| d.join(self.cache_key(text)));
        if let Some(base) = &cached
            && let Some(speech) = read_cached(base)
        {
            return Ok(speech);
        }
        let work = tempfile_dir()?;
        let (input, wav, trace) = (work.join("in.txt"), work.join("out.wav"), work.join("trace.txt"));
        std::fs::write(&input, text)?;
        let out = Command::new(&self.binary)
            .arg("-x")
            .arg(&self.dictionary)
            .arg("-m")
            .arg(&self.voice)
            .arg("-r")
            .arg(self.speed.to_string())
            .arg("-fm")
            .arg(self.half_tone.to_string())
            .arg("-ow")
            .arg(&wav)
            .arg("-ot")
            .arg(&trace)
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| TtsError::Missing(format!("{}: {e}", self.binary.display())))?;
        let result = (|| {
            if !out.status.success() || !wav.is_file() {
                return Err(TtsError::Failed(format!(
                    "{}: {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
                )));
            }
            let (samples, sample_rate) = read_wav(&wav)?;
            let morae = count_morae(&std::fs::read_to_string(&trace)?);
            Ok(Speech { samples, sample_rate, morae })
        })();
        let _ = std::fs::remove_dir_all(&work);
        let speech = result?;
        if let Some(base) = &cached {
            write_cached(base, &speech)?;
        }
        Ok(speech)
    }
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mimamori-tts-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn read_wav(path: &Path) -> Result<(Vec<f32>, u32), TtsError> {
    let mut r = hound::WavReader::open(path).map_err(|e| TtsError::Failed(e.to_string()))?;
    let rate = r.spec().sample_rate;
    let samples = r
        .samples::<i16>()
        .map(|s| s.map(|v| f32::from(v) / 32768.0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TtsError::Failed(e.to_string()))?;
    Ok((samples, rate))
}

fn read_cached(base: &Path) -> Option<Speech> {
    let morae = std::fs::read_to_string(base.with_extension("morae")).ok()?.trim().parse().ok()?;
    let (samples, sample_rate) = read_wav(&base.with_extension("wav")).ok()?;
    Some(Speech { samples, sample_rate, morae })
}

fn write_cached(base: &Path, speech: &Speech) -> Result<(), TtsError> {
    if let Some(dir) = base.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_wav(&base.with_extension("wav"), &speech.samples, speech.sample_rate)?;
    // The count is written last: a crash between the two leaves no usable entry.
    let mut f = std::fs::File::create(base.with_extension("morae"))?;
    writeln!(f, "{}", speech.morae)?;
    Ok(())
}

/// Writes 16-bit mono PCM.
pub fn write_wav(path: &Path, samples: &[f32], sample_rate: u32) -> Result<(), TtsError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = |e: hound::Error| TtsError::Failed(format!("writing {}: {e}", path.display()));
    let mut w = hound::WavWriter::create(path, spec).map_err(fail)?;
    for s in samples {
        // The inverse of `read_wav`'s scale, so a cached clip reads back bit for bit.
        w.write_sample((s * 32768.0).round().clamp(-32768.0, 32767.0) as i16).map_err(fail)?;
    }
    w.finalize().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morae_are_counted_from_labels() {
        let trace = "[Output label]\n0 1 xx^xx-sil+k=o/A\n1 2 xx^sil-k+o=N/A\n2 3 sil^k-o+N=n/A\n3 4 k^o-N+n=i/A\n\
                     4 5 o^N-n+i=ch/A\n5 6 N^n-i+ch=i/A\n6 7 n^i-ch+i=w/A\n7 8 i^ch-i+w=a/A\n8 9 ch^i-w+a=sil/A\n\
                     9 10 i^w-a+sil=xx/A\n10 11 w^a-sil+xx=xx/A\n\n[Global parameter]\n";
        assert_eq!(count_morae(trace), 5, "こんにちは");
    }
}
