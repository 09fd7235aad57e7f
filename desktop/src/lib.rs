//! The Oddxer desktop app. Sellers mostly work here, so new accounts default to SELLER;
//! everything else (commands, events, UI) is shared with the mobile shell.

use oddxer_shared::Role;

pub fn run() {
    init_logging();
    let builder = oddxer_bridge::setup(tauri::Builder::default(), Role::Seller);
    match builder.build(tauri::generate_context!()) {
        Ok(app) => app.run(oddxer_bridge::on_run_event),
        Err(error) => {
            tracing::error!(%error, "Oddxer could not start");
            std::process::exit(1);
        }
    }
}

/// Logs to stderr, `RUST_LOG` style filtering, `info` by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second init (tests embedding `run`) keeps the first subscriber.
    // Colour codes only on a terminal: a log file or a pipe gets plain text.
    let on_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(on_terminal)
        .try_init();
}
