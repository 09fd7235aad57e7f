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
use oddxer_shared::api::{LedgerEntryOut, PaymentIn, PaymentOut, TransactionOut, WalletOut};
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
        reference: e.reference.clone(),
        payment_method: e
            .payment_method
            .as_deref()
            .and_then(oddxer_shared::PaymentMethod::parse),
    }
}

/// The wallet: balance and position from the ledger head (confirmed by `_id`), `held` (money in
/// payout holds of withdrawals waiting for the provider, minor units) from the wallet account's
/// label. The two reads go out together: one round trip.
pub async fn wallet(state: &AppState, user: ObjectId) -> Result<WalletOut> {
    let account = accounts::wallet(user);
    let (head, held) = tokio::join!(state.ledger.entries.head(&account), held(state, user));
    Ok(wallet_out(state, head?, held?))
}

/// The wallet as shown for a head and a `held` amount (minor units) the caller has in hand.
pub fn wallet_out(state: &AppState, head: crate::ledger::Head, held: i64) -> WalletOut {
    let currency = &state.config.currency;
    WalletOut {
        balance: Money::new(head.balance, currency),
        currency: currency.0.clone(),
        held: Money::new(held, currency),
        seq: head.seq,
    }
}

/// `held` as last written on the wallet account (0 when never written), minor units.
pub async fn held(state: &AppState, user: ObjectId) -> Result<i64> {
    Ok(store::held(&state.db, user).await?)
}

/// Recomputes `held` from the user's withdrawals still holding money (the user's PENDING
/// withdrawals, few at any time) and writes it on the wallet account. A label: called after every
/// change of a hold (withdrawal requested, paid out, reversed) and by the recovery worker, so a
/// write that raced another is put right by the next.
pub async fn refresh_held(state: &AppState, user: ObjectId) -> Result<i64> {
    accounts::ensure_wallet(&state.db, user, &state.config.currency).await?;
    let mut total = held_now(state, user).await?;
    // Two withdrawals of one user recompute at once and FerretDB writes whole documents: a total
    // computed before the other's hold may land last. Read back and recompute until they agree.
    for _ in 0..5 {
        store::write_held(&state.db, user, total).await?;
        let now = held_now(state, user).await?;
        if now == total && held(state, user).await? == total {
            break;
        }
        total = now;
    }
    Ok(total)
}

/// The money (minor units) in the payout holds of the user's withdrawals still PENDING.
async fn held_now(state: &AppState, user: ObjectId) -> Result<i64> {
    let mut total = 0;
    for id in store::pending_withdrawals(&state.db, user).await? {
        total += state
            .ledger
            .entries
            .head(&accounts::payout_hold(id))
            .await?
            .balance;
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
        // Said in money, as the person typed it: "UGX 500", not "500 minor units".
        let range = format!(
            "must be between {} and {}",
            Money::new(cfg.deposit_min, &cfg.currency).display(),
            Money::new(cfg.deposit_max, &cfg.currency).display()
        );
        return Err(AppError::validation(
            format!("The amount {range}"),
            "amount",
            &range,
        ));
    }
    // The handlers normalize the number before the idempotency record (`normalize_phone`); this
    // keeps the check for any other caller.
    crate::phone::PhoneNumber::parse_field(&input.phone_number, cfg.default_region, "phoneNumber")?;
    Ok(())
}

/// Records the deposit (and its provider reference) first, then asks the provider. The wallet is
/// credited only when the provider confirms (`confirm_deposit`).
pub async fn request_deposit(
    state: &AppState,
    user: &User,
    key: &IdempotencyKey,
    input: &PaymentIn,
) -> Result<TransactionOut> {
    check_payment(state, input)?;
    let currency = state.config.currency.clone();
    let clearing = accounts::provider_clearing_for(input.payment_method.as_str(), key.object_id());
    accounts::ensure(&state.db, &clearing, None, &currency).await?;
    let legs = vec![
        Leg {
            account: clearing,
            amount: -input.amount,
        },
        Leg {
            account: accounts::wallet(user.id),
            amount: input.amount,
        },
    ];
    let description = format!("Deposit via {}", method_label(input.payment_method));
    let mut tx = Transaction::new(
        key.object_id(),
        TransactionType::Deposit,
        user.id,
        input.amount,
        &currency,
        legs,
        description,
    );
    tx.reference = key.uuid().to_string();
    tx.payment_method = Some(input.payment_method);
    tx.phone_number = Some(input.phone_number.clone());
    let tx = store::insert_or_get(&state.db, &tx)
        .await?
        .ok_or_else(|| AppError::internal("deposit not stored"))?;
    let request = PaymentRequest {
        reference: tx.reference.clone(),
        method: input.payment_method,
        amount: tx.amount,
        currency,
        phone_number: input.phone_number.clone(),
    };
    match state.payments.request_payment(&request).await {
        Ok(ProviderStatus::Failed) | Err(ProviderError::Refused(_)) => {
            state
                .ledger
                .transfers()
                .fail(&tx.transfer_spec(), TransactionType::Deposit.as_str())
                .await?;
        }
        Ok(_) => {}
        // Unknown outcome: the recovery worker polls the provider; never guess.
        Err(e) => {
            tracing::warn!(reference = %tx.reference, error = %e, "deposit request outcome unknown")
        }
    }
    let stored = store::find_by_id(&state.db, tx.id).await?.unwrap_or(tx);
    Ok(stored.to_out())
}

/// Asks the provider how a deposit stands and, on final success, credits the wallet exactly once.
/// Callbacks and polls both end here; the transfer id is the deposit's id, so both credit once.
pub async fn confirm_deposit(state: &AppState, reference: &str) -> Result<Option<TransactionOut>> {
    let Some(tx) = store::find_by_reference(&state.db, reference).await? else {
        return Ok(None);
    };
    confirm_deposit_tx(state, tx).await.map(Some)
}

/// [`confirm_deposit`] for a deposit already read. Round trips on success: the two legs, the
/// outcome insert and the status label (the answer is built from what was written, not re-read).
pub async fn confirm_deposit_tx(state: &AppState, tx: Transaction) -> Result<TransactionOut> {
    if tx.kind != TransactionType::Deposit || tx.status != TransactionStatus::Pending {
        return Ok(tx.to_out());
    }
    let Some(method) = tx.payment_method else {
        return Ok(tx.to_out());
    };
    let reference = tx.reference.as_str();
    let status = state
        .payments
        .payment_status(method, reference)
        .await
        .map_err(|e| AppError::Upstream(e.to_string()))?;
    let transfers = state.ledger.transfers();
    let spec = tx.transfer_spec();
    let kind = TransactionType::Deposit.as_str();
    let outcome = match status {
        // Still PENDING by its label, so nobody has finished it: apply the legs without reading the
        // outcome first (each leg is applied once; a FAILED outcome decided meanwhile voids them).
        ProviderStatus::Succeeded => Some(match transfers.apply_legs(&spec, kind).await? {
            Some(_) => transfers.complete(&spec, kind).await?,
            None => Outcome::Failed,
        }),
        ProviderStatus::Failed => Some(transfers.fail(&spec, kind).await?),
        ProviderStatus::Pending => None,
        // The provider has no record: our request never reached it (crash or outage before the
        // call). Ask again with the same reference, which the provider deduplicates.
        ProviderStatus::Unknown => {
            if let Some(phone) = tx.phone_number.clone() {
                let request = PaymentRequest {
                    reference: tx.reference.clone(),
                    method,
                    amount: tx.amount,
                    currency: tx.currency.clone(),
                    phone_number: phone,
                };
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
    let status = match outcome {
        Some(Outcome::Completed) => TransactionStatus::Completed,
        Some(Outcome::Failed) => TransactionStatus::Failed,
        None => tx.status,
    };
    let decided = Transaction {
        status,
        updated_at: clock::now(),
        ..tx
    };
    if outcome.is_some() {
        announce_payment(state, &decided);
    }
    Ok(decided.to_out())
}

/// `payment:updated` to the payment's owner once it is decided: a declined deposit has no wallet
/// entry to tell the user, so this is how their devices learn it (and reload the payments list).
/// Fire and forget: a device offline now reads the outcome from `GET /wallet/payments` later.
pub fn announce_payment(state: &AppState, tx: &Transaction) {
    match serde_json::to_value(payment_out(tx)) {
        Ok(data) => state.hub.to_user(
            tx.user,
            oddxer_shared::sync::LiveEvent::PaymentUpdated(data),
        ),
        Err(e) => tracing::warn!(error = %e, "payment:updated not serialised"),
    }
}

pub async fn history(
    state: &AppState,
    user: ObjectId,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<LedgerEntryOut>, Option<String>)> {
    let entries = state
        .ledger
        .entries
        .newest_first(&accounts::wallet(user), before, limit)
        .await?;
    let next = if entries.len() as i64 == limit {
        entries.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    Ok((
        entries
            .iter()
            .map(|e| entry_out(e, &state.config.currency))
            .collect(),
        next,
    ))
}

/// Why a payment did not go through, as its user reads it (FAILED and REVERSED only).
fn failure_reason(kind: TransactionType, status: TransactionStatus) -> Option<String> {
    let reason = match (kind, status) {
        (TransactionType::Deposit, TransactionStatus::Failed) => {
            "The payment was declined or not approved on the phone; nothing was charged"
        }
        (TransactionType::Withdrawal, TransactionStatus::Failed) => {
            "Not enough money in the wallet; nothing left it"
        }
        (TransactionType::Withdrawal, TransactionStatus::Reversed) => {
            "The provider could not pay out; the money is back in your wallet"
        }
        _ => return None,
    };
    Some(reason.to_owned())
}

pub fn payment_out(tx: &Transaction) -> PaymentOut {
    PaymentOut {
        id: tx.id.to_hex(),
        reference: tx.reference.clone(),
        kind: tx.kind,
        payment_method: tx.payment_method,
        phone_number: tx.phone_number.as_deref().map(crate::auth::otp::mask_phone),
        amount: Money::new(tx.amount, &tx.currency),
        status: tx.status,
        failure_reason: failure_reason(tx.kind, tx.status),
        created_at: clock::rfc3339(tx.created_at),
        updated_at: clock::rfc3339(tx.updated_at),
    }
}

/// The user's deposits and withdrawals, newest first, `limit` per page after `cursor` (a
/// `"{millis}_{id}"` cursor of the last row of the previous page). Two queries, sent together,
/// each an equality on the indexed `{user, type}` (bounded by the user's own payments), with the
/// cursor, sort and limit applied by the database; merged here. A withdrawal's payout and reversal
/// transfers (`metadata.parent` set) are steps of the withdrawal, not payments of their own.
pub async fn payments(
    state: &AppState,
    user: ObjectId,
    cursor: Option<&str>,
    limit: i64,
) -> Result<(Vec<PaymentOut>, Option<String>)> {
    payments_where(state, mongodb::bson::doc! { "user": user }, cursor, limit).await
}

/// Deposits and withdrawals matching `filter` (equality on `user` and/or `status`, served by the
/// `{user, type}`, `{user, status}` or `{status, type}` index), newest first, paged like
/// [`payments`]. Without a `user` the read is bounded by the payments in that status (few while
/// PENDING; all of them for COMPLETED: an operator's query, not a user's).
pub async fn payments_where(
    state: &AppState,
    filter: mongodb::bson::Document,
    cursor: Option<&str>,
    limit: i64,
) -> Result<(Vec<PaymentOut>, Option<String>)> {
    use crate::db::{after_cursor, page_cursor};
    let after = match cursor {
        None => None,
        Some(c) => Some(after_cursor(c).ok_or_else(|| {
            AppError::validation("cursor is not one this server issued", "cursor", "invalid")
        })?),
    };
    let query = |kind| store::payments_page(&state.db, &filter, kind, after.as_ref(), limit);
    let (deposits, withdrawals) = tokio::join!(
        query(TransactionType::Deposit),
        query(TransactionType::Withdrawal)
    );
    let mut rows: Vec<Transaction> = deposits?.into_iter().chain(withdrawals?).collect();
    rows.sort_by_key(|t| std::cmp::Reverse((t.created_at, t.id)));
    rows.truncate(limit as usize);
    let next = if rows.len() as i64 == limit {
        rows.last().map(|t| page_cursor(t.created_at, t.id))
    } else {
        None
    };
    Ok((rows.iter().map(payment_out).collect(), next))
}
