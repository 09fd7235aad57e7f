//! The recovery worker: at startup and every `RECOVERY_INTERVAL`, re-drives whatever a crash or a
//! lost callback left unfinished. Every step is idempotent, so several processes may run it at once.

use crate::clock;
use crate::purchases;
use crate::state::AppState;
use crate::wallet::{service, store, withdrawals};
use futures_util::TryStreamExt;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use oddxer_shared::{Outcome, TransactionType};

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.recovery_interval);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state).await {
                tracing::warn!(error = %e, "recovery pass failed; will retry");
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
    let mut touched = 0;
    // Deposits whose callback never came: ask the provider; a confirmed one is credited once.
    for tx in store::pending(&state.db, TransactionType::Deposit, cutoff, 500).await? {
        match service::confirm_deposit(state, &tx.reference).await {
            Ok(_) => touched += 1,
            Err(e) => tracing::warn!(reference = %tx.reference, error = %e, "deposit poll failed"),
        }
    }
    // Withdrawals holding money: ask the provider, pay out or return; submit if never submitted.
    for tx in store::pending(&state.db, TransactionType::Withdrawal, cutoff, 500).await? {
        if tx.parent.is_some() {
            continue;
        }
        match withdrawals::confirm_withdrawal(state, &tx.reference).await {
            Ok(_) => touched += 1,
            Err(e) => tracing::warn!(reference = %tx.reference, error = %e, "withdrawal poll failed"),
        }
    }
    // Purchases cut short: complete them if the money moved, otherwise release slot and claim.
    let stale = purchases::store::list(&state.db, doc! { "status": "PENDING", "createdAt": { "$lt": cutoff } }, doc! { "_id": 1 }, 500).await?;
    for p in &stale {
        match purchases::service::recover(state, p).await {
            Ok(()) => touched += 1,
            Err(e) => tracing::warn!(purchase = %p.id, error = %e, "purchase recovery failed"),
        }
    }
    // Settlements cut short: completed purchases of finalized codes that are not settled yet.
    let resolutions: Vec<Document> = state.db.col("code_resolutions").find(doc! {}).await?.try_collect().await?;
    for r in resolutions {
        let Some(code) = resolution_code(&r) else { continue };
        let Some(outcome) = r.get_str("outcome").ok().and_then(Outcome::parse) else { continue };
        let unsettled = purchases::store::list(
            &state.db,
            doc! { "bettingCode": code, "status": "COMPLETED", "settlement": { "$exists": false } },
            doc! { "_id": 1 },
            1_000,
        )
        .await?;
        for p in &unsettled {
            match purchases::settlement::settle_purchase(state, p, outcome).await {
                Ok(_) => touched += 1,
                Err(e) => tracing::warn!(purchase = %p.id, error = %e, "settlement recovery failed"),
            }
        }
    }
    // Finalizations cut short: labels, leaderboard, settlement hook and event of unapplied resolutions.
    touched += crate::codes::worker::redrive(state, cutoff).await?;
    Ok(touched)
}

/// A resolution's `_id` names its code (as an ObjectId or its hex).
fn resolution_code(d: &Document) -> Option<ObjectId> {
    match d.get("_id")? {
        Bson::ObjectId(o) => Some(*o),
        Bson::String(s) => ObjectId::parse_str(s).ok(),
        _ => None,
    }
}
