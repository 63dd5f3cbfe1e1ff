//! Every screen rendered without a display (Slint's software renderer into a buffer),
//! driving a real [`App`] through the states residents and staff see.
//!
//! Used by `kiosk screens --out DIR` (PNGs for review) and by the screen test, which
//! audits each state against the accessibility numbers while it is on screen.

use std::rc::Rc;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use slint::ComponentHandle as _;
use slint::Rgb8Pixel;
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};

use crate::AppWindow;
use crate::app::{App, Options, Report, Reporter};
use crate::flow::staff::StaffInput;
use crate::flow::{Campaign, Care, ExerciseInput, Input, SignInInput};

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 800;

/// One rendered screen.
#[derive(Debug, Clone)]
pub struct Shot {
    pub name: String,
    /// 8-bit RGB, row by row.
    pub rgb: Vec<u8>,
}

/// Why screens could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ScreensError {
    #[error("a Slint platform is already set on this thread")]
    Platform,
    #[error("the kiosk could not start: {0}")]
    Start(String),
    #[error("PNG encoding failed: {0}")]
    Png(String),
    /// The walk through the screens went astray: a shot would show another screen.
    #[error("the shot {shot} would show the {showing} screen")]
    Astray { shot: &'static str, showing: &'static str },
}

struct ShotPlatform {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for ShotPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
}

/// Renders and audits every screen, driving a real [`App`] (with no speech, card or
/// network) through the states a resident and staff see. Sets this thread's platform.
/// `inspect` sees the window and the picture of each state while it is on screen.
pub fn capture_all(
    care: &'static Care,
    scratch: &std::path::Path,
    mut inspect: impl FnMut(&AppWindow, &Shot),
) -> Result<Vec<Shot>, ScreensError> {
    let sw = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(ShotPlatform { window: sw.clone() }))
        .map_err(|_| ScreensError::Platform)?;
    sw.set_size(slint::PhysicalSize::new(WIDTH, HEIGHT));
    let window = AppWindow::new().map_err(|e| ScreensError::Start(e.to_string()))?;
    window.show().map_err(|e| ScreensError::Start(e.to_string()))?;
    let _clock = crate::idle::bind(&window, || "2026-12-14T07:05:00".parse().expect("literal"));

    let db = scratch.join("screens.sqlite");
    {
        let mut store = crate::store::Store::open(&db).map_err(|e| ScreensError::Start(e.to_string()))?;
        store
            .upsert_resident(
                &crate::store::Resident { id: crate::store::ResidentId(1), display_name: "山田".into() },
                None,
            )
            .map_err(|e| ScreensError::Start(e.to_string()))?;
        // Her contacts, as the office sends them, for the help screen.
        let settings = wire::ResidentSettingsBody {
            resident_id: 1,
            // Her check-in comes in the evening: the morning's shots start by hand.
            checkin_window: ["19:00".into(), "21:00".into()],
            grace_minutes: 60,
            contraindications: vec![],
            pauses: vec![],
            emergency_contacts: vec![
                wire::EmergencyContact {
                    name: "山田一郎".into(),
                    relation: "長男".into(),
                    phone: "090-1234-5678".into(),
                },
                wire::EmergencyContact {
                    name: "佐藤".into(),
                    relation: "隣人".into(),
                    phone: "0237-74-0000".into(),
                },
            ],
            pin_sign_in: false,
            memory_off: false,
            medicine: vec![wire::MedicineTime {
                slot: wire::Name::Known(wire::vocab::MedicineSlot::Morning),
                at: "07:00".into(),
            }],
            interests: vec!["盆栽".into()],
        };
        fn json(v: impl serde::Serialize) -> Result<serde_json::Value, ScreensError> {
            serde_json::to_value(v).map_err(|e| ScreensError::Start(e.to_string()))
        }
        let item =
            wire::PullItem { cursor: 1, kind: wire::PullKind::ResidentSettings, body: json(settings)? };
        // A piece of town news as long as the office takes, read after the check-in.
        let news = wire::AnnouncementBody {
            announcement_id: 1,
            message: "十二月十日の水曜日は、大井沢の診療所で、インフルエンザの予防接種をします。保険証と、お薬手帳を、持ってきてください。バスは、朝九時に、役場の前から出ます。帰りは、十一時半です。雪道なので、長ぐつで、ゆっくり来てください。わからないことは、役場の福祉係に、電話してください。"
                .into(),
            until: "2026-12-20".parse().expect("literal"),
            withdrawn: false,
        };
        let news = wire::PullItem { cursor: 2, kind: wire::PullKind::Announcement, body: json(news)? };
        store
            .apply_pull(&wire::PullResponse { items: vec![item, news], cursor: 2, more: false })
            .map_err(|e| ScreensError::Start(e.to_string()))?;
        // She has used the tablet since the first of the month: the weekly talk about
        // the day and three words is due.
        let progress = crate::store::Progress { habit_score: 10, active_days: 1 };
        store
            .record_exercise_done(
                crate::store::ResidentId(1),
                &["chair_squat".into()],
                5,
                "2026-12-01".parse().expect("literal"),
                progress,
                chrono::Utc::now(),
            )
            .map_err(|e| ScreensError::Start(e.to_string()))?;
    }
    let (tx, rx) = mpsc::channel::<Report>();
    let tx = std::sync::Mutex::new(tx);
    let reporter: Reporter = Arc::new(move |r| {
        if let Ok(t) = tx.lock() {
            let _ = t.send(r);
        }
    });
    let options = Options {
        db,
        speech: None,
        server: None,
        sync_poll: Duration::from_secs(30),
        staff_pin: Some(crate::staff_pin::hash("2468").expect("a four-digit PIN")),
        card_trust: None,
        db_max_bytes: None,
    };
    let now = "2026-12-14T07:05:00".parse().expect("literal");
    let app =
        App::start(&window, care, options, now, reporter).map_err(|e| ScreensError::Start(e.to_string()))?;
    let pump = |app: &App| {
        while let Ok(r) = rx.recv_timeout(Duration::from_millis(300)) {
            app.report(r);
        }
    };
    let mut shots = vec![];
    let mut shoot = |name: &'static str, app: &App| -> Result<(), ScreensError> {
        // Each shot's name starts with the screen it shows (`checkin-question`, and the
        // medicine question and small talk on the question screen).
        let showing = app.screen().name();
        let expected = match name {
            "medicine-question" | "news" | "news-page" | "smalltalk" | "chairstand-offer"
            | "chairstand-count" | "memory-day" | "memory-recall" => "checkin",
            _ => name.split('-').next().unwrap_or(name),
        };
        if showing != expected {
            return Err(ScreensError::Astray { shot: name, showing });
        }
        let shot = shoot(&sw, name);
        inspect(&window, &shot);
        shots.push(shot);
        Ok(())
    };
    pump(&app);
    // Drawn as a tablet that hears (no speech model is loaded here): the listening
    // light and its words are on the check-in screens.
    app.input(Input::Hearing(true));
    shoot("idle", &app)?;
    app.input(Input::CardReading);
    shoot("signin-reading", &app)?;
    app.input(Input::SignIn(SignInInput::Cancel));
    // A household of two: who is there, one name button each.
    app.input(Input::WhoIsThere(vec![(1, "山田".into()), (2, "佐藤".into())]));
    shoot("signin-who", &app)?;
    app.input(Input::SignIn(SignInInput::Cancel));
    app.input(Input::Touch);
    pump(&app);
    shoot("checkin-question", &app)?;
    app.input(Input::Answer(0));
    pump(&app);
    shoot("checkin-next", &app)?;
    app.input(Input::Heard(care::understanding::Understanding {
        intent: care::understanding::Intent::Pain,
        body_part: Some(care::understanding::BodyPart::Knee),
        confidence: 0.45,
        critical: false,
        danger: None,
        count: None,
        named: 0,
        last_named: None,
    }));
    pump(&app);
    shoot("checkin-confirm", &app)?;
    app.input(Input::Heard(care::understanding::Understanding::sure(care::understanding::Intent::NeedHelp)));
    pump(&app);
    shoot("checkin-help", &app)?;
    // 助けて: the help screen follows the call. No office here, so it is not sent:
    // after the patience it says so, with her contacts and 119.
    app.input(Input::Answer(0));
    pump(&app);
    shoot("help-sending", &app)?;
    app.input(Input::Tick("2026-12-14T07:06:00".parse().expect("literal")));
    pump(&app);
    shoot("help-unsent", &app)?;
    app.input(Input::HelpNews(Some(crate::flow::HelpNews {
        resident: 1,
        raised_at: "2026-12-14T07:05:00".parse().expect("literal"),
        delivered: true,
        refused: false,
        // The longest the office sends: a role and the name an admin gave the account.
        handler: Some("デジタル支援員の佐々木さん".into()),
        offline: false,
        contacts: vec![],
    })));
    shoot("help-taken-on", &app)?;
    app.input(Input::CloseHelp);
    pump(&app);
    // A fresh check-in to the plan and the guided session.
    app.input(Input::Staff(StaffInput::Enter));
    app.input(Input::Staff(StaffInput::Leave));
    app.input(Input::Touch);
    pump(&app);
    // Through the check-in, the town's news (shot at its question and at a page read
    // again), the small talk it offers (shot at its first turn), the monthly
    // chair-stand test's offer and its chair check, and on.
    let mut talk_shot = false;
    for _ in 0..20 {
        if app.screen() != crate::flow::Screen::Checkin {
            break;
        }
        if app.view().checkin.buttons == ["もういちど", "わかった"] {
            shoot("news", &app)?;
            // もういちど: its first page, shot while it is being said.
            app.input(Input::Answer(0));
            shoot("news-page", &app)?;
            pump(&app);
            continue;
        }
        if !talk_shot && app.view().checkin.buttons == ["つづける", "またね"] {
            shoot("smalltalk", &app)?;
            talk_shot = true;
        }
        if app.view().checkin.buttons == ["やってみる", "またこんど"] {
            shoot("chairstand-offer", &app)?;
        }
        if app.view().checkin.caption == care.script.memory.weekday {
            shoot("memory-day", &app)?;
        }
        app.input(Input::Answer(0));
        pump(&app);
    }
    // The test's 30 seconds, five of them gone; then the count, kept with これでよい.
    let second = |s: u32| Input::Tick(format!("2026-12-14T07:06:{s:02}").parse().expect("literal"));
    app.input(second(5));
    shoot("exercise-stand", &app)?;
    for s in [10, 20, 31] {
        app.input(second(s));
    }
    pump(&app);
    shoot("chairstand-count", &app)?;
    app.input(Input::Answer(2));
    pump(&app);
    shoot("exercise-plan", &app)?;
    app.input(Input::Exercise(ExerciseInput::Start));
    // Shot before the speech reports come back: the three words of the weekly talk,
    // then the first line of the session.
    shoot("exercise-words", &app)?;
    app.input(Input::SpeechDone);
    shoot("exercise-guide", &app)?;
    app.input(Input::Exercise(ExerciseInput::PauseResume));
    shoot("exercise-paused", &app)?;
    app.input(Input::Exercise(ExerciseInput::PauseResume));
    // Every line said: the session ends as it does at home.
    for _ in 0..1000 {
        if app.view().exercise.phase == "done" {
            break;
        }
        app.input(Input::SpeechDone);
    }
    pump(&app);
    shoot("exercise-done", &app)?;
    // できました: the three words' first cue, then each answered by its first button.
    app.input(Input::Exercise(ExerciseInput::Finish));
    shoot("memory-recall", &app)?;
    for _ in 0..3 {
        if app.screen() != crate::flow::Screen::Checkin {
            break;
        }
        app.input(Input::Answer(0));
    }
    app.input(Input::SpeechDone);
    pump(&app);
    shoot("score", &app)?;
    app.input(Input::CloseScore);
    app.input(Input::Campaign(Campaign { id: 7, message: "大雪警報が出ています。".into() }));
    pump(&app);
    shoot("safety", &app)?;
    app.input(Input::SafetyAnswer(true));
    pump(&app);
    shoot("safety-answered", &app)?;
    app.input(Input::CloseSafety);
    app.input(Input::SignIn(SignInInput::Staff));
    shoot("staff-pin", &app)?;
    for d in [2, 4, 6, 8] {
        app.input(Input::Staff(StaffInput::Digit(d)));
    }
    app.input(Input::Staff(StaffInput::Submit));
    pump(&app);
    shoot("staff-menu", &app)?;
    app.input(Input::Staff(StaffInput::Open("health".into())));
    pump(&app);
    shoot("staff-health", &app)?;
    app.input(Input::Staff(StaffInput::Open("settings".into())));
    pump(&app);
    shoot("staff-settings", &app)?;
    app.input(Input::Staff(StaffInput::Open("enrol".into())));
    shoot("staff-enrol", &app)?;
    app.input(Input::Staff(StaffInput::Open("menu".into())));
    app.input(Input::Staff(StaffInput::LinkCard));
    shoot("signin-pin", &app)?;
    // Back to the clock; her morning medicine time has come: the question, with はい／まだ.
    app.input(Input::SignIn(SignInInput::Cancel));
    app.input(Input::Staff(StaffInput::Leave));
    pump(&app);
    app.tick("2026-12-14T07:30:00".parse().expect("literal"));
    pump(&app);
    app.tick("2026-12-14T07:30:01".parse().expect("literal"));
    pump(&app);
    shoot("medicine-question", &app)?;
    Ok(shots)
}

fn shoot(sw: &MinimalSoftwareWindow, name: &str) -> Shot {
    let mut buffer = vec![Rgb8Pixel::default(); (WIDTH * HEIGHT) as usize];
    slint::platform::update_timers_and_animations();
    sw.request_redraw();
    sw.draw_if_needed(|renderer| {
        renderer.render(&mut buffer, WIDTH as usize);
    });
    let rgb: Vec<u8> = buffer.iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    Shot { name: name.to_string(), rgb }
}

/// Encodes a shot as PNG.
pub fn png(shot: &Shot) -> Result<Vec<u8>, ScreensError> {
    let mut out = vec![];
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| ScreensError::Png(e.to_string()))?;
    w.write_image_data(&shot.rgb).map_err(|e| ScreensError::Png(e.to_string()))?;
    drop(w);
    Ok(out)
}
