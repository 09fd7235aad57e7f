//! The marketplace's filters as the person typed them: checked and turned into a `GET /codes`
//! query, shown as removable chips, and the search rule applied to the codes already loaded.

use oddxer_shared::api::CodeOut;
use oddxer_shared::client::{BrowseIn, CodeSort};
use oddxer_shared::{Currency, Sport};

use crate::format;
use crate::input::parse_amount;

use super::market_load::PAGE_SIZE;

/// The filters as typed (prices in major units), applied when the page is (re)loaded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub sport: Option<Sport>,
    pub bookmaker: Option<String>,
    pub min_odds: String,
    pub max_odds: String,
    pub min_price: String,
    pub max_price: String,
    pub sort: CodeSort,
    /// One tipster's codes: `(seller id, username)`; the id goes to `GET /codes?seller=`.
    pub seller: Option<(String, String)>,
    /// Words to find in titles and tipster names (`q`, sent a moment after typing stops; the
    /// loaded codes are filtered at once by the same rule).
    pub search: String,
    /// Only ranked tipsters with at least this win rate, in percent as typed.
    pub min_win_rate: String,
    /// Only ranked tipsters with at least this yield, in percent as typed.
    pub min_yield: String,
}

/// Milliseconds after the last keystroke before a search is sent.
pub const SEARCH_DEBOUNCE_MS: i32 = 400;

/// A typed percent bound: `None` when empty, else a number within `min..=max`.
fn percent(raw: &str, what: &str, min: f64, max: f64) -> Result<Option<f64>, String> {
    let raw = raw.trim().trim_end_matches('%').trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && (min..=max).contains(&v) => Ok(Some(v)),
        _ => Err(format!(
            "{what} must be a percent from {min} to {max}, e.g. 55."
        )),
    }
}

impl Filters {
    /// How many of the panel's filters are set (sport and sort have their own controls).
    pub fn panel_count(&self) -> usize {
        [
            self.bookmaker.is_some(),
            self.seller.is_some(),
            !self.min_odds.trim().is_empty(),
            !self.max_odds.trim().is_empty(),
            !self.min_price.trim().is_empty(),
            !self.max_price.trim().is_empty(),
            !self.min_win_rate.trim().is_empty(),
            !self.min_yield.trim().is_empty(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count()
    }

    /// The request for a page, or what is wrong with a typed bound.
    pub fn to_input(
        &self,
        currency: &Currency,
        cursor: Option<String>,
    ) -> Result<BrowseIn, String> {
        let odds = |raw: &str, what: &str| -> Result<Option<f64>, String> {
            let raw = raw.trim();
            if raw.is_empty() {
                return Ok(None);
            }
            match raw.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 1.0 => Ok(Some(v)),
                _ => Err(format!(
                    "{what} odds must be a decimal of at least 1, e.g. 1.5."
                )),
            }
        };
        let price = |raw: &str, what: &str| -> Result<Option<i64>, String> {
            if raw.trim().is_empty() {
                return Ok(None);
            }
            parse_amount(raw, &currency.0, currency.minor_digits())
                .map(Some)
                .map_err(|e| format!("{what} price: {e}"))
        };
        let (min_odds, max_odds) = (
            odds(&self.min_odds, "Lowest")?,
            odds(&self.max_odds, "Highest")?,
        );
        // Said by the filter, before asking: the server would refuse the page with a 422.
        if let (Some(low), Some(high)) = (min_odds, max_odds) {
            if low > high {
                return Err(format!(
                    "The lowest odds ({}) are above the highest ({}): swap them or clear one.",
                    self.min_odds.trim(),
                    self.max_odds.trim()
                ));
            }
        }
        let (min_price, max_price) = (
            price(&self.min_price, "Lowest")?,
            price(&self.max_price, "Highest")?,
        );
        if let (Some(low), Some(high)) = (min_price, max_price) {
            if low > high {
                return Err(
                    "The lowest price is above the highest: swap them or clear one.".to_owned(),
                );
            }
        }
        let min_win_rate = percent(&self.min_win_rate, "The lowest win rate", 0.0, 100.0)?;
        let min_yield = percent(&self.min_yield, "The lowest yield", -100.0, 100_000.0)?;
        let search: String = self
            .search
            .trim()
            .chars()
            .take(oddxer_shared::search::MAX_QUERY_CHARS)
            .collect();
        Ok(BrowseIn {
            sport: self.sport,
            q: (!search.is_empty()).then_some(search),
            min_win_rate,
            min_yield,
            bookmaker: self.bookmaker.clone(),
            min_odds,
            max_odds,
            min_price,
            max_price,
            seller: self.seller.as_ref().map(|(id, _)| id.clone()),
            status: None,
            sort: Some(self.sort),
            cursor,
            limit: Some(PAGE_SIZE),
        })
    }
}

/// Whether `code` matches `search` in its title or its tipster's name, by the server's rule
/// (`oddxer_shared::search`): every word starts a word of either.
pub fn matches_search(code: &CodeOut, search: &str) -> bool {
    oddxer_shared::search::matches(search, &code.title, &code.seller_username)
}

/// A removable chip: `(dom id, text, filters without it)`.
type Chip = (&'static str, String, Filters);

/// `f` with one filter cleared by `clear`: what removing its chip leaves.
fn without(f: &Filters, clear: impl FnOnce(&mut Filters)) -> Filters {
    let mut rest = f.clone();
    clear(&mut rest);
    rest
}

/// A range chip (`Odds 1.5–3`, `UGX from 5000`) when either bound is typed; `clear` empties both.
fn range_chip(
    f: &Filters,
    id: &'static str,
    prefix: &str,
    lo: &str,
    hi: &str,
    clear: impl FnOnce(&mut Filters),
) -> Option<Chip> {
    let range = match (lo.trim(), hi.trim()) {
        ("", "") => return None,
        ("", hi) => format!("up to {hi}"),
        (lo, "") => format!("from {lo}"),
        (lo, hi) => format!("{lo}–{hi}"),
    };
    Some((id, format!("{prefix} {range}"), without(f, clear)))
}

/// A record-floor chip (`Win rate ≥ 55 %`, `Yield ≥ 10 %`) when the floor is typed; `clear`
/// empties it.
fn floor_chip(
    f: &Filters,
    id: &'static str,
    label: &str,
    raw: &str,
    clear: impl FnOnce(&mut Filters),
) -> Option<Chip> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let percent = raw.trim_end_matches('%').trim();
    Some((id, format!("{label} ≥ {percent} %"), without(f, clear)))
}

/// The active filters as removable chips: `(dom id, text, filters without it)`.
pub fn chips(f: &Filters, currency: &Currency) -> Vec<Chip> {
    let mut out = Vec::new();
    if let Some(sport) = f.sport {
        out.push((
            "chip-sport",
            format::sport(sport).to_owned(),
            Filters {
                sport: None,
                ..f.clone()
            },
        ));
    }
    if let Some((_, name)) = f.seller.as_ref() {
        out.push((
            "chip-seller",
            format!("@{name}"),
            Filters {
                seller: None,
                ..f.clone()
            },
        ));
    }
    if let Some(b) = f.bookmaker.as_ref() {
        out.push((
            "chip-bookmaker",
            b.clone(),
            Filters {
                bookmaker: None,
                ..f.clone()
            },
        ));
    }
    out.extend(range_chip(
        f,
        "chip-odds",
        "Odds",
        &f.min_odds,
        &f.max_odds,
        |w| {
            w.min_odds.clear();
            w.max_odds.clear();
        },
    ));
    out.extend(range_chip(
        f,
        "chip-price",
        &currency.0,
        &f.min_price,
        &f.max_price,
        |w| {
            w.min_price.clear();
            w.max_price.clear();
        },
    ));
    out.extend(floor_chip(
        f,
        "chip-win-rate",
        "Win rate",
        &f.min_win_rate,
        |w| w.min_win_rate.clear(),
    ));
    out.extend(floor_chip(f, "chip-yield", "Yield", &f.min_yield, |w| {
        w.min_yield.clear()
    }));
    if !f.search.trim().is_empty() {
        out.push((
            "chip-search",
            format!("“{}”", f.search.trim()),
            Filters {
                search: String::new(),
                ..f.clone()
            },
        ));
    }
    out
}
