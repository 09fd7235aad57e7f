//! Wallet rules: balances from the ledger, deposits through a payment provider.

use super::store::{self, Transaction};
use crate::auth::store::User;
use crate::clock;
use crate::error::{AppError, Result};
use crate::idempotency::IdempotencyKey;
use crate::ledger::{accounts, Entry, Leg, Outcome};
use crate::payments::{PaymentRequest, ProviderError, ProviderStatus};
use crate::state::AppState;
use mongodb::bson::oid::ObjectId;
use oddxer_shared::api::{LedgerEntryOut, PaymentIn, TransactionOut, WalletOut};
use oddxer_shared::{Currency, Money, PaymentMethod, TransactionStatus, TransactionType};

pub fn entry_out(e: &Entry, currency: &Currency) -> LedgerEntryOut {
    LedgerEntryOut {
        id: e.id.clone(),
        seq: e.seq,
        transfer_id: e.transfer_id.clone(),
        kind: TransactionType::parse(&e.kind).unwrap_or(TransactionType::Adjustment),
        amount: Money::new(e.amount, currency),
        balance_after: Money::new(e.balance_after, currency),
        description: e.description.clone(),
        created_at: clock::rfc3339(e.created_at),
    }
}

pub async fn wallet(state: &AppState, user: ObjectId) -> Result<WalletOut> {
    let currency = &state.config.currency;
    let head = state.ledger.entries.head(&accounts::wallet(user)).await?;
    Ok(WalletOut {
        balance: Money::new(head.balance, currency),
        currency: currency.0.clone(),
        held: Money::new(held(state, user).await?, currency),
        seq: head.seq,
    })
}

/// Money of the user sitting in payout holds of withdrawals still waiting for the provider.
async fn held(state: &AppState, user: ObjectId) -> Result<i64> {
    use futures_util::TryStreamExt;
    let filter = mongodb::bson::doc! { "user": user, "type": "WITHDRAWAL", "status": "PENDING", "metadata.parent": null };
    let pending: Vec<mongodb::bson::Document> = state.db.col("transactions").find(filter).await?.try_collect().await?;
    let mut total = 0;
    for d in pending {
        if let Ok(id) = d.get_object_id("_id") {
            total += state.ledger.entries.head(&accounts::payout_hold(id)).await?.balance;
        }
    }
    Ok(total)
}

pub fn method_label(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::MtnMomo => "MTN MoMo",
        PaymentMethod::AirtelMoney => "Airtel Money",
    }
}

pub fn check_payment(state: &AppState, input: &PaymentIn) -> Result<()> {
    let cfg = &state.config;
    if input.amount < cfg.deposit_min || input.amount > cfg.deposit_max {
        return Err(AppError::validation(
            format!("amount must be between {} and {} (minor units of {})", cfg.deposit_min, cfg.deposit_max, cfg.currency),
            "amount",
            "out of range",
        ));
    }
    // The handlers normalize the number before the idempotency record (`normalize_phone`); this
    // keeps the check for any other caller.
    crate::phone::PhoneNumber::parse_field(&input.phone_number, cfg.default_region, "phoneNumber")?;
    Ok(())
}

/// Records the deposit (and its provider reference) first, then asks the provider. The wallet is
/// credited only when the provider confirms (`confirm_deposit`).
pub async fn request_deposit(state: &AppState, user: &User, key: &IdempotencyKey, input: &PaymentIn) -> Result<TransactionOut> {
    check_payment(state, input)?;
    let currency = state.config.currency.clone();
    let clearing = accounts::provider_clearing(input.payment_method.as_str());
    accounts::ensure(&state.db, &clearing, None, &currency).await?;
    let legs = vec![Leg { account: clearing, amount: -input.amount }, Leg { account: accounts::wallet(user.id), amount: input.amount }];
    let description = format!("Deposit via {}", method_label(input.payment_method));
    let mut tx = Transaction::new(key.object_id(), TransactionType::Deposit, user.id, input.amount, &currency, legs, description);
    tx.reference = key.uuid().to_string();
    tx.payment_method = Some(input.payment_method);
    tx.phone_number = Some(input.phone_number.clone());
    let tx = store::insert_or_get(&state.db, &tx).await?.ok_or_else(|| AppError::internal("deposit not stored"))?;
    let request = PaymentRequest {
        reference: tx.reference.clone(),
        method: input.payment_method,
        amount: tx.amount,
        currency,
        phone_number: input.phone_number.clone(),
    };
    match state.payments.request_payment(&request).await {
        Ok(ProviderStatus::Failed) | Err(ProviderError::Refused(_)) => {
            state.ledger.transfers().fail(&tx.transfer_spec(), TransactionType::Deposit.as_str()).await.map_err(AppError::internal)?;
        }
        Ok(_) => {}
        // Unknown outcome: the recovery worker polls the provider; never guess.
        Err(e) => tracing::warn!(reference = %tx.reference, error = %e, "deposit request outcome unknown"),
    }
    let stored = store::find_by_id(&state.db, tx.id).await?.unwrap_or(tx);
    Ok(stored.to_out())
}

/// Asks the provider how a deposit stands and, on final success, credits the wallet exactly once.
/// Callbacks and polls both end here; the transfer id is the deposit's id, so both credit once.
pub async fn confirm_deposit(state: &AppState, reference: &str) -> Result<Option<TransactionOut>> {
    let Some(tx) = store::find_by_reference(&state.db, reference).await? else { return Ok(None) };
    if tx.kind != TransactionType::Deposit {
        return Ok(Some(tx.to_out()));
    }
    let Some(method) = tx.payment_method else { return Ok(Some(tx.to_out())) };
    let status = state.payments.payment_status(method, reference).await.map_err(|e| AppError::Upstream(e.to_string()))?;
    let transfers = state.ledger.transfers();
    let spec = tx.transfer_spec();
    let outcome = match status {
        ProviderStatus::Succeeded => Some(transfers.drive(&spec, TransactionType::Deposit.as_str()).await.map_err(AppError::internal)?.0),
        ProviderStatus::Failed => Some(transfers.fail(&spec, TransactionType::Deposit.as_str()).await.map_err(AppError::internal)?),
        ProviderStatus::Pending => None,
        // The provider has no record: our request never reached it (crash or outage before the
        // call). Ask again with the same reference, which the provider deduplicates.
        ProviderStatus::Unknown => {
            if let (Some(phone), TransactionStatus::Pending) = (tx.phone_number.clone(), tx.status) {
                let request = PaymentRequest { reference: tx.reference.clone(), method, amount: tx.amount, currency: tx.currency.clone(), phone_number: phone };
                if let Err(e) = state.payments.request_payment(&request).await {
                    tracing::warn!(reference, error = %e, "deposit resubmission failed; will poll again");
                }
            }
            None
        }
    };
    if outcome == Some(Outcome::Completed) {
        state.hub.wallet_changed(tx.user);
    }
    Ok(store::find_by_id(&state.db, tx.id).await?.map(|t| t.to_out()))
}

pub async fn history(state: &AppState, user: ObjectId, before: Option<i64>, limit: i64) -> Result<(Vec<LedgerEntryOut>, Option<String>)> {
    let entries = state.ledger.entries.newest_first(&accounts::wallet(user), before, limit).await?;
    let next = if entries.len() as i64 == limit { entries.last().map(|e| e.seq.to_string()) } else { None };
    Ok((entries.iter().map(|e| entry_out(e, &state.config.currency)).collect(), next))
}
