//! Logging: human-readable in development, JSON lines in production.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,mongodb=warn"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    // try_init: tests start several servers in one process; the first one installs the subscriber.
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.compact().try_init() };
}
