//! HTTP request and response bodies (DESIGN.md section 5). `XIn` is a request body, `XOut` a response.

use crate::{Money, PaymentMethod, Role, TransactionStatus, TransactionType};
use serde::{Deserialize, Serialize};

/// The success envelope: `{"success": true, "data": ..., "message"?: ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope<T> {
    pub success: bool,
    pub data: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The error envelope: `{"success": false, "error": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub success: bool,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// A page of a list: `{items, nextCursor}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterIn {
    pub phone_number: String,
    pub username: String,
    #[serde(default)]
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginIn {
    pub phone_number: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyOtpIn {
    pub phone_number: String,
    pub otp: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshIn {
    pub refresh_token: String,
}

/// Answer of register and login: the OTP went out (or, for an unknown number on login, it looks so).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OtpSentOut {
    pub phone_number: String,
    pub otp_expires_in_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserOut {
    pub id: String,
    pub phone_number: String,
    pub username: String,
    pub role: Role,
    pub is_verified: bool,
    pub is_active: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuthTokensOut {
    pub access_token: String,
    pub refresh_token: String,
    pub user: UserOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WalletOut {
    /// Spendable balance: the wallet account's latest `balanceAfter`.
    pub balance: Money,
    pub currency: String,
    /// Money of this user held for pending withdrawals.
    pub held: Money,
    /// The wallet stream position the balance belongs to (last ledger `seq`).
    pub seq: i64,
}

/// One ledger entry of the user's wallet account: the `wallet` sync stream's unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryOut {
    /// `{account}:{seq}`.
    pub id: String,
    pub seq: i64,
    pub transfer_id: String,
    #[serde(rename = "type")]
    pub kind: TransactionType,
    /// Signed: positive credits the wallet.
    pub amount: Money,
    pub balance_after: Money,
    pub description: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentIn {
    /// Minor units, positive.
    pub amount: i64,
    pub payment_method: PaymentMethod,
    pub phone_number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionOut {
    pub id: String,
    pub reference: String,
    #[serde(rename = "type")]
    pub kind: TransactionType,
    pub amount: Money,
    pub payment_method: Option<PaymentMethod>,
    pub status: TransactionStatus,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SmsOut {
    pub phone_number: String,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct HealthOut {
    pub status: String,
    pub database: String,
    pub version: String,
}
