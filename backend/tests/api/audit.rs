//! Every dashboard page, as an officer, a 民生委員 and an admin, at a desk's width (1366 px)
//! and a phone's (390 px), in headless Chromium: axe-core finds no serious or
//! critical accessibility violation, and at phone width nothing overflows the screen
//! and every control is a target a finger can hit (44 px).
//!
//! axe-core is the npm package `scripts/setup.sh` fetches and checks against its
//! pinned sha512; the test fails (does not skip) without it.

use std::path::PathBuf;

use backend::clock::ManualClock;
use backend::password::hash_password;
use backend::store::{Actor, Role};
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{ChromeDriver, Tablet, add_resident};
use crate::socket::spawn_app;
use crate::support::local;

const AXE_VERSION: &str = "4.14.1";

/// The axe-core script setup installed (`$MIMAMORI_CACHE`, else the XDG cache).
fn axe_source() -> String {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let cache = var("MIMAMORI_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("mimamori")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/mimamori")))
        .expect("MIMAMORI_CACHE, XDG_CACHE_HOME or HOME");
    let path = cache.join(format!("axe-core-{AXE_VERSION}/axe.min.js"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup.sh, which fetches axe-core)", path.display()))
}

/// WCAG 2.1 A and AA rules; serious and critical findings, one line each.
const AXE_RUN: &str = "const done = arguments[arguments.length - 1];
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
      .then(r => done(r.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
      .catch(e => done(['axe failed: ' + e]));";

/// At phone width: the page fits the screen, and controls (buttons, fields, links
/// in navigation and tables) are at least 44 px high and wide (fields: high), check
/// boxes at least 24 px.
const PHONE_LAYOUT: &str = "const out = [];
    const root = document.documentElement;
    if (window.innerWidth > 400) out.push('not a phone: the page is ' + window.innerWidth + ' px wide');
    if (root.scrollWidth > window.innerWidth + 1) out.push('page wider than the screen: ' + root.scrollWidth + ' > ' + window.innerWidth);
    for (const el of document.querySelectorAll('button, input:not([type=hidden]), select, textarea, nav a, td a, .pager a')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const small = (el.type === 'checkbox' || el.type === 'radio') ? (r.height < 24 || r.width < 24)
        : (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') ? r.height < 44
        : (r.height < 44 || r.width < 44);
      if (small) out.push('small target ' + el.tagName.toLowerCase() + ' \"' + (el.textContent || el.name || '').trim().slice(0, 16) + '\" ' + Math.round(r.width) + 'x' + Math.round(r.height));
    }
    return out;";

/// Signs in through the login form (or checks the login page itself when `login` is
/// empty).
async fn sign_in(browser: &Client, base: &str, login: &str, password: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    browser.find(Locator::Css("input[name=login]")).await.unwrap().send_keys(login).await.unwrap();
    browser.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(password).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while browser.current_url().await.unwrap().path() != "/board" {
        assert!(std::time::Instant::now() < deadline, "{login} did not reach the board");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// What is wrong with the page at `path`, one line each (empty: nothing).
async fn audit(browser: &Client, base: &str, path: &str, axe: &str, phone: bool) -> Vec<String> {
    browser.goto(&format!("{base}{path}")).await.unwrap();
    browser
        .wait()
        .for_element(Locator::Css("h1"))
        .await
        .unwrap_or_else(|e| panic!("{path}: no heading: {e}"));
    browser.execute(axe, vec![]).await.unwrap();
    let mut found: Vec<String> =
        serde_json::from_value(browser.execute_async(AXE_RUN, vec![]).await.unwrap()).unwrap();
    if phone {
        let layout: Vec<String> =
            serde_json::from_value(browser.execute(PHONE_LAYOUT, vec![]).await.unwrap()).unwrap();
        found.extend(layout);
    }
    found
}

/// An office on a loopback port with a board that has every kind of row: a call
/// for help, an answer to look at (with a phone and an address), a confirmed
/// check-in, a misheard answer, someone not heard from; and a campaign.
struct Office {
    _dir: tempfile::TempDir,
    addr: std::net::SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    taro: backend::store::ResidentId,
    campaign: backend::store::CampaignId,
    news: backend::store::AnnouncementId,
}

async fn office() -> Office {
    let dir = tempfile::tempdir().unwrap();
    let now = local(9, 0);
    let (addr, store, stop) = spawn_app(&dir, ManualClock::new(now)).await;
    let officer =
        store.add_user("officer", &hash_password("correct horse"), Role::Officer, None, now).unwrap();
    store.add_user("minsei", &hash_password("battery staple"), Role::Minsei, Some("大井沢"), now).unwrap();
    store.add_user("admin", &hash_password("tr0ub4dor &3"), Role::Admin, None, now).unwrap();
    let add = |name: &str, district: &str| add_resident(&store, name, district);
    let (hanako, taro, ume) =
        (add("山田 花子", "大井沢"), add("佐藤 太郎", "大井沢"), add("鈴木 ウメ", "沼山"));
    let tome = add("高橋 トメ", "大井沢");
    let mut profile = store.resident_record(taro).unwrap().unwrap().profile;
    profile.phone = "0237-74-2111".to_owned();
    profile.address = "大井沢 1234-5".to_owned();
    store.update_profile(taro, &profile, officer, now).unwrap();
    let mut t = Tablet::enrol(addr, &store, hanako).await;
    t.send("help_request", json!({"intent": "emergency", "danger": "fire", "confirmed": true})).await;
    // She shares 花子's tablet: the devices page shows her with the button to take her off.
    store.join_household(tome, hanako, officer, now).unwrap();
    let news = store
        .publish_announcement(
            Some("大井沢"),
            "あしたは、診療所の日です。バスは九時に出ます。",
            crate::support::day() + chrono::Days::new(3),
            Actor::User(officer),
            now,
        )
        .unwrap();
    let mut t = Tablet::enrol(addr, &store, taro).await;
    t.send(
        "check_in",
        json!({"answers": [{"question": "how_feeling", "intent": "feeling_unwell"},
                           {"question": "pain_check", "intent": "pain", "body_part": "knee"},
                           {"question": "open", "intent": "yes"}]}),
    )
    .await;
    t.send(
        "misunderstanding",
        json!({"question": "how_feeling", "understood": "other", "confidence": 0.3, "chosen": "tired"}),
    )
    .await;
    t.send("news_heard", json!({"announcement_id": news.0})).await;
    let mut t = Tablet::enrol(addr, &store, ume).await;
    t.send("check_in", json!({"answers": [{"question": "how_feeling", "intent": "feeling_good"}]})).await;
    let campaign = store
        .start_campaign(
            Some("大井沢"),
            "大雪です。無事ですか。",
            now + chrono::Duration::hours(3),
            Actor::User(officer),
            now,
        )
        .unwrap();
    // Two retrainings: one refused as worse, then one published.
    let verdict = |yes: &str, after: u32| {
        format!(
            "retrain: accepted={yes} heldout=25 before=23 after={after} critical=2 before_critical=2 after_critical=2 calm=23 before_false_alarms=1 after_false_alarms=1 corrections=5 heldout_corrections=1 learnt=4"
        )
    };
    store.record_retraining(officer, &verdict("no", 20), None, now).unwrap();
    let v = store
        .publish_bundle(
            &crate::tablet::dialect_bundle(1, "--- lexicon.tsv\n--- model.tsv\n"),
            Some(officer),
            now,
        )
        .unwrap();
    store.record_retraining(officer, &verdict("yes", 24), Some(v), now).unwrap();
    Office { _dir: dir, addr, _stop: stop, taro, campaign, news }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_fits_a_phone_for_officers_minsei_and_admins() {
    let axe = axe_source();
    let Office { addr, taro, campaign, news, .. } = &office().await;
    let (addr, taro, campaign, news) = (*addr, *taro, *campaign, *news);
    let pages = [
        "/board".to_owned(),
        "/alerts".to_owned(),
        "/residents?sort=need".to_owned(),
        format!("/residents/{}", taro.0),
        format!("/residents/{}/edit", taro.0),
        "/residents/new".to_owned(),
        "/campaigns".to_owned(),
        format!("/campaigns/{}", campaign.0),
        "/news".to_owned(),
        format!("/news/{}", news.0),
        "/visits".to_owned(),
        "/visits?district=%E5%A4%A7%E4%BA%95%E6%B2%A2".to_owned(),
        "/corrections".to_owned(),
        "/corrections/retrain".to_owned(),
        "/devices".to_owned(),
        "/card-links".to_owned(),
        "/weather".to_owned(),
        "/duty".to_owned(),
        "/disaster".to_owned(),
        "/roster".to_owned(),
        "/users".to_owned(),
        "/audit".to_owned(),
        "/reports/monthly?month=2026-11".to_owned(),
    ];
    let driver = ChromeDriver::start();
    let mut problems = Vec::new();
    let mut audited = 0;
    for (width, height) in [(1366, 900), (390, 844)] {
        let browser = driver.browser_sized(width, height).await;
        let base = format!("http://localhost:{}", addr.port());
        let phone = width < 600;
        for line in audit(&browser, &base, "/login", &axe, phone).await {
            problems.push(format!("{width}px signed out /login: {line}"));
        }
        for (login, password) in
            [("officer", "correct horse"), ("minsei", "battery staple"), ("admin", "tr0ub4dor &3")]
        {
            browser.delete_all_cookies().await.unwrap();
            sign_in(&browser, &base, login, password).await;
            for path in &pages {
                audited += 1;
                for line in audit(&browser, &base, path, &axe, phone).await {
                    problems.push(format!("{width}px {login} {path}: {line}"));
                }
            }
        }
        browser.close().await.unwrap();
    }
    eprintln!("audit: {audited} page views with axe-core {AXE_VERSION}, {} problems", problems.len());
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// The visit list printed from Chromium (WebDriver's Print Page, A4) is a round's
/// paper: the district's residents in visiting order with address, phone, the latest
/// answers and a box to tick; no navigation, no buttons.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visit_list_prints_on_a4_with_what_a_visitor_needs() {
    let office = office().await;
    let driver = ChromeDriver::start();
    let browser = driver.browser_sized(1366, 900).await;
    let base = format!("http://localhost:{}", office.addr.port());
    sign_in(&browser, &base, "officer", "correct horse").await;
    browser.goto(&format!("{base}/visits?district=%E5%A4%A7%E4%BA%95%E6%B2%A2")).await.unwrap();
    browser.wait().for_element(Locator::Css("#visits")).await.unwrap();
    let a4 =
        fantoccini::wd::PrintConfiguration::builder().size(fantoccini::wd::PrintSize::A4).build().unwrap();
    let pdf = browser.print(a4).await.unwrap();
    browser.close().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("visits.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let run = |tool: &str, args: &[&str]| {
        let out = std::process::Command::new(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e} (Debian poppler-utils; scripts/setup.sh installs it)"));
        assert!(out.status.success(), "{tool}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let info = run("pdfinfo", &[file.to_str().unwrap()]);
    assert!(info.contains("595.") && info.contains("841."), "A4 (595 x 842 pt): {info}");
    let text = run("pdftotext", &["-layout", file.to_str().unwrap(), "-"]);
    let flat: String = text.split_whitespace().collect();
    for shown in [
        "訪問リスト大井沢",
        "佐藤太郎",
        "大井沢1234-5",
        "0237-74-2111",
        "具合が悪い",
        "作成",
        "済",
        "山田花子",
    ] {
        assert!(flat.contains(shown), "{shown} on paper:\n{text}");
    }
    for hidden in ["本日の安否", "ログアウト", "訪問の結果", "表示", "鈴木"] {
        assert!(!flat.contains(hidden), "{hidden} not on paper:\n{text}");
    }
    // Visiting order on paper: the call for help, then the answer to look at.
    assert!(flat.find("山田花子") < flat.find("佐藤太郎"), "{text}");
    eprintln!(
        "visit list: {} bytes of PDF, {} pages",
        pdf.len(),
        info.lines().find(|l| l.starts_with("Pages")).unwrap_or("")
    );
}
