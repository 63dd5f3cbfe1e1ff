//! `degrade`: the degraded-speech evaluation set, written as recordings
//! (`DIR/<id>.wav`, 16 kHz 16-bit, and `DIR/manifest.tsv` saying how each was made)
//! that `--wav-dir` then hears exactly as it would hear a town's own recordings.

use std::path::Path;

use anyhow::Context as _;
use dialect_model::SAMPLE_RATE;
use dialect_model::degrade::Degradation;
use dialect_model::hearing;
use dialect_model::learn;
use dialect_model::model;
use dialect_model::tts::{self, OpenJTalk, Voice};

/// What the television says behind the resident (read by the other voice).
const TELEVISION: &[&str] = &[
    "続いて天気です。山沿いでは今夜から大雪となるおそれがあります。",
    "県内の道路は、凍結による事故に注意してください。",
    "さて、きょうの特集は冬の健康づくりです。",
    "この番組は、ご覧のスポンサーの提供でお送りしました。",
];

/// Writes one degraded clip per row (`id`, `text`), both voices taking turns by a hash
/// of the id, every degradation seeded by it.
pub(crate) fn degrade(rows: &[(String, String)], out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let television = |voice: Voice| -> anyhow::Result<Vec<f32>> {
        let tts = OpenJTalk { speed: 1.0, voice: voice.path(), ..Default::default() };
        let mut all = Vec::new();
        for line in TELEVISION {
            all.extend(tts.synthesize(line)?.to_16k());
            all.extend(std::iter::repeat_n(0.0, SAMPLE_RATE as usize / 4));
        }
        Ok(all)
    };
    let tv = [television(Voice::Mei)?, television(Voice::M001)?];
    let mut manifest = String::from("id\tvoice\thow\n");
    for (id, text) in rows {
        let Some(file) = hearing::file_name(id) else {
            anyhow::bail!("row id {id:?} cannot name a file");
        };
        let seed = u64::from_str_radix(&model::sha256_hex(id.as_bytes())[..16], 16).expect("hex digits");
        let (voice, other) =
            if seed.is_multiple_of(2) { (Voice::M001, &tv[0]) } else { (Voice::Mei, &tv[1]) };
        let d = Degradation::from_seed(seed);
        let speech = if text.trim().is_empty() {
            Vec::new()
        } else {
            let tts = OpenJTalk {
                speed: d.speed,
                half_tone: d.half_tone,
                voice: voice.path(),
                ..Default::default()
            };
            tts.synthesize(text)?.to_16k()
        };
        let clip = d.apply(&speech, other);
        tts::write_wav(&out.join(file), &clip, SAMPLE_RATE)?;
        manifest.push_str(&format!("{id}\t{}\t{}\n", voice.key(), d.describe()));
    }
    std::fs::write(out.join("manifest.tsv"), manifest).context("writing the manifest")?;
    eprintln!("degrade: {} clips in {}", rows.len(), out.display());
    Ok(())
}

/// The rows of a judging TSV or an author-split corpus, as (id, text).
pub(crate) fn rows(tsv: Option<&Path>, corpus: Option<&Path>) -> anyhow::Result<Vec<(String, String)>> {
    match (tsv, corpus) {
        (Some(tsv), _) => {
            let text = std::fs::read_to_string(tsv).with_context(|| format!("reading {}", tsv.display()))?;
            Ok(learn::parse_utterances(&tsv.display().to_string(), &text)?
                .into_iter()
                .map(|u| (u.id, u.text))
                .collect())
        }
        (None, Some(corpus)) => Ok(dialect_model::corpus::load(corpus)?
            .into_iter()
            .map(|r| (r.example.id, r.example.text))
            .collect()),
        (None, None) => anyhow::bail!("give --tsv FILE or --by-author CORPUS"),
    }
}
