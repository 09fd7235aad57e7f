//! A tipster's figures and record rows: how profit and yield are written, the stats grid (each
//! figure with how it is worked out), and the rows of the live listings and the settled record.

use dioxus::prelude::*;
use oddxer_shared::api::{CodeOut, SellerProfileOut};
use oddxer_shared::CodeStatus;

use crate::format;
use crate::state::{AppState, Route};
use crate::widgets::StatusPill;

/// Profit in units of stake, signed: `+10.45 u`, `−1 u`.
pub fn units(value: f64) -> String {
    let text = format!("{:.2}", value.abs());
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if value > 0.004 {
        format!("+{text} u")
    } else if value < -0.004 {
        format!("−{text} u")
    } else {
        "0 u".to_owned()
    }
}

/// A ratio as a signed percentage: yield `5.225` -> `+522.5%`.
pub fn ratio_percent(ratio: f64) -> String {
    format::percent(ratio * 100.0, true)
}

pub(super) fn gain_class(value: f64) -> &'static str {
    if value > 0.0 {
        "gain"
    } else if value < 0.0 {
        "loss"
    } else {
        ""
    }
}

#[component]
pub(super) fn StatsGrid(profile: SellerProfileOut) -> Element {
    let s = profile.stats;
    let rank = match s.rank {
        Some(r) => format!("#{r}"),
        None => "Unranked".to_owned(),
    };
    let rank_note = if s.rank.is_some() {
        "Place on the leaderboard, ordered by win rate then sales."
    } else {
        "Ranked once enough of their codes have settled won or lost."
    };
    let settled = s.total_wins + s.total_losses;
    rsx! {
        div { class: "stats tipster-stats", id: "tipster-stats",
            Fig { id: "stat-win-rate", label: "Win rate", value: format::percent(s.win_rate, false),
                note: format!("{} won of {} won or lost. Void codes don't count.", s.total_wins, settled) }
            Fig { id: "stat-yield", label: "Yield", value: ratio_percent(s.yield_ratio), class: gain_class(s.yield_ratio),
                note: "Profit ÷ units staked, staking 1 unit on every settled code." }
            Fig { id: "stat-profit", label: "Profit", value: units(s.profit_units), class: gain_class(s.profit_units),
                note: "A win adds odds − 1 units, a loss takes 1, a void 0." }
            Fig { id: "stat-roi", label: "ROI", value: format::percent(s.average_roi, true), class: gain_class(s.average_roi),
                note: "Average return per unit staked: the yield as a percentage." }
            Fig { id: "stat-streak", label: "Streak", value: format!("{} now · {} best", s.current_streak, s.longest_streak),
                note: "Wins in a row; voids neither break nor extend a run." }
            Fig { id: "stat-sales", label: "Sales", value: format::count(s.total_sales),
                note: format!("Settled purchases of these codes; {} earned.", s.total_revenue.display()) }
            Fig { id: "stat-record", label: "Results", value: format!("{}W {}L {}V", s.total_wins, s.total_losses, s.total_voids),
                note: "Codes settled won, lost or void (by buyers' votes or an admin)." }
            Fig { id: "stat-rank", label: "Rank", value: rank, note: rank_note }
        }
    }
}

/// One figure with its "how is this worked out" line.
#[component]
fn Fig(
    id: &'static str,
    label: &'static str,
    value: String,
    note: String,
    #[props(default)] class: &'static str,
) -> Element {
    rsx! {
        div { class: "stat",
            p { class: "stat-label", "{label}" }
            p { class: "stat-value {class}", id, "{value}" }
            p { class: "stat-hint", "{note}" }
        }
    }
}

/// A live listing: opens the code (its booking code stays secret).
#[component]
pub(super) fn LiveRow(code: CodeOut, here: Route) -> Element {
    let state = use_context::<AppState>();
    let id = code.id.clone();
    let open = move |_| {
        state.go(Route::Code {
            id: id.clone(),
            from: Box::new(here.clone()),
        })
    };
    let left = code.max_buyers - code.sales_count;
    rsx! {
        li { class: "row record-row", id: "tipster-live-{code.id}",
            div { class: "row-main",
                button { class: "link-plain strong", r#type: "button", onclick: open, "{code.title}" }
                p { class: "muted small",
                    {format::sport(code.sport)} " · {code.bookmaker} · odds {format::odds(code.odds)} · kick-off {format::timestamp(&code.expires_at)}"
                }
            }
            div { class: "row-side right",
                StatusPill { status: code.status }
                span { class: "small strong", "{code.price.display()}" }
                if code.max_buyers > 1 {
                    span { class: "muted small", "{left} of {code.max_buyers} left" }
                }
            }
        }
    }
}

/// A settled code: outcome, odds, price, buyers and the booking code anyone can check.
#[component]
pub(super) fn RecordRow(code: CodeOut) -> Element {
    let settled = code
        .finalized_at
        .as_deref()
        .map(format::timestamp)
        .unwrap_or_default();
    let profit = match code.status {
        CodeStatus::Won => code.odds - 1.0,
        CodeStatus::Lost => -1.0,
        _ => 0.0,
    };
    rsx! {
        li { class: "row record-row", id: "record-{code.id}", "data-status": code.status.as_str(),
            div { class: "row-main",
                p { class: "strong", "{code.title}" }
                p { class: "muted small",
                    {format::sport(code.sport)} " · {code.bookmaker} · odds {format::odds(code.odds)} · "
                    span { class: "nowrap", "{code.price.display()}" }
                    " · {code.sales_count} buyer(s) · settled "
                    span { class: "nowrap", "{settled}" }
                }
                if let Some(booking) = code.code.as_ref() {
                    p { class: "small booking",
                        span { class: "muted", "Booking code " }
                        code { class: "booking-code", id: "record-code-{code.id}", "{booking}" }
                    }
                }
            }
            div { class: "row-side right",
                StatusPill { status: code.status }
                span { class: "small {gain_class(profit)}", {units(profit)} }
            }
        }
    }
}
