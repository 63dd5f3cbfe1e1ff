//! When nobody watches the page: the real `backend` binary tells people by e-mail
//! through a real SMTP server (aiosmtpd, steered by the test), rung by rung, until
//! someone takes the alert on from the link in the message; the tablet hears who.
//! The server refuses, stalls and goes away, the backend is killed with SIGKILL, and
//! every message still arrives exactly once.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use backend::store::{Contact, Profile, ResidentId, Store, UserId};
use tests::privacy::Secret;
use tests::services::{BackendProcess, binaries};
use tests::smtp::{Mail, SmtpServer};

use crate::support::{exchange, run_backend};

const PASSWORD: &[u8] = b"correct horse battery\n";
/// What a tablet smuggles into its help request: no file and no message may hold it.
const SAID: &str = "ひのてがあがったどごだ";

/// An exchange as a tablet or a mail's link makes it: (status, body).
fn http(to: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let auth = format!("Bearer {token}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let (status, _, body) = exchange(to, method, path, &headers, body, Duration::from_secs(20));
    (status, body)
}

/// `[notify]` for the test's server: rungs fifteen seconds apart (room for the link to be used first on a loaded machine), retries after one,
/// and quiet hours around now (so only urgent alerts go) unless `quiet` is false.
fn write_config(path: &Path, smtp_port: u16, public_url: &str, quiet: bool) {
    let now = chrono::Utc::now().with_timezone(&backend::clock::town_offset());
    let quiet = if quiet {
        let from = (now - chrono::Duration::hours(1)).format("%H:%M");
        let to = (now + chrono::Duration::hours(2)).format("%H:%M");
        format!("quiet_hours = \"{from}-{to}\"\n")
    } else {
        String::new()
    };
    std::fs::write(
        path,
        format!(
            "[weather]\nenabled = false\n[notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {smtp_port}\n\
             security = \"none\"\nfrom = \"mimamori@town.example\"\npublic_url = \"{public_url}\"\n\
             retry_secs = 1\ntimeout_secs = 10\n{quiet}[notify.wait_secs]\ndefault = 15\nhelp_request = 15\n"
        ),
    )
    .unwrap();
}

/// The messages to `address`, in arrival order.
fn to(mails: &[Mail], address: &str) -> Vec<Mail> {
    mails.iter().filter(|m| m.to.iter().any(|t| t == address)).cloned().collect()
}

/// Waits until `address` has `n` messages, then returns them all.
fn wait_for_to(smtp: &SmtpServer, address: &str, n: usize, timeout: Duration) -> Vec<Mail> {
    let deadline = Instant::now() + timeout;
    loop {
        let mails = smtp.messages().unwrap();
        if to(&mails, address).len() >= n {
            return mails;
        }
        assert!(
            Instant::now() < deadline,
            "{address}: {} of {n} messages after {timeout:?}",
            to(&mails, address).len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn help(token: &str, office: SocketAddr, resident: i64, seq: u32) {
    let event = serde_json::json!({ "events": [{
        "id": uuid::Uuid::new_v4(), "seq": seq, "kind": "help_request",
        "device_time": chrono::Utc::now(),
        "body": { "resident_id": resident, "danger": "fire", "confirmed": true, "transcript": SAID },
    }]});
    let (status, body) = http(office, "POST", "/api/v1/events", token, &event.to_string());
    assert_eq!(status, 200, "{body}");
}

/// The link in a message, as a path on the office.
fn ack_path(mail: &Mail) -> String {
    let at = mail.body.find("/ack/").unwrap_or_else(|| panic!("no link in {}", mail.body));
    mail.body[at..].split_whitespace().next().unwrap().to_owned()
}

#[test]
fn alerts_climb_the_ladder_by_mail_until_someone_takes_them_on_and_nothing_is_lost_or_sent_twice() {
    let dir = tempfile::tempdir().unwrap();
    let bins = binaries().unwrap();
    let mut smtp = SmtpServer::start(dir.path()).unwrap();
    let (db, config) = (dir.path().join("office.sqlite"), dir.path().join("office.toml"));
    write_config(&config, smtp.port, "http://127.0.0.1", true);

    // The ladder's people, set at the office's terminal: the 民生委員 of each district,
    // one member of staff on duty and one off, an officer in charge.
    let run = |args: &[&str], stdin: &[u8]| {
        let out = run_backend(&bins.backend, &db, Some(&config), args, stdin);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    for (login, role, district, email) in [
        ("minsei-oisawa", "minsei", Some("大井沢"), "minsei.oisawa@town.example"),
        ("minsei-numayama", "minsei", Some("沼山"), "minsei.numayama@town.example"),
        ("staff-on", "staff", None, "staff.on@town.example"),
        ("staff-off", "staff", None, "staff.off@town.example"),
        ("officer", "officer", None, "officer@town.example"),
    ] {
        let mut args = vec!["add-user", login, role];
        args.extend(district);
        run(&args, PASSWORD);
        run(&["user", "set-email", login, email], b"");
    }
    run(&["user", "duty", "staff-on", "on"], b"");
    let code_of = |out: String| out.split("enrol_code=").nth(1).unwrap().trim().to_owned();
    let hanako = code_of(run(&["add-resident", "見守 花子", "大井沢"], b""));
    let taro = code_of(run(&["add-resident", "見守 太郎", "沼山"], b""));
    // 花子's son consented to be told; her phone is on her profile (the dashboard's
    // form, written here through the same store method).
    {
        let store = Store::open(&db).unwrap();
        let rec = store.resident_record(ResidentId(1)).unwrap().unwrap();
        let profile = Profile {
            phone: "0237-74-0001".into(),
            contacts: vec![Contact {
                email: "son@family.example".into(),
                notify_consent: true,
                ..Contact::new("見守 一郎", "長男", "090-0000-0001")
            }],
            ..rec.profile
        };
        assert!(store.update_profile(ResidentId(1), &profile, UserId(5), chrono::Utc::now()).unwrap());
    }

    let mut office = BackendProcess::start_with_config(&bins.backend, dir.path(), &config).unwrap();
    // The links point at the office as configured; the test reaches it at its address.
    write_config(&config, smtp.port, &office.base_url(), true);
    office.restart().unwrap();
    let addr = office.addr;
    let enrol = |code: &str| {
        let (status, body) =
            http(addr, "POST", "/api/v1/enrol", "-", &format!(r#"{{"code":"{code}","app_version":"e2e"}}"#));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["device_token"].as_str().unwrap().to_owned()
    };
    let (hanako_tablet, taro_tablet) = (enrol(&hanako), enrol(&taro));

    // 1. 花子 calls for help in quiet hours (help ignores them): her district's 民生委員
    //    and the staff on duty are mailed at once, the staff off duty never.
    let asked = Instant::now();
    help(&hanako_tablet, office.addr, 1, 1);
    let mails = wait_for_to(&smtp, "minsei.oisawa@town.example", 1, Duration::from_secs(30));
    let mails = if to(&mails, "staff.on@town.example").is_empty() {
        wait_for_to(&smtp, "staff.on@town.example", 1, Duration::from_secs(10))
    } else {
        mails
    };
    eprintln!(
        "rung 1 mailed {:.1} s after the help request reached the office",
        asked.elapsed().as_secs_f64()
    );
    let first = &to(&mails, "minsei.oisawa@town.example")[0];
    assert!(
        first.subject.contains("見守 花子") && first.subject.contains("助けを求めています"),
        "{}",
        first.subject
    );
    for said in ["大井沢", "0237-74-0001", "/ack/", "民生委員"] {
        assert!(first.body.contains(said), "{said} in {}", first.body);
    }
    // The danger she named stays on the dashboard: a lock screen is not private.
    assert!(!first.body.contains("火事") && !first.subject.contains("火事"), "{}", first.body);
    assert!(to(&mails, "officer@town.example").is_empty(), "the officer is the next rung");

    // 2. Nobody answers: the officer after the wait, then the son who consented.
    let mails = wait_for_to(&smtp, "officer@town.example", 1, Duration::from_secs(30));
    assert!(to(&mails, "officer@town.example")[0].body.contains("まだ誰も対応していません"));
    let mails = wait_for_to(&smtp, "son@family.example", 1, Duration::from_secs(30));
    let son = &to(&mails, "son@family.example")[0];
    assert!(son.body.contains("ご家族（長男）"), "{}", son.body);

    // 3. 太郎 calls; the 民生委員 of 沼山 opens the link (nothing happens on opening:
    //    mail scanners open links too) and takes it on. The ladder stops there, and
    //    太郎's tablet hears who is coming.
    help(&taro_tablet, office.addr, 2, 1);
    let mails = wait_for_to(&smtp, "minsei.numayama@town.example", 1, Duration::from_secs(30));
    let link = ack_path(&to(&mails, "minsei.numayama@town.example")[0]);
    let (status, page) = http(office.addr, "GET", &link, "-", "");
    assert!(status == 200 && page.contains("対応します") && page.contains("見守 太郎"), "{status} {page}");
    let (status, page) = http(office.addr, "POST", &link, "-", "");
    assert!(status == 200 && page.contains("ありがとうございます"), "{status} {page}");
    let (_, again) = http(office.addr, "POST", &link, "-", "");
    assert!(again.contains("すでに民生委員が対応しています"), "{again}");
    let last = if link.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &link[..link.len() - 1]);
    assert_eq!(http(office.addr, "GET", &forged, "-", "").0, 404, "a changed token opens nothing");
    let (_, pulled) = http(office.addr, "GET", "/api/v1/pull?after=0", &taro_tablet, "");
    assert!(pulled.contains("help_acknowledged") && pulled.contains("民生委員"), "{pulled}");
    std::thread::sleep(Duration::from_secs(17));
    let mails = smtp.messages().unwrap();
    let for_taro = |m: &&Mail| m.subject.contains("見守 太郎");
    let told: Vec<&Vec<String>> = mails.iter().filter(for_taro).map(|m| &m.to).collect();
    assert_eq!(told.len(), 2, "only rung 1 (沼山's 民生委員, the staff on duty) was told: {told:?}");
    assert!(!told.iter().any(|t| t.iter().any(|a| a == "officer@town.example")), "{told:?}");
    assert!(to(&mails, "staff.off@town.example").is_empty(), "off duty is never told");

    // 4. A missed check-in is not urgent: in quiet hours it waits (a visit request
    //    here, raised at once by the check-in), outside them it goes.
    let visit = serde_json::json!({ "events": [{
        "id": uuid::Uuid::new_v4(), "seq": 2, "kind": "check_in", "device_time": chrono::Utc::now(),
        "body": { "resident_id": 1, "outcome": "completed", "questions_asked": 1, "misunderstandings": 0,
                  "answers": [{ "question": "open", "intent": "yes" }] },
    }]});
    assert_eq!(http(office.addr, "POST", "/api/v1/events", &hanako_tablet, &visit.to_string()).0, 200);
    std::thread::sleep(Duration::from_secs(6));
    let visits = |mails: &[Mail]| mails.iter().filter(|m| m.subject.contains("話を聞いてほしい")).count();
    assert_eq!(visits(&smtp.messages().unwrap()), 0, "held in quiet hours");
    write_config(&config, smtp.port, &office.base_url(), false);
    office.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while visits(&smtp.messages().unwrap()) < 2 {
        assert!(Instant::now() < deadline, "the visit request was not mailed after quiet hours");
        std::thread::sleep(Duration::from_millis(200));
    }

    // 5. Faults: the server says 451, then the backend is killed, the server says 550,
    //    goes away, comes back slow, then well. Every message arrives exactly once.
    let before = smtp.messages().unwrap().len();
    smtp.set("tempfail");
    let third = enrol(&code_of(run(&["add-resident", "見守 三郎", "沼山"], b"")));
    help(&third, office.addr, 3, 1);
    let tried = |db: &Path| -> i64 {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        conn.query_row(
            "SELECT ifnull(max(attempts), 0) FROM notifications n JOIN alerts a ON a.id = n.alert_id WHERE a.resident_id = 3",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while tried(&db) < 2 {
        assert!(Instant::now() < deadline, "the 451 was not retried");
        std::thread::sleep(Duration::from_millis(200));
    }
    office.kill9();
    smtp.set("reject");
    office.restart().unwrap();
    let n = tried(&db);
    let deadline = Instant::now() + Duration::from_secs(30);
    while tried(&db) <= n {
        assert!(Instant::now() < deadline, "not retried after the restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    smtp.stop();
    std::thread::sleep(Duration::from_secs(3));
    office.kill9();
    office.restart().unwrap();
    smtp.restart().unwrap();
    smtp.set("slow 2");
    std::thread::sleep(Duration::from_secs(3));
    smtp.set("ok");
    wait_for_to(&smtp, "minsei.numayama@town.example", 2, Duration::from_secs(120));
    std::thread::sleep(Duration::from_secs(4));
    let mails = smtp.messages().unwrap().into_iter().skip(before).collect::<Vec<_>>();
    let saburo: Vec<&Mail> = mails.iter().filter(|m| m.subject.contains("見守 三郎")).collect();
    let mut ids: Vec<&str> = saburo.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), saburo.len(), "a message arrived twice: {ids:?}");
    assert!(
        saburo.iter().any(|m| m.to == ["minsei.numayama@town.example"]),
        "{:?}",
        saburo.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    eprintln!("{} messages in all, none twice", smtp.messages().unwrap().len());

    // The privacy scan: no message carries the danger or the words, and no file of the
    // office (database, WAL, log) holds the words.
    let mails = smtp.messages().unwrap();
    let secrets = [Secret::text("transcript", SAID), Secret::text("danger", "火事")];
    for m in &mails {
        let text = format!("{}\n{}", m.subject, m.body);
        let hits = tests::privacy::scan_bytes(&m.message_id, text.as_bytes(), &secrets);
        assert!(hits.is_empty(), "{hits:?}");
    }
    let office_files: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| tests::privacy::is_state_file(p))
        .collect();
    let report = tests::privacy::scan_paths(&office_files, &secrets[..1]).unwrap();
    eprintln!(
        "privacy scan: {} messages, {} office files ({} bytes) clean",
        mails.len(),
        report.files,
        report.bytes
    );

    // 6. `backend [CONFIG] notify-test`: through the same server, or the server's reason.
    let test = |to: &str| {
        let mut c = Command::new(&bins.backend);
        c.arg(&config).args(["notify-test", "--to", to]).env("MIMAMORI_DATABASE", &db);
        c.output().unwrap()
    };
    let sent = test("officer@town.example");
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    let mails = smtp.messages().unwrap();
    assert!(mails.iter().any(|m| m.subject.contains("mimamori テスト")), "no test message arrived");
    smtp.set("reject");
    let refused = test("officer@town.example");
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && why.contains("550"), "{why}");
    smtp.stop();
    let down = test("officer@town.example");
    let why = String::from_utf8_lossy(&down.stderr);
    assert!(!down.status.success() && why.contains("Connection refused"), "{why}");
}
