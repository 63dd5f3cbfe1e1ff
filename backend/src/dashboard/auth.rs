//! Login and logout, and Argon2 password hashes (the failed-login limits are
//! `crate::attempts`).

use std::collections::HashMap;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::{PageError, SESSION_COOKIE, Session, bare_page, check_csrf, escape};
use crate::attempts;
use crate::routes::{AppState, blocking};
use crate::serve::Peer;

/// How long a login waits for a password check to be free before 503.
const VERIFY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Password checks running at once: each Argon2 verification takes 19 MiB and a
/// core for a moment, so a flood of logins queues here instead of taking the
/// server's memory and threads.
static VERIFIER: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()).min(4))
});

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
/// of 145 checks left it 2.7 GB large), and [`VERIFIER`] bounds how many run at once.
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
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("unknown login: spend the same time"))
}

/// The pre-session cookie the login form's token is bound to.
pub const LOGIN_COOKIE: &str = "mimamori_login";

/// The login form's CSRF token for a pre-session cookie value: a page on another site
/// can neither read the cookie nor compute this from it.
pub fn login_csrf_token(pre_session: &str) -> String {
    crate::store::sha256_label("mimamori-login-csrf", pre_session)
}

/// 256 random bits as 64 hex digits (two v4 UUIDs' worth of randomness and more).
fn random_token() -> String {
    use std::fmt::Write as _;
    (0..3).flat_map(|_| *uuid::Uuid::new_v4().as_bytes()).take(32).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn login_form(message: &str, pre_session: &str) -> String {
    format!(
        "<h1>みまもり ログイン</h1>{}<form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>ログイン名 <input name=\"login\" autocomplete=\"username\" required></label>\
         <label>パスワード <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">ログイン</button></form>",
        if message.is_empty() { String::new() } else { format!("<p role=\"alert\">{}</p>", escape(message)) },
        login_csrf_token(pre_session)
    )
}

/// The login page; sets a fresh pre-session cookie unless the browser has one.
pub(super) async fn login_page(headers: HeaderMap) -> Response {
    let existing = super::cookie_token_named(&headers, LOGIN_COOKIE);
    let token = existing.clone().unwrap_or_else(random_token);
    let mut resp = bare_page("ログイン", &login_form("", &token)).into_response();
    if existing.is_none() {
        // Scoped to /login, an hour: it guards one form, it is not a session.
        let cookie =
            format!("{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; Secure; SameSite=Strict; Max-Age=3600");
        resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII cookie"));
    }
    resp
}

pub(super) async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) =
        form.map_err(|_| PageError::Refused(StatusCode::BAD_REQUEST, "フォームが読めません。"))?;
    // Checked before anything is counted or verified: a forged login changes nothing.
    let pre_session = super::cookie_token_named(&headers, LOGIN_COOKIE)
        .filter(|t| form.get("csrf").is_some_and(|c| super::same_token(c, &login_csrf_token(t))))
        .ok_or(PageError::Refused(
            StatusCode::FORBIDDEN,
            "フォームの確認トークンがありません。ログイン画面を開き直してください。",
        ))?;
    let (Some(login), Some(password)) = (form.get("login"), form.get("password")) else {
        return Err(PageError::Refused(
            StatusCode::BAD_REQUEST,
            "ログイン名とパスワードを入力してください。",
        ));
    };
    let (login, password) = (login.chars().take(64).collect::<String>(), password.clone());
    let Some(attempt) = attempts::begin(&state, attempts::LOGIN, &login, peer).await? else {
        return Err(PageError::Refused(
            StatusCode::TOO_MANY_REQUESTS,
            "ログインの失敗が続いたため、しばらく待ってからやり直してください。",
        ));
    };
    let Ok(Ok(_permit)) = tokio::time::timeout(VERIFY_WAIT, VERIFIER.acquire()).await else {
        attempt.not_checked(&state).await?;
        return Err(PageError::Refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "混み合っています。少し待ってからもう一度ログインしてください。",
        ));
    };
    let l = login.clone();
    let found = blocking(&state.store, move |s| s.user_for_login(&l)).await?;
    // Verify even for an unknown login, so timing does not tell which logins exist.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        // The attempt's row stays: it is the failure.
        tracing::info!("dashboard login refused");
        let body = bare_page("ログイン", &login_form("ログイン名かパスワードが違います。", &pre_session));
        return Ok((StatusCode::UNAUTHORIZED, body).into_response());
    };
    attempt.succeeded(&state).await?;
    let id = user.user;
    let now = state.clock.now();
    let token = blocking(&state.store, move |s| s.create_session(id, now)).await?;
    tracing::info!(user = id.0, "dashboard login");
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=28800");
    let mut resp = Redirect::to("/board").into_response();
    resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII cookie"));
    Ok(resp)
}

pub(super) async fn logout(
    State(state): State<AppState>,
    session: Session,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let form = form.map(|Form(f)| f).unwrap_or_default();
    check_csrf(&session, &form)?;
    let token = session.token.clone();
    blocking(&state.store, move |s| s.end_session(&token)).await?;
    let mut resp = Redirect::to("/login").into_response();
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&expired).expect("ASCII cookie"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

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
