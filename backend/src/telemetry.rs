//! Logging (human-readable in development, JSON lines in production), and the HTTP side of the
//! metrics: the request middleware and `GET /api/v1/metrics` (the registry is `crate::metrics`).

use crate::config::AppEnv;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;
use tracing_subscriber::{fmt, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,mongodb=warn"));
    // Colour only on a terminal: a log file (`scripts/run.sh` writes `.data/backend.log`) stays
    // plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi);
    // try_init: tests start several servers in one process; the first one installs the subscriber.
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
}

/// Response headers with the request's database round trips (sequential, and commands sent),
/// outside production only: benchmarks and the round-trip budget tests read them.
pub const ROUND_TRIPS_HEADER: &str = "x-db-round-trips";
pub const COMMANDS_HEADER: &str = "x-db-commands";

/// Counts requests and their latency per route template and status class (never the raw path:
/// ids stay out of the labels; an unmatched path is `unmatched`).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let start = Instant::now();
    let (mut response, trips) = crate::db::count_round_trips(next.run(req)).await;
    if state.config.app_env != AppEnv::Production {
        let headers = response.headers_mut();
        headers.insert(ROUND_TRIPS_HEADER, trips.sequential().into());
        headers.insert(COMMANDS_HEADER, trips.commands().into());
    }
    state.db.metrics.http_request(
        method.as_str(),
        &route,
        response.status().as_u16(),
        start.elapsed(),
    );
    response
}

/// `GET /api/v1/metrics`: this application's metrics in the Prometheus text format.
pub async fn render_metrics(State(state): State<AppState>) -> Response {
    let body = state.db.metrics.render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
