//! HTTP request and response bodies (DESIGN.md section 5). `XIn` is a request body, `XOut` a response.
//!
//! Split by area; every type is re-exported here, so `oddxer_shared::api::X` names it.

mod admin;
mod auth;
mod codes;
mod envelope;
mod purchases;
mod sellers;
mod system;
mod votes;
mod wallet;

pub use admin::*;
pub use auth::*;
pub use codes::*;
pub use envelope::*;
pub use purchases::*;
pub use sellers::*;
pub use system::*;
pub use votes::*;
pub use wallet::*;
