//! `TestApp`: a router over a fresh SQLite file with a hand-moved clock, and helpers
//! to seed residents, enrol tablets and call routes in-process.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use backend::clock::{ManualClock, at_local};
use backend::routes::{AppState, router};
use backend::store::{AuditFilter, AuditLine, CheckinWindow, NewResident, ResidentId, Store};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use tower::ServiceExt as _;

/// 2026-11-28, the day most tests live in.
pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

/// Local (Japan) time `h:m` on [`day`].
pub fn local(h: u32, m: u32) -> DateTime<Utc> {
    at_local(day(), NaiveTime::from_hms_opt(h, m, 0).unwrap())
}

pub struct TestApp {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub clock: ManualClock,
    state: AppState,
}

impl TestApp {
    /// A fresh office at 07:00 local time.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("office.sqlite")).unwrap();
        let clock = ManualClock::new(local(7, 0));
        let retrainer = Arc::new(backend::retrain::Retrainer::new(&Default::default()));
        let state = AppState { store: store.clone(), clock: Arc::new(clock.clone()), retrainer };
        Self { _dir: dir, store, clock, state }
    }

    /// The same office, running `dialect-model retrain` as `config` says.
    pub fn with_retrainer(mut self, config: &backend::config::RetrainConfig) -> Self {
        self.state.retrainer = Arc::new(backend::retrain::Retrainer::new(config));
        self
    }

    /// A resident in `district` with the 08:00–10:00 window and 60 minutes' grace.
    pub fn resident(&self, district: &str) -> ResidentId {
        let window = CheckinWindow {
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            grace_minutes: 60,
        };
        let r = NewResident {
            display_name: "テスト 花子".to_owned(),
            district: district.to_owned(),
            card: None,
            window,
        };
        self.store.add_resident(&r, self.clock_now()).unwrap()
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use backend::clock::Clock as _;
        self.clock.now()
    }

    /// Enrols a tablet for `resident` through the API; returns its token.
    pub async fn tablet(&self, resident: ResidentId) -> String {
        let code = self.store.create_enrolment_code(Some(resident), self.clock_now()).unwrap();
        let (status, body) = self
            .call(Method::POST, "/api/v1/enrol", None, Body::from(format!(r#"{{"code":"{code}"}}"#)))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["device_token"].as_str().unwrap().to_owned()
    }

    /// One request through the router; returns the status and the JSON body
    /// (`Null` when the body is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Body,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = router(self.state.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    /// A raw request (dashboard pages): returns status, headers and the body text.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp =
            router(self.state.clone()).oneshot(req.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// Opens the login page as a browser would: the pre-session cookie
    /// (`__Host-mimamori_login=…`) it sets and the form's hidden CSRF token.
    pub async fn login_page(&self) -> (String, String) {
        let (status, headers, page) = self.raw(Method::GET, "/login", &[], "").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let cookie = headers["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        (cookie, csrf)
    }

    /// Posts the login form with a fresh pre-session; returns status, headers, page.
    pub async fn submit_login(&self, body: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let (cookie, csrf) = self.login_page().await;
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("cookie", cookie.as_str())];
        self.raw(Method::POST, "/login", &headers, &format!("csrf={csrf}&{body}")).await
    }

    pub async fn post(
        &self,
        path: &str,
        token: &str,
        json: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        self.call(Method::POST, path, Some(token), Body::from(json.to_string())).await
    }

    pub async fn pull_status(&self, token: &str) -> StatusCode {
        self.call(Method::GET, "/api/v1/pull?after=0", Some(token), Body::empty()).await.0
    }

    pub async fn pull(&self, token: &str, after: u64) -> serde_json::Value {
        let (status, body) =
            self.call(Method::GET, &format!("/api/v1/pull?after={after}"), Some(token), Body::empty()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// An event envelope as a tablet sends it.
pub fn event(seq: u64, kind: &str, body: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "id": uuid::Uuid::new_v4(),
        "seq": seq,
        "kind": kind,
        "device_time": "2026-11-28T00:05:00Z",
        "body": body,
    })
}

pub fn batch(events: &[serde_json::Value]) -> serde_json::Value {
    serde_json::json!({ "events": events })
}

/// The ack strings of an upload response, in order.
pub fn acks(body: &serde_json::Value) -> Vec<String> {
    body["acks"].as_array().unwrap().iter().map(|a| a[1].as_str().unwrap().to_owned()).collect()
}

/// The kinds of the items of a pull response, in order.
pub fn kinds(pull: &serde_json::Value) -> Vec<String> {
    pull["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_owned()).collect()
}

/// What tests read of the store that the pages read through their lists: a tablet's
/// last heartbeat (the device list's), a resident's audit trail (the audit page's).
pub trait Seen {
    /// The last heartbeat of `device` and when the server received it.
    fn device_health(
        &self,
        device: backend::store::DeviceId,
    ) -> Result<Option<(backend::store::DeviceHealth, DateTime<Utc>)>, backend::store::StoreError>;
}

impl Seen for Store {
    fn device_health(
        &self,
        device: backend::store::DeviceId,
    ) -> Result<Option<(backend::store::DeviceHealth, DateTime<Utc>)>, backend::store::StoreError> {
        let far = DateTime::<Utc>::MAX_UTC;
        let mut page = backend::store::Page(0);
        loop {
            let list = self.device_list(None, far, page)?;
            if let Some(row) = list.rows.into_iter().find(|d| d.device == device) {
                return Ok(row.health);
            }
            if !list.more {
                return Ok(None);
            }
            page.0 += 1;
        }
    }
}

/// A resident's audit trail, oldest first, as the audit page's query gives it.
pub trait Trail {
    fn audit_trail(&self, resident: ResidentId) -> Result<Vec<AuditLine>, backend::store::StoreError>;
}

impl Trail for Store {
    fn audit_trail(&self, resident: ResidentId) -> Result<Vec<AuditLine>, backend::store::StoreError> {
        let filter = AuditFilter { resident: Some(resident), ..AuditFilter::default() };
        let mut out = Vec::new();
        for n in 0.. {
            let page = self.audit_log(&filter, backend::store::Page(n))?;
            out.extend(page.rows.into_iter().map(|e| (e.user.map(|u| u.0), e.action, e.at)));
            if !page.more {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }
}
