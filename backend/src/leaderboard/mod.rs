//! The sellers' leaderboard (DESIGN.md section 3): one row per seller, maintained at each
//! finalization from per-code contributions, and recomputable from scratch from the source
//! documents (resolutions, codes, purchases). The two must agree.

pub mod cache;
mod cursor;
pub mod routes;
pub mod rules;
pub mod service;
pub mod store;
