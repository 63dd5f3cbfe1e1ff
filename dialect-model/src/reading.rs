//! Kana pronunciations of the kanji a recogniser writes (怖くて → コワクテ, 越す →
//! コス, 体操 → タイソー), so that understanding compares sounds, not spellings.
//!
//! The reading dictionary is IPADIC (NAIST, Debian package `mecab-ipadic`, which ships
//! its MeCab sources), compiled once by `dialect-model fetch-model` into a vibrato
//! dictionary in the model cache, and loaded once per process ([`Reader::shared`]).
//! Only tokens written with kanji take the dictionary's reading: kana are kept as heard,
//! because the dictionary does not know dialect and would only re-segment it.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::model::ModelPaths;
use crate::normalise::{self, is_kanji};

/// Where Debian's `mecab-ipadic` puts the dictionary sources (EUC-JP).
pub const IPADIC_SOURCE: &str = "/usr/share/mecab/dic/ipadic";

/// Why the reading dictionary could not be built or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ReadingError {
    #[error(
        "reading dictionary {path} is missing: run `dialect-model fetch-model` (needs Debian package mecab-ipadic)"
    )]
    Missing { path: String },
    #[error("reading dictionary sources {path}: {reason}")]
    Source { path: String, reason: String },
    #[error("reading dictionary {path}: {reason}")]
    Format { path: String, reason: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A loaded reading dictionary.
pub struct Reader {
    tokenizer: vibrato::Tokenizer,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader(ipadic)")
    }
}

impl Reader {
    /// Loads a compiled dictionary (written by [`build`]).
    pub fn load(path: &Path) -> Result<Self, ReadingError> {
        let file = std::fs::File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ReadingError::Missing { path: path.display().to_string() },
            _ => ReadingError::Io(e),
        })?;
        let dict = vibrato::Dictionary::read(std::io::BufReader::new(file))
            .map_err(|e| ReadingError::Format { path: path.display().to_string(), reason: e.to_string() })?;
        Ok(Self { tokenizer: vibrato::Tokenizer::new(dict) })
    }

    /// The process's one reader of the default dictionary, loaded on first use: it is
    /// read-only and large (tens of MB), so every lexicon in a process shares it.
    pub fn shared() -> Result<Arc<Reader>, ReadingError> {
        static SHARED: OnceLock<Result<Arc<Reader>, String>> = OnceLock::new();
        let path = default_path();
        match SHARED.get_or_init(|| Reader::load(&path).map(Arc::new).map_err(|e| e.to_string())) {
            Ok(reader) => Ok(Arc::clone(reader)),
            Err(_) if !path.is_file() => Err(ReadingError::Missing { path: path.display().to_string() }),
            Err(reason) => {
                Err(ReadingError::Format { path: path.display().to_string(), reason: reason.clone() })
            }
        }
    }

    /// `text` with its kanji words replaced by their kana pronunciation; kana, digits
    /// and punctuation unchanged. Text without kanji is returned as it is.
    ///
    /// A word of kanji alone whose pronunciation folds to fewer than [`MIN_READ_KANA`]
    /// kana keeps its kanji: short readings collide with everyday kana (動悸 ドーキ
    /// folds to とき, "time"; 歯 to は, the particle), while the kanji is unambiguous.
    pub fn kana(&self, text: &str) -> String {
        if !text.chars().any(is_kanji) {
            return text.to_owned();
        }
        let mut worker = self.tokenizer.new_worker();
        worker.reset_sentence(standard_okurigana(text));
        worker.tokenize();
        let mut out = String::with_capacity(text.len() * 2);
        for i in 0..worker.num_tokens() {
            let token = worker.token(i);
            let surface = &text[token.range_byte()];
            // The one feature kept by `build`: the pronunciation of a kanji word.
            let known = token.lex_type() != vibrato::dictionary::LexType::Unknown;
            let said = Some(token.feature()).filter(|f| known && *f != "*");
            match said {
                Some(said) if surface.chars().any(is_kanji) && !ambiguous(surface, said) => {
                    out.push_str(said)
                }
                _ => out.push_str(surface),
            }
        }
        out
    }
}

/// The fewest folded kana a kanji word's pronunciation needs to replace the kanji.
pub const MIN_READ_KANA: usize = 3;

/// Whether the kana of `said` would say less than the kanji of `surface`: a word of
/// kanji alone whose pronunciation folds to fewer than [`MIN_READ_KANA`] kana.
/// Inflected words (越す, 怖く, 落ち) carry their ending and are always read.
fn ambiguous(surface: &str, said: &str) -> bool {
    surface.chars().all(is_kanji) && normalise::fold(said).chars().count() < MIN_READ_KANA
}

/// `text` with the dialect's medial voicing of k and t undone right after a kanji
/// (行がね → 行かね, 痛ぐて → 痛くて), so that the analyser, which knows only standard
/// inflections, finds the verb or adjective instead of a rare noun (行 read クダリ).
/// Every change keeps the byte length, so token ranges index the original text.
fn standard_okurigana(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_kanji = false;
    for c in text.chars() {
        let plain = match c {
            'が' => 'か',
            'ぎ' => 'き',
            'ぐ' => 'く',
            'げ' => 'け',
            'ご' => 'こ',
            'だ' => 'た',
            'ぢ' => 'ち',
            'づ' => 'つ',
            'で' => 'て',
            'ど' => 'と',
            _ => c,
        };
        out.push(if after_kanji { plain } else { c });
        after_kanji = is_kanji(c);
    }
    out
}

/// Where `fetch-model` puts the compiled dictionary.
pub fn default_path() -> PathBuf {
    ModelPaths::default().reading_dictionary()
}

/// Compiles the MeCab-format IPADIC sources in `source` (EUC-JP, as Debian ships them)
/// into `out`, unless a loadable dictionary is already there.
pub fn build(source: &Path, out: &Path, log: &mut dyn Write) -> Result<(), ReadingError> {
    if out.is_file() && Reader::load(out).is_ok() {
        return Ok(());
    }
    let bad = |reason: String| ReadingError::Source { path: source.display().to_string(), reason };
    let read = |name: &str| -> Result<String, ReadingError> {
        let path = source.join(name);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                bad(format!("{name} not found: install the Debian package mecab-ipadic"))
            }
            _ => ReadingError::Io(e),
        })?;
        let (text, _, malformed) = encoding_rs::EUC_JP.decode(&bytes);
        if malformed {
            return Err(bad(format!("{name} is not EUC-JP")));
        }
        Ok(text.into_owned())
    };
    let mut csvs: Vec<String> = std::fs::read_dir(source)
        .map_err(|e| bad(format!("{e}: install the Debian package mecab-ipadic")))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    csvs.sort();
    if csvs.is_empty() {
        return Err(bad("no lexicon .csv files: install the Debian package mecab-ipadic".into()));
    }
    // Only the pronunciation of kanji words is ever looked at: every other feature
    // is dropped, which halves the dictionary (48 MB to 21 MB, resident on a tablet).
    let mut lexicon = String::new();
    for name in &csvs {
        for (i, line) in read(name)?.lines().enumerate() {
            let cells: Vec<&str> = line.split(',').collect();
            let [surface, left, right, cost, features @ ..] = cells.as_slice() else {
                return Err(bad(format!("{name} line {}: fewer than 5 fields", i + 1)));
            };
            // IPADIC features: POS ×4, conjugation ×2, base form, reading, pronunciation.
            // The pronunciation writes long vowels with ー (体操 タイソー, not the
            // reading's タイソウ), as a recogniser writing kana does.
            let said = features.get(8).filter(|_| surface.chars().any(is_kanji)).unwrap_or(&"*");
            writeln!(lexicon, "{surface},{left},{right},{cost},{said}").expect("writing to a String");
        }
    }
    let (matrix, chars, unknown) = (read("matrix.def")?, read("char.def")?, read("unk.def")?);
    let dict = vibrato::SystemDictionaryBuilder::from_readers(
        lexicon.as_bytes(),
        matrix.as_bytes(),
        chars.as_bytes(),
        unknown.as_bytes(),
    )
    .map_err(|e| bad(e.to_string()))?;
    let mut bytes = Vec::new();
    dict.write(&mut bytes).map_err(|e| bad(e.to_string()))?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::model::write_whole(out, &bytes)?;
    writeln!(
        log,
        "fetch-model: reading dictionary (IPADIC, {} files) ready at {}",
        csvs.len(),
        out.display()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dictionary `fetch-model` built (setup runs it before the tests).
    fn reader() -> Arc<Reader> {
        Reader::shared().expect("run `dialect-model fetch-model` first")
    }

    #[test]
    fn kanji_words_are_read_as_said() {
        let r = reader();
        for (written, said) in [
            ("怖くて", "コワクて"),
            ("体操すねっけ", "タイソーすねっけ"),
            ("越すいでぇ", "コスいでぇ"),
            // Medial voicing undone for the analyser: 行 is イ(ク), not the noun クダリ.
            ("畑さ行がねず", "ハタケさイカねず"),
            ("コスいだくて、んだ。", "コスいだくて、んだ。"),
        ] {
            assert_eq!(r.kana(written), said, "{written}");
        }
    }

    #[test]
    fn short_kanji_words_keep_their_kanji() {
        let r = reader();
        assert_eq!(r.kana("歯いだくて"), "歯いだくて");
        assert_eq!(r.kana("動悸がする"), "動悸がする");
        assert_eq!(r.kana("手首"), "テクビ");
    }

    #[test]
    fn a_missing_dictionary_or_source_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.vibrato");
        assert!(matches!(Reader::load(&missing), Err(ReadingError::Missing { .. })));
        std::fs::write(&missing, b"not a dictionary").unwrap();
        let bad = Reader::load(&missing);
        assert!(matches!(bad, Err(ReadingError::Format { .. })), "{bad:?}");
        let err = build(dir.path(), &dir.path().join("out.vibrato"), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("mecab-ipadic"), "{err}");
        assert!(!dir.path().join("out.vibrato").exists());
    }
}
