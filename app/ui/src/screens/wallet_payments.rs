//! The wallet's deposits and withdrawals as the person follows them (`wallet_payments`): pending,
//! completed, failed (with the reason) and reversed, with reference, amount and method. "Where is
//! my money" is answered here even when nothing reached the ledger (a declined deposit).
//!
//! The list is re-read when the wallet stream moves, when a payment is started from this device,
//! and every few seconds while one is still pending (a declined deposit moves no money, so the
//! stream alone would never say so). Offline, the core answers the list kept on the device.

use dioxus::prelude::*;
use oddxer_shared::api::{LedgerEntryOut, PaymentOut, TransactionOut};
use oddxer_shared::client::{CommandError, WalletPaymentsOut};
use oddxer_shared::{TransactionStatus, TransactionType};

use crate::browser;
use crate::format;
use crate::ipc;
use crate::state::set_if_mounted;

/// How often a pending payment is looked at again while the wallet is open.
const PENDING_POLL_MS: i32 = 3_000;

/// The payment list as last read, and the last error when there is no list to show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payments {
    pub list: Option<WalletPaymentsOut>,
    pub error: Option<CommandError>,
    loading: bool,
}

impl Payments {
    fn any_pending(&self) -> bool {
        self.list.as_ref().is_some_and(|l| {
            l.items
                .iter()
                .any(|p| p.status == TransactionStatus::Pending)
        })
    }

    /// The status the server last reported for the payment with this reference.
    fn status_of(&self, reference: &str) -> Option<TransactionStatus> {
        self.list
            .as_ref()
            .and_then(|l| l.items.iter().find(|p| p.reference == reference))
            .map(|p| p.status)
    }
}

/// Re-reads the list; a failure keeps the list shown (offline, the core answers the kept one).
pub fn load_payments(mut payments: Signal<Payments>) {
    if payments.peek().loading {
        return;
    }
    payments.write().loading = true;
    spawn(async move {
        let result = ipc::wallet_payments().await;
        let Ok(mut p) = payments.try_write() else {
            return;
        };
        p.loading = false;
        match result {
            Ok(list) => {
                p.list = Some(list);
                p.error = None;
            }
            Err(error) => p.error = Some(error),
        }
    });
}

/// Keeps the list current: on the wallet stream's position, the number of payments started
/// here and the live `payment:updated` revision (each changes when something happened), and on a
/// timer while one is pending.
pub fn use_payments(
    wallet_seq: i64,
    started_here: usize,
    payments_rev: u64,
    has_local_pending: bool,
) -> Signal<Payments> {
    let payments = use_signal(Payments::default);
    use_effect(use_reactive!(|(wallet_seq, started_here, payments_rev)| {
        let _ = (wallet_seq, started_here, payments_rev);
        load_payments(payments);
    }));
    let local_pending = use_signal(|| has_local_pending);
    if *local_pending.peek() != has_local_pending {
        set_if_mounted(local_pending, has_local_pending);
    }
    use_future(move || async move {
        loop {
            browser::sleep_ms(PENDING_POLL_MS).await;
            let waiting = payments
                .try_peek()
                .map(|p| p.any_pending())
                .unwrap_or(false)
                || local_pending.try_peek().map(|v| *v).unwrap_or(false);
            if waiting {
                load_payments(payments);
            }
        }
    });
    payments
}

/// Deposits started here or reported pending by the server that are still waiting: not yet in
/// the ledger and not reported finished (completed, failed, reversed) by the server.
pub fn waiting_deposits(
    started_here: &[TransactionOut],
    payments: &Payments,
    ledger: &[LedgerEntryOut],
) -> Vec<(
    String,
    oddxer_shared::Money,
    Option<oddxer_shared::PaymentMethod>,
)> {
    let mut out: Vec<(
        String,
        oddxer_shared::Money,
        Option<oddxer_shared::PaymentMethod>,
    )> = started_here
        .iter()
        .filter(|tx| tx.kind == TransactionType::Deposit)
        .filter(|tx| !ledger.iter().any(|e| e.transfer_id == tx.id))
        .filter(|tx| {
            matches!(
                payments.status_of(&tx.reference),
                None | Some(TransactionStatus::Pending)
            )
        })
        .map(|tx| (tx.reference.clone(), tx.amount.clone(), tx.payment_method))
        .collect();
    if let Some(list) = payments.list.as_ref() {
        for p in &list.items {
            let waiting =
                p.kind == TransactionType::Deposit && p.status == TransactionStatus::Pending;
            if waiting && !out.iter().any(|(r, _, _)| *r == p.reference) {
                out.push((p.reference.clone(), p.amount.clone(), p.payment_method));
            }
        }
    }
    out
}

/// Deposits started on this device that the server reports FAILED (declined on the phone, timed
/// out at the provider), in the order they were started. The wallet shows them where the pending
/// card was, so a person on a phone sees the outcome without scrolling to the payments list.
pub fn declined_deposits(started_here: &[TransactionOut], payments: &Payments) -> Vec<PaymentOut> {
    let Some(list) = payments.list.as_ref() else {
        return Vec::new();
    };
    started_here
        .iter()
        .filter(|tx| tx.kind == TransactionType::Deposit)
        .filter_map(|tx| {
            list.items
                .iter()
                .find(|p| p.reference == tx.reference && p.status == TransactionStatus::Failed)
                .cloned()
        })
        .collect()
}

fn status_label(kind: TransactionType, status: TransactionStatus) -> (&'static str, &'static str) {
    match (kind, status) {
        (_, TransactionStatus::Pending) => ("Pending", "status status-pending"),
        (TransactionType::Withdrawal, TransactionStatus::Completed) => {
            ("Paid out", "status status-won")
        }
        (_, TransactionStatus::Completed) => ("Received", "status status-won"),
        (_, TransactionStatus::Failed) => ("Failed", "status status-lost"),
        (_, TransactionStatus::Reversed) => ("Reversed", "status status-muted"),
    }
}

/// What the pending state means for this kind of payment.
fn pending_hint(kind: TransactionType) -> &'static str {
    match kind {
        TransactionType::Withdrawal => "Taken from your balance; on its way to your phone.",
        _ => "Approve the prompt on your phone.",
    }
}

#[component]
pub fn PaymentsCard(payments: Signal<Payments>) -> Element {
    let current = payments.read();
    let items = current
        .list
        .as_ref()
        .map(|l| l.items.clone())
        .unwrap_or_default();
    let from_cache = current.list.as_ref().is_some_and(|l| l.from_cache);
    let loaded = current.list.is_some();
    let load_error = if loaded { None } else { current.error.clone() };
    drop(current);
    rsx! {
        section { class: "card payments-card", id: "payments-card",
            div { class: "card-head",
                h3 { "Deposits and withdrawals" }
                if from_cache {
                    span { class: "muted small", id: "payments-from-cache", "Saved on this device" }
                }
            }
            if let Some(error) = load_error {
                p { class: "note note-error", id: "payments-error", "Couldn't load your payments. {error.message}" }
            } else if loaded && items.is_empty() {
                p { class: "muted small", id: "payments-empty", "Mobile money deposits and withdrawals show up here with their status." }
            } else if !loaded {
                p { class: "muted small", "Loading your payments…" }
            }
            ul { class: "payments", id: "payments-list",
                for payment in items {
                    PaymentRow { key: "{payment.id}", payment }
                }
            }
        }
    }
}

#[component]
fn PaymentRow(payment: PaymentOut) -> Element {
    let (label, class) = status_label(payment.kind, payment.status);
    let method = payment
        .payment_method
        .map(format::payment_method)
        .unwrap_or("Mobile money");
    let sign = match (payment.kind, payment.status) {
        (TransactionType::Deposit, TransactionStatus::Completed) => "+",
        (
            TransactionType::Withdrawal,
            TransactionStatus::Completed | TransactionStatus::Pending,
        ) => "−",
        _ => "",
    };
    let status_word = payment.status.as_str();
    rsx! {
        li { class: "payment-row", id: "payment-{payment.id}", "data-reference": "{payment.reference}",
            "data-status": "{status_word}",
            div { class: "payment-main",
                p { class: "strong",
                    {format::transaction_type(payment.kind)}
                    span { class: "muted", " · {method}" }
                }
                p { class: "muted small",
                    "Ref "
                    code { class: "payment-reference", "{payment.reference}" }
                    if let Some(phone) = payment.phone_number.as_ref() {
                        " · {phone}"
                    }
                    " · {format::timestamp(&payment.created_at)}"
                }
                if payment.status == TransactionStatus::Pending {
                    p { class: "small payment-hint", {pending_hint(payment.kind)} }
                }
                if let Some(reason) = payment.failure_reason.as_ref() {
                    p { class: "small payment-reason", "{reason}" }
                }
            }
            div { class: "payment-side",
                p { class: "amount", "{sign}{payment.amount.display()}" }
                span { class: "{class} payment-status", "{label}" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use oddxer_shared::{Currency, Money, PaymentMethod};

    use super::*;

    fn started(reference: &str, kind: TransactionType) -> TransactionOut {
        TransactionOut {
            id: format!("tx-{reference}"),
            reference: reference.to_owned(),
            kind,
            amount: Money::new(20_000, &Currency("UGX".to_owned())),
            payment_method: Some(PaymentMethod::MtnMomo),
            status: TransactionStatus::Pending,
            created_at: "2026-12-01T10:00:00Z".to_owned(),
            updated_at: "2026-12-01T10:00:00Z".to_owned(),
        }
    }

    fn reported(reference: &str, kind: TransactionType, status: TransactionStatus) -> PaymentOut {
        PaymentOut {
            id: format!("p-{reference}"),
            reference: reference.to_owned(),
            kind,
            payment_method: Some(PaymentMethod::MtnMomo),
            phone_number: Some("+256*******56".to_owned()),
            amount: Money::new(20_000, &Currency("UGX".to_owned())),
            status,
            failure_reason: (status == TransactionStatus::Failed)
                .then(|| "Declined on the phone".to_owned()),
            created_at: "2026-12-01T10:00:00Z".to_owned(),
            updated_at: "2026-12-01T10:01:00Z".to_owned(),
        }
    }

    fn listed(items: Vec<PaymentOut>) -> Payments {
        Payments {
            list: Some(WalletPaymentsOut {
                items,
                from_cache: false,
            }),
            ..Payments::default()
        }
    }

    #[test]
    fn a_deposit_started_here_and_declined_leaves_waiting_and_shows_as_declined() {
        let here = vec![started("DEP-1", TransactionType::Deposit)];
        let pending = listed(vec![reported(
            "DEP-1",
            TransactionType::Deposit,
            TransactionStatus::Pending,
        )]);
        assert_eq!(waiting_deposits(&here, &pending, &[]).len(), 1);
        assert!(declined_deposits(&here, &pending).is_empty());

        let failed = listed(vec![reported(
            "DEP-1",
            TransactionType::Deposit,
            TransactionStatus::Failed,
        )]);
        assert!(waiting_deposits(&here, &failed, &[]).is_empty());
        let declined = declined_deposits(&here, &failed);
        assert_eq!(declined.len(), 1);
        assert_eq!(
            declined[0].failure_reason.as_deref(),
            Some("Declined on the phone")
        );
    }

    #[test]
    fn only_deposits_started_on_this_device_are_shown_as_declined() {
        // An old failure from another device stays in the payments list, not in the wallet's side.
        let here = vec![started("DEP-2", TransactionType::Deposit)];
        let payments = listed(vec![
            reported(
                "DEP-OLD",
                TransactionType::Deposit,
                TransactionStatus::Failed,
            ),
            reported(
                "DEP-2",
                TransactionType::Deposit,
                TransactionStatus::Completed,
            ),
        ]);
        assert!(declined_deposits(&here, &payments).is_empty());
        assert!(declined_deposits(&here, &Payments::default()).is_empty());
    }
}
