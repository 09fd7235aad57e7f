//! The tipster leaderboard: ranked sellers first, then those without enough results yet.

use dioxus::prelude::*;
use oddxer_shared::api::LeaderboardEntryOut;
use oddxer_shared::client::{CommandError, LeaderboardIn, LeaderboardPeriod, LeaderboardSort};
use oddxer_shared::Sport;

use crate::format;
use crate::ipc;
use crate::screens::SellerLink;
use crate::state::{AppState, Route};
use crate::widgets::{Empty, Spinner};

const SORTS: [(LeaderboardSort, &str, &str); 5] = [
    (LeaderboardSort::Rank, "lb-sort-rank", "Rank"),
    (LeaderboardSort::WinRate, "lb-sort-win-rate", "Win rate"),
    (LeaderboardSort::Yield, "lb-sort-yield", "Yield"),
    (LeaderboardSort::TotalSales, "lb-sort-sales", "Sales"),
    (LeaderboardSort::TotalRevenue, "lb-sort-revenue", "Revenue"),
];

const PERIODS: [(LeaderboardPeriod, &str, &str); 3] = [
    (LeaderboardPeriod::All, "lb-period-all", "All time"),
    (LeaderboardPeriod::Days30, "lb-period-30d", "30 days"),
    (LeaderboardPeriod::Days7, "lb-period-7d", "7 days"),
];

/// What each column means, shown under the table ("how is this worked out").
const NOTES: [(&str, &str, &str); 5] = [
    ("lb-note-win-rate", "Win rate",
     "Codes that won, out of the codes that won or lost. Void codes (a match called off) are left out."),
    ("lb-note-roi", "ROI (yield)",
     "As if you had staked 1 unit on each settled code: a win returns odds − 1, a loss −1, a void nothing. ROI is that profit divided by the units staked, so +25 % means 0.25 units gained per unit staked."),
    ("lb-note-profit", "Profit",
     "The same units added up (a profile shows it over time): 3 wins at odds 2.0 and 1 loss make +2 units."),
    ("lb-note-sales", "Sales",
     "Purchases of the tipster's codes that settled as won or lost."),
    ("lb-note-revenue", "Revenue",
     "What the tipster was paid for those sales, after the platform fee."),
];

#[derive(Debug, Clone, Default, PartialEq)]
struct Board {
    sort: LeaderboardSort,
    period: LeaderboardPeriod,
    sport: Option<Sport>,
    entries: Vec<LeaderboardEntryOut>,
    next_cursor: Option<String>,
    loading: bool,
    loaded: bool,
    error: Option<CommandError>,
}

fn load(
    mut board: Signal<Board>,
    query: (LeaderboardSort, LeaderboardPeriod, Option<Sport>),
    more: bool,
) {
    let (sort, period, sport) = query;
    let cursor = {
        let b = board.peek();
        if b.loading && (b.sort, b.period, b.sport) == query {
            return;
        }
        if more {
            b.next_cursor.clone()
        } else {
            None
        }
    };
    if more && cursor.is_none() {
        return;
    }
    {
        let mut b = board.write();
        if !more {
            *b = Board {
                sort,
                period,
                sport,
                ..Board::default()
            };
        }
        b.loading = true;
        b.error = None;
    }
    spawn(async move {
        let result = ipc::leaderboard(&LeaderboardIn {
            sort: Some(sort),
            period: Some(period),
            sport,
            cursor,
        })
        .await;
        let mut b = board.write();
        if (b.sort, b.period, b.sport) != query {
            return;
        }
        b.loading = false;
        b.loaded = true;
        match result {
            Ok(page) => {
                for entry in page.items {
                    if !b.entries.iter().any(|e| e.seller_id == entry.seller_id) {
                        b.entries.push(entry);
                    }
                }
                b.next_cursor = page.next_cursor;
            }
            Err(e) => b.error = Some(e),
        }
    });
}

#[component]
pub fn Leaderboard() -> Element {
    let state = use_context::<AppState>();
    let board = use_signal(Board::default);
    use_hook(move || {
        load(
            board,
            (LeaderboardSort::Rank, LeaderboardPeriod::All, None),
            false,
        )
    });
    let b = board.read();
    let (ranked, unranked): (Vec<_>, Vec<_>) =
        b.entries.iter().cloned().partition(|e| e.rank.is_some());
    let sort = b.sort;
    let period = b.period;
    let sport = b.sport;
    let offline = state.is_offline();

    rsx! {
        main { class: "page leaderboard", id: "leaderboard",
            div { class: "page-head",
                div {
                    h2 { "Leaderboard" }
                    p { class: "muted", "Tipsters by results their buyers voted on. Win rate and ROI count settled codes only." }
                }
            }
            div { class: "segmented seg-5", id: "lb-sort", role: "radiogroup", aria_label: "Sort by",
                for (s, id, label) in SORTS {
                    button { key: "{id}", r#type: "button", id: id,
                        class: if sort == s { "seg active" } else { "seg" },
                        aria_checked: sort == s,
                        onclick: move |_| load(board, (s, period, sport), false),
                        "{label}"
                    }
                }
            }
            div { class: "toolbar lb-toolbar",
                div { class: "segmented seg-3", id: "lb-period", role: "radiogroup", aria_label: "Period",
                    for (p, id, label) in PERIODS {
                        button { key: "{id}", r#type: "button", id: id,
                            class: if period == p { "seg active" } else { "seg" },
                            aria_checked: period == p,
                            onclick: move |_| load(board, (sort, p, sport), false),
                            "{label}"
                        }
                    }
                }
                select { id: "lb-sport", class: "select", aria_label: "Sport",
                    onchange: move |e| {
                        let picked = Sport::ALL.into_iter().find(|s| s.as_str() == e.value());
                        load(board, (sort, period, picked), false);
                    },
                    option { value: "", selected: sport.is_none(), "All sports" }
                    for s in Sport::ALL {
                        option { key: "{s.as_str()}", value: "{s.as_str()}", selected: sport == Some(s), {format::sport(s)} }
                    }
                }
            }
            if offline && b.loaded && b.error.is_none() {
                div { class: "note note-offline", id: "leaderboard-offline",
                    strong { "Offline" } span { " — the leaderboard as last seen on this device." }
                }
            }
            if let Some(error) = b.error.as_ref() {
                div { class: "note note-error", id: "leaderboard-error",
                    strong { "Couldn't load the leaderboard. " } span { "{error.message}" }
                }
            }
            if b.loaded && b.entries.is_empty() && b.error.is_none() {
                Empty { id: "leaderboard-empty", title: "No tipsters yet",
                    text: "Sellers appear here once their codes are bought and settled." }
            }
            if !b.entries.is_empty() {
                div { class: "card table-card",
                    table { class: "table", id: "leaderboard-table",
                        thead {
                            tr {
                                th { class: "num", "#" }
                                th { "Tipster" }
                                th { class: "num", "Win rate" }
                                th { class: "num hide-sm", "ROI" }
                                th { class: "num", "Sales" }
                                th { class: "num hide-sm", "Revenue" }
                            }
                        }
                        tbody {
                            for entry in ranked {
                                LeaderRow { key: "{entry.seller_id}", entry }
                            }
                            if !unranked.is_empty() {
                                tr { class: "table-section", id: "leaderboard-unranked",
                                    td { colspan: "6", "Not ranked yet — too few settled codes" }
                                }
                            }
                            for entry in unranked {
                                LeaderRow { key: "{entry.seller_id}", entry }
                            }
                        }
                    }
                }
            }
            if b.loading {
                Spinner { label: "Loading the leaderboard…" }
            } else if b.next_cursor.is_some() {
                div { class: "load-more",
                    button { class: "btn btn-secondary", id: "leaderboard-more", r#type: "button",
                        onclick: move |_| load(board, (sort, period, sport), true), "Show more tipsters" }
                }
            }
            section { class: "card lb-notes", id: "leaderboard-notes",
                h3 { "How are these worked out?" }
                dl {
                    for (id, term, text) in NOTES {
                        div { key: "{id}", id: id, class: "lb-note",
                            dt { "{term}" }
                            dd { class: "muted small", "{text}" }
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn LeaderRow(entry: LeaderboardEntryOut) -> Element {
    let roi_class = if entry.average_roi >= 0.0 {
        "num gain hide-sm"
    } else {
        "num loss hide-sm"
    };
    rsx! {
        tr { id: "leader-{entry.seller_id}", class: if entry.rank.is_none() { "unranked" } else { "" },
            td { class: "num rank",
                match entry.rank {
                    Some(r @ 1..=3) => rsx! { span { class: "medal medal-{r}", "{r}" } },
                    Some(r) => rsx! { "{r}" },
                    None => rsx! { span { class: "muted", "–" } },
                }
            }
            td {
                p { class: "strong",
                    SellerLink { id: "leader-link-{entry.seller_id}", seller_id: entry.seller_id.clone(),
                        username: entry.username.clone(), from: Route::Leaderboard }
                }
                p { class: "muted small", "{entry.total_wins}W · {entry.total_losses}L · {entry.total_voids} void" }
            }
            td { class: "num strong", {format::percent(entry.win_rate, false)} }
            td { class: roi_class, {format::percent(entry.average_roi, true)} }
            td { class: "num", {format::count(entry.total_sales)} }
            td { class: "num hide-sm", {entry.total_revenue.display()} }
        }
    }
}
