//! Oddxer's screens, compiled to wasm32. The screens do no I/O of their own: every action is a
//! command of [`ipc`], answered inside a Tauri shell by the native client core (IPC, with changes
//! as `oddxer://changed` events) and in a plain browser by the web core ([`web`]: fetch, a
//! browser WebSocket, IndexedDB), each delivering a fresh `AppSnapshot` on every change.

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
mod web;
mod widgets;

fn main() {
    dioxus::launch(app::App);
}
