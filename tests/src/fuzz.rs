//! A seeded generator of malformed tablet-API requests, as raw HTTP/1.1 bytes, and a
//! raw client that sends them over a real socket.
//!
//! Raw bytes, not an HTTP library, because the point is to send what a library would
//! refuse to: invalid UTF-8, wrong lengths, bodies cut short, garbage request lines.
//! Each request says what the server may do with it ([`Expect`]), so a test can hold
//! the server to "4xx with a reason, never 5xx, never a panic, nothing stored".

use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use crate::rng::Rng;

/// What the server may answer to a generated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A 4xx; nothing stored.
    Refused,
    /// A 4xx, or the connection closed without an answer (the request never ended
    /// properly: garbage framing, a body cut short); nothing stored.
    RefusedOrClosed,
    /// A 4xx, or a 200 whose acks say no event was stored (well-formed envelopes
    /// whose bodies are refused one by one).
    NothingStored,
    /// Well-formed but hostile (unknown kinds, SQL and NUL inside strings): a 4xx, or
    /// a 200 whose `stored` acks account for every row added.
    MayStore,
}

/// One generated request.
#[derive(Debug, Clone)]
pub struct FuzzRequest {
    /// Which family of bad input it belongs to (for counts and failure messages).
    pub category: &'static str,
    pub raw: Vec<u8>,
    /// Close the sending half after writing (a body shorter than its length).
    pub half_close: bool,
    pub expect: Expect,
}

/// The valid credentials a generator can misuse.
#[derive(Debug, Clone)]
pub struct FuzzContext {
    /// A working device token (so bodies get past authentication).
    pub token: String,
    /// A token of a tablet since revoked.
    pub revoked_token: String,
    /// An enrolment code already used.
    pub used_code: String,
}

/// Strings that have broken servers: SQL, NUL, path tricks, markup, bidi, huge.
const NASTY: &[&str] = &[
    "'; DROP TABLE events;--",
    "\" OR 1=1 --",
    "Robert'); DELETE FROM devices;--",
    "1; UPDATE devices SET revoked_at = NULL",
    "\u{0}",
    "a\u{0}b",
    "%00",
    "\\",
    "'",
    "\"",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "\u{202e}gnp.exe",
    "🙂𠮷",
    "=cmd|' /C calc'!A0",
    "NaN",
    "-0",
    "null",
    "",
    " ",
    "\r\n\r\nGET / HTTP/1.1",
];

/// Generates [`FuzzRequest`]s, deterministically for a seed.
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    ctx: FuzzContext,
    /// Sequence numbers for well-formed events, far above any real tablet's.
    next_seq: u64,
}

type Case = fn(&mut Generator) -> FuzzRequest;

/// Every family, chosen uniformly; huge bodies are rarer (they cost 10 MB each).
const CASES: &[(&str, Case)] = &[
    ("broken JSON", Generator::broken_json),
    ("wrong types", Generator::wrong_types),
    ("truncated body", Generator::truncated_body),
    ("deep nesting", Generator::deep_nesting),
    ("invalid UTF-8", Generator::invalid_utf8),
    ("unknown kinds", Generator::unknown_kinds),
    ("nasty strings", Generator::nasty_strings),
    ("bad tokens", Generator::bad_tokens),
    ("wrong methods", Generator::wrong_methods),
    ("wrong content types", Generator::wrong_content_types),
    ("bogus cursors", Generator::bogus_cursors),
    ("bad numbers", Generator::bad_numbers),
    ("bad event bodies", Generator::bad_event_bodies),
    ("bad enrolment", Generator::bad_enrolment),
    ("bad heartbeat", Generator::bad_heartbeat),
    ("garbage framing", Generator::garbage_framing),
    ("too many events", Generator::too_many_events),
];

/// The family names, for printing counts.
pub fn categories() -> Vec<&'static str> {
    let mut all: Vec<&str> = CASES.iter().map(|(n, _)| *n).collect();
    all.push("huge body");
    all
}

/// Chance (per mille) that a request is a 10 MB body.
const HUGE_PER_MILLE: u16 = 2;

impl Generator {
    pub fn new(seed: u64, ctx: FuzzContext) -> Generator {
        Generator { rng: Rng::new(seed), ctx, next_seq: 1_000_000 }
    }

    /// The next malformed request.
    pub fn next_request(&mut self) -> FuzzRequest {
        let mut req = if self.rng.chance(HUGE_PER_MILLE) {
            self.huge_body()
        } else {
            let (name, case) = *self.rng.pick(CASES);
            let mut r = case(self);
            r.category = name;
            r
        };
        // Any request may also come with a token other than the device's own.
        if self.rng.chance(100) && req.category != "bad tokens" {
            let token = self.bad_token();
            req.raw = replace_auth(&req.raw, &token);
            if req.expect != Expect::RefusedOrClosed {
                req.expect = Expect::Refused;
            }
        }
        req
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.ctx.token)
    }

    fn post_json(&mut self, path: &str, body: &[u8], expect: Expect) -> FuzzRequest {
        let auth = self.auth();
        FuzzRequest {
            category: "",
            raw: http("POST", path, &[("authorization", &auth), ("content-type", "application/json")], body),
            half_close: false,
            expect,
        }
    }

    fn uuid(&mut self) -> String {
        let a = self.rng.next_u64();
        let b = self.rng.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// A well-formed event of an unknown kind, as JSON text with fields in order.
    fn event_fields(&mut self) -> Vec<(&'static str, String)> {
        self.next_seq += 1;
        let kind = format!("x_fuzz_{}", self.rng.below(1000));
        vec![
            ("id", json_string(&self.uuid())),
            ("seq", self.next_seq.to_string()),
            ("kind", json_string(&kind)),
            ("device_time", json_string("2026-11-28T00:05:00Z")),
            ("body", r#"{"feeling":"good"}"#.to_owned()),
        ]
    }

    fn batch_with(
        &mut self,
        n: usize,
        edit: impl Fn(&mut Generator, &mut Vec<(&'static str, String)>),
    ) -> String {
        let events: Vec<String> = (0..n)
            .map(|_| {
                let mut fields = self.event_fields();
                edit(self, &mut fields);
                object(&fields)
            })
            .collect();
        format!(r#"{{"events":[{}]}}"#, events.join(","))
    }

    fn broken_json(&mut self) -> FuzzRequest {
        let mut text = self.batch_with(2, |_, _| {}).into_bytes();
        let at = self.rng.below(text.len() as u64) as usize;
        match self.rng.below(4) {
            0 => text.truncate(at),
            1 => text.insert(at, *self.rng.pick(b"{}[],:\"'\\x")),
            2 => text = b"{events: [".to_vec(),
            _ => text[at] = b'}',
        }
        // A cut or edit that happens to keep valid JSON cannot store: every event in it
        // is unknown-kind at most, so accept a 200 only with its acks accounted.
        self.post_json("/api/v1/events", &text, Expect::MayStore)
    }

    fn wrong_types(&mut self) -> FuzzRequest {
        let wrong = ["null", "true", "[]", "{}", "\"text\"", "1.5", "-1", "[1,2,3]", r#"{"$gt":""}"#];
        // (An empty list of events is a valid batch, and any string a valid unknown kind.)
        let not_a_list: Vec<&str> = wrong.iter().copied().filter(|w| *w != "[]").collect();
        let body = match self.rng.below(3) {
            0 => format!(r#"{{"events":{}}}"#, self.rng.pick(&not_a_list)),
            1 => self.rng.pick(&wrong).to_string(),
            _ => {
                let field = *self.rng.pick(&["id", "seq", "kind", "device_time"]);
                let value = *self.rng.pick(&wrong[..8]);
                let value = if field == "kind" && value.starts_with('"') { "7" } else { value };
                self.batch_with(1, |_, f| set(f, field, value))
            }
        };
        self.post_json("/api/v1/events", body.as_bytes(), Expect::Refused)
    }

    /// A body shorter than its Content-Length, with the sending half closed.
    fn truncated_body(&mut self) -> FuzzRequest {
        let body = self.batch_with(3, |_, _| {});
        let keep = self.rng.below(body.len() as u64) as usize;
        let auth = self.auth();
        let mut raw = head("POST", "/api/v1/events", &[("authorization", &auth)], body.len());
        raw.extend_from_slice(&body.as_bytes()[..keep]);
        FuzzRequest { category: "", raw, half_close: true, expect: Expect::RefusedOrClosed }
    }

    fn deep_nesting(&mut self) -> FuzzRequest {
        let depth = self.rng.range(200, 100_000) as usize;
        let open = if self.rng.below(2) == 0 { "[" } else { r#"{"a":"# };
        let close = if open == "[" { "]" } else { "}" };
        let deep = format!("{}1{}", open.repeat(depth), close.repeat(depth));
        let body = match self.rng.below(3) {
            0 => deep,
            1 => format!(r#"{{"events":{deep}}}"#),
            // Deep inside an otherwise valid event's free-form body.
            _ => self.batch_with(1, |_, f| set(f, "body", &deep)),
        };
        self.post_json("/api/v1/events", body.as_bytes(), Expect::Refused)
    }

    fn invalid_utf8(&mut self) -> FuzzRequest {
        let field = *self.rng.pick(&["\"kind\":\"", "\"id\":\"", "\"body\":{\"feeling\":\""]);
        let mut body = self.batch_with(1, |_, _| {}).into_bytes();
        let bad: &[u8] =
            self.rng.pick::<&[u8]>(&[b"\xff\xfe", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88"]);
        if let Some(pos) = find(&body, field.as_bytes()) {
            let at = pos + field.len();
            body.splice(at..at, bad.iter().copied());
        }
        let path = *self.rng.pick(&["/api/v1/events", "/api/v1/heartbeat", "/api/v1/enrol"]);
        self.post_json(path, &body, Expect::Refused)
    }

    fn unknown_kinds(&mut self) -> FuzzRequest {
        let n = self.rng.range(1, 5) as usize;
        let body = self.batch_with(n, |g, f| {
            let kind = match g.rng.below(4) {
                0 => json_string(g.rng.pick::<&str>(NASTY)),
                1 => json_string(&"k".repeat(g.rng.range(1, 5000) as usize)),
                2 => json_string("CHECK_IN"),
                _ => json_string("check-in"),
            };
            set(f, "kind", &kind);
        });
        self.post_json("/api/v1/events", body.as_bytes(), Expect::MayStore)
    }

    fn nasty_strings(&mut self) -> FuzzRequest {
        let nasty = json_string(self.rng.pick::<&str>(NASTY));
        // In a free-form body of an unknown kind: stored as data, never as SQL.
        if self.rng.below(2) == 0 {
            let body = self.batch_with(1, |_, f| set(f, "body", &format!(r#"{{"note":{nasty},{nasty}:1}}"#)));
            return self.post_json("/api/v1/events", body.as_bytes(), Expect::MayStore);
        }
        // In a typed field: refused.
        let field = *self.rng.pick(&["id", "device_time"]);
        let body = self.batch_with(1, |_, f| set(f, field, &nasty));
        self.post_json("/api/v1/events", body.as_bytes(), Expect::Refused)
    }

    fn bad_token(&mut self) -> String {
        let t = &self.ctx.token;
        match self.rng.below(9) {
            0 => format!("Bearer {}", self.ctx.revoked_token),
            1 => format!("Bearer mmd_{}", "0".repeat(64)),
            2 => format!("Bearer {}", &t[..t.len() / 2]),
            3 => format!("Bearer {}x", t),
            4 => format!("bearer {t}"),
            5 => format!("Basic {t}"),
            6 => format!("Bearer {}", "a".repeat(self.rng.range(129, 8000) as usize)),
            7 => format!("Bearer {}", self.rng.pick(NASTY).replace(['\r', '\n', '\0'], "")),
            _ => "Bearer ".to_owned(),
        }
    }

    fn bad_tokens(&mut self) -> FuzzRequest {
        let token = self.bad_token();
        let (method, path, body) = match self.rng.below(3) {
            0 => ("POST", "/api/v1/events", self.batch_with(1, |_, _| {})),
            1 => ("GET", "/api/v1/pull?after=0", String::new()),
            _ => ("POST", "/api/v1/heartbeat", r#"{"device_time":"2026-11-28T00:00:00Z"}"#.to_owned()),
        };
        let mut headers = vec![("content-type", "application/json")];
        if self.rng.below(8) != 0 {
            headers.push(("authorization", &token));
        }
        let raw = http(method, path, &headers, body.as_bytes());
        // Raw non-UTF-8 bytes in the header value, too.
        let raw =
            if self.rng.below(10) == 0 { replace_auth_bytes(&raw, b"Bearer \xff\xfe\x80") } else { raw };
        FuzzRequest { category: "", raw, half_close: false, expect: Expect::Refused }
    }

    fn wrong_methods(&mut self) -> FuzzRequest {
        let (method, path) = *self.rng.pick(&[
            ("GET", "/api/v1/events"),
            ("PUT", "/api/v1/events"),
            ("DELETE", "/api/v1/events"),
            ("PATCH", "/api/v1/enrol"),
            ("GET", "/api/v1/enrol"),
            ("POST", "/api/v1/pull?after=0"),
            ("DELETE", "/api/v1/pull"),
            ("GET", "/api/v1/heartbeat"),
            ("OPTIONS", "/api/v1/events"),
            ("FOO", "/api/v1/events"),
            ("POST", "/api/v1/nope"),
            ("POST", "/api/v2/events"),
            ("POST", "/api/v1/events/../enrol"),
        ]);
        let auth = self.auth();
        let body = self.batch_with(1, |_, _| {});
        let raw = http(method, path, &[("authorization", &auth)], body.as_bytes());
        FuzzRequest { category: "", raw, half_close: false, expect: Expect::Refused }
    }

    fn wrong_content_types(&mut self) -> FuzzRequest {
        let ct = *self.rng.pick(&[
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=shift_jis",
            "application/xml",
            "",
        ]);
        let auth = self.auth();
        // The API reads JSON whatever the label: the body decides. A form body is refused.
        let (body, expect) = if self.rng.below(2) == 0 {
            (self.batch_with(1, |_, _| {}), Expect::MayStore)
        } else {
            ("events=1&seq=2".to_owned(), Expect::Refused)
        };
        let raw = http(
            "POST",
            "/api/v1/events",
            &[("authorization", &auth), ("content-type", ct)],
            body.as_bytes(),
        );
        FuzzRequest { category: "", raw, half_close: false, expect }
    }

    fn bogus_cursors(&mut self) -> FuzzRequest {
        let q = *self.rng.pick(&[
            "after=-1",
            "after=abc",
            "after=18446744073709551616",
            "after=99999999999999999999999",
            "after=1e5",
            "after=%00",
            "after=0x10",
            "after=1.5",
            "after=%27%3B%20DROP%20TABLE%20pull_log%3B--",
            "after=",
            "after=+1",
            "after=1&after=2",
            "after[]=1",
            "after=%ff%fe",
            "%%%",
        ]);
        let auth = self.auth();
        let raw = http("GET", &format!("/api/v1/pull?{q}"), &[("authorization", &auth)], b"");
        // A few of these are readable cursors (past the end): an empty page is a 200.
        FuzzRequest { category: "", raw, half_close: false, expect: Expect::NothingStored }
    }

    fn bad_numbers(&mut self) -> FuzzRequest {
        let n = *self.rng.pick(&[
            "-1",
            "-9223372036854775809",
            "18446744073709551616",
            "1e400",
            "-1e400",
            "1.0e2",
            "0.5",
            "99999999999999999999999999999999",
            "-0",
        ]);
        match self.rng.below(3) {
            0 => {
                let body = self.batch_with(1, |_, f| set(f, "seq", n));
                self.post_json("/api/v1/events", body.as_bytes(), Expect::Refused)
            }
            1 => {
                let field = *self.rng.pick(&["free_storage_mib", "outbox_len"]);
                let body = format!(r#"{{"device_time":"2026-11-28T00:00:00Z","{field}":{n}}}"#);
                self.post_json("/api/v1/heartbeat", body.as_bytes(), Expect::Refused)
            }
            _ => {
                // Safety answers with an impossible campaign id are refused one by one.
                let body = self.batch_with(1, |_, f| {
                    set(f, "kind", "\"safety_answer\"");
                    set(f, "body", &format!(r#"{{"campaign_id":{n},"answer":"safe"}}"#));
                });
                self.post_json("/api/v1/events", body.as_bytes(), Expect::NothingStored)
            }
        }
    }

    fn bad_event_bodies(&mut self) -> FuzzRequest {
        let n = self.rng.range(1, 3) as usize;
        let body = self.batch_with(n, |g, f| {
            let (kind, body) = *g.rng.pick(&[
                ("safety_answer", "{}"),
                ("safety_answer", r#"{"campaign_id":"1","answer":"safe"}"#),
                ("safety_answer", r#"{"campaign_id":1,"answer":7}"#),
                ("safety_answer", "null"),
                ("card_link_requested", r#"{"card_identity":"123456789012"}"#),
                ("card_link_requested", r#"{"card_identity":"'; DROP TABLE residents;--"}"#),
                ("card_link_requested", r#"{"card_identity":"zz"}"#),
                ("card_link_requested", "[]"),
            ]);
            set(f, "kind", &json_string(kind));
            set(f, "body", body);
        });
        self.post_json("/api/v1/events", body.as_bytes(), Expect::NothingStored)
    }

    fn bad_enrolment(&mut self) -> FuzzRequest {
        let code = match self.rng.below(5) {
            0 => json_string(&self.ctx.used_code.clone()),
            1 => json_string(&format!("{:010}", self.rng.below(10_000_000_000))),
            2 => json_string(self.rng.pick::<&str>(NASTY)),
            3 => "12345".to_owned(),
            _ => "null".to_owned(),
        };
        let body =
            format!(r#"{{"code":{code},"app_version":{}}}"#, json_string(self.rng.pick::<&str>(NASTY)));
        FuzzRequest {
            category: "",
            raw: http("POST", "/api/v1/enrol", &[("content-type", "application/json")], body.as_bytes()),
            half_close: false,
            expect: Expect::Refused,
        }
    }

    fn bad_heartbeat(&mut self) -> FuzzRequest {
        let body = *self.rng.pick(&[
            r#"{"device_time":"yesterday"}"#,
            r#"{"device_time":"2026-13-45T99:99:99Z"}"#,
            r#"{"device_time":null}"#,
            r#"{}"#,
            r#"{"device_time":1732752000}"#,
            r#"{"device_time":"2026-11-28T00:00:00Z","microphone":{"a":1}}"#,
            r#"{"device_time":"2026-11-28T00:00:00Z","app_version":7}"#,
            "[]",
        ]);
        self.post_json("/api/v1/heartbeat", body.as_bytes(), Expect::Refused)
    }

    fn garbage_framing(&mut self) -> FuzzRequest {
        let auth = self.auth();
        let raw: Vec<u8> = match self.rng.below(7) {
            0 => b"\x00\x01\x02\x03\r\n\r\n".to_vec(),
            1 => b"POST /api/v1/events HTTP/9.9\r\n\r\n".to_vec(),
            2 => format!("POST /api/v1/events HTTP/1.1\r\nauthorization: {auth}\r\ncontent-length: -5\r\n\r\n")
                .into_bytes(),
            3 => format!(
                "POST /api/v1/events HTTP/1.1\r\nauthorization: {auth}\r\ncontent-length: 3\r\ncontent-length: 9\r\n\r\n{{}}"
            )
            .into_bytes(),
            4 => format!("POST /api/v1/events HTTP/1.1\r\nx-big: {}\r\n\r\n", "a".repeat(200_000)).into_bytes(),
            5 => b"GET /api/v1/pull?after=0 HTTP/1.1\r\nno colon here\r\n\r\n".to_vec(),
            _ => format!(
                "POST /api/v1/events HTTP/1.1\r\nauthorization: {auth}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
            )
            .into_bytes(),
        };
        FuzzRequest { category: "", raw, half_close: true, expect: Expect::RefusedOrClosed }
    }

    fn too_many_events(&mut self) -> FuzzRequest {
        let body = self.batch_with(wire_max_batch() + 1, |_, _| {});
        self.post_json("/api/v1/events", body.as_bytes(), Expect::Refused)
    }

    fn huge_body(&mut self) -> FuzzRequest {
        let body = format!(r#"{{"events":[{{"body":"{}"}}]}}"#, "x".repeat(10 * 1024 * 1024));
        let mut r = self.post_json("/api/v1/events", body.as_bytes(), Expect::RefusedOrClosed);
        r.category = "huge body";
        r
    }
}

/// `wire::MAX_BATCH_EVENTS`, restated so this library stays free of the wire crate
/// (the end-to-end test checks the two agree).
pub fn wire_max_batch() -> usize {
    200
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn object(fields: &[(&str, String)]) -> String {
    let inner: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", inner.join(","))
}

fn set(fields: &mut [(&'static str, String)], name: &str, value: &str) {
    if let Some(f) = fields.iter_mut().find(|(k, _)| *k == name) {
        f.1 = value.to_owned();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn head(method: &str, path: &str, headers: &[(&str, &str)], len: usize) -> Vec<u8> {
    let mut h =
        format!("{method} {path} HTTP/1.1\r\nhost: fuzz\r\nconnection: close\r\ncontent-length: {len}\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// A whole request with `Connection: close` and a correct `Content-Length`.
pub fn http(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut raw = head(method, path, headers, body.len());
    raw.extend_from_slice(body);
    raw
}

fn replace_auth(raw: &[u8], value: &str) -> Vec<u8> {
    replace_auth_bytes(raw, value.as_bytes())
}

/// Replaces (or adds) the authorization header's value.
fn replace_auth_bytes(raw: &[u8], value: &[u8]) -> Vec<u8> {
    let Some(head_end) = find(raw, b"\r\n\r\n") else { return raw.to_vec() };
    let (head, rest) = raw.split_at(head_end);
    let mut out = Vec::with_capacity(raw.len() + value.len());
    let lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    for (i, line) in lines.filter(|l| !l.to_ascii_lowercase().starts_with(b"authorization:")).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b"\r\nauthorization: ");
    out.extend_from_slice(value);
    out.extend_from_slice(rest);
    out
}

/// A response read off the socket.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Sends `req` on a fresh connection (writing on a second thread, so a server that
/// answers before reading everything is heard) and reads until the server closes.
/// `Ok(None)`: the server closed without a status line.
pub fn send(addr: SocketAddr, req: &FuzzRequest, timeout: Duration) -> io::Result<Option<RawResponse>> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let writer = stream.try_clone()?;
    let raw = req.raw.clone();
    let half_close = req.half_close;
    let sending = std::thread::spawn(move || {
        let mut w = &writer;
        // The server may refuse and close before the body is all sent: not an error here.
        let _ = w.write_all(&raw);
        if half_close {
            let _ = writer.shutdown(Shutdown::Write);
        }
    });
    let mut got = Vec::new();
    let read = (&stream).read_to_end(&mut got);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = sending.join();
    if let Err(e) = read {
        // A reset after the answer arrived still leaves the answer in `got`.
        if got.is_empty() {
            return match e.kind() {
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Ok(None),
                _ => Err(e),
            };
        }
    }
    Ok(parse_response(&got))
}

fn parse_response(got: &[u8]) -> Option<RawResponse> {
    let head_end = find(got, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&got[..head_end]);
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(RawResponse { status, body: got[head_end + 4..].to_vec() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> FuzzContext {
        FuzzContext {
            token: "mmd_tok".into(),
            revoked_token: "mmd_old".into(),
            used_code: "0123456789".into(),
        }
    }

    #[test]
    fn same_seed_same_requests_and_every_family_appears() {
        let mut a = Generator::new(5, ctx());
        let mut b = Generator::new(5, ctx());
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            let (x, y) = (a.next_request(), b.next_request());
            assert_eq!((x.category, &x.raw), (y.category, &y.raw));
            seen.insert(x.category);
        }
        assert_eq!(seen.len(), categories().len(), "{seen:?}");
    }

    #[test]
    fn requests_are_framed_as_http() {
        let mut g = Generator::new(1, ctx());
        for _ in 0..500 {
            let r = g.next_request();
            if r.category == "garbage framing" {
                continue;
            }
            let head_end = find(&r.raw, b"\r\n\r\n").unwrap();
            let head = String::from_utf8_lossy(&r.raw[..head_end]);
            assert!(head.contains(" HTTP/1.1\r\n"), "{}", r.category);
            if !r.half_close {
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|n| n.parse().ok())
                    .unwrap();
                assert_eq!(len, r.raw.len() - head_end - 4, "{}", r.category);
            }
        }
    }

    #[test]
    fn auth_replacement_keeps_one_header() {
        let raw = http("GET", "/p", &[("authorization", "Bearer a"), ("x", "y")], b"");
        let out = String::from_utf8(replace_auth(&raw, "Bearer b")).unwrap();
        assert_eq!(out.matches("authorization").count(), 1, "{out}");
        assert!(out.contains("authorization: Bearer b\r\n\r\n") && out.contains("x: y\r\n"), "{out}");
    }

    #[test]
    fn json_strings_escape_controls_and_quotes() {
        assert_eq!(json_string("a\"\\\u{0}"), r#""a\"\\\u0000""#);
    }
}
