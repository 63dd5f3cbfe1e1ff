//! A loopback fault proxy for HTTP/1.1: sits between a tablet and the office and, per
//! request, passes it through, drops the connection, delays it, sends it upstream twice,
//! holds it back so a later one overtakes it, or cuts the connection mid-body, while
//! capturing every byte both ways for the privacy scan.
//!
//! Decisions come from a seeded [`Rng`] forked per connection (in accept order) and the
//! current [`FaultPlan`], which a test can change while traffic flows. It understands
//! just enough HTTP/1.1 to find message boundaries on keep-alive connections
//! (`Content-Length`, chunked responses, read-to-close responses); one request is
//! answered before the next is read, as HTTP/1.1 clients without pipelining (reqwest)
//! behave. Std threads only: dropping [`FaultProxy`] shuts every socket and joins
//! every thread.

use std::collections::HashMap;
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::rng::Rng;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Close the client's connection without forwarding anything.
    Drop,
    /// Wait this long, then forward (drawn from half the plan's maximum to all of it).
    Delay(Duration),
    /// Forward twice; the first response is discarded, the second goes to the client.
    Duplicate,
    /// Hold the request until another request (on another connection) has completed,
    /// or [`REORDER_WAIT`] passes, then forward it.
    Reorder,
    /// Forward the head and half the body (half the head when there is no body), then
    /// close both sides.
    CutRequest,
    /// Forward the request, then give the client the response's head and half its body
    /// and close.
    CutResponse,
}

/// How long a reordered request waits for another to overtake it.
pub const REORDER_WAIT: Duration = Duration::from_millis(1500);

/// Per-mille chances of each fault for every request; the rest pass. Changeable at run
/// time with [`FaultProxy::set_plan`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    pub drop: u16,
    pub delay: u16,
    pub max_delay_ms: u64,
    pub duplicate: u16,
    pub reorder: u16,
    pub cut_request: u16,
    pub cut_response: u16,
}

impl FaultPlan {
    /// Everything passes.
    pub const CLEAN: FaultPlan = FaultPlan {
        drop: 0,
        delay: 0,
        max_delay_ms: 0,
        duplicate: 0,
        reorder: 0,
        cut_request: 0,
        cut_response: 0,
    };

    /// A plan that applies `fault` to every request (`Delay(d)`: up to `d`).
    pub fn always(fault: Fault) -> FaultPlan {
        let mut p = FaultPlan::CLEAN;
        match fault {
            Fault::Pass => {}
            Fault::Drop => p.drop = 1000,
            Fault::Delay(d) => {
                p.delay = 1000;
                p.max_delay_ms = d.as_millis() as u64;
            }
            Fault::Duplicate => p.duplicate = 1000,
            Fault::Reorder => p.reorder = 1000,
            Fault::CutRequest => p.cut_request = 1000,
            Fault::CutResponse => p.cut_response = 1000,
        }
        p
    }

    /// Draws the fault for one request.
    pub fn choose(&self, rng: &mut Rng) -> Fault {
        let roll = rng.below(1000) as u16;
        let mut edge = 0u16;
        let mut hit = |chance: u16| {
            edge = edge.saturating_add(chance);
            roll < edge
        };
        if hit(self.drop) {
            Fault::Drop
        } else if hit(self.delay) {
            Fault::Delay(Duration::from_millis(rng.range(self.max_delay_ms / 2, self.max_delay_ms)))
        } else if hit(self.duplicate) {
            Fault::Duplicate
        } else if hit(self.reorder) {
            Fault::Reorder
        } else if hit(self.cut_request) {
            Fault::CutRequest
        } else if hit(self.cut_response) {
            Fault::CutResponse
        } else {
            Fault::Pass
        }
    }
}

/// How many requests met each fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultStats {
    pub connections: u64,
    pub requests: u64,
    pub passed: u64,
    pub dropped: u64,
    pub delayed: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub cut_requests: u64,
    pub cut_responses: u64,
    /// Requests that overtook a held (reordered) one.
    pub overtakes: u64,
}

impl FaultStats {
    fn count(&mut self, fault: Fault) {
        self.requests += 1;
        let slot = match fault {
            Fault::Pass => &mut self.passed,
            Fault::Drop => &mut self.dropped,
            Fault::Delay(_) => &mut self.delayed,
            Fault::Duplicate => &mut self.duplicated,
            Fault::Reorder => &mut self.reordered,
            Fault::CutRequest => &mut self.cut_requests,
            Fault::CutResponse => &mut self.cut_responses,
        };
        *slot += 1;
    }
}

/// The upstream read limit: a server that says nothing for this long is treated as gone.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest request or response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// A running proxy.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    upstream: Mutex<SocketAddr>,
    plan: Mutex<FaultPlan>,
    rng: Mutex<Rng>,
    stopping: AtomicBool,
    next_conn: AtomicU64,
    /// Open sockets per connection, shut down when the proxy stops.
    sockets: Mutex<HashMap<u64, Vec<TcpStream>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    capture: Mutex<Vec<u8>>,
    stats: Mutex<FaultStats>,
    /// Requests answered so far (reordering waits for this to move).
    completed: Mutex<u64>,
    completed_changed: Condvar,
    /// Requests currently held back by a reorder.
    holding: AtomicU64,
    /// Requests sent upstream whose response has not come back yet.
    in_flight: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A worker that panicked cannot leave these in a half-written state that matters.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FaultProxy {
    /// Listens on 127.0.0.1 port 0 in front of `upstream`.
    pub fn start(upstream: SocketAddr, seed: u64, plan: FaultPlan) -> io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: Mutex::new(upstream),
            plan: Mutex::new(plan),
            rng: Mutex::new(Rng::new(seed)),
            stopping: AtomicBool::new(false),
            next_conn: AtomicU64::new(0),
            sockets: Mutex::new(HashMap::new()),
            workers: Mutex::new(Vec::new()),
            capture: Mutex::new(Vec::new()),
            stats: Mutex::new(FaultStats::default()),
            completed: Mutex::new(0),
            completed_changed: Condvar::new(),
            holding: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        });
        let accept_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name("fault-proxy-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(FaultProxy { addr, shared, accept: Some(accept) })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the faults for requests read from now on.
    pub fn set_plan(&self, plan: FaultPlan) {
        *lock(&self.shared.plan) = plan;
    }

    /// Points new upstream connections elsewhere (a restarted server).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *lock(&self.shared.upstream) = upstream;
    }

    /// Requests forwarded upstream and not yet answered: a test that kills the server
    /// when this is non-zero kills it mid-request.
    pub fn in_flight(&self) -> u64 {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    pub fn stats(&self) -> FaultStats {
        *lock(&self.shared.stats)
    }

    /// Every byte seen so far, both directions, each chunk after a one-line marker
    /// (`\n--- conn N client>server ---\n`).
    pub fn captured(&self) -> Vec<u8> {
        lock(&self.shared.capture).clone()
    }

    /// Writes [`FaultProxy::captured`] to `path`.
    pub fn save_capture(&self, path: &std::path::Path) -> io::Result<()> {
        std::fs::write(path, self.captured())
    }

    /// Stops accepting, cuts every open connection and joins every thread.
    pub fn stop(&mut self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the accept loop with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        for socks in lock(&self.shared.sockets).values() {
            for s in socks {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        self.shared.completed_changed.notify_all();
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for w in workers {
            let _ = w.join();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = stream else { continue };
        let conn = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        let rng = lock(&shared.rng).fork(conn);
        lock(&shared.stats).connections += 1;
        let worker_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("fault-proxy-{conn}"))
            .spawn(move || serve(&worker_shared, client, conn, rng));
        if let Ok(handle) = spawned {
            let mut workers = lock(&shared.workers);
            workers.retain(|h| !h.is_finished());
            workers.push(handle);
        }
    }
}

/// One HTTP message as read off a socket.
#[derive(Debug, Clone)]
struct Message {
    bytes: Vec<u8>,
    head_len: usize,
    /// The sender will close after it (`Connection: close`, or a body read to EOF).
    closes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

/// Reads one message; `Ok(None)` at a clean end of stream before any byte.
fn read_message(r: &mut BufReader<TcpStream>, side: Side) -> io::Result<Option<Message>> {
    let mut bytes = Vec::new();
    loop {
        let before = bytes.len();
        let n = r.read_until(b'\n', &mut bytes)?;
        if n == 0 {
            if before == 0 {
                return Ok(None);
            }
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stream ended inside a head"));
        }
        // Stray blank lines between messages are allowed by RFC 9112.
        if before == 0 && (bytes == b"\r\n" || bytes == b"\n") {
            bytes.clear();
            continue;
        }
        if bytes.ends_with(b"\r\n\r\n") || bytes.ends_with(b"\n\n") {
            break;
        }
        if bytes.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
    }
    let head_len = bytes.len();
    let head = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
    let mut lines = head.lines();
    let start = lines.next().unwrap_or("").to_owned();
    let mut length = None;
    let mut chunked = false;
    let mut closes = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim() {
            "content-length" => {
                length =
                    Some(value.parse::<usize>().map_err(|_| {
                        io::Error::new(io::ErrorKind::InvalidData, "unreadable content-length")
                    })?);
            }
            "transfer-encoding" => chunked = value.contains("chunked"),
            "connection" => closes |= value.contains("close"),
            _ => {}
        }
    }
    let bodiless_status = side == Side::Response && {
        let code = start.split_whitespace().nth(1).unwrap_or("");
        code.starts_with('1') || code == "204" || code == "304"
    };
    if bodiless_status {
        // No body whatever the headers say.
    } else if chunked {
        read_chunked(r, &mut bytes)?;
    } else if let Some(n) = length {
        let mut body = vec![0; n];
        r.read_exact(&mut body)?;
        bytes.extend_from_slice(&body);
    } else if side == Side::Response {
        r.read_to_end(&mut bytes)?;
        closes = true;
    }
    Ok(Some(Message { bytes, head_len, closes }))
}

/// Appends a chunked body, trailers included, to `out`.
fn read_chunked(r: &mut BufReader<TcpStream>, out: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let mut line = Vec::new();
        r.read_until(b'\n', &mut line)?;
        out.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line);
        let size_text = text.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, then the final blank line.
            loop {
                let mut t = Vec::new();
                if r.read_until(b'\n', &mut t)? == 0 {
                    return Ok(());
                }
                out.extend_from_slice(&t);
                if t == b"\r\n" || t == b"\n" {
                    return Ok(());
                }
            }
        }
        let mut chunk = vec![0; size + 2];
        r.read_exact(&mut chunk)?;
        out.extend_from_slice(&chunk);
    }
}

/// The prefix sent before a cut: the head and half the body, or half the head.
fn cut_point(m: &Message) -> usize {
    let body = m.bytes.len() - m.head_len;
    if body > 0 { m.head_len + body / 2 } else { m.head_len / 2 }
}

struct Upstream {
    write: TcpStream,
    read: BufReader<TcpStream>,
}

impl Shared {
    fn record(&self, conn: u64, what: &str, bytes: &[u8]) {
        let mut cap = lock(&self.capture);
        cap.extend_from_slice(format!("\n--- conn {conn} {what} ---\n").as_bytes());
        cap.extend_from_slice(bytes);
    }

    fn register(&self, conn: u64, s: &TcpStream) {
        if let Ok(c) = s.try_clone() {
            lock(&self.sockets).entry(conn).or_default().push(c);
        }
    }

    fn connect_upstream(&self, conn: u64) -> io::Result<Upstream> {
        let addr = *lock(&self.upstream);
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(UPSTREAM_TIMEOUT))?;
        s.set_nodelay(true)?;
        self.register(conn, &s);
        Ok(Upstream { write: s.try_clone()?, read: BufReader::new(s) })
    }

    /// Sends `req` upstream (reconnecting once if a kept-alive connection went stale)
    /// and reads the response.
    fn exchange(&self, conn: u64, up: &mut Option<Upstream>, req: &Message) -> io::Result<Message> {
        for attempt in 0..2 {
            let fresh = up.is_none();
            if fresh {
                *up = Some(self.connect_upstream(conn)?);
            }
            let u = up.as_mut().expect("connected above");
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let result =
                u.write.write_all(&req.bytes).and_then(|()| read_message(&mut u.read, Side::Response));
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            match result {
                Ok(Some(resp)) => {
                    if resp.closes {
                        *up = None;
                    }
                    return Ok(resp);
                }
                // A kept-alive upstream connection that the server closed meanwhile: the
                // request never reached a handler, so one retry on a fresh one is sound.
                Ok(None) | Err(_) if !fresh && attempt == 0 => *up = None,
                Ok(None) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no response")),
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("upstream unavailable"))
    }

    fn wait_for_overtake(&self) -> bool {
        let deadline = Instant::now() + REORDER_WAIT;
        let mut done = lock(&self.completed);
        let start = *done;
        self.holding.fetch_add(1, Ordering::SeqCst);
        while *done == start && !self.stopping.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            done = self.completed_changed.wait_timeout(done, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        self.holding.fetch_sub(1, Ordering::SeqCst);
        *done != start
    }

    fn complete(&self) {
        let overtook = self.holding.load(Ordering::SeqCst) > 0;
        *lock(&self.completed) += 1;
        self.completed_changed.notify_all();
        if overtook {
            lock(&self.stats).overtakes += 1;
        }
    }
}

fn serve(shared: &Shared, client: TcpStream, conn: u64, mut rng: Rng) {
    let _ = client.set_nodelay(true);
    shared.register(conn, &client);
    let mut up: Option<Upstream> = None;
    if let Ok(read_half) = client.try_clone() {
        let mut reader = BufReader::new(read_half);
        let mut writer = &client;
        while !shared.stopping.load(Ordering::SeqCst) {
            let Ok(Some(req)) = read_message(&mut reader, Side::Request) else { break };
            shared.record(conn, "client>server", &req.bytes);
            let fault = lock(&shared.plan).choose(&mut rng);
            lock(&shared.stats).count(fault);
            match fault {
                Fault::Drop => break,
                Fault::Delay(d) => std::thread::sleep(d),
                Fault::Reorder => {
                    shared.wait_for_overtake();
                }
                _ => {}
            }
            if fault == Fault::CutRequest {
                if up.is_none() {
                    up = shared.connect_upstream(conn).ok();
                }
                if let Some(u) = up.as_mut() {
                    let _ = u.write.write_all(&req.bytes[..cut_point(&req)]);
                }
                break;
            }
            if fault == Fault::Duplicate {
                match shared.exchange(conn, &mut up, &req) {
                    Ok(first) => shared.record(conn, "server>client (discarded duplicate)", &first.bytes),
                    Err(_) => break,
                }
            }
            let Ok(resp) = shared.exchange(conn, &mut up, &req) else { break };
            shared.record(conn, "server>client", &resp.bytes);
            if fault == Fault::CutResponse {
                let _ = writer.write_all(&resp.bytes[..cut_point(&resp)]);
                break;
            }
            if writer.write_all(&resp.bytes).is_err() {
                break;
            }
            shared.complete();
            if resp.closes || req.closes {
                break;
            }
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    if let Some(u) = up {
        let _ = u.write.shutdown(Shutdown::Both);
    }
    lock(&shared.sockets).remove(&conn);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A tiny real HTTP/1.1 upstream: answers each request with its own body echoed,
    /// counts the requests it fully received, and notes their order.
    struct Echo {
        addr: SocketAddr,
        seen: Arc<Mutex<Vec<String>>>,
        partial: Arc<AtomicUsize>,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<()>>,
    }

    impl Echo {
        fn start() -> Echo {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let partial = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let (s2, p2, st2) = (seen.clone(), partial.clone(), stop.clone());
            let thread = std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if st2.load(Ordering::SeqCst) {
                        break;
                    }
                    let (s3, p3) = (s2.clone(), p2.clone());
                    std::thread::spawn(move || {
                        let stream = stream.unwrap();
                        let mut r = BufReader::new(stream.try_clone().unwrap());
                        let mut w = &stream;
                        loop {
                            match read_message(&mut r, Side::Request) {
                                Ok(Some(m)) => {
                                    let body = m.bytes[m.head_len..].to_vec();
                                    lock(&s3).push(String::from_utf8_lossy(&body).into_owned());
                                    let resp =
                                        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                                    if w.write_all(resp.as_bytes()).and_then(|()| w.write_all(&body)).is_err()
                                    {
                                        break;
                                    }
                                }
                                Ok(None) => break,
                                Err(_) => {
                                    p3.fetch_add(1, Ordering::SeqCst);
                                    break;
                                }
                            }
                        }
                    });
                }
            });
            Echo { addr, seen, partial, stop, thread: Some(thread) }
        }

        fn seen(&self) -> Vec<String> {
            lock(&self.seen).clone()
        }
    }

    impl Drop for Echo {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect(self.addr);
            let _ = self.thread.take().unwrap().join();
        }
    }

    /// A keep-alive client: sends one POST and reads the response body, or the error.
    struct Client {
        w: TcpStream,
        r: BufReader<TcpStream>,
    }

    impl Client {
        fn connect(addr: SocketAddr) -> Client {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            Client { w: s.try_clone().unwrap(), r: BufReader::new(s) }
        }

        fn post(&mut self, body: &str) -> io::Result<String> {
            let req = format!("POST /x HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\n\r\n{body}", body.len());
            self.w.write_all(req.as_bytes())?;
            match read_message(&mut self.r, Side::Response)? {
                Some(m) => Ok(String::from_utf8_lossy(&m.bytes[m.head_len..]).into_owned()),
                None => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed")),
            }
        }
    }

    fn proxy(echo: &Echo, fault: Fault) -> FaultProxy {
        FaultProxy::start(echo.addr, 42, FaultPlan::always(fault)).unwrap()
    }

    #[test]
    fn pass_through_keeps_the_connection_alive_and_captures_both_ways() {
        let echo = Echo::start();
        let p = proxy(&echo, Fault::Pass);
        let mut c = Client::connect(p.addr());
        assert_eq!(c.post("one").unwrap(), "one");
        assert_eq!(c.post("two").unwrap(), "two");
        assert_eq!(echo.seen(), ["one", "two"]);
        let stats = p.stats();
        assert_eq!((stats.connections, stats.requests, stats.passed), (1, 2, 2));
        let cap = String::from_utf8_lossy(&p.captured()).into_owned();
        assert!(cap.contains("client>server ---\nPOST /x HTTP/1.1"), "{cap}");
        assert!(cap.contains("server>client ---\nHTTP/1.1 200 OK"), "{cap}");
        assert_eq!(cap.matches("two").count(), 2, "request and response bodies both captured");
    }

    #[test]
    fn drop_closes_without_forwarding() {
        let echo = Echo::start();
        let p = proxy(&echo, Fault::Drop);
        assert!(Client::connect(p.addr()).post("lost").is_err());
        assert!(echo.seen().is_empty());
        assert_eq!(p.stats().dropped, 1);
    }

    #[test]
    fn delay_waits_then_forwards() {
        let echo = Echo::start();
        let p = proxy(&echo, Fault::Delay(Duration::from_millis(300)));
        let started = Instant::now();
        let mut c = Client::connect(p.addr());
        for _ in 0..4 {
            assert_eq!(c.post("slow").unwrap(), "slow");
        }
        // Each delay is drawn from 150..=300 ms.
        assert!(started.elapsed() >= Duration::from_millis(600), "{:?}", started.elapsed());
        assert_eq!(p.stats().delayed, 4);
    }

    #[test]
    fn duplicate_reaches_the_server_twice_and_the_client_once() {
        let echo = Echo::start();
        let p = proxy(&echo, Fault::Duplicate);
        let mut c = Client::connect(p.addr());
        assert_eq!(c.post("twice").unwrap(), "twice");
        assert_eq!(c.post("again").unwrap(), "again", "the connection is still in step");
        assert_eq!(echo.seen(), ["twice", "twice", "again", "again"]);
        assert!(String::from_utf8_lossy(&p.captured()).contains("discarded duplicate"));
    }

    #[test]
    fn reorder_lets_a_later_request_overtake() {
        let echo = Echo::start();
        let mut p = proxy(&echo, Fault::Reorder);
        let addr = p.addr();
        let first = std::thread::spawn(move || Client::connect(addr).post("first"));
        // Let "first" arrive and be held, then send "second" on a clean plan.
        crate::process::wait_until("a held request", Duration::from_secs(5), || p.stats().reordered == 1)
            .unwrap();
        p.set_plan(FaultPlan::CLEAN);
        assert_eq!(Client::connect(addr).post("second").unwrap(), "second");
        assert_eq!(first.join().unwrap().unwrap(), "first");
        assert_eq!(echo.seen(), ["second", "first"]);
        assert_eq!(p.stats().overtakes, 1);
        p.stop();
    }

    #[test]
    fn reorder_with_nothing_behind_it_goes_after_the_wait() {
        let echo = Echo::start();
        let p = proxy(&echo, Fault::Reorder);
        let started = Instant::now();
        assert_eq!(Client::connect(p.addr()).post("alone").unwrap(), "alone");
        assert!(started.elapsed() >= REORDER_WAIT);
        assert_eq!(p.stats().overtakes, 0);
    }

    #[test]
    fn cut_request_leaves_the_server_half_a_body() {
        let echo = Echo::start();
        let p = proxy(&echo, Fault::CutRequest);
        assert!(Client::connect(p.addr()).post("a body long enough to cut").is_err());
        crate::process::wait_until("the echo to see a cut body", Duration::from_secs(5), || {
            echo.partial.load(Ordering::SeqCst) == 1
        })
        .unwrap();
        assert!(echo.seen().is_empty(), "no complete request reached the server");
    }

    #[test]
    fn cut_response_reaches_the_server_but_not_the_client() {
        let echo = Echo::start();
        let p = proxy(&echo, Fault::CutResponse);
        let err = Client::connect(p.addr()).post("answered but unheard").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
        assert_eq!(echo.seen(), ["answered but unheard"]);
    }

    #[test]
    fn in_flight_counts_requests_awaiting_the_server() {
        // A server that reads the request and answers only when told.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            read_message(&mut r, Side::Request).unwrap().unwrap();
            go_rx.recv().unwrap();
            (&s).write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").unwrap();
        });
        let p = FaultProxy::start(addr, 1, FaultPlan::CLEAN).unwrap();
        let paddr = p.addr();
        let client = std::thread::spawn(move || Client::connect(paddr).post("wait"));
        crate::process::wait_until("a request in flight", Duration::from_secs(5), || p.in_flight() == 1)
            .unwrap();
        go_tx.send(()).unwrap();
        assert_eq!(client.join().unwrap().unwrap(), "ok");
        assert_eq!(p.in_flight(), 0);
        server.join().unwrap();
    }

    #[test]
    fn same_seed_same_faults() {
        let echo = Echo::start();
        let plan = FaultPlan { drop: 300, duplicate: 300, ..FaultPlan::CLEAN };
        let run = |seed| {
            let p = FaultProxy::start(echo.addr, seed, plan).unwrap();
            let outcomes: Vec<bool> =
                (0..20).map(|i| Client::connect(p.addr()).post(&i.to_string()).is_ok()).collect();
            (outcomes, p.stats())
        };
        let (a, sa) = run(9);
        let (b, sb) = run(9);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert!(sa.dropped > 0 && sa.duplicated > 0 && sa.passed > 0, "{sa:?}");
        let (c, _) = run(10);
        assert_ne!(a, c, "another seed, other faults");
    }

    #[test]
    fn chunked_responses_and_upstream_restarts_are_followed() {
        // A server that answers in chunks and closes after each response.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            for _ in 0..2 {
                let (s, _) = listener.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                read_message(&mut r, Side::Request).unwrap().unwrap();
                (&s).write_all(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                )
                .unwrap();
            }
        });
        let p = FaultProxy::start(addr, 1, FaultPlan::CLEAN).unwrap();
        let mut c = Client::connect(p.addr());
        let body = c.post("x").unwrap();
        assert_eq!(body, "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!(c.post("y").unwrap(), body, "a second request on a new upstream connection");
        server.join().unwrap();
    }

    #[test]
    fn stop_cuts_idle_keep_alive_connections_and_joins() {
        let echo = Echo::start();
        let mut p = proxy(&echo, Fault::Pass);
        let mut c = Client::connect(p.addr());
        assert_eq!(c.post("idle after this").unwrap(), "idle after this");
        let started = Instant::now();
        p.stop();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(c.post("too late").is_err());
    }
}
