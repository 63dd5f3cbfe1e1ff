//! The tablet's day through the real `kiosk` binary and the real office: help from the
//! idle screen (taken on, then with the network down), the office's re-prompt after an
//! unanswered window and an unwell resident told to rest, a snow watch across
//! `kill -9`, a couple sharing one tablet, and a medicine time set at the office. The kiosk's "on screen" log lines say what the resident saw (no names, no
//! captions); taps are real pointer clicks on the X server, found by the buttons' colour.

use chrono::Timelike as _;

use super::*;

/// Her husband, who shares her tablet.
const HUSBAND: &str = "見守 太郎";
/// His check-in: well, slept, eating, no pain, no exercise today and nothing more to
/// say, and no small talk (the tablet then says goodbye and goes back to the clock).
const HUSBAND_SCRIPT: &[&str] =
    &["元気だよ", "よぐ眠れだ", "うまぐ食べでる", "いや、ねぇ", "いや、ねぇ", "いや、ねぇ", "いや、ねぇ"];

/// Her eldest son, entered at the office: the number the help screen shows when the
/// office cannot be reached.
const SON: [(&str, &str); 3] =
    [("contact0_name", "見守 一郎"), ("contact0_relation", "長男"), ("contact0_phone", "090-1234-5678")];

/// Her alert's section on /alerts, reloaded until it shows (20 s at most).
fn her_alert(browser: &Browser, j: &mut Journey) -> anyhow::Result<String> {
    browser.poll(
        "/alerts",
        "#alerts section[data-resident]",
        Duration::from_secs(20),
        Duration::from_millis(500),
        || j.check_alive(),
        |t| t.contains(RESIDENT),
    )
}

/// The help phases the screen went through, in order, each once.
fn help_phases(shown: &[std::collections::BTreeMap<String, String>]) -> Vec<String> {
    let mut phases: Vec<String> = Vec::new();
    for s in shown.iter().filter(|s| s.get("screen").is_some_and(|v| v == "help")) {
        let phase = s.get("help").cloned().unwrap_or_default();
        if phases.last() != Some(&phase) {
            phases.push(phase);
        }
    }
    phases
}

/// One touch on the idle screen's 「助けを呼ぶ」: the call reaches /alerts, the screen
/// says it arrived only once it has, and who took it on once an officer presses
/// 「対応します」. Then the network goes down and she presses it again: the screen says
/// the call has not arrived, shows her son's number and 119, and claims nothing; when
/// the network is back the tablet, which kept trying, delivers it.
#[test]
fn help_from_the_idle_screen_is_taken_on_and_with_the_network_down_claims_nothing() -> anyhow::Result<()> {
    let _one = beside_others()?;
    let mut j = Journey::start("help-idle", &["んだ"], false, 2)?;
    let browser = Browser::sign_in(j.office.addr)?;
    browser.goto("/residents/1/edit")?;
    for (field, value) in SON {
        browser.fill(&format!("input[name={field}]"), value)?;
    }
    browser.click("#profile button")?;
    wait_until("her son's number on the tablet", Duration::from_secs(30), || {
        j.kiosk_count("SELECT count(*) FROM emergency_contacts") == 1
    })?;
    j.wait_screen(&[("screen", "idle")], Duration::from_secs(30))?;

    j.tap_button(HELP_RED, 0)?;
    let tapped = Instant::now();
    j.wait_screen(&[("screen", "help"), ("help", "delivered")], Duration::from_secs(30))?;
    eprintln!("help-idle: tap → 「届きました」 after {:.1} s", tapped.elapsed().as_secs_f64());
    ensure!(j.office.events("help_request").len() == 1, "the call is at the office");
    let phases = help_phases(&j.on_screen());
    ensure!(phases.first().is_some_and(|p| p == "sending"), "before the office had it: {phases:?}");
    let row = her_alert(&browser, &mut j)?;
    ensure!(row.contains("対応します"), "nobody has it yet: {row}");
    // The admin gave the officer the name residents know her by.
    Office::command(&j.state, &["user", "set-name", OFFICER, "佐藤"])?;
    browser.click("#alerts form[action$='/acknowledge'] button")?;
    let taken = Instant::now();
    j.wait_screen(&[("screen", "help"), ("help", "taken-on")], Duration::from_secs(30))?;
    eprintln!("help-idle: 「対応します」 → on the tablet after {:.1} s", taken.elapsed().as_secs_f64());
    let told =
        query(&j.kiosk_db, "SELECT acknowledged_by FROM care_log WHERE acknowledged_by IS NOT NULL", |r| {
            r.get::<_, String>(0)
        });
    ensure!(told == ["福祉担当職員の佐藤さん"], "the tablet says who: {told:?}");
    j.screenshot("help-taken-on.png")?;
    j.tap_button(ACCENT_BLUE, 0)?; // 「とじる」, the help screen's one blue button
    j.wait_screen(&[("screen", "idle")], Duration::from_secs(20))?;

    // The network goes down, the office stays up: the second call cannot arrive.
    let before = j.on_screen().len();
    j.cut_network(true);
    j.tap_button(HELP_RED, 0)?;
    j.wait_screen(
        &[("screen", "help"), ("help", "unsent"), ("call_119", "true"), ("contacts", "1")],
        Duration::from_secs(90),
    )?;
    j.screenshot("help-unsent.png")?;
    ensure!(j.office.events("help_request").len() == 1, "the second call has not arrived");
    let cut_phases = help_phases(&j.on_screen()[before..]);
    ensure!(
        !cut_phases.iter().any(|p| p == "delivered" || p == "taken-on"),
        "it never claimed the office was told: {cut_phases:?}"
    );
    let queued = j.kiosk_count("SELECT count(*) FROM outbox WHERE kind = 'help_request'");
    ensure!(queued == 1, "the call waits in the outbox: {queued}");

    j.cut_network(false);
    let back = Instant::now();
    j.wait_screen(&[("screen", "help"), ("help", "delivered")], Duration::from_secs(120))?;
    eprintln!(
        "help-idle: network back → the waiting call delivered after {:.1} s",
        back.elapsed().as_secs_f64()
    );
    ensure!(j.office.events("help_request").len() == 2, "the second call arrived once");
    browser.close();
    j.finish()?;
    Ok(())
}

/// Nobody answers when the tablet asks at her window (three silences); at the window's
/// end (no grace) the office marks her unconfirmed and sends its re-prompt, and the
/// tablet, which asked only minutes before, asks again at once. This time she says
/// 「あんべわりぃ」: the tablet asks after pain, never offers exercise, ends on the rest
/// advice (no score), and the board shows her 要確認.
#[test]
fn unanswered_at_the_window_the_re_prompt_asks_again_and_the_unwell_answer_means_rest() -> anyhow::Result<()>
{
    let _one = beside_others()?;
    // The office's escalation runs on the real clock in the town's time, so the window
    // does too: set from the dashboard once the tablet is ready, opening on the next
    // minute at least 30 s away, two minutes long, no grace.
    let mut j = Journey::start_with("reprompt", REPROMPT_SCRIPT, false, 2, None, None)?;
    let town_now = || chrono::Utc::now().with_timezone(&backend::clock::town_offset()).naive_local();
    let now = town_now();
    let minute = now.date().and_hms_opt(now.hour(), now.minute(), 0).unwrap();
    let open = minute + chrono::TimeDelta::minutes(if now.second() < 30 { 1 } else { 2 });
    let close = open + chrono::TimeDelta::minutes(2);
    ensure!(close.date() == open.date(), "a window across midnight: run again after 00:05");
    let browser = Browser::sign_in(j.office.addr)?;
    browser.goto("/residents/1/edit")?;
    browser.set("input[name=window_start]", &open.format("%H:%M").to_string())?;
    browser.set("input[name=window_end]", &close.format("%H:%M").to_string())?;
    browser.set("input[name=grace_minutes]", "0")?;
    browser.click("#profile button")?;
    let start = open.format("%H:%M").to_string();
    wait_until("the new window on the tablet", Duration::from_secs(20), || {
        query(&j.kiosk_db, "SELECT window_start FROM office_settings", |r| r.get::<_, String>(0))
            .first()
            .is_some_and(|w| w.starts_with(&start))
    })?;
    ensure!(town_now() < open, "the window opened before the tablet knew it");
    wait_until("the unanswered check-in at the office", Duration::from_secs(300), || {
        j.check_alive().is_ok() && !j.office.events("check_in").is_empty()
    })?;
    let first: serde_json::Value = serde_json::from_str(&j.office.events("check_in")[0].1)?;
    ensure!(first["outcome"] == "no_answer", "three silences: {first}");
    let unanswered = Instant::now();
    wait_until("the check-in after the re-prompt", Duration::from_secs(300), || {
        j.check_alive().is_ok() && j.office.events("check_in").len() == 2
    })?;
    eprintln!(
        "reprompt: unanswered → asked again and answered after {:.1} s",
        unanswered.elapsed().as_secs_f64()
    );
    let asks = j.kiosk_count("SELECT count(*) FROM asks");
    ensure!(asks == 2, "the window's ask and the re-prompt's: {asks}");
    j.wait_screen(&[("screen", "exercise"), ("exercise", "rest")], Duration::from_secs(60))?;
    j.screenshot("rest.png")?;
    let shown = j.on_screen();
    let exercise: Vec<&String> =
        shown.iter().filter_map(|s| s.get("exercise")).filter(|e| !e.is_empty()).collect();
    ensure!(exercise.iter().all(|e| *e == "rest"), "only the rest advice, never a plan: {exercise:?}");
    ensure!(!shown.iter().any(|s| s.get("screen").is_some_and(|v| v == "score")), "no score on a rest day");

    let body: serde_json::Value = serde_json::from_str(&j.office.events("check_in")[1].1)?;
    ensure!(body["outcome"] == "completed", "{body}");
    let intents: Vec<String> =
        body["answers"].as_array().context("answers")?.iter().map(|a| a["intent"].to_string()).collect();
    ensure!(intents.first().is_some_and(|i| i == "\"feeling_unwell\""), "{body}");
    ensure!(!body.to_string().contains("exercise_today"), "not asked about exercise: {body}");
    browser.goto("/board")?;
    let row = browser.text("#residents tr[data-state=Attention]").context("not 要確認 on the board")?;
    ensure!(row.contains(RESIDENT) && row.contains("要確認"), "{row}");
    browser.close();
    j.finish()?;
    Ok(())
}

/// 「これから屋根の雪下ろしすっから」 at the first question and 「んだ」 to the offer: a
/// snow watch runs, and the office hears of it. On the roof the power goes (`kill -9`
/// of the kiosk); the kiosk starts again on the same store, its clock 20 s before the
/// check-back: it comes back to the watch, asks on time, and her 「助けてけろ」 reaches
/// /alerts as the watch's alert.
#[test]
fn a_snow_watch_survives_kill_9_of_the_kiosk_checks_back_and_escalates() -> anyhow::Result<()> {
    let _one = beside_others()?;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 16).unwrap().and_hms_opt(6, 59, 15).unwrap();
    let mut j = Journey::start_at("snow-watch", SNOW_SCRIPT, false, 2, Some(start))?;
    wait_until("the watch at the office", Duration::from_secs(300), || {
        j.check_alive().is_ok() && !j.office.events("snow_watch_started").is_empty()
    })?;
    let body: serde_json::Value = serde_json::from_str(&j.office.events("snow_watch_started")[0].1)?;
    let started: chrono::NaiveDateTime =
        body["started_at"].as_str().context("the watch's start, on the tablet's clock")?.parse()?;
    let minutes = body["minutes"].as_i64().unwrap_or(30);
    j.wait_screen(&[("screen", "snow")], Duration::from_secs(180))?;
    j.screenshot("snow-watch.png")?;

    let clock = started + chrono::TimeDelta::minutes(minutes) - chrono::TimeDelta::seconds(20);
    j.kill_and_restart_kiosk(AFTER_SNOW_SCRIPT, clock)?;
    let restarted = Instant::now();
    j.wait_screen(&[("screen", "snow")], Duration::from_secs(30))?;
    wait_until("the watch's alert at the office", Duration::from_secs(180), || {
        j.check_alive().is_ok() && !j.office.events("snow_watch_alert").is_empty()
    })?;
    eprintln!(
        "snow-watch: kill -9 → restarted → alert at the office after {:.1} s",
        restarted.elapsed().as_secs_f64()
    );
    ensure!(j.office.events("snow_watch_started").len() == 1, "one watch, not a second after the restart");
    let alert: serde_json::Value = serde_json::from_str(&j.office.events("snow_watch_alert")[0].1)?;
    ensure!(
        alert["asked_for_help"] == true,
        "raised by her words at the check-back, not by silence: {alert}"
    );
    ensure!(
        alert["check_back_at"].as_str().is_some_and(|t| t.starts_with(
            &(started + chrono::TimeDelta::minutes(minutes)).format("%Y-%m-%dT%H:%M").to_string()
        )),
        "checked back when it would have without the power cut: {alert}"
    );
    let browser = Browser::sign_in(j.office.addr)?;
    her_alert(&browser, &mut j)?;
    browser.close();
    j.finish()?;
    Ok(())
}

/// The residents the office recorded the check-ins for, in order.
fn checked_in(j: &Journey) -> Vec<i64> {
    query(&j.office.db, "SELECT resident_id FROM events WHERE kind = 'check_in' ORDER BY id", |r| r.get(0))
}

/// She and her husband share the tablet: staff join him to her household on the
/// devices page, and the tablet learns his name. A touch asks who is there (one big
/// name button each); he presses his and his check-in is recorded as his, then she
/// presses hers and hers as hers. The board shows both confirmed.
#[test]
fn two_residents_sharing_a_tablet_each_get_their_own_check_in() -> anyhow::Result<()> {
    let _one = beside_others()?;
    let script: Vec<&str> = HUSBAND_SCRIPT.iter().chain(CHECKIN_SCRIPT).copied().collect();
    let script: &'static [&'static str] = script.leak();
    let mut j = Journey::start("household", script, false, 2)?;
    let husband = Office::add_resident(&j.state, HUSBAND)?;
    let browser = Browser::sign_in(j.office.addr)?;
    browser.goto("/devices")?;
    browser.fill("#household input[name=resident]", &husband.to_string())?;
    browser.fill("#household input[name=with]", "1")?;
    browser.click("#household button")?;
    browser.poll(
        "/devices",
        "#devices",
        Duration::from_secs(10),
        Duration::from_millis(500),
        || j.check_alive(),
        |t| t.contains(&format!("同じ端末: {HUSBAND}")),
    )?;
    wait_until("his name on the tablet", Duration::from_secs(30), || {
        j.kiosk_count("SELECT count(*) FROM residents") == 2
    })?;
    j.wait_screen(&[("screen", "idle")], Duration::from_secs(30))?;

    for (who, nth, count) in [(husband, 1, 1), (1, 0, 2)] {
        j.xvfb.tap(640, 300)?;
        j.wait_screen(&[("screen", "signin"), ("choices", "2")], Duration::from_secs(30))?;
        if nth == 1 {
            j.screenshot("who-is-there.png")?;
        }
        j.tap_button(ACCENT_BLUE, nth)?;
        wait_until("the check-in at the office", Duration::from_secs(300), || {
            j.check_alive().is_ok() && checked_in(&j).len() == count
        })?;
        ensure!(checked_in(&j).last() == Some(&who), "recorded for {who}: {:?}", checked_in(&j));
        j.wait_screen(&[("screen", if nth == 1 { "idle" } else { "exercise" })], Duration::from_secs(120))?;
    }
    let bodies = j.office.events("check_in");
    for (_, body) in &bodies {
        let body: serde_json::Value = serde_json::from_str(body)?;
        ensure!(body["outcome"] == "completed", "{body}");
    }
    browser.goto("/board")?;
    for name in [RESIDENT, HUSBAND] {
        let rows = browser.source();
        let row = rows.split("<tr").find(|r| r.contains(name)).context("on the board")?;
        ensure!(row.contains("確認済み"), "{name}: {row}");
    }
    browser.close();
    j.finish()?;
    Ok(())
}

/// A morning she sleeps badly: a rest day (no plan offered, the day excused); no small
/// talk.
const BAD_NIGHT_SCRIPT: &[&str] =
    &["元気だよ", "寝らんねがった", "うまぐ食べでる", "いや、ねぇ", "いや、ねぇ", "いや、ねぇ"];

/// The kiosk's kept plans for her: (day, intensity key; `None` a rest day), by day.
fn kept_plans(j: &Journey) -> Vec<(String, Option<String>)> {
    query(&j.kiosk_db, "SELECT day, intensity FROM plans WHERE resident_id = 1 ORDER BY day", |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// An intensity key's step (1 very light … 4 brisk).
fn step(key: &str) -> anyhow::Result<u8> {
    ["very_light", "light", "moderate", "brisk"]
        .iter()
        .position(|k| *k == key)
        .map(|i| i as u8 + 1)
        .with_context(|| format!("no intensity {key}"))
}

/// What she does with a morning's plan.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Morning {
    /// The whole guided session.
    Full,
    /// 「おわりにする」 a few seconds in, before the first exercise is through.
    GiveUp,
    /// 「今日はやめる」 at the plan.
    Skip,
    /// A bad night: the tablet advises rest and offers no plan.
    Rest,
}

/// The mornings of [`days_of_plans_through_the_binary_rise_after_good_days_and_fall_after_a_bad_one`]:
/// two (a session given up, then a lighter plan) unless more are asked for; five or
/// more make three good days first (the plan rises on the fourth, given up, so the
/// fifth falls); eleven or more add a rest day and give up on the tenth instead.
fn mornings(days: usize) -> Vec<Morning> {
    use Morning::*;
    if days < 5 {
        return vec![GiveUp, Skip];
    }
    let (given_up, rest) = if days >= 11 { (9, Some(5)) } else { (3, None) };
    (0..days)
        .map(|d| {
            if d == given_up {
                GiveUp
            } else if Some(d) == rest {
                Rest
            } else {
                Full
            }
        })
        .collect()
}

/// Days of plans through the binary, each morning the tablet started again with its
/// clock on that day (as after a night's power cut): at her window it asks by itself,
/// she answers by voice and does the plan by touch. Each day's plan is kept; a session
/// given up early makes the next plan one step lighter; after three good days it rises
/// one step, never more; a bad night makes a rest day. `MIMAMORI_PLAN_DAYS` mornings:
/// two here (a full session takes minutes of spoken guidance), 14 with
/// `cargo xtask plan-days`.
#[test]
fn days_of_plans_through_the_binary_rise_after_good_days_and_fall_after_a_bad_one() -> anyhow::Result<()> {
    let _one = beside_others()?;
    let plan = mornings(crate::support::env_number("MIMAMORI_PLAN_DAYS", 2).min(28) as usize);
    let first = chrono::NaiveDate::from_ymd_opt(2026, 12, 14).unwrap();
    // Each morning 45 s before her window (07:00): the tablet starts the check-in.
    let morning = |day: usize| (first + chrono::Days::new(day as u64)).and_hms_opt(6, 59, 15).unwrap();
    let mut j = Journey::start_at("plan-days", CHECKIN_SCRIPT, false, 2, Some(morning(0)))?;
    for (day, what) in plan.iter().enumerate() {
        let began = Instant::now();
        if day > 0 {
            let script = if *what == Morning::Rest { BAD_NIGHT_SCRIPT } else { CHECKIN_SCRIPT };
            j.kill_and_restart_kiosk(script, morning(day))?;
        }
        if *what == Morning::Rest {
            j.wait_screen(&[("screen", "exercise"), ("exercise", "rest")], Duration::from_secs(300))?;
            j.tap_button(ACCENT_BLUE, 0)?; // わかりました
            j.wait_screen(&[("screen", "idle")], Duration::from_secs(60))?;
            eprintln!("plan-days: day {day}: a rest day, {:.0} s", began.elapsed().as_secs_f64());
            continue;
        }
        // A week after her first morning the weekly talk's day question follows the
        // check-in; the script has no answer for it, so it waits out its two minutes.
        j.wait_screen(&[("screen", "exercise"), ("exercise", "plan")], Duration::from_secs(600))?;
        if *what == Morning::Skip {
            j.tap_button(ACCENT_BLUE, 1)?; // 今日はやめる
        } else {
            j.tap_button(ACCENT_BLUE, 0)?; // はじめる
            j.wait_screen(&[("screen", "exercise"), ("exercise", "guide")], Duration::from_secs(30))?;
            if *what == Morning::GiveUp {
                std::thread::sleep(Duration::from_secs(3));
                j.tap_button(ACCENT_BLUE, 1)?; // おわりにする
            }
            j.wait_screen(&[("screen", "exercise"), ("exercise", "done")], Duration::from_secs(900))?;
            j.tap_button(ACCENT_BLUE, 0)?; // できました
            // On the weekly talk's day the three words' cues come first: each answered
            // by its first button.
            for _ in 0..3 {
                if j.wait_screen(&[("screen", "score")], Duration::from_secs(8)).is_ok() {
                    break;
                }
                j.tap_button(ACCENT_BLUE, 0)?;
            }
        }
        j.wait_screen(&[("screen", "score")], Duration::from_secs(30))?;
        j.tap_button(ACCENT_BLUE, 0)?; // とじる
        j.wait_screen(&[("screen", "idle")], Duration::from_secs(60))?;
        let kept = kept_plans(&j).last().cloned().unwrap_or_default();
        eprintln!(
            "plan-days: day {day}: {what:?}, plan {:?}, {:.0} s",
            kept.1,
            began.elapsed().as_secs_f64()
        );
    }
    let plans = kept_plans(&j);
    ensure!(plans.len() == plan.len(), "a plan kept every day: {plans:?}");
    let steps: Vec<Option<u8>> =
        plans.iter().map(|(_, i)| i.as_deref().map(step).transpose()).collect::<Result<_, _>>()?;
    eprintln!("plan-days: steps by day {steps:?}");
    for (day, what) in plan.iter().enumerate() {
        ensure!((*what == Morning::Rest) == steps[day].is_none(), "day {day} ({what:?}): {steps:?}");
        match (what, steps.get(day + 1)) {
            (Morning::GiveUp, Some(next)) => {
                ensure!(*next < steps[day], "given up on day {day}: the next is lighter: {steps:?}")
            }
            (_, Some(Some(next))) => {
                let last = steps[..=day].iter().rev().flatten().next().copied().unwrap_or(0);
                ensure!(*next <= last + 1, "never more than one step up: {steps:?}");
            }
            _ => {}
        }
    }
    if plan.len() >= 5 {
        ensure!(steps[3] > steps[2], "three good days make the plan grow: {steps:?}");
    }
    // A session kept for every morning done in full (one given up before its first
    // exercise was through has none).
    let sessions = plan.iter().filter(|m| **m == Morning::Full).count() as i64;
    let kept = j.kiosk_count("SELECT count(*) FROM exercise_sessions");
    ensure!(kept == sessions, "{kept} sessions kept, {sessions} done");
    let heard = j.office.events("exercise_done").len() as i64;
    ensure!(heard == sessions, "the office heard of {heard} sessions, {sessions} done");
    j.finish()?;
    Ok(())
}

/// Yes to the medicine question, by voice.
const MEDICINE_SCRIPT: &[&str] = &["はい、飲みました"];

/// A medicine time entered on the dashboard reaches the tablet; at that minute the
/// running kiosk asks on the question screen with two buttons, her spoken 「はい」 is
/// recorded as kept, and her page at the office shows it: through the real binaries,
/// on the real clock.
#[test]
fn a_medicine_time_set_at_the_office_is_asked_and_her_answer_reaches_her_page() -> anyhow::Result<()> {
    let _one = beside_others()?;
    let mut j = Journey::start_with("medicine", MEDICINE_SCRIPT, false, 2, None, None)?;
    let town_now = || chrono::Utc::now().with_timezone(&backend::clock::town_offset()).naive_local();
    // This minute: a time just past is still asked (up to two hours late), at the
    // tablet's next read of its store, within a minute.
    // Just before midnight the next read is tomorrow's: wait for the new day.
    while town_now().time() >= chrono::NaiveTime::from_hms_opt(23, 58, 30).unwrap() {
        std::thread::sleep(Duration::from_secs(5));
    }
    let at = town_now().format("%H:%M").to_string();
    let browser = Browser::sign_in(j.office.addr)?;
    browser.goto("/residents/1/edit")?;
    browser.set("input[name=med_noon]", &at)?;
    browser.click("#profile button")?;
    wait_until("the medicine time on the tablet", Duration::from_secs(20), || {
        query(&j.kiosk_db, "SELECT at FROM medicine_times", |r| r.get::<_, String>(0)).first() == Some(&at)
    })?;
    wait_until("the dose at the office", Duration::from_secs(180), || {
        j.check_alive().is_ok() && !j.office.events("medicine").is_empty()
    })?;
    let dose: serde_json::Value = serde_json::from_str(&j.office.events("medicine")[0].1)?;
    ensure!(dose["slot"] == "noon" && dose["taken"] == true, "{dose}");
    let shown = j.on_screen();
    ensure!(
        shown
            .iter()
            .any(|s| s.get("screen").is_some_and(|v| v == "checkin")
                && s.get("choices").is_some_and(|c| c == "2")),
        "the question screen with two buttons: {shown:?}"
    );
    browser.goto("/residents/1")?;
    let table = browser.text("#medicine").context("no medicine table on her page")?;
    ensure!(table.contains(&format!("昼 {at}")) && table.contains("飲んだ"), "{table}");
    ensure!(j.office.events("check_in").is_empty(), "the medicine question is not a check-in");
    browser.close();
    j.finish()?;
    Ok(())
}
