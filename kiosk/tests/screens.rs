//! Every screen, rendered by the software renderer at 1280×800, measured against the
//! accessibility numbers: text line boxes of a ≥ 32 px font, buttons ≥ 120 px tall,
//! contrast ≥ 7:1 between each text and what is behind it, at most three choices on
//! a resident's screen. Also checks that every font size in `ui/` comes from the theme.

use std::collections::HashMap;
use std::path::Path;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot as _};
use kiosk::AppWindow;
use kiosk::screens::{HEIGHT, WIDTH};

const MIN_TEXT_PX: f32 = 32.0;
/// A single line of BIZ UDGothic in Slint's renderer is exactly as tall as the font
/// size (measured: 36 px text → 36 px box, 56 → 56), so a box under 32 px is a font
/// under 32 px; wrapped text is taller, which the theme check below covers.
const MIN_LINE_BOX_PX: f32 = MIN_TEXT_PX;
const MIN_BUTTON_PX: f32 = 120.0;
const MIN_CONTRAST: f32 = 7.0;
const MAX_CHOICES: usize = 3;

/// WCAG 2 contrast ratio of two sRGB colours.
fn contrast(a: [u8; 3], b: [u8; 3]) -> f32 {
    fn lum(c: [u8; 3]) -> f32 {
        let ch = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.03928 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2])
    }
    let (la, lb) = (lum(a), lum(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Contrast between the commonest colour in the element's box (its background) and
/// the colour farthest from it that covers at least 1% of the box (its ink).
fn contrast_in(rgb: &[u8], e: &ElementHandle) -> Option<f32> {
    let p = e.absolute_position();
    let s = e.size();
    let (x0, y0) = (p.x.max(0.0) as u32, p.y.max(0.0) as u32);
    let (x1, y1) = (((p.x + s.width) as u32).min(WIDTH), ((p.y + s.height) as u32).min(HEIGHT));
    let mut counts = HashMap::<[u8; 3], u32>::new();
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * WIDTH + x) * 3) as usize;
            *counts.entry([rgb[i], rgb[i + 1], rgb[i + 2]]).or_default() += 1;
        }
    }
    let total: u32 = counts.values().sum();
    let (&bg, _) = counts.iter().max_by_key(|(_, n)| **n)?;
    counts
        .iter()
        .filter(|(c, n)| **c != bg && **n * 100 >= total)
        .map(|(c, _)| contrast(*c, bg))
        .reduce(f32::max)
}

#[derive(Debug, Default)]
struct Figures {
    texts: usize,
    smallest_line_box: f32,
    buttons: usize,
    smallest_button: f32,
    lowest_contrast: f32,
}

fn audit(window: &AppWindow, rgb: &[u8], name: &str, problems: &mut Vec<String>) -> Figures {
    let mut f = Figures {
        smallest_line_box: f32::MAX,
        smallest_button: f32::MAX,
        lowest_contrast: f32::MAX,
        ..Default::default()
    };
    let visible = |e: &ElementHandle| {
        let (s, p) = (e.size(), e.absolute_position());
        s.width > 1.0
            && s.height > 1.0
            && p.x < WIDTH as f32
            && p.y < HEIGHT as f32
            && e.computed_opacity() > 0.5
    };
    let all: Vec<ElementHandle> = window.root_element().query_descendants().find_all();
    for e in all.iter().filter(|e| visible(e)) {
        let label = e.accessible_label().unwrap_or_default();
        let is_text =
            e.type_name().as_deref() == Some("Text") || e.bases().is_some_and(|mut b| b.any(|t| t == "Text"));
        if is_text && !label.trim().is_empty() {
            f.texts += 1;
            let h = e.size().height;
            f.smallest_line_box = f.smallest_line_box.min(h);
            if h < MIN_LINE_BOX_PX {
                problems.push(format!("{name}: text 「{label}」 line box {h:.0}px < {MIN_LINE_BOX_PX:.0}px"));
            }
            if let Some(c) = contrast_in(rgb, e) {
                f.lowest_contrast = f.lowest_contrast.min(c);
                if c < MIN_CONTRAST {
                    problems.push(format!("{name}: text 「{label}」 contrast {c:.1}:1 < {MIN_CONTRAST}:1"));
                }
            }
        }
        if e.accessible_role() == Some(AccessibleRole::Button) {
            f.buttons += 1;
            let h = e.size().height;
            f.smallest_button = f.smallest_button.min(h);
            if h < MIN_BUTTON_PX {
                problems.push(format!("{name}: button 「{label}」 {h:.0}px tall < {MIN_BUTTON_PX}px"));
            }
        }
    }
    // Keypads and staff pages are input, not choices; the idle prompt is the screen
    // itself; the help button is on every screen, not one of the question's answers.
    if !name.starts_with("staff") && name != "signin-pin" {
        let choices = all
            .iter()
            .filter(|e| visible(e) && e.accessible_role() == Some(AccessibleRole::Button))
            .filter(|e| {
                e.accessible_label().is_some_and(|l| l != "カードをかざしてください" && l != "助けを呼ぶ")
            })
            .count();
        if choices > MAX_CHOICES {
            problems.push(format!("{name}: {choices} choices on a resident's screen > {MAX_CHOICES}"));
        }
    }
    f
}

#[test]
fn every_screen_meets_the_accessibility_numbers() {
    let care = Box::leak(Box::new(kiosk::flow::Care::load(dialect_model::data::dir()).unwrap()));
    let scratch = tempfile::tempdir().unwrap();
    let mut problems = vec![];
    let mut report = vec![];
    let shots = kiosk::screens::capture_all(care, scratch.path(), |window, shot| {
        let f = audit(window, &shot.rgb, &shot.name, &mut problems);
        report.push(format!("{:<18} {f:?}", shot.name));
    })
    .unwrap();
    println!("{}", report.join("\n"));
    assert!(shots.len() >= 15, "every screen is rendered");
    for name in [
        "idle",
        "medicine-question",
        "checkin-question",
        "exercise-guide",
        "exercise-stand",
        "chairstand-count",
        "news",
        "memory-day",
        "exercise-words",
        "memory-recall",
        "score",
        "safety",
        "staff-menu",
        "signin-pin",
    ] {
        let shot = shots.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name} rendered"));
        let distinct: std::collections::HashSet<&[u8]> = shot.rgb.chunks(3).collect();
        assert!(distinct.len() > 20, "{name} is drawn, not blank");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Regression guard: a `font-size` written as a literal in a view would bypass the
/// theme (and the resident's text size); every one must come from `Theme`.
#[test]
fn every_font_size_comes_from_the_theme() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut bad = vec![];
    for entry in std::fs::read_dir(&ui).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if let Some(value) = line.strip_prefix("font-size:")
                && !value.trim().starts_with("Theme.")
            {
                bad.push(format!("{}:{}: {line}", path.display(), n + 1));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let theme = std::fs::read_to_string(ui.join("theme.slint")).unwrap();
    for line in theme.lines().filter(|l| l.contains("-size: ") && l.contains("px")) {
        let px: f32 = line
            .split(':')
            .nth(1)
            .unwrap()
            .trim()
            .trim_end_matches(';')
            .split("px")
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(px >= MIN_TEXT_PX, "theme size below {MIN_TEXT_PX}px: {line}");
    }
}
