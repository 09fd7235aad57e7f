// The server logs through `tracing`; stdout is not a channel.
#![warn(clippy::print_stdout)]

use oddxer_backend::config::{AppEnv, Config};
use oddxer_backend::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    oddxer_backend::telemetry::init(config.app_env == AppEnv::Production);
    let app = Application::build(config).await?;
    app.run_until_stopped().await
}
