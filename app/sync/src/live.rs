//! Live events between catch-ups (`code:created`, `code:updated`, `code:purchased`,
//! `code:finalized`, `vote:cast`, `payment:updated`) and what they leave behind on the device: the kept marketplace copy and purchase
//! rows follow the code, the screens that load their own data are told to reload, and news worth
//! telling becomes an in-app notification (DESIGN.md sections 6 and 7).

use oddxer_shared::api::CodeOut;
use serde::Deserialize;

/// `code:purchased` as the seller receives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleEvent {
    pub code_id: String,
    pub purchase_id: String,
    /// The listing's title (servers before it was sent: the device's kept copy, if any).
    #[serde(default)]
    pub title: Option<String>,
}

/// The public code in a `code:created` / `code:finalized` payload; `None` when it does not read
/// (a newer server's shape must not break the connection). Events sent to several users never
/// carry the secret: one a server ever sent with it is stripped.
pub fn live_code(data: serde_json::Value) -> Option<CodeOut> {
    serde_json::from_value::<CodeOut>(data)
        .ok()
        .map(public_copy)
}

/// `code` without what belongs to one user (the booking code, my vote).
pub fn public_copy(code: CodeOut) -> CodeOut {
    CodeOut {
        code: None,
        my_vote: None,
        ..code
    }
}

/// Whether a `code:created` payload came marked as from a tipster I follow.
pub fn is_followed(data: &serde_json::Value) -> bool {
    data.get("followed").and_then(serde_json::Value::as_bool) == Some(true)
}
