//! Speech tests with the real parts: the fetched Whisper base q8_0 model
//! (`cargo xtask setup` fetches it), Open JTalk for synthesis, real WAV files.
//! Synthetic speech is not an elderly dialect speaker; these tests bound the pipeline.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use dialect_model::SAMPLE_RATE;
use dialect_model::asr::{AsrError, AsrOptions, Recognizer};
use dialect_model::audio::{AudioError, read_wav_16k_mono};
use dialect_model::eval::{self, Variant};
use dialect_model::model::ModelPaths;
use dialect_model::tts::OpenJTalk;
use dialect_model::vad::{self, VadConfig};

fn model_path() -> PathBuf {
    let path = ModelPaths::default().ggml_q8_0();
    assert!(path.is_file(), "no model at {}: run `cargo xtask setup` (it fetches the model)", path.display());
    path
}

/// One recogniser for the whole binary: the model is loaded once, as in the kiosk.
fn recognizer() -> &'static Recognizer {
    static R: OnceLock<Recognizer> = OnceLock::new();
    R.get_or_init(|| Recognizer::load(&model_path(), AsrOptions::default()).unwrap())
}

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Listening + recognition, as the kiosk runs it: the text of every utterance.
fn hear(samples: &[f32]) -> String {
    vad::utterances(samples, &VadConfig::default())
        .iter()
        .map(|u| recognizer().transcribe(u).unwrap())
        .collect::<Vec<_>>()
        .join("")
}

/// Standard check-in sentences at two speaking speeds (Open JTalk at 1.0 and 0.85):
/// corpus CER over both ≤ 10% (measured 7–10% per speed), and no sentence lost.
#[test]
fn standard_checkin_sentences_are_recognised_within_10_percent_cer() {
    let sentences = eval::read_tsv(&repo_file("assets/speech/checkin-standard.tsv"), "text").unwrap();
    assert!(sentences.len() >= 20);
    let clips = eval::make_clips(&sentences, &[Variant::Normal, Variant::Slow]).unwrap();
    let results: Vec<_> =
        clips.iter().map(|c| eval::run_clip(recognizer(), &VadConfig::default(), c).unwrap()).collect();
    let cer = eval::corpus_cer(&results);
    assert!(cer <= 0.10, "CER {:.1}% over {} clips", cer * 100.0, results.len());
    let lost: Vec<_> = results.iter().filter(|r| r.text.is_empty()).map(|r| (&r.id, r.variant)).collect();
    assert!(lost.is_empty(), "sentences that produced no text: {lost:?}");
}

/// Deterministic noise source (xorshift), uniform in [-1, 1).
fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as f32 / u32::MAX as f32 * 2.0 - 1.0
        })
        .collect()
}

fn secs(s: f32) -> usize {
    (s * SAMPLE_RATE as f32) as usize
}

fn check_silent(name: &str, samples: &[f32]) {
    let text = hear(samples);
    assert!(text.is_empty(), "{name} produced text {text:?}");
}

#[test]
fn silence_noise_coughs_clipping_and_room_noise_yield_no_text() {
    check_silent("5 s of digital silence", &vec![0.0; secs(5.0)]);
    check_silent("5 s of loud white noise", &noise(secs(5.0), 1).iter().map(|x| x * 0.3).collect::<Vec<_>>());

    // Coughs: 250 ms bursts of noise with a sharp attack and decay, every 1.5 s.
    let mut coughs = vec![0.0; secs(6.0)];
    for (k, burst) in noise(secs(0.25), 2).chunks(secs(0.25)).cycle().take(4).enumerate() {
        let start = secs(0.5 + 1.5 * k as f32);
        for (i, x) in burst.iter().enumerate() {
            let env = (-(i as f32) / secs(0.06) as f32).exp();
            coughs[start + i] = x * 0.8 * env;
        }
    }
    check_silent("coughs", &coughs);

    // Clipping: a microphone driven into the rails by a knock, flat-topped.
    let clipped: Vec<f32> = noise(secs(3.0), 3).iter().map(|x| (x * 8.0).clamp(-1.0, 1.0)).collect();
    check_silent("clipped noise", &clipped);

    // Five minutes of a room: low brown noise, mains hum, a clock tick every second.
    let mut brown = 0.0_f32;
    let room: Vec<f32> = noise(secs(300.0), 4)
        .iter()
        .enumerate()
        .map(|(i, w)| {
            brown = (brown + w * 0.02).clamp(-1.0, 1.0) * 0.999;
            let t = i as f32 / SAMPLE_RATE as f32;
            let hum = 0.01 * (2.0 * std::f32::consts::PI * 50.0 * t).sin();
            let tick = if i % SAMPLE_RATE as usize <= 40 { 0.2 } else { 0.0 };
            brown * 0.05 + hum + tick
        })
        .collect();
    check_silent("5 minutes of room noise", &room);
}

#[test]
fn whisper_silence_hallucinations_never_reach_the_caller() {
    // Bypassing the endpointer: Whisper itself on silence and on faint noise.
    assert_eq!(recognizer().transcribe(&vec![0.0; secs(3.0)]).unwrap(), "");
    let faint: Vec<f32> = noise(secs(3.0), 9).iter().map(|x| x * 0.003).collect();
    assert_eq!(recognizer().transcribe(&faint).unwrap(), "");
}

fn write_wav(path: &Path, rate: u32, channels: u16, float: bool, mono16k: &[f32]) {
    let resampled = dialect_model::audio::resample(mono16k, SAMPLE_RATE, rate).unwrap();
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: if float { 32 } else { 16 },
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for x in resampled {
        for _ in 0..channels {
            if float {
                w.write_sample(x).unwrap();
            } else {
                w.write_sample((x * 32767.0) as i16).unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

#[test]
fn any_rate_channel_count_and_sample_format_is_heard_alike() {
    let reference = "今日は膝が少し痛いです。";
    let speech = OpenJTalk { speed: 1.0, ..OpenJTalk::default() }.synthesize(reference).unwrap().to_16k();
    let dir = tempfile::tempdir().unwrap();
    for (rate, channels, float) in
        [(8_000, 1, false), (44_100, 2, true), (48_000, 2, false), (16_000, 1, false)]
    {
        let path = dir.path().join(format!("{rate}-{channels}-{float}.wav"));
        write_wav(&path, rate, channels, float, &speech);
        let audio = read_wav_16k_mono(&path).unwrap();
        let expected = speech.len() as f32;
        assert!((audio.len() as f32 - expected).abs() / expected < 0.01, "{rate} Hz: length {}", audio.len());
        let text = recognizer().transcribe(&audio).unwrap();
        let cer = eval::cer(reference, &text);
        assert!(cer <= 0.15, "{rate} Hz × {channels}, float {float}: {text:?} (CER {cer})");
    }
}

#[test]
fn empty_and_truncated_wavs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(read_wav_16k_mono(&empty), Err(AudioError::Wav { .. })));

    let header_only = dir.path().join("header.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::create(&header_only, spec).unwrap().finalize().unwrap();
    let err = read_wav_16k_mono(&header_only).unwrap_err();
    assert!(matches!(err, AudioError::Empty { .. }), "{err}");

    let truncated = dir.path().join("truncated.wav");
    write_wav(&truncated, 16_000, 1, false, &vec![0.1; 16_000]);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2 + 1]).unwrap();
    let err = read_wav_16k_mono(&truncated).unwrap_err();
    assert!(err.to_string().contains("truncated.wav"), "{err}");

    let missing = read_wav_16k_mono(&dir.path().join("nope.wav")).unwrap_err();
    assert!(missing.to_string().contains("nope.wav"));
}

#[test]
fn a_truncated_model_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.bin");
    let bytes = std::fs::read(model_path()).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let err = Recognizer::load(&cut, AsrOptions::default()).unwrap_err();
    assert!(matches!(err, AsrError::ModelLoad { .. }), "{err}");
}

#[test]
fn speech_is_synthesised_at_about_five_morae_per_second_in_both_voices() {
    for voice in dialect_model::tts::Voice::ALL {
        check_voice(&OpenJTalk::with_voice(voice));
    }
}

fn check_voice(tts: &OpenJTalk) {
    assert!(tts.voice.is_file(), "{} is missing; run `cargo xtask setup`", tts.voice.display());
    for line in [
        "おはようございます。今日の体の具合はいかがですか。",
        "昨日の夜は、よく眠れましたか。",
        "ゆっくり、一緒に体操をしましょう。",
    ] {
        let speech = tts.synthesize(line).unwrap();
        let rate = speech.morae_per_second();
        let voice = tts.voice.display();
        assert!((4.3..=5.7).contains(&rate), "{voice} {line}: {rate:.2} morae/s ({} morae)", speech.morae);
        // The cache returns the same speech the second time.
        let again = tts.synthesize(line).unwrap();
        assert_eq!((again.morae, again.samples.len()), (speech.morae, speech.samples.len()));
    }
    assert!(tts.synthesize("  ").is_err());
}

#[test]
fn transcribe_command_prints_file_text_milliseconds() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("hai.wav");
    let speech = OpenJTalk { speed: 1.0, ..OpenJTalk::default() }.synthesize("はい、元気です。").unwrap();
    dialect_model::tts::write_wav(&wav, &speech.samples, speech.sample_rate).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dialect-model"))
        .args(["transcribe", "--model"])
        .arg(model_path())
        .arg(&wav)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = stdout.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 3, "{stdout:?}");
    assert_eq!(fields[0], wav.display().to_string());
    assert!(fields[1].contains("元気"), "{stdout:?}");
    assert!(fields[2].parse::<u64>().is_ok(), "{stdout:?}");
    // Nothing the resident said reaches the log (stderr): whisper.cpp is silenced.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("元気"));

    let missing = Command::new(env!("CARGO_BIN_EXE_dialect-model"))
        .args(["transcribe", "--model", "/nonexistent.bin"])
        .arg(&wav)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("fetch-model"));
}
