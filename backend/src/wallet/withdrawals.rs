//! Withdrawals: the money leaves the wallet at once into a hold (`payout_hold:{id}`), then the
//! provider is asked to pay out. Success moves the hold to provider clearing; failure returns it to
//! the wallet (REVERSAL); an unknown outcome keeps holding and is polled, never guessed.

use super::service::{check_payment, method_label};
use super::store::{self, Transaction};
use crate::auth::store::User;
use crate::clock;
use crate::error::{is_duplicate_key, AppError, Result};
use crate::idempotency::IdempotencyKey;
use crate::ledger::{accounts, derived_id, Leg, Outcome};
use crate::metrics::PaymentKind;
use crate::payments::{PaymentRequest, ProviderError, ProviderStatus};
use crate::state::AppState;
use mongodb::bson::doc;
use oddxer_shared::api::{PaymentIn, TransactionOut};
use oddxer_shared::{TransactionStatus, TransactionType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutResult {
    Succeeded,
    Failed,
}

pub async fn request_withdrawal(
    state: &AppState,
    user: &User,
    key: &IdempotencyKey,
    input: &PaymentIn,
) -> Result<TransactionOut> {
    check_payment(state, input)?;
    let id = key.object_id();
    let existing = store::find_by_id(&state.db, id).await?;
    if existing.is_none() {
        // The allowance is reserved by an insert before the withdrawal exists (see `quota`): a
        // retry of this key finds its reservation again, a concurrent withdrawal cannot share it.
        super::quota::reserve(
            &state.db,
            user.id,
            id,
            input.amount,
            state.config.withdrawal_daily_limit,
            clock::now(),
        )
        .await?;
    }
    let currency = state.config.currency.clone();
    let hold = accounts::payout_hold(id);
    accounts::ensure(&state.db, &hold, Some(user.id), &currency).await?;
    let legs = vec![
        Leg {
            account: accounts::wallet(user.id),
            amount: -input.amount,
        },
        Leg {
            account: hold,
            amount: input.amount,
        },
    ];
    let description = format!("Withdrawal to {}", method_label(input.payment_method));
    let mut tx = Transaction::new(
        id,
        TransactionType::Withdrawal,
        user.id,
        input.amount,
        &currency,
        legs,
        description,
    );
    tx.reference = key.uuid().to_string();
    tx.payment_method = Some(input.payment_method);
    tx.phone_number = Some(input.phone_number.clone());
    let tx = existing
        .map_or(store::insert_or_get(&state.db, &tx).await?, Some)
        .ok_or_else(|| AppError::internal("withdrawal not stored"))?;

    let (outcome, _) = state
        .ledger
        .transfers()
        .drive(&tx.transfer_spec(), TransactionType::Withdrawal.as_str())
        .await?;
    if outcome == Outcome::Failed {
        super::quota::release(&state.db, id).await?;
        return Err(AppError::InsufficientFunds);
    }
    super::service::refresh_held(state, user.id).await?;
    state.hub.wallet_changed(user.id);
    submit_payout(state, &tx).await?;
    Ok(store::find_by_id(&state.db, tx.id)
        .await?
        .unwrap_or(tx)
        .to_out())
}

/// Asks the provider to pay out (idempotent by our reference) and settles at once when it answers
/// with a final status.
async fn submit_payout(state: &AppState, tx: &Transaction) -> Result<()> {
    let (Some(method), Some(phone)) = (tx.payment_method, tx.phone_number.clone()) else {
        return Err(AppError::internal("withdrawal without method or phone"));
    };
    let request = PaymentRequest {
        reference: tx.reference.clone(),
        method,
        amount: tx.amount,
        currency: tx.currency.clone(),
        phone_number: phone,
    };
    match state.payments.payout(&request).await {
        Ok(ProviderStatus::Succeeded) => settle(state, tx, PayoutResult::Succeeded).await,
        Ok(ProviderStatus::Failed) | Err(ProviderError::Refused(_)) => {
            settle(state, tx, PayoutResult::Failed).await
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(reference = %tx.reference, error = %e, "payout outcome unknown; holding and polling");
            Ok(())
        }
    }
}

/// Polls the provider for a held withdrawal (callback hint or recovery) and settles a final answer.
pub async fn confirm_withdrawal(
    state: &AppState,
    reference: &str,
) -> Result<Option<TransactionOut>> {
    let Some(tx) = store::find_by_reference(&state.db, reference).await? else {
        return Ok(None);
    };
    if tx.kind != TransactionType::Withdrawal
        || tx.parent.is_some()
        || tx.status != TransactionStatus::Pending
    {
        return Ok(Some(tx.to_out()));
    }
    let transfers = state.ledger.transfers();
    match transfers.outcome(&tx.id.to_hex()).await? {
        // The hold itself never happened (refused, or crashed before): nothing to pay out.
        Some(Outcome::Failed) => {
            super::quota::release(&state.db, tx.id).await?;
            return Ok(Some(tx.to_out()));
        }
        None => {
            let stands = transfers
                .resolve_stale(&tx.transfer_spec(), TransactionType::Withdrawal.as_str())
                .await?;
            if stands == Outcome::Failed {
                super::quota::release(&state.db, tx.id).await?;
                return Ok(store::find_by_id(&state.db, tx.id)
                    .await?
                    .map(|t| t.to_out()));
            }
            // The hold is in place but the provider may never have been asked: ask now (same reference).
            submit_payout(state, &tx).await?;
        }
        Some(Outcome::Completed) => {}
    }
    let Some(method) = tx.payment_method else {
        return Err(AppError::internal("withdrawal without method"));
    };
    match state.payments.payout_status(method, reference).await {
        Ok(ProviderStatus::Succeeded) => settle(state, &tx, PayoutResult::Succeeded).await?,
        Ok(ProviderStatus::Failed) => settle(state, &tx, PayoutResult::Failed).await?,
        // The provider has no record of it: it was never submitted (crash before the call).
        Ok(ProviderStatus::Unknown) => submit_payout(state, &tx).await?,
        Ok(ProviderStatus::Pending) => {}
        Err(e) => tracing::warn!(reference, error = %e, "payout status unavailable"),
    }
    Ok(store::find_by_id(&state.db, tx.id)
        .await?
        .map(|t| t.to_out()))
}

/// Settles a held withdrawal exactly once: the result insert decides, then the matching transfer
/// runs (idempotent) and the withdrawal is labelled.
pub async fn settle(state: &AppState, tx: &Transaction, result: PayoutResult) -> Result<()> {
    let id = tx.id.to_hex();
    let label = match result {
        PayoutResult::Succeeded => "SUCCEEDED",
        PayoutResult::Failed => "FAILED",
    };
    let decided = match state
        .db
        .col("withdrawal_results")
        .insert_one(doc! { "_id": &id, "result": label, "createdAt": clock::now() })
        .await
    {
        Ok(_) => {
            let status = match result {
                PayoutResult::Succeeded => "completed",
                PayoutResult::Failed => "reversed",
            };
            state
                .db
                .metrics
                .payment(PaymentKind::Withdrawal, tx.payment_method, status);
            result
        }
        Err(e) if is_duplicate_key(&e) => {
            let stored = state
                .db
                .col("withdrawal_results")
                .find_one(doc! { "_id": &id })
                .await?;
            match stored.as_ref().and_then(|d| d.get_str("result").ok()) {
                Some("SUCCEEDED") => PayoutResult::Succeeded,
                _ => PayoutResult::Failed,
            }
        }
        Err(e) => return Err(e.into()),
    };
    let hold = accounts::payout_hold(tx.id);
    let method = tx.payment_method.map(|m| m.as_str()).unwrap_or("UNKNOWN");
    let (kind, label, to, status, description) = match decided {
        PayoutResult::Succeeded => (
            TransactionType::Withdrawal,
            "payout",
            accounts::provider_clearing_for(method, tx.id),
            TransactionStatus::Completed,
            tx.description.clone(),
        ),
        PayoutResult::Failed => (
            TransactionType::Reversal,
            "reversal",
            accounts::wallet(tx.user),
            TransactionStatus::Reversed,
            "Withdrawal failed: money returned".to_owned(),
        ),
    };
    accounts::ensure(&state.db, &to, None, &tx.currency).await?;
    let legs = vec![
        Leg {
            account: hold,
            amount: -tx.amount,
        },
        Leg {
            account: to,
            amount: tx.amount,
        },
    ];
    let mut step = Transaction::new(
        derived_id(&format!("withdrawal-{label}:{id}")),
        kind,
        tx.user,
        tx.amount,
        &tx.currency,
        legs,
        description,
    );
    step.parent = Some(tx.id);
    step.payment_method = tx.payment_method;
    step.payment_reference = Some(tx.reference.clone());
    let step = store::insert_or_get(&state.db, &step)
        .await?
        .unwrap_or(step);
    let (outcome, _) = state
        .ledger
        .transfers()
        .drive(&step.transfer_spec(), kind.as_str())
        .await?;
    if outcome == Outcome::Completed {
        if decided == PayoutResult::Failed {
            // The money came back, so does the day's allowance.
            super::quota::release(&state.db, tx.id).await?;
        }
        state.ledger.transfers().set_status(&id, status).await?;
        super::service::refresh_held(state, tx.user).await?;
        state.hub.wallet_changed(tx.user);
        super::service::announce_payment(
            state,
            &Transaction {
                status,
                updated_at: clock::now(),
                ..tx.clone()
            },
        );
    }
    Ok(())
}
