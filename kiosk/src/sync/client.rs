//! The tablet API over HTTP: enrol, upload a batch, pull, heartbeat.
//!
//! Bodies are `wire` types only. Every call has a timeout; a response body that does
//! not parse (cut off mid-way, or not JSON) is an error like a dropped connection, so
//! the caller retries and the office's idempotency makes the retry safe.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a call did not give a usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No connection (refused, reset, DNS).
    #[error("office unreachable: {0}")]
    Unreachable(String),
    #[error("request timed out")]
    Timeout,
    /// 401/403: the token is unknown or revoked.
    #[error("device token refused ({0})")]
    Unauthorized(u16),
    /// 429: the office asks us to slow down.
    #[error("office busy (429): {0}")]
    TooMany(String),
    /// Another 4xx: the office refuses this request for good.
    #[error("request refused ({status}): {reason}")]
    Refused { status: u16, reason: String },
    #[error("office error {0}")]
    Server(u16),
    /// The body was cut off or not what the API promises.
    #[error("unreadable response: {0}")]
    BadResponse(String),
    /// Health answers travel only over TLS: plain HTTP is for this machine alone.
    #[error("refusing {0}: use https (plain http only to localhost)")]
    Insecure(String),
}

/// A client for one office server.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Url,
}

impl Api {
    /// `office.url` is the office's base URL (`https://office.example/`).
    pub fn new(office: &super::Office, timeout: Duration, app_version: &str) -> Result<Api, CallError> {
        let server = &office.url;
        if !secure_enough(server) {
            return Err(CallError::Insecure(format!(
                "{}://{}",
                server.scheme(),
                server.host_str().unwrap_or("")
            )));
        }
        let mut http = reqwest::Client::builder();
        for ca in &office.ca {
            http = http.add_root_certificate(ca.clone());
        }
        let http = http
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(format!("mimamori-kiosk/{app_version}"))
            .build()
            .map_err(|e| CallError::Unreachable(format!("HTTP client: {e}")))?;
        let mut base = server.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Api { http, base })
    }

    fn url(&self, route: &str) -> Result<Url, CallError> {
        let path = format!("{}{route}", wire::API_PREFIX.trim_start_matches('/'));
        self.base.join(&path).map_err(|e| CallError::Unreachable(format!("bad server URL: {e}")))
    }

    pub async fn enrol(&self, req: &wire::EnrolRequest) -> Result<wire::EnrolResponse, CallError> {
        self.send(self.http.post(self.url("/enrol")?).json(req)).await
    }

    pub async fn upload(&self, token: &str, batch: &wire::EventBatch) -> Result<wire::UploadAck, CallError> {
        self.send(self.http.post(self.url("/events")?).bearer_auth(token).json(batch)).await
    }

    pub async fn pull(&self, token: &str, after: u64) -> Result<wire::PullResponse, CallError> {
        let mut url = self.url("/pull")?;
        url.query_pairs_mut().append_pair("after", &after.to_string());
        self.send(self.http.get(url).bearer_auth(token)).await
    }

    pub async fn heartbeat(
        &self,
        token: &str,
        hb: &wire::Heartbeat,
    ) -> Result<wire::HeartbeatAck, CallError> {
        self.send(self.http.post(self.url("/heartbeat")?).bearer_auth(token).json(hb)).await
    }

    /// A published dialect bundle's bytes, as the office stored them.
    pub async fn dialect_bundle(&self, token: &str, version: u32) -> Result<Vec<u8>, CallError> {
        let url = self.url(&format!("/dialect-bundle/{version}"))?;
        self.send_bytes(self.http.get(url).bearer_auth(token)).await
    }

    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, CallError> {
        let bytes = self.send_bytes(req).await?;
        serde_json::from_slice(&bytes).map_err(|e| CallError::BadResponse(e.to_string()))
    }

    async fn send_bytes(&self, req: reqwest::RequestBuilder) -> Result<Vec<u8>, CallError> {
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let reason = || {
            serde_json::from_slice::<wire::ApiError>(&bytes)
                .map(|e| e.error.chars().take(200).collect())
                .unwrap_or_else(|_| status.canonical_reason().unwrap_or("").to_owned())
        };
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => CallError::Unauthorized(status.as_u16()),
            StatusCode::TOO_MANY_REQUESTS => CallError::TooMany(reason()),
            StatusCode::REQUEST_TIMEOUT => CallError::Timeout,
            s if s.is_client_error() => CallError::Refused { status: s.as_u16(), reason: reason() },
            s => CallError::Server(s.as_u16()),
        })
    }
}

/// Serialises for the size check of a batch (the office refuses bodies over
/// [`wire::MAX_BODY_BYTES`]).
pub fn body_len<T: Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |v| v.len())
}

/// HTTPS anywhere; plain HTTP only to a loopback address (tests, the demo's embedded
/// office, a proxy on the tablet itself).
fn secure_enough(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(|h| {
            h == "localhost"
                || h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

fn transport(e: reqwest::Error) -> CallError {
    if e.is_timeout() {
        CallError::Timeout
    } else if e.is_body() || e.is_decode() {
        CallError::BadResponse(e.to_string())
    } else {
        // Connect errors and resets; the message names no resident data.
        CallError::Unreachable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_machine() {
        let check = |url: &str, ok: bool| {
            let url: Url = url.parse().unwrap();
            let made = Api::new(&url.clone().into(), Duration::from_secs(1), "test");
            assert_eq!(made.is_ok(), ok, "{url}: {made:?}");
            if !ok {
                assert!(matches!(made, Err(CallError::Insecure(_))));
            }
        };
        check("https://office.example/", true);
        check("http://127.0.0.1:8080/", true);
        check("http://[::1]:8080/", true);
        check("http://localhost/", true);
        check("http://office.example/", false);
        check("http://192.168.1.10/", false);
        check("ftp://127.0.0.1/", false);
    }
}
