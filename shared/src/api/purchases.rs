//! Purchases and sales (issue 5).

use super::{CodeOut, WalletOut};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PurchaseStatus {
    /// Being paid for (only seen after a crash, until recovery finishes it).
    Pending,
    /// Paid: the price sits in escrow until the code is finalized.
    Completed,
    /// Not paid (balance too low); nothing was taken.
    Failed,
}

/// Where a completed purchase's money went at finalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Settlement {
    /// Paid to the seller minus the platform fee.
    PaidOut,
    /// Returned to the buyer.
    Refunded,
}

/// One purchase with its code revealed: what a buyer reads offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PurchaseOut {
    pub id: String,
    pub code_id: String,
    pub buyer_id: String,
    pub price: crate::Money,
    pub status: PurchaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
    /// The betting code as the buyer may see it, secret included once paid.
    pub code: CodeOut,
    pub created_at: String,
}

/// `POST /codes/{id}/purchase`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PurchaseResultOut {
    pub purchase: PurchaseOut,
    /// The secret booking code.
    pub code: String,
    pub wallet: WalletOut,
}

/// One sale as its seller sees it (`GET /seller/sales`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SaleOut {
    pub purchase_id: String,
    pub code_id: String,
    pub title: String,
    pub buyer_username: String,
    pub price: crate::Money,
    /// Still in escrow (code not finalized yet).
    pub held: crate::Money,
    /// Paid to the seller (price minus fee) once finalized WON or LOST.
    pub paid_out: crate::Money,
    pub fee: crate::Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
    pub sold_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SalesSummaryOut {
    pub items: Vec<SaleOut>,
    pub next_cursor: Option<String>,
    pub total_sales: i64,
    pub total_held: crate::Money,
    pub total_paid_out: crate::Money,
}
