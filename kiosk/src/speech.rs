//! The speech worker: one thread that owns the Whisper model, the dialect
//! understander, Open JTalk and the audio devices. It says lines (captions are the
//! controller's job), listens for one answer at a time, lets the resident interrupt
//! (barge-in) and reports back through a callback; it never touches the UI.
//!
//! Audio comes from the microphone (cpal) or, for demos and tests on machines
//! without sound, from WAV files fed through the very same endpointer and
//! recogniser. With no speaker, speech is "shown" for as long as it would take to
//! say, so captions pace the conversation the same way.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use care::dialogue::QuestionId;
use dialect_model::asr::{AsrOptions, Recognizer};
use dialect_model::intent::{Question, Understander};
use dialect_model::tts::OpenJTalk;
use dialect_model::vad::{Endpointer, VadConfig, VadEvent};

use crate::audio::{self, Capture, Playback};
use crate::convert;

/// Voice heard over the tablet's own speech for this long stops it (barge-in). The
/// microphone must not hear the speaker: on a tablet, PulseAudio's echo canceller
/// (`module-echo-cancel`) gives a source without the tablet's own voice.
pub const BARGE_IN_MS: u32 = 300;
/// How much recent audio barge-in judges (1 s at 16 kHz).
const BARGE_WINDOW: usize = 16_000;

/// The pause after which a complete, sure, short answer ends the turn early.
pub const SEMANTIC_END_MS: u64 = 600;
/// Answers up to this many characters (punctuation aside) may end early; a longer
/// one may be a sentence with more to come, so it gets the full silence.
pub const SEMANTIC_END_MAX_CHARS: usize = 10;
/// Confidence needed to end early.
pub const SEMANTIC_END_CONFIDENCE: f32 = 0.85;

/// Whether an answer heard during a pause is complete enough to end the turn: sure,
/// short, and a real answer (not `other`, not a request to repeat).
pub fn complete_answer(text: &str, u: &care::understanding::Understanding) -> bool {
    use care::understanding::Intent;
    let chars = text.chars().filter(|c| c.is_alphanumeric()).count();
    u.confidence >= SEMANTIC_END_CONFIDENCE
        && chars > 0
        && chars <= SEMANTIC_END_MAX_CHARS
        && !matches!(u.intent, Intent::Other | Intent::RepeatRequest)
}

/// Where answers come from.
#[derive(Debug, Clone)]
pub enum AudioIn {
    /// The default (or named) capture device.
    Microphone { device: Option<String> },
    /// WAV files, one per `Listen`, in order (the scripted resident).
    Files { files: VecDeque<PathBuf>, realtime: bool },
    /// No audio input at all: answers by button only.
    None,
}

/// Where speech goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioOut {
    /// The default (or named) output device.
    Speaker { device: Option<String> },
    /// No speaker: wait as long as saying would take (`paced`), or not at all (tests).
    Silent { paced: bool },
}

#[derive(Debug, Clone)]
pub struct SpeechConfig {
    /// The ggml Whisper model; `None` or a missing file: no voice recognition.
    pub model: Option<PathBuf>,
    pub asr: AsrOptions,
    pub tts: OpenJTalk,
    pub audio_in: AudioIn,
    pub audio_out: AudioOut,
    pub vad: VadConfig,
    /// Longest wait for an answer to start; never under 30 s for residents.
    pub listen_timeout: Duration,
    /// Semantic end of turn: after this much of a pause, a short answer that is
    /// already complete and sure (「んだ」「元気です」) is taken without waiting for the
    /// full end-of-speech silence. `None` always waits the full silence.
    pub semantic_end: Option<Duration>,
    /// A dialect bundle the office sent earlier (lexicon + model), used instead of
    /// the built-in assets when it opens cleanly.
    pub dialect_bundle: Option<PathBuf>,
}

impl SpeechConfig {
    pub fn new(model: Option<PathBuf>, audio_in: AudioIn, audio_out: AudioOut) -> Self {
        Self {
            model,
            // The dialect prompt travels with the understanding model (and its bundles):
            // the worker sets it when it installs one.
            asr: AsrOptions::default(),
            tts: OpenJTalk::default(),
            audio_in,
            audio_out,
            vad: VadConfig::default(),
            listen_timeout: Duration::from_secs(30),
            semantic_end: Some(Duration::from_millis(SEMANTIC_END_MS)),
            dialect_bundle: None,
        }
    }
}

/// What the controller asks of the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum SpeechCommand {
    Say {
        lines: Vec<String>,
        slow: bool,
    },
    Stop,
    Listen(QuestionId),
    /// The next `Listen`'s answer is also read for these choices (each a list of
    /// written forms): which were named goes back in the understanding, the words never.
    Expect(Vec<Vec<String>>),
    StopListening,
    /// Per-resident volume (0–1), Open JTalk speed and voice.
    Configure {
        volume: f32,
        speed: f32,
        voice: dialect_model::tts::Voice,
    },
    TestSpeaker,
    TestMicrophone,
    /// The soft chime before the tablet speaks by itself.
    Chime,
    /// Swap in a newer dialect bundle between two answers (never mid-utterance:
    /// commands are handled between listening steps).
    UseDialectBundle(PathBuf),
}

/// What the worker reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SpeechReport {
    /// The lines were said (or cut short by the resident speaking).
    Done,
    Heard(care::understanding::Understanding),
    /// The listening window closed with no speech.
    Silence,
    /// Parts as found at start and after each failure.
    Health {
        microphone: Part,
        speaker: Part,
        recogniser: Part,
    },
    /// A staff test's result, in plain Japanese.
    Test(String),
    /// From the resident's last word to the first sound of the reply.
    ReplyLatency(Duration),
    /// The dialect understanding in use: a bundle's version, or `None` for the
    /// built-in assets.
    Dialect(Option<u32>),
}

/// A part's state, for the health page and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Ok,
    Missing(String),
    Faulty(String),
}

/// The handle the UI side keeps.
#[derive(Debug)]
pub struct SpeechWorker {
    tx: Sender<SpeechCommand>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SpeechWorker {
    pub fn spawn(config: SpeechConfig, report: impl Fn(SpeechReport) + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("speech".into())
            .spawn(move || Worker::new(config, Box::new(report)).run(rx))
            .expect("spawning the speech thread");
        Self { tx, thread: Some(thread) }
    }

    pub fn send(&self, command: SpeechCommand) {
        let _ = self.tx.send(command);
    }
}

impl Drop for SpeechWorker {
    fn drop(&mut self) {
        // Closing the channel ends the loop.
        let (tx, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Speaking {
    /// Lines still to synthesise and play.
    queue: VecDeque<String>,
    slow: bool,
    /// When the current line will have been said (silent output) or `None` (playing on device).
    until: Option<Instant>,
}

struct Listening {
    question: Question,
    /// The choices the answer is read for (see [`SpeechCommand::Expect`]).
    expected: Vec<Vec<String>>,
    endpointer: Endpointer,
    started: Instant,
    heard_speech: bool,
    /// Length of the utterance already tried for a semantic end (one try per pause).
    speculated: usize,
}

struct Worker {
    config: SpeechConfig,
    report: Box<dyn Fn(SpeechReport) + Send>,
    recognizer: Option<Recognizer>,
    understander: Option<Understander>,
    playback: Option<Playback>,
    capture: Option<Capture>,
    speaking: Option<Speaking>,
    listening: Option<Listening>,
    volume: f32,
    speed: f32,
    /// When the resident's last answer ended (its last voiced sample was heard).
    answer_ended: Option<Instant>,
    /// The last second captured while speaking, judged for barge-in.
    barge_window: Vec<f32>,
    /// Samples added to the window since it was last judged.
    barge_unjudged: usize,
    /// What the resident said over the tablet: the start of their next answer.
    barged: Vec<f32>,
    /// Choices for the next listening.
    expect_next: Vec<Vec<String>>,
}

impl Worker {
    fn new(config: SpeechConfig, report: Box<dyn Fn(SpeechReport) + Send>) -> Self {
        let speed = config.tts.speed;
        Self {
            config,
            report,
            recognizer: None,
            understander: None,
            playback: None,
            capture: None,
            speaking: None,
            listening: None,
            volume: 0.8,
            speed,
            answer_ended: None,
            barge_window: Vec::new(),
            barge_unjudged: 0,
            barged: Vec::new(),
            expect_next: Vec::new(),
        }
    }

    fn run(mut self, rx: Receiver<SpeechCommand>) {
        self.start_parts();
        loop {
            let wait = if self.speaking.is_some() || self.listening.is_some() {
                Duration::from_millis(20)
            } else {
                Duration::from_secs(3600)
            };
            match rx.recv_timeout(wait) {
                Ok(command) => self.command(command),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.step_speaking();
            self.step_listening();
        }
        if let Some(p) = self.playback.as_mut() {
            p.stop();
        }
    }

    fn start_parts(&mut self) {
        let recogniser = match self.config.model.as_ref() {
            Some(path) if path.exists() => match Recognizer::load(path, self.config.asr.clone()) {
                Ok(r) => {
                    self.recognizer = Some(r);
                    Part::Ok
                }
                Err(e) => Part::Faulty(format!("音声認識モデルを読めません: {e}")),
            },
            Some(path) => Part::Missing(format!("音声認識モデルがありません（{}）", path.display())),
            None => Part::Missing("音声認識モデルが設定されていません".into()),
        };
        let bundle = self.config.dialect_bundle.clone();
        let dialect = bundle.and_then(|path| self.use_dialect_bundle(&path));
        if dialect.is_none() {
            match Understander::load_default() {
                Ok(u) => self.install_understander(u),
                Err(e) => tracing::error!(error = %e, "dialect understander failed to load"),
            }
        }
        let speaker = match &self.config.audio_out {
            AudioOut::Speaker { device } => match Playback::open(device.as_deref()) {
                Ok(p) => {
                    self.playback = Some(p);
                    Part::Ok
                }
                Err(e) => Part::Missing(e.to_string()),
            },
            AudioOut::Silent { .. } => Part::Missing("スピーカーを使わない設定です".into()),
        };
        let microphone = match &self.config.audio_in {
            AudioIn::Microphone { device } => match Capture::open(device.as_deref()) {
                Ok(c) => {
                    self.capture = Some(c);
                    Part::Ok
                }
                Err(e) => Part::Missing(e.to_string()),
            },
            AudioIn::Files { .. } => Part::Ok,
            AudioIn::None => Part::Missing("マイクを使わない設定です".into()),
        };
        // Health first: it is what the kiosk waits for before it listens.
        (self.report)(SpeechReport::Health { microphone, speaker, recogniser });
        (self.report)(SpeechReport::Dialect(dialect));
    }

    /// Makes `understander` the one in use, with the recogniser prompt its model
    /// carries (a model from before prompts travelled in models keeps the current one).
    fn install_understander(&mut self, understander: Understander) {
        let prompt = &understander.model.asr_prompt;
        if let Some(r) = self.recognizer.as_mut().filter(|_| !prompt.is_empty()) {
            r.set_initial_prompt(prompt.clone());
        }
        self.understander = Some(understander);
    }

    /// Opens a bundle and, when it is sound, makes it the understander and the
    /// recogniser's dialect prompt; returns its version. A bad file changes nothing.
    fn use_dialect_bundle(&mut self, path: &Path) -> Option<u32> {
        let opened = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| dialect_model::learn::open_bundle(&text).map_err(|e| e.to_string()));
        match opened {
            Ok((version, understander)) => {
                self.install_understander(understander);
                tracing::info!(version, "dialect bundle in use");
                Some(version)
            }
            Err(e) => {
                tracing::warn!(error = %e, file = %path.display(), "dialect bundle refused; the current one stays");
                None
            }
        }
    }

    fn command(&mut self, command: SpeechCommand) {
        match command {
            SpeechCommand::UseDialectBundle(path) => {
                if let Some(version) = self.use_dialect_bundle(&path) {
                    (self.report)(SpeechReport::Dialect(Some(version)));
                }
            }
            SpeechCommand::Say { lines, slow } => {
                self.stop_playback();
                self.barge_window.clear();
                self.speaking = Some(Speaking { queue: lines.into(), slow, until: None });
            }
            SpeechCommand::Stop => {
                self.stop_playback();
                self.speaking = None;
            }
            SpeechCommand::Listen(q) => {
                let question = q;
                if self.recognizer.is_none() || matches!(self.config.audio_in, AudioIn::None) {
                    // Buttons only: nothing to listen with, and no silence to report either
                    // (the resident is never rushed).
                    return;
                }
                // Audio from before the question is stale, unless the resident was already
                // talking over the tablet: that is the start of their answer.
                let barged = std::mem::take(&mut self.barged);
                if let Some(c) = self.capture.as_mut() {
                    let recent = c.drain();
                    if !barged.is_empty() {
                        self.barged = [barged, recent].concat();
                    }
                }
                self.listening = Some(Listening {
                    question,
                    expected: std::mem::take(&mut self.expect_next),
                    endpointer: Endpointer::new(self.config.vad.clone()),
                    started: Instant::now(),
                    heard_speech: false,
                    speculated: 0,
                });
                let early = std::mem::take(&mut self.barged);
                if !early.is_empty() && self.push_audio(&early) {
                    return;
                }
                if let AudioIn::Files { files, realtime } = &mut self.config.audio_in {
                    let realtime = *realtime;
                    match files.pop_front() {
                        Some(path) => self.feed_file(path, realtime),
                        // The script is over: from here the resident answers by button.
                        None => self.listening = None,
                    }
                }
            }
            SpeechCommand::Expect(choices) => self.expect_next = choices,
            SpeechCommand::StopListening => self.listening = None,
            SpeechCommand::Configure { volume, speed, voice } => {
                self.volume = volume.clamp(0.0, 1.0);
                self.speed = speed.clamp(0.4, 1.0);
                // A voice whose file is missing (setup not run) keeps the current one.
                let path = voice.path();
                if path.is_file() {
                    self.config.tts.voice = path;
                } else {
                    tracing::warn!(voice = voice.key(), "voice file missing; the current voice stays");
                }
                if let Some(p) = self.playback.as_mut() {
                    p.set_volume(self.volume);
                }
            }
            SpeechCommand::TestSpeaker => {
                let text = match self.playback.as_mut() {
                    Some(p) => match p.play(&audio::tone(440.0, 1.0, 48_000), 48_000) {
                        Ok(()) => "スピーカーから音を出しました。聞こえましたか？".to_string(),
                        Err(e) => format!("スピーカーが使えません: {e}"),
                    },
                    None => "スピーカーが見つかりません".to_string(),
                };
                (self.report)(SpeechReport::Test(text));
            }
            SpeechCommand::Chime => {
                if let Some(p) = self.playback.as_mut()
                    && let Err(e) = p.play(&audio::chime(48_000), 48_000)
                {
                    tracing::warn!(error = %e, "cannot play the chime");
                }
            }
            SpeechCommand::TestMicrophone => {
                let text = match self.capture.as_mut() {
                    Some(c) => {
                        c.drain();
                        std::thread::sleep(Duration::from_secs(3));
                        let samples = c.drain();
                        let level = audio::peak_dbfs(&samples);
                        if samples.is_empty() {
                            "マイクから音が届きません".to_string()
                        } else {
                            format!("マイクの音の大きさ: {level:.0} dBFS（{} 秒分）", samples.len() / 16_000)
                        }
                    }
                    None => "マイクが見つかりません".to_string(),
                };
                (self.report)(SpeechReport::Test(text));
            }
        }
    }

    fn stop_playback(&mut self) {
        if let Some(p) = self.playback.as_mut() {
            p.stop();
        }
    }

    /// Plays the next line when the previous one is over; reports `Done` at the end.
    fn step_speaking(&mut self) {
        let Some(speaking) = self.speaking.as_mut() else { return };
        let busy = match (speaking.until, self.playback.as_ref()) {
            (Some(until), _) => Instant::now() < until,
            (None, Some(p)) => p.is_playing(),
            (None, None) => false,
        };
        if busy {
            // Barge-in: the resident started talking over the tablet. Judged on the last
            // second heard, so a cough or a clink does not stop it, 300 ms of voice does.
            if let Some(c) = self.capture.as_mut() {
                let new = c.drain();
                self.barge_unjudged += new.len();
                self.barge_window.extend(new);
                let excess = self.barge_window.len().saturating_sub(BARGE_WINDOW);
                self.barge_window.drain(..excess);
                // Judged every 200 ms of new audio: the voicing analysis is not free.
                if self.barge_unjudged >= BARGE_WINDOW / 5 && {
                    self.barge_unjudged = 0;
                    dialect_model::vad::has_voiced_speech(&self.barge_window, BARGE_IN_MS)
                } {
                    self.stop_playback();
                    self.speaking = None;
                    self.barged = std::mem::take(&mut self.barge_window);
                    (self.report)(SpeechReport::Done);
                }
            }
            return;
        }
        let Some(line) = speaking.queue.pop_front() else {
            self.speaking = None;
            (self.report)(SpeechReport::Done);
            return;
        };
        let speed = if speaking.slow { self.speed * 0.85 } else { self.speed };
        let tts = OpenJTalk { speed, ..self.config.tts.clone() };
        let speech = match tts.synthesize(&line) {
            Ok(s) => s,
            Err(e) => {
                // The caption still shows the line: the conversation goes on in writing.
                tracing::warn!(error = %e, "speech synthesis failed");
                speaking.until =
                    Some(Instant::now() + Duration::from_millis(60 * line.chars().count() as u64));
                return;
            }
        };
        if let Some(ended) = self.answer_ended.take() {
            (self.report)(SpeechReport::ReplyLatency(ended.elapsed()));
        }
        let seconds = speech.samples.len() as f32 / speech.sample_rate as f32;
        match (self.playback.as_mut(), &self.config.audio_out) {
            (Some(p), _) => {
                if let Err(e) = p.play(&speech.samples, speech.sample_rate) {
                    tracing::warn!(error = %e, "playback failed");
                    speaking.until = Some(Instant::now() + Duration::from_secs_f32(seconds));
                } else {
                    speaking.until = None;
                }
            }
            (None, AudioOut::Silent { paced: false }) => speaking.until = Some(Instant::now()),
            (None, _) => speaking.until = Some(Instant::now() + Duration::from_secs_f32(seconds)),
        }
    }

    /// Feeds a WAV file, followed by silence, through the endpointer; real time or
    /// as fast as the machine goes.
    fn feed_file(&mut self, path: PathBuf, realtime: bool) {
        let samples = match dialect_model::audio::read_wav_16k_mono(&path) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "scripted answer unreadable");
                self.listening = None;
                (self.report)(SpeechReport::Silence);
                return;
            }
        };
        let mut stream = samples;
        stream.extend(std::iter::repeat_n(0.0, 16_000 * 2));
        let chunk = 320;
        let start = Instant::now();
        for (i, part) in stream.chunks(chunk).enumerate() {
            if realtime {
                let due = start + Duration::from_secs_f64((i * chunk) as f64 / 16_000.0);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            if self.push_audio(part) {
                return;
            }
        }
        if let Some(mut l) = self.listening.take() {
            let events = l.endpointer.finish();
            self.listening = Some(l);
            if self.handle_vad(events) {
                return;
            }
        }
        self.listening = None;
        (self.report)(SpeechReport::Silence);
    }

    /// Pushes captured audio; true when an answer (or silence) was reported.
    fn push_audio(&mut self, samples: &[f32]) -> bool {
        let Some(l) = self.listening.as_mut() else { return true };
        let events = l.endpointer.push(samples);
        self.handle_vad(events) || self.semantic_end()
    }

    /// During a pause, tries the answer so far; a complete one ends the turn now.
    fn semantic_end(&mut self) -> bool {
        let Some(after) = self.config.semantic_end else { return false };
        let Some(l) = self.listening.as_mut() else { return false };
        let Some((pause_ms, so_far)) = l.endpointer.pause() else { return false };
        if u128::from(pause_ms) < after.as_millis() || so_far.len() == l.speculated {
            return false;
        }
        l.speculated = so_far.len();
        let (samples, question) = (so_far.to_vec(), l.question);
        // The last word was heard `pause_ms` ago; recognition time counts towards the reply.
        let last_word = Instant::now().checked_sub(Duration::from_millis(u64::from(pause_ms)));
        let Some((text, u)) = self.recognise(&samples, question) else { return false };
        if !complete_answer(&text, &u) {
            return false;
        }
        if let Some(mut l) = self.listening.take() {
            let _ = l.endpointer.end_now();
        }
        self.answer_ended = last_word;
        (self.report)(SpeechReport::Heard(u));
        true
    }

    fn handle_vad(&mut self, events: Vec<VadEvent>) -> bool {
        for event in events {
            match event {
                VadEvent::SpeechStarted { .. } => {
                    if let Some(l) = self.listening.as_mut() {
                        l.heard_speech = true;
                    }
                }
                VadEvent::Utterance { samples, .. } => {
                    // The endpointer ends an utterance after the trailing silence: the last
                    // word was that long ago.
                    let silence = Duration::from_millis(u64::from(self.config.vad.end_silence_ms));
                    self.answer_ended = Instant::now().checked_sub(silence);
                    let Some(l) = self.listening.take() else { return true };
                    let understood = self.understand(&samples, l.question);
                    match understood {
                        Some(u) => (self.report)(SpeechReport::Heard(u)),
                        None => {
                            // Noise, breath or a hallucination: keep listening, say nothing.
                            self.listening =
                                Some(Listening { endpointer: Endpointer::new(self.config.vad.clone()), ..l });
                            continue;
                        }
                    }
                    return true;
                }
            }
        }
        false
    }

    fn understand(&self, samples: &[f32], question: Question) -> Option<care::understanding::Understanding> {
        self.recognise(samples, question).map(|(_, u)| u)
    }

    /// The transcript (kept only in memory, never logged) and what it means.
    fn recognise(
        &self,
        samples: &[f32],
        question: Question,
    ) -> Option<(String, care::understanding::Understanding)> {
        let recognizer = self.recognizer.as_ref()?;
        // The same rule as the evaluations' listening turn: no words, keep listening.
        let text = match dialect_model::hearing::utterance_text(recognizer, samples) {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "recognition failed");
                return None;
            }
        };
        let understander = self.understander.as_ref()?;
        let expected = self.listening.as_ref().map_or(&[][..], |l| &l.expected[..]);
        let u = convert::understanding(&understander.understand(&text, question), &text, expected);
        Some((text, u))
    }

    fn step_listening(&mut self) {
        let Some(capture) = self.capture.as_mut() else { return };
        if self.listening.is_none() {
            return;
        }
        let samples = capture.drain();
        if !samples.is_empty() && self.push_audio(&samples) {
            return;
        }
        let timed_out = self.listening.as_ref().is_some_and(|l| {
            !l.heard_speech && !l.endpointer.in_speech() && l.started.elapsed() > self.config.listen_timeout
        });
        if timed_out {
            self.listening = None;
            (self.report)(SpeechReport::Silence);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use care::understanding::{Intent, Understanding};

    fn check(text: &str, intent: Intent, confidence: f32, early: bool) {
        let u = Understanding {
            intent,
            body_part: None,
            confidence,
            critical: false,
            danger: None,
            count: None,
            named: 0,
            last_named: None,
        };
        assert_eq!(complete_answer(text, &u), early, "{text:?} {intent:?} {confidence}");
    }

    #[test]
    fn only_short_sure_real_answers_end_the_turn_early() {
        check("んだ", Intent::Yes, 0.95, true);
        check("元気です。", Intent::FeelingGood, 0.9, true);
        check("元気です", Intent::FeelingGood, 0.7, false);
        check("もう一回", Intent::RepeatRequest, 0.95, false);
        check("えーと", Intent::Other, 0.95, false);
        check("元気だけど、昨日から腰が少し", Intent::FeelingGood, 0.95, false);
        check("", Intent::Yes, 0.95, false);
    }

    /// A worker with no audio and no model: enough for the understanding side.
    fn quiet_worker(reports: std::sync::Arc<std::sync::Mutex<Vec<SpeechReport>>>) -> Worker {
        let config = SpeechConfig::new(None, AudioIn::None, AudioOut::Silent { paced: false });
        Worker::new(config, Box::new(move |r| reports.lock().unwrap().push(r)))
    }

    #[test]
    fn a_dialect_bundle_is_swapped_in_whole_and_a_bad_one_changes_nothing() {
        let reports = std::sync::Arc::default();
        let mut worker = quiet_worker(std::sync::Arc::clone(&reports));
        worker.start_parts();
        assert!(reports.lock().unwrap().contains(&SpeechReport::Dialect(None)));
        let dir = tempfile::tempdir().unwrap();
        let builtin = Understander::load_default().unwrap();
        // A bundle whose lexicon reads a new word: what a staff correction adds.
        let mut lexicon = builtin.lexicon.to_tsv();
        lexicon.push_str("はしぇっこい\t\ttired\tcorrection\tMurayama\tmedium\ttired\tcorrection:test\n");
        let good = dialect_model::learn::bundle(
            3,
            &Understander {
                lexicon: dialect_model::lexicon::Lexicon::parse(&lexicon).unwrap(),
                model: builtin.model.clone(),
                danger: builtin.danger.clone(),
            },
        );
        let path = dir.path().join("dialect-bundle-3.txt");
        std::fs::write(&path, &good).unwrap();
        let torn = dir.path().join("dialect-bundle-4.txt");
        std::fs::write(&torn, &good[..good.len() / 2]).unwrap();
        let before = worker.understander.as_ref().unwrap().lexicon.to_tsv();
        assert_eq!(worker.use_dialect_bundle(&torn), None, "half a file is refused");
        assert_eq!(worker.use_dialect_bundle(&dir.path().join("missing.txt")), None);
        assert_eq!(worker.understander.as_ref().unwrap().lexicon.to_tsv(), before, "nothing changed");
        worker.command(SpeechCommand::UseDialectBundle(path));
        assert_eq!(worker.understander.as_ref().unwrap().lexicon.to_tsv(), lexicon);
        assert_eq!(reports.lock().unwrap().last(), Some(&SpeechReport::Dialect(Some(3))));
    }
}
