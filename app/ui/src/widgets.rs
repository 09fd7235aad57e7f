//! Small pieces several screens share: status pills, the secret-code box, stat tiles.

use dioxus::prelude::*;
use oddxer_shared::CodeStatus;

use crate::browser;
use crate::format;

/// A code's status; `as_buyer` words it for someone who bought it.
#[component]
pub fn StatusPill(
    status: CodeStatus,
    #[props(default)] id: Option<String>,
    #[props(default)] as_buyer: bool,
) -> Element {
    let (text, class) = if as_buyer {
        format::purchase_status(status)
    } else {
        (
            format::code_status(status),
            format::code_status_class(status),
        )
    };
    rsx! {
        span { class, id, "data-status": status.as_str(), "{text}" }
    }
}

/// A revealed booking code, large and monospaced, with a copy button. `id` names the text (the
/// e2e test reads it); `{id}-copy` is the button.
#[component]
pub fn SecretCode(id: String, code: String) -> Element {
    let mut copied = use_signal(|| None::<bool>);
    let field_id = format!("{id}-field");
    let copy_id = format!("{id}-copy");
    let text = code.clone();
    let fallback = field_id.clone();
    let copy = move |_| {
        let text = text.clone();
        let fallback = fallback.clone();
        spawn(async move {
            let ok = browser::copy_text(&text, &fallback).await;
            copied.set(Some(ok));
            browser::sleep_ms(2_000).await;
            copied.set(None);
        });
    };
    rsx! {
        div { class: "secret",
            span { class: "secret-code", id: "{id}", "{code}" }
            // What the copy falls back to when the clipboard API is refused: a selectable field.
            input { class: "secret-field", id: "{field_id}", readonly: true, tabindex: "-1",
                "aria-hidden": "true", value: "{code}" }
            button { class: "btn btn-secondary btn-small", id: "{copy_id}", r#type: "button", onclick: copy,
                match copied() {
                    Some(true) => "Copied",
                    Some(false) => "Select & copy",
                    None => "Copy",
                }
            }
        }
    }
}

#[component]
pub fn Stat(
    label: String,
    value: String,
    #[props(default)] id: Option<String>,
    #[props(default)] hint: Option<String>,
) -> Element {
    rsx! {
        div { class: "stat",
            p { class: "stat-label", "{label}" }
            p { class: "stat-value", id, "{value}" }
            if let Some(hint) = hint {
                p { class: "stat-hint", "{hint}" }
            }
        }
    }
}

#[component]
pub fn Empty(title: String, text: String, #[props(default)] id: Option<String>) -> Element {
    rsx! {
        div { class: "empty", id,
            p { class: "strong", "{title}" }
            p { class: "muted", "{text}" }
        }
    }
}

#[component]
pub fn Spinner(label: String) -> Element {
    rsx! {
        div { class: "inline-loading", role: "status",
            span { class: "spinner spinner-small" }
            span { class: "muted small", "{label}" }
        }
    }
}
