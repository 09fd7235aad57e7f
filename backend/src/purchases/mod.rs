//! Buying codes: purchases with escrow, settlement at finalization, the seller's sales.

mod contention;
pub mod pending;
pub mod routes;
pub mod rules;
pub mod sales;
pub mod service;
pub mod settlement;
pub mod store;
pub mod stream;
pub mod totals;
