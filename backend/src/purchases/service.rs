//! Buying a code: claim -> purchase record -> sale slot -> wallet-to-escrow transfer -> reveal.
//! Each step is an insert under a unique key or an idempotent transfer, so a retry (same
//! Idempotency-Key) or the recovery worker can finish a purchase cut anywhere.

use super::contention::{already_bought_or, holder_fate, take_slot_or_wait, HolderFate};
use super::settlement;
use super::store::{self, Purchase};
use super::stream::purchase_out;
use crate::auth::store::User;
use crate::clock;
use crate::codes::sales as codes_sales;
use crate::codes::service as codes_service;
use crate::codes::store::{self as codes_store, Code};
use crate::error::{AppError, Result};
use crate::idempotency::{FollowUp, IdempotencyKey};
use crate::ledger::{accounts, Leg, Outcome};
use crate::state::AppState;
use crate::wallet::store::{self as tx_store, Transaction};
use mongodb::bson::{oid::ObjectId, DateTime};
use oddxer_shared::api::{PurchaseOut, PurchaseResultOut, PurchaseStatus};
use oddxer_shared::{CodeStatus, TransactionType};

/// Plain rule: may this buyer start buying this code now?
pub fn check_buyable(code: &Code, buyer: ObjectId, now: DateTime) -> Result<()> {
    if code.seller == buyer {
        return Err(AppError::conflict(
            "OWN_CODE",
            "You cannot buy your own code",
        ));
    }
    if code.listing.expires_at <= now {
        return Err(AppError::conflict(
            "CODE_EXPIRED",
            "This code stopped selling at kick-off",
        ));
    }
    match code.status {
        CodeStatus::Active => Ok(()),
        CodeStatus::SoldOut => Err(AppError::conflict("SOLD_OUT", "This code is sold out")),
        _ => Err(AppError::conflict(
            "NOT_FOR_SALE",
            "This code is no longer for sale",
        )),
    }
}

pub fn purchase_transfer(
    p: &Purchase,
    title: &str,
    currency: &oddxer_shared::Currency,
) -> Transaction {
    let legs = vec![
        Leg {
            account: accounts::wallet(p.buyer),
            amount: -p.price,
        },
        Leg {
            account: accounts::escrow(p.id),
            amount: p.price,
        },
    ];
    let mut tx = Transaction::new(
        p.id,
        TransactionType::Purchase,
        p.buyer,
        p.price,
        currency,
        legs,
        format!("Purchase: {title}"),
    );
    tx.betting_code = Some(p.code);
    tx
}

/// Buys a code. On the request path only the deciding steps run, each one round trip: the code,
/// the purchase with its claim, a sale slot, the cancellation check, the debit of the wallet and
/// the credit of the purchase's new escrow account. What follows the money (outcome, journal
/// document, labels, stream row, events) is returned as a [`FollowUp`] to run after answering;
/// until it has run, this process's reads of the buyer, seller and code wait for it
/// ([`super::pending`]), and a crash before it ends is finished by the recovery worker.
///
/// Errors: 404 unknown code; 409 `OWN_CODE`, `CODE_EXPIRED`, `SOLD_OUT`, `NOT_FOR_SALE`,
/// `ALREADY_BOUGHT`, `PURCHASE_IN_PROGRESS` (an earlier request of this buyer for this code, under
/// another key, is still deciding after a wait), `CODE_CHANGED` (an edit landed while buying); 402 when the wallet balance (minor units) is below the price.
pub async fn purchase_code(
    state: &AppState,
    buyer: &User,
    key: &IdempotencyKey,
    code_id: ObjectId,
) -> Result<(PurchaseResultOut, FollowUp)> {
    // The buyer's `held` (for the wallet in the answer) is read alongside the code: one round trip.
    let (code, held) = tokio::join!(
        codes_service::load(state, code_id),
        crate::wallet::service::held(state, buyer.id)
    );
    let (code, held) = (code?, held?);
    let pid = key.object_id();
    let now = clock::now();
    if let Err(refusal) = check_buyable(&code, buyer.id, now) {
        // A retry of a purchase that went through (it may have taken the last place) goes on.
        match store::find(&state.db, pid).await? {
            Some(p) if p.status != PurchaseStatus::Failed => {}
            // A buyer who already holds this code (e.g. the last place of an exclusive one) is
            // told so, not that it sold out.
            _ if code.seller != buyer.id => {
                match store::find_by_claim(&state.db, code.id, buyer.id).await? {
                    Some(holder) => return Err(already_bought_or(state, &holder, refusal).await?),
                    None => return Err(refusal),
                }
            }
            _ => return Err(refusal),
        }
    }
    // Funds first, from the cached head (no round trip): a buyer who cannot pay must not take a
    // place that a buyer who can pay is refused (SOLD_OUT) meanwhile. The debit below decides.
    let wallet_account = accounts::wallet(buyer.id);
    if state
        .ledger
        .entries
        .cached_balance(&wallet_account)
        .is_some_and(|b| b < code.listing.price)
        && state.ledger.entries.head(&wallet_account).await?.balance < code.listing.price
        && store::find(&state.db, pid).await?.is_none()
    {
        return Err(
            match store::find_by_claim(&state.db, code.id, buyer.id).await? {
                Some(holder) => {
                    already_bought_or(state, &holder, AppError::InsufficientFunds).await?
                }
                None => AppError::InsufficientFunds,
            },
        );
    }
    let purchase = Purchase {
        id: pid,
        code: code.id,
        buyer: buyer.id,
        seller: code.seller,
        price: code.listing.price,
        status: PurchaseStatus::Pending,
        settlement: None,
        created_at: now,
    };
    let purchase =
        match store::insert_claimed(&state.db, &purchase, &code.listing.title, &buyer.username)
            .await?
        {
            store::Inserted::New => purchase,
            store::Inserted::Again(p) if p.status == PurchaseStatus::Failed => {
                return Err(AppError::InsufficientFunds)
            }
            store::Inserted::Again(p) => p,
            store::Inserted::ClaimedBy(holder) => {
                // A purchase cut short by a crash (older than the recovery delay) is finished here
                // rather than locking the buyer out until the recovery worker passes.
                let stale = clock::before(now, state.config.recovery_after);
                if holder.status == PurchaseStatus::Pending && holder.created_at < stale {
                    recover(state, &holder).await?;
                    if let store::Inserted::New = store::insert_claimed(
                        &state.db,
                        &purchase,
                        &code.listing.title,
                        &buyer.username,
                    )
                    .await?
                    {
                        return Box::pin(purchase_code(state, buyer, key, code_id)).await;
                    }
                }
                return match holder_fate(state, &holder).await? {
                    HolderFate::Gone => Box::pin(purchase_code(state, buyer, key, code_id)).await,
                    fate => Err(fate.refusal()),
                };
            }
        };
    if !take_slot_or_wait(state, &code, pid).await? {
        abandon(state, &purchase).await?;
        return Err(AppError::conflict("SOLD_OUT", "This code is sold out"));
    }
    // The mirror of the cancellation and edit checks: our PENDING purchase is written before these
    // reads, the seller's cancellation or edit marker before theirs, so at least one of the two
    // sees the other. An edit decided after we read the listing means the price we would charge
    // and the code we would reveal may no longer be the seller's: refuse rather than mix them.
    // Both reads go out together: one round trip.
    // The seller's account is read alongside (the user cache, else one read in the same round
    // trip): a deactivated seller's codes are not for sale.
    let (cancelled, edited, seller) = tokio::join!(
        codes_store::is_cancelled(&state.db, code.id),
        codes_store::edit_after(&state.db, code.id, code.listing_version),
        crate::auth::extract::active_user(state, code.seller)
    );
    // A marker older than the recovery delay whose version the code we read does not carry is an
    // edit cut short by a crash: it never changed the listing, so it does not block sales.
    let edited =
        edited.map(|at| at.is_some_and(|at| at >= clock::before(now, state.config.recovery_after)));
    if cancelled? {
        abandon(state, &purchase).await?;
        return Err(AppError::conflict(
            "NOT_FOR_SALE",
            "This code was cancelled by its seller",
        ));
    }
    if edited? {
        abandon(state, &purchase).await?;
        return Err(AppError::conflict(
            "CODE_CHANGED",
            "The seller just changed this code; look at it again before buying",
        ));
    }
    match seller {
        Ok(Some(_)) => {}
        Ok(None) | Err(AppError::Forbidden(_)) => {
            abandon(state, &purchase).await?;
            return Err(AppError::conflict(
                "NOT_FOR_SALE",
                "This code's seller is suspended; it is not for sale",
            ));
        }
        Err(e) => return Err(e),
    }
    let currency = state.config.currency.clone();
    let tx = purchase_transfer(&purchase, &code.listing.title, &currency);
    state.ledger.entries.assume_new(&accounts::escrow(pid));
    let Some(entries) = state
        .ledger
        .transfers()
        .apply_legs(&tx.transfer_spec(), TransactionType::Purchase.as_str())
        .await?
    else {
        abandon(state, &purchase).await?;
        return Err(AppError::InsufficientFunds);
    };
    let debit = entries
        .iter()
        .find(|e| e.account == wallet_account)
        .map(|e| crate::ledger::Head {
            seq: e.seq,
            balance: e.balance_after,
        });
    let wallet = match debit {
        Some(head) => crate::wallet::service::wallet_out(state, head, held),
        None => crate::wallet::service::wallet(state, buyer.id).await?,
    };
    let completed = Purchase {
        status: PurchaseStatus::Completed,
        ..purchase.clone()
    };
    // The code as it stands with this sale counted (its labels are written just after).
    let mut shown = code.clone();
    shown.sales_count = (code.sales_count + 1).min(code.listing.max_buyers);
    shown.status = crate::codes::rules::status_after_sales(
        code.status,
        shown.sales_count,
        code.listing.max_buyers,
    );
    let out = purchase_out(state, &completed, &shown);
    let result = PurchaseResultOut {
        code: code.listing.code.clone(),
        purchase: out,
        wallet,
    };
    let guard = state.pending.start(pid, buyer.id, code.seller, code.id);
    let follow_up: FollowUp = Box::pin({
        let state = state.clone();
        async move {
            let _guard = guard;
            if let Err(e) = finish(&state, &purchase, &code, &tx).await {
                tracing::warn!(purchase = %purchase.id, error = %e, "purchase labels not written; the recovery worker will finish them");
            }
        }
    });
    Ok((result, follow_up))
}

/// A purchase that will not happen: the slot goes back, the record says FAILED and gives its claim back.
pub async fn abandon(state: &AppState, p: &Purchase) -> Result<()> {
    store::release_slot(&state.db, p.id).await?;
    store::abandon(&state.db, p.id).await?;
    Ok(())
}

/// After the money moved (every leg in): the transfer's outcome and journal document, the escrow
/// account's record, then [`complete`]. Idempotent.
async fn finish(state: &AppState, p: &Purchase, code: &Code, tx: &Transaction) -> Result<()> {
    let spec = tx.transfer_spec();
    let outcome = state
        .ledger
        .transfers()
        .decide(&spec, Outcome::Completed)
        .await?;
    if outcome == Outcome::Failed {
        // Only a driver that saw the debit refused decides FAILED; let the transfer void itself.
        recover(state, p).await?;
        return Ok(());
    }
    let journal = Transaction {
        status: oddxer_shared::TransactionStatus::Completed,
        ..tx.clone()
    };
    if tx_store::insert_or_get(&state.db, &journal)
        .await?
        .is_some_and(|stored| stored.status != journal.status)
    {
        state
            .ledger
            .transfers()
            .set_status(&spec.id.to_hex(), journal.status)
            .await?;
    }
    accounts::ensure(
        &state.db,
        &accounts::escrow(p.id),
        None,
        &state.config.currency,
    )
    .await?;
    complete(state, p, code).await
}

/// After the money moved: sales labels on the code, the buyer's purchases stream row, then the
/// purchase's COMPLETED label last (recovery finishes PENDING purchases, so nothing before it is
/// skipped by a crash), then events. Idempotent.
pub async fn complete(state: &AppState, p: &Purchase, code: &Code) -> Result<()> {
    let done = Purchase {
        status: PurchaseStatus::Completed,
        ..p.clone()
    };
    // salesCount, soldTo/soldAt and SOLD_OUT are labels recounted from the purchases, never
    // incremented: FerretDB may lose a concurrent `$inc`, a recount cannot stay wrong. The row
    // being finished is counted although its label is written last.
    codes_sales::refresh_sales_labels(&state.db, code.id, Some(&done_sale(&done))).await?;
    super::totals::record(
        &state.db,
        &done,
        super::totals::Event::Sold,
        state.config.platform_fee_bps,
    )
    .await?;
    super::stream::append(state, &done, code).await?;
    store::set_status(&state.db, p.id, PurchaseStatus::Completed).await?;
    // Recount once the label is in: a recount by another purchase that read before it is put right.
    let labelled = codes_sales::refresh_sales_labels(&state.db, code.id, None).await?;
    // A code resolved while this purchase was being finished: its resolver listed the purchases
    // before or after this label. Label first, then this read, mirrors its insert-then-list, so
    // one of the two settles it (settling twice is a no-op).
    if let Some(res) = crate::codes::resolutions::find_resolution(&state.db, code.id).await? {
        settlement::settle_purchase(state, &done, res.outcome).await?;
    }
    state.hub.wallet_changed(p.buyer);
    // Everyone browsing the sport sees the places left (and SOLD_OUT) without a refresh: the
    // copy the recount last read (its labels agreed with the purchases), no read of its own.
    if let Some(sold) = labelled {
        crate::codes::service::announce_update(state, &sold).await;
    }
    // `code:purchased` to the seller: which code sold (never its secret, never the buyer's identity).
    // The title lets the seller's devices say which listing sold without a read of their own.
    let data = serde_json::json!({ "codeId": p.code.to_hex(), "purchaseId": p.id.to_hex(), "title": code.listing.title });
    state.hub.to_user(
        p.seller,
        oddxer_shared::sync::LiveEvent::CodePurchased(data),
    );
    Ok(())
}

fn done_sale(p: &Purchase) -> codes_sales::Sale {
    codes_sales::Sale {
        purchase: p.id,
        buyer: p.buyer,
        at: p.created_at,
    }
}

/// The buyer's paid purchases with their codes revealed, newest first, `limit` per page after
/// `cursor` (`"{millis}_{id}"` of the last row): equality on the indexed `{buyer, status}`.
/// Purchases this process answered but is still labelling are waited for (read-your-writes).
/// Errors: 422 for a cursor this server did not issue.
pub async fn purchases_of(
    state: &AppState,
    buyer: ObjectId,
    cursor: Option<&str>,
    limit: i64,
) -> Result<oddxer_shared::api::Page<PurchaseOut>> {
    state.pending.settle_user(buyer).await;
    let mut filter = mongodb::bson::doc! { "buyer": buyer, "status": "COMPLETED" };
    if let Some(c) = cursor {
        filter.extend(crate::db::after_cursor(c).ok_or_else(|| {
            AppError::validation("cursor is not one this server issued", "cursor", "invalid")
        })?);
    }
    let purchases = store::list(
        &state.db,
        filter,
        mongodb::bson::doc! { "createdAt": -1, "_id": -1 },
        limit,
    )
    .await?;
    // The page's codes in one batch, not one read per row.
    let codes = codes_store::find_by_ids(&state.db, purchases.iter().map(|p| p.code)).await?;
    let mut items = Vec::with_capacity(purchases.len());
    for p in &purchases {
        // A purchase whose code is gone (never deleted today) is left out rather than failing the page.
        if let Some(code) = codes.get(&p.code) {
            items.push(purchase_out(state, p, code));
        }
    }
    let next_cursor = if purchases.len() as i64 == limit {
        purchases
            .last()
            .map(|p| crate::db::page_cursor(p.created_at, p.id))
    } else {
        None
    };
    Ok(oddxer_shared::api::Page { items, next_cursor })
}

/// Settles every purchase of a code. Called after the code's resolution insert won, and again by
/// the recovery worker until the resolution is applied; both are safe. A purchase still PENDING
/// (its buyer was answered but its labels are not all written, or a crash cut it) is finished
/// first, or abandoned when its money never moved, so none is left unsettled behind an applied
/// resolution.
pub async fn settle_code(
    state: &AppState,
    code: ObjectId,
    outcome: oddxer_shared::Outcome,
) -> Result<usize> {
    let purchases = store::list(
        &state.db,
        mongodb::bson::doc! { "bettingCode": code, "status": { "$ne": "FAILED" } },
        mongodb::bson::doc! { "_id": 1 },
        10_000,
    )
    .await?;
    let mut settled = 0;
    for p in &purchases {
        if p.status == oddxer_shared::api::PurchaseStatus::Pending {
            recover(state, p).await?;
            match store::find(&state.db, p.id).await? {
                Some(done) if done.status == oddxer_shared::api::PurchaseStatus::Completed => {
                    settlement::settle_purchase(state, &done, outcome).await?;
                    settled += 1;
                }
                _ => {}
            }
            continue;
        }
        settlement::settle_purchase(state, p, outcome).await?;
        settled += 1;
    }
    Ok(settled)
}

/// Finishes a purchase found PENDING after a crash: completes it if the money moved, else abandons it.
pub async fn recover(state: &AppState, p: &Purchase) -> Result<()> {
    let code = codes_service::load(state, p.code).await?;
    let currency = state.config.currency.clone();
    let tx = purchase_transfer(p, &code.listing.title, &currency);
    let tx = tx_store::insert_or_get(&state.db, &tx).await?.unwrap_or(tx);
    let outcome = state
        .ledger
        .transfers()
        .resolve_stale(&tx.transfer_spec(), TransactionType::Purchase.as_str())
        .await?;
    match outcome {
        Outcome::Completed => {
            accounts::ensure(&state.db, &accounts::escrow(p.id), None, &currency).await?;
            complete(state, p, &code).await
        }
        Outcome::Failed => abandon(state, p).await,
    }
}
