//! Backend integration tests: one binary, real server, real FerretDB, fresh database per test.

mod auth;
mod authorization_matrix;
mod bad_input;
mod helpers;
mod openapi;
mod purchases;
mod rate_limits;
mod sms;
mod wallet;
mod withdrawals;
mod websocket;
