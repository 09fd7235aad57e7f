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

    pub fn wallet_changed(&self, user: ObjectId) {
        self.publish(HubEvent::WalletChanged { user: user.to_hex() });
    }
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(ws::handler))
}
