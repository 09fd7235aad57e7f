//! A tipster's public profile: who they are, their figures (each with how it is worked out), a
//! profit chart drawn here as SVG, the per-sport split, the live listings and the verifiable
//! record (finalized codes with their booking codes), and a Follow button.

use dioxus::prelude::*;
use oddxer_shared::api::{CodeOut, SellerProfileOut};
use oddxer_shared::client::{CommandError, SellerProfileView};
use oddxer_shared::CodeStatus;

use crate::format;
use crate::ipc;
use crate::nav::Icon;
use crate::state::{spawn_command, AppState, Route};
use crate::widgets::{Empty, Spinner};

use super::profit_chart::PeriodChart;
use super::tipster_stats::{gain_class, ratio_percent, units, LiveRow, RecordRow, StatsGrid};

/// A seller's name that opens their profile. Stops the click there, so a name inside a clickable
/// card opens the profile and not the card.
#[component]
pub fn SellerLink(
    seller_id: String,
    username: String,
    from: Route,
    #[props(default)] id: Option<String>,
) -> Element {
    let state = use_context::<AppState>();
    let open = move |e: MouseEvent| {
        e.stop_propagation();
        state.go(Route::Tipster {
            id: seller_id.clone(),
            from: Box::new(from.clone()),
        });
    };
    rsx! {
        button { class: "link-plain seller-name seller-link", r#type: "button", id,
            title: "Open @{username}'s profile", onclick: open,
            "@{username}"
        }
    }
}

/// Where a back button goes, in words.
pub fn back_label(from: &Route) -> &'static str {
    match from {
        Route::MyCodes => "My codes",
        Route::Wallet => "Wallet",
        Route::Admin => "Admin",
        Route::Seller => "Dashboard",
        Route::Leaderboard => "Leaderboard",
        Route::Code { .. } => "Code",
        Route::Tipster { .. } => "Tipster",
        Route::Following => "Following",
        Route::Notifications { .. } => "Notifications",
        _ => "Marketplace",
    }
}

/// Joined `2026-11-01T…` -> `Nov 2026`.
fn joined(rfc3339: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let year = rfc3339.get(0..4);
    let month = rfc3339
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    match (year, month) {
        (Some(y), Some(m)) => format!("{m} {y}"),
        _ => rfc3339.to_owned(),
    }
}

fn is_finalized(status: CodeStatus) -> bool {
    matches!(
        status,
        CodeStatus::Won | CodeStatus::Lost | CodeStatus::Void
    )
}

#[derive(Debug, Clone, Default, PartialEq)]
struct ProfileState {
    view: Option<SellerProfileView>,
    loading: bool,
    error: Option<CommandError>,
    more_loading: bool,
}

fn load(mut st: Signal<ProfileState>, id: String) {
    {
        let mut s = st.write();
        s.loading = true;
        s.error = None;
    }
    spawn(async move {
        let result = ipc::seller_profile(&id).await;
        let mut s = st.write();
        s.loading = false;
        match result {
            Ok(view) => s.view = Some(view),
            Err(e) => s.error = Some(e),
        }
    });
}

#[component]
pub fn Tipster(id: String, from: Route) -> Element {
    let state = use_context::<AppState>();
    let st = use_signal(ProfileState::default);
    let load_id = id.clone();
    use_hook(move || load(st, load_id));

    let back_to = from.clone();
    let back = move |_| state.go(back_to.clone());
    let label = back_label(&from);
    let here = Route::Tipster {
        id: id.clone(),
        from: Box::new(from.clone()),
    };

    let s = st.read();
    let Some(view) = s.view.clone() else {
        return rsx! {
            main { class: "page tipster", id: "tipster",
                button { class: "back", id: "tipster-back", r#type: "button", onclick: back,
                    Icon { path: "M15 18l-6-6 6-6" } "{label}"
                }
                if s.loading {
                    Spinner { label: "Loading the profile…" }
                } else if let Some(error) = s.error.as_ref() {
                    div { class: "note note-error", id: "tipster-error",
                        strong { "Couldn't load this profile. " }
                        span { "{error.message}" }
                    }
                }
            }
        };
    };
    drop(s);

    let p = view.profile.clone();
    let (live, finished): (Vec<CodeOut>, Vec<CodeOut>) = view
        .record
        .iter()
        .cloned()
        .partition(|c| !is_finalized(c.status));
    let more_cursor = view.record_next_cursor.clone();
    let more_loading = st.read().more_loading;
    let more_id = id.clone();
    let load_more = move |_| {
        let Some(cursor) = more_cursor.clone() else {
            return;
        };
        let id = more_id.clone();
        let mut st = st;
        st.write().more_loading = true;
        spawn(async move {
            let result = ipc::seller_record(&id, Some(cursor)).await;
            let mut s = st.write();
            s.more_loading = false;
            match (result, s.view.as_mut()) {
                (Ok(page), Some(v)) => {
                    for code in page.items {
                        if !v.record.iter().any(|c| c.id == code.id) {
                            v.record.push(code);
                        }
                    }
                    v.record_next_cursor = page.next_cursor;
                }
                (Err(e), _) => s.error = Some(e),
                _ => {}
            }
        });
    };

    rsx! {
        main { class: "page tipster", id: "tipster", "data-seller-id": "{p.id}",
            button { class: "back", id: "tipster-back", r#type: "button", onclick: back,
                Icon { path: "M15 18l-6-6 6-6" } "{label}"
            }
            if view.from_cache {
                div { class: "note note-offline", id: "tipster-cached",
                    strong { "Offline: " }
                    span {
                        "the profile as this device last saw it"
                        if let Some(at) = view.cached_at.as_ref() { " ({format::timestamp(at)})" }
                        "."
                    }
                }
            }
            ProfileHead { profile: p.clone(), st }
            StatsGrid { profile: p.clone() }
            div { class: "tipster-grid",
                section { class: "card", id: "tipster-chart-card",
                    div { class: "card-head",
                        h3 { "Profit over time" }
                        p { class: "muted small",
                            "Units won or lost betting 1 unit on each settled code, in the order they settled."
                        }
                    }
                    PeriodChart { points: view.performance.clone() }
                }
                section { class: "card", id: "tipster-sports",
                    div { class: "card-head",
                        h3 { "By sport" }
                        p { class: "muted small", "The same figures, per sport." }
                    }
                    if p.by_sport.is_empty() {
                        p { class: "muted small", "No settled codes yet." }
                    } else {
                        table { class: "table compact",
                            thead {
                                tr {
                                    th { "Sport" }
                                    th { class: "num", "W–L–V" }
                                    th { class: "num", "Profit" }
                                    th { class: "num", "Yield" }
                                }
                            }
                            tbody {
                                for sport in p.by_sport.iter() {
                                    tr { key: "{sport.sport.as_str()}",
                                        td { {format::sport(sport.sport)} }
                                        td { class: "num", "{sport.wins}–{sport.losses}–{sport.voids}" }
                                        td { class: "num {gain_class(sport.profit_units)}", {units(sport.profit_units)} }
                                        td { class: "num {gain_class(sport.yield_ratio)}", {ratio_percent(sport.yield_ratio)} }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section { class: "card", id: "tipster-live",
                div { class: "card-head",
                    h3 { "On sale now" }
                    p { class: "muted small", "Booking codes of live listings stay secret until their results are in." }
                }
                if live.is_empty() {
                    p { class: "muted small", id: "tipster-live-empty", "Nothing on sale right now." }
                } else {
                    ul { class: "rows",
                        for code in live {
                            LiveRow { key: "{code.id}", code, here: here.clone() }
                        }
                    }
                }
            }
            section { class: "card", id: "tipster-record",
                div { class: "card-head",
                    h3 { "Record" }
                    p { class: "muted small",
                        "Every settled code, newest first, with its booking code: check any of them at the bookmaker."
                    }
                }
                if finished.is_empty() {
                    Empty { id: "tipster-record-empty", title: "No results yet",
                        text: "Codes appear here once their results are in." }
                } else {
                    ul { class: "rows", id: "tipster-record-list",
                        for code in finished {
                            RecordRow { key: "{code.id}", code }
                        }
                    }
                }
                if more_loading {
                    Spinner { label: "Loading more…" }
                } else if view.record_next_cursor.is_some() && !view.from_cache {
                    div { class: "load-more",
                        button { class: "btn btn-secondary", id: "tipster-more", r#type: "button",
                            onclick: load_more, "Show older codes" }
                    }
                }
            }
        }
    }
}

#[component]
fn ProfileHead(profile: SellerProfileOut, st: Signal<ProfileState>) -> Element {
    let state = use_context::<AppState>();
    let me = state
        .snapshot
        .read()
        .as_ref()
        .and_then(|s| s.user.as_ref().map(|u| u.id.clone()));
    let own = me.as_deref() == Some(profile.id.as_str());
    let offline = state.is_offline();
    let busy = state.is_busy();
    let following = profile.following;
    let seller_id = profile.id.clone();
    let toggle = move |_| {
        let seller_id = seller_id.clone();
        spawn_command(async move {
            let label = if following {
                "Unfollowing"
            } else {
                "Following"
            };
            if let Some(out) = state
                .run(label, ipc::follow_seller(&seller_id, !following))
                .await
            {
                let mut st = st;
                // The screen may be gone by the time the answer comes.
                if let Ok(mut s) = st.try_write() {
                    if let Some(v) = s.view.as_mut() {
                        v.profile.following = out.following;
                        v.profile.followers = out.followers;
                    }
                };
            }
        });
    };
    let initial = profile
        .username
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    let followers = format::counted(profile.followers, "follower", "followers");

    rsx! {
        section { class: "card tipster-head",
            div { class: "avatar", "aria-hidden": "true", "{initial}" }
            div { class: "tipster-id",
                h2 { id: "tipster-name", "@{profile.username}" }
                p { class: "muted small",
                    "Joined {joined(&profile.joined_at)} · "
                    span { id: "tipster-followers", "{followers}" }
                    " · {profile.record_size} settled · {profile.live_listings} on sale"
                }
            }
            if own {
                span { class: "status status-muted", "Your profile" }
            } else {
                button {
                    class: if following { "btn btn-secondary follow active" } else { "btn btn-primary follow" },
                    id: "follow-button", r#type: "button",
                    "aria-pressed": following,
                    disabled: offline || busy,
                    title: if offline { "Following needs a connection" } else { "" },
                    onclick: toggle,
                    if following { "Following ✓" } else { "Follow" }
                }
            }
        }
    }
}

/// On a code's page, before the buy button: the seller's yield and how big their record is,
/// with a link to the full profile.
#[component]
pub fn SellerSummary(seller_id: String, here: Route) -> Element {
    let state = use_context::<AppState>();
    let mut profile = use_signal(|| None::<SellerProfileOut>);
    let fetch_id = seller_id.clone();
    use_hook(move || {
        spawn(async move {
            // Quietly absent when it can't be had: the code can be judged without it.
            if let Ok(found) = ipc::seller_summary(&fetch_id).await {
                profile.set(Some(found));
            }
        });
    });
    let Some(p) = profile() else {
        return rsx! {};
    };
    let open = move |_| {
        state.go(Route::Tipster {
            id: seller_id.clone(),
            from: Box::new(here.clone()),
        })
    };
    rsx! {
        div { class: "seller-summary", id: "seller-summary",
            p { class: "small",
                span { class: "muted", "Seller's yield " }
                strong { class: gain_class(p.stats.yield_ratio), id: "seller-summary-yield", {ratio_percent(p.stats.yield_ratio)} }
                span { class: "muted", " over " }
                strong { id: "seller-summary-record", "{p.record_size}" }
                span { class: "muted", if p.record_size == 1 { " settled code" } else { " settled codes" } }
            }
            p { class: "muted small",
                "{p.stats.total_wins}W {p.stats.total_losses}L {p.stats.total_voids}V · "
                button { class: "link", id: "seller-summary-open", r#type: "button", onclick: open, "See the record" }
            }
        }
    }
}
