//! The office dashboard: server-rendered Japanese pages for officers, staff and
//! 民生委員, behind a password login.
//!
//! Security: passwords are Argon2 hashes; the session cookie is `__Host-`, `HttpOnly`,
//! `Secure`, `SameSite=Strict` and its value is kept only as SHA-256 on the server;
//! every state-changing form carries a CSRF token derived from the session
//! ([`csrf_token`]) and checked by [`check_csrf`]; the login form, which comes before
//! any session, carries a token bound to a short-lived pre-session cookie
//! (`__Host-mimamori_login`, double submit: [`login_csrf_token`]); failed logins are
//! limited by `crate::attempts`. 民生委員 see only their district.

mod ack;
mod alerts;
mod audit;
mod auth;
mod board;
mod campaigns;
mod cards;
mod corrections;
mod devices;
mod disaster;
mod duty;
mod export;
mod layout;
mod news;
mod profile;
mod residents;
mod users;
mod visits;
mod weather;

pub use layout::{Chrome, NavLink, Pager};
pub use profile::email_ok;

use axum::Router;
use std::collections::HashMap;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::routes::{AppState, blocking};
use crate::store::{Role, SessionUser};

pub use auth::{LOGIN_COOKIE, login_csrf_token};

/// The session cookie's name.
/// `__Host-`: the browser keeps it only if it is `Secure`, for `Path=/` and without a
/// `Domain`, so no other host under the town's domain can set or replace it.
pub const SESSION_COOKIE: &str = "__Host-mimamori_session";

pub fn router() -> Router<AppState> {
    let pages = Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", axum::routing::post(auth::logout))
        .route("/board", get(board::board))
        .route("/alerts", get(alerts::queue))
        .route("/duty", get(duty::list).post(duty::set))
        .route("/disaster", get(disaster::show))
        .route("/disaster/declare", axum::routing::post(disaster::declare))
        .route("/disaster/end", axum::routing::post(disaster::end))
        .route("/disaster/responders", axum::routing::post(disaster::add_responder))
        .route("/roster", get(disaster::roster))
        .route("/ack/{id}/{token}", get(ack::show).post(ack::take))
        .route("/residents/new", get(profile::new_form))
        .route("/residents", get(residents::list).post(profile::enrol))
        .route("/residents/{id}", get(residents::show))
        .route("/residents/{id}/edit", get(profile::edit_form).post(profile::update))
        .route("/residents/{id}/pauses", axum::routing::post(profile::pause))
        .route("/residents/{id}/pauses/{pause}/end", axum::routing::post(profile::end_pause))
        .route("/export/monthly.csv", get(export::monthly))
        .route("/reports/monthly", get(export::report))
        .route("/audit", get(audit::list))
        .route("/card-links", get(cards::list))
        .route("/card-links/{id}/approve", axum::routing::post(cards::approve))
        .route("/devices", get(devices::list))
        .route("/devices/enrol", axum::routing::post(devices::enrol))
        .route("/devices/household", axum::routing::post(devices::join_household))
        .route("/devices/household/{resident}/leave", axum::routing::post(devices::leave_household))
        .route("/devices/{id}/revoke", axum::routing::post(devices::revoke))
        .route("/campaigns", get(campaigns::list).post(campaigns::start))
        .route("/campaigns/{id}", get(campaigns::progress))
        .route("/campaigns/{id}/close", axum::routing::post(campaigns::close))
        .route("/news", get(news::list).post(news::publish))
        .route("/news/{id}", get(news::show))
        .route("/news/{id}/withdraw", axum::routing::post(news::withdraw))
        .route("/alerts/{id}/acknowledge", axum::routing::post(alerts::acknowledge))
        .route("/alerts/{id}/resolve", axum::routing::post(alerts::resolve))
        .route("/corrections", get(corrections::list))
        .route("/corrections/{id}", axum::routing::post(corrections::save))
        .route("/corrections.tsv", get(corrections::export))
        .route("/corrections/retrain", get(corrections::retrainings).post(corrections::retrain))
        .route(
            "/dialect-bundles",
            axum::routing::post(corrections::publish)
                .layer(axum::extract::DefaultBodyLimit::max(corrections::MAX_BUNDLE_BYTES)),
        )
        .route("/visits", get(visits::list))
        .route("/visits/{id}", axum::routing::post(visits::record))
        .route("/weather", get(weather::show).post(weather::set))
        .route("/weather/clear", axum::routing::post(weather::clear))
        .route("/users", get(users::list).post(users::change));
    // The stylesheet and the script stay outside the pages' headers: they are cached,
    // and need no session.
    Router::new()
        .route(STYLESHEET, get(layout::stylesheet))
        .route(LIVE_SCRIPT, get(layout::live_script))
        .merge(with_page_headers(pages))
}

/// Where the pages find their one stylesheet (`backend/static/office.css`).
pub const STYLESHEET: &str = "/static/office.css";

/// The one script: live pages refresh themselves with it (`backend/static/live.js`).
pub const LIVE_SCRIPT: &str = "/static/live.js";

/// Headers every dashboard answer carries: script and style only from the server's
/// own files (no inline script or style anywhere), fetches only to the office, no
/// framing, no sniffing, no referrer, nothing cached (pages hold names and health
/// answers).
fn with_page_headers(router: Router<AppState>) -> Router<AppState> {
    let set = |name, value| SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value));
    router
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(header::CACHE_CONTROL, "no-store"))
}

/// A page request's failure: most send the browser to the login page.
#[derive(Debug)]
pub enum PageError {
    /// No session, or it expired.
    LoginNeeded,
    /// A reason in Japanese, shown on a small page with the status and a link back
    /// to the board.
    Refused(StatusCode, &'static str),
    /// The same, for someone with no board to go back to (no session yet, a
    /// responder, a mail's link): the way back is the login page.
    Outside(StatusCode, &'static str),
    Internal,
}

impl From<crate::error::AppError> for PageError {
    fn from(e: crate::error::AppError) -> Self {
        tracing::error!(error = %e, "dashboard request failed");
        PageError::Internal
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::LoginNeeded => Redirect::to("/login").into_response(),
            PageError::Refused(status, reason) => layout::error_page(status, reason, false),
            PageError::Outside(status, reason) => layout::error_page(status, reason, true),
            PageError::Internal => layout::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "内部エラーです。少し待ってからもう一度お試しください。",
                false,
            ),
        }
    }
}

/// The signed-in user of a page request, and their session token.
#[derive(Debug)]
pub struct Session {
    pub user: SessionUser,
    token: String,
}

impl Session {
    /// The CSRF token forms of this session must carry.
    pub fn csrf(&self) -> String {
        csrf_token(&self.token)
    }

    /// The district the user is limited to (`None`: the whole town); a 民生委員
    /// without a district sees nothing.
    pub(crate) fn scope(&self) -> Result<Option<String>, PageError> {
        match (self.user.role, &self.user.district) {
            (Role::Minsei, Some(d)) => Ok(Some(d.clone())),
            (Role::Minsei, None) => {
                Err(PageError::Refused(StatusCode::FORBIDDEN, "担当地区が設定されていません。"))
            }
            (Role::Responder, _) => Err(RESPONDERS_ONLY_ROSTER),
            _ => Ok(None),
        }
    }

    /// Office staff (admin, officer, staff) only; 民生委員 get 403 with `why`.
    pub(crate) fn require_staff(&self, why: &'static str) -> Result<(), PageError> {
        match self.user.role {
            Role::Admin | Role::Officer | Role::Staff => Ok(()),
            Role::Minsei | Role::Responder => Err(PageError::Refused(StatusCode::FORBIDDEN, why)),
        }
    }
}

/// A form posted by a signed-in user with its CSRF token checked: what every
/// state-changing page takes, so no handler can forget the check.
#[derive(Debug)]
pub struct Submitted {
    pub session: Session,
    pub form: HashMap<String, String>,
}

impl FromRequest<AppState> for Submitted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session =
            Session::from_request_parts(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let Form(form) =
            Form::<HashMap<String, String>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        check_csrf(&session, &form).map_err(IntoResponse::into_response)?;
        Ok(Submitted { session, form })
    }
}

/// The value of cookie `name` when it is a 64-hex-digit token (anything else is
/// ignored, so a forged value never reaches the store).
fn cookie_token_named(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
        .find(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn cookie_token(parts: &Parts) -> Option<String> {
    cookie_token_named(&parts.headers, SESSION_COOKIE)
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = cookie_token(parts).ok_or(PageError::LoginNeeded)?;
        let now = state.clock.now();
        let lookup = token.clone();
        let user = blocking(&state.store, move |s| s.session_user(&lookup, now)).await?;
        let session = user.map(|user| Session { user, token }).ok_or(PageError::LoginNeeded)?;
        // A responder's account opens the roster and nothing else, whatever a page's
        // own checks would allow a town-wide role.
        if session.user.role == Role::Responder && !RESPONDER_PATHS.contains(&parts.uri.path()) {
            return Err(RESPONDERS_ONLY_ROSTER);
        }
        Ok(session)
    }
}

/// The pages a responder account may open.
const RESPONDER_PATHS: [&str; 2] = ["/roster", "/logout"];

const RESPONDERS_ONLY_ROSTER: PageError =
    PageError::Outside(StatusCode::FORBIDDEN, "避難支援者のアカウントで開けるのは名簿だけです。");

/// The CSRF token of a session: a hash of its secret token under a fixed label, so
/// only a page that could read the cookie's value can know it.
pub fn csrf_token(session_token: &str) -> String {
    crate::store::sha256_label("mimamori-csrf", session_token)
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
pub(crate) fn same_token(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Checks a submitted form's `csrf` field against the session.
pub fn check_csrf(
    session: &Session,
    form: &std::collections::HashMap<String, String>,
) -> Result<(), PageError> {
    match form.get("csrf") {
        Some(t) if same_token(t, &session.csrf()) => Ok(()),
        _ => Err(PageError::Refused(
            StatusCode::FORBIDDEN,
            "フォームの確認トークンがありません。ページを開き直してください。",
        )),
    }
}

/// Whether a spreadsheet would take `text` for a formula: it starts with `= + - @`,
/// a tab or a carriage return.
pub(crate) fn starts_a_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A cell for a spreadsheet export (CSV, TSV) that a spreadsheet will show, never
/// run: text that [`starts_a_formula`] gets a leading `'`.
pub(crate) fn spreadsheet_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if starts_a_formula(text) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The page of a list a request asks for (`?page=N`, from 0; anything else is the
/// first page).
#[derive(Debug, Clone, Copy)]
pub struct ListPage(pub crate::store::Page);

impl<S: Send + Sync> FromRequestParts<S> for ListPage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let n = parts
            .uri
            .query()
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|kv| kv.strip_prefix("page="))
            .and_then(|v| v.parse::<u32>().ok())
            // Past this no list of a town reaches; a bound keeps OFFSET small.
            .filter(|n| *n < 10_000)
            .unwrap_or(0);
        Ok(ListPage(crate::store::Page(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_cells_never_start_a_formula() {
        for (text, cell) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("大井沢", "大井沢"),
            ("a=1", "a=1"),
        ] {
            assert_eq!(spreadsheet_cell(text), cell, "{text:?}");
        }
    }
}
