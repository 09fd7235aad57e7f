//! Casting a vote: only a buyer, once, between `expiresAt` and finalization. The last buyer's vote
//! finalizes the code by majority (a tie goes to admin review).

use super::finalize::{self, DecidedBy};
use crate::auth::store::User;
use crate::clock;
use crate::codes::resolutions::find_resolution;
use crate::codes::rules::{self, Decision, VoteWindow};
use crate::codes::{service as codes, store as code_store};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::votes::store;
use mongodb::bson::{doc, oid::ObjectId};
use oddxer_shared::api::VoteOut;
use oddxer_shared::sync::LiveEvent;
use oddxer_shared::VoteType;

/// Casts a vote. Four sequential database commands in the common case (DESIGN.md section 9): the
/// code by `_id`, the voter's completed purchase (equality on the indexed `bettingCode`, bounded by
/// the code's buyers), the vote insert (unique per code and voter: the decision), and the tally
/// of the code's votes for the answer. The caller's account check is served by the user cache.
/// The counters on the code are labels no decision reads: they are rewritten after the answer.
/// The vote that completes the voting also finalizes the code, which costs more.
pub async fn cast(
    state: &AppState,
    voter: &User,
    code_id: ObjectId,
    vote: VoteType,
) -> Result<VoteOut> {
    let db = &state.db;
    // A purchase answered by this process but still being labelled counts as bought.
    state.pending.settle_code(code_id).await;
    let code = codes::load(state, code_id).await?;
    if !store::bought(db, code_id, voter.id).await? {
        return Err(AppError::Forbidden(
            "Only buyers of this code can vote on it",
        ));
    }
    let now = clock::now();
    // Finalization writes the code's final status right after its deciding insert (and re-drives
    // it), so the status label stands for "finalized" here; a vote racing that short gap is stored
    // but counts for nothing: the resolution already holds the tally it was decided on.
    match rules::vote_window(
        code.listing.expires_at,
        state.config.voting_window,
        now,
        false,
        code.status,
    ) {
        VoteWindow::Open => {}
        VoteWindow::NotYet => {
            return Err(AppError::conflict(
                "VOTING_NOT_OPEN",
                "Voting opens when the code's games start (expiresAt)",
            ))
        }
        VoteWindow::Closed => {
            return Err(AppError::conflict(
                "VOTING_CLOSED",
                "Voting on this code is closed",
            ))
        }
    }
    let id = store::insert(db, code_id, voter.id, vote, now)
        .await?
        .ok_or_else(|| AppError::conflict("ALREADY_VOTED", "You already voted on this code"))?;
    let (win, loss) = store::tally(db, code_id).await?;
    let tally = serde_json::json!({ "codeId": code_id.to_hex(), "voteType": vote.as_str(), "winVotes": win, "lossVotes": loss, "totalVotes": win + loss });
    state
        .hub
        .to_users([code.seller], LiveEvent::VoteCast(tally));
    // Every buyer voted: decide now instead of waiting for the window to close. The sales label
    // says whether that can be so; only then are the buyers counted (a scan on FerretDB).
    if win + loss < code.sales_count {
        // Registered like an unfinished purchase of the code: the vote that completes the voting
        // (and this process's reads of the code) wait for this write, which FerretDB applies as a
        // whole document and could otherwise land over the final status.
        let guard = state.pending.start(id, voter.id, code.seller, code_id);
        let state = state.clone();
        tokio::spawn(async move {
            let _guard = guard;
            if let Err(e) = refresh_counters_keeping_final_labels(&state, code_id).await {
                tracing::warn!(code = %code_id, error = %e, "vote counters not refreshed; the next vote or finalization does it");
            }
        });
        return Ok(vote_out(id, code_id, vote, win, loss, None, now));
    }
    // Written before finalizing, not beside it: FerretDB writes whole documents back, and a
    // counter write racing the final-status write could undo it.
    store::refresh_counters(db, code_id).await?;
    let buyers = crate::codes::sales::buyers(db, code_id).await?.len() as i64;
    let outcome = match rules::decide(win, loss, buyers, false) {
        Decision::Resolve(outcome) => Some(
            finalize::resolve(state, &code, outcome, DecidedBy::AllVoted, None)
                .await?
                .resolution()
                .outcome,
        ),
        Decision::Review => {
            code_store::set_labels(db, code_id, doc! { "needsReview": true }).await?;
            None
        }
        Decision::Wait => None,
    };
    Ok(vote_out(id, code_id, vote, win, loss, outcome, now))
}

/// Rewrites the vote counters, then puts back the final labels should the code have been
/// decided meanwhile (by another process): our whole-document write may have undone them. A
/// resolution decided after our look is labelled by its own run, after our write.
async fn refresh_counters_keeping_final_labels(state: &AppState, code_id: ObjectId) -> Result<()> {
    store::refresh_counters(&state.db, code_id).await?;
    if let Some(res) = find_resolution(&state.db, code_id).await? {
        finalize::ensure_labels(state, code_id, &res).await?;
    }
    Ok(())
}

fn vote_out(
    id: ObjectId,
    code_id: ObjectId,
    vote: VoteType,
    win: i64,
    loss: i64,
    outcome: Option<oddxer_shared::Outcome>,
    now: mongodb::bson::DateTime,
) -> VoteOut {
    VoteOut {
        id: id.to_hex(),
        code_id: code_id.to_hex(),
        vote_type: vote,
        win_votes: win,
        loss_votes: loss,
        total_votes: win + loss,
        outcome,
        created_at: clock::rfc3339(now),
    }
}
