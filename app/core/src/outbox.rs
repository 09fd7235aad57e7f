//! Replaying the outbox: votes cast offline are sent when the sync connection is back online.
//!
//! Safe to replay because a vote is unique per (code, voter) on the server: a replay of a vote
//! that did arrive earlier (its answer was lost) is refused with 409 ALREADY_VOTED, which counts
//! as delivered. Purchases and money moves never go through here.

use std::sync::Arc;

use crate::client::{Inner, OddxerClient};
use crate::error::{ClientError, ErrorChain, Result};
use oddxer_sync::{replay_verdict, ReplayFailure, ReplayVerdict};

/// What one replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Delivered now, or found already on the server.
    pub delivered: usize,
    /// Refused for good (voting closed, not a buyer, ...): kept as FAILED for the UI.
    pub refused: usize,
    /// Still pending: the server could not be reached or was busy.
    pub pending: usize,
}

/// The error as the shared replay rules (`oddxer_sync::outbox`) see it.
fn replay_failure(e: &ClientError) -> ReplayFailure {
    match e {
        _ if e.is_unreachable() => ReplayFailure::Unreachable,
        ClientError::Unauthenticated => ReplayFailure::Unauthenticated,
        ClientError::Api { status, code, .. } => ReplayFailure::Api {
            status: *status,
            code: code.clone(),
        },
        // Anything else local (the answer unreadable, the store) is worth another try later.
        _ => ReplayFailure::Protocol,
    }
}

impl OddxerClient {
    /// Delivers the queued votes now (the sync engine does this by itself on reconnect).
    pub async fn replay_outbox(&self) -> Result<ReplayReport> {
        self.inner.replay_outbox().await
    }
}

impl Inner {
    /// Starts a replay in the background when something is waiting (checked here, so an empty
    /// outbox costs no task).
    pub(crate) fn spawn_outbox_replay(inner: &Arc<Inner>) {
        match inner.with_store(|s| s.pending_outbox()) {
            Ok(items) if items.is_empty() => return,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %ErrorChain(&e), "could not read the outbox");
                return;
            }
        }
        let inner = inner.clone();
        tokio::spawn(async move {
            match inner.replay_outbox().await {
                Ok(r) if r != ReplayReport::default() => {
                    tracing::info!(?r, "outbox replayed")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %ErrorChain(&e), "outbox replay failed"),
            }
        });
    }

    /// Sends the pending items oldest first, one replay at a time.
    pub(crate) async fn replay_outbox(&self) -> Result<ReplayReport> {
        let _one_at_a_time = self.outbox_replay.lock().await;
        let items = self.with_store(|s| s.pending_outbox())?;
        let mut report = ReplayReport::default();
        let total = items.len();
        for (done, item) in items.into_iter().enumerate() {
            let outcome = self.post_vote(&item.code_id, item.vote_type).await;
            let verdict = match &outcome {
                Ok(_) => replay_verdict(Ok(())),
                Err(e) => replay_verdict(Err(&replay_failure(e))),
            };
            match (verdict, outcome) {
                (ReplayVerdict::Delivered, outcome) => {
                    self.with_store(|s| s.outbox_delivered(&item.id))?;
                    if outcome.is_ok() {
                        self.vote_delivered(&item.code_id, item.vote_type);
                    }
                    report.delivered += 1;
                }
                (ReplayVerdict::TryLater, Err(e)) => {
                    let message = crate::client::user_message(e);
                    self.with_store(|s| s.outbox_attempted(&item.id, &message))?;
                    report.pending = total - done;
                    self.notify();
                    return Ok(report);
                }
                (ReplayVerdict::Refused, Err(e)) => {
                    let message = crate::client::user_message(e);
                    tracing::info!(code_id = %item.code_id, %message, "a queued vote was refused");
                    self.with_store(|s| s.outbox_refused(&item.id, &message))?;
                    report.refused += 1;
                }
                // A success is always `Delivered`.
                (_, Ok(_)) => {}
            }
            self.notify();
        }
        Ok(report)
    }
}
