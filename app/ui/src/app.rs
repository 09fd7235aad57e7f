//! The root component: picks the screen from the snapshot.

use dioxus::prelude::*;

use crate::components::{ErrorBanner, OfflineNotice, ProgressBar, TopBar};
use crate::screens::{SignIn, Wallet};
use crate::state::{boot, AppState};

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
        div { class: "app",
            TopBar {}
            ProgressBar {}
            ErrorBanner {}
            if booting {
                div { class: "splash", id: "splash",
                    div { class: "spinner" }
                    p { "Opening Oddxer…" }
                }
            } else if signed_in {
                OfflineNotice {}
                Wallet {}
            } else {
                SignIn {}
            }
        }
    }
}
