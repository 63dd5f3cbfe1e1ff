//! Kiosk integration tests: the UI driven headless through Slint's testing backend
//! (by accessible labels, as a screen reader would), and the real binary's window
//! under a private Xvfb, screenshotted.

use std::cell::Cell;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use kiosk::{AppWindow, IdleAdapter};
use slint::ComponentHandle;
use tests::image::Rgb;

/// The idle screen invites the resident to hold the card, as one big button whose
/// default action (a touch) starts the check-in.
#[test]
fn idle_screen_prompt_is_a_big_button_that_starts() {
    i_slint_backend_testing::init_no_event_loop();
    let window = AppWindow::new().unwrap();
    window.window().set_size(slint::LogicalSize::new(1280.0, 800.0));
    let _clock = kiosk::idle::bind(&window, || "2026-11-28T07:05:00".parse().unwrap());
    let adapter = window.global::<IdleAdapter<'_>>();
    assert_eq!(adapter.get_time(), "7:05");
    assert_eq!(adapter.get_date(), "11月28日（土）");

    let started = Rc::new(Cell::new(0));
    adapter.on_start({
        let started = started.clone();
        move || started.set(started.get() + 1)
    });
    let buttons: Vec<ElementHandle> =
        ElementHandle::find_by_accessible_label(&window, "カードをかざしてください")
            .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
            .collect();
    let all: Vec<_> = ElementHandle::find_by_accessible_label(&window, "カードをかざしてください")
        .map(|e| (e.accessible_role(), e.type_name(), e.size()))
        .collect();
    assert_eq!(buttons.len(), 1, "{all:?}");
    let size = buttons[0].size();
    assert!(size.height >= 120.0, "button only {}px tall", size.height);
    buttons[0].invoke_accessible_default_action();
    assert_eq!(started.get(), 1);
}

/// The README's main command starts this binary; under Xvfb its window must show
/// the idle screen: a 1280×800 picture with the theme's background, the accent
/// button and anti-aliased text, not a blank or black frame.
#[test]
fn kiosk_window_under_xvfb_is_not_blank() {
    let xvfb = tests::Xvfb::start().unwrap();
    let db = tempfile::tempdir().unwrap();
    let mut kiosk = tests::ChildGuard::spawn(
        "kiosk",
        Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(["--exit-after", "60", "--no-voice", "--db"])
            .arg(db.path().join("kiosk.sqlite"))
            .env("DISPLAY", xvfb.display())
            .env("SLINT_BACKEND", "winit-software")
            .stdout(Stdio::null()),
    )
    .unwrap();
    tests::process::wait_until("the kiosk window", Duration::from_secs(30), || {
        kiosk.check_running().unwrap();
        xvfb.has_window("見守り")
    })
    .unwrap();
    // The window maps before its first frame is drawn: wait until the screen shows the
    // theme's accent colour (the prompt button), then judge the whole picture.
    let accent = [0x0b, 0x4f, 0x8a];
    let mut shot = None;
    tests::process::wait_until("the idle screen to be drawn", Duration::from_secs(20), || {
        let img = Rgb::decode_png(&xvfb.screenshot_png().unwrap()).unwrap();
        let drawn = img.pixels.iter().filter(|p| **p == accent).count() > 10_000;
        shot = Some(img);
        drawn
    })
    .unwrap();
    let img = shot.unwrap();
    assert_eq!((img.width, img.height), (1280, 800));
    let (background, ink) = img.background_and_ink();
    assert_eq!(background, [0xfd, 0xfa, 0xf3], "theme background should fill the screen");
    assert!(ink > 0.05, "only {:.1}% of the screen is drawn on", ink * 100.0);
    assert!(img.distinct_colours() > 30, "no anti-aliased text: {} colours", img.distinct_colours());
}
/// Set in a test's child process (see [`in_child_with`]).
const CHILD: &str = "KIOSK_TEST_CHILD";

/// Whether this process is a test's child, where the test body runs.
fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Re-runs test `name` in a child process with one more environment variable (for
/// settings that are process-wide: the PulseAudio server, pcscd's socket); true in
/// the child, where the test body runs.
fn in_child_with(name: &str, key: &str, value: &str) -> bool {
    if is_child() {
        return true;
    }
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env(key, value)
        .status()
        .unwrap();
    assert!(status.success(), "{name} failed in its child process");
    false
}

#[path = "audio.rs"]
mod audio;
#[path = "screens.rs"]
mod screens;
#[path = "store_sync.rs"]
mod store_sync;
#[path = "ui.rs"]
mod ui;
