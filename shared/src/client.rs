//! What the native client core shows the UI over Tauri IPC: one definition for both sides.

use crate::api::{LedgerEntryOut, UserOut, WalletOut};
use serde::{Deserialize, Serialize};

/// State of the one WebSocket the client keeps to the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionState {
    /// Not signed in, or signed out: nothing to sync.
    Idle,
    Connecting,
    /// Socket open and the catch-up sync finished.
    Online,
    /// The backend cannot be reached; cached data is shown and a reconnect is scheduled.
    Offline,
}

/// Everything the screens need, read from the local SQLite cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSnapshot {
    pub user: Option<UserOut>,
    pub wallet: Option<WalletOut>,
    /// Wallet ledger entries, newest first.
    pub ledger: Vec<LedgerEntryOut>,
    pub connection: ConnectionState,
    /// RFC 3339 time of the last finished sync, if any.
    pub last_synced_at: Option<String>,
    /// Last error worth showing (for example "backend unreachable"), if any.
    pub last_error: Option<String>,
}

/// Error returned by a client command, serialisable across IPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandError {
    /// The backend's error code (e.g. `INVALID_OTP`) or a client one (`OFFLINE`, `STORAGE`).
    pub code: String,
    pub message: String,
}
