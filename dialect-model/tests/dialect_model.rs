//! dialect-model's one integration-test binary: speech (real Whisper model, Open
//! JTalk, real WAV files) and, as it lands, dialect understanding. Each part is a
//! module in `tests/dialect_model/`.

#[path = "dialect_model/number.rs"]
mod number;
#[path = "dialect_model/recordings.rs"]
mod recordings;
#[path = "dialect_model/retrain.rs"]
mod retrain;
#[path = "dialect_model/speech.rs"]
mod speech;
#[path = "dialect_model/understanding.rs"]
mod understanding;
