//! What live events leave behind for the user: the in-app notification list (kept in SQLite,
//! with read marks), the OS-notification feed the shell shows, and the screens' live revisions.

use std::sync::Arc;

use oddxer_shared::api::CodeOut;
use oddxer_shared::client::NotificationOut;
use reqwest::Method;
use tokio::sync::broadcast;

use crate::client::{Inner, OddxerClient, Touched};
use crate::error::{ErrorChain, Result};
use oddxer_sync::Step;

impl OddxerClient {
    /// Notifications stored for the first time (a followed tipster's new code, a sale, a result,
    /// a payment), as they arrive: the shell shows each as an OS notification. The in-app list is
    /// in the snapshot (`notifications`, `unreadNotifications`).
    pub fn subscribe_notifications(&self) -> broadcast::Receiver<NotificationOut> {
        self.inner.notices.subscribe()
    }

    /// Marks notification `id` read, or all of them when `None`. Unknown ids change nothing.
    pub fn mark_notifications_read(&self, id: Option<&str>) -> Result<()> {
        if self.inner.with_store(|s| s.mark_notifications_read(id))? {
            self.inner.notify();
        }
        Ok(())
    }
}

impl Inner {
    /// After a frame: moves the screens' revisions, hands new notifications to the shell and
    /// fetches a code that sold (its places left), in the background.
    pub(crate) fn live_step(self: &Arc<Self>, step: &Step) {
        self.bump_live(Touched {
            market: step.market_changed,
            seller: step.seller_changed,
            payments: step.payments_changed,
        });
        for n in &step.notified {
            // No receiver (no shell, a test) is fine.
            let _ = self.notices.send(n.clone());
        }
        if let Some(id) = step.refetch_code.clone() {
            let inner = self.clone();
            tokio::spawn(async move {
                if let Err(e) = inner.refetch_code(&id).await {
                    tracing::debug!(error = %ErrorChain(&e), "could not refresh a sold code");
                }
            });
        }
    }

    /// `GET /codes/{id}` (public copy) applied like a live copy: the kept marketplace shows the
    /// new places left.
    async fn refetch_code(&self, id: &str) -> Result<()> {
        let id = crate::client::path_id(id)?;
        let rb = self.api.request(Method::GET, &format!("/codes/{id}"), None);
        let code: CodeOut = self.api.send(rb, "code detail").await?;
        self.with_store(|s| s.apply_live_code(&code))?;
        self.bump_live(Touched {
            market: true,
            seller: true,
            payments: false,
        });
        self.notify();
        Ok(())
    }
}
