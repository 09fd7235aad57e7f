//! The user's wallet: balance and history from the ledger, deposits.

pub mod callbacks;
pub mod quota;
pub mod routes;
pub mod service;
pub mod store;
pub mod withdrawals;
