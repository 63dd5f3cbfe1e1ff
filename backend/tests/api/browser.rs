//! Browser tests: a real server on a loopback port, driven through headless Chromium
//! by its own chromedriver (W3C WebDriver via `fantoccini`), while simulated tablets
//! talk to the same server through the real tablet API over TCP.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backend::clock::ManualClock;
use backend::password::hash_password;
use backend::store::{ResidentId, Role, Store};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::socket::{request, spawn_app};
use crate::support::local;

/// chromedriver in its own process group, stopped by that id (with the browsers it
/// started) when dropped, so a failing test leaves no Chromium behind.
pub(crate) struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    pub(crate) fn start() -> Self {
        use std::os::unix::process::CommandExt as _;
        // A free port: bind 0, read it, release it for chromedriver.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver runs (Debian chromium-driver; scripts/setup.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    async fn browser(&self) -> Client {
        self.browser_sized(1280, 900).await
    }

    /// A headless Chromium whose viewport is `width` × `height` CSS pixels. Headless
    /// windows are never narrower than 500 px, so a phone is emulated (its metrics and
    /// touch), as Chromium's device toolbar does.
    pub(crate) async fn browser_sized(&self, width: u32, height: u32) -> Client {
        let mut options = json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", format!("--window-size={},{height}", width.max(500))],
        });
        if width < 500 {
            options["mobileEmulation"] = json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true } });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".to_owned(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a headless Chromium session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group id is chromedriver's PID (process_group(0)); the browsers it
        // started are in that group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A simulated tablet: enrolled with a one-time code, then speaking the tablet API.
pub(crate) struct Tablet {
    addr: SocketAddr,
    token: String,
    seq: u64,
}

impl Tablet {
    pub(crate) async fn enrol(addr: SocketAddr, store: &Store, resident: ResidentId) -> Self {
        let code = store.create_enrolment_code(Some(resident), local(7, 0)).unwrap();
        let (status, body) =
            request(addr, "POST", "/api/v1/enrol", "", &json!({ "code": code }).to_string()).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        Self { addr, token: v["device_token"].as_str().unwrap().to_owned(), seq: 0 }
    }

    fn auth(&self) -> String {
        format!("Authorization: Bearer {}\r\nContent-Type: application/json\r\n", self.token)
    }

    pub(crate) async fn send(&mut self, kind: &str, body: serde_json::Value) {
        self.seq += 1;
        let batch = json!({ "events": [crate::support::event(self.seq, kind, body)] });
        let (status, reply) =
            request(self.addr, "POST", "/api/v1/events", &self.auth(), &batch.to_string()).await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{reply}");
        assert!(reply.contains("\"stored\""), "{reply}");
    }

    /// The campaign ids this tablet has been told about.
    async fn campaigns(&self) -> Vec<u64> {
        let (status, body) = request(self.addr, "GET", "/api/v1/pull?after=0", &self.auth(), "").await;
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "campaign")
            .map(|i| i["body"]["campaign_id"].as_u64().unwrap())
            .collect()
    }
}

/// The text of the first element matching `css`.
/// A resident of `district` with the 08:00–10:00 window, added at 07:00.
pub(crate) fn add_resident(store: &Store, name: &str, district: &str) -> ResidentId {
    let r = backend::store::NewResident {
        display_name: name.to_owned(),
        district: district.to_owned(),
        card: None,
        window: backend::store::CheckinWindow {
            start: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            grace_minutes: 60,
        },
    };
    store.add_resident(&r, local(7, 0)).unwrap()
}

/// From the campaign form (already open): 「大雪です。大丈夫ですか？」 to 大井沢, whose two
/// residents the confirmation names before anything is sent; returns the campaign's id
/// once its page is open.
async fn start_campaign(browser: &Client) -> u64 {
    click(browser, "select[name=district] option[value='大井沢']").await;
    fill(browser, "textarea[name=message]", "大雪です。大丈夫ですか？").await;
    set_deadline(browser).await;
    click(browser, "form[action='/campaigns'] button").await;
    let reach = browser.wait().for_element(Locator::Css("#reach")).await.unwrap().text().await.unwrap();
    assert_eq!(reach, "2人");
    click(browser, "#confirm-start").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !browser.current_url().await.unwrap().path().starts_with("/campaigns/") {
        assert!(Instant::now() < deadline, "no campaign page: {}", browser.source().await.unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = browser.current_url().await.unwrap();
    url.path().strip_prefix("/campaigns/").unwrap().parse().unwrap()
}

async fn text(browser: &Client, css: &str) -> String {
    browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

/// Waits (up to 20 s) until the text at `css` satisfies `ok`, without reloading:
/// the page must change by itself.
async fn watch(browser: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(e) = browser.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && ok(&t)
        {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never changed as expected: {}",
            browser.source().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (up to 20 s) for the browser to arrive at `path` (a form's POST, then the
/// redirect, may still be under way when the click returns).
async fn arrive(browser: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = browser.current_url().await.unwrap();
        if url.path() == path && browser.find(Locator::Css("h1")).await.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "stayed at {url}: {}", browser.source().await.unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(browser: &Client, css: &str, value: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(value)
        .await
        .unwrap();
}

/// A datetime-local control takes keys field by field, differently per locale: its
/// value is set as the date picker would.
async fn set_deadline(browser: &Client) {
    let deadline = browser.find(Locator::Css("input[name=deadline]")).await.unwrap();
    browser
        .execute("arguments[0].value = '2026-11-28T12:00';", vec![serde_json::to_value(&deadline).unwrap()])
        .await
        .unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
}

/// Login; the board reflecting a tablet's check-in; a campaign started from the
/// form whose progress page changes by itself as tablets answer; acknowledging
/// the alert a "needs help" answer raised; correcting a misunderstood answer;
/// publishing a dialect bundle from a file; enrolling a resident. One browser
/// session throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_works_the_dashboard_in_a_real_browser_while_tablets_report() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(local(8, 30));
    let (addr, store, _stop) = spawn_app(&dir, clock.clone()).await;
    store.add_user("officer", &hash_password("correct horse"), Role::Officer, None, local(7, 0)).unwrap();
    let (hanako, taro) =
        (add_resident(&store, "山田 花子", "大井沢"), add_resident(&store, "佐藤 太郎", "大井沢"));
    let mut tablet_h = Tablet::enrol(addr, &store, hanako).await;
    let mut tablet_t = Tablet::enrol(addr, &store, taro).await;

    let driver = ChromeDriver::start();
    let browser = driver.browser().await;
    // `localhost`, not 127.0.0.1: Chromium treats http://localhost as a secure
    // context, so it keeps the Secure session cookie as it would over HTTPS.
    let base = format!("http://localhost:{}", addr.port());

    // Login: a wrong password stays on the login page with a message.
    browser.goto(&format!("{base}/board")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/login", "no session: the login page");
    fill(&browser, "input[name=login]", "officer").await;
    fill(&browser, "input[name=password]", "wrong").await;
    click(&browser, "button[type=submit]").await;
    let refused = browser.wait().for_element(Locator::Css("[role=alert]")).await.unwrap();
    assert!(refused.text().await.unwrap().contains("ログイン名かパスワードが違います"));
    fill(&browser, "input[name=login]", "officer").await;
    fill(&browser, "input[name=password]", "correct horse").await;
    click(&browser, "button[type=submit]").await;
    arrive(&browser, "/board").await;
    assert!(text(&browser, "h1").await.contains("本日の安否"));

    // The board: both pending; a check-in from 花子's tablet makes her confirmed.
    let count = |state: &'static str| {
        let browser = &browser;
        async move { text(browser, &format!("#counts [data-count={state}] .n")).await }
    };
    for state in ["Confirmed", "Unconfirmed", "NeedsHelp"] {
        assert_eq!(count(state).await, "0", "{state}");
    }
    tablet_h.send("check_in", json!({})).await;
    browser.refresh().await.unwrap();
    for (state, n) in [("Confirmed", "1"), ("Unconfirmed", "0"), ("NeedsHelp", "0")] {
        assert_eq!(count(state).await, n, "{state}");
    }
    let row = text(&browser, "tr[data-state=Confirmed]").await;
    assert!(row.contains("確認済み") && row.contains("山田 花子"), "{row}");

    // Nobody touches the page: 太郎 says he is unwell with a sore knee, and the board
    // changes by itself, marks him 要確認 with what he said, and flags the change.
    clock.set(local(8, 40));
    tablet_t
        .send(
            "check_in",
            json!({"answers": [{"question": "how_feeling", "intent": "feeling_unwell"},
                               {"question": "pain_check", "intent": "pain", "body_part": "knee"}]}),
        )
        .await;
    watch(&browser, "#counts [data-count=Attention] .n", |t| t == "1").await;
    let row = text(&browser, "tr[data-state=Attention]").await;
    for shown in ["要確認", "更新", "佐藤 太郎", "具合が悪い・痛みがある（膝）"] {
        assert!(row.contains(shown), "{shown}: {row}");
    }
    let unchanged = text(&browser, "tr[data-state=Confirmed]").await;
    assert!(!unchanged.contains("更新"), "花子 was confirmed before this look: {unchanged}");

    // A campaign from the form; its progress page follows the answers by itself.
    click(&browser, "nav a[href='/campaigns']").await;
    arrive(&browser, "/campaigns").await;
    // The office confirms whom it reaches before anything is sent.
    let campaign = start_campaign(&browser).await;
    assert!(text(&browser, "h1").await.contains("大雪です。大丈夫ですか？"));
    let progress = |t: &str| {
        t.lines().nth(1).unwrap_or_default().split_whitespace().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(
        progress(&text(&browser, "#progress").await),
        ["2", "0", "0", "2"],
        "targeted, safe, help, none"
    );
    let waiting = text(&browser, "#non-responders").await;
    assert!(waiting.contains("山田 花子") && waiting.contains("佐藤 太郎"), "{waiting}");

    assert_eq!(tablet_h.campaigns().await, [campaign], "the tablet learnt of it at its poll");
    tablet_h.send("safety_answer", json!({ "campaign_id": campaign, "answer": "safe" })).await;
    watch(&browser, "#progress", |t| progress(t) == ["2", "1", "0", "1"]).await;
    let waiting = text(&browser, "#non-responders").await;
    assert!(!waiting.contains("山田 花子") && waiting.contains("佐藤 太郎"), "{waiting}");
    assert_eq!(tablet_t.campaigns().await, [campaign]);
    tablet_t.send("safety_answer", json!({ "campaign_id": campaign, "answer": "needs_help" })).await;
    watch(&browser, "#progress", |t| progress(t) == ["2", "1", "1", "0"]).await;

    // The "needs help" answer raised an alert: acknowledge it from the queue.
    click(&browser, "nav a[href='/alerts']").await;
    arrive(&browser, "/alerts").await;
    // 太郎's two alerts (his unwell answer, then the campaign) are one group, his
    // answers beside the first.
    let group = text(&browser, &format!("#alerts section[data-resident='{}']", taro.0)).await;
    for shown in ["佐藤 太郎", "体調の確認が必要", "具合が悪い・痛みがある（膝）", "安否確認で「助けが必要」"]
    {
        assert!(group.contains(shown), "{shown}: {group}");
    }
    assert_eq!(browser.find_all(Locator::Css("#alerts section[data-resident]")).await.unwrap().len(), 1);
    click(&browser, "#alerts tr[data-kind=campaign_help] form[action$='/acknowledge'] button").await;
    let row = watch(&browser, "#alerts tr[data-kind=campaign_help]", |t| t.contains("対応中")).await;
    assert!(row.contains("officer"), "who is handling it: {row}");
    assert!(store.open_alerts().unwrap().iter().any(|a| a.resident == taro && a.acknowledged));

    // A staff correction: the tablet misheard 太郎; the officer, back from the
    // visit, types what he said and picks the right meaning.
    tablet_t
        .send(
            "misunderstanding",
            json!({ "question": "how_feeling", "understood": "tired", "confidence": 0.38 }),
        )
        .await;
    click(&browser, "nav a[href='/corrections']").await;
    arrive(&browser, "/corrections").await;
    let row = text(&browser, "#misunderstandings tr[data-corrected=false]").await;
    assert!(row.contains("疲れている (38%)") && row.contains("体調"), "{row}");
    fill(&browser, "tr[data-corrected=false] input[name=text]", "ひざいでくてなんぎだ").await;
    click(&browser, "tr[data-corrected=false] select[name=intent] option[value=pain]").await;
    click(&browser, "tr[data-corrected=false] select[name=body_part] option[value=膝]").await;
    click(&browser, "tr[data-corrected=false] button").await;
    let saved =
        browser.wait().for_element(Locator::Css("tr[data-corrected=true] input[name=text]")).await.unwrap();
    assert_eq!(saved.prop("value").await.unwrap().as_deref(), Some("ひざいでくてなんぎだ"));
    let exported = store.corrections_export().unwrap();
    assert_eq!(
        (exported[0].correction.intent.as_str(), exported[0].correction.body_part.as_deref()),
        ("pain", Some("膝"))
    );
    // A bundle learnt elsewhere, uploaded from a file (the folded section for the
    // town's IT contractor, under the one-button retraining): every tablet hears of it.
    let file = dir.path().join("dialect-bundle-7.txt");
    std::fs::write(
        &file,
        crate::tablet::dialect_bundle(7, "--- lexicon.tsv\nひざいでくて\tpain\n--- model.tsv\nw\t1\n"),
    )
    .unwrap();
    click(&browser, "details#upload summary").await;
    fill(&browser, "form[action='/dialect-bundles'] input[name=bundle]", file.to_str().unwrap()).await;
    click(&browser, "form[action='/dialect-bundles'] button").await;
    browser.wait().for_element(Locator::Css("#bundles tr[data-bundle='7']")).await.unwrap();
    let (_, body) = request(addr, "GET", "/api/v1/pull?after=0", &tablet_t.auth(), "").await;
    assert!(body.contains("\"dialect_bundle\"") && body.contains("\"version\":7"), "{body}");

    // Enrolling a new resident from the form: the profile page shows what was
    // entered and the household's tablet receives it.
    click(&browser, "nav a[href='/residents/new']").await;
    arrive(&browser, "/residents/new").await;
    fill(&browser, "#enrol input[name=display_name]", "鈴木 ハナ").await;
    fill(&browser, "#enrol input[name=district]", "大井沢").await;
    click(&browser, "#enrol input[name=ci_knee]").await;
    click(&browser, "#enrol input[name=lives_alone]").await;
    fill(&browser, "#enrol input[name=contact0_name]", "鈴木 太一").await;
    fill(&browser, "#enrol input[name=contact0_relation]", "長男").await;
    fill(&browser, "#enrol input[name=contact0_phone]", "090-0000-1111").await;
    click(&browser, "#enrol button").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let id = loop {
        let url = browser.current_url().await.unwrap();
        if let Some(id) = url.path().strip_prefix("/residents/").and_then(|i| i.parse::<i64>().ok()) {
            break id;
        }
        assert!(Instant::now() < deadline, "no resident page: {}", browser.source().await.unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let profile = text(&browser, "#profile").await;
    assert!(
        profile.contains("鈴木 ハナ") && profile.contains("08:00〜10:00") && profile.contains("膝"),
        "{profile}"
    );
    assert!(text(&browser, "#contacts").await.contains("鈴木 太一 (長男) 090-0000-1111"));
    let tablet = Tablet::enrol(addr, &store, ResidentId(id)).await;
    let (_, body) = request(addr, "GET", "/api/v1/pull?after=0", &tablet.auth(), "").await;
    let pull: serde_json::Value = serde_json::from_str(&body).unwrap();
    let settings =
        pull["items"].as_array().unwrap().iter().find(|i| i["kind"] == "resident_settings").unwrap();
    assert_eq!(settings["body"]["contraindications"], json!(["knee"]));

    browser.close().await.unwrap();
    drop(driver);
    eprintln!("browser test took {:.1} s", started.elapsed().as_secs_f64());
}

/// The same office on a phone (390 px): a 民生委員 works her district (the board only
/// hers, its counts equal to its rows and changing by itself; an unwell answer reaching
/// /alerts and taken on with a tap; the visit list; a page not hers refused politely
/// with a way back), and an officer's campaign to a misspelt district is refused
/// before anyone is asked, then sent to the right one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minsei_and_an_officer_work_the_dashboard_on_a_phone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(local(8, 30));
    let (addr, store, _stop) = spawn_app(&dir, clock.clone()).await;
    store.add_user("officer", &hash_password("correct horse"), Role::Officer, None, local(7, 0)).unwrap();
    store
        .add_user("minsei", &hash_password("battery staple"), Role::Minsei, Some("大井沢"), local(7, 0))
        .unwrap();
    let (hanako, taro) =
        (add_resident(&store, "山田 花子", "大井沢"), add_resident(&store, "佐藤 太郎", "大井沢"));
    add_resident(&store, "鈴木 ウメ", "沼山");
    let mut tablet_h = Tablet::enrol(addr, &store, hanako).await;
    let mut tablet_t = Tablet::enrol(addr, &store, taro).await;
    tablet_h
        .send("check_in", json!({"answers": [{"question": "how_feeling", "intent": "feeling_good"}]}))
        .await;

    let driver = ChromeDriver::start();
    let browser = driver.browser_sized(390, 844).await;
    let base = format!("http://localhost:{}", addr.port());
    let sign_in = |login: &'static str, password: &'static str| {
        let (browser, base) = (&browser, &base);
        async move {
            browser.delete_all_cookies().await.unwrap();
            browser.goto(&format!("{base}/login")).await.unwrap();
            fill(browser, "input[name=login]", login).await;
            fill(browser, "input[name=password]", password).await;
            click(browser, "button[type=submit]").await;
            arrive(browser, "/board").await;
        }
    };
    sign_in("minsei", "battery staple").await;
    let width: i64 = browser.execute("return window.innerWidth;", vec![]).await.unwrap().as_i64().unwrap();
    assert!(width <= 390, "a phone's width: {width}");

    // Her board: her district only, and its counts add up to its rows.
    let counts_equal_rows = || {
        let browser = &browser;
        async move {
            let mut total = 0;
            for n in browser.find_all(Locator::Css("#counts [data-count] .n")).await.unwrap() {
                total += n.text().await.unwrap().trim().parse::<usize>().unwrap();
            }
            let rows = browser.find_all(Locator::Css("tr[data-state]")).await.unwrap().len();
            (total, rows)
        }
    };
    let (total, rows) = counts_equal_rows().await;
    assert_eq!((total, rows), (2, 2), "花子 and 太郎, not ウメ of 沼山");
    let board = text(&browser, "main").await;
    assert!(board.contains("山田 花子") && !board.contains("鈴木 ウメ"), "{board}");

    // 太郎 answers that he is unwell: the board changes by itself, then /alerts.
    clock.set(local(8, 40));
    tablet_t
        .send(
            "check_in",
            json!({"answers": [{"question": "how_feeling", "intent": "feeling_unwell"},
                               {"question": "pain_check", "intent": "pain", "body_part": "knee"}]}),
        )
        .await;
    watch(&browser, "#counts [data-count=Attention] .n", |t| t == "1").await;
    let (total, rows) = counts_equal_rows().await;
    assert_eq!((total, rows), (2, 2));
    click(&browser, "nav a[href='/alerts']").await;
    arrive(&browser, "/alerts").await;
    let group = text(&browser, &format!("#alerts section[data-resident='{}']", taro.0)).await;
    assert!(group.contains("体調の確認が必要") && group.contains("具合が悪い・痛みがある（膝）"), "{group}");
    click(&browser, "#alerts tr[data-kind=health_concern] form[action$='/acknowledge'] button").await;
    let row = watch(&browser, "#alerts tr[data-kind=health_concern]", |t| t.contains("対応中")).await;
    assert!(row.contains("minsei"), "who took it on: {row}");

    // The visit list: her district's doors, with what 太郎 said.
    click(&browser, "nav a[href^='/visits']").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.current_url().await.unwrap().path() != "/visits" {
        assert!(Instant::now() < deadline, "no visit list");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let visits = text(&browser, "#visits").await;
    assert!(
        visits.contains("佐藤 太郎") && visits.contains("具合が悪い") && !visits.contains("鈴木 ウメ"),
        "{visits}"
    );

    // A page that is not hers: a polite refusal that leads back.
    browser.goto(&format!("{base}/audit")).await.unwrap();
    let reason = text(&browser, "p.reason").await;
    assert!(!reason.is_empty(), "a reason is given");
    let back = browser.find(Locator::Css("main p a")).await.unwrap();
    back.click().await.unwrap();
    arrive(&browser, "/board").await;

    // The officer, on the same phone: a district spelt wrong (as a stale or edited
    // form would send it) is refused and starts nothing.
    sign_in("officer", "correct horse").await;
    browser.goto(&format!("{base}/campaigns")).await.unwrap();
    let option = browser.find(Locator::Css("select[name=district] option[value='大井沢']")).await.unwrap();
    browser
        .execute(
            "arguments[0].value = '大井澤'; arguments[0].selected = true;",
            vec![serde_json::to_value(&option).unwrap()],
        )
        .await
        .unwrap();
    fill(&browser, "textarea[name=message]", "大雪です。大丈夫ですか？").await;
    set_deadline(&browser).await;
    click(&browser, "form[action='/campaigns'] button").await;
    let reason = browser.wait().for_element(Locator::Css("p.reason")).await.unwrap().text().await.unwrap();
    assert!(reason.contains("地区は一覧から選んでください"), "{reason}");
    assert!(store.campaigns(None, Default::default()).unwrap().rows.is_empty(), "nothing started");
    browser.goto(&format!("{base}/campaigns")).await.unwrap();
    start_campaign(&browser).await;
    assert_eq!(store.campaigns(None, Default::default()).unwrap().rows.len(), 1);
    browser.close().await.unwrap();
}
