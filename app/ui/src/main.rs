//! Oddxer's screens. Runs as wasm32 inside the Tauri webview and does no I/O of its own:
//! every action is a Tauri command answered by the native client core, and every change
//! arrives as an `oddxer://changed` event carrying a fresh `AppSnapshot`.

mod app;
mod browser;
mod components;
mod format;
mod input;
mod ipc;
mod listing;
mod nav;
mod notices;
mod screens;
mod state;
mod widgets;

fn main() {
    dioxus::launch(app::App);
}
