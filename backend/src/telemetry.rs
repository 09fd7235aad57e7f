//! Logging (human-readable in development, JSON lines in production) and Prometheus metrics.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tracing_subscriber::{fmt, EnvFilter};

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,mongodb=warn"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    // try_init: tests start several servers in one process; the first one installs the subscriber.
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.compact().try_init() };
}

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus recorder (installed once; several servers in one test process share it).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed");
                None
            }
        })
        .as_ref()
}

/// Counts requests and their latency per route template (never the raw path: ids stay out).
/// Response headers with the request's database round trips (sequential, and commands sent),
/// outside production only: benchmarks and the round-trip budget tests read them.
pub const ROUND_TRIPS_HEADER: &str = "x-db-round-trips";
pub const COMMANDS_HEADER: &str = "x-db-commands";

pub async fn track(axum::extract::State(expose_round_trips): axum::extract::State<bool>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let (mut response, trips) = crate::db::count_round_trips(next.run(req)).await;
    if expose_round_trips {
        let headers = response.headers_mut();
        headers.insert(ROUND_TRIPS_HEADER, trips.sequential().into());
        headers.insert(COMMANDS_HEADER, trips.commands().into());
    }
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(start.elapsed().as_secs_f64());
    response
}

pub async fn render_metrics() -> String {
    prometheus().map(|h| h.render()).unwrap_or_default()
}
