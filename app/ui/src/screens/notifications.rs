//! The in-app notifications (kept by the core in SQLite, so they survive a restart): a followed
//! tipster's new code, a sale, a result, a payment. Opening one marks it read and goes to what it
//! is about; "Mark all read" clears the bell's badge.

use dioxus::prelude::*;
use oddxer_shared::client::{NotificationKind, NotificationOut};

use crate::format;
use crate::ipc;
use crate::nav::Icon;
use crate::state::{spawn_command, AppState, Route};
use crate::widgets::Empty;

fn icon(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::NewCode => "M12 5v14M5 12h14",
        NotificationKind::Sale => "M3 9l1.5-5h15L21 9M3 9h18M4 9v11h16V9",
        NotificationKind::Result => "M5 13l4 4L19 7",
        NotificationKind::Payment => "M3 8h16a2 2 0 012 2v8a2 2 0 01-2 2H5a2 2 0 01-2-2V8z",
    }
}

#[component]
pub fn Notifications(from: Route) -> Element {
    let state = use_context::<AppState>();
    let (items, unread) = state
        .snapshot
        .read()
        .as_ref()
        .map(|s| (s.notifications.clone(), s.unread_notifications))
        .unwrap_or_default();
    let back = from.clone();
    let mark_all = move |_| {
        spawn_command(async move {
            if let Err(e) = ipc::mark_notifications_read(None).await {
                state.show_error(e);
            }
        });
    };
    rsx! {
        main { class: "page notifications", id: "notifications",
            button { class: "btn btn-ghost-dark btn-small back", id: "notifications-back", r#type: "button",
                onclick: move |_| state.go(back.clone()),
                "← {super::tipster_back_label(&from)}"
            }
            div { class: "page-head",
                div {
                    h2 { "Notifications" }
                    p { class: "muted", id: "notifications-summary",
                        match unread {
                            0 => "You're all caught up.".to_owned(),
                            1 => "1 unread.".to_owned(),
                            n => format!("{n} unread."),
                        }
                    }
                }
                button { class: "btn btn-secondary btn-small", id: "notifications-read-all", r#type: "button",
                    disabled: unread == 0, onclick: mark_all, "Mark all read" }
            }
            if items.is_empty() {
                Empty { id: "notifications-empty", title: "Nothing yet",
                    text: "New codes from tipsters you follow, your sales, results and payments show up here." }
            }
            ul { class: "card rows notification-list", id: "notification-list",
                for n in items {
                    NotificationRow { key: "{n.id}", n }
                }
            }
        }
    }
}

#[component]
fn NotificationRow(n: NotificationOut) -> Element {
    let state = use_context::<AppState>();
    let id = n.id.clone();
    let code_id = n.code_id.clone();
    let seller_id = n.seller_id.clone();
    let open = move |_| {
        let id = id.clone();
        spawn_command(async move {
            // Best effort: the list shows it read at the next snapshot either way.
            let _ = ipc::mark_notifications_read(Some(id)).await;
        });
        let here = Box::new(Route::Notifications {
            from: Box::new(Route::Marketplace),
        });
        if let Some(code) = code_id.clone() {
            state.go(Route::Code {
                id: code,
                from: here,
            });
        } else if let Some(seller) = seller_id.clone() {
            state.go(Route::Tipster {
                id: seller,
                from: here,
            });
        } else {
            state.go(Route::Wallet);
        }
    };
    let dom_id = format!("notification-{}", n.id.replace(':', "-"));
    rsx! {
        li { class: if n.read { "row notification" } else { "row notification unread" }, id: "{dom_id}",
            role: "button", tabindex: "0", onclick: open,
            span { class: "notification-icon", Icon { path: icon(n.kind) } }
            div { class: "row-main",
                p { class: "strong notification-title", "{n.title}" }
                p { class: "muted small notification-body", "{n.body}" }
            }
            div { class: "row-side",
                span { class: "muted small", {format::timestamp(&n.created_at)} }
                if !n.read {
                    span { class: "unread-dot", aria_label: "unread" }
                }
            }
        }
    }
}
