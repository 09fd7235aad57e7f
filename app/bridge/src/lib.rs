//! The Tauri side of Oddxer's IPC, written once and registered by both shells (desktop and mobile).
//!
//! The UI (wasm in the webview) calls the commands in [`commands`] through `invoke`; each one calls
//! [`oddxer_client::OddxerClient`] and answers `Result<T, CommandError>` with the `oddxer-shared`
//! types. Every `ClientEvent::Changed` is forwarded to the webview as [`CHANGED_EVENT`] carrying a
//! fresh `AppSnapshot`, so screens never poll.
//!
//! A shell's whole `run()` is [`shell::run`]:
//!
//! ```text
//! oddxer_bridge::shell::run(tauri::generate_context!(), Role::Seller);
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod commands;
mod config;
mod core;
pub mod shell;

use oddxer_shared::Role;
use tauri::{Builder, Manager, RunEvent, Runtime};

pub use config::{BridgeConfig, ConfigError, SecretStoreKind, DEFAULT_API_URL};
pub use core::{Core, OpenError};

/// Emitted to the webview whenever the client core's snapshot changed; payload: `AppSnapshot`.
pub const CHANGED_EVENT: &str = "oddxer://changed";

/// The role a new account defaults to in this shell: sellers mostly use the desktop app and
/// bettors the phone app, but either can register as both.
#[derive(Debug, Clone, Copy)]
pub struct PreferredRole(pub Role);

/// Registers the commands and opens the client core when the app starts.
pub fn setup<R: Runtime>(builder: Builder<R>, preferred_role: Role) -> Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        .manage(PreferredRole(preferred_role))
        .invoke_handler(tauri::generate_handler![
            commands::resume,
            commands::register,
            commands::request_login_otp,
            commands::verify_otp,
            commands::snapshot,
            commands::deposit,
            commands::sign_out,
            commands::preferred_role,
            commands::withdraw,
            commands::become_seller,
            commands::browse_codes,
            commands::code_detail,
            commands::code_options,
            commands::purchase_code,
            commands::my_purchases,
            commands::cast_vote,
            commands::leaderboard,
            commands::seller_codes,
            commands::seller_sales,
            commands::create_code,
            commands::cancel_code,
            commands::admin_users,
            commands::admin_update_user,
            commands::admin_resolve,
            commands::admin_review_queue,
            commands::admin_reconcile,
            commands::seller_profile,
            commands::seller_summary,
            commands::seller_record,
            commands::follow_seller,
            commands::my_following,
            commands::mark_notifications_read,
            commands::wallet_payments,
            commands::update_code,
            commands::admin_user,
            commands::admin_payments,
        ])
        .setup(|app| {
            let core = core::Core::open(app.handle());
            app.manage(core);
            Ok(())
        })
}

/// Pass to `App::run`: closes the sync connection cleanly when the app exits.
pub fn on_run_event<R: Runtime>(app: &tauri::AppHandle<R>, event: RunEvent) {
    if let RunEvent::Exit = event {
        if let Some(core) = app.try_state::<Core>() {
            if let Ok(client) = core.client() {
                tauri::async_runtime::block_on(client.shutdown());
            }
        }
    }
}
