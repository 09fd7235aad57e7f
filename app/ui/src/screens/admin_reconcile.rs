//! Admin reconcile panel: runs the money invariants over the ledger (read-only) and shows the report.

use dioxus::prelude::*;
use oddxer_shared::api::ReconcileReport;

use crate::format;
use crate::ipc;
use crate::state::{set_if_mounted, spawn_command, AppState};

#[component]
pub fn ReconcileCard() -> Element {
    let state = use_context::<AppState>();
    let report = use_signal(|| None::<ReconcileReport>);
    let busy = state.is_busy();
    let run = move |_| {
        spawn_command(async move {
            if let Some(r) = state
                .run("Reconciling the ledger", ipc::admin_reconcile())
                .await
            {
                set_if_mounted(report, Some(r));
            }
        });
    };
    rsx! {
        section { class: "card", id: "reconcile-card",
            div { class: "card-head",
                h3 { "Reconcile" }
                button { class: "btn btn-secondary btn-small", id: "reconcile-run", r#type: "button", disabled: busy,
                    onclick: run, if busy { "Running…" } else { "Run checks" } }
            }
            p { class: "muted small", "Checks every money invariant over the ledger. Read-only." }
            if let Some(r) = report() {
                div { id: "reconcile-report", class: "reconcile",
                    if r.ok {
                        p { class: "note note-ok", id: "reconcile-ok", strong { "All invariants hold." } }
                    } else {
                        p { class: "note note-error", id: "reconcile-failed",
                            strong { "{r.violations.len()} violation(s) found." } }
                    }
                    dl { class: "summary",
                        dt { "Accounts" } dd { {format::count(r.accounts as i64)} }
                        dt { "Entries" } dd { {format::count(r.entries as i64)} }
                        dt { "Transfers" } dd { {format::count(r.transfers as i64)} }
                        dt { "In flight" } dd { {format::count(r.in_flight as i64)} }
                        dt { "Entries sum" } dd { {format::count(r.entries_sum)} }
                    }
                    if !r.violations.is_empty() {
                        ul { class: "rows", id: "reconcile-violations",
                            for (i, v) in r.violations.iter().enumerate() {
                                li { key: "{i}", class: "row violation",
                                    div { class: "row-main",
                                        p { class: "strong mono small", "{v.invariant}" }
                                        p { class: "small", "{v.detail}" }
                                        p { class: "muted small mono", "{v.subject}" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
