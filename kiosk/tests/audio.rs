//! Real audio without a sound card: a private PulseAudio with two null sinks, one the
//! tablet's speaker (`vspk`) and one the room its microphone hears (`vmic`, whose
//! monitor is the default source). rodio plays into the first, cpal captures from the
//! second, and the checks are on frequency and energy, not exact lengths.
//!
//! Each test re-runs itself in a child process with `PULSE_SERVER` pointing at the
//! private server, so no other test (and no desktop session) is touched.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiosk::audio::{Capture, Playback, tone};
use kiosk::speech::{AudioIn, AudioOut, SpeechCommand, SpeechConfig, SpeechReport, SpeechWorker};

/// A private PulseAudio server, killed on drop.
struct Pulse {
    child: std::process::Child,
    socket: String,
    _dir: tempfile::TempDir,
}

impl Pulse {
    fn start() -> Pulse {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("native");
        let child = Command::new("pulseaudio")
            .args(["--daemonize=no", "--exit-idle-time=-1", "-n", "--disallow-exit", "--log-target=stderr"])
            .arg(format!("--load=module-native-protocol-unix socket={} auth-anonymous=1", socket.display()))
            .arg("--load=module-null-sink sink_name=vspk rate=48000")
            .arg("--load=module-null-sink sink_name=vmic rate=48000")
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pulseaudio is installed by setup");
        let socket = format!("unix:{}", socket.display());
        let pulse = Pulse { child, socket, _dir: dir };
        let start = Instant::now();
        while !pulse.pactl(&["info"]) {
            assert!(start.elapsed() < Duration::from_secs(15), "pulseaudio did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(pulse.pactl(&["set-default-sink", "vspk"]));
        assert!(pulse.pactl(&["set-default-source", "vmic.monitor"]));
        pulse
    }

    fn pactl(&self, args: &[&str]) -> bool {
        Command::new("pactl")
            .args(args)
            .env("PULSE_SERVER", &self.socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// Plays a WAV into the room the microphone hears (in the child: `PULSE_SERVER` is set).
fn say_into_room(wav: &Path) -> std::process::Child {
    Command::new("paplay").args(["--device=vmic"]).arg(wav).spawn().unwrap()
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `name` again in a child process against a private PulseAudio.
fn in_child(name: &str) -> bool {
    if crate::is_child() {
        return true;
    }
    let pulse = Pulse::start();
    crate::in_child_with(name, "PULSE_SERVER", &pulse.socket)
}

/// The stretch from the first to the last loud sample (a tone with its zero crossings).
fn loud_part(samples: &[f32]) -> &[f32] {
    let first = samples.iter().position(|x| x.abs() > 0.01).unwrap_or(0);
    let last = samples.iter().rposition(|x| x.abs() > 0.01).unwrap_or(0);
    &samples[first..=last.max(first)]
}

/// Energy of `hz` relative to the signal's total energy (Goertzel).
fn share_at(samples: &[f32], hz: f32, rate: f32) -> f32 {
    let w = std::f32::consts::TAU * hz / rate;
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in samples {
        let s0 = x + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let total: f32 = samples.iter().map(|x| x * x).sum();
    power / (total * samples.len() as f32 / 2.0).max(1e-9)
}

#[test]
fn speaker_plays_and_microphone_hears_through_pulseaudio() {
    if !in_child("audio::speaker_plays_and_microphone_hears_through_pulseaudio") {
        return;
    }
    // Playback: rodio into the speaker sink, heard back through its monitor.
    let mut rec = Command::new("parec")
        .args([
            "--device=vspk.monitor",
            "--format=float32le",
            "--rate=16000",
            "--channels=1",
            "--latency-msec=20",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut speaker = Playback::open(None).expect("rodio finds the PulseAudio speaker");
    speaker.play(&tone(440.0, 1.5, 48_000), 48_000).unwrap();
    std::thread::sleep(Duration::from_millis(3000));
    let _ = rec.kill();
    let out = rec.wait_with_output().unwrap();
    let heard: Vec<f32> =
        out.stdout.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let loud = loud_part(&heard);
    // 1.5 s at 16 kHz is 24,000 samples; parec's start-up and its unflushed tail (it is
    // killed) take some of it.
    assert!(loud.len() > 8_000, "the tone was played ({} loud samples)", loud.len());
    assert!(share_at(loud, 440.0, 16_000.0) > 0.5, "and it was 440 Hz");

    // Capture: a 660 Hz tone played into the room, captured by cpal at 16 kHz mono.
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("tone.wav");
    dialect_model::tts::write_wav(&wav, &tone(660.0, 1.5, 16_000), 16_000).unwrap();
    let mut mic = Capture::open(None).expect("cpal finds the PulseAudio microphone");
    std::thread::sleep(Duration::from_millis(500));
    let _ = mic.drain();
    let mut play = say_into_room(&wav);
    std::thread::sleep(Duration::from_millis(2200));
    let _ = play.wait();
    let captured = mic.drain();
    let loud = loud_part(&captured);
    assert!(
        loud.len() > 8_000,
        "the microphone heard the tone ({} loud samples of {})",
        loud.len(),
        captured.len()
    );
    assert!(share_at(loud, 660.0, 16_000.0) > 0.5, "at 660 Hz, after resampling to 16 kHz");
}

#[test]
fn resident_speaking_over_the_tablet_stops_its_voice() {
    if !in_child("audio::resident_speaking_over_the_tablet_stops_its_voice") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tts = dialect_model::tts::OpenJTalk { speed: 0.8, ..Default::default() };
    let voice = tts.synthesize("ちょっと、とめてください").unwrap();
    let wav = dir.path().join("stop.wav");
    dialect_model::tts::write_wav(&wav, &voice.samples, voice.sample_rate).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let config =
        SpeechConfig::new(None, AudioIn::Microphone { device: None }, AudioOut::Speaker { device: None });
    let worker = SpeechWorker::spawn(config, move |r| {
        let _ = tx.send(r);
    });
    match rx.recv_timeout(Duration::from_secs(20)).unwrap() {
        SpeechReport::Health { microphone, speaker, .. } => {
            assert_eq!((microphone, speaker), (kiosk::speech::Part::Ok, kiosk::speech::Part::Ok));
        }
        other => panic!("{other:?}"),
    }
    // A long line: about ten seconds at the tablet's slow pace.
    let line = "今日は雪が深いので、家の中でできる体操をしましょう。椅子に座って、ゆっくり足を上げます。";
    let started = Instant::now();
    worker.send(SpeechCommand::Say { lines: vec![line.into()], slow: false });
    std::thread::sleep(Duration::from_millis(2500));
    let mut play = say_into_room(&wav);
    let done = loop {
        match rx.recv_timeout(Duration::from_secs(30)).expect("the worker reports") {
            SpeechReport::Done => break started.elapsed(),
            _ => continue,
        }
    };
    let _ = play.wait();
    let full = seconds_to_say(line);
    assert!(done.as_secs_f32() < full - 2.0, "stopped at {:.1} s of a {full:.1} s line", done.as_secs_f32());
    assert!(done > Duration::from_millis(2500), "not before the resident spoke");
}

/// How long the tablet takes to say a line at its pace.
fn seconds_to_say(line: &str) -> f32 {
    let s = dialect_model::tts::OpenJTalk::default().synthesize(line).unwrap();
    s.samples.len() as f32 / s.sample_rate as f32
}
