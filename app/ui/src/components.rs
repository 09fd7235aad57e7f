//! Pieces shown on every screen: top bar with the connection badge, progress, errors.

use dioxus::prelude::*;
use oddxer_shared::client::ConnectionState;

use crate::format;
use crate::ipc;
use crate::state::{spawn_command, AppState};

#[component]
pub fn TopBar() -> Element {
    let state = use_context::<AppState>();
    let snapshot = state.snapshot.read();
    let user = snapshot.as_ref().and_then(|s| s.user.clone());
    let connection = snapshot
        .as_ref()
        .map_or(ConnectionState::Idle, |s| s.connection);
    let synced = snapshot
        .as_ref()
        .and_then(|s| s.last_synced_at.as_deref())
        .map(|t| format!("Last synced {}", format::timestamp(t)))
        .unwrap_or_else(|| "Not synced yet".to_owned());
    let busy = state.is_busy();
    let topbar_class = if user.is_some() {
        "topbar signed-in"
    } else {
        "topbar"
    };

    let sign_out = move |_| {
        spawn_command(async move {
            if state.run("Signing out", ipc::sign_out()).await.is_some() {
                state.clear_session();
                state.refresh().await;
            }
        });
    };

    rsx! {
        header { class: topbar_class,
            div { class: "brand",
                span { class: "brand-mark", "O" }
                span { class: "brand-name", "Oddxer" }
            }
            div { class: "topbar-right",
                if let Some(user) = user {
                    span { class: "{format::connection_class(connection)}", id: "connection-state",
                        title: "{synced}",
                        span { class: "badge-dot" }
                        "{format::connection(connection)}"
                    }
                    NotificationBell {}
                    div { class: "user-chip", id: "user-chip",
                        span { class: "user-name", id: "user-name", "@{user.username}" }
                        span { class: "role-tag", id: "role-tag", {format::role(user.role)} }
                    }
                    button { class: "btn btn-ghost", id: "sign-out", disabled: busy, onclick: sign_out,
                        "Sign out"
                    }
                }
            }
        }
    }
}

/// The bell in the top bar: opens the notification list; its badge counts the unread ones.
#[component]
fn NotificationBell() -> Element {
    let state = use_context::<AppState>();
    let unread = state
        .snapshot
        .read()
        .as_ref()
        .map_or(0, |s| s.unread_notifications);
    let label = match unread {
        0 => "Notifications".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    let open = move |_| {
        let here = state.current_route();
        if !matches!(here, crate::state::Route::Notifications { .. }) {
            state.go(crate::state::Route::Notifications {
                from: Box::new(here),
            });
        }
    };
    rsx! {
        button { class: "bell", id: "notifications-bell", r#type: "button", aria_label: "{label}", title: "{label}",
            onclick: open,
            crate::nav::Icon { path: "M6 8a6 6 0 1112 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.9 1.9 0 003.4 0" }
            if unread > 0 {
                span { class: "bell-badge", id: "notifications-badge",
                    if unread > 99 { "99+" } else { "{unread}" }
                }
            }
        }
    }
}

/// An indeterminate bar plus the label of what is running.
#[component]
pub fn ProgressBar() -> Element {
    let state = use_context::<AppState>();
    let busy = *state.busy.read();
    rsx! {
        if let Some(label) = busy {
            div { class: "progress", id: "progress", role: "progressbar", aria_label: "{label}",
                div { class: "progress-track", div { class: "progress-bar" } }
                p { class: "progress-label", "{label}…" }
            }
        }
    }
}

#[component]
pub fn ErrorBanner() -> Element {
    let state = use_context::<AppState>();
    let error = state.error.read().clone();
    let mut error_signal = state.error;
    rsx! {
        if let Some(error) = error {
            div { class: "banner banner-error", id: "error-banner", role: "alert",
                div {
                    strong { {error_title(&error.code)} }
                    p { id: "error-message", {error_text(&error.code, &error.message)} }
                }
                button { class: "banner-close", id: "error-dismiss", aria_label: "Dismiss",
                    onclick: move |_| error_signal.set(None), "×"
                }
            }
        }
    }
}

/// A headline per error family; the message from the core carries the details.
fn error_title(code: &str) -> &'static str {
    match code {
        "OFFLINE" => "You're offline",
        "VALIDATION_ERROR" => "Please check your details",
        "USERNAME_TAKEN" => "Username taken",
        // A wrong or expired code, or a session the server no longer accepts.
        "UNAUTHENTICATED" => "Couldn't sign you in",
        "FORBIDDEN" => "Not allowed",
        "INSUFFICIENT_FUNDS" => "Not enough money in your wallet",
        "SOLD_OUT" => "Sold out",
        "CODE_CHANGED" => "The seller just changed this code",
        "ALREADY_BOUGHT" => "You already own this code",
        "CODE_EXPIRED" | "NOT_FOR_SALE" => "No longer for sale",
        "OWN_CODE" => "That's your own code",
        "ALREADY_VOTED" => "Already voted",
        "VOTING_NOT_OPEN" | "VOTING_CLOSED" => "Voting isn't open",
        "HAS_SALES" | "CODE_NOT_EDITABLE" => "This code can't be changed",
        "ALREADY_SELLER" => "Already a tipster",
        "ALREADY_RESOLVED" | "TOO_EARLY" | "CODE_CANCELLED" => "Can't resolve this code",
        "SELF_LOCKOUT" => "You can't lock yourself out",
        "NOT_FOUND" => "Not found",
        "UPSTREAM_ERROR"
        | "DATABASE_UNAVAILABLE"
        | "SERVICE_UNAVAILABLE"
        | "RATE_LIMITER_UNAVAILABLE"
        | "INTERNAL_ERROR" => "Oddxer is having trouble",
        "STORAGE" | "STARTUP" | "CONFIG" => "Oddxer could not use its local data",
        "PROTOCOL" => "Unexpected answer from the server",
        "RATE_LIMITED" => "Too many attempts",
        "NO_SHELL" | "IPC" => "App problem",
        _ => "Something went wrong",
    }
}

/// The text under the headline: the core's message, unless a clearer one is known for the code.
fn error_text(code: &str, message: &str) -> String {
    match code {
        "RATE_LIMITED" => {
            "Please wait a little (about half a minute for a new code), then try again.".to_owned()
        }
        _ => message.to_owned(),
    }
}

/// A long catch-up (a cold start on a new phone, or a rebuild after a mismatch) shows how far it
/// has come: positions received of the checkpoint's head, over the wallet and the purchases.
/// Short catch-ups (a few entries after a reconnect) finish before this is worth showing.
#[component]
pub fn SyncProgressNotice() -> Element {
    let state = use_context::<AppState>();
    let snapshot = state.snapshot.read();
    let Some(progress) = snapshot.as_ref().and_then(|s| s.sync_progress) else {
        return rsx! {};
    };
    let (done, total) = progress.totals();
    if progress.caught_up || total - done < SYNC_PROGRESS_MIN_LEFT {
        return rsx! {};
    }
    let percent = (done * 100 / total.max(1)).clamp(0, 100);
    let (wallet, purchases) = (progress.wallet, progress.purchases);
    let mut label = format!(
        "{} of {} entries received · wallet {} of {}",
        format::count(done),
        format::count(total),
        format::count(wallet.cursor.min(wallet.head)),
        format::count(wallet.head)
    );
    // The server sends the purchases stream after the wallet: its head is unknown until then.
    if purchases.head > 0 {
        label.push_str(&format!(
            " · codes {} of {}",
            format::count(purchases.cursor.min(purchases.head)),
            format::count(purchases.head)
        ));
    }
    rsx! {
        div { class: "banner banner-sync", id: "sync-progress", role: "progressbar",
            aria_valuemin: "0", aria_valuemax: "{total}", aria_valuenow: "{done}",
            div { class: "sync-progress-body",
                strong { "Syncing your wallet and codes — {percent}%" }
                div { class: "sync-track", div { class: "sync-fill", style: "width: {percent}%" } }
                p { class: "small", id: "sync-progress-label", "{label}" }
            }
        }
    }
}

/// Entries left below which the catch-up is not worth a banner.
const SYNC_PROGRESS_MIN_LEFT: i64 = 200;

/// Offline, the screens show the SQLite cache; say so, and say money moves must wait.
#[component]
pub fn OfflineNotice() -> Element {
    let state = use_context::<AppState>();
    let snapshot = state.snapshot.read();
    let Some(snapshot) = snapshot.as_ref() else {
        return rsx! {};
    };
    if snapshot.connection != ConnectionState::Offline {
        return rsx! {};
    }
    // The last time the device was in step with the server (not when a screen's page was saved).
    let since = snapshot
        .last_synced_at
        .as_deref()
        .map(|t| format!(", last synced {}", format::timestamp(t)))
        .unwrap_or_default();
    let reason = snapshot.last_error.clone();
    rsx! {
        div { class: "banner banner-offline", id: "offline-notice",
            div {
                strong { id: "offline-last-sync", "Offline — showing saved data{since}" }
                p { "Your codes and wallet stay readable. Buying, selling and money moves need a connection; votes are sent when you're back. Oddxer reconnects automatically." }
                if let Some(reason) = reason {
                    p { class: "muted small", "{reason}" }
                }
            }
        }
    }
}
