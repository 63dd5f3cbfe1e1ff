//! The privacy scan against real SQLite files: a secret written through SQLite is
//! found in the database or its write-ahead log, even after the row is deleted, and the
//! virtual card's own number and PIN are what the scan looks for.

use tests::privacy::{ScanError, Secret, scan_paths};

/// The secrets every end-to-end scan looks for: the virtual card's individual number,
/// its auth PIN, and the given transcripts.
pub fn card_secrets(transcripts: &[&str]) -> Vec<Secret> {
    let number = std::str::from_utf8(&virtual_mynumber_card::card::TEST_INDIVIDUAL_NUMBER).unwrap();
    let pin = virtual_mynumber_card::card::Behaviour::default().auth_pin;
    let mut secrets = vec![
        Secret::individual_number("the virtual card's individual number", number),
        Secret::pin("the virtual card's auth PIN", std::str::from_utf8(&pin).unwrap()),
    ];
    secrets.extend(transcripts.iter().enumerate().map(|(i, t)| Secret::text(&format!("transcript {i}"), t)));
    secrets
}

#[test]
fn a_secret_written_through_sqlite_is_found_in_the_file_or_its_wal_even_after_delete() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kiosk.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.execute_batch("CREATE TABLE notes (t TEXT); CREATE TABLE n (v INTEGER);").unwrap();
    let secrets = card_secrets(&["膝が痛いんだず"]);
    assert!(scan_paths(&[dir.path().to_path_buf()], &secrets).is_ok(), "clean before");
    conn.execute("INSERT INTO notes VALUES (?1)", ["きょうは膝が痛いんだず"]).unwrap();
    conn.execute("DELETE FROM notes", []).unwrap();
    let ScanError::Found(hits) = scan_paths(&[dir.path().to_path_buf()], &secrets).unwrap_err() else {
        panic!("expected hits")
    };
    assert!(hits.iter().any(|h| h.label == "transcript 0"), "{hits:?}");
    // The number stored as an integer is found in SQLite's binary form too.
    let number: i64 =
        std::str::from_utf8(&virtual_mynumber_card::card::TEST_INDIVIDUAL_NUMBER).unwrap().parse().unwrap();
    conn.execute("INSERT INTO n VALUES (?1)", [number]).unwrap();
    let ScanError::Found(hits) = scan_paths(&[dir.path().to_path_buf()], &secrets).unwrap_err() else {
        panic!("expected hits")
    };
    assert!(hits.iter().any(|h| h.form == "sqlite 6-byte integer"), "{hits:?}");
    let shown = hits.iter().map(ToString::to_string).collect::<String>();
    assert!(!shown.contains("123456789018") && !shown.contains("膝"), "{shown}");
}
