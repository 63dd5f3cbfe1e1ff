//! Tidy checks: project rules that the compiler does not enforce, run as a test
//! (`xtask/tests/tidy.rs`) and by `cargo xtask tidy`.
//!
//! - every `.rs` file opens with a `//!` line saying what it is for;
//! - no debugging or unfinished-code macros outside test code;
//! - crate-boundary invariants (ARCHITECTURE.md), from `cargo metadata`'s resolved
//!   graph of normal (non-dev, non-build) dependencies;
//! - tablet↔office JSON types are derived only in the `wire` crate;
//! - the 券面事項入力補助AP's AID appears only in the virtual card;
//! - no `json!` body in kiosk or backend code (bodies are typed in `wire`);
//! - SQL (`rusqlite`) only in the stores, Slint only outside the kiosk's controller;
//! - no HTML built by hand in the backend (pages are askama templates);
//! - the ARCHITECTURE.md code map names only files that exist.
//!
//! Each checker is a pure function over text, so its unit tests can show it catching
//! a violation without breaking the real tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub place: String,
    pub rule: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.rule)
    }
}

fn violation(place: impl Into<String>, rule: impl Into<String>) -> Violation {
    Violation { place: place.into(), rule: rule.into() }
}

/// Crate-boundary invariants: (crate, crates it must never depend on, even
/// transitively, and why). A name ending in `*` matches any crate with that prefix.
pub const FORBIDDEN_DEPENDENCIES: &[(&str, &[&str], &str)] = &[
    (
        "dialect-model",
        &["i-slint-*", "slint", "rusqlite", "libsqlite3-sys", "sqlx*", "axum", "hyper", "reqwest"],
        "dialect-model knows nothing about UI, SQL or HTTP",
    ),
    (
        "care",
        &[
            "i-slint-*",
            "slint",
            "rusqlite",
            "libsqlite3-sys",
            "axum",
            "hyper",
            "reqwest",
            "tokio",
            "cpal",
            "rodio",
            "whisper-rs",
        ],
        "care is pure logic: no UI, storage, network or audio",
    ),
    ("wire", &["i-slint-*", "slint", "rusqlite", "axum", "hyper", "reqwest", "tokio"], "wire is plain data"),
    (
        "mynumber-card",
        &["virtual-mynumber-card", "jpki"],
        "the client never links the virtual card, nor the `jpki` crate (it resends PINs)",
    ),
    (
        "kiosk",
        &["backend", "virtual-mynumber-card"],
        "the kiosk reaches the office only over the tablet API and never links test cards",
    ),
    (
        "backend",
        &["i-slint-*", "slint", "kiosk", "whisper-rs"],
        "the backend has no UI toolkit and no speech model",
    ),
];

/// Rules over the resolved dependency graph (`cargo metadata --format-version 1`).
pub fn check_dependencies(metadata: &serde_json::Value) -> Vec<Violation> {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new(); // package id → name
    for pkg in metadata["packages"].as_array().into_iter().flatten() {
        if let (Some(id), Some(name)) = (pkg["id"].as_str(), pkg["name"].as_str()) {
            names.insert(id, name);
        }
    }
    let mut normal_deps: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in metadata["resolve"]["nodes"].as_array().into_iter().flatten() {
        let Some(id) = node["id"].as_str() else { continue };
        let deps = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|dep| dep["dep_kinds"].as_array().into_iter().flatten().any(|k| k["kind"].is_null()));
        normal_deps.insert(id, deps.filter_map(|d| d["pkg"].as_str()).collect());
    }
    let mut out = Vec::new();
    for (krate, forbidden, why) in FORBIDDEN_DEPENDENCIES {
        let Some(root) = names.iter().find(|(_, n)| *n == krate).map(|(id, _)| *id) else {
            continue;
        };
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            stack.extend(normal_deps.get(id).into_iter().flatten());
        }
        for id in seen.into_iter().filter(|id| *id != root) {
            let name = names.get(id).copied().unwrap_or(id);
            if forbidden.iter().any(|f| matches_pattern(f, name)) {
                out.push(violation(*krate, format!("depends on `{name}`: {why}")));
            }
        }
    }
    out
}

fn matches_pattern(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The file must open with a `//!` doc line (after blank lines, if any).
pub fn check_doc_header(path: &str, text: &str) -> Option<Violation> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    (!first.starts_with("//!"))
        .then(|| violation(path, "does not open with a `//!` line saying what it is for"))
}

/// Macros that must not ship. Spelled in pieces so this file does not trip itself.
const FORBIDDEN_MACROS: &[&str] =
    &[concat!("db", "g!("), concat!("to", "do!("), concat!("unimpl", "emented!(")];

/// No debugging or unfinished-code macros in non-test code: everything before the
/// file's first `#[cfg(test)]` (test modules go last), and nothing in test-only files.
pub fn check_macros(path: &str, text: &str) -> Vec<Violation> {
    let production = text.split("#[cfg(test)]").next().unwrap_or("");
    production
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .flat_map(|(i, line)| {
            FORBIDDEN_MACROS.iter().filter(move |m| line.contains(*m)).map(move |m| {
                violation(format!("{path}:{}", i + 1), format!("`{}` in non-test code", &m[..m.len() - 1]))
            })
        })
        .collect()
}

/// Source trees that speak the tablet API and must use `wire` types, not their own.
const WIRE_ONLY_DIRS: &[&str] = &["backend/src/api", "kiosk/src/sync"];

/// No serde derives in the tablet-API code of kiosk and backend.
pub fn check_wire_only(path: &str, text: &str) -> Vec<Violation> {
    if !WIRE_ONLY_DIRS.iter().any(|d| path.starts_with(d)) {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains("derive(") && (l.contains("Serialize") || l.contains("Deserialize")))
        .map(|(i, _)| {
            violation(
                format!("{path}:{}", i + 1),
                "serde derive outside `wire`: tablet API types belong in the wire crate",
            )
        })
        .collect()
}

/// The 券面事項入力補助AP AID, which selects the individual number. Only the virtual
/// card may carry it (so tests can watch for it). Spelled in pieces, as above.
const KENMEN_AID_PATTERNS: &[&str] =
    &[concat!("0xD3, 0x92, 0x1", "0, 0x00, 0x31"), concat!("D392", "10003100010104")];

pub fn check_kenmen_aid(path: &str, text: &str) -> Option<Violation> {
    let allowed = path.starts_with("virtual-mynumber-card/");
    let upper = text.to_uppercase().replace("0X", "0x");
    (!allowed && KENMEN_AID_PATTERNS.iter().any(|p| upper.contains(&p.to_uppercase().replace("0X", "0x"))))
        .then(|| violation(path, "mentions the 券面事項入力補助AP AID: only the virtual card may"))
}

/// No `json!` in kiosk or backend production code: every body is a `wire` type
/// serialised in one place, so the compiler sees each field.
pub fn check_no_json_macro(path: &str, text: &str) -> Vec<Violation> {
    if !(path.starts_with("kiosk/src/") || path.starts_with("backend/src/")) {
        return Vec::new();
    }
    let production = text.split("#[cfg(test)]").next().unwrap_or("");
    production
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//") && l.contains(concat!("json", "!(")))
        .map(|(i, _)| {
            violation(
                format!("{path}:{}", i + 1),
                "`json!` body: make it a typed body in `wire` (or a Serialize struct)",
            )
        })
        .collect()
}

/// Where each crate may name SQL or the UI toolkit: (path prefix, word, allowed
/// prefixes, why).
const CONFINED: &[(&str, &str, &[&str], &str)] = &[
    ("backend/src/", "rusqlite", &["backend/src/store"], "only the store speaks SQL"),
    ("kiosk/src/", "rusqlite", &["kiosk/src/store"], "only the store speaks SQL"),
    ("kiosk/src/flow", "slint", &[], "the controller has no UI: `views` writes to Slint"),
    ("kiosk/src/store", "slint", &[], "the store has no UI"),
];

pub fn check_confined(path: &str, text: &str) -> Vec<Violation> {
    let production = text.split("#[cfg(test)]").next().unwrap_or("");
    CONFINED
        .iter()
        .filter(|(scope, _, allowed, _)| {
            path.starts_with(scope) && !allowed.iter().any(|a| path.starts_with(a))
        })
        .flat_map(|(_, word, _, why)| {
            production
                .lines()
                .enumerate()
                .filter(move |(_, l)| !l.trim_start().starts_with("//") && l.contains(&format!("{word}::")))
                .map(move |(i, _)| violation(format!("{path}:{}", i + 1), format!("`{word}` here: {why}")))
        })
        .collect()
}

/// Signs of HTML made by string formatting: hand-written escaping, and a page body
/// formatted into `Html`. Spelled in pieces so this file does not trip itself.
const HAND_MADE_HTML: &[&str] =
    &[concat!("&", "lt;"), concat!("&", "amp;"), concat!("fn ", "escape"), concat!("Html(", "format!")];

/// No hand-written HTML escaping and no `Html(format!` in the backend's code: every
/// page is an askama template (`backend/templates/`), which escapes what it shows.
pub fn check_no_hand_made_html(path: &str, text: &str) -> Vec<Violation> {
    if !path.starts_with("backend/src/") {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .flat_map(|(i, l)| {
            HAND_MADE_HTML.iter().filter(move |p| l.contains(*p)).map(move |p| {
                violation(
                    format!("{path}:{}", i + 1),
                    format!("`{p}`: build pages with askama templates, which escape for you"),
                )
            })
        })
        .collect()
}

/// Paths the code map of ARCHITECTURE.md names in backticks (`kiosk/src/app.rs`,
/// `backend/src/store/`) must exist: a map that names a moved file is a wrong map.
pub fn check_architecture_paths(text: &str, exists: impl Fn(&str) -> bool) -> Vec<Violation> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|p| {
            let first = p.split('/').next().unwrap_or("");
            p.contains('/')
                && !p.contains(' ')
                && !p.contains('<')
                && !p.contains('*')
                && TOP_DIRS.contains(&first)
        })
        .filter(|p| !exists(p.trim_end_matches('/')))
        .map(|p| violation("ARCHITECTURE.md", format!("names `{p}`, which does not exist")))
        .collect()
}

/// The workspace's top-level directories whose paths the code map names.
const TOP_DIRS: &[&str] = &[
    "assets",
    "backend",
    "care",
    "dialect-model",
    "kiosk",
    "mynumber-card",
    "scripts",
    "tests",
    "virtual-mynumber-card",
    "vocab",
    "wire",
    "xtask",
];

/// Every `.rs` file of the workspace, relative to `root`, skipping `target/`.
pub fn rust_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path.strip_prefix(root)?.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs every check over the tree at `root`.
pub fn run(root: &Path) -> anyhow::Result<Vec<Violation>> {
    let mut out = Vec::new();
    for rel in rust_files(root)? {
        let text = std::fs::read_to_string(root.join(&rel))?;
        let path = rel.to_string_lossy().replace('\\', "/");
        out.extend(check_doc_header(&path, &text));
        let test_only = path.contains("/tests/") || path.contains("/benches/");
        if !test_only {
            out.extend(check_macros(&path, &text));
        }
        out.extend(check_wire_only(&path, &text));
        out.extend(check_kenmen_aid(&path, &text));
        if !test_only {
            out.extend(check_no_json_macro(&path, &text));
            out.extend(check_confined(&path, &text));
        }
        out.extend(check_no_hand_made_html(&path, &text));
    }
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).context("reading ARCHITECTURE.md")?;
    out.extend(check_architecture_paths(&map, |p| root.join(p).exists()));
    // Only the host platform's graph: the tablet and the office run Linux, and the
    // full graph would fetch every Windows- and macOS-only crate.
    let host = host_triple()?;
    let metadata = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--filter-platform", &host])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    anyhow::ensure!(
        metadata.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&metadata.stderr)
    );
    out.extend(check_dependencies(&serde_json::from_slice(&metadata.stdout)?));
    out.sort();
    Ok(out)
}

fn host_triple() -> anyhow::Result<String> {
    let out = std::process::Command::new("rustc").arg("-vV").output().context("running rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .context("rustc -vV printed no host triple")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_header_rule() {
        assert!(check_doc_header("a.rs", "//! What this is.\nfn f() {}").is_none());
        assert!(check_doc_header("a.rs", "\n//! After a blank line.").is_none());
        assert!(check_doc_header("a.rs", "// plain comment\n").is_some());
        assert!(check_doc_header("a.rs", "").is_some());
    }

    #[test]
    fn macros_rule_ignores_tests_and_comments() {
        let bad = format!("fn f() {{ {}1); }}", FORBIDDEN_MACROS[0]);
        assert_eq!(check_macros("a.rs", &bad).len(), 1);
        let unfinished = format!("fn f() {{ {}) }}", FORBIDDEN_MACROS[1]);
        assert_eq!(check_macros("a.rs", &unfinished)[0].place, "a.rs:1");
        let in_tests =
            format!("fn f() {{}}\n#[cfg(test)]\nmod tests {{ fn g() {{ {}) }} }}", FORBIDDEN_MACROS[2]);
        assert!(check_macros("a.rs", &in_tests).is_empty());
        let commented = format!("// never write {})", FORBIDDEN_MACROS[1]);
        assert!(check_macros("a.rs", &commented).is_empty());
    }

    #[test]
    fn wire_only_rule() {
        let derive = "#[derive(Debug, Deserialize)]\nstruct Upload;";
        assert_eq!(check_wire_only("backend/src/api/events.rs", derive).len(), 1);
        assert!(check_wire_only("backend/src/config.rs", derive).is_empty());
        assert!(check_wire_only("kiosk/src/sync/mod.rs", "#[derive(Debug)]").is_empty());
    }

    #[test]
    fn json_macro_rule() {
        let body = concat!("let b = serde_json::json", "!({\"a\": 1});");
        assert_eq!(check_no_json_macro("kiosk/src/store.rs", body).len(), 1);
        assert_eq!(
            check_no_json_macro("backend/src/api/events.rs", body)[0].place,
            "backend/src/api/events.rs:1"
        );
        assert!(check_no_json_macro("wire/src/body.rs", body).is_empty(), "wire is where bodies are made");
        let in_tests = format!("fn f() {{}}\n#[cfg(test)]\nmod tests {{ {body} }}");
        assert!(check_no_json_macro("kiosk/src/store.rs", &in_tests).is_empty());
    }

    #[test]
    fn confined_rule() {
        let sql = "use rusqlite::params;";
        assert!(check_confined("backend/src/store/board.rs", sql).is_empty());
        assert_eq!(check_confined("backend/src/dashboard/board.rs", sql).len(), 1);
        assert_eq!(check_confined("kiosk/src/app.rs", sql).len(), 1);
        assert_eq!(check_confined("kiosk/src/flow/checkin.rs", "slint::SharedString::from(x)").len(), 1);
        assert!(check_confined("kiosk/src/views.rs", "slint::SharedString::from(x)").is_empty());
    }

    #[test]
    fn hand_made_html_rule() {
        for bad in HAND_MADE_HTML {
            let line = format!("let x = {bad};");
            assert_eq!(check_no_hand_made_html("backend/src/dashboard/board.rs", &line).len(), 1, "{bad}");
            assert!(check_no_hand_made_html("kiosk/src/app.rs", &line).is_empty(), "backend only");
        }
        let commented = format!("// never {}", HAND_MADE_HTML[2]);
        assert!(check_no_hand_made_html("backend/src/dashboard.rs", &commented).is_empty());
        let templated = "render(&BoardPage { chrome, rows })";
        assert!(check_no_hand_made_html("backend/src/dashboard/board.rs", templated).is_empty());
    }

    #[test]
    fn architecture_paths_rule() {
        let map = "`kiosk/src/app.rs` and `backend/src/store/` and `gone/x.rs` and `kiosk/src/nope.rs` and `DIR/<id>.wav`";
        let exists = |p: &str| p == "kiosk/src/app.rs" || p == "backend/src/store";
        let found = check_architecture_paths(map, exists);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].rule.contains("kiosk/src/nope.rs"));
    }

    #[test]
    fn kenmen_aid_rule() {
        // Built from the pattern pieces so this file itself stays clean.
        let aid = format!("const A: [u8; 5] = [{}];", KENMEN_AID_PATTERNS[0].to_lowercase());
        assert!(check_kenmen_aid("mynumber-card/src/jpki.rs", &aid).is_some());
        let hex = format!("\"{}08\"", KENMEN_AID_PATTERNS[1]);
        assert!(check_kenmen_aid("kiosk/src/x.rs", &hex).is_some());
        assert!(check_kenmen_aid("virtual-mynumber-card/src/card.rs", &aid).is_none());
        assert!(check_kenmen_aid("mynumber-card/src/jpki.rs", "[0xD3, 0x92, 0xF0, 0x00, 0x26]").is_none());
    }

    /// A tiny `cargo metadata` document: `kiosk → foo → backend` must be caught
    /// through the intermediate crate, while a dev-dependency on it must not.
    #[test]
    fn dependency_rule_follows_the_graph_and_skips_dev_dependencies() {
        let pkg = |name: &str| serde_json::json!({"id": format!("{name}-id"), "name": name});
        let dep = |name: &str, kind: serde_json::Value| serde_json::json!({"pkg": format!("{name}-id"), "dep_kinds": [{"kind": kind}]});
        let meta = |kiosk_dep_kind: serde_json::Value| {
            serde_json::json!({
                "packages": [pkg("kiosk"), pkg("foo"), pkg("backend"), pkg("care"), pkg("i-slint-core")],
                "resolve": {"nodes": [
                    {"id": "kiosk-id", "deps": [dep("foo", kiosk_dep_kind)]},
                    {"id": "foo-id", "deps": [dep("backend", serde_json::Value::Null)]},
                    {"id": "care-id", "deps": [dep("i-slint-core", serde_json::Value::Null)]},
                    {"id": "backend-id", "deps": []},
                    {"id": "i-slint-core-id", "deps": []},
                ]}
            })
        };
        let found = check_dependencies(&meta(serde_json::Value::Null));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|v| v.place == "kiosk" && v.rule.contains("`backend`")));
        assert!(found.iter().any(|v| v.place == "care" && v.rule.contains("`i-slint-core`")));
        let found = check_dependencies(&meta(serde_json::json!("dev")));
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
