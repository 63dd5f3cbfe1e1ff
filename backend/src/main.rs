//! `backend`: the welfare-office server binary. Thin: configuration, logging, run.

use std::path::PathBuf;

use anyhow::Context as _;
use backend::config::Config;
use backend::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config_path = std::env::args_os().nth(1).map(PathBuf::from);
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
