//! What a purchase does when it meets another one: the buyer's own earlier purchase holding the
//! claim (an app that died and forgot its key), or every place held by purchases still deciding.
//! Either way it waits a little for their fate rather than answer too early: "already bought"
//! while the earlier one may yet fail would lock the buyer out, and SOLD_OUT while a holder may
//! yet be refused for funds would turn away a buyer who can pay.

use super::store::{self, Purchase};
use crate::codes::store::Code;
use crate::error::{AppError, Result};
use crate::ledger::accounts;
use crate::state::AppState;
use mongodb::bson::oid::ObjectId;
use oddxer_shared::api::PurchaseStatus;

/// How long a second request of a buyer waits for the fate of the buyer's PENDING purchase of the
/// same code (longer than [`UNSETTLED_PLACE_WAIT`], which that purchase may itself be waiting).
const HOLDER_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

pub(super) enum HolderFate {
    /// Its debit is in (or it completed): the buyer owns the code.
    Bought,
    /// It failed and gave its claim back.
    Gone,
    /// Still deciding after [`HOLDER_WAIT`].
    Undecided,
}

impl HolderFate {
    pub(super) fn refusal(self) -> AppError {
        match self {
            HolderFate::Undecided => AppError::conflict(
                "PURCHASE_IN_PROGRESS",
                "Your earlier purchase of this code is still being processed; try again in a moment",
            ),
            _ => AppError::conflict("ALREADY_BOUGHT", "You already bought this code"),
        }
    }
}

/// The answer for a buyer whose claim on the code is held by `holder` (an earlier request of
/// theirs under another key: an app that died and forgot its key): ALREADY_BOUGHT once that
/// purchase's money moved; `otherwise` when it failed; PURCHASE_IN_PROGRESS while it is still
/// deciding after a wait. "Already bought" while it may yet fail would lock the buyer out.
pub(super) async fn already_bought_or(
    state: &AppState,
    holder: &Purchase,
    otherwise: AppError,
) -> Result<AppError> {
    Ok(match holder_fate(state, holder).await? {
        HolderFate::Gone => otherwise,
        fate => fate.refusal(),
    })
}

/// Follows a purchase holding a buyer's claim until its money moved or it failed (at once for
/// one already COMPLETED or FAILED).
pub(super) async fn holder_fate(state: &AppState, holder: &Purchase) -> Result<HolderFate> {
    match holder.status {
        PurchaseStatus::Completed => return Ok(HolderFate::Bought),
        PurchaseStatus::Failed => return Ok(HolderFate::Gone),
        PurchaseStatus::Pending => {}
    }
    let deadline = tokio::time::Instant::now() + HOLDER_WAIT;
    let wallet = accounts::wallet(holder.buyer);
    let transfer = holder.id.to_hex();
    let mut paid = false;
    loop {
        let (now, debit) = tokio::join!(store::find(&state.db, holder.id), async {
            // Once the debit is seen it stays: no need to look again.
            if paid {
                Ok(None)
            } else {
                state.ledger.entries.find_leg(&transfer, &wallet).await
            }
        });
        match now?.map(|p| p.status) {
            Some(PurchaseStatus::Completed) => return Ok(HolderFate::Bought),
            Some(PurchaseStatus::Failed) | None => return Ok(HolderFate::Gone),
            Some(PurchaseStatus::Pending) => paid |= debit?.is_some(),
        }
        // Paid but not yet labelled COMPLETED: it will be (its money moved), but the buyer's list
        // shows it only then; wait for it, as long as the wait allows.
        if tokio::time::Instant::now() >= deadline {
            return Ok(if paid {
                HolderFate::Bought
            } else {
                HolderFate::Undecided
            });
        }
        tokio::time::sleep(UNSETTLED_PLACE_POLL).await;
    }
}

/// How long a buyer who found every place held waits for purchases still deciding (PENDING) to
/// keep or give back their places before hearing SOLD_OUT.
const UNSETTLED_PLACE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// Pause between two looks at the unsettled places.
const UNSETTLED_PLACE_POLL: std::time::Duration = std::time::Duration::from_millis(25);

/// Takes a sale slot for purchase `pid`; true when it holds one. When every place is held and some
/// holder is still PENDING (its buyer may yet be refused for funds and give the place back), waits
/// for their fate, up to [`UNSETTLED_PLACE_WAIT`], instead of answering SOLD_OUT at once: a buyer
/// who cannot pay must never make one who can hear SOLD_OUT. The first try is the only round trip
/// of the common case.
pub(super) async fn take_slot_or_wait(
    state: &AppState,
    code: &Code,
    pid: ObjectId,
) -> Result<bool> {
    let deadline = tokio::time::Instant::now() + UNSETTLED_PLACE_WAIT;
    let mut sold = code.sales_count;
    loop {
        let holders =
            match store::take_slot(&state.db, code.id, pid, code.listing.max_buyers, sold).await? {
                store::Slot::Taken(_) => return Ok(true),
                store::Slot::Full(holders) => holders,
            };
        let pending = store::pending_of_code(&state.db, code.id).await?;
        if !holders.iter().any(|h| pending.contains(h)) || tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(UNSETTLED_PLACE_POLL).await;
        // A place given back may be anywhere: probe from the first.
        sold = 0;
    }
}
