//! The mobile-money form, for deposits and withdrawals alike: amount, network and number.

use dioxus::prelude::*;
use oddxer_shared::api::{PaymentIn, TransactionOut};
use oddxer_shared::{Currency, Money, PaymentMethod};

use crate::format;
use crate::input::{parse_amount, parse_phone};
use crate::ipc;
use crate::listing::field_sentence;
use crate::state::{set_if_mounted, spawn_command, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deposit,
    Withdraw,
}

impl Kind {
    /// Element ids; the deposit ones predate withdrawals and the e2e test knows them.
    fn id(self, part: &str) -> String {
        match (self, part) {
            (Kind::Deposit, "mtn") => "method-mtn".to_owned(),
            (Kind::Deposit, "airtel") => "method-airtel".to_owned(),
            (Kind::Deposit, part) => format!("deposit-{part}"),
            (Kind::Withdraw, "mtn") => "withdraw-method-mtn".to_owned(),
            (Kind::Withdraw, "airtel") => "withdraw-method-airtel".to_owned(),
            (Kind::Withdraw, part) => format!("withdraw-{part}"),
        }
    }
}

#[component]
pub fn PaymentForm(
    kind: Kind,
    currency: Currency,
    offline: bool,
    balance: Option<Money>,
    held: Option<Money>,
) -> Element {
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
    // The server's messages for the amount and the number, shown beside those fields.
    let mut field_errors = use_signal(std::collections::BTreeMap::<String, String>::new);
    let started = use_signal(|| None::<TransactionOut>);
    let busy = state.is_busy();
    let quick_amounts = [10_000i64, 20_000, 50_000, 100_000];
    let form_currency = currency.clone();
    let available = balance.as_ref().map(|b| b.amount);

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
        if kind == Kind::Withdraw && available.is_some_and(|a| minor > a) {
            let most = Money::new(available.unwrap_or(0), &form_currency).display();
            return hint.set(Some(format!("You can withdraw at most {most}.")));
        }
        let phone_number = match parse_phone(&phone.peek()) {
            Ok(p) => p,
            Err(e) => return hint.set(Some(e.to_string())),
        };
        hint.set(None);
        field_errors.set(Default::default());
        let input = PaymentIn {
            amount: minor,
            payment_method: *method.peek(),
            phone_number,
        };
        spawn_command(async move {
            let outcome = match kind {
                Kind::Deposit => {
                    state
                        .attempt("Starting your deposit", ipc::deposit(&input))
                        .await
                }
                Kind::Withdraw => {
                    state
                        .attempt("Sending your withdrawal", ipc::withdraw(&input))
                        .await
                }
            };
            let tx = match outcome {
                Some(Ok(tx)) => Some(tx),
                // A refused field is explained beside it; anything else goes to the banner.
                Some(Err(error)) if !error.fields.is_empty() => {
                    let messages = error
                        .fields
                        .iter()
                        .map(|(field, problem)| (field.clone(), field_sentence(field, problem)))
                        .collect();
                    set_if_mounted(field_errors, messages);
                    None
                }
                Some(Err(error)) => {
                    state.show_error(error);
                    None
                }
                None => None,
            };
            if let Some(tx) = tx {
                if kind == Kind::Deposit {
                    let mut pending = state.pending_deposits;
                    pending.write().insert(0, tx.clone());
                }
                set_if_mounted(started, Some(tx));
                set_if_mounted(amount, String::new());
                state.refresh().await;
            }
        });
    };

    let (title, amount_label, phone_label, action, offline_action, working) = match kind {
        Kind::Deposit => (
            "Add money",
            "Amount",
            "Mobile money number",
            "Deposit",
            "Deposits need a connection",
            "Starting…",
        ),
        Kind::Withdraw => (
            "Withdraw",
            "Amount",
            "Pay out to",
            "Withdraw",
            "Withdrawals need a connection",
            "Sending…",
        ),
    };

    let (id_amount_error, id_phone_error) = (kind.id("amount-error"), kind.id("phone-error"));
    let (id_form, id_amount, id_phone, id_hint, id_submit) = (
        kind.id("form"),
        kind.id("amount"),
        kind.id("phone"),
        kind.id("hint"),
        kind.id("submit"),
    );

    rsx! {
        h3 { class: "sr-only", "{title}" }
        form { id: "{id_form}", onsubmit: submit, novalidate: true,
            if kind == Kind::Withdraw {
                div { class: "withdraw-info",
                    p { class: "muted small",
                        "Available: "
                        strong { id: "withdraw-available", {balance.as_ref().map(|b| b.display()).unwrap_or_else(|| "—".to_owned())} }
                    }
                    if let Some(held) = held.as_ref().filter(|h| h.amount != 0) {
                        p { class: "muted small", id: "withdraw-held",
                            "{held.display()} on its way to your phone (held until the payout clears)"
                        }
                    }
                }
            }
            label { r#for: "{id_amount}", "{amount_label} ({currency})" }
            input { id: "{id_amount}", r#type: "text", inputmode: "decimal", placeholder: "50,000",
                value: "{amount}", disabled: busy, oninput: move |e| amount.set(e.value()),
            }
            if let Some(text) = field_errors.read().get("amount") {
                p { class: "field-error", id: "{id_amount_error}", "{text}" }
            }
            if kind == Kind::Deposit {
                div { class: "chips",
                    for quick in quick_amounts {
                        button { r#type: "button", class: "chip", id: "quick-{quick}", disabled: busy,
                            onclick: move |_| amount.set(quick.to_string()),
                            {Money::new(quick * 10i64.pow(currency.minor_digits()), &currency).display()}
                        }
                    }
                }
            }
            span { class: "label", if kind == Kind::Deposit { "Pay with" } else { "Network" } }
            div { class: "segmented", role: "radiogroup",
                for (m, part) in [(PaymentMethod::MtnMomo, "mtn"), (PaymentMethod::AirtelMoney, "airtel")] {
                    button { r#type: "button", id: "{kind.id(part)}",
                        class: if *method.read() == m { "seg active" } else { "seg" },
                        aria_checked: *method.read() == m,
                        "data-method": m.as_str(),
                        onclick: move |_| method.set(m),
                        {format::payment_method(m)}
                    }
                }
            }
            label { r#for: "{id_phone}", "{phone_label}" }
            input { id: "{id_phone}", r#type: "tel", inputmode: "tel", value: "{phone}", disabled: busy,
                oninput: move |e| phone.set(e.value()),
            }
            if let Some(text) = field_errors.read().get("phoneNumber") {
                p { class: "field-error", id: "{id_phone_error}", "{text}" }
            }
            if let Some(text) = hint() {
                p { class: "field-error", id: "{id_hint}", "{text}" }
            }
            button { class: "btn btn-primary btn-block", id: "{id_submit}", r#type: "submit",
                disabled: busy || offline,
                if offline { "{offline_action}" } else if busy { "{working}" } else { "{action}" }
            }
            if kind == Kind::Withdraw {
                if let Some(tx) = started() {
                    div { class: "note note-ok", id: "withdraw-result",
                        strong { "Withdrawal of {tx.amount.display()} started" }
                        p { class: "small",
                            "It's taken from your balance now and arrives on your phone shortly. Ref "
                            code { class: "withdraw-reference", "{tx.reference}" }
                        }
                    }
                }
            }
        }
    }
}
