//! Real-time fan-out: an in-process hub that WebSocket connections listen to.

pub mod ws;

use mongodb::bson::oid::ObjectId;
use tokio::sync::broadcast;

/// What happened, addressed by user or sport; each connection filters what concerns it.
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// The user's wallet account has new entries: connections re-read the stream from their cursor,
    /// so a lost or reordered notification can never lose an entry.
    WalletChanged { user: String },
    /// The user's purchases stream has new rows.
    PurchasesChanged { user: String },
    /// A live event for one user's connections (e.g. `code:purchased` to the seller).
    ToUser { user: String, event: oddxer_shared::sync::LiveEvent },
    /// A live event for several users (user ids as hex), e.g. `code:finalized` to buyers and seller.
    ToUsers { users: Vec<String>, event: oddxer_shared::sync::LiveEvent },
    /// A live event for connections subscribed to a sport (`FOOTBALL`, ...), e.g. `code:created`.
    ToSport { sport: String, event: oddxer_shared::sync::LiveEvent },
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<HubEvent>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Hub { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.tx.subscribe()
    }

    pub fn publish(&self, event: HubEvent) {
        // No receiver is fine: nobody is connected.
        let _ = self.tx.send(event);
    }

    pub fn purchases_changed(&self, user: ObjectId) {
        self.publish(HubEvent::PurchasesChanged { user: user.to_hex() });
    }

    pub fn wallet_changed(&self, user: ObjectId) {
        self.publish(HubEvent::WalletChanged { user: user.to_hex() });
    }

    pub fn to_users(&self, users: impl IntoIterator<Item = ObjectId>, event: oddxer_shared::sync::LiveEvent) {
        self.publish(HubEvent::ToUsers { users: users.into_iter().map(|u| u.to_hex()).collect(), event });
    }

    pub fn to_sport(&self, sport: &str, event: oddxer_shared::sync::LiveEvent) {
        self.publish(HubEvent::ToSport { sport: sport.to_owned(), event });
    }
}

/// `code:purchased` to the seller: which code sold (never its secret, never the buyer's identity).
pub fn notify_code_purchased(state: &crate::state::AppState, seller: ObjectId, code: ObjectId, purchase: ObjectId) {
    let data = serde_json::json!({ "codeId": code.to_hex(), "purchaseId": purchase.to_hex() });
    state.hub.publish(HubEvent::ToUser { user: seller.to_hex(), event: oddxer_shared::sync::LiveEvent::CodePurchased(data) });
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(ws::handler))
}
