//! The JPKI client against a real pcscd with vsmartcard's vpcd and the virtual card
//! process; OpenSC's tools against the same card; certificate checks on a run-time
//! test PKI. Tests that use pcscd (one system socket, fixed vpcd ports) hold
//! `SERIAL` so they never overlap.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use mynumber_card::apdu::{Command, Response};
use mynumber_card::{
    ApduExchange, CardError, CardEvent, CardIdentity, Client, GoneReason, Monitor, Pin, PinStatus,
    TrustAnchors, TrustError, jpki,
};
use tests::pcscd::VPCD_READERS;
use tests::process::wait_until;
use tests::{Pcscd, VirtualCardProcess};
use virtual_mynumber_card::{KENMEN_HOJO_AID, TEST_INDIVIDUAL_NUMBER, TestPki};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every exchange any test's client made, for the privacy scan.
static ALL_EXCHANGES: Mutex<Vec<ApduExchange>> = Mutex::new(Vec::new());

/// One test PKI directory per run: the card processes reuse its keys.
fn pki_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("mimamori-card-pki-{}", std::process::id()));
        TestPki::load_or_create(&dir, "試験 花子").expect("test PKI");
        dir
    })
}

fn pki() -> TestPki {
    TestPki::load_or_create(pki_dir(), "試験 花子").expect("test PKI")
}

fn anchors() -> TrustAnchors {
    TrustAnchors::from_pem_files(&[pki_dir().join("ca.pem")]).expect("trust anchors")
}

/// A client whose tap records into `log` and the global list.
fn client(log: &Arc<Mutex<Vec<ApduExchange>>>) -> Client {
    let log = Arc::clone(log);
    Client::new(anchors()).with_apdu_tap(Arc::new(move |x: &ApduExchange| {
        log.lock().unwrap().push(x.clone());
        ALL_EXCHANGES.lock().unwrap().push(x.clone());
    }))
}

fn new_log() -> Arc<Mutex<Vec<ApduExchange>>> {
    Arc::new(Mutex::new(Vec::new()))
}

/// Starts the card process in `slot` (0 or 1) with extra arguments.
fn card(slot: u16, extra: &[&str]) -> VirtualCardProcess {
    let port = (tests::pcscd::VPCD_PORT + slot).to_string();
    let dir = pki_dir().to_string_lossy().into_owned();
    let mut args = vec!["--port", port.as_str(), "--pki-dir", dir.as_str()];
    args.extend_from_slice(extra);
    VirtualCardProcess::start(&args).expect("virtual card")
}

fn wait_for_card(client: &mut Client, reader: &str) {
    wait_until("the card in the reader", Duration::from_secs(10), || {
        client.reader_with_card().ok().flatten().as_deref() == Some(reader)
    })
    .unwrap();
}

fn pin(digits: &str) -> Pin {
    Pin::from_typed(digits).unwrap()
}

fn expected_identity() -> CardIdentity {
    CardIdentity::from_certificate_der(&pki().auth_cert_der)
}

fn verify_with_data(log: &[ApduExchange]) -> usize {
    log.iter().filter(|x| x.command.starts_with(&[0x00, 0x20, 0x00, 0x80]) && x.command.len() > 4).count()
}

/// Sends raw APDUs on a fresh connection (to look at the card the way a next
/// program would).
fn raw_session(reader: &str, apdus: &[Command]) -> Vec<Response> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).unwrap();
    let name = std::ffi::CString::new(reader).unwrap();
    let card = ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY).unwrap();
    let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    apdus.iter().map(|a| Response::parse(card.transmit(&a.to_bytes(), &mut buf).unwrap()).unwrap()).collect()
}

#[test]
fn happy_path_identifies_signs_in_and_leaves_no_verified_state() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let _card = card(0, &[]);
    let log = new_log();
    let mut client = client(&log);
    wait_for_card(&mut client, VPCD_READERS[0]);

    let id = client.identify(VPCD_READERS[0]).unwrap();
    assert_eq!(id.identity, expected_identity());
    assert_eq!(id.pin, PinStatus::TriesLeft(3));
    assert_eq!(verify_with_data(&log.lock().unwrap()), 0, "identify sends no PIN");

    let signed = client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap();
    assert_eq!(signed.identity, expected_identity());
    assert_eq!(verify_with_data(&log.lock().unwrap()), 1, "exactly one VERIFY, never resent");

    // The session reset the card: a next program cannot sign without the PIN.
    let r = raw_session(
        VPCD_READERS[0],
        &[
            Command::select_df(&jpki::JPKI_AID),
            Command::select_ef(jpki::EF_AUTH_KEY),
            Command::compute_signature(&jpki::sha256_digest_info(&[0; 32])),
        ],
    );
    assert_eq!(r[2].sw, 0x6982);
    assert_eq!(client.identify(VPCD_READERS[0]).unwrap().pin, PinStatus::TriesLeft(3));
}

#[test]
fn wrong_pins_count_down_3_2_1_then_the_pin_is_refused() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let _card = card(0, &["--pin", "2580"]);
    let log = new_log();
    let mut client = client(&log);
    wait_for_card(&mut client, VPCD_READERS[0]);

    assert_eq!(client.identify(VPCD_READERS[0]).unwrap().pin, PinStatus::TriesLeft(3));
    let err = client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap_err();
    assert!(matches!(err, CardError::WrongPin { tries_left: 2 }), "{err}");
    let err = client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap_err();
    assert!(matches!(err, CardError::WrongPin { tries_left: 1 }), "{err}");
    let err = client.strong_sign_in(VPCD_READERS[0], &pin("2580")).unwrap_err();
    assert!(matches!(err, CardError::StaffHelpNeeded { tries_left: 1 }), "{err}");
    assert!(err.to_string().contains("staff help"), "{err}");
    assert_eq!(verify_with_data(&log.lock().unwrap()), 2, "the refused attempt sent no PIN");
    assert_eq!(client.identify(VPCD_READERS[0]).unwrap().pin, PinStatus::TriesLeft(1));
}

#[test]
fn a_blocked_card_is_reported_and_gets_no_pin() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let _card = card(0, &["--tries", "0"]);
    let log = new_log();
    let mut client = client(&log);
    wait_for_card(&mut client, VPCD_READERS[0]);

    let id = client.identify(VPCD_READERS[0]).unwrap();
    assert_eq!((id.identity, id.pin), (expected_identity(), PinStatus::Blocked));
    let err = client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap_err();
    assert!(matches!(err, CardError::PinBlocked), "{err}");
    assert_eq!(verify_with_data(&log.lock().unwrap()), 0);
}

#[test]
fn a_card_pulled_mid_signature_is_gone_and_signs_in_after_it_returns() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    // Learn which APDU of a strong sign-in is the signature.
    let log = new_log();
    let mut client = client(&log);
    let sign_at = {
        let _card = card(0, &[]);
        wait_for_card(&mut client, VPCD_READERS[0]);
        client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap();
        let log = log.lock().unwrap();
        log.iter().position(|x| x.command.starts_with(&[0x80, 0x2A])).unwrap() + 1
    };
    wait_until("the card gone", Duration::from_secs(10), || {
        client.reader_with_card().ok().flatten().is_none()
    })
    .unwrap();
    let sign_at = sign_at.to_string();
    let _card = card(0, &["--remove-at-apdu", &sign_at, "--reinsert-after-ms", "500"]);
    wait_for_card(&mut client, VPCD_READERS[0]);
    let mut monitor = Monitor::new();
    monitor.poll(Duration::ZERO);
    assert!(monitor.card_present(VPCD_READERS[0]));

    let err = client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap_err();
    assert!(matches!(err, CardError::CardGone(_)), "{err}");
    assert!(err.is_card_gone());
    let events = poll_until(&mut monitor, |e| e.contains(&CardEvent::CardRemoved(VPCD_READERS[0].into())));
    assert!(!events.contains(&CardEvent::ServiceLost), "{events:?}");
    // Held to the reader again: a fresh session works, with all tries left.
    poll_until(&mut monitor, |e| e.contains(&CardEvent::CardPresent(VPCD_READERS[0].into())));
    client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap();
}

/// Polls until `done` holds for the events seen so far (10 s at most).
fn poll_until(monitor: &mut Monitor, done: impl Fn(&[CardEvent]) -> bool) -> Vec<CardEvent> {
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done(&seen) {
        assert!(std::time::Instant::now() < deadline, "events so far: {seen:?}");
        seen.extend(monitor.poll(Duration::from_millis(200)));
    }
    seen
}

#[test]
fn a_card_in_the_second_slot_is_found_and_read() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let _card = card(1, &[]);
    let log = new_log();
    let mut client = client(&log);
    wait_for_card(&mut client, VPCD_READERS[1]);
    assert_eq!(client.readers().unwrap(), VPCD_READERS);
    assert!(matches!(client.identify(VPCD_READERS[0]), Err(CardError::NoCard)));
    assert_eq!(client.identify(VPCD_READERS[1]).unwrap().identity, expected_identity());
    client.strong_sign_in(VPCD_READERS[1], &pin("1234")).unwrap();
}

#[test]
fn no_reader_and_no_pcscd_are_clear_errors() {
    let _serial = serial();
    let log = new_log();
    let mut client = client(&log);
    {
        let _pcscd = Pcscd::start_without_readers().unwrap();
        assert_eq!(client.readers().unwrap(), Vec::<String>::new());
        let err = client.reader_with_card().unwrap_err();
        assert!(matches!(err, CardError::NoReader), "{err}");
        let mut monitor = Monitor::new();
        assert_eq!(monitor.poll(Duration::from_millis(100)), vec![]);
    }
    let err = client.identify(VPCD_READERS[0]).unwrap_err();
    assert!(matches!(err, CardError::NoService), "{err}");
    assert!(err.to_string().contains("pcscd"));
    let mut monitor = Monitor::new();
    assert_eq!(monitor.poll(Duration::from_millis(50)), vec![CardEvent::ServiceLost]);
    assert_eq!(monitor.poll(Duration::from_millis(50)), vec![], "reported once");
}

#[test]
fn pcscd_restarted_during_a_session_is_card_gone_then_recovers() {
    let _serial = serial();
    let pcscd = Pcscd::start().unwrap();
    let _card = card(0, &[]);
    let log = new_log();
    let mut client = client(&log);
    let mut monitor = Monitor::new();
    poll_until(&mut monitor, |e| e.contains(&CardEvent::CardPresent(VPCD_READERS[0].into())));
    assert_eq!(client.identify(VPCD_READERS[0]).unwrap().identity, expected_identity());

    pcscd.stop();
    let events = poll_until(&mut monitor, |e| e.contains(&CardEvent::ServiceLost));
    assert!(events.contains(&CardEvent::CardRemoved(VPCD_READERS[0].into())), "{events:?}");
    let err = client.identify(VPCD_READERS[0]).unwrap_err();
    assert!(matches!(err, CardError::NoService | CardError::CardGone(GoneReason::ServiceLost)), "{err}");

    let _pcscd = Pcscd::start().unwrap();
    let events = poll_until(&mut monitor, |e| e.contains(&CardEvent::CardPresent(VPCD_READERS[0].into())));
    assert!(events.contains(&CardEvent::ServiceBack), "{events:?}");
    assert_eq!(client.identify(VPCD_READERS[0]).unwrap().identity, expected_identity());
}

#[test]
fn the_first_status_of_an_empty_reader_is_not_a_removal() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let mut monitor = Monitor::new();
    let first = monitor.poll(Duration::from_millis(300));
    let added: Vec<CardEvent> = VPCD_READERS.iter().map(|r| CardEvent::ReaderAdded((*r).into())).collect();
    assert_eq!(first, added);
    assert_eq!(monitor.poll(Duration::from_millis(300)), vec![], "nothing happened");
    let card = card(0, &[]);
    poll_until(&mut monitor, |e| e == [CardEvent::CardPresent(VPCD_READERS[0].into())]);
    card.pull();
    poll_until(&mut monitor, |e| e == [CardEvent::CardRemoved(VPCD_READERS[0].into())]);
}

#[test]
fn the_client_never_selects_the_kenmen_application_nor_sees_the_number() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let _card = card(0, &[]);
    let log = new_log();
    let mut client = client(&log);
    wait_for_card(&mut client, VPCD_READERS[0]);
    client.identify(VPCD_READERS[0]).unwrap();
    client.strong_sign_in(VPCD_READERS[0], &pin("1234")).unwrap();
    let _ = client.strong_sign_in(VPCD_READERS[0], &pin("9999"));

    let mut all = log.lock().unwrap().clone();
    all.extend(ALL_EXCHANGES.lock().unwrap().iter().cloned());
    assert!(all.len() > 20, "the scan saw the sessions ({} exchanges)", all.len());
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for x in &all {
        assert!(!contains(&x.command, &KENMEN_HOJO_AID), "selected the 券面事項入力補助AP: {x}");
        assert!(
            !contains(&x.command, &TEST_INDIVIDUAL_NUMBER) && !contains(&x.response, &TEST_INDIVIDUAL_NUMBER)
        );
        // Only JPKI's AID is ever selected by name.
        if x.command.starts_with(&[0x00, 0xA4, 0x04]) {
            assert_eq!(&x.command[5..], &jpki::JPKI_AID);
        }
        // The loggable form carries no PIN and no certificate bytes.
        let shown = x.to_string();
        assert!(!shown.contains("1234") && !shown.contains("31323334") && shown.len() < 60, "{shown}");
    }
    assert_eq!(format!("{:?}", pin("1234")), "Pin(****)");
}

#[test]
fn opensc_lists_the_card_and_signs_with_the_auth_key() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let _card = card(0, &[]);
    let log = new_log();
    wait_for_card(&mut client(&log), VPCD_READERS[0]);

    let dump =
        std::process::Command::new("pkcs15-tool").arg("-D").output().expect("pkcs15-tool (apt opensc)");
    let dump = String::from_utf8_lossy(&dump.stdout);
    for want in [
        "PKCS#15 Card [JPKI]",
        "X.509 Certificate [User Authentication Certificate]",
        "PIN [User Authentication PIN]",
        "Tries left     : 3",
    ] {
        assert!(dump.contains(want), "pkcs15-tool -D lacks {want:?}:\n{dump}");
    }

    let dir = tempfile::tempdir().unwrap();
    let (data, sig) = (dir.path().join("data"), dir.path().join("sig"));
    std::fs::write(&data, b"mimamori challenge for OpenSC").unwrap();
    let out = std::process::Command::new("pkcs11-tool")
        .args(["--module", "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "--slot-index", "0"])
        .args(["--login", "--pin", "1234", "--sign", "--mechanism", "SHA256-RSA-PKCS", "--id", "01"])
        .arg("-i")
        .arg(&data)
        .arg("-o")
        .arg(&sig)
        .output()
        .expect("pkcs11-tool (apt opensc)");
    assert!(out.status.success(), "pkcs11-tool: {}", String::from_utf8_lossy(&out.stderr));
    let key = anchors().verify(&pki().auth_cert_der, SystemTime::now()).unwrap();
    let hash = <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&data).unwrap());
    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hash, &std::fs::read(&sig).unwrap())
        .expect("OpenSC's signature verifies against the auth certificate");
}

#[test]
fn an_untrusted_card_is_refused() {
    let _serial = serial();
    let _pcscd = Pcscd::start().unwrap();
    let _card = card(0, &[]);
    let other_ca = TestPki::shared_for_tests();
    let mut client =
        Client::new(TrustAnchors::from_der(std::slice::from_ref(&other_ca.ca_cert_der)).unwrap());
    wait_for_card(&mut client, VPCD_READERS[0]);
    let err = client.identify(VPCD_READERS[0]).unwrap_err();
    // Same CA name, different key: an impostor CA.
    assert!(matches!(err, CardError::Untrusted(TrustError::BadSignature)), "{err}");
}

/// Certificate checks, data-driven: (what, anchors, certificate, time, expected).
#[test]
fn certificate_verification() {
    let pki = pki();
    let other = TestPki::shared_for_tests();
    let now = SystemTime::now();
    let year = |y: u64| SystemTime::UNIX_EPOCH + Duration::from_secs((y - 1970) * 365 * 86400);
    let mut tampered = pki.auth_cert_der.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let ours = TrustAnchors::from_der(std::slice::from_ref(&pki.ca_cert_der)).unwrap();
    let check =
        |what: &str, anchors: &TrustAnchors, cert: &[u8], at: SystemTime, want: Result<(), TrustError>| {
            assert_eq!(anchors.verify(cert, at).map(|_| ()), want, "{what}");
        };
    check("ours", &ours, &pki.auth_cert_der, now, Ok(()));
    check("a same-named CA's card", &ours, &other.auth_cert_der, now, Err(TrustError::BadSignature));
    check("tampered signature", &ours, &tampered, now, Err(TrustError::BadSignature));
    check("garbage", &ours, b"\x30\x03abc", now, Err(TrustError::NotACertificate));
    check("expired", &ours, &pki.auth_cert_der, year(2060), Err(TrustError::Expired));
    check("not yet valid", &ours, &pki.auth_cert_der, year(2001), Err(TrustError::Expired));
    let both = TrustAnchors::from_der(&[other.ca_cert_der.clone(), pki.ca_cert_der.clone()]).unwrap();
    check("one of two anchors", &both, &pki.auth_cert_der, now, Ok(()));
    assert_eq!(
        TrustAnchors::from_der(std::slice::from_ref(&pki.auth_cert_der)).unwrap_err(),
        TrustError::AnchorNotCa
    );
    assert!(matches!(TrustAnchors::from_pem_files(&["/nonexistent/ca.pem"]), Err(TrustError::Io(_))));
}
