//! The marketplace's loaded pages (`AppState::market`) and how they are fetched: the first page for
//! new filters, the next one on scroll, and the first again after a live change.

use dioxus::prelude::*;
use oddxer_shared::api::CodeOut;
use oddxer_shared::client::CommandError;

use crate::ipc;
use crate::state::{spawn_command, AppState};

use super::market_filters::Filters;

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
pub(super) fn reload_live(state: AppState) {
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

/// Replaces the filters and loads their first page.
pub(super) fn apply(state: AppState, filters: Filters) {
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
pub(super) fn load(state: AppState, more: bool) {
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
