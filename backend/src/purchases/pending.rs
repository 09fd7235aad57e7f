//! Purchases answered but not yet finished in this process (read-your-writes).
//!
//! A purchase answers its buyer as soon as the money is in escrow (the deciding inserts are done);
//! the labels that follow (transfer outcome and journal document, the purchase's COMPLETED label,
//! the code's sales count, the purchases stream row, the stored idempotent answer) are written
//! right after, off the request path. Reads that show those labels to the buyer or the seller wait
//! here for this process's unfinished purchases of that buyer, seller or code, so a client never
//! sees its own purchase missing. Other processes see the labels a few milliseconds later; a crash
//! in between leaves the purchase PENDING, which the recovery worker finishes.

use mongodb::bson::oid::ObjectId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How long a read waits for unfinished purchases before answering with what is stored.
const MAX_WAIT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy)]
struct Unfinished {
    buyer: ObjectId,
    seller: ObjectId,
    code: ObjectId,
}

/// The registry of unfinished purchases, shared by handlers and the finishing tasks.
#[derive(Clone, Default)]
pub struct PendingPurchases {
    inner: Arc<(Mutex<HashMap<ObjectId, Unfinished>>, Notify)>,
}

/// Removes the purchase from the registry when the finishing task ends, however it ends.
pub struct Finishing {
    registry: PendingPurchases,
    purchase: ObjectId,
}

impl Drop for Finishing {
    fn drop(&mut self) {
        if let Ok(mut map) = self.registry.inner.0.lock() {
            map.remove(&self.purchase);
        }
        self.registry.inner.1.notify_waiters();
    }
}

impl PendingPurchases {
    /// Registers a purchase whose labels are about to be written; drop the guard when done.
    pub fn start(
        &self,
        purchase: ObjectId,
        buyer: ObjectId,
        seller: ObjectId,
        code: ObjectId,
    ) -> Finishing {
        if let Ok(mut map) = self.inner.0.lock() {
            map.insert(
                purchase,
                Unfinished {
                    buyer,
                    seller,
                    code,
                },
            );
        }
        Finishing {
            registry: self.clone(),
            purchase,
        }
    }

    /// Waits (at most a few seconds) until no unfinished purchase has `user` as buyer or seller.
    pub async fn settle_user(&self, user: ObjectId) {
        self.wait(|u| u.buyer == user || u.seller == user).await
    }

    /// Waits (at most a few seconds) until no unfinished purchase is of `code`.
    pub async fn settle_code(&self, code: ObjectId) {
        self.wait(|u| u.code == code).await
    }

    /// Waits (at most a few seconds) until this process has no unfinished purchase (reconcile).
    pub async fn settle_all(&self) {
        self.wait(|_| true).await
    }

    async fn wait(&self, matches: impl Fn(&Unfinished) -> bool) {
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        loop {
            // Register for the wake-up before looking, so a finish in between is not missed.
            let notified = self.inner.1.notified();
            let busy = self
                .inner
                .0
                .lock()
                .map(|m| m.values().any(&matches))
                .unwrap_or(false);
            if !busy {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reader_waits_for_the_unfinished_purchases_of_its_user_only() {
        let registry = PendingPurchases::default();
        let (buyer, seller, code, other) = (
            ObjectId::new(),
            ObjectId::new(),
            ObjectId::new(),
            ObjectId::new(),
        );
        let guard = registry.start(ObjectId::new(), buyer, seller, code);
        // Someone else's reads do not wait.
        tokio::time::timeout(Duration::from_millis(200), registry.settle_user(other))
            .await
            .expect("other user waits");
        let waiting = tokio::spawn({
            let registry = registry.clone();
            async move { registry.settle_code(code).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "the reader of the code must wait while its purchase is unfinished"
        );
        drop(guard);
        tokio::time::timeout(Duration::from_millis(500), waiting)
            .await
            .expect("released")
            .expect("task");
        tokio::time::timeout(Duration::from_millis(200), registry.settle_user(buyer))
            .await
            .expect("nothing left");
    }
}
