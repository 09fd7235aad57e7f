//! The marketplace: codes on sale with filters, sort and infinite scroll. Its state lives in
//! `AppState::market`, so opening a code and coming back keeps the filters and loaded pages.

use dioxus::prelude::*;
use oddxer_shared::api::CodeOut;
use oddxer_shared::client::{CodeSort, CommandError, ConnectionState};
use oddxer_shared::Sport;

use crate::format;
use crate::ipc;
use crate::nav::Icon;
use crate::state::{spawn_command, AppState};
use crate::widgets::{Empty, Spinner};

use super::code_card::CodeCard;
use super::market_filters::{chips, matches_search, Filters, SEARCH_DEBOUNCE_MS};

pub(super) const PAGE_SIZE: i64 = 20;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MarketState {
    pub filters: Filters,
    pub items: Vec<CodeOut>,
    pub next_cursor: Option<String>,
    /// The shown pages came from the device's cache (offline).
    pub from_cache: bool,
    pub cached_at: Option<String>,
    /// The first page for these filters has arrived (or failed).
    pub loaded: bool,
    pub loading: bool,
    pub error: Option<CommandError>,
    /// Bumped when the filters change, so an answer for the old ones is dropped.
    generation: u64,
    /// Pages loaded so far; keys the scroll sentinel so it re-arms after each page.
    pub pages: u32,
    /// The snapshot's `live.market` these pages reflect: when it moves (a listing arrived, a
    /// code sold or finalized) the first page is fetched again without a refresh.
    pub live_seen: u64,
}

/// After a live change: the first page again, keeping the later pages already loaded.
fn reload_live(state: AppState) {
    let mut market = state.market;
    let currency = state.currency();
    let (input, generation) = {
        let m = market.peek();
        if m.loading || !m.loaded {
            return;
        }
        match m.filters.to_input(&currency, None) {
            Ok(input) => (input, m.generation),
            Err(_) => return,
        }
    };
    spawn_command(async move {
        let Ok(page) = ipc::browse_codes(&input).await else {
            return;
        };
        let mut m = market.write();
        if m.generation != generation || m.loading {
            return;
        }
        let first: Vec<String> = page.items.iter().map(|c| c.id.clone()).collect();
        let later: Vec<CodeOut> = if m.pages > 1 {
            m.items
                .iter()
                .skip(first.len())
                .filter(|c| !first.contains(&c.id))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        m.items = page.items;
        m.items.extend(later);
        if m.pages <= 1 {
            m.next_cursor = page.next_cursor;
        }
        m.from_cache = page.from_cache;
        m.cached_at = page.cached_at;
    });
}

const SORTS: [(CodeSort, &str, &str); 6] = [
    (CodeSort::Newest, "newest", "Newest"),
    (CodeSort::ExpiresAt, "expiresAt", "Kick-off soonest"),
    (CodeSort::Price, "price", "Price: low to high"),
    (CodeSort::PriceDesc, "-price", "Price: high to low"),
    (CodeSort::Odds, "odds", "Odds: low to high"),
    (CodeSort::OddsDesc, "-odds", "Odds: high to low"),
];

/// Replaces the filters and loads their first page.
fn apply(state: AppState, filters: Filters) {
    let mut market = state.market;
    {
        let mut m = market.write();
        m.generation += 1;
        m.filters = filters;
        m.items.clear();
        m.next_cursor = None;
        m.loaded = false;
        m.loading = false;
        m.error = None;
        m.pages = 0;
    }
    load(state, false);
}

/// Loads the first page (`more == false`) or the next one.
fn load(state: AppState, more: bool) {
    let mut market = state.market;
    let currency = state.currency();
    let (input, generation) = {
        let m = market.peek();
        if m.loading || (more && m.next_cursor.is_none()) {
            return;
        }
        let cursor = if more { m.next_cursor.clone() } else { None };
        match m.filters.to_input(&currency, cursor) {
            Ok(input) => (input, m.generation),
            Err(problem) => {
                drop(m);
                market.write().error = Some(CommandError::new("VALIDATION_ERROR", problem));
                return;
            }
        }
    };
    {
        let mut m = market.write();
        m.loading = true;
        m.error = None;
    }
    spawn_command(async move {
        let result = ipc::browse_codes(&input).await;
        let mut m = market.write();
        if m.generation != generation {
            return;
        }
        m.loading = false;
        m.loaded = true;
        match result {
            Ok(page) => {
                if !more {
                    m.items.clear();
                }
                for code in page.items {
                    // Pages of a live list can overlap; the newer copy of a code wins.
                    match m.items.iter_mut().find(|c| c.id == code.id) {
                        Some(seen) => *seen = code,
                        None => m.items.push(code),
                    }
                }
                m.next_cursor = page.next_cursor;
                m.from_cache = page.from_cache;
                m.cached_at = page.cached_at;
                m.pages += 1;
            }
            Err(error) => m.error = Some(error),
        }
    });
}

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

#[component]
fn FilterPanel(filters: Filters, on_close: EventHandler<()>) -> Element {
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
        seen.sort_by(|a, b| a.1.to_lowercase().cmp(&b.1.to_lowercase()));
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
