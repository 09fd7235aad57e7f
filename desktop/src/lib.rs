//! The Oddxer desktop app. Sellers mostly work here, so new accounts default to SELLER;
//! everything else (commands, events, UI, start-up) is shared with the mobile shell
//! (`oddxer-bridge`, `app/ui`).

/// Runs the desktop app until its window closes.
pub fn run() {
    oddxer_bridge::shell::run(tauri::generate_context!(), oddxer_shared::Role::Seller);
}
