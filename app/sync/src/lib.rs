// Tests may unwrap: a panic there is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

//! Oddxer's sync rules, written once for both client cores (DESIGN.md sections 6 and 7).
//!
//! No I/O, no clock, no randomness of its own: the native core (`app/core`, SQLite + tokio) and
//! the browser core (`app/ui`'s web core, IndexedDB + `fetch` + a browser WebSocket) feed it
//! frames, positions, the time and random numbers, and act on what it answers:
//!
//! - [`streams`]: what a `sync:batch` means for the local copy of a stream (contiguity,
//!   checkpoint verdicts, when to re-sync or rebuild from 0), behind the [`SyncStore`] trait that
//!   each core implements over its own storage;
//! - [`memory`]: the stream data kept in memory with the same upsert and contiguity rules as the
//!   SQLite store, for a core whose storage is a document store (the browser);
//! - [`outbox`]: which queued votes a replay counts as delivered, refused or still pending;
//! - [`market`]: which kept marketplace page a code belongs on, in the server's order;
//! - [`live`] and [`notice`]: live events into the kept marketplace and purchase rows, and the
//!   in-app notifications they make;
//! - [`backoff`]: the reconnect delay (full jitter under a capped, doubling ceiling);
//! - [`session`]: when to renew an access token on an open socket.

pub mod backoff;
pub mod live;
pub mod market;
pub mod memory;
pub mod notice;
pub mod outbox;
pub mod session;
pub mod streams;

#[cfg(test)]
mod fixtures;

pub use backoff::{backoff_ceiling_ms, full_jitter_ms};
pub use live::SaleEvent;
pub use memory::MemoryStreams;
pub use outbox::{replay_verdict, ReplayFailure, ReplayVerdict};
pub use session::renew_after;
pub use streams::{
    contiguous_from, judge, market_subscriptions, sync_frame, Applied, Step, Stream, SyncError,
    SyncStore, Syncer, Verdict, MAX_RESYNCS_IN_A_ROW,
};
