//! My codes: every purchase with its booking code, read from the device's cache so it works
//! offline, with the result, where the money went, and the buyer's vote while voting is open.

use dioxus::prelude::*;
use oddxer_shared::api::{PurchaseOut, PurchaseStatus};
use oddxer_shared::client::{CastVoteIn, OutboxItemOut, OutboxState};
use oddxer_shared::{CodeStatus, VoteType};

use crate::browser;
use crate::format;
use crate::ipc;
use crate::screens::SellerLink;
use crate::state::{spawn_command, AppState, Route, VoteCast};
use crate::widgets::{Empty, SecretCode, StatusPill};

#[component]
pub fn MyCodes() -> Element {
    let state = use_context::<AppState>();
    // The cache normally has every purchase (the purchases stream); if it is still empty right
    // after signing in, ask the server once so the list isn't blank until the sync lands.
    let mut fetched = use_signal(|| None::<Vec<PurchaseOut>>);
    use_hook(move || {
        let empty = state
            .snapshot
            .peek()
            .as_ref()
            .is_some_and(|s| s.purchases.is_empty());
        if empty && !state.is_offline() {
            spawn(async move {
                if let Ok(list) = ipc::my_purchases().await {
                    fetched.set(Some(list));
                }
            });
        }
    });
    let snapshot = state.snapshot.read();
    let Some(snapshot) = snapshot.as_ref() else {
        return rsx! {};
    };
    let mut purchases = if snapshot.purchases.is_empty() {
        fetched().unwrap_or_default()
    } else {
        snapshot.purchases.clone()
    };
    // Newest first, whatever order the cache hands them in.
    purchases.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    let outbox = snapshot.outbox.clone();
    let now = *state.now_ms.read();

    rsx! {
        main { class: "page my-codes", id: "my-codes",
            div { class: "page-head",
                div {
                    h2 { "My codes" }
                    p { class: "muted", "Codes you bought, saved on this device. Readable offline." }
                }
                span { class: "muted small", id: "my-codes-count",
                    {match purchases.len() { 1 => "1 code".to_owned(), n => format!("{n} codes") }}
                }
            }
            if purchases.is_empty() {
                Empty { id: "my-codes-empty", title: "No codes yet",
                    text: "Codes you buy in the marketplace land here with their booking code." }
                div { class: "center",
                    button { class: "btn btn-primary", id: "my-codes-browse", r#type: "button",
                        onclick: move |_| state.go(Route::Marketplace), "Browse the marketplace" }
                }
            }
            div { class: "purchase-list", id: "my-codes-list",
                for purchase in purchases {
                    PurchaseCard {
                        key: "{purchase.id}",
                        outbox: outbox.iter().filter(|o| o.code_id == purchase.code_id).cloned().collect::<Vec<_>>(),
                        purchase,
                        now,
                    }
                }
            }
        }
    }
}

/// Where a purchase stands for voting.
#[derive(Debug, Clone, PartialEq)]
enum Voting {
    /// Before kick-off: opens then.
    NotYet,
    Open,
    Closed,
}

fn voting(purchase: &PurchaseOut, now: f64) -> Voting {
    let code = &purchase.code;
    if purchase.status != PurchaseStatus::Completed
        || code.finalized_at.is_some()
        || code.status.is_final()
    {
        return Voting::Closed;
    }
    let starts = browser::time_ms(&code.expires_at);
    let ends = browser::time_ms(&code.voting_ends_at);
    match (starts, ends) {
        (Some(s), _) if now < s => Voting::NotYet,
        (Some(_), Some(e)) if now < e => Voting::Open,
        _ => Voting::Closed,
    }
}

#[component]
fn PurchaseCard(purchase: PurchaseOut, outbox: Vec<OutboxItemOut>, now: f64) -> Element {
    let state = use_context::<AppState>();
    let code = purchase.code.clone();
    let code_id = purchase.code_id.clone();
    let cast: Option<VoteCast> = state.votes_cast.read().get(&code_id).copied();
    let queued = outbox.iter().find(|o| o.state == OutboxState::Pending);
    let refused = outbox.iter().find(|o| o.state == OutboxState::Failed);
    // The vote as far as this device knows: the server's, one queued here, or one sent from
    // here (a refused offline vote doesn't count).
    let my_vote = code
        .my_vote
        .or_else(|| queued.map(|q| q.vote_type))
        .or_else(|| cast.filter(|_| refused.is_none()).map(|c| c.vote_type));
    let voting = voting(&purchase, now);
    // The cached row may predate the server's status change at kick-off.
    let kicked_off = browser::time_ms(&code.expires_at).is_some_and(|t| t <= now);
    let status = match code.status {
        CodeStatus::Active | CodeStatus::SoldOut if kicked_off => CodeStatus::AwaitingResult,
        other => other,
    };
    let busy = state.is_busy();
    let open_id = code_id.clone();

    let vote = move |vote_type: VoteType| {
        let input = CastVoteIn {
            code_id: code_id.clone(),
            vote_type,
        };
        move |_| {
            let input = input.clone();
            spawn_command(async move {
                if let Some(result) = state.run("Sending your vote", ipc::cast_vote(&input)).await {
                    let mut cast = state.votes_cast;
                    let record = VoteCast {
                        vote_type: input.vote_type,
                        queued: result.queued,
                    };
                    cast.write().insert(input.code_id.clone(), record);
                    state.refresh().await;
                }
            });
        }
    };
    let vote_win = vote.clone()(VoteType::Win);
    let vote_loss = vote(VoteType::Loss);

    rsx! {
        article { class: "card purchase", id: "purchase-{purchase.code_id}",
            div { class: "code-card-top",
                span { class: "sport-tag", {format::sport(code.sport)} }
                StatusPill { status, id: "purchase-status-{purchase.code_id}", as_buyer: true }
            }
            h3 { class: "purchase-title",
                button { class: "link-plain", r#type: "button",
                    onclick: move |_| state.go(Route::Code { id: open_id.clone(), from: Box::new(Route::MyCodes) }),
                    "{code.title}"
                }
            }
            p { class: "muted small",
                SellerLink { seller_id: code.seller_id.clone(), username: code.seller_username.clone(), from: Route::MyCodes }
                " · {code.bookmaker} · odds {format::odds(code.odds)} · paid {purchase.price.display()} · {format::timestamp(&purchase.created_at)}"
            }
            match (purchase.status, code.code.clone()) {
                (PurchaseStatus::Completed, Some(secret)) => rsx! {
                    SecretCode { id: "purchase-code-{purchase.code_id}", code: secret }
                },
                (PurchaseStatus::Pending, _) => rsx! {
                    p { class: "note note-warn", "Payment is being confirmed; the booking code appears here when it is." }
                },
                (PurchaseStatus::Failed, _) => rsx! {
                    p { class: "note note-error", "This purchase failed and nothing was taken." }
                },
                (PurchaseStatus::Completed, None) => rsx! {
                    p { class: "muted small", "The booking code will appear after the next sync." }
                },
            }
            div { class: "purchase-foot",
                span { class: "muted small",
                    {format::kickoff(&code.expires_at, now)}
                }
                if let Some(outcome) = code.outcome {
                    span { class: "outcome", id: "purchase-outcome-{purchase.code_id}",
                        "Result: " strong { {format::outcome(outcome)} }
                        if let Some(settlement) = purchase.settlement {
                            " · {format::settlement(settlement)}"
                        }
                    }
                }
            }
            if let Some(v) = my_vote {
                div { class: "vote-state", id: "vote-state-{purchase.code_id}",
                    "You voted " strong { {format::vote(v)} }
                    if queued.is_some() {
                        span { class: "status status-pending", id: "vote-queued-{purchase.code_id}",
                            "Queued, will send when online" }
                    }
                }
            } else if let Some(refusal) = refused {
                p { class: "note note-error", id: "vote-refused-{purchase.code_id}",
                    "Your offline vote was refused: {refusal.last_error.clone().unwrap_or_default()}"
                }
            } else if voting == Voting::Open {
                div { class: "vote", id: "vote-{purchase.code_id}",
                    p { class: "strong", "Did it win? Vote before {format::timestamp(&code.voting_ends_at)}" }
                    div { class: "vote-buttons",
                        button { class: "btn btn-vote win", id: "vote-win-{purchase.code_id}", r#type: "button",
                            disabled: busy, onclick: vote_win, "✓ Won" }
                        button { class: "btn btn-vote loss", id: "vote-loss-{purchase.code_id}", r#type: "button",
                            disabled: busy, onclick: vote_loss, "✗ Lost" }
                    }
                    p { class: "muted small", "Buyers' votes decide the result. Offline, your vote is sent when you reconnect." }
                }
            } else if voting == Voting::NotYet && purchase.status == PurchaseStatus::Completed {
                p { class: "muted small", "Voting opens at kick-off." }
            }
        }
    }
}
