//! The recovery worker: at startup and every `RECOVERY_INTERVAL`, re-drives whatever a crash or a
//! lost callback left unfinished. Every step is idempotent, so several processes may run it at once.

use crate::clock;
use crate::metrics::RecoveryKind;
use crate::purchases;
use crate::state::AppState;
use crate::wallet::{service, store, withdrawals};
use mongodb::bson::{doc, DateTime};
use oddxer_shared::TransactionType;

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.recovery_interval);
        let mut observer = crate::observe::Observer::default();
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state).await {
                tracing::warn!(error = %e, "recovery pass failed; will retry");
            }
            // After the recovery pass: what it could finish no longer counts as pending.
            if let Err(e) = observer.pass(&state, clock::now()).await {
                tracing::warn!(error = %e, "metrics pass failed; will retry");
            }
        }
    })
}

/// One pass over everything older than `RECOVERY_AFTER` that is not finished.
pub async fn run_once(state: &AppState) -> anyhow::Result<usize> {
    let cutoff = clock::before(clock::now(), state.config.recovery_after);
    run_pass(state, cutoff).await
}

/// The pass with an explicit cutoff (tests use "now" to recover at once after a kill).
pub async fn run_pass(state: &AppState, cutoff: DateTime) -> anyhow::Result<usize> {
    let metrics = &state.db.metrics;
    let mut touched = 0;
    // Deposits whose callback never came: ask the provider; a confirmed one is credited once.
    for tx in store::pending(&state.db, TransactionType::Deposit, cutoff, 500).await? {
        match service::confirm_deposit(state, &tx.reference).await {
            Ok(_) => {
                touched += 1;
                metrics.recovery_redriven(RecoveryKind::Deposit, 1);
            }
            Err(e) => tracing::warn!(reference = %tx.reference, error = %e, "deposit poll failed"),
        }
    }
    // Withdrawals holding money: ask the provider, pay out or return; submit if never submitted.
    for tx in store::pending(&state.db, TransactionType::Withdrawal, cutoff, 500).await? {
        if tx.parent.is_some() {
            continue;
        }
        match withdrawals::confirm_withdrawal(state, &tx.reference).await {
            Ok(_) => {
                touched += 1;
                metrics.recovery_redriven(RecoveryKind::Withdrawal, 1);
            }
            Err(e) => {
                tracing::warn!(reference = %tx.reference, error = %e, "withdrawal poll failed")
            }
        }
    }
    // Purchases cut short: complete them if the money moved, otherwise release slot and claim.
    let stale = purchases::store::list(
        &state.db,
        doc! { "status": "PENDING", "createdAt": { "$lt": cutoff } },
        doc! { "_id": 1 },
        500,
    )
    .await?;
    for p in &stale {
        match purchases::service::recover(state, p).await {
            Ok(()) => {
                touched += 1;
                metrics.recovery_redriven(RecoveryKind::Purchase, 1);
            }
            Err(e) => tracing::warn!(purchase = %p.id, error = %e, "purchase recovery failed"),
        }
    }
    // Settlements cut short need no pass of their own: a resolution stays unapplied until every
    // purchase of its code is settled (`purchases::service::settle_code`), and the unapplied
    // ones are re-driven below; a purchase finished after its code was resolved settles itself.
    // Finalizations cut short: labels, leaderboard, settlement hook and event of unapplied resolutions.
    let resolutions = crate::resolution::worker::redrive(state, cutoff).await?;
    metrics.recovery_redriven(RecoveryKind::Resolution, resolutions);
    touched += resolutions;
    // FAILED transfers get a second look once any leg write in flight when they failed has landed.
    touched += state.ledger.transfers().recheck_failed(cutoff, 500).await?;
    Ok(touched)
}
