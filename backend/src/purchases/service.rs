//! Buying a code: claim -> purchase record -> sale slot -> wallet-to-escrow transfer -> reveal.
//! Each step is an insert under a unique key or an idempotent transfer, so a retry (same
//! Idempotency-Key) or the recovery worker can finish a purchase cut anywhere.

use super::store::{self, Purchase};
use crate::auth::store::User;
use crate::clock;
use crate::error::{AppError, Result};
use crate::idempotency::IdempotencyKey;
use crate::ledger::{accounts, Leg, Outcome};
use crate::state::AppState;
use crate::wallet::store::{self as tx_store, Transaction};
use crate::codes::store::{self as codes_store, Code};
use mongodb::bson::{oid::ObjectId, DateTime};
use oddxer_shared::api::{CodeOut, PurchaseOut, PurchaseResultOut, PurchaseStatus};
use oddxer_shared::{CodeStatus, TransactionType};

pub async fn load_code(state: &AppState, id: ObjectId) -> Result<Code> {
    codes_store::find(&state.db, id).await?.ok_or(AppError::NotFound("betting code"))
}

/// The code with its secret, as its buyer sees it.
pub async fn view_for_buyer(state: &AppState, code: &Code) -> CodeOut {
    code.to_out(&state.config.currency, state.config.voting_window, clock::now(), true)
}

/// Plain rule: may this buyer start buying this code now?
pub fn check_buyable(code: &Code, buyer: ObjectId, now: DateTime) -> Result<()> {
    if code.seller == buyer {
        return Err(AppError::conflict("OWN_CODE", "You cannot buy your own code"));
    }
    if code.listing.expires_at <= now {
        return Err(AppError::conflict("CODE_EXPIRED", "This code stopped selling at kick-off"));
    }
    match code.status {
        CodeStatus::Active => Ok(()),
        CodeStatus::SoldOut => Err(AppError::conflict("SOLD_OUT", "This code is sold out")),
        _ => Err(AppError::conflict("NOT_FOR_SALE", "This code is no longer for sale")),
    }
}

pub fn purchase_transfer(p: &Purchase, title: &str, currency: &oddxer_shared::Currency) -> Transaction {
    let legs = vec![Leg { account: accounts::wallet(p.buyer), amount: -p.price }, Leg { account: accounts::escrow(p.id), amount: p.price }];
    let mut tx = Transaction::new(p.id, TransactionType::Purchase, p.buyer, p.price, currency, legs, format!("Purchase: {title}"));
    tx.betting_code = Some(p.code);
    tx
}

pub async fn purchase_code(state: &AppState, buyer: &User, key: &IdempotencyKey, code_id: ObjectId) -> Result<PurchaseResultOut> {
    let code = load_code(state, code_id).await?;
    let pid = key.object_id();
    let existing = store::find(&state.db, pid).await?;
    if existing.is_none() {
        check_buyable(&code, buyer.id, clock::now())?;
    }
    let holder = store::claim(&state.db, code.id, buyer.id, pid).await?;
    if holder != pid {
        match store::find(&state.db, holder).await? {
            // A failed attempt whose claim was not released yet (crash): release and let this one in.
            Some(p) if p.status == PurchaseStatus::Failed => {
                store::release_claim(&state.db, code.id, buyer.id, holder).await?;
                if store::claim(&state.db, code.id, buyer.id, pid).await? != pid {
                    return Err(AppError::conflict("ALREADY_BOUGHT", "You already bought this code"));
                }
            }
            _ => return Err(AppError::conflict("ALREADY_BOUGHT", "You already bought this code")),
        }
    }
    let purchase = Purchase {
        id: pid,
        code: code.id,
        buyer: buyer.id,
        seller: code.seller,
        price: code.listing.price,
        status: PurchaseStatus::Pending,
        settlement: None,
        created_at: clock::now(),
    };
    let purchase = store::insert_or_get(&state.db, &purchase).await?.ok_or_else(|| AppError::internal("purchase not stored"))?;
    if purchase.status == PurchaseStatus::Failed {
        return Err(AppError::InsufficientFunds);
    }
    if store::take_slot(&state.db, code.id, pid, code.listing.max_buyers).await?.is_none() {
        abandon(state, &purchase).await?;
        return Err(AppError::conflict("SOLD_OUT", "This code is sold out"));
    }
    // The mirror of the cancellation check: our PENDING purchase is written before this read, the
    // seller's cancellation marker before theirs, so at least one of the two sees the other.
    if codes_store::is_cancelled(&state.db, code.id).await? {
        abandon(state, &purchase).await?;
        return Err(AppError::conflict("NOT_FOR_SALE", "This code was cancelled by its seller"));
    }
    let currency = state.config.currency.clone();
    accounts::ensure(&state.db, &accounts::escrow(pid), None, &currency).await?;
    let tx = purchase_transfer(&purchase, &code.listing.title, &currency);
    let tx = tx_store::insert_or_get(&state.db, &tx).await?.unwrap_or(tx);
    let (outcome, _) = state.ledger.transfers().drive(&tx.transfer_spec(), TransactionType::Purchase.as_str()).await.map_err(AppError::internal)?;
    if outcome == Outcome::Failed {
        abandon(state, &purchase).await?;
        return Err(AppError::InsufficientFunds);
    }
    complete(state, &purchase, &code).await?;
    let wallet = crate::wallet::service::wallet(state, buyer.id).await?;
    let code = load_code(state, code.id).await?;
    let out = purchase_out(state, &Purchase { status: PurchaseStatus::Completed, ..purchase }, &code).await;
    Ok(PurchaseResultOut { code: code.listing.code.clone(), purchase: out, wallet })
}

/// A purchase that will not happen: slot and claim go back, the record says FAILED.
pub async fn abandon(state: &AppState, p: &Purchase) -> Result<()> {
    store::set_status(&state.db, p.id, PurchaseStatus::Failed).await?;
    store::release_slot(&state.db, p.id).await?;
    store::release_claim(&state.db, p.code, p.buyer, p.id).await?;
    Ok(())
}

/// After the money moved: labels on the purchase and the code, events. Idempotent.
pub async fn complete(state: &AppState, p: &Purchase, code: &Code) -> Result<()> {
    store::set_status(&state.db, p.id, PurchaseStatus::Completed).await?;
    // salesCount, soldTo/soldAt and SOLD_OUT are labels recounted from the purchases, never
    // incremented: FerretDB may lose a concurrent `$inc`, a recount cannot stay wrong.
    codes_store::refresh_sales_labels(&state.db, code.id).await?;
    super::stream::append(state, &Purchase { status: PurchaseStatus::Completed, ..p.clone() }).await?;
    state.hub.wallet_changed(p.buyer);
    crate::realtime::notify_code_purchased(state, p.seller, p.code, p.id);
    Ok(())
}

pub async fn purchase_out(state: &AppState, p: &Purchase, code: &Code) -> PurchaseOut {
    let code = view_for_buyer(state, code).await;
    PurchaseOut {
        id: p.id.to_hex(),
        code_id: p.code.to_hex(),
        buyer_id: p.buyer.to_hex(),
        price: oddxer_shared::Money::new(p.price, &state.config.currency),
        status: p.status,
        settlement: p.settlement,
        code,
        created_at: clock::rfc3339(p.created_at),
    }
}

/// Finishes a purchase found PENDING after a crash: completes it if the money moved, else abandons it.
pub async fn recover(state: &AppState, p: &Purchase) -> Result<()> {
    let code = load_code(state, p.code).await?;
    let currency = state.config.currency.clone();
    let tx = purchase_transfer(p, &code.listing.title, &currency);
    let tx = tx_store::insert_or_get(&state.db, &tx).await?.unwrap_or(tx);
    let outcome = state.ledger.transfers().resolve_stale(&tx.transfer_spec(), TransactionType::Purchase.as_str()).await.map_err(AppError::internal)?;
    match outcome {
        Outcome::Completed => complete(state, p, &code).await,
        Outcome::Failed => abandon(state, p).await,
    }
}
