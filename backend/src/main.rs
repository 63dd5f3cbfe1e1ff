//! `backend`: the welfare-office server binary. Thin: command line, configuration,
//! logging, run. `backend --help` lists the commands; passwords are read from the
//! first line of stdin, never from the command line (the process list, the shell's
//! history).

use std::io::BufRead as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use backend::config::Config;
use backend::startup::Application;
use backend::store::{AccountChange, Role, Store};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "backend", about = "The mimamori welfare-office server and its tools", version)]
#[command(subcommand_precedence_over_arg = true)]
struct Cli {
    /// The configuration file (TOML; MIMAMORI_* environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve with this configuration file (the same as --config).
    #[arg(value_name = "CONFIG")]
    serve_config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the tablet API and the dashboard (the default).
    Serve,
    /// Add a dashboard user; the password (12+ characters, not common) on stdin.
    AddUser {
        login: String,
        /// admin, officer, staff or minsei.
        role: String,
        /// A minsei user's district (only they have one).
        district: Option<String>,
    },
    /// Manage dashboard users (audited as done from the office's terminal).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Add a resident (07:00–10:00 check-in, 60 min grace) and print a one-time
    /// enrolment code for their tablet.
    AddResident {
        name: String,
        district: String,
        /// The SHA-256 (64 hex digits) of their My Number card's auth certificate.
        #[arg(long, value_name = "SHA256HEX")]
        card: Option<String>,
        /// The daily check-in window, local time: the tablet asks by itself inside it.
        #[arg(long, value_name = "HH:MM-HH:MM", default_value = "07:00-10:00", value_parser = parse_window)]
        window: (chrono::NaiveTime, chrono::NaiveTime),
        /// Minutes after the window's end before a missing check-in counts as unconfirmed
        /// and the tablet is asked to ask again.
        #[arg(long, value_name = "MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=240))]
        grace: u32,
    },
    /// Publish a dialect bundle written by `dialect-model bundle` to every tablet.
    PublishBundle { file: PathBuf },
    /// Write a checked copy of the database while the server runs.
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Put a checked copy back (stop the server first).
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// Send one test message through the configured mail server ([notify]); exits
    /// non-zero with the server's reason if it is not taken.
    NotifyTest {
        #[arg(long, value_name = "ADDRESS")]
        to: String,
    },
    /// Delete records older than the configured retention ([retention] in the config).
    Prune {
        /// Say what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Every account: login, role, district, state, live sessions.
    List,
    /// Refuse the account's logins and end its sessions (the account is kept).
    Disable { login: String },
    /// Let a disabled account log in again.
    Enable { login: String },
    /// Set a new password (on stdin) and end the account's sessions.
    ResetPassword { login: String },
    /// End every session of the account (a lost phone, a shared computer).
    EndSessions { login: String },
    /// Where the account's alerts are e-mailed; no address stops them.
    SetEmail { login: String, address: Option<String> },
    /// The name a resident's tablet says when this account takes on their call
    /// (「福祉担当職員の佐藤さん」); no name: the role only.
    SetName { login: String, name: Option<String> },
    /// Put the account on the duty roster (told at the ladder's first rung) or off it.
    Duty {
        login: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let config_path = cli.config.or(cli.serve_config);
    let config = Config::load(config_path.as_deref()).context("loading configuration")?;
    let open = || Store::open(&config.database).context("opening the database");
    let now = chrono::Utc::now();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::AddUser { login, role, district } => {
            let role = Role::from_key(&role)
                .ok_or_else(|| anyhow::anyhow!("role must be admin, officer, staff or minsei"))?;
            if role == Role::Responder {
                bail!(
                    "responder accounts are made with a declared disaster, at /disaster, and expire with it"
                );
            }
            if (role == Role::Minsei) != district.is_some() {
                bail!("a minsei user needs a district, and only a minsei user has one");
            }
            let hash = new_password(&login)?;
            let id =
                open()?.add_user(&login, &hash, role, district.as_deref(), now).context("adding the user")?;
            tracing::info!(user = id.0, "dashboard user added");
            Ok(())
        }
        Command::User { action } => user(&open()?, action, now),
        Command::AddResident { name, district, card, window: (start, end), grace } => {
            let card = card
                .map(|hex| {
                    backend::store::CardIdentity::parse(&hex)
                        .context("--card takes the SHA-256 (64 hex digits) of the card's auth certificate")
                })
                .transpose()?;
            let store = open()?;
            let window = backend::store::CheckinWindow { start, end, grace_minutes: grace };
            let resident = backend::store::NewResident { display_name: name, district, card, window };
            let id = store.add_resident(&resident, now).context("adding the resident")?;
            let code = store.create_enrolment_code(Some(id), now).context("making an enrolment code")?;
            tracing::info!(resident = id.0, "resident added");
            // Printed for the staff member at the terminal (and the demo script), never logged.
            println!("resident_id={} enrol_code={code}", id.0);
            Ok(())
        }
        Command::PublishBundle { file } => {
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let version = open()?
                .publish_bundle(&text, None, now)
                .with_context(|| format!("publishing {}", file.display()))?;
            println!("published dialect bundle version {version}; tablets fetch it at their next sync");
            Ok(())
        }
        Command::Backup { to } => {
            let check = open()?.backup_to(&to).with_context(|| format!("backing up to {}", to.display()))?;
            report_copy("backup", &to, &check);
            Ok(())
        }
        Command::Restore { from } => {
            let check = Store::restore(&from, &config.database)
                .with_context(|| format!("restoring {}", from.display()))?;
            report_copy("restore", &from, &check);
            Ok(())
        }
        Command::NotifyTest { to } => {
            backend::notify::send_test(&config.notify, &to, now)
                .await
                .with_context(|| format!("sending a test message to {to}"))?;
            println!("notify-test: the mail server took the message for {to}");
            Ok(())
        }
        Command::Prune { dry_run } => {
            let r = config.retention;
            let cut = backend::store::Cutoffs::before(now, r.records_days, r.audit_days);
            let deleted = open()?.prune(cut, dry_run).context("pruning")?;
            let verb = if dry_run { "would delete" } else { "deleted" };
            println!(
                "prune: records before {} ({} days), audit before {} ({} days)",
                cut.records.format("%Y-%m-%d"),
                r.records_days,
                cut.audit.format("%Y-%m-%d"),
                r.audit_days
            );
            for (table, n) in deleted {
                println!("{verb} {n} from {table}");
            }
            Ok(())
        }
    }
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let app = Application::build(config).await.context("starting the server")?;
    // The handlers are in place before 「listening」 is logged: a SIGTERM that systemd (or
    // a test) sends the moment the server says it is up must stop it cleanly, not kill it.
    let stop = stop_signal().context("installing the SIGTERM and Ctrl-C handlers")?;
    tracing::info!(addr = %app.local_addr(), "listening");
    app.run_until(stop).await.context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C at a terminal, or SIGTERM from systemd (or `kill`): either stops the server
/// after the requests in flight. Both handlers are registered when this is called, not
/// when the future is first polled.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

fn user(store: &Store, action: UserAction, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    let (login, change) = match action {
        UserAction::List => {
            for u in store.users(now).context("listing users")? {
                println!(
                    "{}\t{}\t{}\t{}\t{} sessions\t{}\t{}",
                    u.login,
                    u.role.key(),
                    u.district.as_deref().unwrap_or("-"),
                    if u.disabled { "disabled" } else { "active" },
                    u.sessions,
                    u.email.as_deref().unwrap_or("-"),
                    if u.on_duty { "on duty" } else { "off duty" }
                );
            }
            return Ok(());
        }
        UserAction::Disable { login } => (login, AccountChange::Disable),
        UserAction::Enable { login } => (login, AccountChange::Enable),
        UserAction::EndSessions { login } => (login, AccountChange::EndSessions),
        UserAction::SetEmail { login, address } => {
            if let Some(a) = &address
                && !backend::dashboard::email_ok(a)
            {
                bail!("{a:?} is not an e-mail address");
            }
            (login, AccountChange::SetEmail(address))
        }
        UserAction::SetName { login, name } => {
            let name = match name {
                Some(n) => Some(
                    backend::store::spoken_name(&n)
                        .with_context(|| format!("{n:?} is not a name (1 to 12 characters)"))?,
                ),
                None => None,
            };
            (login, AccountChange::SetSpokenName(name))
        }
        UserAction::Duty { login, state } => {
            // The roster is the office's staff: 民生委員 hear of their district anyway,
            // and a responder reads the roster only.
            let role = store
                .users(now)
                .context("listing users")?
                .into_iter()
                .find(|u| u.login == login)
                .map(|u| u.role);
            if matches!(role, Some(Role::Minsei | Role::Responder)) {
                bail!("only admin, officer and staff accounts are on the duty roster");
            }
            (login, AccountChange::SetDuty(state == "on"))
        }
        UserAction::ResetPassword { login } => {
            let hash = new_password(&login)?;
            (login, AccountChange::SetPassword(hash))
        }
    };
    let action = change.action();
    let Some((_, ended)) = store.change_account(None, &login, change, now).context("changing the user")?
    else {
        bail!("no user {login:?}");
    };
    println!("{action}: {login} ({ended} sessions ended)");
    Ok(())
}

/// Reads a new password for `login` from stdin and hashes it, if it is acceptable.
fn new_password(login: &str) -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password).context("reading the password from stdin")?;
    let password = password.trim_end_matches(['\r', '\n']);
    backend::password::acceptable(login, password)?;
    Ok(backend::password::hash_password(password))
}

fn report_copy(verb: &str, file: &std::path::Path, check: &backend::store::BackupCheck) {
    let rows: i64 = check.rows.iter().map(|(_, n)| n).sum();
    println!(
        "{verb}: {} checked: schema {}, {} tables, {rows} rows",
        file.display(),
        check.schema_version,
        check.rows.len()
    );
}

/// `07:00-10:00`: a check-in window (an end before the start crosses midnight).
fn parse_window(s: &str) -> Result<(chrono::NaiveTime, chrono::NaiveTime), String> {
    backend::config::parse_span(s)
}
