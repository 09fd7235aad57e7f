//! The Prometheus metrics of DESIGN.md section 10, served at `GET /api/v1/metrics`.
//!
//! Each running application owns one [`Metrics`] (carried by its [`crate::db::Db`], so every flow
//! that can write money can also count it): several servers in one test process keep apart
//! figures, and a test can assert exact deltas. Recording goes through the `metrics` facade with
//! this instance's recorder as the local one ([`metrics::with_local_recorder`]); rendering is
//! `metrics-exporter-prometheus`.
//!
//! Every label value comes from a closed set named here (an enum's `as_str`, a route template, a
//! collection name the code chose): never an id, a phone number or anything a client typed.

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use mongodb::bson::Document;
use oddxer_shared::sync::LiveEvent;
use oddxer_shared::{PaymentMethod, TransactionType};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Latency buckets (seconds) of every `*_seconds` histogram: 0.5 ms to 10 s, dense where the
/// targets of DESIGN.md section 9 sit (tens of milliseconds).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every metric family this backend exports, by name (the dashboard test checks its queries
/// against the families a live server renders; this list documents them in one place).
pub const FAMILIES: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds",
    "oddxer_db_command_duration_seconds",
    "oddxer_db_pool_connections",
    "oddxer_ws_connections",
    "oddxer_ws_events_sent_total",
    "oddxer_sync_entries_sent_total",
    "oddxer_purchases_total",
    "oddxer_payments_total",
    "oddxer_settlements_total",
    "oddxer_fees_collected_minor_total",
    "oddxer_transfers_pending",
    "oddxer_transfers_pending_oldest_seconds",
    "oddxer_recovery_redriven_total",
    "oddxer_reconcile_violations",
    "oddxer_reconcile_last_run_timestamp_seconds",
    "oddxer_users_total",
];

/// One application's metric registry. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Collection and command of each database command in flight, by driver request id: the
    /// driver names the collection only in the started event, the duration only in the finished one.
    commands: Mutex<HashMap<i32, (String, String)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // Only fails on an empty bucket list; the constant is not empty.
        let builder = match builder
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
        {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "latency buckets refused; latencies render as summaries");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics {
            inner: Arc::new(Inner {
                recorder,
                handle,
                commands: Mutex::new(HashMap::new()),
            }),
        };
        // Families that start at zero are rendered before their first event, so a dashboard and
        // an alert see 0 rather than "no data".
        metrics.record(|| {
            gauge!("oddxer_ws_connections").set(0.0);
            gauge!("oddxer_transfers_pending").set(0.0);
            gauge!("oddxer_transfers_pending_oldest_seconds").set(0.0);
            gauge!("oddxer_reconcile_violations").set(0.0);
            counter!("oddxer_fees_collected_minor_total").absolute(0);
            for state in ["open", "in_use"] {
                gauge!("oddxer_db_pool_connections", "state" => state).set(0.0);
            }
            // Every series of the closed label sets exists from the start: a rate over a series
            // that appears with its first event would miss that event (and the failure-rate alert
            // would have nothing to divide).
            for method in [PaymentMethod::MtnMomo, PaymentMethod::AirtelMoney] {
                for (kind, statuses) in [("deposit", &["completed", "failed"][..]), ("withdrawal", &["completed", "failed", "reversed"][..])] {
                    for status in statuses {
                        counter!("oddxer_payments_total", "kind" => kind, "method" => method.as_str(), "status" => *status).absolute(0);
                    }
                }
            }
            for outcome in ["completed", "failed"] {
                counter!("oddxer_purchases_total", "outcome" => outcome).absolute(0);
            }
            for outcome in ["paid_out", "refunded"] {
                counter!("oddxer_settlements_total", "outcome" => outcome).absolute(0);
            }
            for kind in [RecoveryKind::Deposit, RecoveryKind::Withdrawal, RecoveryKind::Purchase, RecoveryKind::Resolution] {
                counter!("oddxer_recovery_redriven_total", "kind" => kind.as_str()).absolute(0);
            }
            for event in ["wallet:updated", "code:created", "code:purchased", "code:finalized", "vote:cast"] {
                counter!("oddxer_ws_events_sent_total", "event" => event).absolute(0);
            }
            for stream in [SyncStream::Wallet, SyncStream::Purchases] {
                counter!("oddxer_sync_entries_sent_total", "stream" => stream.as_str()).absolute(0);
            }
        });
        metrics
    }

    fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.inner.recorder, f)
    }

    /// A stored document of `collection` that did not parse into its type (`db::Db::rows`).
    pub fn row_unreadable(&self, collection: &'static str) {
        self.record(|| {
            counter!("oddxer_db_rows_unreadable_total", "collection" => collection).increment(1)
        });
    }

    /// The Prometheus text exposition of every family.
    pub fn render(&self) -> String {
        self.inner.handle.render()
    }

    /// One HTTP request: `route` is the matched route template (`/api/v1/codes/{id}`), never the
    /// raw path; `status` the response status code.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = match method {
            "GET" | "POST" | "PATCH" | "PUT" | "DELETE" | "OPTIONS" | "HEAD" => method.to_owned(),
            _ => "OTHER".to_owned(),
        };
        let class = status_class(status);
        self.record(|| {
            let labels = [
                ("method", method),
                ("route", route.to_owned()),
                ("status", class.to_owned()),
            ];
            counter!("http_requests_total", &labels).increment(1);
            histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
        });
    }

    /// The driver started a command (from its command monitor).
    pub fn db_command_started(&self, request_id: i32, command_name: &str, command: &Document) {
        let collection = collection_of(command_name, command);
        if let Ok(mut map) = self.inner.commands.lock() {
            map.insert(request_id, (command_name.to_owned(), collection));
        }
    }

    /// The driver finished a command (success or failure) after `elapsed`.
    pub fn db_command_finished(&self, request_id: i32, elapsed: Duration) {
        let started = self
            .inner
            .commands
            .lock()
            .ok()
            .and_then(|mut map| map.remove(&request_id));
        let Some((command, collection)) = started else {
            return;
        };
        self.record(|| {
            histogram!("oddxer_db_command_duration_seconds", "command" => command, "collection" => collection).record(elapsed.as_secs_f64());
        });
    }

    /// A pool event: a connection opened (`open` +1) or closed, checked out (`in_use` +1) or in.
    pub fn db_pool(&self, state: PoolState, delta: f64) {
        self.record(|| {
            gauge!("oddxer_db_pool_connections", "state" => state.as_str()).increment(delta)
        });
    }

    /// A WebSocket was authenticated; the returned guard counts it until dropped.
    pub fn ws_connected(&self) -> WsGuard {
        self.record(|| gauge!("oddxer_ws_connections").increment(1.0));
        WsGuard(self.clone())
    }

    /// A live event frame was queued to a socket.
    pub fn ws_event_sent(&self, event: &LiveEvent) {
        self.record(|| {
            counter!("oddxer_ws_events_sent_total", "event" => event_name(event)).increment(1)
        });
    }

    /// `entries` stream entries were queued to a socket in a sync batch of `stream` (`wallet`, `purchases`).
    pub fn sync_entries_sent(&self, stream: SyncStream, entries: usize) {
        self.record(|| {
            counter!("oddxer_sync_entries_sent_total", "stream" => stream.as_str())
                .increment(entries as u64)
        });
    }

    /// A ledger transfer's outcome was decided by this process (its deciding insert won, so each
    /// transfer is counted once across re-drives and processes). Feeds the purchase and payment
    /// counters and the fees collected (in minor units).
    pub fn transfer_decided(
        &self,
        kind: TransactionType,
        top_level: bool,
        method: Option<PaymentMethod>,
        amount: i64,
        completed: bool,
    ) {
        let status = if completed { "completed" } else { "failed" };
        match kind {
            TransactionType::Purchase => {
                self.record(|| counter!("oddxer_purchases_total", "outcome" => status).increment(1))
            }
            TransactionType::Deposit => self.payment(PaymentKind::Deposit, method, status),
            // A withdrawal's own transfer only places the hold: completed, it is still pending at the
            // provider (counted when `payment_settled`); refused, the withdrawal failed.
            TransactionType::Withdrawal if top_level && !completed => {
                self.payment(PaymentKind::Withdrawal, method, status)
            }
            TransactionType::Fee if completed => self.record(|| {
                counter!("oddxer_fees_collected_minor_total").increment(amount.max(0) as u64)
            }),
            _ => {}
        }
    }

    /// A payment's final status, decided once (e.g. a withdrawal's provider result insert won).
    pub fn payment(&self, kind: PaymentKind, method: Option<PaymentMethod>, status: &'static str) {
        let method = method.map(|m| m.as_str()).unwrap_or("UNKNOWN");
        self.record(|| counter!("oddxer_payments_total", "kind" => kind.as_str(), "method" => method, "status" => status).increment(1));
    }

    /// A purchase's settlement was decided by this process (`paid_out` or `refunded`).
    pub fn settlement_decided(&self, outcome: &'static str) {
        self.record(|| counter!("oddxer_settlements_total", "outcome" => outcome).increment(1));
    }

    /// The recovery worker finished `n` unfinished items of `kind`.
    pub fn recovery_redriven(&self, kind: RecoveryKind, n: usize) {
        self.record(|| {
            counter!("oddxer_recovery_redriven_total", "kind" => kind.as_str()).increment(n as u64)
        });
    }

    /// Transfers still PENDING, and how old the oldest one is (0 when none).
    pub fn transfers_pending(&self, count: u64, oldest: Duration) {
        self.record(|| {
            gauge!("oddxer_transfers_pending").set(count as f64);
            gauge!("oddxer_transfers_pending_oldest_seconds").set(oldest.as_secs_f64());
        });
    }

    /// Violations found by the last reconcile run, and when it finished (Unix seconds).
    pub fn reconcile_finished(&self, violations: usize, at_unix_seconds: f64) {
        self.record(|| {
            gauge!("oddxer_reconcile_violations").set(violations as f64);
            gauge!("oddxer_reconcile_last_run_timestamp_seconds").set(at_unix_seconds);
        });
    }

    /// Users by role (`USER`, `SELLER`, `ADMIN`), counted by the background worker.
    pub fn users(&self, role: &'static str, count: u64) {
        self.record(|| gauge!("oddxer_users_total", "role" => role).set(count as f64));
    }
}

/// Keeps `oddxer_ws_connections` counting one socket until dropped (however the socket ends).
pub struct WsGuard(Metrics);

impl Drop for WsGuard {
    fn drop(&mut self) {
        self.0
            .record(|| gauge!("oddxer_ws_connections").decrement(1.0));
    }
}

#[derive(Debug, Clone, Copy)]
pub enum PoolState {
    Open,
    InUse,
}

impl PoolState {
    fn as_str(self) -> &'static str {
        match self {
            PoolState::Open => "open",
            PoolState::InUse => "in_use",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum SyncStream {
    Wallet,
    Purchases,
}

impl SyncStream {
    fn as_str(self) -> &'static str {
        match self {
            SyncStream::Wallet => "wallet",
            SyncStream::Purchases => "purchases",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum PaymentKind {
    Deposit,
    Withdrawal,
}

impl PaymentKind {
    fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Deposit => "deposit",
            PaymentKind::Withdrawal => "withdrawal",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum RecoveryKind {
    Deposit,
    Withdrawal,
    Purchase,
    Resolution,
}

impl RecoveryKind {
    fn as_str(self) -> &'static str {
        match self {
            RecoveryKind::Deposit => "deposit",
            RecoveryKind::Withdrawal => "withdrawal",
            RecoveryKind::Purchase => "purchase",
            RecoveryKind::Resolution => "resolution",
        }
    }
}

/// `2xx`, `4xx`, ...: p99 per route and class is what an operator reads; single codes would only
/// multiply the histogram's series.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

fn event_name(event: &LiveEvent) -> &'static str {
    match event {
        LiveEvent::WalletUpdated { .. } => "wallet:updated",
        LiveEvent::CodeCreated(_) => "code:created",
        LiveEvent::CodeUpdated(_) => "code:updated",
        LiveEvent::PaymentUpdated(_) => "payment:updated",
        LiveEvent::CodePurchased(_) => "code:purchased",
        LiveEvent::CodeFinalized(_) => "code:finalized",
        LiveEvent::VoteCast(_) => "vote:cast",
    }
}

/// The collection a command addresses: the command's first value (`{find: "users", ...}`), or
/// `collection` for `getMore`; `none` for commands on no collection (`ping`, `endSessions`). Only
/// names the code chose reach the driver, but anything not shaped like one is folded into `other`
/// so the label set stays bounded whatever happens.
pub fn collection_of(command_name: &str, command: &Document) -> String {
    let value = if command_name == "getMore" {
        command.get("collection")
    } else {
        command.iter().next().map(|(_, v)| v)
    };
    match value.and_then(|v| v.as_str()) {
        None => "none".into(),
        Some(name)
            if !name.is_empty()
                && name.len() <= 40
                && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            name.into()
        }
        Some(_) => "other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn the_collection_label_is_the_named_collection_or_a_fixed_word() {
        assert_eq!(
            collection_of("find", &doc! { "find": "ledger_entries", "filter": {} }),
            "ledger_entries"
        );
        assert_eq!(
            collection_of(
                "getMore",
                &doc! { "getMore": 42_i64, "collection": "purchases" }
            ),
            "purchases"
        );
        assert_eq!(collection_of("ping", &doc! { "ping": 1 }), "none");
        assert_eq!(
            collection_of("find", &doc! { "find": "+256700000001" }),
            "other"
        );
    }

    #[test]
    fn statuses_fold_into_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(503), "5xx");
    }

    #[test]
    fn two_registries_keep_their_own_figures() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.settlement_decided("paid_out");
        assert!(a
            .render()
            .contains("oddxer_settlements_total{outcome=\"paid_out\"} 1"));
        assert!(b
            .render()
            .contains("oddxer_settlements_total{outcome=\"paid_out\"} 0"));
    }
}
