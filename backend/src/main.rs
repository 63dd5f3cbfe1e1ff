//! `backend`: the welfare-office server binary. Thin: configuration, logging, run.
//!
//! `backend [CONFIG.toml]` serves; `backend add-user LOGIN ROLE [DISTRICT] [CONFIG.toml]`
//! adds a dashboard user with the password read from the first line of stdin (so it
//! never sits in the shell history or the process list);
//! `backend add-resident NAME DISTRICT [--card SHA256HEX] [CONFIG.toml]` adds a resident
//! (07:00–10:00 check-in window, 60 min grace) and prints a one-time enrolment code for
//! their household's tablet: what support staff do on a first visit, from a terminal;
//! `backend publish-bundle FILE [CONFIG.toml]` publishes a dialect bundle written by
//! `dialect-model bundle` to every tablet;
//! `backend backup --to FILE [CONFIG.toml]` writes a checked copy of the database while
//! the server runs; `backend restore --from FILE [CONFIG.toml]` puts one back (server
//! stopped).

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use backend::config::Config;
use backend::startup::Application;
use backend::store::{Role, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("add-user") {
        return add_user(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("add-resident") {
        return add_resident(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("publish-bundle") {
        return publish_bundle(&args[1..]);
    }
    if let Some(verb @ ("backup" | "restore")) = args.first().map(String::as_str) {
        return backup_or_restore(verb, &args[1..]);
    }
    let config_path = args.first().map(PathBuf::from);
    let config = Config::load(config_path.as_deref()).context("loading configuration")?;
    let app = Application::build(&config).await.context("starting the server")?;
    tracing::info!(addr = %app.local_addr(), "listening");
    app.run_until(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

fn backup_or_restore(verb: &str, args: &[String]) -> anyhow::Result<()> {
    let flag = if verb == "backup" { "--to" } else { "--from" };
    let usage = format!("usage: backend {verb} {flag} FILE [CONFIG.toml]");
    let (Some(f), Some(file)) = (args.first(), args.get(1)) else { bail!(usage) };
    if f != flag {
        bail!(usage);
    }
    let config_path = args.get(2).map(PathBuf::from);
    let config = Config::load(config_path.as_deref()).context("loading configuration")?;
    let file = PathBuf::from(file);
    let check = if verb == "backup" {
        let store = Store::open(&config.database).context("opening the database")?;
        store.backup_to(&file).with_context(|| format!("backing up to {}", file.display()))?
    } else {
        Store::restore(&file, &config.database).with_context(|| format!("restoring {}", file.display()))?
    };
    let rows: i64 = check.rows.iter().map(|(_, n)| n).sum();
    println!(
        "{verb}: {} checked: schema {}, {} tables, {rows} rows",
        file.display(),
        check.schema_version,
        check.rows.len()
    );
    Ok(())
}

fn publish_bundle(args: &[String]) -> anyhow::Result<()> {
    let Some(file) = args.first() else {
        bail!("usage: backend publish-bundle FILE [CONFIG.toml]");
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let config = Config::load(args.get(1).map(PathBuf::from).as_deref()).context("loading configuration")?;
    let store = Store::open(&config.database).context("opening the database")?;
    let version = store
        .publish_bundle(&text, None, chrono::Utc::now())
        .with_context(|| format!("publishing {file}"))?;
    println!("published dialect bundle version {version}; tablets fetch it at their next sync");
    Ok(())
}

fn add_user(args: &[String]) -> anyhow::Result<()> {
    let (Some(login), Some(role)) = (args.first(), args.get(1)) else {
        bail!("usage: backend add-user LOGIN ROLE [DISTRICT] [CONFIG.toml]  (password on stdin)");
    };
    let role = Role::from_key(role)
        .ok_or_else(|| anyhow::anyhow!("role must be admin, officer, staff or minsei"))?;
    let rest: Vec<&String> = args[2..].iter().collect();
    let config_path = rest.iter().find(|a| a.ends_with(".toml")).map(PathBuf::from);
    let district = rest.iter().find(|a| !a.ends_with(".toml")).map(|d| d.as_str());
    if (role == Role::Minsei) != district.is_some() {
        bail!("a minsei user needs a district, and only a minsei user has one");
    }
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).context("reading the password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 8 {
        bail!("the password must be at least 8 characters");
    }
    let config = Config::load(config_path.as_deref()).context("loading configuration")?;
    let store = Store::open(&config.database).context("opening the database")?;
    let hash = backend::dashboard::hash_password(password);
    let id = store.add_user(login, &hash, role, district, chrono::Utc::now()).context("adding the user")?;
    tracing::info!(user = id.0, "dashboard user added");
    Ok(())
}

fn add_resident(args: &[String]) -> anyhow::Result<()> {
    const USAGE: &str = "usage: backend add-resident NAME DISTRICT [--card SHA256HEX] [CONFIG.toml]";
    let (Some(name), Some(district)) = (args.first(), args.get(1)) else { bail!(USAGE) };
    let mut card = None;
    let mut config_path = None;
    let mut rest = args[2..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--card" => {
                let hex = rest.next().context(USAGE)?;
                card = Some(
                    backend::store::CardIdentity::parse(hex)
                        .context("--card takes the SHA-256 (64 hex digits) of the card's auth certificate")?,
                );
            }
            path if path.ends_with(".toml") => config_path = Some(PathBuf::from(path)),
            other => bail!("unexpected argument {other:?}; {USAGE}"),
        }
    }
    let config = Config::load(config_path.as_deref()).context("loading configuration")?;
    let store = Store::open(&config.database).context("opening the database")?;
    let now = chrono::Utc::now();
    let window = backend::store::CheckinWindow {
        start: chrono::NaiveTime::from_hms_opt(7, 0, 0).expect("literal"),
        end: chrono::NaiveTime::from_hms_opt(10, 0, 0).expect("literal"),
        grace_minutes: 60,
    };
    let resident =
        backend::store::NewResident { display_name: name.clone(), district: district.clone(), card, window };
    let id = store.add_resident(&resident, now).context("adding the resident")?;
    let code = store.create_enrolment_code(Some(id), now).context("making an enrolment code")?;
    tracing::info!(resident = id.0, "resident added");
    // Printed for the staff member at the terminal (and the demo script), never logged.
    println!("resident_id={} enrol_code={code}", id.0);
    Ok(())
}
