//! Serving connections with limits, so a slow or hostile client cannot hold the
//! office: at most [`Limits::max_connections`] open at once (more are closed on
//! accept), request headers read within [`Limits::header_read`] (an idle keep-alive
//! connection waits no longer either), within [`Limits::header_read_busy`] for a
//! connection accepted while more than half the slots are taken (a flood of
//! half-sent requests frees its slots sooner), and each request answered within
//! [`Limits::request`] (a body that trickles in gets 408).
//!
//! hyper's HTTP/1 server does the protocol and its timer the header deadline; this
//! file only accepts, counts and shuts down gracefully. Each request carries the
//! client's address ([`Peer`]) for the login limits: the connection's peer, or, when
//! that peer is a configured TLS proxy, the address the proxy says it serves
//! ([`client_address`]), so one proxy in front does not put every user in one bucket.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// The limits a served connection lives under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read: Duration,
    /// The header deadline of a connection accepted while over half the slots are taken.
    pub header_read_busy: Duration,
    pub request: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        // A town office: tens of tablets and a few browsers; 512 leaves room for a
        // burst of tablets coming back online after a storm.
        Limits {
            max_connections: 512,
            header_read: Duration::from_secs(10),
            // A tablet on a slow mobile link still sends its few hundred header bytes
            // within two seconds.
            header_read_busy: Duration::from_secs(2),
            request: Duration::from_secs(30),
        }
    }
}

/// The address a request came from (`None` in-process, in tests without a socket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// The client a request is from: `peer`, unless `peer` is one of the `trusted`
/// proxies; then the right-most address in `X-Forwarded-For` that is not itself a
/// trusted proxy (what the nearest untrusted hop connected from; entries further
/// left are whatever the client claimed). A trusted proxy that sends no readable
/// address leaves the request under the proxy's own address.
pub fn client_address(peer: SocketAddr, trusted: &[IpAddr], headers: &axum::http::HeaderMap) -> SocketAddr {
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return SocketAddr::new(ip, 0),
            Err(_) => break,
        }
    }
    peer
}

/// Serves `router` on `listener` until `shutdown`, then lets open requests finish.
/// Requests through one of the `trusted` proxies are limited by the address it
/// forwards for ([`client_address`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    trusted: Arc<[IpAddr]>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request,
    ));
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = |deadline| {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(deadline);
        http
    };
    let (relaxed, busy) = (builder(limits.header_read), builder(limits.header_read_busy));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors or a reset before accept: wait a moment, go on.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!("connection limit reached: closing a new connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (router, trusted) = (router.clone(), trusted.clone());
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let client = client_address(peer, &trusted, req.headers());
            req.extensions_mut().insert(ConnectInfo(client));
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
        let http = if open.available_permits() < limits.max_connections / 2 { &busy } else { &relaxed };
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away mid-request is not an error worth a log line.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    // Requests in flight finish; idle keep-alive connections close now.
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(peer: &str, forwarded: &[&str], expected: &str) {
        let trusted: Vec<IpAddr> = ["127.0.0.1", "10.0.0.2"].iter().map(|a| a.parse().unwrap()).collect();
        let mut headers = axum::http::HeaderMap::new();
        for f in forwarded {
            headers.append("x-forwarded-for", f.parse().unwrap());
        }
        let peer: SocketAddr = peer.parse().unwrap();
        let got = client_address(peer, &trusted, &headers);
        assert_eq!(got.ip(), expected.parse::<IpAddr>().unwrap(), "{peer} {forwarded:?}");
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        for (peer, forwarded, expected) in [
            // Not through a proxy: the header is the client's own word, ignored.
            ("192.0.2.7:5000", &["198.51.100.1"][..], "192.0.2.7"),
            // Through the local TLS proxy.
            ("127.0.0.1:5000", &["198.51.100.1"], "198.51.100.1"),
            // A client that forges a first hop: the proxy's appended hop counts.
            ("127.0.0.1:5000", &["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1:5000", &["6.6.6.6", "198.51.100.1"], "198.51.100.1"),
            // Two trusted proxies in a row are skipped.
            ("127.0.0.1:5000", &["198.51.100.1, 10.0.0.2"], "198.51.100.1"),
            // Nothing readable: the proxy's own address.
            ("127.0.0.1:5000", &[], "127.0.0.1"),
            ("127.0.0.1:5000", &["not an address"], "127.0.0.1"),
            ("127.0.0.1:5000", &["198.51.100.1, junk"], "127.0.0.1"),
        ] {
            check(peer, forwarded, expected);
        }
    }
}
