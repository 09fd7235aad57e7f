//! Administration: users (search by phone or username, detail, role, deactivate with a recorded
//! reason), payments by reference, resolving a code by hand (picked from the review queue or a
//! seller's sales, confirmed first), and the money reconcile. Errors show where the action was
//! taken, not in the page banner.

use dioxus::prelude::*;
use oddxer_shared::Role;

use crate::state::AppState;
use crate::widgets::Empty;

use super::admin_detail::{PaymentsLookupCard, PickedCode, UserDetailCard};
use super::admin_reconcile::ReconcileCard;
use super::admin_resolve::ResolveCard;
use super::admin_users::UsersCard;

#[component]
pub fn Admin() -> Element {
    let state = use_context::<AppState>();
    if state.role() != Role::Admin {
        return rsx! {
            main { class: "page", Empty { id: "admin-forbidden", title: "Admins only", text: "This screen is for Oddxer's administrators." } }
        };
    }
    rsx! { AdminScreen {} }
}

#[component]
fn AdminScreen() -> Element {
    let mut selected = use_signal(|| None::<String>);
    let picked = use_signal(|| None::<PickedCode>);
    let resolve_id = use_signal(String::new);
    rsx! {
        main { class: "page admin", id: "admin",
            div { class: "page-head",
                div {
                    h2 { "Admin" }
                    p { class: "muted", "Users, payments, manual resolutions and the money reconcile." }
                }
            }
            div { class: "admin-grid",
                div { class: "admin-main",
                    if let Some(id) = selected() {
                        UserDetailCard { key: "{id}", id: id.clone(),
                            on_close: move |_| selected.set(None),
                            on_pick: move |code: PickedCode| {
                                let (mut picked, mut resolve_id) = (picked, resolve_id);
                                resolve_id.set(code.id.clone());
                                picked.set(Some(code));
                            },
                        }
                    }
                    UsersCard { selected }
                }
                div { class: "admin-side",
                    ResolveCard { picked, code_id: resolve_id }
                    PaymentsLookupCard {}
                    ReconcileCard {}
                }
            }
        }
    }
}
