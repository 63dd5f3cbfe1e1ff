//! Login and logout, Argon2 password hashes, and the failed-login rate limit.

use std::collections::HashMap;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;

use super::{PageError, SESSION_COOKIE, Session, bare_page, check_csrf, escape};
use crate::routes::{AppState, blocking};

/// More failures than this for one login within [`FAILURE_WINDOW`] → 429.
pub const MAX_FAILURES: u64 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);

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
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
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
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) =
        form.map_err(|_| PageError::Refused(StatusCode::BAD_REQUEST, "フォームが読めません。"))?;
    // Checked before anything is counted or verified: a forged login changes nothing.
    let pre_session = super::cookie_token_named(&headers, LOGIN_COOKIE)
        .filter(|t| form.get("csrf").is_some_and(|c| *c == login_csrf_token(t)))
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
    let now = state.clock.now();
    let l = login.clone();
    if blocking(&state.store, move |s| s.login_failures(&l, now, FAILURE_WINDOW)).await? >= MAX_FAILURES {
        return Err(PageError::Refused(
            StatusCode::TOO_MANY_REQUESTS,
            "ログインの失敗が続いたため、しばらく待ってからやり直してください。",
        ));
    }
    let l = login.clone();
    let found = blocking(&state.store, move |s| s.user_for_login(&l)).await?;
    // Verify even for an unknown login, so timing does not tell which logins exist.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        blocking(&state.store, move |s| s.record_login_failure(&login, now, FAILURE_WINDOW)).await?;
        tracing::info!("dashboard login refused");
        let body = bare_page("ログイン", &login_form("ログイン名かパスワードが違います。", &pre_session));
        return Ok((StatusCode::UNAUTHORIZED, body).into_response());
    };
    let id = user.user;
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
