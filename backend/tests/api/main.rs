//! Backend integration tests: one binary, real server, real FerretDB, fresh database per test.

mod admin_users;
mod auth;
mod authorization_matrix;
mod bad_input;
mod codes;
mod demo_seed;
mod finalization;
mod doubles;
mod helpers;
mod leaderboard;
mod market_events;
mod mobile_money;
mod openapi;
mod purchases;
mod rate_limits;
mod scale_out;
mod settlement;
mod sms;
mod socket_lifetime;
mod votes;
mod wallet;
mod withdrawals;
mod websocket;
