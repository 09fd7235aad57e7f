//! Admin resolution panel: the review queue and resolving a code by hand (picked from the queue or
//! a seller's sales, confirmed first, with a recorded reason).

use dioxus::prelude::*;
use oddxer_shared::api::{CodeOut, ResolutionOut};
use oddxer_shared::client::{AdminResolveIn, CommandError};
use oddxer_shared::Outcome;

use crate::ipc;
use crate::state::{set_if_mounted, spawn_command, AppState};
use crate::widgets::Spinner;

use super::admin_detail::PickedCode;

/// What VOID, WON and LOST do to the money, said before the admin confirms.
fn outcome_effect(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Void => "Every buyer is refunded in full.",
        Outcome::Won | Outcome::Lost => "The seller is paid the price minus the platform fee.",
    }
}

#[component]
pub fn ResolveCard(picked: Signal<Option<PickedCode>>, code_id: Signal<String>) -> Element {
    let state = use_context::<AppState>();
    let mut code_id = code_id;
    let mut outcome = use_signal(|| Outcome::Void);
    let mut reason = use_signal(String::new);
    let mut hint = use_signal(|| None::<String>);
    let mut confirming = use_signal(|| false);
    let mut failed = use_signal(|| None::<CommandError>);
    let mut done = use_signal(|| None::<ResolutionOut>);
    let mut queue = use_signal(|| None::<Result<Vec<CodeOut>, CommandError>>);
    use_hook(move || {
        spawn(async move {
            let answer = ipc::admin_review_queue(None).await.map(|page| page.items);
            queue.set(Some(answer));
        });
    });
    let busy = state.is_busy();
    // A code picked elsewhere (a seller's sales in the user detail) lands here.
    let chosen = picked.read().clone();
    let mut pick = move |code: PickedCode| {
        code_id.set(code.id.clone());
        picked.set(Some(code));
        confirming.set(false);
        hint.set(None);
        failed.set(None);
    };

    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let id = code_id.peek().trim().to_lowercase();
        let id = if id.is_empty() {
            picked
                .peek()
                .as_ref()
                .map(|p| p.id.clone())
                .unwrap_or_default()
        } else {
            id
        };
        if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return hint.set(Some("Pick a code from the review queue or a seller's sales (or enter its 24-character id).".to_owned()));
        }
        let why = reason.peek().trim().to_owned();
        if why.is_empty() {
            return hint.set(Some(
                "Say why: the reason is recorded with the decision.".to_owned(),
            ));
        }
        hint.set(None);
        done.set(None);
        failed.set(None);
        if !*confirming.peek() {
            code_id.set(id);
            return confirming.set(true);
        }
        let input = AdminResolveIn {
            id,
            outcome: *outcome.peek(),
            reason: Some(why),
        };
        spawn_command(async move {
            match state
                .attempt("Resolving the code", ipc::admin_resolve(&input))
                .await
            {
                Some(Ok(resolution)) => {
                    if let Ok(mut q) = queue.try_write() {
                        if let Some(Ok(items)) = q.as_mut() {
                            items.retain(|c| c.id != resolution.code_id);
                        }
                    };
                    set_if_mounted(done, Some(resolution));
                    set_if_mounted(code_id, String::new());
                    set_if_mounted(reason, String::new());
                    set_if_mounted(confirming, false);
                }
                Some(Err(error)) => {
                    set_if_mounted(failed, Some(error));
                    set_if_mounted(confirming, false);
                }
                None => {}
            }
        });
    };
    let chosen_title = chosen
        .as_ref()
        .filter(|p| p.id == code_id.read().trim().to_lowercase())
        .map(|p| p.title.clone());

    rsx! {
        section { class: "card", id: "resolve-card",
            h3 { "Resolve a code" }
            p { class: "muted small", "Decide a code under review (a tie or no votes), or void a fraudulent one. Pick it below or from a seller's sales in a user's detail." }
            match queue() {
                None => rsx! { Spinner { label: "Loading the review queue…" } },
                Some(Err(e)) => rsx! { p { class: "note note-error", id: "review-error", "{e.message}" } },
                Some(Ok(items)) if items.is_empty() => rsx! {
                    p { class: "muted small", id: "review-empty", "No codes are waiting for review." }
                },
                Some(Ok(items)) => rsx! {
                    ul { class: "rows", id: "review-queue",
                        for code in items {
                            ReviewRow { key: "{code.id}", code: code.clone(), on_pick: move |c: PickedCode| pick(c) }
                        }
                    }
                },
            }
            form { id: "resolve-form", onsubmit: submit, novalidate: true,
                if let Some(title) = chosen_title.as_ref() {
                    p { class: "picked", id: "resolve-picked", "Code: " strong { "{title}" } }
                }
                label { r#for: "resolve-code-id", "Code id" }
                input { id: "resolve-code-id", class: "mono", r#type: "text", placeholder: "Picked above, or a 24-character id", disabled: busy,
                    value: "{code_id}", oninput: move |e| { code_id.set(e.value()); confirming.set(false) } }
                span { class: "label", "Outcome" }
                div { class: "segmented seg-3", role: "radiogroup",
                    for (o, id) in [(Outcome::Won, "resolve-won"), (Outcome::Lost, "resolve-lost"), (Outcome::Void, "resolve-void")] {
                        button { key: "{id}", r#type: "button", id: id,
                            class: if outcome() == o { "seg active" } else { "seg" },
                            aria_checked: outcome() == o,
                            onclick: move |_| { outcome.set(o); confirming.set(false) },
                            {o.as_str()}
                        }
                    }
                }
                label { r#for: "resolve-reason", "Reason (recorded)" }
                input { id: "resolve-reason", r#type: "text", maxlength: "500", disabled: busy,
                    placeholder: "e.g. the booking code does not exist at the bookmaker",
                    value: "{reason}", oninput: move |e| reason.set(e.value()) }
                if let Some(text) = hint() {
                    p { class: "field-error", id: "resolve-hint", "{text}" }
                }
                if let Some(e) = failed() {
                    p { class: "note note-error", id: "resolve-error", strong { "Not resolved. " } "{e.message}" }
                }
                if let Some(r) = done() {
                    p { class: "note note-ok", id: "resolve-result",
                        "Code {r.code_id} resolved {r.outcome.as_str()} ({r.win_votes} win / {r.loss_votes} loss votes)." }
                }
                if confirming() {
                    div { class: "confirm-box", id: "resolve-confirm",
                        p { class: "small",
                            strong { "Resolve {chosen_title.clone().unwrap_or_else(|| code_id.read().clone())} as {outcome().as_str()}? " }
                            {outcome_effect(outcome())}
                            " This cannot be undone."
                        }
                        div { class: "inline-actions",
                            button { class: "btn btn-danger btn-small", id: "resolve-confirm-yes", r#type: "submit", disabled: busy,
                                "Yes, resolve" }
                            button { class: "btn btn-ghost-dark btn-small", id: "resolve-confirm-no", r#type: "button",
                                onclick: move |_| confirming.set(false), "Not now" }
                        }
                    }
                } else {
                    button { class: "btn btn-primary btn-block", id: "resolve-submit", r#type: "submit", disabled: busy,
                        "Resolve…"
                    }
                }
            }
        }
    }
}

#[component]
fn ReviewRow(code: CodeOut, on_pick: EventHandler<PickedCode>) -> Element {
    let picked = PickedCode {
        id: code.id.clone(),
        title: code.title.clone(),
    };
    rsx! {
        li { class: "row", id: "review-{code.id}",
            div { class: "row-main",
                p { class: "strong", "{code.title}" }
                p { class: "muted small", "@{code.seller_username} · {code.win_votes} win / {code.loss_votes} loss · {code.sales_count} buyer(s)" }
            }
            button { class: "btn btn-secondary btn-small", id: "review-pick-{code.id}", r#type: "button",
                onclick: move |_| on_pick.call(picked.clone()), "Pick" }
        }
    }
}
