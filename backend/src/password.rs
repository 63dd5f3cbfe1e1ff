//! Dashboard passwords: Argon2id hashes, their pooled verification, and what a new
//! password must be (12 characters or more, not common, not the login).

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};

/// Why a new password is refused. `Display` is for the terminal; [`Weak::japanese`]
/// for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Weak {
    #[error("the password must be at least {MIN_CHARS} characters")]
    TooShort,
    #[error("the password must be at most {MAX_CHARS} characters")]
    TooLong,
    #[error("the password is too easy to guess (a common password, word or pattern, or the login name)")]
    Guessable,
}

/// The fewest characters a new password may have.
pub const MIN_CHARS: usize = 12;
/// The most (a bound on what each login hashes).
pub const MAX_CHARS: usize = 256;

impl Weak {
    pub fn japanese(self) -> &'static str {
        match self {
            Weak::TooShort => "パスワードは12文字以上にしてください。",
            Weak::TooLong => "パスワードは256文字以内にしてください。",
            Weak::Guessable => {
                "そのパスワードは推測されやすいです(よく使われるパスワード、単語や並び、ログイン名)。別のものにしてください。"
            }
        }
    }
}

/// Whether `password` may be set for `login`: long enough, and not guessable by the
/// zxcvbn estimator (its lists of common passwords, English words and names, keyboard
/// patterns, dates and repeats, plus the login itself): at least 10⁸ guesses.
pub fn acceptable(login: &str, password: &str) -> Result<(), Weak> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err(Weak::TooShort);
    }
    if n > MAX_CHARS {
        return Err(Weak::TooLong);
    }
    if zxcvbn::zxcvbn(password, &[login, "mimamori", "みまもり"]).score() < zxcvbn::Score::Three {
        return Err(Weak::Guessable);
    }
    Ok(())
}

/// An Argon2id PHC string for `password` (default parameters, random salt).
pub fn hash_password(password: &str) -> String {
    let salt_bytes: Vec<u8> = (0..2).flat_map(|_| *uuid::Uuid::new_v4().as_bytes()).collect();
    let salt = SaltString::encode_b64(&salt_bytes).expect("32 bytes make a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("default Argon2 parameters accept any password")
        .to_string()
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
///
/// Argon2's 19 MiB of working memory is taken from a small pool and given back, not
/// allocated per check: allocated per check, the process kept most of each (a flood
/// of 145 checks left it 2.7 GB large), and the login handler's semaphore
/// (`dashboard::auth`'s `VERIFIER`) bounds how many run at once.
pub fn verify_password(password: &str, hash: &str) -> bool {
    static POOL: std::sync::Mutex<Vec<Vec<argon2::Block>>> = std::sync::Mutex::new(Vec::new());
    let mut memory = POOL.lock().map(|mut p| p.pop()).unwrap_or_default().unwrap_or_default();
    let ok = verify_with(&mut memory, password, hash);
    if let Ok(mut pool) = POOL.lock() {
        pool.push(memory);
    }
    ok
}

fn verify_with(memory: &mut Vec<argon2::Block>, password: &str, hash: &str) -> bool {
    let Ok(hash) = PasswordHash::new(hash) else { return false };
    let (Ok(params), Some(salt), Some(expected)) = (argon2::Params::try_from(&hash), hash.salt, hash.hash)
    else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm) else { return false };
    let Ok(version) = hash.version.map_or(Ok(argon2::Version::default()), argon2::Version::try_from) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else { return false };
    memory.resize(params.block_count(), argon2::Block::new());
    let mut out = vec![0u8; expected.len()];
    argon2::Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
        .is_ok()
        // `Output`'s equality takes the same time wherever the bytes differ.
        && argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
}

/// A hash to verify against when the login is unknown (made once).
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("unknown login: spend the same time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_long_and_not_guessable() {
        fn check(login: &str, password: &str, expected: Result<(), Weak>) {
            assert_eq!(acceptable(login, password), expected, "{login}: {password:?}");
        }
        for (password, expected) in [
            ("short", Err(Weak::TooShort)),
            ("elevenchars", Err(Weak::TooShort)),
            // Twelve characters, but from the common-password list, a keyboard run, a
            // repeat, a date, or the login.
            ("password1234", Err(Weak::Guessable)),
            ("qwertyuiop12", Err(Weak::Guessable)),
            ("aaaaaaaaaaaa", Err(Weak::Guessable)),
            ("123456789012", Err(Weak::Guessable)),
            ("tanaka.hanako", Err(Weak::Guessable)),
            ("mimamori2026", Err(Weak::Guessable)),
            ("雪囲いの縄を三本かけておく", Ok(())),
            ("kettle-snowshoe-lantern-27", Ok(())),
        ] {
            check("tanaka.hanako", password, expected);
        }
        check("a", &"x7#".repeat(90), Err(Weak::TooLong));
    }

    #[test]
    fn the_pooled_check_agrees_with_the_hasher_for_any_parameters() {
        let hash = hash_password("correct horse battery");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        // Another cost than the pool's last: the working memory is resized, not reused wrong.
        let small = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(64, 1, 1, None).unwrap(),
        );
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let other = small.hash_password(b"pw-pw-pw-pw", &salt).unwrap().to_string();
        assert!(verify_password("pw-pw-pw-pw", &other) && !verify_password("pw-pw-pw-px", &other));
        assert!(verify_password("correct horse battery", &hash), "after a smaller one");
        for bad in ["", "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$", "not a hash"] {
            assert!(!verify_password("x", bad), "{bad:?}");
        }
    }
}
