//! dialect-model: audio in, meaning out, and text to speech, for Murayama-dialect
//! speakers on a 2-core tablet.
//!
//! The pipeline is `audio` (any WAV or capture → 16 kHz mono f32) → `asr` (Whisper
//! through whisper.cpp) → dialect normalisation → intent understanding. Each stage is
//! a plain library type that a worker thread owns; nothing here blocks a UI thread
//! because nothing here knows a UI exists.
//!
//! Invariant: this crate depends on no UI, SQL or HTTP crate (checked by the tidy test
//! in `xtask`).

pub mod analysis;
pub mod asr;
pub mod audio;
pub mod choice;
pub mod classifier;
pub mod corpus;
pub mod danger;
pub mod data;
pub mod degrade;
pub mod eval;
pub mod hearing;
pub mod intent;
pub mod learn;
pub mod lexicon;
pub mod model;
pub mod normalise;
pub mod number;
pub mod reading;
pub mod retrain;
pub mod tts;
pub mod vad;

/// Sample rate of every buffer inside the pipeline.
pub const SAMPLE_RATE: u32 = 16_000;
