//! The privacy scan: looks through files (SQLite databases with their `-wal` and
//! `-shm` files, logs, captured HTTP traffic) byte by byte for secrets that must never
//! leave the card or the resident's mouth: the individual number, PINs, transcripts.
//!
//! A secret is searched in every form it could take on disk or on the wire: its UTF-8
//! bytes, JSON's `\uXXXX` escapes (either hex case), and for a 12-digit number also
//! the card face's grouped forms and SQLite's 6-byte integer. A hit names the file,
//! the offset and the secret's label, never the secret itself, so a failing test's
//! output is itself clean.

use std::fmt;
use std::path::{Path, PathBuf};

/// One thing that must not appear.
#[derive(Clone)]
pub struct Secret {
    label: String,
    /// (form name, bytes)
    forms: Vec<(&'static str, Vec<u8>)>,
    /// Short texts count only where no letter or digit touches them on either side, or
    /// every random hex id would be a "hit".
    whole_word: bool,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The label only: the value is the secret.
        f.debug_struct("Secret").field("label", &self.label).finish_non_exhaustive()
    }
}

/// Texts shorter than this are matched as whole words.
const WHOLE_WORD_BELOW: usize = 8;

impl Secret {
    /// Any text (a transcript, a name): its UTF-8 and JSON-escaped forms.
    pub fn text(label: &str, value: &str) -> Secret {
        let mut forms = vec![("utf-8", value.as_bytes().to_vec())];
        if !value.is_ascii() {
            forms.push(("json \\u escapes", json_escaped(value, false).into_bytes()));
            forms.push(("json \\u escapes, upper-case hex", json_escaped(value, true).into_bytes()));
        }
        Secret { label: label.to_owned(), whole_word: value.len() < WHOLE_WORD_BELOW, forms }
    }

    /// A PIN. Four digits occur everywhere by chance (lengths, ids, counts), so a PIN is
    /// searched in the forms in which it would leak: a quoted string, after a `pin`
    /// label, and as the data of a VERIFY APDU (raw and in hex).
    pub fn pin(label: &str, digits: &str) -> Secret {
        let mut forms: Vec<(&'static str, Vec<u8>)> = vec![
            ("quoted", format!("\"{digits}\"").into_bytes()),
            ("single-quoted", format!("'{digits}'").into_bytes()),
        ];
        for name in ["pin", "PIN", "Pin"] {
            for sep in ["=", ":", ": ", " ", "\":\"", "\":", "\": \"", "\": "] {
                forms.push(("after a pin label", format!("{name}{sep}{digits}").into_bytes()));
            }
        }
        let len = u8::try_from(digits.len()).unwrap_or(u8::MAX);
        let apdu: Vec<u8> = [0x80, len].into_iter().chain(digits.bytes()).collect();
        let hex: Vec<String> = apdu.iter().map(|b| format!("{b:02X}")).collect();
        forms.push(("verify apdu data", apdu));
        forms.push(("verify apdu data in hex", hex.concat().into_bytes()));
        forms.push(("verify apdu data in hex", hex.concat().to_lowercase().into_bytes()));
        forms.push(("verify apdu data in spaced hex", hex.join(" ").into_bytes()));
        forms.push(("verify apdu data in spaced hex", hex.join(" ").to_lowercase().into_bytes()));
        Secret { label: label.to_owned(), forms: unique(forms), whole_word: false }
    }

    /// The 12-digit individual number: plain, as printed on the card (`1234 5678 9012`,
    /// with hyphens), and as SQLite stores an integer of that size (6 bytes, big-endian).
    pub fn individual_number(label: &str, digits: &str) -> Secret {
        let mut s = Secret::text(label, digits);
        s.whole_word = false;
        if digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()) {
            let groups = [&digits[..4], &digits[4..8], &digits[8..]];
            s.forms.push(("grouped with spaces", groups.join(" ").into_bytes()));
            s.forms.push(("grouped with hyphens", groups.join("-").into_bytes()));
            if let Ok(n) = digits.parse::<u64>() {
                s.forms.push(("sqlite 6-byte integer", n.to_be_bytes()[2..].to_vec()));
            }
        }
        s
    }

    pub fn label(&self) -> &str {
        &self.label
    }
}

/// The forms with the same bytes once (upper- and lower-case hex of digits agree).
fn unique(forms: Vec<(&'static str, Vec<u8>)>) -> Vec<(&'static str, Vec<u8>)> {
    let mut seen = std::collections::BTreeSet::new();
    forms.into_iter().filter(|(_, bytes)| seen.insert(bytes.clone())).collect()
}

/// `\uXXXX` for every non-ASCII character (surrogate pairs beyond the BMP).
fn json_escaped(value: &str, upper: bool) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&if upper { format!("\\u{u:04X}") } else { format!("\\u{u:04x}") });
            }
        }
    }
    out
}

/// A secret found: where, never what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub place: String,
    pub offset: usize,
    pub label: String,
    pub form: &'static str,
}

impl fmt::Display for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}: {} ({})", self.place, self.offset, self.label, self.form)
    }
}

/// Why a scan could not finish or did not pass.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("nothing to scan: {0} (a scan of nothing proves nothing)")]
    Nothing(String),
    #[error("{} secret(s) found:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Found(Vec<Hit>),
}

/// Every hit of every secret in `bytes`; `place` names where they came from.
pub fn scan_bytes(place: &str, bytes: &[u8], secrets: &[Secret]) -> Vec<Hit> {
    let mut hits = Vec::new();
    for s in secrets {
        for (form, needle) in &s.forms {
            if needle.is_empty() || needle.len() > bytes.len() {
                continue;
            }
            for offset in memmem_all(bytes, needle) {
                let before = offset.checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(offset + needle.len()).copied();
                let touches = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
                if s.whole_word && (touches(before) || touches(after)) {
                    continue;
                }
                hits.push(Hit { place: place.to_owned(), offset, label: s.label.clone(), form });
            }
        }
    }
    hits.sort_by_key(|h| h.offset);
    hits
}

fn memmem_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    let first = needle[0];
    let mut out = Vec::new();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()].iter().position(|&b| b == first) {
            None => break,
            Some(p) => {
                let at = i + p;
                if &hay[at..at + needle.len()] == needle {
                    out.push(at);
                }
                i = at + 1;
            }
        }
    }
    out
}

/// Files under `paths` (directories walked), sorted; symlinks are not followed.
pub fn files_under(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScanError> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let meta =
            std::fs::symlink_metadata(&p).map_err(|source| ScanError::Read { path: p.clone(), source })?;
        if meta.is_dir() {
            let entries =
                std::fs::read_dir(&p).map_err(|source| ScanError::Read { path: p.clone(), source })?;
            for e in entries {
                stack.push(e.map_err(|source| ScanError::Read { path: p.clone(), source })?.path());
            }
        } else if meta.is_file() {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Scans every file under `paths`; returns how many bytes were scanned, or every hit.
pub fn scan_paths(paths: &[PathBuf], secrets: &[Secret]) -> Result<ScanReport, ScanError> {
    let files = files_under(paths)?;
    if files.is_empty() {
        return Err(ScanError::Nothing(format!("{paths:?}")));
    }
    let mut report = ScanReport::default();
    let mut hits = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).map_err(|source| ScanError::Read { path: f.clone(), source })?;
        report.files += 1;
        report.bytes += bytes.len() as u64;
        hits.extend(scan_bytes(&f.display().to_string(), &bytes, secrets));
    }
    if hits.is_empty() { Ok(report) } else { Err(ScanError::Found(hits)) }
}

/// What a clean scan covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub files: usize,
    pub bytes: u64,
}

/// True for a path a scan of a service's state should cover: SQLite files and their
/// journals, logs, captures.
pub fn is_state_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal", ".db", ".db-wal", ".log", ".http"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Vec<Secret> {
        vec![
            Secret::individual_number("the individual number", "123456789018"),
            Secret::pin("the auth PIN", "1234"),
            Secret::text("a transcript", "膝が痛い"),
        ]
    }

    /// (what is scanned, labels and offsets expected)
    fn check(bytes: &[u8], expected: &[(&str, usize)]) {
        let got: Vec<(String, usize)> =
            scan_bytes("mem", bytes, &secrets()).into_iter().map(|h| (h.label, h.offset)).collect();
        let want: Vec<(String, usize)> = expected.iter().map(|(l, o)| (l.to_string(), *o)).collect();
        assert_eq!(got, want, "in {:?}", String::from_utf8_lossy(bytes));
    }

    #[test]
    fn every_form_is_found_and_near_misses_are_not() {
        check(b"nothing here", &[]);
        check(b"no=123456789018;", &[("the individual number", 3)]);
        check(b"card 1234 5678 9018", &[("the individual number", 5)]);
        check(b"x1234-5678-9018", &[("the individual number", 1)]);
        let int = 123456789018u64.to_be_bytes();
        check(&[&[0u8, 0][..], &int[2..]].concat(), &[("the individual number", 2)]);
        check(br#"{"pin":"1234"}"#, &[("the auth PIN", 2), ("the auth PIN", 7)]);
        check(b"id 9f1234ab, seq 51234, port 12345, content-length: 1234\r\n", &[]);
        check(b"PIN: 1234", &[("the auth PIN", 0)]);
        check(b"apdu 00 20 00 80 04 31 32 33 34", &[("the auth PIN", 14)]);
        check(b"\x00\x20\x00\x80\x041234", &[("the auth PIN", 3)]);
        check("発話: 膝が痛い".as_bytes(), &[("a transcript", 8)]);
        check(br#"{"t":"\u819d\u304c\u75db\u3044"}"#, &[("a transcript", 6)]);
        check(br#"{"t":"\u819D\u304C\u75DB\u3044"}"#, &[("a transcript", 6)]);
        check(b"12345678901", &[]);
    }

    #[test]
    fn hits_and_debug_never_show_the_secret() {
        let hits = scan_bytes("db.sqlite", b"..123456789018..'1234'..", &secrets());
        assert_eq!(hits.len(), 2);
        let shown = format!("{} {:?} {:?}", ScanError::Found(hits.clone()), hits, secrets());
        assert!(
            !shown.contains("123456789018") && !shown.contains("1234 ") && !shown.contains("膝"),
            "{shown}"
        );
        assert!(shown.contains("db.sqlite at byte 2: the individual number (utf-8)"), "{shown}");
    }

    #[test]
    fn files_are_walked_and_an_empty_scan_fails() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a.log"), "clean").unwrap();
        std::fs::write(dir.path().join("sub/b.sqlite-wal"), b"\x00\x00123456789018").unwrap();
        let err = scan_paths(&[dir.path().to_path_buf()], &secrets()).unwrap_err();
        let ScanError::Found(hits) = err else { panic!("{err}") };
        assert_eq!((hits.len(), hits[0].offset), (1, 2));
        assert!(hits[0].place.ends_with("sub/b.sqlite-wal"));
        std::fs::remove_file(dir.path().join("sub/b.sqlite-wal")).unwrap();
        let report = scan_paths(&[dir.path().to_path_buf()], &secrets()).unwrap();
        assert_eq!(report, ScanReport { files: 1, bytes: 5 });
        std::fs::remove_file(dir.path().join("a.log")).unwrap();
        assert!(matches!(scan_paths(&[dir.path().to_path_buf()], &secrets()), Err(ScanError::Nothing(_))));
        assert!(is_state_file(Path::new("x/office.sqlite-wal")) && !is_state_file(Path::new("x/a.png")));
    }
}
