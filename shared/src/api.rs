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

impl ErrorBody {
    /// `details.fields` (`{"fields": {"amount": "must be ..."}}`) as a map from the API's field
    /// name to what is wrong with it; empty when the error names no field. Both client cores show
    /// each message beside its field.
    pub fn field_messages(&self) -> std::collections::BTreeMap<String, String> {
        self.details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| f.as_object())
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|(name, problem)| {
                        Some((name.clone(), problem.as_str()?.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
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

// ---- Marketplace: betting codes, votes, resolutions, leaderboard (issue 4) ----

/// `POST /codes`. Odds are a decimal with at most 2 places (stored exactly as integer hundredths);
/// `price` is in minor units of the deployment currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeIn {
    pub sport: crate::Sport,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub odds: f64,
    pub bookmaker: String,
    pub price: i64,
    /// The secret booking code, revealed only to the seller, buyers and admins.
    pub code: String,
    /// RFC 3339; when the code stops selling (kick-off of its first game).
    pub expires_at: String,
    /// 1 (the default) = exclusive; n = sold up to n times.
    #[serde(default)]
    pub max_buyers: Option<i64>,
}

/// `PATCH /codes/{id}`: any subset of the fields of `CodeIn`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sport: Option<crate::Sport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bookmaker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_buyers: Option<i64>,
}

/// A betting code as the caller may see it. `code` is present only for its seller, its buyers and
/// admins; never in lists or in events sent to others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeOut {
    pub id: String,
    pub seller_id: String,
    pub seller_username: String,
    pub sport: crate::Sport,
    pub title: String,
    pub description: String,
    /// Decimal odds, at most 2 places.
    pub odds: f64,
    pub bookmaker: String,
    pub price: crate::Money,
    pub status: crate::CodeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub expires_at: String,
    /// `expiresAt + VOTING_WINDOW`: buyers vote between the two.
    pub voting_ends_at: String,
    pub max_buyers: i64,
    pub sales_count: i64,
    pub win_votes: i64,
    pub loss_votes: i64,
    pub total_votes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<crate::Outcome>,
    /// A tie or no votes at the end of voting: an admin decides.
    pub needs_review: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalized_at: Option<String>,
    /// The signed-in caller's vote on this code, if any (detail view only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub my_vote: Option<crate::VoteType>,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /codes/options`: what a code may be listed with, for forms and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CodeOptionsOut {
    pub sports: Vec<crate::Sport>,
    pub bookmakers: Vec<String>,
    pub min_price: crate::Money,
    pub max_price: crate::Money,
    pub min_odds: f64,
    pub max_odds: f64,
    pub max_buyers_limit: i64,
    pub voting_window_seconds: i64,
    pub max_expiry_horizon_seconds: i64,
}

/// `POST /codes/{id}/votes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoteIn {
    pub vote_type: crate::VoteType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VoteOut {
    pub id: String,
    pub code_id: String,
    pub vote_type: crate::VoteType,
    pub win_votes: i64,
    pub loss_votes: i64,
    pub total_votes: i64,
    /// Set when this vote completed the voting (every buyer voted) and decided the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<crate::Outcome>,
    pub created_at: String,
}

/// `POST /admin/codes/{id}/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveIn {
    pub outcome: crate::Outcome,
    /// Why the admin decided so (recorded with the resolution; 1 to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The one decision that finalized a code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResolutionOut {
    pub code_id: String,
    pub outcome: crate::Outcome,
    /// MAJORITY, ALL_VOTED, ADMIN, VERIFIER or UNSOLD.
    pub decided_by: String,
    pub win_votes: i64,
    pub loss_votes: i64,
    pub decided_at: String,
    /// The admin's recorded reason, for a decision taken by an admin with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One seller's row of the leaderboard (DESIGN.md section 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LeaderboardEntryOut {
    pub seller_id: String,
    pub username: String,
    /// 1-based; absent for sellers with fewer than `LEADERBOARD_MIN_FINALIZED` WON or LOST codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    /// Purchases of this seller's codes that finalized WON or LOST.
    pub total_sales: i64,
    pub total_wins: i64,
    pub total_losses: i64,
    pub total_voids: i64,
    /// Percent of WON among WON + LOST codes, 2 decimals (from integer basis points).
    pub win_rate: f64,
    /// Average return per unit stake over WON + LOST codes, in percent with 2 decimals:
    /// (odds - 1) for a win, -1 for a loss.
    #[serde(rename = "averageROI")]
    pub average_roi: f64,
    /// Net earnings: sale prices minus the platform fee (nothing for VOID, or LOST under REFUND_ON_LOSS).
    pub total_revenue: crate::Money,
    pub updated_at: String,
}

// ---- Purchases and sales (issue 5) ----

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

// ---- Administration ----

/// `PATCH /admin/users/{id}`: change a user's role and/or deactivate (or reactivate) them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Why (recorded with the change and shown in the user's detail; 1 to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /admin/users/{id}`: a user with what an admin looks at to help them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminUserOut {
    #[serde(flatten)]
    pub user: UserOut,
    /// The last recorded change by an admin: who, when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_admin_change: Option<AdminChangeOut>,
    pub wallet: WalletOut,
    /// The newest purchases (up to 20).
    pub purchases: Vec<PurchaseOut>,
    /// The newest sales (up to 20) with the seller's totals.
    pub sales: SalesSummaryOut,
    /// The newest deposits and withdrawals (up to 20).
    pub payments: Vec<PaymentOut>,
}

/// One admin change of a user (role or activity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminChangeOut {
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One failed invariant of `GET /admin/reconcile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub invariant: String,
    pub subject: String,
    pub detail: String,
}

/// `GET /admin/reconcile`: the money invariants of DESIGN.md section 4, checked over every document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReconcileReport {
    pub ok: bool,
    pub accounts: usize,
    pub entries: usize,
    pub transfers: usize,
    /// Transfers with some but not all legs applied and no outcome yet (recovery finishes them).
    pub in_flight: usize,
    /// Signed sum of every entry; zero once nothing is in flight.
    pub entries_sum: i64,
    pub violations: Vec<Violation>,
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

// ---- Tipster profiles and following (issue 10) ----

/// A seller's record by sport (finalized codes only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SportRecordOut {
    pub sport: crate::Sport,
    pub wins: i64,
    pub losses: i64,
    pub voids: i64,
    /// Profit in units of a flat one-unit stake per code: odds - 1 per WON, -1 per LOST, 0 per VOID.
    pub profit_units: f64,
    /// profit / stakes (WON + LOST codes), a ratio: 0.25 is +25 %.
    #[serde(rename = "yield")]
    pub yield_ratio: f64,
}

/// A seller's figures: the leaderboard's (incremental, recomputable from the resolutions) plus the
/// record's (yield, profit, streaks).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SellerStatsOut {
    /// Purchases of this seller's codes that finalized WON or LOST.
    pub total_sales: i64,
    pub total_wins: i64,
    pub total_losses: i64,
    pub total_voids: i64,
    /// Percent of WON among WON + LOST codes, 2 decimals.
    pub win_rate: f64,
    /// Average return per unit stake in percent, 2 decimals (yield x 100, rounded down).
    #[serde(rename = "averageROI")]
    pub average_roi: f64,
    /// profitUnits / stakes (WON + LOST codes), a ratio (flat one-unit stakes; VOID not staked).
    #[serde(rename = "yield")]
    pub yield_ratio: f64,
    /// Sum over WON (odds - 1) and LOST (-1) codes, in units of stake.
    pub profit_units: f64,
    /// WON codes in a row up to the newest result (0 when the newest result is a loss).
    pub current_streak: i64,
    /// The longest run of WON codes (VOID codes neither break nor extend a run).
    pub longest_streak: i64,
    pub total_revenue: crate::Money,
    /// 1-based leaderboard rank; absent below `LEADERBOARD_MIN_FINALIZED` results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
}

/// `GET /sellers/{id}`: a tipster's public profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SellerProfileOut {
    pub id: String,
    pub username: String,
    /// When the account was created (RFC 3339).
    pub joined_at: String,
    pub stats: SellerStatsOut,
    pub by_sport: Vec<SportRecordOut>,
    /// Finalized codes (WON, LOST, VOID) in the record.
    pub record_size: i64,
    /// Codes on sale now.
    pub live_listings: i64,
    pub followers: i64,
    /// Whether the signed-in caller follows this seller (false when anonymous).
    pub following: bool,
}

/// One point of `GET /sellers/{id}/performance`, in finalization order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PerformancePointOut {
    pub code_id: String,
    pub finalized_at: String,
    pub outcome: crate::Outcome,
    /// Decimal odds.
    pub odds: f64,
    /// Profit so far in units of stake (flat one-unit stakes).
    pub cumulative_profit_units: f64,
    /// Profit so far / stakes so far, a ratio (0 before the first WON or LOST).
    pub cumulative_yield: f64,
}

/// `PUT` / `DELETE /sellers/{id}/follow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FollowOut {
    pub seller_id: String,
    pub following: bool,
    pub followers: i64,
}

/// One entry of `GET /me/following`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FollowedSellerOut {
    pub seller_id: String,
    pub username: String,
    pub followed_at: String,
}

/// Sorts of `GET /codes` (DESIGN.md section 5), as the `sort` query value (`newest`, `price`,
/// `-price`, `odds`, `-odds`, `expiresAt`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CodeSort {
    #[default]
    #[serde(rename = "newest")]
    Newest,
    #[serde(rename = "price")]
    Price,
    #[serde(rename = "-price")]
    PriceDesc,
    #[serde(rename = "odds")]
    Odds,
    #[serde(rename = "-odds")]
    OddsDesc,
    #[serde(rename = "expiresAt")]
    ExpiresAt,
}

impl CodeSort {
    pub const ALL: [CodeSort; 6] = [
        CodeSort::Newest,
        CodeSort::Price,
        CodeSort::PriceDesc,
        CodeSort::Odds,
        CodeSort::OddsDesc,
        CodeSort::ExpiresAt,
    ];

    /// The code field (as stored and in `CodeOut`) and direction (1 ascending, -1 descending);
    /// the id breaks ties in the same direction.
    pub fn key(self) -> (&'static str, i32) {
        match self {
            CodeSort::Newest => ("createdAt", -1),
            CodeSort::Price => ("price", 1),
            CodeSort::PriceDesc => ("price", -1),
            CodeSort::Odds => ("odds", 1),
            CodeSort::OddsDesc => ("odds", -1),
            CodeSort::ExpiresAt => ("expiresAt", 1),
        }
    }
}

/// The window a leaderboard or a performance line covers (`?period=all|30d|7d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Period {
    #[default]
    #[serde(rename = "all")]
    All,
    #[serde(rename = "30d")]
    Days30,
    #[serde(rename = "7d")]
    Days7,
}

impl Period {
    /// Length in days; `None` for all time.
    pub fn days(self) -> Option<i64> {
        match self {
            Period::All => None,
            Period::Days30 => Some(30),
            Period::Days7 => Some(7),
        }
    }
}

/// Sorts of `GET /leaderboard` (DESIGN.md section 5), all descending: `rank` (win rate, then
/// the tie-breaks of the ranking), `winRate`, `totalSales`, `totalRevenue`, `yield`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LeaderSort {
    #[default]
    #[serde(rename = "rank")]
    Rank,
    #[serde(rename = "winRate")]
    WinRate,
    #[serde(rename = "totalSales")]
    TotalSales,
    #[serde(rename = "totalRevenue")]
    TotalRevenue,
    /// Profit per unit staked (WON + LOST codes, flat stakes): the average ROI.
    #[serde(rename = "yield")]
    Yield,
}
