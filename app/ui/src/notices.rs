//! One-line notices about the device itself, shown above the screen while they hold.

use dioxus::prelude::*;

use crate::state::AppState;

/// Where the sign-in is kept, when it is not the OS keyring (it failed, a private file is used).
#[component]
pub fn CredentialNotice() -> Element {
    let state = use_context::<AppState>();
    let notice = state
        .snapshot
        .read()
        .as_ref()
        .and_then(|s| s.credential_notice.clone());
    rsx! {
        if let Some(text) = notice {
            p { class: "notice-line", id: "credential-notice", role: "status", "{text}" }
        }
    }
}
