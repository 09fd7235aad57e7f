//! Finalization: a code is decided by ONE insert `code_resolutions {_id: codeId}`; whoever inserts
//! first wins, everyone else reads the decision. Everything after it (labels, leaderboard,
//! settlement, events) is idempotent and re-driven by the marketplace worker and the recovery pass
//! until the resolution is marked `applied`.

use crate::clock;
use crate::codes::resolutions::{find_resolution, Resolution, RESOLUTIONS};
use crate::codes::service;
use crate::codes::store::{self, Code};
use crate::error::{is_duplicate_key, AppError, Result};
use crate::state::AppState;
use mongodb::bson::{doc, oid::ObjectId, Bson};
use oddxer_shared::sync::LiveEvent;
use oddxer_shared::Outcome;

/// Who or what decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// Majority of votes when the voting window closed.
    Majority,
    /// Every buyer voted before the window closed.
    AllVoted,
    Admin,
    /// A `ResultVerifier` (bookmaker API or the sandbox).
    Verifier,
    /// Nobody bought the code: void, nothing to settle.
    Unsold,
}

impl DecidedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Majority => "MAJORITY",
            DecidedBy::AllVoted => "ALL_VOTED",
            DecidedBy::Admin => "ADMIN",
            DecidedBy::Verifier => "VERIFIER",
            DecidedBy::Unsold => "UNSOLD",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// This call's insert decided the code.
    Decided(Resolution),
    /// Someone decided first; this is their decision.
    AlreadyDecided(Resolution),
}

impl Resolved {
    pub fn resolution(&self) -> &Resolution {
        match self {
            Resolved::Decided(r) | Resolved::AlreadyDecided(r) => r,
        }
    }
}

/// Decides a code's outcome exactly once, then applies the decision.
pub async fn resolve(
    state: &AppState,
    code: &Code,
    outcome: Outcome,
    by: DecidedBy,
    admin: Option<ObjectId>,
) -> Result<Resolved> {
    let (win, loss) = crate::votes::store::tally(&state.db, code.id).await?;
    let now = clock::now();
    let d = doc! {
        "_id": code.id, "seller": code.seller, "outcome": outcome.as_str(), "decidedBy": by.as_str(),
        "admin": admin.map(Bson::ObjectId).unwrap_or(Bson::Null), "winVotes": win, "lossVotes": loss,
        "applied": false, "createdAt": now,
    };
    match state.db.col(RESOLUTIONS).insert_one(d).await {
        Ok(_) => {
            after_resolution(state, code, outcome).await?;
            let res = find_resolution(&state.db, code.id)
                .await?
                .ok_or_else(|| AppError::internal("resolution vanished"))?;
            Ok(Resolved::Decided(res))
        }
        Err(e) if is_duplicate_key(&e) => {
            let res = find_resolution(&state.db, code.id)
                .await?
                .ok_or_else(|| AppError::internal("resolution unreadable"))?;
            if res.applied {
                // Decided and applied; a label overwritten since by a racing write is put back.
                ensure_labels(state, code.id, &res).await?;
            }
            Ok(Resolved::AlreadyDecided(res))
        }
        Err(e) => Err(e.into()),
    }
}

/// Everything that follows a resolution, idempotent and safe to run concurrently: the code's
/// labels, the seller's leaderboard row, the money settlement (issue 5), then the `applied` mark
/// and the `code:finalized` event (sent by whichever run sets the mark).
pub async fn after_resolution(state: &AppState, code: &Code, outcome: Outcome) -> Result<()> {
    let res = find_resolution(&state.db, code.id)
        .await?
        .ok_or_else(|| AppError::internal("after_resolution without a resolution"))?;
    if res.outcome != outcome {
        return Err(AppError::internal(format!(
            "code {} is resolved {}, not {}",
            code.id,
            res.outcome.as_str(),
            outcome.as_str()
        )));
    }
    ensure_labels(state, code.id, &res).await?;
    crate::leaderboard::service::record(state, code, &res).await?;
    settlement_hook(state, code, outcome).await?;
    let marked = state
        .db
        .col(RESOLUTIONS)
        .update_one(
            doc! { "_id": code.id, "applied": false },
            doc! { "$set": { "applied": true, "appliedAt": clock::now() } },
        )
        .await?;
    if marked.modified_count > 0 {
        let fresh = store::find(&state.db, code.id)
            .await?
            .unwrap_or_else(|| code.clone());
        let mut data = service::public_json(state, &fresh);
        if let Some(obj) = data.as_object_mut() {
            obj.insert(
                "resolution".into(),
                serde_json::to_value(res.to_out()).unwrap_or_default(),
            );
        }
        let mut users = crate::codes::sales::buyers(&state.db, code.id).await?;
        users.push(code.seller);
        state.hub.to_users(users, LiveEvent::CodeFinalized(data));
    }
    Ok(())
}

/// THE SETTLEMENT HOOK of issue 5: moves the money of every COMPLETED purchase of `code` once its
/// outcome is decided (WON/LOST: escrow -> seller minus `PLATFORM_FEE_BPS` and -> fees; VOID, or
/// LOST under `SETTLEMENT_POLICY=REFUND_ON_LOSS`: escrow -> buyer).
///
/// Called by `after_resolution` after the labels and the leaderboard, at least once per resolution
/// (again after a crash, and possibly concurrently from several processes), so it must be
/// idempotent per purchase (e.g. transfer ids derived from the purchase id). An error leaves the
/// resolution unapplied and the recovery pass calls it again.
pub async fn settlement_hook(state: &AppState, code: &Code, outcome: Outcome) -> Result<()> {
    crate::purchases::service::settle_code(state, code.id, outcome)
        .await
        .map(|_| ())
}

/// Writes the final labels until the stored document shows them: FerretDB writes whole documents
/// back, so a racing label write (a vote recount) may put an old status back once; we read and
/// repeat.
pub async fn ensure_labels(state: &AppState, code: ObjectId, res: &Resolution) -> Result<()> {
    for _ in 0..5 {
        let (win, loss) = crate::votes::store::tally(&state.db, code).await?;
        let Some(current) = store::find(&state.db, code).await? else {
            return Ok(());
        };
        let status = res.outcome.status();
        let in_place = current.status == status
            && current.outcome == Some(res.outcome)
            && current.finalized_at == Some(res.created_at)
            && !current.needs_review
            && (current.win_votes, current.loss_votes, current.total_votes)
                == (win, loss, win + loss);
        if in_place {
            return Ok(());
        }
        store::set_labels(
            &state.db,
            code,
            doc! {
                "status": status.as_str(), "outcome": res.outcome.as_str(), "finalizedAt": res.created_at,
                "needsReview": false, "winVotes": win, "lossVotes": loss, "totalVotes": win + loss,
            },
        )
        .await?;
    }
    Ok(())
}
