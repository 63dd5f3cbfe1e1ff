//! A real office server for end-to-end tests: `backend::startup::Application` on
//! port 0 over a fresh SQLite file, run on its own tokio runtime so tests can stay
//! synchronous, plus seeding helpers and read-only table counts.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use backend::config::Config;
use backend::startup::Application;
use backend::store::{CheckinWindow, NewResident, ResidentId, Store};
use chrono::{NaiveTime, Utc};

/// An office server running in this process.
pub struct Office {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub store: Store,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Office {
    pub fn start() -> Office {
        count_panics();
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            database: dir.path().join("office.sqlite"),
            ..Config::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(OFFICE_THREAD)
            .enable_all()
            .build()
            .unwrap();
        let app = runtime.block_on(Application::build(&config)).unwrap();
        let addr = app.local_addr();
        let store = app.store().clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let served = runtime.spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Office { dir, addr, store, stop: Some(tx), runtime: Some(runtime), served: Some(served) }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("office.sqlite")
    }
}

/// A resident with an all-day check-in window, added straight to the office's store.
pub fn add_resident(store: &Store, display_name: &str) -> ResidentId {
    let window = CheckinWindow {
        start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        grace_minutes: 60,
    };
    let r = NewResident {
        display_name: display_name.to_owned(),
        district: "大井沢".to_owned(),
        card: None,
        window,
    };
    store.add_resident(&r, Utc::now()).unwrap()
}

impl Drop for Office {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let (Some(rt), Some(served)) = (self.runtime.take(), self.served.take()) {
            let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), served).await });
            rt.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// A plain HTTP/1.1 request over a real socket; returns (status, body).
pub fn request(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    let req = tests::fuzz::FuzzRequest {
        category: "plain",
        raw: tests::fuzz::http(method, path, &headers, body.as_bytes()),
        half_close: false,
        expect: tests::fuzz::Expect::Refused,
    };
    let resp = tests::fuzz::send(addr, &req, Duration::from_secs(20)).unwrap().expect("a response");
    (resp.status, String::from_utf8_lossy(&resp.body).into_owned())
}

/// Row counts of every table, read through a read-only connection.
pub fn table_counts(db: &Path) -> BTreeMap<String, i64> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names
        .into_iter()
        .map(|n| {
            let count = conn.query_row(&format!("SELECT COUNT(*) FROM \"{n}\""), [], |r| r.get(0)).unwrap();
            (n, count)
        })
        .collect()
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// The name of the in-process server's threads (workers and blocking pool).
const OFFICE_THREAD: &str = "office";

/// Counts panics on the in-process server's threads (a failing test elsewhere in this
/// binary is not the server panicking), still printing them as usual.
fn count_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(OFFICE_THREAD) {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

pub fn panics_so_far() -> usize {
    PANICS.load(Ordering::SeqCst)
}

/// A number from the environment (soak sizes), or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
        Err(_) => default,
    }
}

/// One HTTP/1.1 exchange with `Connection: close` and the given headers, waiting at
/// most `wait` for the answer: (status, head, body).
pub fn exchange(
    to: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    wait: Duration,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(to).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: office\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_owned(), body.to_owned())
}

/// The `backend` binary run as the office's terminal would (`add-user`, `add-resident`,
/// …) on database `db`, with `stdin` typed in.
pub fn run_backend(
    bin: &Path,
    db: &Path,
    config: Option<&Path>,
    args: &[&str],
    stdin: &[u8],
) -> std::process::Output {
    let mut cmd = Command::new(bin);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    let mut child = cmd
        .args(args)
        .env("MIMAMORI_DATABASE", db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}
