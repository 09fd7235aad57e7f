//! Administration: managing users and the money reconcile.

use super::{PaymentOut, PurchaseOut, SalesSummaryOut, UserOut, WalletOut};
use crate::Role;
use serde::{Deserialize, Serialize};

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
