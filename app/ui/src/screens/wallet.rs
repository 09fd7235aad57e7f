//! The wallet: balance, a mobile-money deposit form and the ledger, newest first.

use dioxus::prelude::*;
use oddxer_shared::api::{LedgerEntryOut, PaymentIn, TransactionOut};
use oddxer_shared::client::ConnectionState;
use oddxer_shared::{Currency, Money, PaymentMethod};

use crate::format;
use crate::input::{parse_amount, parse_phone};
use crate::ipc;
use crate::state::{set_if_mounted, spawn_command, AppState};

/// Shown before the first sync has brought the wallet down.
const DEFAULT_CURRENCY: &str = "UGX";

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
    let currency = wallet.as_ref().map_or_else(
        || Currency(DEFAULT_CURRENCY.to_owned()),
        |w| w.balance.currency.clone(),
    );
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
                DepositForm { currency: currency.clone(), offline }
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
fn DepositForm(currency: Currency, offline: bool) -> Element {
    let state = use_context::<AppState>();
    let own_phone = state
        .snapshot
        .peek()
        .as_ref()
        .and_then(|s| s.user.as_ref().map(|u| u.phone_number.clone()))
        .unwrap_or_default();
    let mut amount = use_signal(String::new);
    let mut method = use_signal(|| PaymentMethod::MtnMomo);
    let mut phone = use_signal(move || own_phone);
    let mut hint = use_signal(|| None::<String>);
    let busy = state.is_busy();
    let quick_amounts = [10_000i64, 20_000, 50_000, 100_000];
    let form_currency = currency.clone();

    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let minor = match parse_amount(
            &amount.peek(),
            &form_currency.0,
            form_currency.minor_digits(),
        ) {
            Ok(m) => m,
            Err(e) => return hint.set(Some(e.to_string())),
        };
        let phone_number = match parse_phone(&phone.peek()) {
            Ok(p) => p,
            Err(e) => return hint.set(Some(e.to_string())),
        };
        hint.set(None);
        let input = PaymentIn {
            amount: minor,
            payment_method: *method.peek(),
            phone_number,
        };
        spawn_command(async move {
            if let Some(tx) = state
                .run("Starting your deposit", ipc::deposit(&input))
                .await
            {
                let mut pending = state.pending_deposits;
                pending.write().insert(0, tx);
                set_if_mounted(amount, String::new());
            }
        });
    };

    rsx! {
        section { class: "card deposit-card",
            h3 { "Add money" }
            form { id: "deposit-form", onsubmit: submit, novalidate: true,
                label { r#for: "deposit-amount", "Amount ({currency})" }
                input { id: "deposit-amount", r#type: "text", inputmode: "decimal", placeholder: "50,000",
                    value: "{amount}", disabled: busy, oninput: move |e| amount.set(e.value()),
                }
                div { class: "chips",
                    for quick in quick_amounts {
                        button { r#type: "button", class: "chip", id: "quick-{quick}", disabled: busy,
                            onclick: move |_| amount.set(quick.to_string()),
                            {Money::new(quick * 10i64.pow(currency.minor_digits()), &currency).display()}
                        }
                    }
                }
                span { class: "label", "Pay with" }
                div { class: "segmented", role: "radiogroup",
                    for (m, id) in [(PaymentMethod::MtnMomo, "method-mtn"), (PaymentMethod::AirtelMoney, "method-airtel")] {
                        button { r#type: "button", id: "{id}",
                            class: if *method.read() == m { "seg active" } else { "seg" },
                            aria_checked: *method.read() == m,
                            "data-method": m.as_str(),
                            onclick: move |_| method.set(m),
                            {format::payment_method(m)}
                        }
                    }
                }
                label { r#for: "deposit-phone", "Mobile money number" }
                input { id: "deposit-phone", r#type: "tel", inputmode: "tel", value: "{phone}", disabled: busy,
                    oninput: move |e| phone.set(e.value()),
                }
                if let Some(text) = hint() {
                    p { class: "field-error", id: "deposit-hint", "{text}" }
                }
                button { class: "btn btn-primary btn-block", id: "deposit-submit", r#type: "submit",
                    disabled: busy || offline,
                    if offline { "Deposits need a connection" } else if busy { "Working…" } else { "Deposit" }
                }
            }
        }
    }
}
