//! The web core's commands that touch its local state (session, offline copy, outbox, money
//! keys). Online-only commands are one [`Call`](super::http::Call) each, in `crate::ipc`.
//!
//! By area: [`auth`] (the session), [`wallet`] (money calls and payments), [`market`] (the
//! marketplace, leaderboard and purchases), [`votes`] (votes and their outbox) and [`sellers`]
//! (tipster profiles and follows).

use oddxer_shared::client::CommandError;

use super::{changed, with};

mod auth;
mod market;
mod sellers;
mod votes;
mod wallet;

pub use auth::{become_seller, resume, sign_out, verify_otp};
pub use market::{browse_codes, code_detail, leaderboard, my_purchases, purchase_code};
pub use sellers::{follow_seller, my_following, seller_profile, seller_summary};
pub use votes::cast_vote;
pub(super) use votes::{outbox_pending, replay_outbox};
pub use wallet::{payment, wallet_payments};

type R<T> = std::result::Result<T, CommandError>;

/// Marks notification `id` read, or all of them (`None`). Unknown ids change nothing.
pub fn mark_notifications_read(id: Option<&str>) {
    let changed_any = with(|s| {
        let mut any = false;
        for n in s.doc.notifications.iter_mut() {
            if !n.read && id.is_none_or(|id| n.id == id) {
                n.read = true;
                any = true;
            }
        }
        any
    });
    if changed_any {
        changed();
    }
}
