//! The seller dashboard: earnings, a form to list a code, listings (cancel while unsold) and
//! sales. Buyers see an invitation to become a seller instead.

use dioxus::prelude::*;
use oddxer_shared::api::{CodeOut, SaleOut, SalesSummaryOut, Settlement};
use oddxer_shared::client::CommandError;
use oddxer_shared::{CodeStatus, Money, Role};

use crate::format;
use crate::ipc;
use crate::state::{spawn_command, AppState, Route};
use crate::widgets::{Empty, Spinner, Stat, StatusPill};

use super::seller_form::CreateCodeForm;
use super::tipster_stats::{ratio_percent, units};
use oddxer_shared::api::SellerProfileOut;

#[derive(Debug, Clone, Default, PartialEq)]
struct Listings {
    items: Vec<CodeOut>,
    next_cursor: Option<String>,
    loading: bool,
    loaded: bool,
    error: Option<CommandError>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Sales {
    summary: Option<SalesSummaryOut>,
    items: Vec<SaleOut>,
    next_cursor: Option<String>,
    loading: bool,
    error: Option<CommandError>,
}

fn load_listings(mut listings: Signal<Listings>, more: bool) {
    let cursor = if more {
        listings.peek().next_cursor.clone()
    } else {
        None
    };
    if listings.peek().loading || (more && cursor.is_none()) {
        return;
    }
    listings.write().loading = true;
    spawn(async move {
        let result = ipc::seller_codes(cursor).await;
        let mut l = listings.write();
        l.loading = false;
        l.loaded = true;
        match result {
            Ok(page) => {
                if !more {
                    l.items.clear();
                }
                for code in page.items {
                    match l.items.iter_mut().find(|c| c.id == code.id) {
                        Some(seen) => *seen = code,
                        None => l.items.push(code),
                    }
                }
                l.next_cursor = page.next_cursor;
                l.error = None;
            }
            Err(e) => l.error = Some(e),
        }
    });
}

fn load_sales(mut sales: Signal<Sales>, more: bool) {
    let cursor = if more {
        sales.peek().next_cursor.clone()
    } else {
        None
    };
    if sales.peek().loading || (more && cursor.is_none()) {
        return;
    }
    sales.write().loading = true;
    spawn(async move {
        let result = ipc::seller_sales(cursor).await;
        let mut s = sales.write();
        s.loading = false;
        match result {
            Ok(page) => {
                if !more {
                    s.items.clear();
                }
                s.items.extend(page.items.iter().cloned());
                s.next_cursor = page.next_cursor.clone();
                s.summary = Some(page);
                s.error = None;
            }
            Err(e) => s.error = Some(e),
        }
    });
}

#[component]
pub fn SellerDashboard() -> Element {
    let state = use_context::<AppState>();
    if state.role() == Role::Buyer {
        return rsx! { BecomeSeller {} };
    }
    rsx! { Dashboard {} }
}

#[component]
fn BecomeSeller() -> Element {
    let state = use_context::<AppState>();
    let busy = state.is_busy();
    let offline = state.is_offline();
    let become_seller = move |_| {
        spawn_command(async move {
            if state
                .run("Making you a tipster", ipc::become_seller())
                .await
                .is_some()
            {
                state.refresh().await;
            }
        });
    };
    rsx! {
        main { class: "page seller", id: "seller-dashboard",
            section { class: "card pitch", id: "become-seller-card",
                div { class: "pitch-mark", "★" }
                h2 { "Sell your tips on Oddxer" }
                p { class: "muted",
                    "List booking codes with their total odds and a price. Buyers pay from their wallet; "
                    "you're paid when the result is in, minus the platform fee."
                }
                ul { class: "ticks",
                    li { "Exclusive codes or up to many buyers per code" }
                    li { "Your win rate and ROI on the public leaderboard" }
                    li { "Earnings straight to your mobile money wallet" }
                }
                button { class: "btn btn-primary", id: "become-seller", r#type: "button",
                    disabled: busy || offline, onclick: become_seller,
                    if offline { "Needs a connection" } else if busy { "Working…" } else { "Become a seller" }
                }
            }
        }
    }
}

#[component]
fn Dashboard() -> Element {
    let state = use_context::<AppState>();
    let listings = use_signal(Listings::default);
    let sales = use_signal(Sales::default);
    let mut me = use_signal(|| None::<SellerProfileOut>);
    let my_id = state
        .snapshot
        .read()
        .as_ref()
        .and_then(|s| s.user.as_ref().map(|u| u.id.clone()))
        .unwrap_or_default();
    let load_me = {
        let my_id = my_id.clone();
        move || {
            let id = my_id.clone();
            spawn(async move {
                // Quietly absent when it can't be had (offline with nothing kept).
                if let Ok(p) = ipc::seller_summary(&id).await {
                    me.set(Some(p));
                }
            });
        }
    };
    let first_load = load_me.clone();
    use_hook(move || {
        state.want_options();
        load_listings(listings, false);
        load_sales(sales, false);
        first_load();
    });
    // A sale, a vote or a result (live events) moves `live.seller`: reload without a refresh.
    let mut seen_rev = use_signal(|| None::<u64>);
    use_effect(move || {
        let rev = state.snapshot.read().as_ref().map_or(0, |s| s.live.seller);
        let before = *seen_rev.peek();
        if before != Some(rev) {
            seen_rev.set(Some(rev));
            if before.is_some() {
                load_listings(listings, false);
                load_sales(sales, false);
                load_me();
            }
        }
    });
    let now = *state.now_ms.read();
    let currency = state.currency();

    let on_created = move |code: CodeOut| {
        let mut listings = listings;
        listings.write().items.insert(0, code);
    };

    let s = sales.read();
    let zero = Money::new(0, &currency);
    let summary = s.summary.as_ref();
    let total_sales = summary.map_or(0, |x| x.total_sales);
    let held = summary.map_or_else(|| zero.clone(), |x| x.total_held.clone());
    let paid_out = summary.map_or_else(|| zero.clone(), |x| x.total_paid_out.clone());
    let fees = Money::new(s.items.iter().map(|i| i.fee.amount).sum(), &currency);
    let l = listings.read();
    let active = l
        .items
        .iter()
        .filter(|c| c.status == CodeStatus::Active)
        .count();

    rsx! {
        main { class: "page seller", id: "seller-dashboard",
            div { class: "page-head",
                div {
                    h2 { "Seller dashboard" }
                    p { class: "muted", "List codes, follow your sales and what you've earned." }
                }
                button { class: "btn btn-secondary btn-small", id: "seller-refresh", r#type: "button",
                    disabled: l.loading || s.loading,
                    onclick: move |_| { load_listings(listings, false); load_sales(sales, false); },
                    "Refresh"
                }
            }
            section { class: "stats", id: "seller-stats",
                Stat { label: "Sales", value: format::count(total_sales), id: "seller-total-sales",
                    hint: match active { 1 => "1 listing on sale".to_owned(), n => format!("{n} listings on sale") } }
                Stat { label: "Held in escrow", value: held.display(), id: "seller-held",
                    hint: "Paid when results are in" }
                Stat { label: "Paid out", value: paid_out.display(), id: "seller-paid-out",
                    hint: "After the platform fee" }
                Stat { label: "Platform fees", value: fees.display(), id: "seller-fees",
                    hint: "On the sales below" }
            }
            if let Some(p) = me() {
                section { class: "card my-record", id: "seller-my-record",
                    div { class: "card-head",
                        h3 { "Your record" }
                        button { class: "link", id: "seller-open-profile", r#type: "button",
                            onclick: {
                                let id = my_id.clone();
                                move |_| state.go(Route::Tipster { id: id.clone(), from: Box::new(Route::Seller) })
                            },
                            "See your public profile"
                        }
                    }
                    div { class: "stats compact",
                        Stat { label: "Rank", id: "seller-rank",
                            value: p.stats.rank.map_or_else(|| "—".to_owned(), |r| format!("#{r}")),
                            hint: if p.stats.rank.is_some() { "On the all-time leaderboard" } else { "Ranked after a few results" } }
                        Stat { label: "Win rate", id: "seller-win-rate", value: format!("{:.1} %", p.stats.win_rate),
                            hint: format!("{}W {}L {}V", p.stats.total_wins, p.stats.total_losses, p.stats.total_voids) }
                        Stat { label: "Yield", id: "seller-yield", value: ratio_percent(p.stats.yield_ratio),
                            hint: format!("{} profit at 1 unit a code", units(p.stats.profit_units)) }
                        Stat { label: "Followers", id: "seller-followers", value: format::count(p.followers),
                            hint: format::counted(p.live_listings, "live listing", "live listings") }
                    }
                }
            }
            div { class: "seller-grid",
                CreateCodeForm { on_created }
                div { class: "seller-side",
                    section { class: "card", id: "seller-listings-card",
                        div { class: "card-head",
                            h3 { "My listings" }
                            span { class: "muted small", "{l.items.len()} shown" }
                        }
                        if let Some(e) = l.error.as_ref() {
                            p { class: "note note-error", id: "seller-listings-error", "{e.message}" }
                        }
                        if l.loaded && l.items.is_empty() && l.error.is_none() {
                            Empty { id: "seller-listings-empty", title: "Nothing listed yet",
                                text: "Codes you list appear here with their sales." }
                        }
                        ul { class: "rows", id: "seller-listings",
                            for code in l.items.iter() {
                                ListingRow { key: "{code.id}", code: code.clone(), now, listings }
                            }
                        }
                        if l.loading {
                            Spinner { label: "Loading your listings…" }
                        } else if l.next_cursor.is_some() {
                            button { class: "btn btn-secondary btn-block", id: "seller-listings-more", r#type: "button",
                                onclick: move |_| load_listings(listings, true), "Show more" }
                        }
                    }
                    section { class: "card", id: "seller-sales-card",
                        div { class: "card-head",
                            h3 { "Sales" }
                            span { class: "muted small", "{s.items.len()} shown" }
                        }
                        if let Some(e) = s.error.as_ref() {
                            p { class: "note note-error", id: "seller-sales-error", "{e.message}" }
                        }
                        if s.summary.is_some() && s.items.is_empty() {
                            Empty { id: "seller-sales-empty", title: "No sales yet",
                                text: "When a buyer pays for one of your codes it shows here." }
                        }
                        ul { class: "rows", id: "seller-sales",
                            for sale in s.items.iter() {
                                SaleRow { key: "{sale.purchase_id}", sale: sale.clone() }
                            }
                        }
                        if s.loading {
                            Spinner { label: "Loading your sales…" }
                        } else if s.next_cursor.is_some() {
                            button { class: "btn btn-secondary btn-block", id: "seller-sales-more", r#type: "button",
                                onclick: move |_| load_sales(sales, true), "Show more" }
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn ListingRow(code: CodeOut, now: f64, listings: Signal<Listings>) -> Element {
    let state = use_context::<AppState>();
    let mut confirming = use_signal(|| false);
    let busy = state.is_busy();
    let offline = state.is_offline();
    let cancellable = code.status == CodeStatus::Active && code.sales_count == 0;
    let id = code.id.clone();
    let open_id = code.id.clone();
    let edit_id = code.id.clone();
    let cancel = move |_| {
        let id = id.clone();
        spawn_command(async move {
            if let Some(cancelled) = state
                .run("Cancelling the listing", ipc::cancel_code(&id))
                .await
            {
                let mut listings = listings;
                if let Ok(mut l) = listings.try_write() {
                    if let Some(c) = l.items.iter_mut().find(|c| c.id == cancelled.id) {
                        *c = cancelled;
                    }
                };
            }
        });
    };
    rsx! {
        li { class: "row", id: "listing-{code.id}",
            div { class: "row-main",
                button { class: "link-plain strong", r#type: "button",
                    onclick: move |_| state.go(Route::Code { id: open_id.clone(), from: Box::new(Route::Seller) }),
                    "{code.title}"
                }
                p { class: "muted small",
                    "{format::sport(code.sport)} · {code.bookmaker} · odds {format::odds(code.odds)} · {code.price.display()} · {format::kickoff(&code.expires_at, now)}"
                }
            }
            div { class: "row-side",
                StatusPill { status: code.status, id: "listing-status-{code.id}" }
                span { class: "muted small", id: "listing-sales-{code.id}", "{code.sales_count}/{code.max_buyers} sold" }
                if cancellable && !confirming() {
                    button { class: "btn btn-secondary btn-small", id: "edit-code-{code.id}", r#type: "button",
                        disabled: busy || offline,
                        onclick: move |_| state.go(Route::EditCode { id: edit_id.clone() }), "Edit" }
                }
                if cancellable {
                    if confirming() {
                        div { class: "inline-actions",
                            button { class: "btn btn-danger btn-small", id: "confirm-cancel-{code.id}", r#type: "button",
                                disabled: busy || offline, onclick: cancel, "Yes, cancel" }
                            button { class: "btn btn-ghost-dark btn-small", r#type: "button",
                                onclick: move |_| confirming.set(false), "Keep" }
                        }
                    } else {
                        button { class: "btn btn-ghost-dark btn-small", id: "cancel-code-{code.id}", r#type: "button",
                            disabled: busy || offline, onclick: move |_| confirming.set(true), "Cancel listing" }
                    }
                }
            }
        }
    }
}

#[component]
fn SaleRow(sale: SaleOut) -> Element {
    let money_line = match sale.settlement {
        Some(Settlement::PaidOut) => {
            format!(
                "Paid out {} · fee {}",
                sale.paid_out.display(),
                sale.fee.display()
            )
        }
        Some(Settlement::Refunded) => "Refunded to the buyer".to_owned(),
        None => format!("{} held until the result", sale.held.display()),
    };
    rsx! {
        li { class: "row", id: "sale-{sale.purchase_id}",
            div { class: "row-main",
                p { class: "strong", "{sale.title}" }
                p { class: "muted small", "@{sale.buyer_username} · {format::timestamp(&sale.sold_at)}" }
            }
            div { class: "row-side right",
                p { class: "amount", "{sale.price.display()}" }
                p { class: "muted small", "{money_line}" }
            }
        }
    }
}
