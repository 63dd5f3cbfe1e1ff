//! Speech recognition with Whisper through whisper.cpp (`whisper-rs`).
//!
//! A [`Recognizer`] loads a ggml model once and is then owned by one worker thread;
//! each call to [`Recognizer::transcribe`] reuses the loaded weights.

use std::path::{Path, PathBuf};

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

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

/// Decoding options. Greedy decoding is the default: on this hardware beam search was
/// measured no more accurate, only slower.
#[derive(Debug, Clone)]
pub struct AsrOptions {
    pub threads: u16,
    /// `None` = greedy; `Some(n)` = beam search of width `n`.
    pub beam: Option<u16>,
    /// Text that biases decoding towards expected words (the dialect lexicon).
    pub initial_prompt: String,
}

impl Default for AsrOptions {
    fn default() -> Self {
        Self { threads: 2, beam: None, initial_prompt: String::new() }
    }
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

impl Recognizer {
    /// Loads a whisper.cpp ggml model file.
    pub fn load(model: &Path, options: AsrOptions) -> Result<Self, AsrError> {
        if !model.is_file() {
            return Err(AsrError::ModelMissing(model.to_path_buf()));
        }
        let ctx = WhisperContext::new_with_params(model, WhisperContextParameters::default())
            .map_err(|e| AsrError::ModelLoad { path: model.to_path_buf(), reason: e.to_string() })?;
        Ok(Self { ctx, options })
    }

    /// Transcribes 16 kHz mono samples as Japanese text.
    pub fn transcribe(&self, samples: &[f32]) -> Result<String, AsrError> {
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
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        if !self.options.initial_prompt.is_empty() {
            params.set_initial_prompt(&self.options.initial_prompt);
        }
        let mut state = self.ctx.create_state().map_err(decode)?;
        state.full(params, samples).map_err(decode)?;
        let mut text = String::new();
        for segment in state.as_iter() {
            text.push_str(&segment.to_str_lossy().map_err(decode)?);
        }
        Ok(text.trim().to_owned())
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
}
