//! The writer's side of a socket: a bounded queue of serialized frames, the send window that paces
//! catch-up batches, and why the connection ends (with its close code).

use super::access::Refused;
use oddxer_shared::sync::ServerFrame;
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// A client that does not take a catch-up batch within this time is a slow consumer: disconnected.
const SYNC_STALL_LIMIT: Duration = Duration::from_secs(30);

/// A serialized frame on its way to the writer; a catch-up batch holds a slot of the send window
/// until it is written.
pub(super) struct Outgoing {
    pub(super) text: String,
    pub(super) window_slot: Option<OwnedSemaphorePermit>,
}

/// Why the server ends a connection: a close code (RFC 6455 section 7.4.1) and the error code as
/// its reason; set before the last frame is queued, read by the writer when it closes.
pub(super) type CloseReason = std::sync::Arc<std::sync::Mutex<Option<(u16, &'static str)>>>;

/// The bounded queue of serialized frames to one client, and its send window for catch-up batches.
pub(super) struct Outbox {
    pub(super) tx: mpsc::Sender<Outgoing>,
    pub(super) window: std::sync::Arc<Semaphore>,
    pub(super) close_with: CloseReason,
}

pub(super) fn serialize(frame: &ServerFrame) -> Result<String, End> {
    serde_json::to_string(frame).map_err(|e| {
        tracing::error!(error = %e, "server frame not serializable");
        End::SlowConsumer
    })
}

impl Outbox {
    /// Queues a small frame (event, pong, error) without waiting: a client whose queue is full is
    /// not reading, and is disconnected.
    pub(super) fn send(&self, frame: &ServerFrame) -> Result<(), End> {
        let text = serialize(frame)?;
        self.tx
            .try_send(Outgoing {
                text,
                window_slot: None,
            })
            .map_err(|_| End::SlowConsumer)
    }

    /// Waits for a free slot of the send window, then queues a catch-up batch. Called before the
    /// next batch is read, so a long catch-up proceeds at the pace the client reads.
    pub(super) async fn window_slot(&self) -> Result<OwnedSemaphorePermit, End> {
        match tokio::time::timeout(SYNC_STALL_LIMIT, self.window.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            _ => Err(End::SlowConsumer),
        }
    }

    pub(super) async fn send_batch(
        &self,
        frame: &ServerFrame,
        slot: OwnedSemaphorePermit,
    ) -> Result<(), End> {
        let text = serialize(frame)?;
        let queued = tokio::time::timeout(
            SYNC_STALL_LIMIT,
            self.tx.send(Outgoing {
                text,
                window_slot: Some(slot),
            }),
        )
        .await;
        match queued {
            Ok(Ok(())) => Ok(()),
            _ => Err(End::SlowConsumer),
        }
    }

    pub(super) fn error(&self, code: &str, message: &str) -> Result<(), End> {
        self.send(&ServerFrame::Error {
            code: code.into(),
            message: message.into(),
        })
    }

    /// The close code and reason the writer ends the connection with.
    pub(super) fn closing(&self, code: u16, reason: &'static str) {
        if let Ok(mut r) = self.close_with.lock() {
            *r = Some((code, reason));
        }
    }

    /// Sends the `error` frame of a refusal and closes with its code.
    pub(super) fn refuse(&self, refused: &Refused) {
        let (code, reason) = refused.close();
        self.closing(code, reason);
        let _ = self.send(&refused.frame());
    }
}

/// Why a connection's loop stops.
#[derive(Debug)]
pub(super) enum End {
    /// The outbox is full: the client does not read.
    SlowConsumer,
    /// The client closed, went silent or broke the socket.
    Gone,
    /// The token expired without renewal, the account was deactivated or the session ended: the
    /// client gets an `error` frame, then the close.
    Refused(Refused),
    Expired,
}
