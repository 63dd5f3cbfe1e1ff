//! The staff PIN: a salted Argon2id hash in a file only the kiosk's user can read
//! (written by `kiosk set-staff-pin`, never given on the command line), and the
//! lockout that grows with wrong tries and survives a restart (its count lives in
//! the local store).

use std::path::{Path, PathBuf};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use chrono::{DateTime, Utc};

use crate::flow::staff::PinCheck;

/// Why the PIN file cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum StaffPinError {
    #[error("the staff PIN must be 4 to 12 digits")]
    NotAPin,
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} does not hold a staff PIN hash (write it with `kiosk set-staff-pin`)")]
    Malformed { path: PathBuf },
}

/// Where the PIN file lives when not named: beside the local store.
pub fn default_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.staff-pin", db.display()))
}

/// Whether `pin` is a PIN staff can type on the keypad.
fn plausible(pin: &str) -> bool {
    (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// A salted Argon2id PHC string for `pin`.
pub fn hash(pin: &str) -> Result<String, StaffPinError> {
    if !plausible(pin) {
        return Err(StaffPinError::NotAPin);
    }
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes()).expect("16 bytes make a salt");
    Ok(argon2::Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .expect("default parameters accept any PIN")
        .to_string())
}

/// Writes `pin`'s hash to `path` (0600, replacing the file whole).
pub fn write(path: &Path, pin: &str) -> Result<(), StaffPinError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let phc = hash(pin)?;
    let err = |source| StaffPinError::Write { path: path.to_path_buf(), source };
    let next = PathBuf::from(format!("{}.new", path.display()));
    let _ = std::fs::remove_file(&next);
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&next).map_err(err)?;
    file.write_all(format!("{phc}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(err)?;
    std::fs::rename(&next, path).map_err(err)
}

/// The hash in `path`; `None` when there is no file (staff mode stays shut).
pub fn read(path: &Path) -> Result<Option<String>, StaffPinError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StaffPinError::Read { path: path.to_path_buf(), source }),
    };
    let phc = text.trim().to_owned();
    PasswordHash::new(&phc).map_err(|_| StaffPinError::Malformed { path: path.to_path_buf() })?;
    Ok(Some(phc))
}

/// Whether `pin` matches the PHC string (false for a malformed one).
pub fn verify(pin: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|h| argon2::Argon2::default().verify_password(pin.as_bytes(), &h).is_ok())
}

/// Wrong tries allowed before the keypad waits.
pub const FREE_TRIES: u32 = 5;

/// How long the keypad stays shut after `failures` wrong tries in a row: nothing for
/// the first [`FREE_TRIES`], then 15 minutes, doubling with each further wrong try,
/// up to a day. All 10⁴ four-digit PINs would take years.
pub fn lockout(failures: u32) -> Duration {
    match failures.checked_sub(FREE_TRIES) {
        None => Duration::ZERO,
        Some(over) => Duration::from_secs((15 * 60) << over.min(7)).min(Duration::from_secs(24 * 3600)),
    }
}

/// Checks a typed PIN against `phc` unless the keypad is locked, and keeps the count
/// of wrong tries in `store`. A store that cannot count refuses to check (a lockout
/// that cannot be kept is no lockout).
pub fn check(store: &mut crate::store::Store, pin: &str, phc: &str, now: DateTime<Utc>) -> PinCheck {
    let minutes = |d: chrono::TimeDelta| (d.num_seconds().max(0) as u64).div_ceil(60).max(1);
    let Ok((failures, last)) = store.staff_pin_failures() else { return PinCheck::Failed };
    let wait = chrono::TimeDelta::from_std(lockout(failures)).unwrap_or(chrono::TimeDelta::MAX);
    if let Some(last) = last.filter(|_| !wait.is_zero()) {
        // A clock set back does not lengthen the wait past the lockout itself.
        let open_at = last + wait;
        if now < open_at && last <= now {
            return PinCheck::Locked { minutes: minutes(open_at - now) };
        }
    }
    if verify(pin, phc) {
        return match store.clear_staff_pin_failures() {
            Ok(()) => PinCheck::Right,
            Err(_) => PinCheck::Failed,
        };
    }
    match store.record_staff_pin_failure(now) {
        Ok(n) => match lockout(n) {
            d if d.is_zero() => PinCheck::Wrong { wait_minutes: 0 },
            d => PinCheck::Wrong { wait_minutes: d.as_secs().div_ceil(60) },
        },
        Err(_) => PinCheck::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lockout_grows_from_the_sixth_try_to_a_day() {
        fn check(failures: u32, minutes: u64) {
            assert_eq!(lockout(failures), Duration::from_secs(minutes * 60), "{failures} wrong tries");
        }
        for (failures, minutes) in
            [(0, 0), (4, 0), (5, 15), (6, 30), (7, 60), (9, 240), (11, 960), (12, 1440), (99, 1440)]
        {
            check(failures, minutes);
        }
    }

    #[test]
    fn the_file_holds_a_salted_hash_only_its_owner_reads() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = default_path(&dir.path().join("kiosk.sqlite"));
        assert_eq!(read(&path).unwrap(), None, "no file: no staff PIN");
        for bad in ["", "123", "12ab", "1234567890123"] {
            assert!(matches!(write(&path, bad), Err(StaffPinError::NotAPin)), "{bad:?}");
        }
        write(&path, "2468").unwrap();
        let first = read(&path).unwrap().unwrap();
        assert!(first.starts_with("$argon2id$") && !first.contains("2468"));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(verify("2468", &first) && !verify("2469", &first) && !verify("2468", "junk"));
        write(&path, "2468").unwrap();
        assert_ne!(read(&path).unwrap().unwrap(), first, "salted: the same PIN hashes differently");
        std::fs::write(&path, "d0be2dc421be4fcd0172e5afceea3970e2f3d940\n").unwrap();
        assert!(matches!(read(&path), Err(StaffPinError::Malformed { .. })), "an old SHA-1/256 line");
    }
}
