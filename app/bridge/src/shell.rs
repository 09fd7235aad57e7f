//! What both shells' `run()` do, written once: logging, the bridge's commands on a Tauri builder,
//! the app built from the shell's own context (`tauri::generate_context!()` must be expanded in the
//! shell crate, next to its `tauri.conf.json`), then the event loop.

use oddxer_shared::Role;

/// Starts the app and runs until its last window closes. `preferred_role` is the role a new
/// account defaults to in this shell. An app that cannot be built is logged and ends the process
/// with status 1 (there is no window to show the error in).
pub fn run(context: tauri::Context<tauri::Wry>, preferred_role: Role) {
    init_logging();
    let builder = crate::setup(tauri::Builder::default(), preferred_role);
    match builder.build(context) {
        Ok(app) => app.run(crate::on_run_event),
        Err(error) => {
            tracing::error!(%error, "Oddxer could not start");
            std::process::exit(1);
        }
    }
}

/// Logs to stderr (logcat / Xcode console on devices), `RUST_LOG` style filtering, `info` by
/// default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second init keeps the first subscriber: tests embedding `run`, and Android, which may run
    // the entry point again in the same process.
    // Colour codes only on a terminal: a log file, a pipe or logcat gets plain text.
    let on_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(on_terminal)
        .try_init();
}
