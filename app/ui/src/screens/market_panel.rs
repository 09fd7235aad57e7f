//! The marketplace's filter panel: bookmaker, tipster, odds and price ranges and the tipster's
//! record floors (win rate, yield), checked before they are applied.

use dioxus::prelude::*;

use crate::state::AppState;

use super::market_filters::Filters;
use super::market_load::apply;

#[component]
pub fn FilterPanel(filters: Filters, on_close: EventHandler<()>) -> Element {
    let state = use_context::<AppState>();
    let currency = state.currency();
    let bookmakers = state.bookmakers();
    let mut bookmaker = use_signal(|| filters.bookmaker.clone().unwrap_or_default());
    // Tipsters to pick from: the current one and those of the loaded codes.
    let tipsters: Vec<(String, String)> = {
        let mut seen: Vec<(String, String)> = filters.seller.iter().cloned().collect();
        for c in state.market.peek().items.iter() {
            if !seen.iter().any(|(id, _)| *id == c.seller_id) {
                seen.push((c.seller_id.clone(), c.seller_username.clone()));
            }
        }
        seen.sort_by_key(|a| a.1.to_lowercase());
        seen
    };
    let mut seller = use_signal(|| {
        filters
            .seller
            .as_ref()
            .map(|(id, _)| id.clone())
            .unwrap_or_default()
    });
    let pick_tipsters = tipsters.clone();
    let mut min_odds = use_signal(|| filters.min_odds.clone());
    let mut max_odds = use_signal(|| filters.max_odds.clone());
    let mut min_price = use_signal(|| filters.min_price.clone());
    let mut max_price = use_signal(|| filters.max_price.clone());
    let mut min_win_rate = use_signal(|| filters.min_win_rate.clone());
    let mut min_yield = use_signal(|| filters.min_yield.clone());
    let mut hint = use_signal(|| None::<String>);
    let base = filters.clone();
    let check_currency = currency.clone();

    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let chosen = bookmaker.peek().clone();
        let chosen_seller = seller.peek().clone();
        let next = Filters {
            bookmaker: (!chosen.is_empty()).then_some(chosen),
            seller: pick_tipsters
                .iter()
                .find(|(id, _)| *id == chosen_seller)
                .cloned(),
            min_odds: min_odds.peek().clone(),
            max_odds: max_odds.peek().clone(),
            min_price: min_price.peek().clone(),
            max_price: max_price.peek().clone(),
            min_win_rate: min_win_rate.peek().clone(),
            min_yield: min_yield.peek().clone(),
            ..base.clone()
        };
        if let Err(problem) = next.to_input(&check_currency, None) {
            return hint.set(Some(problem));
        }
        hint.set(None);
        apply(state, next);
        on_close.call(());
    };
    let reset = move |_| {
        let current = state.market.peek().filters.clone();
        apply(
            state,
            Filters {
                sport: current.sport,
                sort: current.sort,
                ..Filters::default()
            },
        );
        on_close.call(());
    };

    rsx! {
        form { class: "card filter-panel", id: "filter-form", onsubmit: submit, novalidate: true,
            div { class: "filter-grid",
                div { class: "field",
                    label { r#for: "filter-bookmaker", "Bookmaker" }
                    select { id: "filter-bookmaker", class: "select",
                        onchange: move |e| bookmaker.set(e.value()),
                        option { value: "", selected: bookmaker.read().is_empty(), "Any bookmaker" }
                        for b in bookmakers {
                            option { key: "{b}", value: "{b}", selected: *bookmaker.read() == b, "{b}" }
                        }
                    }
                }
                div { class: "field",
                    label { r#for: "filter-seller", "Tipster" }
                    select { id: "filter-seller", class: "select",
                        onchange: move |e| seller.set(e.value()),
                        option { value: "", selected: seller.read().is_empty(), "Any tipster" }
                        for (id, name) in tipsters {
                            option { key: "{id}", value: "{id}", selected: *seller.read() == id, "@{name}" }
                        }
                    }
                }
                div { class: "field",
                    span { class: "label", "Total odds" }
                    div { class: "range",
                        input { id: "filter-min-odds", r#type: "text", inputmode: "decimal", placeholder: "Min, e.g. 1.5",
                            value: "{min_odds}", oninput: move |e| min_odds.set(e.value()) }
                        span { class: "range-dash", "–" }
                        input { id: "filter-max-odds", r#type: "text", inputmode: "decimal", placeholder: "Max",
                            value: "{max_odds}", oninput: move |e| max_odds.set(e.value()) }
                    }
                }
                div { class: "field",
                    span { class: "label", "Price ({currency})" }
                    div { class: "range",
                        input { id: "filter-min-price", r#type: "text", inputmode: "decimal", placeholder: "Min",
                            value: "{min_price}", oninput: move |e| min_price.set(e.value()) }
                        span { class: "range-dash", "–" }
                        input { id: "filter-max-price", r#type: "text", inputmode: "decimal", placeholder: "Max",
                            value: "{max_price}", oninput: move |e| max_price.set(e.value()) }
                    }
                }
                div { class: "field",
                    label { r#for: "filter-min-win-rate", "Tipster's win rate at least (%)" }
                    input { id: "filter-min-win-rate", r#type: "text", inputmode: "decimal", placeholder: "e.g. 55",
                        value: "{min_win_rate}", oninput: move |e| min_win_rate.set(e.value()) }
                }
                div { class: "field",
                    label { r#for: "filter-min-yield", "Tipster's yield at least (%)" }
                    input { id: "filter-min-yield", r#type: "text", inputmode: "decimal", placeholder: "e.g. 10",
                        value: "{min_yield}", oninput: move |e| min_yield.set(e.value()) }
                }
            }
            p { class: "muted small", id: "filter-record-note",
                "Win rate and yield are the tipster's all-time record (as on the leaderboard); only ranked tipsters, with enough results, are shown when either is set."
            }
            if let Some(text) = hint() {
                p { class: "field-error", id: "filter-hint", "{text}" }
            }
            div { class: "form-actions",
                button { class: "btn btn-ghost-dark", id: "filter-reset", r#type: "button", onclick: reset, "Clear filters" }
                button { class: "btn btn-primary", id: "filter-apply", r#type: "submit", "Show codes" }
            }
        }
    }
}
