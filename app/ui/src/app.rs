//! The root component: the shell (top bar, navigation, progress, errors) and the screen of the
//! current route.

use dioxus::prelude::*;

use crate::components::{ErrorBanner, OfflineNotice, ProgressBar, SyncProgressNotice, TopBar};
use crate::nav::NavBar;
use crate::screens::{
    Admin, CodeDetail, EditCode, Following, Leaderboard, Marketplace, MyCodes, Notifications,
    SellerDashboard, SignIn, Tipster, Wallet,
};
use crate::state::{boot, AppState, Route};

#[component]
pub fn App() -> Element {
    let state = use_context_provider(AppState::new);
    use_hook(move || {
        spawn(boot(state));
    });

    let signed_in = state
        .snapshot
        .read()
        .as_ref()
        .is_some_and(|s| s.user.is_some());
    let booting = *state.booting.read();

    rsx! {
        div { class: if signed_in && !booting { "app with-nav" } else { "app" },
            div { class: "shell-head",
                TopBar {}
                if signed_in && !booting {
                    NavBar {}
                }
            }
            ProgressBar {}
            ErrorBanner {}
            if booting {
                div { class: "splash", id: "splash",
                    div { class: "spinner" }
                    p { "Opening Oddxer…" }
                }
            } else if signed_in {
                OfflineNotice {}
                SyncProgressNotice {}
                crate::notices::CredentialNotice {}
                Screen {}
            } else {
                SignIn {}
            }
        }
    }
}

#[component]
fn Screen() -> Element {
    let state = use_context::<AppState>();
    match state.current_route() {
        Route::Marketplace => rsx! { Marketplace {} },
        Route::Code { id, from } => rsx! { CodeDetail { key: "{id}", id, from: *from } },
        Route::MyCodes => rsx! { MyCodes {} },
        Route::Wallet => rsx! { Wallet {} },
        Route::Leaderboard => rsx! { Leaderboard {} },
        Route::Seller => rsx! { SellerDashboard {} },
        Route::Admin => rsx! { Admin {} },
        Route::Tipster { id, from } => rsx! { Tipster { key: "{id}", id, from: *from } },
        Route::Notifications { from } => rsx! { Notifications { from: *from } },
        Route::Following => rsx! { Following {} },
        Route::EditCode { id } => rsx! { EditCode { key: "{id}", id } },
    }
}
