//! One code: its details, and buying it (confirm with price and balance, then the secret).

use dioxus::prelude::*;
use oddxer_shared::client::CommandError;
use oddxer_shared::{CodeStatus, Money};

use crate::format;
use crate::ipc;
use crate::nav::Icon;
use crate::screens::{SellerLink, SellerSummary};
use crate::state::{set_if_mounted, spawn_command, AppState, Route};
use crate::widgets::{SecretCode, Spinner, StatusPill};

#[component]
pub fn CodeDetail(id: String, from: Route) -> Element {
    let state = use_context::<AppState>();
    // Show what the list already knows at once, then the full detail from the server.
    let listed = state
        .market
        .peek()
        .items
        .iter()
        .find(|c| c.id == id)
        .cloned();
    let mut code = use_signal(move || listed);
    let mut load_error = use_signal(|| None::<CommandError>);
    let mut loading = use_signal(|| true);
    let mut confirming = use_signal(|| false);
    let mut purchase_error = use_signal(|| None::<CommandError>);
    let revealed = use_signal(|| None::<String>);

    let detail_id = id.clone();
    use_hook(move || {
        spawn(async move {
            match ipc::code_detail(&detail_id).await {
                Ok(found) => code.set(Some(found)),
                Err(e) => load_error.set(Some(e)),
            }
            loading.set(false);
        });
    });

    let back_to = from.clone();
    let back = move |_| state.go(back_to.clone());
    let back_label = crate::screens::tipster_back_label(&from);
    let here = Route::Code {
        id: id.clone(),
        from: Box::new(from.clone()),
    };

    let snapshot = state.snapshot.read();
    let me = snapshot.as_ref().and_then(|s| s.user.clone());
    let wallet = snapshot.as_ref().and_then(|s| s.wallet.clone());
    let owned = snapshot
        .as_ref()
        .and_then(|s| s.purchases.iter().find(|p| p.code_id == id).cloned());
    drop(snapshot);
    let offline = state.is_offline();
    let busy = state.is_busy();
    let now = *state.now_ms.read();

    let Some(current) = code() else {
        return rsx! {
            main { class: "page detail", id: "code-detail",
                button { class: "back", id: "detail-back", r#type: "button", onclick: back,
                    Icon { path: "M15 18l-6-6 6-6" } "{back_label}"
                }
                if loading() {
                    Spinner { label: "Loading the code…" }
                } else if let Some(error) = load_error() {
                    div { class: "note note-error", id: "detail-error",
                        strong { {error_title(&error.code)} }
                        p { "{error.message}" }
                    }
                }
            }
        };
    };

    let own_listing = me.as_ref().is_some_and(|u| u.id == current.seller_id);
    let secret = revealed()
        .or_else(|| owned.as_ref().and_then(|p| p.code.code.clone()))
        .or_else(|| current.code.clone());
    let kicked_off = crate::browser::time_ms(&current.expires_at).is_some_and(|t| t <= now);
    let buyable =
        current.status == CodeStatus::Active && !kicked_off && !own_listing && secret.is_none();
    let left = current.max_buyers - current.sales_count;
    let title = current.title.clone();
    let price = current.price.clone();
    let buy_id = current.id.clone();

    let buy = move |_| {
        let buy_id = buy_id.clone();
        spawn_command(async move {
            let Some(outcome) = state
                .attempt("Buying the code", ipc::purchase_code(&buy_id))
                .await
            else {
                return;
            };
            match outcome {
                Ok(result) => {
                    set_if_mounted(revealed, Some(result.code.clone()));
                    set_if_mounted(code, Some(result.purchase.code.clone()));
                    set_if_mounted(confirming, false);
                    state.refresh().await;
                }
                Err(error) => {
                    let stale = matches!(
                        error.code.as_str(),
                        "SOLD_OUT" | "NOT_FOR_SALE" | "CODE_EXPIRED" | "ALREADY_BOUGHT"
                    );
                    set_if_mounted(purchase_error, Some(error));
                    // The code changed under us: show its current state behind the message.
                    if stale {
                        if let Ok(fresh) = ipc::code_detail(&buy_id).await {
                            set_if_mounted(code, Some(fresh));
                        }
                        state.refresh().await;
                    }
                }
            }
        });
    };

    rsx! {
        main { class: "page detail", id: "code-detail",
            button { class: "back", id: "detail-back", r#type: "button", onclick: back,
                Icon { path: "M15 18l-6-6 6-6" } "{back_label}"
            }
            div { class: "detail-grid",
                section { class: "card detail-card",
                    div { class: "code-card-top",
                        span { class: "sport-tag", {format::sport(current.sport)} }
                        StatusPill { status: current.status, id: "detail-status" }
                    }
                    h2 { class: "detail-title", id: "detail-title", "{current.title}" }
                    p { class: "muted",
                        "by " strong { SellerLink { id: "detail-seller", seller_id: current.seller_id.clone(),
                            username: current.seller_username.clone(), from: here.clone() } }
                        " · " span { id: "detail-bookmaker", "{current.bookmaker}" }
                    }
                    div { class: "facts",
                        div { class: "fact",
                            span { class: "fact-label", "Total odds" }
                            span { class: "fact-value odds", id: "detail-odds", "{format::odds(current.odds)}" }
                        }
                        div { class: "fact",
                            span { class: "fact-label", "Price" }
                            span { class: "fact-value", id: "detail-price", "{current.price.display()}" }
                        }
                        div { class: "fact",
                            span { class: "fact-label", "Kick-off" }
                            span { class: "fact-value", id: "detail-kickoff", "{format::timestamp(&current.expires_at)}" }
                            span { class: "muted small", {format::kickoff(&current.expires_at, now)} }
                        }
                        div { class: "fact",
                            span { class: "fact-label", if current.max_buyers > 1 { "Spots left" } else { "Listing" } }
                            span { class: "fact-value", id: "detail-spots",
                                if current.max_buyers > 1 { "{left} of {current.max_buyers}" } else { "Exclusive" }
                            }
                        }
                    }
                    if !current.description.is_empty() {
                        div { class: "description", id: "detail-description",
                            h3 { "About this code" }
                            p { "{current.description}" }
                        }
                    }
                    if current.total_votes > 0 || current.outcome.is_some() {
                        p { class: "muted small", id: "detail-votes",
                            "Buyers' votes: {current.win_votes} won · {current.loss_votes} lost"
                            if let Some(outcome) = current.outcome {
                                " · Result: {format::outcome(outcome)}"
                            }
                        }
                    }
                }
                aside { class: "card buy-card", id: "buy-card",
                    if let Some(secret) = secret {
                        div { id: "revealed-panel",
                            p { class: "label", "Your booking code" }
                            SecretCode { id: "revealed-code", code: secret }
                            p { class: "muted small",
                                "Enter it on {current.bookmaker} before kick-off. It's saved in "
                                button { class: "link", id: "go-my-codes", r#type: "button",
                                    onclick: move |_| state.go(Route::MyCodes), "My codes" }
                                ", readable offline too."
                            }
                        }
                    } else if own_listing {
                        p { class: "strong", "This is your listing" }
                        p { class: "muted small", "Buyers see the booking code once they've paid." }
                    } else {
                        SellerSummary { seller_id: current.seller_id.clone(), here: here.clone() }
                        p { class: "buy-price", "{current.price.display()}" }
                        if let Some(w) = wallet.as_ref() {
                            p { class: "muted small", id: "buy-balance", "Wallet: {w.balance.display()}" }
                        }
                        button { class: "btn btn-primary btn-block", id: "buy-button", r#type: "button",
                            disabled: !buyable || offline || busy,
                            onclick: move |_| { purchase_error.set(None); confirming.set(true) },
                            if offline { "Buying needs a connection" }
                            else if current.status == CodeStatus::SoldOut { "Sold out" }
                            else if !buyable { "No longer for sale" }
                            else { "Buy code" }
                        }
                        p { class: "muted small center", "Paid from your wallet. The price is held until the result is in." }
                    }
                }
            }
            if confirming() {
                ConfirmPurchase {
                    title,
                    price,
                    balance: wallet.as_ref().map(|w| w.balance.clone()),
                    error: purchase_error(),
                    on_confirm: buy,
                    on_cancel: move |_| confirming.set(false),
                }
            }
        }
    }
}

#[component]
fn ConfirmPurchase(
    title: String,
    price: Money,
    balance: Option<Money>,
    error: Option<CommandError>,
    on_confirm: EventHandler<()>,
    on_cancel: EventHandler<()>,
) -> Element {
    let state = use_context::<AppState>();
    let busy = state.is_busy();
    let short = balance.as_ref().is_some_and(|b| b.amount < price.amount);
    let after = balance
        .as_ref()
        .map(|b| Money::new(b.amount - price.amount, &b.currency));
    rsx! {
        div { class: "overlay", id: "confirm-overlay",
            div { class: "dialog card", id: "confirm-dialog", role: "dialog", aria_modal: "true",
                aria_labelledby: "confirm-title",
                h3 { id: "confirm-title", "Buy this code?" }
                p { class: "muted", "{title}" }
                dl { class: "summary",
                    dt { "Price" }
                    dd { id: "confirm-price", "{price.display()}" }
                    dt { "Wallet balance" }
                    dd { id: "confirm-balance", {balance.as_ref().map(|b| b.display()).unwrap_or_else(|| "—".to_owned())} }
                    if let Some(after) = after.as_ref().filter(|_| !short) {
                        dt { "After buying" }
                        dd { id: "confirm-after", "{after.display()}" }
                    }
                }
                if short {
                    div { class: "note note-warn", id: "confirm-short",
                        "Your wallet doesn't cover this price. "
                        button { class: "link", id: "confirm-topup", r#type: "button",
                            onclick: move |_| state.go(Route::Wallet), "Add money to your wallet" }
                    }
                }
                if let Some(error) = error {
                    PurchaseError { error }
                }
                if busy {
                    Spinner { label: "Paying from your wallet…" }
                }
                div { class: "form-actions",
                    button { class: "btn btn-ghost-dark", id: "cancel-buy", r#type: "button", disabled: busy,
                        onclick: move |_| on_cancel.call(()), "Not now" }
                    button { class: "btn btn-primary", id: "confirm-buy", r#type: "button", disabled: busy || short,
                        onclick: move |_| on_confirm.call(()),
                        if busy { "Buying…" } else { "Pay {price.display()}" }
                    }
                }
            }
        }
    }
}

/// A refused purchase, said plainly, with the way out where there is one.
#[component]
fn PurchaseError(error: CommandError) -> Element {
    let state = use_context::<AppState>();
    rsx! {
        div { class: "note note-error", id: "purchase-error", "data-code": "{error.code}",
            strong { {error_title(&error.code)} }
            p { {purchase_error_text(&error)} }
            match error.code.as_str() {
                "INSUFFICIENT_FUNDS" => rsx! {
                    button { class: "link", id: "purchase-error-wallet", r#type: "button",
                        onclick: move |_| state.go(Route::Wallet), "Top up your wallet" }
                },
                "ALREADY_BOUGHT" => rsx! {
                    button { class: "link", id: "purchase-error-my-codes", r#type: "button",
                        onclick: move |_| state.go(Route::MyCodes), "Open My codes" }
                },
                _ => rsx! {},
            }
        }
    }
}

fn error_title(code: &str) -> &'static str {
    match code {
        "INSUFFICIENT_FUNDS" => "Not enough money in your wallet",
        "SOLD_OUT" => "Sold out",
        "ALREADY_BOUGHT" => "You already own this code",
        "CODE_EXPIRED" => "Kick-off has passed",
        "NOT_FOR_SALE" => "No longer for sale",
        "OWN_CODE" => "That's your own code",
        "OFFLINE" => "You're offline",
        "NOT_FOUND" => "This code doesn't exist",
        _ => "The purchase didn't go through",
    }
}

fn purchase_error_text(error: &CommandError) -> String {
    match error.code.as_str() {
        "INSUFFICIENT_FUNDS" => {
            "Add money with mobile money, then buy again. Nothing was taken.".to_owned()
        }
        "SOLD_OUT" => {
            "Every spot on this code was taken just now. Nothing was taken from your wallet."
                .to_owned()
        }
        "ALREADY_BOUGHT" => "It's in My codes with its booking code.".to_owned(),
        "CODE_EXPIRED" => {
            "Codes stop selling when the first game kicks off. Nothing was taken.".to_owned()
        }
        "OWN_CODE" => "Sellers can't buy their own listings.".to_owned(),
        "OFFLINE" => "Purchases need a connection. Try again when you're back online.".to_owned(),
        _ => error.message.clone(),
    }
}
