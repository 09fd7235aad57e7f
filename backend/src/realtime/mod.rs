//! Real-time fan-out: a hub that WebSocket connections listen to. In one process it is a broadcast
//! channel; with `REDIS_URL` every event is published on a Redis channel that every backend process
//! subscribes to, so a deposit confirmed by one process reaches a socket held by another.

pub mod ws;

use mongodb::bson::oid::ObjectId;
use tokio::sync::broadcast;

/// What happened, addressed by user or sport; each connection filters what concerns it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum HubEvent {
    /// The user's wallet account has new entries: connections re-read the stream from their cursor,
    /// so a lost or reordered notification can never lose an entry.
    WalletChanged { user: String },
    /// The user's purchases stream has new rows.
    PurchasesChanged { user: String },
    /// A live event for one user's connections (e.g. `code:purchased` to the seller).
    ToUser {
        user: String,
        event: oddxer_shared::sync::LiveEvent,
    },
    /// A live event for several users (user ids as hex), e.g. `code:finalized` to buyers and seller.
    ToUsers {
        users: Vec<String>,
        event: oddxer_shared::sync::LiveEvent,
    },
    /// A live event for connections subscribed to a sport (`FOOTBALL`, ...), e.g. `code:created`.
    ToSport {
        sport: String,
        event: oddxer_shared::sync::LiveEvent,
    },
    /// An admin deactivated the user: their sockets close with `ACCOUNT_DEACTIVATED`.
    UserDeactivated { user: String },
    /// A session (refresh-token family) ended by logout or reuse detection: the user's sockets
    /// opened with that session's access tokens close with `SESSION_REVOKED`.
    SessionRevoked { user: String, session: String },
    /// A live event for the followers of a seller and the subscribers of `sport` (`code:created`),
    /// published on every instance; each instance's fan-out
    /// (`sellers::service::spawn_follower_fanout`) resolves the followers and delivers
    /// [`HubEvent::ToFollowers`] to its own sockets.
    FollowersOf {
        seller: String,
        sport: String,
        event: oddxer_shared::sync::LiveEvent,
    },
    /// The resolved form, local to one instance: followers get the event once, marked
    /// `"followed": true` (so their devices notify), whatever their subscriptions; other
    /// connections subscribed to `sport` get it plain.
    ToFollowers {
        users: Vec<String>,
        sport: String,
        event: oddxer_shared::sync::LiveEvent,
    },
}

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<HubEvent>,
    redis: Option<redis::aio::ConnectionManager>,
}

/// The Redis channel every process publishes to and listens on.
const CHANNEL: &str = "oddxer:hub";

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Hub { tx, redis: None }
    }

    /// A hub shared by every process on the same Redis: events go out through `PUBLISH` and come
    /// back (to this process too) through the subscription, which feeds the local channel.
    pub async fn with_redis(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let publisher = redis::aio::ConnectionManager::new(client.clone()).await?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(CHANNEL).await?;
        let (tx, _) = broadcast::channel(4096);
        let local = tx.clone();
        tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut messages = pubsub.into_on_message();
            while let Some(msg) = messages.next().await {
                let Ok(payload) = msg.get_payload::<String>() else {
                    continue;
                };
                match serde_json::from_str::<HubEvent>(&payload) {
                    Ok(event) => {
                        let _ = local.send(event);
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable hub message"),
                }
            }
            // Connections resync from their cursors on the next event; nothing is lost for good.
            tracing::error!("redis hub subscription ended");
        });
        Ok(Hub {
            tx,
            redis: Some(publisher),
        })
    }

    /// Delivers to this process's sockets only (events resolved per instance).
    pub fn deliver_locally(&self, event: HubEvent) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.tx.subscribe()
    }

    pub fn publish(&self, event: HubEvent) {
        match &self.redis {
            None => {
                // No receiver is fine: nobody is connected.
                let _ = self.tx.send(event);
            }
            Some(manager) => {
                let Ok(payload) = serde_json::to_string(&event) else {
                    return;
                };
                let mut conn = manager.clone();
                let local = self.tx.clone();
                tokio::spawn(async move {
                    let sent: Result<i64, _> = redis::cmd("PUBLISH")
                        .arg(CHANNEL)
                        .arg(&payload)
                        .query_async(&mut conn)
                        .await;
                    if let Err(e) = sent {
                        // Redis is down: at least this process's sockets hear about it.
                        tracing::warn!(error = %e, "hub publish failed; delivering locally");
                        let _ = local.send(event);
                    }
                });
            }
        }
    }

    pub fn purchases_changed(&self, user: ObjectId) {
        self.publish(HubEvent::PurchasesChanged {
            user: user.to_hex(),
        });
    }

    pub fn wallet_changed(&self, user: ObjectId) {
        self.publish(HubEvent::WalletChanged {
            user: user.to_hex(),
        });
    }

    /// A live event for one user's connections (e.g. `code:purchased` to the seller).
    pub fn to_user(&self, user: ObjectId, event: oddxer_shared::sync::LiveEvent) {
        self.publish(HubEvent::ToUser {
            user: user.to_hex(),
            event,
        });
    }

    /// A live event for the followers of `seller` (marked followed) and the subscribers of
    /// `sport` (plain), resolved on every instance by `sellers::service::spawn_follower_fanout`.
    pub fn to_followers_of(
        &self,
        seller: ObjectId,
        sport: &str,
        event: oddxer_shared::sync::LiveEvent,
    ) {
        self.publish(HubEvent::FollowersOf {
            seller: seller.to_hex(),
            sport: sport.to_owned(),
            event,
        });
    }

    pub fn to_users(
        &self,
        users: impl IntoIterator<Item = ObjectId>,
        event: oddxer_shared::sync::LiveEvent,
    ) {
        self.publish(HubEvent::ToUsers {
            users: users.into_iter().map(|u| u.to_hex()).collect(),
            event,
        });
    }

    /// Closes the user's sockets on every instance (`ACCOUNT_DEACTIVATED`).
    pub fn user_deactivated(&self, user: ObjectId) {
        self.publish(HubEvent::UserDeactivated {
            user: user.to_hex(),
        });
    }

    /// Closes the sockets of one session (refresh-token family) on every instance (`SESSION_REVOKED`).
    pub fn session_revoked(&self, user: ObjectId, session: &str) {
        self.publish(HubEvent::SessionRevoked {
            user: user.to_hex(),
            session: session.to_owned(),
        });
    }

    pub fn to_sport(&self, sport: &str, event: oddxer_shared::sync::LiveEvent) {
        self.publish(HubEvent::ToSport {
            sport: sport.to_owned(),
            event,
        });
    }
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(ws::handler))
}
