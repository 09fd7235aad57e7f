//! The wallet: balance, mobile-money deposit and withdrawal, deposits and withdrawals with their
//! status (`wallet_payments.rs`), and the ledger, newest first.

use dioxus::prelude::*;
use oddxer_shared::api::{LedgerEntryOut, TransactionOut};
use oddxer_shared::client::ConnectionState;
use oddxer_shared::Money;

use crate::format;
use crate::state::AppState;

use super::payment_form::{Kind, PaymentForm};
use super::wallet_payments::{declined_deposits, use_payments, waiting_deposits, PaymentsCard};

#[component]
pub fn Wallet() -> Element {
    let state = use_context::<AppState>();
    let snapshot = state.snapshot.read();
    let ledger = snapshot
        .as_ref()
        .map(|s| s.ledger.clone())
        .unwrap_or_default();
    let wallet_seq = snapshot
        .as_ref()
        .and_then(|s| s.wallet.as_ref().map(|w| w.seq))
        .unwrap_or(0);
    let payments_rev = snapshot.as_ref().map_or(0, |s| s.live.payments);
    let started_here: Vec<TransactionOut> = state.pending_deposits.read().clone();
    let local_waiting = started_here
        .iter()
        .any(|tx| !ledger.iter().any(|e| e.transfer_id == tx.id));
    // A hook: called on every render, before any early return.
    let payments = use_payments(wallet_seq, started_here.len(), payments_rev, local_waiting);
    let Some(snapshot) = snapshot.as_ref() else {
        return rsx! {};
    };
    let wallet = snapshot.wallet.clone();
    let offline = snapshot.connection == ConnectionState::Offline;
    let currency = state.currency();
    let balance = wallet.as_ref().map(|w| w.balance.clone());
    let held = wallet.as_ref().map(|w| w.held.clone());
    // A deposit waits here until its ledger entry arrives or the server says how it ended: a
    // declined one leaves this card and shows as failed, with the reason, under the payments.
    let pending = waiting_deposits(&started_here, &payments.read(), &ledger);
    let declined = declined_deposits(&started_here, &payments.read());
    let mut started_signal = state.pending_deposits;

    rsx! {
        main { class: "wallet",
            div { class: "wallet-side",
                section { class: "card balance-card",
                    p { class: "label-light", "Wallet balance" }
                    if let Some(wallet) = wallet.as_ref() {
                        p { class: "balance", id: "wallet-balance", "{wallet.balance.display()}" }
                        if wallet.held.amount != 0 {
                            p { class: "held", id: "wallet-held", "{wallet.held.display()} held for withdrawals" }
                        }
                    } else {
                        p { class: "balance balance-loading", id: "wallet-balance", "—" }
                        p { class: "held", "Waiting for the first sync" }
                    }
                }
                MoneyCard { currency: currency.clone(), offline, balance, held }
                if !pending.is_empty() {
                    section { class: "card", id: "pending-deposits",
                        // Brought into view when it appears: on a phone it is below the form.
                        onmounted: move |e| async move {
                            let _ = e.data().scroll_to(ScrollBehavior::Smooth).await;
                        },
                        h3 { "Waiting for confirmation" }
                        ul { class: "pending-list",
                            for (reference, amount, method) in pending {
                                li { class: "pending-item", key: "{reference}",
                                    div {
                                        p { class: "strong", "{amount.display()}" }
                                        p { class: "muted small",
                                            {method.map(format::payment_method).unwrap_or("Mobile money")}
                                            " · ref "
                                            code { class: "deposit-reference", "{reference}" }
                                        }
                                    }
                                    span { class: "status status-pending", "Pending" }
                                }
                            }
                        }
                        p { class: "muted small", "Approve the prompt on your phone. Your balance updates as soon as the payment clears." }
                    }
                }
                if !declined.is_empty() {
                    section { class: "card", id: "declined-deposits",
                        // Where the pending card was: on a phone the payments list is far below.
                        onmounted: move |e| async move {
                            let _ = e.data().scroll_to(ScrollBehavior::Smooth).await;
                        },
                        h3 { "Deposit not completed" }
                        ul { class: "pending-list",
                            for payment in declined.iter().cloned() {
                                li { class: "pending-item", key: "{payment.reference}",
                                    div {
                                        p { class: "strong", "{payment.amount.display()}" }
                                        p { class: "muted small",
                                            {payment.payment_method.map(format::payment_method).unwrap_or("Mobile money")}
                                            " · ref "
                                            code { class: "deposit-reference", "{payment.reference}" }
                                        }
                                        if let Some(reason) = payment.failure_reason.as_ref() {
                                            p { class: "small payment-reason", "{reason}" }
                                        }
                                    }
                                    span { class: "status status-lost", "Failed" }
                                }
                            }
                        }
                        p { class: "muted small", "Nothing was added to your wallet. You can try again with the form above." }
                        button { class: "btn btn-secondary btn-small", id: "declined-dismiss",
                            onclick: move |_| {
                                let gone: Vec<String> = declined.iter().map(|p| p.reference.clone()).collect();
                                started_signal.write().retain(|tx| !gone.contains(&tx.reference));
                            },
                            "Dismiss"
                        }
                    }
                }
            }
            div { class: "wallet-main",
            PaymentsCard { payments }
            section { class: "card ledger-card",
                div { class: "card-head",
                    h3 { "Activity" }
                    span { class: "muted small", id: "ledger-count", {entries_label(ledger.len())} }
                }
                if ledger.is_empty() {
                    div { class: "empty", id: "ledger-empty",
                        p { class: "strong", "No activity yet" }
                        p { class: "muted", "Deposits, purchases and payouts will show up here." }
                    }
                }
                ul { class: "ledger", id: "ledger-list",
                    for entry in ledger {
                        LedgerRow { key: "{entry.id}", entry }
                    }
                }
            }
            }
        }
    }
}

fn entries_label(count: usize) -> String {
    format::counted(i64::try_from(count).unwrap_or(i64::MAX), "entry", "entries")
}

#[component]
fn LedgerRow(entry: LedgerEntryOut) -> Element {
    let credit = entry.amount.amount >= 0;
    let amount = if credit {
        format!("+{}", entry.amount.display())
    } else {
        entry.amount.display()
    };
    rsx! {
        li { class: "ledger-entry", id: "ledger-entry-{entry.seq}",
            div { class: if credit { "ledger-icon credit" } else { "ledger-icon debit" },
                if credit { "↓" } else { "↑" }
            }
            div { class: "ledger-main",
                p { class: "strong", {format::transaction_type(entry.kind)} }
                p { class: "muted small", "{entry.description}" }
            }
            div { class: "ledger-amounts",
                p { class: if credit { "amount credit" } else { "amount debit" }, "{amount}" }
                p { class: "muted small", "{format::timestamp(&entry.created_at)}" }
            }
        }
    }
}

#[component]
fn MoneyCard(
    currency: oddxer_shared::Currency,
    offline: bool,
    balance: Option<Money>,
    held: Option<Money>,
) -> Element {
    let mut kind = use_signal(|| Kind::Deposit);
    rsx! {
        section { class: "card money-card",
            div { class: "segmented tabs", role: "tablist",
                button { r#type: "button", id: "wallet-tab-deposit", role: "tab",
                    class: if kind() == Kind::Deposit { "seg active" } else { "seg" },
                    aria_selected: kind() == Kind::Deposit,
                    onclick: move |_| kind.set(Kind::Deposit), "Add money"
                }
                button { r#type: "button", id: "wallet-tab-withdraw", role: "tab",
                    class: if kind() == Kind::Withdraw { "seg active" } else { "seg" },
                    aria_selected: kind() == Kind::Withdraw,
                    onclick: move |_| kind.set(Kind::Withdraw), "Withdraw"
                }
            }
            PaymentForm { key: "{kind():?}", kind: kind(), currency, offline, balance, held }
        }
    }
}
