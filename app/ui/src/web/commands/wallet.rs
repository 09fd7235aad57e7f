//! Money: the wallet's local copy, calls that move money (each with its own idempotency key),
//! deposits and withdrawals, and the payments list.

use oddxer_shared::api::{Page, PaymentIn, PaymentOut, TransactionOut, WalletOut};
use oddxer_shared::client::WalletPaymentsOut;

use super::R;
use crate::web::error::{Result, WebError};
use crate::web::http::Call;
use crate::web::session;
use crate::web::{changed, log_info, new_key, schedule_save, with};

/// `GET /wallet` into the local copy (brings `held`, which the ledger stream does not carry).
async fn refresh_wallet() -> Result<()> {
    let wallet: WalletOut = Call::get("/wallet").signed_in().fetch().await?;
    if session::access().is_none() {
        // Signed out while it was in flight: the answer belongs to nobody now.
        return Ok(());
    }
    if with(|s| s.doc.streams.put_wallet(&wallet)) {
        changed();
    }
    Ok(())
}

pub(super) fn refresh_wallet_in_background() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = refresh_wallet().await {
            log_info(&format!("background wallet refresh failed: {e}"));
        }
    });
}

/// The request may or may not have reached the server: keep its key for a retry.
fn outcome_unknown(e: &WebError) -> bool {
    e.is_unreachable()
        || matches!(
            e,
            WebError::Api {
                status: 500..=599,
                ..
            } | WebError::Protocol { .. }
        )
}

/// A money call with an `Idempotency-Key` made once per user action (`action` names it and its
/// body) and reused while its outcome is unknown, so the server moves the money at most once.
/// Never queued: offline it fails with the offline message.
pub(super) async fn money_call<T: serde::de::DeserializeOwned>(
    action: &str,
    call: Call,
) -> Result<T> {
    let key = with(|s| {
        s.doc
            .money_keys
            .entry(action.to_owned())
            .or_insert_with(new_key)
            .clone()
    });
    let result = call
        .header("Idempotency-Key", key)
        .signed_in()
        .fetch()
        .await;
    let unknown = matches!(&result, Err(e) if outcome_unknown(e));
    if !unknown {
        with(|s| s.doc.money_keys.remove(action));
    }
    changed();
    result
}

/// `POST /wallet/deposits` or `/wallet/withdrawals` (202 PENDING).
pub async fn payment(path: &str, kind: &str, input: &PaymentIn) -> R<TransactionOut> {
    let action = format!(
        "{kind}:{}:{}:{}",
        input.amount,
        input.payment_method.as_str(),
        input.phone_number
    );
    let tx: TransactionOut = money_call(&action, Call::post(path).json(input)).await?;
    refresh_wallet_in_background();
    Ok(tx)
}

/// My deposits and withdrawals, newest first (`GET /wallet/payments`, one page of 50, as the
/// native core asks); offline, the list last read (`fromCache`).
pub async fn wallet_payments() -> R<WalletPaymentsOut> {
    match Call::get("/wallet/payments?limit=50")
        .signed_in()
        .fetch::<Page<PaymentOut>>()
        .await
    {
        Ok(page) => {
            with(|s| s.doc.payments = page.items.clone());
            schedule_save();
            Ok(WalletPaymentsOut {
                items: page.items,
                from_cache: false,
            })
        }
        Err(e) if e.is_unreachable() => Ok(WalletPaymentsOut {
            items: with(|s| s.doc.payments.clone()),
            from_cache: true,
        }),
        Err(e) => Err(e.into()),
    }
}
