//! The wallet: balance, mobile-money deposit and withdrawal, and the ledger, newest first.

use dioxus::prelude::*;
use oddxer_shared::api::{LedgerEntryOut, TransactionOut};
use oddxer_shared::client::ConnectionState;
use oddxer_shared::Money;

use crate::format;
use crate::state::AppState;

use super::payment_form::{Kind, PaymentForm};

#[component]
pub fn Wallet() -> Element {
    let state = use_context::<AppState>();
    let snapshot = state.snapshot.read();
    let Some(snapshot) = snapshot.as_ref() else {
        return rsx! {};
    };
    let ledger = snapshot.ledger.clone();
    let wallet = snapshot.wallet.clone();
    let offline = snapshot.connection == ConnectionState::Offline;
    let currency = state.currency();
    let balance = wallet.as_ref().map(|w| w.balance.clone());
    let held = wallet.as_ref().map(|w| w.held.clone());
    // A deposit stays "pending" here until its ledger entry arrives through sync.
    let pending: Vec<TransactionOut> = state
        .pending_deposits
        .read()
        .iter()
        .filter(|tx| !ledger.iter().any(|e| e.transfer_id == tx.id))
        .cloned()
        .collect();

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
                        h3 { "Waiting for confirmation" }
                        ul { class: "pending-list",
                            for tx in pending {
                                li { class: "pending-item", key: "{tx.id}",
                                    div {
                                        p { class: "strong", "{tx.amount.display()}" }
                                        p { class: "muted small",
                                            {tx.payment_method.map(format::payment_method).unwrap_or("Mobile money")}
                                            " · ref "
                                            code { class: "deposit-reference", "{tx.reference}" }
                                        }
                                    }
                                    span { class: "status status-pending", "Pending" }
                                }
                            }
                        }
                        p { class: "muted small", "Approve the prompt on your phone. Your balance updates as soon as the payment clears." }
                    }
                }
            }
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

fn entries_label(count: usize) -> String {
    match count {
        1 => "1 entry".to_owned(),
        n => format!("{n} entries"),
    }
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
