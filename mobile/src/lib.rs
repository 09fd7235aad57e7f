//! The Oddxer phone app. Bettors mostly use phones, so new accounts default to BUYER; commands,
//! events and screens are the same as on desktop (`oddxer-bridge`, `app/ui`).

use oddxer_shared::Role;

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    init_logging();
    let builder = oddxer_bridge::setup(tauri::Builder::default(), Role::Buyer);
    match builder.build(tauri::generate_context!()) {
        Ok(app) => app.run(oddxer_bridge::on_run_event),
        Err(error) => {
            tracing::error!(%error, "Oddxer could not start");
            std::process::exit(1);
        }
    }
}

/// stderr (logcat / Xcode console on devices), `RUST_LOG` style filtering, `info` by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The entry point can run again in the same process on Android; keep the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
