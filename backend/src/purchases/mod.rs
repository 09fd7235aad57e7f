//! Buying codes: purchases with escrow, settlement at finalization, the seller's sales.

pub mod routes;
pub mod sales;
pub mod service;
pub mod settlement;
pub mod store;
pub mod stream;
