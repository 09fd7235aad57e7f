//! The votes collection: buyers' votes on the outcome of codes they bought (issue 4), one insert
//! per code and voter, tallied by the database. Casting a vote (which may decide the code) is
//! `resolution::voting`, above this module.

pub mod store;
