//! How a code gets its outcome and what follows (issue 4): buyers' votes ([`voting`], `POST
//! /codes/{id}/votes`), the result verifier ([`verifier`], its sandbox in [`sandbox`]), the
//! marketplace worker ([`worker`]) and admins (`admin::resolutions`) all decide through
//! [`finalize::resolve`]; [`finalize::after_resolution`] then writes the labels, the leaderboard row
//! and the settlement (issue 5).
//!
//! This module sits above `codes`, `votes` (the votes collection), `purchases` and `leaderboard`:
//! they never call up into it, which is why the stored decision (`codes::resolutions`) lives below.

pub mod finalize;
pub mod routes;
pub mod sandbox;
pub mod verifier;
pub mod voting;
pub mod worker;
