//! Backend integration tests: a real server on a loopback socket (port 0).

use std::net::SocketAddr;

use backend::config::Config;
use backend::startup::Application;

/// Starts a server on a fresh database; dropping the sender shuts it down.
async fn spawn_app(dir: &tempfile::TempDir) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let config =
        Config { listen: "127.0.0.1:0".parse().unwrap(), database: dir.path().join("office.sqlite") };
    let app = Application::build(&config).await.unwrap();
    let addr = app.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// A bare HTTP/1.1 GET over a real TCP socket; returns (status line, body).
async fn get(addr: SocketAddr, path: &str) -> (String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

#[tokio::test]
async fn healthz_over_a_real_socket_reports_the_migrated_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, _stop) = spawn_app(&dir).await;
    let (status, body) = get(addr, "/healthz").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    assert!(json["schema_version"].as_u64().unwrap() >= 1);
    assert!(dir.path().join("office.sqlite").is_file());
    let (status, _) = get(addr, "/no-such-page").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}
