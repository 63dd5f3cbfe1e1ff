//! Recorded audio in: `understand --wav-dir` and `understand-eval --wav-dir` hear
//! `DIR/<id>.wav` files of several formats through the kiosk's listening turn, and
//! name the rows that have no file; `degrade` writes the degraded-speech set as such
//! files, the same bytes on every run.

use std::path::Path;
use std::process::{Command, Output};

use dialect_model::SAMPLE_RATE;
use dialect_model::audio::resample;
use dialect_model::tts::OpenJTalk;

fn run(args: &[&str], dir: &Path) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dialect-model")).args(args).current_dir(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

/// `samples` (16 kHz mono) written at `rate` Hz in `channels` channels as `format`.
fn write(path: &Path, samples: &[f32], rate: u32, channels: u16, format: hound::SampleFormat, bits: u16) {
    let at_rate = resample(samples, SAMPLE_RATE, rate).unwrap();
    let spec = hound::WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format: format };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in at_rate {
        for _ in 0..channels {
            match (format, bits) {
                (hound::SampleFormat::Float, _) => w.write_sample(s).unwrap(),
                (_, 8) => w.write_sample((s * 127.0) as i8).unwrap(),
                (_, 16) => w.write_sample((s * 32767.0) as i16).unwrap(),
                (_, 24) => w.write_sample((s * 8_388_607.0) as i32).unwrap(),
                _ => unreachable!(),
            }
        }
    }
    w.finalize().unwrap();
}

#[test]
fn recordings_of_several_formats_are_heard_and_missing_ones_named() {
    let dir = tempfile::tempdir().unwrap();
    let wavs = dir.path().join("wavs");
    std::fs::create_dir(&wavs).unwrap();
    let tts = OpenJTalk { speed: 0.9, ..Default::default() };
    let rate = SAMPLE_RATE as usize;
    let say = |text: &str| {
        let speech = tts.synthesize(text).unwrap().to_16k();
        [vec![0.0; rate / 2], speech, vec![0.0; rate * 2]].concat()
    };
    use hound::SampleFormat::{Float, Int};
    let rows = [
        ("R1", "火事だ、助けてけろ", "how_feeling", "emergency", (16_000, 1, Int, 16)),
        ("R2", "腰がいでくてなんねえ", "how_feeling", "pain", (44_100, 2, Int, 24)),
        ("R3", "よぐ眠れだ", "slept", "slept_well", (48_000, 1, Float, 32)),
        ("R4", "はい、元気です", "how_feeling", "feeling_good", (8_000, 1, Int, 8)),
    ];
    for (id, text, _, _, (r, ch, format, bits)) in rows {
        write(&wavs.join(format!("{id}.wav")), &say(text), r, ch, format, bits);
    }
    // R5 has no file; a file named by a path-like id is never looked for.
    let mut tsv = String::from("id\tutterance_dialect\tquestion_context\tintent\n");
    for (id, text, q, intent, _) in rows {
        tsv.push_str(&format!("{id}\t{text}\t{q}\t{intent}\n"));
    }
    tsv.push_str("R5\tんだ\tslept\tyes\n");
    std::fs::write(dir.path().join("rows.tsv"), tsv).unwrap();
    let wav_dir = wavs.to_str().unwrap();

    let (out, stdout) = run(&["understand", "--tsv", "rows.tsv", "--wav-dir", wav_dir], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<(String, String)> = stdout
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[0].to_owned(), c[1].to_owned())
        })
        .collect();
    let expected: Vec<(String, String)> = rows
        .iter()
        .map(|(id, _, _, intent, _)| ((*id).to_owned(), (*intent).to_owned()))
        .chain([("R5".to_owned(), "other".to_owned())])
        .collect();
    assert_eq!(got, expected, "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no recording for 1 rows: R5"), "{stderr}");

    let (out, stdout) =
        run(&["understand-eval", "--tsv", "rows.tsv", "--split", "all", "--wav-dir", wav_dir], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("missing recordings: 1 (R5)"), "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(last.contains("accuracy=1.000") && last.ends_with("rows=4"), "{last}");
    assert!(last.contains("confirmed=") && last.contains("wrong_accepted=0.000"), "{last}");

    // A damaged file is an error that names it, not a silent skip.
    std::fs::write(wavs.join("R5.wav"), b"RIFF\0\0\0\0WAVEjunk").unwrap();
    let (out, _) = run(&["understand", "--tsv", "rows.tsv", "--wav-dir", wav_dir], dir.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("R5.wav"));
}

#[test]
fn the_degraded_set_is_written_as_recordings_the_same_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rows.tsv"),
        "id\tutterance_dialect\nD1\tこわくてなんねず\nD2\tんだ\nD3\t\n",
    )
    .unwrap();
    for out in ["a", "b"] {
        let (o, _) = run(&["degrade", "--tsv", "rows.tsv", "--out", out], dir.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let manifest = std::fs::read_to_string(dir.path().join("a/manifest.tsv")).unwrap();
    assert_eq!(manifest.lines().count(), 4, "{manifest}");
    assert!(manifest.contains("D1\t") && manifest.contains("snr="), "{manifest}");
    for id in ["D1", "D2", "D3"] {
        let (a, b) = (dir.path().join(format!("a/{id}.wav")), dir.path().join(format!("b/{id}.wav")));
        let digest = |p: &Path| dialect_model::model::sha256_hex(&std::fs::read(p).unwrap());
        assert_eq!(digest(&a), digest(&b), "{id} differs between runs");
        let samples = dialect_model::audio::read_wav_16k_mono(&a).unwrap();
        // Room noise throughout, speech (or, for the empty row, only the room) between.
        assert!(samples.len() >= SAMPLE_RATE as usize * 18 / 10, "{id}: {}", samples.len());
        assert!(samples[..3000].iter().any(|s| s.abs() > 1e-4), "{id}: the room is heard before the voice");
    }
    // A row id that would name a file elsewhere is refused.
    std::fs::write(dir.path().join("bad.tsv"), "id\tutterance_dialect\n../x\tんだ\n").unwrap();
    let (o, _) = run(&["degrade", "--tsv", "bad.tsv", "--out", "c"], dir.path());
    assert!(!o.status.success());
    assert!(!dir.path().join("x.wav").exists());
}
