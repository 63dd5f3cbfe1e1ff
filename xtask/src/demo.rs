//! `cargo xtask demo`: a whole morning on one machine with no hardware. An office
//! server on loopback with a resident whose My Number card is a virtual card in a
//! real pcscd, the kiosk enrolled to it, and a scripted resident whose answers are
//! synthesised speech fed through the real listening and recognition path.
//!
//! `--hardware` runs the kiosk against the real microphone, speaker and card reader
//! instead (the office is still the local one).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use sha2::Digest as _;

/// The scripted resident's answers, in Murayama dialect, one per question, then a
/// little of the small talk the tablet offers after the check-in.
const SCRIPT: &str = "\
# 今日の体の具合は？
元気だよ
# 昨夜はよく眠れましたか？
よぐ眠れだ
# ご飯はおいしく食べられていますか？
うまぐ食べでる
# 痛いところはありませんか？
いや、ねぇ
# 今日は体を動かしますか？
んだ
# ほかに、何か伝えたいことはありますか？
いや、ねぇ
# よかったら、少し、お話ししませんか？
んだ
# (the day's topic)
昔は、歩いて学校さ行ったっけなあ
# (the next turn): goodbye
またね
";

/// The staff PIN of the demo tablet (staff mode: touch 「職員が手続き」).
pub const DEMO_STAFF_PIN: &str = "2468";

pub fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let mut seconds: Option<f64> = None;
    let mut hardware = false;
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--seconds" => seconds = Some(rest.next().context("--seconds takes a number")?.parse()?),
            "--hardware" => hardware = true,
            other => bail!("unexpected {other:?}; usage: cargo xtask demo [--seconds N] [--hardware]"),
        }
    }
    crate::setup(
        root,
        &[
            "-p",
            "kiosk",
            "--bin",
            "kiosk",
            "-p",
            "backend",
            "-p",
            "virtual-mynumber-card",
            "-p",
            "dialect-model",
        ],
    )?;
    let bin = |name: &str| crate::target_dir(root).join("debug").join(name);
    let dir = root.join("target/demo");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;

    // The card: a real pcscd with the vpcd driver, and a virtual card whose PKI is
    // made now so the office can know the card before it is ever held to the reader.
    let pki = dir.join("pki");
    let pcscd = if hardware { None } else { start_pcscd() };
    let card_identity = if pcscd.is_some() {
        let first =
            tests::VirtualCardProcess::start(&["--pki-dir", &pki.to_string_lossy(), "--port", "35964"])?;
        tests::process::wait_until("the virtual card's PKI", Duration::from_secs(30), || {
            pki.join("auth.pem").exists()
        })?;
        // Out of the reader until the resident arrives.
        first.pull();
        Some(identity(&pki.join("auth.pem"))?)
    } else {
        None
    };

    // The office, with its own database and no weather fetch (no internet here).
    let port = tests::services::free_port()?;
    let config = dir.join("office.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\nescalation_interval_secs = 30\n\n[weather]\nenabled = false\n",
            dir.join("office.sqlite").display()
        ),
    )?;
    let mut add = Command::new(bin("backend"));
    add.args(["add-resident", "見守 花子", "上町"]);
    if let Some(id) = &card_identity {
        add.args(["--card", id]);
    }
    let out = add
        .arg("--config")
        .arg(&config)
        .stderr(Stdio::null())
        .output()
        .context("running backend add-resident")?;
    anyhow::ensure!(out.status.success(), "backend add-resident failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let code = stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix("enrol_code="))
        .context("backend add-resident printed no enrolment code")?
        .to_owned();
    let office_log = std::fs::File::create(dir.join("office.log"))?;
    let _office = tests::ChildGuard::spawn(
        "backend",
        Command::new(bin("backend")).arg(&config).stdout(office_log.try_clone()?).stderr(office_log),
    )?;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    tests::process::wait_until("the office server", Duration::from_secs(20), || {
        tests::services::healthy(addr)
    })?;
    eprintln!("xtask: office server at http://{addr}/ (dashboard users: `target/debug/backend add-user`)");

    // The kiosk.
    let script = dir.join("resident.txt");
    std::fs::write(&script, SCRIPT)?;
    let mut set_pin = Command::new(bin("kiosk"))
        .arg("--db")
        .arg(dir.join("kiosk.sqlite"))
        .arg("set-staff-pin")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("running kiosk set-staff-pin")?;
    {
        use std::io::Write as _;
        writeln!(set_pin.stdin.take().context("set-staff-pin's stdin")?, "{DEMO_STAFF_PIN}")?;
    }
    anyhow::ensure!(set_pin.wait()?.success(), "kiosk set-staff-pin failed");
    let mut kiosk = Command::new(bin("kiosk"));
    kiosk.arg("--db").arg(dir.join("kiosk.sqlite")).args([
        "--server",
        &format!("http://{addr}/"),
        "--enrol-code",
        &code,
        "--sync-poll-secs",
        "2",
    ]);
    if card_identity.is_some() {
        kiosk.arg("--card-trust").arg(&pki).arg("--scripted-resident").arg(&script);
    } else if !hardware {
        // No pcscd (not root?): the resident touches the screen instead of holding a card.
        kiosk.arg("--scripted-resident").arg(&script);
    }
    if let Some(s) = seconds {
        kiosk.args(["--exit-after", &s.to_string()]);
    }
    let kiosk_log = dir.join("kiosk.log");
    let log = std::fs::File::create(&kiosk_log)?;
    kiosk.stdout(log.try_clone()?).stderr(log).env("RUST_LOG", "info");
    let xvfb = if std::env::var_os("DISPLAY").is_none() {
        let x = tests::Xvfb::start()?;
        eprintln!(
            "xtask: no DISPLAY; the kiosk runs under Xvfb {} (screenshots in {})",
            x.display(),
            dir.display()
        );
        kiosk.env("DISPLAY", x.display()).env("SLINT_BACKEND", "winit-software");
        Some(x)
    } else {
        None
    };
    let mut kiosk = tests::ChildGuard::spawn("kiosk", &mut kiosk)?;
    eprintln!("xtask: kiosk log at {}", kiosk_log.display());
    // Once the tablet has its roster, the resident arrives: holds the card, or touches.
    tests::process::wait_until("the kiosk to enrol and sync", Duration::from_secs(60), || {
        kiosk.check_running().is_err() || log_has(&kiosk_log, "speech worker ready")
    })?;
    std::thread::sleep(Duration::from_secs(4));
    let _card = match &card_identity {
        Some(_) => {
            eprintln!("xtask: the resident holds the card to the reader");
            Some(tests::VirtualCardProcess::start(&["--pki-dir", &pki.to_string_lossy(), "--port", "35964"])?)
        }
        None => {
            if let Some(x) = &xvfb {
                eprintln!("xtask: the resident touches the screen");
                let _ = Command::new("xdotool")
                    .args(["mousemove", "640", "600", "click", "1"])
                    .env("DISPLAY", x.display())
                    .status();
            }
            None
        }
    };
    let started = Instant::now();
    let mut shot = 0;
    loop {
        std::thread::sleep(Duration::from_secs(2));
        if kiosk.check_running().is_err() {
            break;
        }
        if let Some(x) = &xvfb
            && let Ok(png) = x.screenshot_png()
        {
            shot += 1;
            std::fs::write(dir.join(format!("kiosk-{shot:03}.png")), &png)?;
            std::fs::write(dir.join("kiosk.png"), png)?;
        }
        if seconds.is_some_and(|s| started.elapsed().as_secs_f64() > s + 15.0) {
            bail!("the kiosk did not exit after --seconds");
        }
    }
    let status = kiosk.wait_timeout(Duration::from_secs(5))?;
    drop(pcscd);
    eprintln!("xtask: kiosk exited ({status}); {shot} screenshots in {}", dir.display());
    if !status.success() {
        bail!("kiosk exited with {status} (see {})", kiosk_log.display());
    }
    Ok(())
}

/// pcscd with vpcd, when this user may run it; `None` (touch instead of card) otherwise.
fn start_pcscd() -> Option<tests::pcscd::Pcscd> {
    match tests::pcscd::Pcscd::start() {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("xtask: no virtual card reader ({e:#}); the resident will touch the screen instead");
            None
        }
    }
}

/// The card's identity as the kiosk computes it: SHA-256 of its auth certificate (DER).
fn identity(pem: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(pem).with_context(|| format!("reading {}", pem.display()))?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der =
        base64::engine::general_purpose::STANDARD.decode(body).context("decoding the card certificate")?;
    Ok(sha2::Sha256::digest(&der).iter().map(|b| format!("{b:02x}")).collect())
}

fn log_has(path: &PathBuf, needle: &str) -> bool {
    std::fs::File::open(path)
        .map(|f| std::io::BufReader::new(f).lines().map_while(Result::ok).any(|l| l.contains(needle)))
        .unwrap_or(false)
}
