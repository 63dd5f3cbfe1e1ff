//! Speech recognition with Whisper through whisper.cpp (`whisper-rs`).
//!
//! A [`Recognizer`] loads a ggml model once and is then owned by one worker thread;
//! each call to [`Recognizer::transcribe`] reuses the loaded weights. Two guards
//! keep invented text away from the dialogue: whisper's own no-speech probability,
//! and a list of the phrases Whisper is known to hallucinate on silence
//! (「ご視聴ありがとうございました」 and kin, learnt from subtitled video).

use std::path::{Path, PathBuf};
use std::sync::Once;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use crate::SAMPLE_RATE;
use crate::vad::VadConfig;

/// Why recognition could not run.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error("speech model not found at {0}; run `cargo xtask fetch-model` or pass --model")]
    ModelMissing(PathBuf),
    #[error("cannot load speech model {path}: {reason} (is it a whisper.cpp ggml file?)")]
    ModelLoad { path: PathBuf, reason: String },
    #[error("speech recognition failed: {0}")]
    Decode(String),
}

/// How much of Whisper's 30-second encoder window to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioContext {
    /// All 1500 frames, as Whisper was trained: slowest, the reference.
    Full,
    /// 50 frames per second of audio plus this margin: several times faster on short
    /// answers. The margin was chosen by measuring transcripts against `Full` on
    /// dialect audio (see the README's speech section).
    Sized { margin_frames: u16 },
}

/// Encoder frames per second of audio (1500 frames for 30 s).
const FRAMES_PER_SECOND: f32 = 50.0;
const MAX_FRAMES: i32 = 1500;

impl AudioContext {
    /// The encoder context for a clip of `samples` samples; `None` = full window.
    pub fn frames_for(self, samples: usize) -> Option<i32> {
        match self {
            Self::Full => None,
            Self::Sized { margin_frames } => {
                let secs = samples as f32 / SAMPLE_RATE as f32;
                let frames = (secs * FRAMES_PER_SECOND).ceil() as i32 + i32::from(margin_frames);
                (frames < MAX_FRAMES).then_some(frames)
            }
        }
    }
}

/// Decoding options. Greedy decoding is the default: on this hardware beam search was
/// measured no more accurate, only slower.
#[derive(Debug, Clone)]
pub struct AsrOptions {
    pub threads: u16,
    /// `None` = greedy; `Some(n)` = beam search of width `n`.
    pub beam: Option<u16>,
    /// Text that biases decoding towards expected words (the dialect lexicon).
    pub initial_prompt: String,
    pub audio_context: AudioContext,
    /// Segments whose no-speech probability exceeds this are dropped.
    pub no_speech_threshold: f32,
    /// whisper.cpp's flash attention (CPU kernels too).
    pub flash_attention: bool,
}

/// The sizing margin measured on dialect clips (README, "Speech").
pub const DEFAULT_AUDIO_CTX_MARGIN: u16 = 128;

/// The margin of the second pass over output that looks unsure: on the dialect dev
/// set it read short answers better than the full window did, in a third of the time.
const RETRY_MARGIN_FRAMES: u16 = 512;

/// A loop of a phrase this long (punctuation aside) is a whole sentence said over;
/// shorter ones are a stammer over a sound the model is unsure of.
const MIN_LOOP_PHRASE_CHARS: usize = 5;

impl Default for AsrOptions {
    fn default() -> Self {
        Self {
            threads: 2,
            beam: None,
            initial_prompt: String::new(),
            audio_context: AudioContext::Sized { margin_frames: DEFAULT_AUDIO_CTX_MARGIN },
            no_speech_threshold: 0.6,
            flash_attention: true,
        }
    }
}

/// Phrases Whisper produces from silence or noise (its training subtitles' credits).
/// Matched against the whole transcript without punctuation, never a substring of a
/// longer real answer.
const HALLUCINATIONS: &[&str] = &[
    "ご視聴ありがとうございました",
    "ご視聴ありがとうございます",
    "ご視聴いただきありがとうございました",
    "チャンネル登録よろしくお願いします",
    "チャンネル登録お願いします",
    "最後までご視聴いただきありがとうございました",
    "字幕視聴ありがとうございました",
    "エンディング",
];

/// Whether a transcript is one of Whisper's known silence hallucinations, or one
/// character drawn out four times or more (「んんんん」 from rumble), which no answer is.
pub fn is_hallucination(text: &str) -> bool {
    let bare: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && !"。、．，！？!?・…「」『』()（）ー〜".contains(*c))
        .collect();
    let bare_text: String = bare.iter().collect();
    bare.is_empty()
        || HALLUCINATIONS.iter().any(|h| bare_text == *h)
        || bare.len() >= 4 && bare.iter().all(|c| *c == bare[0])
}

/// A loaded Whisper model.
pub struct Recognizer {
    ctx: WhisperContext,
    options: AsrOptions,
}

impl std::fmt::Debug for Recognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recognizer").field("options", &self.options).finish_non_exhaustive()
    }
}

static QUIET: Once = Once::new();

impl Recognizer {
    /// Loads a whisper.cpp ggml model file.
    pub fn load(model: &Path, options: AsrOptions) -> Result<Self, AsrError> {
        // whisper.cpp logs every decoded token to stderr: that is a transcript, which
        // must never reach a log. Route its logging into the (silent) Rust hooks.
        QUIET.call_once(whisper_rs::install_logging_hooks);
        if !model.is_file() {
            return Err(AsrError::ModelMissing(model.to_path_buf()));
        }
        let mut params = WhisperContextParameters::default();
        params.flash_attn(options.flash_attention);
        let ctx = WhisperContext::new_with_params(model, params)
            .map_err(|e| AsrError::ModelLoad { path: model.to_path_buf(), reason: e.to_string() })?;
        Ok(Self { ctx, options })
    }

    pub fn options(&self) -> &AsrOptions {
        &self.options
    }

    /// A new dialect prompt (a new lexicon arrived); the weights stay loaded.
    pub fn set_initial_prompt(&mut self, prompt: String) {
        self.options.initial_prompt = prompt;
    }

    /// Transcribes 16 kHz mono samples as Japanese text. Returns an empty string
    /// when Whisper hears no speech or produces a known hallucination.
    ///
    /// With a sized encoder window Whisper sometimes loops after the last word
    /// (「頭が痛いです。頭が痛いです。頭が…」): the audio it was trained on went on to
    /// 30 s. Greedy decoding is deterministic, so once a whole phrase comes round again
    /// the rest is that phrase repeated, and its first turn is the transcript. A short
    /// sound stammered (「くっ、くっ、くっ」), or output garbled otherwise (longer than
    /// anyone can say in the clip, Latin words inside Japanese), means the model was
    /// unsure: that is decoded once more with a wider window. Both choices were
    /// measured (README, "Speech").
    pub fn transcribe(&self, samples: &[f32]) -> Result<String, AsrError> {
        // Whisper invents words (often 「ん」, which means "yes" here) for silence:
        // no voiced audio, no decoding.
        if !crate::vad::has_voiced_speech(samples, VadConfig::default().min_voiced_ms) {
            return Ok(String::new());
        }
        let (first, hit_cap) = self.decode(samples, self.options.audio_context)?;
        let looped = first_turn_of_loop(&first, MIN_LOOP_PHRASE_CHARS);
        let unsure_loop = hit_cap && looped.is_none();
        let first = looped.unwrap_or(first);
        let text = match self.options.audio_context {
            AudioContext::Sized { margin_frames }
                if unsure_loop || looks_degenerate(&first, samples.len()) =>
            {
                let wider = margin_frames.max(RETRY_MARGIN_FRAMES);
                self.decode(samples, AudioContext::Sized { margin_frames: wider })?.0
            }
            _ => first,
        };
        let text = collapse_repeats(text.trim());
        Ok(if is_hallucination(&text) { String::new() } else { text })
    }

    /// One decoding pass; also says whether it stopped at the token cap (a loop).
    fn decode(&self, samples: &[f32], audio_context: AudioContext) -> Result<(String, bool), AsrError> {
        let decode = |e: whisper_rs::WhisperError| AsrError::Decode(e.to_string());
        let strategy = match self.options.beam {
            None => SamplingStrategy::Greedy { best_of: 1 },
            Some(n) => SamplingStrategy::BeamSearch { beam_size: i32::from(n), patience: -1.0 },
        };
        let mut params = FullParams::new(strategy);
        params.set_language(Some("ja"));
        params.set_n_threads(i32::from(self.options.threads));
        params.set_no_context(true);
        params.set_single_segment(true);
        params.set_no_timestamps(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_suppress_nst(true);
        // No temperature fallback: it re-decodes up to five times on hard clips
        // (seconds each); a degenerate result is retried with the full window instead.
        params.set_temperature_inc(0.0);
        // A cap on tokens bounds the time a loop can take.
        let cap = max_tokens(samples.len());
        params.set_max_tokens(cap);
        if let Some(frames) = audio_context.frames_for(samples.len()) {
            params.set_audio_ctx(frames);
        }
        if !self.options.initial_prompt.is_empty() {
            params.set_initial_prompt(&self.options.initial_prompt);
        }
        // whisper.cpp needs at least one second of input; pad short answers
        // (「く」, 「んだ」) with silence rather than lose them.
        let min = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 10;
        let padded;
        let input = if samples.len() < min {
            padded = [samples, &vec![0.0; min - samples.len()]].concat();
            &padded
        } else {
            samples
        };
        let mut state = self.ctx.create_state().map_err(decode)?;
        state.full(params, input).map_err(decode)?;
        let mut text = String::new();
        let mut hit_cap = false;
        for segment in state.as_iter() {
            hit_cap |= segment.n_tokens() >= cap;
            if segment.no_speech_probability() > self.options.no_speech_threshold {
                continue;
            }
            text.push_str(&segment.to_str_lossy().map_err(decode)?);
        }
        Ok((text, hit_cap))
    }
}

/// Characters a person can say per second, generously (fast speech is ~8 morae/s,
/// and kanji pack more than one mora per character).
const MAX_CHARS_PER_SECOND: f32 = 12.0;

fn max_tokens(samples: usize) -> i32 {
    let secs = samples as f32 / SAMPLE_RATE as f32;
    (secs * MAX_CHARS_PER_SECOND) as i32 + 16
}

/// Output longer than the clip allows, a short phrase said three times running or a
/// long one twice, or Latin words inside Japanese.
pub fn looks_degenerate(text: &str, samples: usize) -> bool {
    let secs = samples as f32 / SAMPLE_RATE as f32;
    let chars = text.chars().filter(|c| !c.is_whitespace()).count() as f32;
    chars > secs * MAX_CHARS_PER_SECOND + 8.0
        || has_repeat(text, 3, 3)
        || has_repeat(text, 2, 5)
        || !text.is_ascii() && ascii_words(text) >= 2
}

/// Latin words inside Japanese output are a sign of a derailed decoder.
fn ascii_words(text: &str) -> usize {
    text.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 3).count()
}

/// Whether some phrase of `min_len`+ characters occurs `times` times back to back.
fn has_repeat(text: &str, times: usize, min_len: usize) -> bool {
    let c: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    (min_len..=c.len() / times).any(|len| {
        (0..=c.len() - len * times).any(|start| {
            let unit = &c[start..start + len];
            (1..times).all(|k| &c[start + k * len..start + (k + 1) * len] == unit)
        })
    })
}

/// The text up to the end of the first turn of a loop: when, from some point on, the
/// output is one phrase of at least `min_phrase` characters (punctuation aside) over
/// and over; the last turn may be cut off by the token cap. `None` when the output does
/// not end in such a loop.
pub fn first_turn_of_loop(text: &str, min_phrase: usize) -> Option<String> {
    let c: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    for start in 0..c.len() {
        for len in 2..=(c.len() - start) / 2 {
            let (a, b) = (&c[start..start + len], &c[start + len..start + 2 * len]);
            if a == b && (start + 2 * len..c.len()).all(|i| c[i] == c[i - len]) {
                let phrase = a.iter().filter(|ch| !"。、．，！？!?・…".contains(**ch)).count();
                return (phrase >= min_phrase).then(|| c[..start + len].iter().collect());
            }
        }
    }
    None
}

/// Removes a phrase of 4+ characters said twice in a row (「はい大丈夫です大丈夫です」 →
/// 「はい大丈夫です」), Whisper's commonest stutter. The meaning is unchanged either way;
/// short doublings (「んだんだ」) are how people talk, and stay.
pub fn collapse_repeats(text: &str) -> String {
    let mut c: Vec<char> = text.chars().collect();
    'again: loop {
        for len in (4..=c.len() / 2).rev() {
            for start in 0..=c.len() - 2 * len {
                if c[start..start + len] == c[start + len..start + 2 * len] {
                    c.drain(start + len..start + 2 * len);
                    continue 'again;
                }
            }
        }
        return c.into_iter().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_is_a_clear_error() {
        let err = Recognizer::load(Path::new("/nonexistent/ggml.bin"), AsrOptions::default()).unwrap_err();
        assert!(matches!(err, AsrError::ModelMissing(_)));
        assert!(err.to_string().contains("fetch-model"));
    }

    #[test]
    fn corrupt_model_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("mimamori-asr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("corrupt.bin");
        std::fs::write(&path, b"not a ggml model at all").unwrap();
        let err = Recognizer::load(&path, AsrOptions::default()).unwrap_err();
        assert!(matches!(err, AsrError::ModelLoad { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hallucinations_are_whole_transcript_matches() {
        assert!(is_hallucination("ご視聴ありがとうございました。"));
        assert!(is_hallucination(" 。"));
        assert!(is_hallucination("んんんんんん"));
        assert!(!is_hallucination("ん"));
        assert!(!is_hallucination("んだんだ"));
        assert!(!is_hallucination("ありがとうございました"));
        assert!(!is_hallucination("今日はご視聴ありがとうございましたと言われた"));
    }

    #[test]
    fn degenerate_output_is_recognised() {
        let three_secs = 3 * SAMPLE_RATE as usize;
        assert!(!looks_degenerate("足がしびれています。", three_secs));
        assert!(looks_degenerate(
            "足がしびれています足がしびれています足が痺れています足がしびれています",
            three_secs
        ));
        assert!(looks_degenerate("足が粘れています足が avi 出ています back to the", three_secs));
        assert!(looks_degenerate("いたいいたいいたい", three_secs));
        assert!(!looks_degenerate("んだんだ", three_secs));
        assert_eq!(collapse_repeats("頭が痛いです。頭が痛いです。"), "頭が痛いです。");
        assert_eq!(collapse_repeats("んだんだ"), "んだんだ");
        assert_eq!(collapse_repeats("はい"), "はい");
        assert_eq!(collapse_repeats("はい大丈夫です大丈夫です"), "はい大丈夫です");
        assert_eq!(collapse_repeats("腰が痛い腰が痛い腰が痛い"), "腰が痛い");
    }

    #[test]
    fn a_loop_is_cut_after_its_first_turn() {
        let check = |text: &str, want: Option<&str>| {
            assert_eq!(first_turn_of_loop(text, 5).as_deref(), want, "{text}")
        };
        check("昨日はよく眠れました。昨日はよく眠れました。昨日はよく眠れ", Some("昨日はよく眠れました。"));
        check("はい大丈夫です大丈夫です", Some("はい大丈夫です"));
        check("頭が痛いです。頭が痛いです。頭が痛いです。", Some("頭が痛いです。"));
        check("足がしびれています。", None);
        check("んだんだ", None);
        check("くっ、くっ、くっ、くっ、くっ、", None);
        check("んべ、んべ、んべ、んべ", None);
        check("腰が痛くて、腰が痛くて動けません。", None);
        check("", None);
    }

    #[test]
    fn audio_context_is_sized_to_the_clip() {
        let sized = AudioContext::Sized { margin_frames: 64 };
        assert_eq!(sized.frames_for(16_000 * 3), Some(150 + 64));
        assert_eq!(sized.frames_for(16_000 * 30), None);
        assert_eq!(AudioContext::Full.frames_for(16_000), None);
    }
}
