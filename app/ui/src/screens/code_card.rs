//! One code on sale as a card: sport, kick-off, title, tipster, odds, price and places left, and
//! a "Bought" mark on codes already bought.

use dioxus::prelude::*;
use oddxer_shared::api::CodeOut;

use crate::format;
use crate::nav::Icon;
use crate::screens::SellerLink;
use crate::state::{AppState, Route};

#[component]
pub fn CodeCard(code: CodeOut, now: f64, #[props(default)] bought: bool) -> Element {
    let state = use_context::<AppState>();
    let id = code.id.clone();
    let open = move |_| {
        state.go(Route::Code {
            id: id.clone(),
            from: Box::new(Route::Marketplace),
        })
    };
    let left = code.max_buyers - code.sales_count;
    rsx! {
        article { class: "code-card", id: "code-card-{code.id}", role: "button", tabindex: "0",
            onclick: open,
            div { class: "code-card-top",
                span { class: "sport-tag", {format::sport(code.sport)} }
                if bought {
                    span { class: "bought-tag", id: "bought-{code.id}", title: "You bought this code: it's in My codes", "✓ Bought" }
                }
                span { class: "kickoff", title: "{format::timestamp(&code.expires_at)}",
                    Icon { path: "M12 7v5l3 2M12 21a9 9 0 110-18 9 9 0 010 18z" }
                    {format::kickoff(&code.expires_at, now)}
                }
            }
            h3 { class: "code-title", "{code.title}" }
            p { class: "code-meta muted small",
                "by " SellerLink { seller_id: code.seller_id.clone(), username: code.seller_username.clone(), from: Route::Marketplace }
                " · {code.bookmaker}"
            }
            div { class: "code-card-bottom",
                div { class: "odds-block",
                    span { class: "odds-label", "Odds" }
                    span { class: "odds", "{format::odds(code.odds)}" }
                }
                div { class: "price-block",
                    span { class: "price", "{code.price.display()}" }
                    if code.max_buyers > 1 {
                        span { class: "muted small places-left", id: "places-left-{code.id}", "{left} of {code.max_buyers} left" }
                    } else {
                        span { class: "muted small", "Exclusive" }
                    }
                }
            }
        }
    }
}
