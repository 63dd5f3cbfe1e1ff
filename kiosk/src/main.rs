//! `kiosk`: the resident tablet app. Thin: arguments, logging, window, adapters, run.

use anyhow::Context as _;
use clap::Parser;
use slint::ComponentHandle as _;

/// The mimamori resident tablet.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Exit after this many seconds (demos, screenshots); runs until closed otherwise.
    #[arg(long)]
    exit_after: Option<f64>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let window = kiosk::AppWindow::new().context("cannot open the kiosk window (is DISPLAY set?)")?;
    let _clock = kiosk::idle::bind(&window, || chrono::Local::now().naive_local());
    let _exit = args.exit_after.map(|secs| {
        let timer = slint::Timer::default();
        timer.start(slint::TimerMode::SingleShot, std::time::Duration::from_secs_f64(secs), || {
            let _ = slint::quit_event_loop();
        });
        timer
    });
    tracing::info!("idle screen shown");
    window.run().context("running the kiosk window")?;
    Ok(())
}
