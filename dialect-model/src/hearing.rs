//! One answer heard as the tablet hears it: the endpointer fed as a microphone feeds
//! it (20 ms at a time), each utterance it ends recognised, a transcript that is empty
//! or refused (noise, a cough, Whisper's silence phrases) ignored while listening goes
//! on, and the first words heard taken as the answer. The kiosk's listening worker and
//! the evaluations (`understand --audio`, `--wav-dir`) both go through
//! [`utterance_text`]; [`listen`] is the worker's loop without a clock. (The kiosk may
//! also end a turn early when a short, sure answer is followed by a pause; evaluations
//! wait for the full end-of-speech silence.)

use std::path::{Path, PathBuf};

use crate::asr::{AsrError, Recognizer};
use crate::vad::{Endpointer, VadConfig, VadEvent};

/// The samples a microphone delivers at a time (20 ms at 16 kHz).
const CHUNK: usize = 320;

/// What an utterance the endpointer ended yields: its words, or `None` when it held
/// none (the turn goes on listening).
pub fn utterance_text(recognizer: &Recognizer, samples: &[f32]) -> Result<Option<String>, AsrError> {
    let text = recognizer.transcribe(samples)?;
    Ok((!text.trim().is_empty()).then_some(text))
}

/// The answer in a recording of one turn (16 kHz mono); empty when nothing was said.
pub fn listen(recognizer: &Recognizer, vad: &VadConfig, samples: &[f32]) -> Result<String, AsrError> {
    let mut endpointer = Endpointer::new(vad.clone());
    let heard = |events: Vec<VadEvent>| -> Result<Option<String>, AsrError> {
        for event in events {
            if let VadEvent::Utterance { samples, .. } = event
                && let Some(text) = utterance_text(recognizer, &samples)?
            {
                return Ok(Some(text));
            }
        }
        Ok(None)
    };
    for chunk in samples.chunks(CHUNK) {
        if let Some(text) = heard(endpointer.push(chunk))? {
            return Ok(text);
        }
    }
    Ok(heard(endpointer.finish())?.unwrap_or_default())
}

/// Where evaluation audio comes from.
#[derive(Debug, Clone)]
pub enum Recordings {
    /// `DIR/<id>.wav` for each row (any rate, channels, integer or float samples).
    Dir(PathBuf),
}

impl Recordings {
    /// The recording of row `id`, or `None` when there is no file for it.
    pub fn path(&self, id: &str) -> Option<PathBuf> {
        let Recordings::Dir(dir) = self;
        Some(dir.join(file_name(id)?)).filter(|p| Path::is_file(p))
    }
}

/// The file name of row `id`'s recording: an id is a file name, never a path, so
/// `../x` or `a/b` has none.
pub fn file_name(id: &str) -> Option<String> {
    let plain = !(id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.'));
    plain.then(|| format!("{id}.wav"))
}
