//! Tipster profiles (issue 10, DESIGN.md section 5): the public profile with the record's figures,
//! the record itself (finalized codes with their booking codes, public once finalized), the
//! performance line for a profit chart, and following.
//!
//! Depends on `auth` (users), `codes` (listings) and `leaderboard` (the incremental figures);
//! nothing depends on it but `codes::service`, which tells followers of a new listing through
//! [`service::followers_of`].

pub mod routes;
pub mod rules;
pub mod service;
pub mod store;
