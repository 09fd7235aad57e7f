//! The "list a code" form, checked field by field before it is sent (see `listing.rs`).

use dioxus::prelude::*;
use oddxer_shared::api::CodeOut;
use oddxer_shared::client::CommandError;
use oddxer_shared::Sport;

use crate::browser;
use crate::format;
use crate::ipc;
use crate::listing::{self, Draft, Problems, Rules};
use crate::state::{set_if_mounted, spawn_command, AppState};

/// The kick-off the form starts with: three hours from now, on the hour.
fn default_kickoff() -> String {
    let hour = 3_600_000.0;
    browser::to_local_input(((browser::now_ms() / hour).floor() + 3.0) * hour)
}

#[component]
pub fn CreateCodeForm(on_created: EventHandler<CodeOut>) -> Element {
    let state = use_context::<AppState>();
    let mut sport = use_signal(|| None::<Sport>);
    let mut title = use_signal(String::new);
    let mut description = use_signal(String::new);
    let mut odds = use_signal(String::new);
    let mut bookmaker = use_signal(String::new);
    let mut price = use_signal(String::new);
    let mut secret = use_signal(String::new);
    let mut expires = use_signal(default_kickoff);
    let mut max_buyers = use_signal(|| "1".to_owned());
    let mut problems = use_signal(Problems::new);
    let mut server_error = use_signal(|| None::<CommandError>);
    let mut created = use_signal(|| None::<CodeOut>);

    let currency = state.currency();
    let bookmakers = state.bookmakers();
    let options = state.options.read().clone();
    let busy = state.is_busy();
    let offline = state.is_offline();
    let min_kickoff = browser::to_local_input(*state.now_ms.read());

    let rules_currency = currency.clone();
    let rules_bookmakers = bookmakers.clone();
    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let draft = Draft {
            sport: *sport.peek(),
            title: title.peek().clone(),
            description: description.peek().clone(),
            odds: odds.peek().clone(),
            bookmaker: bookmaker.peek().clone(),
            price: price.peek().clone(),
            code: secret.peek().clone(),
            expires_at: browser::local_input_to_utc(&expires.peek()),
            max_buyers: max_buyers.peek().clone(),
        };
        let rules = Rules::new(
            &rules_currency,
            &rules_bookmakers,
            options.as_ref(),
            browser::now_ms(),
        );
        server_error.set(None);
        created.set(None);
        let input = match listing::validate(&draft, &rules) {
            Ok(input) => input,
            Err(found) => return problems.set(found),
        };
        problems.set(Problems::new());
        spawn_command(async move {
            match state
                .attempt("Listing your code", ipc::create_code(&input))
                .await
            {
                Some(Ok(code)) => {
                    // Gone by now (another screen opened): the listing shows next time anyway.
                    let Ok(mut slot) = created.try_write() else {
                        return;
                    };
                    *slot = Some(code.clone());
                    drop(slot);
                    for field in [title, description, odds, price, secret] {
                        set_if_mounted(field, String::new());
                    }
                    set_if_mounted(expires, default_kickoff());
                    on_created.call(code);
                }
                Some(Err(error)) => {
                    // The server's field messages go beside their fields, like the form's own.
                    set_if_mounted(problems, listing::server_problems(&error));
                    set_if_mounted(server_error, Some(error));
                }
                None => {}
            }
        });
    };

    let problem = move |field: &str| problems.read().get(field).cloned();
    let title_len = title.read().trim().chars().count();
    let description_len = description.read().trim().chars().count();

    rsx! {
        section { class: "card create-card", id: "create-code-card",
            h3 { "List a new code" }
            p { class: "muted small", "Buyers see everything but the booking code until they pay." }
            form { id: "create-code-form", onsubmit: submit, novalidate: true,
                div { class: "form-grid",
                    div { class: "field",
                        label { r#for: "code-sport", "Sport" }
                        select { id: "code-sport", class: "select", disabled: busy,
                            onchange: move |e| sport.set(Sport::parse(&e.value())),
                            option { value: "", selected: sport.read().is_none(), "Choose a sport" }
                            for s in Sport::ALL {
                                option { key: "{s.as_str()}", value: s.as_str(), selected: *sport.read() == Some(s), {format::sport(s)} }
                            }
                        }
                        FieldError { prefix: "code", field: "sport", text: problem("sport") }
                    }
                    div { class: "field",
                        label { r#for: "code-bookmaker", "Bookmaker" }
                        select { id: "code-bookmaker", class: "select", disabled: busy,
                            onchange: move |e| bookmaker.set(e.value()),
                            option { value: "", selected: bookmaker.read().is_empty(), "Choose a bookmaker" }
                            for b in bookmakers {
                                option { key: "{b}", value: "{b}", selected: *bookmaker.read() == b, "{b}" }
                            }
                        }
                        FieldError { prefix: "code", field: "bookmaker", text: problem("bookmaker") }
                    }
                }
                div { class: "field",
                    label { r#for: "code-title", "Title" span { class: "counter", "{title_len}/{listing::TITLE_MAX_CHARS}" } }
                    input { id: "code-title", r#type: "text", maxlength: "{listing::TITLE_MAX_CHARS}", disabled: busy,
                        placeholder: "Saturday home wins, 5 games", value: "{title}",
                        oninput: move |e| title.set(e.value()) }
                    FieldError { prefix: "code", field: "title", text: problem("title") }
                }
                div { class: "field",
                    label { r#for: "code-description", "Description (optional)"
                        span { class: "counter", "{description_len}/{listing::DESCRIPTION_MAX_CHARS}" } }
                    textarea { id: "code-description", rows: "3", maxlength: "{listing::DESCRIPTION_MAX_CHARS}", disabled: busy,
                        placeholder: "The games, the markets, why you like them.", value: "{description}",
                        oninput: move |e| description.set(e.value()) }
                    FieldError { prefix: "code", field: "description", text: problem("description") }
                }
                div { class: "form-grid",
                    div { class: "field",
                        label { r#for: "code-odds", "Total odds" }
                        input { id: "code-odds", r#type: "text", inputmode: "decimal", disabled: busy,
                            placeholder: "4.35", value: "{odds}", oninput: move |e| odds.set(e.value()) }
                        FieldError { prefix: "code", field: "odds", text: problem("odds") }
                    }
                    div { class: "field",
                        label { r#for: "code-price", "Price ({currency})" }
                        input { id: "code-price", r#type: "text", inputmode: "decimal", disabled: busy,
                            placeholder: "5,000", value: "{price}", oninput: move |e| price.set(e.value()) }
                        FieldError { prefix: "code", field: "price", text: problem("price") }
                    }
                }
                div { class: "field",
                    label { r#for: "code-secret", "Booking code" }
                    input { id: "code-secret", class: "mono", r#type: "text", autocomplete: "off", spellcheck: false,
                        disabled: busy, placeholder: "e.g. BC7X2QK", value: "{secret}",
                        oninput: move |e| secret.set(e.value()) }
                    FieldError { prefix: "code", field: "code", text: problem("code") }
                }
                div { class: "form-grid",
                    div { class: "field",
                        label { r#for: "code-expires", "Kick-off of the first game" }
                        input { id: "code-expires", r#type: "datetime-local", min: "{min_kickoff}", disabled: busy,
                            value: "{expires}", oninput: move |e| expires.set(e.value()) }
                        FieldError { prefix: "code", field: "expiresAt", text: problem("expiresAt") }
                    }
                    div { class: "field",
                        label { r#for: "code-max-buyers", "Buyers" }
                        input { id: "code-max-buyers", r#type: "number", min: "1", step: "1", inputmode: "numeric",
                            disabled: busy, value: "{max_buyers}", oninput: move |e| max_buyers.set(e.value()) }
                        p { class: "muted small", "1 = exclusive; more sells it several times." }
                        FieldError { prefix: "code", field: "maxBuyers", text: problem("maxBuyers") }
                    }
                }
                if let Some(error) = server_error() {
                    div { class: "note note-error", id: "create-code-error",
                        strong { "The code wasn't listed. " }
                        if problems.read().is_empty() {
                            span { "{error.message}" }
                        } else {
                            span { "Check the fields marked above." }
                        }
                    }
                }
                if let Some(code) = created() {
                    div { class: "note note-ok", id: "create-code-success",
                        strong { "Listed: {code.title}" }
                        p { class: "small", "It's on sale now for {code.price.display()} until kick-off." }
                    }
                }
                button { class: "btn btn-primary btn-block", id: "create-code-submit", r#type: "submit",
                    disabled: busy || offline,
                    if offline { "Listing needs a connection" } else if busy { "Working…" } else { "List code" }
                }
            }
        }
    }
}

#[component]
/// The server's or the form's message under a listing field. Its id is named after the input
/// (`{prefix}-secret-error`, `{prefix}-expires-error`, ...): `code` on the create form, `edit` on
/// the edit screen.
pub(crate) fn FieldError(
    prefix: &'static str,
    field: &'static str,
    text: Option<String>,
) -> Element {
    let name = match field {
        "expiresAt" => "expires",
        "maxBuyers" => "max-buyers",
        "code" => "secret",
        other => other,
    };
    let id = format!("{prefix}-{name}-error");
    rsx! {
        if let Some(text) = text {
            p { class: "field-error", id: "{id}", "{text}" }
        }
    }
}
