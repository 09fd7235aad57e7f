//! The recovery worker: at startup and every `RECOVERY_INTERVAL`, re-drives whatever a crash or a
//! lost callback left unfinished. Every step is idempotent, so several processes may run it at once.

use crate::clock;
use crate::state::AppState;
use crate::wallet::{service, store};
use oddxer_shared::TransactionType;

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

/// One pass. Deposits whose callback never came are polled at the provider; a confirmed one is
/// credited (once: the transfer id is the deposit's id).
pub async fn run_once(state: &AppState) -> anyhow::Result<usize> {
    let cutoff = clock::before(clock::now(), state.config.recovery_after);
    let mut touched = 0;
    for tx in store::pending(&state.db, TransactionType::Deposit, cutoff, 500).await? {
        match service::confirm_deposit(state, &tx.reference).await {
            Ok(_) => touched += 1,
            Err(e) => tracing::warn!(reference = %tx.reference, error = %e, "deposit poll failed"),
        }
    }
    Ok(touched)
}
