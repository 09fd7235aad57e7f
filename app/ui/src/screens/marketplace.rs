//! The marketplace: codes on sale with filters, sort and infinite scroll. Its state lives in
//! `AppState::market`, so opening a code and coming back keeps the filters and loaded pages.

use dioxus::prelude::*;
use oddxer_shared::api::CodeOut;
use oddxer_shared::client::{CodeSort, ConnectionState};
use oddxer_shared::Sport;

use crate::format;
use crate::nav::Icon;
use crate::state::AppState;
use crate::widgets::{Empty, Spinner};

use super::code_card::CodeCard;
use super::market_filters::{chips, matches_search, Filters, SEARCH_DEBOUNCE_MS};
use super::market_load::{apply, load, reload_live};
use super::market_panel::FilterPanel;

const SORTS: [(CodeSort, &str, &str); 6] = [
    (CodeSort::Newest, "newest", "Newest"),
    (CodeSort::ExpiresAt, "expiresAt", "Kick-off soonest"),
    (CodeSort::Price, "price", "Price: low to high"),
    (CodeSort::PriceDesc, "-price", "Price: high to low"),
    (CodeSort::Odds, "odds", "Odds: low to high"),
    (CodeSort::OddsDesc, "-odds", "Odds: high to low"),
];

#[component]
pub fn Marketplace() -> Element {
    let state = use_context::<AppState>();
    use_hook(move || {
        state.want_options();
        let m = state.market.peek();
        if !m.loaded && !m.loading {
            drop(m);
            load(state, false);
        }
    });

    // A page read from the cache while offline is replaced once the connection is back.
    use_effect(move || {
        let online = state
            .snapshot
            .read()
            .as_ref()
            .is_some_and(|s| s.connection == ConnectionState::Online);
        let m = state.market.peek();
        if online && m.from_cache && !m.loading {
            let filters = m.filters.clone();
            drop(m);
            apply(state, filters);
        }
    });

    // Live events (a followed tipster's listing, a sale, a result) move `live.market`.
    use_effect(move || {
        let rev = state.snapshot.read().as_ref().map_or(0, |s| s.live.market);
        let seen = state.market.peek().live_seen;
        if rev != seen {
            state.market.clone().write().live_seen = rev;
            if seen != 0 || rev != 0 {
                reload_live(state);
            }
        }
    });

    let market = state.market.read();
    let filters = market.filters.clone();
    let bought: std::collections::HashSet<String> = state
        .snapshot
        .read()
        .as_ref()
        .map(|s| s.purchases.iter().map(|p| p.code_id.clone()).collect())
        .unwrap_or_default();
    let search = filters.search.clone();
    let shown: Vec<CodeOut> = market
        .items
        .iter()
        .filter(|c| matches_search(c, &search))
        .cloned()
        .collect();
    let active_chips = chips(&filters, &state.currency());
    let search_filters = filters.clone();
    let now = *state.now_ms.read();
    let mut show_panel = use_signal(|| false);
    let panel_count = filters.panel_count();
    let sort_filters = filters.clone();
    let refresh_filters = filters.clone();

    rsx! {
        main { class: "page market", id: "marketplace",
            div { class: "page-head",
                div {
                    h2 { "Marketplace" }
                    p { class: "muted", "Booking codes from tipsters, ready before kick-off." }
                }
                button { class: "btn btn-secondary btn-small", id: "market-refresh", r#type: "button",
                    disabled: market.loading,
                    onclick: move |_| apply(state, refresh_filters.clone()),
                    "Refresh"
                }
            }
            div { class: "chip-scroll", id: "sport-chips", role: "radiogroup", aria_label: "Sport",
                SportChip { sport: None, current: filters.sport }
                for sport in Sport::ALL {
                    SportChip { key: "{sport.as_str()}", sport: Some(sport), current: filters.sport }
                }
            }
            div { class: "toolbar",
                label { class: "sort-label", r#for: "market-sort", "Sort" }
                select { id: "market-sort", class: "select",
                    onchange: move |e| {
                        let wanted = SORTS.iter().find(|(_, v, _)| *v == e.value()).map(|(s, _, _)| *s);
                        if let Some(sort) = wanted {
                            apply(state, Filters { sort, ..sort_filters.clone() });
                        }
                    },
                    for (sort, value, label) in SORTS {
                        option { key: "{value}", value: value, selected: filters.sort == sort, "{label}" }
                    }
                }
                button { r#type: "button", id: "filters-toggle",
                    class: if show_panel() || panel_count > 0 { "btn btn-secondary btn-small active" } else { "btn btn-secondary btn-small" },
                    "aria-expanded": show_panel(),
                    onclick: move |_| show_panel.toggle(),
                    Icon { path: "M4 6h16M7 12h10M10 18h4" }
                    if panel_count > 0 { "Filters ({panel_count})" } else { "Filters" }
                }
            }
            div { class: "search-row",
                input { id: "market-search", class: "search", r#type: "search",
                    placeholder: "Search titles and tipsters",
                    aria_label: "Search titles and tipsters",
                    value: "{filters.search}",
                    oninput: move |e| {
                        // The loaded codes are filtered at once; the server is asked once typing
                        // pauses, so a search finds codes beyond the loaded pages.
                        let typed = e.value();
                        state.market.clone().write().filters.search = typed.clone();
                        spawn(async move {
                            crate::browser::sleep_ms(SEARCH_DEBOUNCE_MS).await;
                            let filters = state.market.peek().filters.clone();
                            if filters.search == typed {
                                apply(state, filters);
                            }
                        });
                    },
                    onkeydown: move |e| {
                        if e.key() == Key::Enter {
                            let filters = state.market.peek().filters.clone();
                            apply(state, filters);
                        }
                    },
                }
            }
            if !active_chips.is_empty() {
                div { class: "chip-scroll active-filters", id: "active-filters", aria_label: "Active filters",
                    for (chip_id, text, without) in active_chips {
                        button { key: "{chip_id}", r#type: "button", id: chip_id, class: "chip chip-removable",
                            title: "Remove this filter",
                            onclick: move |_| apply(state, without.clone()),
                            "{text}"
                            span { class: "chip-x", aria_hidden: "true", "×" }
                        }
                    }
                }
            }
            if show_panel() {
                FilterPanel { filters: filters.clone(), on_close: move |_| show_panel.set(false) }
            }
            if market.from_cache {
                div { class: "note note-offline", id: "market-cache-note",
                    strong { "Offline — showing saved page" }
                    if let Some(at) = market.cached_at.as_deref() {
                        span { " from {format::timestamp(at)}" }
                    }
                    span { ". Buying needs a connection." }
                }
            }
            if let Some(error) = market.error.as_ref() {
                div { class: "note note-error", id: "market-error",
                    strong { "Couldn't load the marketplace. " }
                    span { "{error.message}" }
                }
            }
            if market.loaded && shown.is_empty() && market.error.is_none() && !market.loading {
                if !search_filters.search.trim().is_empty() {
                    Empty { id: "market-search-empty", title: "No codes match your search",
                        text: "A word matches the start of a word in a title or a tipster's name: “ars” finds Arsenal. Try fewer or shorter words." }
                } else {
                    Empty { id: "market-empty", title: "No codes match",
                        text: "Try another sport, wider odds and price ranges or a lower win rate. New codes appear here as tipsters list them." }
                }
            }
            div { class: "code-grid", id: "code-grid",
                for code in shown.iter() {
                    CodeCard { key: "{code.id}", code: code.clone(), now, bought: bought.contains(&code.id) }
                }
            }
            if market.loading {
                Spinner { label: if market.items.is_empty() { "Loading codes…" } else { "Loading more…" } }
            } else if market.next_cursor.is_some() {
                // Scrolled into view -> next page. Keyed by the page count so it is observed
                // afresh after each page, even if it never left the screen.
                div { key: "sentinel-{market.pages}", class: "sentinel", id: "market-sentinel",
                    onvisible: move |e| {
                        if e.is_intersecting().unwrap_or(false) {
                            load(state, true);
                        }
                    },
                }
                div { class: "load-more",
                    button { class: "btn btn-secondary", id: "load-more", r#type: "button",
                        onclick: move |_| load(state, true), "Show more codes"
                    }
                }
            } else if market.loaded && !market.items.is_empty() {
                p { class: "muted small list-end", id: "market-end", "That's every code for now." }
            }
        }
    }
}

#[component]
fn SportChip(sport: Option<Sport>, current: Option<Sport>) -> Element {
    let state = use_context::<AppState>();
    let active = sport == current;
    let id = match sport {
        Some(s) => format!("sport-{}", s.as_str().to_lowercase().replace('_', "-")),
        None => "sport-all".to_owned(),
    };
    rsx! {
        button { r#type: "button", id: "{id}",
            class: if active { "chip chip-toggle active" } else { "chip chip-toggle" },
            aria_checked: active, role: "radio",
            onclick: move |_| {
                let filters = state.market.peek().filters.clone();
                if filters.sport != sport {
                    apply(state, Filters { sport, ..filters });
                }
            },
            {sport.map(format::sport).unwrap_or("All sports")}
        }
    }
}
