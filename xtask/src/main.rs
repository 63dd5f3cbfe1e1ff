//! `cargo xtask`: setup, demo, the full test run and tidy, for newcomers and CI.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use xtask::project_root;

mod demo;
mod package;

const USAGE: &str = "\
usage: cargo xtask <command>

  demo [--seconds N] [--hardware]
                      set up, then a morning with no hardware: an office server, a
                      virtual My Number card in pcscd, the kiosk enrolled to the office
                      and a scripted resident speaking through the real pipeline (under
                      a private Xvfb when there is no DISPLAY; screenshots and logs in
                      target/demo/); --hardware uses the microphone, speaker and reader
  test                set up, then cargo fmt --check, clippy -D warnings, all tests
  setup               install the Debian packages and models the project needs
  fetch-model         fetch, verify and convert the Whisper model (part of setup)
  tidy                check project rules (also part of `test`)
  dist                release binaries for tablets: no -march=native (target/dist/)
  package [--target aarch64-unknown-linux-gnu] [--deb-revision N]
                      the Debian packages mimamori-office and mimamori-tablet (with
                      the models, checked) in target/packages/; the aarch64 build uses
                      Debian's cross toolchain and is smoke-tested under qemu-user
  package-test        both packages installed into a fresh Debian root (debootstrap):
                      the office under its unit's command line, a tablet enrolled, a
                      check-in on the board, an upgrade with a check-in queued, TLS
                      through nginx, the tablet's tools with no checkout
  soak [--cycles N] [--fuzz N] [--seed S]
                      fault scenarios with the real kiosk-agent and backend through
                      the fault proxy (default 1000 cycles) plus malformed requests
                      (default 100000); prints created/stored/lost/duplicated
  plan-days [--days N]
                      N mornings (default 14) of check-ins and exercise through the
                      real kiosk and office, the tablet restarted each day with its
                      clock on that day; prints each day's plan and how long it took
";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("setup") => setup(&root, SPEECH_BIN),
        Some("test") => test(&root),
        Some("demo") => demo(&root, &args[1..]),
        Some("tidy") => tidy(&root),
        Some("fetch-model") => fetch_model(&root),
        Some("dist") => package::dist(&root),
        Some("package") => package::package(&root, &args[1..]),
        Some("package-test") => package::package_test(&root),
        Some("soak") => soak(&root, &args[1..]),
        Some("plan-days") => plan_days(&root, &args[1..]),
        _ => {
            eprint!("{USAGE}");
            bail!("unknown or missing command")
        }
    }
}

/// Set by `test`: every cargo it runs builds without incremental caches.
static ONE_SHOT_BUILD: AtomicBool = AtomicBool::new(false);

/// Runs a command from the project root, failing with its name if it fails.
fn run(root: &Path, program: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("xtask: {program} {}", args.join(" "));
    let mut cmd = Command::new(program);
    if ONE_SHOT_BUILD.load(Ordering::Relaxed) {
        cmd.env("CARGO_INCREMENTAL", "0");
    }
    let started = Instant::now();
    let status =
        cmd.args(args).current_dir(root).status().with_context(|| format!("cannot run {program}"))?;
    // Each stage's time, so a slow CI run shows where it went.
    let name = Path::new(program).file_name().map_or(program.into(), |n| n.to_string_lossy());
    let first = args.first().copied().unwrap_or("");
    eprintln!("xtask: {name} {first} took {} s", started.elapsed().as_secs());
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// What `setup` builds before fetching the model: only the speech binary.
const SPEECH_BIN: &[&str] = &["--package", "dialect-model", "--bin", "dialect-model"];
/// What `test` builds: every binary and test target, exactly the units (and cargo's
/// per-command feature resolution) of `cargo test --workspace`, so that the model fetch,
/// the harness's child processes and the test run share one build on disk.
const TEST_UNITS: &[&str] = &["--workspace", "--bins", "--tests"];

/// System packages (shell, before anything native can build), then `cargo build` with
/// `build` (which must include the dialect-model binary), then the speech model.
fn setup(root: &Path, build: &[&str]) -> anyhow::Result<()> {
    run(root, "bash", &["scripts/setup.sh"])?;
    let mut args = vec!["build", "--quiet"];
    args.extend_from_slice(build);
    run(root, &cargo(), &args)?;
    fetch_model(root)
}

fn fetch_model(root: &Path) -> anyhow::Result<()> {
    let exe = target_dir(root).join("debug/dialect-model");
    if !exe.is_file() {
        let mut args = vec!["build", "--quiet"];
        args.extend_from_slice(SPEECH_BIN);
        run(root, &cargo(), &args)?;
    }
    run(root, &exe.to_string_lossy(), &["fetch-model"])
}

fn target_dir(root: &Path) -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into)
}

fn test(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    // Incremental caches are for editing, not for one clean run: on a clean clone they
    // were 1.7 GB of a CI machine's disk.
    ONE_SHOT_BUILD.store(true, Ordering::Relaxed);
    let cargo = cargo();
    run(root, &cargo, &["fmt", "--all", "--check"])?;
    setup(root, TEST_UNITS)?;
    run(root, &cargo, &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    run(root, &cargo, &["test", "--workspace", "--no-fail-fast"])?;
    eprintln!("xtask: all checks passed in {:.0?}; {}", started.elapsed(), disk_use(&target_dir(root)));
    Ok(())
}

/// `du`'s size of the target directory, for the CI log.
fn disk_use(target: &Path) -> String {
    Command::new("du")
        .args(["-sh"])
        .arg(target)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().next().map(|size| format!("target/ holds {size}")))
        .unwrap_or_default()
}

fn tidy(root: &Path) -> anyhow::Result<()> {
    let violations = xtask::tidy::run(root)?;
    for v in &violations {
        eprintln!("tidy: {v}");
    }
    if !violations.is_empty() {
        bail!("{} tidy violation(s)", violations.len());
    }
    eprintln!("tidy: ok");
    Ok(())
}

fn demo(root: &Path, args: &[String]) -> anyhow::Result<()> {
    demo::run(root, args)
}

/// The soak: the end-to-end fault scenarios (tests/tests/e2e/soak.rs) at full size.
/// The scenarios live in the test binary, which has the backend and SQLite as
/// dev-dependencies; xtask only sizes and starts them, so it stays pure Rust.
fn soak(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let (mut cycles, mut fuzz, mut seed) = (1000u64, 100_000u64, None::<u64>);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} takes a number"))?;
        let n: u64 = value.parse().with_context(|| format!("{flag} takes a number, not {value:?}"))?;
        match flag.as_str() {
            "--cycles" => cycles = n,
            "--fuzz" => fuzz = n,
            "--seed" => seed = Some(n),
            _ => bail!("usage: cargo xtask soak [--cycles N] [--fuzz N] [--seed S]"),
        }
    }
    if cycles == 0 {
        bail!("--cycles must be at least 1");
    }
    let mut env =
        vec![("MIMAMORI_SOAK_CYCLES", cycles.to_string()), ("MIMAMORI_SOAK_FUZZ", fuzz.to_string())];
    env.extend(seed.map(|s| ("MIMAMORI_SEED", s.to_string())));
    eprintln!("xtask: soak: {cycles} cycles, {fuzz} malformed requests");
    run_e2e(root, "soak", SOAK_TEST, &env, "the table above says where")
}

/// Runs one test of the end-to-end binary at the size `env` sets, with its output
/// shown, and says how long it took.
fn run_e2e(
    root: &Path,
    name: &str,
    test: &str,
    env: &[(&str, String)],
    on_failure: &str,
) -> anyhow::Result<()> {
    let mut cmd = Command::new(cargo());
    cmd.args(["test", "--package", "tests", "--test", "e2e", "--", "--exact", test, "--nocapture"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(root);
    let started = Instant::now();
    let status = cmd.status().context("running cargo test")?;
    if !status.success() {
        bail!("{name} failed ({status}); {on_failure}");
    }
    eprintln!("xtask: {name} passed in {:.0?}", started.elapsed());
    Ok(())
}

const SOAK_TEST: &str = "soak::under_faults_nothing_is_lost_duplicated_or_leaked";

/// Mornings of plans through the real binaries (the journey CI runs for two mornings)
/// at full length: each day takes minutes of spoken check-in and guided exercise.
fn plan_days(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let days: u64 = match args {
        [] => 14,
        [flag, n] if flag == "--days" => {
            n.parse().with_context(|| format!("--days takes a number, not {n:?}"))?
        }
        _ => bail!("usage: cargo xtask plan-days [--days N]"),
    };
    if !(5..=28).contains(&days) {
        bail!("--days is 5 to 28");
    }
    eprintln!("xtask: plan-days: {days} mornings");
    run_e2e(
        root,
        "plan-days",
        PLAN_DAYS_TEST,
        &[("MIMAMORI_PLAN_DAYS", days.to_string())],
        "the lines above say which day",
    )
}

const PLAN_DAYS_TEST: &str =
    "journey::tablet_day::days_of_plans_through_the_binary_rise_after_good_days_and_fall_after_a_bad_one";
