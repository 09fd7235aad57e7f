//! The tipsters I follow (`GET /me/following`; offline, the list kept on the device), each
//! opening its profile.

use dioxus::prelude::*;
use oddxer_shared::api::FollowedSellerOut;
use oddxer_shared::client::CommandError;

use crate::format;
use crate::ipc;
use crate::state::{AppState, Route};
use crate::widgets::{Empty, Spinner};

#[component]
pub fn Following() -> Element {
    let state = use_context::<AppState>();
    let mut list = use_signal(|| None::<Result<Vec<FollowedSellerOut>, CommandError>>);
    use_hook(move || {
        spawn(async move {
            list.set(Some(ipc::my_following().await));
        });
    });
    let offline = state.is_offline();
    rsx! {
        main { class: "page following", id: "following",
            div { class: "page-head",
                div {
                    h2 { "Following" }
                    p { class: "muted", "Tipsters whose new codes you're told about." }
                }
            }
            if offline {
                div { class: "note note-offline", id: "following-offline",
                    strong { "Offline" } span { " — the list as last seen on this device." }
                }
            }
            match list() {
                None => rsx! { Spinner { label: "Loading who you follow…" } },
                Some(Err(e)) => rsx! {
                    div { class: "note note-error", id: "following-error", "{e.message}" }
                },
                Some(Ok(items)) if items.is_empty() => rsx! {
                    Empty { id: "following-empty", title: "You don't follow anyone yet",
                        text: "Open a tipster from a code or the leaderboard and press Follow." }
                },
                Some(Ok(items)) => rsx! {
                    ul { class: "card rows", id: "following-list",
                        for f in items {
                            li { key: "{f.seller_id}", class: "row", id: "following-{f.seller_id}",
                                role: "button", tabindex: "0",
                                onclick: {
                                    let id = f.seller_id.clone();
                                    move |_| state.go(Route::Tipster { id: id.clone(), from: Box::new(Route::Following) })
                                },
                                div { class: "row-main",
                                    p { class: "strong", "@{f.username}" }
                                    p { class: "muted small", "Following since {format::timestamp(&f.followed_at)}" }
                                }
                                span { class: "muted", "›" }
                            }
                        }
                    }
                },
            }
        }
    }
}
