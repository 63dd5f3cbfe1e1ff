//! What every dashboard page shares: the layout's data (title, the role's links, the
//! logout form's token), the pager, rendering a template into a response, the error
//! pages, and the one stylesheet. The markup lives in `backend/templates/`.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{PageError, Session};
use crate::store::Role;

/// The stylesheet, built into the binary so the office server stays one file.
const OFFICE_CSS: &str = include_str!("../../static/office.css");

/// The live pages' script, built in likewise.
const LIVE_JS: &str = include_str!("../../static/live.js");

/// `GET /static/office.css`: no session needed (the login page uses it) and, unlike
/// the pages, it may be cached: it holds nobody's data.
pub(super) async fn stylesheet() -> Response {
    static_file("text/css; charset=utf-8", OFFICE_CSS)
}

/// `GET /static/live.js`, as the stylesheet.
pub(super) async fn live_script() -> Response {
    static_file("text/javascript; charset=utf-8", LIVE_JS)
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// A link of the header's navigation.
#[derive(Debug)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The layout's data: the page's title and, for a signed-in page, the links the
/// user's role may follow and the logout form's token.
#[derive(Debug)]
pub struct Chrome {
    /// A fixed title, or a resident's name.
    pub title: std::borrow::Cow<'static, str>,
    pub nav: Vec<NavLink>,
    /// `None`: a page outside a session (login, errors, the mail's link).
    pub csrf: Option<String>,
}

impl Chrome {
    /// A page without a session: no links, no logout.
    pub fn bare(title: &'static str) -> Chrome {
        Chrome { title: title.into(), nav: Vec::new(), csrf: None }
    }
}

/// Who may open a linked page: mirrors the handlers' own checks, so no role is shown
/// a link that would only refuse it.
#[derive(Debug, Clone, Copy)]
enum Audience {
    /// `Session::scope`: town-wide roles, and 民生委員 with a district.
    Scoped,
    /// `Session::require_staff`.
    Staff,
    /// Officers and admins (duty, disaster mode).
    Officers,
    Admins,
    /// The roster: everyone, responders included (a 民生委員 needs a district).
    Roster,
}

/// The header's links, in order.
const LINKS: [(&str, &str, Audience); 17] = [
    ("/board", "本日の安否", Audience::Scoped),
    ("/residents", "住民の一覧", Audience::Scoped),
    ("/alerts", "対応", Audience::Scoped),
    ("/campaigns", "安否確認", Audience::Scoped),
    ("/news", "お知らせ", Audience::Scoped),
    ("/visits", "訪問リスト", Audience::Scoped),
    ("/corrections", "聞き取りの訂正", Audience::Scoped),
    ("/residents/new", "住民の登録", Audience::Staff),
    ("/devices", "端末", Audience::Staff),
    ("/card-links", "カード登録", Audience::Staff),
    ("/weather", "天気", Audience::Staff),
    ("/duty", "当番", Audience::Officers),
    ("/disaster", "災害モード", Audience::Officers),
    ("/roster", "要支援者名簿", Audience::Roster),
    ("/reports/monthly", "月次報告", Audience::Officers),
    ("/users", "アカウント", Audience::Admins),
    ("/audit", "監査記録", Audience::Admins),
];

fn serves(audience: Audience, role: Role, has_district: bool) -> bool {
    let office = matches!(role, Role::Admin | Role::Officer | Role::Staff);
    match audience {
        Audience::Scoped => office || (role == Role::Minsei && has_district),
        Audience::Staff => office,
        Audience::Officers => matches!(role, Role::Admin | Role::Officer),
        Audience::Admins => role == Role::Admin,
        Audience::Roster => role != Role::Minsei || has_district,
    }
}

impl Session {
    /// The layout of a signed-in page; `current` is the link of the page shown.
    pub fn chrome(&self, title: impl Into<std::borrow::Cow<'static, str>>, current: &str) -> Chrome {
        let has_district = self.user.district.is_some();
        let nav = LINKS
            .iter()
            .filter(|(_, _, a)| serves(*a, self.user.role, has_district))
            .map(|&(href, label, _)| NavLink { href, label, current: href == current })
            .collect();
        Chrome { title: title.into(), nav, csrf: Some(self.csrf()) }
    }
}

/// A district a town-wide role may choose in a list's filter
/// (`templates/district_select.html`): its name, how many live there, whether it is
/// the one shown.
#[derive(Debug)]
pub struct DistrictChoice {
    pub name: String,
    pub residents: u64,
    pub chosen: bool,
}

impl DistrictChoice {
    /// The choices from the store's district sizes, `chosen` marked.
    pub fn all(sizes: Vec<(String, u64)>, chosen: Option<&str>) -> Vec<DistrictChoice> {
        sizes
            .into_iter()
            .map(|(name, residents)| {
                let chosen = chosen == Some(name.as_str());
                DistrictChoice { name, residents, chosen }
            })
            .collect()
    }
}

/// Links to the previous and next page of a list (`templates/pager.html`).
#[derive(Debug)]
pub struct Pager {
    pub path: &'static str,
    pub prev: Option<u32>,
    pub next: Option<u32>,
    pub rows: usize,
    /// What the list was asked for (`key=value&`…, already URL-safe), kept across pages.
    pub query: String,
}

impl Pager {
    pub fn new(path: &'static str, page: crate::store::Page, more: bool) -> Pager {
        Pager {
            path,
            prev: page.0.checked_sub(1),
            next: more.then_some(page.0 + 1),
            rows: crate::store::PAGE_ROWS,
            query: String::new(),
        }
    }

    /// The pager of a filtered list: `query` (`key=value&`…, URL-safe) goes before `page=`.
    pub fn with_query(self, query: String) -> Pager {
        Pager { query, ..self }
    }
}

/// A template rendered into a page; a template that cannot render is an internal
/// error, never half a page.
pub fn render<T: Template>(page: &T) -> Result<Html<String>, PageError> {
    page.render().map(Html).map_err(|e| {
        tracing::error!(error = %e, "a dashboard template failed to render");
        PageError::Internal
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: &'static str,
    reason: &'static str,
    back: &'static str,
    back_label: &'static str,
}

/// The polite page of a refusal or failure, with its status kept.
pub(super) fn error_page(status: StatusCode, reason: &'static str, to_login: bool) -> Response {
    let heading = match status {
        StatusCode::FORBIDDEN => "このページは開けません",
        StatusCode::NOT_FOUND => "見つかりません",
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => "しばらくお待ちください",
        s if s.is_server_error() => "うまく動きませんでした",
        _ => "受け付けられませんでした",
    };
    let (back, back_label) =
        if to_login { ("/login", "ログイン画面へ") } else { ("/board", "本日の安否へ戻る") };
    let page = ErrorPage { chrome: Chrome::bare("エラー"), heading, reason, back, back_label };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        // The error page's own failure: the status still tells the browser.
        Err(_) => status.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_links_only_where_there_is_a_page() {
        let first = Pager::new("/alerts", crate::store::Page(0), true);
        assert_eq!((first.prev, first.next), (None, Some(1)));
        let last = Pager::new("/alerts", crate::store::Page(3), false);
        assert_eq!((last.prev, last.next), (Some(2), None));
    }

    #[test]
    fn a_minsei_is_linked_only_to_pages_that_serve_them() {
        let linked = |role, district| {
            LINKS.iter().filter(|(_, _, a)| serves(*a, role, district)).map(|l| l.0).collect::<Vec<_>>()
        };
        let minsei = linked(Role::Minsei, true);
        assert!(minsei.contains(&"/board") && minsei.contains(&"/roster"));
        for refused in [
            "/users",
            "/devices",
            "/card-links",
            "/weather",
            "/duty",
            "/disaster",
            "/residents/new",
            "/audit",
            "/reports/monthly",
        ] {
            assert!(!minsei.contains(&refused), "{refused}");
        }
        assert_eq!(linked(Role::Responder, false), ["/roster"]);
        assert!(linked(Role::Minsei, false).is_empty(), "without a district every page refuses them");
        assert_eq!(linked(Role::Admin, false).len(), LINKS.len());
    }
}
