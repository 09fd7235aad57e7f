//! Oddxer's local-first client engine (DESIGN.md section 7).
//!
//! No UI and no Tauri: the bridge crate wraps [`OddxerClient`] in IPC commands. Data shown to
//! the user is read from a local SQLite cache kept current by one WebSocket sync connection,
//! so the wallet and its history stay readable offline. Money never moves locally: deposits
//! and purchases are server calls, and their effects arrive through the sync streams (wallet and
//! purchases). Votes cast offline wait in an outbox and are replayed when the connection is back.

// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod account;
mod api;
mod client;
mod error;
mod live;
#[cfg(test)]
mod loopback_tests;
mod marketplace;
mod outbox;
mod payments;
mod profiles;
mod secrets;
mod session;
pub mod store;
mod sync;
#[cfg(test)]
mod testutil;

pub use client::{
    ClientConfig, ClientEvent, OddxerClient, DB_FILE, SNAPSHOT_LEDGER_LIMIT,
    SNAPSHOT_PURCHASES_LIMIT,
};
pub use error::{ClientError, Result};
pub use outbox::ReplayReport;
pub use payments::WALLET_PAYMENTS_LIMIT;
pub use secrets::{
    FallbackSecretStore, FileSecretStore, KeyringSecretStore, MemorySecretStore, SecretStore,
};
pub use store::Store;
