//! Editing one of my listings (`PATCH /codes/{id}`), reachable from the seller's listings while
//! the code is ACTIVE with no sales: a typo in the booking code, the title, odds, price,
//! kick-off or number of buyers. Only the fields that changed are sent; every problem (the
//! form's own checks, then the server's `details.fields`) is shown beside its field.

use dioxus::prelude::*;
use oddxer_shared::api::{CodeOut, CodePatch};
use oddxer_shared::client::{CommandError, UpdateCodeIn};
use oddxer_shared::{CodeStatus, Currency, Money};

use crate::browser;
use crate::format;
use crate::ipc;
use crate::listing::{self, Draft, Problems, Rules};
use crate::state::{set_if_mounted, spawn_command, AppState, Route};
use crate::widgets::Spinner;

use super::seller_form::FieldError;

/// An amount in minor units as the person would type it ("5000" for UGX 5,000, "10.50").
fn major_text(money: &Money) -> String {
    let digits = money.currency.minor_digits();
    if digits == 0 {
        return money.amount.to_string();
    }
    let scale = 10i64.pow(digits);
    format!(
        "{}.{:0width$}",
        money.amount / scale,
        (money.amount % scale).abs(),
        width = digits as usize
    )
}

/// The form's fields as typed, starting from the listing.
#[derive(Debug, Clone, PartialEq)]
struct Typed {
    title: String,
    description: String,
    odds: String,
    price: String,
    code: String,
    expires: String,
    max_buyers: String,
}

impl Typed {
    fn of(code: &CodeOut) -> Typed {
        Typed {
            title: code.title.clone(),
            description: code.description.clone(),
            odds: format::odds(code.odds),
            price: major_text(&code.price),
            code: code.code.clone().unwrap_or_default(),
            expires: browser::time_ms(&code.expires_at)
                .map(browser::to_local_input)
                .unwrap_or_default(),
            max_buyers: code.max_buyers.to_string(),
        }
    }
}

/// What changed between the listing and the checked form: only those fields are sent.
fn patch_of(before: &Typed, now: &Typed, checked: oddxer_shared::api::CodeIn) -> CodePatch {
    CodePatch {
        title: (now.title != before.title).then_some(checked.title),
        description: (now.description != before.description).then_some(checked.description),
        odds: (now.odds != before.odds).then_some(checked.odds),
        price: (now.price != before.price).then_some(checked.price),
        code: (now.code != before.code).then_some(checked.code),
        expires_at: (now.expires != before.expires).then_some(checked.expires_at),
        max_buyers: (now.max_buyers != before.max_buyers)
            .then_some(checked.max_buyers)
            .flatten(),
        ..CodePatch::default()
    }
}

#[component]
pub fn EditCode(id: String) -> Element {
    let state = use_context::<AppState>();
    let code = use_signal(|| None::<CodeOut>);
    let load_error = use_signal(|| None::<CommandError>);
    let load_id = id.clone();
    use_hook(move || {
        state.want_options();
        spawn(async move {
            match ipc::code_detail(&load_id).await {
                Ok(c) => set_if_mounted(code, Some(c)),
                Err(e) => set_if_mounted(load_error, Some(e)),
            }
        });
    });
    let back = move |_| state.go(Route::Seller);
    let shown = code.read().clone();

    rsx! {
        main { class: "page edit-code", id: "edit-code",
            div { class: "page-head",
                div {
                    button { class: "link-plain muted small", id: "edit-back", r#type: "button", onclick: back, "← Seller dashboard" }
                    h2 { "Edit listing" }
                    p { class: "muted", "Fix a listing while nobody has bought it yet." }
                }
            }
            if let Some(error) = load_error() {
                div { class: "note note-error", id: "edit-load-error", "Couldn't open the listing. {error.message}" }
            } else if let Some(c) = shown {
                if c.status == CodeStatus::Active && c.sales_count == 0 {
                    EditForm { key: "{c.id}", code: c }
                } else {
                    div { class: "note note-offline", id: "edit-locked",
                        strong { "This listing can no longer be edited. " }
                        span { "A code is fixed once it has a sale or is no longer on sale." }
                    }
                }
            } else {
                Spinner { label: "Opening the listing…" }
            }
        }
    }
}

#[component]
fn EditForm(code: CodeOut) -> Element {
    let state = use_context::<AppState>();
    let before = Typed::of(&code);
    let mut typed = use_signal(|| before.clone());
    let mut problems = use_signal(Problems::new);
    let mut server_error = use_signal(|| None::<CommandError>);
    let busy = state.is_busy();
    let offline = state.is_offline();
    let currency: Currency = code.price.currency.clone();
    let options = state.options.read().clone();
    let bookmakers = state.bookmakers();
    let min_kickoff = browser::to_local_input(*state.now_ms.read());
    let unchanged = *typed.read() == before;

    let id = code.id.clone();
    let sport = code.sport;
    let bookmaker = code.bookmaker.clone();
    let rules_currency = currency.clone();
    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let now = typed.peek().clone();
        let draft = Draft {
            sport: Some(sport),
            title: now.title.clone(),
            description: now.description.clone(),
            odds: now.odds.clone(),
            bookmaker: bookmaker.clone(),
            price: now.price.clone(),
            code: now.code.clone(),
            expires_at: browser::local_input_to_utc(&now.expires),
            max_buyers: now.max_buyers.clone(),
        };
        let rules = Rules::new(
            &rules_currency,
            &bookmakers,
            options.as_ref(),
            browser::now_ms(),
        );
        server_error.set(None);
        let checked = match listing::validate(&draft, &rules) {
            Ok(checked) => checked,
            Err(found) => return problems.set(found),
        };
        problems.set(Problems::new());
        let input = UpdateCodeIn {
            id: id.clone(),
            patch: patch_of(&before, &now, checked),
        };
        spawn_command(async move {
            match state
                .attempt("Saving your listing", ipc::update_code(&input))
                .await
            {
                Some(Ok(_)) => state.go(Route::Seller),
                Some(Err(error)) => {
                    set_if_mounted(problems, listing::server_problems(&error));
                    set_if_mounted(server_error, Some(error));
                }
                None => {}
            }
        });
    };

    let problem = move |field: &str| problems.read().get(field).cloned();
    let t = typed.read().clone();

    rsx! {
        section { class: "card create-card", id: "edit-code-card",
            p { class: "muted small",
                "{format::sport(code.sport)} · {code.bookmaker} · listed {format::timestamp(&code.created_at)}"
            }
            form { id: "edit-code-form", onsubmit: submit, novalidate: true,
                div { class: "field",
                    label { r#for: "edit-title", "Title" }
                    input { id: "edit-title", r#type: "text", maxlength: "{listing::TITLE_MAX_CHARS}", disabled: busy,
                        value: "{t.title}", oninput: move |e| typed.write().title = e.value() }
                    FieldError { prefix: "edit", field: "title", text: problem("title") }
                }
                div { class: "field",
                    label { r#for: "edit-description", "Description (optional)" }
                    textarea { id: "edit-description", rows: "3", maxlength: "{listing::DESCRIPTION_MAX_CHARS}", disabled: busy,
                        value: "{t.description}", oninput: move |e| typed.write().description = e.value() }
                    FieldError { prefix: "edit", field: "description", text: problem("description") }
                }
                div { class: "form-grid",
                    div { class: "field",
                        label { r#for: "edit-odds", "Total odds" }
                        input { id: "edit-odds", r#type: "text", inputmode: "decimal", disabled: busy,
                            value: "{t.odds}", oninput: move |e| typed.write().odds = e.value() }
                        FieldError { prefix: "edit", field: "odds", text: problem("odds") }
                    }
                    div { class: "field",
                        label { r#for: "edit-price", "Price ({currency})" }
                        input { id: "edit-price", r#type: "text", inputmode: "decimal", disabled: busy,
                            value: "{t.price}", oninput: move |e| typed.write().price = e.value() }
                        FieldError { prefix: "edit", field: "price", text: problem("price") }
                    }
                }
                div { class: "field",
                    label { r#for: "edit-secret", "Booking code" }
                    input { id: "edit-secret", class: "mono", r#type: "text", autocomplete: "off", spellcheck: false,
                        disabled: busy, value: "{t.code}", oninput: move |e| typed.write().code = e.value() }
                    FieldError { prefix: "edit", field: "code", text: problem("code") }
                }
                div { class: "form-grid",
                    div { class: "field",
                        label { r#for: "edit-expires", "Kick-off of the first game" }
                        input { id: "edit-expires", r#type: "datetime-local", min: "{min_kickoff}", disabled: busy,
                            value: "{t.expires}", oninput: move |e| typed.write().expires = e.value() }
                        FieldError { prefix: "edit", field: "expiresAt", text: problem("expiresAt") }
                    }
                    div { class: "field",
                        label { r#for: "edit-max-buyers", "Buyers" }
                        input { id: "edit-max-buyers", r#type: "number", min: "1", step: "1", inputmode: "numeric",
                            disabled: busy, value: "{t.max_buyers}", oninput: move |e| typed.write().max_buyers = e.value() }
                        FieldError { prefix: "edit", field: "maxBuyers", text: problem("maxBuyers") }
                    }
                }
                if let Some(error) = server_error() {
                    div { class: "note note-error", id: "edit-code-note",
                        strong { "Not saved. " }
                        if problems.read().is_empty() {
                            span { "{error.message}" }
                        } else {
                            span { "Check the fields marked above." }
                        }
                    }
                }
                div { class: "form-actions",
                    button { class: "btn btn-ghost-dark", id: "edit-cancel", r#type: "button",
                        onclick: move |_| state.go(Route::Seller), "Cancel" }
                    button { class: "btn btn-primary", id: "edit-code-submit", r#type: "submit",
                        disabled: busy || offline || unchanged,
                        if offline { "Saving needs a connection" } else if busy { "Saving…" } else { "Save changes" }
                    }
                }
            }
        }
    }
}
