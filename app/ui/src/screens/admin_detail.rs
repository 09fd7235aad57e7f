//! Admin lookups: one user's detail (wallet, purchases, sales, payments, the last recorded admin
//! change) and the payments view to find a deposit or withdrawal by its reference. A sale in the
//! detail can be picked for resolution, so an admin never pastes a 24-character id.

use dioxus::prelude::*;
use oddxer_shared::api::{AdminUserOut, PaymentOut};
use oddxer_shared::client::{AdminPaymentsIn, CommandError};
use oddxer_shared::TransactionStatus;

use crate::format;
use crate::ipc;
use crate::state::set_if_mounted;
use crate::widgets::Spinner;

/// A code picked for resolution: its id and title (shown instead of the id).
#[derive(Debug, Clone, PartialEq)]
pub struct PickedCode {
    pub id: String,
    pub title: String,
}

fn status_class(status: TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::Pending => "status status-pending",
        TransactionStatus::Completed => "status status-won",
        TransactionStatus::Failed => "status status-lost",
        TransactionStatus::Reversed => "status status-muted",
    }
}

fn status_word(status: TransactionStatus) -> &'static str {
    match status {
        TransactionStatus::Pending => "Pending",
        TransactionStatus::Completed => "Completed",
        TransactionStatus::Failed => "Failed",
        TransactionStatus::Reversed => "Reversed",
    }
}

#[component]
pub fn UserDetailCard(
    id: String,
    on_close: EventHandler<()>,
    on_pick: EventHandler<PickedCode>,
) -> Element {
    let detail = use_signal(|| None::<Result<AdminUserOut, CommandError>>);
    let load_id = id.clone();
    use_hook(move || {
        spawn(async move {
            let answer = ipc::admin_user(&load_id).await;
            set_if_mounted(detail, Some(answer));
        });
    });
    let shown = detail.read().clone();
    rsx! {
        section { class: "card", id: "admin-user-detail",
            div { class: "card-head",
                h3 { "User detail" }
                button { class: "btn btn-ghost-dark btn-small", id: "admin-user-detail-close", r#type: "button",
                    onclick: move |_| on_close.call(()), "Close" }
            }
            match shown {
                None => rsx! { Spinner { label: "Loading the user…" } },
                Some(Err(e)) => rsx! { p { class: "note note-error", id: "admin-user-detail-error", "{e.message}" } },
                Some(Ok(d)) => rsx! {
                    div { class: "detail-head",
                        p { class: "strong", id: "admin-detail-name", "@{d.user.username}" }
                        p { class: "muted small mono", "{d.user.phone_number} · {format::role(d.user.role)}" }
                        p { class: "small", id: "admin-detail-balance",
                            "Wallet {d.wallet.balance.display()}"
                            if d.wallet.held.amount != 0 { " · {d.wallet.held.display()} held" }
                        }
                        if let Some(change) = d.last_admin_change.as_ref() {
                            p { class: "muted small", id: "admin-detail-last-change",
                                "Last admin change {format::timestamp(&change.at)}"
                                if let Some(reason) = change.reason.as_ref() { ": “{reason}”" }
                            }
                        }
                    }
                    h4 { class: "label", "Payments" }
                    if d.payments.is_empty() {
                        p { class: "muted small", "No deposits or withdrawals." }
                    }
                    ul { class: "rows", id: "admin-detail-payments",
                        for p in d.payments.iter() {
                            AdminPaymentRow { key: "{p.id}", payment: p.clone() }
                        }
                    }
                    h4 { class: "label", "Purchases" }
                    if d.purchases.is_empty() {
                        p { class: "muted small", "No purchases." }
                    }
                    ul { class: "rows", id: "admin-detail-purchases",
                        for purchase in d.purchases.iter() {
                            li { key: "{purchase.id}", class: "row",
                                div { class: "row-main",
                                    p { class: "strong", "{purchase.code.title}" }
                                    p { class: "muted small", "{purchase.price.display()} · {format::timestamp(&purchase.created_at)}" }
                                }
                            }
                        }
                    }
                    h4 { class: "label", "Sales" }
                    if d.sales.items.is_empty() {
                        p { class: "muted small", "No sales." }
                    }
                    ul { class: "rows", id: "admin-detail-sales",
                        for sale in d.sales.items.iter() {
                            SaleRow { key: "{sale.purchase_id}", code_id: sale.code_id.clone(), title: sale.title.clone(),
                                line: format!("@{} · {} · {}", sale.buyer_username, sale.price.display(), format::timestamp(&sale.sold_at)),
                                on_pick }
                        }
                    }
                },
            }
        }
    }
}

#[component]
fn SaleRow(
    code_id: String,
    title: String,
    line: String,
    on_pick: EventHandler<PickedCode>,
) -> Element {
    let picked = PickedCode {
        id: code_id.clone(),
        title: title.clone(),
    };
    rsx! {
        li { class: "row",
            div { class: "row-main",
                p { class: "strong", "{title}" }
                p { class: "muted small", "{line}" }
            }
            button { class: "btn btn-secondary btn-small", id: "admin-sale-resolve-{code_id}", r#type: "button",
                onclick: move |_| on_pick.call(picked.clone()), "Resolve…" }
        }
    }
}

#[component]
pub fn AdminPaymentRow(payment: PaymentOut) -> Element {
    let method = payment
        .payment_method
        .map(format::payment_method)
        .unwrap_or("Mobile money");
    rsx! {
        li { class: "row", id: "admin-payment-{payment.id}", "data-reference": "{payment.reference}",
            div { class: "row-main",
                p { class: "strong", "{format::transaction_type(payment.kind)} · {payment.amount.display()}" }
                p { class: "muted small", "{method} · ref " code { "{payment.reference}" }
                    if let Some(phone) = payment.phone_number.as_ref() { " · {phone}" }
                    " · {format::timestamp(&payment.created_at)}"
                }
                if let Some(reason) = payment.failure_reason.as_ref() {
                    p { class: "small payment-reason", "{reason}" }
                }
            }
            span { class: status_class(payment.status), "{status_word(payment.status)}" }
        }
    }
}

/// Finds deposits and withdrawals by reference (a user's "my money didn't arrive") or status.
#[component]
pub fn PaymentsLookupCard() -> Element {
    let mut reference = use_signal(String::new);
    let mut status = use_signal(|| None::<TransactionStatus>);
    let found = use_signal(|| None::<Result<Vec<PaymentOut>, CommandError>>);
    let mut searching = use_signal(|| false);
    let search = move |evt: FormEvent| {
        evt.prevent_default();
        let text = reference.peek().trim().to_owned();
        let input = AdminPaymentsIn {
            reference: (!text.is_empty()).then_some(text),
            status: *status.peek(),
            ..AdminPaymentsIn::default()
        };
        searching.set(true);
        spawn(async move {
            let answer = ipc::admin_payments(&input).await.map(|page| page.items);
            set_if_mounted(found, Some(answer));
            set_if_mounted(searching, false);
        });
    };
    rsx! {
        section { class: "card", id: "admin-payments-card",
            h3 { "Payments" }
            p { class: "muted small", "Look up a deposit or withdrawal by its reference, or list them by status." }
            form { id: "admin-payments-form", onsubmit: search, novalidate: true,
                label { r#for: "admin-payment-reference", "Reference" }
                input { id: "admin-payment-reference", class: "mono", r#type: "text", placeholder: "From the user's SMS",
                    value: "{reference}", oninput: move |e| reference.set(e.value()) }
                label { r#for: "admin-payment-status", "Status" }
                select { id: "admin-payment-status", class: "select",
                    onchange: move |e| status.set(match e.value().as_str() {
                        "PENDING" => Some(TransactionStatus::Pending),
                        "COMPLETED" => Some(TransactionStatus::Completed),
                        "FAILED" => Some(TransactionStatus::Failed),
                        "REVERSED" => Some(TransactionStatus::Reversed),
                        _ => None,
                    }),
                    option { value: "", "Any status" }
                    for s in [TransactionStatus::Pending, TransactionStatus::Completed, TransactionStatus::Failed, TransactionStatus::Reversed] {
                        option { key: "{s.as_str()}", value: s.as_str(), {status_word(s)} }
                    }
                }
                button { class: "btn btn-primary btn-block", id: "admin-payments-search", r#type: "submit",
                    disabled: searching(), if searching() { "Searching…" } else { "Find payments" } }
            }
            match found() {
                None => rsx! {},
                Some(Err(e)) => rsx! { p { class: "note note-error", id: "admin-payments-error", "{e.message}" } },
                Some(Ok(items)) if items.is_empty() => rsx! {
                    p { class: "muted small", id: "admin-payments-empty", "No payment matches." }
                },
                Some(Ok(items)) => rsx! {
                    ul { class: "rows", id: "admin-payments-list",
                        for p in items {
                            AdminPaymentRow { key: "{p.id}", payment: p }
                        }
                    }
                },
            }
        }
    }
}
