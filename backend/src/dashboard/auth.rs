//! Login and logout (password hashes are `crate::password`, the failed-login
//! limits `crate::attempts`).

use std::collections::HashMap;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::{Chrome, render};
use super::{PageError, SESSION_COOKIE, Session, check_csrf};
use crate::attempts;
use crate::password::{dummy_hash, verify_password};
use crate::routes::{AppState, blocking};
use crate::serve::Peer;
use crate::store::Role;

/// How long a login waits for a password check to be free before 503: with the check
/// itself, every login is answered within a second, even in a flood.
const VERIFY_WAIT: std::time::Duration = std::time::Duration::from_millis(750);

/// Password checks running at once: each Argon2 verification takes 19 MiB and a
/// core for a moment, so a flood of logins queues here instead of taking the
/// server's memory and threads; half the cores at most, so the other half keeps
/// serving pages and tablets while a flood lasts.
static VERIFIER: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::sync::Semaphore::new((cores / 2).clamp(1, 4))
});

/// The pre-session cookie the login form's token is bound to.
pub const LOGIN_COOKIE: &str = "__Host-mimamori_login";

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

/// The login page (`templates/login.html`); `message` says why the last try failed.
#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    message: &'static str,
    csrf: String,
}

fn login_form(message: &'static str, pre_session: &str) -> Result<axum::response::Html<String>, PageError> {
    render(&LoginPage { chrome: Chrome::bare("ログイン"), message, csrf: login_csrf_token(pre_session) })
}

/// The login page; sets a fresh pre-session cookie unless the browser has one.
pub(super) async fn login_page(headers: HeaderMap) -> Result<Response, PageError> {
    let existing = super::cookie_token_named(&headers, LOGIN_COOKIE);
    let token = existing.clone().unwrap_or_else(random_token);
    let mut resp = login_form("", &token)?.into_response();
    if existing.is_none() {
        // An hour: it guards one form, it is not a session. `__Host-` needs `Path=/`.
        let cookie =
            format!("{LOGIN_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=3600");
        resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII cookie"));
    }
    Ok(resp)
}

pub(super) async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) =
        form.map_err(|_| PageError::Outside(StatusCode::BAD_REQUEST, "フォームが読めません。"))?;
    // Checked before anything is counted or verified: a forged login changes nothing.
    let pre_session = super::cookie_token_named(&headers, LOGIN_COOKIE)
        .filter(|t| form.get("csrf").is_some_and(|c| super::same_token(c, &login_csrf_token(t))))
        .ok_or(PageError::Outside(
            StatusCode::FORBIDDEN,
            "フォームの確認トークンがありません。ログイン画面を開き直してください。",
        ))?;
    let (Some(login), Some(password)) = (form.get("login"), form.get("password")) else {
        return Err(PageError::Outside(
            StatusCode::BAD_REQUEST,
            "ログイン名とパスワードを入力してください。",
        ));
    };
    let (login, password) = (login.chars().take(64).collect::<String>(), password.clone());
    let Some(attempt) = attempts::begin(&state, attempts::LOGIN, &login, peer).await? else {
        return Err(PageError::Outside(
            StatusCode::TOO_MANY_REQUESTS,
            "ログインの失敗が続いたため、しばらく待ってからやり直してください。",
        ));
    };
    let Ok(Ok(_permit)) = tokio::time::timeout(VERIFY_WAIT, VERIFIER.acquire()).await else {
        attempt.not_checked(&state).await?;
        return Err(PageError::Outside(
            StatusCode::SERVICE_UNAVAILABLE,
            "混み合っています。少し待ってからもう一度ログインしてください。",
        ));
    };
    let (l, now) = (login.clone(), state.clock.now());
    let found = blocking(&state.store, move |s| s.user_for_login(&l, now)).await?;
    // Verify even for an unknown login, so timing does not tell which logins exist.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        // The attempt's row stays: it is the failure.
        tracing::info!("dashboard login refused");
        let body = login_form("ログイン名かパスワードが違います。", &pre_session)?;
        return Ok((StatusCode::UNAUTHORIZED, body).into_response());
    };
    attempt.succeeded(&state).await?;
    let (id, role) = (user.user, user.role);
    let now = state.clock.now();
    let token = blocking(&state.store, move |s| s.create_session(id, now)).await?;
    tracing::info!(user = id.0, "dashboard login");
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=28800");
    let home = if role == Role::Responder { "/roster" } else { "/board" };
    let mut resp = Redirect::to(home).into_response();
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
