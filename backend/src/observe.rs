//! The gauges no single request moves, refreshed by the background worker after each recovery
//! pass: transfers still PENDING (and the oldest one's age), users by role, and the periodic
//! reconcile of the transfers decided since the last pass (`admin::recent`). Every read is an
//! indexed equality read whose cost follows what is pending or recent, not the data's size; the
//! users count (an index count per role) runs every [`USERS_EVERY`] passes.

use crate::admin::recent::{PassReport, Watermark};
use crate::clock;
use crate::error::Result;
use crate::ledger::transfer::minute_bucket;
use crate::state::AppState;
use futures_util::TryStreamExt;
use mongodb::bson::{doc, DateTime, Document};
use oddxer_shared::Role;
use std::time::Duration;

/// Pending transfers read at most (the gauge saturates there; the alert fires long before).
const PENDING_CAP: i64 = 10_000;
/// The users gauge is refreshed every this many passes.
const USERS_EVERY: u64 = 10;

/// The worker's state between passes.
#[derive(Debug, Default)]
pub struct Observer {
    passes: u64,
    reconcile: Watermark,
}

/// What one pass measured (the scale benchmark prints it).
#[derive(Debug, Default)]
pub struct ObserveReport {
    pub pending: u64,
    pub reconcile: PassReport,
    pub users_counted: bool,
}

impl Observer {
    /// An observer whose first reconcile pass starts at minute `bucket` (see [`Watermark::starting_at`]).
    pub fn starting_at(bucket: i64) -> Self {
        Observer {
            passes: 0,
            reconcile: Watermark::starting_at(bucket),
        }
    }

    /// One pass as of `now`. The reconcile looks only at minutes that ended `RECOVERY_AFTER` plus
    /// `RECOVERY_INTERVAL` ago: by then a transfer cut short between its decision and its label has
    /// been finished by the recovery worker, so what is still wrong is a real violation.
    pub async fn pass(&mut self, state: &AppState, now: DateTime) -> Result<ObserveReport> {
        let metrics = &state.db.metrics;
        let mut report = ObserveReport::default();
        let (pending, oldest) = pending_transfers(state, now).await?;
        metrics.transfers_pending(pending, oldest);
        report.pending = pending;
        if self.passes.is_multiple_of(USERS_EVERY) {
            for role in [Role::Buyer, Role::Seller, Role::Admin] {
                let n = state
                    .db
                    .col("users")
                    .count_documents(doc! { "role": role.as_str() })
                    .await?;
                metrics.users(role.as_str(), n);
            }
            report.users_counted = true;
        }
        self.passes += 1;
        let settled = clock::before(
            now,
            state.config.recovery_after + state.config.recovery_interval,
        );
        report.reconcile = self
            .reconcile
            .pass(&state.db, minute_bucket(settled))
            .await?;
        let held = state.findings.add(&report.reconcile.violations);
        for v in &report.reconcile.violations {
            tracing::error!(invariant = %v.invariant, subject = %v.subject, detail = %v.detail, "reconcile violation");
        }
        metrics.reconcile_finished(held, clock::unix_seconds(now) as f64);
        Ok(report)
    }
}

/// How many transfers are PENDING and how long the oldest has been.
async fn pending_transfers(state: &AppState, now: DateTime) -> Result<(u64, Duration)> {
    let docs: Vec<Document> = state
        .db
        .col("transactions")
        .find(doc! { "status": "PENDING" })
        .projection(doc! { "_id": 0, "createdAt": 1 })
        .limit(PENDING_CAP)
        .await?
        .try_collect()
        .await?;
    let oldest = docs
        .iter()
        .filter_map(|d| d.get_datetime("createdAt").ok())
        .min();
    let age = oldest
        .map(|t| (now.timestamp_millis() - t.timestamp_millis()).max(0))
        .unwrap_or(0);
    Ok((docs.len() as u64, Duration::from_millis(age as u64)))
}
