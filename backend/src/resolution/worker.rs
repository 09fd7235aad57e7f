//! The marketplace worker: moves codes past `expiresAt` to AWAITING_RESULT, asks the result
//! verifier, finalizes codes whose voting window closed (majority; a tie or no votes from buyers
//! goes to admin review with `needsReview: true`, staying AWAITING_RESULT; an unsold code is VOID),
//! and re-drives resolutions whose follow-up did not finish. Every step is a label write or goes
//! through the resolution insert, so any number of processes may run it at once.

use super::finalize::{self, DecidedBy};
use super::verifier::{self, ResultVerifier, Verdict};
use crate::clock;
use crate::codes::resolutions;
use crate::codes::rules::{self, Decision};
use crate::codes::store::{self, Code, CODES};
use crate::error::Result;
use crate::state::AppState;
use mongodb::bson::{doc, DateTime};
use oddxer_shared::{CodeStatus, Outcome};

/// Codes looked at per pass and step.
const BATCH: i64 = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub expired: u64,
    pub finalized: usize,
    pub review: usize,
    pub redriven: usize,
}

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.market_worker_interval);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&state, clock::now()).await {
                tracing::warn!(error = %e, "marketplace pass failed; will retry");
            }
        }
    })
}

/// One pass as of `now` (injectable, so tests can run the clock forward).
pub async fn run_once(state: &AppState, now: DateTime) -> Result<PassReport> {
    let mut report = PassReport {
        expired: expire(state, now).await?,
        ..Default::default()
    };
    let verifier = verifier::for_state(state);
    let due = store::find_many(
        &state.db,
        doc! { "status": CodeStatus::AwaitingResult.as_str(), "needsReview": { "$ne": true } },
        doc! { "expiresAt": 1, "_id": 1 },
        BATCH,
    )
    .await?;
    let mut finalized = vec![];
    for code in &due {
        // Before a decision (review included): buyers' synced copies learn the kick-off first.
        if let Err(e) = crate::purchases::stream::kicked_off(state, code).await {
            tracing::warn!(code = %code.id, error = %e, "re-versioning purchase rows at kick-off failed; will retry");
        }
        match settle_one(state, verifier.as_ref(), code, now).await {
            Ok(Settled::Finalized) => {
                report.finalized += 1;
                finalized.push(code.id);
            }
            Ok(Settled::Review) => report.review += 1,
            Ok(Settled::Waiting) => {}
            Err(e) => {
                tracing::warn!(code = %code.id, error = %e, "finalization failed; will retry")
            }
        }
    }
    report.redriven = redrive(state, clock::before(now, state.config.recovery_after)).await?;
    // A racing pass (another process) may have written an old label over a final one while we
    // worked; look once more now that our writes are done. Later passes repair what remains.
    for id in finalized {
        if let Some(res) = resolutions::find_resolution(&state.db, id).await? {
            finalize::ensure_labels(state, id, &res).await?;
        }
    }
    Ok(report)
}

/// ACTIVE and SOLD_OUT codes past `expiresAt` become AWAITING_RESULT (a label).
pub async fn expire(state: &AppState, now: DateTime) -> Result<u64> {
    // One equality on `status` per live status: served by the index and bounded by the codes on
    // sale (an `$in` would read every code ever listed on FerretDB).
    let mut moved = 0;
    for status in [CodeStatus::Active, CodeStatus::SoldOut] {
        let mut fields = doc! { "status": CodeStatus::AwaitingResult.as_str() };
        fields.extend(store::touched(clock::now()));
        moved += state
            .db
            .col(CODES)
            .update_many(
                doc! { "status": status.as_str(), "expiresAt": { "$lte": now } },
                doc! { "$set": fields },
            )
            .await?
            .modified_count;
    }
    Ok(moved)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Finalized,
    Review,
    Waiting,
}

/// Decides one expired code if it can be decided now.
pub async fn settle_one(
    state: &AppState,
    verifier: &dyn ResultVerifier,
    code: &Code,
    now: DateTime,
) -> Result<Settled> {
    if let Some(res) = resolutions::find_resolution(&state.db, code.id).await? {
        // Already decided; its label was overwritten or its follow-up is unfinished.
        if res.applied {
            finalize::ensure_labels(state, code.id, &res).await?;
        } else if res.created_at <= clock::before(now, state.config.recovery_after) {
            finalize::after_resolution(state, code, res.outcome).await?;
        }
        return Ok(Settled::Finalized);
    }
    if code.listing.expires_at > now {
        return Ok(Settled::Waiting);
    }
    match verifier.verify(code).await {
        Ok(Verdict::Known(outcome)) => {
            finalize::resolve(state, code, outcome, DecidedBy::Verifier, None).await?;
            return Ok(Settled::Finalized);
        }
        Ok(Verdict::Unknown) => {}
        Err(e) => {
            tracing::warn!(code = %code.id, verifier = verifier.name(), error = %e, "result verifier failed; votes decide")
        }
    }
    let window_over = now >= clock::after(code.listing.expires_at, state.config.voting_window);
    if !window_over && code.total_votes == 0 {
        return Ok(Settled::Waiting); // the last buyer's vote decides early; nothing voted yet
    }
    let buyers = crate::codes::sales::buyers(&state.db, code.id).await?.len() as i64;
    let (win, loss) = crate::votes::store::tally(&state.db, code.id).await?;
    match rules::decide(win, loss, buyers, window_over) {
        Decision::Resolve(outcome) => {
            let by = match (outcome, buyers) {
                (Outcome::Void, 0) => DecidedBy::Unsold,
                _ if window_over => DecidedBy::Majority,
                _ => DecidedBy::AllVoted,
            };
            finalize::resolve(state, code, outcome, by, None).await?;
            Ok(Settled::Finalized)
        }
        Decision::Review => {
            store::set_labels(&state.db, code.id, doc! { "needsReview": true }).await?;
            Ok(Settled::Review)
        }
        Decision::Wait => Ok(Settled::Waiting),
    }
}

/// Resolutions decided before `cutoff` whose follow-up (labels, leaderboard, settlement, event)
/// did not finish: run it again. Also called by `crate::recovery::run_pass`.
pub async fn redrive(state: &AppState, cutoff: DateTime) -> Result<usize> {
    let mut done = 0;
    for res in resolutions::unapplied(&state.db, cutoff, BATCH).await? {
        let Some(code) = store::find(&state.db, res.code).await? else {
            continue;
        };
        match finalize::after_resolution(state, &code, res.outcome).await {
            Ok(()) => done += 1,
            Err(e) => {
                tracing::warn!(code = %res.code, error = %e, "resolution follow-up failed; will retry")
            }
        }
    }
    Ok(done)
}
