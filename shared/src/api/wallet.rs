//! The wallet: balance, ledger entries, deposits and withdrawals.

use crate::{Money, PaymentMethod, TransactionStatus, TransactionType};
use serde::{Deserialize, Serialize};

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
    /// The reference of the payment this entry belongs to (a deposit's or withdrawal's provider
    /// reference, also on a withdrawal's payout and reversal; the transfer id for other
    /// transfers). Absent on entries written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The payment method of a deposit or withdrawal entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<PaymentMethod>,
}

/// A deposit or withdrawal as its user follows it (`GET /wallet/payments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PaymentOut {
    pub id: String,
    /// The provider reference (what the provider's SMS and support know it by).
    pub reference: String,
    /// DEPOSIT or WITHDRAWAL.
    #[serde(rename = "type")]
    pub kind: TransactionType,
    pub payment_method: Option<PaymentMethod>,
    /// The payer's or payee's number with the middle digits hidden, e.g. `+256*******56`.
    pub phone_number: Option<String>,
    /// Minor units, positive.
    pub amount: Money,
    /// PENDING, COMPLETED, FAILED (a deposit not approved, a withdrawal refused) or REVERSED (a
    /// withdrawal whose payout failed: the money is back in the wallet).
    pub status: TransactionStatus,
    /// Why it did not go through, for FAILED and REVERSED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_entry_from_an_older_server_still_parses() {
        let old = r#"{"id":"wallet:u:1","seq":1,"transferId":"t","type":"DEPOSIT","amount":{"amount":500,"currency":"UGX"},
            "balanceAfter":{"amount":500,"currency":"UGX"},"description":"Deposit","createdAt":"2026-01-01T00:00:00Z"}"#;
        let e: LedgerEntryOut = serde_json::from_str(old).expect("parses");
        assert_eq!((e.reference, e.payment_method), (None, None));
    }
}
