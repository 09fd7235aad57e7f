//! Buyers' votes on the outcome of codes they bought (issue 4).

pub mod routes;
pub mod service;
pub mod store;
