//! WebSocket frames of `/api/v1/ws` (DESIGN.md section 6), defined once for server and client.

use crate::api::{LedgerEntryOut, PurchaseOut};
use crate::Money;
use serde::{Deserialize, Serialize};

/// Last applied position of each stream. `None` or 0 means "from the beginning".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchases: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientFrame {
    Auth { token: String },
    Subscribe { sport: String },
    Unsubscribe { sport: String },
    Sync { streams: SyncCursors },
    Ping,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ServerFrame {
    #[serde(rename = "event")]
    Event(LiveEvent),
    #[serde(rename = "sync:batch")]
    SyncBatch(SyncBatch),
    #[serde(rename = "error")]
    Error { code: String, message: String },
    #[serde(rename = "pong")]
    Pong,
}

/// `{"event": "...", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data")]
pub enum LiveEvent {
    #[serde(rename = "wallet:updated")]
    WalletUpdated { balance: Money },
    /// A new listing: to the sport's subscribers, and to the seller's followers with
    /// `"followed": true` added (whatever their subscriptions).
    #[serde(rename = "code:created")]
    CodeCreated(serde_json::Value),
    /// A live listing changed (a sale moved its places left, an edit, a cancellation): its public
    /// copy (never the booking code), to the sport's subscribers.
    #[serde(rename = "code:updated")]
    CodeUpdated(serde_json::Value),
    #[serde(rename = "code:purchased")]
    CodePurchased(serde_json::Value),
    #[serde(rename = "code:finalized")]
    CodeFinalized(serde_json::Value),
    #[serde(rename = "vote:cast")]
    VoteCast(serde_json::Value),
    /// One of my deposits or withdrawals was decided (COMPLETED, FAILED, REVERSED): the payment
    /// as `GET /wallet/payments` lists it, to its owner only.
    #[serde(rename = "payment:updated")]
    PaymentUpdated(serde_json::Value),
}

/// A run of stream entries in position order. `done` marks the last batch of a catch-up; every
/// batch carries the stream's checkpoint so a client can check it is in step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncBatch {
    #[serde(flatten)]
    pub entries: StreamEntries,
    /// Position of the last entry in this batch (or the request cursor when empty).
    pub cursor: i64,
    pub done: bool,
    pub checkpoint: Checkpoint,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stream", content = "entries", rename_all = "lowercase")]
pub enum StreamEntries {
    Wallet(Vec<LedgerEntryOut>),
    Purchases(Vec<PurchaseStreamEntry>),
}

/// One row of a user's purchases stream: the full purchase as it stood at `version`. A client
/// upserts by `purchase.id`, keeping the highest version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseStreamEntry {
    pub seq: i64,
    pub version: i64,
    pub purchase: PurchaseOut,
}

/// The head of a stream when the batch was read: its position and, for the wallet, its balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub head: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Currency, TransactionType};

    #[test]
    fn client_frames_use_the_documented_wire_shape() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"sync","streams":{"wallet":3}}"#).expect("parse");
        assert_eq!(
            f,
            ClientFrame::Sync {
                streams: SyncCursors {
                    wallet: Some(3),
                    purchases: None
                }
            }
        );
        let ping = serde_json::to_string(&ClientFrame::Ping).expect("ser");
        assert_eq!(ping, r#"{"type":"ping"}"#);
    }

    #[test]
    fn server_frames_round_trip() {
        let ugx = Currency("UGX".into());
        let batch = ServerFrame::SyncBatch(SyncBatch {
            entries: StreamEntries::Wallet(vec![LedgerEntryOut {
                id: "wallet:u1:1".into(),
                seq: 1,
                transfer_id: "t1".into(),
                kind: TransactionType::Deposit,
                amount: Money::new(500, &ugx),
                balance_after: Money::new(500, &ugx),
                description: "Deposit".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                reference: Some("5f0c6a1e-8f5e-4c39-9a43-2d9b1b1f7c11".into()),
                payment_method: Some(crate::PaymentMethod::MtnMomo),
            }]),
            cursor: 1,
            done: true,
            checkpoint: Checkpoint {
                head: 1,
                balance: Some(500),
            },
        });
        let text = serde_json::to_string(&batch).expect("ser");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["type"], "sync:batch");
        assert_eq!(v["stream"], "wallet");
        assert_eq!(v["entries"][0]["balanceAfter"]["amount"], 500);
        assert_eq!(
            serde_json::from_str::<ServerFrame>(&text).expect("de"),
            batch
        );

        let ev = ServerFrame::Event(LiveEvent::WalletUpdated {
            balance: Money::new(7, &ugx),
        });
        let text = serde_json::to_string(&ev).expect("ser");
        assert_eq!(
            text,
            r#"{"type":"event","event":"wallet:updated","data":{"balance":{"amount":7,"currency":"UGX"}}}"#
        );
        assert_eq!(serde_json::from_str::<ServerFrame>(&text).expect("de"), ev);
    }
}
