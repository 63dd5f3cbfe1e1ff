//! The running kiosk: the controller on the UI thread, and the workers (speech,
//! store, card, sync) it drives. Workers report back through a [`Reporter`]; in the
//! app that hands each report to the Slint event loop (`upgrade_in_event_loop`), in
//! headless tests to a channel the test drains. The UI thread never waits on a worker.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDateTime, Timelike as _, Utc};
use slint::ComponentHandle as _;

use crate::AppWindow;
use crate::flow::pinpad::PinVerdict;
use crate::flow::staff::{PinCheck, Settings, StaffEffect, StaffInput};
use crate::flow::{Campaign, Care, Effect, Flow, Input, Record, Resident};
use crate::speech::{Part, SpeechCommand, SpeechConfig, SpeechReport, SpeechWorker};
use crate::store::{ResidentId, ResidentSettings, Store};

/// Something a worker tells the UI thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Flow(Input),
    Speech(SpeechReport),
    Sync(crate::sync::SyncStatus),
    /// A worker's trouble to show: (to the resident, gently; to staff, plainly).
    Trouble {
        resident: String,
        staff: String,
    },
    Reader(Part),
    /// The sync worker installed a newer dialect bundle (version, file).
    DialectBundle(u32, std::path::PathBuf),
    /// A card was identified (SHA-256 of its auth certificate, hex).
    Card(String),
}

/// How workers reach the UI thread.
pub type Reporter = Arc<dyn Fn(Report) + Send + Sync>;

/// The card worker's reports, as the app's.
fn card_reports(r: Reporter) -> crate::card::CardReporter {
    use crate::card::CardReport as C;
    Box::new(move |c| {
        r(match c {
            C::Reading => Report::Flow(Input::CardReading),
            C::Tries(tries) => Report::Flow(Input::CardTries(tries)),
            C::Identified(hex) => Report::Card(hex),
            C::Failed(why) => Report::Flow(Input::CardFailed(why)),
            C::Reader(part) => Report::Reader(part),
            C::Pin(verdict) => Report::Flow(Input::PinResult(verdict)),
        })
    })
}

/// Everything the kiosk needs to start.
#[derive(Debug, Clone)]
pub struct Options {
    pub db: PathBuf,
    pub speech: Option<SpeechConfig>,
    /// The office; `None` runs without sync (nothing is lost: the outbox waits).
    pub server: Option<crate::sync::Office>,
    pub sync_poll: Duration,
    /// The staff PIN's Argon2id hash (`kiosk set-staff-pin` writes it); `None`:
    /// staff mode stays shut.
    pub staff_pin: Option<String>,
    /// CA certificates (DER) the card's auth certificate must chain to; `None` = no reader.
    pub card_trust: Option<Vec<Vec<u8>>>,
    /// A size limit for the local store (a small partition; tests of a full disk).
    pub db_max_bytes: Option<u64>,
}

/// Health as the workers last reported it, for the staff page and the heartbeat.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub microphone: Option<Part>,
    pub speaker: Option<Part>,
    pub recogniser: Option<Part>,
    pub reader: Option<Part>,
    pub sync: Option<crate::sync::SyncStatus>,
    pub store: Option<String>,
    /// The dialect bundle in use: `Some(None)` = the built-in one.
    pub dialect: Option<Option<u32>>,
}

type StoreJob = Box<dyn FnOnce(&mut Store) + Send>;

/// The store's own thread: every write (and the outbox with it) happens here.
#[derive(Debug)]
pub struct StoreWorker {
    tx: Sender<StoreJob>,
}

impl StoreWorker {
    pub fn spawn(store: Store) -> Self {
        let (tx, rx) = mpsc::channel::<StoreJob>();
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                let mut store = store;
                while let Ok(job) = rx.recv() {
                    job(&mut store);
                }
            })
            .expect("spawning the store thread");
        Self { tx }
    }

    pub fn run(&self, job: impl FnOnce(&mut Store) + Send + 'static) {
        let _ = self.tx.send(Box::new(job));
    }
}

/// The kiosk on the UI thread.
pub struct App {
    flow: RefCell<Flow<'static>>,
    window: slint::Weak<AppWindow>,
    care: &'static Care,
    options: Options,
    speech: Option<SpeechWorker>,
    store: StoreWorker,
    card: Option<crate::card::CardWorker>,
    sync: RefCell<Option<crate::sync::SyncHandle>>,
    health: Arc<Mutex<Health>>,
    /// The weather last handed to the controller (only changes are sent on).
    last_weather: Arc<Mutex<Option<(care::weather::Weather, String)>>>,
    /// The minute the check-in schedule was last read.
    schedule_read: std::cell::Cell<Option<NaiveDateTime>>,
    /// What the screen showed when last logged.
    on_screen: std::cell::Cell<Option<OnScreen>>,
    reporter: Reporter,
}

/// What is on screen, in words that name no one: the view, the help and exercise
/// phases, how many contacts and choices are shown and whether 119 is. Logged on every
/// change, so the journal tells support (and the end-to-end tests) what the resident
/// saw, without a caption, a name or an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OnScreen {
    screen: crate::flow::Screen,
    help: &'static str,
    exercise: &'static str,
    contacts: usize,
    call_119: bool,
    choices: usize,
}

impl OnScreen {
    fn of(screen: crate::flow::Screen, v: &crate::flow::View) -> Self {
        use crate::flow::Screen as S;
        let on = |s: S| screen == s;
        Self {
            screen,
            help: if on(S::Help) { v.help.phase } else { "" },
            exercise: if on(S::Exercise) { v.exercise.phase } else { "" },
            contacts: if on(S::Help) { v.help.contacts.len() } else { 0 },
            call_119: on(S::Help) && v.help.show_119,
            choices: match screen {
                S::SignIn => v.signin.names.len(),
                S::Checkin => v.checkin.buttons.len(),
                _ => 0,
            },
        }
    }

    fn log(self) {
        tracing::info!(
            screen = self.screen.name(),
            help = self.help,
            exercise = self.exercise,
            contacts = self.contacts,
            call_119 = self.call_119,
            choices = self.choices,
            "on screen"
        );
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("screen", &self.flow.borrow().screen()).finish_non_exhaustive()
    }
}

impl App {
    /// Starts the workers and binds the window. `reporter` must deliver each report
    /// to [`App::report`] on the UI thread.
    pub fn start(
        window: &AppWindow,
        care: &'static Care,
        options: Options,
        now: NaiveDateTime,
        reporter: Reporter,
    ) -> anyhow::Result<Rc<App>> {
        use anyhow::Context as _;
        let (store, moved) = Store::open_or_recover(&options.db)
            .with_context(|| format!("opening the local store {}", options.db.display()))?;
        let health = Arc::new(Mutex::new(Health::default()));
        if let Some(moved) = moved {
            tracing::error!(moved_to = %moved.display(), "local store was corrupt; a fresh one was made");
            health.lock().expect("health").store =
                Some(format!("端末のデータが壊れていたため、新しく作り直しました（{}）", moved.display()));
        }
        let store = match options.db_max_bytes {
            Some(limit) => {
                drop(store);
                Store::open_with_limit(&options.db, Some(limit))
                    .with_context(|| format!("opening the local store {}", options.db.display()))?
            }
            None => store,
        };
        let installed = store.installed_dialect_bundle().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the installed dialect bundle");
            None
        });
        let store = StoreWorker::spawn(store);
        let speech = options.speech.clone().map(|mut config| {
            config.dialect_bundle = installed.map(|(_, path)| path);
            let r = reporter.clone();
            SpeechWorker::spawn(config, move |s| r(Report::Speech(s)))
        });
        let card = options
            .card_trust
            .clone()
            .map(|trust| crate::card::CardWorker::spawn(trust, card_reports(reporter.clone())));
        if options.card_trust.is_none() {
            health.lock().expect("health").reader =
                Some(Part::Missing("カード読み取り機を使わない設定です".into()));
        }
        let app = Rc::new(App {
            flow: RefCell::new(Flow::new(care, now)),
            window: window.as_weak(),
            care,
            options,
            speech,
            store,
            card,
            sync: RefCell::new(None),
            health,
            last_weather: Arc::new(Mutex::new(None)),
            schedule_read: std::cell::Cell::new(None),
            on_screen: std::cell::Cell::new(None),
            reporter,
        });
        app.start_sync();
        let weak = Rc::downgrade(&app);
        crate::views::bind(window, move |input| {
            if let Some(app) = weak.upgrade() {
                app.input(input);
            }
        });
        app.input(Input::Hearing(app.speech.is_some()));
        app.render();
        app.refresh_notice();
        app.office_news();
        app.read_help();
        app.read_watch();
        Ok(app)
    }

    fn start_sync(&self) {
        let Some(server) = self.options.server.clone() else { return };
        let mut config = crate::sync::SyncConfig::new(server, self.options.db.clone());
        config.poll = self.options.sync_poll;
        let r = self.reporter.clone();
        config.bundles = Some(crate::sync::BundleSink {
            dir: self.options.db.parent().unwrap_or(std::path::Path::new(".")).join("dialect-bundles"),
            installed: Arc::new(move |version, path| r(Report::DialectBundle(version, path.to_path_buf()))),
        });
        let health = self.health.clone();
        let part = |p: &Option<Part>| match p {
            Some(Part::Ok) => wire::PartHealth::Ok,
            Some(Part::Missing(_)) => wire::PartHealth::Missing,
            Some(Part::Faulty(_)) => wire::PartHealth::Faulty,
            None => wire::PartHealth::Unknown,
        };
        let r = self.reporter.clone();
        match crate::sync::SyncHandle::spawn(
            config,
            move || {
                let h = health.lock().map(|h| h.clone()).unwrap_or_default();
                crate::sync::DeviceHealth {
                    microphone: part(&h.microphone),
                    reader: part(&h.reader),
                    speaker: part(&h.speaker),
                    dialect_in_use: h.dialect,
                }
            },
            move |status| r(Report::Sync(status)),
        ) {
            Ok(handle) => *self.sync.borrow_mut() = Some(handle),
            Err(e) => tracing::error!(error = %e, "cannot start the sync worker"),
        }
    }

    /// The controller's current screen (tests).
    pub fn screen(&self) -> crate::flow::Screen {
        self.flow.borrow().screen()
    }

    /// A copy of the view model (tests).
    pub fn view(&self) -> crate::flow::View {
        self.flow.borrow().view().clone()
    }

    /// One report from a worker, on the UI thread.
    pub fn report(&self, report: Report) {
        match report {
            Report::Flow(input) => {
                // The resident's own volume, speech rate and text size, as soon as known.
                if let Input::Staff(StaffInput::Loaded(Some((_, settings)))) = &input {
                    self.apply_settings(settings);
                }
                self.input(input)
            }
            Report::Speech(s) => match s {
                SpeechReport::Done => self.input(Input::SpeechDone),
                SpeechReport::Heard(u) => self.input(Input::Heard(u)),
                SpeechReport::Silence => self.input(Input::Silence),
                SpeechReport::Health { microphone, speaker, recogniser } => {
                    tracing::info!(
                        recogniser = recogniser == Part::Ok,
                        microphone = microphone == Part::Ok,
                        speaker = speaker == Part::Ok,
                        "speech worker ready"
                    );
                    if let Ok(mut h) = self.health.lock() {
                        h.microphone = Some(microphone);
                        h.speaker = Some(speaker);
                        h.recogniser = Some(recogniser);
                    }
                    self.refresh_notice();
                }
                SpeechReport::Test(text) => self.input(Input::Staff(StaffInput::TestResult(text))),
                SpeechReport::ReplyLatency(d) => {
                    tracing::info!(reply_latency_ms = d.as_millis() as u64, "reply latency");
                }
                SpeechReport::Dialect(version) => {
                    if let Ok(mut h) = self.health.lock() {
                        h.dialect = Some(version);
                    }
                }
            },
            Report::DialectBundle(version, path) => {
                tracing::info!(version, "dialect bundle arrived");
                if let Some(speech) = &self.speech {
                    speech.send(SpeechCommand::UseDialectBundle(path));
                }
            }
            Report::Sync(status) => {
                let news = matches!(status, crate::sync::SyncStatus::Online { pulled: 1.., .. });
                if let Ok(mut h) = self.health.lock() {
                    h.sync = Some(status);
                }
                self.refresh_notice();
                if news {
                    self.office_news();
                }
                // After every round: a call for help may have arrived, failed to, or
                // been taken on.
                self.read_help();
            }
            Report::Trouble { resident, staff } => {
                tracing::warn!(trouble = %staff, "worker trouble");
                if let Ok(mut h) = self.health.lock() {
                    h.store = Some(staff);
                }
                self.input(Input::Notice(resident));
            }
            Report::Card(hex) => {
                let r = self.reporter.clone();
                let care = self.care;
                self.store.run(move |store| {
                    let found = store.resident_by_card(&hex).ok().flatten();
                    r(Report::Flow(Input::CardRead(sign_in(store, care, &r, found), hex)));
                });
            }
            Report::Reader(part) => {
                if let Ok(mut h) = self.health.lock() {
                    h.reader = Some(part);
                }
            }
        }
    }

    /// The gentle line at the top of the screen: nothing when all is well.
    fn refresh_notice(&self) {
        let h = self.health.lock().map(|h| h.clone()).unwrap_or_default();
        self.input(Input::Notice(resident_notice(&h)));
    }

    /// Feeds the controller and carries out what it asks.
    pub fn input(&self, input: Input) {
        let effects = self.flow.borrow_mut().handle(input);
        for effect in effects {
            self.effect(effect);
        }
        self.render();
    }

    fn render(&self) {
        let flow = self.flow.borrow();
        if let Some(w) = self.window.upgrade() {
            crate::views::render(&w, flow.view());
        }
        let shown = OnScreen::of(flow.screen(), flow.view());
        if self.on_screen.replace(Some(shown)) != Some(shown) {
            shown.log();
        }
    }

    /// Advances the controller's clock (once a second or so).
    pub fn tick(&self, now: NaiveDateTime) {
        let minute = now.with_second(0).unwrap_or(now);
        if self.schedule_read.replace(Some(minute)) != Some(minute) {
            self.read_schedule(now);
        }
        self.input(Input::Tick(now));
    }

    /// Reads the household's check-in schedules (window, pause, today's check-in, the
    /// office's re-prompt) and hands them to the controller, which starts a check-in
    /// when one is due.
    fn read_schedule(&self, now: NaiveDateTime) {
        use chrono::TimeZone as _;
        let r = self.reporter.clone();
        let at = chrono::Local
            .from_local_datetime(&now)
            .earliest()
            .map_or_else(Utc::now, |t| t.with_timezone(&Utc));
        self.store.run(move |store| {
            let Ok(residents) = store.residents() else { return };
            let due = residents
                .into_iter()
                .map(|res| {
                    let id = res.id;
                    let done_today = store
                        .checkins_since(id, now.date())
                        .map_or(true, |cs| cs.iter().any(|c| c.outcome != care::record::Outcome::NoAnswer));
                    crate::flow::Due {
                        resident: id.0,
                        window: store.office_settings(id).ok().flatten().map(|o| o.checkin_window),
                        // Unknown is a pause: a tablet that cannot read its store does not nag.
                        paused: store.paused_at(id, at).unwrap_or(true),
                        done_today,
                        reprompt: store.pending_reprompt(id).ok().flatten() == Some(now.date()),
                        reprompt_unasked: store.reprompt_unasked(id, now.date()).unwrap_or(false),
                        asked: store.asks_on(id, now.date()).unwrap_or_default(),
                    }
                })
                .collect();
            r(Report::Flow(Input::Schedule(due)));
            if let Ok(medicine) = store.medicine_today(now.date()) {
                r(Report::Flow(Input::Medicine(medicine)));
            }
        });
    }

    /// Reads what the office sent down (the weather, an open campaign) from the store
    /// once and hands the controller what changed: at start, and when a sync round
    /// applied new items.
    pub fn office_news(&self) {
        let r = self.reporter.clone();
        let last_weather = self.last_weather.clone();
        self.store.run(move |store| {
            let weather = store
                .latest_weather()
                .ok()
                .flatten()
                .map(|r| (crate::store::care_weather(&r), r.weather_text.clone()));
            if let Ok(mut last) = last_weather.lock()
                && *last != weather
            {
                last.clone_from(&weather);
                r(Report::Flow(Input::Weather(weather)));
            }
            if let Ok(campaigns) = store.open_campaigns()
                && let Some(c) = campaigns.into_iter().find(|c| !c.closed)
            {
                r(Report::Flow(Input::Campaign(Campaign { id: c.campaign_id, message: c.message })));
            }
        });
    }

    /// Reads where the newest call for help is and hands it to the controller: which
    /// the office has, which it took on, and whether the office can be reached now.
    pub fn read_help(&self) {
        let r = self.reporter.clone();
        let offline = self
            .health
            .lock()
            .map(|h| matches!(h.sync, Some(crate::sync::SyncStatus::Offline { .. })))
            .unwrap_or(false);
        let since = self.flow.borrow().now() - crate::flow::HELP_REMEMBERED;
        self.store.run(move |store| match store.help_progress(since) {
            Ok(progress) => r(Report::Flow(Input::HelpNews(progress.map(|p| help_news(p, offline))))),
            Err(e) => tracing::warn!(error = %e, "cannot read the call for help"),
        });
    }

    /// Reads whether a snow watch was running when the tablet stopped, and hands it
    /// to the controller with its resident.
    fn read_watch(&self) {
        let (r, care) = (self.reporter.clone(), self.care);
        let since = self.flow.borrow().now() - crate::flow::WATCH_REMEMBERED;
        self.store.run(move |store| {
            let running = match store.running_snow_watch(since) {
                Ok(w) => w,
                Err(e) => return tracing::warn!(error = %e, "cannot read the snow watch"),
            };
            let Some(w) = running else { return };
            let found = resident_by_id(store, w.resident);
            if let Some(resident) = sign_in(store, care, &r, found) {
                r(Report::Flow(Input::WatchResumed(resident, w.started_at, w.armed_at)));
            }
        });
    }

    fn speak(&self, command: SpeechCommand) {
        match &self.speech {
            Some(s) => s.send(command),
            None => {
                // No speech at all: captions carry everything; the conversation goes on.
                if matches!(command, SpeechCommand::Say { .. }) {
                    (self.reporter)(Report::Speech(SpeechReport::Done));
                }
            }
        }
    }

    fn effect(&self, effect: Effect) {
        match effect {
            Effect::Say { lines, slow } => self.speak(SpeechCommand::Say { lines, slow }),
            Effect::StopSpeaking => self.speak(SpeechCommand::Stop),
            Effect::Listen(q) => self.speak(SpeechCommand::Listen(q)),
            Effect::Expect(choices) => self.speak(SpeechCommand::Expect(choices)),
            Effect::StopListening => self.speak(SpeechCommand::StopListening),
            Effect::Record(record) => self.record(record),
            Effect::SyncNow => {
                // Through the store's queue: the nudge lands after the commit of the
                // record before it, or the round would find nothing to send.
                if let Some(nudger) = self.sync.borrow().as_ref().map(|s| s.nudger()) {
                    self.store.run(move |_| nudger.nudge());
                }
            }
            Effect::StrongSignIn { digits } => match &self.card {
                Some(card) => card.strong_sign_in(digits),
                None => {
                    self.input(Input::PinResult(PinVerdict::Failed("カード読み取り機がありません".into())))
                }
            },
            Effect::FindHousehold => {
                let r = self.reporter.clone();
                let care = self.care;
                self.store.run(move |store| {
                    let found = household(store);
                    r(Report::Flow(Input::Household(sign_in(store, care, &r, found))));
                });
            }
            Effect::WhoIsThere => {
                let r = self.reporter.clone();
                let care = self.care;
                self.store.run(move |store| match store.residents() {
                    Ok(all) if all.len() >= 2 => r(Report::Flow(Input::WhoIsThere(
                        all.into_iter().map(|x| (x.id.0, x.display_name)).collect(),
                    ))),
                    Ok(all) => {
                        r(Report::Flow(Input::Household(sign_in(store, care, &r, all.into_iter().next()))))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the household");
                        r(Report::Flow(Input::Household(None)));
                    }
                });
            }
            Effect::SignInResident(id) => {
                let r = self.reporter.clone();
                let care = self.care;
                self.store.run(move |store| {
                    let found = resident_by_id(store, ResidentId(id));
                    r(Report::Flow(Input::Household(sign_in(store, care, &r, found))));
                });
            }
            Effect::Chime => {
                // `xset` off the UI thread: the window never waits for it.
                std::thread::spawn(wake_screen);
                self.speak(SpeechCommand::Chime);
            }
            Effect::ReadHelp => self.read_help(),
            Effect::Staff(s) => self.staff_effect(s),
        }
    }

    fn record(&self, record: Record) {
        let r = self.reporter.clone();
        self.store.run(move |store| {
            let now = Utc::now();
            // What each kept: an outbox event, or (a plan) local state only.
            let result: Result<(), crate::store::StoreError> = match &record {
                Record::Care { resident, event } => {
                    store.record_care_event(ResidentId(*resident), event, now).map(drop)
                }
                Record::ExerciseDone { resident, exercise_ids, minutes, on, progress } => store
                    .record_exercise_done(ResidentId(*resident), exercise_ids, *minutes, *on, *progress, now)
                    .map(drop),
                Record::SafetyAnswer { resident, campaign, needs_help } => {
                    let reply =
                        if *needs_help { wire::SafetyReply::NeedsHelp } else { wire::SafetyReply::Safe };
                    store.record_safety_answer(ResidentId(*resident), *campaign, reply, now).map(drop)
                }
                Record::Plan { resident, plan } => store.save_plan(ResidentId(*resident), plan),
                Record::Asked { residents, at } => {
                    let ids: Vec<ResidentId> = residents.iter().map(|r| ResidentId(*r)).collect();
                    store.record_asks(&ids, *at)
                }
                Record::Talked { resident, topic, day } => {
                    store.record_talk(ResidentId(*resident), topic, *day)
                }
                Record::MedicineAsked { resident, slot, at } => {
                    store.record_medicine_ask(ResidentId(*resident), *slot, *at)
                }
                Record::Medicine { resident, day, slot, kept } => {
                    store.record_medicine(ResidentId(*resident), *day, *slot, *kept, now).map(drop)
                }
                Record::StandOffered { resident, day } => {
                    store.record_stand_offer(ResidentId(*resident), *day)
                }
                Record::ChairStand { resident, day, count } => {
                    store.record_chair_stand(ResidentId(*resident), *day, *count, now).map(drop)
                }
                Record::MemoryAsked { resident, day } => {
                    store.record_memory_asked(ResidentId(*resident), *day)
                }
                Record::MemoryNoted { resident, day, part, right, of } => {
                    store.record_memory_noted(ResidentId(*resident), *day, *part, *right, *of, now).map(drop)
                }
                Record::MoodNoted { resident, day, mood } => {
                    store.record_mood_noted(ResidentId(*resident), *day, *mood, now).map(drop)
                }
                Record::NewsHeard { resident, announcement } => {
                    store.record_news_heard(ResidentId(*resident), *announcement, now).map(drop)
                }
                Record::CardLink { resident, identity_hex } => {
                    store.record_card_link_request(ResidentId(*resident), identity_hex, now).map(drop)
                }
                Record::Misunderstanding { question, understood, confidence, chosen, .. } => {
                    let body = wire::MisunderstandingBody {
                        question: (*question).into(),
                        understood: (*understood).into(),
                        confidence: *confidence,
                        chosen: chosen.map(Into::into),
                    };
                    store.record_misunderstanding(&body, now).map(drop)
                }
            };
            if let Err(e) = result {
                let resident = match e {
                    crate::store::StoreError::Full => "記録する場所がいっぱいです。職員にお知らせください",
                    _ => "記録がうまくいきませんでした。職員にお知らせください",
                };
                r(Report::Trouble {
                    resident: resident.into(), staff: format!("記録できません: {e}")
                });
            }
        });
    }

    fn staff_effect(&self, effect: StaffEffect) {
        let r = self.reporter.clone();
        match effect {
            StaffEffect::CheckPin { entry } => {
                let Some(phc) = self.options.staff_pin.clone() else {
                    return self.input(Input::Staff(StaffInput::PinChecked(PinCheck::NotSet)));
                };
                // Argon2 and the lockout's count, on the store's thread (not the UI's).
                self.store.run(move |store| {
                    let verdict = crate::staff_pin::check(store, &entry, &phc, chrono::Utc::now());
                    r(Report::Flow(Input::Staff(StaffInput::PinChecked(verdict))));
                });
            }
            StaffEffect::Enrol { code } => {
                let Some(server) = self.options.server.clone() else {
                    return self.input(Input::Staff(StaffInput::Enrolled(Err(
                        "事務所のアドレスが設定されていません".into(),
                    ))));
                };
                let db = self.options.db.clone();
                std::thread::spawn(move || {
                    let result =
                        crate::sync::enrol(&server, &code, &db).map(|_| ()).map_err(|e| e.to_string());
                    r(Report::Flow(Input::Staff(StaffInput::Enrolled(result))));
                });
            }
            StaffEffect::SaveSettings { resident, settings } => {
                self.apply_settings(&settings);
                self.store.run(move |store| {
                    let s = ResidentSettings {
                        volume: settings.volume,
                        speech_rate: settings.speech_rate,
                        text_scale: settings.text_scale,
                        voice: settings.voice,
                    };
                    if let Err(e) = store.save_settings(ResidentId(resident), &s) {
                        r(Report::Trouble {
                            resident: String::new(),
                            staff: format!("設定を保存できません: {e}"),
                        });
                    }
                });
            }
            StaffEffect::LoadSettings => {
                self.store.run(move |store| {
                    let loaded = household(store)
                        .and_then(|res| store.settings(res.id).ok().map(|s| (res.id.0, to_settings(&s))));
                    r(Report::Flow(Input::Staff(StaffInput::Loaded(loaded))));
                });
            }
            StaffEffect::TestMicrophone => self.speak(SpeechCommand::TestMicrophone),
            StaffEffect::TestSpeaker => self.speak(SpeechCommand::TestSpeaker),
            StaffEffect::Preview => self.speak(SpeechCommand::Say {
                lines: vec!["この声と速さで、お話しします。".to_owned()],
                slow: false,
            }),
            StaffEffect::RefreshHealth => {
                let h = self.health.lock().map(|h| h.clone()).unwrap_or_default();
                self.store.run(move |store| {
                    let mut lines = health_lines(&h);
                    if let Ok(f) = store.figures() {
                        lines.push(format!(
                            "送信待ち: {}件（送れなかった記録: {}件）",
                            f.outbox_len, f.dead_letter_len
                        ));
                    }
                    if let Some(free) = store.free_storage_mib() {
                        lines.push(format!("空き容量: {free} MB"));
                    }
                    r(Report::Flow(Input::Staff(StaffInput::Health(lines))));
                });
            }
        }
    }

    /// Applies a resident's settings to the screen and the voice.
    fn apply_settings(&self, s: &Settings) {
        self.input(Input::TextScale(s.text_scale));
        self.speak(SpeechCommand::Configure { volume: s.volume, speed: s.speech_rate, voice: s.voice });
    }
}

fn to_settings(s: &ResidentSettings) -> Settings {
    Settings { volume: s.volume, speech_rate: s.speech_rate, text_scale: s.text_scale, voice: s.voice }
}

/// The household's resident (a tablet serves one household; the first on its roster).
/// The roster entry of `id`, if the tablet has it.
fn resident_by_id(store: &Store, id: ResidentId) -> Option<crate::store::Resident> {
    store.residents().ok().and_then(|rs| rs.into_iter().find(|x| x.id == id))
}

fn household(store: &Store) -> Option<crate::store::Resident> {
    store.residents().ok().and_then(|rs| rs.into_iter().next())
}

/// A resident signing in (by card or touch): what the controller needs, with their
/// settings reported first so the screen and voice are theirs from the greeting on.
fn sign_in(
    store: &Store,
    care: &Care,
    report: &Reporter,
    found: Option<crate::store::Resident>,
) -> Option<Resident> {
    let resident = found.map(|r| load_resident(store, care, r))?;
    if let Ok(s) = store.settings(ResidentId(resident.id)) {
        report(Report::Flow(Input::Staff(StaffInput::Loaded(Some((resident.id, to_settings(&s)))))));
    }
    Some(resident)
}

/// Loads what the controller needs about a resident: name and 5 weeks of history.
pub fn load_resident(store: &Store, care: &Care, r: crate::store::Resident) -> Resident {
    let since = chrono::Local::now().date_naive() - chrono::Days::new(35);
    let history = store.day_records(r.id, since, &care.catalogue).unwrap_or_default();
    let pin_sign_in = store.pin_sign_in(r.id).unwrap_or_else(|e| {
        // Unknown is asked: a PIN asked once too often costs less than one skipped.
        tracing::warn!(error = %e, "cannot read the sign-in rule; asking for the PIN");
        true
    });
    // The office's contraindications reach the planner; unreadable, the defaults plan
    // nothing a contraindication would forbid that staff did not enter.
    let profile = store.planner_profile(r.id).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read the office's settings for the planner");
        Default::default()
    });
    let talked = store.talks(r.id).unwrap_or_default();
    let interests = store.interests(r.id).unwrap_or_default();
    let stand = store.chair_stand_days(r.id).unwrap_or_else(|e| {
        // Unknown, the test may be offered again early: a month's rule, not a safety one.
        tracing::warn!(error = %e, "cannot read the last chair-stand test");
        Default::default()
    });
    let news = store.unheard_news(r.id).unwrap_or_else(|e| {
        // Unread, the news waits for the next check-in: nothing is lost.
        tracing::warn!(error = %e, "cannot read the town's news");
        Vec::new()
    });
    let memory_last = store.memory_last(r.id).unwrap_or_else(|e| {
        // Unknown, the talk may come a few days early: a week's rule, not a safety one.
        tracing::warn!(error = %e, "cannot read the last weekly talk");
        None
    });
    let known_since = store.known_since(r.id).unwrap_or_else(|e| {
        // Unknown, she is treated as new: the talk waits, nothing else does.
        tracing::warn!(error = %e, "cannot read since when the tablet knows the resident");
        None
    });
    let memory_off = store.memory_off(r.id).unwrap_or_else(|e| {
        // Unknown is off: never a question staff may have turned off.
        tracing::warn!(error = %e, "cannot read whether the weekly talk is off");
        true
    });
    Resident {
        id: r.id.0,
        name: r.display_name,
        profile,
        history,
        talked,
        interests,
        stand,
        news,
        memory_last,
        memory_off,
        known_since,
        pin_sign_in,
    }
}

/// The controller's picture of a call for help, from the store's.
fn help_news(p: crate::store::HelpProgress, offline: bool) -> crate::flow::HelpNews {
    use crate::store::HelpDelivery;
    crate::flow::HelpNews {
        resident: p.resident.0,
        raised_at: p.raised_at,
        delivered: p.delivery == HelpDelivery::Delivered,
        refused: p.delivery == HelpDelivery::Refused,
        handler: p.handler,
        offline,
        contacts: p
            .contacts
            .into_iter()
            .map(|c| {
                [c.relation, c.name, c.phone]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("　")
            })
            .collect(),
    }
}

/// The resident's notice: calm, short, nothing alarming; empty when all is well.
pub fn resident_notice(h: &Health) -> String {
    if let Some(crate::sync::SyncStatus::Offline { .. }) = &h.sync {
        return "いまは事務所とつながっていません。記録は端末に残して、あとで送ります".into();
    }
    if matches!(h.microphone, Some(Part::Missing(_) | Part::Faulty(_))) {
        return "マイクが使えないので、ボタンで答えてください".into();
    }
    if matches!(h.recogniser, Some(Part::Missing(_) | Part::Faulty(_))) && h.microphone.is_some() {
        return "声の聞き取りが使えないので、ボタンで答えてください".into();
    }
    if matches!(h.speaker, Some(Part::Faulty(_))) {
        return "音が出ないので、画面の文字をご覧ください".into();
    }
    String::new()
}

/// The staff page's health lines: plain, one part per line.
pub fn health_lines(h: &Health) -> Vec<String> {
    let part = |name: &str, p: &Option<Part>| match p {
        Some(Part::Ok) => format!("{name}: 正常"),
        Some(Part::Missing(why)) => format!("{name}: なし（{why}）"),
        Some(Part::Faulty(why)) => format!("{name}: 故障（{why}）"),
        None => format!("{name}: 確認中"),
    };
    let mut lines = vec![
        part("マイク", &h.microphone),
        part("スピーカー", &h.speaker),
        part("音声認識", &h.recogniser),
        part("カード読み取り機", &h.reader),
    ];
    lines.push(match &h.sync {
        Some(crate::sync::SyncStatus::Online { last_ok, .. }) => {
            format!("通信: 正常（最終 {}）", last_ok.with_timezone(&chrono::Local).format("%H:%M"))
        }
        Some(crate::sync::SyncStatus::Offline { reason, .. }) => {
            format!("通信: つながりません（{reason:?}）")
        }
        Some(crate::sync::SyncStatus::NotEnrolled) => "通信: 端末が登録されていません".into(),
        None => "通信: 設定なし".into(),
    });
    match h.dialect {
        Some(Some(version)) => lines.push(format!("方言辞書: 第{version}版（事務所から配信）")),
        Some(None) => lines.push("方言辞書: 初期版".into()),
        None => {}
    }
    if let Some(s) = &h.store {
        lines.push(format!("記録: {s}"));
    }
    lines
}

/// Turns the display on if it went to sleep (X11's screen saver and DPMS), so the
/// resident sees who is speaking. Without `xset` nothing is done: the display's power
/// is then the session's to manage.
fn wake_screen() {
    if std::env::var_os("DISPLAY").is_none() {
        return;
    }
    for args in [&["s", "reset"][..], &["dpms", "force", "on"][..]] {
        let woke = std::process::Command::new("xset")
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if woke.is_err() {
            tracing::debug!("xset is not installed; the screen is left as it is");
            return;
        }
    }
}
