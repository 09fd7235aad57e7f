//! Stream catch-up of a socket (DESIGN.md section 6): the wallet and purchases entries after the
//! client's cursor up to the head read first, in `sync:batch` frames through the send window, and
//! the live `wallet:updated` that may start one.

use super::outbox::End;
use super::Connection;
use crate::ledger::accounts;
use crate::ledger::entries::Head;
use crate::purchases::stream as purchase_stream;
use crate::wallet::service::entry_out;
use oddxer_shared::sync::{Checkpoint, LiveEvent, ServerFrame, StreamEntries, SyncBatch};
use oddxer_shared::Money;
use tokio::sync::OwnedSemaphorePermit;

/// Buckets read (at once) per `sync:batch`: 4 x 64 = up to 256 entries, about 90 KB of JSON. Whole
/// buckets, so consecutive batches never read a bucket twice.
const BUCKETS_PER_BATCH: i64 = 4;

/// Where a catch-up ended.
enum CaughtUp {
    /// Every entry up to the head went out; the stream's cursor is now this position.
    At(i64),
    /// A read failed and the client was told (`SYNC_UNAVAILABLE`): it retries the sync.
    Failed,
}

impl Connection {
    /// Sends a stream's entries after `cursor` up to `checkpoint.head` in `sync:batch` frames through the
    /// send window: a batch is read (`read(cursor)`, whole buckets) only when a slot is free, so a
    /// catch-up of any length holds at most the window's batches in memory. Every frame carries
    /// `checkpoint`; the last one says `done`. A failed read is told to the client as
    /// `SYNC_UNAVAILABLE` with `unreadable` (what could not be read).
    async fn send_batches<T, Fut>(
        &self,
        mut cursor: i64,
        checkpoint: Checkpoint,
        unreadable: &str,
        read: impl Fn(i64) -> Fut,
        seq_of: impl Fn(&T) -> i64,
        frame_entries: impl Fn(Vec<T>) -> StreamEntries,
    ) -> Result<CaughtUp, End>
    where
        Fut: std::future::Future<Output = mongodb::error::Result<Vec<T>>>,
    {
        loop {
            let slot = self.out.window_slot().await?;
            let batch = match read(cursor).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "sync read failed");
                    let message = format!("{unreadable} could not be read; retry the sync");
                    self.error("SYNC_UNAVAILABLE", &message)?;
                    return Ok(CaughtUp::Failed);
                }
            };
            if let Some(last) = batch.last() {
                cursor = seq_of(last);
            }
            let done = cursor >= checkpoint.head || batch.is_empty();
            let frame = ServerFrame::SyncBatch(SyncBatch {
                entries: frame_entries(batch),
                cursor,
                done,
                checkpoint,
            });
            self.send_sync_batch(frame, slot).await?;
            if done {
                return Ok(CaughtUp::At(cursor));
            }
        }
    }

    /// A catch-up batch through the send window, counted like any frame.
    async fn send_sync_batch(
        &self,
        frame: ServerFrame,
        slot: OwnedSemaphorePermit,
    ) -> Result<(), End> {
        self.out.send_batch(&frame, slot).await?;
        self.count_sent(&frame);
        Ok(())
    }

    pub(super) async fn on_wallet_changed(&mut self) -> Result<(), End> {
        let currency = &self.state.config.currency;
        let head = match self
            .state
            .ledger
            .entries
            .head(&accounts::wallet(self.user.id))
            .await
        {
            Ok(head) => {
                self.send(ServerFrame::Event(LiveEvent::WalletUpdated {
                    balance: Money::new(head.balance, currency),
                }))?;
                Some(head)
            }
            Err(e) => {
                tracing::warn!(error = %e, "wallet head read failed");
                None
            }
        };
        if self.wallet_cursor.is_some() {
            self.send_wallet_since(head).await?;
        }
        Ok(())
    }

    /// Sends every wallet entry after the cursor up to the head read first (or just read by the
    /// caller, `known_head`), so the final checkpoint (head position and balance) is exactly what
    /// the client must hold after applying the batches. Batches go through the send window: the
    /// next one is read only when the client has taken enough of the previous ones.
    pub(super) async fn send_wallet_since(&mut self, known_head: Option<Head>) -> Result<(), End> {
        let account = accounts::wallet(self.user.id);
        let currency = self.state.config.currency.clone();
        let entries = self.state.ledger.entries.clone();
        let Some(cursor) = self.wallet_cursor else {
            return Ok(());
        };
        let head = match known_head {
            Some(h) => h,
            None => match entries.head(&account).await {
                Ok(h) => h,
                Err(e) => {
                    tracing::warn!(error = %e, "sync head read failed");
                    return self.error(
                        "SYNC_UNAVAILABLE",
                        "The wallet could not be read; retry the sync",
                    );
                }
            },
        };
        let checkpoint = Checkpoint {
            head: head.seq,
            balance: Some(head.balance),
        };
        let caught_up = self
            .send_batches(
                cursor,
                checkpoint,
                "The wallet",
                |after| entries.run_after(&account, after, head.seq, BUCKETS_PER_BATCH),
                |e| e.seq,
                |batch| {
                    StreamEntries::Wallet(batch.iter().map(|e| entry_out(e, &currency)).collect())
                },
            )
            .await?;
        if let CaughtUp::At(cursor) = caught_up {
            self.wallet_cursor = Some(cursor);
        }
        Ok(())
    }

    /// Sends the purchases stream after the cursor up to the head read first (same contract as the
    /// wallet stream; the checkpoint carries no balance).
    pub(super) async fn send_purchases_since(&mut self) -> Result<(), End> {
        let Some(cursor) = self.purchases_cursor else {
            return Ok(());
        };
        let db = &self.state.db;
        let stream = purchase_stream::stream_of(self.user.id);
        let head = match purchase_stream::head(db, &stream).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "purchases head read failed");
                return self.error(
                    "SYNC_UNAVAILABLE",
                    "Purchases could not be read; retry the sync",
                );
            }
        };
        let checkpoint = Checkpoint {
            head,
            balance: None,
        };
        let caught_up = self
            .send_batches(
                cursor,
                checkpoint,
                "Purchases",
                |after| purchase_stream::after(db, &stream, after, head, BUCKETS_PER_BATCH),
                |e| e.seq,
                StreamEntries::Purchases,
            )
            .await?;
        if let CaughtUp::At(cursor) = caught_up {
            self.purchases_cursor = Some(cursor);
        }
        Ok(())
    }
}
