//! The tipster leaderboard: ranked sellers first, then those without enough results yet.

use dioxus::prelude::*;
use oddxer_shared::api::LeaderboardEntryOut;
use oddxer_shared::client::{CommandError, LeaderboardIn, LeaderboardSort};

use crate::format;
use crate::ipc;
use crate::screens::SellerLink;
use crate::state::Route;
use crate::widgets::{Empty, Spinner};

const SORTS: [(LeaderboardSort, &str, &str); 4] = [
    (LeaderboardSort::Rank, "lb-sort-rank", "Rank"),
    (LeaderboardSort::WinRate, "lb-sort-win-rate", "Win rate"),
    (LeaderboardSort::TotalSales, "lb-sort-sales", "Sales"),
    (LeaderboardSort::TotalRevenue, "lb-sort-revenue", "Revenue"),
];

#[derive(Debug, Clone, Default, PartialEq)]
struct Board {
    sort: LeaderboardSort,
    entries: Vec<LeaderboardEntryOut>,
    next_cursor: Option<String>,
    loading: bool,
    loaded: bool,
    error: Option<CommandError>,
}

fn load(mut board: Signal<Board>, sort: LeaderboardSort, more: bool) {
    let cursor = {
        let b = board.peek();
        if b.loading && b.sort == sort {
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
                ..Board::default()
            };
        }
        b.loading = true;
        b.error = None;
    }
    spawn(async move {
        let result = ipc::leaderboard(&LeaderboardIn {
            sort: Some(sort),
            cursor,
        })
        .await;
        let mut b = board.write();
        if b.sort != sort {
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
    let board = use_signal(Board::default);
    use_hook(move || load(board, LeaderboardSort::Rank, false));
    let b = board.read();
    let (ranked, unranked): (Vec<_>, Vec<_>) =
        b.entries.iter().cloned().partition(|e| e.rank.is_some());
    let sort = b.sort;

    rsx! {
        main { class: "page leaderboard", id: "leaderboard",
            div { class: "page-head",
                div {
                    h2 { "Leaderboard" }
                    p { class: "muted", "Tipsters by results their buyers voted on. Win rate and ROI count settled codes only." }
                }
            }
            div { class: "segmented seg-4", id: "lb-sort", role: "radiogroup", aria_label: "Sort by",
                for (s, id, label) in SORTS {
                    button { key: "{id}", r#type: "button", id: id,
                        class: if sort == s { "seg active" } else { "seg" },
                        aria_checked: sort == s,
                        onclick: move |_| load(board, s, false),
                        "{label}"
                    }
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
                        onclick: move |_| load(board, sort, true), "Show more tipsters" }
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
