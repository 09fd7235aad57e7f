//! Oddxer backend: an axum HTTP + WebSocket server over MongoDB, the source of truth for money.
//! One module per domain area, each with its routes, rules and queries side by side.

// The server logs through `tracing`; stdout is not a channel (the workspace lints hold the rest).
#![warn(clippy::print_stdout)]

pub mod admin;
pub mod auth;
pub mod client_ip;
pub mod clock;
pub mod codes;
pub mod config;
pub mod db;
pub mod dev;
pub mod error;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod leaderboard;
pub mod ledger;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod payments;
pub mod phone;
pub mod purchases;
pub mod ratelimit;
pub mod readmodel;
pub mod realtime;
pub mod recovery;
pub mod resolution;
pub mod seed;
pub mod sellers;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod votes;
pub mod wallet;
pub mod web;
