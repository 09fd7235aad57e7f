//! The Oddxer phone app. Bettors mostly use phones, so new accounts default to BUYER; commands,
//! events, screens and start-up are the same as on desktop (`oddxer-bridge`, `app/ui`).

/// Runs the phone app (the mobile entry point on devices; a phone-sized window on the host).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    oddxer_bridge::shell::run(tauri::generate_context!(), oddxer_shared::Role::Buyer);
}
